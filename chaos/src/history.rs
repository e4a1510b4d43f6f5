//! Client operation histories: what every chaos client asked and was told, one JSON object a
//! line, and reading such a file back for the [`checker`](crate::checker).
//!
//! This module owns the file format and the writer; it knows nothing of what the operations
//! mean (that is the checker's business) and never talks to a node.
//!
//! # Format
//!
//! Each line is one [`Event`]:
//!
//! ```json
//! {"client":3,"op":"reserve_player","args":{"game_session_id":"arn:…/gs-1","player_id":"p-7"},"type":"invoke","value":null,"time_ns":1200}
//! {"client":3,"op":"reserve_player","args":{"game_session_id":"arn:…/gs-1","player_id":"p-7"},"type":"ok","value":{"player_session_id":"psess-…"},"time_ns":5400}
//! ```
//!
//! - `client`: the logical client (a Jepsen "process"). A client has **at most one operation
//!   in flight**: its next `invoke` comes after the completion of the previous one. The file has
//!   no operation id, so a completion pairs with its client's pending invoke; run concurrent
//!   requests under different client ids.
//! - `op`: the operation's name (below).
//! - `args`: what the client asked for (an object; shapes below). Repeated on the completion.
//! - `type`: `invoke` (sent), then exactly one of `ok` (the server said it happened), `fail` (the
//!   server refused it: it **definitely did not happen**) or `info` (the outcome is unknown:
//!   timeout, connection lost, node killed; it may or may not have happened, or may still
//!   happen). An invoke with no completion (the runner crashed) counts as `info`.
//! - `value`: `null` on invoke; the result on `ok`; `{"error": "<ErrorKind>", "message": …}` on
//!   `fail` and `info`, where `<ErrorKind>` is the client's `ErrorKind::as_str` name (e.g.
//!   `GameSessionFull`, `InvalidGameSessionStatus`, `NotFound`, `Timeout`, `Unavailable`).
//! - `time_ns`: nanoseconds on a monotonic clock since the writer was created; strictly
//!   increasing in file order. The invoke is recorded just before the request is sent and the
//!   completion just after the answer arrives, so `[invoke, completion]` contains the moment the
//!   operation took effect.
//!
//! # Operations
//!
//! Enumerated values are GameLift's spelling (`ACTIVE`, `ACCEPT_ALL`, `FORCE_TERMINATE`); the
//! checker also accepts the Rust spelling (`Active`, `AcceptAll`).
//!
//! | `op` | `args` | `ok` value |
//! |---|---|---|
//! | `create_game_session` | `{fleet_id, idempotency_token, max_players}` | `{game_session_id, process_id, node_id}` |
//! | `describe_game_session` | `{game_session_id}`, optional `consistency: "STALE"` | `{status, current_player_session_count, maximum_player_session_count, player_session_creation_policy, process_id}` |
//! | `reserve_player` | `{game_session_id, player_id}` | `{player_session_id}` |
//! | `accept_player` | `{game_session_id, player_session_id}` | `{}` (anything) |
//! | `remove_player` | `{game_session_id, player_session_id}` | `{}` (anything) |
//! | `update_game_session` | `{game_session_id, maximum_player_session_count?, player_session_creation_policy?}` | `{}` (anything) |
//! | `terminate_game_session` | `{game_session_id, mode}` (`TRIGGER_ON_PROCESS_TERMINATE` or `FORCE_TERMINATE`) | `{}` (anything) |
//! | `describe_player_session` | `{player_session_id}` | `{status}` (`RESERVED`, `ACTIVE`, `COMPLETED`, `TIMEDOUT`) |
//!
//! - `create_game_session`: CreateGameSession with an idempotency token (`idempotency_token`
//!   may be `null` for none). The new session's id ends with the token
//!   (`…/gamesession/<fleet>/<token>`), which is how the checker ties an unanswered (`info`)
//!   create to the session it may have made. Tokens must not start with `gsess-` (gamefleet's
//!   prefix for sessions created without one).
//! - `describe_game_session`: DescribeGameSessions of one session with LINEARIZABLE reads (the
//!   default). A read asked with `"consistency": "STALE"` is exempt from linearizability.
//!   `fail` with `NotFound` claims the session did not exist at that moment.
//! - `reserve_player`: CreatePlayerSession (one player). `fail` values that the checker uses:
//!   `GameSessionFull` (no free slot at that moment), `InvalidGameSessionStatus` (not ACTIVE,
//!   or policy DENY_ALL), `NotFound`.
//! - `accept_player`: a real game client presents the player session id to the game server;
//!   `ok` means the server answered WELCOME (its AcceptPlayerSession succeeded).
//! - `remove_player`: the game server's RemovePlayerSession for that player (the client left).
//! - `update_game_session`: UpdateGameSession; fields absent from `args` are left unchanged.
//! - `terminate_game_session`: TerminateGameSession with TerminationMode `mode`.
//! - `describe_player_session`: DescribePlayerSessions by id.
//!
//! Writing: [`HistoryWriter::record_invoke`] writes the invoke and returns an [`OpHandle`];
//! [`OpHandle::ok`], [`OpHandle::fail`] or [`OpHandle::info`] writes the completion. A handle
//! dropped without one (a cancelled task) records `info` with `{"error": "dropped"}`, so every
//! invoke is completed. Reading: [`read_history`] tolerates a partial last line (a crash while
//! writing) and names the line of any other bad input.

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A client operation's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// CreateGameSession. Args `{fleet_id, idempotency_token, max_players}`; ok value
    /// `{game_session_id, process_id, node_id}`.
    CreateGameSession,
    /// DescribeGameSessions of one session. Args `{game_session_id}`; ok value `{status,
    /// current_player_session_count, maximum_player_session_count,
    /// player_session_creation_policy, process_id}`.
    DescribeGameSession,
    /// CreatePlayerSession. Args `{game_session_id, player_id}`; ok value `{player_session_id}`.
    ReservePlayer,
    /// A game client presenting its player session to the game server (WELCOME on ok). Args
    /// `{game_session_id, player_session_id}`.
    AcceptPlayer,
    /// RemovePlayerSession. Args `{game_session_id, player_session_id}`.
    RemovePlayer,
    /// UpdateGameSession. Args `{game_session_id, maximum_player_session_count?,
    /// player_session_creation_policy?}`.
    UpdateGameSession,
    /// TerminateGameSession. Args `{game_session_id, mode}`.
    TerminateGameSession,
    /// DescribePlayerSessions by id. Args `{player_session_id}`; ok value `{status}`.
    DescribePlayerSession,
}

