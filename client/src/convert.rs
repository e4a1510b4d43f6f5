//! Hand-written conversions between the wire types (`gamefleet_proto::v1`)
//! and the domain types of `types`.
//!
//! Invariant: this is the only module that knows how proto encodes "absent"
//! (`0` times and ids, empty strings, `UNSPECIFIED` enums, unset messages).
//! Conversions from proto never fail: unknown enum values become
//! `FleetStatus::Unknown` or the default protection policy, and a missing
//! `instance_counts` reads as all zeros, so a newer (or sloppier) server does
//! not break this client. Game and player sessions are converted in
//! `sessions`, aliases in `aliases`, by the same rules.

mod aliases;
mod sessions;

use gamefleet_proto::v1 as pb;

use crate::types::{
    ClusterStatus, CreateFleetInput, Fleet, FleetCapacity, FleetEvent, FleetStatus,
    FleetUtilization, InstanceCounts, NodeStatus, PlacementStrategy, PortRange, ProtectionPolicy,
    ResourceCreationLimitPolicy, RuntimeConfiguration, ServerProcess, ServerProcessStatus, Tag,
    UpdateFleetInput,
};

fn non_empty(s: String) -> Option<String> {
    if s.is_empty() { None } else { Some(s) }
}

fn non_zero(n: u64) -> Option<u64> {
    if n == 0 { None } else { Some(n) }
}

fn non_zero_time(ms: i64) -> Option<i64> {
    (ms != 0).then_some(ms)
}

impl From<pb::FleetStatus> for FleetStatus {
    fn from(s: pb::FleetStatus) -> FleetStatus {
        match s {
            pb::FleetStatus::Unspecified => FleetStatus::Unknown,
            pb::FleetStatus::New => FleetStatus::New,
            pb::FleetStatus::Downloading => FleetStatus::Downloading,
            pb::FleetStatus::Validating => FleetStatus::Validating,
            pb::FleetStatus::Building => FleetStatus::Building,
            pb::FleetStatus::Activating => FleetStatus::Activating,
            pb::FleetStatus::Active => FleetStatus::Active,
            pb::FleetStatus::Deleting => FleetStatus::Deleting,
            pb::FleetStatus::Error => FleetStatus::Error,
            pb::FleetStatus::Terminated => FleetStatus::Terminated,
        }
    }
}

impl From<FleetStatus> for pb::FleetStatus {
    fn from(s: FleetStatus) -> pb::FleetStatus {
        match s {
            FleetStatus::Unknown => pb::FleetStatus::Unspecified,
            FleetStatus::New => pb::FleetStatus::New,
            FleetStatus::Downloading => pb::FleetStatus::Downloading,
            FleetStatus::Validating => pb::FleetStatus::Validating,
            FleetStatus::Building => pb::FleetStatus::Building,
            FleetStatus::Activating => pb::FleetStatus::Activating,
            FleetStatus::Active => pb::FleetStatus::Active,
            FleetStatus::Deleting => pb::FleetStatus::Deleting,
            FleetStatus::Error => pb::FleetStatus::Error,
            FleetStatus::Terminated => pb::FleetStatus::Terminated,
        }
    }
}

impl FleetStatus {
    /// From a raw proto enum value; unknown values become `Unknown`.
    pub fn from_proto_i32(v: i32) -> FleetStatus {
        pb::FleetStatus::try_from(v)
            .map(FleetStatus::from)
            .unwrap_or(FleetStatus::Unknown)
    }
}

impl From<ProtectionPolicy> for pb::ProtectionPolicy {
    fn from(p: ProtectionPolicy) -> pb::ProtectionPolicy {
        match p {
            ProtectionPolicy::NoProtection => pb::ProtectionPolicy::NoProtection,
            ProtectionPolicy::FullProtection => pb::ProtectionPolicy::FullProtection,
        }
    }
}

impl ProtectionPolicy {
    /// From a raw proto enum value; `UNSPECIFIED` and unknown values are
    /// `NoProtection` (GameLift's default).
    pub fn from_proto_i32(v: i32) -> ProtectionPolicy {
        match pb::ProtectionPolicy::try_from(v) {
            Ok(pb::ProtectionPolicy::FullProtection) => ProtectionPolicy::FullProtection,
            _ => ProtectionPolicy::NoProtection,
        }
    }
}

impl From<PlacementStrategy> for pb::GameSessionPlacementStrategy {
    fn from(p: PlacementStrategy) -> pb::GameSessionPlacementStrategy {
        match p {
            PlacementStrategy::Pack => pb::GameSessionPlacementStrategy::Pack,
            PlacementStrategy::Spread => pb::GameSessionPlacementStrategy::Spread,
        }
    }
}

impl PlacementStrategy {
    /// From a raw proto enum value; `UNSPECIFIED` and unknown values are
    /// `Pack` (the server's default).
    pub fn from_proto_i32(v: i32) -> PlacementStrategy {
        match pb::GameSessionPlacementStrategy::try_from(v) {
            Ok(pb::GameSessionPlacementStrategy::Spread) => PlacementStrategy::Spread,
            _ => PlacementStrategy::Pack,
        }
    }
}

impl From<pb::Tag> for Tag {
    fn from(t: pb::Tag) -> Tag {
        Tag {
            key: t.key,
            value: t.value,
        }
    }
}

