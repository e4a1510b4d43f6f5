//! The local supervisor: runs the game server processes of the fleets assigned to this node,
//! with the SDK endpoint they talk to (DESIGN.md decisions 9 and 10; GAMELIFT.md §1.3, §4).
//!
//! [`start`] binds the SDK endpoint, kills the game servers a previous run of this node left
//! behind ([`records`]), and spawns one task that
//!
//! 1. proposes `NodeProcessesReset{node_id}` (retrying until it commits) so the replicated
//!    state forgets every process this node ran before; nothing is launched before that;
//! 2. every [`RECONCILE_EVERY`] reads the applied state and applies [`plan::plan`]: for each
//!    fleet that lists this node in `assigned_nodes`, is not DELETING and has a runtime
//!    configuration, keep exactly `concurrent_executions` processes per server-process entry;
//!    retire (TerminateProcess push, kill after the grace) processes of fleets no longer
//!    hosted here, and processes of entries no longer configured once they host no game;
//! 3. on shutdown asks every process to end (TerminateProcess push and SIGTERM), SIGKILLs
//!    what is left after a short grace, and records their ends.
//!
//! Each process is owned by one task ([`process::run`]) that proposes its transitions in
//! order and applies the timers ([`timers`]). A launch: check the launch path (missing or not
//! executable → `SERVER_PROCESS_INVALID_PATH` event, at most one per 5 minutes, and a
//! backoff), pick a port ([`ports`]), register the process's id and a fresh random auth token
//! with the endpoint, spawn it in its own process group under
//! `<data_dir>/processes/<process-id>/` with the `GAMELIFT_SDK_*` environment, write its
//! durable record, then propose `ProcessLaunched`. A process that fails before becoming ready
//! backs its entry off (0.5 s doubling to 60 s) so a broken build never spins.
//!
//! Self-healing: a process the replicated state lists on this node that this node does not run
//! (an unknown-outcome proposal) is ended with a `ProcessEnded`; `ProcessEnded` proposals that
//! could not commit are retried every pass.
//!
//! Invariant: only transitions are replicated, one command each; heartbeats stay here. The
//! supervisor never acts on replicated deadlines (decision 5): its timers concern only its own
//! local processes, and their outcomes become commands.

pub mod plan;
pub mod ports;
pub mod process;
pub mod records;
pub mod sessions;
pub mod timers;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rand::Rng as _;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::api::error::ApiError;
use crate::fsm::{Command, FsmError, ProcessStatus, State};
use crate::sdk_endpoint::{self, ProcessCredentials, Registry};
use crate::server::Node;
use plan::{Action, Local, ProcessKey, Stage};
use process::{Control, LaunchSpec};
use timers::Limits;

/// Least time between two game session syncs triggered by applied changes.
const SYNC_GAP: Duration = Duration::from_millis(2);
/// How often the applied state is reconciled with the local processes.
pub const RECONCILE_EVERY: Duration = Duration::from_millis(200);
/// Longest backoff of an entry whose processes keep failing.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Least time between two `SERVER_PROCESS_INVALID_PATH` events of one launch path.
const INVALID_PATH_EVENT_EVERY: Duration = Duration::from_secs(300);
/// How often old working directories are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(600);
/// A replicated process this node does not run is ended after being seen this long.
const GHOST_AFTER: Duration = Duration::from_secs(1);

/// A proposal's failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProposeError {
    /// The state machine refused the command (deterministic; retrying will not help).
    #[error(transparent)]
    Refused(FsmError),
    /// No leader or no quorum in time; the outcome is unknown.
    #[error("{0}")]
    Unavailable(String),
}

/// What the supervisor needs from the cluster: the applied state and a way to propose.
/// Implemented by the node; tests use an in-memory state machine.
pub trait Cluster: Send + Sync + 'static {
    /// This node's Raft id.
    fn node_id(&self) -> u64;
    /// Runs `f` on the applied state (never across an `.await`).
    fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R;
    /// Proposes one command, once.
    fn propose_once(&self, cmd: Command) -> impl Future<Output = Result<(), ProposeError>> + Send;
    /// A channel that changes whenever the applied state does; `None`: poll on the tick only.
    fn subscribe(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }
}

/// The real cluster: the node's applied state and its proposer.
pub struct NodeCluster(pub Arc<Node>);

