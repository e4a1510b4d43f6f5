//! The `Batch` service: several GameLift calls in one RPC.
//!
//! Client libraries send the concurrent calls of many callers on one connection together
//! (client-side batching); the node saves the per-RPC cost of each (HTTP/2 framing, syscalls,
//! task wake-ups), which on a busy node is most of a small write's cost. Each call runs through
//! the very same `GameLift` handler it would reach on its own, concurrently with the others, so
//! writes entering together land in the same proposer batch (one Raft entry). Every call gets
//! its own result, in order; errors keep their code, message and exception name (mapped once,
//! in `error.rs`). Nothing is atomic across calls.

use std::future::Future;

use futures::future::join_all;
use gamefleet_proto::v1 as pb;
use pb::batch_call::Call;
use pb::batch_result::Result as Outcome;
use pb::game_lift_server::GameLift;
use tonic::{Request, Response, Status};

use super::error::{ApiError, batch_error};
use super::gamelift::GameLiftService;

/// Most calls one batch may carry.
pub const MAX_CALLS: usize = 256;

/// The batch service; runs each call through the `GameLift` service.
pub struct BatchService {
    pub gamelift: GameLiftService,
}

/// A handler's response (or error) as a batch result.
fn wrap<T>(r: Result<Response<T>, Status>, ok: fn(T) -> Outcome) -> Outcome {
    match r {
        Ok(resp) => ok(resp.into_inner()),
        Err(status) => Outcome::Error(batch_error(&status)),
    }
}

/// `execute`: one call through the `GameLift` handler of its operation (the variant names of
/// `Call` and `Outcome` are the operation's).
macro_rules! dispatch {
    ($($variant:ident => $method:ident,)*) => {
        /// Runs one call and wraps its response (or error) as a batch result.
        async fn execute(svc: &GameLiftService, call: Option<Call>) -> pb::BatchResult {
            let result = match call {
                None => Outcome::Error(batch_error(&Status::from(ApiError::invalid(
                    "calls",
                    "every call must name one operation",
                )))),
                $(
                    Some(Call::$variant(r)) => {
                        wrap(svc.$method(Request::new(r)).await, Outcome::$variant)
                    }
                )*
            };
            pb::BatchResult {
                result: Some(result),
            }
        }
    };
}

dispatch! {
    UpdateFleetAttributes => update_fleet_attributes,
    DescribeFleetAttributes => describe_fleet_attributes,
    CreateGameSession => create_game_session,
    DescribeGameSessions => describe_game_sessions,
    UpdateGameSession => update_game_session,
    TerminateGameSession => terminate_game_session,
    CreatePlayerSession => create_player_session,
    CreatePlayerSessions => create_player_sessions,
    DescribePlayerSessions => describe_player_sessions,
}

#[tonic::async_trait]
impl pb::batch_server::Batch for BatchService {
    async fn execute(
        &self,
        req: Request<pb::BatchRequest>,
    ) -> Result<Response<pb::BatchResponse>, Status> {
        let calls = req.into_inner().calls;
        if calls.is_empty() || calls.len() > MAX_CALLS {
            return Err(ApiError::invalid(
                "calls",
                format!(
                    "a batch carries 1 to {MAX_CALLS} calls (got {})",
                    calls.len()
                ),
            )
            .into());
        }
        // Every call reaches the proposer in the first poll of `all`; the hold keeps the
        // proposer from cutting a batch until then, so the calls' commands share one entry.
        // NB: unconstrained, or Tokio's cooperative budget (128 channel operations per poll)
        // would make the later calls of a large batch submit only after the hold is gone.
        let mut hold = Some(self.gamelift.node.proposer.hold());
        let mut all = std::pin::pin!(tokio::task::unconstrained(join_all(
            calls.into_iter().map(|c| execute(&self.gamelift, c.call)),
        )));
        let results = std::future::poll_fn(|cx| {
            let r = all.as_mut().poll(cx);
            hold = None;
            r
        })
        .await;
        Ok(Response::new(pb::BatchResponse { results }))
    }
}
