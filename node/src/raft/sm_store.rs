//! The state-machine store: the in-memory [`fsm::State`](crate::fsm::State)
//! plus its latest snapshot, persisted in sled tree `raft_snapshot`.
//!
//! The state is kept in memory and rebuilt at start from the last snapshot;
//! openraft then re-applies the committed log entries after it (the log store
//! persists `committed`). Invariant: installing a snapshot replaces the whole
//! state, never merges into it.

use std::io::Cursor;
use std::sync::{Arc, RwLock};

use openraft::storage::{RaftSnapshotBuilder, RaftStateMachine, Snapshot};
use openraft::{Entry, EntryPayload, StorageIOError};
use serde::{Deserialize, Serialize};

use super::{LogId, SnapshotMeta, StorageError, StoredMembership, TypeConfig, blocking};
use crate::fsm::{self, CmdResult, State};

const META: &[u8] = b"meta";
const DATA: &[u8] = b"data";

/// What the state machine holds, shared read-only with the API handlers.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SmData {
    pub last_applied: Option<LogId>,
    pub last_membership: StoredMembership,
    pub state: State,
}

/// A snapshot as persisted: its metadata (JSON, key `meta`) and the encoded
/// [`SmData`] (key `data`), written together in one atomic batch.
struct StoredSnapshot {
    meta: SnapshotMeta,
    data: Vec<u8>,
}

fn load(tree: &sled::Tree) -> std::io::Result<Option<StoredSnapshot>> {
    let (Some(meta), Some(data)) = (tree.get(META).map_err(io)?, tree.get(DATA).map_err(io)?)
    else {
        return Ok(None);
    };
    let meta = serde_json::from_slice(&meta).map_err(io)?;
    Ok(Some(StoredSnapshot {
        meta,
        data: data.to_vec(),
    }))
}

/// Shared handle to the applied state. Readers take the lock briefly and never
/// across an `.await` (so a std `RwLock` is right).
pub type SharedState = Arc<RwLock<SmData>>;

/// The openraft state-machine store.
#[derive(Clone)]
pub struct SmStore {
    data: SharedState,
    db: sled::Db,
    snapshots: sled::Tree,
    snapshot_seq: Arc<std::sync::atomic::AtomicU64>,
    /// Counts applied batches; subscribers wake on every change.
    applied: Arc<tokio::sync::watch::Sender<u64>>,
}

fn io(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl SmStore {
    /// Opens the store and loads the last snapshot, if any, as the state.
    pub fn open(db: &sled::Db) -> std::io::Result<Self> {
        let snapshots = db.open_tree("raft_snapshot").map_err(io)?;
        let data = match load(&snapshots)? {
            Some(snap) => serde_json::from_slice(&snap.data).map_err(io)?,
            None => SmData::default(),
        };
        Ok(SmStore {
            data: Arc::new(RwLock::new(data)),
            db: db.clone(),
            snapshots,
            snapshot_seq: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            applied: Arc::new(tokio::sync::watch::Sender::new(0)),
        })
    }

    /// Wakes on every apply (and snapshot install): for node-local reactions to the state.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.applied.subscribe()
    }

    /// The shared applied state, for reads.
    pub fn shared(&self) -> SharedState {
        self.data.clone()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, SmData> {
        // NB: a poisoned lock means a reader panicked; the data itself is intact.
        self.data.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, SmData> {
        self.data.write().unwrap_or_else(|p| p.into_inner())
    }

    async fn persist(&self, snap: &StoredSnapshot) -> std::io::Result<()> {
        let mut batch = sled::Batch::default();
        batch.insert(META, serde_json::to_vec(&snap.meta).map_err(io)?);
        batch.insert(DATA, snap.data.clone());
        let (tree, db) = (self.snapshots.clone(), self.db.clone());
        blocking(move || {
            tree.apply_batch(batch).map_err(io)?;
            db.flush().map_err(io)?;
            Ok(())
        })
        .await
    }
}

impl RaftSnapshotBuilder<TypeConfig> for SmStore {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let (bytes, last_applied, membership) = {
            let d = self.read();
            let bytes =
                serde_json::to_vec(&*d).map_err(|e| StorageIOError::read_state_machine(&e))?;
            (bytes, d.last_applied, d.last_membership.clone())
        };
        let seq = self
            .snapshot_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let snapshot_id = match last_applied {
            Some(l) => format!("{}-{}-{}", l.leader_id.term, l.index, seq),
            None => format!("none-{seq}"),
        };
        let meta = SnapshotMeta {
            last_log_id: last_applied,
            last_membership: membership,
            snapshot_id,
        };
        let stored = StoredSnapshot {
            meta: meta.clone(),
            data: bytes,
        };
        self.persist(&stored)
            .await
            .map_err(|e| StorageIOError::write_snapshot(Some(meta.signature()), &e))?;
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(stored.data)),
        })
    }
}

impl RaftStateMachine<TypeConfig> for SmStore {
    type SnapshotBuilder = SmStore;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let d = self.read();
        Ok((d.last_applied, d.last_membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Vec<CmdResult>>, StorageError>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut d = self.write();
        let mut out = Vec::new();
        for entry in entries {
            d.last_applied = Some(entry.log_id);
            match entry.payload {
                EntryPayload::Blank => out.push(Vec::new()),
                EntryPayload::Normal(batch) => out.push(fsm::apply_batch(&mut d.state, &batch)),
                EntryPayload::Membership(m) => {
                    d.last_membership = StoredMembership::new(Some(entry.log_id), m);
                    out.push(Vec::new());
                }
            }
        }
        drop(d);
        self.applied.send_modify(|n| *n = n.wrapping_add(1));
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let bytes = snapshot.into_inner();
        let new: SmData = serde_json::from_slice(&bytes)
            .map_err(|e| StorageIOError::read_snapshot(Some(meta.signature()), &e))?;
        let stored = StoredSnapshot {
            meta: meta.clone(),
            data: bytes,
        };
        self.persist(&stored)
            .await
            .map_err(|e| StorageIOError::write_snapshot(Some(meta.signature()), &e))?;
        // Replace, never merge: anything deleted since is gone from the new state.
        let mut d = self.write();
        *d = SmData {
            last_applied: meta.last_log_id,
            last_membership: meta.last_membership.clone(),
            state: new.state,
        };
        drop(d);
        self.applied.send_modify(|n| *n = n.wrapping_add(1));
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let s = load(&self.snapshots).map_err(|e| StorageIOError::read_snapshot(None, &e))?;
        Ok(s.map(|s| Snapshot {
            meta: s.meta,
            snapshot: Box::new(Cursor::new(s.data)),
        }))
    }
}
