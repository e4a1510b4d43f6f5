//! The history checker: invariants and per-game-session linearizability, judged over a client
//! [`history`](crate::history) and the healed cluster's final state.
//!
//! This module owns the verdict on a run. It does no IO and never talks to a node: the runner
//! reads the history file and fills a [`FinalState`] from the healed cluster, then calls
//! [`check`]. It never panics, whatever the input; a broken history is reported as
//! [`AnomalyKind::MalformedHistory`].
//!
//! # What is checked
//!
//! - **Lost writes** ([`AnomalyKind::LostWrite`]): every game session an `ok`
//!   `create_game_session` returned exists in the final state (ended sessions are kept for a
//!   day, so none can be purged within a run); every player session an `ok` `reserve_player`
//!   returned exists; every `ok` `accept_player`'s player session is ACTIVE or COMPLETED (never
//!   RESERVED or TIMEDOUT); every `ok` `remove_player`'s is COMPLETED; every `ok`
//!   `terminate_game_session`'s game session is no longer ACTIVATING or ACTIVE.
//! - **Overbooking** ([`AnomalyKind::Overbooking`]): in the final state each game session's
//!   RESERVED + ACTIVE player sessions are at most its maximum and equal its
//!   `current_player_session_count`; no `ok` `describe_game_session` showed current > maximum;
//!   and on a session whose maximum never changed and whose players were never removed, the
//!   distinct player sessions `ok` `reserve_player` returned are at most the maximum.
//! - **Double placement** ([`AnomalyKind::DoublePlacement`]): among final live sessions
//!   (ACTIVATING, ACTIVE, TERMINATING) no process hosts two; no game session is seen on two
//!   processes; and no two game sessions created `ok` on one process were provably live at the
//!   same time by the history (each was created before the other was last seen live).
//! - **Idempotency** ([`AnomalyKind::Idempotency`]): one idempotency token, one game session,
//!   across `ok` creates and the final state.
//! - **Linearizability** ([`AnomalyKind::NotLinearizable`]; a stale read is one): for each game
//!   session, a Wing & Gong / Lowe search for an order of its operations, each placed between
//!   its invoke and its completion, that a sequential model of one game session accepts. `info`
//!   operations may take effect at any point after their invoke, or never. The final state is
//!   one more read, after every operation. The search memoizes (linearized set, model state)
//!   and stops after [`Limits::max_steps`] states, reporting [`AnomalyKind::Undecided`].
//!
//! # The model of one game session
//!
//! State: status (absent, ACTIVATING, ACTIVE, TERMINATING, TERMINATED, ERROR), maximum
//! players, creation policy, and the player sessions holding slots (each RESERVED, ACTIVE or
//! COMPLETED; those made by `info` reserves are counted without ids). Slots used = RESERVED +
//! ACTIVE.
//!
//! - `create_game_session`: absent → ACTIVATING with `max_players` and ACCEPT_ALL; a repeat
//!   (same token) changes nothing.
//! - `reserve_player` ok: ACTIVE, ACCEPT_ALL, slots used < maximum; then one more RESERVED.
//!   Fail `GameSessionFull`: slots used ≥ maximum then. Fail `InvalidGameSessionStatus`: not
//!   ACTIVE or DENY_ALL then. Fail `NotFound` (any op): absent then.
//! - `accept_player` ok: ACTIVE and the player session RESERVED; then ACTIVE (slots unchanged).
//! - `remove_player` ok: the player session RESERVED or ACTIVE; then COMPLETED (one slot freed).
//! - `update_game_session` ok: live, new maximum ≥ slots used; sets maximum and/or policy.
//! - `terminate_game_session` ok: live; TRIGGER_ON_PROCESS_TERMINATE → TERMINATING (again while
//!   TERMINATING is fine), FORCE_TERMINATE → TERMINATED.
//! - `describe_game_session` ok: shows exactly the status, maximum, policy and slots used.
//! - `describe_player_session` ok: shows exactly the player session's status.
//! - Things the cluster does on its own, at any moment: ACTIVATING → ACTIVE; a live session →
//!   TERMINATING, TERMINATED or ERROR (process crash, activation timeout, node lost);
//!   TERMINATING → TERMINATED or ERROR. Ending a session completes its player sessions (0 slots).
//!
//! `fail` operations with other errors changed nothing and say nothing, so they are left out;
//! so are `info` reads.
//!
//! **Assumptions** (the runner must arrange them): player reservation timeouts are longer than
//! the run (no TIMEDOUT player sessions); players leave only through `remove_player`
//! operations in the history; nothing outside the history creates, updates or terminates the
//! game sessions it names; describes use LINEARIZABLE reads unless they say `"consistency":
//! "STALE"`. Game sessions the history names but never creates are checked only against the
//! invariants, not for linearizability.

