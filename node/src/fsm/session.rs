//! Game sessions and player sessions as GameLift models them (GAMELIFT.md §1.3, §1.4): the
//! records, their field rules and limits, and the apply logic of every session command.
//! Pure: no IO, no clock (times come inside commands), no randomness.
//!
//! Invariants kept here (and checked by the proptests in `fsm::tests`):
//! - a live game session (ACTIVATING, ACTIVE, TERMINATING) sits on exactly one process, and
//!   that process names it in `ProcessRecord::game_session_id`; a process hosts at most one;
//! - RESERVED plus ACTIVE player sessions of a game session never exceed its maximum (≤ 200),
//!   and `current_player_session_count` is exactly that number;
//! - when a game session ends, its open player sessions complete;
//! - a refused command changes nothing.
//!
//! The placement decision (which process) is made by the leader and travels in
//! [`Command::CreateGameSession`](super::Command::CreateGameSession); apply only checks that the
//! process is still free. Ended sessions are kept for [`RETENTION_MS`] (at most
//! [`MAX_ENDED_GAME_SESSIONS`]) so that clients can still read them and idempotent retries
//! still find them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::error::FsmError;
use super::fleet::{FleetStatus, ProtectionPolicy};
use super::hosting::ProcessStatus;
use super::validate;
use super::{Output, State};

/// Players per game session (GameLift: "200. It is not adjustable.").
pub const MAX_PLAYERS: i32 = 200;
/// Game properties per session and their key/value lengths (GameLift).
pub const MAX_GAME_PROPERTIES: usize = 16;
/// See [`MAX_GAME_PROPERTIES`].
pub const MAX_PROPERTY_KEY: usize = 32;
/// See [`MAX_GAME_PROPERTIES`].
pub const MAX_PROPERTY_VALUE: usize = 96;
/// Longest game session data.
pub const MAX_GAME_SESSION_DATA: usize = 262_144;
/// Longest player data.
pub const MAX_PLAYER_DATA: usize = 2048;
/// Player ids per CreatePlayerSessions.
pub const MAX_PLAYER_BATCH: usize = 25;
/// Longest name, creator id or player id.
pub const MAX_TEXT: usize = 1024;
/// Longest location name.
pub const MAX_LOCATION: usize = 64;
/// Default GameSessionActivationTimeoutSeconds.
pub const DEFAULT_ACTIVATION_TIMEOUT_S: i32 = 600;
/// How long ended game sessions and their player sessions are kept.
pub const RETENTION_MS: i64 = 24 * 60 * 60 * 1000;
/// Most ended game sessions kept; the oldest are forgotten first.
pub const MAX_ENDED_GAME_SESSIONS: usize = 20_000;
/// Event code of an activation timeout (GameLift).
pub const ACTIVATION_TIMEOUT_EVENT: &str = "GAME_SESSION_ACTIVATION_TIMEOUT";
/// Event code when a node's processes and sessions are lost (gamefleet).
pub const NODE_LOST_EVENT: &str = "NODE_PROCESSES_LOST";

/// GameSessionStatus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GameSessionStatus {
    Activating,
    Active,
    Terminating,
    Terminated,
    Error,
}

impl GameSessionStatus {
    /// ACTIVATING, ACTIVE or TERMINATING: the session holds its process.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Activating | Self::Active | Self::Terminating)
    }
}

/// Why a game session ended (GameLift's three reasons plus gamefleet's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusReason {
    Interrupted,
    TriggeredOnProcessTerminate,
    ForceTerminated,
    ActivationTimeout,
    ProcessCrashed,
    NodeLost,
}

/// PlayerSessionCreationPolicy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum PlayerSessionCreationPolicy {
    #[default]
    AcceptAll,
    DenyAll,
}

/// PlayerSessionStatus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PlayerSessionStatus {
    Reserved,
    Active,
    Completed,
    Timedout,
}

impl PlayerSessionStatus {
    /// RESERVED or ACTIVE: the player holds a slot.
    pub fn holds_slot(self) -> bool {
        matches!(self, Self::Reserved | Self::Active)
    }
}

/// TerminateGameSession's TerminationMode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TerminationMode {
    TriggerOnProcessTerminate,
    ForceTerminate,
}

/// A game property.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GameProperty {
    pub key: String,
    pub value: String,
}

/// What a client asked for in CreateGameSession (the fleet already resolved from an alias).
/// Kept with the session so that a retry with the same token can be compared.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GameSessionRequest {
    pub fleet_id: String,
    pub maximum_player_session_count: i32,
    pub name: Option<String>,
    pub game_properties: Vec<GameProperty>,
    pub creator_id: Option<String>,
    pub idempotency_token: Option<String>,
    pub game_session_data: Option<String>,
    pub location: Option<String>,
}

