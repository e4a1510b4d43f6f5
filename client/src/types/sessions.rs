//! Domain types of game sessions and player sessions (GameLift §1.3):
//! [`GameSession`], [`PlayerSession`], their status enums, and the inputs of
//! the session operations, with the choice of fleet, alias, game session or
//! player made by an enum rather than by several optional ids.
//!
//! Every enum spells itself with GameLift's upper-case names (`as_str`,
//! serde) and parses them back case-insensitively (`FromStr`). Like the rest
//! of `types`, nothing here knows protobuf or checks what the server checks.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{ProtectionPolicy, parse_name};
use crate::error::ClientError;

/// A game property, as GameLift's `GameProperty` (`{"Key", "Value"}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GameProperty {
    /// Key, 1-32 characters (keys with `.` are not searchable).
    pub key: String,
    /// Value, at most 96 characters.
    pub value: String,
}

impl GameProperty {
    /// A property with the given key and value.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> GameProperty {
        GameProperty {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// A game session, as GameLift's `GameSession` (plus gamefleet's hosting
/// process and node).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GameSession {
    /// The game session id, an ARN
    /// (`arn:gamefleet:gamelift:<location>::gamesession/<fleet-id>/<id>`).
    pub game_session_id: String,
    /// The name, if one was given.
    pub name: Option<String>,
    /// The fleet hosting it.
    pub fleet_id: String,
    /// That fleet's ARN.
    pub fleet_arn: String,
    /// Creation time, Unix epoch milliseconds.
    pub creation_time: i64,
    /// Termination time, Unix epoch milliseconds; `None` while live.
    pub termination_time: Option<i64>,
    /// Player sessions RESERVED or ACTIVE.
    pub current_player_session_count: i32,
    /// Most player sessions at once.
    pub maximum_player_session_count: i32,
    /// The status.
    pub status: GameSessionStatus,
    /// Why it ended (or failed); `None` while live or when it ended normally.
    pub status_reason: Option<GameSessionStatusReason>,
    /// Game properties.
    pub game_properties: Vec<GameProperty>,
    /// The IP address players connect to.
    pub ip_address: String,
    /// The DNS name players connect to, if any.
    pub dns_name: Option<String>,
    /// The port players connect to.
    pub port: u32,
    /// Whether new player sessions are accepted.
    pub player_session_creation_policy: PlayerSessionCreationPolicy,
    /// Who created it, if the creator gave an id.
    pub creator_id: Option<String>,
    /// Data handed to the game server, if any.
    pub game_session_data: Option<String>,
    /// Matchmaker data (JSON), if the session came from matchmaking.
    pub matchmaker_data: Option<String>,
    /// The location (the hosting node's `location` label), if any.
    pub location: Option<String>,
    /// The hosting node's compute name, if known.
    pub compute_name: Option<String>,
    /// gamefleet: the hosting server process.
    pub process_id: String,
    /// gamefleet: the hosting node.
    pub node_id: u64,
}

/// A game session and its protection policy, as GameLift's
/// `GameSessionDetail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GameSessionDetail {
    /// The session.
    pub game_session: GameSession,
    /// Whether it is protected from scale-down.
    pub protection_policy: ProtectionPolicy,
}

/// A player session, as GameLift's `PlayerSession`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PlayerSession {
    /// The player session id (`psess-…`).
    pub player_session_id: String,
    /// The player.
    pub player_id: String,
    /// The game session (ARN).
    pub game_session_id: String,
    /// The fleet hosting the game session.
    pub fleet_id: String,
    /// That fleet's ARN.
    pub fleet_arn: String,
    /// Creation time, Unix epoch milliseconds.
    pub creation_time: i64,
    /// Termination time, Unix epoch milliseconds; `None` while RESERVED or
    /// ACTIVE.
    pub termination_time: Option<i64>,
    /// The status.
    pub status: PlayerSessionStatus,
    /// The game session's IP address.
    pub ip_address: String,
    /// The game session's DNS name, if any.
    pub dns_name: Option<String>,
    /// The game session's port.
    pub port: u32,
    /// Data for the game server about this player, if any.
    pub player_data: Option<String>,
}

