//! `gamefleet-client`: the Rust client library of a gamefleet cluster (and,
//! in `src/bin`, the `gamefleet` CLI built on it).
//!
//! [`Client`] speaks the `GameLift` and `Admin` gRPC services of any node,
//! retries across nodes on transient failures (no leader, node down,
//! timeouts) and returns plain domain types ([`Fleet`], [`GameSession`],
//! [`PlayerSession`], [`Alias`], [`ClusterStatus`], ...) with GameLift-style
//! JSON. Errors are [`ClientError`]s whose [`ErrorKind`] names the GameLift
//! exception the node reported.
//!
//! ```no_run
//! # async fn demo() -> Result<(), gamefleet_client::ClientError> {
//! use gamefleet_client::{Client, CreateFleetInput};
//!
//! let client = Client::new(["127.0.0.1:7400", "127.0.0.1:7401"])?;
//! let fleet = client
//!     .create_fleet(CreateFleetInput { name: "arena".into(), ..Default::default() })
//!     .await?;
//! println!("{} is {}", fleet.fleet_id, fleet.status.as_str());
//! # Ok(()) }
//! ```
//!
//! Boundary: protobuf types stay inside this crate's `convert` module; the
//! public API takes and returns domain types only (the generated code is
//! re-exported as [`proto`] for callers that need the raw wire types).

#![warn(missing_docs)]

mod batch;
mod client;
mod convert;
mod endpoint;
mod error;
mod retry;
mod types;

pub use gamefleet_proto as proto;

pub use client::{Client, ClientOptions, Consistency};
pub use error::{ClientError, EXCEPTION_METADATA_KEY, ErrorKind};
pub use retry::LEADER_METADATA_KEY;
pub use types::{
    Alias, ClusterStatus, CreateAliasInput, CreateFleetInput, CreateGameSessionInput,
    DescribeGameSessionsInput, DescribePlayerSessionsInput, Fleet, FleetCapacity, FleetEvent,
    FleetOrAlias, FleetStatus, FleetUtilization, GameProperty, GameSession, GameSessionDetail,
    GameSessionSelector, GameSessionStatus, GameSessionStatusReason, InstanceCounts, NodeStatus,
    Page, PlacementStrategy, PlayerSession, PlayerSessionCreationPolicy, PlayerSessionSelector,
    PlayerSessionStatus, PortRange, ProtectionPolicy, ResolvedAlias, ResourceCreationLimitPolicy,
    RoutingStrategy, RoutingStrategyType, RuntimeConfiguration, SearchGameSessionsInput,
    ServerProcess, ServerProcessStatus, Tag, TerminationMode, UpdateAliasInput, UpdateFleetInput,
    UpdateGameSessionInput,
};
