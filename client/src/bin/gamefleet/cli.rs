//! The `gamefleet` command line: clap definitions and the parsers of
//! CLI-local syntax (`KEY=VALUE` tags, timeouts, `PATH[:N[:PARAMS]]` server
//! processes, `FROM-TO` port ranges, RFC 3339 or millisecond times). Values
//! the server checks (name lengths, tag limits, port and instance bounds,
//! ...) are passed through unchecked.

use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use gamefleet_client::{PortRange, ProtectionPolicy, ServerProcess, Tag};

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
}

/// Parses `KEY=VALUE` (the value may be empty and may contain `=`).
pub fn parse_tag(s: &str) -> Result<Tag, String> {
    match s.split_once('=') {
        Some(("", _)) => Err(format!("tag {s:?}: the key is empty (expected KEY=VALUE)")),
        Some((key, value)) => Ok(Tag::new(key, value)),
        None => Err(format!("tag {s:?}: expected KEY=VALUE")),
    }
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
}
