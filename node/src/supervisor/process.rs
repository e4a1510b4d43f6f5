//! One game server process: how it is started ([`spawn`]) and the task that owns it for the
//! rest of its life ([`run`]).
//!
//! The task is the only writer of its process's replicated transitions, so they are proposed
//! in order, one command each: `ProcessLaunched` first (before it handles any SDK event), then
//! `ProcessReady` (answering `ActivateServerProcess` once committed), `ProcessHealthChanged`
//! when the health verdict flips, `ProcessTerminating` (ProcessEnding, or when the node asks it
//! to end) and finally `ProcessEnded` with the event code [`Timeline`] decides. Heartbeats stay
//! local. When the process is gone its whole process group is killed (helpers it started go
//! with it), its record file is removed and it is unregistered from the SDK endpoint.

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gamefleet_sdk::protocol::{TerminateProcessMessage, ToSdk, env};
use nix::sys::signal::Signal;
use tokio::sync::mpsc;

use super::plan::{ProcessKey, Stage};
use super::records::{self, Record};
use super::timers::{self, EndRequest, Limits, Timeline, Verdict};
use super::{Cluster, Inner, ProposeError, wall_ms};
use crate::fsm::{Command, ProcessRecord, ProcessStatus};
use crate::sdk_endpoint::{RequestFailure, SdkEvent};

/// How often a process's timers are checked.
const TICK: Duration = Duration::from_millis(100);

/// Orders from the supervisor loop to a process task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Ask the process to end gracefully (TerminateProcess push, kill after the grace).
    Retire,
    /// The node is stopping: push TerminateProcess, SIGTERM the group, SIGKILL it after
    /// `shutdown_grace`.
    Shutdown,
    /// The cluster ended its game session by force (FORCE_TERMINATE, activation timeout):
    /// SIGKILL now.
    Kill,
}

/// What to start.
#[derive(Debug, Clone)]
pub struct LaunchSpec {
    /// `process-<uuid>`.
    pub process_id: String,
    /// The fleet.
    pub fleet_id: String,
    /// The runtime configuration entry.
    pub key: ProcessKey,
    /// The port handed to the process.
    pub port: u16,
    /// `GAMELIFT_SDK_AUTH_TOKEN`.
    pub auth_token: String,
    /// The executable to run: the launch path, resolved in a build directory if relative.
    pub program: PathBuf,
}

/// Resolves a launch path: absolute paths are used as they are; `BUILD/rest` is `rest` inside
/// the build directory this node registered as BUILD.
pub fn resolve_launch_path(
    path: &str,
    build_dirs: &std::collections::BTreeMap<String, PathBuf>,
) -> Result<PathBuf, String> {
    if path.starts_with('/') {
        return Ok(PathBuf::from(path));
    }
    let (build, rest) = path.split_once('/').unwrap_or((path, ""));
    match build_dirs.get(build) {
        Some(dir) if !rest.is_empty() && !rest.split('/').any(|c| c == ".." || c.is_empty()) => {
            Ok(dir.join(rest))
        }
        Some(_) => Err(format!(
            "launch path {path} is not a path inside build {build}"
        )),
        None => Err(format!(
            "launch path {path}: build directory {build:?} is not registered on this node"
        )),
    }
}

/// Why a launch path cannot be run.
pub fn check_launch_path(path: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    let p = Path::new(path);
    let path = p.display();
    if !p.is_absolute() {
        return Err(format!("launch path {path} is not absolute"));
    }
    match std::fs::metadata(p) {
        Err(e) => Err(format!("launch path {path} cannot be used: {e}")),
        Ok(m) if !m.is_file() => Err(format!("launch path {path} is not a file")),
        Ok(m) if m.permissions().mode() & 0o111 == 0 => {
            Err(format!("launch path {path} is not executable"))
        }
        Ok(_) => Ok(()),
    }
}

