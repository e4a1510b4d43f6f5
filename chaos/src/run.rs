//! `gamefleet-chaos run`: a Jepsen-style run against a real cluster. It starts N `gamefleetd`
//! nodes (each in its own network namespace when network faults are asked for) hosting a fleet
//! of the `chat` example game server, runs concurrent clients spread over every node while a
//! seeded schedule injects faults ([`crate::faults`]), records every operation and its outcome
//! ([`crate::history`]), heals the cluster, waits until every node has the same state hash,
//! checks the history against the healed state ([`crate::checker`]) and prints a summary.
//!
//! Output directory: `history.jsonl`, `faults.jsonl` (each fault with its times and recovery),
//! `final_state.json`, `summary.json` and `summary.md`. The exit code is non-zero on any
//! anomaly (or if the cluster does not heal); a failing run prints the command that repeats it
//! (same seed, same schedule).
//!
//! Assumptions the checker relies on: reservations never time out during a run
//! (`--player-session-timeout-s` is set to an hour) and one client has one operation in flight.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use gamefleet_client::{
    Client, ClientError, CreateFleetInput, CreateGameSessionInput, DescribeGameSessionsInput,
    DescribePlayerSessionsInput, ErrorKind, FleetOrAlias, FleetStatus, InstanceCounts,
    PlacementStrategy, PlayerSessionCreationPolicy, PlayerSessionSelector, RuntimeConfiguration,
    ServerProcess, TerminationMode, UpdateGameSessionInput,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::checker::{self, FinalGameSession, FinalPlayerSession, FinalState};
use crate::cluster::ClusterBuilder;
use crate::examples::sdk_example;
use crate::faults::{self, FaultKind, Planned, ScheduleShape};
use crate::history::{HistoryWriter, Op, OpHandle};
use crate::net::NetLab;

/// Flags of `gamefleet-chaos run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Nodes (voters: 3, or 5 with 5 or more nodes; the rest are learners).
    #[arg(long, default_value_t = 5)]
    pub nodes: usize,
    /// How long clients work and faults are injected (e.g. 60s, 10m).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Fault kinds, comma separated: kill, pause, partition, slow, lossy, game-server,
    /// crash-all, or `all`. Network kinds need root.
    #[arg(long, default_value = "all", value_delimiter = ',')]
    pub faults: Vec<String>,
    /// Seed of the fault schedule and the workload (default: random, printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output directory (default: ./chaos-<seed>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Game server processes per node.
    #[arg(long, default_value_t = 4)]
    pub per_node: i32,
    /// Player slots of each game session (small, so sessions fill up and bursts contend).
    #[arg(long, default_value_t = 4)]
    pub max_players: i32,
    /// The gamefleetd binary (default: next to this binary).
    #[arg(long)]
    pub gamefleetd: Option<PathBuf>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 90s or 10m"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("{s:?}: the unit must be ms, s or m")),
    }
}