impl From<Tag> for pb::Tag {
    fn from(t: Tag) -> pb::Tag {
        pb::Tag {
            key: t.key,
            value: t.value,
        }
    }
}

impl From<pb::ResourceCreationLimitPolicy> for ResourceCreationLimitPolicy {
    fn from(p: pb::ResourceCreationLimitPolicy) -> ResourceCreationLimitPolicy {
        ResourceCreationLimitPolicy {
            new_game_sessions_per_creator: p.new_game_sessions_per_creator,
            policy_period_in_minutes: p.policy_period_in_minutes,
        }
    }
}

impl From<ResourceCreationLimitPolicy> for pb::ResourceCreationLimitPolicy {
    fn from(p: ResourceCreationLimitPolicy) -> pb::ResourceCreationLimitPolicy {
        pb::ResourceCreationLimitPolicy {
            new_game_sessions_per_creator: p.new_game_sessions_per_creator,
            policy_period_in_minutes: p.policy_period_in_minutes,
        }
    }
}

impl From<pb::FleetAttributes> for Fleet {
    fn from(a: pb::FleetAttributes) -> Fleet {
        Fleet {
            fleet_id: a.fleet_id,
            fleet_arn: a.fleet_arn,
            name: a.name,
            description: non_empty(a.description),
            creation_time: a.creation_time_millis,
            termination_time: non_zero_time(a.termination_time_millis),
            status: FleetStatus::from_proto_i32(a.status),
            new_game_session_protection_policy: ProtectionPolicy::from_proto_i32(
                a.new_game_session_protection_policy,
            ),
            resource_creation_limit_policy: a.resource_creation_limit_policy.map(Into::into),
            metric_groups: a.metric_groups,
            tags: a.tags.into_iter().map(Into::into).collect(),
            locations: a.locations,
            port_range: a.port_range.map(Into::into),
            hosting_node_ids: a.hosting_node_ids,
            placement_strategy: PlacementStrategy::from_proto_i32(a.placement_strategy),
        }
    }
}

impl From<Fleet> for pb::FleetAttributes {
    fn from(f: Fleet) -> pb::FleetAttributes {
        pb::FleetAttributes {
            fleet_id: f.fleet_id,
            fleet_arn: f.fleet_arn,
            name: f.name,
            description: f.description.unwrap_or_default(),
            creation_time_millis: f.creation_time,
            termination_time_millis: f.termination_time.unwrap_or(0),
            status: pb::FleetStatus::from(f.status) as i32,
            new_game_session_protection_policy: pb::ProtectionPolicy::from(
                f.new_game_session_protection_policy,
            ) as i32,
            resource_creation_limit_policy: f.resource_creation_limit_policy.map(Into::into),
            metric_groups: f.metric_groups,
            tags: f.tags.into_iter().map(Into::into).collect(),
            locations: f.locations,
            port_range: f.port_range.map(Into::into),
            hosting_node_ids: f.hosting_node_ids,
            placement_strategy: pb::GameSessionPlacementStrategy::from(f.placement_strategy) as i32,
        }
    }
}

impl From<pb::ServerProcess> for ServerProcess {
    fn from(p: pb::ServerProcess) -> ServerProcess {
        ServerProcess {
            launch_path: p.launch_path,
            parameters: p.parameters,
            concurrent_executions: p.concurrent_executions,
        }
    }
}

impl From<ServerProcess> for pb::ServerProcess {
    fn from(p: ServerProcess) -> pb::ServerProcess {
        pb::ServerProcess {
            launch_path: p.launch_path,
            parameters: p.parameters,
            concurrent_executions: p.concurrent_executions,
        }
    }
}

impl From<pb::RuntimeConfiguration> for RuntimeConfiguration {
    fn from(r: pb::RuntimeConfiguration) -> RuntimeConfiguration {
        RuntimeConfiguration {
            server_processes: r.server_processes.into_iter().map(Into::into).collect(),
            max_concurrent_game_session_activations: r.max_concurrent_game_session_activations,
            game_session_activation_timeout_seconds: r.game_session_activation_timeout_seconds,
        }
    }
}

impl From<RuntimeConfiguration> for pb::RuntimeConfiguration {
    fn from(r: RuntimeConfiguration) -> pb::RuntimeConfiguration {
        pb::RuntimeConfiguration {
            server_processes: r.server_processes.into_iter().map(Into::into).collect(),
            max_concurrent_game_session_activations: r.max_concurrent_game_session_activations,
            game_session_activation_timeout_seconds: r.game_session_activation_timeout_seconds,
        }
    }
}

impl From<pb::PortRange> for PortRange {
    fn from(p: pb::PortRange) -> PortRange {
        PortRange {
            from_port: p.from_port,
            to_port: p.to_port,
        }
    }
}

impl From<PortRange> for pb::PortRange {
    fn from(p: PortRange) -> pb::PortRange {
        pb::PortRange {
            from_port: p.from_port,
            to_port: p.to_port,
        }
    }
}

impl From<pb::InstanceCounts> for InstanceCounts {
    fn from(c: pb::InstanceCounts) -> InstanceCounts {
        InstanceCounts {
            desired: c.desired,
            minimum: c.minimum,
            maximum: c.maximum,
            active: c.active,
        }
    }
}