/// The command-line arguments: `parameters` split on whitespace, `{port}` replaced.
pub fn arguments(parameters: Option<&str>, port: u16) -> Vec<String> {
    parameters
        .unwrap_or("")
        .split_whitespace()
        .map(|a| a.replace("{port}", &port.to_string()))
        .collect()
}

/// A Go duration string in milliseconds (what `HEALTHCHECK_*` take).
fn go_ms(d: Duration) -> String {
    format!("{}ms", d.as_millis().max(1))
}

/// The environment a game server gets besides the node's own (minus `GAMEFLEET_*` and
/// `GAMELIFT_*`): the five `GAMELIFT_SDK_*` variables, `GAMEFLEET_PORT`, and the SDK's health
/// check tuning variables matching the node's interval (jitter 1/6, timeout 5/6 of it, as the
/// SDK's 60 s / 10 s / 50 s defaults).
pub fn environment(
    spec: &LaunchSpec,
    sdk_url: &str,
    compute_name: &str,
    health_interval: Duration,
) -> Vec<(String, String)> {
    vec![
        (env::WEBSOCKET_URL.into(), sdk_url.into()),
        (env::AUTH_TOKEN.into(), spec.auth_token.clone()),
        (env::PROCESS_ID.into(), spec.process_id.clone()),
        (env::HOST_ID.into(), compute_name.into()),
        (env::FLEET_ID.into(), spec.fleet_id.clone()),
        ("GAMEFLEET_PORT".into(), spec.port.to_string()),
        (env::HEALTHCHECK_INTERVAL.into(), go_ms(health_interval)),
        (
            env::HEALTHCHECK_MAX_JITTER.into(),
            go_ms(health_interval / 6),
        ),
        (
            env::HEALTHCHECK_TIMEOUT.into(),
            go_ms(health_interval * 5 / 6),
        ),
    ]
}

/// Starts the process in its own process group, in `workdir`, output to files there.
pub fn spawn(
    spec: &LaunchSpec,
    workdir: &Path,
    env: &[(String, String)],
) -> std::io::Result<tokio::process::Child> {
    std::fs::create_dir_all(workdir)?;
    let stdout = std::fs::File::create(workdir.join("stdout.log"))?;
    let stderr = std::fs::File::create(workdir.join("stderr.log"))?;
    let mut cmd = tokio::process::Command::new(&spec.program);
    cmd.args(arguments(spec.key.parameters.as_deref(), spec.port))
        .current_dir(workdir)
        .stdin(std::process::Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        // NB: a safety net only; the task always reaps its child. If the runtime is torn
        // down without the supervisor's shutdown, the leader is at least killed.
        .kill_on_drop(true);
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("GAMEFLEET_") || k.starts_with("GAMELIFT_") {
            cmd.env_remove(&*k);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd.spawn()
}

/// Writes the durable record of a just-spawned process.
pub fn record(dir: &Path, spec: &LaunchSpec, pid: u32) -> std::io::Result<()> {
    records::write(
        dir,
        &Record {
            process_id: spec.process_id.clone(),
            fleet_id: spec.fleet_id.clone(),
            pid,
            pgid: pid,
            start_time: records::stat(pid).map(|s| s.start_time),
            launch_path: spec.key.launch_path.clone(),
        },
    )
}

/// A human description of an exit status.
fn describe(status: &std::io::Result<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(c), _) => format!("exit code {c}"),
            (None, Some(sig)) => format!(
                "signal {}",
                Signal::try_from(sig).map_or_else(|_| sig.to_string(), |s| s.to_string())
            ),
            _ => s.to_string(),
        },
        Err(e) => format!("unknown status ({e})"),
    }
}

