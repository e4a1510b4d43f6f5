//! What a game server hands the SDK: [`ServerParameters`] (where and who to connect as),
//! [`ProcessParameters`] (its port, log files and callbacks) and [`SdkConfig`] (timers).
//!
//! Environment handling follows the official SDKs: `init_sdk` lets each set
//! `GAMELIFT_SDK_*` variable override the value passed in code (GO `server_state.go` `init`,
//! CPP `GameLiftServerState::InitializeNetworking`), and the GO tuning variables
//! (`HEALTHCHECK_INTERVAL`, …) are read as GO duration strings.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::protocol::{GameSession, UpdateReason, env};
use crate::{SdkError, validate};

/// Where and as whom a game server connects (GO `server/parameters.go` `ServerParameters`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ServerParameters {
    /// Base WebSocket URL of the SDK endpoint (`GAMELIFT_SDK_WEBSOCKET_URL`), `ws://` or
    /// `wss://` (the latter needs the `tls` feature).
    pub web_socket_url: String,
    /// Process id (`GAMELIFT_SDK_PROCESS_ID`), unique per execution; sent as `pID`.
    pub process_id: String,
    /// Host id, i.e. the compute name (`GAMELIFT_SDK_HOST_ID`); sent as `ComputeId`.
    pub host_id: String,
    /// Fleet id (`GAMELIFT_SDK_FLEET_ID`); sent as `FleetId`.
    pub fleet_id: String,
    /// Auth token (`GAMELIFT_SDK_AUTH_TOKEN`); sent as `Authorization`.
    pub auth_token: String,
}

impl fmt::Debug for ServerParameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerParameters")
            .field("web_socket_url", &self.web_socket_url)
            .field("process_id", &self.process_id)
            .field("host_id", &self.host_id)
            .field("fleet_id", &self.fleet_id)
            .field("auth_token", &"<redacted>")
            .finish()
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `GAMELIFT_SDK_PROCESS_ID=ManagedResource` asks for a generated id (GO `common/env.go`).
fn resolve_process_id(value: String) -> String {
    if value == env::GENERATE_PROCESS_ID {
        uuid::Uuid::new_v4().to_string()
    } else {
        value
    }
}

impl ServerParameters {
    /// Reads the five `GAMELIFT_SDK_*` variables. Fails naming the first one that is unset.
    pub fn from_env() -> Result<ServerParameters, SdkError> {
        let get = |name: &str| {
            env_var(name).ok_or_else(|| {
                SdkError::Validation(format!("environment variable {name} is not set"))
            })
        };
        Ok(ServerParameters {
            web_socket_url: get(env::WEBSOCKET_URL)?,
            process_id: resolve_process_id(get(env::PROCESS_ID)?),
            host_id: get(env::HOST_ID)?,
            fleet_id: get(env::FLEET_ID)?,
            auth_token: get(env::AUTH_TOKEN)?,
        })
    }

    /// Replaces each field whose `GAMELIFT_SDK_*` variable is set and non-empty, as both official
    /// SDKs do inside `InitSDK(params)`.
    pub fn with_env_overrides(mut self) -> ServerParameters {
        let set = |field: &mut String, name: &str| {
            if let Some(v) = env_var(name) {
                *field = v;
            }
        };
        set(&mut self.web_socket_url, env::WEBSOCKET_URL);
        set(&mut self.process_id, env::PROCESS_ID);
        set(&mut self.host_id, env::HOST_ID);
        set(&mut self.fleet_id, env::FLEET_ID);
        set(&mut self.auth_token, env::AUTH_TOKEN);
        self.process_id = resolve_process_id(self.process_id);
        self
    }

