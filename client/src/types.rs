//! Domain types of the client API: fleets and their hosting (runtime
//! configuration, port range, capacity, events, utilization, server
//! processes), cluster status, the inputs of the fleet operations, and one
//! [`Page`] of a paged listing. Game and player sessions live in `sessions`,
//! aliases in `aliases`.
//!
//! These are plain data with GameLift-style PascalCase JSON (`FleetId`,
//! `CreationTime`, ...), so the CLI and tools can print them. They know
//! nothing about protobuf; the conversions live in `convert`.

mod aliases;
mod sessions;

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ClientError;

pub use aliases::{
    Alias, CreateAliasInput, ResolvedAlias, RoutingStrategy, RoutingStrategyType, UpdateAliasInput,
};
pub use sessions::{
    CreateGameSessionInput, DescribeGameSessionsInput, DescribePlayerSessionsInput, FleetOrAlias,
    GameProperty, GameSession, GameSessionDetail, GameSessionSelector, GameSessionStatus,
    GameSessionStatusReason, PlayerSession, PlayerSessionCreationPolicy, PlayerSessionSelector,
    PlayerSessionStatus, SearchGameSessionsInput, TerminationMode, UpdateGameSessionInput,
};

/// One page of a paged listing: its items, and the token of the next page
/// (`None` on the last page). Serialized as `{"Items": [...], "NextToken": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Page<T> {
    /// The items of this page, in the server's order.
    pub items: Vec<T>,
    /// Pass this back to get the next page; `None` when there is none.
    pub next_token: Option<String>,
}

/// The value of `all` whose GameLift name (`name(value)`) matches `s`,
/// ignoring ASCII case and reading `-` as `_` (so `deny-all` is `DENY_ALL`).
/// Fails with `InvalidRequest` naming `what` and the accepted names.
pub(crate) fn parse_name<T: Copy>(
    what: &str,
    s: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<T, ClientError> {
    let wanted = s.trim().replace('-', "_");
    all.iter()
        .copied()
        .find(|v| name(*v).eq_ignore_ascii_case(&wanted))
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|v| name(*v)).collect();
            ClientError::invalid_request(format!(
                "{what} {s:?}: expected one of {}",
                names.join(", ")
            ))
        })
}

/// A fleet's attributes, as GameLift's `FleetAttributes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Fleet {
    /// The fleet id (`fleet-…`).
    pub fleet_id: String,
    /// The fleet ARN.
    pub fleet_arn: String,
    /// The fleet's name.
    pub name: String,
    /// The description, if one was set.
    pub description: Option<String>,
    /// Creation time, Unix epoch milliseconds.
    pub creation_time: i64,
    /// Termination time, Unix epoch milliseconds; `None` while not terminated.
    pub termination_time: Option<i64>,
    /// The fleet's status.
    pub status: FleetStatus,
    /// The protection policy given to new game sessions.
    pub new_game_session_protection_policy: ProtectionPolicy,
    /// The per-creator game session creation limit, if any.
    pub resource_creation_limit_policy: Option<ResourceCreationLimitPolicy>,
    /// Metric groups (at most one).
    pub metric_groups: Vec<String>,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Node `location` label values the fleet may run on; empty: any node.
    pub locations: Vec<String>,
    /// Ports the fleet's server processes listen on; `None` when the server
    /// sent none.
    pub port_range: Option<PortRange>,
    /// Nodes currently assigned to host the fleet.
    pub hosting_node_ids: Vec<u64>,
    /// How CreateGameSession picks among the fleet's ready processes.
    pub placement_strategy: PlacementStrategy,
}

/// One kind of server process, as GameLift's `ServerProcess`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerProcess {
    /// Absolute path of the game server executable on the nodes.
    pub launch_path: String,
    /// Command-line parameters; `{port}` is replaced by the process's port.
    pub parameters: Option<String>,
    /// Copies run on each hosting node (1 or more).
    pub concurrent_executions: i32,
}

impl ServerProcess {
    /// `concurrent_executions` copies of `launch_path`, without parameters.
    pub fn new(launch_path: impl Into<String>, concurrent_executions: i32) -> ServerProcess {
        ServerProcess {
            launch_path: launch_path.into(),
            parameters: None,
            concurrent_executions,
        }
    }
}

/// Which server processes run on each hosting node, as GameLift's
/// `RuntimeConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuntimeConfiguration {
    /// The processes (1-50 entries; at most 50 copies per node in total).
    pub server_processes: Vec<ServerProcess>,
    /// Most game sessions activating at once per node; `None`: no limit.
    pub max_concurrent_game_session_activations: Option<i32>,
    /// Seconds a game session may take to become active (1-600); `None`:
    /// the server's default.
    pub game_session_activation_timeout_seconds: Option<i32>,
}

/// An inclusive range of ports, as GameLift's `FromPort`/`ToPort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortRange {
    /// First port (1026-60000).
    pub from_port: u32,
    /// Last port, inclusive (at least `from_port`).
    pub to_port: u32,
}