impl Cluster for NodeCluster {
    fn node_id(&self) -> u64 {
        self.0.ident.node_id
    }

    fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.0.read_state().state)
    }

    async fn propose_once(&self, cmd: Command) -> Result<(), ProposeError> {
        match self.0.proposer.propose(cmd).await {
            Ok(_) => Ok(()),
            Err(ApiError::Fsm(e)) => Err(ProposeError::Refused(e)),
            Err(e) => Err(ProposeError::Unavailable(e.to_string())),
        }
    }

    fn subscribe(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        Some(self.0.applied.clone())
    }
}

/// The supervisor's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// This node's Raft id.
    pub node_id: u64,
    /// `GAMELIFT_SDK_HOST_ID`: the node name made safe for the SDKs' HostID rule.
    pub compute_name: String,
    /// `<data_dir>/processes`.
    pub records_dir: PathBuf,
    /// `GAMELIFT_SDK_WEBSOCKET_URL`.
    pub sdk_url: String,
    /// The process timers.
    pub limits: Limits,
    /// How long a node shutdown waits for processes before SIGKILL.
    pub shutdown_grace: Duration,
    /// Reconcile period.
    pub reconcile_every: Duration,
    /// Build directories registered on this node (launch paths `NAME/...`).
    pub build_dirs: std::collections::BTreeMap<String, PathBuf>,
    /// Where game clients reach this node's game servers.
    pub game_address: GameAddress,
}

/// Where game clients reach a node's game servers, recorded with every process it launches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GameAddress {
    /// IpAddress of the game sessions hosted here.
    pub ip_address: String,
    /// DnsName of the game sessions hosted here (may be empty).
    pub dns_name: String,
    /// The node's `location` label.
    pub location: Option<String>,
}

/// The SDK HostID rule is `^[a-zA-Z0-9\-]+(/[a-zA-Z0-9\-]+)?$`; node names may also hold `_`
/// and `.`, which become `-`.
pub fn compute_name(node_name: &str) -> String {
    let s: String = node_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(128)
        .collect();
    if s.is_empty() {
        "gamefleet-node".into()
    } else {
        s
    }
}

/// `ws://<addr>`, with an unspecified address replaced by loopback (game servers run here).
pub fn sdk_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v) if v.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v) if v.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("ws://{}", SocketAddr::new(ip, addr.port()))
}

impl Settings {
    /// Settings from the node's configuration.
    pub fn from_node(node: &Node) -> Settings {
        let h = &node.config.hosting;
        let grace = Duration::from_secs(h.terminate_grace_s);
        Settings {
            node_id: node.ident.node_id,
            compute_name: compute_name(&node.ident.name),
            records_dir: records::dir(&node.config.data_dir),
            sdk_url: sdk_url(h.sdk_listen),
            limits: Limits {
                sdk_init: Duration::from_secs(h.sdk_init_timeout_s),
                ready: Duration::from_secs(h.process_ready_timeout_s),
                exit: Duration::from_secs(h.process_exit_timeout_s),
                grace,
                health_interval: Duration::from_secs(h.health_check_interval_s),
            },
            shutdown_grace: grace.min(Duration::from_secs(5)),
            reconcile_every: RECONCILE_EVERY,
            build_dirs: h.build_dirs.clone(),
            game_address: GameAddress {
                ip_address: node.config.game_ip().to_string(),
                dns_name: h.game_dns_name.clone().unwrap_or_default(),
                location: node.config.labels.get("location").cloned(),
            },
        }
    }
}

/// The running supervisor and SDK endpoint.
pub struct Hosting {
    task: JoinHandle<()>,
    registry: Arc<Registry>,
    addr: SocketAddr,
}

impl std::fmt::Debug for Hosting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hosting")
            .field("sdk_addr", &self.addr)
            .finish()
    }
}

impl Hosting {
    /// The endpoint's process table: [`Registry::push`] sends `CreateGameSession`,
    /// `UpdateGameSession`, `TerminateProcess` or `RefreshConnection` to a process.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Where the SDK endpoint listens.
    pub fn sdk_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits until the supervisor has stopped (after `stop` was cancelled) and every child is
    /// gone.
    pub async fn join(self) {
        if let Err(e) = self.task.await {
            tracing::error!("supervisor task failed: {e}");
        }
    }
}

