//! Fleet records as GameLift models them (CreateFleet / FleetAttributes), their
//! field rules, and the fleet commands' apply logic. Hosting fields (runtime
//! configuration, capacity) are added by later commands, never by changing
//! these.

use serde::{Deserialize, Serialize};

use std::collections::BTreeSet;

use super::error::FsmError;
use super::hosting::{self, Capacity, PortRange, RuntimeConfiguration};
use super::validate;

/// Longest name or description (GameLift's NonZeroAndMaxString).
pub const MAX_TEXT: usize = 1024;
/// At most one metric group, 1-255 characters (GameLift).
pub const MAX_METRIC_GROUPS: usize = 1;
/// Longest metric group name.
pub const MAX_METRIC_GROUP_LEN: usize = 255;
/// Tags per resource (GameLift).
pub const MAX_TAGS: usize = 200;
/// Longest tag key.
pub const MAX_TAG_KEY: usize = 128;
/// Longest tag value.
pub const MAX_TAG_VALUE: usize = 256;
/// Most fleets one cluster holds; keeps the replicated state bounded.
pub const MAX_FLEETS: usize = 10_000;

/// A fleet's lifecycle status (GameLift FleetStatus).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FleetStatus {
    New,
    Downloading,
    Validating,
    Building,
    Activating,
    Active,
    Deleting,
    Error,
    Terminated,
}

/// NewGameSessionProtectionPolicy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ProtectionPolicy {
    #[default]
    NoProtection,
    FullProtection,
}

/// How CreateGameSession chooses among a fleet's ready processes (after location).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PlacementStrategy {
    /// Fill the busiest node first (fewer nodes in use).
    #[default]
    Pack,
    /// Use the least busy node first.
    Spread,
}

/// ResourceCreationLimitPolicy: at most `new_game_sessions_per_creator` sessions
/// per creator in any `policy_period_in_minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceCreationLimitPolicy {
    pub new_game_sessions_per_creator: i32,
    pub policy_period_in_minutes: i32,
}

/// A resource tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// What a client asks for when creating a fleet.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FleetSpec {
    pub name: String,
    pub description: Option<String>,
    pub protection_policy: ProtectionPolicy,
    pub resource_creation_limit_policy: Option<ResourceCreationLimitPolicy>,
    pub metric_groups: Vec<String>,
    pub tags: Vec<Tag>,
    /// Which server processes run on each hosting node. None: the fleet is data only.
    #[serde(default)]
    pub runtime_configuration: Option<RuntimeConfiguration>,
    /// Ports for the fleet's processes. None: [`DEFAULT_PORT_RANGE`].
    #[serde(default)]
    pub port_range: Option<PortRange>,
    /// Node `location` label values the fleet may run on. Empty: any node.
    #[serde(default)]
    pub locations: Vec<String>,
    /// How many nodes host the fleet.
    #[serde(default)]
    pub instances: Capacity,
    /// How game sessions are placed.
    #[serde(default)]
    pub placement_strategy: PlacementStrategy,
}

/// The port range of a fleet that names none.
pub const DEFAULT_PORT_RANGE: PortRange = PortRange {
    from_port: 30000,
    to_port: 39999,
};

/// Attribute changes; `None` leaves a field unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FleetUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub protection_policy: Option<ProtectionPolicy>,
    pub resource_creation_limit_policy: Option<ResourceCreationLimitPolicy>,
    pub metric_groups: Option<Vec<String>>,
    #[serde(default)]
    pub placement_strategy: Option<PlacementStrategy>,
}

/// A fleet as stored in the replicated state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fleet {
    pub id: String,
    pub arn: String,
    pub spec: FleetSpec,
    pub status: FleetStatus,
    pub creation_time_ms: i64,
    pub termination_time_ms: Option<i64>,
    /// Nodes the leader assigned to host the fleet.
    #[serde(default)]
    pub assigned_nodes: BTreeSet<u64>,
    /// A launch failed (SERVER_PROCESS_INVALID_PATH) since the runtime configuration last
    /// changed and no process has become ready since.
    #[serde(default)]
    pub launch_failed: bool,
}

fn validate_rclp(p: &ResourceCreationLimitPolicy) -> Result<(), FsmError> {
    validate::non_negative(
        "resource_creation_limit_policy.new_game_sessions_per_creator",
        p.new_game_sessions_per_creator.into(),
    )?;
    validate::non_negative(
        "resource_creation_limit_policy.policy_period_in_minutes",
        p.policy_period_in_minutes.into(),
    )
}

fn validate_metric_groups(groups: &[String]) -> Result<(), FsmError> {
    validate::max_items("metric_groups", groups, MAX_METRIC_GROUPS)?;
    for g in groups {
        validate::length("metric_groups", g, 1, MAX_METRIC_GROUP_LEN)?;
    }
    Ok(())
}

impl FleetSpec {
    /// Checks every field rule of CreateFleet.
    pub fn validate(&self) -> Result<(), FsmError> {
        validate::length("name", &self.name, 1, MAX_TEXT)?;
        validate::opt_length("description", self.description.as_deref(), 1, MAX_TEXT)?;
        if let Some(p) = &self.resource_creation_limit_policy {
            validate_rclp(p)?;
        }
        validate_metric_groups(&self.metric_groups)?;
        validate::max_items("tags", &self.tags, MAX_TAGS)?;
        let mut seen = std::collections::BTreeSet::new();
        for t in &self.tags {
            validate::length("tags.key", &t.key, 1, MAX_TAG_KEY)?;
            validate::length("tags.value", &t.value, 0, MAX_TAG_VALUE)?;
            if !seen.insert(t.key.as_str()) {
                return Err(FsmError::invalid(
                    "tags.key",
                    format!("duplicate tag key {:?}", t.key),
                ));
            }
        }
        self.validate_hosting()
    }

