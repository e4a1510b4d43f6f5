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

#[cfg(test)]
mod tidy {
    //! Tidy checks on this crate's sources.

    use std::path::Path;

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_module_starts_with_a_module_doc() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        assert!(files.len() >= 8, "{files:?}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(
                text.starts_with("//!"),
                "{} must start with a `//!` doc saying what it owns",
                file.display()
            );
            for (i, line) in text.lines().enumerate() {
                assert_eq!(
                    line.trim_end(),
                    line,
                    "{}:{}: trailing whitespace",
                    file.display(),
                    i + 1
                );
            }
        }
    }
}
