//! The pure replicated state machine: [`State`] and [`apply`].
//!
//! Invariant: nothing in this module does IO, reads a clock, draws random
//! numbers or lets `HashMap` iteration order reach a result. Every replica that
//! applies the same commands in the same order reaches the same state and the
//! same [`State::hash`]. The openraft state-machine store (`raft::sm_store`) is
//! a thin wrapper that feeds committed entries here.

pub mod alias;
pub mod command;
pub mod error;
pub mod fleet;
pub mod hosting;
pub mod session;
pub mod validate;

#[cfg(test)]
mod session_tests;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use alias::Alias;
pub use command::{Batch, Command, FORMAT_VERSION};
pub use error::FsmError;
pub use fleet::{Fleet, FleetSpec, FleetStatus, FleetUpdate};
pub use hosting::{Hosting, ProcessRecord, ProcessStatus};
pub use session::{GameSession, GameSessionStatus, PlayerSession, PlayerSessionStatus, Sessions};

/// How long an idempotency token is remembered.
pub const IDEMPOTENCY_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// A successful command's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Output {
    /// The fleet after the command.
    Fleet(Box<Fleet>),
    /// A game session after the command.
    GameSession(Box<GameSession>),
    /// The player sessions the command created or changed.
    PlayerSessions(Vec<PlayerSession>),
    /// An alias after the command.
    Alias(Box<Alias>),
    /// The command changed nothing visible to return (e.g. a finalized deletion).
    Done,
}

/// One command's result.
pub type CmdResult = Result<Output, FsmError>;

/// What a create with an idempotency token produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub fleet_id: String,
    pub spec: FleetSpec,
    pub at_ms: i64,
}

/// The whole replicated state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub fleets: BTreeMap<String, Fleet>,
    pub idempotency: BTreeMap<String, IdempotencyRecord>,
    /// (at_ms, token) in creation order, to expire tokens without a scan.
    pub idempotency_by_time: BTreeSet<(i64, String)>,
    /// Server processes and fleet events.
    #[serde(default)]
    pub hosting: Hosting,
    /// Game sessions and player sessions.
    #[serde(default)]
    pub sessions: Sessions,
    /// Aliases by id.
    #[serde(default)]
    pub aliases: BTreeMap<String, Alias>,
}

impl State {
    /// SHA-256 of the canonical encoding; equal states have equal hashes.
    pub fn hash(&self) -> String {
        // NB: every map here is a BTreeMap, so the JSON encoding is canonical.
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(bytes))
    }

    /// Looks a fleet up by id or ARN.
    pub fn fleet(&self, id_or_arn: &str) -> Option<&Fleet> {
        self.fleets.get(fleet_id_of(id_or_arn))
    }

    /// Fleet ids after `after` (exclusive), at most `limit`, and whether more follow.
    pub fn fleet_page(&self, after: Option<&str>, limit: usize) -> (Vec<&Fleet>, bool) {
        use std::ops::Bound;
        let start = match after {
            Some(a) => Bound::Excluded(a.to_string()),
            None => Bound::Unbounded,
        };
        let mut it = self.fleets.range((start, Bound::Unbounded)).map(|(_, f)| f);
        let page: Vec<&Fleet> = it.by_ref().take(limit).collect();
        let more = it.next().is_some();
        (page, more)
    }

    fn expire_tokens(&mut self, now_ms: i64) {
        let cutoff = now_ms.saturating_sub(IDEMPOTENCY_TTL_MS);
        while let Some((at, _)) = self.idempotency_by_time.first() {
            if *at >= cutoff {
                break;
            }
            if let Some((_, token)) = self.idempotency_by_time.pop_first() {
                self.idempotency.remove(&token);
            }
        }
    }
}

/// The fleet id inside a fleet ARN (`arn:...:fleet/fleet-...`), or the input itself.
pub fn fleet_id_of(id_or_arn: &str) -> &str {
    match id_or_arn.rsplit_once(":fleet/") {
        Some((_, id)) => id,
        None => id_or_arn,
    }
}

