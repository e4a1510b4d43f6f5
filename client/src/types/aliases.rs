//! Domain types of aliases: [`Alias`], its [`RoutingStrategy`] (SIMPLE to a
//! fleet, or TERMINAL with a message), what an alias resolves to, and the
//! inputs of the alias operations. GameLift-style JSON; no protobuf here.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Tag, parse_name};
use crate::error::ClientError;

/// An alias, as GameLift's `Alias`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Alias {
    /// The alias id (`alias-…`).
    pub alias_id: String,
    /// The name.
    pub name: String,
    /// The alias ARN.
    pub alias_arn: String,
    /// The description, if one was set.
    pub description: Option<String>,
    /// Where the alias routes.
    pub routing_strategy: RoutingStrategy,
    /// Creation time, Unix epoch milliseconds.
    pub creation_time: i64,
    /// Time of the last update, Unix epoch milliseconds.
    pub last_updated_time: i64,
}

/// Where an alias routes, as GameLift's `RoutingStrategy`
/// (`{"Type", "FleetId", "Message"}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoutingStrategy {
    /// SIMPLE or TERMINAL.
    #[serde(rename = "Type")]
    pub strategy_type: RoutingStrategyType,
    /// SIMPLE: the fleet id.
    pub fleet_id: Option<String>,
    /// TERMINAL: the message callers get.
    pub message: Option<String>,
}

impl RoutingStrategy {
    /// Routes to the fleet `fleet_id`.
    pub fn simple(fleet_id: impl Into<String>) -> RoutingStrategy {
        RoutingStrategy {
            strategy_type: RoutingStrategyType::Simple,
            fleet_id: Some(fleet_id.into()),
            message: None,
        }
    }

    /// Routes nowhere: requests through the alias fail with
    /// `TerminalRoutingStrategy` and `message`.
    pub fn terminal(message: impl Into<String>) -> RoutingStrategy {
        RoutingStrategy {
            strategy_type: RoutingStrategyType::Terminal,
            fleet_id: None,
            message: Some(message.into()),
        }
    }
}

/// An alias's routing type; serialized as `"SIMPLE"` / `"TERMINAL"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RoutingStrategyType {
    /// `SIMPLE`: routes to one fleet.
    Simple,
    /// `TERMINAL`: routes nowhere, with a message.
    Terminal,
    /// `UNKNOWN`: the server sent no type, or one this client does not know.
    Unknown,
}

impl RoutingStrategyType {
    /// Both types GameLift names (not `Unknown`).
    pub const ALL: [RoutingStrategyType; 2] =
        [RoutingStrategyType::Simple, RoutingStrategyType::Terminal];

    /// The GameLift name, `"SIMPLE"` or `"TERMINAL"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RoutingStrategyType::Simple => "SIMPLE",
            RoutingStrategyType::Terminal => "TERMINAL",
            RoutingStrategyType::Unknown => "UNKNOWN",
        }
    }
}

impl FromStr for RoutingStrategyType {
    type Err = ClientError;

    /// `SIMPLE` or `TERMINAL`, in any case.
    fn from_str(s: &str) -> Result<RoutingStrategyType, ClientError> {
        parse_name("routing strategy type", s, &Self::ALL, Self::as_str)
    }
}

/// The fleet an alias routes to, as ResolveAlias answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResolvedAlias {
    /// The fleet id.
    pub fleet_id: String,
    /// The fleet ARN.
    pub fleet_arn: String,
}

/// Input of [`crate::Client::create_alias`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateAliasInput {
    /// Name, 1-1024 characters.
    pub name: String,
    /// Description, 1-1024 characters.
    pub description: Option<String>,
    /// Where the alias routes.
    pub routing_strategy: RoutingStrategy,
    /// Tags.
    pub tags: Vec<Tag>,
}

impl CreateAliasInput {
    /// An alias `name` routing by `routing_strategy`, without description
    /// or tags.
    pub fn new(name: impl Into<String>, routing_strategy: RoutingStrategy) -> CreateAliasInput {
        CreateAliasInput {
            name: name.into(),
            description: None,
            routing_strategy,
            tags: Vec::new(),
        }
    }
}

/// Input of [`crate::Client::update_alias`]; `None` fields are left
/// unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateAliasInput {
    /// The alias (id or ARN).
    pub alias_id: String,
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New routing.
    pub routing_strategy: Option<RoutingStrategy>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn routing_strategies_serialize_like_gamelift() {
        assert_eq!(
            serde_json::to_value(RoutingStrategy::simple("fleet-1")).unwrap(),
            json!({"Type": "SIMPLE", "FleetId": "fleet-1", "Message": null})
        );
        assert_eq!(
            serde_json::to_value(RoutingStrategy::terminal("gone")).unwrap(),
            json!({"Type": "TERMINAL", "FleetId": null, "Message": "gone"})
        );
        // GameLift JSON omits what does not apply.
        let parsed: RoutingStrategy =
            serde_json::from_value(json!({"Type": "TERMINAL", "Message": "closed"})).unwrap();
        assert_eq!(parsed, RoutingStrategy::terminal("closed"));
    }
}
