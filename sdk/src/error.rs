//! The SDK's error type: one enum for every failure an SDK call can report.
//!
//! Expected outcomes are distinct variants so a game server can match on them (for example
//! [`SdkError::Service`] from `accept_player_session` means "reject this player").

use std::time::Duration;

use crate::protocol::{Action, ProtocolError};

/// What went wrong in an SDK call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SdkError {
    /// The SDK was destroyed (or its connection task is gone); call `init_sdk` again.
    #[error("the server SDK is not initialized (destroyed or never connected)")]
    NotInitialized,
    /// The call needs `process_ready` first (or came after `process_ending`).
    #[error("the process is not ready: call process_ready first")]
    ProcessNotReady,
    /// The call needs a game session, and none has been started on this process.
    #[error("no game session is bound to this process")]
    NoGameSession,
    /// `get_termination_time` before any `TerminateProcess` push.
    #[error("no termination time has been sent to this process")]
    TerminationTimeNotSet,
    /// An argument or parameter failed the client-side checks of the official SDKs
    /// (GO `server/validation.go`); the message names the field and the rule.
    #[error("invalid argument: {0}")]
    Validation(String),
    /// The WebSocket could not be opened (after every retry) or broke while a request was in
    /// flight.
    #[error("network error: {0}")]
    Network(String),
    /// The service did not answer the request in time.
    #[error("{action} got no response within {after:?}")]
    Timeout {
        /// The request's action.
        action: Action,
        /// How long the SDK waited.
        after: Duration,
    },
    /// The service answered with a `StatusCode` other than 200.
    #[error("{action} failed with status {status}: {message}")]
    Service {
        /// The request's action.
        action: Action,
        /// The `StatusCode`.
        status: i32,
        /// The `ErrorMessage` (empty when the service sent none).
        message: String,
    },
    /// The service's reply could not be understood.
    #[error("bad reply from the service: {0}")]
    Protocol(#[from] ProtocolError),
}

/// The official SDKs' name for a service status code (GO `common/errors.go`
/// `getErrorTypeForStatusCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceErrorKind {
    /// 400, and any 4xx without its own kind.
    BadRequest,
    /// 401.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 404.
    NotFound,
    /// 409.
    Conflict,
    /// 429.
    TooManyRequests,
    /// 5xx and anything else.
    InternalService,
}

impl ServiceErrorKind {
    /// Classifies a `StatusCode`.
    pub fn from_status(status: i32) -> ServiceErrorKind {
        match status {
            401 => Self::Unauthorized,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            409 => Self::Conflict,
            429 => Self::TooManyRequests,
            400..=499 => Self::BadRequest,
            _ => Self::InternalService,
        }
    }
}

impl SdkError {
    /// For [`SdkError::Service`], the official error kind of its status code.
    pub fn service_kind(&self) -> Option<ServiceErrorKind> {
        match self {
            SdkError::Service { status, .. } => Some(ServiceErrorKind::from_status(*status)),
            _ => None,
        }
    }
}
