//! The bodies of every SDK 5 message: SDK → service requests (`…Request`), service → SDK pushes
//! (`…Message`) and the result bodies of responses (`…Result`).
//!
//! Each struct holds the fields that follow `Action` in the frame; `Action` itself is written and
//! read by [`ToService`](super::ToService) / [`ToSdk`](super::ToSdk). Field order and
//! `omitempty` rules follow GO `model/request/*.go`, `model/message/*.go` and `model/result/*.go`
//! (SDK 5.6.0); the CPP serializers (`internal/model/**/*.cpp`, SDK 5.4.0) write the same names
//! but omit every empty string and zero number, so parsing accepts a missing optional field.
//!
//! Invariant: a field without `#[serde(default)]` is required; a frame lacking it fails to parse
//! with an error naming the field. Required are the fields no receiver can do without (request
//! ids, the ids a request acts on, `HealthStatus`, `TerminationTime`, the refresh endpoint).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::model::{Player, PlayerSession, PlayerSessionCreationPolicy};
use super::serde_util::{empty_as_none, is_zero_u16, nullable};

// ---------------------------------------------------------------------------------------------
// SDK → service requests. Every one carries a fresh `RequestId` and is answered by a response
// with the same `Action` and `RequestId` (see `Response`).
// ---------------------------------------------------------------------------------------------

/// `ActivateServerProcess`, sent by `ProcessReady` (GO `activate_server_process.go`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActivateServerProcessRequest {
    /// `RequestId`.
    #[serde(rename = "RequestId")]
    pub request_id: String,
    /// `SdkVersion`, e.g. `5.6.0`.
    #[serde(rename = "SdkVersion", default, deserialize_with = "nullable")]
    pub sdk_version: String,
    /// `SdkLanguage`: `Go`, `Cpp`, … (this crate sends `Rust`).
    #[serde(rename = "SdkLanguage", default, deserialize_with = "nullable")]
    pub sdk_language: String,
    /// `SdkToolName`, from `GAMELIFT_SDK_TOOL_NAME` (omitted when unset).
    #[serde(
        rename = "SdkToolName",
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub sdk_tool_name: Option<String>,
    /// `SdkToolVersion`, from `GAMELIFT_SDK_TOOL_VERSION` (omitted when unset).
    #[serde(
        rename = "SdkToolVersion",
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub sdk_tool_version: Option<String>,
    /// `Port` players connect to. GO omits it when 0; CPP allows and omits 0 too.
    #[serde(
        rename = "Port",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero_u16"
    )]
    pub port: u16,
    /// `LogPaths`: files the service may collect. GO sends `null` for none, CPP omits the key;
    /// both parse as empty.
    #[serde(rename = "LogPaths", default, deserialize_with = "nullable")]
    pub log_paths: Vec<String>,
}

/// `HeartbeatServerProcess`, the periodic health report (GO `heartbeat_server_process.go`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HeartbeatServerProcessRequest {
    /// `RequestId`.
    #[serde(rename = "RequestId")]
    pub request_id: String,
    /// `HealthStatus`: the `on_health_check` verdict (false on callback timeout).
    #[serde(rename = "HealthStatus")]
    pub health_status: bool,
}

/// `ActivateGameSession`: the server is ready for players (GO `activate_game_session.go`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActivateGameSessionRequest {
    /// `RequestId`.
    #[serde(rename = "RequestId")]
    pub request_id: String,
    /// `GameSessionId` from the `CreateGameSession` push.
    #[serde(rename = "GameSessionId")]
    pub game_session_id: String,
}

/// `TerminateServerProcess`, sent by `ProcessEnding` (GO `terminate_server_process.go`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TerminateServerProcessRequest {
    /// `RequestId`.
    #[serde(rename = "RequestId")]
    pub request_id: String,
}

