//! Client-side batching: concurrent calls on one [`crate::Client`] handle that go to the same
//! node travel together in one `Batch.Execute` RPC.
//!
//! Each node a client talks to has one [`Batcher`]: a task that takes every call queued for
//! that node (up to [`MAX_CALLS`]) and sends them as one batch, with at most
//! [`MAX_IN_FLIGHT`] batches outstanding; while they are, new calls queue and leave together
//! next. A lone call leaves at once (a batch of one), so batching adds no waiting to a quiet
//! client and only packs calls under load. The node runs every call through the same handler
//! it would reach alone and answers each separately, so one call's failure is that call's
//! alone.
//!
//! The batcher is a transport under the retry loop (`retry::Pool::call_batchable`): every
//! call still gets its own attempts, timeouts, leader hint and retry rules. A failed batch RPC
//! gives every call in it the same failure, exactly what each would have seen on a broken
//! connection. A node that does not serve `Batch` (an older version) answers UNIMPLEMENTED:
//! nothing ran, the calls of that batch fail as UNAVAILABLE (so the retry loop retries them)
//! and from then on the batcher sends that node's calls one by one.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::future::join_all;
use gamefleet_proto::v1 as pb;
use pb::batch_call::Call;
use pb::batch_client::BatchClient;
use pb::batch_result::Result as Outcome;
use pb::game_lift_client::GameLiftClient;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::transport::Channel;
use tonic::{Code, Response, Status};

use crate::error::EXCEPTION_METADATA_KEY;

/// Most calls in one batch (the node's limit).
pub(crate) const MAX_CALLS: usize = 256;
/// Batches outstanding per node at once. One: while it is answered, the calls made meanwhile
/// queue and leave together, which gives the node fewer, fuller batches (and Raft entries).
/// `bench writes`, 64 callers on one handle: about 20k writes/s with one, 15k with two.
pub(crate) const MAX_IN_FLIGHT: usize = 1;
/// Yields before a batch is cut (see `run`).
const YIELDS_BEFORE_CUT: usize = 2;

/// A request the `Batch` service can carry, and how its answer comes back.
pub(crate) trait Batchable: Sized {
    /// The operation's response message.
    type Resp;
    /// The request as one call of a batch.
    fn into_call(self) -> Call;
    /// The response, if `outcome` is this operation's.
    fn from_outcome(outcome: Outcome) -> Option<Self::Resp>;
}

macro_rules! batchable {
    ($($variant:ident: $req:ident => $resp:ident, $method:ident;)*) => {
        $(
            impl Batchable for pb::$req {
                type Resp = pb::$resp;
                fn into_call(self) -> Call {
                    Call::$variant(self)
                }
                fn from_outcome(outcome: Outcome) -> Option<pb::$resp> {
                    match outcome {
                        Outcome::$variant(r) => Some(r),
                        _ => None,
                    }
                }
            }
        )*

        /// Sends one call as its own `GameLift` RPC (for nodes without the `Batch` service).
        async fn send_alone(ch: Channel, call: Call) -> Result<(MetadataMap, Outcome), Status> {
            let mut client = GameLiftClient::new(ch);
            match call {
                $(
                    Call::$variant(r) => {
                        let (md, resp, _) = client.$method(r).await?.into_parts();
                        Ok((md, Outcome::$variant(resp)))
                    }
                )*
            }
        }
    };
}

batchable! {
    UpdateFleetAttributes: UpdateFleetAttributesRequest => UpdateFleetAttributesResponse, update_fleet_attributes;
    DescribeFleetAttributes: DescribeFleetAttributesRequest => DescribeFleetAttributesResponse, describe_fleet_attributes;
    CreateGameSession: CreateGameSessionRequest => CreateGameSessionResponse, create_game_session;
    DescribeGameSessions: DescribeGameSessionsRequest => DescribeGameSessionsResponse, describe_game_sessions;
    UpdateGameSession: UpdateGameSessionRequest => UpdateGameSessionResponse, update_game_session;
    TerminateGameSession: TerminateGameSessionRequest => TerminateGameSessionResponse, terminate_game_session;
    CreatePlayerSession: CreatePlayerSessionRequest => CreatePlayerSessionResponse, create_player_session;
    CreatePlayerSessions: CreatePlayerSessionsRequest => CreatePlayerSessionsResponse, create_player_sessions;
    DescribePlayerSessions: DescribePlayerSessionsRequest => DescribePlayerSessionsResponse, describe_player_sessions;
}

/// What a queued call gets back: the answer's metadata (leader hint) and its outcome, or the
/// failure of the RPC that carried it.
type Reply = Result<(MetadataMap, Outcome), Status>;

struct Queued {
    call: Call,
    reply: oneshot::Sender<Reply>,
}

