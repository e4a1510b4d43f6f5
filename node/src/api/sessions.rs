//! The `GameLift` service's game session, player session and alias operations. Each handler
//! checks its input (bad input changes nothing), makes ids and timestamps, and either
//! proposes (CreateGameSession goes to the leader's placement) or reads the local replica
//! behind the read barrier. `gamelift.rs` holds the trait impl and delegates here.

use gamefleet_proto::v1 as pb;

use super::convert::{
    alias as alias_pb, creation_policy, game_properties, game_session, game_session_detail,
    game_session_status, page_limit, player_session, player_session_status, protection_policy,
    routing_strategy, tags, termination_mode,
};
use super::error::ApiError;
use super::{now_ms, page_after, read_barrier};
use crate::fsm::alias::{self, Alias, AliasSpec, AliasUpdate, RoutingStrategy, alias_id_of};
use crate::fsm::session::{
    self, GameSession, GameSessionRequest, GameSessionStatus, GameSessionUpdate, NewPlayerSession,
    PlayerSession,
};
use crate::fsm::{Command, FsmError, Output, State, fleet_id_of, validate};
use crate::search::{self, Searchable};
use crate::server::Node;

/// Largest page of DescribeGameSessions(Details) and ListAliases.
const MAX_PAGE: usize = 100;
/// Largest page of SearchGameSessions (GameLift: 20, even when Limit is higher).
const MAX_SEARCH_PAGE: usize = 20;
/// Largest page of DescribePlayerSessions.
const MAX_PLAYER_PAGE: usize = 1024;

fn game_session_of(out: Output) -> Result<GameSession, ApiError> {
    match out {
        Output::GameSession(g) => Ok(*g),
        _ => Err(ApiError::Internal("expected a game session result".into())),
    }
}

fn alias_of(out: Output) -> Result<Alias, ApiError> {
    match out {
        Output::Alias(a) => Ok(*a),
        _ => Err(ApiError::Internal("expected an alias result".into())),
    }
}

/// Checks a game session ARN as GameLift does: 1-512 characters of `[a-zA-Z0-9:/-]`.
fn check_session_id(field: &str, id: &str) -> Result<(), ApiError> {
    validate::length(field, id, 1, 512)?;
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '-'))
    {
        return Err(ApiError::invalid(
            field,
            "may contain only letters, digits, ':', '/' and '-'",
        ));
    }
    Ok(())
}