    /// The checks `InitSDK` makes before connecting (GO `ValidateServerParameters` for the auth
    /// token mode): URL and process id non-empty, fleet id and host id well-formed, token set.
    pub fn validate(&self) -> Result<(), SdkError> {
        validate::non_empty("WebSocketURL", &self.web_socket_url, usize::MAX)?;
        if !(self.web_socket_url.starts_with("ws://") || self.web_socket_url.starts_with("wss://"))
        {
            return Err(SdkError::Validation(format!(
                "WebSocketURL must start with ws:// or wss:// (got {})",
                self.web_socket_url
            )));
        }
        if self.web_socket_url.starts_with("wss://") && !cfg!(feature = "tls") {
            return Err(SdkError::Validation(
                "WebSocketURL is wss:// but gamefleet-sdk was built without its `tls` feature"
                    .into(),
            ));
        }
        validate::non_empty("ProcessID", &self.process_id, usize::MAX)?;
        validate::guid("FleetID", &self.fleet_id)?;
        validate::compute_id("HostID", &self.host_id)?;
        if self.auth_token.is_empty() {
            return Err(SdkError::Validation(
                "AuthToken is required (SigV4 authentication is not supported by this SDK)".into(),
            ));
        }
        Ok(())
    }
}

/// A boxed, sendable future, the return type of the callbacks.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;
/// Callback for the `CreateGameSession` push.
pub type OnStartGameSession = Arc<dyn Fn(GameSession) -> BoxFuture<()> + Send + Sync>;
/// Callback for the `UpdateGameSession` push.
pub type OnUpdateGameSession = Arc<dyn Fn(UpdateGameSession) -> BoxFuture<()> + Send + Sync>;
/// Callback for the `TerminateProcess` push.
pub type OnProcessTerminate = Arc<dyn Fn() -> BoxFuture<()> + Send + Sync>;
/// Callback asked for the health verdict before each heartbeat.
pub type OnHealthCheck = Arc<dyn Fn() -> BoxFuture<bool> + Send + Sync>;

/// The argument of `on_update_game_session` (GO `model/update_game_session.go`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateGameSession {
    /// The updated game session.
    pub game_session: GameSession,
    /// Why it was updated, when the service said.
    pub update_reason: Option<UpdateReason>,
    /// The backfill ticket behind the update, or empty.
    pub backfill_ticket_id: String,
}

/// What `process_ready` registers (GO `ProcessParameters`): the game port, log files and the
/// callbacks.
///
/// # Callbacks
///
/// Callbacks are `async` closures, set with the builder methods:
///
/// ```no_run
/// # use gamefleet_sdk::{GameLiftServerSdk, ProcessParameters};
/// # async fn demo(sdk: GameLiftServerSdk) {
/// let on_start = sdk.clone();
/// let params = ProcessParameters::new(7777)
///     .log_paths(["/local/game/logs/server.log"])
///     .on_start_game_session(move |session| {
///         let sdk = on_start.clone();
///         async move {
///             println!("hosting {}", session.game_session_id);
///             sdk.activate_game_session().await.ok();
///         }
///     })
///     .on_health_check(|| async { true });
/// sdk.process_ready(params).await.unwrap();
/// # }
/// ```
///
/// Guarantees: each invocation runs as its own tokio task, so a slow callback never delays
/// frames, heartbeats or other callbacks (the official SDKs run each on its own thread). Pushes
/// that arrive while the process is not ready are ignored, as in the official SDKs.
///
/// * `on_start_game_session`: a game session was placed here; the SDK has already recorded its
///   id (so `activate_game_session` works). Call `activate_game_session` when ready for players.
/// * `on_update_game_session`: backfill changed the session.
/// * `on_process_terminate`: shut down within the termination time (see
///   `get_termination_time`) and call `process_ending`. **Without this callback the SDK calls
///   `process_ending` and `destroy` itself and exits the process** (code 0, or 1 if either
///   failed), as the official SDKs do; [`SdkConfig::exit_on_terminate`] turns the exit off.
/// * `on_health_check`: asked before every heartbeat; a verdict not ready within
///   [`SdkConfig::health_check_timeout`] counts as unhealthy. Without it the process reports
///   healthy.
#[derive(Clone, Default)]
pub struct ProcessParameters {
    /// Port players connect to (1 to 60000).
    pub port: u16,
    /// Files the service may collect (`LogPaths`).
    pub log_paths: Vec<String>,
    /// See the type docs.
    pub on_start_game_session: Option<OnStartGameSession>,
    /// See the type docs.
    pub on_update_game_session: Option<OnUpdateGameSession>,
    /// See the type docs.
    pub on_process_terminate: Option<OnProcessTerminate>,
    /// See the type docs.
    pub on_health_check: Option<OnHealthCheck>,
}