/// `UpdatePlayerSessionCreationPolicy` (GO `update_player_session_creation_policy.go`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdatePlayerSessionCreationPolicyRequest {
    /// `RequestId`.
    #[serde(rename = "RequestId")]
    pub request_id: String,
    /// `GameSessionId` of this process's session.
    #[serde(rename = "GameSessionId")]
    pub game_session_id: String,
    /// `PlayerSessionPolicy`: `ACCEPT_ALL` or `DENY_ALL`.
    #[serde(rename = "PlayerSessionPolicy")]
    pub player_session_policy: PlayerSessionCreationPolicy,
}

/// `AcceptPlayerSession`: a player connected with this player session id (GO
/// `accept_player_session.go`). A non-200 reply means "reject the player".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AcceptPlayerSessionRequest {
    /// `RequestId`.
    #[serde(rename = "RequestId")]
    pub request_id: String,
    /// `GameSessionId` of this process's session.
    #[serde(rename = "GameSessionId")]
    pub game_session_id: String,
    /// `PlayerSessionId` the player presented.
    #[serde(rename = "PlayerSessionId")]
    pub player_session_id: String,
}

/// `RemovePlayerSession`: a player left (GO `remove_player_session.go`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RemovePlayerSessionRequest {
    /// `RequestId`.
    #[serde(rename = "RequestId")]
    pub request_id: String,
    /// `GameSessionId` of this process's session.
    #[serde(rename = "GameSessionId")]
    pub game_session_id: String,
    /// `PlayerSessionId` of the player who left.
    #[serde(rename = "PlayerSessionId")]
    pub player_session_id: String,
}

/// `DescribePlayerSessions` (GO `describe_player_sessions.go`). Exactly one of
/// `GameSessionId`, `PlayerSessionId` and `PlayerId` must be set (GO `server/validation.go`).
///
/// Also the input of [`GameLiftServerSdk::describe_player_sessions`](crate::GameLiftServerSdk::describe_player_sessions),
/// which replaces `request_id` with a fresh one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribePlayerSessionsRequest {
    /// `RequestId`.
    #[serde(rename = "RequestId")]
    pub request_id: String,
    /// `GameSessionId`: list the sessions of this game session.
    #[serde(
        rename = "GameSessionId",
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub game_session_id: Option<String>,
    /// `PlayerId`: list the sessions of this player.
    #[serde(
        rename = "PlayerId",
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub player_id: Option<String>,
    /// `PlayerSessionId`: describe this one player session.
    #[serde(
        rename = "PlayerSessionId",
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub player_session_id: Option<String>,
    /// `PlayerSessionStatusFilter`: RESERVED, ACTIVE, COMPLETED or TIMEDOUT.
    #[serde(
        rename = "PlayerSessionStatusFilter",
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub player_session_status_filter: Option<String>,
    /// `NextToken` from a previous page.
    #[serde(
        rename = "NextToken",
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub next_token: Option<String>,
    /// `Limit`: page size (GO omits 0).
    #[serde(rename = "Limit", default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl DescribePlayerSessionsRequest {
    /// A request for every player session of a game session.
    pub fn for_game_session(game_session_id: impl Into<String>) -> Self {
        Self {
            game_session_id: Some(game_session_id.into()),
            ..Self::default()
        }
    }

    /// A request for one player session.
    pub fn for_player_session(player_session_id: impl Into<String>) -> Self {
        Self {
            player_session_id: Some(player_session_id.into()),
            ..Self::default()
        }
    }

    /// A request for every player session of a player.
    pub fn for_player(player_id: impl Into<String>) -> Self {
        Self {
            player_id: Some(player_id.into()),
            ..Self::default()
        }
    }
}

/// `StartMatchBackfill` (GO `start_match_backfill.go`). `TicketId` is always written (GO has
/// no `omitempty` on it); empty asks the service to generate one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StartMatchBackfillRequest {
    /// `RequestId`.
    #[serde(rename = "RequestId")]
    pub request_id: String,
    /// `GameSessionArn` to backfill.
    #[serde(rename = "GameSessionArn")]
    pub game_session_arn: String,
    /// `MatchmakingConfigurationArn` to use.
    #[serde(rename = "MatchmakingConfigurationArn")]
    pub matchmaking_configuration_arn: String,
    /// `TicketId`, or empty.
    #[serde(rename = "TicketId", default, deserialize_with = "nullable")]
    pub ticket_id: String,
    /// `Players` currently in the session.
    #[serde(rename = "Players", default, deserialize_with = "nullable")]
    pub players: Vec<Player>,
}

