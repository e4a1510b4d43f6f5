//! The `Admin` service: cluster status (asking every member for its own view),
//! joining, adding and removing nodes. Membership changes run on the leader; a
//! follower passes them on to the leader's `Admin` service.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use gamefleet_proto::v1 as pb;
use openraft::ChangeMembers;
use pb::admin_client::AdminClient;
use pb::admin_server::Admin;
use tonic::{Request, Response, Status};

use super::error::ApiError;
use crate::config::check_host_port;
use crate::raft::network::header;
use crate::raft::{NodeId, NodeInfo};
use crate::server::Node;

/// How long a member has to answer a status request.
const STATUS_TIMEOUT: Duration = Duration::from_millis(800);

/// The operator service.
pub struct AdminService {
    pub node: Arc<Node>,
}

fn unreachable_status(id: NodeId, info: &NodeInfo, voter: bool, why: &str) -> pb::NodeStatus {
    pb::NodeStatus {
        node_id: id,
        name: info.name.clone(),
        address: info.addr.clone(),
        role: "UNREACHABLE".into(),
        voter,
        health: format!("unreachable: {why}"),
        labels: info.labels.clone().into_iter().collect(),
        ..Default::default()
    }
}

impl AdminService {
    /// The leader's Admin client, or None when this node leads.
    fn leader_admin(&self) -> Result<Option<AdminClient<tonic::transport::Channel>>, ApiError> {
        let m = self.node.raft.metrics().borrow().clone();
        match m.current_leader {
            Some(id) if id == self.node.ident.node_id => Ok(None),
            Some(id) => {
                let n = m
                    .membership_config
                    .membership()
                    .get_node(&id)
                    .ok_or_else(|| ApiError::unavailable("the leader is not in the membership"))?;
                let ch = self
                    .node
                    .peers
                    .channel(&n.addr)
                    .map_err(|s| ApiError::unavailable(s.message()))?;
                Ok(Some(AdminClient::new(ch)))
            }
            None => Err(ApiError::unavailable("no leader is known; retry")),
        }
    }

    async fn add_node_on_leader(
        &self,
        r: pb::AddNodeRequest,
    ) -> Result<pb::AddNodeResponse, ApiError> {
        let cluster_id = self.node.ident.cluster_id().unwrap_or_default();
        if !r.cluster_id.is_empty() && r.cluster_id != cluster_id {
            return Err(ApiError::WrongCluster(format!(
                "node {} belongs to cluster {}, this is cluster {cluster_id}",
                r.name, r.cluster_id
            )));
        }
        let m = self.node.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership().clone();
        for (id, info) in membership.nodes() {
            if *id == r.node_id && info.name == r.name {
                // Already a member (a restart or a retried join): nothing to do.
                return Ok(pb::AddNodeResponse {
                    cluster_id,
                    leader_id: self.node.ident.node_id,
                });
            }
            if info.name == r.name {
                return Err(ApiError::Conflict(format!(
                    "node name {:?} is already used by node {id}",
                    r.name
                )));
            }
            if *id == r.node_id {
                return Err(ApiError::Conflict(format!(
                    "node id {id} is already used by node {:?}",
                    info.name
                )));
            }
            if info.addr == r.address {
                return Err(ApiError::Conflict(format!(
                    "address {} is already used by node {:?}",
                    r.address, info.name
                )));
            }
        }
        let info = NodeInfo {
            name: r.name.clone(),
            addr: r.address.clone(),
            labels: r.labels.into_iter().collect(),
        };
        self.node
            .raft
            .add_learner(r.node_id, info, false)
            .await
            .map_err(|e| ApiError::unavailable(format!("adding learner: {e}")))?;
        tracing::info!(node_id = r.node_id, name = %r.name, addr = %r.address, "added learner");
        Ok(pb::AddNodeResponse {
            cluster_id,
            leader_id: self.node.ident.node_id,
        })
    }

    async fn remove_on_leader(&self, id: NodeId) -> Result<(), ApiError> {
        let m = self.node.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership().clone();
        let voters: BTreeSet<NodeId> = membership.voter_ids().collect();
        if voters.contains(&id) {
            if voters.len() == 1 {
                return Err(ApiError::Fsm(crate::fsm::FsmError::InvalidStatus {
                    kind: "node".into(),
                    message: "cannot remove the last voter".into(),
                }));
            }
            self.node
                .raft
                .change_membership(ChangeMembers::RemoveVoters(BTreeSet::from([id])), false)
                .await
                .map_err(|e| ApiError::unavailable(format!("removing voter: {e}")))?;
        }
        let still_there = self
            .node
            .raft
            .metrics()
            .borrow()
            .membership_config
            .membership()
            .get_node(&id)
            .is_some();
        if still_there {
            self.node
                .raft
                .change_membership(ChangeMembers::RemoveNodes(BTreeSet::from([id])), false)
                .await
                .map_err(|e| ApiError::unavailable(format!("removing node: {e}")))?;
        }
        tracing::info!(node_id = id, "removed node");
        Ok(())
    }
}