impl Op {
    /// Every operation, in declaration order.
    pub const ALL: [Op; 8] = [
        Op::CreateGameSession,
        Op::DescribeGameSession,
        Op::ReservePlayer,
        Op::AcceptPlayer,
        Op::RemovePlayer,
        Op::UpdateGameSession,
        Op::TerminateGameSession,
        Op::DescribePlayerSession,
    ];

    /// The name used in history files, e.g. `"reserve_player"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::CreateGameSession => "create_game_session",
            Op::DescribeGameSession => "describe_game_session",
            Op::ReservePlayer => "reserve_player",
            Op::AcceptPlayer => "accept_player",
            Op::RemovePlayer => "remove_player",
            Op::UpdateGameSession => "update_game_session",
            Op::TerminateGameSession => "terminate_game_session",
            Op::DescribePlayerSession => "describe_player_session",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an event records: the start of an operation or its one outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// The request is about to be sent.
    Invoke,
    /// The server said the operation happened.
    Ok,
    /// The server refused: the operation definitely did not happen.
    Fail,
    /// Unknown outcome (timeout, connection lost): it may or may not have happened.
    Info,
}

impl EventType {
    /// The name used in history files, e.g. `"info"`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Invoke => "invoke",
            EventType::Ok => "ok",
            EventType::Fail => "fail",
            EventType::Info => "info",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of a history file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The logical client (at most one operation in flight).
    pub client: u64,
    /// The operation.
    pub op: Op,
    /// What the client asked for; repeated on the completion.
    #[serde(default)]
    pub args: Value,
    /// `invoke`, `ok`, `fail` or `info` (the JSON field is `"type"`).
    #[serde(rename = "type")]
    pub r#type: EventType,
    /// `null` on invoke; the result on ok; `{"error", "message"}` on fail and info.
    #[serde(default)]
    pub value: Value,
    /// Monotonic nanoseconds since the writer started; strictly increasing in file order.
    pub time_ns: u64,
}

