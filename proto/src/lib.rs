//! The gamefleet wire contract: generated protobuf messages and tonic
//! clients/servers for the client API (`GameLift`), the operator API (`Admin`)
//! and the node-to-node API (`RaftPeer`).
//!
//! Only this crate and the conversion modules at the edges (`gamefleet-node`'s
//! `api`, `gamefleet-client`) know these types; domain code does not.

#![allow(missing_docs, clippy::all)]

/// Generated code for package `gamefleet.v1`.
pub mod v1 {
    tonic::include_proto!("gamefleet.v1");

    /// The encoded file descriptor set of every gamefleet .proto file.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("gamefleet_descriptor");
}

pub use v1::*;
