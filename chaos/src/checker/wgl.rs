//! Per-game-session linearizability: turns each game session's operations into model steps
//! and searches for a linearization (Wing & Gong's algorithm with Lowe's memoization of
//! (linearized set, model state)), bounded by a step limit.
//!
//! An operation may be linearized next when it was invoked no later than the earliest
//! completion among the acknowledged operations still waiting; `info` operations never
//! complete, so they can take effect at any later point, or never (they are not required).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use super::invariants::Facts;
use super::model::{Model, Policy, Ps, Status, Step};
use super::ops::{Operation, Outcome, int_of, norm, str_of};
use super::{Anomaly, AnomalyKind, Checked, Limits};
use crate::history::Op;

/// One operation of one game session, ready for the search.
#[derive(Debug, Clone)]
pub(super) struct LinOp {
    pub step: Step,
    /// Invoke time.
    pub inv: u64,
    /// Completion time; `u64::MAX` for info operations and the final read.
    pub ret: u64,
    /// Must be linearized (ok and fail); info operations need not be.
    pub required: bool,
    /// History indexes, for reports.
    pub events: Vec<usize>,
    pub label: String,
}

/// How a search ended.
#[derive(Debug)]
pub(super) enum Found {
    Linearizable,
    /// No linearization: where the search got furthest.
    NotLinearizable {
        /// The acknowledged operation that could not be placed (the earliest-completing one
        /// still waiting at the furthest point).
        blocking: Option<usize>,
        /// Operations that could have come next there.
        candidates: Vec<usize>,
        /// The model there.
        model: Model,
        /// Acknowledged operations linearized there.
        done: usize,
    },
    /// The step limit was reached first.
    Undecided,
}

