//! Conversions between protobuf messages and domain types, written by hand so
//! the wire format and the replicated format can evolve separately.

use gamefleet_proto::v1 as pb;

use super::error::ApiError;
use crate::fsm::fleet::{ProtectionPolicy, ResourceCreationLimitPolicy, Tag};
use crate::fsm::hosting::{
    Capacity, FleetEvent, PortRange, ProcessRecord, ProcessStatus, RuntimeConfiguration,
    ServerProcess,
};
use crate::fsm::{Fleet, FleetStatus};

/// Domain status to wire status.
pub fn fleet_status(s: FleetStatus) -> pb::FleetStatus {
    match s {
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

/// Wire protection policy to domain; unspecified means the default (`field` names it in errors).
pub fn protection_policy(field: &str, v: i32) -> Result<ProtectionPolicy, ApiError> {
    match pb::ProtectionPolicy::try_from(v) {
        Ok(pb::ProtectionPolicy::Unspecified | pb::ProtectionPolicy::NoProtection) => {
            Ok(ProtectionPolicy::NoProtection)
        }
        Ok(pb::ProtectionPolicy::FullProtection) => Ok(ProtectionPolicy::FullProtection),
        Err(_) => Err(ApiError::invalid(
            field,
            format!("unknown protection policy {v}"),
        )),
    }
}

fn protection_policy_pb(p: ProtectionPolicy) -> pb::ProtectionPolicy {
    match p {
        ProtectionPolicy::NoProtection => pb::ProtectionPolicy::NoProtection,
        ProtectionPolicy::FullProtection => pb::ProtectionPolicy::FullProtection,
    }
}

/// Wire limit policy to domain.
pub fn rclp(p: &pb::ResourceCreationLimitPolicy) -> ResourceCreationLimitPolicy {
    ResourceCreationLimitPolicy {
        new_game_sessions_per_creator: p.new_game_sessions_per_creator,
        policy_period_in_minutes: p.policy_period_in_minutes,
    }
}

/// Wire tags to domain.
pub fn tags(t: &[pb::Tag]) -> Vec<Tag> {
    t.iter()
        .map(|t| Tag {
            key: t.key.clone(),
            value: t.value.clone(),
        })
        .collect()
}

/// Domain fleet to FleetAttributes.
pub fn fleet_attributes(f: &Fleet) -> pb::FleetAttributes {
    pb::FleetAttributes {
        fleet_id: f.id.clone(),
        fleet_arn: f.arn.clone(),
        name: f.spec.name.clone(),
        description: f.spec.description.clone().unwrap_or_default(),
        creation_time_millis: f.creation_time_ms,
        termination_time_millis: f.termination_time_ms.unwrap_or(0),
        status: fleet_status(f.status) as i32,
        new_game_session_protection_policy: protection_policy_pb(f.spec.protection_policy) as i32,
        resource_creation_limit_policy: f.spec.resource_creation_limit_policy.map(|p| {
            pb::ResourceCreationLimitPolicy {
                new_game_sessions_per_creator: p.new_game_sessions_per_creator,
                policy_period_in_minutes: p.policy_period_in_minutes,
            }
        }),
        metric_groups: f.spec.metric_groups.clone(),
        tags: f
            .spec
            .tags
            .iter()
            .map(|t| pb::Tag {
                key: t.key.clone(),
                value: t.value.clone(),
            })
            .collect(),
        locations: f.spec.locations.clone(),
        port_range: Some(port_range_pb(f.spec.ports())),
        hosting_node_ids: f.assigned_nodes.iter().copied().collect(),
    }
}

/// Checks an optional page size against 1..=max and returns the size to use.
pub fn page_limit(limit: Option<i32>, max: usize) -> Result<usize, ApiError> {
    match limit {
        None => Ok(max),
        Some(l) if l >= 1 => Ok(usize::try_from(l).unwrap_or(max).min(max)),
        Some(l) => Err(ApiError::invalid(
            "limit",
            format!("must be 1 or greater (got {l})"),
        )),
    }
}

/// Wire runtime configuration to domain.
pub fn runtime_configuration(r: &pb::RuntimeConfiguration) -> RuntimeConfiguration {
    RuntimeConfiguration {
        server_processes: r
            .server_processes
            .iter()
            .map(|p| ServerProcess {
                launch_path: p.launch_path.clone(),
                parameters: p.parameters.clone(),
                concurrent_executions: p.concurrent_executions,
            })
            .collect(),
        max_concurrent_game_session_activations: r.max_concurrent_game_session_activations,
        game_session_activation_timeout_seconds: r.game_session_activation_timeout_seconds,
    }
}

/// Domain runtime configuration to wire.
pub fn runtime_configuration_pb(r: &RuntimeConfiguration) -> pb::RuntimeConfiguration {
    pb::RuntimeConfiguration {
        server_processes: r
            .server_processes
            .iter()
            .map(|p| pb::ServerProcess {
                launch_path: p.launch_path.clone(),
                parameters: p.parameters.clone(),
                concurrent_executions: p.concurrent_executions,
            })
            .collect(),
        max_concurrent_game_session_activations: r.max_concurrent_game_session_activations,
        game_session_activation_timeout_seconds: r.game_session_activation_timeout_seconds,
    }
}

/// Wire port range to domain; ports above 65535 are refused naming the field.
pub fn port_range(r: &pb::PortRange) -> Result<PortRange, ApiError> {
    let port = |field: &str, v: u32| {
        u16::try_from(v)
            .map_err(|_| ApiError::invalid(field, format!("must be 1026 to 60000 (got {v})")))
    };
    Ok(PortRange {
        from_port: port("port_range.from_port", r.from_port)?,
        to_port: port("port_range.to_port", r.to_port)?,
    })
}

fn port_range_pb(r: PortRange) -> pb::PortRange {
    pb::PortRange {
        from_port: r.from_port.into(),
        to_port: r.to_port.into(),
    }
}

/// Wire instance counts to domain capacity.
pub fn capacity(c: &pb::InstanceCounts) -> Capacity {
    Capacity {
        desired: c.desired,
        min: c.minimum,
        max: c.maximum,
    }
}

/// Domain capacity plus the current host count to wire.
pub fn instance_counts(c: Capacity, active: usize) -> pb::InstanceCounts {
    pb::InstanceCounts {
        desired: c.desired,
        minimum: c.min,
        maximum: c.max,
        active: i32::try_from(active).unwrap_or(i32::MAX),
    }
}

/// Domain event to wire.
pub fn event(e: &FleetEvent) -> pb::Event {
    pb::Event {
        event_id: e.event_id.clone(),
        resource_id: e.resource_id.clone(),
        event_code: e.event_code.clone(),
        message: e.message.clone(),
        event_time_millis: e.event_time_ms,
    }
}

/// Domain process to wire; `node_name` comes from the membership.
pub fn process(p: &ProcessRecord, node_name: String) -> pb::ServerProcessStatus {
    pb::ServerProcessStatus {
        process_id: p.process_id.clone(),
        fleet_id: p.fleet_id.clone(),
        node_id: p.node_id,
        node_name,
        pid: p.pid,
        port: p.port.into(),
        status: match p.status {
            ProcessStatus::Launching => "LAUNCHING",
            ProcessStatus::Active => "ACTIVE",
            ProcessStatus::Terminating => "TERMINATING",
        }
        .into(),
        health: if p.healthy { "HEALTHY" } else { "UNHEALTHY" }.into(),
        launch_time_millis: p.launched_at_ms,
        ready_time_millis: p.ready_at_ms.unwrap_or(0),
        launch_path: p.launch_path.clone(),
    }
}
