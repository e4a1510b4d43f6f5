//! The processes the SDK endpoint accepts, their live connection and their push channel.
//!
//! The supervisor [`register`](Registry::register)s a process (its id, fleet, compute name and
//! auth token) *before* spawning it, with the channel on which it wants that process's
//! [`SdkEvent`]s, and [`unregister`](Registry::unregister)s it once the process is gone (which
//! also closes its socket). The endpoint authenticates every connect against this table.
//! [`Registry::push`] sends a service → SDK push (`CreateGameSession`, `UpdateGameSession`,
//! `TerminateProcess`, `RefreshConnection`) over the process's current connection.
//!
//! Invariants: a process has at most one connection; a newer connect of the same process
//! replaces (and closes) the older one, as an SDK does after `RefreshConnection` or a dropped
//! socket. Nothing here blocks: the lock is held only for map operations.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use gamefleet_sdk::protocol::{ConnectQuery, Response, ToSdk, ToService};
use tokio::sync::{mpsc, oneshot};

/// What the endpoint knows about a process it may accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessCredentials {
    /// `GAMELIFT_SDK_PROCESS_ID`, sent back as `pID`.
    pub process_id: String,
    /// `GAMELIFT_SDK_FLEET_ID`, sent back as `FleetId`.
    pub fleet_id: String,
    /// `GAMELIFT_SDK_HOST_ID` (the compute name), sent back as `ComputeId`.
    pub compute_id: String,
    /// `GAMELIFT_SDK_AUTH_TOKEN`, sent back as `Authorization`.
    pub auth_token: String,
}

/// A request the endpoint could not satisfy: the `StatusCode` and `ErrorMessage` of the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFailure {
    /// HTTP-style status (400, 404, 409, 503, …).
    pub status: i32,
    /// Why, for the game server's log.
    pub message: String,
}

impl RequestFailure {
    /// A failure with this status and message.
    pub fn new(status: i32, message: impl Into<String>) -> Self {
        RequestFailure {
            status,
            message: message.into(),
        }
    }
}

/// The reply channel of an [`SdkEvent`] that needs the supervisor's answer.
pub type Reply = oneshot::Sender<Result<(), RequestFailure>>;

/// What a process did on its SDK socket, for the supervisor (in order, per process).
#[derive(Debug)]
pub enum SdkEvent {
    /// The process opened a socket (InitSDK). Repeated on every reconnect.
    Connected {
        /// `sdkLanguage` of the connect query.
        sdk_language: String,
        /// `sdkVersion` of the connect query.
        sdk_version: String,
    },
    /// The socket closed (the SDK may reconnect).
    Disconnected,
    /// `ActivateServerProcess` (ProcessReady). Answer once the transition is recorded.
    Activate {
        /// `Port` the process reported.
        port: u16,
        /// `LogPaths` the process reported.
        log_paths: Vec<String>,
        /// Where the verdict goes.
        reply: Reply,
    },
    /// `HeartbeatServerProcess`: local only, never replicated.
    Heartbeat {
        /// `HealthStatus`.
        healthy: bool,
    },
    /// `TerminateServerProcess` (ProcessEnding). Answer once the transition is recorded.
    Ending {
        /// Where the verdict goes.
        reply: Reply,
    },
    /// A game session or player session request; the supervisor builds the whole reply.
    GameSession {
        /// The request.
        request: Box<ToService>,
        /// Where the reply goes.
        reply: oneshot::Sender<Response>,
    },
}

/// A frame (or a close) for one connection's writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// A JSON text frame.
    Frame(String),
    /// Close the socket with this code and reason.
    Close(u16, String),
}

/// Why a push was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// The process is not (or no longer) managed by this node.
    #[error("process {0} is not managed by this node")]
    UnknownProcess(String),
    /// The process has no open socket right now.
    #[error("process {0} is not connected")]
    NotConnected(String),
    /// Only the four push actions may be pushed.
    #[error("{0} is not a push action")]
    NotAPush(String),
}

/// Why a connect was refused (HTTP status and message of the handshake reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailure {
    /// 401 (no token) or 403 (wrong process, fleet, compute or token).
    pub status: u16,
    /// Why.
    pub message: String,
}

struct Connection {
    id: u64,
    tx: mpsc::UnboundedSender<Outgoing>,
}