    /// Checks the hosting fields (runtime configuration, ports, locations, instances).
    pub fn validate_hosting(&self) -> Result<(), FsmError> {
        let processes = match &self.runtime_configuration {
            Some(rc) => {
                rc.validate()?;
                rc.processes_per_instance()
            }
            None => 0,
        };
        if let Some(pr) = &self.port_range {
            pr.validate(processes)?;
        }
        hosting::validate_locations(&self.locations)?;
        self.instances.validate()
    }

    /// The port range processes of this fleet use.
    pub fn ports(&self) -> PortRange {
        self.port_range.unwrap_or(DEFAULT_PORT_RANGE)
    }
}

impl FleetUpdate {
    /// Checks every field rule of UpdateFleetAttributes.
    pub fn validate(&self) -> Result<(), FsmError> {
        validate::opt_length("name", self.name.as_deref(), 1, MAX_TEXT)?;
        validate::opt_length("description", self.description.as_deref(), 1, MAX_TEXT)?;
        if let Some(p) = &self.resource_creation_limit_policy {
            validate_rclp(p)?;
        }
        if let Some(g) = &self.metric_groups {
            validate_metric_groups(g)?;
        }
        Ok(())
    }

    /// True when the update changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == FleetUpdate::default()
    }
}

impl Fleet {
    /// Applies validated attribute changes.
    pub fn apply_update(&mut self, u: &FleetUpdate) {
        if let Some(v) = &u.name {
            self.spec.name.clone_from(v);
        }
        if let Some(v) = &u.description {
            self.spec.description = Some(v.clone());
        }
        if let Some(v) = u.protection_policy {
            self.spec.protection_policy = v;
        }
        if let Some(v) = u.resource_creation_limit_policy {
            self.spec.resource_creation_limit_policy = Some(v);
        }
        if let Some(v) = &u.metric_groups {
            self.spec.metric_groups.clone_from(v);
        }
        if let Some(v) = u.placement_strategy {
            self.spec.placement_strategy = v;
        }
    }

    /// True once deletion has started.
    pub fn is_deleting(&self) -> bool {
        matches!(self.status, FleetStatus::Deleting | FleetStatus::Terminated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> FleetSpec {
        FleetSpec {
            name: "f".into(),
            ..Default::default()
        }
    }

    #[test]
    fn spec_rules_name_the_field() {
        let cases: Vec<(FleetSpec, &str)> = vec![
            (
                FleetSpec {
                    name: String::new(),
                    ..spec()
                },
                "name",
            ),
            (
                FleetSpec {
                    name: "x".repeat(1025),
                    ..spec()
                },
                "name",
            ),
            (
                FleetSpec {
                    description: Some(String::new()),
                    ..spec()
                },
                "description",
            ),
            (
                FleetSpec {
                    metric_groups: vec!["a".into(), "b".into()],
                    ..spec()
                },
                "metric_groups",
            ),
            (
                FleetSpec {
                    metric_groups: vec!["a".repeat(256)],
                    ..spec()
                },
                "metric_groups",
            ),
            (
                FleetSpec {
                    resource_creation_limit_policy: Some(ResourceCreationLimitPolicy {
                        new_game_sessions_per_creator: -1,
                        policy_period_in_minutes: 1,
                    }),
                    ..spec()
                },
                "resource_creation_limit_policy.new_game_sessions_per_creator",
            ),
            (
                FleetSpec {
                    tags: (0..201)
                        .map(|i| Tag {
                            key: format!("k{i}"),
                            value: String::new(),
                        })
                        .collect(),
                    ..spec()
                },
                "tags",
            ),
            (
                FleetSpec {
                    tags: vec![Tag {
                        key: String::new(),
                        value: "v".into(),
                    }],
                    ..spec()
                },
                "tags.key",
            ),
            (
                FleetSpec {
                    tags: vec![Tag {
                        key: "k".into(),
                        value: "v".repeat(257),
                    }],
                    ..spec()
                },
                "tags.value",
            ),
            (
                FleetSpec {
                    tags: vec![
                        Tag {
                            key: "k".into(),
                            value: "1".into(),
                        },
                        Tag {
                            key: "k".into(),
                            value: "2".into(),
                        },
                    ],
                    ..spec()
                },
                "tags.key",
            ),
        ];
        for (s, field) in cases {
            match s.validate() {
                Err(FsmError::InvalidArgument { field: f, .. }) => assert_eq!(f, field),
                other => panic!("expected InvalidArgument on {field}, got {other:?}"),
            }
        }
        assert!(
            FleetSpec {
                name: "x".repeat(1024),
                ..spec()
            }
            .validate()
            .is_ok()
        );
        assert!(
            FleetSpec {
                tags: vec![Tag {
                    key: "k".into(),
                    value: String::new()
                }],
                ..spec()
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn update_rules() {
        assert!(
            FleetUpdate {
                name: Some(String::new()),
                ..Default::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            FleetUpdate {
                metric_groups: Some(vec![]),
                ..Default::default()
            }
            .validate()
            .is_ok()
        );
        assert!(FleetUpdate::default().is_empty());
    }
}
