//! The replicated log format: [`Batch`] of [`Command`]s.
//!
//! Invariant: this enum is append-only. Variants are only ever added at the end;
//! an existing variant never changes its fields' meaning and is never removed or
//! reordered. Entries are JSON with externally tagged variant names, and
//! [`Batch::version`] says which format wrote them. A node that meets a variant
//! or version it does not know refuses to apply it and stops (fail-stop), rather
//! than diverge from its peers. Ids and timestamps are chosen by the proposing
//! node and carried here, so `apply` never reads a clock or a random source.

use serde::{Deserialize, Serialize};

use super::fleet::{FleetSpec, FleetUpdate};

/// The newest batch format this build writes and understands.
pub const FORMAT_VERSION: u32 = 1;

/// One log entry's payload: commands packed together by group commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub version: u32,
    pub commands: Vec<Command>,
}

impl Batch {
    /// A batch in the current format.
    pub fn new(commands: Vec<Command>) -> Self {
        Batch {
            version: FORMAT_VERSION,
            commands,
        }
    }
}

/// A state change. See the module docs for the compatibility rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Creates a fleet in status NEW. Added in format 1.
    CreateFleet {
        fleet_id: String,
        arn: String,
        spec: FleetSpec,
        idempotency_token: Option<String>,
        at_ms: i64,
    },
    /// Changes fleet attributes. Added in format 1.
    UpdateFleetAttributes {
        fleet_id: String,
        update: FleetUpdate,
    },
    /// Starts deleting a fleet (status DELETING). Added in format 1.
    DeleteFleet { fleet_id: String, at_ms: i64 },
    /// Removes a DELETING fleet once nothing runs for it (leader loop). Added in format 1.
    FinalizeFleetDeletion { fleet_id: String, at_ms: i64 },
}

impl Command {
    /// Short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Command::CreateFleet { .. } => "CreateFleet",
            Command::UpdateFleetAttributes { .. } => "UpdateFleetAttributes",
            Command::DeleteFleet { .. } => "DeleteFleet",
            Command::FinalizeFleetDeletion { .. } => "FinalizeFleetDeletion",
        }
    }
}