/// The task state of one process.
struct Proc<C: Cluster> {
    inner: Arc<Inner<C>>,
    spec: LaunchSpec,
    pid: u32,
    child: tokio::process::Child,
    t: Timeline,
    /// Why we killed it (event code, reason), when we did.
    killed: Option<(Option<&'static str>, String)>,
    /// The replicated health flag as last proposed.
    healthy: bool,
    /// When the node's shutdown started for this process.
    shutdown_at: Option<Instant>,
}

/// Runs one process to its end. The process is already spawned, recorded and registered.
pub(crate) async fn run<C: Cluster>(
    inner: Arc<Inner<C>>,
    spec: LaunchSpec,
    child: tokio::process::Child,
    pid: u32,
    mut events: mpsc::UnboundedReceiver<SdkEvent>,
    mut control: mpsc::UnboundedReceiver<Control>,
) {
    let launched_ms = wall_ms();
    let mut p = Proc {
        inner: inner.clone(),
        t: Timeline::new(Instant::now()),
        spec,
        pid,
        child,
        killed: None,
        healthy: true,
        shutdown_at: None,
    };
    let launched = Command::ProcessLaunched {
        process: launched_record(&p, launched_ms),
    };
    // NB: until the launch is committed no SDK event is handled, so ProcessReady can never
    // overtake ProcessLaunched. A launch the cluster refuses (fleet deleted meanwhile) ends the
    // process without a ProcessEnded.
    let recorded = tokio::select! {
        r = inner.propose(launched, None) => r,
        status = p.child.wait() => {
            // It died before the launch committed: still propose it, then the end.
            let _ = inner.propose(Command::ProcessLaunched { process: launched_record(&p, launched_ms) }, Some(Duration::from_secs(10))).await;
            p.finish(status, true).await;
            return;
        }
    };
    if let Err(e) = recorded {
        tracing::warn!(process_id = %p.spec.process_id, "launch not recorded, stopping the process: {e}");
        p.kill();
        let status = p.child.wait().await;
        p.finish(status, false).await;
        return;
    }
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let status = loop {
        tokio::select! {
            status = p.child.wait() => break status,
            Some(ev) = events.recv() => p.on_event(ev).await,
            Some(c) = control.recv() => p.on_control(c).await,
            _ = tick.tick() => p.on_tick().await,
        }
    };
    p.finish(status, true).await;
}

fn launched_record<C: Cluster>(p: &Proc<C>, launched_ms: i64) -> ProcessRecord {
    let s = &p.inner.settings;
    ProcessRecord {
        process_id: p.spec.process_id.clone(),
        fleet_id: p.spec.fleet_id.clone(),
        node_id: s.node_id,
        pid: p.pid,
        port: p.spec.port,
        launch_path: p.spec.key.launch_path.clone(),
        status: ProcessStatus::Launching,
        healthy: true,
        launched_at_ms: launched_ms,
        ready_at_ms: None,
        ip_address: s.game_address.ip_address.clone(),
        dns_name: s.game_address.dns_name.clone(),
        compute_name: s.compute_name.clone(),
        location: s.game_address.location.clone(),
        sdk_port: None,
        game_session_id: None,
    }
}

impl<C: Cluster> Proc<C> {
    fn id(&self) -> &str {
        &self.spec.process_id
    }

    fn limits(&self) -> &Limits {
        &self.inner.settings.limits
    }

    fn set_stage(&self, stage: Stage) {
        self.inner.set_stage(self.id(), stage);
    }

    fn kill(&self) {
        records::kill_group(self.pid);
    }

    fn push_terminate(&self) {
        let at = wall_ms()
            .saturating_add(i64::try_from(self.limits().grace.as_millis()).unwrap_or(i64::MAX));
        let push = ToSdk::TerminateProcess(TerminateProcessMessage {
            request_id: None,
            termination_time: at,
        });
        if let Err(e) = self.inner.registry.push(self.id(), &push) {
            tracing::debug!(process_id = %self.id(), "TerminateProcess push not sent: {e}");
        }
    }

