//! Node liveness as the leader sees it: every member is asked for its status
//! (`RaftPeer.LocalStatus`) about once a second (more often for short limits); a node that
//! has not answered for `node_lost_after_ms` (default [`NODE_LOST_AFTER`]) counts as lost:
//! its fleets move elsewhere and its game sessions end.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use gamefleet_proto::v1 as pb;

use crate::raft::NodeId;
use crate::raft::network::header;
use crate::server::Node;

/// How long a node may not answer before the leader treats it as lost, by default.
pub const NODE_LOST_AFTER: Duration = Duration::from_secs(5);
const PROBE_TIMEOUT: Duration = Duration::from_millis(700);

/// When each member last answered.
#[derive(Debug)]
pub struct Liveness {
    last_ok: BTreeMap<NodeId, Instant>,
    since: Option<Instant>,
    lost_after: Duration,
}

impl Default for Liveness {
    fn default() -> Self {
        Liveness::new(NODE_LOST_AFTER)
    }
}

impl Liveness {
    /// Liveness that declares a node lost after `lost_after` of silence.
    pub fn new(lost_after: Duration) -> Self {
        Liveness {
            last_ok: BTreeMap::new(),
            since: None,
            lost_after,
        }
    }

    /// How often to probe: every second, or three times per `lost_after` if that is shorter.
    pub fn probe_every(&self) -> Duration {
        (self.lost_after / 3).min(Duration::from_secs(1))
    }

    /// Asks every member (but this node) for its status, concurrently.
    pub async fn probe(&mut self, node: &Node) {
        let now = Instant::now();
        self.since.get_or_insert(now);
        let members: Vec<(NodeId, String)> = {
            let m = node.raft.metrics().borrow().clone();
            m.membership_config
                .membership()
                .nodes()
                .map(|(id, n)| (*id, n.addr.clone()))
                .collect()
        };
        let asks = members
            .into_iter()
            .filter(|(id, _)| *id != node.ident.node_id)
            .map(|(id, addr)| async move {
                let Ok(mut client) = node.peers.client(&addr) else {
                    return (id, false);
                };
                let mut req = tonic::Request::new(pb::LocalStatusRequest {
                    header: Some(header(&node.ident, id)),
                    without_state_hash: true,
                });
                req.set_timeout(PROBE_TIMEOUT);
                let ok = matches!(
                    tokio::time::timeout(PROBE_TIMEOUT, client.local_status(req)).await,
                    Ok(Ok(_))
                );
                (id, ok)
            });
        for (id, ok) in futures::future::join_all(asks).await {
            if ok {
                self.last_ok.insert(id, Instant::now());
            }
        }
    }

    /// True unless `id` has been silent for longer than the limit
    /// (measured from when this leader started probing, for nodes never heard).
    pub fn alive(&self, node: &Node, id: NodeId) -> bool {
        if id == node.ident.node_id {
            return true;
        }
        let last = self.last_ok.get(&id).copied().or(self.since);
        last.is_none_or(|t| t.elapsed() <= self.lost_after)
    }
}
