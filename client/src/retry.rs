//! The one retry loop every client call goes through ([`Pool::call`]), and
//! the rule for which failures it retries.
//!
//! A failed attempt is retried on the next node when the failure says nothing
//! about the request itself: UNAVAILABLE (no leader, no quorum, shutting
//! down, connect refused), DEADLINE_EXCEEDED or an attempt timeout,
//! CANCELLED, and UNKNOWN/INTERNAL raised locally by a broken connection.
//! Everything else is an answer and is returned at once. Retries back off
//! exponentially (20 ms doubling to 500 ms, with jitter) until the total
//! timeout runs out.
//!
//! NB: retrying a write whose answer was lost may apply it twice; creates and
//! reservations are safe because they carry an idempotency token that stays
//! the same across the attempts of one call (the request is cloned, never
//! rebuilt). For the other writes (updates, terminations, ...) an attempt
//! whose outcome is unknown (it timed out, its connection broke, or the node
//! said so) makes any later refusal meaningless: the first attempt may have
//! applied, and the refusal may only say so (e.g. "cannot update a TERMINATED
//! session" after the update itself terminated it). Such a call fails with
//! `Unavailable` ("the outcome is unknown"), never with the refusal.

use std::error::Error as _;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};

use crate::batch::Batchable;
use crate::endpoint::Target;
use crate::error::{ClientError, EXCEPTION_METADATA_KEY, ErrorKind};

/// The response metadata in which a node names the leader's address.
pub const LEADER_METADATA_KEY: &str = "x-gamefleet-leader";

/// First backoff delay (before jitter).
const BACKOFF_MIN: Duration = Duration::from_millis(20);
/// Largest backoff delay (before jitter).
const BACKOFF_MAX: Duration = Duration::from_millis(500);
/// An attempt with less time than this left is not started.
const MIN_ATTEMPT: Duration = Duration::from_millis(10);

/// Per-attempt and overall time limits of one call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    /// Limit of one attempt on one node.
    pub(crate) attempt_timeout: Duration,
    /// Limit of the whole call, retries and backoff included.
    pub(crate) total_timeout: Duration,
}

/// Why a failed attempt is worth retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transient {
    /// The node could not serve the request (or could not be reached).
    Unavailable,
    /// The attempt ran out of time.
    Timeout,
}

/// Whether a failed attempt may be retried on another node, and why.
pub(crate) fn transient(status: &Status) -> Option<Transient> {
    match status.code() {
        Code::Unavailable => Some(Transient::Unavailable),
        Code::DeadlineExceeded => Some(Transient::Timeout),
        // tonic reports its own per-request timeout as CANCELLED.
        Code::Cancelled if is_timeout_expired(status) => Some(Transient::Timeout),
        Code::Cancelled => Some(Transient::Unavailable),
        Code::Unknown | Code::Internal if is_broken_connection(status) => {
            Some(Transient::Unavailable)
        }
        _ => None,
    }
}

/// True when tonic's own request timeout produced this status.
fn is_timeout_expired(status: &Status) -> bool {
    let mut source = status.source();
    while let Some(err) = source {
        if err.is::<tonic::TimeoutExpired>() {
            return true;
        }
        source = err.source();
    }
    status.message() == "Timeout expired"
}

/// True when the status was made on this side from a transport error (a
/// connection reset, closed or refused mid-call) rather than sent by a node.
///
/// A status sent by a node arrives as headers and carries no source error; a
/// gamefleet node also names an exception for every error it means.
fn is_broken_connection(status: &Status) -> bool {
    if status.metadata().contains_key(EXCEPTION_METADATA_KEY) {
        return false;
    }
    if status.source().is_some() {
        return true;
    }
    if status.code() != Code::Unknown {
        return false;
    }
    let msg = status.message().to_ascii_lowercase();
    [
        "transport error",
        "connection",
        "broken pipe",
        "h2 protocol error",
        "stream closed",
        "error trying to connect",
    ]
    .iter()
    .any(|needle| msg.contains(needle))
}

/// Exponential backoff with jitter: each delay is drawn from
/// `[ceiling/2, ceiling]`, and the ceiling doubles from 20 ms up to 500 ms.
#[derive(Debug)]
pub(crate) struct Backoff {
    ceiling: Duration,
}

