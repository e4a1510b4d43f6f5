//! The Amazon GameLift Server SDK 5 WebSocket protocol: every frame a game server and its
//! service exchange, as serde types with the exact JSON names of the official SDKs.
//!
//! This module owns the wire format and nothing else: no IO, no clock, no state. Both ends use
//! it. A game server (this crate's SDK) builds [`ToService`] frames and parses [`ToSdk`] frames;
//! the node's SDK endpoint parses [`ToService`] and builds [`ToSdk`]. Sources are the official
//! SDKs (GO = `amazon-gamelift-servers-go-server-sdk` 5.6.0, CPP =
//! `amazon-gamelift-servers-cpp-server-sdk` 5.4.0); each type names the file it follows.
//!
//! # Frames
//!
//! Every frame is one UTF-8 JSON object in a WebSocket **text** frame (binary frames are
//! skipped by the official SDKs).
//!
//! * Request (SDK → service): `{"Action": "<Action>", "RequestId": "<uuid>", …fields}`.
//! * Response (service → SDK): `{"Action": "<same>", "RequestId": "<same>", "StatusCode": 200,
//!   "ErrorMessage": "…", …result fields}`. Every request gets one, or the SDK call times out.
//! * Push (service → SDK): `{"Action": "CreateGameSession", …fields}` without a `RequestId`.
//!
//! Routing rule of both official SDKs (GO `websocket_client.go` `readHandler`; CPP
//! `WebSocketppClientWrapper::OnMessage`), which [`ToSdk::parse`] reproduces: a frame with a
//! non-empty `RequestId` and a `StatusCode` other than 200 is an error reply, whatever its
//! `Action`; otherwise a push action is a push, and anything else is a reply to the request with
//! that `RequestId`.
//!
//! # Errors
//!
//! Parsing never panics. Malformed JSON, an unknown `Action`, a missing required field or a
//! field of the wrong type gives a [`ProtocolError`] that names the action and the field.

mod connect;
mod messages;
mod model;
mod serde_util;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

pub use connect::{ConnectQuery, env, query};
pub use messages::*;
pub use model::*;

/// The GameLift Server SDK version whose protocol this crate speaks. Sent as `sdkVersion` and
/// `SdkVersion`.
pub const SDK_VERSION: &str = "5.6.0";

/// The `sdkLanguage` / `SdkLanguage` this crate sends. The official SDKs send `Go` and `Cpp`.
pub const SDK_LANGUAGE: &str = "Rust";

/// `StatusCode` of a successful response.
pub const STATUS_OK: i32 = 200;

/// Every `Action` of the protocol (GO `model/message/message.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Action {
    /// Request: `ProcessReady`.
    ActivateServerProcess,
    /// Request: periodic health report.
    HeartbeatServerProcess,
    /// Request: the server is ready for players.
    ActivateGameSession,
    /// Request: `ProcessEnding`.
    TerminateServerProcess,
    /// Request: open or close the session to new players.
    UpdatePlayerSessionCreationPolicy,
    /// Request: validate a connecting player.
    AcceptPlayerSession,
    /// Request: a player left.
    RemovePlayerSession,
    /// Request: list player sessions.
    DescribePlayerSessions,
    /// Request: start a FlexMatch backfill.
    StartMatchBackfill,
    /// Request: stop a FlexMatch backfill.
    StopMatchBackfill,
    /// Request: TLS certificate of the compute.
    GetComputeCertificate,
    /// Request: credentials of the fleet role.
    GetFleetRoleCredentials,
    /// Push: a game session was placed on this process.
    CreateGameSession,
    /// Push: backfill updated the game session.
    UpdateGameSession,
    /// Push: the process must shut down.
    TerminateProcess,
    /// Push: reconnect to a new endpoint with a new token.
    RefreshConnection,
}