/// Where a game session is created or searched: a fleet or an alias (id or
/// ARN each), GameLift's `FleetId` | `AliasId`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FleetOrAlias {
    /// A fleet id or ARN.
    Fleet(String),
    /// An alias id or ARN (resolved by the server).
    Alias(String),
}

impl FleetOrAlias {
    /// The fleet `id`.
    pub fn fleet(id: impl Into<String>) -> FleetOrAlias {
        FleetOrAlias::Fleet(id.into())
    }

    /// The alias `id`.
    pub fn alias(id: impl Into<String>) -> FleetOrAlias {
        FleetOrAlias::Alias(id.into())
    }
}

/// Which game sessions a describe returns: one session, or those of a fleet
/// or an alias.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GameSessionSelector {
    /// The one game session with this id (ARN).
    GameSession(String),
    /// The sessions of this fleet (id or ARN).
    Fleet(String),
    /// The sessions of the fleet this alias (id or ARN) routes to.
    Alias(String),
}

impl From<FleetOrAlias> for GameSessionSelector {
    fn from(t: FleetOrAlias) -> GameSessionSelector {
        match t {
            FleetOrAlias::Fleet(id) => GameSessionSelector::Fleet(id),
            FleetOrAlias::Alias(id) => GameSessionSelector::Alias(id),
        }
    }
}

/// Which player sessions a describe returns.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PlayerSessionSelector {
    /// The one player session with this id.
    PlayerSession(String),
    /// The player sessions of this game session.
    GameSession(String),
    /// The player sessions of this player.
    Player(String),
}

/// Input of [`crate::Client::create_game_session`]; build it with
/// [`CreateGameSessionInput::new`] and set the optional fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateGameSessionInput {
    /// The fleet (or alias) to place the session on; the fleet must be ACTIVE.
    pub target: FleetOrAlias,
    /// Most player sessions at once, 0-200.
    pub maximum_player_session_count: i32,
    /// Name, 1-1024 characters.
    pub name: Option<String>,
    /// Game properties (at most 16; keys 1-32, values at most 96 characters).
    pub game_properties: Vec<GameProperty>,
    /// Creator id, 1-1024 characters; required when the fleet has a resource
    /// creation limit policy.
    pub creator_id: Option<String>,
    /// Deprecated in GameLift: 1-48 of `[a-zA-Z0-9-]`, the end of the new
    /// session's id.
    pub game_session_id: Option<String>,
    /// Idempotency token (1-48 characters of `[a-zA-Z0-9-]`). When `None` the
    /// client generates a UUID v4 and sends it on every retry of this call,
    /// so a retried create returns the original session.
    pub idempotency_token: Option<String>,
    /// Data handed to the game server, 1-262144 characters.
    pub game_session_data: Option<String>,
    /// Only processes on nodes with this `location` label.
    pub location: Option<String>,
}

impl CreateGameSessionInput {
    /// A session for `maximum_player_session_count` players on `target`,
    /// every optional field unset.
    pub fn new(target: FleetOrAlias, maximum_player_session_count: i32) -> CreateGameSessionInput {
        CreateGameSessionInput {
            target,
            maximum_player_session_count,
            name: None,
            game_properties: Vec::new(),
            creator_id: None,
            game_session_id: None,
            idempotency_token: None,
            game_session_data: None,
            location: None,
        }
    }
}

/// What [`crate::Client::describe_game_sessions`] (and its page and details
/// variants) returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeGameSessionsInput {
    /// One session, or those of a fleet or alias.
    pub selector: GameSessionSelector,
    /// Only sessions at this location.
    pub location: Option<String>,
    /// Only sessions in this status.
    pub status_filter: Option<GameSessionStatus>,
}

impl DescribeGameSessionsInput {
    /// Every session `selector` names, unfiltered.
    pub fn new(selector: impl Into<GameSessionSelector>) -> DescribeGameSessionsInput {
        DescribeGameSessionsInput {
            selector: selector.into(),
            location: None,
            status_filter: None,
        }
    }
}

