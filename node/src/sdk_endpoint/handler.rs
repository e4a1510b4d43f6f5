//! One SDK request in, one reply frame out.
//!
//! Every text frame a game server sends gets exactly one reply with the request's `Action` and
//! `RequestId` echoed and a `StatusCode` (GameLift Server SDK 5, GAMELIFT.md §4.4):
//!
//! | Action | Reply |
//! |---|---|
//! | `ActivateServerProcess` | 200 once the supervisor recorded ProcessReady, else its error |
//! | `HeartbeatServerProcess` | 200 at once; the verdict stays on this node |
//! | `TerminateServerProcess` | 200 once the supervisor recorded ProcessEnding |
//! | `GetComputeCertificate` | 404: no TLS certificate is configured for the compute |
//! | `GetFleetRoleCredentials` | 200 with empty credentials ("not a managed fleet") |
//! | game session and player session actions | the supervisor's answer (`supervisor::sessions`) |
//!
//! A frame that is not JSON, names no or an unknown action, or lacks a required field gets a
//! 400 reply carrying whatever `Action` and `RequestId` could be read. Nothing here panics.

use std::time::Duration;

use gamefleet_sdk::protocol::{
    Envelope, GetFleetRoleCredentialsResult, ProtocolError, Response, ResponseBody, ToSdk,
    ToService,
};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

use super::registry::{ProcessCredentials, RequestFailure, SdkEvent};

/// How long a request waits for the supervisor (below the SDK's 6 s ProcessReady timeout).
pub const SUPERVISOR_REPLY_TIMEOUT: Duration = Duration::from_millis(5500);

/// 400: the frame is not a valid request.
pub const BAD_REQUEST: i32 = 400;
/// 404: no such resource (game session, certificate).
pub const NOT_FOUND: i32 = 404;
/// 503: the node could not record the transition in time.
pub const UNAVAILABLE: i32 = 503;

/// The connection's view of its process.
#[derive(Debug, Clone)]
pub struct Context {
    /// The authenticated process.
    pub creds: ProcessCredentials,
    /// Its supervisor's event channel.
    pub events: mpsc::UnboundedSender<SdkEvent>,
}

/// Handles one text frame and returns the reply frame's JSON.
pub async fn handle_text(ctx: &Context, text: &str) -> String {
    let request = match ToService::parse(text) {
        Ok(r) => r,
        Err(e) => return unparsed_error(text, &e),
    };
    ToSdk::Response(handle(ctx, &request).await).to_json()
}

/// Handles one parsed request.
pub async fn handle(ctx: &Context, request: &ToService) -> Response {
    let result = match request {
        ToService::ActivateServerProcess(m) => {
            ask(ctx, |reply| SdkEvent::Activate {
                port: m.port,
                log_paths: m.log_paths.clone(),
                reply,
            })
            .await
        }
        ToService::HeartbeatServerProcess(m) => {
            let _ = ctx.events.send(SdkEvent::Heartbeat {
                healthy: m.health_status,
            });
            Ok(())
        }
        ToService::TerminateServerProcess(_) => ask(ctx, |reply| SdkEvent::Ending { reply }).await,
        ToService::GetComputeCertificate(_) => Err(RequestFailure::new(
            NOT_FOUND,
            format!(
                "no TLS certificate is configured for compute {} (the fleet's CertificateConfiguration is DISABLED)",
                ctx.creds.compute_id
            ),
        )),
        ToService::GetFleetRoleCredentials(_) => {
            // An empty AccessKeyId is the protocol's "not a managed fleet": gamefleet has no
            // fleet role to assume.
            return request
                .ok_response()
                .with_body(ResponseBody::GetFleetRoleCredentials(
                    GetFleetRoleCredentialsResult::default(),
                ));
        }
        ToService::ActivateGameSession(_)
        | ToService::UpdatePlayerSessionCreationPolicy(_)
        | ToService::AcceptPlayerSession(_)
        | ToService::RemovePlayerSession(_)
        | ToService::DescribePlayerSessions(_)
        | ToService::StartMatchBackfill(_)
        | ToService::StopMatchBackfill(_) => return game_session_request(ctx, request).await,
    };
    match result {
        Ok(()) => request.ok_response(),
        Err(f) => request.error_response(f.status, f.message),
    }
}

