//! Conversions between the wire types of aliases and their domain types
//! (`types::aliases`), and the alias requests built from their inputs.
//! UNSPECIFIED or unknown routing types become `Unknown`; a missing routing
//! strategy reads as an empty one; nothing here fails.

use gamefleet_proto::v1 as pb;

use super::non_empty;
use crate::types::{
    Alias, CreateAliasInput, ResolvedAlias, RoutingStrategy, RoutingStrategyType, UpdateAliasInput,
};

impl From<pb::RoutingStrategyType> for RoutingStrategyType {
    fn from(t: pb::RoutingStrategyType) -> RoutingStrategyType {
        match t {
            pb::RoutingStrategyType::Unspecified => RoutingStrategyType::Unknown,
            pb::RoutingStrategyType::Simple => RoutingStrategyType::Simple,
            pb::RoutingStrategyType::Terminal => RoutingStrategyType::Terminal,
        }
    }
}

impl From<RoutingStrategyType> for pb::RoutingStrategyType {
    fn from(t: RoutingStrategyType) -> pb::RoutingStrategyType {
        match t {
            RoutingStrategyType::Unknown => pb::RoutingStrategyType::Unspecified,
            RoutingStrategyType::Simple => pb::RoutingStrategyType::Simple,
            RoutingStrategyType::Terminal => pb::RoutingStrategyType::Terminal,
        }
    }
}

impl RoutingStrategyType {
    /// From a raw proto enum value; unknown values become `Unknown`.
    pub(crate) fn from_proto_i32(v: i32) -> RoutingStrategyType {
        pb::RoutingStrategyType::try_from(v).map_or(RoutingStrategyType::Unknown, Into::into)
    }

    /// The raw proto enum value.
    pub(crate) fn to_proto_i32(self) -> i32 {
        pb::RoutingStrategyType::from(self) as i32
    }
}