    async fn on_event(&mut self, ev: SdkEvent) {
        let now = Instant::now();
        match ev {
            SdkEvent::Connected { .. } => {
                self.t.connected.get_or_insert(now);
            }
            SdkEvent::Disconnected => {}
            SdkEvent::Activate { port, reply, .. } => {
                let verdict = self.activate(port).await;
                let _ = reply.send(verdict);
            }
            SdkEvent::Heartbeat { healthy } => {
                self.t.report(now, healthy);
                self.sync_health(now).await;
            }
            SdkEvent::Ending { reply } => {
                let verdict = self.ending(now).await;
                let _ = reply.send(verdict);
            }
            SdkEvent::GameSession { request, reply } => {
                // NB: answered on its own task, so heartbeats never wait behind a proposal.
                let inner = self.inner.clone();
                let (pid, fleet) = (self.spec.process_id.clone(), self.spec.fleet_id.clone());
                tokio::spawn(async move {
                    let r = super::sessions::handle(&inner, &pid, &fleet, &request).await;
                    let _ = reply.send(r);
                });
            }
        }
    }

    async fn activate(&mut self, port: u16) -> Result<(), RequestFailure> {
        if self.t.ending.is_some() || self.t.end_requested.is_some() || self.killed.is_some() {
            return Err(RequestFailure::new(
                409,
                format!("process {} is terminating", self.id()),
            ));
        }
        if self.t.ready.is_some() {
            // A retried ProcessReady (e.g. after a lost reply).
            return Ok(());
        }
        if port != 0 && port != self.spec.port {
            tracing::warn!(process_id = %self.id(), reported = port, assigned = self.spec.port,
                "ProcessReady reported another port than the one assigned; game clients get the reported port");
        }
        let cmd = Command::ProcessReady {
            process_id: self.id().to_string(),
            at_ms: wall_ms(),
            port: (port != 0).then_some(port),
        };
        match self.inner.propose(cmd, Some(Duration::from_secs(5))).await {
            Ok(()) => {
                let now = Instant::now();
                self.t.connected.get_or_insert(now);
                self.t.ready = Some(now);
                self.set_stage(Stage::Ready);
                Ok(())
            }
            Err(ProposeError::Refused(e)) => Err(RequestFailure::new(409, e.to_string())),
            Err(ProposeError::Unavailable(e)) => Err(RequestFailure::new(
                503,
                format!("ProcessReady could not be recorded: {e}; retry"),
            )),
        }
    }

    async fn ending(&mut self, now: Instant) -> Result<(), RequestFailure> {
        if self.t.ending.is_some() {
            return Ok(());
        }
        self.t.ending = Some(now);
        self.set_stage(Stage::Leaving);
        if self.t.end_requested.is_none() {
            self.propose_terminating().await;
        }
        Ok(())
    }

    async fn propose_terminating(&self) {
        let cmd = Command::ProcessTerminating {
            process_id: self.id().to_string(),
            at_ms: wall_ms(),
        };
        if let Err(e) = self.inner.propose(cmd, Some(Duration::from_secs(5))).await {
            tracing::warn!(process_id = %self.id(), "ProcessTerminating not recorded: {e}");
        }
    }

    async fn sync_health(&mut self, now: Instant) {
        if self.t.ready.is_none() || self.t.ending.is_some() || self.killed.is_some() {
            return;
        }
        let healthy = self.t.health(now, self.limits()).healthy;
        if healthy == self.healthy {
            return;
        }
        self.healthy = healthy;
        let cmd = Command::ProcessHealthChanged {
            process_id: self.id().to_string(),
            healthy,
            at_ms: wall_ms(),
        };
        if let Err(e) = self.inner.propose(cmd, Some(Duration::from_secs(5))).await {
            tracing::warn!(process_id = %self.id(), "ProcessHealthChanged not recorded: {e}");
        }
    }

