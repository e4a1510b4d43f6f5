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
        placement_strategy: placement_strategy_pb(f.spec.placement_strategy) as i32,
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

// ---------------------------------------------------------------------------
// Game sessions, player sessions, aliases.

use crate::fsm::alias::{Alias, RoutingStrategy};
use crate::fsm::fleet::PlacementStrategy;
use crate::fsm::session::{
    GameProperty, GameSession, GameSessionStatus, PlayerSession, PlayerSessionCreationPolicy,
    PlayerSessionStatus, StatusReason, TerminationMode,
};

/// Wire placement strategy to domain (unspecified: PACK).
pub fn placement_strategy(field: &str, v: i32) -> Result<PlacementStrategy, ApiError> {
    match pb::GameSessionPlacementStrategy::try_from(v) {
        Ok(
            pb::GameSessionPlacementStrategy::Unspecified | pb::GameSessionPlacementStrategy::Pack,
        ) => Ok(PlacementStrategy::Pack),
        Ok(pb::GameSessionPlacementStrategy::Spread) => Ok(PlacementStrategy::Spread),
        Err(_) => Err(ApiError::invalid(
            field,
            format!("unknown placement strategy {v}"),
        )),
    }
}

/// Domain placement strategy to wire.
pub fn placement_strategy_pb(p: PlacementStrategy) -> pb::GameSessionPlacementStrategy {
    match p {
        PlacementStrategy::Pack => pb::GameSessionPlacementStrategy::Pack,
        PlacementStrategy::Spread => pb::GameSessionPlacementStrategy::Spread,
    }
}

/// Wire game properties to domain.
pub fn game_properties(p: &[pb::GameProperty]) -> Vec<GameProperty> {
    p.iter()
        .map(|p| GameProperty {
            key: p.key.clone(),
            value: p.value.clone(),
        })
        .collect()
}

/// Wire game session status to domain (`None` for unspecified).
pub fn game_session_status(field: &str, v: i32) -> Result<Option<GameSessionStatus>, ApiError> {
    use pb::GameSessionStatus as W;
    Ok(match W::try_from(v) {
        Ok(W::Unspecified) => None,
        Ok(W::Active) => Some(GameSessionStatus::Active),
        Ok(W::Activating) => Some(GameSessionStatus::Activating),
        Ok(W::Terminated) => Some(GameSessionStatus::Terminated),
        Ok(W::Terminating) => Some(GameSessionStatus::Terminating),
        Ok(W::Error) => Some(GameSessionStatus::Error),
        Err(_) => {
            return Err(ApiError::invalid(
                field,
                format!("unknown game session status {v}"),
            ));
        }
    })
}

fn game_session_status_pb(s: GameSessionStatus) -> pb::GameSessionStatus {
    match s {
        GameSessionStatus::Activating => pb::GameSessionStatus::Activating,
        GameSessionStatus::Active => pb::GameSessionStatus::Active,
        GameSessionStatus::Terminating => pb::GameSessionStatus::Terminating,
        GameSessionStatus::Terminated => pb::GameSessionStatus::Terminated,
        GameSessionStatus::Error => pb::GameSessionStatus::Error,
    }
}

fn status_reason_pb(r: Option<StatusReason>) -> pb::GameSessionStatusReason {
    use pb::GameSessionStatusReason as W;
    match r {
        None => W::Unspecified,
        Some(StatusReason::Interrupted) => W::Interrupted,
        Some(StatusReason::TriggeredOnProcessTerminate) => W::TriggeredOnProcessTerminate,
        Some(StatusReason::ForceTerminated) => W::ForceTerminated,
        Some(StatusReason::ActivationTimeout) => W::ActivationTimeout,
        Some(StatusReason::ProcessCrashed) => W::ProcessCrashed,
        Some(StatusReason::NodeLost) => W::NodeLost,
    }
}

