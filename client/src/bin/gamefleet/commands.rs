//! Runs one parsed `gamefleet` command through [`gamefleet_client::Client`]
//! and returns what to print: pretty JSON of the domain types with `--json`,
//! else text and tables (see `render`).
//!
//! This module does no printing itself, so `main` alone decides what goes to
//! stdout, stderr and the exit code.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gamefleet_client::{
    Client, ClientError, ClientOptions, Consistency, CreateAliasInput, CreateFleetInput,
    CreateGameSessionInput, DescribeGameSessionsInput, DescribePlayerSessionsInput, ErrorKind,
    GameSessionSelector, InstanceCounts, PlayerSessionSelector, ResourceCreationLimitPolicy,
    RuntimeConfiguration, SearchGameSessionsInput, ServerProcess, TerminationMode,
    UpdateAliasInput, UpdateFleetInput, UpdateGameSessionInput,
};
use serde::Serialize;
use serde_json::json;

use crate::cli::{
    AliasCommand, AliasCreateArgs, AliasUpdateArgs, CapacityArgs, Cli, ClusterCommand, Command,
    CreateArgs, FleetCommand, InstanceArgs, LimitPolicyArgs, NodeCommand, PlayerCommand,
    PlayerListArgs, RuntimeConfigArgs, ServerProcessArgs, SessionCommand, SessionCreateArgs,
    SessionSearchArgs, SessionUpdateArgs, UpdateArgs,
};
use crate::render;

/// How long `session create --wait` waits without --wait-timeout.
const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// Runs the command; the `Ok` value is the complete output for stdout.
pub async fn run(cli: Cli) -> Result<String, ClientError> {
    let client = client(&cli)?;
    let json = cli.json;
    match cli.command {
        Command::Cluster(ClusterCommand::Status) => {
            let status = client.cluster_status().await?;
            output(json, &status, render::cluster_status)
        }
        Command::Node(NodeCommand::List) => {
            let status = client.cluster_status().await?;
            output(json, &status.nodes, |nodes| render::nodes(nodes))
        }
        Command::Node(NodeCommand::Join { new_node_addr }) => {
            let (cluster_id, node_id) = client.join_node(&new_node_addr).await?;
            output(
                json,
                &json!({ "ClusterId": cluster_id, "NodeId": node_id }),
                |_| {
                    format!(
                        "node at {new_node_addr} joined cluster {cluster_id} as node {node_id}\n"
                    )
                },
            )
        }
        Command::Node(NodeCommand::Remove { node }) => {
            let node_id = client.remove_node(&node).await?;
            output(json, &json!({ "NodeId": node_id }), |_| {
                format!("removed node {node_id}\n")
            })
        }
        Command::Fleet(FleetCommand::Create(args)) => {
            let fleet = client.create_fleet(create_input(*args)).await?;
            output(json, &fleet, |f| render::fleets(std::slice::from_ref(f)))
        }
        Command::Fleet(FleetCommand::List) => {
            let ids = client.list_fleets().await?;
            output(json, &ids, |ids| render::fleet_ids(ids))
        }
        Command::Fleet(FleetCommand::Describe { fleet_ids }) => {
            let fleets = client.describe_fleets(&fleet_ids).await?;
            output(json, &fleets, |fleets| render::fleets(fleets))
        }
        Command::Fleet(FleetCommand::Update(args)) => {
            let input = update_input(args);
            let fleet_id = input.fleet_id.clone();
            client.update_fleet(input).await?;
            output(json, &json!({ "FleetId": fleet_id }), |_| {
                format!("updated fleet {fleet_id}\n")
            })
        }
        Command::Fleet(FleetCommand::Delete { fleet_id }) => {
            client.delete_fleet(&fleet_id).await?;
            output(json, &json!({ "FleetId": fleet_id }), |_| {
                format!("deleting fleet {fleet_id}\n")
            })
        }
        Command::Fleet(FleetCommand::Processes { fleet_id }) => {
            let processes = client.describe_fleet_processes(&fleet_id).await?;
            output(json, &processes, |p| render::processes(p, now_ms()))
        }
        Command::Fleet(FleetCommand::Events {
            fleet_id,
            since,
            until,
        }) => {
            let events = client
                .describe_fleet_events(&fleet_id, since, until)
                .await?;
            output(json, &events, |events| render::events(events))
        }
        Command::Fleet(FleetCommand::Utilization { fleet_ids }) => {
            let utilization = client.describe_fleet_utilization(&fleet_ids).await?;
            output(json, &utilization, |u| render::utilization(u))
        }
        Command::Fleet(FleetCommand::Capacity(args)) => capacity(&client, json, args).await,
        Command::Fleet(FleetCommand::RuntimeConfig(args)) => {
            runtime_config(&client, json, args).await
        }
        Command::Session(cmd) => session(&client, json, cmd).await,
        Command::Player(cmd) => player(&client, json, cmd).await,
        Command::Alias(cmd) => alias(&client, json, cmd).await,
    }
}

