//! The server SDK API: [`GameLiftServerSdk`], the handle a game server calls, with the same
//! operations as the official `GameLiftServerAPI` (GO `server/gamelift_server_api.go`, CPP
//! `include/aws/gamelift/server/GameLiftServerAPI.h`).
//!
//! It owns the process state the official SDKs keep (ready flag, game session id, termination
//! time, callbacks, heartbeat loop, fleet role credential cache) and turns calls into requests
//! for the connection task. It does no socket IO itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::connection::{self, Command, Dispatch, Pending, Target};
use crate::params::{
    OnHealthCheck, OnProcessTerminate, OnStartGameSession, OnUpdateGameSession, UpdateGameSession,
};
use crate::protocol::{
    AcceptPlayerSessionRequest, Action, ActivateGameSessionRequest, ActivateServerProcessRequest,
    DescribePlayerSessionsRequest, DescribePlayerSessionsResult, GameSession,
    GetComputeCertificateRequest, GetComputeCertificateResult, GetFleetRoleCredentialsRequest,
    GetFleetRoleCredentialsResult, HeartbeatServerProcessRequest, PlayerSessionCreationPolicy,
    PlayerSessionStatus, RemovePlayerSessionRequest, Response, ResponseBody, SDK_LANGUAGE,
    SDK_VERSION, StartMatchBackfillRequest, StartMatchBackfillResult, StopMatchBackfillRequest,
    TerminateServerProcessRequest, ToSdk, ToService, UpdatePlayerSessionCreationPolicyRequest, env,
};
use crate::{ProcessParameters, SdkConfig, SdkError, ServerParameters, validate};

/// Fleet role credentials are reused until this close to expiry (GO
/// `InstanceRoleCredentialTTL`, 15 min).
const ROLE_CREDENTIALS_MIN_TTL: Duration = Duration::from_secs(15 * 60);

/// A connected server SDK. Cheap to clone; every clone is the same SDK instance.
///
/// Create it with [`init_sdk`](Self::init_sdk), [`init_sdk_from_env`](Self::init_sdk_from_env)
/// or [`init_sdk_with`](Self::init_sdk_with), then call [`process_ready`](Self::process_ready).
/// Call [`destroy`](Self::destroy) before dropping the last handle: callbacks usually hold a
/// clone, and `destroy` releases them. Needs a tokio runtime (multi- or current-thread).
#[derive(Clone)]
pub struct GameLiftServerSdk {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for GameLiftServerSdk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GameLiftServerSdk")
            .field("params", &self.inner.params)
            .finish_non_exhaustive()
    }
}

struct Inner {
    /// This instance, for push handlers that need a full handle.
    me: Weak<Inner>,
    params: ServerParameters,
    config: SdkConfig,
    commands: mpsc::UnboundedSender<Command>,
    pending: Arc<Pending>,
    // NB: std Mutex: never held across an await.
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    destroyed: bool,
    process_ready: bool,
    game_session_id: Option<String>,
    /// Epoch milliseconds from the last `TerminateProcess`.
    termination_time_ms: Option<i64>,
    callbacks: Callbacks,
    heartbeat: Option<CancellationToken>,
    role_credentials: HashMap<String, GetFleetRoleCredentialsResult>,
    /// False once the service said the fleet has no role credentials (GO `onManagedEC2`).
    no_fleet_role: bool,
}

#[derive(Default, Clone)]
struct Callbacks {
    on_start_game_session: Option<OnStartGameSession>,
    on_update_game_session: Option<OnUpdateGameSession>,
    on_process_terminate: Option<OnProcessTerminate>,
    on_health_check: Option<OnHealthCheck>,
}

fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn env_opt(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl GameLiftServerSdk {
    /// The GameLift Server SDK version whose protocol this SDK speaks.
    pub fn get_sdk_version() -> &'static str {
        SDK_VERSION
    }

    /// `InitSDK(params)`: connects to the SDK endpoint. As in the official SDKs, each set
    /// `GAMELIFT_SDK_*` variable overrides the matching field, and the timers come from
    /// [`SdkConfig::from_env`].
    pub async fn init_sdk(params: ServerParameters) -> Result<GameLiftServerSdk, SdkError> {
        Self::init_sdk_with(params.with_env_overrides(), SdkConfig::from_env()).await
    }

    /// `InitSDK()`: connects with the parameters of the five `GAMELIFT_SDK_*` variables.
    pub async fn init_sdk_from_env() -> Result<GameLiftServerSdk, SdkError> {
        Self::init_sdk_with(ServerParameters::from_env()?, SdkConfig::from_env()).await
    }

    /// Connects with exactly these parameters and timers (no environment lookups).
    ///
    /// Fails with [`SdkError::Validation`] on bad parameters, and with [`SdkError::Network`]
    /// when the socket cannot be opened after `config.connect_retries` retries.
    pub async fn init_sdk_with(
        params: ServerParameters,
        config: SdkConfig,
    ) -> Result<GameLiftServerSdk, SdkError> {
        params.validate()?;
        let target = Target {
            url: params.web_socket_url.clone(),
            auth_token: params.auth_token.clone(),
            process_id: params.process_id.clone(),
            host_id: params.host_id.clone(),
            fleet_id: params.fleet_id.clone(),
        };
        let stream = connection::connect_with_retries(&target, &config).await?;
        info!(url = %params.web_socket_url, process_id = %params.process_id, "SDK connected");
        let pending = Arc::new(Pending::default());
        let inner = Arc::new_cyclic(|weak: &Weak<Inner>| {
            let dispatch: Weak<dyn Dispatch> = weak.clone();
            let (commands, _task) =
                connection::spawn(stream, target, config.clone(), pending.clone(), dispatch);
            Inner {
                me: weak.clone(),
                params,
                config,
                commands,
                pending,
                state: Mutex::new(State::default()),
            }
        });
        Ok(GameLiftServerSdk { inner })
    }

    /// `ProcessReady`: registers the callbacks and tells the service this process can host a
    /// game session on `params.port` (`ActivateServerProcess`, 6 s timeout). On success the
    /// heartbeat loop starts: one `HeartbeatServerProcess` at once, then every
    /// `health_check_interval` ± jitter.
    pub async fn process_ready(&self, params: ProcessParameters) -> Result<(), SdkError> {
        self.inner.check_initialized()?;
        validate::port(params.port)?;
        self.inner.lock().callbacks = Callbacks {
            on_start_game_session: params.on_start_game_session,
            on_update_game_session: params.on_update_game_session,
            on_process_terminate: params.on_process_terminate,
            on_health_check: params.on_health_check,
        };
        let request = ToService::ActivateServerProcess(ActivateServerProcessRequest {
            request_id: new_request_id(),
            sdk_version: SDK_VERSION.into(),
            sdk_language: SDK_LANGUAGE.into(),
            sdk_tool_name: env_opt(env::SDK_TOOL_NAME),
            sdk_tool_version: env_opt(env::SDK_TOOL_VERSION),
            port: params.port,
            log_paths: params.log_paths,
        });
        self.inner
            .call(request, self.inner.config.activate_server_process_timeout)
            .await?;
        // NB: `process_ready` was already set by `Dispatch::response`, before any push that
        // followed the reply was routed.
        let token = CancellationToken::new();
        let previous = self.inner.lock().heartbeat.replace(token.clone());
        if let Some(previous) = previous {
            previous.cancel();
        }
        spawn_heartbeat(Arc::downgrade(&self.inner), token);
        info!(port = params.port, "process ready");
        Ok(())
    }

    /// `ProcessEnding`: tells the service this process is shutting down
    /// (`TerminateServerProcess`). On success heartbeats stop and the process is no longer
    /// ready; the game server should then exit (the service expects that within 30 s).
    pub async fn process_ending(&self) -> Result<(), SdkError> {
        self.inner.check_initialized()?;
        let request = ToService::TerminateServerProcess(TerminateServerProcessRequest {
            request_id: new_request_id(),
        });
        self.inner
            .call(request, self.inner.config.service_call_timeout)
            .await?;
        if let Some(token) = self.inner.lock().heartbeat.take() {
            token.cancel();
        }
        info!("process ending");
        Ok(())
    }

    /// `ActivateGameSession`: the game session from `on_start_game_session` is ready for
    /// players.
    pub async fn activate_game_session(&self) -> Result<(), SdkError> {
        let game_session_id = self.inner.game_session()?;
        let request = ToService::ActivateGameSession(ActivateGameSessionRequest {
            request_id: new_request_id(),
            game_session_id,
        });
        self.inner.call_default(request).await.map(drop)
    }

    /// `UpdatePlayerSessionCreationPolicy`: opens (`AcceptAll`) or closes (`DenyAll`) the game
    /// session to new player sessions.
    pub async fn update_player_session_creation_policy(
        &self,
        policy: PlayerSessionCreationPolicy,
    ) -> Result<(), SdkError> {
        let game_session_id = self.inner.game_session()?;
        if policy == PlayerSessionCreationPolicy::NotSet {
            return Err(SdkError::Validation(
                "PlayerSessionCreationPolicy must be one of [ACCEPT_ALL, DENY_ALL]".into(),
            ));
        }
        let request = ToService::UpdatePlayerSessionCreationPolicy(
            UpdatePlayerSessionCreationPolicyRequest {
                request_id: new_request_id(),
                game_session_id,
                player_session_policy: policy,
            },
        );
        self.inner.call_default(request).await.map(drop)
    }

    /// `GetGameSessionId`: the id of the game session placed on this process.
    pub fn get_game_session_id(&self) -> Result<String, SdkError> {
        let state = self.inner.lock();
        if state.destroyed {
            return Err(SdkError::NotInitialized);
        }
        state.game_session_id.clone().ok_or(SdkError::NoGameSession)
    }

    /// `GetTerminationTime`: when the process will be shut down, in epoch **seconds** (the push
    /// carries milliseconds; GO divides by 1000 too). Fails until a `TerminateProcess` push
    /// arrived.
    pub fn get_termination_time(&self) -> Result<i64, SdkError> {
        let state = self.inner.lock();
        if state.destroyed {
            return Err(SdkError::NotInitialized);
        }
        state
            .termination_time_ms
            .map(|ms| ms / 1000)
            .ok_or(SdkError::TerminationTimeNotSet)
    }

    /// `AcceptPlayerSession`: validates a connecting player's player session id. An error (for
    /// example [`SdkError::Service`] with status 400 or 404) means the player must be refused.
    pub async fn accept_player_session(&self, player_session_id: &str) -> Result<(), SdkError> {
        let game_session_id = self.inner.game_session()?;
        validate::guid("PlayerSessionID", player_session_id)?;
        let request = ToService::AcceptPlayerSession(AcceptPlayerSessionRequest {
            request_id: new_request_id(),
            game_session_id,
            player_session_id: player_session_id.into(),
        });
        self.inner.call_default(request).await.map(drop)
    }

    /// `RemovePlayerSession`: a player disconnected; frees the slot.
    pub async fn remove_player_session(&self, player_session_id: &str) -> Result<(), SdkError> {
        let game_session_id = self.inner.game_session()?;
        validate::guid("PlayerSessionID", player_session_id)?;
        let request = ToService::RemovePlayerSession(RemovePlayerSessionRequest {
            request_id: new_request_id(),
            game_session_id,
            player_session_id: player_session_id.into(),
        });
        self.inner.call_default(request).await.map(drop)
    }

    /// `DescribePlayerSessions`: lists player sessions by exactly one of game session id,
    /// player session id or player id. `request.request_id` is replaced.
    pub async fn describe_player_sessions(
        &self,
        mut request: DescribePlayerSessionsRequest,
    ) -> Result<DescribePlayerSessionsResult, SdkError> {
        self.inner.check_ready()?;
        let set = [
            &request.game_session_id,
            &request.player_session_id,
            &request.player_id,
        ]
        .iter()
        .filter(|v| v.is_some())
        .count();
        if set != 1 {
            return Err(SdkError::Validation(
                "exactly one of GameSessionId, PlayerSessionId, or PlayerId is required".into(),
            ));
        }
        if let Some(id) = &request.game_session_id {
            validate::arn_chars("GameSessionID", id, 256)?;
        }
        if let Some(id) = &request.player_session_id {
            validate::non_empty("PlayerSessionID", id, 1024)?;
        }
        if let Some(id) = &request.player_id {
            validate::non_empty("PlayerID", id, 1024)?;
        }
        if let Some(filter) = &request.player_session_status_filter
            && PlayerSessionStatus::from_filter(filter).is_none()
        {
            return Err(SdkError::Validation(
                "PlayerSessionStatusFilter must be one of [RESERVED, ACTIVE, COMPLETED, TIMEDOUT]"
                    .into(),
            ));
        }
        request.request_id = new_request_id();
        let response = self
            .inner
            .call_default(ToService::DescribePlayerSessions(request))
            .await?;
        match response.body {
            ResponseBody::DescribePlayerSessions(result) => Ok(result),
            _ => Ok(DescribePlayerSessionsResult::default()),
        }
    }

    /// `StartMatchBackfill`: asks FlexMatch to fill empty slots. `request.request_id` is
    /// replaced.
    pub async fn start_match_backfill(
        &self,
        mut request: StartMatchBackfillRequest,
    ) -> Result<StartMatchBackfillResult, SdkError> {
        self.inner.check_ready()?;
        validate::arn_chars("GameSessionArn", &request.game_session_arn, 256)?;
        validate::gamelift_arn(
            "MatchmakingConfigurationArn",
            &request.matchmaking_configuration_arn,
        )?;
        validate::matchmaking_id("TicketID", &request.ticket_id, false)?;
        if request.players.is_empty() {
            return Err(SdkError::Validation("Players cannot be empty".into()));
        }
        request.request_id = new_request_id();
        let response = self
            .inner
            .call_default(ToService::StartMatchBackfill(request))
            .await?;
        match response.body {
            ResponseBody::StartMatchBackfill(result) => Ok(result),
            _ => Ok(StartMatchBackfillResult::default()),
        }
    }

    /// `StopMatchBackfill`: cancels a backfill ticket. `request.request_id` is replaced.
    pub async fn stop_match_backfill(
        &self,
        mut request: StopMatchBackfillRequest,
    ) -> Result<(), SdkError> {
        self.inner.check_ready()?;
        validate::gamelift_arn("GameSessionArn", &request.game_session_arn)?;
        validate::gamelift_arn(
            "MatchmakingConfigurationArn",
            &request.matchmaking_configuration_arn,
        )?;
        validate::matchmaking_id("TicketID", &request.ticket_id, true)?;
        request.request_id = new_request_id();
        self.inner
            .call_default(ToService::StopMatchBackfill(request))
            .await
            .map(drop)
    }

    /// `GetComputeCertificate`: path of the compute's TLS certificate and the compute name.
    pub async fn get_compute_certificate(&self) -> Result<GetComputeCertificateResult, SdkError> {
        self.inner.check_ready()?;
        let request = ToService::GetComputeCertificate(GetComputeCertificateRequest {
            request_id: new_request_id(),
        });
        let response = self.inner.call_default(request).await?;
        match response.body {
            ResponseBody::GetComputeCertificate(result) => Ok(result),
            _ => Ok(GetComputeCertificateResult::default()),
        }
    }

    /// `GetFleetRoleCredentials`: temporary credentials of the fleet's IAM role. Results are
    /// cached per role ARN until 15 minutes before they expire, and an empty `AccessKeyId`
    /// reply ("not a managed fleet") fails this and every later call, as in GO.
    /// `request.request_id` is replaced; an empty `role_session_name` becomes
    /// `<fleetId>-<hostId>` cut to 64 characters.
    pub async fn get_fleet_role_credentials(
        &self,
        mut request: GetFleetRoleCredentialsRequest,
    ) -> Result<GetFleetRoleCredentialsResult, SdkError> {
        let not_managed = || {
            SdkError::Validation(
                "fleet role credentials are only available to servers on a managed fleet".into(),
            )
        };
        {
            let mut state = self.inner.lock();
            if state.no_fleet_role {
                return Err(not_managed());
            }
            if let Some(cached) = state.role_credentials.get(&request.role_arn) {
                let now_ms = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_millis() as i64)
                    .unwrap_or(0);
                if cached.expiration - now_ms > ROLE_CREDENTIALS_MIN_TTL.as_millis() as i64 {
                    return Ok(cached.clone());
                }
                state.role_credentials.remove(&request.role_arn);
            }
        }
        if request.role_session_name.is_empty() {
            let name = format!(
                "{}-{}",
                self.inner.params.fleet_id, self.inner.params.host_id
            );
            request.role_session_name = name.chars().take(64).collect();
        }
        validate::arn_chars("RoleArn", &request.role_arn, 256)?;
        validate::role_session_name("RoleSessionName", &request.role_session_name)?;
        self.inner.check_ready()?;
        request.request_id = new_request_id();
        let role_arn = request.role_arn.clone();
        let response = self
            .inner
            .call_default(ToService::GetFleetRoleCredentials(request))
            .await?;
        let result = match response.body {
            ResponseBody::GetFleetRoleCredentials(result) => result,
            _ => GetFleetRoleCredentialsResult::default(),
        };
        let mut state = self.inner.lock();
        if result.access_key_id.is_empty() {
            state.no_fleet_role = true;
            return Err(not_managed());
        }
        state.role_credentials.insert(role_arn, result.clone());
        Ok(result)
    }

    /// `Destroy`: stops heartbeats, closes the socket (code 1001) and releases the callbacks.
    /// Every later call fails with [`SdkError::NotInitialized`]. Idempotent.
    pub async fn destroy(&self) -> Result<(), SdkError> {
        let heartbeat = {
            let mut state = self.inner.lock();
            state.destroyed = true;
            state.process_ready = false;
            state.callbacks = Callbacks::default();
            state.heartbeat.take()
        };
        if let Some(token) = heartbeat {
            token.cancel();
        }
        let (done, closed) = oneshot::channel();
        if self.inner.commands.send(Command::Shutdown { done }).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(5), closed).await;
        }
        Ok(())
    }

    /// The parameters this SDK connected with (after environment overrides).
    pub fn server_parameters(&self) -> &ServerParameters {
        &self.inner.params
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // State stays consistent under poisoning: every critical section is a few assignments.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn check_initialized(&self) -> Result<(), SdkError> {
        if self.lock().destroyed {
            Err(SdkError::NotInitialized)
        } else {
            Ok(())
        }
    }

    fn check_ready(&self) -> Result<(), SdkError> {
        let state = self.lock();
        if state.destroyed {
            Err(SdkError::NotInitialized)
        } else if !state.process_ready {
            Err(SdkError::ProcessNotReady)
        } else {
            Ok(())
        }
    }

    /// The current game session id, for calls that need a ready process with a session.
    fn game_session(&self) -> Result<String, SdkError> {
        self.check_ready()?;
        self.lock()
            .game_session_id
            .clone()
            .ok_or(SdkError::NoGameSession)
    }

    async fn call_default(&self, request: ToService) -> Result<Response, SdkError> {
        self.call(request, self.config.service_call_timeout).await
    }

    /// Sends a request and waits for its reply (a non-200 reply is [`SdkError::Service`]).
    async fn call(&self, request: ToService, timeout: Duration) -> Result<Response, SdkError> {
        let request_id = request.request_id().to_string();
        let action = request.action();
        let reply = self.pending.insert(&request_id, action);
        let frame = request.to_json();
        debug!(%action, %request_id, "request");
        if self
            .commands
            .send(Command::Send {
                request_id: request_id.clone(),
                frame,
            })
            .is_err()
        {
            self.pending.remove(&request_id);
            return Err(SdkError::NotInitialized);
        }
        match tokio::time::timeout(timeout, reply).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(SdkError::NotInitialized),
            Err(_) => {
                self.pending.remove(&request_id);
                let _ = self.commands.send(Command::RequestTimedOut { request_id });
                Err(SdkError::Timeout {
                    action,
                    after: timeout,
                })
            }
        }
    }

    fn next_heartbeat_delay(&self) -> Duration {
        let interval = self.config.health_check_interval;
        let jitter = self.config.health_check_max_jitter.min(interval / 2);
        let jitter_ms = jitter.as_millis() as u64;
        if jitter_ms == 0 {
            return interval;
        }
        // Uniform in [-jitter, +jitter]; the v4 UUID is 122 random bits.
        let random = uuid::Uuid::new_v4().as_u128() as u64 % (2 * jitter_ms + 1);
        (interval + Duration::from_millis(random)).saturating_sub(jitter)
    }
}