impl From<InstanceCounts> for pb::InstanceCounts {
    fn from(c: InstanceCounts) -> pb::InstanceCounts {
        pb::InstanceCounts {
            desired: c.desired,
            minimum: c.minimum,
            maximum: c.maximum,
            active: c.active,
        }
    }
}

impl From<pb::FleetCapacity> for FleetCapacity {
    fn from(c: pb::FleetCapacity) -> FleetCapacity {
        FleetCapacity {
            fleet_id: c.fleet_id,
            fleet_arn: c.fleet_arn,
            instance_counts: c.instance_counts.map(Into::into).unwrap_or_default(),
        }
    }
}

impl From<FleetCapacity> for pb::FleetCapacity {
    fn from(c: FleetCapacity) -> pb::FleetCapacity {
        pb::FleetCapacity {
            fleet_id: c.fleet_id,
            fleet_arn: c.fleet_arn,
            instance_counts: Some(c.instance_counts.into()),
        }
    }
}

impl From<pb::Event> for FleetEvent {
    fn from(e: pb::Event) -> FleetEvent {
        FleetEvent {
            event_id: e.event_id,
            resource_id: e.resource_id,
            event_code: e.event_code,
            message: e.message,
            event_time: e.event_time_millis,
        }
    }
}

impl From<FleetEvent> for pb::Event {
    fn from(e: FleetEvent) -> pb::Event {
        pb::Event {
            event_id: e.event_id,
            resource_id: e.resource_id,
            event_code: e.event_code,
            message: e.message,
            event_time_millis: e.event_time,
        }
    }
}

impl From<pb::FleetUtilization> for FleetUtilization {
    fn from(u: pb::FleetUtilization) -> FleetUtilization {
        FleetUtilization {
            fleet_id: u.fleet_id,
            fleet_arn: u.fleet_arn,
            active_server_process_count: u.active_server_process_count,
            active_game_session_count: u.active_game_session_count,
            current_player_session_count: u.current_player_session_count,
            maximum_player_session_count: u.maximum_player_session_count,
        }
    }
}

impl From<FleetUtilization> for pb::FleetUtilization {
    fn from(u: FleetUtilization) -> pb::FleetUtilization {
        pb::FleetUtilization {
            fleet_id: u.fleet_id,
            fleet_arn: u.fleet_arn,
            active_server_process_count: u.active_server_process_count,
            active_game_session_count: u.active_game_session_count,
            current_player_session_count: u.current_player_session_count,
            maximum_player_session_count: u.maximum_player_session_count,
        }
    }
}

impl From<pb::ServerProcessStatus> for ServerProcessStatus {
    fn from(p: pb::ServerProcessStatus) -> ServerProcessStatus {
        ServerProcessStatus {
            process_id: p.process_id,
            fleet_id: p.fleet_id,
            node_id: p.node_id,
            node_name: p.node_name,
            pid: p.pid,
            port: p.port,
            status: p.status,
            health: p.health,
            launch_time: p.launch_time_millis,
            ready_time: non_zero_time(p.ready_time_millis),
            launch_path: p.launch_path,
        }
    }
}

impl From<ServerProcessStatus> for pb::ServerProcessStatus {
    fn from(p: ServerProcessStatus) -> pb::ServerProcessStatus {
        pb::ServerProcessStatus {
            process_id: p.process_id,
            fleet_id: p.fleet_id,
            node_id: p.node_id,
            node_name: p.node_name,
            pid: p.pid,
            port: p.port,
            status: p.status,
            health: p.health,
            launch_time_millis: p.launch_time,
            ready_time_millis: p.ready_time.unwrap_or(0),
            launch_path: p.launch_path,
        }
    }
}

impl From<pb::NodeStatus> for NodeStatus {
    fn from(n: pb::NodeStatus) -> NodeStatus {
        NodeStatus {
            node_id: n.node_id,
            name: n.name,
            address: n.address,
            role: n.role,
            voter: n.voter,
            term: n.term,
            last_log_index: n.last_log_index,
            last_applied_index: n.last_applied_index,
            snapshot_index: n.snapshot_index,
            purged_index: n.purged_index,
            health: n.health,
            labels: n.labels.into_iter().collect(),
            state_hash: n.state_hash,
            cluster_id: n.cluster_id,
            leader_id: non_zero(n.leader_id),
        }
    }
}

impl From<NodeStatus> for pb::NodeStatus {
    fn from(n: NodeStatus) -> pb::NodeStatus {
        pb::NodeStatus {
            node_id: n.node_id,
            name: n.name,
            address: n.address,
            role: n.role,
            voter: n.voter,
            term: n.term,
            last_log_index: n.last_log_index,
            last_applied_index: n.last_applied_index,
            snapshot_index: n.snapshot_index,
            purged_index: n.purged_index,
            health: n.health,
            labels: n.labels.into_iter().collect(),
            state_hash: n.state_hash,
            cluster_id: n.cluster_id,
            leader_id: n.leader_id.unwrap_or(0),
        }
    }
}