/// Input of [`crate::Client::search_game_sessions`]: ACTIVE sessions of one
/// fleet matching a GameLift filter expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchGameSessionsInput {
    /// The fleet (or alias) whose sessions are searched.
    pub target: FleetOrAlias,
    /// Only sessions at this location.
    pub location: Option<String>,
    /// GameLift filter, e.g. `maximumSessions>=10 AND hasAvailablePlayerSessions=true`.
    pub filter_expression: Option<String>,
    /// `<operand> ASC|DESC`; `None`: oldest first.
    pub sort_expression: Option<String>,
    /// Page size, 1-20 (the server gives at most 20).
    pub limit: Option<i32>,
    /// Where to start: a `next_token` from an earlier page.
    pub next_token: Option<String>,
}

impl SearchGameSessionsInput {
    /// Every ACTIVE session of `target`, from the first page.
    pub fn new(target: FleetOrAlias) -> SearchGameSessionsInput {
        SearchGameSessionsInput {
            target,
            location: None,
            filter_expression: None,
            sort_expression: None,
            limit: None,
            next_token: None,
        }
    }
}

/// Input of [`crate::Client::update_game_session`]; `None` fields are left
/// unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateGameSessionInput {
    /// The game session (ARN).
    pub game_session_id: String,
    /// New most player sessions, 0-200, not below the current count.
    pub maximum_player_session_count: Option<i32>,
    /// New name.
    pub name: Option<String>,
    /// Accept or refuse new player sessions.
    pub player_session_creation_policy: Option<PlayerSessionCreationPolicy>,
    /// Protect the session from scale-down, or not.
    pub protection_policy: Option<ProtectionPolicy>,
    /// Properties added or changed; an empty value removes the key.
    pub game_properties: Vec<GameProperty>,
}

/// What [`crate::Client::describe_player_sessions`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribePlayerSessionsInput {
    /// One player session, or those of a game session or player.
    pub selector: PlayerSessionSelector,
    /// Only player sessions in this status (the server ignores it for a
    /// player session id or a player id).
    pub status_filter: Option<PlayerSessionStatus>,
}

impl DescribePlayerSessionsInput {
    /// Every player session `selector` names, unfiltered.
    pub fn new(selector: PlayerSessionSelector) -> DescribePlayerSessionsInput {
        DescribePlayerSessionsInput {
            selector,
            status_filter: None,
        }
    }
}

/// A game session's status; serialized as GameLift's `"ACTIVE"`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GameSessionStatus {
    /// `ACTIVE`: the game server accepted it; players may join.
    Active,
    /// `ACTIVATING`: placed, waiting for the game server to activate it.
    Activating,
    /// `TERMINATED`: ended.
    Terminated,
    /// `TERMINATING`: ending.
    Terminating,
    /// `ERROR`: its process or node failed.
    Error,
    /// `UNKNOWN`: the server sent no status, or one this client does not know.
    Unknown,
}

impl GameSessionStatus {
    /// Every status GameLift names (not `Unknown`).
    pub const ALL: [GameSessionStatus; 5] = [
        GameSessionStatus::Active,
        GameSessionStatus::Activating,
        GameSessionStatus::Terminated,
        GameSessionStatus::Terminating,
        GameSessionStatus::Error,
    ];

    /// The GameLift name, e.g. `"ACTIVE"`.
    pub fn as_str(self) -> &'static str {
        match self {
            GameSessionStatus::Active => "ACTIVE",
            GameSessionStatus::Activating => "ACTIVATING",
            GameSessionStatus::Terminated => "TERMINATED",
            GameSessionStatus::Terminating => "TERMINATING",
            GameSessionStatus::Error => "ERROR",
            GameSessionStatus::Unknown => "UNKNOWN",
        }
    }

    /// Whether the session has ended or is ending, so it will never become
    /// ACTIVE (again).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            GameSessionStatus::Terminated
                | GameSessionStatus::Terminating
                | GameSessionStatus::Error
        )
    }
}