/// Wire player session creation policy to domain (`None` for unspecified).
pub fn creation_policy(
    field: &str,
    v: i32,
) -> Result<Option<PlayerSessionCreationPolicy>, ApiError> {
    use pb::PlayerSessionCreationPolicy as W;
    match W::try_from(v) {
        Ok(W::Unspecified) => Ok(None),
        Ok(W::AcceptAll) => Ok(Some(PlayerSessionCreationPolicy::AcceptAll)),
        Ok(W::DenyAll) => Ok(Some(PlayerSessionCreationPolicy::DenyAll)),
        Err(_) => Err(ApiError::invalid(
            field,
            format!("unknown player session creation policy {v}"),
        )),
    }
}

/// Wire termination mode to domain; it is required.
pub fn termination_mode(v: i32) -> Result<TerminationMode, ApiError> {
    use pb::TerminationMode as W;
    match W::try_from(v) {
        Ok(W::TriggerOnProcessTerminate) => Ok(TerminationMode::TriggerOnProcessTerminate),
        Ok(W::ForceTerminate) => Ok(TerminationMode::ForceTerminate),
        _ => Err(ApiError::invalid(
            "termination_mode",
            "must be TRIGGER_ON_PROCESS_TERMINATE or FORCE_TERMINATE",
        )),
    }
}

/// Wire player session status to domain (`None` for unspecified).
pub fn player_session_status(field: &str, v: i32) -> Result<Option<PlayerSessionStatus>, ApiError> {
    use pb::PlayerSessionStatus as W;
    Ok(match W::try_from(v) {
        Ok(W::Unspecified) => None,
        Ok(W::Reserved) => Some(PlayerSessionStatus::Reserved),
        Ok(W::Active) => Some(PlayerSessionStatus::Active),
        Ok(W::Completed) => Some(PlayerSessionStatus::Completed),
        Ok(W::Timedout) => Some(PlayerSessionStatus::Timedout),
        Err(_) => {
            return Err(ApiError::invalid(
                field,
                format!("unknown player session status {v}"),
            ));
        }
    })
}

fn player_session_status_pb(s: PlayerSessionStatus) -> pb::PlayerSessionStatus {
    match s {
        PlayerSessionStatus::Reserved => pb::PlayerSessionStatus::Reserved,
        PlayerSessionStatus::Active => pb::PlayerSessionStatus::Active,
        PlayerSessionStatus::Completed => pb::PlayerSessionStatus::Completed,
        PlayerSessionStatus::Timedout => pb::PlayerSessionStatus::Timedout,
    }
}

/// Domain game session to wire.
pub fn game_session(g: &GameSession) -> pb::GameSession {
    pb::GameSession {
        game_session_id: g.id.clone(),
        name: g.name.clone().unwrap_or_default(),
        fleet_id: g.fleet_id.clone(),
        fleet_arn: g.fleet_arn.clone(),
        creation_time_millis: g.creation_time_ms,
        termination_time_millis: g.termination_time_ms.unwrap_or(0),
        current_player_session_count: g.current_player_session_count,
        maximum_player_session_count: g.maximum_player_session_count,
        status: game_session_status_pb(g.status) as i32,
        status_reason: status_reason_pb(g.status_reason) as i32,
        game_properties: g
            .game_properties
            .iter()
            .map(|p| pb::GameProperty {
                key: p.key.clone(),
                value: p.value.clone(),
            })
            .collect(),
        ip_address: g.ip_address.clone(),
        dns_name: g.dns_name.clone(),
        port: u32::from(g.port),
        player_session_creation_policy: match g.player_session_creation_policy {
            PlayerSessionCreationPolicy::AcceptAll => pb::PlayerSessionCreationPolicy::AcceptAll,
            PlayerSessionCreationPolicy::DenyAll => pb::PlayerSessionCreationPolicy::DenyAll,
        } as i32,
        creator_id: g.creator_id.clone().unwrap_or_default(),
        game_session_data: g.game_session_data.clone().unwrap_or_default(),
        matchmaker_data: String::new(),
        location: g.location.clone().unwrap_or_default(),
        compute_name: g.compute_name.clone(),
        process_id: g.process_id.clone(),
        node_id: g.node_id,
    }
}