impl fmt::Debug for ProcessParameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessParameters")
            .field("port", &self.port)
            .field("log_paths", &self.log_paths)
            .field(
                "on_start_game_session",
                &self.on_start_game_session.is_some(),
            )
            .field(
                "on_update_game_session",
                &self.on_update_game_session.is_some(),
            )
            .field("on_process_terminate", &self.on_process_terminate.is_some())
            .field("on_health_check", &self.on_health_check.is_some())
            .finish()
    }
}

impl ProcessParameters {
    /// Parameters with this port and no log paths or callbacks.
    pub fn new(port: u16) -> ProcessParameters {
        ProcessParameters {
            port,
            ..ProcessParameters::default()
        }
    }

    /// Sets the log paths.
    pub fn log_paths<I, S>(mut self, paths: I) -> ProcessParameters
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.log_paths = paths.into_iter().map(Into::into).collect();
        self
    }

    /// Sets `on_start_game_session`.
    pub fn on_start_game_session<F, Fut>(mut self, f: F) -> ProcessParameters
    where
        F: Fn(GameSession) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_start_game_session = Some(Arc::new(move |s| Box::pin(f(s))));
        self
    }

    /// Sets `on_update_game_session`.
    pub fn on_update_game_session<F, Fut>(mut self, f: F) -> ProcessParameters
    where
        F: Fn(UpdateGameSession) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_update_game_session = Some(Arc::new(move |u| Box::pin(f(u))));
        self
    }

    /// Sets `on_process_terminate`.
    pub fn on_process_terminate<F, Fut>(mut self, f: F) -> ProcessParameters
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.on_process_terminate = Some(Arc::new(move || Box::pin(f())));
        self
    }

    /// Sets `on_health_check`.
    pub fn on_health_check<F, Fut>(mut self, f: F) -> ProcessParameters
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        self.on_health_check = Some(Arc::new(move || Box::pin(f())));
        self
    }
}

/// Timers and retry policy. Defaults are the official SDKs' values (GO `common/consts.go`,
/// `server_state.go`; CPP `WebSocketppClientWrapper.h`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkConfig {
    /// Time between heartbeats (GO `HEALTHCHECK_INTERVAL`, 60 s).
    pub health_check_interval: Duration,
    /// Each interval is moved by a random amount within ± this (GO `HEALTHCHECK_MAX_JITTER`,
    /// 10 s), capped at half the interval.
    pub health_check_max_jitter: Duration,
    /// How long `on_health_check` may take before the process reports unhealthy (GO
    /// `HEALTHCHECK_TIMEOUT`, 50 s).
    pub health_check_timeout: Duration,
    /// Timeout of every request except `ActivateServerProcess` (GO `SERVICE_CALL_TIMEOUT`, 20 s).
    pub service_call_timeout: Duration,
    /// Timeout of `ActivateServerProcess` (GO `ActivateServerProcessRequestTimeoutInSeconds`, 6 s).
    pub activate_server_process_timeout: Duration,
    /// WebSocket opening handshake timeout (CPP `WEBSOCKET_OPEN_HANDSHAKE_TIMEOUT_MILLIS`, 20 s).
    pub connect_timeout: Duration,
    /// Retries of the first connect in `init_sdk` after the first attempt fails (GO
    /// `ConnectMaxRetries`, 7).
    pub connect_retries: u32,
    /// First delay between (re)connect attempts; doubles on each failure (GO
    /// `ConnectRetryInterval`, 2 s).
    pub reconnect_initial_backoff: Duration,
    /// Longest delay between (re)connect attempts (GO `MaxReconnectBackoffDuration`, 32 s).
    pub reconnect_max_backoff: Duration,
    /// Delay before retrying a failed `RefreshConnection` (GO logs "each minute", 60 s).
    pub refresh_retry_interval: Duration,
    /// Consecutive request timeouts after which the socket is presumed half-open and reopened
    /// (GO `RequestTimeoutReconnectThreshold`, 2). 0 disables.
    pub timeouts_before_reconnect: u32,
    /// How long a replaced socket is still read after `RefreshConnection`, for replies in flight
    /// (GO `DISCONNECT_WEBSOCKET_TIMEOUT`, 5 s).
    pub refresh_drain_timeout: Duration,
    /// Exit the process after `TerminateProcess` when there is no `on_process_terminate`
    /// (official behaviour, true).
    pub exit_on_terminate: bool,
}