/// Game session and player session actions: the supervisor proposes or reads, and answers
/// with the whole reply (bounded by [`SUPERVISOR_REPLY_TIMEOUT`]).
pub async fn game_session_request(ctx: &Context, request: &ToService) -> Response {
    let (tx, rx) = oneshot::channel();
    let event = SdkEvent::GameSession {
        request: Box::new(request.clone()),
        reply: tx,
    };
    let gone = || {
        request.error_response(
            NOT_FOUND,
            format!(
                "process {} is no longer managed by this node",
                ctx.creds.process_id
            ),
        )
    };
    if ctx.events.send(event).is_err() {
        return gone();
    }
    match tokio::time::timeout(SUPERVISOR_REPLY_TIMEOUT, rx).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => gone(),
        Err(_) => request.error_response(
            UNAVAILABLE,
            "the node could not record the request in time (no cluster leader?); retry",
        ),
    }
}

/// Sends an event that needs the supervisor's verdict and waits for it (bounded).
async fn ask(
    ctx: &Context,
    event: impl FnOnce(super::registry::Reply) -> SdkEvent,
) -> Result<(), RequestFailure> {
    let (tx, rx) = oneshot::channel();
    let gone = || {
        RequestFailure::new(
            NOT_FOUND,
            format!(
                "process {} is no longer managed by this node",
                ctx.creds.process_id
            ),
        )
    };
    ctx.events.send(event(tx)).map_err(|_| gone())?;
    match tokio::time::timeout(SUPERVISOR_REPLY_TIMEOUT, rx).await {
        Ok(Ok(verdict)) => verdict,
        Ok(Err(_)) => Err(gone()),
        Err(_) => Err(RequestFailure::new(
            UNAVAILABLE,
            "the node could not record the transition in time (no cluster leader?); retry",
        )),
    }
}

/// The 400 reply to a frame that did not parse, with the `Action` and `RequestId` it carried
/// (when they could be read).
pub fn unparsed_error(text: &str, err: &ProtocolError) -> String {
    let envelope = Envelope::peek(text).unwrap_or_default();
    let raw_action = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("Action").and_then(Value::as_str).map(str::to_string));
    let mut out = Map::new();
    if let Some(a) = raw_action.or(envelope.action) {
        out.insert("Action".into(), Value::String(a));
    }
    if let Some(id) = envelope.request_id {
        out.insert("RequestId".into(), Value::String(id));
    }
    out.insert("StatusCode".into(), Value::from(BAD_REQUEST));
    out.insert("ErrorMessage".into(), Value::String(err.to_string()));
    Value::Object(out).to_string()
}

/// A 400 frame for something that is not a request at all (e.g. a binary frame).
pub fn bare_error(message: &str) -> String {
    let mut out = Map::new();
    out.insert("StatusCode".into(), Value::from(BAD_REQUEST));
    out.insert("ErrorMessage".into(), Value::String(message.into()));
    Value::Object(out).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Value {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn unparsed_frames_echo_what_they_can() {
        let e = ToService::parse("{nope").unwrap_err();
        let v = parse(&unparsed_error("{nope", &e));
        assert_eq!(v["StatusCode"], 400);
        assert!(v.get("RequestId").is_none());

        let text = r#"{"Action":"DanceServerProcess","RequestId":"r-1"}"#;
        let e = ToService::parse(text).unwrap_err();
        let v = parse(&unparsed_error(text, &e));
        assert_eq!(v["Action"], "DanceServerProcess");
        assert_eq!(v["RequestId"], "r-1");
        assert_eq!(v["StatusCode"], 400);
        assert!(
            v["ErrorMessage"]
                .as_str()
                .unwrap()
                .contains("DanceServerProcess")
        );

        let text = r#"{"Action":"HeartbeatServerProcess","RequestId":"r-2"}"#;
        let e = ToService::parse(text).unwrap_err();
        let v = parse(&unparsed_error(text, &e));
        assert_eq!(v["RequestId"], "r-2");
        assert!(v["ErrorMessage"].as_str().unwrap().contains("HealthStatus"));
    }
}