/// Applies a whole batch, one result per command, in order.
pub fn apply_batch(state: &mut State, batch: &Batch) -> Vec<CmdResult> {
    if batch.version > FORMAT_VERSION {
        let err = FsmError::UnsupportedVersion {
            version: batch.version,
            supported: FORMAT_VERSION,
        };
        return batch.commands.iter().map(|_| Err(err.clone())).collect();
    }
    batch.commands.iter().map(|c| apply(state, c)).collect()
}

/// Applies one command. A refused command leaves `state` unchanged.
pub fn apply(state: &mut State, cmd: &Command) -> CmdResult {
    match cmd {
        Command::CreateFleet {
            fleet_id,
            arn,
            spec,
            idempotency_token,
            at_ms,
        } => create_fleet(
            state,
            fleet_id,
            arn,
            spec,
            idempotency_token.as_deref(),
            *at_ms,
        ),
        Command::UpdateFleetAttributes { fleet_id, update } => {
            update.validate()?;
            let fleet = state
                .fleets
                .get_mut(fleet_id_of(fleet_id))
                .ok_or_else(|| FsmError::not_found("fleet", fleet_id))?;
            if fleet.is_deleting() {
                return Err(invalid_fleet_status(fleet, "update"));
            }
            fleet.apply_update(update);
            Ok(Output::Fleet(Box::new(fleet.clone())))
        }
        Command::DeleteFleet { fleet_id, at_ms } => {
            let fleet = state
                .fleets
                .get_mut(fleet_id_of(fleet_id))
                .ok_or_else(|| FsmError::not_found("fleet", fleet_id))?;
            // NB: deleting a fleet that is already DELETING succeeds, so a client
            // may retry a delete whose answer it did not get.
            if fleet.status != FleetStatus::Deleting {
                fleet.status = FleetStatus::Deleting;
                fleet.termination_time_ms = Some(*at_ms);
            }
            Ok(Output::Fleet(Box::new(fleet.clone())))
        }
        Command::UpdateRuntimeConfiguration {
            fleet_id,
            runtime_configuration,
            at_ms,
        } => {
            let fleet = live_fleet_mut(state, fleet_id, "update the runtime configuration of")?;
            let mut spec = fleet.spec.clone();
            spec.runtime_configuration = Some(runtime_configuration.clone());
            spec.validate_hosting()?;
            fleet.spec = spec;
            fleet.launch_failed = false;
            // A fleet whose processes could not start gets another chance.
            let retry = fleet.status == FleetStatus::Error;
            if retry {
                fleet.status = FleetStatus::Activating;
            }
            let (id, out) = (fleet.id.clone(), Output::Fleet(Box::new(fleet.clone())));
            if retry {
                state.hosting.record_event(
                    &id,
                    "FLEET_STATE_ACTIVATING",
                    "runtime configuration updated",
                    *at_ms,
                );
            }
            Ok(out)
        }
        Command::UpdateFleetCapacity {
            fleet_id,
            instances,
        } => {
            instances.validate()?;
            let fleet = live_fleet_mut(state, fleet_id, "update the capacity of")?;
            fleet.spec.instances = *instances;
            Ok(Output::Fleet(Box::new(fleet.clone())))
        }
        Command::AssignFleetNodes {
            fleet_id, nodes, ..
        } => {
            let fleet = fleet_mut(state, fleet_id)?;
            fleet.assigned_nodes.clone_from(nodes);
            Ok(Output::Fleet(Box::new(fleet.clone())))
        }
        Command::SetFleetStatus {
            fleet_id,
            status,
            at_ms,
        } => {
            let fleet = fleet_mut(state, fleet_id)?;
            if fleet.status == *status {
                return Ok(Output::Fleet(Box::new(fleet.clone())));
            }
            if fleet.is_deleting() && *status != FleetStatus::Terminated {
                return Err(invalid_fleet_status(fleet, "change the status of"));
            }
            fleet.status = *status;
            let (id, out) = (fleet.id.clone(), Output::Fleet(Box::new(fleet.clone())));
            let code = format!("FLEET_STATE_{}", format!("{status:?}").to_uppercase());
            state
                .hosting
                .record_event(&id, &code, &format!("fleet status is now {code}"), *at_ms);
            Ok(out)
        }
        Command::ProcessLaunched { process } => {
            let fleet = state
                .fleets
                .get(&process.fleet_id)
                .ok_or_else(|| FsmError::not_found("fleet", process.fleet_id.clone()))?;
            if fleet.is_deleting() {
                return Err(invalid_fleet_status(fleet, "launch processes for"));
            }
            if state.hosting.processes.contains_key(&process.process_id) {
                return Err(FsmError::invalid(
                    "process_id",
                    format!("{} already exists", process.process_id),
                ));
            }
            // A launch starts clean: whatever a proposer put there, a new process hosts no
            // game session and has not reported a port.
            let mut record = process.clone();
            record.game_session_id = None;
            record.sdk_port = None;
            state
                .hosting
                .processes
                .insert(record.process_id.clone(), record);
            Ok(Output::Done)
        }
        Command::ProcessReady {
            process_id,
            at_ms,
            port,
        } => {
            let p = process_mut(state, process_id)?;
            if p.status != ProcessStatus::Launching {
                return Err(FsmError::InvalidStatus {
                    kind: "process".into(),
                    message: format!("process {process_id} is {:?}, not launching", p.status),
                });
            }
            p.status = ProcessStatus::Active;
            p.ready_at_ms = Some(*at_ms);
            p.sdk_port = *port;
            let fleet_id = p.fleet_id.clone();
            if let Some(f) = state.fleets.get_mut(&fleet_id) {
                f.launch_failed = false;
            }
            Ok(Output::Done)
        }
        Command::ProcessHealthChanged {
            process_id,
            healthy,
            ..
        } => {
            process_mut(state, process_id)?.healthy = *healthy;
            Ok(Output::Done)
        }
        Command::ProcessTerminating { process_id, at_ms } => {
            process_mut(state, process_id)?.status = ProcessStatus::Terminating;
            // ProcessEnding ends the process's game session (GameLift).
            session::end_session_of_process(
                state,
                process_id,
                GameSessionStatus::Terminated,
                None,
                *at_ms,
            );
            Ok(Output::Done)
        }
        Command::ProcessEnded {
            process_id,
            event_code,
            message,
            at_ms,
        } => {
            if !state.hosting.processes.contains_key(process_id) {
                return Err(FsmError::not_found("process", process_id));
            }
            // Ended without ProcessEnding (crash, unhealthy, timeout): the session is in ERROR.
            let (status, reason) = match event_code {
                Some(_) => (
                    GameSessionStatus::Error,
                    Some(session::StatusReason::ProcessCrashed),
                ),
                None => (GameSessionStatus::Terminated, None),
            };
            session::end_session_of_process(state, process_id, status, reason, *at_ms);
            let p = state
                .hosting
                .processes
                .remove(process_id)
                .ok_or_else(|| FsmError::not_found("process", process_id))?;
            if let Some(code) = event_code {
                state
                    .hosting
                    .record_event(&p.fleet_id, code, message, *at_ms);
            }
            Ok(Output::Done)
        }
        Command::RecordFleetEvent {
            fleet_id,
            event_code,
            message,
            at_ms,
        } => {
            validate::length("event_code", event_code, 1, 64)?;
            let fleet = fleet_mut(state, fleet_id)?;
            if event_code == hosting::INVALID_PATH {
                fleet.launch_failed = true;
            }
            let id = fleet.id.clone();
            state.hosting.record_event(&id, event_code, message, *at_ms);
            Ok(Output::Done)
        }
        Command::NodeProcessesReset { node_id, at_ms } => {
            node_processes_reset(state, *node_id, *at_ms);
            Ok(Output::Done)
        }
        Command::CreateGameSession {
            game_session_id,
            process_id,
            request,
            at_ms,
        } => session::create_game_session(state, game_session_id, process_id, request, *at_ms),
        Command::ActivateGameSession {
            process_id,
            game_session_id,
            ..
        } => session::activate(state, process_id, game_session_id),
        Command::UpdateGameSession {
            game_session_id,
            process_id,
            update,
            ..
        } => session::update(state, game_session_id, process_id.as_deref(), update),
        Command::TerminateGameSession {
            game_session_id,
            mode,
            at_ms,
        } => session::terminate(state, game_session_id, *mode, *at_ms),
        Command::GameSessionActivationTimedOut {
            game_session_id,
            at_ms,
        } => Ok(session::activation_timed_out(
            state,
            game_session_id,
            *at_ms,
        )),
        Command::CreatePlayerSessions {
            game_session_id,
            players,
            at_ms,
        } => session::create_players(state, game_session_id, players, *at_ms),
        Command::AcceptPlayerSession {
            process_id,
            game_session_id,
            player_session_id,
            ..
        } => session::accept_player(state, process_id, game_session_id, player_session_id),
        Command::RemovePlayerSession {
            process_id,
            game_session_id,
            player_session_id,
            at_ms,
        } => session::remove_player(
            state,
            process_id,
            game_session_id,
            player_session_id,
            *at_ms,
        ),
        Command::TimeOutPlayerSessions {
            player_session_ids,
            at_ms,
        } => Ok(session::time_out_players(state, player_session_ids, *at_ms)),
        Command::CreateAlias {
            alias_id,
            arn,
            spec,
            at_ms,
        } => alias::create(state, alias_id, arn, spec, *at_ms),
        Command::UpdateAlias {
            alias_id,
            update,
            at_ms,
        } => alias::update(state, alias_id, update, *at_ms),
        Command::DeleteAlias { alias_id } => alias::delete(state, alias_id),
        Command::FinalizeFleetDeletion { fleet_id, .. } => {
            let fleet = state
                .fleets
                .get(fleet_id_of(fleet_id))
                .ok_or_else(|| FsmError::not_found("fleet", fleet_id))?;
            if fleet.status != FleetStatus::Deleting {
                return Err(invalid_fleet_status(fleet, "finalize deletion of"));
            }
            if state
                .hosting
                .fleet_processes(fleet.id.as_str())
                .next()
                .is_some()
            {
                return Err(invalid_fleet_status(
                    fleet,
                    "finalize deletion (processes still run) of",
                ));
            }
            let id = fleet.id.clone();
            state.fleets.remove(&id);
            state.hosting.events.remove(&id);
            Ok(Output::Done)
        }
    }
}