mod invariants;
mod model;
mod ops;
mod wgl;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::history::Event;

/// The healed cluster's game and player sessions, filled by the runner.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FinalState {
    /// Every game session of the fleets the history used (ended ones too).
    #[serde(default)]
    pub game_sessions: Vec<FinalGameSession>,
    /// Every player session of those game sessions.
    #[serde(default)]
    pub player_sessions: Vec<FinalPlayerSession>,
}

/// One game session as the healed cluster describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalGameSession {
    /// The id (ARN).
    pub game_session_id: String,
    /// `ACTIVATING`, `ACTIVE`, `TERMINATING`, `TERMINATED` or `ERROR`.
    pub status: String,
    /// The process hosting it.
    pub process_id: String,
    /// The node running that process.
    #[serde(default)]
    pub node_id: u64,
    /// MaximumPlayerSessionCount.
    pub maximum_player_session_count: i64,
    /// CurrentPlayerSessionCount.
    pub current_player_session_count: i64,
    /// The idempotency token it was created with: [`idempotency_token_of`] its id.
    #[serde(default)]
    pub idempotency_token: Option<String>,
}

/// One player session as the healed cluster describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalPlayerSession {
    /// The id (`psess-…`).
    pub player_session_id: String,
    /// Its game session's id.
    pub game_session_id: String,
    /// The player.
    #[serde(default)]
    pub player_id: String,
    /// `RESERVED`, `ACTIVE`, `COMPLETED` or `TIMEDOUT`.
    pub status: String,
}

/// The idempotency token a game session id was made from: the id's last `/` segment, unless
/// that is gamefleet's token-less `gsess-<uuid>` form.
pub fn idempotency_token_of(game_session_id: &str) -> Option<String> {
    let suffix = game_session_id
        .rsplit_once('/')
        .map_or(game_session_id, |(_, s)| s);
    if suffix.is_empty() || suffix.starts_with("gsess-") {
        None
    } else {
        Some(suffix.to_string())
    }
}

/// What kind of bug an [`Anomaly`] shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// An acknowledged create, reservation, accept, removal or termination is not in the final
    /// state.
    LostWrite,
    /// More players hold slots than the maximum, or the count disagrees with them.
    Overbooking,
    /// A process hosts two live game sessions, or a game session moved between processes.
    DoublePlacement,
    /// One idempotency token made more than one game session.
    Idempotency,
    /// No order of a game session's operations explains what clients saw (e.g. a stale read).
    NotLinearizable,
    /// The linearizability search hit its step limit: neither proven nor refuted.
    Undecided,
    /// The history itself is broken (a completion without an invoke, an ok without its value).
    MalformedHistory,
}

impl AnomalyKind {
    /// The snake_case name, e.g. `"lost_write"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::LostWrite => "lost_write",
            AnomalyKind::Overbooking => "overbooking",
            AnomalyKind::DoublePlacement => "double_placement",
            AnomalyKind::Idempotency => "idempotency",
            AnomalyKind::NotLinearizable => "not_linearizable",
            AnomalyKind::Undecided => "undecided",
            AnomalyKind::MalformedHistory => "malformed_history",
        }
    }
}

impl fmt::Display for AnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing wrong with a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anomaly {
    /// What kind.
    pub kind: AnomalyKind,
    /// What, in words, naming ids.
    pub message: String,
    /// Indexes into the history of the events involved (invokes and their completions),
    /// ascending.
    pub ops: Vec<usize>,
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.kind, self.message)?;
        if !self.ops.is_empty() {
            let ops: Vec<String> = self.ops.iter().map(|i| format!("#{i}")).collect();
            write!(f, " (events {})", ops.join(", "))?;
        }
        Ok(())
    }
}

/// What a check looked at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checked {
    /// Events in the history.
    pub events: usize,
    /// Operations (invokes).
    pub operations: usize,
    /// Operations that completed ok.
    pub ok: usize,
    /// Operations that failed.
    pub fail: usize,
    /// Operations with an unknown outcome (info, or never completed).
    pub info: usize,
    /// Game sessions the history names.
    pub game_sessions: usize,
    /// Game sessions whose operations were proven linearizable.
    pub linearizable: usize,
    /// Game sessions whose operations were proven not linearizable.
    pub not_linearizable: usize,
    /// Game sessions whose search hit the step limit.
    pub undecided: usize,
    /// Game sessions left out of the linearizability check (never created in the history).
    pub not_checked: usize,
    /// States the linearizability searches visited, in total.
    pub search_steps: u64,
    /// Game sessions in the final state.
    pub final_game_sessions: usize,
    /// Player sessions in the final state.
    pub final_player_sessions: usize,
}