/// A game session as replicated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameSession {
    /// The ARN (GameLift's GameSessionId).
    pub id: String,
    pub fleet_id: String,
    pub fleet_arn: String,
    pub name: Option<String>,
    pub creation_time_ms: i64,
    pub termination_time_ms: Option<i64>,
    pub current_player_session_count: i32,
    pub maximum_player_session_count: i32,
    pub status: GameSessionStatus,
    pub status_reason: Option<StatusReason>,
    pub game_properties: Vec<GameProperty>,
    pub ip_address: String,
    pub dns_name: String,
    pub port: u16,
    pub player_session_creation_policy: PlayerSessionCreationPolicy,
    pub protection_policy: ProtectionPolicy,
    pub creator_id: Option<String>,
    pub game_session_data: Option<String>,
    pub location: Option<String>,
    pub compute_name: String,
    pub process_id: String,
    pub node_id: u64,
    /// The request that created it (idempotent retries compare against it).
    pub request: GameSessionRequest,
}

impl GameSession {
    /// Free player slots.
    pub fn available_slots(&self) -> i32 {
        (self.maximum_player_session_count - self.current_player_session_count).max(0)
    }
}

/// Changes of UpdateGameSession; `None` leaves a field unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GameSessionUpdate {
    pub maximum_player_session_count: Option<i32>,
    pub name: Option<String>,
    pub player_session_creation_policy: Option<PlayerSessionCreationPolicy>,
    pub protection_policy: Option<ProtectionPolicy>,
    /// Added or changed; an empty value removes the key.
    pub game_properties: Vec<GameProperty>,
}

/// A player session as replicated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlayerSession {
    /// `psess-<uuid>`.
    pub id: String,
    pub player_id: String,
    pub game_session_id: String,
    pub fleet_id: String,
    pub fleet_arn: String,
    pub creation_time_ms: i64,
    pub termination_time_ms: Option<i64>,
    pub status: PlayerSessionStatus,
    pub ip_address: String,
    pub dns_name: String,
    pub port: u16,
    pub player_data: Option<String>,
}

/// One slot asked for in CreatePlayerSessions (ids made by the proposing node).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPlayerSession {
    pub player_session_id: String,
    pub player_id: String,
    pub player_data: Option<String>,
}

/// Game and player sessions, with the indexes reads and leader loops need.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sessions {
    /// By ARN. ARNs start with the fleet's prefix, so a fleet's sessions are one range.
    pub game_sessions: BTreeMap<String, GameSession>,
    pub player_sessions: BTreeMap<String, PlayerSession>,
    /// Live game sessions (ACTIVATING, ACTIVE, TERMINATING).
    pub live: BTreeSet<String>,
    /// (termination time, id) of ended game sessions, oldest first.
    pub ended: BTreeSet<(i64, String)>,
    /// (creation time, player session id) of RESERVED player sessions.
    pub reserved: BTreeSet<(i64, String)>,
    /// (game session id, player session id).
    pub by_game_session: BTreeSet<(String, String)>,
    /// (player id, player session id).
    pub by_player: BTreeSet<(String, String)>,
    /// "fleet-id/creator-id" → creation times inside the creator's limit window.
    pub creators: BTreeMap<String, VecDeque<i64>>,
}

/// The ARN prefix shared by every game session of a fleet (`…::gamesession/<fleet-id>/`).
pub fn session_arn_prefix(fleet_arn: &str, fleet_id: &str) -> String {
    match fleet_arn.rsplit_once("::fleet/") {
        Some((head, _)) => format!("{head}::gamesession/{fleet_id}/"),
        None => format!("arn:gamefleet:local::gamesession/{fleet_id}/"),
    }
}

/// The fleet id inside a game session ARN, if it is one.
pub fn fleet_of_session_arn(arn: &str) -> Option<&str> {
    let (_, rest) = arn.split_once("::gamesession/")?;
    rest.split_once('/').map(|(fleet, _)| fleet)
}

fn property_rules(field: &str, props: &[GameProperty]) -> Result<(), FsmError> {
    validate::max_items(field, props, MAX_GAME_PROPERTIES)?;
    let mut seen = BTreeSet::new();
    for p in props {
        validate::length(&format!("{field}.key"), &p.key, 1, MAX_PROPERTY_KEY)?;
        validate::length(&format!("{field}.value"), &p.value, 0, MAX_PROPERTY_VALUE)?;
        if !seen.insert(p.key.as_str()) {
            return Err(FsmError::invalid(
                format!("{field}.key"),
                format!("duplicate key {:?}", p.key),
            ));
        }
    }
    Ok(())
}