/// Every process of `node_id` is gone: their game sessions end in ERROR (NODE_LOST), and each
/// fleet that lost something gets one event saying what.
fn node_processes_reset(state: &mut State, node_id: u64, at_ms: i64) {
    let gone: Vec<(String, String, bool)> = state
        .hosting
        .node_processes(node_id)
        .map(|p| {
            (
                p.process_id.clone(),
                p.fleet_id.clone(),
                p.game_session_id.is_some(),
            )
        })
        .collect();
    let mut per_fleet: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (pid, fleet, has_session) in &gone {
        if *has_session {
            session::end_session_of_process(
                state,
                pid,
                GameSessionStatus::Error,
                Some(session::StatusReason::NodeLost),
                at_ms,
            );
        }
        let e = per_fleet.entry(fleet.clone()).or_default();
        e.0 += 1;
        e.1 += usize::from(*has_session);
        state.hosting.processes.remove(pid);
    }
    for (fleet, (processes, sessions)) in per_fleet {
        if state.fleets.contains_key(&fleet) && sessions > 0 {
            state.hosting.record_event(
                &fleet,
                session::NODE_LOST_EVENT,
                &format!(
                    "node {node_id} lost or restarted: {processes} server processes and {sessions} game sessions ended"
                ),
                at_ms,
            );
        }
    }
}