/// The overall outcome of a [`Report`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No anomaly.
    Pass,
    /// At least one anomaly other than [`AnomalyKind::Undecided`].
    Fail,
    /// Nothing wrong found, but some search was cut short.
    Undecided,
}

/// The checker's findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Everything wrong, grouped by kind.
    pub anomalies: Vec<Anomaly>,
    /// What was looked at.
    pub checked: Checked,
}

impl Report {
    /// Pass when there is no anomaly; Fail when one is a bug; else Undecided.
    pub fn verdict(&self) -> Verdict {
        if self
            .anomalies
            .iter()
            .any(|a| a.kind != AnomalyKind::Undecided)
        {
            Verdict::Fail
        } else if self.anomalies.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Undecided
        }
    }

    /// The anomalies of one kind.
    pub fn of_kind(&self, kind: AnomalyKind) -> impl Iterator<Item = &Anomaly> + '_ {
        self.anomalies.iter().filter(move |a| a.kind == kind)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.checked;
        let verdict = match self.verdict() {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Undecided => "UNDECIDED",
        };
        writeln!(f, "checker: {verdict} ({} anomalies)", self.anomalies.len())?;
        let mut kinds: BTreeMap<AnomalyKind, usize> = BTreeMap::new();
        for a in &self.anomalies {
            *kinds.entry(a.kind).or_default() += 1;
        }
        if !kinds.is_empty() {
            let parts: Vec<String> = kinds.iter().map(|(k, n)| format!("{k}: {n}")).collect();
            writeln!(f, "  by kind: {}", parts.join(", "))?;
        }
        writeln!(
            f,
            "  history: {} events, {} operations ({} ok, {} fail, {} info)",
            c.events, c.operations, c.ok, c.fail, c.info
        )?;
        writeln!(
            f,
            "  game sessions: {} named, {} linearizable, {} not linearizable, {} undecided, {} not checked ({} search steps)",
            c.game_sessions,
            c.linearizable,
            c.not_linearizable,
            c.undecided,
            c.not_checked,
            c.search_steps
        )?;
        write!(
            f,
            "  final state: {} game sessions, {} player sessions",
            c.final_game_sessions, c.final_player_sessions
        )?;
        for a in &self.anomalies {
            write!(f, "\n{a}")?;
        }
        Ok(())
    }
}

/// Bounds on the checker's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// States the linearizability search may visit per game session before it gives up with
    /// [`AnomalyKind::Undecided`].
    pub max_steps: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_steps: 1_000_000,
        }
    }
}

/// Checks `history` against `final_state` with the default [`Limits`].
pub fn check(history: &[Event], final_state: &FinalState) -> Report {
    check_with(history, final_state, Limits::default())
}

/// Checks `history` against `final_state`.
pub fn check_with(history: &[Event], final_state: &FinalState, limits: Limits) -> Report {
    let mut anomalies = Vec::new();
    let paired = ops::pair(history, &mut anomalies);
    let mut checked = Checked {
        events: history.len(),
        operations: paired.len(),
        ok: paired.iter().filter(|o| o.is_ok()).count(),
        fail: paired.iter().filter(|o| o.is_fail()).count(),
        info: paired.iter().filter(|o| o.is_info()).count(),
        final_game_sessions: final_state.game_sessions.len(),
        final_player_sessions: final_state.player_sessions.len(),
        ..Checked::default()
    };
    let facts = invariants::Facts::new(&paired, final_state, &mut anomalies);
    let lost = invariants::lost_writes(&paired, &facts, &mut anomalies);
    invariants::overbooking(&paired, &facts, &mut anomalies);
    invariants::double_placement(&paired, &facts, &mut anomalies);
    invariants::idempotency(&paired, &facts, &mut anomalies);
    wgl::check_all(&paired, &facts, &lost, limits, &mut checked, &mut anomalies);
    for a in &mut anomalies {
        a.ops.sort_unstable();
        a.ops.dedup();
    }
    // Stable: kinds in declaration order, findings within a kind in the order found.
    anomalies.sort_by_key(|a| a.kind);
    Report { anomalies, checked }
}