impl Backoff {
    /// A backoff whose first ceiling is 20 ms.
    pub(crate) fn new() -> Backoff {
        Backoff {
            ceiling: BACKOFF_MIN,
        }
    }

    /// The next delay to sleep.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling;
        self.ceiling = (ceiling * 2).min(BACKOFF_MAX);
        let floor = ceiling / 2;
        rand::rng().random_range(floor..=ceiling)
    }
}

/// The nodes one client talks to, and which of them answered last.
pub(crate) struct Pool {
    targets: Vec<Target>,
    /// Send batchable calls through each node's batching queue (`batch`).
    batching: bool,
    /// Index of the node to try first: the leader the last answer named, when it is one of
    /// the targets and `follow_leader` is on; otherwise the last node that answered.
    preferred: AtomicUsize,
    follow_leader: bool,
}

impl Pool {
    /// A pool over normalized, non-empty addresses; connects to nothing.
    pub(crate) fn new(addrs: &[String], attempt_timeout: Duration) -> Result<Pool, ClientError> {
        if addrs.is_empty() {
            return Err(ClientError::invalid_request("no endpoints given"));
        }
        let targets = addrs
            .iter()
            .map(|a| Target::new(a.clone(), attempt_timeout))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Pool {
            targets,
            preferred: AtomicUsize::new(0),
            follow_leader: false,
            batching: false,
        })
    }

    /// Makes the pool prefer the node that answers name as the leader (see
    /// [`LEADER_METADATA_KEY`]), when it is one of the targets.
    pub(crate) fn follow_leader(mut self, on: bool) -> Pool {
        self.follow_leader = on;
        self
    }

    /// Makes the pool send batchable calls in batches (see `batch`).
    pub(crate) fn batching(mut self, on: bool) -> Pool {
        self.batching = on;
        self
    }

    /// Prefers the leader named in an answer's metadata, if it is one of the targets.
    fn note_leader(&self, metadata: &tonic::metadata::MetadataMap) {
        if !self.follow_leader {
            return;
        }
        let Some(addr) = metadata
            .get(LEADER_METADATA_KEY)
            .and_then(|v| v.to_str().ok())
        else {
            return;
        };
        if let Some(i) = self.targets.iter().position(|t| t.addr == addr) {
            self.preferred.store(i, Ordering::Relaxed);
        }
    }

    /// The index of the node the next call tries first.
    #[cfg(test)]
    pub(crate) fn preferred(&self) -> usize {
        self.preferred.load(Ordering::Relaxed)
    }

    /// Runs one RPC with retries: `rpc` is called with a node's channel and a
    /// fresh copy of `req` (with its gRPC timeout set) for every attempt.
    ///
    /// The first attempt goes to the node that answered last; each retry goes
    /// to the next node in order. A non-transient failure is returned at once
    /// (mapped by [`ClientError::from_status`]). When the total timeout runs
    /// out, the last failure is returned with kind `Unavailable` (code
    /// UNAVAILABLE) or `Timeout` (code DEADLINE_EXCEEDED).
    pub(crate) async fn call<Req, Resp, F, Fut>(
        &self,
        policy: RetryPolicy,
        op: &'static str,
        req: Req,
        mut rpc: F,
    ) -> Result<Resp, ClientError>
    where
        Req: Clone,
        F: FnMut(Channel, Request<Req>) -> Fut,
        Fut: Future<Output = Result<Response<Resp>, Status>>,
    {
        self.call_on(policy, op, req, |target, r| rpc(target.channel(), r))
            .await
    }

    /// [`Pool::call`] for an operation the `Batch` service carries: with batching on, every
    /// attempt goes through the node's batching queue instead of its own RPC (same retries,
    /// timeouts and leader hint); with it off, `rpc` sends it alone.
    pub(crate) async fn call_batchable<Req, F, Fut>(
        &self,
        policy: RetryPolicy,
        op: &'static str,
        req: Req,
        rpc: F,
    ) -> Result<Req::Resp, ClientError>
    where
        Req: Clone + Batchable,
        F: FnMut(Channel, Request<Req>) -> Fut,
        Fut: Future<Output = Result<Response<Req::Resp>, Status>>,
    {
        if !self.batching {
            return self.call(policy, op, req, rpc).await;
        }
        self.call_on(policy, op, req, |target, r| {
            let batcher = target.batcher();
            async move { batcher.call(r.into_inner()).await }
        })
        .await
    }

    /// The retry loop itself: `rpc` makes one attempt on the given node.
    async fn call_on<Req, Resp, F, Fut>(
        &self,
        policy: RetryPolicy,
        op: &'static str,
        req: Req,
        mut rpc: F,
    ) -> Result<Resp, ClientError>
    where
        Req: Clone,
        F: FnMut(&Target, Request<Req>) -> Fut,
        Fut: Future<Output = Result<Response<Resp>, Status>>,
    {
        let start = Instant::now();
        let deadline = start + policy.total_timeout;
        let n = self.targets.len();
        let first = self.preferred.load(Ordering::Relaxed) % n;
        let mut backoff = Backoff::new();
        let mut attempt = 0usize;
        // Whether an earlier attempt may have been applied without us hearing of it.
        let mut ambiguous = false;
        loop {
            let index = (first + attempt) % n;
            let target = &self.targets[index];
            attempt += 1;

            let budget = policy
                .attempt_timeout
                .min(deadline.saturating_duration_since(Instant::now()));
            let mut request = Request::new(req.clone());
            request.set_timeout(budget);
            let status = match tokio::time::timeout(budget, rpc(target, request)).await {
                Ok(Ok(response)) => {
                    self.preferred.store(index, Ordering::Relaxed);
                    self.note_leader(response.metadata());
                    return Ok(response.into_inner());
                }
                Ok(Err(status)) => {
                    // A refusal is an answer too; a node failing transiently may be a deposed
                    // leader that still names itself, so its hint is not taken.
                    if transient(&status).is_none() {
                        self.note_leader(status.metadata());
                    }
                    status
                }
                Err(_) => Status::deadline_exceeded(format!("no answer within {budget:?}")),
            };

            let Some(class) = transient(&status) else {
                let refused = ClientError::from_status(&status);
                if ambiguous && !retry_safe(op) {
                    return Err(ClientError::new(
                        ErrorKind::Unavailable,
                        Code::Unavailable,
                        format!(
                            "{op}: the outcome is unknown: an earlier attempt may have applied it, and a retry was refused ({}: {})",
                            refused.kind.as_str(),
                            refused.message
                        ),
                    ));
                }
                return Err(refused);
            };
            ambiguous |= outcome_unknown(&status, class);
            let delay = backoff.next_delay();
            let remaining = deadline.saturating_duration_since(Instant::now());
            tracing::debug!(
                op,
                node = %target.addr,
                attempt,
                code = ?status.code(),
                message = status.message(),
                "attempt failed; retrying on the next node"
            );
            if remaining < delay + MIN_ATTEMPT {
                return Err(give_up(
                    op,
                    class,
                    &status,
                    attempt,
                    start.elapsed(),
                    target,
                ));
            }
            tokio::time::sleep(delay).await;
        }
    }
}