impl From<pb::RoutingStrategy> for RoutingStrategy {
    fn from(r: pb::RoutingStrategy) -> RoutingStrategy {
        RoutingStrategy {
            strategy_type: RoutingStrategyType::from_proto_i32(r.r#type),
            fleet_id: r.fleet_id,
            message: r.message,
        }
    }
}

impl From<RoutingStrategy> for pb::RoutingStrategy {
    fn from(r: RoutingStrategy) -> pb::RoutingStrategy {
        pb::RoutingStrategy {
            r#type: r.strategy_type.to_proto_i32(),
            fleet_id: r.fleet_id,
            message: r.message,
        }
    }
}

impl From<pb::Alias> for Alias {
    fn from(a: pb::Alias) -> Alias {
        Alias {
            alias_id: a.alias_id,
            name: a.name,
            alias_arn: a.alias_arn,
            description: non_empty(a.description),
            routing_strategy: a.routing_strategy.unwrap_or_default().into(),
            creation_time: a.creation_time_millis,
            last_updated_time: a.last_updated_time_millis,
        }
    }
}

impl From<Alias> for pb::Alias {
    fn from(a: Alias) -> pb::Alias {
        pb::Alias {
            alias_id: a.alias_id,
            name: a.name,
            alias_arn: a.alias_arn,
            description: a.description.unwrap_or_default(),
            routing_strategy: Some(a.routing_strategy.into()),
            creation_time_millis: a.creation_time,
            last_updated_time_millis: a.last_updated_time,
        }
    }
}

impl From<pb::ResolveAliasResponse> for ResolvedAlias {
    fn from(r: pb::ResolveAliasResponse) -> ResolvedAlias {
        ResolvedAlias {
            fleet_id: r.fleet_id,
            fleet_arn: r.fleet_arn,
        }
    }
}

impl From<ResolvedAlias> for pb::ResolveAliasResponse {
    fn from(r: ResolvedAlias) -> pb::ResolveAliasResponse {
        pb::ResolveAliasResponse {
            fleet_id: r.fleet_id,
            fleet_arn: r.fleet_arn,
        }
    }
}

impl From<CreateAliasInput> for pb::CreateAliasRequest {
    fn from(c: CreateAliasInput) -> pb::CreateAliasRequest {
        pb::CreateAliasRequest {
            name: c.name,
            description: c.description,
            routing_strategy: Some(c.routing_strategy.into()),
            tags: c.tags.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<UpdateAliasInput> for pb::UpdateAliasRequest {
    fn from(u: UpdateAliasInput) -> pb::UpdateAliasRequest {
        pb::UpdateAliasRequest {
            alias_id: u.alias_id,
            name: u.name,
            description: u.description,
            routing_strategy: u.routing_strategy.map(Into::into),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::types::Tag;

    fn sample_proto_alias() -> pb::Alias {
        pb::Alias {
            alias_id: "alias-1".into(),
            name: "live".into(),
            alias_arn: "arn:gamefleet:gamelift:local::alias/alias-1".into(),
            description: "production".into(),
            routing_strategy: Some(pb::RoutingStrategy {
                r#type: pb::RoutingStrategyType::Simple as i32,
                fleet_id: Some("fleet-1".into()),
                message: None,
            }),
            creation_time_millis: 1_700_000_000_000,
            last_updated_time_millis: 1_700_000_500_000,
        }
    }

    #[test]
    fn alias_round_trips_with_gamelift_names() {
        let p = sample_proto_alias();
        let a = Alias::from(p.clone());
        assert_eq!(a.alias_id, "alias-1");
        assert_eq!(a.name, "live");
        assert_eq!(a.alias_arn, "arn:gamefleet:gamelift:local::alias/alias-1");
        assert_eq!(a.description.as_deref(), Some("production"));
        assert_eq!(a.routing_strategy, RoutingStrategy::simple("fleet-1"));
        assert_eq!(a.creation_time, 1_700_000_000_000);
        assert_eq!(a.last_updated_time, 1_700_000_500_000);
        assert_eq!(pb::Alias::from(a.clone()), p);
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            json!({
                "AliasId": "alias-1",
                "Name": "live",
                "AliasArn": "arn:gamefleet:gamelift:local::alias/alias-1",
                "Description": "production",
                "RoutingStrategy": {"Type": "SIMPLE", "FleetId": "fleet-1", "Message": null},
                "CreationTime": 1_700_000_000_000i64,
                "LastUpdatedTime": 1_700_000_500_000i64
            })
        );
        let back: Alias = serde_json::from_value(serde_json::to_value(&a).unwrap()).unwrap();
        assert_eq!(back, a);

        let terminal = pb::Alias {
            description: String::new(),
            routing_strategy: Some(pb::RoutingStrategy {
                r#type: pb::RoutingStrategyType::Terminal as i32,
                fleet_id: None,
                message: Some("closed for maintenance".into()),
            }),
            ..sample_proto_alias()
        };
        let a = Alias::from(terminal.clone());
        assert_eq!(a.description, None);
        assert_eq!(
            a.routing_strategy,
            RoutingStrategy::terminal("closed for maintenance")
        );
        assert_eq!(pb::Alias::from(a), terminal);
    }

    #[test]
    fn routing_types_match_the_proto_names_and_unknowns_do_not_fail() {
        for t in RoutingStrategyType::ALL {
            assert_eq!(RoutingStrategyType::from_proto_i32(t.to_proto_i32()), t);
            assert_eq!(
                format!("ROUTING_STRATEGY_TYPE_{}", t.as_str()),
                pb::RoutingStrategyType::from(t).as_str_name()
            );
        }
        let a = Alias::from(pb::Alias {
            routing_strategy: None,
            ..sample_proto_alias()
        });
        assert_eq!(
            a.routing_strategy.strategy_type,
            RoutingStrategyType::Unknown
        );
        assert_eq!(
            RoutingStrategyType::from_proto_i32(999),
            RoutingStrategyType::Unknown
        );
    }

    #[test]
    fn resolved_alias_round_trips() {
        let p = pb::ResolveAliasResponse {
            fleet_id: "fleet-1".into(),
            fleet_arn: "arn-1".into(),
        };
        let r = ResolvedAlias::from(p.clone());
        assert_eq!(
            (r.fleet_id.as_str(), r.fleet_arn.as_str()),
            ("fleet-1", "arn-1")
        );
        assert_eq!(pb::ResolveAliasResponse::from(r.clone()), p);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"FleetId": "fleet-1", "FleetArn": "arn-1"})
        );
    }

    #[test]
    fn alias_inputs_to_requests() {
        let r = pb::CreateAliasRequest::from(CreateAliasInput {
            description: Some("d".into()),
            tags: vec![Tag::new("team", "core")],
            ..CreateAliasInput::new("live", RoutingStrategy::terminal("closed"))
        });
        assert_eq!(
            r,
            pb::CreateAliasRequest {
                name: "live".into(),
                description: Some("d".into()),
                routing_strategy: Some(pb::RoutingStrategy {
                    r#type: pb::RoutingStrategyType::Terminal as i32,
                    fleet_id: None,
                    message: Some("closed".into()),
                }),
                tags: vec![pb::Tag {
                    key: "team".into(),
                    value: "core".into()
                }],
            }
        );

        let r = pb::UpdateAliasRequest::from(UpdateAliasInput {
            alias_id: "alias-1".into(),
            ..Default::default()
        });
        assert_eq!(
            r,
            pb::UpdateAliasRequest {
                alias_id: "alias-1".into(),
                name: None,
                description: None,
                routing_strategy: None,
            }
        );
        let r = pb::UpdateAliasRequest::from(UpdateAliasInput {
            alias_id: "alias-1".into(),
            name: Some("n".into()),
            description: Some("d".into()),
            routing_strategy: Some(RoutingStrategy::simple("fleet-2")),
        });
        assert_eq!(r.name.as_deref(), Some("n"));
        assert_eq!(r.description.as_deref(), Some("d"));
        assert_eq!(
            r.routing_strategy,
            Some(pb::RoutingStrategy {
                r#type: pb::RoutingStrategyType::Simple as i32,
                fleet_id: Some("fleet-2".into()),
                message: None,
            })
        );
    }
}