fn max_players_rule(field: &str, n: i32) -> Result<(), FsmError> {
    if !(0..=MAX_PLAYERS).contains(&n) {
        return Err(FsmError::invalid(
            field,
            format!("must be 0 to {MAX_PLAYERS} (got {n})"),
        ));
    }
    Ok(())
}

impl GameSessionRequest {
    /// Checks every field rule of CreateGameSession (GAMELIFT.md §1.3, §1.4).
    pub fn validate(&self) -> Result<(), FsmError> {
        validate::fleet_id("fleet_id", &self.fleet_id)?;
        max_players_rule(
            "maximum_player_session_count",
            self.maximum_player_session_count,
        )?;
        validate::opt_length("name", self.name.as_deref(), 1, MAX_TEXT)?;
        property_rules("game_properties", &self.game_properties)?;
        validate::opt_length("creator_id", self.creator_id.as_deref(), 1, MAX_TEXT)?;
        if let Some(t) = &self.idempotency_token {
            validate::id_token("idempotency_token", t, 48)?;
        }
        validate::opt_length(
            "game_session_data",
            self.game_session_data.as_deref(),
            1,
            MAX_GAME_SESSION_DATA,
        )?;
        validate::opt_length("location", self.location.as_deref(), 1, MAX_LOCATION)
    }
}

impl GameSessionUpdate {
    /// Checks every field rule of UpdateGameSession.
    pub fn validate(&self) -> Result<(), FsmError> {
        if let Some(n) = self.maximum_player_session_count {
            max_players_rule("maximum_player_session_count", n)?;
        }
        validate::opt_length("name", self.name.as_deref(), 1, MAX_TEXT)?;
        property_rules("game_properties", &self.game_properties)
    }
}

/// Checks CreatePlayerSession(s) input: 1-25 distinct player ids of 1-1024 characters, player
/// data of 1-2048 characters.
pub fn validate_new_players(players: &[NewPlayerSession]) -> Result<(), FsmError> {
    if players.is_empty() {
        return Err(FsmError::invalid(
            "player_ids",
            "at least 1 entry is required",
        ));
    }
    validate::max_items("player_ids", players, MAX_PLAYER_BATCH)?;
    let mut seen = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for p in players {
        validate::length("player_id", &p.player_id, 1, MAX_TEXT)?;
        validate::opt_length("player_data", p.player_data.as_deref(), 1, MAX_PLAYER_DATA)?;
        validate::length("player_session_id", &p.player_session_id, 1, 64)?;
        if !seen.insert(p.player_id.as_str()) {
            return Err(FsmError::invalid(
                "player_ids",
                format!("player id {:?} appears twice", p.player_id),
            ));
        }
        if !ids.insert(p.player_session_id.as_str()) {
            return Err(FsmError::invalid(
                "player_session_id",
                format!("{} appears twice", p.player_session_id),
            ));
        }
    }
    Ok(())
}

fn session_status(id: &str, s: GameSessionStatus, op: &str) -> FsmError {
    FsmError::InvalidStatus {
        kind: "game session".into(),
        message: format!("cannot {op} game session {id} in status {s:?}"),
    }
}

impl Sessions {
    /// A game session by ARN.
    pub fn get(&self, id: &str) -> Option<&GameSession> {
        self.game_sessions.get(id)
    }

    /// The game sessions of one fleet, in id order.
    pub fn of_fleet<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a GameSession> + 'a {
        self.game_sessions
            .range(prefix.to_string()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(|(_, v)| v)
    }

