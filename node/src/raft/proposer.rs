//! Group commit: the proposer packs concurrent commands into one log entry.
//!
//! openraft 0.9 fsyncs once per `client_write` on the leader, so one command per
//! entry caps a cluster at a few thousand writes/s. Every node runs a proposer:
//! callers enqueue commands; a loop takes everything queued (up to
//! [`MAX_BATCH`]) as one [`Batch`], and either writes it through Raft (on the
//! leader) or forwards it in one `RaftPeer.Forward` RPC to the leader (on a
//! follower). Each caller gets back exactly its own results.
//!
//! Game session placement happens here too: a [`Proposal::PlaceGameSession`] travels to the
//! leader as a request, and the leader's proposer turns it into a `CreateGameSession` naming
//! the process [`placement::place`] picked, just before writing the entry. Processes picked
//! for entries not yet applied are held in the leader's claims, so two placements in flight
//! never pick the same process (the state machine refuses a taken process anyway).
//!
//! A write that cannot commit in time (no leader, no quorum) fails with
//! `Unavailable` instead of hanging; its outcome is then unknown to the caller.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gamefleet_proto::v1 as pb;
use openraft::ServerState;
use openraft::error::{ClientWriteError, RaftError};
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::network::{Peers, header};
use super::sm_store::SharedState;
use super::{NodeId, Raft};
use crate::api::error::ApiError;
use crate::cluster::identity::Identity;
use crate::fsm::session::GameSessionRequest;
use crate::fsm::{Batch, CmdResult, Command, FORMAT_VERSION, Output};
use crate::placement::{self, Claims};

/// What a caller asks the proposer to write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Proposal {
    /// A ready command.
    Command(Command),
    /// A new game session whose process the leader picks when it writes the entry.
    PlaceGameSession {
        game_session_id: String,
        request: GameSessionRequest,
        at_ms: i64,
    },
}

/// The payload of a `RaftPeer.Forward` RPC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForwardBatch {
    pub version: u32,
    pub proposals: Vec<Proposal>,
}

/// Most commands packed into one log entry.
pub const MAX_BATCH: usize = 512;
/// Batches in flight at once. One: while it commits the queue fills, so the next entry carries
/// everything that arrived meanwhile. On a CPU-bound node each entry costs an fsync and a
/// replication round on every replica, so fewer, larger entries win (`bench writes`, 64 clients:
/// 8.6-9.0k writes/s with one, 7.4-8.3k with two); a single client's latency is the same.
const MAX_INFLIGHT: usize = 1;

/// Proposer settings.
#[derive(Debug, Clone)]
pub struct ProposerConfig {
    /// How long a write may take before it fails with Unavailable.
    pub propose_timeout: Duration,
    /// A leader that has not heard from a quorum for this long refuses writes at once.
    pub quorum_lost_after: Duration,
}

struct Pending {
    proposals: Vec<Proposal>,
    /// Forwarded by a follower: never forward again (avoids loops during elections).
    local_only: bool,
    reply: oneshot::Sender<Result<Vec<CmdResult>, ApiError>>,
}

/// Longest a [`Hold`] may keep the proposer from cutting its next batch.
const MAX_HOLD: Duration = Duration::from_millis(2);

/// Handle for submitting commands; cheap to clone.
#[derive(Clone)]
pub struct Proposer {
    tx: mpsc::Sender<Pending>,
    holds: Arc<Holds>,
}

/// Callers about to submit several commands at once (see [`Proposer::hold`]).
#[derive(Default)]
struct Holds {
    count: AtomicUsize,
    released: tokio::sync::Notify,
}

impl Holds {
    /// Waits (at most [`MAX_HOLD`]) until no hold is left.
    async fn wait_released(&self) {
        if self.count.load(Ordering::Acquire) == 0 {
            return;
        }
        let wait = async {
            loop {
                // NB: made before the check, so a release in between is not missed.
                let released = self.released.notified();
                if self.count.load(Ordering::Acquire) == 0 {
                    return;
                }
                released.await;
            }
        };
        let _ = tokio::time::timeout(MAX_HOLD, wait).await;
    }
}

/// Keeps the proposer from cutting its next batch until dropped (at most [`MAX_HOLD`]), so
/// that commands a caller submits together land in one log entry; see [`Proposer::hold`].
pub struct Hold {
    holds: Arc<Holds>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        if self.holds.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.holds.released.notify_waiters();
        }
    }
}

/// Everything the proposer needs to reach Raft and the leader.
#[derive(Clone)]
pub struct Context {
    pub raft: Raft,
    pub ident: Arc<Identity>,
    pub peers: Peers,
    pub config: ProposerConfig,
    /// The applied state (placement reads it).
    pub state: SharedState,
    /// Processes picked by placements in flight on this leader.
    pub claims: Arc<Mutex<Claims>>,
}