struct Entry {
    creds: ProcessCredentials,
    events: mpsc::UnboundedSender<SdkEvent>,
    conn: Option<Connection>,
    game_session: bool,
}

/// Where a newly accepted connection sends its events.
#[derive(Debug, Clone)]
pub struct Attached {
    /// Identifies this connection (to detach only itself).
    pub conn_id: u64,
    /// The process's event channel.
    pub events: mpsc::UnboundedSender<SdkEvent>,
    /// The process's credentials.
    pub creds: ProcessCredentials,
}

/// The table of processes this node launched. See the module docs.
#[derive(Default)]
pub struct Registry {
    entries: Mutex<BTreeMap<String, Entry>>,
    next_conn: AtomicU64,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("processes", &self.lock().len())
            .finish()
    }
}

/// Compares two strings in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Allows `creds` to connect; its events go to `events`. Replaces an earlier registration
    /// of the same id (closing its socket).
    pub fn register(&self, creds: ProcessCredentials, events: mpsc::UnboundedSender<SdkEvent>) {
        let old = self.lock().insert(
            creds.process_id.clone(),
            Entry {
                creds,
                events,
                conn: None,
                game_session: false,
            },
        );
        if let Some(Entry { conn: Some(c), .. }) = old {
            let _ =
                c.tx.send(Outgoing::Close(1008, "process re-registered".into()));
        }
    }

    /// Forgets a process and closes its socket (a later connect with its token is refused).
    pub fn unregister(&self, process_id: &str) {
        if let Some(Entry { conn: Some(c), .. }) = self.lock().remove(process_id) {
            let _ = c.tx.send(Outgoing::Close(1000, "process ended".into()));
        }
    }

    /// Checks a connect: the process must be registered, and fleet, compute and token must be
    /// the ones it was launched with. `header_token` is an `Authorization` HTTP header, used
    /// only when the query has none.
    pub fn authenticate(
        &self,
        q: &ConnectQuery,
        header_token: Option<&str>,
    ) -> Result<ProcessCredentials, AuthFailure> {
        let forbidden = |message: String| AuthFailure {
            status: 403,
            message,
        };
        let token = q
            .authorization
            .as_deref()
            .or(header_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AuthFailure {
                status: 401,
                message: "missing auth token (query parameter Authorization)".into(),
            })?;
        let map = self.lock();
        let Some(e) = map.get(&q.process_id) else {
            return Err(forbidden(format!(
                "process {} was not launched by this node (or has ended); process ids are unique per execution",
                q.process_id
            )));
        };
        if !same_secret(&e.creds.auth_token, token) {
            return Err(forbidden(format!(
                "auth token is not the one issued to process {}",
                q.process_id
            )));
        }
        if e.creds.fleet_id != q.fleet_id {
            return Err(forbidden(format!(
                "process {} belongs to fleet {}, not {}",
                q.process_id, e.creds.fleet_id, q.fleet_id
            )));
        }
        if e.creds.compute_id != q.compute_id {
            return Err(forbidden(format!(
                "process {} runs on compute {}, not {}",
                q.process_id, e.creds.compute_id, q.compute_id
            )));
        }
        Ok(e.creds.clone())
    }

    /// Makes `tx` the process's connection, closing an older one. None if the process was
    /// unregistered meanwhile.
    pub fn attach(
        &self,
        process_id: &str,
        tx: mpsc::UnboundedSender<Outgoing>,
    ) -> Option<Attached> {
        let conn_id = self.next_conn.fetch_add(1, Ordering::Relaxed) + 1;
        let mut map = self.lock();
        let e = map.get_mut(process_id)?;
        if let Some(old) = e.conn.replace(Connection { id: conn_id, tx }) {
            let _ = old.tx.send(Outgoing::Close(
                1000,
                "replaced by a newer connection".into(),
            ));
        }
        Some(Attached {
            conn_id,
            events: e.events.clone(),
            creds: e.creds.clone(),
        })
    }

    /// Forgets connection `conn_id` of a process if it is still the current one.
    pub fn detach(&self, process_id: &str, conn_id: u64) {
        if let Some(e) = self.lock().get_mut(process_id)
            && e.conn.as_ref().is_some_and(|c| c.id == conn_id)
        {
            e.conn = None;
        }
    }

    /// Sends a push to a process over its current connection. A `CreateGameSession` push
    /// marks the process as hosting a game session (one per process).
    pub fn push(&self, process_id: &str, frame: &ToSdk) -> Result<(), PushError> {
        if !frame.action().is_push() {
            return Err(PushError::NotAPush(frame.action().to_string()));
        }
        let mut map = self.lock();
        let e = map
            .get_mut(process_id)
            .ok_or_else(|| PushError::UnknownProcess(process_id.into()))?;
        let conn = e
            .conn
            .as_ref()
            .ok_or_else(|| PushError::NotConnected(process_id.into()))?;
        conn.tx
            .send(Outgoing::Frame(frame.to_json()))
            .map_err(|_| PushError::NotConnected(process_id.into()))?;
        if matches!(frame, ToSdk::CreateGameSession(_)) {
            e.game_session = true;
        }
        Ok(())
    }

    /// Whether the process has an open socket.
    pub fn is_connected(&self, process_id: &str) -> bool {
        self.lock()
            .get(process_id)
            .is_some_and(|e| e.conn.is_some())
    }

    /// Whether a game session was pushed to the process (it then hosts one until it ends).
    pub fn has_game_session(&self, process_id: &str) -> bool {
        self.lock().get(process_id).is_some_and(|e| e.game_session)
    }

    /// Ids of every registered process.
    pub fn process_ids(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(id: &str) -> ProcessCredentials {
        ProcessCredentials {
            process_id: id.into(),
            fleet_id: "fleet-1".into(),
            compute_id: "n0".into(),
            auth_token: "secret-1".into(),
        }
    }

    fn query(id: &str, token: Option<&str>) -> ConnectQuery {
        ConnectQuery {
            process_id: id.into(),
            sdk_version: "5.6.0".into(),
            sdk_language: "Go".into(),
            compute_id: "n0".into(),
            fleet_id: "fleet-1".into(),
            idempotency_token: None,
            authorization: token.map(Into::into),
            extra: Default::default(),
        }
    }

    #[test]
    fn authentication_checks_every_credential() {
        let r = Registry::default();
        let (tx, _rx) = mpsc::unbounded_channel();
        r.register(creds("process-a"), tx);
        assert!(
            r.authenticate(&query("process-a", Some("secret-1")), None)
                .is_ok()
        );
        assert_eq!(
            r.authenticate(&query("process-a", None), None)
                .unwrap_err()
                .status,
            401
        );
        assert!(
            r.authenticate(&query("process-a", None), Some("secret-1"))
                .is_ok()
        );
        for q in [
            query("process-a", Some("secret-2")),
            query("process-b", Some("secret-1")),
            ConnectQuery {
                fleet_id: "fleet-2".into(),
                ..query("process-a", Some("secret-1"))
            },
            ConnectQuery {
                compute_id: "n1".into(),
                ..query("process-a", Some("secret-1"))
            },
        ] {
            assert_eq!(r.authenticate(&q, None).unwrap_err().status, 403, "{q:?}");
        }
        r.unregister("process-a");
        assert_eq!(
            r.authenticate(&query("process-a", Some("secret-1")), None)
                .unwrap_err()
                .status,
            403
        );
    }

    #[test]
    fn newer_connection_replaces_older_and_pushes_need_one() {
        use gamefleet_sdk::protocol::TerminateProcessMessage;
        let r = Registry::default();
        let (tx, _rx) = mpsc::unbounded_channel();
        r.register(creds("process-a"), tx);
        let push = ToSdk::TerminateProcess(TerminateProcessMessage {
            request_id: None,
            termination_time: 1,
        });
        assert_eq!(
            r.push("process-a", &push),
            Err(PushError::NotConnected("process-a".into()))
        );
        let (c1, mut rx1) = mpsc::unbounded_channel();
        let a1 = r.attach("process-a", c1).unwrap();
        let (c2, mut rx2) = mpsc::unbounded_channel();
        let a2 = r.attach("process-a", c2).unwrap();
        assert!(matches!(rx1.try_recv(), Ok(Outgoing::Close(1000, _))));
        r.detach("process-a", a1.conn_id);
        assert!(r.is_connected("process-a"));
        r.push("process-a", &push).unwrap();
        assert!(matches!(rx2.try_recv(), Ok(Outgoing::Frame(f)) if f.contains("TerminateProcess")));
        r.detach("process-a", a2.conn_id);
        assert!(!r.is_connected("process-a"));
        assert!(matches!(
            r.push("process-b", &push),
            Err(PushError::UnknownProcess(_))
        ));
    }
}
