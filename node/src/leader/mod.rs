//! Leader-only loops. They read the replicated state and the Raft metrics and
//! propose commands or membership changes; followers run none of this.
//!
//! - Promotion: learners that have caught up become voters until the cluster
//!   has the configured number of voters (3 or 5); further nodes stay learners.
//! - Fleet deletion: DELETING fleets are finalized (removed).

use std::collections::BTreeSet;
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
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        if node.raft.metrics().borrow().state != ServerState::Leader {
            continue;
        }
        if let Err(e) = promote(&node).await {
            tracing::debug!("promotion: {e}");
        }
        finalize_deletions(&node).await;
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
