//! Aliases (GameLift CreateAlias/UpdateAlias/DeleteAlias): a stable id that routes to a
//! fleet (SIMPLE) or refuses with a message (TERMINAL). Rules and apply logic; no IO.

use serde::{Deserialize, Serialize};

use super::error::FsmError;
use super::fleet::{MAX_TAG_KEY, MAX_TAG_VALUE, MAX_TAGS, MAX_TEXT, Tag};
use super::validate;
use super::{Output, State};

/// Most aliases one cluster holds.
pub const MAX_ALIASES: usize = 10_000;

/// RoutingStrategy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoutingStrategy {
    /// Routes to this fleet.
    Simple { fleet_id: String },
    /// Routes nowhere; callers get this message.
    Terminal { message: String },
}

/// What CreateAlias asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasSpec {
    pub name: String,
    pub description: Option<String>,
    pub routing_strategy: RoutingStrategy,
    pub tags: Vec<Tag>,
}

/// UpdateAlias; `None` leaves a field unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AliasUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub routing_strategy: Option<RoutingStrategy>,
}

/// An alias as replicated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    pub id: String,
    pub arn: String,
    pub spec: AliasSpec,
    pub creation_time_ms: i64,
    pub last_updated_time_ms: i64,
}

impl RoutingStrategy {
    fn validate(&self) -> Result<(), FsmError> {
        match self {
            RoutingStrategy::Simple { fleet_id } => {
                validate::fleet_id("routing_strategy.fleet_id", fleet_id)
            }
            RoutingStrategy::Terminal { message } => {
                validate::length("routing_strategy.message", message, 1, MAX_TEXT)
            }
        }
    }
}

impl AliasSpec {
    /// Checks every field rule of CreateAlias.
    pub fn validate(&self) -> Result<(), FsmError> {
        validate::length("name", &self.name, 1, MAX_TEXT)?;
        validate::opt_length("description", self.description.as_deref(), 1, MAX_TEXT)?;
        self.routing_strategy.validate()?;
        validate::max_items("tags", &self.tags, MAX_TAGS)?;
        for t in &self.tags {
            validate::length("tags.key", &t.key, 1, MAX_TAG_KEY)?;
            validate::length("tags.value", &t.value, 0, MAX_TAG_VALUE)?;
        }
        Ok(())
    }
}

impl AliasUpdate {
    /// Checks every field rule of UpdateAlias.
    pub fn validate(&self) -> Result<(), FsmError> {
        validate::opt_length("name", self.name.as_deref(), 1, MAX_TEXT)?;
        validate::opt_length("description", self.description.as_deref(), 1, MAX_TEXT)?;
        if let Some(r) = &self.routing_strategy {
            r.validate()?;
        }
        Ok(())
    }
}

/// The alias id inside an alias ARN (`…:alias/alias-…`), or the input itself.
pub fn alias_id_of(id_or_arn: &str) -> &str {
    match id_or_arn.rsplit_once(":alias/") {
        Some((_, id)) => id,
        None => id_or_arn,
    }
}

fn check_target(state: &State, r: &RoutingStrategy) -> Result<(), FsmError> {
    if let RoutingStrategy::Simple { fleet_id } = r
        && !state.fleets.contains_key(super::fleet_id_of(fleet_id))
    {
        return Err(FsmError::not_found("fleet", fleet_id.clone()));
    }
    Ok(())
}

fn normalized(r: &RoutingStrategy) -> RoutingStrategy {
    match r {
        RoutingStrategy::Simple { fleet_id } => RoutingStrategy::Simple {
            fleet_id: super::fleet_id_of(fleet_id).to_string(),
        },
        t => t.clone(),
    }
}

/// CreateAlias.
pub(super) fn create(
    state: &mut State,
    id: &str,
    arn: &str,
    spec: &AliasSpec,
    at_ms: i64,
) -> Result<Output, FsmError> {
    spec.validate()?;
    validate::length("alias_id", id, 1, 128)?;
    check_target(state, &spec.routing_strategy)?;
    if state.aliases.contains_key(id) {
        return Err(FsmError::invalid(
            "alias_id",
            format!("{id} already exists"),
        ));
    }
    if state.aliases.len() >= MAX_ALIASES {
        return Err(FsmError::LimitExceeded {
            message: format!("a cluster holds at most {MAX_ALIASES} aliases"),
        });
    }
    let mut spec = spec.clone();
    spec.routing_strategy = normalized(&spec.routing_strategy);
    let alias = Alias {
        id: id.to_string(),
        arn: arn.to_string(),
        spec,
        creation_time_ms: at_ms,
        last_updated_time_ms: at_ms,
    };
    state.aliases.insert(alias.id.clone(), alias.clone());
    Ok(Output::Alias(Box::new(alias)))
}

/// UpdateAlias.
pub(super) fn update(
    state: &mut State,
    id: &str,
    u: &AliasUpdate,
    at_ms: i64,
) -> Result<Output, FsmError> {
    u.validate()?;
    if let Some(r) = &u.routing_strategy {
        check_target(state, r)?;
    }
    let alias = state
        .aliases
        .get_mut(alias_id_of(id))
        .ok_or_else(|| FsmError::not_found("alias", id))?;
    if let Some(n) = &u.name {
        alias.spec.name.clone_from(n);
    }
    if let Some(d) = &u.description {
        alias.spec.description = Some(d.clone());
    }
    if let Some(r) = &u.routing_strategy {
        alias.spec.routing_strategy = normalized(r);
    }
    alias.last_updated_time_ms = at_ms;
    Ok(Output::Alias(Box::new(alias.clone())))
}

/// DeleteAlias.
pub(super) fn delete(state: &mut State, id: &str) -> Result<Output, FsmError> {
    state
        .aliases
        .remove(alias_id_of(id))
        .map(|_| Output::Done)
        .ok_or_else(|| FsmError::not_found("alias", id))
}

/// The fleet an alias routes to; TERMINAL aliases fail with their message.
pub fn resolve<'a>(state: &'a State, id: &str) -> Result<&'a str, FsmError> {
    let alias = state
        .aliases
        .get(alias_id_of(id))
        .ok_or_else(|| FsmError::not_found("alias", id))?;
    match &alias.spec.routing_strategy {
        RoutingStrategy::Simple { fleet_id } => Ok(fleet_id),
        RoutingStrategy::Terminal { message } => Err(FsmError::TerminalRoutingStrategy {
            message: format!("alias {}: {message}", alias.id),
        }),
    }
}
