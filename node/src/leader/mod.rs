//! Leader-only loops. They read the replicated state and the Raft metrics and
//! propose commands or membership changes; followers run none of this.
//!
//! - Promotion: learners that have caught up become voters until the cluster
//!   has the configured number of voters (3 or 5); further nodes stay learners.
//! - Fleet placement: fleets with a runtime configuration are assigned to
//!   nodes (`assign`), moved off lost nodes (`liveness`), and their status
//!   follows their processes (`status`).
//! - Fleet deletion: DELETING fleets are finalized once no process runs.
//! - Session deadlines and node loss (`sessions`): activation and reservation timeouts, and
//!   the game sessions of lost nodes.

pub mod assign;
pub mod liveness;
pub mod sessions;
pub mod status;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use openraft::{ChangeMembers, ServerState};
use tokio_util::sync::CancellationToken;

use crate::api::now_ms;
use crate::fsm::{Command, FleetStatus};
use crate::raft::NodeId;
use crate::server::Node;

/// A learner within this many entries of the leader's log counts as caught up.
const CAUGHT_UP: u64 = 100;
const TICK: Duration = Duration::from_millis(300);

/// Runs the leader loops until `stop` is cancelled.
pub async fn run(node: Arc<Node>, stop: CancellationToken) {
    let mut tick = tokio::time::interval(TICK);
    let mut liveness: Option<liveness::Liveness> = None;
    let mut last_probe = std::time::Instant::now();
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        if node.raft.metrics().borrow().state != ServerState::Leader {
            // Liveness restarts from scratch on the next leadership.
            liveness = None;
            continue;
        }
        if let Err(e) = promote(&node).await {
            tracing::debug!("promotion: {e}");
        }
        let live = liveness.get_or_insert_with(|| {
            liveness::Liveness::new(Duration::from_millis(
                node.config.hosting.node_lost_after_ms,
            ))
        });
        if last_probe.elapsed() >= live.probe_every() {
            live.probe(&node).await;
            last_probe = std::time::Instant::now();
        }
        place_fleets(&node, live).await;
        sessions::expire(&node).await;
        sessions::reap_lost_nodes(&node, live).await;
        finalize_deletions(&node).await;
    }
}

async fn place_fleets(node: &Node, live: &liveness::Liveness) {
    let (changes, statuses) = {
        let m = node.raft.metrics().borrow().clone();
        let views: BTreeMap<u64, assign::NodeView> = m
            .membership_config
            .membership()
            .nodes()
            .map(|(id, n)| {
                (
                    *id,
                    assign::NodeView {
                        location: n.labels.get("location").cloned(),
                        alive: live.alive(node, *id),
                    },
                )
            })
            .collect();
        let st = node.read_state();
        let changes = assign::plan(&st.state.fleets, &views);
        let statuses: Vec<(String, crate::fsm::FleetStatus)> = st
            .state
            .fleets
            .values()
            .filter_map(|f| status::next_status(f, &st.state.hosting).map(|s| (f.id.clone(), s)))
            .collect();
        (changes, statuses)
    };
    for (fleet_id, nodes) in changes {
        tracing::info!(%fleet_id, ?nodes, "assigning fleet");
        let cmd = Command::AssignFleetNodes {
            fleet_id,
            nodes,
            at_ms: now_ms(),
        };
        if let Err(e) = node.proposer.propose(cmd).await {
            tracing::debug!("assigning: {e}");
        }
    }
    for (fleet_id, status) in statuses {
        let cmd = Command::SetFleetStatus {
            fleet_id,
            status,
            at_ms: now_ms(),
        };
        if let Err(e) = node.proposer.propose(cmd).await {
            tracing::debug!("fleet status: {e}");
        }
    }
}

/// The learner to promote next, if the cluster needs a voter and one is ready.
pub fn learner_to_promote(
    voters: &BTreeSet<NodeId>,
    learners: &[NodeId],
    matched: &dyn Fn(NodeId) -> Option<u64>,
    last_log: u64,
    target: usize,
) -> Option<NodeId> {
    if voters.len() >= target {
        return None;
    }
    learners
        .iter()
        .copied()
        .find(|id| matched(*id).is_some_and(|m| m + CAUGHT_UP >= last_log))
}

async fn promote(node: &Node) -> anyhow::Result<()> {
    let m = node.raft.metrics().borrow().clone();
    let membership = m.membership_config.membership();
    if membership.get_joint_config().len() > 1 {
        // A change is in flight; finishing it comes first.
        return Ok(());
    }
    let voters: BTreeSet<NodeId> = membership.voter_ids().collect();
    let learners: Vec<NodeId> = membership.learner_ids().collect();
    let replication = m.replication.clone().unwrap_or_default();
    let matched = |id: NodeId| replication.get(&id).and_then(|l| l.map(|l| l.index));
    let last_log = m.last_log_index.unwrap_or(0);
    let target = usize::try_from(node.config.voters).unwrap_or(3);
    if let Some(id) = learner_to_promote(&voters, &learners, &matched, last_log, target) {
        tracing::info!(node_id = id, "promoting learner to voter");
        node.raft
            .change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), true)
            .await?;
    }
    Ok(())
}

async fn finalize_deletions(node: &Node) {
    let deleting: Vec<String> = {
        let st = node.read_state();
        st.state
            .fleets
            .values()
            .filter(|f| f.status == FleetStatus::Deleting)
            .filter(|f| st.state.hosting.fleet_processes(&f.id).next().is_none())
            .map(|f| f.id.clone())
            .collect()
    };
    for fleet_id in deleting {
        // Hosting (a later issue) waits here until no process of the fleet runs.
        let cmd = Command::FinalizeFleetDeletion {
            fleet_id: fleet_id.clone(),
            at_ms: now_ms(),
        };
        if let Err(e) = node.proposer.propose(cmd).await {
            tracing::debug!(%fleet_id, "finalizing deletion: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promotes_only_caught_up_learners_up_to_the_target() {
        let voters = BTreeSet::from([1, 2]);
        let matched = |id: NodeId| match id {
            3 => Some(10),
            4 => Some(990),
            _ => None,
        };
        assert_eq!(
            learner_to_promote(&voters, &[3, 4, 5], &matched, 1000, 3),
            Some(4)
        );
        assert_eq!(
            learner_to_promote(&voters, &[3, 5], &matched, 1000, 3),
            None
        );
        let three = BTreeSet::from([1, 2, 6]);
        assert_eq!(learner_to_promote(&three, &[4], &matched, 1000, 3), None);
        assert_eq!(learner_to_promote(&three, &[4], &matched, 1000, 5), Some(4));
    }
}
