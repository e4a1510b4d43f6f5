//! The `gamefleet` command line: clap definitions and the parsers of
//! CLI-local syntax (`KEY=VALUE` tags and game properties, `PLAYER=DATA`,
//! timeouts and durations, `PATH[:N[:PARAMS]]` server processes, `FROM-TO`
//! port ranges, RFC 3339 or millisecond times, status names). Values the
//! server checks (name lengths, tag and property limits, port, instance and
//! player bounds, filter expressions, ...) are passed through unchecked.

use std::str::FromStr;
use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use gamefleet_client::{
    ClientError, FleetOrAlias, GameProperty, GameSessionStatus, PlacementStrategy,
    PlayerSessionCreationPolicy, PlayerSessionStatus, PortRange, ProtectionPolicy, RoutingStrategy,
    RoutingStrategyType, ServerProcess, Tag,
};

/// Help heading of the options every command takes.
const GLOBAL: &str = "Global options";

/// Manage a gamefleet cluster and its fleets.
#[derive(Debug, Parser)]
#[command(name = "gamefleet", version, propagate_version = true)]
pub struct Cli {
    /// Node addresses (host:port or http://host:port), comma separated; any
    /// member will do, the others are tried when one is down.
    #[arg(
        long,
        global = true,
        env = "GAMEFLEET_ENDPOINTS",
        value_delimiter = ',',
        default_value = "127.0.0.1:7400",
        value_name = "ADDR,...",
        help_heading = GLOBAL
    )]
    pub endpoints: Vec<String>,

    /// Print JSON (GameLift field names) instead of tables.
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub json: bool,

    /// Serve reads from the answering node's local replica (possibly stale;
    /// works without a leader).
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub stale: bool,

    /// Give up after this many seconds, retries included (default 15).
    #[arg(
        long,
        global = true,
        value_name = "SECS",
        value_parser = parse_timeout,
        help_heading = GLOBAL
    )]
    pub timeout: Option<Duration>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Cluster-wide information.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Cluster membership.
    #[command(subcommand)]
    Node(NodeCommand),
    /// Fleets (GameLift CreateFleet, DescribeFleetAttributes, ...).
    #[command(subcommand)]
    Fleet(FleetCommand),
    /// Game sessions (GameLift CreateGameSession, DescribeGameSessions,
    /// SearchGameSessions, ...).
    #[command(subcommand)]
    Session(SessionCommand),
    /// Player sessions (GameLift CreatePlayerSession(s),
    /// DescribePlayerSessions).
    #[command(subcommand)]
    Player(PlayerCommand),
    /// Aliases (GameLift CreateAlias, ListAliases, ResolveAlias, ...).
    #[command(subcommand)]
    Alias(AliasCommand),
}

/// `gamefleet cluster ...`
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Show the cluster id, leader, term and every node's status.
    Status,
}

/// `gamefleet node ...`
#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// List the nodes and their status.
    List,
    /// Ask a running node (started with --no-bootstrap) to join the cluster
    /// reached through --endpoints.
    Join {
        /// The new node's address (host:port).
        #[arg(value_name = "NEW_NODE_ADDR")]
        new_node_addr: String,
    },
    /// Remove a node from the cluster.
    Remove {
        /// The node's name or decimal id.
        #[arg(value_name = "NAME|ID")]
        node: String,
    },
}

/// `gamefleet fleet ...`
#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Create a fleet.
    Create(Box<CreateArgs>),
    /// List fleet ids.
    List,
    /// Describe fleets (all fleets when no id is given).
    Describe {
        /// Fleet ids or ARNs.
        #[arg(value_name = "ID")]
        fleet_ids: Vec<String>,
    },
    /// Update a fleet's attributes (only the options given change).
    Update(UpdateArgs),
    /// Delete a fleet.
    Delete {
        /// The fleet id or ARN.
        #[arg(value_name = "ID")]
        fleet_id: String,
    },
    /// Show a fleet's server processes (node, process id, pid, port,
    /// status, health, uptime).
    Processes {
        /// The fleet id or ARN.
        #[arg(value_name = "ID")]
        fleet_id: String,
    },
    /// Show a fleet's events, oldest first.
    Events {
        /// The fleet id or ARN.
        #[arg(value_name = "ID")]
        fleet_id: String,
        /// Only events at or after this time: RFC 3339
        /// (2024-05-01T12:00:00Z) or Unix epoch milliseconds.
        #[arg(long, value_name = "RFC3339|MS", value_parser = parse_time)]
        since: Option<i64>,
        /// Only events before this time (same forms as --since).
        #[arg(long, value_name = "RFC3339|MS", value_parser = parse_time)]
        until: Option<i64>,
    },
    /// Show active server processes, game sessions and players (of every
    /// fleet when no id is given).
    Utilization {
        /// Fleet ids or ARNs.
        #[arg(value_name = "ID")]
        fleet_ids: Vec<String>,
    },
    /// Show a fleet's instance counts, or change them with --desired,
    /// --min, --max (counts not given keep their value).
    Capacity(CapacityArgs),
    /// Show a fleet's runtime configuration, or replace it with the server
    /// process options.
    RuntimeConfig(RuntimeConfigArgs),
}

/// `NewGameSessionProtectionPolicy` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProtectionArg {
    /// Game sessions may be terminated during scale-down.
    #[value(name = "NoProtection")]
    NoProtection,
    /// Game sessions with players are protected from scale-down.
    #[value(name = "FullProtection")]
    FullProtection,
}

impl From<ProtectionArg> for ProtectionPolicy {
    fn from(p: ProtectionArg) -> ProtectionPolicy {
        match p {
            ProtectionArg::NoProtection => ProtectionPolicy::NoProtection,
            ProtectionArg::FullProtection => ProtectionPolicy::FullProtection,
        }
    }
}

/// A fleet's game session placement strategy on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlacementArg {
    /// Fill the busiest node first, so idle nodes stay idle.
    Pack,
    /// Use the least busy node first.
    Spread,
}

impl From<PlacementArg> for PlacementStrategy {
    fn from(p: PlacementArg) -> PlacementStrategy {
        match p {
            PlacementArg::Pack => PlacementStrategy::Pack,
            PlacementArg::Spread => PlacementStrategy::Spread,
        }
    }
}

/// `ResourceCreationLimitPolicy` options, shared by create and update.
#[derive(Debug, Args)]
pub struct LimitPolicyArgs {
    /// Game sessions one creator may create per period (needs
    /// --policy-period-minutes).
    #[arg(long, value_name = "N", requires = "policy_period_minutes")]
    pub new_sessions_per_creator: Option<i32>,
    /// The period of --new-sessions-per-creator, in minutes.
    #[arg(long, value_name = "M", requires = "new_sessions_per_creator")]
    pub policy_period_minutes: Option<i32>,
}

/// Runtime configuration options, shared by `fleet create` and
/// `fleet runtime-config`. Server processes come from --launch-path (first)
/// and every --server-process, in order.
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("processes")
        .multiple(true)
        .args(["launch_path", "server_processes"])
))]
pub struct ServerProcessArgs {
    /// Run a server process: absolute PATH, N copies per node (default 1),
    /// command-line PARAMS (may contain ':'; `{port}` becomes the process's
    /// port). Repeatable.
    #[arg(
        long = "server-process",
        value_name = "PATH[:N[:PARAMS]]",
        value_parser = parse_server_process
    )]
    pub server_processes: Vec<ServerProcess>,
    /// Run a server process from this absolute path (with --parameters and
    /// --concurrent-executions; an alternative to --server-process).
    #[arg(long, value_name = "PATH")]
    pub launch_path: Option<String>,
    /// Command-line parameters of the --launch-path process (`{port}`
    /// becomes its port).
    #[arg(
        long,
        value_name = "STR",
        requires = "launch_path",
        allow_hyphen_values = true
    )]
    pub parameters: Option<String>,
    /// Copies of the --launch-path process per node (default 1).
    #[arg(long, value_name = "N", requires = "launch_path")]
    pub concurrent_executions: Option<i32>,
    /// Most game sessions activating at once on each node (needs server
    /// processes).
    #[arg(long, value_name = "N", requires = "processes")]
    pub max_concurrent_activations: Option<i32>,
    /// Seconds a new game session may take to become active, 1-600 (needs
    /// server processes).
    #[arg(long, value_name = "SECS", requires = "processes")]
    pub activation_timeout: Option<i32>,
}