/// `session ...`
async fn session(client: &Client, json: bool, cmd: SessionCommand) -> Result<String, ClientError> {
    match cmd {
        SessionCommand::Create(args) => {
            let (input, wait) = session_create_input(*args);
            let mut session = client.create_game_session(input).await?;
            if let Some(timeout) = wait {
                session = client
                    .wait_for_game_session_active(&session.game_session_id, timeout)
                    .await?;
            }
            output(json, &session, |s| render::game_session(s, None))
        }
        SessionCommand::List(args) => {
            let input = DescribeGameSessionsInput {
                selector: args.target.target().into(),
                location: args.location,
                status_filter: args.status,
            };
            let sessions = client.describe_game_sessions(&input).await?;
            output(json, &sessions, |s| render::game_sessions(s))
        }
        SessionCommand::Describe {
            game_session_id,
            details: false,
        } => {
            let session = client.describe_game_session(&game_session_id).await?;
            output(json, &session, |s| render::game_session(s, None))
        }
        SessionCommand::Describe {
            game_session_id,
            details: true,
        } => {
            let input = DescribeGameSessionsInput::new(GameSessionSelector::GameSession(
                game_session_id.clone(),
            ));
            let detail = client
                .describe_game_session_details(&input)
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    ClientError::new(
                        ErrorKind::NotFound,
                        tonic::Code::NotFound,
                        format!("game session {game_session_id} not found"),
                    )
                })?;
            output(json, &detail, |d| {
                render::game_session(&d.game_session, Some(d.protection_policy))
            })
        }
        SessionCommand::Search(args) => {
            let all = args.all;
            let input = search_input(args);
            let (sessions, next_token) = if all {
                (client.search_all_game_sessions(&input).await?, None)
            } else {
                let page = client.search_game_sessions(&input).await?;
                (page.items, page.next_token)
            };
            output(
                json,
                &json!({ "GameSessions": sessions, "NextToken": next_token }),
                |_| render::search_page(&sessions, next_token.as_deref()),
            )
        }
        SessionCommand::Update(args) => {
            let session = client
                .update_game_session(session_update_input(args))
                .await?;
            output(json, &session, |s| render::game_session(s, None))
        }
        SessionCommand::Terminate {
            game_session_id,
            force,
        } => {
            let mode = if force {
                TerminationMode::ForceTerminate
            } else {
                TerminationMode::TriggerOnProcessTerminate
            };
            let session = client
                .terminate_game_session(&game_session_id, mode)
                .await?;
            output(json, &session, |s| render::game_session(s, None))
        }
    }
}

/// `player ...`
async fn player(client: &Client, json: bool, cmd: PlayerCommand) -> Result<String, ClientError> {
    match cmd {
        PlayerCommand::Reserve {
            game_session_id,
            mut player_ids,
            data,
        } => {
            let mut data: BTreeMap<String, String> = data.into_iter().collect();
            if player_ids.len() == 1 {
                let player_id = player_ids.remove(0);
                let player_data = data.remove(&player_id);
                let session = client
                    .create_player_session(&game_session_id, &player_id, player_data)
                    .await?;
                output(json, &session, |s| {
                    render::player_sessions(std::slice::from_ref(s))
                })
            } else {
                let sessions = client
                    .create_player_sessions(&game_session_id, &player_ids, &data)
                    .await?;
                output(json, &sessions, |s| render::player_sessions(s))
            }
        }
        PlayerCommand::List(args) => {
            let sessions = client
                .describe_player_sessions(&player_list_input(args))
                .await?;
            output(json, &sessions, |s| render::player_sessions(s))
        }
    }
}