    async fn request_end(&mut self, why: EndRequest) {
        if self.t.ending.is_some() || self.t.end_requested.is_some() || self.killed.is_some() {
            return;
        }
        self.set_stage(Stage::Leaving);
        if self.t.ready.is_none() || !self.inner.registry.is_connected(self.id()) {
            // Not serving anything yet (or cannot be told): nothing to lose.
            let code = match why {
                EndRequest::Unhealthy => Some(timers::code::TERMINATED_UNHEALTHY),
                EndRequest::Retired | EndRequest::NodeShutdown => None,
            };
            self.kill_with(code, "stopped before it was ready".into());
            return;
        }
        self.t.end_requested = Some((Instant::now(), why));
        // NB: push first, so a stopping node tells every game at once.
        self.push_terminate();
        self.propose_terminating().await;
    }

    fn kill_with(&mut self, code: Option<&'static str>, why: String) {
        self.killed = Some((code, why));
        self.set_stage(Stage::Leaving);
        self.kill();
    }

    async fn on_control(&mut self, c: Control) {
        match c {
            Control::Retire => self.request_end(EndRequest::Retired).await,
            Control::Kill => {
                if self.killed.is_none() {
                    self.kill_with(None, "its game session was ended by the cluster".into());
                }
            }
            Control::Shutdown => {
                if self.shutdown_at.is_none() {
                    self.shutdown_at = Some(Instant::now());
                    self.request_end(EndRequest::NodeShutdown).await;
                    records::signal_group(self.pid, Signal::SIGTERM);
                }
            }
        }
    }

    async fn on_tick(&mut self) {
        let now = Instant::now();
        if let Some(at) = self.shutdown_at
            && now.saturating_duration_since(at) > self.inner.settings.shutdown_grace
            && self.killed.is_none()
        {
            self.kill_with(None, "the node shut down".into());
            return;
        }
        if self.killed.is_some() {
            // Already killed; re-send in case the group spawned something meanwhile.
            self.kill();
            return;
        }
        self.sync_health(now).await;
        match self.t.verdict(now, self.limits()) {
            None => {}
            Some(Verdict::TerminateUnhealthy) => {
                tracing::info!(process_id = %self.id(), "unhealthy: asking it to end");
                self.request_end(EndRequest::Unhealthy).await;
            }
            Some(Verdict::Kill(code)) => {
                let why = match code {
                    timers::code::SDK_INITIALIZATION_TIMEOUT => format!(
                        "did not call InitSDK within {}s of launch",
                        self.limits().sdk_init.as_secs_f64()
                    ),
                    timers::code::PROCESS_READY_TIMEOUT => format!(
                        "did not call ProcessReady within {}s of InitSDK",
                        self.limits().ready.as_secs_f64()
                    ),
                    timers::code::PROCESS_EXIT_TIMEOUT => format!(
                        "did not exit within {}s of ProcessEnding",
                        self.limits().exit.as_secs_f64()
                    ),
                    _ => format!(
                        "did not exit within {}s of OnProcessTerminate",
                        self.limits().grace.as_secs_f64()
                    ),
                };
                tracing::info!(process_id = %self.id(), code, "killing: {why}");
                self.kill_with(Some(code), why);
            }
        }
    }