/// Instance counts of `fleet create`: all three or none.
#[derive(Debug, Args)]
pub struct InstanceArgs {
    /// Nodes that should host the fleet (with --min-instances and
    /// --max-instances; default 1, min 0, max 1).
    #[arg(long, value_name = "N", requires_all = ["min_instances", "max_instances"])]
    pub desired_instances: Option<i32>,
    /// Fewest nodes hosting the fleet.
    #[arg(long, value_name = "N", requires_all = ["desired_instances", "max_instances"])]
    pub min_instances: Option<i32>,
    /// Most nodes hosting the fleet.
    #[arg(long, value_name = "N", requires_all = ["desired_instances", "min_instances"])]
    pub max_instances: Option<i32>,
}

/// `gamefleet fleet capacity`
#[derive(Debug, Args)]
pub struct CapacityArgs {
    /// The fleet id or ARN.
    #[arg(value_name = "ID")]
    pub fleet_id: String,
    /// New desired instances (nodes hosting the fleet).
    #[arg(long, value_name = "N")]
    pub desired: Option<i32>,
    /// New minimum instances.
    #[arg(long, value_name = "N")]
    pub min: Option<i32>,
    /// New maximum instances.
    #[arg(long, value_name = "N")]
    pub max: Option<i32>,
}

impl CapacityArgs {
    /// Whether any count is to change (else the capacity is shown).
    pub fn is_update(&self) -> bool {
        self.desired.is_some() || self.min.is_some() || self.max.is_some()
    }
}

/// `gamefleet fleet runtime-config`
#[derive(Debug, Args)]
pub struct RuntimeConfigArgs {
    /// The fleet id or ARN.
    #[arg(value_name = "ID")]
    pub fleet_id: String,
    /// The new configuration; without server processes it is shown instead.
    #[command(flatten)]
    pub config: ServerProcessArgs,
}

/// `gamefleet fleet create`
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Fleet name (1-1024 characters).
    #[arg(long, value_name = "N")]
    pub name: String,
    /// Fleet description.
    #[arg(long, value_name = "D")]
    pub description: Option<String>,
    /// Protection of new game sessions (default NoProtection).
    #[arg(long, value_enum, ignore_case = true)]
    pub protection: Option<ProtectionArg>,
    #[command(flatten)]
    pub limit: LimitPolicyArgs,
    /// Metric group (GameLift allows at most one).
    #[arg(long = "metric-group", value_name = "G")]
    pub metric_groups: Vec<String>,
    /// Tag, repeatable.
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub tags: Vec<Tag>,
    /// Idempotency token (1-48 of [a-zA-Z0-9-]); generated when omitted.
    /// Rerunning with the same token returns the original fleet.
    #[arg(long, value_name = "T")]
    pub idempotency_token: Option<String>,
    /// Server processes to run; without any the fleet is data-only.
    #[command(flatten)]
    pub processes: ServerProcessArgs,
    /// Ports for the server processes, inclusive (default 30000-39999).
    #[arg(long, value_name = "FROM-TO", value_parser = parse_port_range)]
    pub port_range: Option<PortRange>,
    /// Node `location` label the fleet may run on, repeatable (default: any
    /// node).
    #[arg(long = "location", value_name = "L")]
    pub locations: Vec<String>,
    #[command(flatten)]
    pub instances: InstanceArgs,
    /// How new game sessions pick a process (default pack).
    #[arg(long, value_enum, ignore_case = true)]
    pub placement: Option<PlacementArg>,
}

/// `gamefleet fleet update`
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("changes")
        .required(true)
        .multiple(true)
        .args([
            "name",
            "description",
            "protection",
            "new_sessions_per_creator",
            "metric_groups",
            "clear_metric_groups",
            "placement",
        ])
))]
pub struct UpdateArgs {
    /// The fleet id or ARN.
    #[arg(value_name = "ID")]
    pub fleet_id: String,
    /// New name.
    #[arg(long, value_name = "N")]
    pub name: Option<String>,
    /// New description.
    #[arg(long, value_name = "D")]
    pub description: Option<String>,
    /// New protection of new game sessions.
    #[arg(long, value_enum, ignore_case = true)]
    pub protection: Option<ProtectionArg>,
    #[command(flatten)]
    pub limit: LimitPolicyArgs,
    /// Replace the metric groups with these (repeatable).
    #[arg(
        long = "metric-group",
        value_name = "G",
        conflicts_with = "clear_metric_groups"
    )]
    pub metric_groups: Vec<String>,
    /// Remove every metric group.
    #[arg(long)]
    pub clear_metric_groups: bool,
    /// New game session placement strategy.
    #[arg(long, value_enum, ignore_case = true)]
    pub placement: Option<PlacementArg>,
}

/// `gamefleet session ...`
#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Create a game session and print it with its IP:port (--wait: once
    /// it is ACTIVE).
    Create(Box<SessionCreateArgs>),
    /// List the game sessions of a fleet (or of the fleet an alias routes
    /// to).
    List(SessionListArgs),
    /// Describe one game session.
    Describe {
        /// The game session id (ARN).
        #[arg(value_name = "ID")]
        game_session_id: String,
        /// Also show its protection policy (DescribeGameSessionDetails).
        #[arg(long)]
        details: bool,
    },
    /// Search the ACTIVE game sessions of a fleet with GameLift filter and
    /// sort expressions; one page unless --all.
    Search(SessionSearchArgs),
    /// Change a live game session (only the options given change).
    Update(SessionUpdateArgs),
    /// End a game session: ask its game server to end (default), or
    /// --force it to end now.
    Terminate {
        /// The game session id (ARN).
        #[arg(value_name = "ID")]
        game_session_id: String,
        /// FORCE_TERMINATE: end it now and kill its process (default:
        /// TRIGGER_ON_PROCESS_TERMINATE).
        #[arg(long)]
        force: bool,
    },
}

/// Exactly one of --fleet and --alias.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct TargetArgs {
    /// The fleet (id or ARN).
    #[arg(long, value_name = "ID")]
    pub fleet: Option<String>,
    /// An alias (id or ARN) routing to the fleet.
    #[arg(long, value_name = "ID")]
    pub alias: Option<String>,
}

impl TargetArgs {
    /// The fleet or alias given (clap makes exactly one present).
    pub fn target(self) -> FleetOrAlias {
        match (self.fleet, self.alias) {
            (Some(fleet), _) => FleetOrAlias::Fleet(fleet),
            (None, alias) => FleetOrAlias::Alias(alias.unwrap_or_default()),
        }
    }
}

/// `gamefleet session create`
#[derive(Debug, Args)]
pub struct SessionCreateArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Most player sessions at once (0-200).
    #[arg(long, value_name = "N")]
    pub max_players: i32,
    /// Game session name.
    #[arg(long, value_name = "N")]
    pub name: Option<String>,
    /// Game property, repeatable.
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = parse_property)]
    pub properties: Vec<GameProperty>,
    /// Creator id (needed when the fleet limits sessions per creator).
    #[arg(long, value_name = "ID")]
    pub creator: Option<String>,
    /// Game session data handed to the game server.
    #[arg(long, value_name = "STR", allow_hyphen_values = true)]
    pub data: Option<String>,
    /// Only place it on nodes with this `location` label.
    #[arg(long, value_name = "L")]
    pub location: Option<String>,
    /// Idempotency token (1-48 of [a-zA-Z0-9-]); generated when omitted.
    /// Rerunning with the same token returns the original session.
    #[arg(long, value_name = "T")]
    pub token: Option<String>,
    /// Wait until the session is ACTIVE (fails at once if it ends instead).
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits (default 30s): 500ms, 30s, 2m, or seconds.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "wait")]
    pub wait_timeout: Option<Duration>,
}