/// Appends events to a history file, one flushed line each; cheap to clone and safe to share
/// between threads and async tasks (a `std` mutex, never held across an `.await`).
///
/// NB: a write error does not stop the run: it is kept (the first one) and later writes are
/// skipped, so check [`HistoryWriter::result`] when the run ends.
#[derive(Clone)]
pub struct HistoryWriter {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    start: Instant,
    out: Mutex<Out>,
}

struct Out {
    file: File,
    /// The last `time_ns` written (times are made strictly increasing).
    last_ns: Option<u64>,
    /// The first write error; once set nothing more is written.
    error: Option<(io::ErrorKind, String)>,
}

impl fmt::Debug for HistoryWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HistoryWriter")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl HistoryWriter {
    /// Creates (or truncates) the history file at `path`.
    pub fn create(path: impl AsRef<Path>) -> io::Result<HistoryWriter> {
        let path = path.as_ref().to_path_buf();
        let file = File::create(&path)?;
        Ok(HistoryWriter {
            inner: Arc::new(Inner {
                path,
                start: Instant::now(),
                out: Mutex::new(Out {
                    file,
                    last_ns: None,
                    error: None,
                }),
            }),
        })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Records that `client` is about to send `op` with `args`; complete the returned handle
    /// with the outcome. `client` must have no other operation in flight.
    pub fn record_invoke(&self, client: u64, op: Op, args: Value) -> OpHandle {
        self.write(client, op, &args, EventType::Invoke, &Value::Null);
        OpHandle {
            writer: self.clone(),
            client,
            op,
            args,
            done: false,
        }
    }

    /// `Ok` unless a write failed; then the first error (the file is incomplete from there).
    pub fn result(&self) -> io::Result<()> {
        let out = self.inner.out.lock().unwrap_or_else(|e| e.into_inner());
        match &out.error {
            None => Ok(()),
            Some((kind, message)) => Err(io::Error::new(
                *kind,
                format!("writing history {}: {message}", self.inner.path.display()),
            )),
        }
    }

    /// Writes one event line; the clock is read under the lock so file order is time order.
    fn write(&self, client: u64, op: Op, args: &Value, r#type: EventType, value: &Value) {
        let mut out = self.inner.out.lock().unwrap_or_else(|e| e.into_inner());
        if out.error.is_some() {
            return;
        }
        let elapsed = u64::try_from(self.inner.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let time_ns = match out.last_ns {
            Some(last) => elapsed.max(last.saturating_add(1)),
            None => elapsed,
        };
        let event = Event {
            client,
            op,
            args: args.clone(),
            r#type,
            value: value.clone(),
            time_ns,
        };
        let written = serde_json::to_vec(&event)
            .map_err(io::Error::other)
            .and_then(|mut line| {
                line.push(b'\n');
                // One write per line: a crash truncates at most the last line.
                out.file.write_all(&line)?;
                out.file.flush()
            });
        match written {
            Ok(()) => out.last_ns = Some(time_ns),
            Err(e) => out.error = Some((e.kind(), e.to_string())),
        }
    }
}

/// An invoked operation waiting for its outcome. Completing it consumes it; dropping it
/// uncompleted records `info` with `{"error": "dropped"}`.
#[must_use = "complete the operation with ok, fail or info"]
pub struct OpHandle {
    writer: HistoryWriter,
    client: u64,
    op: Op,
    args: Value,
    done: bool,
}

impl fmt::Debug for OpHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpHandle")
            .field("client", &self.client)
            .field("op", &self.op)
            .field("args", &self.args)
            .finish_non_exhaustive()
    }
}

