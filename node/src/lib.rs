//! gamefleet-node: the `gamefleetd` daemon as a library.
//!
//! # Layout
//! - [`fsm`]: the pure replicated state machine (fleets), its command log
//!   format and field rules. No IO.
//! - [`raft`]: openraft glue: sled log store, state-machine store, gRPC
//!   network, group-commit proposer.
//! - [`api`]: the tonic services (client `GameLift`, operator `Admin`, node
//!   `RaftPeer`), proto conversion and the one error-to-status mapping.
//! - [`cluster`]: node identity, bootstrap and join.
//! - [`leader`]: leader-only loops (voter promotion, fleet deletion).
//! - [`supervisor`]: runs the game server processes of the fleets assigned to
//!   this node (launch, timers, health, no orphans).
//! - [`sdk_endpoint`]: the game-server WebSocket (GameLift Server SDK 5).
//! - [`search`]: SearchGameSessions filter and sort expressions (parse,
//!   print, evaluate). No IO.
//! - [`config`]: TOML/flags/env configuration.
//! - [`server`]: wires it all together ([`server::run`]).
//! - [`dev`]: `gamefleetd dev`, a local cluster in one command.

pub mod api;
pub mod cluster;
pub mod config;
pub mod dev;
pub mod fsm;
pub mod leader;
pub mod placement;
pub mod raft;
pub mod sdk_endpoint;
pub mod search;
pub mod server;
pub mod supervisor;