/// `gamefleet session list`
#[derive(Debug, Args)]
pub struct SessionListArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Only sessions in this status: ACTIVE, ACTIVATING, TERMINATED,
    /// TERMINATING or ERROR (any case).
    #[arg(long, value_name = "S", value_parser = parse_game_session_status)]
    pub status: Option<GameSessionStatus>,
    /// Only sessions at this location.
    #[arg(long, value_name = "L")]
    pub location: Option<String>,
}

/// `gamefleet session search`
#[derive(Debug, Args)]
pub struct SessionSearchArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// GameLift filter expression, e.g.
    /// "maximumSessions>=10 AND hasAvailablePlayerSessions=true".
    #[arg(long, value_name = "EXPR", allow_hyphen_values = true)]
    pub filter: Option<String>,
    /// GameLift sort expression, e.g. "creationTimeMillis ASC".
    #[arg(long, value_name = "EXPR")]
    pub sort: Option<String>,
    /// Only sessions at this location.
    #[arg(long, value_name = "L")]
    pub location: Option<String>,
    /// Page size (the server gives at most 20).
    #[arg(long, value_name = "N")]
    pub limit: Option<i32>,
    /// Start at this page (a token printed by an earlier search).
    #[arg(long, value_name = "T")]
    pub next_token: Option<String>,
    /// Follow every page and print all matches.
    #[arg(long)]
    pub all: bool,
}

/// A game session's player session creation policy on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyArg {
    /// ACCEPT_ALL: new player sessions are accepted.
    AcceptAll,
    /// DENY_ALL: new player sessions are refused.
    DenyAll,
}

impl From<PolicyArg> for PlayerSessionCreationPolicy {
    fn from(p: PolicyArg) -> PlayerSessionCreationPolicy {
        match p {
            PolicyArg::AcceptAll => PlayerSessionCreationPolicy::AcceptAll,
            PolicyArg::DenyAll => PlayerSessionCreationPolicy::DenyAll,
        }
    }
}

/// A game session's protection policy on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SessionProtectionArg {
    /// NoProtection: may be terminated during scale-down.
    #[value(alias = "NoProtection")]
    No,
    /// FullProtection: protected from scale-down.
    #[value(alias = "FullProtection")]
    Full,
}

impl From<SessionProtectionArg> for ProtectionPolicy {
    fn from(p: SessionProtectionArg) -> ProtectionPolicy {
        match p {
            SessionProtectionArg::No => ProtectionPolicy::NoProtection,
            SessionProtectionArg::Full => ProtectionPolicy::FullProtection,
        }
    }
}

/// `gamefleet session update`
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("changes")
        .required(true)
        .multiple(true)
        .args(["max_players", "name", "policy", "protection", "properties"])
))]
pub struct SessionUpdateArgs {
    /// The game session id (ARN).
    #[arg(value_name = "ID")]
    pub game_session_id: String,
    /// New most player sessions (0-200, not below the current count).
    #[arg(long, value_name = "N")]
    pub max_players: Option<i32>,
    /// New name.
    #[arg(long, value_name = "N")]
    pub name: Option<String>,
    /// Accept or refuse new player sessions.
    #[arg(long, value_enum, ignore_case = true)]
    pub policy: Option<PolicyArg>,
    /// Protect the session from scale-down, or not.
    #[arg(long, value_enum, ignore_case = true)]
    pub protection: Option<SessionProtectionArg>,
    /// Add or change a game property (an empty value removes it),
    /// repeatable.
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = parse_property)]
    pub properties: Vec<GameProperty>,
}

/// `gamefleet player ...`
#[derive(Debug, Subcommand)]
pub enum PlayerCommand {
    /// Reserve a slot for each player in a game session (one player:
    /// CreatePlayerSession; several: CreatePlayerSessions, all or none).
    Reserve {
        /// The game session id (ARN).
        #[arg(value_name = "GAME_SESSION_ID")]
        game_session_id: String,
        /// The players (1-25).
        #[arg(value_name = "PLAYER_ID", required = true)]
        player_ids: Vec<String>,
        /// Player data for one of the players, repeatable.
        #[arg(long = "data", value_name = "PLAYER=DATA", value_parser = parse_player_data)]
        data: Vec<(String, String)>,
    },
    /// List the player sessions of a game session or a player, or one
    /// player session.
    List(PlayerListArgs),
}

/// `gamefleet player list`
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("of")
        .required(true)
        .args(["game_session", "player", "player_session"])
))]
pub struct PlayerListArgs {
    /// The player sessions of this game session (ARN).
    #[arg(long, value_name = "ID")]
    pub game_session: Option<String>,
    /// The player sessions of this player.
    #[arg(long, value_name = "ID")]
    pub player: Option<String>,
    /// This one player session.
    #[arg(long, value_name = "ID")]
    pub player_session: Option<String>,
    /// Only player sessions in this status: RESERVED, ACTIVE, COMPLETED or
    /// TIMEDOUT (any case; applies to --game-session only).
    #[arg(long, value_name = "S", value_parser = parse_player_session_status)]
    pub status: Option<PlayerSessionStatus>,
}

/// `gamefleet alias ...`
#[derive(Debug, Subcommand)]
pub enum AliasCommand {
    /// Create an alias routing to a fleet (--fleet) or nowhere (--terminal).
    Create(AliasCreateArgs),
    /// List aliases.
    List {
        /// Only aliases of this routing type: simple or terminal.
        #[arg(long = "type", value_name = "TYPE", value_parser = parse_routing_type)]
        routing_type: Option<RoutingStrategyType>,
        /// Only aliases with exactly this name.
        #[arg(long, value_name = "N")]
        name: Option<String>,
    },
    /// Describe one alias.
    Describe {
        /// The alias id or ARN.
        #[arg(value_name = "ID")]
        alias_id: String,
    },
    /// Change an alias (only the options given change).
    Update(AliasUpdateArgs),
    /// Delete an alias.
    Delete {
        /// The alias id or ARN.
        #[arg(value_name = "ID")]
        alias_id: String,
    },
    /// Show the fleet an alias routes to.
    Resolve {
        /// The alias id or ARN.
        #[arg(value_name = "ID")]
        alias_id: String,
    },
}

/// Where an alias routes: --fleet or --terminal.
#[derive(Debug, Args)]
pub struct RoutingArgs {
    /// SIMPLE: route to this fleet (id).
    #[arg(long, value_name = "ID", conflicts_with = "terminal")]
    pub fleet: Option<String>,
    /// TERMINAL: route nowhere; callers get this message.
    #[arg(long, value_name = "MESSAGE", allow_hyphen_values = true)]
    pub terminal: Option<String>,
}

impl RoutingArgs {
    /// The routing given, if any (clap refuses both).
    pub fn strategy(self) -> Option<RoutingStrategy> {
        match (self.fleet, self.terminal) {
            (Some(fleet), _) => Some(RoutingStrategy::simple(fleet)),
            (None, Some(message)) => Some(RoutingStrategy::terminal(message)),
            (None, None) => None,
        }
    }
}

/// `gamefleet alias create`
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("routing").required(true).args(["fleet", "terminal"])))]
pub struct AliasCreateArgs {
    /// The alias name (1-1024 characters).
    #[arg(value_name = "NAME")]
    pub name: String,
    #[command(flatten)]
    pub routing: RoutingArgs,
    /// Description.
    #[arg(long, value_name = "D")]
    pub description: Option<String>,
    /// Tag, repeatable.
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub tags: Vec<Tag>,
}

/// `gamefleet alias update`
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("changes")
        .required(true)
        .multiple(true)
        .args(["name", "description", "fleet", "terminal"])
))]
pub struct AliasUpdateArgs {
    /// The alias id or ARN.
    #[arg(value_name = "ID")]
    pub alias_id: String,
    /// New name.
    #[arg(long, value_name = "N")]
    pub name: Option<String>,
    /// New description.
    #[arg(long, value_name = "D")]
    pub description: Option<String>,
    #[command(flatten)]
    pub routing: RoutingArgs,
}