    /// The process is gone: clean up and propose its end (if its launch was recorded).
    async fn finish(mut self, status: std::io::Result<ExitStatus>, launched: bool) {
        // Take the whole group down (helpers the game started), then forget it on disk.
        self.kill();
        self.set_stage(Stage::Leaving);
        records::remove(&self.inner.settings.records_dir, self.id());
        self.inner.registry.unregister(self.id());
        let exit = describe(&status);
        let (code, message) = match self.killed.take() {
            Some((code, why)) => (code, format!("{} {why}; killed ({exit})", self.id())),
            None => {
                let code = self.t.exit_code();
                let message = match code {
                    Some(timers::code::CRASHED) => {
                        format!(
                            "{} exited without calling ProcessEnding ({exit})",
                            self.id()
                        )
                    }
                    Some(c) => format!("{} ended after {c} ({exit})", self.id()),
                    None => format!("{} ended ({exit})", self.id()),
                };
                (code, message)
            }
        };
        let quick = self.t.ready.is_none();
        tracing::info!(process_id = %self.id(), code = ?code, "{message}");
        if launched {
            let cmd = Command::ProcessEnded {
                process_id: self.id().to_string(),
                event_code: code.map(str::to_string),
                message,
                at_ms: wall_ms(),
            };
            let limit = self.shutdown_at.map(|_| Duration::from_secs(3));
            if let Err(e) = self.inner.propose(cmd.clone(), limit).await {
                tracing::warn!(process_id = %self.id(), "ProcessEnded not recorded yet: {e}");
                self.inner.defer(cmd);
            }
        }
        let abnormal = code.is_some() && self.shutdown_at.is_none();
        self.inner.forget(
            self.id(),
            &self.spec.fleet_id,
            &self.spec.key,
            abnormal && quick,
        );
    }
}

/// The working directory of a process.
pub fn workdir(records_dir: &Path, process_id: &str) -> PathBuf {
    records_dir.join(process_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_substitute_the_port() {
        assert_eq!(
            arguments(Some("--port {port}  -x a{port}b"), 7777),
            vec!["--port", "7777", "-x", "a7777b"]
        );
        assert!(arguments(None, 1).is_empty());
    }

    #[test]
    fn launch_paths_resolve_in_registered_build_dirs() {
        let dirs = std::collections::BTreeMap::from([(
            "game".to_string(),
            PathBuf::from("/srv/builds/game-1"),
        )]);
        assert_eq!(
            resolve_launch_path("/bin/sh", &dirs).unwrap(),
            PathBuf::from("/bin/sh")
        );
        assert_eq!(
            resolve_launch_path("game/bin/server", &dirs).unwrap(),
            PathBuf::from("/srv/builds/game-1/bin/server")
        );
        assert!(
            resolve_launch_path("other/bin/server", &dirs)
                .unwrap_err()
                .contains("not registered")
        );
        assert!(resolve_launch_path("game/../../etc/passwd", &dirs).is_err());
        assert!(resolve_launch_path("game", &dirs).is_err());
    }

    #[test]
    fn launch_path_checks() {
        assert!(check_launch_path("/bin/sh").is_ok());
        assert!(
            check_launch_path("bin/sh")
                .unwrap_err()
                .contains("not absolute")
        );
        assert!(check_launch_path("/nonexistent/game").is_err());
        assert!(check_launch_path("/").unwrap_err().contains("not a file"));
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("game");
        std::fs::write(&f, "#!/bin/sh\n").unwrap();
        assert!(
            check_launch_path(f.to_str().unwrap())
                .unwrap_err()
                .contains("not executable")
        );
    }

    #[test]
    fn environment_names_match_the_sdk() {
        let spec = LaunchSpec {
            process_id: "process-1".into(),
            fleet_id: "fleet-1".into(),
            key: ProcessKey {
                launch_path: "/g".into(),
                parameters: None,
            },
            port: 7000,
            auth_token: "tok".into(),
            program: PathBuf::from("/g"),
        };
        let env: std::collections::BTreeMap<String, String> =
            environment(&spec, "ws://127.0.0.1:1", "n0", Duration::from_secs(60))
                .into_iter()
                .collect();
        assert_eq!(env["GAMELIFT_SDK_WEBSOCKET_URL"], "ws://127.0.0.1:1");
        assert_eq!(env["GAMELIFT_SDK_AUTH_TOKEN"], "tok");
        assert_eq!(env["GAMELIFT_SDK_PROCESS_ID"], "process-1");
        assert_eq!(env["GAMELIFT_SDK_HOST_ID"], "n0");
        assert_eq!(env["GAMELIFT_SDK_FLEET_ID"], "fleet-1");
        assert_eq!(env["GAMEFLEET_PORT"], "7000");
        assert_eq!(env["HEALTHCHECK_INTERVAL"], "60000ms");
        assert_eq!(env["HEALTHCHECK_MAX_JITTER"], "10000ms");
        assert_eq!(env["HEALTHCHECK_TIMEOUT"], "50000ms");
    }
}