fn check_alias_ref(field: &str, id: &str) -> Result<(), ApiError> {
    validate::length(field, id, 1, 512)?;
    let id = alias_id_of(id);
    let ok = id.strip_prefix("alias-").is_some_and(|rest| {
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    if !ok {
        return Err(ApiError::invalid(
            field,
            format!("{id:?} is not an alias id (alias-…) or alias ARN"),
        ));
    }
    Ok(())
}

/// The fleet a request targets: exactly one of a fleet id (or ARN) and an alias id (or ARN),
/// resolved against `state`.
fn target_fleet(
    state: &State,
    fleet_id: Option<&str>,
    alias_id: Option<&str>,
) -> Result<String, ApiError> {
    match (fleet_id, alias_id) {
        (Some(f), None) => {
            validate::length("fleet_id", f, 1, 512)?;
            validate::fleet_id("fleet_id", fleet_id_of(f))?;
            Ok(fleet_id_of(f).to_string())
        }
        (None, Some(a)) => {
            check_alias_ref("alias_id", a)?;
            Ok(alias::resolve(state, a)?.to_string())
        }
        _ => Err(ApiError::invalid(
            "fleet_id",
            "exactly one of fleet_id and alias_id is required",
        )),
    }
}

fn check_location(l: Option<&str>) -> Result<(), ApiError> {
    validate::opt_length("location", l, 1, session::MAX_LOCATION)?;
    Ok(())
}

/// CreateGameSession.
pub async fn create_game_session(
    node: &Node,
    r: pb::CreateGameSessionRequest,
) -> Result<pb::CreateGameSessionResponse, ApiError> {
    let (fleet_id, prefix) = {
        let st = node.read_state();
        let fleet_id = target_fleet(&st.state, r.fleet_id.as_deref(), r.alias_id.as_deref())?;
        let fleet = st
            .state
            .fleets
            .get(&fleet_id)
            .ok_or_else(|| FsmError::not_found("fleet", fleet_id.clone()))?;
        let prefix = session::session_arn_prefix(&fleet.arn, &fleet.id);
        (fleet_id, prefix)
    };
    if let Some(id) = &r.game_session_id {
        validate::id_token("game_session_id", id, 48)?;
    }
    let request = GameSessionRequest {
        fleet_id,
        maximum_player_session_count: r.maximum_player_session_count,
        name: r.name,
        game_properties: game_properties(&r.game_properties),
        creator_id: r.creator_id,
        idempotency_token: r.idempotency_token.or(r.game_session_id),
        game_session_data: r.game_session_data,
        location: r.location,
    };
    request.validate()?;
    let suffix = match &request.idempotency_token {
        Some(t) => t.clone(),
        None => format!("gsess-{}", uuid::Uuid::new_v4()),
    };
    let out = node
        .proposer
        .place(format!("{prefix}{suffix}"), request, now_ms())
        .await?;
    Ok(pb::CreateGameSessionResponse {
        game_session: Some(game_session(&game_session_of(out)?)),
    })
}

/// What DescribeGameSessions and DescribeGameSessionDetails share.
struct DescribeQuery {
    fleet_id: Option<String>,
    alias_id: Option<String>,
    game_session_id: Option<String>,
    location: Option<String>,
    status_filter: i32,
    limit: Option<i32>,
    next_token: Option<String>,
    consistency: i32,
}

/// One page of game sessions and the next token.
async fn describe(
    node: &Node,
    q: DescribeQuery,
) -> Result<(Vec<GameSession>, Option<String>), ApiError> {
    let status = game_session_status("status_filter", q.status_filter)?;
    let limit = page_limit(q.limit, MAX_PAGE)?;
    check_location(q.location.as_deref())?;
    if let Some(id) = &q.game_session_id {
        check_session_id("game_session_id", id)?;
        if q.fleet_id.is_some() || q.alias_id.is_some() {
            return Err(ApiError::invalid(
                "game_session_id",
                "give a game session id or a fleet/alias id, not both",
            ));
        }
        read_barrier(node, q.consistency).await?;
        let st = node.read_state();
        let gs = st
            .state
            .sessions
            .get(id)
            .ok_or_else(|| FsmError::not_found("game session", id.clone()))?;
        return Ok((vec![gs.clone()], None));
    }
    if let Some(t) = &q.next_token
        && !t.is_empty()
    {
        check_session_id("next_token", t)?;
    }
    read_barrier(node, q.consistency).await?;
    let st = node.read_state();
    let fleet_id = target_fleet(&st.state, q.fleet_id.as_deref(), q.alias_id.as_deref())?;
    let fleet = st
        .state
        .fleets
        .get(&fleet_id)
        .ok_or_else(|| FsmError::not_found("fleet", fleet_id.clone()))?;
    let prefix = session::session_arn_prefix(&fleet.arn, &fleet.id);
    let after = q.next_token.filter(|t| !t.is_empty());
    if let Some(t) = &after
        && !t.starts_with(&prefix)
    {
        return Err(ApiError::invalid(
            "next_token",
            "is not a token this API returned for this fleet",
        ));
    }
    let matching = st.state.sessions.of_fleet(&prefix).filter(|gs| {
        status.is_none_or(|s| gs.status == s)
            && q.location
                .as_ref()
                .is_none_or(|l| gs.location.as_deref() == Some(l.as_str()))
    });
    let (page, next) = page_after(matching, |g| g.id.as_str(), after.as_deref(), limit);
    let page: Vec<GameSession> = page.into_iter().cloned().collect();
    Ok((page, next))
}

/// The two describe requests carry the same fields.
macro_rules! describe_query_from {
    ($($request:ty),*) => {$(
        impl From<$request> for DescribeQuery {
            fn from(r: $request) -> DescribeQuery {
                DescribeQuery {
                    fleet_id: r.fleet_id,
                    alias_id: r.alias_id,
                    game_session_id: r.game_session_id,
                    location: r.location,
                    status_filter: r.status_filter.unwrap_or_default(),
                    limit: r.limit,
                    next_token: r.next_token,
                    consistency: r.consistency,
                }
            }
        }
    )*};
}
describe_query_from!(
    pb::DescribeGameSessionsRequest,
    pb::DescribeGameSessionDetailsRequest
);

/// DescribeGameSessions.
pub async fn describe_game_sessions(
    node: &Node,
    r: pb::DescribeGameSessionsRequest,
) -> Result<pb::DescribeGameSessionsResponse, ApiError> {
    let (page, next_token) = describe(node, r.into()).await?;
    Ok(pb::DescribeGameSessionsResponse {
        game_sessions: page.iter().map(game_session).collect(),
        next_token,
    })
}

/// DescribeGameSessionDetails.
pub async fn describe_game_session_details(
    node: &Node,
    r: pb::DescribeGameSessionDetailsRequest,
) -> Result<pb::DescribeGameSessionDetailsResponse, ApiError> {
    let (page, next_token) = describe(node, r.into()).await?;
    Ok(pb::DescribeGameSessionDetailsResponse {
        game_session_details: page.iter().map(game_session_detail).collect(),
        next_token,
    })
}

impl Searchable for GameSession {
    fn game_session_name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }
    fn game_session_id(&self) -> &str {
        &self.id
    }
    fn game_property(&self, key: &str) -> Option<&str> {
        self.game_properties
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.value.as_str())
    }
    fn maximum_sessions(&self) -> i64 {
        i64::from(self.maximum_player_session_count)
    }
    fn creation_time_millis(&self) -> i64 {
        self.creation_time_ms
    }
    fn player_session_count(&self) -> i64 {
        i64::from(self.current_player_session_count)
    }
    fn has_available_player_sessions(&self) -> bool {
        self.available_slots() > 0
            && self.player_session_creation_policy
                == session::PlayerSessionCreationPolicy::AcceptAll
    }
}

