//! The invariants checked without search: lost writes, overbooking, double placement and
//! idempotency, over the paired operations and the final state. Also [`Facts`]: the indexes
//! every check shares, including which game session each operation is about.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::model::{Ps, Status};
use super::ops::{Operation, int_of, str_of};
use super::{
    Anomaly, AnomalyKind, FinalGameSession, FinalPlayerSession, FinalState, idempotency_token_of,
};
use crate::history::Op;

/// Indexes over the final state, and each operation's game session.
pub(super) struct Facts<'a> {
    pub final_gs: HashMap<&'a str, &'a FinalGameSession>,
    pub final_ps: HashMap<&'a str, &'a FinalPlayerSession>,
    /// Final player sessions by game session.
    pub players_of: HashMap<&'a str, Vec<&'a FinalPlayerSession>>,
    /// Per operation (same index): the game session it is about, when known.
    pub key: Vec<Option<String>>,
}

impl<'a> Facts<'a> {
    pub fn new(
        ops: &[Operation<'_>],
        final_state: &'a FinalState,
        anomalies: &mut Vec<Anomaly>,
    ) -> Facts<'a> {
        let mut final_gs = HashMap::new();
        for g in &final_state.game_sessions {
            if Status::parse(&g.status).is_none() {
                anomalies.push(malformed(
                    format!(
                        "final state: game session {} has unknown status {:?}",
                        g.game_session_id, g.status
                    ),
                    Vec::new(),
                ));
            }
            final_gs.insert(g.game_session_id.as_str(), g);
        }
        let mut final_ps = HashMap::new();
        let mut players_of: HashMap<&str, Vec<&FinalPlayerSession>> = HashMap::new();
        for p in &final_state.player_sessions {
            if Ps::parse(&p.status).is_none() {
                anomalies.push(malformed(
                    format!(
                        "final state: player session {} has unknown status {:?}",
                        p.player_session_id, p.status
                    ),
                    Vec::new(),
                ));
            }
            final_ps.insert(p.player_session_id.as_str(), p);
            players_of
                .entry(p.game_session_id.as_str())
                .or_default()
                .push(p);
        }

        // Token → game session ids, and every id anything names.
        let mut token_ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut named: BTreeSet<String> = BTreeSet::new();
        let mut psess_gs: HashMap<String, String> = HashMap::new();
        for g in &final_state.game_sessions {
            named.insert(g.game_session_id.clone());
            if let Some(t) = &g.idempotency_token {
                token_ids
                    .entry(t.clone())
                    .or_default()
                    .insert(g.game_session_id.clone());
            }
        }
        for p in &final_state.player_sessions {
            psess_gs.insert(p.player_session_id.clone(), p.game_session_id.clone());
        }
        for o in ops {
            if let Some(g) = o.game_session_arg() {
                named.insert(g.to_string());
            }
            if o.op == Op::CreateGameSession
                && o.is_ok()
                && let Some(g) = str_of(o.value, "game_session_id")
            {
                named.insert(g.to_string());
                if let Some(t) = str_of(o.args, "idempotency_token") {
                    token_ids
                        .entry(t.to_string())
                        .or_default()
                        .insert(g.to_string());
                }
            }
            if o.op == Op::ReservePlayer
                && o.is_ok()
                && let (Some(p), Some(g)) =
                    (str_of(o.value, "player_session_id"), o.game_session_arg())
            {
                psess_gs
                    .entry(p.to_string())
                    .or_insert_with(|| g.to_string());
            }
        }

        let mut key = Vec::with_capacity(ops.len());
        for o in ops {
            let k = match o.op {
                Op::CreateGameSession if o.is_ok() => {
                    let id = str_of(o.value, "game_session_id");
                    if id.is_none() {
                        anomalies.push(malformed(
                            format!("{}: an ok create without game_session_id", o.label()),
                            o.events(),
                        ));
                    }
                    id.map(str::to_string)
                }
                Op::CreateGameSession => str_of(o.args, "idempotency_token").and_then(|t| {
                    let by_token = token_ids.get(t).filter(|ids| !ids.is_empty());
                    let ids: Vec<&String> = match by_token {
                        Some(ids) => ids.iter().collect(),
                        None => named
                            .iter()
                            .filter(|id| idempotency_token_of(id).as_deref() == Some(t))
                            .collect(),
                    };
                    match ids.as_slice() {
                        [one] => Some((*one).clone()),
                        _ => None,
                    }
                }),
                Op::DescribePlayerSession => {
                    str_of(o.args, "player_session_id").and_then(|p| psess_gs.get(p).cloned())
                }
                _ => {
                    let id = o.game_session_arg();
                    if id.is_none() {
                        anomalies.push(malformed(
                            format!("{}: no game_session_id in args", o.label()),
                            o.events(),
                        ));
                    }
                    id.map(str::to_string)
                }
            };
            key.push(k);
            if let Some(why) = malformed_value(o) {
                anomalies.push(malformed(format!("{}: {why}", o.label()), o.events()));
            }
        }
        Facts {
            final_gs,
            final_ps,
            players_of,
            key,
        }
    }