impl From<pb::ClusterStatusResponse> for ClusterStatus {
    fn from(r: pb::ClusterStatusResponse) -> ClusterStatus {
        ClusterStatus {
            cluster_id: r.cluster_id,
            leader_id: non_zero(r.leader_id),
            leader_name: r.leader_name,
            term: r.term,
            nodes: r.nodes.into_iter().map(Into::into).collect(),
            answered_by: r.answered_by,
        }
    }
}

impl From<ClusterStatus> for pb::ClusterStatusResponse {
    fn from(s: ClusterStatus) -> pb::ClusterStatusResponse {
        pb::ClusterStatusResponse {
            cluster_id: s.cluster_id,
            leader_id: s.leader_id.unwrap_or(0),
            leader_name: s.leader_name,
            term: s.term,
            nodes: s.nodes.into_iter().map(Into::into).collect(),
            answered_by: s.answered_by,
        }
    }
}

impl CreateFleetInput {
    /// The request for this input, carrying the given idempotency token.
    pub(crate) fn into_request(self, idempotency_token: String) -> pb::CreateFleetRequest {
        pb::CreateFleetRequest {
            name: self.name,
            description: self.description,
            new_game_session_protection_policy: self
                .protection_policy
                .map_or(pb::ProtectionPolicy::Unspecified, Into::into)
                as i32,
            resource_creation_limit_policy: self.resource_creation_limit_policy.map(Into::into),
            metric_groups: self.metric_groups,
            tags: self.tags.into_iter().map(Into::into).collect(),
            idempotency_token: Some(idempotency_token),
            runtime_configuration: self.runtime_configuration.map(Into::into),
            port_range: self.port_range.map(Into::into),
            locations: self.locations,
            // `active` is output only: never sent.
            instances: self.instances.map(|c| pb::InstanceCounts {
                active: 0,
                ..c.into()
            }),
            placement_strategy: self
                .placement_strategy
                .map_or(pb::GameSessionPlacementStrategy::Unspecified, Into::into)
                as i32,
        }
    }
}