impl Dispatch for Inner {
    fn response(&self, response: &Response) {
        if !response.is_success() {
            return;
        }
        match response.action {
            Action::ActivateServerProcess => self.lock().process_ready = true,
            Action::TerminateServerProcess => self.lock().process_ready = false,
            _ => {}
        }
    }

    fn push(&self, push: ToSdk) {
        match push {
            ToSdk::CreateGameSession(m) => {
                let session = GameSession {
                    game_session_id: m.game_session_id,
                    game_session_data: m.game_session_data,
                    name: m.game_session_name,
                    matchmaker_data: m.matchmaker_data,
                    fleet_id: self.params.fleet_id.clone(),
                    location: String::new(),
                    maximum_player_session_count: m.maximum_player_session_count,
                    ip_address: m.ip_address,
                    port: m.port,
                    dns_name: m.dns_name,
                    game_properties: m.game_properties,
                    status: None,
                    status_reason: String::new(),
                };
                let callback = {
                    let mut state = self.lock();
                    if !state.process_ready {
                        debug!(game_session_id = %session.game_session_id, "CreateGameSession on a process that is not ready; ignored");
                        return;
                    }
                    state.game_session_id = Some(session.game_session_id.clone());
                    state.callbacks.on_start_game_session.clone()
                };
                info!(game_session_id = %session.game_session_id, "game session started");
                if let Some(callback) = callback {
                    tokio::spawn(callback(session));
                }
            }
            ToSdk::UpdateGameSession(m) => {
                let callback = {
                    let state = self.lock();
                    if !state.process_ready {
                        debug!("UpdateGameSession on a process that is not ready; ignored");
                        return;
                    }
                    state.callbacks.on_update_game_session.clone()
                };
                if let Some(callback) = callback {
                    tokio::spawn(callback(UpdateGameSession {
                        game_session: m.game_session,
                        update_reason: m.update_reason,
                        backfill_ticket_id: m.backfill_ticket_id,
                    }));
                }
            }
            ToSdk::TerminateProcess(m) => {
                let (ready, callback) = {
                    let mut state = self.lock();
                    state.termination_time_ms = Some(m.termination_time);
                    (
                        state.process_ready,
                        state.callbacks.on_process_terminate.clone(),
                    )
                };
                info!(
                    termination_time_ms = m.termination_time,
                    "TerminateProcess received"
                );
                if !ready {
                    // NB: CPP ignores the push then (no callbacks are registered yet).
                    return;
                }
                match callback {
                    Some(callback) => {
                        tokio::spawn(callback());
                    }
                    None => self.end_without_handler(),
                }
            }
            ToSdk::RefreshConnection(_) | ToSdk::Response(_) => {}
        }
    }
}