impl OpHandle {
    /// The client that invoked the operation.
    pub fn client(&self) -> u64 {
        self.client
    }

    /// The operation.
    pub fn op(&self) -> Op {
        self.op
    }

    /// The arguments it was invoked with.
    pub fn args(&self) -> &Value {
        &self.args
    }

    /// The server said it happened; `value` is the result (shapes in the module docs).
    pub fn ok(self, value: Value) {
        self.complete(EventType::Ok, value);
    }

    /// The server refused it (it did not happen); `value` is `{"error", "message"}`.
    pub fn fail(self, value: Value) {
        self.complete(EventType::Fail, value);
    }

    /// The outcome is unknown; `value` is `{"error", "message"}`.
    pub fn info(self, value: Value) {
        self.complete(EventType::Info, value);
    }

    fn complete(mut self, r#type: EventType, value: Value) {
        self.done = true;
        self.writer
            .write(self.client, self.op, &self.args, r#type, &value);
    }
}

impl Drop for OpHandle {
    fn drop(&mut self) {
        if !self.done {
            self.done = true;
            let value = serde_json::json!({"error": "dropped"});
            self.writer
                .write(self.client, self.op, &self.args, EventType::Info, &value);
        }
    }
}

/// Why a history could not be read.
#[derive(Debug)]
pub enum HistoryError {
    /// The file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A complete line is not an [`Event`].
    Line {
        /// The file, when read from one.
        path: Option<PathBuf>,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryError::Io { path, source } => {
                write!(f, "cannot read history {}: {source}", path.display())
            }
            HistoryError::Line {
                path,
                line,
                message,
            } => {
                match path {
                    Some(p) => write!(f, "history {}", p.display())?,
                    None => f.write_str("history")?,
                }
                write!(f, ", line {line}: {message}")
            }
        }
    }
}

impl std::error::Error for HistoryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HistoryError::Io { source, .. } => Some(source),
            HistoryError::Line { .. } => None,
        }
    }
}

/// Reads a history file. Blank lines are skipped; a last line without its newline that does
/// not parse (the writer died mid-line) is dropped; any other bad line is an error naming it.
pub fn read_history(path: impl AsRef<Path>) -> Result<Vec<Event>, HistoryError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| HistoryError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_history(&bytes).map_err(|e| match e {
        HistoryError::Line { line, message, .. } => HistoryError::Line {
            path: Some(path.to_path_buf()),
            line,
            message,
        },
        other => other,
    })
}

