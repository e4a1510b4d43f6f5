//! The API layer's error type and its one mapping to `tonic::Status`.
//!
//! Every error a client can see is built here: the gRPC code, a message that
//! names the field and rule for bad input, and the metadata key
//! `x-gamefleet-exception` carrying GameLift's exception name.

use serde::{Deserialize, Serialize};
use tonic::metadata::MetadataValue;

use crate::fsm::FsmError;

/// Metadata key carrying the GameLift exception name.
pub const EXCEPTION_KEY: &str = "x-gamefleet-exception";

/// Everything a request can fail with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum ApiError {
    /// The state machine refused the command (or the input failed its rules).
    #[error(transparent)]
    Fsm(#[from] FsmError),
    /// No leader, no quorum, or the outcome of a write is unknown: retry.
    #[error("{0}")]
    Unavailable(String),
    /// A request conflicts with cluster state (e.g. a duplicate node name).
    #[error("{0}")]
    Conflict(String),
    /// A peer request meant for another cluster or another node.
    #[error("{0}")]
    WrongCluster(String),
    /// A bug or a storage failure on this node.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// Shorthand for an invalid field.
    pub fn invalid(field: &str, rule: impl Into<String>) -> Self {
        ApiError::Fsm(FsmError::invalid(field, rule))
    }

    /// Shorthand for [`ApiError::Unavailable`].
    pub fn unavailable(msg: impl Into<String>) -> Self {
        ApiError::Unavailable(msg.into())
    }

    fn code_and_exception(&self) -> (tonic::Code, &'static str) {
        use tonic::Code;
        match self {
            ApiError::Fsm(e) => match e {
                FsmError::InvalidArgument { .. } => {
                    (Code::InvalidArgument, "InvalidRequestException")
                }
                FsmError::NotFound { .. } => (Code::NotFound, "NotFoundException"),
                FsmError::InvalidStatus { kind, .. }
                    if kind == "game session" || kind == "player session" =>
                {
                    (
                        Code::FailedPrecondition,
                        "InvalidGameSessionStatusException",
                    )
                }
                FsmError::InvalidStatus { .. } => {
                    (Code::FailedPrecondition, "InvalidFleetStatusException")
                }
                FsmError::IdempotentParameterMismatch { .. } => {
                    (Code::AlreadyExists, "IdempotentParameterMismatchException")
                }
                FsmError::LimitExceeded { .. } => {
                    (Code::ResourceExhausted, "LimitExceededException")
                }
                FsmError::FleetCapacityExceeded { .. } => {
                    (Code::ResourceExhausted, "FleetCapacityExceededException")
                }
                FsmError::GameSessionFull { .. } => {
                    (Code::ResourceExhausted, "GameSessionFullException")
                }
                FsmError::TerminalRoutingStrategy { .. } => {
                    (Code::FailedPrecondition, "TerminalRoutingStrategyException")
                }
                FsmError::UnsupportedVersion { .. } => (Code::Internal, "InternalServiceException"),
            },
            ApiError::Unavailable(_) => (Code::Unavailable, ""),
            ApiError::Conflict(_) => (Code::Aborted, "ConflictException"),
            ApiError::WrongCluster(_) => (Code::FailedPrecondition, "WrongClusterException"),
            ApiError::Internal(_) => (Code::Internal, "InternalServiceException"),
        }
    }
}

impl From<ApiError> for tonic::Status {
    fn from(e: ApiError) -> tonic::Status {
        let (code, exception) = e.code_and_exception();
        let mut status = tonic::Status::new(code, e.to_string());
        if !exception.is_empty() {
            status
                .metadata_mut()
                .insert(EXCEPTION_KEY, MetadataValue::from_static(exception));
        }
        status
    }
}

/// A status as one call's error inside a `Batch` response: the same code, message and
/// exception name the call would have returned on its own.
pub fn batch_error(status: &tonic::Status) -> gamefleet_proto::v1::BatchError {
    gamefleet_proto::v1::BatchError {
        code: status.code() as i32,
        message: status.message().to_owned(),
        exception: status
            .metadata()
            .get(EXCEPTION_KEY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_carry_code_message_and_exception() {
        let s: tonic::Status =
            ApiError::invalid("name", "must be 1 to 1024 characters long").into();
        assert_eq!(s.code(), tonic::Code::InvalidArgument);
        assert_eq!(s.message(), "name: must be 1 to 1024 characters long");
        assert_eq!(
            s.metadata().get(EXCEPTION_KEY).unwrap(),
            "InvalidRequestException"
        );

        let s: tonic::Status =
            ApiError::Fsm(FsmError::IdempotentParameterMismatch { token: "t".into() }).into();
        assert_eq!(s.code(), tonic::Code::AlreadyExists);
        assert_eq!(
            s.metadata().get(EXCEPTION_KEY).unwrap(),
            "IdempotentParameterMismatchException"
        );

        let s: tonic::Status = ApiError::unavailable("no leader").into();
        assert_eq!(s.code(), tonic::Code::Unavailable);
        assert!(s.metadata().get(EXCEPTION_KEY).is_none());
    }

    #[test]
    fn batch_errors_keep_code_message_and_exception() {
        let s: tonic::Status = ApiError::Fsm(FsmError::GameSessionFull {
            message: "game session gs is full".into(),
        })
        .into();
        let e = batch_error(&s);
        assert_eq!(e.code, tonic::Code::ResourceExhausted as i32);
        assert_eq!(e.message, s.message());
        assert_eq!(e.exception, "GameSessionFullException");
        let e = batch_error(&ApiError::unavailable("no leader").into());
        assert_eq!(e.code, tonic::Code::Unavailable as i32);
        assert_eq!(e.exception, "");
    }
}
