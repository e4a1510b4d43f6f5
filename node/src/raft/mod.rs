//! openraft glue: the type configuration, the sled-backed log store and
//! state-machine store, the gRPC network, and the group-commit proposer.
//!
//! Boundary: this is the only module that knows openraft's storage and network
//! traits. The state machine logic itself lives in `fsm` and stays pure.

pub mod log_store;
pub mod network;
pub mod proposer;
pub mod sm_store;

use std::collections::BTreeMap;
use std::io::Cursor;

use serde::{Deserialize, Serialize};

use crate::fsm::{Batch, CmdResult};

/// A node's id in the Raft group: random, chosen at the node's first start.
pub type NodeId = u64;

/// What every member knows about every other member (stored in the membership).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Unique, human-chosen node name.
    pub name: String,
    /// Advertised gRPC address (host:port) of the node.
    pub addr: String,
    /// Labels such as `location`, used to place fleets later.
    pub labels: BTreeMap<String, String>,
}

impl std::fmt::Display for NodeInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.name, self.addr)
    }
}

openraft::declare_raft_types!(
    /// gamefleet's openraft type configuration.
    pub TypeConfig:
        D = Batch,
        R = Vec<CmdResult>,
        NodeId = NodeId,
        Node = NodeInfo,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

/// The Raft handle.
pub type Raft = openraft::Raft<TypeConfig>;
/// openraft's log id.
pub type LogId = openraft::LogId<NodeId>;
/// openraft's storage error.
pub type StorageError = openraft::StorageError<NodeId>;
/// Stored membership.
pub type StoredMembership = openraft::StoredMembership<NodeId, NodeInfo>;
/// Snapshot metadata.
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, NodeInfo>;
/// Raft metrics.
pub type RaftMetrics = openraft::RaftMetrics<NodeId, NodeInfo>;

/// Runs a blocking sled call (flushes above all) off the async workers.
///
/// NB: sled 0.34.7's `flush_async` deadlocks when called concurrently
/// (spacejam/sled#1308), so every flush in gamefleet is a synchronous
/// `flush()` inside `spawn_blocking`.
pub(crate) async fn blocking<T, F>(f: F) -> std::io::Result<T>
where
    F: FnOnce() -> std::io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(std::io::Error::other)?
}