/// Operations a retry cannot apply twice: reads, and writes that carry an idempotency token
/// (or are idempotent by nature).
fn retry_safe(op: &str) -> bool {
    op.starts_with("Describe")
        || op.starts_with("List")
        || op.starts_with("Search")
        || matches!(
            op,
            "ResolveAlias"
                | "ClusterStatus"
                | "CreateFleet"
                | "CreateGameSession"
                | "CreatePlayerSession"
                | "CreatePlayerSessions"
                | "DeleteFleet"
        )
}

/// Whether a transient failure leaves the attempt's outcome unknown (it may have been applied):
/// a timeout, a broken connection, or a node saying so. A refused connection or "not the
/// leader" before writing is not.
fn outcome_unknown(status: &Status, class: Transient) -> bool {
    matches!(class, Transient::Timeout)
        || matches!(
            status.code(),
            Code::Cancelled | Code::Unknown | Code::Internal
        )
        || status.message().contains("outcome is unknown")
}

/// The error returned when the total timeout ran out on transient failures.
fn give_up(
    op: &str,
    class: Transient,
    last: &Status,
    attempts: usize,
    elapsed: Duration,
    target: &Target,
) -> ClientError {
    let (kind, code) = match class {
        Transient::Unavailable => (ErrorKind::Unavailable, Code::Unavailable),
        Transient::Timeout => (ErrorKind::Timeout, Code::DeadlineExceeded),
    };
    let what = if last.message().is_empty() {
        last.code().description()
    } else {
        last.message()
    };
    ClientError::new(
        kind,
        code,
        format!(
            "{op}: gave up after {attempts} attempt(s) in {:.1}s; last error from {}: {:?}: {what}",
            elapsed.as_secs_f64(),
            target.addr,
            last.code(),
        ),
    )
}