impl FromStr for GameSessionStatus {
    type Err = ClientError;

    /// A GameLift name (`ACTIVE`, `activating`, ...), in any case.
    fn from_str(s: &str) -> Result<GameSessionStatus, ClientError> {
        parse_name("game session status", s, &Self::ALL, Self::as_str)
    }
}

/// Why a game session ended: GameLift's three reasons plus gamefleet's own;
/// serialized as `"INTERRUPTED"`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GameSessionStatusReason {
    /// `INTERRUPTED`: its host was reclaimed.
    Interrupted,
    /// `TRIGGERED_ON_PROCESS_TERMINATE`: ended by TerminateGameSession with
    /// `TRIGGER_ON_PROCESS_TERMINATE`.
    TriggeredOnProcessTerminate,
    /// `FORCE_TERMINATED`: ended by TerminateGameSession with
    /// `FORCE_TERMINATE`.
    ForceTerminated,
    /// `ACTIVATION_TIMEOUT` (gamefleet): not ACTIVE within the fleet's
    /// activation timeout.
    ActivationTimeout,
    /// `PROCESS_CRASHED` (gamefleet): its process exited without
    /// ProcessEnding, or was killed as unhealthy.
    ProcessCrashed,
    /// `NODE_LOST` (gamefleet): its node stopped answering, or restarted.
    NodeLost,
    /// `UNKNOWN`: a reason this client does not know.
    Unknown,
}

impl GameSessionStatusReason {
    /// Every reason with a name (not `Unknown`).
    pub const ALL: [GameSessionStatusReason; 6] = [
        GameSessionStatusReason::Interrupted,
        GameSessionStatusReason::TriggeredOnProcessTerminate,
        GameSessionStatusReason::ForceTerminated,
        GameSessionStatusReason::ActivationTimeout,
        GameSessionStatusReason::ProcessCrashed,
        GameSessionStatusReason::NodeLost,
    ];

    /// The name, e.g. `"FORCE_TERMINATED"`.
    pub fn as_str(self) -> &'static str {
        match self {
            GameSessionStatusReason::Interrupted => "INTERRUPTED",
            GameSessionStatusReason::TriggeredOnProcessTerminate => {
                "TRIGGERED_ON_PROCESS_TERMINATE"
            }
            GameSessionStatusReason::ForceTerminated => "FORCE_TERMINATED",
            GameSessionStatusReason::ActivationTimeout => "ACTIVATION_TIMEOUT",
            GameSessionStatusReason::ProcessCrashed => "PROCESS_CRASHED",
            GameSessionStatusReason::NodeLost => "NODE_LOST",
            GameSessionStatusReason::Unknown => "UNKNOWN",
        }
    }
}

impl FromStr for GameSessionStatusReason {
    type Err = ClientError;

    /// A reason's name, in any case.
    fn from_str(s: &str) -> Result<GameSessionStatusReason, ClientError> {
        parse_name("game session status reason", s, &Self::ALL, Self::as_str)
    }
}

/// Whether a game session accepts new player sessions; serialized as
/// `"ACCEPT_ALL"` / `"DENY_ALL"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlayerSessionCreationPolicy {
    /// `ACCEPT_ALL` (the default).
    #[default]
    AcceptAll,
    /// `DENY_ALL`.
    DenyAll,
}

impl PlayerSessionCreationPolicy {
    /// Both policies.
    pub const ALL: [PlayerSessionCreationPolicy; 2] = [
        PlayerSessionCreationPolicy::AcceptAll,
        PlayerSessionCreationPolicy::DenyAll,
    ];

    /// The GameLift name, `"ACCEPT_ALL"` or `"DENY_ALL"`.
    pub fn as_str(self) -> &'static str {
        match self {
            PlayerSessionCreationPolicy::AcceptAll => "ACCEPT_ALL",
            PlayerSessionCreationPolicy::DenyAll => "DENY_ALL",
        }
    }
}

impl FromStr for PlayerSessionCreationPolicy {
    type Err = ClientError;