/// Instance (hosting node) counts, as GameLift's `EC2InstanceCounts`;
/// serialized with its upper-case names (`DESIRED`, `MINIMUM`, ...).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct InstanceCounts {
    /// Nodes that should host the fleet.
    pub desired: i32,
    /// Fewest nodes allowed.
    pub minimum: i32,
    /// Most nodes allowed.
    pub maximum: i32,
    /// Nodes hosting the fleet now (output only; ignored on create).
    pub active: i32,
}

/// A fleet's capacity, as GameLift's `FleetCapacity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FleetCapacity {
    /// The fleet id.
    pub fleet_id: String,
    /// The fleet ARN.
    pub fleet_arn: String,
    /// Desired, minimum, maximum and active instance counts.
    pub instance_counts: InstanceCounts,
}

/// One entry of a fleet's event log, as GameLift's `Event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FleetEvent {
    /// The event id (`event-…`), increasing with time.
    pub event_id: String,
    /// The resource the event is about (the fleet id).
    pub resource_id: String,
    /// GameLift event code, e.g. `SERVER_PROCESS_CRASHED`.
    pub event_code: String,
    /// What happened, for humans.
    pub message: String,
    /// When, Unix epoch milliseconds.
    pub event_time: i64,
}

/// A fleet's current use, as GameLift's `FleetUtilization`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FleetUtilization {
    /// The fleet id.
    pub fleet_id: String,
    /// The fleet ARN.
    pub fleet_arn: String,
    /// Server processes that called ProcessReady and are not terminating.
    pub active_server_process_count: i32,
    /// Game sessions active now.
    pub active_game_session_count: i32,
    /// Player sessions active or reserved now.
    pub current_player_session_count: i32,
    /// Player slots of the active game sessions.
    pub maximum_player_session_count: i32,
}

/// One server process of a fleet, as the hosting node reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerProcessStatus {
    /// The process id (cluster-wide, not the OS pid).
    pub process_id: String,
    /// The fleet it serves.
    pub fleet_id: String,
    /// The node running it.
    pub node_id: u64,
    /// That node's name; empty when the answering node does not know it.
    pub node_name: String,
    /// The OS process id on its node.
    pub pid: u32,
    /// The port it was given.
    pub port: u32,
    /// `LAUNCHING`, `ACTIVE` or `TERMINATING`.
    pub status: String,
    /// `HEALTHY` or `UNHEALTHY`.
    pub health: String,
    /// Launch time, Unix epoch milliseconds.
    pub launch_time: i64,
    /// When it called ProcessReady, Unix epoch milliseconds; `None` before.
    pub ready_time: Option<i64>,
    /// The executable it runs.
    pub launch_path: String,
}

/// A key/value tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// Tag key, 1-128 characters.
    pub key: String,
    /// Tag value, 0-256 characters.
    pub value: String,
}

impl Tag {
    /// A tag with the given key and value.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Tag {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// Limits how many game sessions one creator may create in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceCreationLimitPolicy {
    /// Game sessions one creator may create per period.
    pub new_game_sessions_per_creator: i32,
    /// The period, in minutes.
    pub policy_period_in_minutes: i32,
}

/// GameLift's `NewGameSessionProtectionPolicy`; serialized as
/// `"NoProtection"` / `"FullProtection"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ProtectionPolicy {
    /// Game sessions may be terminated during scale-down (the default).
    #[default]
    NoProtection,
    /// Game sessions with players are protected from scale-down.
    FullProtection,
}

impl ProtectionPolicy {
    /// The GameLift name, e.g. `"NoProtection"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProtectionPolicy::NoProtection => "NoProtection",
            ProtectionPolicy::FullProtection => "FullProtection",
        }
    }
}

/// How a new game session's process is chosen among a fleet's ready
/// processes (after location); serialized as `"PACK"` / `"SPREAD"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlacementStrategy {
    /// Fill the busiest node first, so idle nodes stay idle (the default).
    #[default]
    Pack,
    /// Use the least busy node first (spreads load and blast radius).
    Spread,
}

impl PlacementStrategy {
    /// Every strategy.
    pub const ALL: [PlacementStrategy; 2] = [PlacementStrategy::Pack, PlacementStrategy::Spread];

    /// The name, `"PACK"` or `"SPREAD"`.
    pub fn as_str(self) -> &'static str {
        match self {
            PlacementStrategy::Pack => "PACK",
            PlacementStrategy::Spread => "SPREAD",
        }
    }
}

impl FromStr for PlacementStrategy {
    type Err = ClientError;

    /// `PACK` or `SPREAD`, in any case.
    fn from_str(s: &str) -> Result<PlacementStrategy, ClientError> {
        parse_name(
            "placement strategy",
            s,
            &PlacementStrategy::ALL,
            Self::as_str,
        )
    }
}

/// A fleet's status; serialized as GameLift's `"NEW"`, `"ACTIVE"`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FleetStatus {
    /// `NEW`.
    New,
    /// `DOWNLOADING`.
    Downloading,
    /// `VALIDATING`.
    Validating,
    /// `BUILDING`.
    Building,
    /// `ACTIVATING`.
    Activating,
    /// `ACTIVE`.
    Active,
    /// `DELETING`.
    Deleting,
    /// `ERROR`.
    Error,
    /// `TERMINATED`.
    Terminated,
    /// `UNKNOWN`: the server sent no status, or one this client does not know.
    Unknown,
}

