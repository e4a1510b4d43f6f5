//! Text output of the `gamefleet` CLI: the cluster header, node, fleet,
//! fleet hosting, game session, player session and alias tables
//! (comfy-table), one game session as labelled lines, addresses, UTC
//! timestamps and uptimes. Pure functions from domain types to strings (the
//! current time is a parameter); nothing here does IO.

use comfy_table::{Table, presets};
use gamefleet_client::{
    Alias, ClusterStatus, Fleet, FleetCapacity, FleetEvent, FleetUtilization, GameSession,
    NodeStatus, PlayerSession, ProtectionPolicy, RoutingStrategyType, RuntimeConfiguration,
    ServerProcessStatus,
};

fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    table.set_header(header.to_vec());
    table
}

fn finish(table: Table) -> String {
    let mut s = table.to_string();
    s.push('\n');
    s
}

/// `cluster status`: a header (cluster id, leader, term, answering node),
/// then the node table.
pub fn cluster_status(s: &ClusterStatus) -> String {
    let leader = match (s.leader_id, s.leader_name.as_str()) {
        (None, _) => "none".to_string(),
        (Some(id), "") => format!("id {id}"),
        (Some(id), name) => format!("{name} (id {id})"),
    };
    format!(
        "Cluster:     {}\nLeader:      {leader}\nTerm:        {}\nAnswered by: node {}\n{}",
        if s.cluster_id.is_empty() {
            "-"
        } else {
            &s.cluster_id
        },
        s.term,
        s.answered_by,
        nodes(&s.nodes)
    )
}

/// `node list`: one row per node.
pub fn nodes(nodes: &[NodeStatus]) -> String {
    let mut t = table(&[
        "ID", "NAME", "ADDRESS", "ROLE", "VOTER", "TERM", "LAST LOG", "APPLIED", "SNAPSHOT",
        "HEALTH",
    ]);
    for n in nodes {
        t.add_row(vec![
            n.node_id.to_string(),
            n.name.clone(),
            n.address.clone(),
            n.role.clone(),
            if n.voter { "yes" } else { "no" }.to_string(),
            n.term.to_string(),
            n.last_log_index.to_string(),
            n.last_applied_index.to_string(),
            n.snapshot_index.to_string(),
            n.health.clone(),
        ]);
    }
    finish(t)
}

/// `fleet list`: one fleet id per row.
pub fn fleet_ids(ids: &[String]) -> String {
    let mut t = table(&["FLEET ID"]);
    for id in ids {
        t.add_row(vec![id.clone()]);
    }
    finish(t)
}

