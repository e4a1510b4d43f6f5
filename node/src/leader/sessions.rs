//! Leader deadlines of game and player sessions (DESIGN.md decision 5: followers never act on
//! their own clock; the leader proposes the outcome as a command).
//!
//! - A game session still ACTIVATING past its fleet's `GameSessionActivationTimeoutSeconds`
//!   (default 600) → `GameSessionActivationTimedOut` (TERMINATED, event
//!   GAME_SESSION_ACTIVATION_TIMEOUT, the process is recycled).
//! - A player session still RESERVED `player_session_timeout_s` (default 60) after its
//!   creation → `TimeOutPlayerSessions` (TIMEDOUT, the slot is free again).
//! - A node the leader has not heard from for `node_lost_after_ms` (default 5 s) that still
//!   has processes in the state, or a node that is no longer a member → `NodeProcessesReset`
//!   (its game sessions end in ERROR with reason NODE_LOST, their players complete). A node
//!   that comes back kills the processes the state no longer lists (supervisor orphans).

use std::collections::BTreeSet;

use super::liveness::Liveness;
use crate::api::now_ms;
use crate::fsm::Command;
use crate::fsm::session::{DEFAULT_ACTIVATION_TIMEOUT_S, GameSessionStatus};
use crate::server::Node;

/// Most player sessions timed out by one command.
const MAX_TIMEOUTS_PER_COMMAND: usize = 1000;

/// Proposes the activation and reservation timeouts that are due.
pub async fn expire(node: &Node) {
    let now = now_ms();
    let reservation_ms = i64::try_from(
        node.config
            .hosting
            .player_session_timeout_s
            .saturating_mul(1000),
    )
    .unwrap_or(i64::MAX);
    let (activations, reservations) = {
        let st = node.read_state();
        let s = &st.state;
        let activations: Vec<String> = s
            .sessions
            .live
            .iter()
            .filter_map(|id| s.sessions.get(id))
            .filter(|g| g.status == GameSessionStatus::Activating)
            .filter(|g| {
                let timeout_s = s
                    .fleets
                    .get(&g.fleet_id)
                    .and_then(|f| f.spec.runtime_configuration.as_ref())
                    .and_then(|rc| rc.game_session_activation_timeout_seconds)
                    .unwrap_or(DEFAULT_ACTIVATION_TIMEOUT_S);
                g.creation_time_ms + i64::from(timeout_s) * 1000 <= now
            })
            .map(|g| g.id.clone())
            .collect();
        let reservations: Vec<String> = s
            .sessions
            .reserved
            .iter()
            .take_while(|(created, _)| created.saturating_add(reservation_ms) <= now)
            .take(MAX_TIMEOUTS_PER_COMMAND)
            .map(|(_, id)| id.clone())
            .collect();
        (activations, reservations)
    };
    for game_session_id in activations {
        tracing::info!(%game_session_id, "game session activation timed out");
        let cmd = Command::GameSessionActivationTimedOut {
            game_session_id,
            at_ms: now,
        };
        if let Err(e) = node.proposer.propose(cmd).await {
            tracing::debug!("activation timeout: {e}");
        }
    }
    if !reservations.is_empty() {
        tracing::debug!(
            count = reservations.len(),
            "player session reservations timed out"
        );
        let cmd = Command::TimeOutPlayerSessions {
            player_session_ids: reservations,
            at_ms: now,
        };
        if let Err(e) = node.proposer.propose(cmd).await {
            tracing::debug!("reservation timeout: {e}");
        }
    }
}

/// Proposes `NodeProcessesReset` for lost nodes that still hold processes.
pub async fn reap_lost_nodes(node: &Node, live: &Liveness) {
    let members: BTreeSet<u64> = {
        let m = node.raft.metrics().borrow().clone();
        m.membership_config
            .membership()
            .nodes()
            .map(|(id, _)| *id)
            .collect()
    };
    let lost: BTreeSet<u64> = {
        let st = node.read_state();
        st.state
            .hosting
            .processes
            .values()
            .map(|p| p.node_id)
            .filter(|id| !members.contains(id) || !live.alive(node, *id))
            .collect()
    };
    for node_id in lost {
        tracing::warn!(node_id, "node lost: ending its processes and game sessions");
        let cmd = Command::NodeProcessesReset {
            node_id,
            at_ms: now_ms(),
        };
        if let Err(e) = node.proposer.propose(cmd).await {
            tracing::debug!(node_id, "node loss: {e}");
        }
    }
}