    /// `ACCEPT_ALL` or `DENY_ALL`, in any case (`accept-all` too).
    fn from_str(s: &str) -> Result<PlayerSessionCreationPolicy, ClientError> {
        parse_name(
            "player session creation policy",
            s,
            &Self::ALL,
            Self::as_str,
        )
    }
}

/// A player session's status; serialized as GameLift's `"RESERVED"`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlayerSessionStatus {
    /// `RESERVED`: the slot is held; the game server has not accepted the
    /// player yet.
    Reserved,
    /// `ACTIVE`: accepted by the game server.
    Active,
    /// `COMPLETED`: the player left, or the game session ended.
    Completed,
    /// `TIMEDOUT`: not accepted in time; the slot is free again.
    Timedout,
    /// `UNKNOWN`: the server sent no status, or one this client does not know.
    Unknown,
}

impl PlayerSessionStatus {
    /// Every status GameLift names (not `Unknown`).
    pub const ALL: [PlayerSessionStatus; 4] = [
        PlayerSessionStatus::Reserved,
        PlayerSessionStatus::Active,
        PlayerSessionStatus::Completed,
        PlayerSessionStatus::Timedout,
    ];

    /// The GameLift name, e.g. `"RESERVED"`.
    pub fn as_str(self) -> &'static str {
        match self {
            PlayerSessionStatus::Reserved => "RESERVED",
            PlayerSessionStatus::Active => "ACTIVE",
            PlayerSessionStatus::Completed => "COMPLETED",
            PlayerSessionStatus::Timedout => "TIMEDOUT",
            PlayerSessionStatus::Unknown => "UNKNOWN",
        }
    }
}

impl FromStr for PlayerSessionStatus {
    type Err = ClientError;

    /// A GameLift name (`RESERVED`, `timedout`, ...), in any case.
    fn from_str(s: &str) -> Result<PlayerSessionStatus, ClientError> {
        parse_name("player session status", s, &Self::ALL, Self::as_str)
    }
}

/// How TerminateGameSession ends a session; serialized as GameLift's
/// `"TRIGGER_ON_PROCESS_TERMINATE"` / `"FORCE_TERMINATE"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TerminationMode {
    /// Ask the game server to end (OnProcessTerminate): TERMINATING, then
    /// TERMINATED once it calls ProcessEnding.
    #[default]
    TriggerOnProcessTerminate,
    /// End the session now and kill its process.
    ForceTerminate,
}

impl TerminationMode {
    /// Both modes.
    pub const ALL: [TerminationMode; 2] = [
        TerminationMode::TriggerOnProcessTerminate,
        TerminationMode::ForceTerminate,
    ];

    /// The GameLift name.
    pub fn as_str(self) -> &'static str {
        match self {
            TerminationMode::TriggerOnProcessTerminate => "TRIGGER_ON_PROCESS_TERMINATE",
            TerminationMode::ForceTerminate => "FORCE_TERMINATE",
        }
    }
}

impl FromStr for TerminationMode {
    type Err = ClientError;

    /// `TRIGGER_ON_PROCESS_TERMINATE` or `FORCE_TERMINATE`, in any case.
    fn from_str(s: &str) -> Result<TerminationMode, ClientError> {
        parse_name("termination mode", s, &Self::ALL, Self::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::types::PlacementStrategy;

    /// Checks that every value of `all` is spelled `names[i]` by `as_str`
    /// and serde, and parses back from that name in lower, upper and mixed
    /// case.
    fn check_names<T>(all: &[T], names: &[&str], as_str: fn(T) -> &'static str)
    where
        T: Copy + PartialEq + std::fmt::Debug + FromStr<Err = ClientError> + Serialize,
    {
        assert_eq!(all.len(), names.len());
        for (v, name) in all.iter().copied().zip(names) {
            assert_eq!(as_str(v), *name);
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(name));
            assert_eq!(name.parse::<T>().unwrap(), v, "{name}");
            assert_eq!(name.to_lowercase().parse::<T>().unwrap(), v, "{name}");
            let mixed: String = name
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 2 == 0 {
                        c.to_ascii_lowercase()
                    } else {
                        c
                    }
                })
                .collect();
            assert_eq!(mixed.parse::<T>().unwrap(), v, "{mixed}");
        }
    }

