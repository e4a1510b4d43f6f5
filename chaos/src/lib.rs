//! gamefleet-chaos: launches real `gamefleetd` clusters, injects faults into them and drives
//! the benchmarks.
//!
//! - [`cluster`]: a [`Cluster`] of real processes on 127.0.0.1 with SIGKILL / SIGTERM /
//!   SIGSTOP fault injection; used by the end-to-end tests in `tests/` and by the benchmarks.
//! - [`exec`]: runs `gamefleetd` with arbitrary arguments to completion, with a time limit, and
//!   captures its exit status and output (for command-line and error-contract tests).
//! - [`bench`](mod@bench): the `gamefleet-chaos bench ...` subcommands.
//! - [`history`]: what every client was told, as JSON lines; [`checker`]: the invariants and
//!   per-game-session linearizability checked over a history and the healed cluster's state.
//! - [`net`]: real network faults: each node in its own network namespace, cut with iptables
//!   and slowed with tc netem.
//!
//! Boundary: this crate talks to nodes only through `gamefleet-client` and OS signals; it never
//! links the node's code, so it tests the binary that ships.

pub mod bench;
pub mod checker;
pub mod cluster;
pub mod examples;
pub mod exec;
pub mod faults;
pub mod history;
pub mod net;
pub mod run;

pub use cluster::{Cluster, ClusterBuilder, find_gamefleetd, gamefleetd_path};
pub use exec::{Outcome, run_command, run_gamefleetd};