    /// Player sessions of one game session, in id order.
    pub fn players_of<'a>(
        &'a self,
        game_session_id: &'a str,
    ) -> impl Iterator<Item = &'a PlayerSession> + 'a {
        let start = (game_session_id.to_string(), String::new());
        self.by_game_session
            .range(start..)
            .take_while(move |(g, _)| g == game_session_id)
            .filter_map(|(_, p)| self.player_sessions.get(p))
    }

    /// Player sessions of one player, in id order.
    pub fn of_player<'a>(
        &'a self,
        player_id: &'a str,
    ) -> impl Iterator<Item = &'a PlayerSession> + 'a {
        let start = (player_id.to_string(), String::new());
        self.by_player
            .range(start..)
            .take_while(move |(p, _)| p == player_id)
            .filter_map(|(_, id)| self.player_sessions.get(id))
    }

    /// Forgets ended game sessions (and their player sessions) older than the retention, or
    /// beyond the count cap.
    fn purge(&mut self, now_ms: i64) {
        let cutoff = now_ms.saturating_sub(RETENTION_MS);
        while let Some((at, id)) = self.ended.first().cloned() {
            if at >= cutoff && self.ended.len() <= MAX_ENDED_GAME_SESSIONS {
                break;
            }
            self.ended.pop_first();
            self.game_sessions.remove(&id);
            let players: Vec<String> = self
                .by_game_session
                .range((id.clone(), String::new())..)
                .take_while(|(g, _)| *g == id)
                .map(|(_, p)| p.clone())
                .collect();
            for p in players {
                self.by_game_session.remove(&(id.clone(), p.clone()));
                if let Some(ps) = self.player_sessions.remove(&p) {
                    self.by_player.remove(&(ps.player_id, p));
                }
            }
        }
    }

    /// Ends player session `id` (RESERVED or ACTIVE) with `status`; frees its slot.
    fn end_player(&mut self, id: &str, status: PlayerSessionStatus, at_ms: i64) {
        let Some(ps) = self.player_sessions.get_mut(id) else {
            return;
        };
        if !ps.status.holds_slot() {
            return;
        }
        if ps.status == PlayerSessionStatus::Reserved {
            self.reserved.remove(&(ps.creation_time_ms, id.to_string()));
        }
        ps.status = status;
        ps.termination_time_ms = Some(at_ms);
        if let Some(gs) = self.game_sessions.get_mut(&ps.game_session_id) {
            gs.current_player_session_count = (gs.current_player_session_count - 1).max(0);
        }
    }
}

/// Ends live game session `id` with `status`/`reason`: its open player sessions complete and
/// its process is free again (the process record itself is the caller's business).
pub(super) fn end_game_session(
    state: &mut State,
    id: &str,
    status: GameSessionStatus,
    reason: Option<StatusReason>,
    at_ms: i64,
) {
    let s = &mut state.sessions;
    let Some(gs) = s.game_sessions.get_mut(id) else {
        return;
    };
    if !gs.status.is_live() {
        return;
    }
    gs.status = status;
    if reason.is_some() {
        gs.status_reason = reason;
    }
    gs.termination_time_ms = Some(at_ms);
    let process_id = gs.process_id.clone();
    s.live.remove(id);
    s.ended.insert((at_ms, id.to_string()));
    let open: Vec<String> = s
        .players_of(id)
        .filter(|p| p.status.holds_slot())
        .map(|p| p.id.clone())
        .collect();
    for p in open {
        s.end_player(&p, PlayerSessionStatus::Completed, at_ms);
    }
    if let Some(p) = state.hosting.processes.get_mut(&process_id)
        && p.game_session_id.as_deref() == Some(id)
    {
        p.game_session_id = None;
    }
}

/// Ends the live game session of `process_id`, if any: TERMINATING sessions become
/// TERMINATED (their reason kept); otherwise `status`/`reason`.
pub(super) fn end_session_of_process(
    state: &mut State,
    process_id: &str,
    status: GameSessionStatus,
    reason: Option<StatusReason>,
    at_ms: i64,
) -> bool {
    let Some(id) = state
        .hosting
        .processes
        .get(process_id)
        .and_then(|p| p.game_session_id.clone())
    else {
        return false;
    };
    let terminating = state
        .sessions
        .game_sessions
        .get(&id)
        .is_some_and(|g| g.status == GameSessionStatus::Terminating);
    if terminating {
        end_game_session(state, &id, GameSessionStatus::Terminated, None, at_ms);
    } else {
        end_game_session(state, &id, status, reason, at_ms);
    }
    true
}

/// The fleet a new game session goes to: it must exist and be ACTIVE.
pub fn active_fleet<'a>(state: &'a State, fleet_id: &str) -> Result<&'a super::Fleet, FsmError> {
    let fleet = state
        .fleets
        .get(fleet_id)
        .ok_or_else(|| FsmError::not_found("fleet", fleet_id))?;
    if fleet.status != FleetStatus::Active {
        return Err(FsmError::InvalidStatus {
            kind: "fleet".into(),
            message: format!(
                "cannot create a game session on fleet {} in status {:?} (must be ACTIVE)",
                fleet.id, fleet.status
            ),
        });
    }
    Ok(fleet)
}

