//! openraft's storage conformance suite (`openraft::testing::Suite`, about 60
//! checks) run against gamefleet's sled log store and state-machine store.

use gamefleet_node::raft::log_store::LogStore;
use gamefleet_node::raft::sm_store::SmStore;
use gamefleet_node::raft::{NodeId, TypeConfig};
use openraft::StorageError;
use openraft::testing::{StoreBuilder, Suite};

struct SledBuilder;

impl StoreBuilder<TypeConfig, LogStore, SmStore, tempfile::TempDir> for SledBuilder {
    async fn build(&self) -> Result<(tempfile::TempDir, LogStore, SmStore), StorageError<NodeId>> {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = sled::Config::new()
            .path(dir.path())
            .cache_capacity(8 << 20)
            .open()
            .expect("open sled");
        let log = LogStore::open(&db).expect("log store");
        let sm = SmStore::open(&db).expect("sm store");
        Ok((dir, log, sm))
    }
}

#[test]
fn openraft_storage_suite() {
    if let Err(e) = Suite::test_all(SledBuilder) {
        panic!("storage suite failed: {e}");
    }
}
