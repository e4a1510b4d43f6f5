//! The game-server endpoint: a WebSocket server on `hosting.sdk_listen` speaking the Amazon
//! GameLift Server SDK 5 protocol exactly (DESIGN.md decision 7; GAMELIFT.md §4).
//!
//! # Connect
//!
//! A game server opens `ws://<sdk_listen>/?pID=…&sdkVersion=…&sdkLanguage=…&ComputeId=…&FleetId=…
//! &IdempotencyToken=…&Authorization=<token>` (the query the official SDKs build; parsed with
//! the sdk crate's [`ConnectQuery`]). The handshake is refused with HTTP 400 when a required
//! query parameter is missing, 401 without a token and 403 unless `pID` names a process this
//! node launched and `FleetId`, `ComputeId` and the token are the ones it was launched with (the
//! official C++ SDK reports a 403 as `WEBSOCKET_CONNECT_FAILURE_FORBIDDEN`); the refusal's body
//! is a JSON `{"StatusCode", "ErrorMessage"}`. Authentication exists only at connect time in
//! SDK 5, so an accepted socket is bound to one process and acts only for it.
//!
//! # Frames
//!
//! UTF-8 JSON text frames, one request → one reply ([`handler`]); pushes go out without a
//! `RequestId` through [`Registry::push`]. A malformed frame, an unknown action or a binary
//! frame gets a 400 error frame and the socket stays open; a connection's failure never affects
//! another one. Per-connection requests are handled in order.
//!
//! Invariants: nothing a peer sends can panic the node; every socket task ends when the
//! endpoint stops or its process is unregistered.

pub mod handler;
pub mod registry;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use gamefleet_sdk::protocol::ConnectQuery;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_util::sync::CancellationToken;

pub use registry::{Outgoing, ProcessCredentials, PushError, Registry, RequestFailure, SdkEvent};

/// Largest frame a game server may send (GameSessionData is at most 256 KiB).
pub const MAX_MESSAGE: usize = 1 << 20;
/// How long a client has to finish the WebSocket handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves the endpoint on `listener` until `stop` is cancelled.
pub async fn serve(listener: TcpListener, registry: Arc<Registry>, stop: CancellationToken) {
    let local = listener.local_addr().ok();
    tracing::info!(addr = ?local, "SDK endpoint listening");
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => return,
            a = listener.accept() => a,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection(stream, peer, registry.clone(), stop.clone()));
            }
            Err(e) => {
                // NB: e.g. EMFILE; back off instead of spinning.
                tracing::warn!("SDK endpoint accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

fn refusal(status: u16, message: &str) -> ErrorResponse {
    let body = serde_json::json!({"StatusCode": status, "ErrorMessage": message}).to_string();
    let mut resp = ErrorResponse::new(Some(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
    resp
}

/// The handshake check: parses the connect query and authenticates it; the error is the HTTP
/// status and message of the refusal.
fn check_connect(
    registry: &Registry,
    req: &Request,
) -> Result<(ConnectQuery, ProcessCredentials), (u16, String)> {
    let query = req.uri().query().unwrap_or("");
    let q = ConnectQuery::parse(query).map_err(|e| (400, e.to_string()))?;
    let header = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok());
    let creds = registry
        .authenticate(&q, header)
        .map_err(|f| (f.status, f.message))?;
    Ok((q, creds))
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    registry: Arc<Registry>,
    stop: CancellationToken,
) {
    let mut accepted = None;
    // NB: the Err type is tungstenite's (its Callback trait), large or not.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        match check_connect(&registry, req) {
            Ok(found) => {
                accepted = Some(found);
                Ok(resp)
            }
            Err((status, message)) => {
                tracing::info!(%peer, status, "SDK connect refused: {message}");
                Err(refusal(status, &message))
            }
        }
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let handshake = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config));
    let ws = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            tracing::debug!(%peer, "SDK handshake failed: {e}");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "SDK handshake timed out");
            return;
        }
    };
    let Some((query, creds)) = accepted else {
        return;
    };
    let (out_tx, mut out_rx) = mpsc::unbounded_channel();
    let Some(attached) = registry.attach(&creds.process_id, out_tx.clone()) else {
        return;
    };
    let process_id = creds.process_id.clone();
    tracing::debug!(%peer, process_id, sdk = %query.sdk_language, version = %query.sdk_version, "SDK connected");
    let _ = attached.events.send(SdkEvent::Connected {
        sdk_language: query.sdk_language.clone(),
        sdk_version: query.sdk_version.clone(),
    });
    let ctx = handler::Context {
        creds: attached.creds.clone(),
        events: attached.events.clone(),
    };

    let (mut sink, mut source) = ws.split();
    let mut writer = tokio::spawn(async move {
        while let Some(out) = out_rx.recv().await {
            match out {
                Outgoing::Frame(text) => {
                    if sink.send(Message::text(text)).await.is_err() {
                        break;
                    }
                }
                Outgoing::Close(code, reason) => {
                    let frame = CloseFrame {
                        code: CloseCode::from(code),
                        reason: reason.into(),
                    };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    break;
                }
            }
        }
        let _ = sink.close().await;
    });

    loop {
        let msg = tokio::select! {
            () = stop.cancelled() => {
                let _ = out_tx.send(Outgoing::Close(1001, "node shutting down".into()));
                break;
            }
            // The writer ends when the socket was closed or replaced, or broke.
            _ = &mut writer => break,
            m = source.next() => m,
        };
        let reply = match msg {
            Some(Ok(Message::Text(text))) => handler::handle_text(&ctx, text.as_str()).await,
            Some(Ok(Message::Binary(_))) => {
                handler::bare_error("binary frames are not supported: send UTF-8 JSON text frames")
            }
            Some(Ok(Message::Close(_))) | None => break,
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                tracing::debug!(process_id, "SDK socket error: {e}");
                break;
            }
        };
        if out_tx.send(Outgoing::Frame(reply)).is_err() {
            break;
        }
    }
    registry.detach(&process_id, attached.conn_id);
    drop(out_tx);
    let _ = attached.events.send(SdkEvent::Disconnected);
    if !writer.is_finished() {
        let _ = tokio::time::timeout(Duration::from_secs(2), &mut writer).await;
        writer.abort();
    }
    tracing::debug!(process_id, "SDK disconnected");
}
