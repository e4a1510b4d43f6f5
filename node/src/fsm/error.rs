//! The state machine's error type: expected, deterministic outcomes of applying a
//! command (bad input, unknown id, wrong status). They are part of the replicated
//! result, so every replica computes the same error for the same command.

use serde::{Deserialize, Serialize};

/// Why a command was refused. Refused commands change nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum FsmError {
    /// A field breaks a rule; `field` uses the API's field name.
    #[error("{field}: {rule}")]
    InvalidArgument { field: String, rule: String },
    /// The named resource does not exist.
    #[error("{kind} not found: {id}")]
    NotFound { kind: String, id: String },
    /// The resource is in a status that does not allow the operation.
    #[error("{message}")]
    InvalidStatus { kind: String, message: String },
    /// An idempotency token was reused with different parameters.
    #[error("idempotency token {token} was already used with different parameters")]
    IdempotentParameterMismatch { token: String },
    /// A cluster-wide limit would be exceeded.
    #[error("{message}")]
    LimitExceeded { message: String },
    /// No server process is free to host a new game session.
    #[error("{message}")]
    FleetCapacityExceeded { message: String },
    /// The game session has not enough free player slots.
    #[error("{message}")]
    GameSessionFull { message: String },
    /// The alias routes nowhere (TERMINAL routing strategy); `message` is the alias's.
    #[error("{message}")]
    TerminalRoutingStrategy { message: String },
    /// The entry was written by a newer gamefleet with a format this node does not know.
    #[error(
        "unsupported command format version {version} (this node understands up to {supported})"
    )]
    UnsupportedVersion { version: u32, supported: u32 },
}

impl FsmError {
    /// Shorthand for [`FsmError::InvalidArgument`].
    pub fn invalid(field: impl Into<String>, rule: impl Into<String>) -> Self {
        FsmError::InvalidArgument {
            field: field.into(),
            rule: rule.into(),
        }
    }

    /// Shorthand for [`FsmError::NotFound`].
    pub fn not_found(kind: impl Into<String>, id: impl Into<String>) -> Self {
        FsmError::NotFound {
            kind: kind.into(),
            id: id.into(),
        }
    }
}