/// The batching queue of one node; cheap to clone. Its task ends when every clone is gone.
#[derive(Clone)]
pub(crate) struct Batcher {
    tx: mpsc::UnboundedSender<Queued>,
}

impl Batcher {
    /// Starts the batching task for the node behind `channel`. Needs a Tokio runtime.
    pub(crate) fn start(channel: Channel) -> Batcher {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(channel, rx));
        Batcher { tx }
    }

    /// Sends `req` in the next batch to this node and returns its own answer, as the
    /// operation's RPC would have: a response with the answer's metadata, or a status.
    pub(crate) async fn call<Req: Batchable>(
        &self,
        req: Req,
    ) -> Result<Response<Req::Resp>, Status> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Queued {
                call: req.into_call(),
                reply,
            })
            .map_err(|_| Status::unavailable("the client's batching task has stopped"))?;
        let (md, outcome) = rx
            .await
            .map_err(|_| Status::unavailable("the client's batching task has stopped"))??;
        match outcome {
            Outcome::Error(e) => Err(error_status(e, md)),
            other => match Req::from_outcome(other) {
                Some(resp) => Ok(Response::from_parts(md, resp, Default::default())),
                None => Err(Status::internal(
                    "the node answered a batched call with another operation's result",
                )),
            },
        }
    }
}

/// A call's error as the status the node would have sent for it alone.
fn error_status(e: pb::BatchError, mut md: MetadataMap) -> Status {
    if !e.exception.is_empty()
        && let Ok(v) = MetadataValue::try_from(e.exception.as_str())
    {
        md.insert(EXCEPTION_METADATA_KEY, v);
    }
    let code = match Code::from_i32(e.code) {
        Code::Ok => Code::Internal,
        c => c,
    };
    Status::with_metadata(code, e.message, md)
}

async fn run(channel: Channel, mut rx: mpsc::UnboundedReceiver<Queued>) {
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let unsupported = Arc::new(AtomicBool::new(false));
    loop {
        // NB: wait for a free slot before draining, so that while the slots are busy the queue
        // fills and the next batch carries all of it.
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = rx.recv().await else { return };
        // Callers woken by the previous answer call again at once; letting them run first
        // (a couple of yields, no timer) puts them all in this batch instead of splitting
        // them over this one and the next. `bench writes`, 64 callers on one handle: 34 calls
        // per batch without the yields, 64 with them (and 1.4x the writes/s).
        for _ in 0..YIELDS_BEFORE_CUT {
            tokio::task::yield_now().await;
        }
        let mut batch = vec![first];
        while batch.len() < MAX_CALLS {
            match rx.try_recv() {
                Ok(q) => batch.push(q),
                Err(_) => break,
            }
        }
        let channel = channel.clone();
        let unsupported = unsupported.clone();
        tokio::spawn(async move {
            send(channel, batch, &unsupported).await;
            drop(permit);
        });
    }
}

/// Sends one batch and hands every call its reply.
async fn send(channel: Channel, batch: Vec<Queued>, unsupported: &AtomicBool) {
    if unsupported.load(Ordering::Relaxed) {
        return send_each(channel, batch).await;
    }
    // A caller that gave up (its attempt timed out) is skipped; the others still go.
    let (calls, replies): (Vec<_>, Vec<_>) = batch
        .into_iter()
        .filter(|q| !q.reply.is_closed())
        .map(|q| (pb::BatchCall { call: Some(q.call) }, q.reply))
        .unzip();
    if calls.is_empty() {
        return;
    }
    match BatchClient::new(channel)
        .execute(pb::BatchRequest { calls })
        .await
    {
        Ok(resp) => {
            let (md, resp, _) = resp.into_parts();
            let mut results = resp.results.into_iter();
            for reply in replies {
                let r = match results.next().and_then(|r| r.result) {
                    Some(outcome) => Ok((md.clone(), outcome)),
                    None => Err(Status::internal(
                        "the node's batch answer has fewer results than calls",
                    )),
                };
                let _ = reply.send(r);
            }
        }
        Err(status) => {
            // Nothing in the batch ran on a node without the Batch service: from now on its
            // calls go one by one, and these are retried (as UNAVAILABLE: not applied).
            let status = if status.code() == Code::Unimplemented {
                unsupported.store(true, Ordering::Relaxed);
                Status::unavailable(format!(
                    "the node does not serve Batch ({}); sending calls one by one",
                    status.message()
                ))
            } else {
                status
            };
            for reply in replies {
                let _ = reply.send(Err(status.clone()));
            }
        }
    }
}

/// Sends every call as its own RPC, concurrently.
async fn send_each(channel: Channel, batch: Vec<Queued>) {
    join_all(batch.into_iter().map(|q| {
        let ch = channel.clone();
        async move {
            let r = send_alone(ch, q.call).await;
            let _ = q.reply.send(r);
        }
    }))
    .await;
}