/// Starts hosting on a node: binds `config.hosting.sdk_listen`, kills orphans of a previous
/// run and starts the supervisor (see the module docs). Runs until `stop` is cancelled; then
/// [`Hosting::join`] waits for every game server to be gone.
pub async fn start(node: Arc<Node>, stop: CancellationToken) -> anyhow::Result<Hosting> {
    let addr = node.config.hosting.sdk_listen;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("SDK endpoint: listening on {addr} (sdk_listen)"))?;
    let settings = Settings::from_node(&node);
    launch(NodeCluster(node), settings, listener, stop)
}

/// [`start`] with any [`Cluster`] and an already bound listener.
pub fn launch<C: Cluster>(
    cluster: C,
    settings: Settings,
    listener: TcpListener,
    stop: CancellationToken,
) -> anyhow::Result<Hosting> {
    let addr = listener.local_addr()?;
    std::fs::create_dir_all(&settings.records_dir)
        .with_context(|| format!("creating {}", settings.records_dir.display()))?;
    let cleanup = records::kill_orphans(&settings.records_dir);
    if cleanup.records > 0 || !cleanup.stray_pids.is_empty() {
        tracing::info!(
            records = cleanup.records,
            killed = ?cleanup.killed,
            stray = ?cleanup.stray_pids,
            "killed the game servers of the previous run"
        );
    }
    records::prune_workdirs(
        &settings.records_dir,
        records::KEEP_WORKDIRS,
        &BTreeSet::new(),
    );
    let registry = Arc::new(Registry::default());
    let endpoint_stop = CancellationToken::new();
    let endpoint = tokio::spawn(sdk_endpoint::serve(
        listener,
        registry.clone(),
        endpoint_stop.clone(),
    ));
    let inner = Arc::new(Inner {
        cluster,
        settings,
        registry: registry.clone(),
        stop,
        table: Mutex::new(Table::default()),
    });
    let task = tokio::spawn(async move {
        main_loop(inner).await;
        endpoint_stop.cancel();
        let _ = endpoint.await;
    });
    Ok(Hosting {
        task,
        registry,
        addr,
    })
}

/// A local process as the loop tracks it.
struct Slot {
    fleet_id: String,
    key: ProcessKey,
    port: u16,
    pid: u32,
    stage: Stage,
    seq: u64,
    control: mpsc::UnboundedSender<Control>,
    /// The task that owns the process.
    task: Option<tokio::task::Id>,
}

#[derive(Debug, Clone, Copy)]
struct Backoff {
    failures: u32,
    not_before: Instant,
}

#[derive(Default)]
struct Table {
    procs: BTreeMap<String, Slot>,
    seq: u64,
    /// Port search cursor per fleet.
    cursors: BTreeMap<String, u16>,
    /// Per (fleet, entry).
    backoff: BTreeMap<(String, ProcessKey), Backoff>,
    /// Last INVALID_PATH event per (fleet, launch path).
    invalid_path_events: BTreeMap<(String, String), Instant>,
    /// ProcessEnded commands to retry.
    deferred: Vec<Command>,
    /// Replicated processes of this node not run here, since when.
    ghosts: BTreeMap<String, Instant>,
    /// Ghosts being ended now.
    sweeping: BTreeSet<String>,
    /// Game session pushes and ends already delivered.
    delivered: sessions::Delivered,
    /// Last "no free port" warning per fleet.
    port_warnings: BTreeMap<String, Instant>,
}

/// What the loop and the process tasks share.
pub(crate) struct Inner<C: Cluster> {
    cluster: C,
    settings: Settings,
    registry: Arc<Registry>,
    stop: CancellationToken,
    table: Mutex<Table>,
}

