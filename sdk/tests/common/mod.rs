//! Test support: a mock gamefleet node (a real tokio-tungstenite WebSocket server on
//! 127.0.0.1:0) and fixture helpers. Shared by the integration tests; not every test uses all
//! of it.
#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// How long a test waits for an expected event before failing.
pub const WAIT: Duration = Duration::from_secs(10);

pub const FLEET_ID: &str = "fleet-1a2b3c4d";
pub const HOST_ID: &str = "node-1";
pub const GAME_SESSION_ID: &str =
    "arn:aws:gamelift:xx-local-1::gamesession/fleet-1a2b3c4d/custom-local/gsess-5e6f7a8b";
pub const PLAYER_SESSION_ID: &str = "psess-9f8e7d6c";

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The text of `tests/fixtures/<name>`.
pub fn fixture_text(name: &str) -> String {
    let path = fixture_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `tests/fixtures/<name>` as JSON.
pub fn fixture(name: &str) -> Value {
    serde_json::from_str(&fixture_text(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Keys whose values differ per SDK or per request: only checked to be non-empty strings.
pub const VOLATILE: [&str; 3] = ["RequestId", "SdkLanguage", "SdkVersion"];

/// Asserts that `actual` has exactly the fixture's keys and values (see fixtures/README.md):
/// top-level `VOLATILE` keys only need to be non-empty strings, numbers compare numerically.
pub fn assert_matches_fixture(actual: &Value, fixture_name: &str) {
    let expected = fixture(fixture_name);
    let mut problems = Vec::new();
    compare(actual, &expected, "", true, &mut problems);
    assert!(
        problems.is_empty(),
        "frame does not match fixture {fixture_name}:\n  {}\nactual:   {actual}\nexpected: {expected}",
        problems.join("\n  ")
    );
}

fn compare(actual: &Value, expected: &Value, path: &str, top: bool, problems: &mut Vec<String>) {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            let a_keys: BTreeSet<_> = a.keys().collect();
            let e_keys: BTreeSet<_> = e.keys().collect();
            for missing in e_keys.difference(&a_keys) {
                problems.push(format!("{path}/{missing}: missing"));
            }
            for extra in a_keys.difference(&e_keys) {
                problems.push(format!("{path}/{extra}: not in the fixture"));
            }
            for key in a_keys.intersection(&e_keys) {
                let sub = format!("{path}/{key}");
                if top && VOLATILE.contains(&key.as_str()) {
                    if a[*key].as_str().is_none_or(str::is_empty) {
                        problems.push(format!("{sub}: must be a non-empty string"));
                    }
                } else {
                    compare(&a[*key], &e[*key], &sub, false, problems);
                }
            }
        }
        (Value::Array(a), Value::Array(e)) => {
            if a.len() != e.len() {
                problems.push(format!("{path}: {} items, expected {}", a.len(), e.len()));
            }
            for (i, (x, y)) in a.iter().zip(e).enumerate() {
                compare(x, y, &format!("{path}[{i}]"), false, problems);
            }
        }
        (Value::Number(a), Value::Number(e)) => {
            if a.as_f64() != e.as_f64() {
                problems.push(format!("{path}: {a} != {e}"));
            }
        }
        (a, e) => {
            if a != e {
                problems.push(format!("{path}: {a} != {e}"));
            }
        }
    }
}

/// A reply fixture re-addressed to `request_id`.
pub fn reply_fixture(name: &str, request_id: &str) -> String {
    let mut value = fixture(name);
    value["RequestId"] = Value::String(request_id.to_string());
    value.to_string()
}

// ---------------------------------------------------------------------------------------------
// Mock node
// ---------------------------------------------------------------------------------------------

/// What the mock saw.
#[derive(Debug, Clone)]
pub enum Event {
    /// A WebSocket opened, with its raw query string and User-Agent.
    Connected {
        conn: u64,
        query: String,
        user_agent: Option<String>,
    },
    /// A text frame arrived.
    Frame { conn: u64, text: String },
    /// A non-text frame arrived.
    NonText { conn: u64 },
    /// The connection ended; `close_code` if the peer sent a close frame.
    Disconnected { conn: u64, close_code: Option<u16> },
}

/// How the mock answers a request frame.
pub enum Reply {
    /// Send this text.
    Text(String),
    /// Stay silent.
    Nothing,
}

type Replier = Box<dyn Fn(&Value) -> Reply + Send + Sync>;

enum Out {
    Text(String),
    Binary(Vec<u8>),
    /// Drop the TCP connection without a close frame.
    Drop,
    /// Send a close frame with this code.
    Close(u16),
}

struct Shared {
    conns: Mutex<HashMap<u64, mpsc::UnboundedSender<Out>>>,
    replier: Mutex<Replier>,
    next_conn: AtomicU64,
    events: mpsc::UnboundedSender<Event>,
}

pub struct MockNode {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    events: mpsc::UnboundedReceiver<Event>,
    /// Every event seen so far, in order.
    pub history: Vec<Event>,
}

/// The default answers: 200 to every request, with the fixture bodies for the four actions
/// that return data.
pub fn default_reply(request: &Value) -> Reply {
    let action = request["Action"].as_str().unwrap_or_default();
    let id = request["RequestId"].as_str().unwrap_or_default();
    let body_fixture = match action {
        "DescribePlayerSessions" => Some("service_to_sdk/describe_player_sessions_response.json"),
        "GetComputeCertificate" => Some("service_to_sdk/get_compute_certificate_response.json"),
        "GetFleetRoleCredentials" => {
            Some("service_to_sdk/get_fleet_role_credentials_response.json")
        }
        "StartMatchBackfill" => Some("service_to_sdk/start_match_backfill_response.json"),
        _ => None,
    };
    match body_fixture {
        Some(name) => Reply::Text(reply_fixture(name, id)),
        None => Reply::Text(ok_reply(action, id)),
    }
}

pub fn ok_reply(action: &str, request_id: &str) -> String {
    serde_json::json!({"Action": action, "RequestId": request_id, "StatusCode": 200}).to_string()
}

pub fn error_reply(action: &str, request_id: &str, status: i32, message: &str) -> String {
    serde_json::json!({
        "Action": action, "RequestId": request_id, "StatusCode": status, "ErrorMessage": message,
    })
    .to_string()
}

impl MockNode {
    pub async fn start() -> MockNode {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (events_tx, events) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            conns: Mutex::new(HashMap::new()),
            replier: Mutex::new(Box::new(default_reply)),
            next_conn: AtomicU64::new(1),
            events: events_tx,
        });
        let accept_shared = shared.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, accept_shared.clone()));
            }
        });
        MockNode {
            addr,
            shared,
            events,
            history: Vec::new(),
        }
    }

    /// The base URL to give the SDK.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Replaces how requests are answered.
    pub fn set_replier(&self, replier: impl Fn(&Value) -> Reply + Send + Sync + 'static) {
        *self.shared.replier.lock().unwrap() = Box::new(replier);
    }

    /// The next event, or a panic after `WAIT`.
    pub async fn next_event(&mut self) -> Event {
        let event = tokio::time::timeout(WAIT, self.events.recv())
            .await
            .expect("mock node: timed out waiting for an event")
            .expect("mock node stopped");
        self.history.push(event.clone());
        event
    }

    /// The next event within `within`, if any.
    pub async fn try_next_event(&mut self, within: Duration) -> Option<Event> {
        let event = tokio::time::timeout(within, self.events.recv())
            .await
            .ok()
            .flatten()?;
        self.history.push(event.clone());
        Some(event)
    }

    /// Skips events until `f` picks one.
    pub async fn wait_for<T>(&mut self, mut f: impl FnMut(&Event) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let event = tokio::time::timeout(left, self.events.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!("mock node: timed out; events so far: {:#?}", self.history)
                })
                .expect("mock node stopped");
            self.history.push(event.clone());
            if let Some(t) = f(&event) {
                return t;
            }
        }
    }

    /// Waits for a connection; returns its id and raw query string.
    pub async fn expect_connect(&mut self) -> (u64, String) {
        self.wait_for(|e| match e {
            Event::Connected { conn, query, .. } => Some((*conn, query.clone())),
            _ => None,
        })
        .await
    }

    /// Waits for a frame with this `Action` (skipping others, e.g. heartbeats).
    pub async fn expect_frame(&mut self, action: &str) -> (u64, Value) {
        self.wait_for(|e| match e {
            Event::Frame { conn, text } => {
                let value: Value = serde_json::from_str(text).ok()?;
                (value["Action"] == action).then_some((*conn, value))
            }
            _ => None,
        })
        .await
    }

    /// Waits for connection `conn` to end; returns the peer's close code.
    pub async fn expect_disconnect(&mut self, conn: u64) -> Option<u16> {
        self.wait_for(|e| match e {
            Event::Disconnected {
                conn: c,
                close_code,
            } if *c == conn => Some(*close_code),
            _ => None,
        })
        .await
    }

    fn out(&self, conn: u64, out: Out) {
        if let Some(tx) = self.shared.conns.lock().unwrap().get(&conn) {
            let _ = tx.send(out);
        }
    }

    /// Sends a text frame on `conn`.
    pub fn send(&self, conn: u64, text: impl Into<String>) {
        self.out(conn, Out::Text(text.into()));
    }

    /// Sends a binary frame on `conn`.
    pub fn send_binary(&self, conn: u64, data: Vec<u8>) {
        self.out(conn, Out::Binary(data));
    }

    /// Drops `conn` without a close frame (an abnormal loss for the SDK).
    pub fn drop_conn(&self, conn: u64) {
        self.out(conn, Out::Drop);
    }

    /// Closes `conn` with a close frame.
    pub fn close_conn(&self, conn: u64, code: u16) {
        self.out(conn, Out::Close(code));
    }
}