/// CreateGameSession on process `process_id`, chosen by the leader.
pub(super) fn create_game_session(
    state: &mut State,
    game_session_id: &str,
    process_id: &str,
    request: &GameSessionRequest,
    at_ms: i64,
) -> Result<Output, FsmError> {
    request.validate()?;
    validate::length("game_session_id", game_session_id, 1, 512)?;
    // An ended session past the retention counts as gone (the purge below removes it).
    let cutoff = at_ms.saturating_sub(RETENTION_MS);
    if let Some(existing) = state
        .sessions
        .game_sessions
        .get(game_session_id)
        .filter(|g| g.termination_time_ms.is_none_or(|t| t >= cutoff))
    {
        // A retry (same token): the original session, if the parameters match.
        if existing.request != *request {
            return Err(FsmError::IdempotentParameterMismatch {
                token: request
                    .idempotency_token
                    .clone()
                    .unwrap_or_else(|| game_session_id.to_string()),
            });
        }
        return Ok(Output::GameSession(Box::new(existing.clone())));
    }
    let fleet = active_fleet(state, &request.fleet_id)?;
    let prefix = session_arn_prefix(&fleet.arn, &fleet.id);
    if !game_session_id.starts_with(&prefix) {
        return Err(FsmError::invalid(
            "game_session_id",
            format!("must start with {prefix}"),
        ));
    }
    let creator_key = request.creator_id.as_ref().map(|c| {
        (
            format!("{}/{c}", fleet.id),
            creator_limit(fleet.spec.resource_creation_limit_policy),
        )
    });
    if let Some((key, (limit, window_ms))) = &creator_key {
        let recent = state
            .sessions
            .creators
            .get(key)
            .map(|q| {
                q.iter()
                    .filter(|t| **t > at_ms.saturating_sub(*window_ms))
                    .count()
            })
            .unwrap_or(0);
        if recent >= *limit {
            return Err(FsmError::LimitExceeded {
                message: format!(
                    "creator_id {:?} may create at most {limit} game sessions per {} s on fleet {}",
                    request.creator_id.as_deref().unwrap_or_default(),
                    window_ms / 1000,
                    fleet.id
                ),
            });
        }
    }
    let fleet_arn = fleet.arn.clone();
    let protection = fleet.spec.protection_policy;
    let process = state
        .hosting
        .processes
        .get(process_id)
        .ok_or_else(|| capacity(&request.fleet_id, format!("process {process_id} is gone")))?;
    if process.fleet_id != request.fleet_id
        || process.status != ProcessStatus::Active
        || !process.healthy
        || process.game_session_id.is_some()
    {
        return Err(capacity(
            &request.fleet_id,
            format!("process {process_id} can no longer take a game session"),
        ));
    }
    if let Some(loc) = &request.location
        && process.location.as_deref() != Some(loc.as_str())
    {
        return Err(capacity(
            &request.fleet_id,
            format!("process {process_id} is not at location {loc}"),
        ));
    }
    // Only now: a refused create must not purge anything.
    state.sessions.purge(at_ms);
    let gs = GameSession {
        id: game_session_id.to_string(),
        fleet_id: request.fleet_id.clone(),
        fleet_arn,
        name: request.name.clone(),
        creation_time_ms: at_ms,
        termination_time_ms: None,
        current_player_session_count: 0,
        maximum_player_session_count: request.maximum_player_session_count,
        status: GameSessionStatus::Activating,
        status_reason: None,
        game_properties: request.game_properties.clone(),
        ip_address: process.ip_address.clone(),
        dns_name: process.dns_name.clone(),
        port: process.sdk_port.unwrap_or(process.port),
        player_session_creation_policy: PlayerSessionCreationPolicy::AcceptAll,
        protection_policy: protection,
        creator_id: request.creator_id.clone(),
        game_session_data: request.game_session_data.clone(),
        location: process.location.clone(),
        compute_name: process.compute_name.clone(),
        process_id: process_id.to_string(),
        node_id: process.node_id,
        request: request.clone(),
    };
    if let Some((key, (_, window_ms))) = creator_key {
        let q = state.sessions.creators.entry(key).or_default();
        while q
            .front()
            .is_some_and(|t| *t <= at_ms.saturating_sub(window_ms))
        {
            q.pop_front();
        }
        q.push_back(at_ms);
    }
    // Forget creators whose windows have passed, so the map stays bounded.
    state.sessions.creators.retain(|_, q| {
        q.back()
            .is_some_and(|t| *t > at_ms.saturating_sub(MAX_WINDOW_MS))
    });
    if let Some(p) = state.hosting.processes.get_mut(process_id) {
        p.game_session_id = Some(gs.id.clone());
    }
    state.sessions.live.insert(gs.id.clone());
    state
        .sessions
        .game_sessions
        .insert(gs.id.clone(), gs.clone());
    Ok(Output::GameSession(Box::new(gs)))
}

/// The longest creator window kept (GameLift's policy period is in minutes; a day bounds it).
const MAX_WINDOW_MS: i64 = RETENTION_MS;