    /// RESERVED + ACTIVE player sessions of `game_session_id` in the final state.
    pub fn held(&self, game_session_id: &str) -> i64 {
        let n = self.players_of.get(game_session_id).map_or(0, |ps| {
            ps.iter()
                .filter(|p| Ps::parse(&p.status).is_some_and(Ps::holds_slot))
                .count()
        });
        i64::try_from(n).unwrap_or(i64::MAX)
    }
}

fn malformed(message: String, ops: Vec<usize>) -> Anomaly {
    Anomaly {
        kind: AnomalyKind::MalformedHistory,
        message,
        ops,
    }
}

/// What an ok operation's value or args lack, if anything.
fn malformed_value(o: &Operation<'_>) -> Option<&'static str> {
    if !o.is_ok() {
        return None;
    }
    match o.op {
        Op::ReservePlayer if str_of(o.value, "player_session_id").is_none() => {
            Some("an ok reserve without player_session_id")
        }
        Op::DescribeGameSession if str_of(o.value, "status").and_then(Status::parse).is_none() => {
            Some("an ok describe without a known status")
        }
        Op::DescribePlayerSession if str_of(o.value, "status").and_then(Ps::parse).is_none() => {
            Some("an ok describe_player_session without a known status")
        }
        Op::AcceptPlayer | Op::RemovePlayer | Op::DescribePlayerSession
            if str_of(o.args, "player_session_id").is_none() =>
        {
            Some("no player_session_id in args")
        }
        _ => None,
    }
}

/// Acknowledged writes missing from the final state. Returns the game sessions involved (their
/// final read is left out of the linearizability search so one bug is reported once).
pub(super) fn lost_writes(
    ops: &[Operation<'_>],
    facts: &Facts<'_>,
    anomalies: &mut Vec<Anomaly>,
) -> HashSet<String> {
    let mut lost = HashSet::new();
    // Missing game sessions, with the ok operations that needed them.
    let mut missing_gs: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for o in ops.iter().filter(|o| o.is_ok()) {
        if o.op == Op::CreateGameSession
            && let Some(g) = str_of(o.value, "game_session_id")
            && !facts.final_gs.contains_key(g)
        {
            missing_gs
                .entry(g.to_string())
                .or_default()
                .extend(o.events());
        }
    }
    for (g, events) in &missing_gs {
        lost.insert(g.clone());
        anomalies.push(Anomaly {
            kind: AnomalyKind::LostWrite,
            message: format!(
                "game session {g} was created (acknowledged) but is missing from the final state"
            ),
            ops: events.clone(),
        });
    }

    // Player sessions: per id, the ok operations whose effect is missing.
    struct Missing {
        game_session: String,
        shown: String,
        acked: Vec<String>,
        events: Vec<usize>,
    }
    let mut psess: BTreeMap<String, Missing> = BTreeMap::new();
    for o in ops.iter().filter(|o| o.is_ok()) {
        let gs = o.game_session_arg().unwrap_or_default();
        let (id, wanted): (&str, &[Ps]) = match o.op {
            Op::ReservePlayer => match str_of(o.value, "player_session_id") {
                Some(p) => (p, &[Ps::Reserved, Ps::Active, Ps::Completed, Ps::Timedout]),
                None => continue,
            },
            Op::AcceptPlayer => match str_of(o.args, "player_session_id") {
                Some(p) => (p, &[Ps::Active, Ps::Completed]),
                None => continue,
            },
            Op::RemovePlayer => match str_of(o.args, "player_session_id") {
                Some(p) => (p, &[Ps::Completed]),
                None => continue,
            },
            Op::TerminateGameSession => {
                let bad = match facts.final_gs.get(gs) {
                    Some(g) => matches!(
                        Status::parse(&g.status),
                        Some(Status::Activating | Status::Active)
                    ),
                    // A missing session already reported by its create is not repeated.
                    None => !missing_gs.contains_key(gs),
                };
                if bad {
                    lost.insert(gs.to_string());
                    let shown = facts
                        .final_gs
                        .get(gs)
                        .map_or("missing".to_string(), |g| g.status.clone());
                    anomalies.push(Anomaly {
                        kind: AnomalyKind::LostWrite,
                        message: format!(
                            "{}: acknowledged termination of {gs}, but the final state shows it {shown}",
                            o.label()
                        ),
                        ops: o.events(),
                    });
                }
                continue;
            }
            _ => continue,
        };
        let found = facts.final_ps.get(id);
        if found
            .and_then(|p| Ps::parse(&p.status))
            .is_some_and(|s| wanted.contains(&s))
        {
            continue;
        }
        let m = psess.entry(id.to_string()).or_insert_with(|| Missing {
            game_session: gs.to_string(),
            shown: found.map_or("missing".to_string(), |p| p.status.clone()),
            acked: Vec::new(),
            events: Vec::new(),
        });
        m.acked.push(format!("{} (#{})", o.op, o.invoke));
        m.events.extend(o.events());
    }
    for (id, m) in psess {
        lost.insert(m.game_session.clone());
        anomalies.push(Anomaly {
            kind: AnomalyKind::LostWrite,
            message: format!(
                "player session {id} of game session {}: acknowledged {}, but the final state shows it {}",
                m.game_session,
                m.acked.join(", "),
                m.shown
            ),
            ops: m.events,
        });
    }
    lost
}

/// More players than slots: in the final state, in any describe, and by counting reservations.
pub(super) fn overbooking(ops: &[Operation<'_>], facts: &Facts<'_>, anomalies: &mut Vec<Anomaly>) {
    let mut finals: Vec<&&FinalGameSession> = facts.final_gs.values().collect();
    finals.sort_by_key(|g| g.game_session_id.as_str());
    for g in finals {
        let held = facts.held(&g.game_session_id);
        if held > g.maximum_player_session_count {
            anomalies.push(Anomaly {
                kind: AnomalyKind::Overbooking,
                message: format!(
                    "final state: game session {} has {held} RESERVED + ACTIVE player sessions, more than its maximum {}",
                    g.game_session_id, g.maximum_player_session_count
                ),
                ops: Vec::new(),
            });
        }
        if held != g.current_player_session_count {
            anomalies.push(Anomaly {
                kind: AnomalyKind::Overbooking,
                message: format!(
                    "final state: game session {} counts {} current player sessions but {held} are RESERVED or ACTIVE",
                    g.game_session_id, g.current_player_session_count
                ),
                ops: Vec::new(),
            });
        }
    }

    for o in ops.iter().filter(|o| o.is_ok()) {
        if o.op != Op::DescribeGameSession {
            continue;
        }
        let current = int_of(o.value, "current_player_session_count");
        let max = int_of(o.value, "maximum_player_session_count");
        if let (Some(c), Some(m)) = (current, max)
            && c > m
        {
            anomalies.push(Anomaly {
                kind: AnomalyKind::Overbooking,
                message: format!(
                    "{}: shows {c} current player sessions, more than the maximum {m}",
                    o.label()
                ),
                ops: o.events(),
            });
        }
    }

    // Per game session: the maxima anything stated, whether players ever left or the maximum
    // was updated, and the distinct player sessions acknowledged.
    #[derive(Default)]
    struct Seen {
        maxima: BTreeSet<i64>,
        changed: bool,
        reserved: BTreeSet<String>,
        events: Vec<usize>,
    }
    let mut seen: BTreeMap<&str, Seen> = BTreeMap::new();
    for (i, o) in ops.iter().enumerate() {
        let Some(k) = facts.key.get(i).and_then(|k| k.as_deref()) else {
            continue;
        };
        let s = seen.entry(k).or_default();
        match (o.op, o.outcome) {
            (Op::CreateGameSession, _) if !o.is_fail() => {
                s.maxima.extend(int_of(o.args, "max_players"));
            }
            (Op::DescribeGameSession, _) if o.is_ok() => {
                s.maxima
                    .extend(int_of(o.value, "maximum_player_session_count"));
            }
            (Op::UpdateGameSession, _) if !o.is_fail() => {
                s.changed |= o.args.get("maximum_player_session_count").is_some();
            }
            (Op::RemovePlayer, _) if !o.is_fail() => s.changed = true,
            (Op::ReservePlayer, _) if o.is_ok() => {
                if let Some(p) = str_of(o.value, "player_session_id") {
                    s.reserved.insert(p.to_string());
                    s.events.extend(o.events());
                }
            }
            _ => {}
        }
    }
    for (k, s) in seen {
        let mut maxima = s.maxima;
        if let Some(g) = facts.final_gs.get(k) {
            maxima.insert(g.maximum_player_session_count);
        }
        let (Some(&max), 1) = (maxima.first(), maxima.len()) else {
            continue;
        };
        let n = i64::try_from(s.reserved.len()).unwrap_or(i64::MAX);
        if !s.changed && n > max {
            anomalies.push(Anomaly {
                kind: AnomalyKind::Overbooking,
                message: format!(
                    "game session {k}: {n} reservations acknowledged, but its maximum was always {max} and no player left"
                ),
                ops: s.events,
            });
        }
    }
}

/// Two live game sessions on one process, or one game session on two processes.
pub(super) fn double_placement(
    ops: &[Operation<'_>],
    facts: &Facts<'_>,
    anomalies: &mut Vec<Anomaly>,
) {
    // Final state: live sessions per process.
    let mut live_on: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for g in facts.final_gs.values() {
        if Status::parse(&g.status).is_some_and(Status::is_live) && !g.process_id.is_empty() {
            live_on
                .entry(g.process_id.as_str())
                .or_default()
                .insert(g.game_session_id.as_str());
        }
    }
    let creates_of = |ids: &BTreeSet<&str>| -> Vec<usize> {
        ops.iter()
            .filter(|o| o.op == Op::CreateGameSession && o.is_ok())
            .filter(|o| str_of(o.value, "game_session_id").is_some_and(|g| ids.contains(g)))
            .flat_map(Operation::events)
            .collect()
    };
    let mut reported: HashSet<(String, String)> = HashSet::new();
    for (p, ids) in &live_on {
        if ids.len() > 1 {
            let list: Vec<&str> = ids.iter().copied().collect();
            for a in &list {
                for b in &list {
                    reported.insert((a.to_string(), b.to_string()));
                }
            }
            anomalies.push(Anomaly {
                kind: AnomalyKind::DoublePlacement,
                message: format!(
                    "final state: process {p} hosts {} live game sessions: {}",
                    list.len(),
                    list.join(", ")
                ),
                ops: creates_of(ids),
            });
        }
    }

    // What the history says of each session: its processes, when it surely existed, and the
    // latest moment it was surely still live.
    #[derive(Default)]
    struct Life {
        processes: BTreeMap<String, Vec<usize>>,
        created_by: Option<u64>,
        last_live: u64,
        events: Vec<usize>,
    }
    let mut lives: BTreeMap<&str, Life> = BTreeMap::new();
    for (i, o) in ops.iter().enumerate() {
        let Some(k) = facts.key.get(i).and_then(|k| k.as_deref()) else {
            continue;
        };
        if !o.is_ok() {
            continue;
        }
        let life = lives.entry(k).or_default();
        let shows_live = match o.op {
            Op::CreateGameSession => {
                life.created_by = Some(life.created_by.map_or(o.ret_ns(), |t| t.min(o.ret_ns())));
                life.events.extend(o.events());
                true
            }
            Op::DescribeGameSession => str_of(o.value, "status")
                .and_then(Status::parse)
                .is_some_and(Status::is_live),
            Op::ReservePlayer
            | Op::AcceptPlayer
            | Op::RemovePlayer
            | Op::UpdateGameSession
            | Op::TerminateGameSession => true,
            Op::DescribePlayerSession => false,
        };
        if shows_live {
            life.last_live = life.last_live.max(o.invoke_ns);
        }
        if matches!(o.op, Op::CreateGameSession | Op::DescribeGameSession)
            && let Some(p) = str_of(o.value, "process_id").filter(|p| !p.is_empty())
        {
            life.processes
                .entry(p.to_string())
                .or_default()
                .extend(o.events());
        }
    }
    for (k, life) in &mut lives {
        if let Some(g) = facts.final_gs.get(k) {
            if !g.process_id.is_empty() {
                life.processes.entry(g.process_id.clone()).or_default();
            }
            if Status::parse(&g.status).is_some_and(Status::is_live) {
                life.last_live = u64::MAX;
            }
        }
        if life.processes.len() > 1 {
            let names: Vec<&str> = life.processes.keys().map(String::as_str).collect();
            anomalies.push(Anomaly {
                kind: AnomalyKind::DoublePlacement,
                message: format!(
                    "game session {k} was seen on {} processes: {}",
                    names.len(),
                    names.join(", ")
                ),
                ops: life.processes.values().flatten().copied().collect(),
            });
        }
    }
    // Sessions created ok on one process whose lives surely overlapped.
    let mut by_process: BTreeMap<&str, Vec<(&str, &Life)>> = BTreeMap::new();
    for (k, life) in &lives {
        if life.created_by.is_none() {
            continue;
        }
        if let Some(p) = life.processes.keys().next() {
            by_process.entry(p.as_str()).or_default().push((k, life));
        }
    }
    for (p, sessions) in by_process {
        for (i, (a, la)) in sessions.iter().enumerate() {
            for (b, lb) in sessions.iter().skip(i + 1) {
                if reported.contains(&(a.to_string(), b.to_string())) {
                    continue;
                }
                let (Some(ca), Some(cb)) = (la.created_by, lb.created_by) else {
                    continue;
                };
                // A existed by `ca` and was live after `lb.last_live`'s start, and vice versa.
                if ca <= lb.last_live && cb <= la.last_live {
                    let mut events = la.events.clone();
                    events.extend(&lb.events);
                    anomalies.push(Anomaly {
                        kind: AnomalyKind::DoublePlacement,
                        message: format!(
                            "process {p} hosted game sessions {a} and {b} at the same time (each was created before the other was last seen live)"
                        ),
                        ops: events,
                    });
                }
            }
        }
    }
}

/// One idempotency token, one game session.
pub(super) fn idempotency(ops: &[Operation<'_>], facts: &Facts<'_>, anomalies: &mut Vec<Anomaly>) {
    let mut by_token: BTreeMap<&str, (BTreeSet<&str>, Vec<usize>)> = BTreeMap::new();
    for o in ops.iter().filter(|o| o.is_ok()) {
        if o.op != Op::CreateGameSession {
            continue;
        }
        if let (Some(t), Some(g)) = (
            str_of(o.args, "idempotency_token"),
            str_of(o.value, "game_session_id"),
        ) {
            let e = by_token.entry(t).or_default();
            e.0.insert(g);
            e.1.extend(o.events());
        }
    }
    let mut finals: Vec<&&FinalGameSession> = facts.final_gs.values().collect();
    finals.sort_by_key(|g| g.game_session_id.as_str());
    let mut final_count: BTreeMap<&str, usize> = BTreeMap::new();
    for g in finals {
        if let Some(t) = g.idempotency_token.as_deref() {
            let e = by_token.entry(t).or_default();
            e.0.insert(g.game_session_id.as_str());
            *final_count.entry(t).or_default() += 1;
        }
    }
    for (t, (ids, events)) in by_token {
        if ids.len() > 1 {
            let list: Vec<&str> = ids.into_iter().collect();
            let in_final = final_count.get(t).copied().unwrap_or(0);
            anomalies.push(Anomaly {
                kind: AnomalyKind::Idempotency,
                message: format!(
                    "idempotency token {t:?} made {} game sessions ({in_final} in the final state): {}",
                    list.len(),
                    list.join(", ")
                ),
                ops: events,
            });
        }
    }
}
