//! Data objects carried inside SDK 5 messages: game sessions, player sessions, backfill players
//! and the enums they use.
//!
//! These are both wire types and the types game servers see in callbacks (as in the official
//! SDKs, where `model.GameSession` is shared by both). Field names follow GO `model/*.go` and
//! CPP `internal/model/WebSocket*.h`. Parsing is lenient the way the official SDKs are: absent or
//! `null` scalar fields take their default, and unknown enum strings map to a `NotSet`/`Unknown`
//! variant instead of failing the whole frame.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::serde_util::nullable;

/// A game session as pushed in `UpdateGameSession` and handed to `on_start_game_session`.
///
/// Wire names: GO `model/game_session.go`. `CreateGameSession` pushes the same data flat (see
/// [`CreateGameSessionMessage`](super::CreateGameSessionMessage)); the SDK converts it into this
/// type and fills [`fleet_id`](Self::fleet_id) from its own parameters, as both official SDKs do.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GameSession {
    /// `GameSessionId`: the game session ARN or id.
    #[serde(rename = "GameSessionId", default, deserialize_with = "nullable")]
    pub game_session_id: String,
    /// `GameSessionData`: opaque data the client supplied at creation.
    #[serde(rename = "GameSessionData", default, deserialize_with = "nullable")]
    pub game_session_data: String,
    /// `Name`: the game session name.
    #[serde(rename = "Name", default, deserialize_with = "nullable")]
    pub name: String,
    /// `MatchmakerData`: FlexMatch match data (a JSON document in a string), or empty.
    #[serde(rename = "MatchmakerData", default, deserialize_with = "nullable")]
    pub matchmaker_data: String,
    /// `FleetId`: the fleet the session runs on.
    #[serde(rename = "FleetId", default, deserialize_with = "nullable")]
    pub fleet_id: String,
    /// `Location`: the (custom) location of the session.
    #[serde(rename = "Location", default, deserialize_with = "nullable")]
    pub location: String,
    /// `MaximumPlayerSessionCount`: player slots of the session.
    #[serde(
        rename = "MaximumPlayerSessionCount",
        default,
        deserialize_with = "nullable"
    )]
    pub maximum_player_session_count: u32,
    /// `IpAddress`: the address players connect to.
    #[serde(rename = "IpAddress", default, deserialize_with = "nullable")]
    pub ip_address: String,
    /// `Port`: the port players connect to (the one given to `ProcessReady`).
    #[serde(rename = "Port", default, deserialize_with = "nullable")]
    pub port: u16,
    /// `DnsName`: the DNS name players connect to, if any.
    #[serde(rename = "DnsName", default, deserialize_with = "nullable")]
    pub dns_name: String,
    /// `GameProperties`: key/value properties. On the SDK socket this is a JSON **object**, not
    /// the management API's list of `{Key, Value}`.
    #[serde(rename = "GameProperties", default, deserialize_with = "nullable")]
    pub game_properties: BTreeMap<String, String>,
    /// `Status`: the session status, when the service includes it.
    #[serde(rename = "Status", default, skip_serializing_if = "Option::is_none")]
    pub status: Option<GameSessionStatus>,
    /// `StatusReason`: why the session has its status, or empty.
    #[serde(rename = "StatusReason", default, deserialize_with = "nullable")]
    pub status_reason: String,
}

/// A player session as returned by `DescribePlayerSessions` (GO `model/player.go`
/// `PlayerSession`; CPP `WebSocketPlayerSession.h`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlayerSession {
    /// `PlayerId`: the player the slot belongs to.
    #[serde(rename = "PlayerId", default, deserialize_with = "nullable")]
    pub player_id: String,
    /// `PlayerSessionId`: the player session id (`psess-…`).
    #[serde(rename = "PlayerSessionId", default, deserialize_with = "nullable")]
    pub player_session_id: String,
    /// `GameSessionId`: the game session the slot is in.
    #[serde(rename = "GameSessionId", default, deserialize_with = "nullable")]
    pub game_session_id: String,
    /// `FleetId`: the fleet of the game session.
    #[serde(rename = "FleetId", default, deserialize_with = "nullable")]
    pub fleet_id: String,
    /// `PlayerData`: opaque data the client supplied for this player.
    #[serde(rename = "PlayerData", default, deserialize_with = "nullable")]
    pub player_data: String,
    /// `IpAddress`: the game server address.
    #[serde(rename = "IpAddress", default, deserialize_with = "nullable")]
    pub ip_address: String,
    /// `Port`: the game server port.
    #[serde(rename = "Port", default, deserialize_with = "nullable")]
    pub port: u16,
    /// `CreationTime`: epoch milliseconds.
    #[serde(rename = "CreationTime", default, deserialize_with = "nullable")]
    pub creation_time: i64,
    /// `TerminationTime`: epoch milliseconds, 0 while the session is open.
    #[serde(rename = "TerminationTime", default, deserialize_with = "nullable")]
    pub termination_time: i64,
    /// `DnsName`: the game server DNS name, if any.
    #[serde(rename = "DnsName", default, deserialize_with = "nullable")]
    pub dns_name: String,
    /// `Status`: RESERVED, ACTIVE, COMPLETED or TIMEDOUT.
    #[serde(rename = "Status", default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PlayerSessionStatus>,
}

