//! Client errors: [`ClientError`], [`ErrorKind`] and the one mapping from a
//! `tonic::Status` (code plus the `x-gamefleet-exception` metadata) to them.
//!
//! This module decides what an error *means*; whether a failed attempt is
//! worth retrying is decided by the retry loop (`retry`), not here.

use std::fmt;

use tonic::Code;

/// The gRPC metadata key under which a gamefleet node names the GameLift
/// exception of a failed request (for example `NotFoundException`).
pub const EXCEPTION_METADATA_KEY: &str = "x-gamefleet-exception";

/// What went wrong, in GameLift's terms. Derived from the
/// `x-gamefleet-exception` metadata when present, else from the status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// `InvalidRequestException`: a parameter broke a rule (the message names
    /// the field and the rule), or the client was given a bad argument.
    InvalidRequest,
    /// `NotFoundException`: the named resource does not exist.
    NotFound,
    /// `InvalidFleetStatusException`: the fleet is not in a status that allows
    /// the request (for example not ACTIVE).
    InvalidFleetStatus,
    /// `InvalidGameSessionStatusException`.
    InvalidGameSessionStatus,
    /// `IdempotentParameterMismatchException`: an idempotency token was reused
    /// with different parameters.
    IdempotentParameterMismatch,
    /// `ConflictException` (for example a duplicate node name).
    Conflict,
    /// `LimitExceededException`.
    LimitExceeded,
    /// `FleetCapacityExceededException`: no free game server process.
    FleetCapacityExceeded,
    /// `GameSessionFullException`: the game session has no free player slot.
    GameSessionFull,
    /// `TerminalRoutingStrategyException`: the alias routes nowhere (TERMINAL);
    /// the message is the alias's.
    TerminalRoutingStrategy,
    /// `WrongClusterException`: the node belongs to another cluster.
    WrongCluster,
    /// No node could serve the request (no leader, no quorum, nodes down or
    /// unreachable) within the client's total timeout.
    Unavailable,
    /// The request timed out (per attempt, or overall).
    Timeout,
    /// `InternalServiceException`, or a response the client could not use.
    Internal,
    /// Anything else (an unexpected status code or exception name).
    Other,
}