impl Default for SdkConfig {
    fn default() -> Self {
        SdkConfig {
            health_check_interval: Duration::from_secs(60),
            health_check_max_jitter: Duration::from_secs(10),
            health_check_timeout: Duration::from_secs(50),
            service_call_timeout: Duration::from_secs(20),
            activate_server_process_timeout: Duration::from_secs(6),
            connect_timeout: Duration::from_secs(20),
            connect_retries: 7,
            reconnect_initial_backoff: Duration::from_secs(2),
            reconnect_max_backoff: Duration::from_secs(32),
            refresh_retry_interval: Duration::from_secs(60),
            timeouts_before_reconnect: 2,
            refresh_drain_timeout: Duration::from_secs(5),
            exit_on_terminate: true,
        }
    }
}

impl SdkConfig {
    /// Defaults, with `HEALTHCHECK_INTERVAL`, `HEALTHCHECK_MAX_JITTER`, `HEALTHCHECK_TIMEOUT` and
    /// `SERVICE_CALL_TIMEOUT` read from the environment as GO duration strings (`60s`, `500ms`,
    /// `1m30s`); unparsable values are ignored with a warning, as in GO.
    pub fn from_env() -> SdkConfig {
        let mut config = SdkConfig::default();
        let read = |field: &mut Duration, name: &str| {
            if let Some(raw) = env_var(name) {
                match parse_go_duration(&raw) {
                    Some(d) => *field = d,
                    None => {
                        tracing::warn!(variable = name, value = %raw, "ignoring unparsable duration")
                    }
                }
            }
        };
        read(&mut config.health_check_interval, env::HEALTHCHECK_INTERVAL);
        read(
            &mut config.health_check_max_jitter,
            env::HEALTHCHECK_MAX_JITTER,
        );
        read(&mut config.health_check_timeout, env::HEALTHCHECK_TIMEOUT);
        read(&mut config.service_call_timeout, env::SERVICE_CALL_TIMEOUT);
        config
    }
}

/// Parses a GO `time.ParseDuration` string: an optional sign is not accepted (negative
/// durations make no sense here), then one or more `<number><unit>` with units `ns`, `us`,
/// `µs`, `ms`, `s`, `m`, `h`; `0` alone is zero.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = s;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let number: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * seconds_per_unit;
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("60s"), Some(Duration::from_secs(60)));
        assert_eq!(parse_go_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration(""), None);
        assert_eq!(parse_go_duration("5x"), None);
        assert_eq!(parse_go_duration("-5s"), None);
    }

    #[test]
    fn validation_names_the_field() {
        let good = ServerParameters {
            web_socket_url: "ws://127.0.0.1:1".into(),
            process_id: "p".into(),
            host_id: "node-1".into(),
            fleet_id: "fleet-1".into(),
            auth_token: "t".into(),
        };
        assert!(good.validate().is_ok());
        let cases = [
            (
                ServerParameters {
                    web_socket_url: "http://x".into(),
                    ..good.clone()
                },
                "WebSocketURL",
            ),
            (
                ServerParameters {
                    fleet_id: "fleet 1".into(),
                    ..good.clone()
                },
                "FleetID",
            ),
            (
                ServerParameters {
                    host_id: "".into(),
                    ..good.clone()
                },
                "HostID",
            ),
            (
                ServerParameters {
                    auth_token: "".into(),
                    ..good.clone()
                },
                "AuthToken",
            ),
        ];
        for (params, field) in cases {
            let err = params.validate().unwrap_err().to_string();
            assert!(err.contains(field), "{err}");
        }
        assert!(!format!("{good:?}").contains("\"t\""), "token is redacted");
    }
}