impl FleetStatus {
    /// The GameLift name, e.g. `"ACTIVE"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FleetStatus::New => "NEW",
            FleetStatus::Downloading => "DOWNLOADING",
            FleetStatus::Validating => "VALIDATING",
            FleetStatus::Building => "BUILDING",
            FleetStatus::Activating => "ACTIVATING",
            FleetStatus::Active => "ACTIVE",
            FleetStatus::Deleting => "DELETING",
            FleetStatus::Error => "ERROR",
            FleetStatus::Terminated => "TERMINATED",
            FleetStatus::Unknown => "UNKNOWN",
        }
    }
}

/// The cluster as seen from the node that answered `ClusterStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClusterStatus {
    /// The cluster id.
    pub cluster_id: String,
    /// The leader's node id; `None` when no leader is known.
    pub leader_id: Option<u64>,
    /// The leader's name; empty when no leader is known.
    pub leader_name: String,
    /// The answering node's current term.
    pub term: u64,
    /// Every member, each asked for its own status.
    pub nodes: Vec<NodeStatus>,
    /// The node id of the node that answered.
    pub answered_by: u64,
}

impl ClusterStatus {
    /// The leader's entry in `nodes`, if a leader is known and listed.
    pub fn leader(&self) -> Option<&NodeStatus> {
        let id = self.leader_id?;
        self.nodes.iter().find(|n| n.node_id == id)
    }
}

/// One member's status, as reported by itself (or marked unreachable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NodeStatus {
    /// The node id.
    pub node_id: u64,
    /// The node's unique name.
    pub name: String,
    /// The node's advertised address (`host:port`).
    pub address: String,
    /// `LEADER`, `FOLLOWER`, `CANDIDATE`, `LEARNER` or `UNREACHABLE`.
    pub role: String,
    /// Whether the node is a voter (else a learner).
    pub voter: bool,
    /// The node's current term.
    pub term: u64,
    /// Index of the node's last log entry.
    pub last_log_index: u64,
    /// Index of the last entry applied to the node's state machine.
    pub last_applied_index: u64,
    /// Index covered by the node's latest snapshot.
    pub snapshot_index: u64,
    /// Index up to which the node's log has been purged.
    pub purged_index: u64,
    /// `"ok"`, or why the node could not be asked (`"unreachable: ..."`).
    pub health: String,
    /// The node's labels (e.g. `location=custom-eu`).
    pub labels: BTreeMap<String, String>,
    /// Hex SHA-256 of the applied state (equal on nodes at the same applied index).
    pub state_hash: String,
    /// The cluster id as the node knows it.
    pub cluster_id: String,
    /// The leader as the node knows it; `None` when it knows none.
    pub leader_id: Option<u64>,
}

/// Input of [`crate::Client::create_fleet`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateFleetInput {
    /// Fleet name, 1-1024 characters.
    pub name: String,
    /// Optional description, 1-1024 characters.
    pub description: Option<String>,
    /// Protection for new game sessions; the server defaults to `NoProtection`.
    pub protection_policy: Option<ProtectionPolicy>,
    /// Optional per-creator game session limit.
    pub resource_creation_limit_policy: Option<ResourceCreationLimitPolicy>,
    /// Metric groups (at most one).
    pub metric_groups: Vec<String>,
    /// Tags (at most 200, unique keys).
    pub tags: Vec<Tag>,
    /// Idempotency token (1-48 characters of `[a-zA-Z0-9-]`). When `None` the
    /// client generates a UUID v4 and sends it on every retry of this call.
    pub idempotency_token: Option<String>,
    /// The server processes to run; `None`: a data-only fleet (no processes).
    pub runtime_configuration: Option<RuntimeConfiguration>,
    /// Ports for the processes; `None`: the server's default (30000-39999).
    pub port_range: Option<PortRange>,
    /// Node `location` label values the fleet may run on; empty: any node.
    pub locations: Vec<String>,
    /// Desired, minimum and maximum hosting nodes (`active` is ignored);
    /// `None`: the server's default (desired 1, minimum 0, maximum 1).
    pub instances: Option<InstanceCounts>,
    /// How game sessions are placed; `None`: the server's default (`PACK`).
    pub placement_strategy: Option<PlacementStrategy>,
}

/// Input of [`crate::Client::update_fleet`]; `None` fields are left unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateFleetInput {
    /// The fleet to update (id or ARN).
    pub fleet_id: String,
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New protection policy for new game sessions.
    pub protection_policy: Option<ProtectionPolicy>,
    /// New per-creator game session limit.
    pub resource_creation_limit_policy: Option<ResourceCreationLimitPolicy>,
    /// Replaces the metric groups; `Some(vec![])` clears them.
    pub metric_groups: Option<Vec<String>>,
    /// New game session placement strategy.
    pub placement_strategy: Option<PlacementStrategy>,
}