impl Proposer {
    /// Starts the proposer loop; it ends when every handle is dropped.
    pub fn start(ctx: Context) -> Proposer {
        let (tx, rx) = mpsc::channel(MAX_BATCH * 8);
        let holds = Arc::new(Holds::default());
        tokio::spawn(run(ctx, rx, holds.clone()));
        Proposer { tx, holds }
    }

    /// Holds the next batch open: while the returned guard lives (at most 2 ms), the proposer
    /// does not cut a batch, so commands submitted meanwhile travel in one log entry. For a
    /// caller that is about to submit several commands from concurrent futures (a `Batch`
    /// RPC): without it the first command would leave alone and the rest wait a whole round.
    pub fn hold(&self) -> Hold {
        self.holds.count.fetch_add(1, Ordering::AcqRel);
        Hold {
            holds: self.holds.clone(),
        }
    }

    /// Proposes one command and returns its own result.
    pub async fn propose(&self, cmd: Command) -> Result<Output, ApiError> {
        self.propose_one(Proposal::Command(cmd)).await
    }

    /// Places and creates a game session (the leader picks the process).
    pub async fn place(
        &self,
        game_session_id: String,
        request: GameSessionRequest,
        at_ms: i64,
    ) -> Result<Output, ApiError> {
        self.propose_one(Proposal::PlaceGameSession {
            game_session_id,
            request,
            at_ms,
        })
        .await
    }

    async fn propose_one(&self, p: Proposal) -> Result<Output, ApiError> {
        let mut results = self.submit(vec![p], false).await?;
        match results.pop() {
            Some(r) => r.map_err(ApiError::Fsm),
            None => Err(ApiError::Internal("proposer returned no result".into())),
        }
    }

    /// Proposes what a follower forwarded to this node.
    pub async fn propose_forwarded(
        &self,
        proposals: Vec<Proposal>,
    ) -> Result<Vec<CmdResult>, ApiError> {
        self.submit(proposals, true).await
    }

    async fn submit(
        &self,
        proposals: Vec<Proposal>,
        local_only: bool,
    ) -> Result<Vec<CmdResult>, ApiError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Pending {
                proposals,
                local_only,
                reply,
            })
            .await
            .map_err(|_| ApiError::unavailable("node is shutting down"))?;
        rx.await
            .map_err(|_| ApiError::unavailable("node is shutting down"))?
    }
}

async fn run(ctx: Context, mut rx: mpsc::Receiver<Pending>, holds: Arc<Holds>) {
    let inflight = Arc::new(Semaphore::new(MAX_INFLIGHT));
    loop {
        // NB: wait for a free slot before draining, so that while all slots are
        // busy the queue keeps filling and the next batch carries all of it.
        let Ok(permit) = inflight.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = rx.recv().await else { return };
        holds.wait_released().await;
        let mut batch = vec![first];
        let mut n = batch[0].proposals.len();
        while n < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => {
                    n += p.proposals.len();
                    batch.push(p);
                }
                Err(_) => break,
            }
        }
        let ctx = ctx.clone();
        tokio::spawn(async move {
            commit(&ctx, batch).await;
            drop(permit);
        });
    }
}

async fn commit(ctx: &Context, batch: Vec<Pending>) {
    let deadline = Instant::now() + ctx.config.propose_timeout;
    // On the leader everything goes into one entry. Elsewhere, commands a
    // follower forwarded to us must not travel again (that could loop during an
    // election); they fail with Unavailable and their sender retries.
    let (group, refused): (Vec<Pending>, Vec<Pending>) = if matches!(leader(ctx), Leader::Me) {
        (batch, Vec::new())
    } else {
        batch.into_iter().partition(|p| !p.local_only)
    };
    for p in refused {
        let _ = p.reply.send(Err(ApiError::unavailable(
            "this node is no longer the leader",
        )));
    }
    if group.is_empty() {
        return;
    }
    let allow_forward = group.iter().all(|p| !p.local_only);
    let proposals: Vec<Proposal> = group
        .iter()
        .flat_map(|p| p.proposals.iter().cloned())
        .collect();
    let result = write(ctx, proposals, allow_forward, deadline).await;
    distribute(group, result);
}