/// A player in a `StartMatchBackfill` request (GO `model/player.go` `Player`; CPP
/// `WebSocketPlayer.h`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Player {
    /// `PlayerId`: the player.
    #[serde(rename = "PlayerId", default, deserialize_with = "nullable")]
    pub player_id: String,
    /// `Team`: the team the player is on.
    #[serde(rename = "Team", default, deserialize_with = "nullable")]
    pub team: String,
    /// `PlayerAttributes`: matchmaking attributes by name.
    #[serde(rename = "PlayerAttributes", default, deserialize_with = "nullable")]
    pub player_attributes: BTreeMap<String, AttributeValue>,
    /// `LatencyInMs`: latency to each region/location, in milliseconds.
    #[serde(rename = "LatencyInMs", default, deserialize_with = "nullable")]
    pub latency_in_ms: BTreeMap<String, i32>,
}

/// A matchmaking attribute value. On the wire: `{"AttrType": "STRING", "S": "…"}`,
/// `{"AttrType": "DOUBLE", "N": 1.5}`, `{"AttrType": "STRING_LIST", "SL": […]}`,
/// `{"AttrType": "STRING_DOUBLE_MAP", "SDM": {…}}` or `{"AttrType": "NONE"}`
/// (GO `model/attribute_value.go`; CPP `WebSocketAttributeValue.h`).
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    /// `NONE`: no value. Unknown `AttrType` strings also parse to this, as in GO.
    None,
    /// `STRING` with `S`.
    String(String),
    /// `DOUBLE` with `N`.
    Double(f64),
    /// `STRING_LIST` with `SL`.
    StringList(Vec<String>),
    /// `STRING_DOUBLE_MAP` with `SDM`.
    StringDoubleMap(BTreeMap<String, f64>),
}

#[derive(Serialize, Deserialize)]
struct AttributeValueWire {
    #[serde(rename = "AttrType")]
    attr_type: String,
    #[serde(rename = "S", default, skip_serializing_if = "Option::is_none")]
    s: Option<String>,
    #[serde(rename = "N", default, skip_serializing_if = "Option::is_none")]
    n: Option<f64>,
    #[serde(rename = "SL", default, skip_serializing_if = "Option::is_none")]
    sl: Option<Vec<String>>,
    #[serde(rename = "SDM", default, skip_serializing_if = "Option::is_none")]
    sdm: Option<BTreeMap<String, f64>>,
}

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut wire = AttributeValueWire {
            attr_type: String::new(),
            s: None,
            n: None,
            sl: None,
            sdm: None,
        };
        match self {
            AttributeValue::None => wire.attr_type = "NONE".into(),
            AttributeValue::String(s) => {
                wire.attr_type = "STRING".into();
                wire.s = Some(s.clone());
            }
            AttributeValue::Double(n) => {
                wire.attr_type = "DOUBLE".into();
                wire.n = Some(*n);
            }
            AttributeValue::StringList(sl) => {
                wire.attr_type = "STRING_LIST".into();
                wire.sl = Some(sl.clone());
            }
            AttributeValue::StringDoubleMap(sdm) => {
                wire.attr_type = "STRING_DOUBLE_MAP".into();
                wire.sdm = Some(sdm.clone());
            }
        }
        wire.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = AttributeValueWire::deserialize(deserializer)?;
        // NB: GO compares AttrType case-insensitively and maps unknown names to NONE.
        Ok(match wire.attr_type.to_ascii_uppercase().as_str() {
            "STRING" => AttributeValue::String(wire.s.unwrap_or_default()),
            "DOUBLE" => AttributeValue::Double(wire.n.unwrap_or_default()),
            "STRING_LIST" => AttributeValue::StringList(wire.sl.unwrap_or_default()),
            "STRING_DOUBLE_MAP" => AttributeValue::StringDoubleMap(wire.sdm.unwrap_or_default()),
            _ => AttributeValue::None,
        })
    }
}

