//! `gamefleet-client`: the Rust client library of a gamefleet cluster (and,
//! in `src/bin`, the `gamefleet` CLI built on it).
//!
//! [`Client`] speaks the `GameLift` and `Admin` gRPC services of any node,
//! retries across nodes on transient failures (no leader, node down,
//! timeouts) and returns plain domain types ([`Fleet`], [`ClusterStatus`],
//! ...) with GameLift-style JSON. Errors are [`ClientError`]s whose
//! [`ErrorKind`] names the GameLift exception the node reported.
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

mod client;
mod convert;
mod endpoint;
mod error;
mod retry;
mod types;

pub use gamefleet_proto as proto;

pub use client::{Client, ClientOptions, Consistency};
pub use error::{ClientError, EXCEPTION_METADATA_KEY, ErrorKind};
pub use types::{
    ClusterStatus, CreateFleetInput, Fleet, FleetCapacity, FleetEvent, FleetStatus,
    FleetUtilization, InstanceCounts, NodeStatus, PortRange, ProtectionPolicy,
    ResourceCreationLimitPolicy, RuntimeConfiguration, ServerProcess, ServerProcessStatus, Tag,
    UpdateFleetInput,
};