/// `StopMatchBackfill` (GO `stop_match_backfill.go`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StopMatchBackfillRequest {
    /// `RequestId`.
    #[serde(rename = "RequestId")]
    pub request_id: String,
    /// `GameSessionArn`.
    #[serde(rename = "GameSessionArn")]
    pub game_session_arn: String,
    /// `MatchmakingConfigurationArn`.
    #[serde(rename = "MatchmakingConfigurationArn")]
    pub matchmaking_configuration_arn: String,
    /// `TicketId` of the backfill to stop.
    #[serde(rename = "TicketId")]
    pub ticket_id: String,
}

/// `GetComputeCertificate` (GO `get_compute_certificate.go`): no body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetComputeCertificateRequest {
    /// `RequestId`.
    #[serde(rename = "RequestId")]
    pub request_id: String,
}

/// `GetFleetRoleCredentials` (GO `get_fleet_role_credentials.go`).
///
/// Also the input of [`GameLiftServerSdk::get_fleet_role_credentials`](crate::GameLiftServerSdk::get_fleet_role_credentials),
/// which replaces `request_id` and, when `role_session_name` is empty, fills it with
/// `<fleetId>-<hostId>` cut to 64 characters, as GO does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetFleetRoleCredentialsRequest {
    /// `RequestId`.
    #[serde(rename = "RequestId")]
    pub request_id: String,
    /// `RoleArn` of the fleet role to assume.
    #[serde(rename = "RoleArn")]
    pub role_arn: String,
    /// `RoleSessionName` (2–64 chars of `[\w+=,.@-]`).
    #[serde(rename = "RoleSessionName", default, deserialize_with = "nullable")]
    pub role_session_name: String,
}

// ---------------------------------------------------------------------------------------------
// Service → SDK pushes. Sent without a `RequestId` (see `ToSdk` for the routing rule).
// ---------------------------------------------------------------------------------------------

/// `CreateGameSession` push (GO `model/message/create_game_session.go`): a game session was
/// placed on this process. Flat, with `GameSessionName` (not `Name`) and no `FleetId`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateGameSessionMessage {
    /// `RequestId`: absent on pushes.
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_id: Option<String>,
    /// `MaximumPlayerSessionCount`.
    #[serde(
        rename = "MaximumPlayerSessionCount",
        default,
        deserialize_with = "nullable"
    )]
    pub maximum_player_session_count: u32,
    /// `Port`.
    #[serde(rename = "Port", default, deserialize_with = "nullable")]
    pub port: u16,
    /// `IpAddress`.
    #[serde(rename = "IpAddress", default, deserialize_with = "nullable")]
    pub ip_address: String,
    /// `GameSessionId` (required).
    #[serde(rename = "GameSessionId")]
    pub game_session_id: String,
    /// `GameSessionName`.
    #[serde(rename = "GameSessionName", default, deserialize_with = "nullable")]
    pub game_session_name: String,
    /// `GameSessionData`.
    #[serde(rename = "GameSessionData", default, deserialize_with = "nullable")]
    pub game_session_data: String,
    /// `MatchmakerData`.
    #[serde(rename = "MatchmakerData", default, deserialize_with = "nullable")]
    pub matchmaker_data: String,
    /// `DnsName`.
    #[serde(rename = "DnsName", default, deserialize_with = "nullable")]
    pub dns_name: String,
    /// `GameProperties`: a JSON object of string values.
    #[serde(rename = "GameProperties", default, deserialize_with = "nullable")]
    pub game_properties: BTreeMap<String, String>,
}