/// `alias ...`
async fn alias(client: &Client, json: bool, cmd: AliasCommand) -> Result<String, ClientError> {
    match cmd {
        AliasCommand::Create(args) => {
            let alias = client.create_alias(alias_create_input(args)).await?;
            output(json, &alias, |a| render::aliases(std::slice::from_ref(a)))
        }
        AliasCommand::List { routing_type, name } => {
            let aliases = client.list_aliases(routing_type, name.as_deref()).await?;
            output(json, &aliases, |a| render::aliases(a))
        }
        AliasCommand::Describe { alias_id } => {
            let alias = client.describe_alias(&alias_id).await?;
            output(json, &alias, |a| render::aliases(std::slice::from_ref(a)))
        }
        AliasCommand::Update(args) => {
            let alias = client.update_alias(alias_update_input(args)).await?;
            output(json, &alias, |a| render::aliases(std::slice::from_ref(a)))
        }
        AliasCommand::Delete { alias_id } => {
            client.delete_alias(&alias_id).await?;
            output(json, &json!({ "AliasId": alias_id }), |_| {
                format!("deleted alias {alias_id}\n")
            })
        }
        AliasCommand::Resolve { alias_id } => {
            let resolved = client.resolve_alias(&alias_id).await?;
            output(json, &resolved, |r| {
                format!(
                    "alias {alias_id} routes to fleet {} ({})\n",
                    r.fleet_id, r.fleet_arn
                )
            })
        }
    }
}

/// `fleet capacity`: shows the counts, or changes the ones given.
async fn capacity(client: &Client, json: bool, args: CapacityArgs) -> Result<String, ClientError> {
    let fleet_id = args.fleet_id.clone();
    if !args.is_update() {
        let capacity = client
            .describe_fleet_capacity(std::slice::from_ref(&fleet_id))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| {
                ClientError::new(
                    ErrorKind::NotFound,
                    tonic::Code::NotFound,
                    format!("fleet {fleet_id} not found"),
                )
            })?;
        return output(json, &capacity, |c| {
            render::capacity(std::slice::from_ref(c))
        });
    }
    client
        .update_fleet_capacity(&fleet_id, args.desired, args.min, args.max)
        .await?;
    let changes: Vec<String> = [
        ("desired", args.desired),
        ("min", args.min),
        ("max", args.max),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.map(|v| format!("{name} {v}")))
    .collect();
    output(json, &json!({ "FleetId": fleet_id }), |_| {
        format!(
            "updated capacity of fleet {fleet_id}: {}\n",
            changes.join(", ")
        )
    })
}

/// `fleet runtime-config`: shows the configuration, or replaces it when
/// server processes are given.
async fn runtime_config(
    client: &Client,
    json: bool,
    args: RuntimeConfigArgs,
) -> Result<String, ClientError> {
    let fleet_id = args.fleet_id;
    match runtime_configuration(args.config) {
        None => {
            let rc = client.describe_runtime_configuration(&fleet_id).await?;
            output(json, &rc, |rc| {
                render::runtime_configuration(&fleet_id, rc.as_ref())
            })
        }
        Some(rc) => {
            let rc = client.update_runtime_configuration(&fleet_id, rc).await?;
            output(json, &rc, |rc| {
                format!(
                    "updated the runtime configuration of fleet {fleet_id} (running processes are replaced as they end)\n{}",
                    render::runtime_configuration(&fleet_id, Some(rc))
                )
            })
        }
    }
}

/// Now, Unix epoch milliseconds (for uptimes).
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The client for the global options: `--timeout` bounds the whole call
/// (and each attempt), `--stale` switches reads to the local replica.
fn client(cli: &Cli) -> Result<Client, ClientError> {
    let mut opts = ClientOptions {
        endpoints: cli.endpoints.clone(),
        ..ClientOptions::default()
    };
    if let Some(total) = cli.timeout {
        opts.total_timeout = total;
        opts.attempt_timeout = opts.attempt_timeout.min(total);
    }
    if cli.stale {
        opts.consistency = Consistency::Stale;
    }
    Client::with_options(opts)
}

