//! gamefleet's server SDK: what a game server links to talk to its local gamefleet node.
//!
//! It speaks the **Amazon GameLift Server SDK 5 WebSocket protocol**, exactly as the official
//! SDKs do, so the node cannot tell this SDK from an official one and a game server built with an
//! official GameLift SDK 5 runs on gamefleet unchanged (DESIGN.md decision 7).
//!
//! * [`protocol`]: the wire format (every frame, the connect query, the env variable names),
//!   shared with the node's SDK endpoint. No IO.
//! * [`GameLiftServerSdk`]: the API a game server calls, named after the official
//!   `GameLiftServerAPI` (`init_sdk`, `process_ready`, `activate_game_session`,
//!   `accept_player_session`, …).
//!
//! This crate must not depend on tonic, sled, openraft or any gamefleet crate: game servers link
//! it.
//!
//! # Lifecycle
//!
//! ```no_run
//! use gamefleet_sdk::{GameLiftServerSdk, ProcessParameters};
//!
//! # async fn run() -> Result<(), gamefleet_sdk::SdkError> {
//! // Reads GAMELIFT_SDK_WEBSOCKET_URL, _AUTH_TOKEN, _PROCESS_ID, _HOST_ID and _FLEET_ID.
//! let sdk = GameLiftServerSdk::init_sdk_from_env().await?;
//! let on_start = sdk.clone();
//! sdk.process_ready(
//!     ProcessParameters::new(7777)
//!         .on_start_game_session(move |session| {
//!             let sdk = on_start.clone();
//!             async move {
//!                 // Load the map for `session`, then:
//!                 let _ = sdk.activate_game_session().await;
//!             }
//!         })
//!         .on_process_terminate(|| async { /* save, then call process_ending */ }),
//! )
//! .await?;
//! // ... players connect: accept_player_session / remove_player_session ...
//! sdk.process_ending().await?;
//! sdk.destroy().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Every request carries a fresh `RequestId` and waits for the matching reply (20 s, 6 s for
//! `process_ready`); pushes without a `RequestId` run the callbacks; heartbeats go out every
//! 60 s ± 10 s with the `on_health_check` verdict; a dropped socket is reopened with backoff, and
//! `RefreshConnection` is followed. [`SdkConfig`] holds every timer.

#![deny(missing_docs)]

mod connection;
mod error;
mod params;
pub mod protocol;
mod server;
mod validate;

pub use error::{SdkError, ServiceErrorKind};
pub use params::{
    BoxFuture, OnHealthCheck, OnProcessTerminate, OnStartGameSession, OnUpdateGameSession,
    ProcessParameters, SdkConfig, ServerParameters, UpdateGameSession, parse_go_duration,
};
pub use protocol::{
    DescribePlayerSessionsRequest, DescribePlayerSessionsResult, GameSession,
    GetComputeCertificateResult, GetFleetRoleCredentialsRequest, GetFleetRoleCredentialsResult,
    Player, PlayerSession, PlayerSessionCreationPolicy, PlayerSessionStatus,
    StartMatchBackfillRequest, StartMatchBackfillResult, StopMatchBackfillRequest,
};
pub use server::GameLiftServerSdk;
