//! Pairs history events into operations (invoke plus its one completion) and reads the fields
//! of their JSON arguments and values. Knows the history's shape, not what operations mean.

use serde_json::Value;

use super::{Anomaly, AnomalyKind};
use crate::history::{Event, EventType, Op};

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    /// It happened.
    Ok,
    /// It did not happen.
    Fail,
    /// Unknown: an info completion, or none at all.
    Info,
}

/// One operation: an invoke and its completion, if any.
#[derive(Debug, Clone)]
pub(super) struct Operation<'a> {
    pub op: Op,
    pub args: &'a Value,
    pub outcome: Outcome,
    /// The completion's value; `null` when there is none.
    pub value: &'a Value,
    /// History index of the invoke.
    pub invoke: usize,
    /// History index of the completion.
    pub complete: Option<usize>,
    pub invoke_ns: u64,
    pub complete_ns: Option<u64>,
}

static NULL: Value = Value::Null;

impl Operation<'_> {
    pub fn is_ok(&self) -> bool {
        self.outcome == Outcome::Ok
    }

    pub fn is_fail(&self) -> bool {
        self.outcome == Outcome::Fail
    }

    pub fn is_info(&self) -> bool {
        self.outcome == Outcome::Info
    }

    /// Its history indexes: the invoke and the completion.
    pub fn events(&self) -> Vec<usize> {
        let mut v = vec![self.invoke];
        v.extend(self.complete);
        v
    }

    /// When it is known to have finished: its completion for ok and fail, never for info.
    pub fn ret_ns(&self) -> u64 {
        match (self.outcome, self.complete_ns) {
            (Outcome::Ok | Outcome::Fail, Some(t)) => t.max(self.invoke_ns),
            _ => u64::MAX,
        }
    }

    /// `args.game_session_id`.
    pub fn game_session_arg(&self) -> Option<&str> {
        str_of(self.args, "game_session_id")
    }

    /// The error kind of a fail or info, without a trailing `Exception` (`"GameSessionFull"`).
    pub fn error(&self) -> Option<&str> {
        let e = str_of(self.value, "error").or_else(|| self.value.as_str())?;
        Some(e.strip_suffix("Exception").unwrap_or(e))
    }

    /// A short description for messages: `#12 reserve_player ok {args} → {value}`.
    pub fn label(&self) -> String {
        let outcome = match (self.outcome, self.complete) {
            (Outcome::Ok, _) => "ok",
            (Outcome::Fail, _) => "fail",
            (Outcome::Info, Some(_)) => "info",
            (Outcome::Info, None) => "pending",
        };
        let mut s = format!(
            "#{} {} {outcome} {}",
            self.invoke,
            self.op,
            compact(self.args)
        );
        if !self.value.is_null() {
            s.push_str(" → ");
            s.push_str(&compact(self.value));
        }
        s
    }
}

/// JSON text, cut short when long.
fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= 200 {
        s
    } else {
        let cut: String = s.chars().take(200).collect();
        format!("{cut}…")
    }
}

/// Pairs each completion with its client's pending invoke, in file order. Broken pairings are
/// reported and the invoke left without a completion (unknown outcome).
pub(super) fn pair<'a>(history: &'a [Event], anomalies: &mut Vec<Anomaly>) -> Vec<Operation<'a>> {
    let mut ops: Vec<Operation<'a>> = Vec::new();
    // client → index into `ops` of its pending invoke.
    let mut pending: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    for (i, e) in history.iter().enumerate() {
        if e.r#type == EventType::Invoke {
            if let Some(prev) = pending.insert(e.client, ops.len()) {
                let label = ops.get(prev).map(Operation::label).unwrap_or_default();
                anomalies.push(Anomaly {
                    kind: AnomalyKind::MalformedHistory,
                    message: format!(
                        "client {} invoked {} (event #{i}) while {label} was in flight; the earlier one counts as unknown",
                        e.client, e.op
                    ),
                    ops: vec![i],
                });
            }
            ops.push(Operation {
                op: e.op,
                args: &e.args,
                outcome: Outcome::Info,
                value: &NULL,
                invoke: i,
                complete: None,
                invoke_ns: e.time_ns,
                complete_ns: None,
            });
            continue;
        }
        let slot = pending.get(&e.client).copied();
        match slot.and_then(|s| ops.get_mut(s)) {
            Some(o) if o.op == e.op => {
                o.outcome = match e.r#type {
                    EventType::Ok => Outcome::Ok,
                    EventType::Fail => Outcome::Fail,
                    EventType::Info | EventType::Invoke => Outcome::Info,
                };
                o.value = &e.value;
                o.complete = Some(i);
                o.complete_ns = Some(e.time_ns);
                pending.remove(&e.client);
            }
            Some(o) => {
                let message = format!(
                    "client {}: {} {} (event #{i}) completes a different operation than its pending {}",
                    e.client,
                    e.op,
                    e.r#type,
                    o.label()
                );
                anomalies.push(Anomaly {
                    kind: AnomalyKind::MalformedHistory,
                    message,
                    ops: vec![o.invoke, i],
                });
                pending.remove(&e.client);
            }
            None => anomalies.push(Anomaly {
                kind: AnomalyKind::MalformedHistory,
                message: format!(
                    "client {}: {} {} (event #{i}) completes nothing (no pending invoke)",
                    e.client, e.op, e.r#type
                ),
                ops: vec![i],
            }),
        }
    }
    ops
}

/// A string field of a JSON object.
pub(super) fn str_of<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key)?.as_str()
}

/// An integer field of a JSON object (a number, or a string holding one).
pub(super) fn int_of(v: &Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX))),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An enumerated value in one spelling: `"ACCEPT_ALL"`, `"AcceptAll"` and `"accept-all"` all
/// become `"ACCEPTALL"`.
pub(super) fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}
