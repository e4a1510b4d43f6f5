//! Cluster formation: bootstrapping the first node, joining through any member,
//! and checking that a restarted node's data dir belongs to the cluster it is
//! pointed at.

pub mod identity;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use gamefleet_proto::v1 as pb;
use pb::admin_client::AdminClient;

use crate::api::error::ApiError;
use crate::raft::NodeInfo;
use crate::server::Node;

/// Makes this node the first member of a new cluster.
///
/// NB: Raft is initialized before the cluster id is stored. A crash in between
/// leaves an initialized node without a cluster id, which `recover_cluster_id`
/// repairs at the next start; the reverse order would leave a node that thinks
/// it belongs to a cluster that never formed.
pub async fn bootstrap(node: &Node) -> anyhow::Result<String> {
    let me = NodeInfo {
        name: node.ident.name.clone(),
        addr: node.config.advertise.clone(),
        labels: node.config.labels.clone(),
    };
    match node
        .raft
        .initialize(BTreeMap::from([(node.ident.node_id, me)]))
        .await
    {
        Ok(()) => {}
        Err(openraft::error::RaftError::APIError(
            openraft::error::InitializeError::NotAllowed(_),
        )) => {}
        Err(e) => anyhow::bail!("initializing raft: {e}"),
    }
    let cluster_id = uuid::Uuid::new_v4().to_string();
    node.ident.set_cluster_id(&cluster_id)?;
    tracing::info!(%cluster_id, "bootstrapped a new cluster");
    Ok(cluster_id)
}

/// Gives an initialized node without a cluster id (a crash during bootstrap) one.
pub async fn recover_cluster_id(node: &Node) -> anyhow::Result<()> {
    if node.ident.cluster_id().is_none() && node.raft.is_initialized().await? {
        let cluster_id = uuid::Uuid::new_v4().to_string();
        node.ident.set_cluster_id(&cluster_id)?;
        tracing::warn!(%cluster_id, "bootstrap was interrupted; assigned a cluster id");
    }
    Ok(())
}

/// Asks the members at `addrs` (any of them) to add this node, and records the
/// cluster id. Definitive refusals (duplicate name, other cluster) end at once;
/// unreachable members are retried until `timeout`.
pub async fn join(node: &Node, addrs: &[String], timeout: Duration) -> Result<String, ApiError> {
    let deadline = Instant::now() + timeout;
    let req = pb::AddNodeRequest {
        node_id: node.ident.node_id,
        name: node.ident.name.clone(),
        address: node.config.advertise.clone(),
        labels: node.config.labels.clone().into_iter().collect(),
        cluster_id: node.ident.cluster_id().unwrap_or_default(),
    };
    let mut last = String::from("no member answered");
    loop {
        for addr in addrs {
            let ch = match node.peers.channel(addr) {
                Ok(c) => c,
                Err(s) => {
                    last = format!("{addr}: {}", s.message());
                    continue;
                }
            };
            let mut r = tonic::Request::new(req.clone());
            r.set_timeout(Duration::from_secs(3));
            match AdminClient::new(ch).add_node(r).await {
                Ok(resp) => {
                    let cluster_id = resp.into_inner().cluster_id;
                    if let Some(mine) = node.ident.cluster_id() {
                        if mine != cluster_id {
                            return Err(ApiError::WrongCluster(format!(
                                "data dir belongs to cluster {mine}, but {addr} is in cluster {cluster_id}"
                            )));
                        }
                    } else {
                        node.ident
                            .set_cluster_id(&cluster_id)
                            .map_err(|e| ApiError::Internal(e.to_string()))?;
                    }
                    tracing::info!(%cluster_id, via = %addr, "joined the cluster");
                    return Ok(cluster_id);
                }
                Err(s) => match s.code() {
                    tonic::Code::Aborted => {
                        return Err(ApiError::Conflict(s.message().to_string()));
                    }
                    tonic::Code::FailedPrecondition => {
                        return Err(ApiError::WrongCluster(s.message().to_string()));
                    }
                    tonic::Code::InvalidArgument => {
                        return Err(ApiError::invalid("join", s.message()));
                    }
                    _ => last = format!("{addr}: {}", s.message()),
                },
            }
        }
        if Instant::now() >= deadline {
            return Err(ApiError::unavailable(format!(
                "could not join through {} within {}s: {last}",
                addrs.join(", "),
                timeout.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// For a node that already belongs to a cluster and was given `--join`: checks
/// that the members it names are of the same cluster. Unreachable members are
/// not an error (the node may be needed to restore quorum).
pub async fn check_same_cluster(node: &Node, addrs: &[String]) -> anyhow::Result<()> {
    let Some(mine) = node.ident.cluster_id() else {
        return Ok(());
    };
    for addr in addrs {
        if *addr == node.config.advertise {
            continue;
        }
        let Ok(ch) = node.peers.channel(addr) else {
            continue;
        };
        let mut r = tonic::Request::new(pb::ClusterStatusRequest {});
        r.set_timeout(Duration::from_secs(3));
        if let Ok(resp) = AdminClient::new(ch).cluster_status(r).await {
            let theirs = resp.into_inner().cluster_id;
            if !theirs.is_empty() && theirs != mine {
                anyhow::bail!(
                    "data dir {} belongs to cluster {mine}, but --join member {addr} is in cluster {theirs}",
                    node.config.data_dir.display()
                );
            }
            return Ok(());
        }
    }
    Ok(())
}