fn distribute(group: Vec<Pending>, result: Result<Vec<CmdResult>, ApiError>) {
    match result {
        Ok(results) => {
            let mut it = results.into_iter();
            for p in group {
                let mine: Vec<CmdResult> = it.by_ref().take(p.proposals.len()).collect();
                let r = if mine.len() == p.proposals.len() {
                    Ok(mine)
                } else {
                    Err(ApiError::Internal(
                        "a batch returned fewer results than commands".into(),
                    ))
                };
                let _ = p.reply.send(r);
            }
        }
        Err(e) => {
            for p in group {
                let _ = p.reply.send(Err(e.clone()));
            }
        }
    }
}

/// Who leads, as this node knows it.
enum Leader {
    Me,
    Other(NodeId, String),
    Unknown,
}

fn leader(ctx: &Context) -> Leader {
    let m = ctx.raft.metrics().borrow().clone();
    match m.current_leader {
        Some(id) if id == ctx.ident.node_id && m.state == ServerState::Leader => Leader::Me,
        Some(id) if id != ctx.ident.node_id => match m.membership_config.membership().get_node(&id)
        {
            Some(n) => Leader::Other(id, n.addr.clone()),
            None => Leader::Unknown,
        },
        _ => Leader::Unknown,
    }
}

/// Returns an error when this leader has lost touch with its quorum.
fn check_quorum(ctx: &Context) -> Result<(), ApiError> {
    let m = ctx.raft.metrics().borrow().clone();
    let voters = m.membership_config.membership().voter_ids().count();
    if voters > 1
        && let Some(ms) = m.millis_since_quorum_ack
        && Duration::from_millis(ms) > ctx.config.quorum_lost_after
    {
        return Err(ApiError::unavailable(format!(
            "the leader has not heard from a quorum of voters for {ms} ms"
        )));
    }
    Ok(())
}

/// Waits (bounded by `deadline`) for the leader to change or become known.
async fn wait_for_leader(ctx: &Context, deadline: Instant) -> Result<(), ApiError> {
    let mut rx = ctx.raft.metrics();
    let start_leader = rx.borrow().current_leader;
    let wait = async {
        loop {
            if rx.changed().await.is_err() {
                return;
            }
            let l = rx.borrow().current_leader;
            if l.is_some() && l != start_leader {
                return;
            }
        }
    };
    let step = deadline
        .saturating_duration_since(Instant::now())
        .min(Duration::from_millis(200));
    let _ = tokio::time::timeout(step, wait).await;
    if Instant::now() >= deadline {
        return Err(ApiError::unavailable(
            "no leader could commit the write in time; the outcome is unknown",
        ));
    }
    Ok(())
}

/// Proposals resolved into commands by the leader: the commands to write, and for each
/// proposal either the index of its command or the error that replaced it.
struct Resolved {
    commands: Vec<Command>,
    slots: Vec<Result<usize, crate::fsm::FsmError>>,
    claimed: Vec<String>,
}

/// Turns placements into `CreateGameSession` commands (claiming their processes).
fn resolve(ctx: &Context, proposals: &[Proposal]) -> Resolved {
    let mut out = Resolved {
        commands: Vec::with_capacity(proposals.len()),
        slots: Vec::with_capacity(proposals.len()),
        claimed: Vec::new(),
    };
    let needs_state = proposals
        .iter()
        .any(|p| matches!(p, Proposal::PlaceGameSession { .. }));
    if !needs_state {
        for p in proposals {
            if let Proposal::Command(c) = p {
                out.slots.push(Ok(out.commands.len()));
                out.commands.push(c.clone());
            }
        }
        return out;
    }
    let st = ctx.state.read().unwrap_or_else(|p| p.into_inner());
    let mut claims = ctx.claims.lock().unwrap_or_else(|p| p.into_inner());
    for p in proposals {
        let cmd = match p {
            Proposal::Command(c) => Ok(c.clone()),
            Proposal::PlaceGameSession {
                game_session_id,
                request,
                at_ms,
            } => {
                // A retry of a session that exists keeps its process (the state machine
                // returns the original or refuses a mismatch).
                let process = match st.state.sessions.get(game_session_id) {
                    Some(gs) => Ok(gs.process_id.clone()),
                    None => placement::place(&st.state, request, &claims),
                };
                process.map(|process_id| {
                    if let Some(p) = st.state.hosting.processes.get(&process_id)
                        && !claims.contains_key(&process_id)
                    {
                        claims.insert(process_id.clone(), p.node_id);
                        out.claimed.push(process_id.clone());
                    }
                    Command::CreateGameSession {
                        game_session_id: game_session_id.clone(),
                        process_id,
                        request: request.clone(),
                        at_ms: *at_ms,
                    }
                })
            }
        };
        match cmd {
            Ok(c) => {
                out.slots.push(Ok(out.commands.len()));
                out.commands.push(c);
            }
            Err(e) => out.slots.push(Err(e)),
        }
    }
    out
}

