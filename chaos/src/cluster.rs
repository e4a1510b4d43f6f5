//! Launches real `gamefleetd` clusters on 127.0.0.1 for end-to-end tests, chaos runs and
//! benchmarks.
//!
//! A [`Cluster`] is N `gamefleetd run` processes, each with its own port (picked by binding
//! `127.0.0.1:0` and releasing it), its own data dir and its own log file (stdout and stderr,
//! appended across restarts) under one [`TempDir`]. The first node bootstraps the cluster; the
//! others start with `--join` pointing at it, one at a time. Faults are injected with real
//! signals: [`Cluster::kill`] (SIGKILL), [`Cluster::terminate`] (SIGTERM), [`Cluster::pause`] /
//! [`Cluster::resume`] (SIGSTOP / SIGCONT).
//!
//! Invariants:
//! - Every process this module starts is killed and reaped when the [`Cluster`] is dropped, also
//!   while a test panics (and then the tail of every node log is printed to stderr); so are the
//!   game servers the nodes recorded in their data dirs ([`kill_recorded_game_servers`]).
//! - Each node gets its own free port for the game-server SDK endpoint (`--sdk-listen`).
//! - Every wait is bounded; a timed-out wait returns an error that says what was last observed
//!   and carries the tail of the relevant node logs.
//! - Nodes are named `n0`, `n1`, ... (see [`ClusterBuilder::name_prefix`]) so the index of a
//!   node is readable from its name.
//!
//! Processes stay in the caller's process group on purpose: when a test runner kills a hung
//! test's process group, the nodes go with it.
//!
//! Set `GAMEFLEET_KEEP_CLUSTER_DIR=1` to keep the cluster directory (data and logs) after drop.
//!
//! With [`ClusterBuilder::network`], node `i` runs inside namespace `i` of a [`NetLab`]
//! instead (through `ip netns exec`, which execs `gamefleetd`, so the signals above still reach
//! it), listening on the lab address `ip(i)` with fixed ports ([`LAB_LISTEN_PORT`],
//! [`LAB_SDK_PORT`]; every namespace has its own port space); addresses, endpoints and clients
//! then use the lab addresses, and the lab cuts the links between nodes for real.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::{Read, Seek, SeekFrom, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use gamefleet_client::{Client, ClientOptions, ClusterStatus, Consistency};
use nix::sys::signal::{Signal, kill as send_signal};
use nix::unistd::Pid;
use tempfile::TempDir;

use crate::net::NetLab;

/// The environment variable naming the `gamefleetd` binary to run.
pub const GAMEFLEETD_BIN_ENV: &str = "GAMEFLEETD_BIN";

/// How many log lines error messages carry per node.
const TAIL_LINES: usize = 25;

/// How often waits poll.
const POLL: Duration = Duration::from_millis(100);

/// The gRPC port of every node of a cluster in a [`NetLab`] (on the node's lab address).
pub const LAB_LISTEN_PORT: u16 = 7400;

/// The game-server SDK endpoint port of every node of a cluster in a [`NetLab`].
pub const LAB_SDK_PORT: u16 = 8400;

/// Finds the `gamefleetd` binary: `$GAMEFLEETD_BIN`, else next to the current executable
/// (`target/<profile>/` for a binary, `target/<profile>/deps/..` for a test).
pub fn find_gamefleetd() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os(GAMEFLEETD_BIN_ENV) {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        bail!(
            "{GAMEFLEETD_BIN_ENV}={} does not name a file; build it with `cargo build -p gamefleet-node`",
            path.display()
        );
    }
    let exe = std::env::current_exe().context("cannot find the current executable")?;
    let mut looked = Vec::new();
    let mut dir = exe.parent();
    // The binary's own dir, then its parent (tests live in target/<profile>/deps).
    for _ in 0..2 {
        let Some(d) = dir else { break };
        let candidate = d.join("gamefleetd");
        if candidate.is_file() {
            return Ok(candidate);
        }
        looked.push(candidate);
        dir = d.parent();
    }
    bail!(
        "gamefleetd binary not found (looked at {}); build it first with `cargo build -p gamefleet-node` \
         (`--release` for benchmarks) or set {GAMEFLEETD_BIN_ENV}",
        looked
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Like [`find_gamefleetd`], but panics with the explanation: for tests.
pub fn gamefleetd_path() -> PathBuf {
    match find_gamefleetd() {
        Ok(path) => path,
        Err(err) => panic!("{err:#}"),
    }
}

/// The current UTC time as `2026-01-31T12:34:56.789012Z` (the node logs' format), so harness
/// events written into node logs line up with the node's own lines.
pub fn utc_timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_micros()
    )
}

/// Picks `n` distinct free TCP ports on 127.0.0.1 (bound together, then released).
pub fn free_ports(n: usize) -> anyhow::Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .context("cannot bind 127.0.0.1:0 to pick a free port")?;
    listeners
        .iter()
        .map(|l| Ok(l.local_addr()?.port()))
        .collect()
}

