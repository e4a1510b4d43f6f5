//! `bench sessions`: game session placement and player session reservations against a warm
//! pool of real game server processes.
//!
//! Phases, on one local cluster:
//! 0. **Warm pool.** `--fleets` fleets of the `minimal` SDK example, each on every node with
//!    `--per-node` processes per node (GameLift, and gamefleet, cap one node at 50 processes
//!    per fleet runtime configuration, so 600 processes on 3 nodes take 4 fleets). Timed from the
//!    first CreateFleet until every process is ACTIVE and HEALTHY and every fleet is ACTIVE.
//! 1. **Placement latency, 1 client.** `--latency-sessions` sequential CreateGameSession
//!    calls, round-robin over the fleets and over the nodes' endpoints. Per call: the time until
//!    the answer (the session is placed and carries IP:port), and until the session is ACTIVE
//!    (the game server was told and called ActivateGameSession). ACTIVE is polled about every
//!    millisecond with a STALE DescribeGameSessions on the leader's endpoint: the leader applies
//!    a committed entry first, and a stale read adds no read-index round to the measurement.
//! 2. **Placement throughput.** `--clients` tasks, each with its own client (by `--routing`:
//!    knowing every node and following the leader hint, or pinned to one node round-robin so
//!    most calls enter through a follower and are forwarded), create sessions
//!    round-robin over the fleets until every fleet has answered FleetCapacityExceeded.
//!    Placed/s = placed sessions / time from the start to the last success. Then the run fails
//!    unless every live session sits on its own process and the pool is exactly used up.
//! 3. **Reservations.** Once every session is ACTIVE, `--reserve-clients` tasks (routed the same
//!    way, each with its own share of the sessions) call CreatePlayerSession with unique
//!    player ids for `--duration`. Then the run fails unless no session holds more players than
//!    its maximum and the sessions' player counts add up to the successful reservations.
//!
//! Every client makes one read before its phase's clock starts, so connection setup is not
//! measured. The nodes run with `--sled-cache-mb 16` and `--player-session-timeout-s 3600` (no
//! game server accepts the reservations, and they must still be there to be counted).
//!
//! Besides latencies it samples CPU time (`/proc`) of the nodes, the game servers, this process
//! and everything else per phase, to show where the time goes on a machine they all share, and
//! the Raft term before and after, to show whether an election disturbed the measurement.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use gamefleet_client::{
    Client, ClientOptions, Consistency, CreateFleetInput, CreateGameSessionInput,
    DescribeGameSessionsInput, ErrorKind, FleetOrAlias, FleetStatus, GameSession,
    GameSessionSelector, GameSessionStatus, InstanceCounts, RuntimeConfiguration, ServerProcess,
};
use hdrhistogram::Histogram;

use super::cpu::{CpuProbe, CpuUse, cpu_use, node_pids};
use super::{
    ClientSetup, ClusterArgs, Routing, describe_binary, emit, ms, parse_duration, quantile,
    routed_clients,
};
use crate::cluster::Cluster;

/// Most players per game session (GameLift's maximum); every session is created with it.
const MAX_PLAYERS: i32 = 200;

/// How long the warm pool may take to come up.
const WARM_LIMIT: Duration = Duration::from_secs(600);

/// How long one session of the latency phase may take to become ACTIVE.
const ACTIVE_LIMIT: Duration = Duration::from_secs(30);

/// How long the throughput phase may run before it gives up on using up the pool.
const PLACE_LIMIT: Duration = Duration::from_secs(300);

/// The node's reservation timeout for this run (`--player-session-timeout-s`): nobody accepts
/// the reservations, and they must not time out (and free their slots) before they are counted.
const RESERVATION_TIMEOUT_S: u64 = 3600;

/// Options of `bench sessions`.
#[derive(Debug, Clone, clap::Args)]
pub struct SessionsArgs {
    /// Number of nodes in the local cluster.
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// Fleets of the game server, each hosted on every node.
    #[arg(long, default_value_t = 4)]
    pub fleets: usize,
    /// Processes per fleet on each node (GameLift's cap is 50).
    #[arg(long, default_value_t = 50)]
    pub per_node: usize,
    /// Sequential CreateGameSession calls of the latency phase.
    #[arg(long, default_value_t = 100)]
    pub latency_sessions: usize,
    /// Concurrent clients of the placement throughput phase.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// How the clients of the throughput and reservation phases pick a node: `leader` (each
    /// knows every node and follows the leader hint, the client library's default) or `pinned`
    /// (each knows one node, round-robin; followers forward).
    #[arg(long, value_enum, default_value = "leader")]
    pub routing: Routing,
    /// Concurrent clients of the reservation phase.
    #[arg(long, default_value_t = 64)]
    pub reserve_clients: usize,
    /// Connections per node the clients of the throughput and reservation phases share (client
    /// k uses client handle k mod N, as etcd's benchmark tool's `--conns`); 0: every client has
    /// its own connection.
    #[arg(long, default_value_t = 0)]
    pub conns: usize,
    /// Client batching in the throughput and reservation phases (`ClientOptions::batch`:
    /// concurrent calls on one client handle to the same node travel in one `Batch` RPC; packs
    /// calls only when handles are shared, see `--conns`).
    #[arg(long)]
    pub batch: bool,
    /// Length of the reservation phase (e.g. 10s, 500ms, 1m).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// The game server (default: the `minimal` SDK example next to gamefleetd).
    #[arg(long, value_name = "PATH")]
    pub server: Option<PathBuf>,
    /// Also write the markdown report to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

impl SessionsArgs {
    /// How the clients of the concurrent phases connect.
    fn client_setup(&self) -> ClientSetup {
        ClientSetup {
            routing: self.routing,
            conns: self.conns,
            batch: self.batch,
        }
    }

