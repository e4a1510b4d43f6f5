//! The Raft log, vote and committed index in sled.
//!
//! Layout: tree `raft_log` maps a big-endian u64 index to the JSON entry (so
//! iteration is in index order); tree `raft_meta` holds `vote`, `committed` and
//! `last_purged`. Invariant: an append or a vote is acknowledged to openraft only
//! after `flush()` returned, so a kill -9 never loses an acknowledged entry.

use std::fmt::Debug;
use std::ops::RangeBounds;

use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{Entry, StorageIOError, Vote};

use super::{LogId, NodeId, StorageError, TypeConfig, blocking};

const VOTE: &[u8] = b"vote";
const COMMITTED: &[u8] = b"committed";
const LAST_PURGED: &[u8] = b"last_purged";

/// The log store; cheap to clone (sled trees are reference counted).
#[derive(Clone)]
pub struct LogStore {
    db: sled::Db,
    log: sled::Tree,
    meta: sled::Tree,
}

fn io(e: impl std::error::Error + 'static) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl LogStore {
    /// Opens (or creates) the log trees in `db`.
    pub fn open(db: &sled::Db) -> Result<Self, sled::Error> {
        Ok(LogStore {
            db: db.clone(),
            log: db.open_tree("raft_log")?,
            meta: db.open_tree("raft_meta")?,
        })
    }

    fn get_meta<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> std::io::Result<Option<T>> {
        match self.meta.get(key).map_err(io)? {
            Some(v) => Ok(Some(serde_json::from_slice(&v).map_err(io)?)),
            None => Ok(None),
        }
    }

    fn put_meta<T: serde::Serialize>(&self, key: &[u8], value: &T) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(value).map_err(io)?;
        self.meta.insert(key, bytes).map_err(io)?;
        Ok(())
    }

    async fn flush(&self) -> std::io::Result<()> {
        let db = self.db.clone();
        blocking(move || db.flush().map(|_| ()).map_err(io)).await
    }

    fn read_range<RB: RangeBounds<u64>>(
        &self,
        range: RB,
    ) -> std::io::Result<Vec<Entry<TypeConfig>>> {
        use std::ops::Bound;
        let start = match range.start_bound() {
            Bound::Included(i) => Bound::Included(i.to_be_bytes()),
            Bound::Excluded(i) => Bound::Excluded(i.to_be_bytes()),
            Bound::Unbounded => Bound::Unbounded,
        };
        let end = match range.end_bound() {
            Bound::Included(i) => Bound::Included(i.to_be_bytes()),
            Bound::Excluded(i) => Bound::Excluded(i.to_be_bytes()),
            Bound::Unbounded => Bound::Unbounded,
        };
        let mut out = Vec::new();
        for kv in self.log.range::<[u8; 8], _>((start, end)) {
            let (_, v) = kv.map_err(io)?;
            out.push(serde_json::from_slice(&v).map_err(io)?);
        }
        Ok(out)
    }

    fn last_entry_id(&self) -> std::io::Result<Option<LogId>> {
        match self.log.last().map_err(io)? {
            Some((_, v)) => {
                let e: Entry<TypeConfig> = serde_json::from_slice(&v).map_err(io)?;
                Ok(Some(e.log_id))
            }
            None => Ok(None),
        }
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError> {
        self.read_range(range)
            .map_err(|e| StorageIOError::read_logs(&e).into())
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let read = || -> std::io::Result<LogState<TypeConfig>> {
            let last_purged_log_id: Option<LogId> = self.get_meta(LAST_PURGED)?;
            let last_log_id = self.last_entry_id()?.or(last_purged_log_id);
            Ok(LogState {
                last_purged_log_id,
                last_log_id,
            })
        };
        read().map_err(|e| StorageIOError::read_logs(&e).into())
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError> {
        self.put_meta(VOTE, vote)
            .map_err(|e| StorageIOError::write_vote(&e))?;
        self.flush()
            .await
            .map_err(|e| StorageIOError::write_vote(&e).into())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError> {
        self.get_meta(VOTE)
            .map_err(|e| StorageIOError::read_vote(&e).into())
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        // NB: not flushed on its own; the next append's flush persists it. A
        // committed index that is a little old after a crash only means more
        // entries are re-applied from the log at restart.
        self.put_meta(COMMITTED, &committed)
            .map_err(|e| StorageIOError::write(&e).into())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        let c: Option<Option<LogId>> = self
            .get_meta(COMMITTED)
            .map_err(|e| StorageIOError::read(&e))?;
        Ok(c.flatten())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut batch = sled::Batch::default();
        for e in entries {
            let bytes = serde_json::to_vec(&e).map_err(|err| StorageIOError::write_logs(&err))?;
            batch.insert(&e.log_id.index.to_be_bytes(), bytes);
        }
        self.log
            .apply_batch(batch)
            .map_err(|e| StorageIOError::write_logs(&e))?;
        // Entries are readable now; they are durable once flush returns.
        let res = self.flush().await;
        let failed = res.as_ref().err().map(StorageIOError::write_logs);
        callback.log_io_completed(res);
        match failed {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let run = || -> std::io::Result<()> {
            let mut batch = sled::Batch::default();
            for kv in self.log.range(log_id.index.to_be_bytes()..) {
                let (k, _) = kv.map_err(io)?;
                batch.remove(k);
            }
            self.log.apply_batch(batch).map_err(io)
        };
        run().map_err(|e| StorageIOError::write_logs(&e))?;
        self.flush()
            .await
            .map_err(|e| StorageIOError::write_logs(&e).into())
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let run = || -> std::io::Result<()> {
            // Record the purge point first: a crash in between leaves extra
            // entries below it, which get_log_state and readers never use.
            self.put_meta(LAST_PURGED, &log_id)?;
            let mut batch = sled::Batch::default();
            for kv in self.log.range(..=log_id.index.to_be_bytes()) {
                let (k, _) = kv.map_err(io)?;
                batch.remove(k);
            }
            self.log.apply_batch(batch).map_err(io)
        };
        run().map_err(|e| StorageIOError::write_logs(&e).into())
    }
}