/// The last `lines` lines of a log file (at most the last 64 KiB), or a note why there are none.
pub fn log_tail(path: &Path, lines: usize) -> String {
    const MAX: u64 = 64 * 1024;
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(err) => return format!("(no log at {}: {err})", path.display()),
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(MAX);
    let mut buf = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_err() || file.read_to_end(&mut buf).is_err() {
        return format!("(cannot read {})", path.display());
    }
    let text = String::from_utf8_lossy(&buf);
    let all: Vec<&str> = text.lines().collect();
    let from = all.len().saturating_sub(lines);
    let mut out = all[from..].join("\n");
    if out.is_empty() {
        out = "(empty log)".to_owned();
    }
    out
}

/// Configures and starts a [`Cluster`].
#[derive(Debug, Clone)]
pub struct ClusterBuilder {
    nodes: usize,
    voters: Option<usize>,
    args: Vec<String>,
    heartbeat_ms: Option<u64>,
    election_timeout_ms: Option<(u64, u64)>,
    log_filter: Option<String>,
    binary: Option<PathBuf>,
    base_dir: Option<PathBuf>,
    start_timeout: Duration,
    sled_cache_mb: u32,
    name_prefix: String,
    hosting: HostingTimers,
    network: Option<Arc<NetLab>>,
}

/// The game server hosting timers every node gets (`None` keeps the node's default). Short
/// values make timeout and health tests fast.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostingTimers {
    /// `--sdk-init-timeout-s`.
    pub sdk_init_timeout_s: Option<u64>,
    /// `--process-ready-timeout-s`.
    pub process_ready_timeout_s: Option<u64>,
    /// `--health-check-interval-s`.
    pub health_check_interval_s: Option<u64>,
    /// `--process-exit-timeout-s`.
    pub process_exit_timeout_s: Option<u64>,
    /// `--terminate-grace-s`.
    pub terminate_grace_s: Option<u64>,
}

impl HostingTimers {
    fn args(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (flag, v) in [
            ("--sdk-init-timeout-s", self.sdk_init_timeout_s),
            ("--process-ready-timeout-s", self.process_ready_timeout_s),
            ("--health-check-interval-s", self.health_check_interval_s),
            ("--process-exit-timeout-s", self.process_exit_timeout_s),
            ("--terminate-grace-s", self.terminate_grace_s),
        ] {
            if let Some(v) = v {
                out.extend([flag.to_owned(), v.to_string()]);
            }
        }
        out
    }
}

impl ClusterBuilder {
    /// A cluster of `nodes` processes (at least 1), with the node's default voter count.
    pub fn new(nodes: usize) -> Self {
        ClusterBuilder {
            nodes: nodes.max(1),
            voters: None,
            args: Vec::new(),
            heartbeat_ms: None,
            election_timeout_ms: None,
            log_filter: std::env::var("GAMEFLEET_TEST_LOG").ok(),
            binary: None,
            base_dir: None,
            start_timeout: Duration::from_secs(60),
            sled_cache_mb: 16,
            name_prefix: "n".to_owned(),
            hosting: HostingTimers::default(),
            network: None,
        }
    }

    /// Runs node `i` inside namespace `i` of `lab`, on the lab address `lab.ip(i)` (see the
    /// module docs). The lab needs a namespace for every node ever added; the cluster keeps the
    /// lab alive until its processes are gone.
    pub fn network(mut self, lab: Arc<NetLab>) -> Self {
        self.network = Some(lab);
        self
    }

    /// Game server hosting timers for every node.
    pub fn hosting_timers(mut self, timers: HostingTimers) -> Self {
        self.hosting = timers;
        self
    }

    /// `--voters` for every node (3 or 5; anything else is passed through for error tests).
    pub fn voters(mut self, voters: usize) -> Self {
        self.voters = Some(voters);
        self
    }

    /// Extra arguments for every node, appended after the harness's own (repeatable).
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// `--heartbeat-ms`.
    pub fn heartbeat_ms(mut self, ms: u64) -> Self {
        self.heartbeat_ms = Some(ms);
        self
    }

    /// `--election-timeout-min-ms` and `--election-timeout-max-ms`.
    pub fn election_timeout_ms(mut self, min: u64, max: u64) -> Self {
        self.election_timeout_ms = Some((min, max));
        self
    }

    /// `--log` filter for every node (default: `$GAMEFLEET_TEST_LOG`, else the node's default).
    pub fn log_filter(mut self, filter: impl Into<String>) -> Self {
        self.log_filter = Some(filter.into());
        self
    }

