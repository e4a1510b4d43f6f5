//! The SDK's WebSocket connection: one tokio task that owns the socket, writes request frames,
//! routes every received frame, reconnects with backoff and follows `RefreshConnection`.
//!
//! It knows frames and sockets, not SDK state: replies go to the [`Pending`] table, pushes to a
//! [`Dispatch`] (the SDK), and callers talk to it only through [`Command`]s.
//!
//! Reconnect policy (mirrors GO `transport/websocket.go` and CPP `WebSocketppClientWrapper`):
//! * an abnormal loss (IO error, EOF, close code other than 1000/1001) reconnects at once, then
//!   with doubling backoff up to a cap, until it succeeds or the SDK is destroyed;
//! * a close frame from the service with code 1000 (normal) or 1001 (going away) does **not**
//!   reconnect, as in both official SDKs; later requests fail with [`SdkError::Network`];
//! * `timeouts_before_reconnect` consecutive request timeouts drop the socket as half-open;
//! * requests issued while disconnected wait in a queue and go out after the reconnect, unless
//!   their caller has given up by then; requests in flight when the socket breaks fail with
//!   [`SdkError::Network`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Sleep;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::{HeaderValue, USER_AGENT};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tracing::{debug, info, warn};

use crate::protocol::{
    Action, ConnectQuery, Envelope, RefreshConnectionMessage, Response, SDK_LANGUAGE, SDK_VERSION,
    ToSdk,
};
use crate::{SdkConfig, SdkError};

pub(crate) type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Where to connect and as whom. `url` and `auth_token` change on `RefreshConnection`.
/// NB: no `Debug`, so the token cannot end up in a log line.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) url: String,
    pub(crate) auth_token: String,
    pub(crate) process_id: String,
    pub(crate) host_id: String,
    pub(crate) fleet_id: String,
}

impl Target {
    /// The connect URL, with a fresh `IdempotencyToken` (as both official SDKs make per connect).
    fn connect_url(&self) -> String {
        ConnectQuery {
            process_id: self.process_id.clone(),
            sdk_version: SDK_VERSION.into(),
            sdk_language: SDK_LANGUAGE.into(),
            compute_id: self.host_id.clone(),
            fleet_id: self.fleet_id.clone(),
            idempotency_token: Some(uuid::Uuid::new_v4().to_string()),
            authorization: Some(self.auth_token.clone()),
            extra: Default::default(),
        }
        .to_url(&self.url)
    }
}

/// One connect attempt: opening handshake within `timeout`.
pub(crate) async fn connect_once(target: &Target, timeout: Duration) -> Result<WsStream, SdkError> {
    let url = target.connect_url();
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| SdkError::Validation(format!("WebSocketURL {}: {e}", target.url)))?;
    request.headers_mut().insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("gamefleet-sdk-rust/", env!("CARGO_PKG_VERSION"))),
    );
    match tokio::time::timeout(timeout, tokio_tungstenite::connect_async(request)).await {
        Err(_) => Err(SdkError::Network(format!(
            "connecting to {} timed out after {timeout:?}",
            target.url
        ))),
        Ok(Ok((stream, _response))) => Ok(stream),
        Ok(Err(tungstenite::Error::Http(response))) => {
            let status = response.status();
            let hint = if status.as_u16() == 401 || status.as_u16() == 403 {
                " (check that the auth token is correct and unexpired and the process id is unique)"
            } else {
                ""
            };
            Err(SdkError::Network(format!(
                "{} refused the WebSocket: HTTP {status}{hint}",
                target.url
            )))
        }
        Ok(Err(e)) => Err(SdkError::Network(format!(
            "connecting to {}: {e}",
            target.url
        ))),
    }
}