impl ErrorKind {
    /// The kind's name as shown to users, e.g. `"NotFound"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "InvalidRequest",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::InvalidFleetStatus => "InvalidFleetStatus",
            ErrorKind::InvalidGameSessionStatus => "InvalidGameSessionStatus",
            ErrorKind::IdempotentParameterMismatch => "IdempotentParameterMismatch",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::LimitExceeded => "LimitExceeded",
            ErrorKind::FleetCapacityExceeded => "FleetCapacityExceeded",
            ErrorKind::GameSessionFull => "GameSessionFull",
            ErrorKind::TerminalRoutingStrategy => "TerminalRoutingStrategy",
            ErrorKind::WrongCluster => "WrongCluster",
            ErrorKind::Unavailable => "Unavailable",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::Internal => "Internal",
            ErrorKind::Other => "Other",
        }
    }

    /// The kind named by a GameLift exception name (the value of the
    /// `x-gamefleet-exception` metadata), or `None` for an unknown name.
    pub fn from_exception(name: &str) -> Option<ErrorKind> {
        let kind = match name.trim() {
            "InvalidRequestException" => ErrorKind::InvalidRequest,
            "NotFoundException" => ErrorKind::NotFound,
            "InvalidFleetStatusException" => ErrorKind::InvalidFleetStatus,
            "InvalidGameSessionStatusException" => ErrorKind::InvalidGameSessionStatus,
            "IdempotentParameterMismatchException" => ErrorKind::IdempotentParameterMismatch,
            "ConflictException" => ErrorKind::Conflict,
            "LimitExceededException" => ErrorKind::LimitExceeded,
            "FleetCapacityExceededException" => ErrorKind::FleetCapacityExceeded,
            "GameSessionFullException" => ErrorKind::GameSessionFull,
            "TerminalRoutingStrategyException" => ErrorKind::TerminalRoutingStrategy,
            "WrongClusterException" => ErrorKind::WrongCluster,
            "InternalServiceException" => ErrorKind::Internal,
            _ => return None,
        };
        Some(kind)
    }

    /// The kind a bare status code implies when the server named no exception.
    ///
    /// NB: `FAILED_PRECONDITION` and `RESOURCE_EXHAUSTED` each stand for
    /// several exceptions; without the metadata `FAILED_PRECONDITION` is
    /// `Other` and `RESOURCE_EXHAUSTED` is the generic `LimitExceeded`.
    pub fn from_code(code: Code) -> ErrorKind {
        match code {
            Code::InvalidArgument => ErrorKind::InvalidRequest,
            Code::NotFound => ErrorKind::NotFound,
            Code::AlreadyExists => ErrorKind::IdempotentParameterMismatch,
            Code::Aborted => ErrorKind::Conflict,
            Code::ResourceExhausted => ErrorKind::LimitExceeded,
            Code::Unavailable | Code::Cancelled => ErrorKind::Unavailable,
            Code::DeadlineExceeded => ErrorKind::Timeout,
            Code::Internal | Code::DataLoss => ErrorKind::Internal,
            Code::Ok
            | Code::Unknown
            | Code::FailedPrecondition
            | Code::PermissionDenied
            | Code::Unauthenticated
            | Code::OutOfRange
            | Code::Unimplemented => ErrorKind::Other,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error returned by [`crate::Client`]: the gRPC code, what it means, and
/// the server's (or the client's) message. Displays as `<Kind>: <message>`.
#[derive(Debug, Clone)]
pub struct ClientError {
    /// The gRPC status code (for client-side errors, the closest code).
    pub code: Code,
    /// What went wrong.
    pub kind: ErrorKind,
    /// The human-readable message, e.g. `"name: must be 1-1024 characters"`.
    pub message: String,
}

impl ClientError {
    /// An error with the given kind, code and message.
    pub fn new(kind: ErrorKind, code: Code, message: impl Into<String>) -> ClientError {
        ClientError {
            code,
            kind,
            message: message.into(),
        }
    }

    /// A bad argument caught by the client before any request was sent.
    pub fn invalid_request(message: impl Into<String>) -> ClientError {
        ClientError::new(ErrorKind::InvalidRequest, Code::InvalidArgument, message)
    }

    /// A response the client cannot use (for example a missing field).
    pub fn internal(message: impl Into<String>) -> ClientError {
        ClientError::new(ErrorKind::Internal, Code::Internal, message)
    }

    /// Maps a status as received from a node: the `x-gamefleet-exception`
    /// metadata decides the kind when it names a known exception, otherwise
    /// the status code does.
    pub fn from_status(status: &tonic::Status) -> ClientError {
        let exception = status
            .metadata()
            .get(EXCEPTION_METADATA_KEY)
            .and_then(|v| v.to_str().ok());
        let kind = exception
            .and_then(ErrorKind::from_exception)
            .unwrap_or_else(|| ErrorKind::from_code(status.code()));
        let message = if status.message().is_empty() {
            status.code().description().to_string()
        } else {
            status.message().to_string()
        };
        ClientError::new(kind, status.code(), message)
    }
}

impl From<tonic::Status> for ClientError {
    fn from(status: tonic::Status) -> ClientError {
        ClientError::from_status(&status)
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for ClientError {}

#[cfg(test)]
mod tests {
    use tonic::metadata::MetadataValue;

    use super::*;

    fn status_with_exception(code: Code, msg: &str, exception: &str) -> tonic::Status {
        let mut status = tonic::Status::new(code, msg);
        status.metadata_mut().insert(
            EXCEPTION_METADATA_KEY,
            MetadataValue::try_from(exception).unwrap(),
        );
        status
    }

    #[test]
    fn exception_metadata_decides_the_kind() {
        let cases = [
            (
                Code::InvalidArgument,
                "InvalidRequestException",
                ErrorKind::InvalidRequest,
            ),
            (Code::NotFound, "NotFoundException", ErrorKind::NotFound),
            (
                Code::FailedPrecondition,
                "InvalidFleetStatusException",
                ErrorKind::InvalidFleetStatus,
            ),
            (
                Code::FailedPrecondition,
                "InvalidGameSessionStatusException",
                ErrorKind::InvalidGameSessionStatus,
            ),
            (
                Code::FailedPrecondition,
                "WrongClusterException",
                ErrorKind::WrongCluster,
            ),
            (
                Code::AlreadyExists,
                "IdempotentParameterMismatchException",
                ErrorKind::IdempotentParameterMismatch,
            ),
            (Code::Aborted, "ConflictException", ErrorKind::Conflict),
            (
                Code::ResourceExhausted,
                "LimitExceededException",
                ErrorKind::LimitExceeded,
            ),
            (
                Code::ResourceExhausted,
                "FleetCapacityExceededException",
                ErrorKind::FleetCapacityExceeded,
            ),
            (
                Code::ResourceExhausted,
                "GameSessionFullException",
                ErrorKind::GameSessionFull,
            ),
            (
                Code::FailedPrecondition,
                "TerminalRoutingStrategyException",
                ErrorKind::TerminalRoutingStrategy,
            ),
            (
                Code::Internal,
                "InternalServiceException",
                ErrorKind::Internal,
            ),
        ];
        for (code, exception, want) in cases {
            let err = ClientError::from_status(&status_with_exception(code, "boom", exception));
            assert_eq!(err.kind, want, "{exception}");
            assert_eq!(err.code, code, "{exception}");
            assert_eq!(err.message, "boom");
        }
    }

    #[test]
    fn code_decides_the_kind_without_metadata() {
        let cases = [
            (Code::InvalidArgument, ErrorKind::InvalidRequest),
            (Code::NotFound, ErrorKind::NotFound),
            (Code::FailedPrecondition, ErrorKind::Other),
            (Code::AlreadyExists, ErrorKind::IdempotentParameterMismatch),
            (Code::Aborted, ErrorKind::Conflict),
            (Code::ResourceExhausted, ErrorKind::LimitExceeded),
            (Code::Unavailable, ErrorKind::Unavailable),
            (Code::Cancelled, ErrorKind::Unavailable),
            (Code::DeadlineExceeded, ErrorKind::Timeout),
            (Code::Internal, ErrorKind::Internal),
            (Code::Unknown, ErrorKind::Other),
            (Code::Unimplemented, ErrorKind::Other),
            (Code::PermissionDenied, ErrorKind::Other),
        ];
        for (code, want) in cases {
            let err = ClientError::from_status(&tonic::Status::new(code, "m"));
            assert_eq!(err.kind, want, "{code:?}");
            assert_eq!(err.code, code);
        }
    }

    #[test]
    fn unknown_exception_name_falls_back_to_the_code() {
        let status = status_with_exception(Code::NotFound, "gone", "SomethingNewException");
        assert_eq!(ClientError::from_status(&status).kind, ErrorKind::NotFound);
        let status = status_with_exception(Code::Unknown, "?", "SomethingNewException");
        assert_eq!(ClientError::from_status(&status).kind, ErrorKind::Other);
    }

    #[test]
    fn metadata_wins_over_a_mismatched_code() {
        // The exception name is the precise signal; the code is the fallback.
        let status = status_with_exception(Code::Unknown, "x", "ConflictException");
        let err = ClientError::from(status);
        assert_eq!(err.kind, ErrorKind::Conflict);
        assert_eq!(err.code, Code::Unknown);
    }

    #[test]
    fn display_is_kind_colon_message() {
        let status = status_with_exception(
            Code::InvalidArgument,
            "name: must be 1-1024 characters",
            "InvalidRequestException",
        );
        assert_eq!(
            ClientError::from_status(&status).to_string(),
            "InvalidRequest: name: must be 1-1024 characters"
        );
        // An empty server message is replaced by the code's description.
        let err = ClientError::from_status(&tonic::Status::new(Code::Unavailable, ""));
        assert!(err.to_string().starts_with("Unavailable: "));
        assert!(err.message.len() > 3, "{err}");
    }

    #[test]
    fn every_kind_has_a_distinct_name() {
        let kinds = [
            ErrorKind::InvalidRequest,
            ErrorKind::NotFound,
            ErrorKind::InvalidFleetStatus,
            ErrorKind::InvalidGameSessionStatus,
            ErrorKind::IdempotentParameterMismatch,
            ErrorKind::Conflict,
            ErrorKind::LimitExceeded,
            ErrorKind::FleetCapacityExceeded,
            ErrorKind::GameSessionFull,
            ErrorKind::TerminalRoutingStrategy,
            ErrorKind::WrongCluster,
            ErrorKind::Unavailable,
            ErrorKind::Timeout,
            ErrorKind::Internal,
            ErrorKind::Other,
        ];
        let names: std::collections::BTreeSet<_> = kinds.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), kinds.len());
        for k in kinds {
            assert_eq!(format!("{k:?}"), k.as_str());
        }
    }
}