    /// Node names are `<prefix><index>` (default prefix `n`).
    pub fn name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.name_prefix = prefix.into();
        self
    }

    /// `--sled-cache-mb` (default 16).
    pub fn sled_cache_mb(mut self, mb: u32) -> Self {
        self.sled_cache_mb = mb;
        self
    }

    /// The `gamefleetd` binary to run (default: [`gamefleetd_path`]).
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }

    /// Where the cluster's temporary directory is created (default: the system temp dir).
    pub fn base_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.base_dir = Some(dir.into());
        self
    }

    /// The bound on [`ClusterBuilder::start`]'s waits (default 60 s).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// The arguments every node gets (after `run` and its identity arguments).
    fn common_args(&self) -> Vec<String> {
        let mut args = vec!["--sled-cache-mb".to_owned(), self.sled_cache_mb.to_string()];
        if let Some(v) = self.voters {
            args.extend(["--voters".to_owned(), v.to_string()]);
        }
        if let Some(ms) = self.heartbeat_ms {
            args.extend(["--heartbeat-ms".to_owned(), ms.to_string()]);
        }
        if let Some((min, max)) = self.election_timeout_ms {
            args.extend([
                "--election-timeout-min-ms".to_owned(),
                min.to_string(),
                "--election-timeout-max-ms".to_owned(),
                max.to_string(),
            ]);
        }
        if let Some(filter) = &self.log_filter {
            args.extend(["--log".to_owned(), filter.clone()]);
        }
        args.extend(self.hosting.args());
        args.extend(self.args.iter().cloned());
        args
    }

    /// Starts the nodes (the first bootstraps, the others join it one by one) and waits until
    /// [`Cluster::wait_ready`] holds. On error every started process is killed.
    pub async fn start(self) -> anyhow::Result<Cluster> {
        let binary = match &self.binary {
            Some(b) => b.clone(),
            None => gamefleetd_path(),
        };
        let dir = match &self.base_dir {
            Some(base) => {
                std::fs::create_dir_all(base)?;
                tempfile::Builder::new()
                    .prefix("gamefleet-cluster-")
                    .tempdir_in(base)?
            }
            None => tempfile::Builder::new()
                .prefix("gamefleet-cluster-")
                .tempdir()?,
        };
        let mut cluster = Cluster {
            root: dir.path().to_path_buf(),
            dir: Some(dir),
            binary,
            voters: self.voters.unwrap_or(3),
            common_args: self.common_args(),
            name_prefix: self.name_prefix.clone(),
            nodes: Vec::new(),
            network: self.network.clone(),
        };
        // Every node's gRPC and SDK ports, picked together so that no two are the same (a port
        // is released as soon as it is picked, so separate picks can return it again).
        let ports = free_ports(2 * self.nodes)?;
        for i in 0..self.nodes {
            let join = (i > 0).then(|| cluster.nodes[0].address());
            cluster.push_node([ports[i], ports[self.nodes + i]], join, Vec::new())?;
        }
        let deadline = Instant::now() + self.start_timeout;

        cluster.spawn(0)?;
        let what = format!("{} to bootstrap and lead", cluster.name(0));
        cluster
            .wait_until(remaining(deadline), &what, [0], || async {
                let st = cluster.status(0).await?;
                Ok((st.leader_id == Some(st.answered_by)).then_some(()))
            })
            .await?;
        for i in 1..self.nodes {
            cluster.spawn(i)?;
            cluster.wait_joined(i, remaining(deadline)).await?;
        }
        cluster.wait_ready(remaining(deadline)).await?;
        Ok(cluster)
    }
}

fn remaining(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}

/// One node of a [`Cluster`].
struct Node {
    name: String,
    addr: SocketAddr,
    /// `--sdk-listen`: the game-server SDK endpoint (its own free port; the node's default,
    /// listen port + 1000, could collide with another node's).
    sdk_addr: SocketAddr,
    data_dir: PathBuf,
    log_path: PathBuf,
    /// Arguments after `run`, without `--join` (used for every start).
    args: Vec<String>,
    /// `--join` for the first start only.
    join: Option<String>,
    proc: Mutex<NodeProc>,
}

#[derive(Default)]
struct NodeProc {
    child: Option<Child>,
    paused: bool,
    starts: u32,
    removed: bool,
    last_exit: Option<ExitStatus>,
}

impl Node {
    fn address(&self) -> String {
        self.addr.to_string()
    }