impl Action {
    /// All actions, requests first.
    pub const ALL: [Action; 16] = [
        Action::ActivateServerProcess,
        Action::HeartbeatServerProcess,
        Action::ActivateGameSession,
        Action::TerminateServerProcess,
        Action::UpdatePlayerSessionCreationPolicy,
        Action::AcceptPlayerSession,
        Action::RemovePlayerSession,
        Action::DescribePlayerSessions,
        Action::StartMatchBackfill,
        Action::StopMatchBackfill,
        Action::GetComputeCertificate,
        Action::GetFleetRoleCredentials,
        Action::CreateGameSession,
        Action::UpdateGameSession,
        Action::TerminateProcess,
        Action::RefreshConnection,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ActivateServerProcess => "ActivateServerProcess",
            Action::HeartbeatServerProcess => "HeartbeatServerProcess",
            Action::ActivateGameSession => "ActivateGameSession",
            Action::TerminateServerProcess => "TerminateServerProcess",
            Action::UpdatePlayerSessionCreationPolicy => "UpdatePlayerSessionCreationPolicy",
            Action::AcceptPlayerSession => "AcceptPlayerSession",
            Action::RemovePlayerSession => "RemovePlayerSession",
            Action::DescribePlayerSessions => "DescribePlayerSessions",
            Action::StartMatchBackfill => "StartMatchBackfill",
            Action::StopMatchBackfill => "StopMatchBackfill",
            Action::GetComputeCertificate => "GetComputeCertificate",
            Action::GetFleetRoleCredentials => "GetFleetRoleCredentials",
            Action::CreateGameSession => "CreateGameSession",
            Action::UpdateGameSession => "UpdateGameSession",
            Action::TerminateProcess => "TerminateProcess",
            Action::RefreshConnection => "RefreshConnection",
        }
    }

    /// The action with this exact (case-sensitive) wire name.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// True for the four service → SDK pushes.
    pub fn is_push(self) -> bool {
        matches!(
            self,
            Action::CreateGameSession
                | Action::UpdateGameSession
                | Action::TerminateProcess
                | Action::RefreshConnection
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = ProtocolError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::from_name(s).ok_or_else(|| ProtocolError::UnknownAction(s.to_string()))
    }
}

/// Which way a frame travels; used in [`ProtocolError::UnexpectedAction`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Game server (SDK) → service.
    ToService,
    /// Service → game server (SDK).
    ToSdk,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::ToService => "from a game server to the service",
            Direction::ToSdk => "from the service to a game server",
        })
    }
}

/// Why a frame or connect query could not be understood.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The frame is not JSON.
    #[error("frame is not valid JSON: {0}")]
    Malformed(#[source] serde_json::Error),
    /// The frame is JSON but not an object.
    #[error("frame is not a JSON object")]
    NotAnObject,
    /// A required envelope field is missing or empty.
    #[error("{context}: missing field `{field}`")]
    MissingField {
        /// The action, or `frame` when the action itself is missing.
        context: String,
        /// The missing field's wire name.
        field: &'static str,
    },
    /// `Action` names no known action.
    #[error("unknown action `{0}`")]
    UnknownAction(String),
    /// A known action that does not travel in this direction (a push sent to the service, a
    /// request pushed to a game server).
    #[error("action `{action}` is not sent {direction}")]
    UnexpectedAction {
        /// The action.
        action: Action,
        /// The direction the frame was parsed for.
        direction: Direction,
    },
    /// The body of a known action is invalid: a required field is missing or a field has the
    /// wrong type. The source names the field.
    #[error("invalid `{action}` frame: {source}")]
    InvalidMessage {
        /// The action.
        action: Action,
        /// serde's description, naming the field.
        #[source]
        source: serde_json::Error,
    },
    /// A required connect query parameter is missing or empty.
    #[error("connect query: missing parameter `{0}`")]
    MissingQueryParameter(&'static str),
    /// The connect query is not valid `application/x-www-form-urlencoded`.
    #[error("connect query: {0}")]
    InvalidQuery(String),
}

/// The envelope fields of any frame, read leniently (wrong types read as absent). Used to route
/// a frame before, or when, its body fails to parse.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// `Action`, if a string.
    pub action: Option<String>,
    /// `RequestId`, if a non-empty string.
    pub request_id: Option<String>,
    /// `StatusCode`, if an integer.
    pub status_code: Option<i32>,
    /// `ErrorMessage`, if a non-empty string.
    pub error_message: Option<String>,
}