fn search_err(e: search::SearchError) -> ApiError {
    ApiError::invalid(e.field, format!("{} at position {}", e.message, e.position))
}

/// SearchGameSessions: ACTIVE sessions of one fleet, filtered and sorted, 20 per page. The
/// next token is the offset of the next page in the sorted result. With no sort expression
/// the oldest sessions come first.
pub async fn search_game_sessions(
    node: &Node,
    r: pb::SearchGameSessionsRequest,
) -> Result<pb::SearchGameSessionsResponse, ApiError> {
    let filter = r
        .filter_expression
        .as_deref()
        .map(search::parse_filter)
        .transpose()
        .map_err(search_err)?;
    let sort = r
        .sort_expression
        .as_deref()
        .map(search::parse_sort)
        .transpose()
        .map_err(search_err)?;
    let limit = page_limit(r.limit, MAX_SEARCH_PAGE)?;
    check_location(r.location.as_deref())?;
    let offset: usize = match r.next_token.as_deref() {
        None | Some("") => 0,
        Some(t) => t
            .parse()
            .map_err(|_| ApiError::invalid("next_token", "is not a token this API returned"))?,
    };
    read_barrier(node, r.consistency).await?;
    let st = node.read_state();
    let fleet_id = target_fleet(&st.state, r.fleet_id.as_deref(), r.alias_id.as_deref())?;
    let fleet = st
        .state
        .fleets
        .get(&fleet_id)
        .ok_or_else(|| FsmError::not_found("fleet", fleet_id.clone()))?;
    let prefix = session::session_arn_prefix(&fleet.arn, &fleet.id);
    let mut hits: Vec<&GameSession> = st
        .state
        .sessions
        .of_fleet(&prefix)
        .filter(|g| g.status == GameSessionStatus::Active)
        .filter(|g| {
            r.location
                .as_ref()
                .is_none_or(|l| g.location.as_deref() == Some(l.as_str()))
        })
        .filter(|g| filter.as_ref().is_none_or(|f| f.matches(*g)))
        .collect();
    hits.sort_by(|a, b| {
        let primary = match &sort {
            Some(s) => s.compare(*a, *b),
            None => std::cmp::Ordering::Equal,
        };
        primary
            .then(a.creation_time_ms.cmp(&b.creation_time_ms))
            .then(a.id.cmp(&b.id))
    });
    let page: Vec<pb::GameSession> = hits
        .iter()
        .skip(offset)
        .take(limit)
        .map(|g| game_session(g))
        .collect();
    let next = offset + page.len();
    Ok(pb::SearchGameSessionsResponse {
        game_sessions: page,
        next_token: (next < hits.len()).then(|| next.to_string()),
    })
}