#[allow(clippy::result_large_err)] // tungstenite's callback signature
async fn serve(stream: tokio::net::TcpStream, shared: Arc<Shared>) {
    let seen: Arc<Mutex<(String, Option<String>)>> = Arc::default();
    let seen_in = seen.clone();
    let callback = move |request: &Request, response: Response| {
        let query = request.uri().query().unwrap_or_default().to_string();
        let user_agent = request
            .headers()
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        *seen_in.lock().unwrap() = (query, user_agent);
        Ok(response)
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    let conn = shared.next_conn.fetch_add(1, Ordering::SeqCst);
    let (tx, mut rx) = mpsc::unbounded_channel();
    shared.conns.lock().unwrap().insert(conn, tx);
    let (query, user_agent) = seen.lock().unwrap().clone();
    let _ = shared.events.send(Event::Connected {
        conn,
        query,
        user_agent,
    });
    let mut close_code = None;
    loop {
        tokio::select! {
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let text = text.as_str().to_string();
                    let _ = shared.events.send(Event::Frame { conn, text: text.clone() });
                    if let Ok(value) = serde_json::from_str::<Value>(&text) {
                        let reply = (shared.replier.lock().unwrap())(&value);
                        if let Reply::Text(reply) = reply
                            && ws.send(Message::text(reply)).await.is_err()
                        {
                            break;
                        }
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    close_code = frame.map(|f| u16::from(f.code));
                }
                Some(Ok(Message::Binary(_))) => {
                    let _ = shared.events.send(Event::NonText { conn });
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
            out = rx.recv() => match out {
                Some(Out::Text(text)) => {
                    if ws.send(Message::text(text)).await.is_err() {
                        break;
                    }
                }
                Some(Out::Binary(data)) => {
                    if ws.send(Message::binary(data)).await.is_err() {
                        break;
                    }
                }
                Some(Out::Close(code)) => {
                    let _ = ws
                        .send(Message::Close(Some(CloseFrame {
                            code: code.into(),
                            reason: "mock node closing".into(),
                        })))
                        .await;
                }
                Some(Out::Drop) | None => break,
            },
        }
    }
    shared.conns.lock().unwrap().remove(&conn);
    let _ = shared.events.send(Event::Disconnected { conn, close_code });
}

/// Parses a raw query string into key → value (keys and values unescaped by the protocol
/// module's own parser is deliberately not used here: this is an independent check).
pub fn raw_query_pairs(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace('+', " ")))
        .collect()
}