impl Envelope {
    /// Reads the envelope of a frame. Fails only when the frame is not a JSON object.
    pub fn peek(text: &str) -> Result<Envelope, ProtocolError> {
        Ok(Envelope::of(&parse_object(text)?))
    }

    fn of(value: &Value) -> Envelope {
        let string = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        Envelope {
            action: value
                .get("Action")
                .and_then(Value::as_str)
                .map(str::to_string),
            request_id: string("RequestId"),
            status_code: value
                .get("StatusCode")
                .and_then(Value::as_i64)
                .and_then(|c| i32::try_from(c).ok()),
            error_message: string("ErrorMessage"),
        }
    }
}

fn parse_object(text: &str) -> Result<Value, ProtocolError> {
    let value: Value = serde_json::from_str(text).map_err(ProtocolError::Malformed)?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(ProtocolError::NotAnObject)
    }
}

fn known_action(envelope: &Envelope) -> Result<Action, ProtocolError> {
    let name = envelope
        .action
        .as_deref()
        .ok_or_else(|| ProtocolError::MissingField {
            context: "frame".into(),
            field: "Action",
        })?;
    name.parse()
}

fn body<T: for<'de> Deserialize<'de>>(action: Action, value: Value) -> Result<T, ProtocolError> {
    serde_json::from_value(value).map_err(|source| ProtocolError::InvalidMessage { action, source })
}

/// A frame a game server sends to the service: one of the twelve requests.
///
/// Serializes as `{"Action": …, "RequestId": …, …}` (the variant name is the `Action`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "Action")]
#[allow(clippy::large_enum_variant)]
pub enum ToService {
    /// `ActivateServerProcess`.
    ActivateServerProcess(ActivateServerProcessRequest),
    /// `HeartbeatServerProcess`.
    HeartbeatServerProcess(HeartbeatServerProcessRequest),
    /// `ActivateGameSession`.
    ActivateGameSession(ActivateGameSessionRequest),
    /// `TerminateServerProcess`.
    TerminateServerProcess(TerminateServerProcessRequest),
    /// `UpdatePlayerSessionCreationPolicy`.
    UpdatePlayerSessionCreationPolicy(UpdatePlayerSessionCreationPolicyRequest),
    /// `AcceptPlayerSession`.
    AcceptPlayerSession(AcceptPlayerSessionRequest),
    /// `RemovePlayerSession`.
    RemovePlayerSession(RemovePlayerSessionRequest),
    /// `DescribePlayerSessions`.
    DescribePlayerSessions(DescribePlayerSessionsRequest),
    /// `StartMatchBackfill`.
    StartMatchBackfill(StartMatchBackfillRequest),
    /// `StopMatchBackfill`.
    StopMatchBackfill(StopMatchBackfillRequest),
    /// `GetComputeCertificate`.
    GetComputeCertificate(GetComputeCertificateRequest),
    /// `GetFleetRoleCredentials`.
    GetFleetRoleCredentials(GetFleetRoleCredentialsRequest),
}