    /// Processes in the warm pool.
    fn pool(&self) -> usize {
        self.fleets * self.per_node * self.nodes
    }
}

fn new_histogram() -> Histogram<u64> {
    // 1 us .. 10 min, 3 significant digits.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

fn push_sample(samples: &mut Vec<String>, msg: String) {
    if samples.len() < 5 && !samples.contains(&msg) {
        samples.push(msg);
    }
}

/// How the report describes a routing.
fn routing_words(r: Routing) -> &'static str {
    match r {
        Routing::Leader => "routing `leader`: each knows every node and sends to the leader",
        Routing::Pinned => "routing `pinned`: each knows one node, round-robin; followers forward",
    }
}

/// How the report describes the clients' connections and batching.
fn conns_words(clients: usize, conns: usize, batch: bool) -> String {
    let conns = if conns == 0 || conns >= clients {
        "each client with its own connection".to_owned()
    } else {
        match conns {
            1 => "the clients sharing one client handle (one connection per node)".to_owned(),
            n => format!("the clients sharing {n} client handles (connections per node)"),
        }
    };
    let batch = if batch {
        "client batching on"
    } else {
        "no client batching"
    };
    format!("{conns}, {batch}")
}

/// A client bound to `endpoint` only, with the writes benchmark's timeouts.
fn pinned_client(endpoint: &str, consistency: Consistency) -> anyhow::Result<Client> {
    Ok(Client::with_options(ClientOptions {
        endpoints: vec![endpoint.to_owned()],
        attempt_timeout: Duration::from_secs(5),
        total_timeout: Duration::from_secs(10),
        consistency,
        follow_leader: true,
        batch: false,
    })?)
}

/// One cheap read per client, so connection setup is not measured.
async fn connect_all<'a>(
    clients: impl Iterator<Item = &'a Client>,
    fleet: &str,
) -> anyhow::Result<()> {
    let reads = clients.map(|c| c.describe_fleet(fleet));
    for r in futures::future::join_all(reads).await {
        r.context("connecting a benchmark client")?;
    }
    Ok(())
}

// ---- CPU accounting -------------------------------------------------------------------------

// ---- Phase 0: the warm pool -----------------------------------------------------------------

fn default_server(gamefleetd: &Path) -> PathBuf {
    match gamefleetd.parent() {
        Some(dir) if dir.join("examples").join("minimal").is_file() => {
            dir.join("examples").join("minimal")
        }
        // NB: `sdk_example` finds (or builds) the examples of the running test's profile.
        _ => crate::examples::sdk_example("minimal"),
    }
}

async fn create_fleets(
    admin: &Client,
    args: &SessionsArgs,
    server: &Path,
) -> anyhow::Result<Vec<String>> {
    let nodes = i32::try_from(args.nodes)?;
    let mut fleets = Vec::new();
    for k in 0..args.fleets {
        let fleet = admin
            .create_fleet(CreateFleetInput {
                name: format!("bench-sessions-{k}"),
                description: Some("game session benchmark".to_owned()),
                runtime_configuration: Some(RuntimeConfiguration {
                    server_processes: vec![ServerProcess {
                        launch_path: server.to_string_lossy().into_owned(),
                        parameters: Some("--port {port}".to_owned()),
                        concurrent_executions: i32::try_from(args.per_node)?,
                    }],
                    max_concurrent_game_session_activations: None,
                    game_session_activation_timeout_seconds: None,
                }),
                instances: Some(InstanceCounts {
                    desired: nodes,
                    minimum: nodes,
                    maximum: nodes,
                    active: 0,
                }),
                ..Default::default()
            })
            .await
            .with_context(|| format!("creating fleet {k}"))?;
        fleets.push(fleet.fleet_id);
    }
    Ok(fleets)
}

/// Waits until every fleet is ACTIVE and `expected` processes are ACTIVE and HEALTHY; returns
/// the pids of the game servers.
async fn wait_warm(
    cluster: &Cluster,
    admin: &Client,
    fleets: &[String],
    expected: usize,
) -> anyhow::Result<Vec<u32>> {
    let nodes: Vec<usize> = cluster.members().collect();
    let what = format!(
        "{expected} ready processes in {} ACTIVE fleets",
        fleets.len()
    );
    cluster
        .wait_until(WARM_LIMIT, &what, nodes, || async {
            let mut ready = Vec::new();
            for f in fleets {
                ready.extend(
                    admin
                        .describe_fleet_processes(f)
                        .await?
                        .into_iter()
                        .filter(|p| p.status == "ACTIVE" && p.health == "HEALTHY")
                        .map(|p| p.pid),
                );
            }
            let statuses: Vec<FleetStatus> = admin
                .describe_fleets(fleets)
                .await?
                .into_iter()
                .map(|f| f.status)
                .collect();
            let fleets_active = statuses.len() == fleets.len()
                && statuses.iter().all(|s| *s == FleetStatus::Active);
            if ready.len() >= expected && fleets_active {
                Ok(Some(ready))
            } else {
                bail!(
                    "{} of {expected} processes ready; fleet statuses {:?}",
                    ready.len(),
                    statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>()
                )
            }
        })
        .await
}