/// Wall-clock now in Unix ms, stamped into commands before proposing.
pub fn wall_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Whether the effect a command aims at is already in `state` (its earlier attempt with an
/// unknown outcome committed, or someone else did the same).
pub fn effect_present(state: &State, cmd: &Command) -> bool {
    let p = |id: &str| state.hosting.processes.get(id);
    match cmd {
        Command::ProcessLaunched { process } => p(&process.process_id).is_some(),
        Command::ProcessReady { process_id, .. } => {
            p(process_id).is_some_and(|r| r.ready_at_ms.is_some())
        }
        Command::ProcessTerminating { process_id, .. } => {
            p(process_id).is_some_and(|r| r.status == ProcessStatus::Terminating)
        }
        Command::ProcessHealthChanged {
            process_id,
            healthy,
            ..
        } => p(process_id).is_some_and(|r| r.healthy == *healthy),
        Command::ProcessEnded { process_id, .. } => p(process_id).is_none(),
        Command::NodeProcessesReset { node_id, .. } => {
            state.hosting.node_processes(*node_id).next().is_none()
        }
        _ => false,
    }
}

impl<C: Cluster> Inner<C> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Proposes `cmd`, retrying while the cluster is unavailable: forever (`limit` None) or
    /// for `limit`; at most 3 s once the node is stopping. A refusal whose effect is already
    /// applied counts as success.
    pub(crate) async fn propose(
        &self,
        cmd: Command,
        limit: Option<Duration>,
    ) -> Result<(), ProposeError> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            match self.cluster.propose_once(cmd.clone()).await {
                Ok(()) => return Ok(()),
                Err(ProposeError::Refused(e)) => {
                    return if self.cluster.read(|s| effect_present(s, &cmd)) {
                        Ok(())
                    } else {
                        Err(ProposeError::Refused(e))
                    };
                }
                Err(ProposeError::Unavailable(e)) => {
                    let limit = if self.stop.is_cancelled() {
                        Some(
                            limit.map_or(Duration::from_secs(3), |l| l.min(Duration::from_secs(3))),
                        )
                    } else {
                        limit
                    };
                    if limit.is_some_and(|l| start.elapsed() >= l) {
                        return Err(ProposeError::Unavailable(e));
                    }
                    tracing::debug!(cmd = cmd.name(), "proposal unavailable, retrying: {e}");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
            }
        }
    }

    pub(crate) fn set_stage(&self, process_id: &str, stage: Stage) {
        let mut t = self.lock();
        let Some(slot) = t.procs.get_mut(process_id) else {
            return;
        };
        if slot.stage == Stage::Leaving {
            return;
        }
        slot.stage = stage;
        if stage == Stage::Ready {
            let k = (slot.fleet_id.clone(), slot.key.clone());
            t.backoff.remove(&k);
        }
    }

    /// Keeps a `ProcessEnded` that could not commit, to retry.
    pub(crate) fn defer(&self, cmd: Command) {
        self.lock().deferred.push(cmd);
    }

    /// The process is gone and its end proposed (or deferred).
    pub(crate) fn forget(&self, process_id: &str, fleet_id: &str, key: &ProcessKey, failed: bool) {
        let mut t = self.lock();
        t.procs.remove(process_id);
        if failed {
            bump(&mut t.backoff, (fleet_id.to_string(), key.clone()));
        }
    }

    fn record_event(self: &Arc<Self>, fleet_id: &str, code: &'static str, message: String) {
        let cmd = Command::RecordFleetEvent {
            fleet_id: fleet_id.to_string(),
            event_code: code.to_string(),
            message,
            at_ms: wall_ms(),
        };
        let me = self.clone();
        tokio::spawn(async move {
            if let Err(e) = me.propose(cmd, Some(Duration::from_secs(10))).await {
                tracing::warn!("fleet event not recorded: {e}");
            }
        });
    }

    fn invalid_path(self: &Arc<Self>, fleet_id: &str, key: &ProcessKey, why: String) {
        let now = Instant::now();
        let emit = {
            let mut t = self.lock();
            bump(&mut t.backoff, (fleet_id.to_string(), key.clone()));
            let k = (fleet_id.to_string(), key.launch_path.clone());
            let due = t
                .invalid_path_events
                .get(&k)
                .is_none_or(|at| now.saturating_duration_since(*at) >= INVALID_PATH_EVENT_EVERY);
            if due {
                t.invalid_path_events.insert(k, now);
            }
            due
        };
        tracing::warn!(fleet_id, "{why}");
        if emit {
            self.record_event(fleet_id, timers::code::INVALID_PATH, why);
        }
    }

    /// One reconcile pass.
    fn reconcile(self: &Arc<Self>, actors: &mut JoinSet<()>) {
        let node_id = self.settings.node_id;
        let (desired, replicated) = self.cluster.read(|s| {
            (
                plan::desired(s, node_id),
                s.hosting
                    .node_processes(node_id)
                    .map(|p| p.process_id.clone())
                    .collect::<Vec<_>>(),
            )
        });
        let locals: Vec<Local> = {
            let t = self.lock();
            t.procs
                .iter()
                .map(|(id, s)| Local {
                    process_id: id.clone(),
                    fleet_id: s.fleet_id.clone(),
                    key: s.key.clone(),
                    stage: s.stage,
                    in_game: self.registry.has_game_session(id),
                    seq: s.seq,
                })
                .collect()
        };
        for action in plan::plan(&desired, &locals) {
            match action {
                Action::Launch {
                    fleet_id,
                    key,
                    count,
                } => {
                    let Some(fleet) = desired.get(&fleet_id) else {
                        continue;
                    };
                    for _ in 0..count {
                        if !self.launch_one(&fleet_id, &key, fleet.ports, actors) {
                            break;
                        }
                    }
                }
                Action::Retire { process_id, why } => {
                    let mut t = self.lock();
                    if let Some(slot) = t.procs.get_mut(&process_id) {
                        tracing::info!(process_id, ?why, "retiring");
                        slot.stage = Stage::Leaving;
                        let _ = slot.control.send(Control::Retire);
                    }
                }
            }
        }
        self.retry_deferred();
        self.sweep_ghosts(replicated);
        self.forget_gone_fleets(&desired);
    }

    /// Drops per-fleet bookkeeping of fleets this node neither hosts nor runs processes for.
    fn forget_gone_fleets(&self, desired: &BTreeMap<String, plan::DesiredFleet>) {
        let mut t = self.lock();
        let running: BTreeSet<String> = t.procs.values().map(|s| s.fleet_id.clone()).collect();
        let keep = |f: &String| desired.contains_key(f) || running.contains(f);
        t.cursors.retain(|f, _| keep(f));
        t.port_warnings.retain(|f, _| keep(f));
        t.backoff.retain(|(f, _), _| keep(f));
        t.invalid_path_events.retain(|(f, _), _| keep(f));
    }

    /// Prunes old working directories, keeping those of running processes.
    fn prune(&self) {
        let live: BTreeSet<String> = self.lock().procs.keys().cloned().collect();
        records::prune_workdirs(&self.settings.records_dir, records::KEEP_WORKDIRS, &live);
    }

    fn retry_deferred(self: &Arc<Self>) {
        let deferred = std::mem::take(&mut self.lock().deferred);
        for cmd in deferred {
            let me = self.clone();
            tokio::spawn(async move {
                if me
                    .propose(cmd.clone(), Some(Duration::from_secs(5)))
                    .await
                    .is_err()
                {
                    me.defer(cmd);
                }
            });
        }
    }

    fn sweep_ghosts(self: &Arc<Self>, replicated: Vec<String>) {
        let now = Instant::now();
        let mut due = Vec::new();
        {
            let mut t = self.lock();
            let ghosts: BTreeSet<String> = replicated
                .into_iter()
                .filter(|id| !t.procs.contains_key(id))
                .collect();
            t.ghosts.retain(|id, _| ghosts.contains(id));
            for id in ghosts {
                let since = *t.ghosts.entry(id.clone()).or_insert(now);
                if now.saturating_duration_since(since) >= GHOST_AFTER && !t.sweeping.contains(&id)
                {
                    t.sweeping.insert(id.clone());
                    due.push(id);
                }
            }
        }
        for id in due {
            let me = self.clone();
            tokio::spawn(async move {
                let cmd = Command::ProcessEnded {
                    process_id: id.clone(),
                    event_code: None,
                    message: format!("{id} is no longer running on node {}", me.settings.node_id),
                    at_ms: wall_ms(),
                };
                let _ = me.propose(cmd, Some(Duration::from_secs(5))).await;
                me.lock().sweeping.remove(&id);
            });
        }
    }

    /// Launches one process; false if it could not (the entry is then backed off).
    fn launch_one(
        self: &Arc<Self>,
        fleet_id: &str,
        key: &ProcessKey,
        range: crate::fsm::hosting::PortRange,
        actors: &mut JoinSet<()>,
    ) -> bool {
        let now = Instant::now();
        let bkey = (fleet_id.to_string(), key.clone());
        if self
            .lock()
            .backoff
            .get(&bkey)
            .is_some_and(|b| b.not_before > now)
        {
            return false;
        }
        let program =
            match process::resolve_launch_path(&key.launch_path, &self.settings.build_dirs)
                .and_then(|p| process::check_launch_path(&p.to_string_lossy()).map(|()| p))
            {
                Ok(p) => p,
                Err(why) => {
                    self.invalid_path(fleet_id, key, why);
                    return false;
                }
            };
        let port = {
            let mut t = self.lock();
            let used: BTreeSet<u16> = t.procs.values().map(|s| s.port).collect();
            let cursor = *t
                .cursors
                .entry(fleet_id.to_string())
                .or_insert_with(|| rand::rng().random_range(range.from_port..=range.to_port));
            let port = ports::choose_port(range, &used, cursor, ports::bindable);
            if let Some(p) = port {
                t.cursors
                    .insert(fleet_id.to_string(), ports::next_cursor(range, p));
            } else {
                let warned = t
                    .port_warnings
                    .get(fleet_id)
                    .is_some_and(|at| now.saturating_duration_since(*at) < Duration::from_secs(60));
                if !warned {
                    t.port_warnings.insert(fleet_id.to_string(), now);
                    tracing::warn!(
                        fleet_id,
                        "no free port in {}-{} for a new process",
                        range.from_port,
                        range.to_port
                    );
                }
                bump(&mut t.backoff, bkey.clone());
            }
            port
        };
        let Some(port) = port else {
            return false;
        };
        let spec = LaunchSpec {
            process_id: format!("process-{}", uuid::Uuid::new_v4()),
            fleet_id: fleet_id.to_string(),
            key: key.clone(),
            port,
            program,
            auth_token: rand::rng()
                .sample_iter(&rand::distr::Alphanumeric)
                .take(40)
                .map(char::from)
                .collect(),
        };
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        self.registry.register(
            ProcessCredentials {
                process_id: spec.process_id.clone(),
                fleet_id: spec.fleet_id.clone(),
                compute_id: self.settings.compute_name.clone(),
                auth_token: spec.auth_token.clone(),
            },
            events_tx,
        );
        let env = process::environment(
            &spec,
            &self.settings.sdk_url,
            &self.settings.compute_name,
            self.settings.limits.health_interval,
        );
        let workdir = process::workdir(&self.settings.records_dir, &spec.process_id);
        let mut child = match process::spawn(&spec, &workdir, &env) {
            Ok(c) => c,
            Err(e) => {
                self.registry.unregister(&spec.process_id);
                let _ = std::fs::remove_dir_all(&workdir);
                self.invalid_path(
                    fleet_id,
                    key,
                    format!("launch path {} could not be started: {e}", key.launch_path),
                );
                return false;
            }
        };
        let Some(pid) = child.id() else {
            self.registry.unregister(&spec.process_id);
            return false;
        };
        if let Err(e) = process::record(&self.settings.records_dir, &spec, pid) {
            // NB: without a durable record the process could outlive a crash of this node.
            tracing::error!(process_id = %spec.process_id, "cannot record the process, killing it: {e}");
            records::kill_group(pid);
            self.registry.unregister(&spec.process_id);
            bump(&mut self.lock().backoff, bkey);
            tokio::spawn(async move {
                let _ = child.wait().await;
            });
            return false;
        }
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        {
            let mut t = self.lock();
            t.seq += 1;
            let seq = t.seq;
            t.procs.insert(
                spec.process_id.clone(),
                Slot {
                    fleet_id: fleet_id.to_string(),
                    key: key.clone(),
                    port,
                    pid,
                    stage: Stage::Launching,
                    seq,
                    control: control_tx,
                    task: None,
                },
            );
        }
        tracing::info!(process_id = %spec.process_id, fleet_id, pid, port, launch_path = %key.launch_path, "launched");
        let process_id = spec.process_id.clone();
        let handle = actors.spawn(process::run(
            self.clone(),
            spec,
            child,
            pid,
            events_rx,
            control_rx,
        ));
        if let Some(slot) = self.lock().procs.get_mut(&process_id) {
            slot.task = Some(handle.id());
        }
        true
    }

    /// A process task panicked (a bug): kill its process group and record its end.
    fn task_failed(&self, e: tokio::task::JoinError) {
        let id = e.id();
        tracing::error!("a process task failed: {e}");
        let slot = {
            let mut t = self.lock();
            let found = t
                .procs
                .iter()
                .find(|(_, s)| s.task == Some(id))
                .map(|(k, _)| k.clone());
            found.and_then(|pid| t.procs.remove(&pid).map(|s| (pid, s)))
        };
        if let Some((process_id, slot)) = slot {
            records::kill_group(slot.pid);
            records::remove(&self.settings.records_dir, &process_id);
            self.registry.unregister(&process_id);
            self.defer(Command::ProcessEnded {
                process_id: process_id.clone(),
                event_code: Some(timers::code::CRASHED.into()),
                message: format!("{process_id} was killed: its supervisor task failed"),
                at_ms: wall_ms(),
            });
        }
    }

    /// Stops every process (see the module docs) and waits for their tasks.
    async fn shutdown(&self, actors: &mut JoinSet<()>) {
        let pids: Vec<u32> = {
            let t = self.lock();
            for slot in t.procs.values() {
                let _ = slot.control.send(Control::Shutdown);
            }
            t.procs.values().map(|s| s.pid).collect()
        };
        if !pids.is_empty() {
            tracing::info!(processes = pids.len(), "stopping game servers");
        }
        let limit = self.settings.shutdown_grace + Duration::from_secs(5);
        let drained =
            tokio::time::timeout(limit, async { while actors.join_next().await.is_some() {} })
                .await;
        if drained.is_err() {
            tracing::warn!("game servers did not stop in time; killing them");
            for pid in self.lock().procs.values().map(|s| s.pid) {
                records::kill_group(pid);
            }
            actors.abort_all();
            while actors.join_next().await.is_some() {}
        }
    }
}