/// (sessions allowed, window in ms) for a creator: the fleet's policy, or GameLift's
/// default of one request per creator per second.
fn creator_limit(policy: Option<super::fleet::ResourceCreationLimitPolicy>) -> (usize, i64) {
    match policy {
        Some(p) if p.new_game_sessions_per_creator > 0 && p.policy_period_in_minutes > 0 => (
            usize::try_from(p.new_game_sessions_per_creator).unwrap_or(usize::MAX),
            (i64::from(p.policy_period_in_minutes) * 60_000).min(MAX_WINDOW_MS),
        ),
        // A policy of 0 sessions allows none in any window.
        Some(p) if p.new_game_sessions_per_creator == 0 => (0, 60_000),
        // No policy, or one with a 0-minute period: GameLift's default of one per second.
        _ => (1, 1000),
    }
}

fn capacity(fleet_id: &str, why: String) -> FsmError {
    FsmError::FleetCapacityExceeded {
        message: format!("no server process of fleet {fleet_id} is free: {why}"),
    }
}

fn live_session_mut<'a>(
    state: &'a mut State,
    id: &str,
    op: &str,
) -> Result<&'a mut GameSession, FsmError> {
    let gs = state
        .sessions
        .game_sessions
        .get_mut(id)
        .ok_or_else(|| FsmError::not_found("game session", id))?;
    if !gs.status.is_live() {
        return Err(session_status(id, gs.status, op));
    }
    Ok(gs)
}

/// The game session `id` of process `process_id`, or NotFound (a process may act only on its
/// own game session).
fn own_session<'a>(
    state: &'a mut State,
    process_id: &str,
    id: &str,
) -> Result<&'a mut GameSession, FsmError> {
    match state.sessions.game_sessions.get_mut(id) {
        Some(gs) if gs.process_id == process_id => Ok(gs),
        _ => Err(FsmError::not_found(
            "game session",
            format!("{id} (not a game session of process {process_id})"),
        )),
    }
}

/// ActivateGameSession from the hosting process: ACTIVATING → ACTIVE.
pub(super) fn activate(state: &mut State, process_id: &str, id: &str) -> Result<Output, FsmError> {
    let gs = own_session(state, process_id, id)?;
    match gs.status {
        GameSessionStatus::Activating => gs.status = GameSessionStatus::Active,
        GameSessionStatus::Active => {}
        s => return Err(session_status(id, s, "activate")),
    }
    Ok(Output::GameSession(Box::new(gs.clone())))
}

/// UpdateGameSession (from a client, or from the hosting process when `process_id` is set).
pub(super) fn update(
    state: &mut State,
    id: &str,
    process_id: Option<&str>,
    u: &GameSessionUpdate,
) -> Result<Output, FsmError> {
    u.validate()?;
    if let Some(p) = process_id {
        own_session(state, p, id)?;
    }
    let gs = live_session_mut(state, id, "update")?;
    if let Some(n) = u.maximum_player_session_count
        && n < gs.current_player_session_count
    {
        return Err(FsmError::invalid(
            "maximum_player_session_count",
            format!(
                "must be at least the current player session count ({}), got {n}",
                gs.current_player_session_count
            ),
        ));
    }
    let mut props = gs.game_properties.clone();
    for p in &u.game_properties {
        props.retain(|q| q.key != p.key);
        if !p.value.is_empty() {
            props.push(p.clone());
        }
    }
    if props.len() > MAX_GAME_PROPERTIES {
        return Err(FsmError::invalid(
            "game_properties",
            format!(
                "a game session has at most {MAX_GAME_PROPERTIES} properties (this update makes {})",
                props.len()
            ),
        ));
    }
    gs.game_properties = props;
    if let Some(n) = u.maximum_player_session_count {
        gs.maximum_player_session_count = n;
    }
    if let Some(n) = &u.name {
        gs.name = Some(n.clone());
    }
    if let Some(p) = u.player_session_creation_policy {
        gs.player_session_creation_policy = p;
    }
    if let Some(p) = u.protection_policy {
        gs.protection_policy = p;
    }
    Ok(Output::GameSession(Box::new(gs.clone())))
}