/// Pretty JSON of `value` with `--json`, else `text(value)`.
fn output<T: Serialize>(
    json: bool,
    value: &T,
    text: impl FnOnce(&T) -> String,
) -> Result<String, ClientError> {
    if !json {
        return Ok(text(value));
    }
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| ClientError::internal(format!("cannot encode JSON: {e}")))
}

fn limit_policy(args: &LimitPolicyArgs) -> Option<ResourceCreationLimitPolicy> {
    // clap makes both options required together.
    match (args.new_sessions_per_creator, args.policy_period_minutes) {
        (Some(sessions), Some(minutes)) => Some(ResourceCreationLimitPolicy {
            new_game_sessions_per_creator: sessions,
            policy_period_in_minutes: minutes,
        }),
        _ => None,
    }
}

/// The runtime configuration the options describe: the --launch-path
/// process first, then every --server-process; `None` when there is none
/// (clap refuses the activation options without processes).
fn runtime_configuration(args: ServerProcessArgs) -> Option<RuntimeConfiguration> {
    let mut server_processes = Vec::new();
    if let Some(launch_path) = args.launch_path {
        server_processes.push(ServerProcess {
            launch_path,
            parameters: args.parameters,
            concurrent_executions: args.concurrent_executions.unwrap_or(1),
        });
    }
    server_processes.extend(args.server_processes);
    if server_processes.is_empty() {
        return None;
    }
    Some(RuntimeConfiguration {
        server_processes,
        max_concurrent_game_session_activations: args.max_concurrent_activations,
        game_session_activation_timeout_seconds: args.activation_timeout,
    })
}

fn instances(args: &InstanceArgs) -> Option<InstanceCounts> {
    // clap makes the three options required together.
    match (
        args.desired_instances,
        args.min_instances,
        args.max_instances,
    ) {
        (Some(desired), Some(minimum), Some(maximum)) => Some(InstanceCounts {
            desired,
            minimum,
            maximum,
            active: 0,
        }),
        _ => None,
    }
}

fn create_input(args: CreateArgs) -> CreateFleetInput {
    CreateFleetInput {
        resource_creation_limit_policy: limit_policy(&args.limit),
        instances: instances(&args.instances),
        name: args.name,
        description: args.description,
        protection_policy: args.protection.map(Into::into),
        metric_groups: args.metric_groups,
        tags: args.tags,
        idempotency_token: args.idempotency_token,
        runtime_configuration: runtime_configuration(args.processes),
        port_range: args.port_range,
        locations: args.locations,
        placement_strategy: args.placement.map(Into::into),
    }
}

fn update_input(args: UpdateArgs) -> UpdateFleetInput {
    let metric_groups = if args.clear_metric_groups {
        Some(Vec::new())
    } else if args.metric_groups.is_empty() {
        None
    } else {
        Some(args.metric_groups)
    };
    UpdateFleetInput {
        resource_creation_limit_policy: limit_policy(&args.limit),
        fleet_id: args.fleet_id,
        name: args.name,
        description: args.description,
        protection_policy: args.protection.map(Into::into),
        metric_groups,
        placement_strategy: args.placement.map(Into::into),
    }
}

/// The create input, and how long to wait for ACTIVE (`None`: no --wait).
fn session_create_input(args: SessionCreateArgs) -> (CreateGameSessionInput, Option<Duration>) {
    let wait = args.wait.then(|| args.wait_timeout.unwrap_or(DEFAULT_WAIT));
    let input = CreateGameSessionInput {
        name: args.name,
        game_properties: args.properties,
        creator_id: args.creator,
        idempotency_token: args.token,
        game_session_data: args.data,
        location: args.location,
        ..CreateGameSessionInput::new(args.target.target(), args.max_players)
    };
    (input, wait)
}

fn search_input(args: SessionSearchArgs) -> SearchGameSessionsInput {
    SearchGameSessionsInput {
        location: args.location,
        filter_expression: args.filter,
        sort_expression: args.sort,
        limit: args.limit,
        next_token: args.next_token,
        ..SearchGameSessionsInput::new(args.target.target())
    }
}

fn session_update_input(args: SessionUpdateArgs) -> UpdateGameSessionInput {
    UpdateGameSessionInput {
        game_session_id: args.game_session_id,
        maximum_player_session_count: args.max_players,
        name: args.name,
        player_session_creation_policy: args.policy.map(Into::into),
        protection_policy: args.protection.map(Into::into),
        game_properties: args.properties,
    }
}

