//! gamefleet-chaos: launches real `gamefleetd` clusters, injects faults into them and drives
//! the benchmarks.
//!
//! - [`cluster`]: a [`Cluster`] of real processes on 127.0.0.1 with SIGKILL / SIGTERM /
//!   SIGSTOP fault injection; used by the end-to-end tests in `tests/` and by the benchmarks.
//! - [`exec`]: runs `gamefleetd` with arbitrary arguments to completion, with a time limit, and
//!   captures its exit status and output (for command-line and error-contract tests).
//! - [`bench`](mod@bench): the `gamefleet-chaos bench ...` subcommands.
//!
//! Boundary: this crate talks to nodes only through `gamefleet-client` and OS signals; it never
//! links the node's code, so it tests the binary that ships.

pub mod bench;
pub mod cluster;
pub mod examples;
pub mod exec;

pub use cluster::{Cluster, ClusterBuilder, find_gamefleetd, gamefleetd_path};
pub use exec::{Outcome, run_command, run_gamefleetd};
