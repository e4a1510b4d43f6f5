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

use std::collections::BTreeSet;

use super::alias::{AliasSpec, AliasUpdate};
use super::fleet::{FleetSpec, FleetStatus, FleetUpdate};
use super::hosting::{Capacity, ProcessRecord, RuntimeConfiguration};
use super::session::{GameSessionRequest, GameSessionUpdate, NewPlayerSession, TerminationMode};

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
    /// Replaces a fleet's runtime configuration; running processes are replaced
    /// as they end, never killed mid-game. Added in format 1.
    UpdateRuntimeConfiguration {
        fleet_id: String,
        runtime_configuration: RuntimeConfiguration,
        at_ms: i64,
    },
    /// Changes a fleet's instance capacity. Added in format 1.
    UpdateFleetCapacity {
        fleet_id: String,
        instances: Capacity,
    },
    /// The leader's choice of nodes to host a fleet. Added in format 1.
    AssignFleetNodes {
        fleet_id: String,
        nodes: BTreeSet<u64>,
        at_ms: i64,
    },
    /// A fleet status change decided by the leader (records FLEET_STATE_*). Added in format 1.
    SetFleetStatus {
        fleet_id: String,
        status: FleetStatus,
        at_ms: i64,
    },
    /// A node started a server process. Added in format 1.
    ProcessLaunched { process: ProcessRecord },
    /// A process called ProcessReady (with the port it reported, since format 1 too; absent
    /// in older entries). Added in format 1.
    ProcessReady {
        process_id: String,
        at_ms: i64,
        #[serde(default)]
        port: Option<u16>,
    },
    /// A process's health verdict changed. Added in format 1.
    ProcessHealthChanged {
        process_id: String,
        healthy: bool,
        at_ms: i64,
    },
    /// A process was asked to end or called ProcessEnding. Added in format 1.
    ProcessTerminating { process_id: String, at_ms: i64 },
    /// A process is gone; with an event code (e.g. SERVER_PROCESS_CRASHED) it is logged. Added in format 1.
    ProcessEnded {
        process_id: String,
        event_code: Option<String>,
        message: String,
        at_ms: i64,
    },
    /// A fleet event a node observed (e.g. SERVER_PROCESS_INVALID_PATH). Added in format 1.
    RecordFleetEvent {
        fleet_id: String,
        event_code: String,
        message: String,
        at_ms: i64,
    },
    /// A node restarted, or the leader lost it: every process it ran is gone, and their game
    /// sessions end (ERROR, NODE_LOST). Added in format 1.
    NodeProcessesReset { node_id: u64, at_ms: i64 },
    /// The leader placed a new game session on `process_id` (ACTIVATING). Added in format 1.
    CreateGameSession {
        game_session_id: String,
        process_id: String,
        request: GameSessionRequest,
        at_ms: i64,
    },
    /// The hosting process called ActivateGameSession. Added in format 1.
    ActivateGameSession {
        process_id: String,
        game_session_id: String,
        at_ms: i64,
    },
    /// UpdateGameSession; with `process_id`, from that game server (its own session only).
    /// Added in format 1.
    UpdateGameSession {
        game_session_id: String,
        process_id: Option<String>,
        update: GameSessionUpdate,
        at_ms: i64,
    },
    /// TerminateGameSession. Added in format 1.
    TerminateGameSession {
        game_session_id: String,
        mode: TerminationMode,
        at_ms: i64,
    },
    /// The leader saw the session ACTIVATING past its fleet's activation timeout. Added in
    /// format 1.
    GameSessionActivationTimedOut { game_session_id: String, at_ms: i64 },
    /// CreatePlayerSession(s): all or none. Added in format 1.
    CreatePlayerSessions {
        game_session_id: String,
        players: Vec<NewPlayerSession>,
        at_ms: i64,
    },
    /// The hosting process accepted a player (RESERVED → ACTIVE). Added in format 1.
    AcceptPlayerSession {
        process_id: String,
        game_session_id: String,
        player_session_id: String,
        at_ms: i64,
    },
    /// The hosting process removed a player (→ COMPLETED). Added in format 1.
    RemovePlayerSession {
        process_id: String,
        game_session_id: String,
        player_session_id: String,
        at_ms: i64,
    },
    /// The leader saw these reservations pass the reservation timeout (→ TIMEDOUT). Added in
    /// format 1.
    TimeOutPlayerSessions {
        player_session_ids: Vec<String>,
        at_ms: i64,
    },
    /// CreateAlias. Added in format 1.
    CreateAlias {
        alias_id: String,
        arn: String,
        spec: AliasSpec,
        at_ms: i64,
    },
    /// UpdateAlias. Added in format 1.
    UpdateAlias {
        alias_id: String,
        update: AliasUpdate,
        at_ms: i64,
    },
    /// DeleteAlias. Added in format 1.
    DeleteAlias { alias_id: String },
}

impl Command {
    /// Short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Command::CreateFleet { .. } => "CreateFleet",
            Command::UpdateFleetAttributes { .. } => "UpdateFleetAttributes",
            Command::DeleteFleet { .. } => "DeleteFleet",
            Command::FinalizeFleetDeletion { .. } => "FinalizeFleetDeletion",
            Command::UpdateRuntimeConfiguration { .. } => "UpdateRuntimeConfiguration",
            Command::UpdateFleetCapacity { .. } => "UpdateFleetCapacity",
            Command::AssignFleetNodes { .. } => "AssignFleetNodes",
            Command::SetFleetStatus { .. } => "SetFleetStatus",
            Command::ProcessLaunched { .. } => "ProcessLaunched",
            Command::ProcessReady { .. } => "ProcessReady",
            Command::ProcessHealthChanged { .. } => "ProcessHealthChanged",
            Command::ProcessTerminating { .. } => "ProcessTerminating",
            Command::ProcessEnded { .. } => "ProcessEnded",
            Command::RecordFleetEvent { .. } => "RecordFleetEvent",
            Command::NodeProcessesReset { .. } => "NodeProcessesReset",
            Command::CreateGameSession { .. } => "CreateGameSession",
            Command::ActivateGameSession { .. } => "ActivateGameSession",
            Command::UpdateGameSession { .. } => "UpdateGameSession",
            Command::TerminateGameSession { .. } => "TerminateGameSession",
            Command::GameSessionActivationTimedOut { .. } => "GameSessionActivationTimedOut",
            Command::CreatePlayerSessions { .. } => "CreatePlayerSessions",
            Command::AcceptPlayerSession { .. } => "AcceptPlayerSession",
            Command::RemovePlayerSession { .. } => "RemovePlayerSession",
            Command::TimeOutPlayerSessions { .. } => "TimeOutPlayerSessions",
            Command::CreateAlias { .. } => "CreateAlias",
            Command::UpdateAlias { .. } => "UpdateAlias",
            Command::DeleteAlias { .. } => "DeleteAlias",
        }
    }
}
