//! The `gamefleet` command line: clap definitions and the parsers of
//! CLI-local syntax (`KEY=VALUE` tags, timeouts). Values the server checks
//! (name lengths, tag limits, ...) are passed through unchecked.

use std::time::Duration;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use gamefleet_client::{ProtectionPolicy, Tag};

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
    Create(CreateArgs),
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
}
