//! Client-side batching against a fake node that serves `Batch` (recording every batch it
//! gets), and against one that does not: concurrent calls on one handle share batches, each
//! caller gets its own answer or error, a failed batch is retried call by call, and a node
//! without `Batch` still serves every call.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use gamefleet_proto::v1 as pb;
use pb::batch_call::Call;
use pb::batch_result::Result as Outcome;
use pb::batch_server::Batch;
use pb::game_lift_server::GameLift;
use tonic::{Request, Response, Status};

use super::{Fake, serve, serve_with};
use crate::{Client, ClientOptions, Consistency, ErrorKind, UpdateFleetInput};

/// The fleet id the fake batch answers NotFound for.
const MISSING: &str = "fleet-missing";

/// A fake `Batch` service over the fake node's `GameLift` handlers.
pub(super) struct FakeBatch {
    fake: Arc<Fake>,
    /// The number of calls in every batch received, in order.
    sizes: Mutex<Vec<usize>>,
    /// Batches still to refuse with UNAVAILABLE (as a node without a leader would).
    failures: AtomicUsize,
}

#[tonic::async_trait]
impl Batch for FakeBatch {
    async fn execute(
        &self,
        req: Request<pb::BatchRequest>,
    ) -> Result<Response<pb::BatchResponse>, Status> {
        let calls = req.into_inner().calls;
        self.sizes.lock().unwrap().push(calls.len());
        // Slow enough that concurrent callers queue behind the batches in flight.
        tokio::time::sleep(Duration::from_millis(30)).await;
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(Status::unavailable("no leader"));
        }
        let mut results = Vec::new();
        for call in calls {
            let result = match call.call {
                Some(Call::UpdateFleetAttributes(r)) if r.fleet_id == MISSING => {
                    Outcome::Error(pb::BatchError {
                        code: tonic::Code::NotFound as i32,
                        message: format!("fleet {MISSING} not found"),
                        exception: "NotFoundException".into(),
                    })
                }
                Some(Call::UpdateFleetAttributes(r)) => Outcome::UpdateFleetAttributes(
                    self.fake
                        .update_fleet_attributes(Request::new(r))
                        .await?
                        .into_inner(),
                ),
                _ => Outcome::Error(pb::BatchError {
                    code: tonic::Code::Unimplemented as i32,
                    message: "not in this fake".into(),
                    exception: String::new(),
                }),
            };
            results.push(pb::BatchResult {
                result: Some(result),
            });
        }
        Ok(Response::new(pb::BatchResponse { results }))
    }
}

fn batching_client(endpoint: String) -> Client {
    Client::with_options(ClientOptions {
        endpoints: vec![endpoint],
        attempt_timeout: Duration::from_secs(2),
        total_timeout: Duration::from_secs(10),
        consistency: Consistency::Linearizable,
        follow_leader: true,
        batch: true,
    })
    .unwrap()
}

fn update(fleet_id: &str, k: usize) -> UpdateFleetInput {
    UpdateFleetInput {
        fleet_id: fleet_id.into(),
        description: Some(format!("write {k}")),
        ..Default::default()
    }
}

fn fake_batch(fake: &Arc<Fake>, failures: usize) -> Arc<FakeBatch> {
    Arc::new(FakeBatch {
        fake: Arc::clone(fake),
        sizes: Mutex::new(Vec::new()),
        failures: AtomicUsize::new(failures),
    })
}

#[tokio::test]
async fn concurrent_calls_share_batches_and_each_gets_its_own_answer() {
    let fake = Arc::new(Fake::default());
    let batch = fake_batch(&fake, 0);
    let c = batching_client(serve_with(Arc::clone(&fake), Some(Arc::clone(&batch))).await);
    let calls = (0..60).map(|k| {
        let c = c.clone();
        async move {
            let id = if k % 10 == 7 { MISSING } else { "fleet-1" };
            (k, c.update_fleet(update(id, k)).await)
        }
    });
    let results = futures::future::join_all(calls).await;
    for (k, r) in results {
        if k % 10 == 7 {
            let e = r.expect_err("the missing fleet's update fails");
            assert_eq!(e.kind, ErrorKind::NotFound, "{e}");
            assert!(e.message.contains(MISSING), "{e}");
        } else {
            r.unwrap_or_else(|e| panic!("update {k}: {e}"));
        }
    }
    // Every successful update reached the node exactly once.
    let mut seen: Vec<String> = fake
        .updates
        .lock()
        .unwrap()
        .iter()
        .filter_map(|u| u.description.clone())
        .collect();
    seen.sort();
    let mut want: Vec<String> = (0..60)
        .filter(|k| k % 10 != 7)
        .map(|k| format!("write {k}"))
        .collect();
    want.sort();
    assert_eq!(seen, want);
    // 60 calls went in far fewer RPCs, and batches held several calls.
    let sizes = batch.sizes.lock().unwrap().clone();
    assert_eq!(sizes.iter().sum::<usize>(), 60, "{sizes:?}");
    assert!(
        sizes.len() <= 10,
        "60 concurrent calls took {} batches: {sizes:?}",
        sizes.len()
    );
    assert!(sizes.iter().any(|&n| n > 1), "{sizes:?}");
}

#[tokio::test]
async fn a_lone_call_leaves_at_once_as_a_batch_of_one() {
    let fake = Arc::new(Fake::default());
    let batch = fake_batch(&fake, 0);
    let c = batching_client(serve_with(Arc::clone(&fake), Some(Arc::clone(&batch))).await);
    for k in 0..3 {
        c.update_fleet(update("fleet-1", k)).await.unwrap();
    }
    assert_eq!(*batch.sizes.lock().unwrap(), vec![1, 1, 1]);
}

#[tokio::test]
async fn a_failed_batch_is_retried_for_every_call_in_it() {
    let fake = Arc::new(Fake::default());
    let batch = fake_batch(&fake, 2);
    let c = batching_client(serve_with(Arc::clone(&fake), Some(Arc::clone(&batch))).await);
    let calls = (0..8).map(|k| {
        let c = c.clone();
        async move { c.update_fleet(update("fleet-1", k)).await }
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(fake.updates.lock().unwrap().len(), 8);
    // The first two batches were refused, and their calls went again.
    let sizes = batch.sizes.lock().unwrap().clone();
    assert!(sizes.iter().sum::<usize>() > 8, "{sizes:?}");
}

#[tokio::test]
async fn a_node_without_batch_serves_every_call_one_by_one() {
    let fake = Arc::new(Fake::default());
    let c = batching_client(serve(Arc::clone(&fake)).await);
    let calls = (0..20).map(|k| {
        let c = c.clone();
        async move { c.update_fleet(update("fleet-1", k)).await }
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(fake.updates.lock().unwrap().len(), 20);
    // Calls the Batch service does not cover are unaffected.
    c.describe_fleet("fleet-1").await.unwrap();
}