impl ToService {
    /// Parses a frame received from a game server.
    pub fn parse(text: &str) -> Result<ToService, ProtocolError> {
        let value = parse_object(text)?;
        let action = known_action(&Envelope::of(&value))?;
        Ok(match action {
            Action::ActivateServerProcess => ToService::ActivateServerProcess(body(action, value)?),
            Action::HeartbeatServerProcess => {
                ToService::HeartbeatServerProcess(body(action, value)?)
            }
            Action::ActivateGameSession => ToService::ActivateGameSession(body(action, value)?),
            Action::TerminateServerProcess => {
                ToService::TerminateServerProcess(body(action, value)?)
            }
            Action::UpdatePlayerSessionCreationPolicy => {
                ToService::UpdatePlayerSessionCreationPolicy(body(action, value)?)
            }
            Action::AcceptPlayerSession => ToService::AcceptPlayerSession(body(action, value)?),
            Action::RemovePlayerSession => ToService::RemovePlayerSession(body(action, value)?),
            Action::DescribePlayerSessions => {
                ToService::DescribePlayerSessions(body(action, value)?)
            }
            Action::StartMatchBackfill => ToService::StartMatchBackfill(body(action, value)?),
            Action::StopMatchBackfill => ToService::StopMatchBackfill(body(action, value)?),
            Action::GetComputeCertificate => ToService::GetComputeCertificate(body(action, value)?),
            Action::GetFleetRoleCredentials => {
                ToService::GetFleetRoleCredentials(body(action, value)?)
            }
            Action::CreateGameSession
            | Action::UpdateGameSession
            | Action::TerminateProcess
            | Action::RefreshConnection => {
                return Err(ProtocolError::UnexpectedAction {
                    action,
                    direction: Direction::ToService,
                });
            }
        })
    }

    /// The JSON text of the frame.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// The frame's `Action`.
    pub fn action(&self) -> Action {
        match self {
            ToService::ActivateServerProcess(_) => Action::ActivateServerProcess,
            ToService::HeartbeatServerProcess(_) => Action::HeartbeatServerProcess,
            ToService::ActivateGameSession(_) => Action::ActivateGameSession,
            ToService::TerminateServerProcess(_) => Action::TerminateServerProcess,
            ToService::UpdatePlayerSessionCreationPolicy(_) => {
                Action::UpdatePlayerSessionCreationPolicy
            }
            ToService::AcceptPlayerSession(_) => Action::AcceptPlayerSession,
            ToService::RemovePlayerSession(_) => Action::RemovePlayerSession,
            ToService::DescribePlayerSessions(_) => Action::DescribePlayerSessions,
            ToService::StartMatchBackfill(_) => Action::StartMatchBackfill,
            ToService::StopMatchBackfill(_) => Action::StopMatchBackfill,
            ToService::GetComputeCertificate(_) => Action::GetComputeCertificate,
            ToService::GetFleetRoleCredentials(_) => Action::GetFleetRoleCredentials,
        }
    }

    /// The frame's `RequestId`.
    pub fn request_id(&self) -> &str {
        match self {
            ToService::ActivateServerProcess(m) => &m.request_id,
            ToService::HeartbeatServerProcess(m) => &m.request_id,
            ToService::ActivateGameSession(m) => &m.request_id,
            ToService::TerminateServerProcess(m) => &m.request_id,
            ToService::UpdatePlayerSessionCreationPolicy(m) => &m.request_id,
            ToService::AcceptPlayerSession(m) => &m.request_id,
            ToService::RemovePlayerSession(m) => &m.request_id,
            ToService::DescribePlayerSessions(m) => &m.request_id,
            ToService::StartMatchBackfill(m) => &m.request_id,
            ToService::StopMatchBackfill(m) => &m.request_id,
            ToService::GetComputeCertificate(m) => &m.request_id,
            ToService::GetFleetRoleCredentials(m) => &m.request_id,
        }
    }

    /// A `StatusCode: 200` reply to this request with an empty body.
    pub fn ok_response(&self) -> Response {
        Response::ok(self.action(), self.request_id())
    }

    /// An error reply to this request.
    pub fn error_response(&self, status_code: i32, error_message: impl Into<String>) -> Response {
        Response::error(self.action(), self.request_id(), status_code, error_message)
    }
}

/// The reply to one request: the envelope plus, for four actions, a result body.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// `Action`: the request's action, echoed.
    pub action: Action,
    /// `RequestId`: the request's id, echoed.
    pub request_id: String,
    /// `StatusCode`: 200 on success. Official SDKs map 400, 401, 403, 404, 409 and 429 to
    /// specific errors, other 4xx to BadRequest and everything else to InternalServiceException
    /// (GO `common/errors.go`).
    pub status_code: i32,
    /// `ErrorMessage`: the reason for a failure (omitted when `None`).
    pub error_message: Option<String>,
    /// The result fields, written at the top level beside the envelope.
    pub body: ResponseBody,
}