impl From<UpdateFleetInput> for pb::UpdateFleetAttributesRequest {
    fn from(u: UpdateFleetInput) -> pb::UpdateFleetAttributesRequest {
        pb::UpdateFleetAttributesRequest {
            fleet_id: u.fleet_id,
            name: u.name,
            description: u.description,
            new_game_session_protection_policy: u
                .protection_policy
                .map(|p| pb::ProtectionPolicy::from(p) as i32),
            resource_creation_limit_policy: u.resource_creation_limit_policy.map(Into::into),
            metric_groups: u.metric_groups.map(|values| pb::StringList { values }),
            placement_strategy: u
                .placement_strategy
                .map(|p| pb::GameSessionPlacementStrategy::from(p) as i32),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::json;

    use super::*;

    fn sample_proto_fleet() -> pb::FleetAttributes {
        pb::FleetAttributes {
            fleet_id: "fleet-1234".into(),
            fleet_arn: "arn:aws:gamelift:local::fleet/fleet-1234".into(),
            name: "arena".into(),
            description: "ranked arena".into(),
            creation_time_millis: 1_700_000_000_123,
            termination_time_millis: 0,
            status: pb::FleetStatus::Active as i32,
            new_game_session_protection_policy: pb::ProtectionPolicy::FullProtection as i32,
            resource_creation_limit_policy: Some(pb::ResourceCreationLimitPolicy {
                new_game_sessions_per_creator: 3,
                policy_period_in_minutes: 15,
            }),
            metric_groups: vec!["arena-metrics".into()],
            tags: vec![pb::Tag {
                key: "team".into(),
                value: "core".into(),
            }],
            locations: vec!["custom-eu".into(), "custom-us".into()],
            port_range: Some(pb::PortRange {
                from_port: 30000,
                to_port: 30099,
            }),
            hosting_node_ids: vec![1, 3],
            placement_strategy: pb::GameSessionPlacementStrategy::Spread as i32,
        }
    }

    #[test]
    fn fleet_from_proto_maps_every_field() {
        let f = Fleet::from(sample_proto_fleet());
        assert_eq!(f.fleet_id, "fleet-1234");
        assert_eq!(f.fleet_arn, "arn:aws:gamelift:local::fleet/fleet-1234");
        assert_eq!(f.name, "arena");
        assert_eq!(f.description.as_deref(), Some("ranked arena"));
        assert_eq!(f.creation_time, 1_700_000_000_123);
        assert_eq!(f.termination_time, None);
        assert_eq!(f.status, FleetStatus::Active);
        assert_eq!(
            f.new_game_session_protection_policy,
            ProtectionPolicy::FullProtection
        );
        assert_eq!(
            f.resource_creation_limit_policy,
            Some(ResourceCreationLimitPolicy {
                new_game_sessions_per_creator: 3,
                policy_period_in_minutes: 15
            })
        );
        assert_eq!(f.metric_groups, vec!["arena-metrics".to_string()]);
        assert_eq!(f.tags, vec![Tag::new("team", "core")]);
        assert_eq!(f.locations, vec!["custom-eu", "custom-us"]);
        assert_eq!(
            f.port_range,
            Some(PortRange {
                from_port: 30000,
                to_port: 30099
            })
        );
        assert_eq!(f.hosting_node_ids, vec![1, 3]);
        assert_eq!(f.placement_strategy, PlacementStrategy::Spread);
    }

    #[test]
    fn fleet_json_uses_gamelift_names() {
        let mut p = sample_proto_fleet();
        p.termination_time_millis = 1_700_000_999_000;
        p.status = pb::FleetStatus::Terminated as i32;
        let v = serde_json::to_value(Fleet::from(p)).unwrap();
        assert_eq!(
            v,
            json!({
                "FleetId": "fleet-1234",
                "FleetArn": "arn:aws:gamelift:local::fleet/fleet-1234",
                "Name": "arena",
                "Description": "ranked arena",
                "CreationTime": 1_700_000_000_123i64,
                "TerminationTime": 1_700_000_999_000i64,
                "Status": "TERMINATED",
                "NewGameSessionProtectionPolicy": "FullProtection",
                "ResourceCreationLimitPolicy": {
                    "NewGameSessionsPerCreator": 3,
                    "PolicyPeriodInMinutes": 15
                },
                "MetricGroups": ["arena-metrics"],
                "Tags": [{"Key": "team", "Value": "core"}],
                "Locations": ["custom-eu", "custom-us"],
                "PortRange": {"FromPort": 30000, "ToPort": 30099},
                "HostingNodeIds": [1, 3],
                "PlacementStrategy": "SPREAD"
            })
        );
    }

    #[test]
    fn absent_proto_values_become_none_and_null() {
        let p = pb::FleetAttributes {
            fleet_id: "fleet-x".into(),
            status: pb::FleetStatus::New as i32,
            ..Default::default()
        };
        let f = Fleet::from(p);
        assert_eq!(f.description, None);
        assert_eq!(f.termination_time, None);
        assert_eq!(f.resource_creation_limit_policy, None);
        assert_eq!(
            f.new_game_session_protection_policy,
            ProtectionPolicy::NoProtection
        );
        assert_eq!(f.port_range, None);
        assert!(f.locations.is_empty() && f.hosting_node_ids.is_empty());
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["PortRange"], serde_json::Value::Null);
        assert_eq!(v["Locations"], json!([]));
        assert_eq!(v["TerminationTime"], serde_json::Value::Null);
        assert_eq!(v["Description"], serde_json::Value::Null);
        assert_eq!(v["Status"], "NEW");
        assert_eq!(v["NewGameSessionProtectionPolicy"], "NoProtection");
        // UNSPECIFIED is the server's default, PACK.
        assert_eq!(f.placement_strategy, PlacementStrategy::Pack);
        assert_eq!(v["PlacementStrategy"], "PACK");
    }

    #[test]
    fn unknown_enum_values_do_not_fail() {
        let p = pb::FleetAttributes {
            status: 999,
            new_game_session_protection_policy: 999,
            placement_strategy: 999,
            ..Default::default()
        };
        let f = Fleet::from(p);
        assert_eq!(f.placement_strategy, PlacementStrategy::Pack);
        assert_eq!(f.status, FleetStatus::Unknown);
        assert_eq!(
            f.new_game_session_protection_policy,
            ProtectionPolicy::NoProtection
        );
        assert_eq!(FleetStatus::from_proto_i32(0), FleetStatus::Unknown);
    }

    #[test]
    fn every_fleet_status_round_trips_and_serializes_as_its_name() {
        for raw in 1..=9 {
            let s = FleetStatus::from_proto_i32(raw);
            assert_ne!(s, FleetStatus::Unknown, "{raw}");
            assert_eq!(pb::FleetStatus::from(s) as i32, raw);
            let name = pb::FleetStatus::try_from(raw).unwrap().as_str_name();
            assert_eq!(format!("FLEET_STATUS_{}", s.as_str()), name);
            assert_eq!(serde_json::to_value(s).unwrap(), json!(s.as_str()));
        }
    }

    #[test]
    fn fleet_round_trips_through_proto() {
        let p = sample_proto_fleet();
        assert_eq!(pb::FleetAttributes::from(Fleet::from(p.clone())), p);
        let json = serde_json::to_string(&Fleet::from(p.clone())).unwrap();
        let back: Fleet = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Fleet::from(p));
    }

    fn sample_proto_node(id: u64, role: &str) -> pb::NodeStatus {
        pb::NodeStatus {
            node_id: id,
            name: format!("n{id}"),
            address: format!("127.0.0.1:740{id}"),
            role: role.into(),
            voter: true,
            term: 7,
            last_log_index: 100,
            last_applied_index: 99,
            snapshot_index: 50,
            purged_index: 40,
            health: "ok".into(),
            labels: HashMap::from([("location".to_string(), "custom-eu".to_string())]),
            state_hash: "abcd".into(),
            cluster_id: "c-1".into(),
            leader_id: 2,
        }
    }