fn player_list_input(args: PlayerListArgs) -> DescribePlayerSessionsInput {
    // clap makes exactly one of the three present.
    let selector = match (args.game_session, args.player, args.player_session) {
        (Some(id), _, _) => PlayerSessionSelector::GameSession(id),
        (None, Some(id), _) => PlayerSessionSelector::Player(id),
        (None, None, id) => PlayerSessionSelector::PlayerSession(id.unwrap_or_default()),
    };
    DescribePlayerSessionsInput {
        selector,
        status_filter: args.status,
    }
}

fn alias_create_input(args: AliasCreateArgs) -> CreateAliasInput {
    // clap makes exactly one of --fleet and --terminal present.
    let routing = args
        .routing
        .strategy()
        .unwrap_or_else(|| gamefleet_client::RoutingStrategy::terminal(String::new()));
    CreateAliasInput {
        description: args.description,
        tags: args.tags,
        ..CreateAliasInput::new(args.name, routing)
    }
}

fn alias_update_input(args: AliasUpdateArgs) -> UpdateAliasInput {
    UpdateAliasInput {
        alias_id: args.alias_id,
        name: args.name,
        description: args.description,
        routing_strategy: args.routing.strategy(),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use gamefleet_client::{
        FleetOrAlias, GameProperty, PlacementStrategy, PlayerSessionCreationPolicy,
        PlayerSessionStatus, PortRange, ProtectionPolicy, RoutingStrategy, Tag,
    };

    use super::*;

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(
            ["gamefleet", "--endpoints", "127.0.0.1:7400"]
                .into_iter()
                .chain(args.iter().copied()),
        )
        .unwrap()
    }

    #[test]
    fn create_args_become_the_input() {
        let Command::Fleet(FleetCommand::Create(args)) = cli(&[
            "fleet",
            "create",
            "--name",
            "arena",
            "--protection",
            "FullProtection",
            "--new-sessions-per-creator",
            "2",
            "--policy-period-minutes",
            "5",
            "--tag",
            "k=v",
        ])
        .command
        else {
            panic!("not a create");
        };
        let input = create_input(*args);
        assert_eq!(
            input,
            CreateFleetInput {
                name: "arena".into(),
                protection_policy: Some(ProtectionPolicy::FullProtection),
                resource_creation_limit_policy: Some(ResourceCreationLimitPolicy {
                    new_game_sessions_per_creator: 2,
                    policy_period_in_minutes: 5,
                }),
                tags: vec![Tag::new("k", "v")],
                ..Default::default()
            }
        );
    }

    #[test]
    fn create_hosting_args_become_the_input() {
        let Command::Fleet(FleetCommand::Create(args)) = cli(&[
            "fleet",
            "create",
            "--name",
            "arena",
            "--server-process",
            "/srv/lobby:2",
            "--launch-path",
            "/srv/game",
            "--parameters",
            "-port {port}",
            "--max-concurrent-activations",
            "3",
            "--port-range",
            "31000-31099",
            "--location",
            "custom-eu",
            "--desired-instances",
            "2",
            "--min-instances",
            "1",
            "--max-instances",
            "4",
        ])
        .command
        else {
            panic!("not a create");
        };
        assert_eq!(
            create_input(*args),
            CreateFleetInput {
                name: "arena".into(),
                runtime_configuration: Some(RuntimeConfiguration {
                    // --launch-path first, then every --server-process.
                    server_processes: vec![
                        ServerProcess {
                            launch_path: "/srv/game".into(),
                            parameters: Some("-port {port}".into()),
                            concurrent_executions: 1,
                        },
                        ServerProcess::new("/srv/lobby", 2),
                    ],
                    max_concurrent_game_session_activations: Some(3),
                    game_session_activation_timeout_seconds: None,
                }),
                port_range: Some(PortRange {
                    from_port: 31000,
                    to_port: 31099,
                }),
                locations: vec!["custom-eu".into()],
                instances: Some(InstanceCounts {
                    desired: 2,
                    minimum: 1,
                    maximum: 4,
                    active: 0,
                }),
                ..Default::default()
            }
        );
    }

    #[test]
    fn runtime_config_shows_without_processes_and_replaces_with_them() {
        let config = |args: &[&str]| {
            let Command::Fleet(FleetCommand::RuntimeConfig(r)) = cli(args).command else {
                panic!("not runtime-config");
            };
            runtime_configuration(r.config)
        };
        assert_eq!(config(&["fleet", "runtime-config", "fleet-1"]), None);
        assert_eq!(
            config(&[
                "fleet",
                "runtime-config",
                "fleet-1",
                "--launch-path",
                "/srv/game",
                "--concurrent-executions",
                "5",
                "--activation-timeout",
                "120",
            ]),
            Some(RuntimeConfiguration {
                server_processes: vec![ServerProcess::new("/srv/game", 5)],
                max_concurrent_game_session_activations: None,
                game_session_activation_timeout_seconds: Some(120),
            })
        );
    }

    #[test]
    fn update_metric_groups_set_clear_or_keep() {
        let input = |args: &[&str]| {
            let Command::Fleet(FleetCommand::Update(u)) = cli(args).command else {
                panic!("not an update");
            };
            update_input(u)
        };
        let u = input(&["fleet", "update", "fleet-1", "--name", "n"]);
        assert_eq!(u.fleet_id, "fleet-1");
        assert_eq!(u.name.as_deref(), Some("n"));
        assert_eq!(u.metric_groups, None);
        let u = input(&["fleet", "update", "fleet-1", "--clear-metric-groups"]);
        assert_eq!(u.metric_groups, Some(vec![]));
        let u = input(&[
            "fleet",
            "update",
            "fleet-1",
            "--metric-group",
            "a",
            "--metric-group",
            "b",
        ]);
        assert_eq!(
            u.metric_groups,
            Some(vec!["a".to_string(), "b".to_string()])
        );
    }

    #[test]
    fn global_options_shape_the_client() {
        let c = client(&cli(&["--stale", "--timeout", "2", "fleet", "list"])).unwrap();
        assert_eq!(c.consistency(), Consistency::Stale);
        assert_eq!(c.endpoints(), ["127.0.0.1:7400"]);
        let c = client(&cli(&["fleet", "list"])).unwrap();
        assert_eq!(c.consistency(), Consistency::Linearizable);
    }

    #[tokio::test]
    async fn bad_endpoints_fail_before_any_request() {
        let cli = Cli::try_parse_from(["gamefleet", "--endpoints", "https://x:1", "fleet", "list"])
            .unwrap();
        let err = run(cli).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidRequest);
        assert!(
            err.to_string().starts_with("InvalidRequest: endpoint"),
            "{err}"
        );
    }

    #[test]
    fn json_output_is_pretty_and_ends_with_a_newline() {
        let out = output(true, &json!({ "FleetId": "fleet-1" }), |_| unreachable!()).unwrap();
        assert_eq!(out, "{\n  \"FleetId\": \"fleet-1\"\n}\n");
        let out = output(false, &1, |v| format!("text {v}\n")).unwrap();
        assert_eq!(out, "text 1\n");
    }

    #[test]
    fn placement_becomes_part_of_fleet_inputs() {
        let Command::Fleet(FleetCommand::Create(args)) =
            cli(&["fleet", "create", "--name", "a", "--placement", "spread"]).command
        else {
            panic!("not a create");
        };
        assert_eq!(
            create_input(*args).placement_strategy,
            Some(PlacementStrategy::Spread)
        );
        let Command::Fleet(FleetCommand::Update(args)) =
            cli(&["fleet", "update", "fleet-1", "--placement", "pack"]).command
        else {
            panic!("not an update");
        };
        let u = update_input(args);
        assert_eq!(u.placement_strategy, Some(PlacementStrategy::Pack));
        assert_eq!(u.name, None);
    }

    fn session_create(args: &[&str]) -> (CreateGameSessionInput, Option<Duration>) {
        let Command::Session(SessionCommand::Create(c)) = cli(args).command else {
            panic!("not a session create");
        };
        session_create_input(*c)
    }

    #[test]
    fn session_create_args_become_the_input() {
        let (input, wait) = session_create(&[
            "session",
            "create",
            "--fleet",
            "fleet-1",
            "--max-players",
            "8",
            "--name",
            "arena",
            "--property",
            "mode=ranked",
            "--creator",
            "me",
            "--data",
            "d",
            "--location",
            "custom-eu",
            "--token",
            "tok-1",
        ]);
        assert_eq!(
            input,
            CreateGameSessionInput {
                name: Some("arena".into()),
                game_properties: vec![GameProperty::new("mode", "ranked")],
                creator_id: Some("me".into()),
                idempotency_token: Some("tok-1".into()),
                game_session_data: Some("d".into()),
                location: Some("custom-eu".into()),
                ..CreateGameSessionInput::new(FleetOrAlias::fleet("fleet-1"), 8)
            }
        );
        assert_eq!(wait, None);

        let (input, wait) = session_create(&[
            "session",
            "create",
            "--alias",
            "alias-1",
            "--max-players",
            "2",
            "--wait",
        ]);
        assert_eq!(
            input,
            CreateGameSessionInput::new(FleetOrAlias::alias("alias-1"), 2)
        );
        assert_eq!(wait, Some(DEFAULT_WAIT));
        let (_, wait) = session_create(&[
            "session",
            "create",
            "--alias",
            "alias-1",
            "--max-players",
            "2",
            "--wait",
            "--wait-timeout",
            "500ms",
        ]);
        assert_eq!(wait, Some(Duration::from_millis(500)));
    }

    #[test]
    fn session_update_search_and_list_args_become_inputs() {
        let Command::Session(SessionCommand::Update(u)) = cli(&[
            "session",
            "update",
            "gs-1",
            "--policy",
            "deny-all",
            "--protection",
            "no",
            "--property",
            "mode=",
        ])
        .command
        else {
            panic!("not an update");
        };
        assert_eq!(
            session_update_input(u),
            UpdateGameSessionInput {
                game_session_id: "gs-1".into(),
                player_session_creation_policy: Some(PlayerSessionCreationPolicy::DenyAll),
                protection_policy: Some(ProtectionPolicy::NoProtection),
                game_properties: vec![GameProperty::new("mode", "")],
                ..Default::default()
            }
        );

        let Command::Session(SessionCommand::Search(s)) = cli(&[
            "session",
            "search",
            "--fleet",
            "fleet-1",
            "--filter",
            "playerSessionCount>0",
            "--limit",
            "3",
        ])
        .command
        else {
            panic!("not a search");
        };
        assert_eq!(
            search_input(s),
            SearchGameSessionsInput {
                filter_expression: Some("playerSessionCount>0".into()),
                limit: Some(3),
                ..SearchGameSessionsInput::new(FleetOrAlias::fleet("fleet-1"))
            }
        );

        let list = |args: &[&str]| {
            let Command::Player(PlayerCommand::List(l)) = cli(args).command else {
                panic!("not a player list");
            };
            player_list_input(l)
        };
        assert_eq!(
            list(&[
                "player",
                "list",
                "--game-session",
                "gs-1",
                "--status",
                "active"
            ]),
            DescribePlayerSessionsInput {
                selector: PlayerSessionSelector::GameSession("gs-1".into()),
                status_filter: Some(PlayerSessionStatus::Active),
            }
        );
        assert_eq!(
            list(&["player", "list", "--player", "p1"]).selector,
            PlayerSessionSelector::Player("p1".into())
        );
        assert_eq!(
            list(&["player", "list", "--player-session", "psess-1"]).selector,
            PlayerSessionSelector::PlayerSession("psess-1".into())
        );
    }

    #[test]
    fn alias_args_become_inputs() {
        let Command::Alias(AliasCommand::Create(a)) = cli(&[
            "alias",
            "create",
            "old",
            "--terminal",
            "gone",
            "--description",
            "retired",
        ])
        .command
        else {
            panic!("not an alias create");
        };
        assert_eq!(
            alias_create_input(a),
            CreateAliasInput {
                description: Some("retired".into()),
                ..CreateAliasInput::new("old", RoutingStrategy::terminal("gone"))
            }
        );
        let Command::Alias(AliasCommand::Update(u)) =
            cli(&["alias", "update", "alias-1", "--fleet", "fleet-2"]).command
        else {
            panic!("not an alias update");
        };
        assert_eq!(
            alias_update_input(u),
            UpdateAliasInput {
                alias_id: "alias-1".into(),
                routing_strategy: Some(RoutingStrategy::simple("fleet-2")),
                ..Default::default()
            }
        );
    }
}