#[cfg(test)]
mod tests {
    use tonic::metadata::MetadataValue;

    use super::*;

    /// Runs `op` against a scripted node: attempt `i` gets `script[i]` (the last one repeats).
    async fn scripted(op: &'static str, script: Vec<Status>) -> (Result<(), ClientError>, usize) {
        let pool = Pool::new(&["http://127.0.0.1:9".into()], Duration::from_millis(200)).unwrap();
        let policy = RetryPolicy {
            attempt_timeout: Duration::from_millis(200),
            total_timeout: Duration::from_secs(5),
        };
        let calls = AtomicUsize::new(0);
        let r = pool
            .call(policy, op, (), |_channel, _request| {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                let status = script[n.min(script.len() - 1)].clone();
                async move { Err::<Response<()>, Status>(status) }
            })
            .await;
        (r, calls.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn a_refusal_after_an_unknown_outcome_is_an_unknown_outcome() {
        let unknown =
            Status::unavailable("the write did not commit in time; the outcome is unknown");
        let refused =
            Status::failed_precondition("cannot update game session x in status Terminated");
        // An update whose first attempt may have applied: the retry's refusal says nothing.
        let (r, calls) =
            scripted("UpdateGameSession", vec![unknown.clone(), refused.clone()]).await;
        let e = r.unwrap_err();
        assert_eq!(calls, 2);
        assert_eq!(e.kind, ErrorKind::Unavailable, "{e}");
        assert!(e.message.contains("outcome is unknown"), "{e}");
        assert!(e.message.contains("Terminated"), "{e}");
        // A timeout is just as ambiguous.
        let (r, _) = scripted(
            "TerminateGameSession",
            vec![Status::deadline_exceeded("slow"), refused.clone()],
        )
        .await;
        assert_eq!(r.unwrap_err().kind, ErrorKind::Unavailable);
        // Token-carrying creates and reads settle it themselves: the refusal stands.
        let (r, _) = scripted(
            "CreatePlayerSession",
            vec![unknown.clone(), refused.clone()],
        )
        .await;
        assert_ne!(r.unwrap_err().kind, ErrorKind::Unavailable);
        // A failure that applied nothing ("not the leader") leaves the refusal meaningful.
        let (r, _) = scripted(
            "UpdateGameSession",
            vec![
                Status::unavailable("this node is no longer the leader"),
                refused,
            ],
        )
        .await;
        assert_ne!(r.unwrap_err().kind, ErrorKind::Unavailable);
    }

    /// One call on `pool` that answers with `leader` named in the metadata (an answer or a
    /// refusal), returning the index the pool prefers afterwards.
    async fn preferred_after(pool: &Pool, leader: &str, answer: Result<(), Code>) -> usize {
        let policy = RetryPolicy {
            attempt_timeout: Duration::from_millis(200),
            total_timeout: Duration::from_secs(1),
        };
        let leader = MetadataValue::try_from(leader).unwrap();
        let _ = pool
            .call(policy, "UpdateFleetAttributes", (), |_channel, _request| {
                let leader = leader.clone();
                async move {
                    match answer {
                        Ok(()) => {
                            let mut r = Response::new(());
                            r.metadata_mut().insert(LEADER_METADATA_KEY, leader);
                            Ok(r)
                        }
                        Err(code) => {
                            let mut s = Status::new(code, "refused");
                            s.metadata_mut().insert(LEADER_METADATA_KEY, leader);
                            Err(s)
                        }
                    }
                }
            })
            .await;
        pool.preferred()
    }

    #[tokio::test]
    async fn the_next_call_goes_to_the_leader_an_answer_names() {
        let addrs = [
            "127.0.0.1:9".to_string(),
            "127.0.0.1:10".into(),
            "127.0.0.1:11".into(),
        ];
        let pool = Pool::new(&addrs, Duration::from_millis(200))
            .unwrap()
            .follow_leader(true);
        assert_eq!(pool.preferred(), 0);
        assert_eq!(preferred_after(&pool, "127.0.0.1:11", Ok(())).await, 2);
        // A refusal names the leader too.
        let not_found = Err(Code::NotFound);
        assert_eq!(preferred_after(&pool, "127.0.0.1:10", not_found).await, 1);
        // A leader that is not one of the endpoints changes nothing: the node that answered
        // (the preferred one) stays first.
        assert_eq!(preferred_after(&pool, "10.9.9.9:7400", Ok(())).await, 1);
        // A transient failure (a deposed leader naming itself) is no hint.
        let unavailable = Err(Code::Unavailable);
        assert_eq!(preferred_after(&pool, "127.0.0.1:11", unavailable).await, 1);

        // Off, the pool keeps to the node that answered.
        let pool = Pool::new(&addrs, Duration::from_millis(200))
            .unwrap()
            .follow_leader(false);
        assert_eq!(preferred_after(&pool, "127.0.0.1:11", Ok(())).await, 0);
    }

    #[test]
    fn retryable_codes() {
        let cases = [
            (Code::Unavailable, Some(Transient::Unavailable)),
            (Code::Cancelled, Some(Transient::Unavailable)),
            (Code::DeadlineExceeded, Some(Transient::Timeout)),
            // Sent by a node (no source error): an answer, not retried.
            (Code::Unknown, None),
            (Code::Internal, None),
            (Code::NotFound, None),
            (Code::InvalidArgument, None),
            (Code::FailedPrecondition, None),
            (Code::AlreadyExists, None),
            (Code::Aborted, None),
            (Code::ResourceExhausted, None),
            (Code::Unimplemented, None),
        ];
        for (code, want) in cases {
            assert_eq!(transient(&Status::new(code, "x")), want, "{code:?}");
        }
    }

    #[test]
    fn tonic_timeout_is_a_timeout() {
        let status = Status::from_error(Box::new(tonic::TimeoutExpired(())));
        assert_eq!(status.code(), Code::Cancelled);
        assert_eq!(transient(&status), Some(Transient::Timeout));
    }

    #[test]
    fn broken_connection_unknown_is_retried() {
        // What tonic makes of an io error under a failed call: UNKNOWN with a source.
        let io = std::io::Error::other("connection closed before message completed");
        let status = Status::from_error(Box::new(io));
        assert_eq!(status.code(), Code::Unknown);
        assert_eq!(transient(&status), Some(Transient::Unavailable));
        // Without a source, the message still gives it away.
        let status = Status::unknown("transport error");
        assert_eq!(transient(&status), Some(Transient::Unavailable));
        // A node's own UNKNOWN/INTERNAL with an exception name is an answer.
        let mut status = Status::internal("connection to disk lost");
        status.metadata_mut().insert(
            EXCEPTION_METADATA_KEY,
            MetadataValue::from_static("InternalServiceException"),
        );
        assert_eq!(transient(&status), None);
        let mut status = Status::from_error(Box::new(std::io::Error::other("x")));
        status.metadata_mut().insert(
            EXCEPTION_METADATA_KEY,
            MetadataValue::from_static("InternalServiceException"),
        );
        assert_eq!(transient(&status), None);
    }

    #[test]
    fn backoff_doubles_to_500ms_with_jitter() {
        let mut b = Backoff::new();
        let ceilings = [20, 40, 80, 160, 320, 500, 500, 500];
        for ceiling in ceilings {
            let ceiling = Duration::from_millis(ceiling);
            let d = b.next_delay();
            assert!(
                d >= ceiling / 2 && d <= ceiling,
                "{d:?} not in [{:?}, {ceiling:?}]",
                ceiling / 2
            );
        }
        // Jitter: many draws at the cap are not all the same value.
        let draws: std::collections::BTreeSet<_> = (0..32).map(|_| b.next_delay()).collect();
        assert!(draws.len() > 1);
    }

    #[test]
    fn empty_pool_is_rejected() {
        let err = Pool::new(&[], Duration::from_secs(1)).err().unwrap();
        assert_eq!(err.kind, ErrorKind::InvalidRequest);
    }
}