fn release(ctx: &Context, claimed: &[String]) {
    if claimed.is_empty() {
        return;
    }
    let mut claims = ctx.claims.lock().unwrap_or_else(|p| p.into_inner());
    for id in claimed {
        claims.remove(id);
    }
}

/// Writes `resolved` as one entry and maps the results back onto the proposals.
async fn write_resolved(
    ctx: &Context,
    resolved: &Resolved,
    remaining: Duration,
) -> Result<Result<Vec<CmdResult>, ApiError>, ()> {
    let n = resolved.commands.len();
    let results = if n == 0 {
        Vec::new()
    } else {
        let w = ctx.raft.client_write(Batch::new(resolved.commands.clone()));
        match tokio::time::timeout(remaining, w).await {
            Err(_) => {
                return Ok(Err(ApiError::unavailable(
                    "the write did not commit in time (no quorum?); the outcome is unknown",
                )));
            }
            Ok(Ok(resp)) if resp.data.len() == n => resp.data,
            Ok(Ok(_)) => {
                return Ok(Err(ApiError::Internal(
                    "raft returned a result of the wrong size".into(),
                )));
            }
            Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_)))) => return Err(()),
            Ok(Err(RaftError::APIError(e))) => return Ok(Err(ApiError::Internal(e.to_string()))),
            Ok(Err(RaftError::Fatal(e))) => {
                return Ok(Err(ApiError::unavailable(format!("raft stopped: {e}"))));
            }
        }
    };
    Ok(Ok(resolved
        .slots
        .iter()
        .map(|s| match s {
            Ok(i) => results
                .get(*i)
                .cloned()
                .unwrap_or_else(|| Err(crate::fsm::FsmError::not_found("result", i.to_string()))),
            Err(e) => Err(e.clone()),
        })
        .collect()))
}

async fn write(
    ctx: &Context,
    proposals: Vec<Proposal>,
    allow_forward: bool,
    deadline: Instant,
) -> Result<Vec<CmdResult>, ApiError> {
    let n = proposals.len();
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(ApiError::unavailable(
                "the write did not commit in time; the outcome is unknown",
            ));
        }
        match leader(ctx) {
            Leader::Me => {
                check_quorum(ctx)?;
                let resolved = resolve(ctx, &proposals);
                let res = write_resolved(ctx, &resolved, remaining).await;
                release(ctx, &resolved.claimed);
                match res {
                    Ok(r) => return r,
                    Err(()) => wait_for_leader(ctx, deadline).await?,
                }
            }
            Leader::Other(id, addr) if allow_forward => {
                match forward(ctx, id, &addr, &proposals, remaining).await {
                    // The leader answered: its answer is final (Unavailable
                    // included: it knows it cannot commit).
                    Ok(Ok(r)) if r.len() == n => return Ok(r),
                    Ok(Ok(_)) => {
                        return Err(ApiError::Internal(
                            "the leader returned a result of the wrong size".into(),
                        ));
                    }
                    Ok(Err(e)) => return Err(e),
                    // The leader could not be reached; it may have changed: look again.
                    Err(_) if Instant::now() < deadline => {
                        wait_for_leader(ctx, deadline).await?;
                    }
                    Err(e) => return Err(e),
                }
            }
            Leader::Other(..) => {
                return Err(ApiError::unavailable("this node is no longer the leader"));
            }
            Leader::Unknown => wait_for_leader(ctx, deadline).await?,
        }
    }
}

/// Sends `proposals` to the leader. The outer error means the RPC failed (the
/// leader was not reached or did not answer: retry); the inner result is the
/// leader's own answer.
async fn forward(
    ctx: &Context,
    leader: NodeId,
    addr: &str,
    proposals: &[Proposal],
    timeout: Duration,
) -> Result<Result<Vec<CmdResult>, ApiError>, ApiError> {
    let bytes = serde_json::to_vec(&ForwardBatch {
        version: FORMAT_VERSION,
        proposals: proposals.to_vec(),
    })
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut client = ctx
        .peers
        .client(addr)
        .map_err(|s| ApiError::unavailable(s.message()))?;
    let mut req = tonic::Request::new(pb::ForwardRequest {
        header: Some(header(&ctx.ident, leader)),
        commands: bytes,
    });
    req.set_timeout(timeout);
    let reply = client.forward(req).await.map_err(|s| {
        ApiError::unavailable(format!("forwarding to the leader failed: {}", s.message()))
    })?;
    serde_json::from_slice(&reply.into_inner().results)
        .map_err(|e| ApiError::Internal(e.to_string()))
}