/// Parses `KEY=VALUE` (the value may be empty and may contain `=`).
pub fn parse_tag(s: &str) -> Result<Tag, String> {
    match s.split_once('=') {
        Some(("", _)) => Err(format!("tag {s:?}: the key is empty (expected KEY=VALUE)")),
        Some((key, value)) => Ok(Tag::new(key, value)),
        None => Err(format!("tag {s:?}: expected KEY=VALUE")),
    }
}

/// Parses a game property, `KEY=VALUE` (the value may be empty and may
/// contain `=`).
pub fn parse_property(s: &str) -> Result<GameProperty, String> {
    match s.split_once('=') {
        Some(("", _)) => Err(format!(
            "property {s:?}: the key is empty (expected KEY=VALUE)"
        )),
        Some((key, value)) => Ok(GameProperty::new(key, value)),
        None => Err(format!("property {s:?}: expected KEY=VALUE")),
    }
}

/// Parses `PLAYER=DATA` (the data may contain `=`).
pub fn parse_player_data(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some(("", _)) => Err(format!(
            "player data {s:?}: the player id is empty (expected PLAYER=DATA)"
        )),
        Some((player, data)) => Ok((player.to_string(), data.to_string())),
        None => Err(format!("player data {s:?}: expected PLAYER=DATA")),
    }
}

/// A GameLift name parsed by the client library (any case), with its
/// message as the usage error.
fn parse_named<T: FromStr<Err = ClientError>>(s: &str) -> Result<T, String> {
    s.parse().map_err(|e: ClientError| e.message)
}

/// Parses a game session status name (`ACTIVE`, `activating`, ...).
pub fn parse_game_session_status(s: &str) -> Result<GameSessionStatus, String> {
    parse_named(s)
}

/// Parses a player session status name (`RESERVED`, `timedout`, ...).
pub fn parse_player_session_status(s: &str) -> Result<PlayerSessionStatus, String> {
    parse_named(s)
}

/// Parses a routing strategy type (`simple` or `terminal`, any case).
pub fn parse_routing_type(s: &str) -> Result<RoutingStrategyType, String> {
    parse_named(s)
}

