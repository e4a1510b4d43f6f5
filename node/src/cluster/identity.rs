//! The node's identity: its random node id, its name and the id of the cluster
//! it belongs to, persisted in sled tree `node` so a restarted node knows who it
//! is without being told again.

use std::sync::RwLock;

use serde::{Deserialize, Serialize};

use crate::raft::NodeId;

const KEY: &[u8] = b"identity";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    node_id: NodeId,
    name: String,
    cluster_id: Option<String>,
}

/// Who this node is. `cluster_id` is empty until the node bootstraps or joins.
#[derive(Debug)]
pub struct Identity {
    pub node_id: NodeId,
    pub name: String,
    cluster_id: RwLock<Option<String>>,
    tree: sled::Tree,
}

/// Why the data directory cannot be used by this node.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("data dir belongs to node {stored:?}, but this node is configured as {configured:?}")]
    NameMismatch { stored: String, configured: String },
    #[error("reading the node identity: {0}")]
    Storage(String),
}

impl Identity {
    /// Loads the identity from `db`, or creates one with a fresh random id.
    pub fn load_or_create(db: &sled::Db, name: &str) -> Result<Identity, IdentityError> {
        let st = |e: &dyn std::fmt::Display| IdentityError::Storage(e.to_string());
        let tree = db.open_tree("node").map_err(|e| st(&e))?;
        let stored = match tree.get(KEY).map_err(|e| st(&e))? {
            Some(bytes) => {
                let s: Stored = serde_json::from_slice(&bytes).map_err(|e| st(&e))?;
                if s.name != name {
                    return Err(IdentityError::NameMismatch {
                        stored: s.name,
                        configured: name.to_string(),
                    });
                }
                s
            }
            None => {
                // Never 0: openraft and our status API use 0 for "none".
                let node_id = rand::random::<u64>().max(1);
                let s = Stored {
                    node_id,
                    name: name.to_string(),
                    cluster_id: None,
                };
                tree.insert(KEY, serde_json::to_vec(&s).map_err(|e| st(&e))?)
                    .map_err(|e| st(&e))?;
                db.flush().map_err(|e| st(&e))?;
                s
            }
        };
        Ok(Identity {
            node_id: stored.node_id,
            name: stored.name,
            cluster_id: RwLock::new(stored.cluster_id),
            tree,
        })
    }

    /// The cluster this node belongs to, if it has bootstrapped or joined one.
    pub fn cluster_id(&self) -> Option<String> {
        self.cluster_id
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Records (durably) the cluster this node now belongs to.
    pub fn set_cluster_id(&self, id: &str) -> Result<(), IdentityError> {
        let st = |e: &dyn std::fmt::Display| IdentityError::Storage(e.to_string());
        let s = Stored {
            node_id: self.node_id,
            name: self.name.clone(),
            cluster_id: Some(id.to_string()),
        };
        self.tree
            .insert(KEY, serde_json::to_vec(&s).map_err(|e| st(&e))?)
            .map_err(|e| st(&e))?;
        self.tree.flush().map_err(|e| st(&e))?;
        *self.cluster_id.write().unwrap_or_else(|p| p.into_inner()) = Some(id.to_string());
        Ok(())
    }
}