// ---- Phase 1: placement latency -------------------------------------------------------------

/// One sequential placement.
#[derive(Debug, Clone, Copy)]
pub struct LatencySample {
    /// CreateGameSession call → its answer (placed, with IP:port).
    pub placed: Duration,
    /// CreateGameSession call → the session seen ACTIVE on the leader.
    pub active: Duration,
    /// Whether the call entered through the leader (else a follower forwarded it).
    pub via_leader: bool,
}

async fn latency_phase(
    clients: &[Client],
    poller: &Client,
    leader: usize,
    fleets: &[String],
    n: usize,
) -> anyhow::Result<(Vec<LatencySample>, Vec<GameSession>)> {
    let mut samples = Vec::with_capacity(n);
    let mut sessions = Vec::with_capacity(n);
    for i in 0..n {
        let node = i % clients.len();
        let fleet = &fleets[i % fleets.len()];
        let input = CreateGameSessionInput::new(FleetOrAlias::fleet(fleet.clone()), MAX_PLAYERS);
        let start = Instant::now();
        let gs = clients[node]
            .create_game_session(input)
            .await
            .with_context(|| format!("latency phase: CreateGameSession {i} on fleet {fleet}"))?;
        let placed = start.elapsed();
        if gs.ip_address.is_empty() || gs.port == 0 {
            bail!(
                "latency phase: CreateGameSession answered without IP:port: {}:{} ({})",
                gs.ip_address,
                gs.port,
                gs.game_session_id
            );
        }
        let mut last = gs.status;
        while last != GameSessionStatus::Active {
            if start.elapsed() > ACTIVE_LIMIT {
                bail!(
                    "latency phase: {} not ACTIVE after {ACTIVE_LIMIT:?} (last status {})",
                    gs.game_session_id,
                    last.as_str()
                );
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
            match poller.describe_game_session(&gs.game_session_id).await {
                Ok(s) if s.status.is_final() => bail!(
                    "latency phase: {} ended as {} ({:?}) before becoming ACTIVE",
                    s.game_session_id,
                    s.status.as_str(),
                    s.status_reason
                ),
                Ok(s) => last = s.status,
                // A stale read may not know the session yet.
                Err(e) if e.kind == ErrorKind::NotFound => {}
                Err(e) => return Err(e).context("latency phase: polling for ACTIVE"),
            }
        }
        samples.push(LatencySample {
            placed,
            active: start.elapsed(),
            via_leader: node == leader,
        });
        sessions.push(gs);
    }
    Ok((samples, sessions))
}

// ---- Phase 2: placement throughput ----------------------------------------------------------

#[derive(Debug)]
struct PlacerResult {
    placed: Vec<GameSession>,
    latency: Histogram<u64>,
    last_ok: Option<Instant>,
    capacity_exceeded: u64,
    errors: u64,
    samples: Vec<String>,
}

async fn placer(
    client: Client,
    fleets: Arc<Vec<String>>,
    task: usize,
    deadline: Instant,
) -> PlacerResult {
    let mut res = PlacerResult {
        placed: Vec::new(),
        latency: new_histogram(),
        last_ok: None,
        capacity_exceeded: 0,
        errors: 0,
        samples: Vec::new(),
    };
    let mut exhausted = vec![false; fleets.len()];
    let mut next = task;
    while exhausted.iter().any(|e| !e) && Instant::now() < deadline {
        let f = next % fleets.len();
        next += 1;
        if exhausted[f] {
            continue;
        }
        let input =
            CreateGameSessionInput::new(FleetOrAlias::fleet(fleets[f].clone()), MAX_PLAYERS);
        let start = Instant::now();
        match client.create_game_session(input).await {
            Ok(gs) => {
                let now = Instant::now();
                res.latency.saturating_record(micros(now - start));
                res.last_ok = Some(now);
                res.placed.push(gs);
            }
            Err(e) if e.kind == ErrorKind::FleetCapacityExceeded => {
                res.capacity_exceeded += 1;
                exhausted[f] = true;
            }
            Err(e) => {
                res.errors += 1;
                push_sample(&mut res.samples, e.to_string());
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    res
}

/// The throughput phase's figures.
#[derive(Debug)]
pub struct PlacementThroughput {
    /// Sessions placed.
    pub placed: usize,
    /// FleetCapacityExceeded answers (each task stops on a fleet after its first).
    pub capacity_exceeded: u64,
    /// Other failed calls.
    pub errors: u64,
    /// Start → last successful placement.
    pub elapsed: Duration,
    /// Latency of successful CreateGameSession calls, microseconds.
    pub latency: Histogram<u64>,
    /// A few distinct error messages.
    pub samples: Vec<String>,
}

async fn throughput_phase(
    endpoints: &[String],
    fleets: &[String],
    clients: usize,
    setup: ClientSetup,
) -> anyhow::Result<(PlacementThroughput, Vec<GameSession>)> {
    let fleets = Arc::new(fleets.to_vec());
    let tasks: Vec<(Client, usize)> =
        routed_clients(endpoints, clients, setup, Consistency::Linearizable)?
            .into_iter()
            .enumerate()
            .map(|(task, client)| (client, task))
            .collect();
    connect_all(tasks.iter().map(|(c, _)| c), &fleets[0]).await?;
    let start = Instant::now();
    let deadline = start + PLACE_LIMIT;
    let handles: Vec<_> = tasks
        .into_iter()
        .map(|(client, task)| tokio::spawn(placer(client, fleets.clone(), task, deadline)))
        .collect();
    let mut out = PlacementThroughput {
        placed: 0,
        capacity_exceeded: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latency: new_histogram(),
        samples: Vec::new(),
    };
    let mut sessions = Vec::new();
    let mut last_ok = start;
    for h in handles {
        let r = h.await.context("placer task panicked")?;
        out.capacity_exceeded += r.capacity_exceeded;
        out.errors += r.errors;
        out.latency.add(&r.latency).context("merging histograms")?;
        if let Some(t) = r.last_ok {
            last_ok = last_ok.max(t);
        }
        for s in r.samples {
            push_sample(&mut out.samples, s);
        }
        sessions.extend(r.placed);
    }
    if start.elapsed() >= PLACE_LIMIT {
        bail!(
            "throughput phase: the pool was not used up within {PLACE_LIMIT:?} ({} placed, {} errors: {:?})",
            sessions.len(),
            out.errors,
            out.samples
        );
    }
    out.placed = sessions.len();
    out.elapsed = last_ok - start;
    Ok((out, sessions))
}

/// Every game session of `fleets` that has not ended (ACTIVATING or ACTIVE), linearizable.
async fn live_sessions(client: &Client, fleets: &[String]) -> anyhow::Result<Vec<GameSession>> {
    let mut live = Vec::new();
    for f in fleets {
        let all = client
            .describe_game_sessions(&DescribeGameSessionsInput::new(GameSessionSelector::Fleet(
                f.clone(),
            )))
            .await
            .with_context(|| format!("describing the game sessions of {f}"))?;
        live.extend(all.into_iter().filter(|s| !s.status.is_final()));
    }
    Ok(live)
}

/// Fails unless every live session sits on its own process, every placed session is live, and
/// the placements used up the pool exactly. Returns a one-line summary.
fn verify_placements(
    live: &[GameSession],
    placed: &[&GameSession],
    pool: usize,
    latency_sessions: usize,
) -> anyhow::Result<String> {
    let mut by_process: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for s in live {
        by_process
            .entry((s.fleet_id.as_str(), s.process_id.as_str()))
            .or_default()
            .push(&s.game_session_id);
    }
    let doubled: Vec<_> = by_process.iter().filter(|(_, v)| v.len() > 1).collect();
    if !doubled.is_empty() {
        bail!(
            "PLACEMENT BUG: {} processes host more than one live game session, e.g. {:?}",
            doubled.len(),
            doubled.iter().take(3).collect::<Vec<_>>()
        );
    }
    let live_ids: BTreeSet<&str> = live.iter().map(|s| s.game_session_id.as_str()).collect();
    let placed_ids: BTreeSet<&str> = placed.iter().map(|s| s.game_session_id.as_str()).collect();
    if placed_ids.len() != placed.len() {
        bail!(
            "PLACEMENT BUG: {} placements answered with only {} distinct game session ids",
            placed.len(),
            placed_ids.len()
        );
    }
    let missing: Vec<&&str> = placed_ids.difference(&live_ids).take(3).collect();
    if !missing.is_empty() {
        bail!("PLACEMENT BUG: acknowledged game sessions are not live: {missing:?}");
    }
    let no_address = placed
        .iter()
        .filter(|s| s.ip_address.is_empty() || s.port == 0)
        .count();
    if no_address > 0 {
        bail!("PLACEMENT BUG: {no_address} CreateGameSession answers carry no IP:port");
    }
    let throughput = placed.len().saturating_sub(latency_sessions);
    if live.len() != pool || throughput != pool.saturating_sub(latency_sessions) {
        bail!(
            "PLACEMENT BUG: the pool of {pool} processes was not used up exactly: {} live sessions, \
             {throughput} placed under load (expected {})",
            live.len(),
            pool.saturating_sub(latency_sessions)
        );
    }
    Ok(format!(
        "{} live sessions on {} distinct processes; {latency_sessions} (latency phase) + \
         {throughput} (throughput phase) = the pool of {pool}",
        live.len(),
        by_process.len()
    ))
}

// ---- Phase 3: player session reservations ---------------------------------------------------

#[derive(Debug)]
struct ReserverResult {
    ok: u64,
    full: u64,
    errors: u64,
    ambiguous: u64,
    latency: Histogram<u64>,
    samples: Vec<String>,
}

async fn reserver(
    client: Client,
    mut sessions: Vec<String>,
    task: usize,
    until: Instant,
) -> ReserverResult {
    let mut res = ReserverResult {
        ok: 0,
        full: 0,
        errors: 0,
        ambiguous: 0,
        latency: new_histogram(),
        samples: Vec::new(),
    };
    let mut seq = 0u64;
    let mut next = 0usize;
    while !sessions.is_empty() && Instant::now() < until {
        let k = next % sessions.len();
        next += 1;
        seq += 1;
        let player = format!("bench-player-{task}-{seq}");
        let start = Instant::now();
        match client
            .create_player_session(&sessions[k], &player, None)
            .await
        {
            Ok(_) => {
                res.ok += 1;
                res.latency.saturating_record(micros(start.elapsed()));
            }
            Err(e) if e.kind == ErrorKind::GameSessionFull => {
                res.full += 1;
                sessions.swap_remove(k);
            }
            Err(e) => {
                res.errors += 1;
                // NB: a timed-out attempt may have been applied and retried (the call has no
                // idempotency token), so such an error may still have reserved a slot.
                if matches!(e.kind, ErrorKind::Timeout | ErrorKind::Unavailable) {
                    res.ambiguous += 1;
                }
                push_sample(&mut res.samples, e.to_string());
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    res
}

/// The reservation phase's figures.
#[derive(Debug)]
pub struct Reservations {
    /// Successful CreatePlayerSession calls.
    pub ok: u64,
    /// GameSessionFull answers.
    pub full: u64,
    /// Other failed calls.
    pub errors: u64,
    /// Failed calls that may have reserved a slot anyway (timeouts, unavailable).
    pub ambiguous: u64,
    /// Measured wall time.
    pub elapsed: Duration,
    /// Latency of successful calls, microseconds.
    pub latency: Histogram<u64>,
    /// A few distinct error messages.
    pub samples: Vec<String>,
}

async fn reservation_phase(
    endpoints: &[String],
    fleet: &str,
    sessions: &[String],
    clients: usize,
    duration: Duration,
    setup: ClientSetup,
) -> anyhow::Result<Reservations> {
    let mut shares: Vec<Vec<String>> = vec![Vec::new(); clients];
    if sessions.len() >= clients {
        for (j, s) in sessions.iter().enumerate() {
            shares[j % clients].push(s.clone());
        }
    } else {
        for (k, share) in shares.iter_mut().enumerate() {
            share.push(sessions[k % sessions.len()].clone());
        }
    }
    let handles = routed_clients(endpoints, clients, setup, Consistency::Linearizable)?;
    let tasks: Vec<(Client, Vec<String>, usize)> = handles
        .into_iter()
        .zip(shares)
        .enumerate()
        .map(|(task, (client, share))| (client, share, task))
        .collect();
    connect_all(tasks.iter().map(|(c, _, _)| c), fleet).await?;
    let start = Instant::now();
    let until = start + duration;
    let handles: Vec<_> = tasks
        .into_iter()
        .map(|(client, share, task)| tokio::spawn(reserver(client, share, task, until)))
        .collect();
    let mut out = Reservations {
        ok: 0,
        full: 0,
        errors: 0,
        ambiguous: 0,
        elapsed: Duration::ZERO,
        latency: new_histogram(),
        samples: Vec::new(),
    };
    for h in handles {
        let r = h.await.context("reserver task panicked")?;
        out.ok += r.ok;
        out.full += r.full;
        out.errors += r.errors;
        out.ambiguous += r.ambiguous;
        out.latency.add(&r.latency).context("merging histograms")?;
        for s in r.samples {
            push_sample(&mut out.samples, s);
        }
    }
    // The last call of each task may end after `until`.
    out.elapsed = start.elapsed();
    Ok(out)
}

/// Fails unless no session holds more players than its maximum and the counts add up to the
/// successful reservations (plus at most the ambiguous failures). Returns a one-line summary.
fn verify_reservations(live: &[GameSession], r: &Reservations) -> anyhow::Result<String> {
    let over: Vec<_> = live
        .iter()
        .filter(|s| {
            s.current_player_session_count > s.maximum_player_session_count
                || s.current_player_session_count > MAX_PLAYERS
        })
        .map(|s| {
            (
                s.game_session_id.as_str(),
                s.current_player_session_count,
                s.maximum_player_session_count,
            )
        })
        .collect();
    if !over.is_empty() {
        bail!(
            "RESERVATION BUG: {} game sessions hold more players than their maximum, e.g. {:?}",
            over.len(),
            over.iter().take(3).collect::<Vec<_>>()
        );
    }
    let sum: u64 = live
        .iter()
        .map(|s| u64::try_from(s.current_player_session_count).unwrap_or(0))
        .sum();
    let fullest = live
        .iter()
        .map(|s| s.current_player_session_count)
        .max()
        .unwrap_or(0);
    if sum < r.ok || sum > r.ok + r.ambiguous {
        bail!(
            "RESERVATION BUG: the sessions' player counts add up to {sum}, but {} reservations \
             succeeded ({} failed ambiguously)",
            r.ok,
            r.ambiguous
        );
    }
    let extra = if sum == r.ok {
        String::new()
    } else {
        format!(
            " (+{} from failed-but-applied calls, within the {} ambiguous failures)",
            sum - r.ok,
            r.ambiguous
        )
    };
    Ok(format!(
        "the {} live sessions' player counts add up to {sum} = the successful reservations{extra}; \
         fullest session {fullest}/{MAX_PLAYERS}",
        live.len()
    ))
}

// ---- The run --------------------------------------------------------------------------------

/// Everything the report shows.
#[derive(Debug)]
pub struct SessionsReport {
    /// The game server hosted.
    pub server: PathBuf,
    /// First CreateFleet → every process ready and every fleet ACTIVE.
    pub warm: Duration,
    /// The leader's name during the latency phase.
    pub leader: String,
    /// The leader's name after the last phase.
    pub end_leader: String,
    /// The Raft term before the latency phase and after the last phase (a change means an
    /// election during the measurement).
    pub terms: (u64, u64),
    /// Phase 1.
    pub latency: Vec<LatencySample>,
    /// Phase 2.
    pub throughput: PlacementThroughput,
    /// Last placement → every live session ACTIVE.
    pub all_active: Duration,
    /// Phase 2's verification.
    pub placement_check: String,
    /// Phase 3.
    pub reservations: Reservations,
    /// Phase 3's verification.
    pub reservation_check: String,
    /// CPU use per phase.
    pub cpu: Vec<CpuUse>,
}

/// Runs `bench sessions` and prints (and optionally writes) the markdown report.
pub async fn run(args: SessionsArgs) -> anyhow::Result<()> {
    if args.nodes == 0 || args.fleets == 0 || args.per_node == 0 {
        bail!("--nodes, --fleets and --per-node must be at least 1");
    }
    if args.latency_sessions >= args.pool() {
        bail!(
            "--latency-sessions {} leaves nothing of the pool of {} for the throughput phase",
            args.latency_sessions,
            args.pool()
        );
    }
    let binary = args.cluster.binary()?;
    let server = args
        .server
        .clone()
        .unwrap_or_else(|| default_server(&binary));
    if !server.is_file() {
        bail!(
            "game server {} not found (build it: cargo build --release --examples -p gamefleet-sdk)",
            server.display()
        );
    }
    let server = std::fs::canonicalize(&server)?;
    eprintln!(
        "starting a {}-node cluster with {}",
        args.nodes,
        binary.display()
    );
    let mut builder = args.cluster.builder(args.nodes)?.sled_cache_mb(16);
    if !args
        .cluster
        .node_args
        .iter()
        .any(|a| a.starts_with("--player-session-timeout-s"))
    {
        builder = builder.args([
            "--player-session-timeout-s".to_owned(),
            RESERVATION_TIMEOUT_S.to_string(),
        ]);
    }
    let mut cluster = builder.start().await?;
    if args.cluster.keep {
        eprintln!("keeping {}", cluster.keep_dir().display());
    }
    let result = measure(&cluster, &args, &server).await;
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            let all: Vec<usize> = cluster.members().collect();
            return Err(e.context(format!("node log tails:\n{}", cluster.tails(&all))));
        }
    };
    drop(cluster);
    emit(&render(&args, &binary, &report), args.out.as_deref())
}

async fn measure(
    cluster: &Cluster,
    args: &SessionsArgs,
    server: &Path,
) -> anyhow::Result<SessionsReport> {
    let admin = cluster.client()?;
    let endpoints = cluster.endpoints();
    let pool = args.pool();
    let mut probe = CpuProbe {
        nodes: node_pids(cluster),
        servers: Vec::new(),
    };
    let mut cpu = Vec::new();

    eprintln!(
        "warming {pool} processes: {} fleets x {} nodes x {}",
        args.fleets, args.nodes, args.per_node
    );
    let t0 = probe.sample();
    let warm_start = Instant::now();
    let fleets = create_fleets(&admin, args, server).await?;
    probe.servers = wait_warm(cluster, &admin, &fleets, pool).await?;
    let warm = warm_start.elapsed();
    let t1 = probe.sample();
    cpu.push(cpu_use("warm pool", t0, t1));
    eprintln!("warm after {warm:.2?}");
    // Let the launch burst's stragglers (first heartbeats, health reports) settle.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let leader = cluster.wait_leader(Duration::from_secs(30)).await?;
    let term_before = cluster.status(leader).await?.term;
    let clients: Vec<Client> = endpoints
        .iter()
        .map(|e| pinned_client(e, Consistency::Linearizable))
        .collect::<anyhow::Result<_>>()?;
    let poller = pinned_client(&endpoints[leader], Consistency::Stale)?;
    connect_all(clients.iter().chain([&poller]), &fleets[0]).await?;
    eprintln!(
        "latency: {} sequential placements (leader {})",
        args.latency_sessions,
        cluster.name(leader)
    );
    let t1 = probe.sample();
    let (latency, latency_sessions) =
        latency_phase(&clients, &poller, leader, &fleets, args.latency_sessions).await?;
    let t2 = probe.sample();
    cpu.push(cpu_use("1: latency, 1 client", t1, t2));

    eprintln!(
        "throughput: {} clients until the pool is used up",
        args.clients
    );
    let (throughput, placed) = throughput_phase(
        &endpoints,
        &fleets,
        args.clients.max(1),
        args.client_setup(),
    )
    .await?;
    let t3 = probe.sample();
    cpu.push(cpu_use("2: placement, concurrent", t2, t3));
    for e in &throughput.samples {
        eprintln!("  error sample: {e}");
    }
    let placed_done = Instant::now();
    let live = live_sessions(&admin, &fleets).await?;
    let all_placed: Vec<&GameSession> = latency_sessions.iter().chain(placed.iter()).collect();
    let placement_check = verify_placements(&live, &all_placed, pool, args.latency_sessions)?;
    eprintln!("verified: {placement_check}");

    let nodes: Vec<usize> = cluster.members().collect();
    let live = cluster
        .wait_until(
            Duration::from_secs(120),
            "every placed game session to be ACTIVE",
            nodes,
            || async {
                let live = live_sessions(&admin, &fleets).await?;
                let active = live
                    .iter()
                    .filter(|s| s.status == GameSessionStatus::Active)
                    .count();
                if live.len() == pool && active == pool {
                    Ok(Some(live))
                } else {
                    bail!("{active} of {} live sessions ACTIVE", live.len())
                }
            },
        )
        .await?;
    let all_active = placed_done.elapsed();

    let mut ids: Vec<String> = live.iter().map(|s| s.game_session_id.clone()).collect();
    ids.sort();
    eprintln!(
        "reservations: {} clients for {:?} over {} sessions",
        args.reserve_clients,
        args.duration,
        ids.len()
    );
    let t4 = probe.sample();
    let reservations = reservation_phase(
        &endpoints,
        &fleets[0],
        &ids,
        args.reserve_clients.max(1),
        args.duration,
        args.client_setup(),
    )
    .await?;
    let t5 = probe.sample();
    cpu.push(cpu_use("3: reservations", t4, t5));
    for e in &reservations.samples {
        eprintln!("  error sample: {e}");
    }
    let live = live_sessions(&admin, &fleets).await?;
    let reservation_check = verify_reservations(&live, &reservations)?;
    eprintln!("verified: {reservation_check}");
    let end_leader = cluster.wait_leader(Duration::from_secs(30)).await?;
    let term_after = cluster.status(end_leader).await?.term;

    Ok(SessionsReport {
        server: server.to_path_buf(),
        warm,
        leader: cluster.name(leader).to_owned(),
        end_leader: cluster.name(end_leader).to_owned(),
        terms: (term_before, term_after),
        latency,
        throughput,
        all_active,
        placement_check,
        reservations,
        reservation_check,
        cpu,
    })
}

// ---- The report -----------------------------------------------------------------------------

fn ms_d(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**NOT met**" }
}

/// The markdown report.
pub fn render(args: &SessionsArgs, binary: &Path, r: &SessionsReport) -> String {
    let mut s = String::new();
    let pool = args.pool();
    let _ = writeln!(
        s,
        "### Game session placement and player reservations, {} nodes\n",
        args.nodes
    );
    let _ = writeln!(
        s,
        "gamefleetd {}; server `{}`; warm pool: {} fleets × {} nodes × {} processes = {pool} ready \
         processes (GameLift caps a node at 50 processes per fleet, so the pool takes {} fleets; \
         placement runs against the whole process table), ready {:.1} s after the first \
         CreateFleet. Every session is created with {MAX_PLAYERS} player slots.\n",
        describe_binary(binary),
        r.server.display(),
        args.fleets,
        args.nodes,
        args.per_node,
        args.fleets,
        r.warm.as_secs_f64(),
    );

    // Phase 1.
    let _ = writeln!(
        s,
        "**Placement latency, 1 client** ({} sequential CreateGameSession calls, round-robin over \
         the fleets and the nodes' endpoints; leader {}; ACTIVE polled every ~1 ms with a stale \
         DescribeGameSessions on the leader):\n",
        r.latency.len(),
        r.leader
    );
    let _ = writeln!(
        s,
        "| measure | entered via | calls | p50 ms | p99 ms | max ms |"
    );
    let _ = writeln!(s, "|:--|:--|--:|--:|--:|--:|");
    type Pick = fn(&LatencySample) -> Duration;
    let measures: [(&str, Pick); 3] = [
        ("CreateGameSession answered (placed, IP:port)", |x| x.placed),
        ("CreateGameSession → ACTIVE", |x| x.active),
        ("answered → ACTIVE (activation)", |x| {
            x.active.saturating_sub(x.placed)
        }),
    ];
    for (name, pick) in measures {
        for (via, filter) in [
            ("any node", None),
            ("leader", Some(true)),
            ("follower", Some(false)),
        ] {
            let mut v: Vec<Duration> = r
                .latency
                .iter()
                .filter(|x| filter.is_none_or(|f| x.via_leader == f))
                .map(pick)
                .collect();
            if v.is_empty() {
                continue;
            }
            v.sort_unstable();
            let _ = writeln!(
                s,
                "| {name} | {via} | {} | {} | {} | {} |",
                v.len(),
                ms_d(quantile(&v, 0.5)),
                ms_d(quantile(&v, 0.99)),
                ms_d(v.last().copied().unwrap_or_default()),
            );
        }
    }

    // Phase 2.
    let t = &r.throughput;
    let placed_per_s = t.placed as f64 / t.elapsed.as_secs_f64().max(1e-9);
    let _ = writeln!(
        s,
        "\n**Placement throughput** ({} clients, {}, {}, creating sessions round-robin over the fleets \
         until every fleet answers FleetCapacityExceeded; placed/s = placed / time to the last \
         success):\n",
        args.clients.max(1),
        conns_words(args.clients.max(1), args.conns, args.batch),
        routing_words(args.routing)
    );
    let _ = writeln!(
        s,
        "| clients | placed | FleetCapacityExceeded | other errors | s to last placement | placed/s | p50 ms | p90 ms | p99 ms | max ms |"
    );
    let _ = writeln!(s, "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    let h = &t.latency;
    let _ = writeln!(
        s,
        "| {} | {} | {} | {} | {:.3} | {:.0} | {} | {} | {} | {} |",
        args.clients.max(1),
        t.placed,
        t.capacity_exceeded,
        t.errors,
        t.elapsed.as_secs_f64(),
        placed_per_s,
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.90)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max()),
    );
    let _ = writeln!(
        s,
        "\nVerified: {}. Last placement → all {pool} sessions ACTIVE: {:.2} s.",
        r.placement_check,
        r.all_active.as_secs_f64()
    );

    // Phase 3.
    let q = &r.reservations;
    let per_s = q.ok as f64 / q.elapsed.as_secs_f64().max(1e-9);
    let _ = writeln!(
        s,
        "\n**Player session reservations** ({} clients, {}, {}, each cycling over its own share of \
         the {pool} ACTIVE sessions; one CreatePlayerSession per call, unique player ids; \
         {:?}):\n",
        args.reserve_clients.max(1),
        conns_words(args.reserve_clients.max(1), args.conns, args.batch),
        routing_words(args.routing),
        args.duration
    );
    let _ = writeln!(
        s,
        "| clients | reservations | GameSessionFull | other errors | reservations/s | p50 ms | p90 ms | p99 ms | max ms |"
    );
    let _ = writeln!(s, "|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    let h = &q.latency;
    let _ = writeln!(
        s,
        "| {} | {} | {} | {} | {:.0} | {} | {} | {} | {} |",
        args.reserve_clients.max(1),
        q.ok,
        q.full,
        q.errors,
        per_s,
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.90)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max()),
    );
    let _ = writeln!(s, "\nVerified: {}.", r.reservation_check);

    let _ = if r.terms.0 == r.terms.1 {
        writeln!(
            s,
            "\nNo election during the measurement: leader {}, Raft term {} from the first placement to the last check.",
            r.leader, r.terms.0
        )
    } else {
        writeln!(
            s,
            "\n**Elections during the measurement**: Raft term {} → {}, leader {} → {}.",
            r.terms.0, r.terms.1, r.leader, r.end_leader
        )
    };

    // CPU.
    let _ = writeln!(
        s,
        "\nCPU per phase (from `/proc`, CPU-seconds; the machine has {} CPUs; the game servers' \
         column is rounded down per process, 10 ms each):\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let _ = writeln!(
        s,
        "| phase | wall s | machine busy | gamefleetd ×{} | game servers ×{pool} | load generator | other processes |",
        args.nodes
    );
    let _ = writeln!(s, "|:--|--:|--:|--:|--:|--:|--:|");
    for c in &r.cpu {
        let _ = writeln!(
            s,
            "| {} | {:.2} | {:.0}% | {:.2} | {:.2} | {:.2} | {:.2} |",
            c.phase,
            c.wall.as_secs_f64(),
            c.machine_busy * 100.0,
            c.nodes_s,
            c.servers_s,
            c.bench_s,
            c.other_s
        );
    }

    // Goals.
    let mut placed: Vec<Duration> = r.latency.iter().map(|x| x.placed).collect();
    placed.sort_unstable();
    let mut active: Vec<Duration> = r.latency.iter().map(|x| x.active).collect();
    active.sort_unstable();
    let p99_placed = quantile(&placed, 0.99);
    let p99_active = quantile(&active, 0.99);
    let _ = writeln!(s, "\n| goal | measured | |");
    let _ = writeln!(s, "|---|---|---|");
    let _ = writeln!(
        s,
        "| p99 ≤ 20 ms to placed, 1 client | p99 {} ms (p50 {} ms) | {} |",
        ms_d(p99_placed),
        ms_d(quantile(&placed, 0.5)),
        verdict(p99_placed <= Duration::from_millis(20))
    );
    let _ = writeln!(
        s,
        "| p99 ≤ 50 ms to ACTIVE, 1 client | p99 {} ms (p50 {} ms) | {} |",
        ms_d(p99_active),
        ms_d(quantile(&active, 0.5)),
        verdict(p99_active <= Duration::from_millis(50))
    );
    let _ = writeln!(
        s,
        "| ≥ 2,000 placed sessions/s, {} clients | {placed_per_s:.0}/s (p99 {} ms) | {} |",
        args.clients.max(1),
        ms(t.latency.value_at_quantile(0.99)),
        verdict(placed_per_s >= 2000.0)
    );
    let _ = writeln!(
        s,
        "| ≥ 10,000 reservations/s, {} clients | {per_s:.0}/s (p99 {} ms) | {} |",
        args.reserve_clients.max(1),
        ms(q.latency.value_at_quantile(0.99)),
        verdict(per_s >= 10_000.0)
    );
    s
}