fn kinds(names: &[String]) -> anyhow::Result<Vec<FaultKind>> {
    let mut out = Vec::new();
    for n in names {
        if n.trim() == "all" {
            out.extend(FaultKind::ALL);
        } else if !n.trim().is_empty() {
            out.push(n.parse::<FaultKind>().map_err(anyhow::Error::msg)?);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// What clients share: the sessions and reservations they learned of.
#[derive(Default)]
struct Known {
    sessions: Vec<KnownSession>,
    reserved: Vec<(String, String)>,
    accepted: Vec<(String, String, TcpStream)>,
}

#[derive(Clone)]
struct KnownSession {
    id: String,
    address: String,
}

/// `fail` for a definite refusal, `info` when the outcome is unknown.
fn complete_error(h: OpHandle, e: &ClientError) {
    let value = json!({"error": e.kind.as_str(), "message": e.message});
    match e.kind {
        ErrorKind::InvalidRequest
        | ErrorKind::NotFound
        | ErrorKind::InvalidFleetStatus
        | ErrorKind::InvalidGameSessionStatus
        | ErrorKind::IdempotentParameterMismatch
        | ErrorKind::LimitExceeded
        | ErrorKind::FleetCapacityExceeded
        | ErrorKind::GameSessionFull
        | ErrorKind::TerminalRoutingStrategy => h.fail(value),
        _ => h.info(value),
    }
}

struct Worker {
    id: u64,
    client: Client,
    history: Arc<HistoryWriter>,
    known: Arc<Mutex<Known>>,
    fleet_id: String,
    max_players: i32,
    rng: StdRng,
    seq: u64,
}

impl Worker {
    fn lock(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn pick_session(&mut self) -> Option<KnownSession> {
        let r = self.rng.random::<u32>() as usize;
        let k = self.lock();
        if k.sessions.is_empty() {
            return None;
        }
        // Recent sessions more often: they are the live ones.
        let n = k.sessions.len();
        let i = n - 1 - r % n.min(6);
        k.sessions.get(i).cloned()
    }

    async fn step(&mut self) {
        match self.rng.random_range(0..100) {
            0..15 => self.create().await,
            15..45 => self.reserve().await,
            45..60 => self.accept().await,
            60..66 => self.remove().await,
            66..84 => self.describe().await,
            84..90 => self.update().await,
            90..94 => self.terminate().await,
            _ => self.describe_player().await,
        }
    }

    async fn create(&mut self) {
        self.seq += 1;
        let token = format!("c{}-{}", self.id, self.seq);
        let args = json!({"fleet_id": self.fleet_id, "idempotency_token": token, "max_players": self.max_players});
        let h = self
            .history
            .record_invoke(self.id, Op::CreateGameSession, args);
        let mut input =
            CreateGameSessionInput::new(FleetOrAlias::fleet(&self.fleet_id), self.max_players);
        input.idempotency_token = Some(token);
        match self.client.create_game_session(input).await {
            Ok(s) => {
                h.ok(json!({"game_session_id": s.game_session_id, "process_id": s.process_id, "node_id": s.node_id}));
                self.lock().sessions.push(KnownSession {
                    id: s.game_session_id,
                    address: format!("{}:{}", s.ip_address, s.port),
                });
            }
            Err(e) => complete_error(h, &e),
        }
    }

    async fn reserve(&mut self) {
        let Some(s) = self.pick_session() else {
            return self.create().await;
        };
        // Now and then a burst: several clients at once against one (nearly full) session.
        let burst = if self.rng.random_bool(0.15) { 4 } else { 1 };
        let mut tasks = Vec::new();
        for k in 0..burst {
            self.seq += 1;
            // NB: a burst's extra requests run as their own clients (one op in flight each).
            let client_id = if k == 0 {
                self.id
            } else {
                1_000_000 + self.id * 100 + k
            };
            let player = format!("p{}-{}", self.id, self.seq);
            let (c, hist, known, gs) = (
                self.client.clone(),
                self.history.clone(),
                self.known.clone(),
                s.id.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let h = hist.record_invoke(
                    client_id,
                    Op::ReservePlayer,
                    json!({"game_session_id": gs, "player_id": player}),
                );
                match c.create_player_session(&gs, &player, None).await {
                    Ok(p) => {
                        h.ok(json!({"player_session_id": p.player_session_id}));
                        known
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .reserved
                            .push((gs, p.player_session_id));
                    }
                    Err(e) => complete_error(h, &e),
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
    }

    async fn accept(&mut self) {
        let r = self.rng.random::<u32>() as usize;
        let pick = {
            let mut k = self.lock();
            if k.reserved.is_empty() {
                None
            } else {
                let i = r % k.reserved.len();
                let (gs, ps) = k.reserved.swap_remove(i);
                let addr = k
                    .sessions
                    .iter()
                    .find(|s| s.id == gs)
                    .map(|s| s.address.clone());
                addr.map(|a| (gs, ps, a))
            }
        };
        let Some((gs, ps, addr)) = pick else { return };
        let h = self.history.record_invoke(
            self.id,
            Op::AcceptPlayer,
            json!({"game_session_id": gs, "player_session_id": ps}),
        );
        let attempt = async {
            let mut conn = TcpStream::connect(&addr)
                .await
                .map_err(|e| (false, e.to_string()))?;
            conn.write_all(format!("{ps}\n").as_bytes())
                .await
                .map_err(|e| (true, e.to_string()))?;
            let mut line = String::new();
            BufReader::new(&mut conn)
                .read_line(&mut line)
                .await
                .map_err(|e| (true, e.to_string()))?;
            Ok::<_, (bool, String)>((line.trim().to_owned(), conn))
        };
        match tokio::time::timeout(Duration::from_secs(10), attempt).await {
            Ok(Ok((line, conn))) if line.starts_with("WELCOME") => {
                h.ok(json!({}));
                self.lock().accepted.push((gs, ps, conn));
            }
            // The game server's AcceptPlayerSession failed; that may have been a timeout.
            Ok(Ok((line, _))) => h.info(json!({"error": "Refused", "message": line})),
            // Could not even connect: the request never reached the game server.
            Ok(Err((false, e))) => h.fail(json!({"error": "Connect", "message": e})),
            Ok(Err((true, e))) => h.info(json!({"error": "Connection", "message": e})),
            Err(_) => h.info(json!({"error": "Timeout"})),
        }
    }

    /// A player leaves: the game client disconnects and the game server calls
    /// RemovePlayerSession. The client sees no answer of its own, and a COMPLETED player session
    /// may also come from its game session ending (the chat server ends the game when the last
    /// player leaves), so the outcome is always recorded as `info`, with what was observed.
    async fn remove(&mut self) {
        let r = self.rng.random::<u32>() as usize;
        let pick = {
            let mut k = self.lock();
            if k.accepted.is_empty() {
                None
            } else {
                let i = r % k.accepted.len();
                Some(k.accepted.swap_remove(i))
            }
        };
        let Some((gs, ps, conn)) = pick else { return };
        let h = self.history.record_invoke(
            self.id,
            Op::RemovePlayer,
            json!({"game_session_id": gs, "player_session_id": ps}),
        );
        drop(conn);
        let input = DescribePlayerSessionsInput::new(PlayerSessionSelector::PlayerSession(ps));
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(p) = self.client.describe_player_sessions(&input).await
                && p.first().is_some_and(|p| p.status.as_str() == "COMPLETED")
            {
                h.info(json!({"error": "NoAnswer", "observed": "COMPLETED"}));
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        h.info(json!({"error": "Unobserved"}));
    }

    async fn describe(&mut self) {
        let Some(s) = self.pick_session() else { return };
        let h = self.history.record_invoke(
            self.id,
            Op::DescribeGameSession,
            json!({"game_session_id": s.id}),
        );
        match self.client.describe_game_session(&s.id).await {
            Ok(g) => h.ok(json!({
                "status": g.status.as_str(),
                "current_player_session_count": g.current_player_session_count,
                "maximum_player_session_count": g.maximum_player_session_count,
                "player_session_creation_policy": g.player_session_creation_policy.as_str(),
                "process_id": g.process_id,
            })),
            Err(e) => complete_error(h, &e),
        }
    }

    async fn update(&mut self) {
        let Some(s) = self.pick_session() else { return };
        let max = self.rng.random_range(2..=8);
        let policy = if self.rng.random_bool(0.8) {
            PlayerSessionCreationPolicy::AcceptAll
        } else {
            PlayerSessionCreationPolicy::DenyAll
        };
        let h = self.history.record_invoke(
            self.id,
            Op::UpdateGameSession,
            json!({"game_session_id": s.id, "maximum_player_session_count": max, "player_session_creation_policy": policy.as_str()}),
        );
        let input = UpdateGameSessionInput {
            game_session_id: s.id.clone(),
            maximum_player_session_count: Some(max),
            player_session_creation_policy: Some(policy),
            ..Default::default()
        };
        match self.client.update_game_session(input).await {
            Ok(_) => h.ok(json!({})),
            Err(e) => complete_error(h, &e),
        }
    }

    async fn terminate(&mut self) {
        let Some(s) = self.pick_session() else { return };
        let mode = if self.rng.random_bool(0.5) {
            TerminationMode::TriggerOnProcessTerminate
        } else {
            TerminationMode::ForceTerminate
        };
        let h = self.history.record_invoke(
            self.id,
            Op::TerminateGameSession,
            json!({"game_session_id": s.id, "mode": mode.as_str()}),
        );
        match self.client.terminate_game_session(&s.id, mode).await {
            Ok(_) => h.ok(json!({})),
            Err(e) => complete_error(h, &e),
        }
    }

    async fn describe_player(&mut self) {
        let pick = {
            let k = self.lock();
            (!k.reserved.is_empty())
                .then(|| k.reserved[self.seq as usize % k.reserved.len()].1.clone())
        };
        let Some(ps) = pick else { return };
        let h = self.history.record_invoke(
            self.id,
            Op::DescribePlayerSession,
            json!({"player_session_id": ps}),
        );
        let input = DescribePlayerSessionsInput::new(PlayerSessionSelector::PlayerSession(ps));
        match self.client.describe_player_sessions(&input).await {
            Ok(p) => match p.first() {
                Some(p) => h.ok(json!({"status": p.status.as_str()})),
                None => h.fail(json!({"error": "NotFound"})),
            },
            Err(e) => complete_error(h, &e),
        }
    }
}

/// A fault as it happened, with how long the cluster took to accept a write after its heal.
#[derive(Debug, Clone, serde::Serialize)]
struct FaultRecord {
    planned: Planned,
    description: String,
    injected_at_ms: u64,
    healed_at_ms: u64,
    recovery_ms: Option<u64>,
    error: Option<String>,
}

/// How long until the cluster accepts a write again (bounded by `limit`).
async fn recovery(client: &Client, fleet_id: &str, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        let input = gamefleet_client::UpdateFleetInput {
            fleet_id: fleet_id.to_owned(),
            description: Some(format!("chaos probe {}", start.elapsed().as_millis())),
            ..Default::default()
        };
        if client.update_fleet(input).await.is_ok() {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

async fn game_server_pids(client: &Client, fleet_id: &str, rng: &mut StdRng) -> Vec<u32> {
    let mut pids: Vec<u32> = client
        .describe_fleet_processes(fleet_id)
        .await
        .map(|ps| ps.into_iter().map(|p| p.pid).collect())
        .unwrap_or_default();
    for i in 0..pids.len() {
        let j = rng.random_range(i..pids.len());
        pids.swap(i, j);
    }
    pids
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(idx.min(sorted.len() - 1)).copied()
}

/// Runs `gamefleet-chaos run`; the process exit code (0: no anomaly).
pub async fn run(args: RunArgs) -> anyhow::Result<i32> {
    let kinds = kinds(&args.faults)?;
    let seed = args.seed.unwrap_or_else(rand::random);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("chaos-{seed}")));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let repro = format!(
        "gamefleet-chaos run --nodes {} --duration {}s --faults {} --seed {seed} --clients {} --per-node {} --max-players {}",
        args.nodes,
        args.duration.as_secs(),
        kinds
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(","),
        args.clients,
        args.per_node,
        args.max_players
    );
    println!("chaos run: seed {seed}, output {}", out.display());

    let lab = if kinds.iter().any(|k| k.needs_network()) {
        if let Err(e) = NetLab::prerequisites() {
            bail!(
                "network faults (partition, slow, lossy) cannot run here: {e}. Run as root, or leave them out: --faults kill,pause,game-server,crash-all"
            );
        }
        NetLab::ensure_tools()?;
        let _ = NetLab::sweep_stale("gf");
        Some(Arc::new(NetLab::create(args.nodes)?))
    } else {
        None
    };
    // A kernel without netem cannot delay packets: say so and leave `slow` out.
    let mut skipped = Vec::new();
    if let Some(lab) = &lab
        && kinds.contains(&FaultKind::Slow)
        && !lab.netem_supported()
    {
        println!(
            "note: this kernel has no netem (sch_netem): `slow` faults are left out of this run"
        );
        skipped.push(FaultKind::Slow.as_str());
    }
    let kinds: Vec<FaultKind> = kinds
        .into_iter()
        .filter(|k| !skipped.contains(&k.as_str()))
        .collect();
    let voters = if args.nodes >= 5 { 5 } else { 3 };
    let mut builder = ClusterBuilder::new(args.nodes)
        .voters(voters)
        .sled_cache_mb(16)
        .args([
            "--player-session-timeout-s",
            "3600",
            "--node-lost-after-ms",
            "3000",
            "--terminate-grace-s",
            "5",
        ]);
    if let Some(b) = &args.gamefleetd {
        builder = builder.binary(b);
    }
    if let Some(lab) = &lab {
        builder = builder.network(lab.clone());
    }
    let cluster = builder.start().await?;
    let client = cluster.client()?;
    let chat = sdk_example("chat");
    let fleet = client
        .create_fleet(CreateFleetInput {
            name: "chaos".into(),
            runtime_configuration: Some(RuntimeConfiguration {
                server_processes: vec![ServerProcess {
                    launch_path: chat.to_string_lossy().into_owned(),
                    parameters: Some("--port {port}".into()),
                    concurrent_executions: args.per_node,
                }],
                max_concurrent_game_session_activations: None,
                game_session_activation_timeout_seconds: Some(30),
            }),
            instances: Some(InstanceCounts {
                desired: i32::try_from(args.nodes).unwrap_or(3),
                minimum: 0,
                maximum: i32::try_from(args.nodes).unwrap_or(3),
                active: 0,
            }),
            placement_strategy: Some(PlacementStrategy::Spread),
            ..Default::default()
        })
        .await?;
    let fleet_id = fleet.fleet_id.clone();
    cluster
        .wait_until(
            Duration::from_secs(90),
            "the chaos fleet ACTIVE",
            cluster.running(),
            || async {
                let f = client.describe_fleet(&fleet_id).await?;
                if f.status == FleetStatus::Active {
                    Ok(Some(()))
                } else {
                    bail!("fleet {:?}", f.status)
                }
            },
        )
        .await?;

    let history = Arc::new(HistoryWriter::create(out.join("history.jsonl"))?);
    let known = Arc::new(Mutex::new(Known::default()));
    let start = Instant::now();
    let deadline = start + args.duration;
    let mut workers = Vec::new();
    for id in 0..args.clients {
        let nodes: Vec<usize> = (0..args.nodes).collect();
        let mut opts = cluster.client_options(&nodes);
        // Every other client batches (ClientOptions::batch): its bursts of concurrent
        // reservations travel in one Batch RPC, so batching meets the faults and the checker.
        opts.batch = id % 2 == 1;
        let mut w = Worker {
            id: id as u64,
            client: Client::with_options(opts)?,
            history: history.clone(),
            known: known.clone(),
            fleet_id: fleet_id.clone(),
            max_players: args.max_players,
            rng: StdRng::seed_from_u64(seed ^ (id as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            seq: 0,
        };
        workers.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                w.step().await;
            }
        }));
    }

    // Faults, one at a time, on the seeded schedule.
    let plan = faults::schedule(
        seed,
        args.nodes,
        args.duration,
        &kinds,
        ScheduleShape::default(),
    );
    let mut records = Vec::new();
    let mut frng = StdRng::seed_from_u64(seed.rotate_left(17));
    let mut fault_log = std::fs::File::create(out.join("faults.jsonl"))?;
    for p in plan {
        let at = start + Duration::from_millis(p.at);
        tokio::time::sleep_until(at.into()).await;
        let pids = game_server_pids(&client, &fleet_id, &mut frng).await;
        let injected_at = start.elapsed();
        let injected = faults::inject(&cluster, lab.as_deref(), &p.fault, &pids).await;
        tokio::time::sleep(Duration::from_millis(p.hold)).await;
        let healed_at = start.elapsed();
        let (description, error, recovered) = match injected {
            Ok(done) => {
                let healed = faults::heal(&cluster, lab.as_deref(), &done).await;
                let rec = recovery(&client, &fleet_id, Duration::from_secs(60)).await;
                (
                    done.description.clone(),
                    healed.err().map(|e| format!("heal: {e:#}")),
                    rec,
                )
            }
            Err(e) => (
                format!("{:?}", p.fault),
                Some(format!("inject: {e:#}")),
                None,
            ),
        };
        let rec = FaultRecord {
            planned: p,
            description,
            injected_at_ms: ms(injected_at),
            healed_at_ms: ms(healed_at),
            recovery_ms: recovered.map(ms),
            error,
        };
        println!(
            "  {:>7.1}s {} (held {} ms) recovered in {}",
            injected_at.as_secs_f64(),
            rec.description,
            rec.planned.hold,
            rec.recovery_ms
                .map_or("(not within 60 s)".to_owned(), |m| format!("{m} ms"))
        );
        writeln!(fault_log, "{}", serde_json::to_string(&rec)?)?;
        records.push(rec);
    }
    for w in workers {
        let _ = w.await;
    }
    history.result()?;

    // Heal everything and wait until every node has the same state.
    if let Some(lab) = &lab {
        lab.heal()?;
    }
    for i in 0..cluster.len() {
        if cluster.is_paused(i) {
            cluster.resume(i)?;
        }
        if !cluster.is_running(i) {
            cluster.restart(i).await?;
        }
    }
    let heal_start = Instant::now();
    let final_recovery = recovery(&client, &fleet_id, Duration::from_secs(60)).await;
    let converged = cluster.wait_converged(Duration::from_secs(90), 0).await;
    let converge_ms = ms(heal_start.elapsed());

    let final_state = collect_final(&client, &fleet_id).await?;
    std::fs::write(
        out.join("final_state.json"),
        serde_json::to_vec_pretty(&final_state)?,
    )?;
    let events = crate::history::read_history(out.join("history.jsonl"))?;
    let report = checker::check(&events, &final_state);

    // Summary.
    let mut by_op: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for e in &events {
        *by_op
            .entry(e.op.as_str().to_owned())
            .or_default()
            .entry(e.r#type.as_str().to_owned())
            .or_default() += 1;
    }
    let mut by_fault: BTreeMap<String, usize> = BTreeMap::new();
    for r in &records {
        *by_fault
            .entry(r.planned.fault.kind().as_str().to_owned())
            .or_default() += 1;
    }
    let mut recoveries: Vec<u64> = records.iter().filter_map(|r| r.recovery_ms).collect();
    recoveries.sort_unstable();
    let unrecovered = records.iter().filter(|r| r.recovery_ms.is_none()).count();
    let summary = json!({
        "seed": seed,
        "nodes": args.nodes,
        "duration_s": args.duration.as_secs(),
        "faults": kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "skipped_fault_kinds": skipped,
        "ops": by_op,
        "faults_injected": by_fault,
        "fault_errors": records.iter().filter_map(|r| r.error.clone()).collect::<Vec<_>>(),
        "recovery_ms": {"p50": percentile(&recoveries, 0.5), "max": recoveries.last(), "unrecovered": unrecovered},
        "final_recovery_ms": final_recovery.map(ms),
        "converged": converged.is_ok(),
        "converge_ms": converge_ms,
        "anomalies": report.anomalies.iter().map(|a| json!({"kind": a.kind.as_str(), "message": a.message})).collect::<Vec<Value>>(),
        "verdict": format!("{:?}", report.verdict()),
        "repro": repro,
    });
    std::fs::write(
        out.join("summary.json"),
        serde_json::to_vec_pretty(&summary)?,
    )?;
    let text = format!(
        "seed {seed}, {} nodes, {} s, faults {}\nops: {}\nfaults injected: {}\nrecovery after a heal: p50 {} ms, max {} ms ({unrecovered} not within 60 s)\nafter the final heal: writes again after {} ms, same state hash on every node: {} ({converge_ms} ms)\n{report}\n",
        args.nodes,
        args.duration.as_secs(),
        kinds
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(","),
        serde_json::to_string(&by_op)?,
        serde_json::to_string(&by_fault)?,
        percentile(&recoveries, 0.5).map_or("-".into(), |v| v.to_string()),
        recoveries.last().map_or("-".into(), |v| v.to_string()),
        final_recovery.map_or("never".into(), |d| ms(d).to_string()),
        if converged.is_ok() { "yes" } else { "NO" },
    );
    std::fs::write(out.join("summary.md"), &text)?;
    println!("{text}");
    let ok = report.anomalies.is_empty() && converged.is_ok() && final_recovery.is_some();
    if ok {
        println!("PASS");
        Ok(0)
    } else {
        if let Err(e) = converged {
            println!("the cluster did not converge: {e:#}");
        }
        println!("FAIL; reproduce with:\n  {repro}");
        Ok(1)
    }
}

/// The healed cluster's game and player sessions of the fleet.
async fn collect_final(client: &Client, fleet_id: &str) -> anyhow::Result<FinalState> {
    let sessions = client
        .describe_game_sessions(&DescribeGameSessionsInput::new(FleetOrAlias::fleet(
            fleet_id,
        )))
        .await?;
    let mut out = FinalState::default();
    for g in sessions {
        let players = client
            .describe_player_sessions(&DescribePlayerSessionsInput::new(
                PlayerSessionSelector::GameSession(g.game_session_id.clone()),
            ))
            .await?;
        for p in players {
            out.player_sessions.push(FinalPlayerSession {
                player_session_id: p.player_session_id,
                game_session_id: p.game_session_id,
                player_id: p.player_id,
                status: p.status.as_str().to_owned(),
            });
        }
        out.game_sessions.push(FinalGameSession {
            idempotency_token: checker::idempotency_token_of(&g.game_session_id),
            game_session_id: g.game_session_id,
            status: g.status.as_str().to_owned(),
            process_id: g.process_id,
            node_id: g.node_id,
            maximum_player_session_count: i64::from(g.maximum_player_session_count),
            current_player_session_count: i64::from(g.current_player_session_count),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_kinds_parse() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5h").is_err());
        assert_eq!(kinds(&["all".into()]).unwrap(), FaultKind::ALL.to_vec());
        assert_eq!(
            kinds(&["pause".into(), "kill".into(), "pause".into()]).unwrap(),
            vec![FaultKind::Kill, FaultKind::Pause]
        );
        assert!(kinds(&["meteor".into()]).is_err());
    }

    #[test]
    fn percentiles() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[5], 0.5), Some(5));
        assert_eq!(percentile(&[1, 2, 3, 4, 100], 0.5), Some(3));
        assert_eq!(percentile(&[1, 2, 3, 4, 100], 1.0), Some(100));
    }
}
