//! Text output of the `gamefleet` CLI: the cluster header, node and fleet
//! tables (comfy-table) and UTC timestamps. Pure functions from domain types
//! to strings; nothing here does IO.

use comfy_table::{Table, presets};
use gamefleet_client::{ClusterStatus, Fleet, NodeStatus};

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
            millis(f.creation_time),
            or_dash(f.description.clone().unwrap_or_default()),
        ]);
    }
    finish(t)
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

    use gamefleet_client::{FleetStatus, ProtectionPolicy, ResourceCreationLimitPolicy, Tag};

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
        };
        let out = fleets(&[f]);
        let row = out.lines().find(|l| l.contains("fleet-1")).unwrap();
        for cell in [
            "arena",
            "ACTIVE",
            "FullProtection",
            "3 per 15 min",
            "a=1,b=2",
            "2023-11-14T22:13:20Z",
        ] {
            assert!(row.contains(cell), "{cell} missing: {row}");
        }
        let ids = fleet_ids(&["fleet-1".into(), "fleet-2".into()]);
        assert!(ids.contains("FLEET ID") && ids.contains("fleet-1") && ids.contains("fleet-2"));
    }
}