/// Domain game session to GameSessionDetail.
pub fn game_session_detail(g: &GameSession) -> pb::GameSessionDetail {
    pb::GameSessionDetail {
        game_session: Some(game_session(g)),
        protection_policy: protection_policy_pb(g.protection_policy) as i32,
    }
}

/// Domain player session to wire.
pub fn player_session(p: &PlayerSession) -> pb::PlayerSession {
    pb::PlayerSession {
        player_session_id: p.id.clone(),
        player_id: p.player_id.clone(),
        game_session_id: p.game_session_id.clone(),
        fleet_id: p.fleet_id.clone(),
        fleet_arn: p.fleet_arn.clone(),
        creation_time_millis: p.creation_time_ms,
        termination_time_millis: p.termination_time_ms.unwrap_or(0),
        status: player_session_status_pb(p.status) as i32,
        ip_address: p.ip_address.clone(),
        dns_name: p.dns_name.clone(),
        port: u32::from(p.port),
        player_data: p.player_data.clone().unwrap_or_default(),
    }
}

/// Wire routing strategy to domain.
pub fn routing_strategy(r: Option<&pb::RoutingStrategy>) -> Result<RoutingStrategy, ApiError> {
    let r = r.ok_or_else(|| ApiError::invalid("routing_strategy", "is required"))?;
    match pb::RoutingStrategyType::try_from(r.r#type) {
        Ok(pb::RoutingStrategyType::Simple) => match (&r.fleet_id, &r.message) {
            (Some(f), None) => Ok(RoutingStrategy::Simple {
                fleet_id: f.clone(),
            }),
            (None, _) => Err(ApiError::invalid(
                "routing_strategy.fleet_id",
                "is required for a SIMPLE routing strategy",
            )),
            (Some(_), Some(_)) => Err(ApiError::invalid(
                "routing_strategy.message",
                "only a TERMINAL routing strategy has a message",
            )),
        },
        Ok(pb::RoutingStrategyType::Terminal) => match (&r.message, &r.fleet_id) {
            (Some(m), None) => Ok(RoutingStrategy::Terminal { message: m.clone() }),
            (None, _) => Err(ApiError::invalid(
                "routing_strategy.message",
                "is required for a TERMINAL routing strategy",
            )),
            (Some(_), Some(_)) => Err(ApiError::invalid(
                "routing_strategy.fleet_id",
                "only a SIMPLE routing strategy has a fleet id",
            )),
        },
        _ => Err(ApiError::invalid(
            "routing_strategy.type",
            "must be SIMPLE or TERMINAL",
        )),
    }
}

/// Wire routing strategy type filter to domain-independent form.
pub fn routing_strategy_pb(r: &RoutingStrategy) -> pb::RoutingStrategy {
    match r {
        RoutingStrategy::Simple { fleet_id } => pb::RoutingStrategy {
            r#type: pb::RoutingStrategyType::Simple as i32,
            fleet_id: Some(fleet_id.clone()),
            message: None,
        },
        RoutingStrategy::Terminal { message } => pb::RoutingStrategy {
            r#type: pb::RoutingStrategyType::Terminal as i32,
            fleet_id: None,
            message: Some(message.clone()),
        },
    }
}

/// Domain alias to wire.
pub fn alias(a: &Alias) -> pb::Alias {
    pb::Alias {
        alias_id: a.id.clone(),
        name: a.spec.name.clone(),
        alias_arn: a.arn.clone(),
        description: a.spec.description.clone().unwrap_or_default(),
        routing_strategy: Some(routing_strategy_pb(&a.spec.routing_strategy)),
        creation_time_millis: a.creation_time_ms,
        last_updated_time_millis: a.last_updated_time_ms,
    }
}
