//! Conversions between protobuf messages and domain types, written by hand so
//! the wire format and the replicated format can evolve separately.

use gamefleet_proto::v1 as pb;

use super::error::ApiError;
use crate::fsm::fleet::{ProtectionPolicy, ResourceCreationLimitPolicy, Tag};
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