/// Result fields of a [`Response`]. Only four actions return data.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ResponseBody {
    /// No result fields (every other action, and every error reply).
    #[default]
    Empty,
    /// `DescribePlayerSessions` result.
    DescribePlayerSessions(DescribePlayerSessionsResult),
    /// `GetComputeCertificate` result.
    GetComputeCertificate(GetComputeCertificateResult),
    /// `GetFleetRoleCredentials` result.
    GetFleetRoleCredentials(GetFleetRoleCredentialsResult),
    /// `StartMatchBackfill` result.
    StartMatchBackfill(StartMatchBackfillResult),
}

impl Response {
    /// A success reply with an empty body.
    pub fn ok(action: Action, request_id: impl Into<String>) -> Response {
        Response {
            action,
            request_id: request_id.into(),
            status_code: STATUS_OK,
            error_message: None,
            body: ResponseBody::Empty,
        }
    }

    /// An error reply.
    pub fn error(
        action: Action,
        request_id: impl Into<String>,
        status_code: i32,
        error_message: impl Into<String>,
    ) -> Response {
        Response {
            action,
            request_id: request_id.into(),
            status_code,
            error_message: Some(error_message.into()),
            body: ResponseBody::Empty,
        }
    }

    /// Replaces the body.
    pub fn with_body(mut self, body: ResponseBody) -> Response {
        self.body = body;
        self
    }

    /// True when `StatusCode` is 200.
    pub fn is_success(&self) -> bool {
        self.status_code == STATUS_OK
    }

    fn parse_body(action: Action, value: Value) -> Result<ResponseBody, ProtocolError> {
        Ok(match action {
            Action::DescribePlayerSessions => {
                ResponseBody::DescribePlayerSessions(body(action, value)?)
            }
            Action::GetComputeCertificate => {
                ResponseBody::GetComputeCertificate(body(action, value)?)
            }
            Action::GetFleetRoleCredentials => {
                ResponseBody::GetFleetRoleCredentials(body(action, value)?)
            }
            Action::StartMatchBackfill => ResponseBody::StartMatchBackfill(body(action, value)?),
            _ => ResponseBody::Empty,
        })
    }
}

#[derive(Serialize)]
struct ResponseWire<'a, B: Serialize> {
    #[serde(rename = "Action")]
    action: Action,
    #[serde(rename = "RequestId")]
    request_id: &'a str,
    #[serde(rename = "StatusCode")]
    status_code: i32,
    #[serde(rename = "ErrorMessage", skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
    #[serde(flatten)]
    body: &'a B,
}

#[derive(Serialize)]
struct EmptyBody {}

impl Serialize for Response {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        fn wire<'a, B: Serialize, S: Serializer>(
            r: &'a Response,
            body: &'a B,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            ResponseWire {
                action: r.action,
                request_id: &r.request_id,
                status_code: r.status_code,
                error_message: r.error_message.as_deref(),
                body,
            }
            .serialize(serializer)
        }
        match &self.body {
            ResponseBody::Empty => wire(self, &EmptyBody {}, serializer),
            ResponseBody::DescribePlayerSessions(b) => wire(self, b, serializer),
            ResponseBody::GetComputeCertificate(b) => wire(self, b, serializer),
            ResponseBody::GetFleetRoleCredentials(b) => wire(self, b, serializer),
            ResponseBody::StartMatchBackfill(b) => wire(self, b, serializer),
        }
    }
}

/// A frame the service sends to a game server: a push or the reply to a request.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum ToSdk {
    /// `CreateGameSession` push.
    CreateGameSession(CreateGameSessionMessage),
    /// `UpdateGameSession` push.
    UpdateGameSession(UpdateGameSessionMessage),
    /// `TerminateProcess` push.
    TerminateProcess(TerminateProcessMessage),
    /// `RefreshConnection` push.
    RefreshConnection(RefreshConnectionMessage),
    /// The reply to a request.
    Response(Response),
}