/// UpdateGameSession.
pub async fn update_game_session(
    node: &Node,
    r: pb::UpdateGameSessionRequest,
) -> Result<pb::UpdateGameSessionResponse, ApiError> {
    check_session_id("game_session_id", &r.game_session_id)?;
    let update = GameSessionUpdate {
        maximum_player_session_count: r.maximum_player_session_count,
        name: r.name,
        player_session_creation_policy: match r.player_session_creation_policy {
            Some(p) => creation_policy("player_session_creation_policy", p)?,
            None => None,
        },
        protection_policy: r
            .protection_policy
            .map(|p| protection_policy("protection_policy", p))
            .transpose()?,
        game_properties: game_properties(&r.game_properties),
    };
    update.validate()?;
    if update == GameSessionUpdate::default() {
        return Err(ApiError::invalid(
            "update",
            "at least one field must be set",
        ));
    }
    let cmd = Command::UpdateGameSession {
        game_session_id: r.game_session_id,
        process_id: None,
        update,
        at_ms: now_ms(),
    };
    let gs = game_session_of(node.proposer.propose(cmd).await?)?;
    Ok(pb::UpdateGameSessionResponse {
        game_session: Some(game_session(&gs)),
    })
}

/// TerminateGameSession.
pub async fn terminate_game_session(
    node: &Node,
    r: pb::TerminateGameSessionRequest,
) -> Result<pb::TerminateGameSessionResponse, ApiError> {
    check_session_id("game_session_id", &r.game_session_id)?;
    let mode = termination_mode(r.termination_mode)?;
    let cmd = Command::TerminateGameSession {
        game_session_id: r.game_session_id,
        mode,
        at_ms: now_ms(),
    };
    let gs = game_session_of(node.proposer.propose(cmd).await?)?;
    Ok(pb::TerminateGameSessionResponse {
        game_session: Some(game_session(&gs)),
    })
}

/// CreatePlayerSession(s): reserves slots for `players` (player id, player data). With an
/// idempotency token the player session ids derive from it (`psess-<token>-<n>`), so a retry
/// finds the slots it already reserved.
async fn reserve(
    node: &Node,
    game_session_id: String,
    players: Vec<(String, Option<String>)>,
    token: Option<String>,
) -> Result<Vec<PlayerSession>, ApiError> {
    check_session_id("game_session_id", &game_session_id)?;
    if let Some(t) = &token {
        validate::id_token("idempotency_token", t, 48)?;
    }
    let players: Vec<NewPlayerSession> = players
        .into_iter()
        .enumerate()
        .map(|(i, (player_id, player_data))| NewPlayerSession {
            player_session_id: match &token {
                Some(t) => format!("psess-{t}-{i}"),
                None => format!("psess-{}", uuid::Uuid::new_v4()),
            },
            player_id,
            player_data,
        })
        .collect();
    session::validate_new_players(&players)?;
    let cmd = Command::CreatePlayerSessions {
        game_session_id,
        players,
        at_ms: now_ms(),
    };
    match node.proposer.propose(cmd).await? {
        Output::PlayerSessions(p) => Ok(p),
        _ => Err(ApiError::Internal("expected player sessions".into())),
    }
}

/// CreatePlayerSession.
pub async fn create_player_session(
    node: &Node,
    r: pb::CreatePlayerSessionRequest,
) -> Result<pb::CreatePlayerSessionResponse, ApiError> {
    let mut out = reserve(
        node,
        r.game_session_id,
        vec![(r.player_id, r.player_data)],
        r.idempotency_token,
    )
    .await?;
    let ps = out
        .pop()
        .ok_or_else(|| ApiError::Internal("no player session created".into()))?;
    Ok(pb::CreatePlayerSessionResponse {
        player_session: Some(player_session(&ps)),
    })
}