/// The first connect of `init_sdk`: one attempt plus `connect_retries` retries with backoff.
pub(crate) async fn connect_with_retries(
    target: &Target,
    config: &SdkConfig,
) -> Result<WsStream, SdkError> {
    let mut delay = config.reconnect_initial_backoff;
    let mut attempt = 0;
    loop {
        match connect_once(target, config.connect_timeout).await {
            Ok(stream) => return Ok(stream),
            Err(e) if attempt >= config.connect_retries => return Err(e),
            Err(e) => {
                attempt += 1;
                warn!(attempt, error = %e, "SDK connect failed; retrying in {delay:?}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(config.reconnect_max_backoff);
            }
        }
    }
}

type Reply = Result<Response, SdkError>;

/// Requests waiting for their reply, by `RequestId`. Shared by callers and the connection task.
#[derive(Default)]
pub(crate) struct Pending {
    // NB: std Mutex: never held across an await.
    map: Mutex<HashMap<String, (Action, oneshot::Sender<Reply>)>>,
}

impl Pending {
    pub(crate) fn insert(&self, request_id: &str, action: Action) -> oneshot::Receiver<Reply> {
        let (tx, rx) = oneshot::channel();
        self.lock().insert(request_id.to_string(), (action, tx));
        rx
    }

    pub(crate) fn remove(&self, request_id: &str) {
        self.lock().remove(request_id);
    }

    fn contains(&self, request_id: &str) -> bool {
        self.lock().contains_key(request_id)
    }

    fn take(&self, request_id: &str) -> Option<(Action, oneshot::Sender<Reply>)> {
        self.lock().remove(request_id)
    }

    fn fail(&self, request_id: &str, error: SdkError) {
        if let Some((_, tx)) = self.take(request_id) {
            let _ = tx.send(Err(error));
        }
    }

    fn fail_all(&self, error: impl Fn() -> SdkError) {
        let drained: Vec<_> = self.lock().drain().collect();
        for (_, (_, tx)) in drained {
            let _ = tx.send(Err(error()));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Action, oneshot::Sender<Reply>)>> {
        // A poisoned table is still consistent: every operation is a single map call.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What the connection task hands to the SDK, synchronously and in frame order.
pub(crate) trait Dispatch: Send + Sync {
    /// A reply to a pending request, called before the caller is woken, so state changes the
    /// reply implies are visible to the frames that follow it.
    fn response(&self, response: &Response);
    /// A `CreateGameSession`, `UpdateGameSession` or `TerminateProcess` push.
    fn push(&self, push: ToSdk);
}

/// Requests from SDK calls to the connection task.
pub(crate) enum Command {
    /// Write this request frame (or queue it while disconnected).
    Send { request_id: String, frame: String },
    /// A caller gave up waiting for this request's reply.
    RequestTimedOut { request_id: String },
    /// Close the socket with 1001 and stop; `done` fires when closed.
    Shutdown { done: oneshot::Sender<()> },
}

/// Starts the connection task on an open socket.
pub(crate) fn spawn(
    stream: WsStream,
    target: Target,
    config: SdkConfig,
    pending: Arc<Pending>,
    dispatch: Weak<dyn Dispatch>,
) -> (mpsc::UnboundedSender<Command>, JoinHandle<()>) {
    let (commands_tx, commands) = mpsc::unbounded_channel();
    let (stray_tx, stray) = mpsc::unbounded_channel();
    let connection = Connection {
        target,
        config,
        pending,
        dispatch,
        commands,
        stray_tx,
        stray,
        queue: VecDeque::new(),
        in_flight: HashSet::new(),
        consecutive_timeouts: 0,
        closed_by_service: false,
    };
    (commands_tx, tokio::spawn(connection.run(stream)))
}

struct Connection {
    target: Target,
    config: SdkConfig,
    pending: Arc<Pending>,
    dispatch: Weak<dyn Dispatch>,
    commands: mpsc::UnboundedReceiver<Command>,
    /// Frames still arriving on a socket replaced by `RefreshConnection`.
    stray_tx: mpsc::UnboundedSender<String>,
    stray: mpsc::UnboundedReceiver<String>,
    /// Requests not yet written: `(request_id, frame)`.
    queue: VecDeque<(String, String)>,
    /// Requests written on the current socket and not yet answered.
    in_flight: HashSet<String>,
    consecutive_timeouts: u32,
    /// The service closed with 1000/1001: stay disconnected, as the official SDKs do.
    closed_by_service: bool,
}

/// What the loop should do after handling one event.
enum Flow {
    Continue,
    /// The socket is gone; `normal` when the service closed it with 1000/1001.
    Lost {
        normal: bool,
    },
    Stop,
}

impl Connection {
    async fn run(mut self, stream: WsStream) {
        let mut socket = Some(stream);
        let mut refresh: Option<JoinHandle<Result<WsStream, SdkError>>> = None;
        let mut refresh_retry: Option<Pin<Box<Sleep>>> = None;
        loop {
            let Some(ws) = socket.as_mut() else {
                if let Some(task) = refresh.take() {
                    task.abort();
                }
                refresh_retry = None;
                if self.closed_by_service {
                    if !self.idle_after_close().await {
                        return;
                    }
                    continue;
                }
                match self.reconnect().await {
                    Some(stream) => {
                        socket = Some(stream);
                        if let Some(ws) = socket.as_mut()
                            && !self.flush(ws).await
                        {
                            self.lost(false);
                            socket = None;
                        }
                        continue;
                    }
                    None => return,
                }
            };

            let flow = tokio::select! {
                incoming = ws.next() => self.on_incoming(incoming, &mut refresh, &mut refresh_retry),
                command = self.commands.recv() => self.on_command(command, ws).await,
                Some(text) = self.stray.recv() => {
                    self.route(&text, &mut refresh, &mut refresh_retry);
                    Flow::Continue
                }
                result = async { refresh.as_mut().expect("guarded").await }, if refresh.is_some() => {
                    refresh = None;
                    match result {
                        Ok(Ok(new)) => {
                            info!(url = %self.target.url, "connection refreshed");
                            if let Some(old) = socket.replace(new) {
                                self.drain_old(old);
                            }
                            if let Some(ws) = socket.as_mut()
                                && !self.flush(ws).await
                            {
                                Flow::Lost { normal: false }
                            } else {
                                Flow::Continue
                            }
                        }
                        Ok(Err(e)) => {
                            warn!(error = %e, "RefreshConnection failed; retrying in {:?}", self.config.refresh_retry_interval);
                            refresh_retry = Some(Box::pin(tokio::time::sleep(self.config.refresh_retry_interval)));
                            Flow::Continue
                        }
                        Err(join) => {
                            debug!(error = %join, "refresh task ended");
                            Flow::Continue
                        }
                    }
                }
                () = async { refresh_retry.as_mut().expect("guarded").await }, if refresh_retry.is_some() => {
                    refresh_retry = None;
                    refresh = Some(self.start_refresh());
                    Flow::Continue
                }
            };
            match flow {
                Flow::Continue => {}
                Flow::Lost { normal } => {
                    self.lost(normal);
                    socket = None;
                }
                Flow::Stop => return,
            }
        }
    }

    fn on_incoming(
        &mut self,
        incoming: Option<Result<Message, tungstenite::Error>>,
        refresh: &mut Option<JoinHandle<Result<WsStream, SdkError>>>,
        refresh_retry: &mut Option<Pin<Box<Sleep>>>,
    ) -> Flow {
        match incoming {
            Some(Ok(Message::Text(text))) => {
                self.consecutive_timeouts = 0;
                self.route(text.as_str(), refresh, refresh_retry);
                Flow::Continue
            }
            Some(Ok(Message::Binary(_))) => {
                // NB: both official SDKs skip non-text frames.
                warn!("skipping a binary frame from the service");
                Flow::Continue
            }
            Some(Ok(Message::Close(frame))) => {
                let normal = frame
                    .as_ref()
                    .is_some_and(|f| matches!(f.code, CloseCode::Normal | CloseCode::Away));
                info!(?frame, normal, "the service closed the SDK connection");
                Flow::Lost { normal }
            }
            Some(Ok(_)) => Flow::Continue,
            Some(Err(e)) => {
                warn!(error = %e, "SDK connection failed");
                Flow::Lost { normal: false }
            }
            None => {
                warn!("SDK connection ended");
                Flow::Lost { normal: false }
            }
        }
    }

    async fn on_command(&mut self, command: Option<Command>, ws: &mut WsStream) -> Flow {
        match command {
            None => Flow::Stop,
            Some(Command::Send { request_id, frame }) => {
                if !self.pending.contains(&request_id) {
                    return Flow::Continue;
                }
                match ws.send(Message::text(frame.clone())).await {
                    Ok(()) => {
                        self.in_flight.insert(request_id);
                        Flow::Continue
                    }
                    Err(e) => {
                        warn!(error = %e, "writing to the SDK connection failed");
                        self.queue.push_front((request_id, frame));
                        Flow::Lost { normal: false }
                    }
                }
            }
            Some(Command::RequestTimedOut { request_id }) => {
                self.in_flight.remove(&request_id);
                self.consecutive_timeouts += 1;
                let threshold = self.config.timeouts_before_reconnect;
                if threshold > 0 && self.consecutive_timeouts >= threshold {
                    warn!(
                        timeouts = self.consecutive_timeouts,
                        "consecutive request timeouts; reopening the SDK connection"
                    );
                    self.consecutive_timeouts = 0;
                    Flow::Lost { normal: false }
                } else {
                    Flow::Continue
                }
            }
            Some(Command::Shutdown { done }) => {
                let close = ws.close(Some(CloseFrame {
                    code: CloseCode::Away,
                    reason: "Websocket client closing".into(),
                }));
                let _ = tokio::time::timeout(Duration::from_secs(1), close).await;
                self.pending.fail_all(|| SdkError::NotInitialized);
                let _ = done.send(());
                Flow::Stop
            }
        }
    }

    /// After a normal close by the service: no reconnect; fail new requests at once.
    /// Returns false when the task should stop.
    async fn idle_after_close(&mut self) -> bool {
        for (request_id, _) in std::mem::take(&mut self.queue) {
            self.pending.fail(&request_id, closed_by_service());
        }
        match self.commands.recv().await {
            None => false,
            Some(Command::Shutdown { done }) => {
                self.pending.fail_all(|| SdkError::NotInitialized);
                let _ = done.send(());
                false
            }
            Some(Command::Send { request_id, .. }) => {
                self.pending.fail(&request_id, closed_by_service());
                true
            }
            Some(Command::RequestTimedOut { .. }) => true,
        }
    }

    /// Reconnects: at once, then with doubling backoff, forever. Keeps taking commands (sends
    /// are queued). `None` when the SDK shut down meanwhile.
    async fn reconnect(&mut self) -> Option<WsStream> {
        let mut delay = self.config.reconnect_initial_backoff;
        let mut attempt: u64 = 0;
        loop {
            attempt += 1;
            let target = self.target.clone();
            let connect = connect_once(&target, self.config.connect_timeout);
            tokio::pin!(connect);
            let result = loop {
                tokio::select! {
                    result = &mut connect => break result,
                    command = self.commands.recv() => {
                        if !self.on_command_disconnected(command) {
                            return None;
                        }
                    }
                    Some(text) = self.stray.recv() => self.route_disconnected(&text),
                }
            };
            match result {
                Ok(stream) => {
                    info!(attempt, url = %self.target.url, "SDK connection re-established");
                    return Some(stream);
                }
                Err(e) => warn!(attempt, error = %e, "SDK reconnect failed; retrying in {delay:?}"),
            }
            let sleep = tokio::time::sleep(delay);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    () = &mut sleep => break,
                    command = self.commands.recv() => {
                        if !self.on_command_disconnected(command) {
                            return None;
                        }
                    }
                    Some(text) = self.stray.recv() => self.route_disconnected(&text),
                }
            }
            delay = (delay * 2).min(self.config.reconnect_max_backoff);
        }
    }

    /// Returns false when the task should stop.
    fn on_command_disconnected(&mut self, command: Option<Command>) -> bool {
        match command {
            None => false,
            Some(Command::Send { request_id, frame }) => {
                self.queue.push_back((request_id, frame));
                true
            }
            Some(Command::RequestTimedOut { .. }) => true,
            Some(Command::Shutdown { done }) => {
                self.pending.fail_all(|| SdkError::NotInitialized);
                let _ = done.send(());
                false
            }
        }
    }

    /// Writes queued requests whose callers still wait. False when the socket broke.
    async fn flush(&mut self, ws: &mut WsStream) -> bool {
        while let Some((request_id, frame)) = self.queue.pop_front() {
            if !self.pending.contains(&request_id) {
                continue;
            }
            if let Err(e) = ws.send(Message::text(frame.clone())).await {
                warn!(error = %e, "writing to the SDK connection failed");
                self.queue.push_front((request_id, frame));
                return false;
            }
            self.in_flight.insert(request_id);
        }
        true
    }

    fn lost(&mut self, normal: bool) {
        self.closed_by_service = normal;
        for request_id in self.in_flight.drain() {
            self.pending.fail(
                &request_id,
                SdkError::Network("the SDK connection was lost before the reply came".into()),
            );
        }
    }

    /// Routes one frame: replies to [`Pending`], pushes to [`Dispatch`], `RefreshConnection`
    /// to a reconnect. A frame that does not parse is logged and dropped, or, when its
    /// `RequestId` is pending, fails that request.
    fn route(
        &mut self,
        text: &str,
        refresh: &mut Option<JoinHandle<Result<WsStream, SdkError>>>,
        refresh_retry: &mut Option<Pin<Box<Sleep>>>,
    ) {
        if let Some(message) = self.route_common(text) {
            info!(url = %message.refresh_connection_endpoint, "RefreshConnection received");
            self.target.url = message.refresh_connection_endpoint;
            self.target.auth_token = message.auth_token;
            if let Some(task) = refresh.take() {
                task.abort();
            }
            *refresh_retry = None;
            *refresh = Some(self.start_refresh());
        }
    }

    /// While disconnected a `RefreshConnection` only changes where the next attempt goes.
    fn route_disconnected(&mut self, text: &str) {
        if let Some(message) = self.route_common(text) {
            self.target.url = message.refresh_connection_endpoint;
            self.target.auth_token = message.auth_token;
        }
    }

    fn route_common(&mut self, text: &str) -> Option<RefreshConnectionMessage> {
        match ToSdk::parse(text) {
            Ok(ToSdk::Response(response)) => {
                self.in_flight.remove(&response.request_id);
                let Some((action, tx)) = self.pending.take(&response.request_id) else {
                    debug!(request_id = %response.request_id, "reply to a request nobody waits for");
                    return None;
                };
                if let Some(dispatch) = self.dispatch.upgrade() {
                    dispatch.response(&response);
                }
                let reply = if response.is_success() {
                    Ok(response)
                } else {
                    Err(SdkError::Service {
                        action,
                        status: response.status_code,
                        message: response.error_message.unwrap_or_default(),
                    })
                };
                let _ = tx.send(reply);
                None
            }
            Ok(ToSdk::RefreshConnection(message)) => Some(message),
            Ok(push) => {
                if let Some(dispatch) = self.dispatch.upgrade() {
                    dispatch.push(push);
                }
                None
            }
            Err(error) => {
                match Envelope::peek(text).ok().and_then(|e| e.request_id) {
                    Some(request_id) if self.pending.contains(&request_id) => {
                        warn!(%request_id, %error, "unreadable reply");
                        self.in_flight.remove(&request_id);
                        self.pending.fail(&request_id, SdkError::Protocol(error));
                    }
                    _ => warn!(%error, "ignoring a frame the SDK cannot read"),
                }
                None
            }
        }
    }

    fn start_refresh(&self) -> JoinHandle<Result<WsStream, SdkError>> {
        let target = self.target.clone();
        let timeout = self.config.connect_timeout;
        tokio::spawn(async move { connect_once(&target, timeout).await })
    }

    /// Keeps reading a socket replaced by `RefreshConnection` for a grace period (replies to
    /// requests sent on it may still come), then closes it with 1001 as CPP does.
    fn drain_old(&self, mut old: WsStream) {
        let stray = self.stray_tx.clone();
        let grace = self.config.refresh_drain_timeout;
        tokio::spawn(async move {
            let deadline = tokio::time::sleep(grace);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    () = &mut deadline => break,
                    frame = old.next() => match frame {
                        Some(Ok(Message::Text(text))) => {
                            let _ = stray.send(text.as_str().to_string());
                        }
                        Some(Ok(_)) => {}
                        Some(Err(_)) | None => return,
                    },
                }
            }
            let close = old.close(Some(CloseFrame {
                code: CloseCode::Away,
                reason: "Websocket client reconnecting".into(),
            }));
            let _ = tokio::time::timeout(Duration::from_secs(1), close).await;
        });
    }
}

fn closed_by_service() -> SdkError {
    SdkError::Network("the service closed the SDK connection (normal closure; no reconnect)".into())
}