/// [`read_history`] of bytes already in memory.
pub fn parse_history(bytes: &[u8]) -> Result<Vec<Event>, HistoryError> {
    let complete = bytes.ends_with(b"\n");
    let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    let count = lines.len();
    let mut events = Vec::new();
    for (i, raw) in lines.into_iter().enumerate() {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Event>(line) {
            Ok(e) => events.push(e),
            // NB: only the very last line can be cut short by a crash.
            Err(_) if i + 1 == count && !complete => {}
            Err(e) => {
                return Err(HistoryError::Line {
                    path: None,
                    line: i + 1,
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_json_uses_the_issue_field_names() {
        let e = Event {
            client: 7,
            op: Op::ReservePlayer,
            args: json!({"game_session_id": "g", "player_id": "p"}),
            r#type: EventType::Ok,
            value: json!({"player_session_id": "psess-1"}),
            time_ns: 42,
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            json!({
                "client": 7,
                "op": "reserve_player",
                "args": {"game_session_id": "g", "player_id": "p"},
                "type": "ok",
                "value": {"player_session_id": "psess-1"},
                "time_ns": 42
            })
        );
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn op_names_round_trip() {
        for op in Op::ALL {
            let s = serde_json::to_value(op).unwrap();
            assert_eq!(s, Value::String(op.as_str().into()));
            assert_eq!(serde_json::from_value::<Op>(s).unwrap(), op);
        }
        for t in [
            EventType::Invoke,
            EventType::Ok,
            EventType::Fail,
            EventType::Info,
        ] {
            assert_eq!(
                serde_json::to_value(t).unwrap(),
                Value::String(t.as_str().into())
            );
        }
    }

    #[test]
    fn writer_pairs_invokes_with_completions_across_threads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        let w = HistoryWriter::create(&path).unwrap();
        std::thread::scope(|s| {
            for client in 0..4u64 {
                let w = w.clone();
                s.spawn(move || {
                    for i in 0..25u64 {
                        let h = w.record_invoke(
                            client,
                            Op::DescribeGameSession,
                            json!({"game_session_id": format!("g{i}")}),
                        );
                        match i % 4 {
                            0 => h.ok(json!({"status": "ACTIVE"})),
                            1 => h.fail(json!({"error": "NotFound"})),
                            2 => h.info(json!({"error": "Timeout"})),
                            _ => drop(h),
                        }
                    }
                });
            }
        });
        w.result().unwrap();
        let events = read_history(&path).unwrap();
        assert_eq!(events.len(), 4 * 25 * 2);
        assert!(events.windows(2).all(|p| p[0].time_ns < p[1].time_ns));
        for client in 0..4u64 {
            let mine: Vec<&Event> = events.iter().filter(|e| e.client == client).collect();
            for pair in mine.chunks(2) {
                assert_eq!(pair[0].r#type, EventType::Invoke);
                assert_ne!(pair[1].r#type, EventType::Invoke);
                assert_eq!(pair[0].args, pair[1].args);
            }
        }
        let dropped = events
            .iter()
            .filter(|e| e.value == json!({"error": "dropped"}))
            .count();
        assert_eq!(dropped, 4 * 6);
    }

    #[test]
    fn a_partial_last_line_is_dropped() {
        let good = r#"{"client":1,"op":"reserve_player","args":{},"type":"invoke","value":null,"time_ns":1}"#;
        let text = format!("{good}\n{good}\n{{\"client\":1,\"op\":\"rese");
        let events = parse_history(text.as_bytes()).unwrap();
        assert_eq!(events.len(), 2);
        // Invalid UTF-8 cut mid-character is also a partial line.
        let mut bytes = format!("{good}\n").into_bytes();
        bytes.extend_from_slice(&[b'{', 0xE2, 0x82]);
        assert_eq!(parse_history(&bytes).unwrap().len(), 1);
        // An empty file and blank lines are fine.
        assert!(parse_history(b"").unwrap().is_empty());
        assert_eq!(
            parse_history(format!("\n{good}\r\n\n").as_bytes())
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn a_bad_complete_line_is_an_error_naming_it() {
        let good = r#"{"client":1,"op":"reserve_player","args":{},"type":"invoke","value":null,"time_ns":1}"#;
        let bad = r#"{"client":1,"op":"fly","args":{},"type":"invoke","value":null,"time_ns":2}"#;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.jsonl");
        std::fs::write(&path, format!("{good}\n\n{bad}\n{good}\n")).unwrap();
        let err = read_history(&path).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 3"), "{text}");
        assert!(text.contains("h.jsonl"), "{text}");
        assert!(text.contains("fly"), "{text}");
        // A bad last line that does end with a newline was written whole: an error.
        let err = parse_history(format!("{good}\nnot json\n").as_bytes()).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        let missing = read_history(dir.path().join("absent.jsonl")).unwrap_err();
        assert!(matches!(missing, HistoryError::Io { .. }), "{missing}");
    }
}
