//! Game session placement: which ready server process gets a new game session. A pure
//! function of the applied state and the processes already claimed by placements in flight;
//! only the leader calls it, and its choice travels in the log
//! (`Command::CreateGameSession::process_id`), so every replica applies the same outcome.
//!
//! Rules, in order:
//! 1. the fleet exists and is ACTIVE;
//! 2. candidates are the fleet's processes that are ACTIVE (called ProcessReady), healthy,
//!    host no game session and are not claimed, at the requested location if one is given;
//! 3. a node already running `MaxConcurrentGameSessionActivations` ACTIVATING sessions of the
//!    fleet (claims count as activating) takes no more for now;
//! 4. among the remaining nodes the fleet's strategy picks one: PACK the node hosting the most
//!    of the fleet's sessions (fills nodes one by one), SPREAD the one hosting the fewest;
//!    ties go to the lower node id. On that node the process with the lowest id wins.
//!
//! No candidate: `FleetCapacityExceeded` at once, with the reason.

use std::collections::BTreeMap;

use crate::fsm::fleet::PlacementStrategy;
use crate::fsm::session::{GameSessionRequest, active_fleet};
use crate::fsm::{FsmError, GameSessionStatus, ProcessStatus, State};

/// Processes picked by placements not yet applied: process id → node id.
pub type Claims = BTreeMap<String, u64>;

#[derive(Default)]
struct NodeLoad<'a> {
    busy: usize,
    activating: usize,
    free: Option<&'a str>,
}

/// Picks the process for a new game session (see the module docs).
pub fn place(
    state: &State,
    request: &GameSessionRequest,
    claims: &Claims,
) -> Result<String, FsmError> {
    let fleet = active_fleet(state, &request.fleet_id)?;
    let max_activating = fleet
        .spec
        .runtime_configuration
        .as_ref()
        .and_then(|rc| rc.max_concurrent_game_session_activations)
        .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let mut nodes: BTreeMap<u64, NodeLoad> = BTreeMap::new();
    let (mut ready, mut at_location) = (0usize, 0usize);
    for p in state.hosting.fleet_processes(&fleet.id) {
        let load = nodes.entry(p.node_id).or_default();
        let claimed = claims.contains_key(&p.process_id);
        let session = p
            .game_session_id
            .as_ref()
            .and_then(|id| state.sessions.get(id));
        if claimed || session.is_some() {
            load.busy += 1;
        }
        if claimed || session.is_some_and(|s| s.status == GameSessionStatus::Activating) {
            load.activating += 1;
        }
        if p.status != ProcessStatus::Active || !p.healthy {
            continue;
        }
        ready += 1;
        if let Some(loc) = &request.location
            && p.location.as_deref() != Some(loc.as_str())
        {
            continue;
        }
        at_location += 1;
        if !claimed && p.game_session_id.is_none() && load.free.is_none() {
            // NB: processes come in id order, so the first free one is the lowest id.
            load.free = Some(&p.process_id);
        }
    }
    let eligible = nodes
        .iter()
        .filter(|(_, l)| l.free.is_some() && l.activating < max_activating);
    let best = match fleet.spec.placement_strategy {
        PlacementStrategy::Pack => {
            eligible.max_by(|a, b| a.1.busy.cmp(&b.1.busy).then(b.0.cmp(a.0)))
        }
        PlacementStrategy::Spread => {
            eligible.min_by(|a, b| a.1.busy.cmp(&b.1.busy).then(a.0.cmp(b.0)))
        }
    };
    if let Some(p) = best.and_then(|(_, l)| l.free) {
        return Ok(p.to_string());
    }
    let why = if ready == 0 {
        "no server process is ready (ACTIVE and healthy)".to_string()
    } else if at_location == 0 {
        format!(
            "no ready server process at location {}",
            request.location.as_deref().unwrap_or_default()
        )
    } else if nodes.values().any(|l| l.free.is_some()) {
        format!(
            "every node with a free process already activates {max_activating} game sessions (max_concurrent_game_session_activations)"
        )
    } else {
        format!("all {at_location} ready server processes host a game session")
    };
    Err(FsmError::FleetCapacityExceeded {
        message: format!("fleet {}: {why}", fleet.id),
    })
}

#[cfg(test)]
mod tests;