impl Inner {
    /// The official default when `on_process_terminate` is not set: `ProcessEnding`,
    /// `Destroy`, then exit (0, or 1 if either failed).
    fn end_without_handler(&self) {
        let Some(sdk) = self.handle() else { return };
        let exit = self.config.exit_on_terminate;
        info!("no on_process_terminate callback: ending the process");
        tokio::spawn(async move {
            let ended = sdk.process_ending().await;
            if let Err(e) = &ended {
                warn!(error = %e, "ProcessEnding failed");
            }
            let destroyed = sdk.destroy().await;
            if exit {
                std::process::exit(if ended.is_ok() && destroyed.is_ok() {
                    0
                } else {
                    1
                });
            }
        });
    }

    /// A strong handle to this instance.
    fn handle(&self) -> Option<GameLiftServerSdk> {
        self.me.upgrade().map(|inner| GameLiftServerSdk { inner })
    }
}

/// The heartbeat loop: one beat at once, then one per interval ± jitter, each beat on its own
/// task (GO `startHealthCheck`), until `token` is cancelled or the SDK is dropped.
fn spawn_heartbeat(inner: Weak<Inner>, token: CancellationToken) {
    tokio::spawn(async move {
        loop {
            let Some(strong) = inner.upgrade() else {
                return;
            };
            let delay = strong.next_heartbeat_delay();
            tokio::spawn(beat(strong, token.clone()));
            tokio::select! {
                () = token.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
        }
    });
}

/// One heartbeat: ask `on_health_check` (unhealthy if it overruns the timeout; healthy if there
/// is none), then send `HeartbeatServerProcess` and wait for the reply.
async fn beat(inner: Arc<Inner>, token: CancellationToken) {
    let callback = inner.lock().callbacks.on_health_check.clone();
    let healthy = match callback {
        None => true,
        Some(callback) => {
            match tokio::time::timeout(inner.config.health_check_timeout, callback()).await {
                Ok(healthy) => healthy,
                Err(_) => {
                    warn!("on_health_check timed out; reporting unhealthy");
                    false
                }
            }
        }
    };
    if token.is_cancelled() {
        return;
    }
    let request = ToService::HeartbeatServerProcess(HeartbeatServerProcessRequest {
        request_id: new_request_id(),
        health_status: healthy,
    });
    if let Err(e) = inner.call_default(request).await {
        warn!(error = %e, "could not send health status");
    }
}