/// `UpdateGameSession` push (GO `model/message/update_game_session.go`,
/// `model/update_game_session.go`): backfill results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateGameSessionMessage {
    /// `RequestId`: absent on pushes.
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_id: Option<String>,
    /// `GameSession` (required): the updated session object.
    #[serde(rename = "GameSession")]
    pub game_session: super::GameSession,
    /// `UpdateReason`.
    #[serde(
        rename = "UpdateReason",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub update_reason: Option<super::UpdateReason>,
    /// `BackfillTicketId`.
    #[serde(rename = "BackfillTicketId", default, deserialize_with = "nullable")]
    pub backfill_ticket_id: String,
}

/// `TerminateProcess` push (GO `model/message/terminate_process.go`): the process should end.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TerminateProcessMessage {
    /// `RequestId`: absent on pushes.
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_id: Option<String>,
    /// `TerminationTime` (required): epoch **milliseconds** by which the process is shut down.
    #[serde(rename = "TerminationTime")]
    pub termination_time: i64,
}

/// `RefreshConnection` push (GO `model/message/refresh_connection.go`): reconnect to a new
/// endpoint with a new token, then drop the old socket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RefreshConnectionMessage {
    /// `RequestId`: absent on pushes.
    #[serde(
        rename = "RequestId",
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_id: Option<String>,
    /// `RefreshConnectionEndpoint` (required): the new WebSocket base URL.
    #[serde(rename = "RefreshConnectionEndpoint")]
    pub refresh_connection_endpoint: String,
    /// `AuthToken` (required): the token to present as `Authorization`.
    #[serde(rename = "AuthToken")]
    pub auth_token: String,
}

// ---------------------------------------------------------------------------------------------
// Response bodies (fields at the top level of the response frame, beside the envelope).
// ---------------------------------------------------------------------------------------------

/// Body of the `DescribePlayerSessions` response (GO `model/result/describe_player_session.go`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DescribePlayerSessionsResult {
    /// `NextToken`: present when more pages exist (GO writes `""` for none; parsed as `None`).
    #[serde(
        rename = "NextToken",
        default,
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub next_token: Option<String>,
    /// `PlayerSessions`.
    #[serde(rename = "PlayerSessions", default, deserialize_with = "nullable")]
    pub player_sessions: Vec<PlayerSession>,
}

/// Body of the `GetComputeCertificate` response (GO `model/result/get_compute_certificate.go`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetComputeCertificateResult {
    /// `CertificatePath`: path of the TLS certificate chain on the compute.
    #[serde(rename = "CertificatePath", default, deserialize_with = "nullable")]
    pub certificate_path: String,
    /// `ComputeName`: the compute (host) name.
    #[serde(rename = "ComputeName", default, deserialize_with = "nullable")]
    pub compute_name: String,
}

/// Body of the `GetFleetRoleCredentials` response (GO
/// `model/result/get_fleet_role_credentials.go`). An empty `AccessKeyId` means "not a managed
/// fleet".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GetFleetRoleCredentialsResult {
    /// `AssumedRoleUserArn`.
    #[serde(rename = "AssumedRoleUserArn", default, deserialize_with = "nullable")]
    pub assumed_role_user_arn: String,
    /// `AssumedRoleId`.
    #[serde(rename = "AssumedRoleId", default, deserialize_with = "nullable")]
    pub assumed_role_id: String,
    /// `AccessKeyId`.
    #[serde(rename = "AccessKeyId", default, deserialize_with = "nullable")]
    pub access_key_id: String,
    /// `SecretAccessKey`.
    #[serde(rename = "SecretAccessKey", default, deserialize_with = "nullable")]
    pub secret_access_key: String,
    /// `SessionToken`.
    #[serde(rename = "SessionToken", default, deserialize_with = "nullable")]
    pub session_token: String,
    /// `Expiration`: epoch milliseconds.
    #[serde(rename = "Expiration", default, deserialize_with = "nullable")]
    pub expiration: i64,
}

/// Body of the `StartMatchBackfill` response (GO `model/result/start_match_backfill.go`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StartMatchBackfillResult {
    /// `TicketId` of the backfill ticket.
    #[serde(rename = "TicketId", default, deserialize_with = "nullable")]
    pub ticket_id: String,
}