#[derive(Serialize)]
#[serde(tag = "Action")]
enum PushWire<'a> {
    CreateGameSession(&'a CreateGameSessionMessage),
    UpdateGameSession(&'a UpdateGameSessionMessage),
    TerminateProcess(&'a TerminateProcessMessage),
    RefreshConnection(&'a RefreshConnectionMessage),
}

impl Serialize for ToSdk {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ToSdk::CreateGameSession(m) => PushWire::CreateGameSession(m).serialize(serializer),
            ToSdk::UpdateGameSession(m) => PushWire::UpdateGameSession(m).serialize(serializer),
            ToSdk::TerminateProcess(m) => PushWire::TerminateProcess(m).serialize(serializer),
            ToSdk::RefreshConnection(m) => PushWire::RefreshConnection(m).serialize(serializer),
            ToSdk::Response(r) => r.serialize(serializer),
        }
    }
}

impl ToSdk {
    /// Parses a frame received from the service, applying the official routing rule (see the
    /// module docs): a non-empty `RequestId` with a `StatusCode` other than 200 is an error
    /// [`Response`] whatever the `Action`; a `RequestId` without a `StatusCode` is an error
    /// ([`ProtocolError::MissingField`]), as the official SDKs treat it as a failed reply.
    pub fn parse(text: &str) -> Result<ToSdk, ProtocolError> {
        let value = parse_object(text)?;
        let envelope = Envelope::of(&value);
        let action = known_action(&envelope)?;
        if let Some(request_id) = envelope.request_id.clone() {
            match envelope.status_code {
                None => {
                    return Err(ProtocolError::MissingField {
                        context: action.to_string(),
                        field: "StatusCode",
                    });
                }
                Some(status) if status != STATUS_OK => {
                    return Ok(ToSdk::Response(Response {
                        action,
                        request_id,
                        status_code: status,
                        error_message: envelope.error_message,
                        body: ResponseBody::Empty,
                    }));
                }
                Some(_) => {}
            }
        }
        Ok(match action {
            Action::CreateGameSession => ToSdk::CreateGameSession(body(action, value)?),
            Action::UpdateGameSession => ToSdk::UpdateGameSession(body(action, value)?),
            Action::TerminateProcess => ToSdk::TerminateProcess(body(action, value)?),
            Action::RefreshConnection => ToSdk::RefreshConnection(body(action, value)?),
            _ => {
                let request_id =
                    envelope
                        .request_id
                        .ok_or_else(|| ProtocolError::MissingField {
                            context: action.to_string(),
                            field: "RequestId",
                        })?;
                ToSdk::Response(Response {
                    action,
                    request_id,
                    status_code: STATUS_OK,
                    error_message: envelope.error_message,
                    body: Response::parse_body(action, value)?,
                })
            }
        })
    }

    /// The JSON text of the frame.
    pub fn to_json(&self) -> String {
        to_json(self)
    }

    /// The frame's `Action`.
    pub fn action(&self) -> Action {
        match self {
            ToSdk::CreateGameSession(_) => Action::CreateGameSession,
            ToSdk::UpdateGameSession(_) => Action::UpdateGameSession,
            ToSdk::TerminateProcess(_) => Action::TerminateProcess,
            ToSdk::RefreshConnection(_) => Action::RefreshConnection,
            ToSdk::Response(r) => r.action,
        }
    }
}

impl From<Response> for ToSdk {
    fn from(r: Response) -> Self {
        ToSdk::Response(r)
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    // NB: cannot fail: every map in these types has string keys and every Serialize impl is
    // derived or writes plain values.
    serde_json::to_string(value).unwrap_or_else(|e| unreachable!("protocol frame: {e}"))
}

#[cfg(test)]
mod tests;