#[tonic::async_trait]
impl Admin for AdminService {
    async fn cluster_status(
        &self,
        _req: Request<pb::ClusterStatusRequest>,
    ) -> Result<Response<pb::ClusterStatusResponse>, Status> {
        let node = &self.node;
        let m = node.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership().clone();
        let voters: BTreeSet<NodeId> = membership.voter_ids().collect();
        let members: BTreeMap<NodeId, NodeInfo> =
            membership.nodes().map(|(id, n)| (*id, n.clone())).collect();
        let asks = members.iter().map(|(id, info)| {
            let voter = voters.contains(id);
            async move {
                if *id == node.ident.node_id {
                    return node.local_status(true).await;
                }
                let mut client = match node.peers.client(&info.addr) {
                    Ok(c) => c,
                    Err(e) => return unreachable_status(*id, info, voter, e.message()),
                };
                let mut req = Request::new(pb::LocalStatusRequest {
                    header: Some(header(&node.ident, *id)),
                    without_state_hash: false,
                });
                req.set_timeout(STATUS_TIMEOUT);
                match tokio::time::timeout(STATUS_TIMEOUT, client.local_status(req)).await {
                    Ok(Ok(r)) => r.into_inner(),
                    Ok(Err(s)) => unreachable_status(*id, info, voter, s.message()),
                    Err(_) => unreachable_status(*id, info, voter, "timed out"),
                }
            }
        });
        let mut nodes = futures::future::join_all(asks).await;
        if members.is_empty() {
            nodes.push(node.local_status(true).await);
        }
        let leader_id = m.current_leader.unwrap_or(0);
        let leader_name = members
            .get(&leader_id)
            .map(|n| n.name.clone())
            .unwrap_or_default();
        Ok(Response::new(pb::ClusterStatusResponse {
            cluster_id: node.ident.cluster_id().unwrap_or_default(),
            leader_id,
            leader_name,
            term: m.current_term,
            nodes,
            answered_by: node.ident.node_id,
        }))
    }

    async fn join_cluster(
        &self,
        req: Request<pb::JoinClusterRequest>,
    ) -> Result<Response<pb::JoinClusterResponse>, Status> {
        let r = req.into_inner();
        if r.member_addresses.is_empty() {
            return Err(ApiError::invalid(
                "member_addresses",
                "at least one member address is required",
            )
            .into());
        }
        for a in &r.member_addresses {
            check_host_port("member_addresses", a)
                .map_err(|e| ApiError::invalid("member_addresses", e.to_string()))?;
        }
        if let Some(c) = self.node.ident.cluster_id() {
            return Err(ApiError::Fsm(crate::fsm::FsmError::InvalidStatus {
                kind: "node".into(),
                message: format!("this node already belongs to cluster {c}"),
            })
            .into());
        }
        let cluster_id =
            crate::cluster::join(&self.node, &r.member_addresses, Duration::from_secs(10)).await?;
        Ok(Response::new(pb::JoinClusterResponse {
            cluster_id,
            node_id: self.node.ident.node_id,
        }))
    }

    async fn add_node(
        &self,
        req: Request<pb::AddNodeRequest>,
    ) -> Result<Response<pb::AddNodeResponse>, Status> {
        let r = req.into_inner();
        if r.node_id == 0 {
            return Err(ApiError::invalid("node_id", "must not be 0").into());
        }
        if r.name.is_empty() || r.name.len() > 63 {
            return Err(ApiError::invalid("name", "must be 1-63 characters").into());
        }
        check_host_port("address", &r.address)
            .map_err(|e| ApiError::invalid("address", e.to_string()))?;
        if self.node.ident.cluster_id().is_none() {
            return Err(ApiError::unavailable("this node has not joined a cluster yet").into());
        }
        match self.leader_admin()? {
            None => Ok(Response::new(self.add_node_on_leader(r).await?)),
            Some(mut leader) => leader.add_node(r).await,
        }
    }

    async fn remove_node(
        &self,
        req: Request<pb::RemoveNodeRequest>,
    ) -> Result<Response<pb::RemoveNodeResponse>, Status> {
        let r = req.into_inner();
        let membership = self
            .node
            .raft
            .metrics()
            .borrow()
            .membership_config
            .membership()
            .clone();
        let id = membership
            .nodes()
            .find(|(id, n)| n.name == r.node || id.to_string() == r.node)
            .map(|(id, _)| *id)
            .ok_or_else(|| {
                ApiError::Fsm(crate::fsm::FsmError::not_found("node", r.node.clone()))
            })?;
        match self.leader_admin()? {
            None => {
                self.remove_on_leader(id).await?;
                Ok(Response::new(pb::RemoveNodeResponse { node_id: id }))
            }
            Some(mut leader) => {
                leader
                    .remove_node(pb::RemoveNodeRequest {
                        node: id.to_string(),
                    })
                    .await
            }
        }
    }
}