/// Parses a positive duration: a number with `ms`, `s` or `m`, or a bare
/// number of seconds (`500ms`, `1.5s`, `2m`, `30`); at most a day.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else {
        (t, 1.0)
    };
    let bad = || format!("{s:?}: expected a duration such as 500ms, 30s or 2m");
    if number.is_empty() || number.starts_with(['+', '-']) {
        return Err(bad());
    }
    let value: f64 = number.parse().map_err(|_| bad())?;
    let secs = value * scale;
    if !secs.is_finite() || secs <= 0.0 || secs > 86_400.0 {
        return Err(format!("{s:?}: expected a duration in (0, 24h]"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses `PATH[:N[:PARAMS]]`: N copies (default 1, also when empty) of the
/// executable at PATH, with PARAMS (everything after the second `:`, colons
/// included; empty means none). PATH itself cannot contain `:`.
pub fn parse_server_process(s: &str) -> Result<ServerProcess, String> {
    let mut parts = s.splitn(3, ':');
    let path = parts.next().unwrap_or_default();
    if path.is_empty() {
        return Err(format!(
            "server process {s:?}: the launch path is empty (expected PATH[:N[:PARAMS]])"
        ));
    }
    let copies = match parts.next() {
        None | Some("") => 1,
        Some(n) => n.parse::<i32>().map_err(|_| {
            format!(
                "server process {s:?}: {n:?} is not a number of copies (expected PATH[:N[:PARAMS]])"
            )
        })?,
    };
    let parameters = parts.next().filter(|p| !p.is_empty()).map(str::to_string);
    Ok(ServerProcess {
        launch_path: path.to_string(),
        parameters,
        concurrent_executions: copies,
    })
}

/// Parses `FROM-TO`, two port numbers (0-65535) with FROM <= TO. The
/// server's own bounds (1026-60000, room for every process) are its to check.
pub fn parse_port_range(s: &str) -> Result<PortRange, String> {
    let Some((from, to)) = s.split_once('-') else {
        return Err(format!(
            "port range {s:?}: expected FROM-TO, e.g. 30000-30099"
        ));
    };
    let port = |p: &str| {
        p.trim()
            .parse::<u16>()
            .map(u32::from)
            .map_err(|_| format!("port range {s:?}: {p:?} is not a port number (0-65535)"))
    };
    let (from_port, to_port) = (port(from)?, port(to)?);
    if from_port > to_port {
        return Err(format!(
            "port range {s:?}: FROM ({from_port}) is greater than TO ({to_port})"
        ));
    }
    Ok(PortRange { from_port, to_port })
}

/// Parses a point in time as Unix epoch milliseconds: either the number
/// itself, or RFC 3339 (`2024-05-01T12:00:00Z`, `2024-05-01T14:00:00.250+02:00`).
pub fn parse_time(s: &str) -> Result<i64, String> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse()
            .map_err(|_| format!("{s:?}: too large for Unix milliseconds"));
    }
    parse_rfc3339(t).ok_or_else(|| {
        format!(
            "{s:?}: expected an RFC 3339 time (e.g. 2024-05-01T12:00:00Z) or Unix epoch milliseconds"
        )
    })
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` to Unix epoch milliseconds
/// (fractions below a millisecond are dropped; leap seconds are refused).
fn parse_rfc3339(s: &str) -> Option<i64> {
    fn num(s: &str, range: std::ops::Range<usize>) -> Option<i64> {
        let part = s.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    }
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(s, 0..4)?, num(s, 5..7)?, num(s, 8..10)?);
    let (hour, minute, second) = (num(s, 11..13)?, num(s, 14..16)?, num(s, 17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let ms: String = frac[..digits].chars().chain("00".chars()).take(3).collect();
        millis = ms.parse::<i64>().ok()?;
        rest = &frac[digits..];
    }
    let offset_secs = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if rest.len() != 6 || rest.as_bytes()[3] != b':' {
                return None;
            }
            let (h, m) = (num(rest, 1..3)?, num(rest, 4..6)?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_secs;
    Some(secs * 1000 + millis)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A proleptic Gregorian date to days since 1970-01-01, after Howard
/// Hinnant's `days_from_civil` (the inverse of `render::civil_from_days`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a positive number of seconds (fractions allowed, e.g. `0.5`).
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !secs.is_finite() || secs <= 0.0 || secs > 86_400.0 {
        return Err(format!("{s:?}: expected seconds in (0, 86400]"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;
    use clap::error::ErrorKind as ClapKind;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("gamefleet").chain(args.iter().copied()))
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn tags_need_key_equals_value() {
        assert_eq!(parse_tag("team=core").unwrap(), Tag::new("team", "core"));
        assert_eq!(parse_tag("empty=").unwrap(), Tag::new("empty", ""));
        assert_eq!(parse_tag("expr=a=b").unwrap(), Tag::new("expr", "a=b"));
        let err = parse_tag("novalue").unwrap_err();
        assert!(err.contains("expected KEY=VALUE"), "{err}");
        let err = parse_tag("=v").unwrap_err();
        assert!(err.contains("key is empty"), "{err}");

        let err = parse(&["fleet", "create", "--name", "a", "--tag", "oops"]).unwrap_err();
        assert_eq!(err.kind(), ClapKind::ValueValidation);
        assert!(err.to_string().contains("expected KEY=VALUE"), "{err}");
    }

    #[test]
    fn timeouts_are_positive_seconds() {
        assert_eq!(parse_timeout("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_timeout("0.25").unwrap(), Duration::from_millis(250));
        for bad in ["0", "-1", "abc", "NaN", "inf", ""] {
            assert!(parse_timeout(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn global_options_and_defaults() {
        let cli = parse(&["cluster", "status"]).unwrap();
        if std::env::var_os("GAMEFLEET_ENDPOINTS").is_none() {
            assert_eq!(cli.endpoints, vec!["127.0.0.1:7400".to_string()]);
        }
        assert!(!cli.json && !cli.stale && cli.timeout.is_none());

        let cli = parse(&[
            "fleet",
            "list",
            "--endpoints",
            "a:1,http://b:2",
            "--json",
            "--stale",
            "--timeout",
            "3",
        ])
        .unwrap();
        assert_eq!(
            cli.endpoints,
            vec!["a:1".to_string(), "http://b:2".to_string()]
        );
        assert!(cli.json && cli.stale);
        assert_eq!(cli.timeout, Some(Duration::from_secs(3)));
        assert!(matches!(cli.command, Command::Fleet(FleetCommand::List)));
    }

    #[test]
    fn create_parses_every_option() {
        let cli = parse(&[
            "fleet",
            "create",
            "--name",
            "arena",
            "--description",
            "ranked",
            "--protection",
            "fullprotection",
            "--new-sessions-per-creator",
            "3",
            "--policy-period-minutes",
            "15",
            "--metric-group",
            "g1",
            "--tag",
            "a=1",
            "--tag",
            "b=2",
            "--idempotency-token",
            "tok-1",
        ])
        .unwrap();
        let Command::Fleet(FleetCommand::Create(c)) = cli.command else {
            panic!("not a create: {:?}", cli.command);
        };
        assert_eq!(c.name, "arena");
        assert_eq!(c.description.as_deref(), Some("ranked"));
        assert_eq!(c.protection, Some(ProtectionArg::FullProtection));
        assert_eq!(c.limit.new_sessions_per_creator, Some(3));
        assert_eq!(c.limit.policy_period_minutes, Some(15));
        assert_eq!(c.metric_groups, vec!["g1".to_string()]);
        assert_eq!(c.tags, vec![Tag::new("a", "1"), Tag::new("b", "2")]);
        assert_eq!(c.idempotency_token.as_deref(), Some("tok-1"));
    }

    #[test]
    fn usage_errors() {
        // The limit policy needs both halves.
        let err = parse(&[
            "fleet",
            "create",
            "--name",
            "a",
            "--new-sessions-per-creator",
            "3",
        ])
        .unwrap_err();
        assert_eq!(err.kind(), ClapKind::MissingRequiredArgument);
        // A name is required.
        let err = parse(&["fleet", "create"]).unwrap_err();
        assert_eq!(err.kind(), ClapKind::MissingRequiredArgument);
        // Unknown protection policy.
        let err = parse(&["fleet", "create", "--name", "a", "--protection", "Some"]).unwrap_err();
        assert_eq!(err.kind(), ClapKind::InvalidValue);
        // An update must change something, and cannot both set and clear groups.
        let err = parse(&["fleet", "update", "fleet-1"]).unwrap_err();
        assert_eq!(err.kind(), ClapKind::MissingRequiredArgument);
        let err = parse(&[
            "fleet",
            "update",
            "fleet-1",
            "--metric-group",
            "g",
            "--clear-metric-groups",
        ])
        .unwrap_err();
        assert_eq!(err.kind(), ClapKind::ArgumentConflict);
        // Usage errors exit with 2.
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn update_and_node_commands() {
        let cli = parse(&["fleet", "update", "fleet-1", "--clear-metric-groups"]).unwrap();
        let Command::Fleet(FleetCommand::Update(u)) = cli.command else {
            panic!("not an update");
        };
        assert!(u.clear_metric_groups && u.metric_groups.is_empty());

        let cli = parse(&["node", "remove", "n3"]).unwrap();
        assert!(matches!(cli.command, Command::Node(NodeCommand::Remove { node }) if node == "n3"));
        let cli = parse(&["node", "join", "10.0.0.9:7400"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Node(NodeCommand::Join { new_node_addr }) if new_node_addr == "10.0.0.9:7400"
        ));
        let cli = parse(&["fleet", "describe"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Fleet(FleetCommand::Describe { fleet_ids }) if fleet_ids.is_empty()
        ));
    }

    #[test]
    fn server_processes_are_path_copies_params() {
        let sp = |path: &str, n: i32, params: Option<&str>| ServerProcess {
            launch_path: path.into(),
            parameters: params.map(Into::into),
            concurrent_executions: n,
        };
        assert_eq!(
            parse_server_process("/srv/game").unwrap(),
            sp("/srv/game", 1, None)
        );
        assert_eq!(
            parse_server_process("/srv/game:4").unwrap(),
            sp("/srv/game", 4, None)
        );
        // Everything after the second ':' is the parameters, colons included.
        assert_eq!(
            parse_server_process("/srv/game:2:-port {port} -map arena:night").unwrap(),
            sp("/srv/game", 2, Some("-port {port} -map arena:night"))
        );
        // An empty count is the default, empty parameters are none.
        assert_eq!(
            parse_server_process("/srv/game::-x").unwrap(),
            sp("/srv/game", 1, Some("-x"))
        );
        assert_eq!(
            parse_server_process("/srv/game:3:").unwrap(),
            sp("/srv/game", 3, None)
        );
        // Counts the server refuses are its to refuse.
        assert_eq!(
            parse_server_process("/srv/game:0").unwrap(),
            sp("/srv/game", 0, None)
        );

        for bad in ["", ":3", ":3:-x"] {
            let err = parse_server_process(bad).unwrap_err();
            assert!(err.contains("launch path is empty"), "{bad}: {err}");
        }
        for bad in ["/srv/game:x", "/srv/game:2x:-p", "/srv/game: 2"] {
            let err = parse_server_process(bad).unwrap_err();
            assert!(err.contains("not a number of copies"), "{bad}: {err}");
            assert!(err.contains("PATH[:N[:PARAMS]]"), "{bad}: {err}");
        }

        let err = parse(&[
            "fleet",
            "create",
            "--name",
            "a",
            "--server-process",
            "/srv/game:many",
        ])
        .unwrap_err();
        assert_eq!(err.kind(), ClapKind::ValueValidation);
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("not a number of copies"), "{err}");
    }

    #[test]
    fn port_ranges_are_from_dash_to() {
        assert_eq!(
            parse_port_range("30000-30099").unwrap(),
            PortRange {
                from_port: 30000,
                to_port: 30099
            }
        );
        assert_eq!(
            parse_port_range("31000-31000").unwrap(),
            PortRange {
                from_port: 31000,
                to_port: 31000
            }
        );
        // The server's bounds (1026-60000) are not checked here.
        assert_eq!(parse_port_range("80-90").unwrap().from_port, 80);

        for (bad, why) in [
            ("30000", "expected FROM-TO"),
            ("", "expected FROM-TO"),
            ("30000:30099", "expected FROM-TO"),
            ("a-30099", "\"a\" is not a port number"),
            ("30000-", "\"\" is not a port number"),
            ("-5", "\"\" is not a port number"),
            ("30000-70000", "\"70000\" is not a port number"),
            ("30000-300-99", "is not a port number"),
            ("30099-30000", "FROM (30099) is greater than TO (30000)"),
        ] {
            let err = parse_port_range(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }

        let err = parse(&[
            "fleet",
            "create",
            "--name",
            "a",
            "--port-range",
            "40000-30000",
        ])
        .unwrap_err();
        assert_eq!(err.kind(), ClapKind::ValueValidation);
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("greater than TO"), "{err}");
    }

    #[test]
    fn times_are_rfc3339_or_millis() {
        assert_eq!(parse_time("0").unwrap(), 0);
        assert_eq!(parse_time("1700000000123").unwrap(), 1_700_000_000_123);
        assert_eq!(
            parse_time("2023-11-14T22:13:20Z").unwrap(),
            1_700_000_000_000
        );
        assert_eq!(
            parse_time("2023-11-14T22:13:20.123Z").unwrap(),
            1_700_000_000_123
        );
        assert_eq!(
            parse_time("2023-11-14t22:13:20.1234567z").unwrap(),
            1_700_000_000_123
        );
        assert_eq!(
            parse_time("2023-11-15T00:13:20.5+02:00").unwrap(),
            1_700_000_000_500
        );
        assert_eq!(
            parse_time("2023-11-14 17:13:20-05:00").unwrap(),
            1_700_000_000_000
        );
        assert_eq!(parse_time("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(parse_time("1969-12-31T23:59:59Z").unwrap(), -1000);
        assert_eq!(parse_time("2000-02-29T00:00:00Z").unwrap(), 951_782_400_000);
        // Every second the renderer prints parses back to itself.
        for ms in [1_000, 951_782_400_000, 1_700_000_000_000, 4_107_542_399_000] {
            assert_eq!(parse_time(&crate::render::millis(ms)).unwrap(), ms);
        }

        for bad in [
            "",
            "-5",
            "1.5",
            "yesterday",
            "2023-11-14",
            "2023-11-14T22:13:20",
            "2023-11-14T22:13Z",
            "2023-11-14T22:13:20+0200",
            "2023-11-14T22:13:20.Z",
            "2023-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2023-04-31T00:00:00Z",
            "2023-11-14T24:00:00Z",
            "2023-11-14T22:60:00Z",
            "2023-11-14T22:13:60Z",
            "2023-11-14T22:13:20+24:00",
            "2023-11-14T22:13:20Zjunk",
            "99999999999999999999",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        let err = parse(&["fleet", "events", "fleet-1", "--since", "last week"]).unwrap_err();
        assert_eq!(err.kind(), ClapKind::ValueValidation);
        assert!(err.to_string().contains("RFC 3339"), "{err}");
    }

    #[test]
    fn create_parses_hosting_options() {
        let cli = parse(&[
            "fleet",
            "create",
            "--name",
            "arena",
            "--launch-path",
            "/srv/game",
            "--parameters",
            "-port {port}",
            "--concurrent-executions",
            "4",
            "--server-process",
            "/srv/lobby:1",
            "--server-process",
            "/srv/bot::-easy",
            "--max-concurrent-activations",
            "2",
            "--activation-timeout",
            "300",
            "--port-range",
            "31000-31099",
            "--location",
            "custom-eu",
            "--location",
            "custom-us",
            "--desired-instances",
            "2",
            "--min-instances",
            "1",
            "--max-instances",
            "3",
        ])
        .unwrap();
        let Command::Fleet(FleetCommand::Create(c)) = cli.command else {
            panic!("not a create: {:?}", cli.command);
        };
        let p = &c.processes;
        assert_eq!(p.launch_path.as_deref(), Some("/srv/game"));
        assert_eq!(p.parameters.as_deref(), Some("-port {port}"));
        assert_eq!(p.concurrent_executions, Some(4));
        assert_eq!(
            p.server_processes,
            vec![
                ServerProcess::new("/srv/lobby", 1),
                ServerProcess {
                    launch_path: "/srv/bot".into(),
                    parameters: Some("-easy".into()),
                    concurrent_executions: 1,
                },
            ]
        );
        assert_eq!(p.max_concurrent_activations, Some(2));
        assert_eq!(p.activation_timeout, Some(300));
        assert_eq!(
            c.port_range,
            Some(PortRange {
                from_port: 31000,
                to_port: 31099
            })
        );
        assert_eq!(c.locations, vec!["custom-eu", "custom-us"]);
        assert_eq!(c.instances.desired_instances, Some(2));
        assert_eq!(c.instances.min_instances, Some(1));
        assert_eq!(c.instances.max_instances, Some(3));

        // None of them: a data-only fleet with the server's defaults.
        let cli = parse(&["fleet", "create", "--name", "a"]).unwrap();
        let Command::Fleet(FleetCommand::Create(c)) = cli.command else {
            panic!("not a create");
        };
        assert!(c.processes.launch_path.is_none() && c.processes.server_processes.is_empty());
        assert!(c.port_range.is_none() && c.locations.is_empty());
        assert!(c.instances.desired_instances.is_none());
    }

    #[test]
    fn hosting_usage_errors() {
        let create = |extra: &[&str]| {
            let mut args = vec!["fleet", "create", "--name", "a"];
            args.extend_from_slice(extra);
            parse(&args)
        };
        // --parameters and --concurrent-executions describe the --launch-path process.
        for extra in [
            &["--parameters", "-x"][..],
            &["--concurrent-executions", "2", "--server-process", "/srv/g"],
        ] {
            let err = create(extra).unwrap_err();
            assert_eq!(err.kind(), ClapKind::MissingRequiredArgument, "{extra:?}");
            assert!(err.to_string().contains("--launch-path"), "{err}");
        }
        // Activation settings need server processes to apply to.
        for extra in [
            &["--activation-timeout", "60"][..],
            &["--max-concurrent-activations", "2"],
        ] {
            let err = create(extra).unwrap_err();
            assert_eq!(err.kind(), ClapKind::MissingRequiredArgument, "{extra:?}");
        }
        assert!(create(&["--activation-timeout", "60", "--server-process", "/srv/g"]).is_ok());
        assert!(
            create(&[
                "--max-concurrent-activations",
                "2",
                "--launch-path",
                "/srv/g"
            ])
            .is_ok()
        );
        // Instance counts go together.
        for extra in [
            &["--desired-instances", "2"][..],
            &["--desired-instances", "2", "--max-instances", "2"],
            &["--min-instances", "0"],
        ] {
            let err = create(extra).unwrap_err();
            assert_eq!(err.kind(), ClapKind::MissingRequiredArgument, "{extra:?}");
            assert_eq!(err.exit_code(), 2);
        }
        // Not a number.
        let err = create(&["--desired-instances", "two"]).unwrap_err();
        assert_eq!(err.kind(), ClapKind::ValueValidation);
        // The capacity and runtime-config commands need a fleet.
        let err = parse(&["fleet", "capacity", "--desired", "2"]).unwrap_err();
        assert_eq!(err.kind(), ClapKind::MissingRequiredArgument);
        let err = parse(&["fleet", "runtime-config"]).unwrap_err();
        assert_eq!(err.kind(), ClapKind::MissingRequiredArgument);
        let err = parse(&[
            "fleet",
            "runtime-config",
            "fleet-1",
            "--activation-timeout",
            "9",
        ])
        .unwrap_err();
        assert_eq!(err.kind(), ClapKind::MissingRequiredArgument);
    }

    #[test]
    fn hosting_commands_parse() {
        let cli = parse(&["fleet", "processes", "fleet-1"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Fleet(FleetCommand::Processes { fleet_id }) if fleet_id == "fleet-1"
        ));

        let cli = parse(&[
            "fleet",
            "events",
            "fleet-1",
            "--since",
            "2023-11-14T22:13:20Z",
            "--until",
            "1700000060000",
        ])
        .unwrap();
        let Command::Fleet(FleetCommand::Events {
            fleet_id,
            since,
            until,
        }) = cli.command
        else {
            panic!("not events");
        };
        assert_eq!(fleet_id, "fleet-1");
        assert_eq!(since, Some(1_700_000_000_000));
        assert_eq!(until, Some(1_700_000_060_000));
        let cli = parse(&["fleet", "events", "fleet-1"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Fleet(FleetCommand::Events {
                since: None,
                until: None,
                ..
            })
        ));

        let cli = parse(&["fleet", "utilization"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Fleet(FleetCommand::Utilization { fleet_ids }) if fleet_ids.is_empty()
        ));
        let cli = parse(&["fleet", "utilization", "fleet-1", "fleet-2"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Fleet(FleetCommand::Utilization { fleet_ids }) if fleet_ids.len() == 2
        ));

        let capacity = |args: &[&str]| {
            let Command::Fleet(FleetCommand::Capacity(c)) = parse(args).unwrap().command else {
                panic!("not capacity");
            };
            c
        };
        let c = capacity(&["fleet", "capacity", "fleet-1"]);
        assert!(!c.is_update());
        let c = capacity(&["fleet", "capacity", "fleet-1", "--desired", "3"]);
        assert!(c.is_update());
        assert_eq!((c.desired, c.min, c.max), (Some(3), None, None));
        let c = capacity(&["fleet", "capacity", "fleet-1", "--min", "0", "--max", "5"]);
        assert!(c.is_update());
        assert_eq!((c.desired, c.min, c.max), (None, Some(0), Some(5)));

        let rc = |args: &[&str]| {
            let Command::Fleet(FleetCommand::RuntimeConfig(r)) = parse(args).unwrap().command
            else {
                panic!("not runtime-config");
            };
            r
        };
        let r = rc(&["fleet", "runtime-config", "fleet-1"]);
        assert_eq!(r.fleet_id, "fleet-1");
        assert!(r.config.server_processes.is_empty() && r.config.launch_path.is_none());
        let r = rc(&[
            "fleet",
            "runtime-config",
            "fleet-1",
            "--server-process",
            "/srv/game:2:-port {port}",
            "--activation-timeout",
            "60",
        ]);
        assert_eq!(r.config.server_processes.len(), 1);
        assert_eq!(r.config.activation_timeout, Some(60));
    }

    #[test]
    fn durations_properties_and_player_data() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        for bad in [
            "", "s", "0s", "-1s", "+2s", "ten", "5h", "1e9", "NaNs", "25h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }

        assert_eq!(
            parse_property("mode=ranked").unwrap(),
            GameProperty::new("mode", "ranked")
        );
        assert_eq!(
            parse_property("gone=").unwrap(),
            GameProperty::new("gone", "")
        );
        assert_eq!(
            parse_property("e=a=b").unwrap(),
            GameProperty::new("e", "a=b")
        );
        assert!(
            parse_property("mode")
                .unwrap_err()
                .contains("expected KEY=VALUE")
        );
        assert!(parse_property("=x").unwrap_err().contains("key is empty"));

        assert_eq!(
            parse_player_data("p1=team=red").unwrap(),
            ("p1".to_string(), "team=red".to_string())
        );
        assert!(parse_player_data("p1").unwrap_err().contains("PLAYER=DATA"));
        assert!(
            parse_player_data("=d")
                .unwrap_err()
                .contains("player id is empty")
        );

        assert_eq!(
            parse_game_session_status("activating").unwrap(),
            GameSessionStatus::Activating
        );
        assert_eq!(
            parse_player_session_status("TimedOut").unwrap(),
            PlayerSessionStatus::Timedout
        );
        assert_eq!(
            parse_routing_type("terminal").unwrap(),
            RoutingStrategyType::Terminal
        );
        let err = parse_game_session_status("paused").unwrap_err();
        assert!(err.contains("expected one of ACTIVE, ACTIVATING"), "{err}");
    }

    #[test]
    fn session_create_parses_every_option() {
        let cli = parse(&[
            "session",
            "create",
            "--alias",
            "alias-1",
            "--max-players",
            "16",
            "--name",
            "arena",
            "--property",
            "mode=ranked",
            "--property",
            "map=dust",
            "--creator",
            "player-1",
            "--data",
            "-seed 4",
            "--location",
            "custom-eu",
            "--token",
            "tok-1",
            "--wait",
            "--wait-timeout",
            "45s",
        ])
        .unwrap();
        let Command::Session(SessionCommand::Create(c)) = cli.command else {
            panic!("not a session create: {:?}", cli.command);
        };
        assert_eq!(c.target.fleet, None);
        assert_eq!(c.target.alias.as_deref(), Some("alias-1"));
        assert_eq!(c.max_players, 16);
        assert_eq!(c.name.as_deref(), Some("arena"));
        assert_eq!(
            c.properties,
            vec![
                GameProperty::new("mode", "ranked"),
                GameProperty::new("map", "dust")
            ]
        );
        assert_eq!(c.creator.as_deref(), Some("player-1"));
        assert_eq!(c.data.as_deref(), Some("-seed 4"));
        assert_eq!(c.location.as_deref(), Some("custom-eu"));
        assert_eq!(c.token.as_deref(), Some("tok-1"));
        assert!(c.wait);
        assert_eq!(c.wait_timeout, Some(Duration::from_secs(45)));

        let cli = parse(&["session", "create", "--fleet", "f", "--max-players", "2"]).unwrap();
        let Command::Session(SessionCommand::Create(c)) = cli.command else {
            panic!("not a session create");
        };
        assert_eq!(c.target.target(), FleetOrAlias::Fleet("f".into()));
        assert!(!c.wait && c.wait_timeout.is_none() && c.token.is_none());
    }

    #[test]
    fn session_usage_errors() {
        let kind = |args: &[&str]| parse(args).unwrap_err().kind();
        // Exactly one of --fleet and --alias.
        assert_eq!(
            kind(&[
                "session",
                "create",
                "--fleet",
                "f",
                "--alias",
                "a",
                "--max-players",
                "2"
            ]),
            ClapKind::ArgumentConflict
        );
        assert_eq!(
            kind(&["session", "create", "--max-players", "2"]),
            ClapKind::MissingRequiredArgument
        );
        assert_eq!(
            kind(&["session", "list"]),
            ClapKind::MissingRequiredArgument
        );
        assert_eq!(
            kind(&["session", "search", "--fleet", "f", "--alias", "a"]),
            ClapKind::ArgumentConflict
        );
        // The player count is required; --wait-timeout needs --wait.
        assert_eq!(
            kind(&["session", "create", "--fleet", "f"]),
            ClapKind::MissingRequiredArgument
        );
        assert_eq!(
            kind(&[
                "session",
                "create",
                "--fleet",
                "f",
                "--max-players",
                "2",
                "--wait-timeout",
                "5s"
            ]),
            ClapKind::MissingRequiredArgument
        );
        let err = parse(&["session", "list", "--fleet", "f", "--status", "paused"]).unwrap_err();
        assert_eq!(err.kind(), ClapKind::ValueValidation);
        assert!(err.to_string().contains("expected one of"), "{err}");
        // An update must change something.
        assert_eq!(
            kind(&["session", "update", "gs-1"]),
            ClapKind::MissingRequiredArgument
        );
        assert_eq!(
            kind(&["session", "update", "gs-1", "--policy", "some"]),
            ClapKind::InvalidValue
        );
        assert_eq!(
            kind(&["session", "update", "gs-1", "--property", "nokey"]),
            ClapKind::ValueValidation
        );
        assert_eq!(
            kind(&["session", "terminate"]),
            ClapKind::MissingRequiredArgument
        );
    }

    #[test]
    fn session_commands_parse() {
        let cli = parse(&[
            "session",
            "list",
            "--fleet",
            "fleet-1",
            "--status",
            "terminated",
            "--location",
            "custom-eu",
        ])
        .unwrap();
        let Command::Session(SessionCommand::List(l)) = cli.command else {
            panic!("not a list");
        };
        assert_eq!(l.target.fleet.as_deref(), Some("fleet-1"));
        assert_eq!(l.status, Some(GameSessionStatus::Terminated));
        assert_eq!(l.location.as_deref(), Some("custom-eu"));

        let cli = parse(&["session", "describe", "gs-1", "--details"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Session(SessionCommand::Describe { game_session_id, details: true })
                if game_session_id == "gs-1"
        ));
        let cli = parse(&["session", "describe", "gs-1"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Session(SessionCommand::Describe { details: false, .. })
        ));

        let cli = parse(&[
            "session",
            "search",
            "--alias",
            "alias-1",
            "--filter",
            "maximumSessions>=10 AND hasAvailablePlayerSessions=true",
            "--sort",
            "creationTimeMillis ASC",
            "--limit",
            "5",
            "--next-token",
            "20",
            "--all",
        ])
        .unwrap();
        let Command::Session(SessionCommand::Search(s)) = cli.command else {
            panic!("not a search");
        };
        assert_eq!(s.target.alias.as_deref(), Some("alias-1"));
        assert_eq!(
            s.filter.as_deref(),
            Some("maximumSessions>=10 AND hasAvailablePlayerSessions=true")
        );
        assert_eq!(s.sort.as_deref(), Some("creationTimeMillis ASC"));
        assert_eq!(
            (s.limit, s.next_token.as_deref(), s.all),
            (Some(5), Some("20"), true)
        );

        let cli = parse(&[
            "session",
            "update",
            "gs-1",
            "--max-players",
            "4",
            "--name",
            "n",
            "--policy",
            "deny-all",
            "--protection",
            "full",
            "--property",
            "mode=casual",
        ])
        .unwrap();
        let Command::Session(SessionCommand::Update(u)) = cli.command else {
            panic!("not an update");
        };
        assert_eq!(u.game_session_id, "gs-1");
        assert_eq!(u.max_players, Some(4));
        assert_eq!(u.name.as_deref(), Some("n"));
        assert_eq!(u.policy, Some(PolicyArg::DenyAll));
        assert_eq!(u.protection, Some(SessionProtectionArg::Full));
        assert_eq!(u.properties, vec![GameProperty::new("mode", "casual")]);
        // GameLift's own spellings work too.
        let cli = parse(&["session", "update", "gs-1", "--protection", "NoProtection"]).unwrap();
        let Command::Session(SessionCommand::Update(u)) = cli.command else {
            panic!("not an update");
        };
        assert_eq!(u.protection, Some(SessionProtectionArg::No));
        let cli = parse(&["session", "update", "gs-1", "--policy", "ACCEPT-ALL"]).unwrap();
        let Command::Session(SessionCommand::Update(u)) = cli.command else {
            panic!("not an update");
        };
        assert_eq!(u.policy, Some(PolicyArg::AcceptAll));

        let cli = parse(&["session", "terminate", "gs-1", "--force"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Session(SessionCommand::Terminate { force: true, .. })
        ));
        let cli = parse(&["session", "terminate", "gs-1"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Session(SessionCommand::Terminate { force: false, .. })
        ));
    }

    #[test]
    fn player_commands_parse() {
        let cli = parse(&[
            "player",
            "reserve",
            "gs-1",
            "p1",
            "p2",
            "--data",
            "p1=team=red",
            "--data",
            "p2=blue",
        ])
        .unwrap();
        let Command::Player(PlayerCommand::Reserve {
            game_session_id,
            player_ids,
            data,
        }) = cli.command
        else {
            panic!("not a reserve");
        };
        assert_eq!(game_session_id, "gs-1");
        assert_eq!(player_ids, vec!["p1", "p2"]);
        assert_eq!(
            data,
            vec![
                ("p1".to_string(), "team=red".to_string()),
                ("p2".to_string(), "blue".to_string())
            ]
        );
        let err = parse(&["player", "reserve", "gs-1"]).unwrap_err();
        assert_eq!(err.kind(), ClapKind::MissingRequiredArgument);

        for (flag, check) in [
            ("--game-session", 0),
            ("--player", 1),
            ("--player-session", 2),
        ] {
            let cli = parse(&["player", "list", flag, "x", "--status", "reserved"]).unwrap();
            let Command::Player(PlayerCommand::List(l)) = cli.command else {
                panic!("not a list");
            };
            let set = [&l.game_session, &l.player, &l.player_session];
            assert_eq!(set[check].as_deref(), Some("x"), "{flag}");
            assert_eq!(set.iter().filter(|v| v.is_some()).count(), 1, "{flag}");
            assert_eq!(l.status, Some(PlayerSessionStatus::Reserved));
        }
        let err = parse(&["player", "list"]).unwrap_err();
        assert_eq!(err.kind(), ClapKind::MissingRequiredArgument);
        let err = parse(&["player", "list", "--player", "a", "--game-session", "b"]).unwrap_err();
        assert_eq!(err.kind(), ClapKind::ArgumentConflict);
        let err = parse(&["player", "list", "--player", "a", "--status", "gone"]).unwrap_err();
        assert_eq!(err.kind(), ClapKind::ValueValidation);
    }

    #[test]
    fn alias_commands_parse() {
        let cli = parse(&[
            "alias",
            "create",
            "live",
            "--fleet",
            "fleet-1",
            "--description",
            "production",
            "--tag",
            "team=core",
        ])
        .unwrap();
        let Command::Alias(AliasCommand::Create(a)) = cli.command else {
            panic!("not an alias create");
        };
        assert_eq!(a.name, "live");
        assert_eq!(
            a.routing.strategy(),
            Some(RoutingStrategy::simple("fleet-1"))
        );
        assert_eq!(a.description.as_deref(), Some("production"));
        assert_eq!(a.tags, vec![Tag::new("team", "core")]);

        let cli = parse(&["alias", "create", "old", "--terminal", "moved to live"]).unwrap();
        let Command::Alias(AliasCommand::Create(a)) = cli.command else {
            panic!("not an alias create");
        };
        assert_eq!(
            a.routing.strategy(),
            Some(RoutingStrategy::terminal("moved to live"))
        );

        let kind = |args: &[&str]| parse(args).unwrap_err().kind();
        assert_eq!(
            kind(&["alias", "create", "x", "--fleet", "f", "--terminal", "m"]),
            ClapKind::ArgumentConflict
        );
        assert_eq!(
            kind(&["alias", "create", "x"]),
            ClapKind::MissingRequiredArgument
        );
        assert_eq!(
            kind(&["alias", "update", "alias-1"]),
            ClapKind::MissingRequiredArgument
        );
        assert_eq!(
            kind(&[
                "alias",
                "update",
                "alias-1",
                "--fleet",
                "f",
                "--terminal",
                "m"
            ]),
            ClapKind::ArgumentConflict
        );
        assert_eq!(
            kind(&["alias", "list", "--type", "weighted"]),
            ClapKind::ValueValidation
        );

        let cli = parse(&["alias", "update", "alias-1", "--terminal", "closed"]).unwrap();
        let Command::Alias(AliasCommand::Update(u)) = cli.command else {
            panic!("not an alias update");
        };
        assert_eq!(u.alias_id, "alias-1");
        assert_eq!(u.name, None);
        assert_eq!(
            u.routing.strategy(),
            Some(RoutingStrategy::terminal("closed"))
        );
        let cli = parse(&["alias", "update", "alias-1", "--name", "n"]).unwrap();
        let Command::Alias(AliasCommand::Update(u)) = cli.command else {
            panic!("not an alias update");
        };
        assert_eq!(u.routing.strategy(), None);

        let cli = parse(&["alias", "list", "--type", "SIMPLE", "--name", "live"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Alias(AliasCommand::List {
                routing_type: Some(RoutingStrategyType::Simple),
                name: Some(n),
            }) if n == "live"
        ));
        for cmd in ["describe", "delete", "resolve"] {
            let got = match (cmd, parse(&["alias", cmd, "a-1"]).unwrap().command) {
                ("describe", Command::Alias(AliasCommand::Describe { alias_id }))
                | ("delete", Command::Alias(AliasCommand::Delete { alias_id }))
                | ("resolve", Command::Alias(AliasCommand::Resolve { alias_id })) => alias_id,
                (_, other) => panic!("{cmd}: {other:?}"),
            };
            assert_eq!(got, "a-1");
        }
    }

    #[test]
    fn fleet_placement_parses_on_create_and_update() {
        let cli = parse(&["fleet", "create", "--name", "a", "--placement", "SPREAD"]).unwrap();
        let Command::Fleet(FleetCommand::Create(c)) = cli.command else {
            panic!("not a create");
        };
        assert_eq!(c.placement, Some(PlacementArg::Spread));
        let cli = parse(&["fleet", "create", "--name", "a"]).unwrap();
        let Command::Fleet(FleetCommand::Create(c)) = cli.command else {
            panic!("not a create");
        };
        assert_eq!(c.placement, None);
        // --placement alone is a change.
        let cli = parse(&["fleet", "update", "fleet-1", "--placement", "pack"]).unwrap();
        let Command::Fleet(FleetCommand::Update(u)) = cli.command else {
            panic!("not an update");
        };
        assert_eq!(u.placement, Some(PlacementArg::Pack));
        let err = parse(&["fleet", "update", "fleet-1", "--placement", "fill"]).unwrap_err();
        assert_eq!(err.kind(), ClapKind::InvalidValue);
    }
}