/// CreatePlayerSessions.
pub async fn create_player_sessions(
    node: &Node,
    r: pb::CreatePlayerSessionsRequest,
) -> Result<pb::CreatePlayerSessionsResponse, ApiError> {
    let players = r
        .player_ids
        .into_iter()
        .map(|id| {
            let data = r.player_data_map.get(&id).cloned();
            (id, data)
        })
        .collect();
    let out = reserve(node, r.game_session_id, players, r.idempotency_token).await?;
    Ok(pb::CreatePlayerSessionsResponse {
        player_sessions: out.iter().map(player_session).collect(),
    })
}

/// DescribePlayerSessions: by player session id, game session id or player id; the next
/// token is the last player session id of the page.
pub async fn describe_player_sessions(
    node: &Node,
    r: pb::DescribePlayerSessionsRequest,
) -> Result<pb::DescribePlayerSessionsResponse, ApiError> {
    let given = [
        r.game_session_id.is_some(),
        r.player_id.is_some(),
        r.player_session_id.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if given != 1 {
        return Err(ApiError::invalid(
            "game_session_id",
            "exactly one of game_session_id, player_id and player_session_id is required",
        ));
    }
    let limit = page_limit(r.limit, MAX_PLAYER_PAGE)?;
    let status = player_session_status(
        "player_session_status_filter",
        r.player_session_status_filter.unwrap_or_default(),
    )?;
    let after = r.next_token.clone().filter(|t| !t.is_empty());
    if let Some(t) = &after {
        validate::id_token("next_token", t, 64)?;
    }
    if let Some(id) = &r.game_session_id {
        check_session_id("game_session_id", id)?;
    }
    if let Some(id) = &r.player_id {
        validate::length("player_id", id, 1, session::MAX_TEXT)?;
    }
    if let Some(id) = &r.player_session_id {
        validate::id_token("player_session_id", id, 64)?;
    }
    read_barrier(node, r.consistency).await?;
    let st = node.read_state();
    let s = &st.state.sessions;
    if let Some(id) = &r.player_session_id {
        let ps = s
            .player_sessions
            .get(id)
            .ok_or_else(|| FsmError::not_found("player session", id.clone()))?;
        return Ok(pb::DescribePlayerSessionsResponse {
            player_sessions: vec![player_session(ps)],
            next_token: None,
        });
    }
    let all: Box<dyn Iterator<Item = &PlayerSession>> = match (&r.game_session_id, &r.player_id) {
        (Some(g), _) => {
            if s.get(g).is_none() {
                return Err(FsmError::not_found("game session", g.clone()).into());
            }
            Box::new(
                s.players_of(g)
                    .filter(|p| status.is_none_or(|st| p.status == st)),
            )
        }
        // GameLift ignores the status filter when asking by player id.
        (None, Some(p)) => Box::new(s.of_player(p)),
        (None, None) => Box::new(std::iter::empty()),
    };
    let (page, next_token) = page_after(all, |p| p.id.as_str(), after.as_deref(), limit);
    Ok(pb::DescribePlayerSessionsResponse {
        player_sessions: page.into_iter().map(player_session).collect(),
        next_token,
    })
}

/// CreateAlias.
pub async fn create_alias(
    node: &Node,
    r: pb::CreateAliasRequest,
) -> Result<pb::CreateAliasResponse, ApiError> {
    let spec = AliasSpec {
        name: r.name,
        description: r.description,
        routing_strategy: routing_strategy(r.routing_strategy.as_ref())?,
        tags: tags(&r.tags),
    };
    spec.validate()?;
    let id = format!("alias-{}", uuid::Uuid::new_v4());
    let cmd = Command::CreateAlias {
        arn: format!("arn:gamefleet:{}::alias/{id}", node.region()),
        alias_id: id,
        spec,
        at_ms: now_ms(),
    };
    let a = alias_of(node.proposer.propose(cmd).await?)?;
    Ok(pb::CreateAliasResponse {
        alias: Some(alias_pb(&a)),
    })
}

/// DescribeAlias.
pub async fn describe_alias(
    node: &Node,
    r: pb::DescribeAliasRequest,
) -> Result<pb::DescribeAliasResponse, ApiError> {
    check_alias_ref("alias_id", &r.alias_id)?;
    read_barrier(node, r.consistency).await?;
    let st = node.read_state();
    let a = st
        .state
        .aliases
        .get(alias_id_of(&r.alias_id))
        .ok_or_else(|| FsmError::not_found("alias", r.alias_id.clone()))?;
    Ok(pb::DescribeAliasResponse {
        alias: Some(alias_pb(a)),
    })
}

/// ListAliases, in id order; the next token is the last alias id of the page.
pub async fn list_aliases(
    node: &Node,
    r: pb::ListAliasesRequest,
) -> Result<pb::ListAliasesResponse, ApiError> {
    let limit = page_limit(r.limit, MAX_PAGE)?;
    let kind = match r.routing_strategy_type {
        None => None,
        Some(v) => match pb::RoutingStrategyType::try_from(v) {
            Ok(pb::RoutingStrategyType::Unspecified) => None,
            Ok(k) => Some(k),
            Err(_) => {
                return Err(ApiError::invalid(
                    "routing_strategy_type",
                    format!("unknown routing strategy type {v}"),
                ));
            }
        },
    };
    validate::opt_length("name", r.name.as_deref(), 1, 1024)?;
    let after = r.next_token.clone().filter(|t| !t.is_empty());
    if let Some(t) = &after {
        check_alias_ref("next_token", t)?;
    }
    read_barrier(node, r.consistency).await?;
    let st = node.read_state();
    let matching = st.state.aliases.values().filter(|a| {
        let type_ok = matches!(
            (kind, &a.spec.routing_strategy),
            (None, _)
                | (
                    Some(pb::RoutingStrategyType::Simple),
                    RoutingStrategy::Simple { .. }
                )
                | (
                    Some(pb::RoutingStrategyType::Terminal),
                    RoutingStrategy::Terminal { .. }
                )
        );
        type_ok && r.name.as_ref().is_none_or(|n| *n == a.spec.name)
    });
    let (page, next_token) = page_after(matching, |a| a.id.as_str(), after.as_deref(), limit);
    Ok(pb::ListAliasesResponse {
        aliases: page.into_iter().map(alias_pb).collect(),
        next_token,
    })
}

/// UpdateAlias.
pub async fn update_alias(
    node: &Node,
    r: pb::UpdateAliasRequest,
) -> Result<pb::UpdateAliasResponse, ApiError> {
    check_alias_ref("alias_id", &r.alias_id)?;
    let update = AliasUpdate {
        name: r.name,
        description: r.description,
        routing_strategy: r
            .routing_strategy
            .as_ref()
            .map(|s| routing_strategy(Some(s)))
            .transpose()?,
    };
    update.validate()?;
    if update == AliasUpdate::default() {
        return Err(ApiError::invalid(
            "update",
            "at least one field must be set",
        ));
    }
    let cmd = Command::UpdateAlias {
        alias_id: alias_id_of(&r.alias_id).to_string(),
        update,
        at_ms: now_ms(),
    };
    let a = alias_of(node.proposer.propose(cmd).await?)?;
    Ok(pb::UpdateAliasResponse {
        alias: Some(alias_pb(&a)),
    })
}

/// DeleteAlias.
pub async fn delete_alias(
    node: &Node,
    r: pb::DeleteAliasRequest,
) -> Result<pb::DeleteAliasResponse, ApiError> {
    check_alias_ref("alias_id", &r.alias_id)?;
    let cmd = Command::DeleteAlias {
        alias_id: alias_id_of(&r.alias_id).to_string(),
    };
    node.proposer.propose(cmd).await?;
    Ok(pb::DeleteAliasResponse {})
}

/// ResolveAlias.
pub async fn resolve_alias(
    node: &Node,
    r: pb::ResolveAliasRequest,
) -> Result<pb::ResolveAliasResponse, ApiError> {
    check_alias_ref("alias_id", &r.alias_id)?;
    read_barrier(node, r.consistency).await?;
    let st = node.read_state();
    let fleet_id = alias::resolve(&st.state, &r.alias_id)?.to_string();
    let fleet_arn = st
        .state
        .fleets
        .get(&fleet_id)
        .map(|f| f.arn.clone())
        .unwrap_or_default();
    Ok(pb::ResolveAliasResponse {
        fleet_id,
        fleet_arn,
    })
}