/// TerminateGameSession.
pub(super) fn terminate(
    state: &mut State,
    id: &str,
    mode: TerminationMode,
    at_ms: i64,
) -> Result<Output, FsmError> {
    let gs = state
        .sessions
        .game_sessions
        .get_mut(id)
        .ok_or_else(|| FsmError::not_found("game session", id))?;
    match (gs.status, mode) {
        (
            GameSessionStatus::Activating | GameSessionStatus::Active,
            TerminationMode::TriggerOnProcessTerminate,
        ) => {
            gs.status = GameSessionStatus::Terminating;
            gs.status_reason = Some(StatusReason::TriggeredOnProcessTerminate);
        }
        // Asking again while it terminates is not an error (a retried request).
        (GameSessionStatus::Terminating, TerminationMode::TriggerOnProcessTerminate) => {}
        (s, TerminationMode::ForceTerminate) if s.is_live() => {
            let process_id = gs.process_id.clone();
            end_game_session(
                state,
                id,
                GameSessionStatus::Terminated,
                Some(StatusReason::ForceTerminated),
                at_ms,
            );
            // The process is recycled: its node ends it.
            if let Some(p) = state.hosting.processes.get_mut(&process_id) {
                p.status = ProcessStatus::Terminating;
            }
        }
        (s, _) => return Err(session_status(id, s, "terminate")),
    }
    let gs = state.sessions.game_sessions.get(id).cloned();
    gs.map(|g| Output::GameSession(Box::new(g)))
        .ok_or_else(|| FsmError::not_found("game session", id))
}

/// The leader found `id` still ACTIVATING after the fleet's activation timeout.
pub(super) fn activation_timed_out(state: &mut State, id: &str, at_ms: i64) -> Output {
    let Some(gs) = state.sessions.game_sessions.get(id) else {
        return Output::Done;
    };
    if gs.status != GameSessionStatus::Activating {
        return Output::Done;
    }
    let (fleet_id, process_id) = (gs.fleet_id.clone(), gs.process_id.clone());
    end_game_session(
        state,
        id,
        GameSessionStatus::Terminated,
        Some(StatusReason::ActivationTimeout),
        at_ms,
    );
    if let Some(p) = state.hosting.processes.get_mut(&process_id) {
        p.status = ProcessStatus::Terminating;
    }
    state.hosting.record_event(
        &fleet_id,
        ACTIVATION_TIMEOUT_EVENT,
        &format!("game session {id} did not activate in time on process {process_id}"),
        at_ms,
    );
    Output::Done
}

/// CreatePlayerSession(s): all or none.
pub(super) fn create_players(
    state: &mut State,
    game_session_id: &str,
    players: &[NewPlayerSession],
    at_ms: i64,
) -> Result<Output, FsmError> {
    validate_new_players(players)?;
    if let Some(done) = replayed_players(state, game_session_id, players)? {
        return Ok(done);
    }
    let gs = state
        .sessions
        .game_sessions
        .get(game_session_id)
        .ok_or_else(|| FsmError::not_found("game session", game_session_id))?;
    if gs.status != GameSessionStatus::Active {
        return Err(session_status(
            game_session_id,
            gs.status,
            "reserve player slots in",
        ));
    }
    if gs.player_session_creation_policy == PlayerSessionCreationPolicy::DenyAll {
        return Err(FsmError::InvalidStatus {
            kind: "game session".into(),
            message: format!(
                "game session {game_session_id} does not accept new player sessions (policy DENY_ALL)"
            ),
        });
    }
    let n = i32::try_from(players.len()).unwrap_or(i32::MAX);
    if gs.current_player_session_count.saturating_add(n) > gs.maximum_player_session_count {
        return Err(FsmError::GameSessionFull {
            message: format!(
                "game session {game_session_id} has {} of {} player slots free; {n} asked for",
                gs.available_slots(),
                gs.maximum_player_session_count
            ),
        });
    }
    if let Some(p) = players.iter().find(|p| {
        state
            .sessions
            .player_sessions
            .contains_key(&p.player_session_id)
    }) {
        return Err(FsmError::invalid(
            "player_session_id",
            format!("{} already exists", p.player_session_id),
        ));
    }
    let gs = gs.clone();
    let mut out = Vec::with_capacity(players.len());
    for p in players {
        let ps = PlayerSession {
            id: p.player_session_id.clone(),
            player_id: p.player_id.clone(),
            game_session_id: gs.id.clone(),
            fleet_id: gs.fleet_id.clone(),
            fleet_arn: gs.fleet_arn.clone(),
            creation_time_ms: at_ms,
            termination_time_ms: None,
            status: PlayerSessionStatus::Reserved,
            ip_address: gs.ip_address.clone(),
            dns_name: gs.dns_name.clone(),
            port: gs.port,
            player_data: p.player_data.clone(),
        };
        let s = &mut state.sessions;
        s.reserved.insert((at_ms, ps.id.clone()));
        s.by_game_session.insert((gs.id.clone(), ps.id.clone()));
        s.by_player.insert((ps.player_id.clone(), ps.id.clone()));
        s.player_sessions.insert(ps.id.clone(), ps.clone());
        out.push(ps);
    }
    if let Some(g) = state.sessions.game_sessions.get_mut(&gs.id) {
        g.current_player_session_count += n;
    }
    Ok(Output::PlayerSessions(out))
}