    fn lock(&self) -> MutexGuard<'_, NodeProc> {
        self.proc.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running set of real `gamefleetd` processes. See the module docs.
pub struct Cluster {
    // NB: `nodes` must be killed before `dir` is removed; Drop does that explicitly.
    nodes: Vec<Node>,
    binary: PathBuf,
    voters: usize,
    common_args: Vec<String>,
    name_prefix: String,
    root: PathBuf,
    dir: Option<TempDir>,
    /// NB: dropped after Drop has killed the nodes, so the lab outlives the processes in it.
    network: Option<Arc<NetLab>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("root", &self.root)
            .field(
                "nodes",
                &self.nodes.iter().map(|n| &n.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Cluster {
    /// Adds node `i` with gRPC and SDK ports `port` and `sdk_port` (ignored in a network lab,
    /// where every node has the same fixed ports on its own address).
    fn push_node(
        &mut self,
        [port, sdk_port]: [u16; 2],
        join: Option<String>,
        extra: Vec<String>,
    ) -> anyhow::Result<usize> {
        let i = self.nodes.len();
        let name = format!("{}{i}", self.name_prefix);
        let node_dir = self.root.join(&name);
        let data_dir = node_dir.join("data");
        std::fs::create_dir_all(&node_dir)?;
        let (addr, sdk_addr) = match &self.network {
            Some(lab) => {
                if i >= lab.nodes() {
                    bail!(
                        "the network lab {} has {} namespaces, too few for node {name}",
                        lab.bridge(),
                        lab.nodes()
                    );
                }
                let ip = std::net::IpAddr::V4(lab.ip(i));
                (
                    SocketAddr::new(ip, LAB_LISTEN_PORT),
                    SocketAddr::new(ip, LAB_SDK_PORT),
                )
            }
            None => {
                let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
                (addr, format!("127.0.0.1:{sdk_port}").parse()?)
            }
        };
        let mut args = vec![
            "--name".to_owned(),
            name.clone(),
            "--data-dir".to_owned(),
            data_dir.display().to_string(),
            "--listen".to_owned(),
            addr.to_string(),
            "--sdk-listen".to_owned(),
            sdk_addr.to_string(),
        ];
        args.extend(self.common_args.iter().cloned());
        args.extend(extra);
        self.nodes.push(Node {
            name,
            addr,
            sdk_addr,
            data_dir,
            log_path: node_dir.join("gamefleetd.log"),
            args,
            join,
            proc: Mutex::new(NodeProc::default()),
        });
        Ok(i)
    }

    fn node(&self, i: usize) -> &Node {
        assert!(
            i < self.nodes.len(),
            "node index {i} out of range (cluster has {} nodes)",
            self.nodes.len()
        );
        &self.nodes[i]
    }

    /// The number of nodes ever added (removed ones included; indexes are stable).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the cluster has no nodes (never true for a started cluster).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The configured voter count.
    pub fn voters(&self) -> usize {
        self.voters
    }

    /// The path of the `gamefleetd` binary the cluster runs.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The cluster's directory (one sub-directory per node).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The network lab the nodes run in, if the cluster was built with
    /// [`ClusterBuilder::network`].
    pub fn network(&self) -> Option<&Arc<NetLab>> {
        self.network.as_ref()
    }

    /// The pid of node `i`'s running `gamefleetd` process (also in a network lab: `ip netns
    /// exec` execs the program), or `None` if it is not running.
    pub fn process_id(&self, i: usize) -> Option<u32> {
        if !self.is_running(i) {
            return None;
        }
        self.node(i).lock().child.as_ref().map(Child::id)
    }

    /// Node `i`'s name (`n<i>` unless another prefix was chosen).
    pub fn name(&self, i: usize) -> &str {
        &self.node(i).name
    }

    /// The index of the node called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// The index of the node with raft id `node_id` according to `status`.
    pub fn index_of_id(&self, status: &ClusterStatus, node_id: u64) -> Option<usize> {
        let ns = status.nodes.iter().find(|n| n.node_id == node_id)?;
        self.index_of(&ns.name)
    }

    /// Node `i`'s `host:port` (what `--join` and `--listen` take).
    pub fn address(&self, i: usize) -> String {
        self.node(i).address()
    }

    /// Node `i`'s game-server SDK endpoint (`--sdk-listen`).
    pub fn sdk_address(&self, i: usize) -> SocketAddr {
        self.node(i).sdk_addr
    }

    /// Node `i`'s gRPC endpoint URL.
    pub fn endpoint(&self, i: usize) -> String {
        format!("http://{}", self.node(i).addr)
    }

    /// The endpoints of every node not removed from the cluster.
    pub fn endpoints(&self) -> Vec<String> {
        self.members().map(|i| self.endpoint(i)).collect()
    }

    /// The indexes of the nodes not removed from the cluster.
    pub fn members(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.nodes.len()).filter(|&i| !self.node(i).lock().removed)
    }

    /// The indexes of members whose process is running.
    pub fn running(&self) -> Vec<usize> {
        self.members().filter(|&i| self.is_running(i)).collect()
    }

    /// The indexes of members whose process is running and not paused: the nodes that can
    /// answer. Waits consider only these.
    pub fn responsive(&self) -> Vec<usize> {
        self.running()
            .into_iter()
            .filter(|&i| !self.node(i).lock().paused)
            .collect()
    }

    /// Whether node `i` is paused (SIGSTOPped and not resumed).
    pub fn is_paused(&self, i: usize) -> bool {
        self.is_running(i) && self.node(i).lock().paused
    }

    /// Node `i`'s data dir.
    pub fn data_dir(&self, i: usize) -> &Path {
        &self.node(i).data_dir
    }

    /// Node `i`'s log file (stdout and stderr of every start, appended).
    pub fn log_path(&self, i: usize) -> &Path {
        &self.node(i).log_path
    }

    /// The last `lines` lines of node `i`'s log.
    pub fn log_tail(&self, i: usize, lines: usize) -> String {
        log_tail(self.log_path(i), lines)
    }

    /// Client options for the given nodes with the library's usual timeouts.
    pub fn client_options(&self, nodes: &[usize]) -> ClientOptions {
        ClientOptions {
            endpoints: nodes.iter().map(|&i| self.endpoint(i)).collect(),
            attempt_timeout: Duration::from_secs(3),
            total_timeout: Duration::from_secs(20),
            consistency: Consistency::Linearizable,
            follow_leader: true,
            batch: false,
        }
    }

    /// A client spread over every member's endpoint.
    pub fn client(&self) -> anyhow::Result<Client> {
        let members: Vec<usize> = self.members().collect();
        Ok(Client::with_options(self.client_options(&members))?)
    }

    /// A client bound to node `i` only.
    pub fn client_for(&self, i: usize) -> anyhow::Result<Client> {
        Ok(Client::with_options(self.client_options(&[i]))?)
    }

    /// Node `i`'s answer to `ClusterStatus` (short timeouts: a paused node fails fast).
    pub async fn status(&self, i: usize) -> anyhow::Result<ClusterStatus> {
        let opts = ClientOptions {
            endpoints: vec![self.endpoint(i)],
            attempt_timeout: Duration::from_millis(1500),
            total_timeout: Duration::from_millis(2500),
            consistency: Consistency::Linearizable,
            follow_leader: true,
            batch: false,
        };
        let client = Client::with_options(opts)?;
        let st = tokio::time::timeout(Duration::from_secs(5), client.cluster_status())
            .await
            .map_err(|_| anyhow!("ClusterStatus on {} did not return in 5 s", self.name(i)))?
            .with_context(|| format!("ClusterStatus on {}", self.name(i)))?;
        Ok(st)
    }

    /// Starts node `i`'s process (with `--join` on its first start only) without waiting.
    pub fn spawn(&self, i: usize) -> anyhow::Result<()> {
        let node = self.node(i);
        let mut proc = node.lock();
        if let Some(child) = proc.child.as_mut()
            && child.try_wait()?.is_none()
        {
            bail!("{} is already running", node.name);
        }
        let mut args = node.args.clone();
        if proc.starts == 0
            && let Some(join) = &node.join
        {
            args.extend(["--join".to_owned(), join.clone()]);
        }
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log_path)
            .with_context(|| format!("cannot open {}", node.log_path.display()))?;
        writeln!(
            log,
            "{} ==== gamefleet-chaos: start #{} of {}: {} run {}",
            utc_timestamp(),
            proc.starts + 1,
            node.name,
            self.binary.display(),
            args.join(" ")
        )?;
        let mut cmd = match &self.network {
            Some(lab) => lab.command(i, &self.binary),
            None => Command::new(&self.binary),
        };
        cmd.arg("run")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .env("RUST_BACKTRACE", "1");
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("GAMEFLEET_") {
                cmd.env_remove(key);
            }
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {}", self.binary.display()))?;
        proc.child = Some(child);
        proc.paused = false;
        proc.starts += 1;
        Ok(())
    }

    /// Whether node `i`'s process is alive (a paused process is alive).
    pub fn is_running(&self, i: usize) -> bool {
        let mut proc = self.node(i).lock();
        let Some(child) = proc.child.as_mut() else {
            return false;
        };
        match child.try_wait() {
            Ok(None) => true,
            Ok(Some(status)) => {
                proc.last_exit = Some(status);
                proc.child = None;
                false
            }
            Err(_) => false,
        }
    }

    /// How node `i`'s process last exited, once it has been reaped.
    pub fn last_exit(&self, i: usize) -> Option<ExitStatus> {
        self.is_running(i);
        self.node(i).lock().last_exit
    }

    fn pid(&self, i: usize) -> anyhow::Result<Pid> {
        let proc = self.node(i).lock();
        let child = proc
            .child
            .as_ref()
            .ok_or_else(|| anyhow!("{} is not running", self.name(i)))?;
        Ok(Pid::from_raw(i32::try_from(child.id())?))
    }

    fn signal(&self, i: usize, signal: Signal) -> anyhow::Result<()> {
        if !self.is_running(i) {
            bail!(
                "{} is not running (last exit: {:?})\n{}",
                self.name(i),
                self.node(i).lock().last_exit,
                self.tails(&[i])
            );
        }
        self.mark(i, &format!("sending {signal}"));
        send_signal(self.pid(i)?, signal)
            .with_context(|| format!("cannot send {signal} to {}", self.name(i)))
    }

    /// Appends a timestamped harness event to node `i`'s log (best effort).
    pub fn mark(&self, i: usize, event: &str) {
        if let Ok(mut log) = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path(i))
        {
            let _ = writeln!(
                log,
                "{} ==== gamefleet-chaos: {}: {event}",
                utc_timestamp(),
                self.name(i)
            );
        }
    }