/// `fleet describe` / `fleet create`: one row per fleet.
pub fn fleets(fleets: &[Fleet]) -> String {
    let mut t = table(&[
        "FLEET ID",
        "NAME",
        "STATUS",
        "PROTECTION",
        "SESSION LIMIT",
        "METRIC GROUPS",
        "TAGS",
        "PORTS",
        "LOCATIONS",
        "HOSTING NODES",
        "PLACEMENT",
        "CREATED",
        "DESCRIPTION",
    ]);
    for f in fleets {
        let limit = f
            .resource_creation_limit_policy
            .map_or("-".to_string(), |p| {
                format!(
                    "{} per {} min",
                    p.new_game_sessions_per_creator, p.policy_period_in_minutes
                )
            });
        let tags: Vec<String> = f
            .tags
            .iter()
            .map(|t| format!("{}={}", t.key, t.value))
            .collect();
        t.add_row(vec![
            f.fleet_id.clone(),
            f.name.clone(),
            f.status.as_str().to_string(),
            f.new_game_session_protection_policy.as_str().to_string(),
            limit,
            or_dash(f.metric_groups.join(",")),
            or_dash(tags.join(",")),
            f.port_range.map_or("-".to_string(), |p| {
                format!("{}-{}", p.from_port, p.to_port)
            }),
            if f.locations.is_empty() {
                "any".to_string()
            } else {
                f.locations.join(",")
            },
            or_dash(
                f.hosting_node_ids
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            f.placement_strategy.as_str().to_string(),
            millis(f.creation_time),
            or_dash(f.description.clone().unwrap_or_default()),
        ]);
    }
    finish(t)
}

/// `fleet processes`: one row per process, by node then process id.
pub fn processes(processes: &[ServerProcessStatus], now_ms: i64) -> String {
    let mut t = table(&[
        "NODE",
        "PROCESS ID",
        "PID",
        "PORT",
        "STATUS",
        "HEALTH",
        "UPTIME",
    ]);
    let mut sorted: Vec<&ServerProcessStatus> = processes.iter().collect();
    sorted.sort_by(|a, b| (a.node_id, &a.process_id).cmp(&(b.node_id, &b.process_id)));
    for p in sorted {
        let node = if p.node_name.is_empty() {
            format!("id {}", p.node_id)
        } else {
            format!("{} (id {})", p.node_name, p.node_id)
        };
        t.add_row(vec![
            node,
            p.process_id.clone(),
            p.pid.to_string(),
            p.port.to_string(),
            p.status.clone(),
            p.health.clone(),
            uptime(p.launch_time, now_ms),
        ]);
    }
    finish(t)
}

/// `fleet events`: one row per event, in the order given (oldest first).
pub fn events(events: &[FleetEvent]) -> String {
    let mut t = table(&["TIME", "CODE", "MESSAGE"]);
    for e in events {
        t.add_row(vec![
            millis(e.event_time),
            e.event_code.clone(),
            e.message.clone(),
        ]);
    }
    finish(t)
}

/// `fleet utilization`: one row per fleet.
pub fn utilization(utilization: &[FleetUtilization]) -> String {
    let mut t = table(&[
        "FLEET ID",
        "ACTIVE PROCESSES",
        "ACTIVE GAME SESSIONS",
        "PLAYER SESSIONS",
        "MAX PLAYER SESSIONS",
    ]);
    for u in utilization {
        t.add_row(vec![
            u.fleet_id.clone(),
            u.active_server_process_count.to_string(),
            u.active_game_session_count.to_string(),
            u.current_player_session_count.to_string(),
            u.maximum_player_session_count.to_string(),
        ]);
    }
    finish(t)
}

/// `fleet capacity`: one row per fleet.
pub fn capacity(capacity: &[FleetCapacity]) -> String {
    let mut t = table(&["FLEET ID", "DESIRED", "MIN", "MAX", "ACTIVE"]);
    for c in capacity {
        let n = c.instance_counts;
        t.add_row(vec![
            c.fleet_id.clone(),
            n.desired.to_string(),
            n.minimum.to_string(),
            n.maximum.to_string(),
            n.active.to_string(),
        ]);
    }
    finish(t)
}

/// `fleet runtime-config`: the activation settings, then one row per server
/// process; a data-only fleet (`None`) says so.
pub fn runtime_configuration(fleet_id: &str, rc: Option<&RuntimeConfiguration>) -> String {
    let Some(rc) = rc else {
        return format!(
            "Fleet {fleet_id} has no runtime configuration (a data-only fleet: no server processes run).\n"
        );
    };
    let activations = rc
        .max_concurrent_game_session_activations
        .map_or("no limit".to_string(), |n| n.to_string());
    let timeout = rc
        .game_session_activation_timeout_seconds
        .map_or("default".to_string(), |s| format!("{s} s"));
    let mut t = table(&["LAUNCH PATH", "PARAMETERS", "CONCURRENT EXECUTIONS"]);
    for p in &rc.server_processes {
        t.add_row(vec![
            p.launch_path.clone(),
            or_dash(p.parameters.clone().unwrap_or_default()),
            p.concurrent_executions.to_string(),
        ]);
    }
    format!(
        "Fleet:                      {fleet_id}\nMax concurrent activations: {activations}\nActivation timeout:         {timeout}\n{}",
        finish(t)
    )
}

/// `ip:port` (`[ip]:port` for IPv6); `-` when the address is not known yet.
pub fn address(ip: &str, port: u32) -> String {
    match (ip, port) {
        ("", _) | (_, 0) => "-".to_string(),
        (ip, port) if ip.contains(':') => format!("[{ip}]:{port}"),
        (ip, port) => format!("{ip}:{port}"),
    }
}

/// A game session's status, with its reason when there is one
/// (`TERMINATED (FORCE_TERMINATED)`).
fn session_status(s: &GameSession) -> String {
    match s.status_reason {
        Some(r) => format!("{} ({})", s.status.as_str(), r.as_str()),
        None => s.status.as_str().to_string(),
    }
}

fn properties(s: &GameSession) -> String {
    let props: Vec<String> = s
        .game_properties
        .iter()
        .map(|p| format!("{}={}", p.key, p.value))
        .collect();
    or_dash(props.join(","))
}

/// `session create/describe/update/terminate`: one game session as
/// labelled lines, its protection policy too when known.
pub fn game_session(s: &GameSession, protection: Option<ProtectionPolicy>) -> String {
    let opt = |v: &Option<String>| or_dash(v.clone().unwrap_or_default());
    let mut lines = vec![
        ("Game session", s.game_session_id.clone()),
        ("Name", opt(&s.name)),
        ("Fleet", s.fleet_id.clone()),
        ("Status", session_status(s)),
        ("Address", address(&s.ip_address, s.port)),
        ("DNS name", opt(&s.dns_name)),
        (
            "Players",
            format!(
                "{}/{} ({})",
                s.current_player_session_count,
                s.maximum_player_session_count,
                s.player_session_creation_policy.as_str()
            ),
        ),
        ("Location", opt(&s.location)),
        (
            "Hosted by",
            format!(
                "node {} process {}",
                s.node_id,
                or_dash(s.process_id.clone())
            ),
        ),
        ("Properties", properties(s)),
        ("Creator", opt(&s.creator_id)),
        ("Created", millis(s.creation_time)),
        ("Terminated", millis(s.termination_time.unwrap_or(0))),
    ];
    if let Some(p) = protection {
        lines.push(("Protection", p.as_str().to_string()));
    }
    lines
        .into_iter()
        .map(|(label, value)| format!("{:<14}{value}\n", format!("{label}:")))
        .collect()
}

/// `session list`: one row per game session.
pub fn game_sessions(sessions: &[GameSession]) -> String {
    let mut t = table(&[
        "GAME SESSION ID",
        "NAME",
        "STATUS",
        "PLAYERS",
        "ADDRESS",
        "LOCATION",
        "PROPERTIES",
        "CREATED",
    ]);
    for s in sessions {
        t.add_row(vec![
            s.game_session_id.clone(),
            or_dash(s.name.clone().unwrap_or_default()),
            session_status(s),
            format!(
                "{}/{}",
                s.current_player_session_count, s.maximum_player_session_count
            ),
            address(&s.ip_address, s.port),
            or_dash(s.location.clone().unwrap_or_default()),
            properties(s),
            millis(s.creation_time),
        ]);
    }
    finish(t)
}

/// `session search`: the sessions, then how to get the next page if there
/// is one.
pub fn search_page(sessions: &[GameSession], next_token: Option<&str>) -> String {
    let mut out = game_sessions(sessions);
    if let Some(token) = next_token {
        out.push_str(&format!(
            "More sessions match; next page: --next-token {token} (or --all)\n"
        ));
    }
    out
}

/// `player reserve` / `player list`: one row per player session.
pub fn player_sessions(sessions: &[PlayerSession]) -> String {
    let mut t = table(&[
        "PLAYER SESSION ID",
        "PLAYER ID",
        "STATUS",
        "ADDRESS",
        "GAME SESSION ID",
        "CREATED",
        "PLAYER DATA",
    ]);
    for p in sessions {
        t.add_row(vec![
            p.player_session_id.clone(),
            p.player_id.clone(),
            p.status.as_str().to_string(),
            address(&p.ip_address, p.port),
            p.game_session_id.clone(),
            millis(p.creation_time),
            or_dash(p.player_data.clone().unwrap_or_default()),
        ]);
    }
    finish(t)
}

/// `alias ...`: one row per alias; ROUTES TO is the fleet (SIMPLE) or the
/// message (TERMINAL).
pub fn aliases(aliases: &[Alias]) -> String {
    let mut t = table(&[
        "ALIAS ID",
        "NAME",
        "ROUTING",
        "ROUTES TO",
        "DESCRIPTION",
        "UPDATED",
    ]);
    for a in aliases {
        let r = &a.routing_strategy;
        let to = match r.strategy_type {
            RoutingStrategyType::Terminal => {
                format!("message: {}", r.message.clone().unwrap_or_default())
            }
            _ => or_dash(r.fleet_id.clone().unwrap_or_default()),
        };
        t.add_row(vec![
            a.alias_id.clone(),
            a.name.clone(),
            r.strategy_type.as_str().to_string(),
            to,
            or_dash(a.description.clone().unwrap_or_default()),
            millis(a.last_updated_time),
        ]);
    }
    finish(t)
}

/// Time since `launch_ms` at `now_ms`, in its two largest units (`42s`,
/// `5m07s`, `3h05m`, `2d04h`); `-` for an unknown launch time.
pub fn uptime(launch_ms: i64, now_ms: i64) -> String {
    if launch_ms == 0 {
        return "-".to_string();
    }
    let secs = now_ms.saturating_sub(launch_ms).max(0) / 1000;
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        s => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

fn or_dash(s: String) -> String {
    if s.is_empty() { "-".to_string() } else { s }
}

/// Unix epoch milliseconds as `YYYY-MM-DDTHH:MM:SSZ` (UTC); `0` is `-`.
pub fn millis(ms: i64) -> String {
    if ms == 0 {
        return "-".to_string();
    }
    let secs = ms.div_euclid(1000);
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day), after
/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use gamefleet_client::{
        FleetStatus, GameProperty, GameSessionStatus, GameSessionStatusReason, InstanceCounts,
        PlacementStrategy, PlayerSessionCreationPolicy, PlayerSessionStatus, PortRange,
        ProtectionPolicy, ResourceCreationLimitPolicy, RoutingStrategy, ServerProcess, Tag,
    };

    use super::*;

    #[test]
    fn timestamps_are_utc() {
        assert_eq!(millis(1), "1970-01-01T00:00:00Z");
        assert_eq!(millis(1_700_000_000_123), "2023-11-14T22:13:20Z");
        assert_eq!(millis(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(millis(4_107_542_399_000), "2100-02-28T23:59:59Z");
        assert_eq!(millis(-1000), "1969-12-31T23:59:59Z");
        assert_eq!(millis(0), "-");
    }

    fn node(id: u64, role: &str) -> NodeStatus {
        NodeStatus {
            node_id: id,
            name: format!("n{id}"),
            address: format!("127.0.0.1:740{id}"),
            role: role.into(),
            voter: id != 4,
            term: 5,
            last_log_index: 120,
            last_applied_index: 119,
            snapshot_index: 100,
            purged_index: 90,
            health: "ok".into(),
            labels: BTreeMap::new(),
            state_hash: String::new(),
            cluster_id: "c-1".into(),
            leader_id: Some(1),
        }
    }

    #[test]
    fn cluster_status_has_header_and_node_rows() {
        let s = ClusterStatus {
            cluster_id: "c-1".into(),
            leader_id: Some(1),
            leader_name: "n1".into(),
            term: 5,
            nodes: vec![node(1, "LEADER"), node(4, "LEARNER")],
            answered_by: 4,
        };
        let out = cluster_status(&s);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "Cluster:     c-1");
        assert_eq!(lines[1], "Leader:      n1 (id 1)");
        assert_eq!(lines[2], "Term:        5");
        assert_eq!(lines[3], "Answered by: node 4");
        for header in [
            "ID", "NAME", "ADDRESS", "ROLE", "VOTER", "TERM", "LAST LOG", "APPLIED", "SNAPSHOT",
            "HEALTH",
        ] {
            assert!(out.contains(header), "{header} missing:\n{out}");
        }
        let learner = lines.iter().find(|l| l.contains("LEARNER")).unwrap();
        for cell in ["n4", "127.0.0.1:7404", "no", "120", "119", "100", "ok"] {
            assert!(learner.contains(cell), "{cell} missing: {learner}");
        }

        let no_leader = ClusterStatus {
            leader_id: None,
            leader_name: String::new(),
            ..s
        };
        assert!(cluster_status(&no_leader).contains("Leader:      none\n"));
    }

    #[test]
    fn fleet_rows_show_every_attribute() {
        let f = Fleet {
            fleet_id: "fleet-1".into(),
            fleet_arn: "arn".into(),
            name: "arena".into(),
            description: None,
            creation_time: 1_700_000_000_123,
            termination_time: None,
            status: FleetStatus::Active,
            new_game_session_protection_policy: ProtectionPolicy::FullProtection,
            resource_creation_limit_policy: Some(ResourceCreationLimitPolicy {
                new_game_sessions_per_creator: 3,
                policy_period_in_minutes: 15,
            }),
            metric_groups: vec!["g".into()],
            tags: vec![Tag::new("a", "1"), Tag::new("b", "2")],
            locations: vec!["custom-eu".into()],
            port_range: Some(PortRange {
                from_port: 30000,
                to_port: 30099,
            }),
            hosting_node_ids: vec![1, 3],
            placement_strategy: PlacementStrategy::Spread,
        };
        let out = fleets(std::slice::from_ref(&f));
        let row = out.lines().find(|l| l.contains("fleet-1")).unwrap();
        for cell in [
            "arena",
            "ACTIVE",
            "FullProtection",
            "3 per 15 min",
            "a=1,b=2",
            "30000-30099",
            "custom-eu",
            "1,3",
            "SPREAD",
            "2023-11-14T22:13:20Z",
        ] {
            assert!(row.contains(cell), "{cell} missing: {row}");
        }
        let bare = Fleet {
            locations: vec![],
            port_range: None,
            hosting_node_ids: vec![],
            ..f
        };
        let out = fleets(&[bare]);
        let row = out.lines().find(|l| l.contains("fleet-1")).unwrap();
        assert!(row.contains("any"), "{row}");
        let ids = fleet_ids(&["fleet-1".into(), "fleet-2".into()]);
        assert!(ids.contains("FLEET ID") && ids.contains("fleet-1") && ids.contains("fleet-2"));
    }

    #[test]
    fn uptimes_use_two_units() {
        let t0 = 1_700_000_000_000;
        assert_eq!(uptime(t0, t0 + 42_999), "42s");
        assert_eq!(uptime(t0, t0 + 307_000), "5m07s");
        assert_eq!(uptime(t0, t0 + 3 * 3_600_000 + 5 * 60_000), "3h05m");
        assert_eq!(uptime(t0, t0 + 2 * 86_400_000 + 4 * 3_600_000), "2d04h");
        // A clock behind the launch time is not negative.
        assert_eq!(uptime(t0, t0 - 5_000), "0s");
        assert_eq!(uptime(0, t0), "-");
    }

    fn process(id: &str, node_id: u64, node_name: &str) -> ServerProcessStatus {
        ServerProcessStatus {
            process_id: id.into(),
            fleet_id: "fleet-1".into(),
            node_id,
            node_name: node_name.into(),
            pid: 4242,
            port: 30001,
            status: "ACTIVE".into(),
            health: "UNHEALTHY".into(),
            launch_time: 1_700_000_000_000,
            ready_time: None,
            launch_path: "/srv/game".into(),
        }
    }

    #[test]
    fn process_rows_are_grouped_by_node() {
        let out = processes(
            &[
                process("proc-b", 2, ""),
                process("proc-c", 1, "n1"),
                process("proc-a", 2, ""),
            ],
            1_700_000_065_000,
        );
        for header in [
            "NODE",
            "PROCESS ID",
            "PID",
            "PORT",
            "STATUS",
            "HEALTH",
            "UPTIME",
        ] {
            assert!(out.contains(header), "{header} missing:\n{out}");
        }
        let rows: Vec<&str> = out.lines().filter(|l| l.contains("proc-")).collect();
        assert!(
            rows[0].contains("n1 (id 1)") && rows[0].contains("proc-c"),
            "{out}"
        );
        assert!(
            rows[1].contains("id 2") && rows[1].contains("proc-a"),
            "{out}"
        );
        assert!(rows[2].contains("proc-b"), "{out}");
        for cell in ["4242", "30001", "ACTIVE", "UNHEALTHY", "1m05s"] {
            assert!(rows[0].contains(cell), "{cell} missing: {}", rows[0]);
        }
    }

    #[test]
    fn event_utilization_and_capacity_rows() {
        let out = events(&[FleetEvent {
            event_id: "event-1".into(),
            resource_id: "fleet-1".into(),
            event_code: "SERVER_PROCESS_CRASHED".into(),
            message: "proc-1 exited".into(),
            event_time: 1_700_000_000_123,
        }]);
        let row = out.lines().find(|l| l.contains("CRASHED")).unwrap();
        assert!(row.contains("2023-11-14T22:13:20Z") && row.contains("proc-1 exited"));

        let out = utilization(&[FleetUtilization {
            fleet_id: "fleet-1".into(),
            fleet_arn: "arn".into(),
            active_server_process_count: 4,
            active_game_session_count: 3,
            current_player_session_count: 17,
            maximum_player_session_count: 32,
        }]);
        let row = out.lines().find(|l| l.contains("fleet-1")).unwrap();
        for cell in ["4", "3", "17", "32"] {
            assert!(row.contains(cell), "{cell} missing: {row}");
        }

        let out = capacity(&[FleetCapacity {
            fleet_id: "fleet-1".into(),
            fleet_arn: "arn".into(),
            instance_counts: InstanceCounts {
                desired: 3,
                minimum: 1,
                maximum: 5,
                active: 2,
            },
        }]);
        assert!(out.contains("DESIRED") && out.contains("ACTIVE"));
        let row = out.lines().find(|l| l.contains("fleet-1")).unwrap();
        let cells: Vec<&str> = row
            .split(['│', '┆'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert_eq!(cells, ["fleet-1", "3", "1", "5", "2"]);
    }

    #[test]
    fn runtime_configuration_shows_settings_and_processes() {
        let rc = RuntimeConfiguration {
            server_processes: vec![
                ServerProcess {
                    launch_path: "/srv/game".into(),
                    parameters: Some("-port {port}".into()),
                    concurrent_executions: 4,
                },
                ServerProcess::new("/srv/lobby", 1),
            ],
            max_concurrent_game_session_activations: None,
            game_session_activation_timeout_seconds: Some(300),
        };
        let out = runtime_configuration("fleet-1", Some(&rc));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "Fleet:                      fleet-1");
        assert_eq!(lines[1], "Max concurrent activations: no limit");
        assert_eq!(lines[2], "Activation timeout:         300 s");
        let game = lines.iter().find(|l| l.contains("/srv/game")).unwrap();
        assert!(
            game.contains("-port {port}") && game.contains('4'),
            "{game}"
        );
        let lobby = lines.iter().find(|l| l.contains("/srv/lobby")).unwrap();
        assert!(lobby.contains(" - "), "{lobby}");

        let none = runtime_configuration("fleet-2", None);
        assert!(
            none.contains("fleet-2") && none.contains("data-only"),
            "{none}"
        );
    }

    fn session() -> GameSession {
        GameSession {
            game_session_id: "arn:gamefleet:gamelift:custom-eu::gamesession/fleet-1/gs-1".into(),
            name: Some("arena".into()),
            fleet_id: "fleet-1".into(),
            fleet_arn: "arn".into(),
            creation_time: 1_700_000_000_123,
            termination_time: None,
            current_player_session_count: 3,
            maximum_player_session_count: 10,
            status: GameSessionStatus::Active,
            status_reason: None,
            game_properties: vec![
                GameProperty::new("mode", "ranked"),
                GameProperty::new("map", "dust"),
            ],
            ip_address: "10.0.0.7".into(),
            dns_name: None,
            port: 30007,
            player_session_creation_policy: PlayerSessionCreationPolicy::DenyAll,
            creator_id: None,
            game_session_data: None,
            matchmaker_data: None,
            location: Some("custom-eu".into()),
            compute_name: None,
            process_id: "proc-7".into(),
            node_id: 2,
        }
    }

    #[test]
    fn addresses_are_ip_colon_port() {
        assert_eq!(address("10.0.0.7", 30007), "10.0.0.7:30007");
        assert_eq!(address("::1", 30007), "[::1]:30007");
        assert_eq!(address("", 30007), "-");
        assert_eq!(address("10.0.0.7", 0), "-");
    }

    #[test]
    fn one_game_session_is_labelled_lines() {
        let out = game_session(&session(), None);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "Game session: arn:gamefleet:gamelift:custom-eu::gamesession/fleet-1/gs-1"
        );
        for want in [
            "Name:         arena",
            "Fleet:        fleet-1",
            "Status:       ACTIVE",
            "Address:      10.0.0.7:30007",
            "DNS name:     -",
            "Players:      3/10 (DENY_ALL)",
            "Location:     custom-eu",
            "Hosted by:    node 2 process proc-7",
            "Properties:   mode=ranked,map=dust",
            "Created:      2023-11-14T22:13:20Z",
            "Terminated:   -",
        ] {
            assert!(lines.contains(&want), "{want:?} missing:\n{out}");
        }
        assert!(!out.contains("Protection"), "{out}");

        let ended = GameSession {
            status: GameSessionStatus::Terminated,
            status_reason: Some(GameSessionStatusReason::ForceTerminated),
            termination_time: Some(1_700_000_060_000),
            ..session()
        };
        let out = game_session(&ended, Some(ProtectionPolicy::FullProtection));
        assert!(
            out.contains("Status:       TERMINATED (FORCE_TERMINATED)\n"),
            "{out}"
        );
        assert!(
            out.contains("Terminated:   2023-11-14T22:14:20Z\n"),
            "{out}"
        );
        assert!(out.ends_with("Protection:   FullProtection\n"), "{out}");
    }

    #[test]
    fn game_session_rows_and_search_pages() {
        let out = game_sessions(&[session()]);
        for header in [
            "GAME SESSION ID",
            "STATUS",
            "PLAYERS",
            "ADDRESS",
            "LOCATION",
        ] {
            assert!(out.contains(header), "{header} missing:\n{out}");
        }
        let row = out.lines().find(|l| l.contains("gs-1")).unwrap();
        for cell in [
            "arena",
            "ACTIVE",
            "3/10",
            "10.0.0.7:30007",
            "custom-eu",
            "mode=ranked",
        ] {
            assert!(row.contains(cell), "{cell} missing: {row}");
        }
        let out = search_page(&[session()], Some("20"));
        assert!(
            out.ends_with("next page: --next-token 20 (or --all)\n"),
            "{out}"
        );
        assert!(!search_page(&[session()], None).contains("next page"));
    }

    #[test]
    fn player_session_and_alias_rows() {
        let out = player_sessions(&[PlayerSession {
            player_session_id: "psess-1".into(),
            player_id: "player-1".into(),
            game_session_id: "gs-1".into(),
            fleet_id: "fleet-1".into(),
            fleet_arn: "arn".into(),
            creation_time: 1_700_000_000_000,
            termination_time: None,
            status: PlayerSessionStatus::Reserved,
            ip_address: "10.0.0.7".into(),
            dns_name: None,
            port: 30007,
            player_data: Some("team=red".into()),
        }]);
        let row = out.lines().find(|l| l.contains("psess-1")).unwrap();
        for cell in ["player-1", "RESERVED", "10.0.0.7:30007", "gs-1", "team=red"] {
            assert!(row.contains(cell), "{cell} missing: {row}");
        }

        let alias = |id: &str, routing: RoutingStrategy| Alias {
            alias_id: id.into(),
            name: "live".into(),
            alias_arn: "arn".into(),
            description: None,
            routing_strategy: routing,
            creation_time: 1,
            last_updated_time: 1_700_000_000_000,
        };
        let out = aliases(&[
            alias("alias-1", RoutingStrategy::simple("fleet-9")),
            alias("alias-2", RoutingStrategy::terminal("closed")),
        ]);
        let simple = out.lines().find(|l| l.contains("alias-1")).unwrap();
        assert!(
            simple.contains("SIMPLE") && simple.contains("fleet-9"),
            "{simple}"
        );
        let terminal = out.lines().find(|l| l.contains("alias-2")).unwrap();
        assert!(
            terminal.contains("TERMINAL") && terminal.contains("message: closed"),
            "{terminal}"
        );
    }
}