    #[test]
    fn enums_use_gamelift_names_both_ways() {
        check_names(
            &GameSessionStatus::ALL,
            &["ACTIVE", "ACTIVATING", "TERMINATED", "TERMINATING", "ERROR"],
            GameSessionStatus::as_str,
        );
        check_names(
            &GameSessionStatusReason::ALL,
            &[
                "INTERRUPTED",
                "TRIGGERED_ON_PROCESS_TERMINATE",
                "FORCE_TERMINATED",
                "ACTIVATION_TIMEOUT",
                "PROCESS_CRASHED",
                "NODE_LOST",
            ],
            GameSessionStatusReason::as_str,
        );
        check_names(
            &PlayerSessionCreationPolicy::ALL,
            &["ACCEPT_ALL", "DENY_ALL"],
            PlayerSessionCreationPolicy::as_str,
        );
        check_names(
            &PlayerSessionStatus::ALL,
            &["RESERVED", "ACTIVE", "COMPLETED", "TIMEDOUT"],
            PlayerSessionStatus::as_str,
        );
        check_names(
            &TerminationMode::ALL,
            &["TRIGGER_ON_PROCESS_TERMINATE", "FORCE_TERMINATE"],
            TerminationMode::as_str,
        );
        check_names(
            &crate::types::RoutingStrategyType::ALL,
            &["SIMPLE", "TERMINAL"],
            crate::types::RoutingStrategyType::as_str,
        );
        check_names(
            &PlacementStrategy::ALL,
            &["PACK", "SPREAD"],
            PlacementStrategy::as_str,
        );
    }

    #[test]
    fn dashes_read_as_underscores_and_unknown_names_fail() {
        assert_eq!(
            "deny-all".parse::<PlayerSessionCreationPolicy>().unwrap(),
            PlayerSessionCreationPolicy::DenyAll
        );
        assert_eq!(
            " force-terminate ".parse::<TerminationMode>().unwrap(),
            TerminationMode::ForceTerminate
        );
        let err = "PAUSED".parse::<GameSessionStatus>().unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidRequest);
        assert_eq!(
            err.message,
            "game session status \"PAUSED\": expected one of ACTIVE, ACTIVATING, TERMINATED, TERMINATING, ERROR"
        );
        // UNKNOWN is what the client makes of a value it cannot read, not a
        // value to ask for.
        assert!("UNKNOWN".parse::<GameSessionStatus>().is_err());
        assert!("unknown".parse::<PlayerSessionStatus>().is_err());
        assert!("".parse::<PlacementStrategy>().is_err());
        assert!("packed".parse::<PlacementStrategy>().is_err());
    }

    #[test]
    fn final_statuses_never_become_active() {
        let finals: Vec<GameSessionStatus> = GameSessionStatus::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(
            finals,
            [
                GameSessionStatus::Terminated,
                GameSessionStatus::Terminating,
                GameSessionStatus::Error
            ]
        );
        assert!(!GameSessionStatus::Unknown.is_final());
    }

    #[test]
    fn constructors_leave_optional_fields_unset() {
        let c = CreateGameSessionInput::new(FleetOrAlias::fleet("fleet-1"), 8);
        assert_eq!(c.target, FleetOrAlias::Fleet("fleet-1".into()));
        assert_eq!(c.maximum_player_session_count, 8);
        assert!(c.name.is_none() && c.idempotency_token.is_none());
        assert!(c.game_properties.is_empty() && c.location.is_none());

        let d = DescribeGameSessionsInput::new(FleetOrAlias::alias("alias-1"));
        assert_eq!(d.selector, GameSessionSelector::Alias("alias-1".into()));
        assert!(d.location.is_none() && d.status_filter.is_none());

        let s = SearchGameSessionsInput::new(FleetOrAlias::fleet("f"));
        assert!(s.filter_expression.is_none() && s.next_token.is_none() && s.limit.is_none());
    }
}