fn fleet_mut<'a>(state: &'a mut State, fleet_id: &str) -> Result<&'a mut Fleet, FsmError> {
    state
        .fleets
        .get_mut(fleet_id_of(fleet_id))
        .ok_or_else(|| FsmError::not_found("fleet", fleet_id))
}

fn live_fleet_mut<'a>(
    state: &'a mut State,
    fleet_id: &str,
    op: &str,
) -> Result<&'a mut Fleet, FsmError> {
    let fleet = fleet_mut(state, fleet_id)?;
    if fleet.is_deleting() {
        return Err(invalid_fleet_status(fleet, op));
    }
    Ok(fleet)
}

fn process_mut<'a>(
    state: &'a mut State,
    process_id: &str,
) -> Result<&'a mut ProcessRecord, FsmError> {
    state
        .hosting
        .processes
        .get_mut(process_id)
        .ok_or_else(|| FsmError::not_found("process", process_id))
}

fn invalid_fleet_status(fleet: &Fleet, op: &str) -> FsmError {
    FsmError::InvalidStatus {
        kind: "fleet".into(),
        message: format!(
            "cannot {op} fleet {} in status {:?}",
            fleet.id, fleet.status
        ),
    }
}

fn create_fleet(
    state: &mut State,
    fleet_id: &str,
    arn: &str,
    spec: &FleetSpec,
    token: Option<&str>,
    at_ms: i64,
) -> CmdResult {
    spec.validate()?;
    validate::fleet_id("fleet_id", fleet_id)?;
    if let Some(t) = token {
        validate::id_token("idempotency_token", t, 48)?;
    }
    // NB: expired tokens are ignored here and dropped only once the create succeeds, so a
    // refused create changes nothing.
    let cutoff = at_ms.saturating_sub(IDEMPOTENCY_TTL_MS);
    if let Some(t) = token
        && let Some(rec) = state.idempotency.get(t).filter(|r| r.at_ms >= cutoff)
    {
        if rec.spec != *spec {
            return Err(FsmError::IdempotentParameterMismatch {
                token: t.to_string(),
            });
        }
        return match state.fleets.get(&rec.fleet_id) {
            Some(f) => Ok(Output::Fleet(Box::new(f.clone()))),
            None => Err(FsmError::not_found("fleet", rec.fleet_id.clone())),
        };
    }
    if state.fleets.contains_key(fleet_id) {
        // Ids are random UUIDs; a clash means a replayed command without a token.
        return Err(FsmError::invalid(
            "fleet_id",
            format!("{fleet_id} already exists"),
        ));
    }
    if state.fleets.len() >= fleet::MAX_FLEETS {
        return Err(FsmError::LimitExceeded {
            message: format!("a cluster holds at most {} fleets", fleet::MAX_FLEETS),
        });
    }
    state.expire_tokens(at_ms);
    let fleet = Fleet {
        id: fleet_id.to_string(),
        arn: arn.to_string(),
        spec: spec.clone(),
        status: FleetStatus::New,
        creation_time_ms: at_ms,
        termination_time_ms: None,
        assigned_nodes: Default::default(),
        launch_failed: false,
    };
    state.fleets.insert(fleet.id.clone(), fleet.clone());
    if let Some(t) = token {
        state.idempotency.insert(
            t.to_string(),
            IdempotencyRecord {
                fleet_id: fleet.id.clone(),
                spec: spec.clone(),
                at_ms,
            },
        );
        state.idempotency_by_time.insert((at_ms, t.to_string()));
    }
    Ok(Output::Fleet(Box::new(fleet)))
}