fn bump(backoff: &mut BTreeMap<(String, ProcessKey), Backoff>, key: (String, ProcessKey)) {
    let b = backoff.entry(key).or_insert(Backoff {
        failures: 0,
        not_before: Instant::now(),
    });
    b.failures = b.failures.saturating_add(1);
    let delay = Duration::from_millis(500)
        .saturating_mul(1u32 << b.failures.saturating_sub(1).min(10))
        .min(MAX_BACKOFF);
    b.not_before = Instant::now() + delay;
}

async fn main_loop<C: Cluster>(inner: Arc<Inner<C>>) {
    // 1. Forget what this node ran before (its processes were killed by `launch`).
    let reset = Command::NodeProcessesReset {
        node_id: inner.settings.node_id,
        at_ms: wall_ms(),
    };
    loop {
        let attempt = tokio::select! {
            () = inner.stop.cancelled() => return,
            r = inner.cluster.propose_once(reset.clone()) => r,
        };
        match attempt {
            Ok(()) => break,
            Err(ProposeError::Refused(e)) => {
                tracing::warn!("NodeProcessesReset refused: {e}");
                break;
            }
            Err(ProposeError::Unavailable(e)) => {
                tracing::debug!("NodeProcessesReset not committed yet: {e}");
                tokio::select! {
                    () = inner.stop.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_millis(500)) => {}
                }
            }
        }
    }
    tracing::info!("supervisor running");
    // 2. Reconcile.
    let mut actors = JoinSet::new();
    let mut tick = tokio::time::interval(inner.settings.reconcile_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pruned = Instant::now();
    let mut applied = inner.cluster.subscribe();
    loop {
        let changed = async {
            match applied.as_mut() {
                Some(rx) => {
                    if rx.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = inner.stop.cancelled() => break,
            () = changed => {
                // A session placed here is pushed at once, not on the next tick; then changes
                // coalesce for a moment, so a busy cluster costs at most one scan per gap.
                sessions::sync(&inner);
                tokio::time::sleep(SYNC_GAP).await;
                continue;
            }
            _ = tick.tick() => {}
        }
        if pruned.elapsed() >= PRUNE_EVERY {
            pruned = Instant::now();
            let me = inner.clone();
            tokio::task::spawn_blocking(move || me.prune());
        }
        while let Some(done) = actors.try_join_next_with_id() {
            if let Err(e) = done {
                inner.task_failed(e);
            }
        }
        inner.reconcile(&mut actors);
        sessions::sync(&inner);
    }
    // 3. Stop the children.
    inner.shutdown(&mut actors).await;
    let deferred = std::mem::take(&mut inner.lock().deferred);
    for cmd in deferred {
        let _ = tokio::time::timeout(Duration::from_secs(2), inner.cluster.propose_once(cmd)).await;
    }
    tracing::info!("supervisor stopped");
}