/// Whether a game session accepts new player sessions (`PlayerSessionPolicy` in
/// `UpdatePlayerSessionCreationPolicy`; GO `model/player_session_creation_policy.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PlayerSessionCreationPolicy {
    /// `ACCEPT_ALL`: new player sessions may be created.
    #[serde(rename = "ACCEPT_ALL")]
    AcceptAll,
    /// `DENY_ALL`: no new player sessions.
    #[serde(rename = "DENY_ALL")]
    DenyAll,
    /// `NOT_SET`, and any unknown string. The SDK never sends it; a service should reject it.
    #[serde(rename = "NOT_SET", other)]
    NotSet,
}

impl PlayerSessionCreationPolicy {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AcceptAll => "ACCEPT_ALL",
            Self::DenyAll => "DENY_ALL",
            Self::NotSet => "NOT_SET",
        }
    }
}

impl fmt::Display for PlayerSessionCreationPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Player session status (GO `model/player_session_status.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PlayerSessionStatus {
    /// `RESERVED`: slot reserved, player not yet accepted by the server.
    #[serde(rename = "RESERVED")]
    Reserved,
    /// `ACTIVE`: accepted by the server (`AcceptPlayerSession`).
    #[serde(rename = "ACTIVE")]
    Active,
    /// `COMPLETED`: the player left (`RemovePlayerSession`).
    #[serde(rename = "COMPLETED")]
    Completed,
    /// `TIMEDOUT`: not accepted within 60 s of creation.
    #[serde(rename = "TIMEDOUT")]
    Timedout,
    /// `NOT_SET`, and any unknown string.
    #[serde(rename = "NOT_SET", other)]
    NotSet,
}

impl PlayerSessionStatus {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "RESERVED",
            Self::Active => "ACTIVE",
            Self::Completed => "COMPLETED",
            Self::Timedout => "TIMEDOUT",
            Self::NotSet => "NOT_SET",
        }
    }

    /// Parses one of the four real statuses (the `PlayerSessionStatusFilter` values); `None` for
    /// anything else.
    pub fn from_filter(s: &str) -> Option<Self> {
        match s {
            "RESERVED" => Some(Self::Reserved),
            "ACTIVE" => Some(Self::Active),
            "COMPLETED" => Some(Self::Completed),
            "TIMEDOUT" => Some(Self::Timedout),
            _ => None,
        }
    }
}

/// Game session status (GO `model/game_session_status.go`, plus `ERROR` from the API model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GameSessionStatus {
    /// `ACTIVE`.
    #[serde(rename = "ACTIVE")]
    Active,
    /// `ACTIVATING`.
    #[serde(rename = "ACTIVATING")]
    Activating,
    /// `TERMINATED`.
    #[serde(rename = "TERMINATED")]
    Terminated,
    /// `TERMINATING`.
    #[serde(rename = "TERMINATING")]
    Terminating,
    /// `ERROR` (API model only; the GO SDK maps it to `NOT_SET`).
    #[serde(rename = "ERROR")]
    Error,
    /// `NOT_SET`, and any unknown string.
    #[serde(rename = "NOT_SET", other)]
    NotSet,
}

/// Why an `UpdateGameSession` push was sent (GO `model/update_reason.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UpdateReason {
    /// `MATCHMAKING_DATA_UPDATED`: backfill succeeded, matchmaker data changed.
    #[serde(rename = "MATCHMAKING_DATA_UPDATED")]
    MatchmakingDataUpdated,
    /// `BACKFILL_FAILED`.
    #[serde(rename = "BACKFILL_FAILED")]
    BackfillFailed,
    /// `BACKFILL_TIMED_OUT`.
    #[serde(rename = "BACKFILL_TIMED_OUT")]
    BackfillTimedOut,
    /// `BACKFILL_CANCELLED`.
    #[serde(rename = "BACKFILL_CANCELLED")]
    BackfillCancelled,
    /// `UNKNOWN`, and any unknown string.
    #[serde(rename = "UNKNOWN", other)]
    Unknown,
}