/// Checks every game session the history names; adds counts and anomalies.
pub(super) fn check_all(
    ops: &[Operation<'_>],
    facts: &Facts<'_>,
    lost: &HashSet<String>,
    limits: Limits,
    checked: &mut Checked,
    anomalies: &mut Vec<Anomaly>,
) {
    let mut by_key: BTreeMap<&str, Vec<&Operation<'_>>> = BTreeMap::new();
    for (i, o) in ops.iter().enumerate() {
        if let Some(k) = facts.key.get(i).and_then(|k| k.as_deref()) {
            by_key.entry(k).or_default().push(o);
        }
    }
    checked.game_sessions = by_key.len();
    for (key, key_ops) in by_key {
        let created = key_ops
            .iter()
            .any(|o| o.op == Op::CreateGameSession && !o.is_fail());
        if !created {
            checked.not_checked += 1;
            continue;
        }
        let lin = build(key, &key_ops, facts, !lost.contains(key));
        let (outcome, steps) = search(&lin, limits.max_steps);
        checked.search_steps = checked.search_steps.saturating_add(steps);
        match outcome {
            Found::Linearizable => checked.linearizable += 1,
            Found::Undecided => {
                checked.undecided += 1;
                let info = lin.iter().filter(|o| !o.required).count();
                anomalies.push(Anomaly {
                    kind: AnomalyKind::Undecided,
                    message: format!(
                        "game session {key}: linearizability undecided after {steps} search steps ({} operations, {info} with unknown outcome); raise Limits::max_steps or shorten the run",
                        lin.len()
                    ),
                    ops: Vec::new(),
                });
            }
            Found::NotLinearizable {
                blocking,
                candidates,
                model,
                done,
            } => {
                checked.not_linearizable += 1;
                anomalies.push(not_linearizable(
                    key,
                    &lin,
                    blocking,
                    &candidates,
                    &model,
                    done,
                ));
            }
        }
    }
}

fn not_linearizable(
    key: &str,
    lin: &[LinOp],
    blocking: Option<usize>,
    candidates: &[usize],
    model: &Model,
    done: usize,
) -> Anomaly {
    let required = lin.iter().filter(|o| o.required).count();
    let mut events = Vec::new();
    let what = match blocking.and_then(|b| lin.get(b)) {
        Some(b) => {
            events.extend(&b.events);
            let read = matches!(
                b.step,
                Step::Describe { .. } | Step::DescribePlayer { .. } | Step::Final { .. }
            );
            let hint = if read {
                " (a stale or impossible read)"
            } else {
                ""
            };
            format!("{}{hint}", b.label)
        }
        None => "the history".to_string(),
    };
    let mut others = Vec::new();
    for &c in candidates.iter().filter(|c| Some(**c) != blocking).take(8) {
        if let Some(o) = lin.get(c) {
            events.extend(&o.events);
            others.push(o.label.clone());
        }
    }
    let mut message = format!(
        "game session {key}: not linearizable: no order of its operations explains {what}; at best {done} of {required} acknowledged operations fit, leaving the model at {model}"
    );
    if !others.is_empty() {
        message.push_str("; concurrent then: ");
        message.push_str(&others.join("; "));
    }
    Anomaly {
        kind: AnomalyKind::NotLinearizable,
        message,
        ops: events,
    }
}

/// The search's operations for one game session, sorted by invoke time, plus the final read
/// (when `with_final`).
fn build(key: &str, key_ops: &[&Operation<'_>], facts: &Facts<'_>, with_final: bool) -> Vec<LinOp> {
    // Player session ids, numbered; `named` are those an ok reserve returned.
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut intern = |s: &str| -> u32 {
        let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        *ids.entry(s.to_string()).or_insert(next)
    };
    let mut named: HashSet<u32> = HashSet::new();
    for o in key_ops {
        if o.op == Op::ReservePlayer
            && o.is_ok()
            && let Some(p) = str_of(o.value, "player_session_id")
        {
            named.insert(intern(p));
        }
    }
    let mut lin = Vec::new();
    for o in key_ops {
        let error = o.error().map(norm);
        let error = error.as_deref();
        let psess = str_of(o.args, "player_session_id").map(&mut intern);
        let step = match (o.op, o.outcome) {
            // NotFound from the cluster says the session did not exist then; accept and
            // remove talk to the game server, whose NotFound is about the player.
            (
                Op::ReservePlayer | Op::UpdateGameSession | Op::TerminateGameSession,
                Outcome::Fail,
            ) if error == Some("NOTFOUND") => Some(Step::NotFound),
            (Op::DescribeGameSession, Outcome::Fail) if error == Some("NOTFOUND") && !stale(o) => {
                Some(Step::NotFound)
            }
            (Op::CreateGameSession, Outcome::Ok | Outcome::Info) => Some(Step::Create {
                max: int_of(o.args, "max_players"),
            }),
            (Op::ReservePlayer, Outcome::Ok) => {
                str_of(o.value, "player_session_id").map(|p| Step::Reserve {
                    id: Some(intern(p)),
                })
            }
            (Op::ReservePlayer, Outcome::Info) => Some(Step::Reserve { id: None }),
            (Op::ReservePlayer, Outcome::Fail) => match error {
                Some("GAMESESSIONFULL") => Some(Step::ReserveFull),
                Some("INVALIDGAMESESSIONSTATUS") => Some(Step::ReserveRefused),
                _ => None,
            },
            (Op::AcceptPlayer, Outcome::Ok | Outcome::Info) => psess.map(|id| Step::Accept {
                id,
                named: named.contains(&id),
            }),
            (Op::RemovePlayer, Outcome::Ok | Outcome::Info) => psess.map(|id| Step::Remove {
                id,
                named: named.contains(&id),
            }),
            (Op::UpdateGameSession, Outcome::Ok | Outcome::Info) => Some(Step::Update {
                max: int_of(o.args, "maximum_player_session_count"),
                policy: str_of(o.args, "player_session_creation_policy").and_then(Policy::parse),
            }),
            (Op::TerminateGameSession, Outcome::Ok | Outcome::Info) => Some(Step::Terminate {
                force: str_of(o.args, "mode").is_some_and(|m| norm(m) == "FORCETERMINATE"),
            }),
            (Op::TerminateGameSession, Outcome::Fail)
                if error == Some("INVALIDGAMESESSIONSTATUS") =>
            {
                Some(Step::TerminateRefused)
            }
            (Op::DescribeGameSession, Outcome::Ok) if !stale(o) => str_of(o.value, "status")
                .and_then(Status::parse)
                .map(|status| Step::Describe {
                    status,
                    current: int_of(o.value, "current_player_session_count"),
                    max: int_of(o.value, "maximum_player_session_count"),
                    policy: str_of(o.value, "player_session_creation_policy")
                        .and_then(Policy::parse),
                }),
            (Op::DescribePlayerSession, Outcome::Ok) => {
                match (psess, str_of(o.value, "status").and_then(Ps::parse)) {
                    (Some(id), Some(status)) => Some(Step::DescribePlayer {
                        id,
                        named: named.contains(&id),
                        status,
                    }),
                    _ => None,
                }
            }
            // Other fails changed nothing and claim nothing; info reads say nothing.
            _ => None,
        };
        if let Some(step) = step {
            lin.push(LinOp {
                step,
                inv: o.invoke_ns,
                ret: o.ret_ns(),
                required: !o.is_info(),
                events: o.events(),
                label: o.label(),
            });
        }
    }
    if with_final && let Some(step) = final_step(key, facts, &mut intern) {
        lin.push(LinOp {
            step,
            inv: u64::MAX,
            ret: u64::MAX,
            required: true,
            events: Vec::new(),
            label: final_label(key, facts),
        });
    }
    lin.sort_by_key(|o| o.inv);
    lin
}

/// Whether a describe asked for a stale (follower) read.
fn stale(o: &Operation<'_>) -> bool {
    str_of(o.args, "consistency").is_some_and(|c| norm(c) == "STALE")
}

fn final_step(key: &str, facts: &Facts<'_>, intern: &mut impl FnMut(&str) -> u32) -> Option<Step> {
    let Some(g) = facts.final_gs.get(key) else {
        return Some(Step::Final {
            status: Status::Absent,
            max: None,
            held: 0,
            players: Vec::new(),
        });
    };
    let status = Status::parse(&g.status)?;
    let mut players = Vec::new();
    for p in facts.players_of.get(key).into_iter().flatten() {
        if let Some(ps) = Ps::parse(&p.status) {
            players.push((intern(&p.player_session_id), ps));
        }
    }
    Some(Step::Final {
        status,
        max: Some(g.maximum_player_session_count),
        held: facts.held(key),
        players,
    })
}

fn final_label(key: &str, facts: &Facts<'_>) -> String {
    match facts.final_gs.get(key) {
        Some(g) => format!(
            "the final state {{status: {}, max: {}, slots_used: {}}}",
            g.status,
            g.maximum_player_session_count,
            facts.held(key)
        ),
        None => "the final state (no such game session)".to_string(),
    }
}

/// Bit `i` of a linearized set.
fn has(set: &[u64], i: usize) -> bool {
    set.get(i / 64).is_some_and(|w| w & (1u64 << (i % 64)) != 0)
}

fn with(set: &[u64], i: usize) -> Vec<u64> {
    let mut s = set.to_vec();
    if let Some(w) = s.get_mut(i / 64) {
        *w |= 1u64 << (i % 64);
    }
    s
}

/// The operations that may be linearized next (acknowledged ones first, each in invoke
/// order), and the acknowledged operation that must come soonest.
fn candidates(ops: &[LinOp], set: &[u64]) -> (Vec<usize>, Option<usize>) {
    let first = (0..ops.len()).find(|&i| !has(set, i)).unwrap_or(ops.len());
    let mut min_ret = u64::MAX;
    let mut blocking = None;
    for (i, o) in ops.iter().enumerate().skip(first) {
        if o.inv > min_ret {
            // NB: ops are sorted by invoke and ret >= inv, so none further can lower it.
            break;
        }
        if o.required && !has(set, i) && (blocking.is_none() || o.ret < min_ret) {
            min_ret = o.ret;
            blocking = Some(i);
        }
    }
    let mut required = Vec::new();
    let mut optional: Vec<usize> = Vec::new();
    for (i, o) in ops.iter().enumerate().skip(first) {
        if o.inv > min_ret {
            break;
        }
        if has(set, i) {
            continue;
        }
        if o.required {
            required.push(i);
        } else if !optional
            .iter()
            .any(|&j| ops.get(j).is_some_and(|p| p.step == o.step))
        {
            // NB: info operations with equal steps are interchangeable (both can take effect
            // any time after their invoke), so only the earliest-invoked one is tried.
            optional.push(i);
        }
    }
    required.extend(optional);
    (required, blocking)
}

/// Two independent 64-bit hashes of a search state (std's SipHash has fixed keys, so this is
/// deterministic across runs).
fn fingerprint(set: &[u64], model: &Model) -> (u64, u64) {
    let hash = |salt: u8| {
        let mut h = DefaultHasher::new();
        salt.hash(&mut h);
        set.hash(&mut h);
        model.hash(&mut h);
        h.finish()
    };
    (hash(0), hash(1))
}

/// Searches for a linearization of `ops` (sorted by invoke) from an absent game session,
/// visiting at most `max_steps` states. Returns the outcome and the states visited.
pub(super) fn search(ops: &[LinOp], max_steps: u64) -> (Found, u64) {
    let words = ops.len().div_ceil(64);
    let required_total = ops.iter().filter(|o| o.required).count();
    let start = (vec![0u64; words], Model::absent());
    // NB: states are remembered by a 128-bit fingerprint, not kept whole: a million states of
    // a long game session would otherwise take gigabytes. A collision (odds about 2^-128 per
    // pair) could only hide a linearization, never invent one.
    let mut visited: HashSet<(u64, u64)> = HashSet::new();
    visited.insert(fingerprint(&start.0, &start.1));
    let mut stack: Vec<(Vec<u64>, Model, usize)> = vec![(start.0, start.1, 0)];
    let mut steps = 0u64;
    let mut deepest: Option<(usize, Vec<u64>, Model)> = None;
    while let Some((set, model, done)) = stack.pop() {
        if done >= required_total {
            return (Found::Linearizable, steps);
        }
        if steps >= max_steps {
            return (Found::Undecided, steps);
        }
        steps += 1;
        if deepest.as_ref().is_none_or(|(d, _, _)| done > *d) {
            deepest = Some((done, set.clone(), model.clone()));
        }
        let (next, _) = candidates(ops, &set);
        // Pushed in reverse so that the first candidate is tried first.
        for &c in next.iter().rev() {
            let Some(op) = ops.get(c) else { continue };
            for m in model.apply(&op.step).into_iter().rev() {
                let next_set = with(&set, c);
                if visited.insert(fingerprint(&next_set, &m)) {
                    stack.push((next_set, m, done + usize::from(op.required)));
                }
            }
        }
    }
    let (done, set, model) = deepest.unwrap_or((0, vec![0u64; words], Model::absent()));
    let (candidates, blocking) = candidates(ops, &set);
    (
        Found::NotLinearizable {
            blocking,
            candidates,
            model,
            done,
        },
        steps,
    )
}