    #[test]
    fn cluster_status_from_proto() {
        let r = pb::ClusterStatusResponse {
            cluster_id: "c-1".into(),
            leader_id: 2,
            leader_name: "n2".into(),
            term: 7,
            nodes: vec![
                sample_proto_node(1, "FOLLOWER"),
                sample_proto_node(2, "LEADER"),
            ],
            answered_by: 1,
        };
        let s = ClusterStatus::from(r.clone());
        assert_eq!(s.leader_id, Some(2));
        assert_eq!(s.leader().map(|n| n.name.as_str()), Some("n2"));
        assert_eq!(s.nodes[0].labels["location"], "custom-eu");
        assert_eq!(s.nodes[0].leader_id, Some(2));
        assert_eq!(s.nodes[0].purged_index, 40);
        assert_eq!(pb::ClusterStatusResponse::from(s.clone()), r);

        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["ClusterId"], "c-1");
        assert_eq!(v["LeaderId"], 2);
        assert_eq!(v["LeaderName"], "n2");
        assert_eq!(v["AnsweredBy"], 1);
        let n = &v["Nodes"][0];
        for key in [
            "NodeId",
            "Name",
            "Address",
            "Role",
            "Voter",
            "Term",
            "LastLogIndex",
            "LastAppliedIndex",
            "SnapshotIndex",
            "PurgedIndex",
            "Health",
            "Labels",
            "StateHash",
            "ClusterId",
            "LeaderId",
        ] {
            assert!(n.get(key).is_some(), "missing {key} in {n}");
        }
        assert_eq!(n.as_object().unwrap().len(), 15);
    }

    #[test]
    fn no_leader_is_none() {
        let s = ClusterStatus::from(pb::ClusterStatusResponse {
            nodes: vec![pb::NodeStatus {
                leader_id: 0,
                ..sample_proto_node(1, "CANDIDATE")
            }],
            ..Default::default()
        });
        assert_eq!(s.leader_id, None);
        assert!(s.leader().is_none());
        assert_eq!(s.nodes[0].leader_id, None);
        assert_eq!(serde_json::to_value(&s).unwrap()["LeaderId"], json!(null));
    }

    #[test]
    fn create_input_to_request() {
        let input = CreateFleetInput {
            name: "arena".into(),
            description: Some("d".into()),
            protection_policy: Some(ProtectionPolicy::FullProtection),
            resource_creation_limit_policy: Some(ResourceCreationLimitPolicy {
                new_game_sessions_per_creator: 1,
                policy_period_in_minutes: 2,
            }),
            metric_groups: vec!["g".into()],
            tags: vec![Tag::new("k", "v")],
            idempotency_token: None,
            runtime_configuration: Some(RuntimeConfiguration {
                server_processes: vec![ServerProcess {
                    launch_path: "/srv/game".into(),
                    parameters: Some("-port {port}".into()),
                    concurrent_executions: 4,
                }],
                max_concurrent_game_session_activations: Some(2),
                game_session_activation_timeout_seconds: None,
            }),
            port_range: Some(PortRange {
                from_port: 31000,
                to_port: 31009,
            }),
            locations: vec!["custom-eu".into()],
            instances: Some(InstanceCounts {
                desired: 2,
                minimum: 1,
                maximum: 3,
                active: 7,
            }),
            placement_strategy: Some(PlacementStrategy::Spread),
        };
        let r = input.into_request("tok-1".into());
        assert_eq!(
            r.placement_strategy,
            pb::GameSessionPlacementStrategy::Spread as i32
        );
        assert_eq!(r.name, "arena");
        assert_eq!(r.description.as_deref(), Some("d"));
        assert_eq!(
            r.new_game_session_protection_policy,
            pb::ProtectionPolicy::FullProtection as i32
        );
        assert_eq!(
            r.resource_creation_limit_policy,
            Some(pb::ResourceCreationLimitPolicy {
                new_game_sessions_per_creator: 1,
                policy_period_in_minutes: 2
            })
        );
        assert_eq!(r.metric_groups, vec!["g".to_string()]);
        assert_eq!(r.tags[0].key, "k");
        assert_eq!(r.idempotency_token.as_deref(), Some("tok-1"));
        assert_eq!(
            r.runtime_configuration,
            Some(pb::RuntimeConfiguration {
                server_processes: vec![pb::ServerProcess {
                    launch_path: "/srv/game".into(),
                    parameters: Some("-port {port}".into()),
                    concurrent_executions: 4,
                }],
                max_concurrent_game_session_activations: Some(2),
                game_session_activation_timeout_seconds: None,
            })
        );
        assert_eq!(
            r.port_range,
            Some(pb::PortRange {
                from_port: 31000,
                to_port: 31009
            })
        );
        assert_eq!(r.locations, vec!["custom-eu".to_string()]);
        // `active` is output only and never sent.
        assert_eq!(
            r.instances,
            Some(pb::InstanceCounts {
                desired: 2,
                minimum: 1,
                maximum: 3,
                active: 0
            })
        );

        // Nothing given: the server picks its defaults (data-only fleet,
        // 30000-39999, any node, one instance).
        let r = CreateFleetInput::default().into_request("t".into());
        assert_eq!(
            r.new_game_session_protection_policy,
            pb::ProtectionPolicy::Unspecified as i32
        );
        assert_eq!(r.description, None);
        assert_eq!(r.runtime_configuration, None);
        assert_eq!(r.port_range, None);
        assert!(r.locations.is_empty());
        assert_eq!(r.instances, None);
        assert_eq!(
            r.placement_strategy,
            pb::GameSessionPlacementStrategy::Unspecified as i32
        );
    }

    fn sample_runtime_configuration() -> pb::RuntimeConfiguration {
        pb::RuntimeConfiguration {
            server_processes: vec![
                pb::ServerProcess {
                    launch_path: "/srv/game".into(),
                    parameters: Some("-port {port} -mode ranked".into()),
                    concurrent_executions: 3,
                },
                pb::ServerProcess {
                    launch_path: "/srv/lobby".into(),
                    parameters: None,
                    concurrent_executions: 1,
                },
            ],
            max_concurrent_game_session_activations: Some(2),
            game_session_activation_timeout_seconds: Some(300),
        }
    }

    #[test]
    fn runtime_configuration_both_ways_with_gamelift_names() {
        let p = sample_runtime_configuration();
        let rc = RuntimeConfiguration::from(p.clone());
        assert_eq!(rc.server_processes.len(), 2);
        assert_eq!(rc.server_processes[0].launch_path, "/srv/game");
        assert_eq!(
            rc.server_processes[0].parameters.as_deref(),
            Some("-port {port} -mode ranked")
        );
        assert_eq!(rc.server_processes[0].concurrent_executions, 3);
        assert_eq!(rc.server_processes[1], ServerProcess::new("/srv/lobby", 1));
        assert_eq!(rc.max_concurrent_game_session_activations, Some(2));
        assert_eq!(rc.game_session_activation_timeout_seconds, Some(300));
        assert_eq!(pb::RuntimeConfiguration::from(rc.clone()), p);

        let v = serde_json::to_value(&rc).unwrap();
        assert_eq!(
            v,
            json!({
                "ServerProcesses": [
                    {
                        "LaunchPath": "/srv/game",
                        "Parameters": "-port {port} -mode ranked",
                        "ConcurrentExecutions": 3
                    },
                    {"LaunchPath": "/srv/lobby", "Parameters": null, "ConcurrentExecutions": 1}
                ],
                "MaxConcurrentGameSessionActivations": 2,
                "GameSessionActivationTimeoutSeconds": 300
            })
        );
        // GameLift JSON (e.g. from the AWS CLI) omits unset fields.
        let parsed: RuntimeConfiguration = serde_json::from_value(json!({
            "ServerProcesses": [{"LaunchPath": "/srv/lobby", "ConcurrentExecutions": 1}]
        }))
        .unwrap();
        assert_eq!(
            parsed,
            RuntimeConfiguration {
                server_processes: vec![ServerProcess::new("/srv/lobby", 1)],
                ..Default::default()
            }
        );
        let back: RuntimeConfiguration = serde_json::from_value(v).unwrap();
        assert_eq!(back, rc);
    }

    #[test]
    fn capacity_both_ways_with_gamelift_names() {
        let p = pb::FleetCapacity {
            fleet_id: "fleet-1".into(),
            fleet_arn: "arn:aws:gamelift:local::fleet/fleet-1".into(),
            instance_counts: Some(pb::InstanceCounts {
                desired: 3,
                minimum: 1,
                maximum: 5,
                active: 2,
            }),
        };
        let c = FleetCapacity::from(p.clone());
        assert_eq!(
            c.instance_counts,
            InstanceCounts {
                desired: 3,
                minimum: 1,
                maximum: 5,
                active: 2
            }
        );
        assert_eq!(pb::FleetCapacity::from(c.clone()), p);
        // GameLift spells InstanceCounts' members in capitals.
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            json!({
                "FleetId": "fleet-1",
                "FleetArn": "arn:aws:gamelift:local::fleet/fleet-1",
                "InstanceCounts": {"DESIRED": 3, "MINIMUM": 1, "MAXIMUM": 5, "ACTIVE": 2}
            })
        );
        // A server that sends no counts reads as zeros, not as a failure.
        let c = FleetCapacity::from(pb::FleetCapacity {
            fleet_id: "fleet-2".into(),
            ..Default::default()
        });
        assert_eq!(c.instance_counts, InstanceCounts::default());
    }

    #[test]
    fn port_range_both_ways_with_gamelift_names() {
        let p = pb::PortRange {
            from_port: 1026,
            to_port: 60000,
        };
        let r = PortRange::from(p);
        assert_eq!((r.from_port, r.to_port), (1026, 60000));
        assert_eq!(pb::PortRange::from(r), p);
        assert_eq!(
            serde_json::to_value(r).unwrap(),
            json!({"FromPort": 1026, "ToPort": 60000})
        );
    }

    #[test]
    fn events_both_ways_with_gamelift_names() {
        let p = pb::Event {
            event_id: "event-000000000007".into(),
            resource_id: "fleet-1".into(),
            event_code: "SERVER_PROCESS_CRASHED".into(),
            message: "process proc-1 exited with 139".into(),
            event_time_millis: 1_700_000_000_123,
        };
        let e = FleetEvent::from(p.clone());
        assert_eq!(e.event_id, "event-000000000007");
        assert_eq!(e.resource_id, "fleet-1");
        assert_eq!(e.event_code, "SERVER_PROCESS_CRASHED");
        assert_eq!(e.message, "process proc-1 exited with 139");
        assert_eq!(e.event_time, 1_700_000_000_123);
        assert_eq!(pb::Event::from(e.clone()), p);
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({
                "EventId": "event-000000000007",
                "ResourceId": "fleet-1",
                "EventCode": "SERVER_PROCESS_CRASHED",
                "Message": "process proc-1 exited with 139",
                "EventTime": 1_700_000_000_123i64
            })
        );
    }

    #[test]
    fn utilization_both_ways_with_gamelift_names() {
        let p = pb::FleetUtilization {
            fleet_id: "fleet-1".into(),
            fleet_arn: "arn".into(),
            active_server_process_count: 4,
            active_game_session_count: 3,
            current_player_session_count: 12,
            maximum_player_session_count: 30,
        };
        let u = FleetUtilization::from(p.clone());
        assert_eq!(u.active_server_process_count, 4);
        assert_eq!(u.active_game_session_count, 3);
        assert_eq!(u.current_player_session_count, 12);
        assert_eq!(u.maximum_player_session_count, 30);
        assert_eq!(pb::FleetUtilization::from(u.clone()), p);
        assert_eq!(
            serde_json::to_value(&u).unwrap(),
            json!({
                "FleetId": "fleet-1",
                "FleetArn": "arn",
                "ActiveServerProcessCount": 4,
                "ActiveGameSessionCount": 3,
                "CurrentPlayerSessionCount": 12,
                "MaximumPlayerSessionCount": 30
            })
        );
    }

    fn sample_proto_process() -> pb::ServerProcessStatus {
        pb::ServerProcessStatus {
            process_id: "proc-1".into(),
            fleet_id: "fleet-1".into(),
            node_id: 2,
            node_name: "n2".into(),
            pid: 4242,
            port: 30001,
            status: "ACTIVE".into(),
            health: "HEALTHY".into(),
            launch_time_millis: 1_700_000_000_000,
            ready_time_millis: 1_700_000_002_500,
            launch_path: "/srv/game".into(),
        }
    }

    #[test]
    fn processes_both_ways_with_gamelift_names() {
        let p = sample_proto_process();
        let s = ServerProcessStatus::from(p.clone());
        assert_eq!(s.process_id, "proc-1");
        assert_eq!(s.fleet_id, "fleet-1");
        assert_eq!((s.node_id, s.node_name.as_str()), (2, "n2"));
        assert_eq!((s.pid, s.port), (4242, 30001));
        assert_eq!(
            (s.status.as_str(), s.health.as_str()),
            ("ACTIVE", "HEALTHY")
        );
        assert_eq!(s.launch_time, 1_700_000_000_000);
        assert_eq!(s.ready_time, Some(1_700_000_002_500));
        assert_eq!(s.launch_path, "/srv/game");
        assert_eq!(pb::ServerProcessStatus::from(s.clone()), p);
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({
                "ProcessId": "proc-1",
                "FleetId": "fleet-1",
                "NodeId": 2,
                "NodeName": "n2",
                "Pid": 4242,
                "Port": 30001,
                "Status": "ACTIVE",
                "Health": "HEALTHY",
                "LaunchTime": 1_700_000_000_000i64,
                "ReadyTime": 1_700_000_002_500i64,
                "LaunchPath": "/srv/game"
            })
        );

        // Not ready yet: 0 on the wire, None here, null in JSON.
        let s = ServerProcessStatus::from(pb::ServerProcessStatus {
            status: "LAUNCHING".into(),
            ready_time_millis: 0,
            ..sample_proto_process()
        });
        assert_eq!(s.ready_time, None);
        assert_eq!(serde_json::to_value(&s).unwrap()["ReadyTime"], json!(null));
        assert_eq!(pb::ServerProcessStatus::from(s).ready_time_millis, 0);
    }

    #[test]
    fn update_input_to_request() {
        let r = pb::UpdateFleetAttributesRequest::from(UpdateFleetInput {
            fleet_id: "fleet-1".into(),
            ..Default::default()
        });
        assert_eq!(r.fleet_id, "fleet-1");
        assert_eq!(r.name, None);
        assert_eq!(r.new_game_session_protection_policy, None);
        assert_eq!(r.metric_groups, None, "None must leave metric groups alone");
        assert_eq!(r.placement_strategy, None);

        let r = pb::UpdateFleetAttributesRequest::from(UpdateFleetInput {
            fleet_id: "fleet-1".into(),
            name: Some("n".into()),
            description: Some("d".into()),
            protection_policy: Some(ProtectionPolicy::NoProtection),
            resource_creation_limit_policy: Some(ResourceCreationLimitPolicy {
                new_game_sessions_per_creator: 5,
                policy_period_in_minutes: 6,
            }),
            metric_groups: Some(vec![]),
            placement_strategy: Some(PlacementStrategy::Pack),
        });
        assert_eq!(r.name.as_deref(), Some("n"));
        assert_eq!(
            r.placement_strategy,
            Some(pb::GameSessionPlacementStrategy::Pack as i32)
        );
        assert_eq!(r.description.as_deref(), Some("d"));
        assert_eq!(
            r.new_game_session_protection_policy,
            Some(pb::ProtectionPolicy::NoProtection as i32)
        );
        assert_eq!(
            r.resource_creation_limit_policy
                .unwrap()
                .policy_period_in_minutes,
            6
        );
        assert_eq!(
            r.metric_groups,
            Some(pb::StringList { values: vec![] }),
            "Some(empty) must clear metric groups"
        );
    }
}
