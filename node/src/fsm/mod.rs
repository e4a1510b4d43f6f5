//! The pure replicated state machine: [`State`] and [`apply`].
//!
//! Invariant: nothing in this module does IO, reads a clock, draws random
//! numbers or lets `HashMap` iteration order reach a result. Every replica that
//! applies the same commands in the same order reaches the same state and the
//! same [`State::hash`]. The openraft state-machine store (`raft::sm_store`) is
//! a thin wrapper that feeds committed entries here.

pub mod command;
pub mod error;
pub mod fleet;
pub mod validate;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use command::{Batch, Command, FORMAT_VERSION};
pub use error::FsmError;
pub use fleet::{Fleet, FleetSpec, FleetStatus, FleetUpdate};

/// How long an idempotency token is remembered.
pub const IDEMPOTENCY_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// A successful command's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Output {
    /// The fleet after the command.
    Fleet(Fleet),
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
            Ok(Output::Fleet(fleet.clone()))
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
            Ok(Output::Fleet(fleet.clone()))
        }
        Command::FinalizeFleetDeletion { fleet_id, .. } => {
            let fleet = state
                .fleets
                .get(fleet_id_of(fleet_id))
                .ok_or_else(|| FsmError::not_found("fleet", fleet_id))?;
            if fleet.status != FleetStatus::Deleting {
                return Err(invalid_fleet_status(fleet, "finalize deletion of"));
            }
            state.fleets.remove(fleet_id_of(fleet_id));
            Ok(Output::Done)
        }
    }
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
    state.expire_tokens(at_ms);
    if let Some(t) = token
        && let Some(rec) = state.idempotency.get(t)
    {
        if rec.spec != *spec {
            return Err(FsmError::IdempotentParameterMismatch {
                token: t.to_string(),
            });
        }
        return match state.fleets.get(&rec.fleet_id) {
            Some(f) => Ok(Output::Fleet(f.clone())),
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
    let fleet = Fleet {
        id: fleet_id.to_string(),
        arn: arn.to_string(),
        spec: spec.clone(),
        status: FleetStatus::New,
        creation_time_ms: at_ms,
        termination_time_ms: None,
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
    Ok(Output::Fleet(fleet))
}