/// A retried reservation (its ids derive from an idempotency token): when the first id
/// exists, the original player sessions if the request matches, else a mismatch.
fn replayed_players(
    state: &State,
    game_session_id: &str,
    players: &[NewPlayerSession],
) -> Result<Option<Output>, FsmError> {
    let Some(first) = players
        .first()
        .and_then(|p| state.sessions.player_sessions.get(&p.player_session_id))
    else {
        return Ok(None);
    };
    let same: Option<Vec<PlayerSession>> = players
        .iter()
        .map(|p| {
            state
                .sessions
                .player_sessions
                .get(&p.player_session_id)
                .filter(|ps| {
                    ps.game_session_id == game_session_id
                        && ps.player_id == p.player_id
                        && ps.player_data == p.player_data
                })
                .cloned()
        })
        .collect();
    match same {
        Some(v) => Ok(Some(Output::PlayerSessions(v))),
        None => Err(FsmError::IdempotentParameterMismatch {
            token: first.id.clone(),
        }),
    }
}

fn own_player<'a>(
    state: &'a State,
    process_id: &str,
    game_session_id: &str,
    player_session_id: &str,
) -> Result<&'a PlayerSession, FsmError> {
    let gs = state.sessions.game_sessions.get(game_session_id);
    if gs.is_none_or(|g| g.process_id != process_id) {
        return Err(FsmError::not_found(
            "game session",
            format!("{game_session_id} (not a game session of process {process_id})"),
        ));
    }
    match state.sessions.player_sessions.get(player_session_id) {
        Some(ps) if ps.game_session_id == game_session_id => Ok(ps),
        _ => Err(FsmError::not_found(
            "player session",
            format!("{player_session_id} (not in game session {game_session_id})"),
        )),
    }
}

/// AcceptPlayerSession from the hosting process: RESERVED → ACTIVE.
pub(super) fn accept_player(
    state: &mut State,
    process_id: &str,
    game_session_id: &str,
    player_session_id: &str,
) -> Result<Output, FsmError> {
    let ps = own_player(state, process_id, game_session_id, player_session_id)?;
    if ps.status != PlayerSessionStatus::Reserved {
        return Err(FsmError::InvalidStatus {
            kind: "player session".into(),
            message: format!(
                "player session {player_session_id} is {:?}, not RESERVED",
                ps.status
            ),
        });
    }
    let live = state
        .sessions
        .game_sessions
        .get(game_session_id)
        .is_some_and(|g| g.status == GameSessionStatus::Active);
    if !live {
        return Err(FsmError::InvalidStatus {
            kind: "game session".into(),
            message: format!("game session {game_session_id} is not ACTIVE"),
        });
    }
    let created = ps.creation_time_ms;
    let s = &mut state.sessions;
    s.reserved.remove(&(created, player_session_id.to_string()));
    let ps = s
        .player_sessions
        .get_mut(player_session_id)
        .ok_or_else(|| FsmError::not_found("player session", player_session_id))?;
    ps.status = PlayerSessionStatus::Active;
    Ok(Output::PlayerSessions(vec![ps.clone()]))
}

/// RemovePlayerSession from the hosting process: RESERVED or ACTIVE → COMPLETED.
pub(super) fn remove_player(
    state: &mut State,
    process_id: &str,
    game_session_id: &str,
    player_session_id: &str,
    at_ms: i64,
) -> Result<Output, FsmError> {
    let ps = own_player(state, process_id, game_session_id, player_session_id)?;
    if !ps.status.holds_slot() {
        return Err(FsmError::InvalidStatus {
            kind: "player session".into(),
            message: format!(
                "player session {player_session_id} is {:?}, not RESERVED or ACTIVE",
                ps.status
            ),
        });
    }
    state
        .sessions
        .end_player(player_session_id, PlayerSessionStatus::Completed, at_ms);
    let ps = state
        .sessions
        .player_sessions
        .get(player_session_id)
        .cloned();
    Ok(Output::PlayerSessions(ps.into_iter().collect()))
}

/// The leader found these reservations older than the reservation timeout: those still
/// RESERVED become TIMEDOUT and free their slots.
pub(super) fn time_out_players(state: &mut State, ids: &[String], at_ms: i64) -> Output {
    for id in ids {
        let reserved = state
            .sessions
            .player_sessions
            .get(id)
            .is_some_and(|p| p.status == PlayerSessionStatus::Reserved);
        if reserved {
            state
                .sessions
                .end_player(id, PlayerSessionStatus::Timedout, at_ms);
        }
    }
    Output::Done
}