    /// SIGKILLs node `i` and reaps it. Fails if it was not running (e.g. it had crashed).
    pub fn kill(&self, i: usize) -> anyhow::Result<()> {
        self.signal(i, Signal::SIGKILL)?;
        self.reap(i)
    }

    /// SIGKILLs every running member at once (all signals first, then the reaping).
    pub fn kill_all(&self) -> anyhow::Result<Vec<usize>> {
        let running = self.running();
        for &i in &running {
            self.signal(i, Signal::SIGKILL)?;
        }
        for &i in &running {
            self.reap(i)?;
        }
        Ok(running)
    }

    fn reap(&self, i: usize) -> anyhow::Result<()> {
        let mut proc = self.node(i).lock();
        if let Some(mut child) = proc.child.take() {
            proc.last_exit = Some(child.wait()?);
        }
        proc.paused = false;
        Ok(())
    }

    /// SIGTERMs node `i` and waits (bounded by `timeout`) for it to exit; SIGKILLs it and fails
    /// if it does not.
    pub async fn terminate(&self, i: usize, timeout: Duration) -> anyhow::Result<ExitStatus> {
        if self.node(i).lock().paused {
            self.signal(i, Signal::SIGCONT)?;
        }
        self.signal(i, Signal::SIGTERM)?;
        let deadline = Instant::now() + timeout;
        loop {
            if !self.is_running(i) {
                let status = self.node(i).lock().last_exit;
                return status.ok_or_else(|| anyhow!("{} vanished", self.name(i)));
            }
            if Instant::now() >= deadline {
                self.kill(i)?;
                bail!(
                    "{} did not exit within {timeout:?} of SIGTERM (killed)\n{}",
                    self.name(i),
                    self.tails(&[i])
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Starts node `i` again with the same arguments (no `--join`) and waits until it answers
    /// `ClusterStatus` (bounded by 30 s).
    pub async fn restart(&self, i: usize) -> anyhow::Result<()> {
        self.spawn(i)?;
        self.wait_answering(i, Duration::from_secs(30)).await
    }

    /// SIGSTOPs node `i`.
    pub fn pause(&self, i: usize) -> anyhow::Result<()> {
        self.signal(i, Signal::SIGSTOP)?;
        self.node(i).lock().paused = true;
        Ok(())
    }

    /// SIGCONTs node `i`.
    pub fn resume(&self, i: usize) -> anyhow::Result<()> {
        self.signal(i, Signal::SIGCONT)?;
        self.node(i).lock().paused = false;
        Ok(())
    }

    /// Marks node `i` as no longer a member (after `remove_node`): waits ignore it and
    /// [`Cluster::endpoints`] leaves it out. Its process, if any, keeps running.
    pub fn mark_removed(&self, i: usize) {
        self.node(i).lock().removed = true;
    }

    /// Adds a node that joins the cluster through every running member; returns its index.
    /// Waits (bounded by 60 s) until the cluster lists it.
    pub async fn add_node(&mut self) -> anyhow::Result<usize> {
        let join = self
            .running()
            .iter()
            .map(|&i| self.address(i))
            .collect::<Vec<_>>()
            .join(",");
        let ports = self.fresh_ports()?;
        let i = self.push_node(ports, Some(join), Vec::new())?;
        self.spawn(i)?;
        self.wait_joined(i, Duration::from_secs(60)).await?;
        Ok(i)
    }

    /// Two free ports (gRPC, SDK) that no node of this cluster was given.
    fn fresh_ports(&self) -> anyhow::Result<[u16; 2]> {
        let taken: Vec<u16> = self
            .nodes
            .iter()
            .flat_map(|n| [n.addr.port(), n.sdk_addr.port()])
            .collect();
        for _ in 0..20 {
            if let [a, b] = free_ports(2)?[..]
                && !taken.contains(&a)
                && !taken.contains(&b)
            {
                return Ok([a, b]);
            }
        }
        bail!("no two free ports that no node of the cluster already has")
    }

    /// Adds a node started with `--no-bootstrap` and no `--join` (it waits for a `JoinCluster`
    /// request); returns its index without waiting for anything.
    pub fn add_node_no_bootstrap(&mut self) -> anyhow::Result<usize> {
        let ports = self.fresh_ports()?;
        let i = self.push_node(ports, None, vec!["--no-bootstrap".to_owned()])?;
        self.spawn(i)?;
        Ok(i)
    }

    /// The last `TAIL_LINES` lines of the given nodes' logs, for error messages.
    pub fn tails(&self, nodes: &[usize]) -> String {
        let mut out = String::new();
        for &i in nodes {
            let _ = writeln!(
                out,
                "---- tail of {} ({}) ----\n{}",
                self.name(i),
                self.log_path(i).display(),
                self.log_tail(i, TAIL_LINES)
            );
        }
        out
    }

    fn all_tails(&self) -> String {
        let all: Vec<usize> = (0..self.nodes.len()).collect();
        self.tails(&all)
    }

    /// Polls `probe` every 100 ms until it yields `Some`, or fails after `timeout` with `what`,
    /// the last probe error and the log tails of `nodes`. Fails at once if one of `nodes` that
    /// is expected to run has exited.
    pub async fn wait_until<T, F, Fut>(
        &self,
        timeout: Duration,
        what: &str,
        nodes: impl IntoIterator<Item = usize>,
        mut probe: F,
    ) -> anyhow::Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = anyhow::Result<Option<T>>>,
    {
        let nodes: Vec<usize> = nodes.into_iter().collect();
        let watched: Vec<usize> = nodes
            .iter()
            .copied()
            .filter(|&i| self.node(i).lock().child.is_some())
            .collect();
        let start = Instant::now();
        loop {
            for &i in &watched {
                if !self.is_running(i) {
                    bail!(
                        "{what}: {} exited ({:?}) while waiting\n{}",
                        self.name(i),
                        self.node(i).lock().last_exit,
                        self.tails(&nodes)
                    );
                }
            }
            let left = timeout.saturating_sub(start.elapsed());
            let last = match tokio::time::timeout(left.max(Duration::from_millis(1)), probe()).await
            {
                Ok(Ok(Some(v))) => return Ok(v),
                Ok(Ok(None)) => "condition not met yet".to_owned(),
                Ok(Err(err)) => format!("{err:#}"),
                Err(_) => "probe did not return in time".to_owned(),
            };
            if start.elapsed() >= timeout {
                bail!(
                    "timed out after {timeout:?} waiting for {what}; last observation: {last}\n{}",
                    self.tails(&nodes)
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits until node `i` answers `ClusterStatus`.
    pub async fn wait_answering(&self, i: usize, timeout: Duration) -> anyhow::Result<()> {
        let what = format!("{} to answer ClusterStatus", self.name(i));
        self.wait_until(timeout, &what, [i], || async {
            self.status(i).await.map(|_| Some(()))
        })
        .await
    }

    /// Waits until the leader (or, failing that, any running member) lists node `i`.
    async fn wait_joined(&self, i: usize, timeout: Duration) -> anyhow::Result<()> {
        let name = self.name(i).to_owned();
        let what = format!("{name} to join the cluster");
        let mut watch: Vec<usize> = self.running();
        watch.push(i);
        watch.sort_unstable();
        watch.dedup();
        self.wait_until(timeout, &what, watch, || async {
            let mut last_err = None;
            for j in self.running() {
                if j == i {
                    continue;
                }
                match self.status(j).await {
                    Ok(st) => return Ok(st.nodes.iter().any(|n| n.name == name).then_some(())),
                    Err(e) => last_err = Some(e),
                }
            }
            Err(last_err.unwrap_or_else(|| anyhow!("no other running member to ask")))
        })
        .await
    }

    /// Checks readiness once; the error says why the cluster is not ready.
    async fn ready_once(&self) -> anyhow::Result<()> {
        let running = self.responsive();
        let members: Vec<usize> = self.members().collect();
        let expected_voters = self.voters.min(members.len());
        let mut leader = None;
        for &i in &running {
            let st = self.status(i).await?;
            let Some(l) = st.leader_id else {
                bail!("{} knows no leader", self.name(i));
            };
            if *leader.get_or_insert(l) != l {
                bail!("nodes disagree on the leader ({leader:?} vs {l})");
            }
            for &j in &running {
                let name = self.name(j);
                match st.nodes.iter().find(|n| n.name == name) {
                    None => bail!("{} does not list {name}", self.name(i)),
                    Some(n) if n.health != "ok" || n.role == "UNREACHABLE" => {
                        bail!("{} sees {name} as {} ({})", self.name(i), n.role, n.health)
                    }
                    Some(_) => {}
                }
            }
            let voters = st.nodes.iter().filter(|n| n.voter).count();
            if voters != expected_voters {
                bail!(
                    "{} sees {voters} voters, expected {expected_voters}",
                    self.name(i)
                );
            }
        }
        Ok(())
    }

    /// Waits until every responsive member (running, not paused) answers `ClusterStatus`, all
    /// agree on one leader, each is listed as healthy by every other, and the voter count is
    /// `min(voters, members)` (all voters promoted).
    pub async fn wait_ready(&self, timeout: Duration) -> anyhow::Result<()> {
        let running = self.responsive();
        self.wait_until(timeout, "the cluster to be ready", running, || async {
            self.ready_once().await.map(Some)
        })
        .await
    }

    /// One pass: the index of a responsive member that reports itself as leader (the highest
    /// term wins if several do).
    pub async fn leader_index(&self) -> Option<usize> {
        let mut best: Option<(u64, usize)> = None;
        for i in self.responsive() {
            let Ok(st) = self.status(i).await else {
                continue;
            };
            if st.leader_id == Some(st.answered_by) && best.is_none_or(|(t, _)| st.term > t) {
                best = Some((st.term, i));
            }
        }
        best.map(|(_, i)| i)
    }

    /// Waits until a responsive member reports itself as leader; returns its index.
    pub async fn wait_leader(&self, timeout: Duration) -> anyhow::Result<usize> {
        let running = self.responsive();
        self.wait_until(timeout, "a leader among running nodes", running, || async {
            Ok(self.leader_index().await)
        })
        .await
    }

    /// Waits until every responsive member has the same `last_applied_index` and `state_hash`
    /// (at least `min_applied`), as seen in one `ClusterStatus` from one of them; returns that
    /// status.
    pub async fn wait_converged(
        &self,
        timeout: Duration,
        min_applied: u64,
    ) -> anyhow::Result<ClusterStatus> {
        let running = self.responsive();
        let names: Vec<String> = running.iter().map(|&i| self.name(i).to_owned()).collect();
        let what =
            format!("{names:?} to converge (same applied index >= {min_applied} and state hash)");
        self.wait_until(timeout, &what, running.clone(), || async {
            let asker = self.leader_index().await.unwrap_or(running[0]);
            let st = self.status(asker).await?;
            let mut seen = Vec::new();
            for name in &names {
                let Some(n) = st.nodes.iter().find(|n| &n.name == name) else {
                    bail!("{} does not list {name}", self.name(asker));
                };
                if n.health != "ok" {
                    bail!("{name} is {} ({})", n.role, n.health);
                }
                seen.push((n.last_applied_index, n.state_hash.clone()));
            }
            let first = &seen[0];
            let same = seen.iter().all(|s| s == first);
            if same && first.0 >= min_applied {
                Ok(Some(st))
            } else {
                bail!("applied index and state hash per node: {seen:?}")
            }
        })
        .await
    }

    /// Keeps the cluster directory (data dirs and logs) after drop; returns its path.
    pub fn keep_dir(&mut self) -> PathBuf {
        if let Some(dir) = self.dir.as_mut() {
            dir.disable_cleanup(true);
        }
        self.root.clone()
    }
}

/// SIGKILLs the process group of every game server a node's data dir records as running
/// (`<data_dir>/processes/<process-id>.json`, written by the node's supervisor). A killed node
/// leaves its game servers running until its next start; a dropped cluster must not.
pub fn kill_recorded_game_servers(data_dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(data_dir.join("processes")) else {
        return 0;
    };
    let mut killed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let Ok(text) = std::fs::read(&path) else {
            continue;
        };
        let Ok(rec) = serde_json::from_slice::<serde_json::Value>(&text) else {
            continue;
        };
        let pgid = rec.get("pgid").and_then(serde_json::Value::as_i64);
        let start = rec.get("start_time").and_then(serde_json::Value::as_u64);
        let Some(pgid) = pgid.and_then(|p| i32::try_from(p).ok()).filter(|p| *p > 1) else {
            continue;
        };
        // NB: only if the leader is still the recorded process (a recycled pid is left alone).
        let stat = std::fs::read_to_string(format!("/proc/{pgid}/stat")).unwrap_or_default();
        let recorded = stat.rfind(')').and_then(|i| {
            stat[i + 1..]
                .split_whitespace()
                .nth(19)?
                .parse::<u64>()
                .ok()
        });
        if recorded.is_some() && (start.is_none() || recorded == start) {
            let _ = nix::sys::signal::killpg(Pid::from_raw(pgid), Signal::SIGKILL);
            killed += 1;
        }
    }
    killed
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &self.nodes {
            let mut proc = node.lock();
            if let Some(mut child) = proc.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        for node in &self.nodes {
            kill_recorded_game_servers(&node.data_dir);
        }
        if std::thread::panicking() {
            eprintln!(
                "gamefleet-chaos: cluster in {} dropped during a panic; node logs:\n{}",
                self.root.display(),
                self.all_tails()
            );
        }
        if std::env::var_os("GAMEFLEET_KEEP_CLUSTER_DIR").is_some() {
            let path = self.keep_dir();
            eprintln!("gamefleet-chaos: kept cluster dir {}", path.display());
        }
    }
}
