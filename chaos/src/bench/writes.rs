//! `bench writes`: replicated write throughput and latency.
//!
//! Starts a local cluster, creates a few fleets, then for each client count runs that many
//! concurrent tasks that loop on `update_fleet` (a real replicated write: committed by a
//! quorum, applied) until the duration ends. Each task has its own client. With routing
//! `pinned`, each client knows one node only (round-robin over the nodes), so two thirds of the
//! writes enter through a follower that forwards them to the leader. With routing `leader`,
//! each client knows every node and follows the leader hint the nodes send (the client
//! library's default), so writes go straight to the leader. Latency is measured per call
//! (client retries included) into an HDR histogram in microseconds.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use gamefleet_client::{Client, Consistency, CreateFleetInput, UpdateFleetInput};
use hdrhistogram::Histogram;

use super::cpu::{CpuProbe, CpuUse, cpu_use, node_pids};
use super::{
    ClientSetup, ClusterArgs, Routing, describe_binary, emit, ms, parse_duration, routed_clients,
};

/// Options of `bench writes`.
#[derive(Debug, Clone, clap::Args)]
pub struct WritesArgs {
    /// Number of nodes in the local cluster (3 or 5 voters).
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// Comma-separated concurrent client counts, one table row each.
    #[arg(long, value_delimiter = ',', default_value = "1,64")]
    pub clients: Vec<usize>,
    /// Measured time per client count (e.g. 10s, 500ms, 1m).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Unmeasured warm-up before each client count.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub warmup: Duration,
    /// Comma-separated client routings, one set of rows each: `pinned` (each client knows one
    /// node; followers forward) and `leader` (each client knows every node and sends to the
    /// leader).
    #[arg(long, value_delimiter = ',', default_value = "pinned,leader")]
    pub routing: Vec<Routing>,
    /// Comma-separated connection counts, one set of rows each: the clients share this many
    /// client handles (connections per node), client k using handle k mod N, as etcd's
    /// benchmark tool's `--conns`. 0: every client has its own connection.
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub conns: Vec<usize>,
    /// Comma-separated client batching settings, one set of rows each: `off` (every call its
    /// own RPC) and `on` (`ClientOptions::batch`: concurrent calls on one client handle to the
    /// same node travel in one `Batch` RPC; only packs calls when handles are shared, see
    /// `--conns`).
    #[arg(long, value_delimiter = ',', default_value = "off")]
    pub batch: Vec<Batching>,
    /// What each client loops on: `update` (UpdateFleetAttributes, a replicated write) or
    /// `stale-read` (DescribeFleetAttributes answered from the local replica: no Raft, no disk;
    /// the ceiling of the client and gRPC stack on this machine, for comparison).
    #[arg(long, value_enum, default_value = "update")]
    pub op: Op,
    /// Number of fleets the writers update (task k updates fleet k mod N).
    #[arg(long, default_value_t = 8)]
    pub fleets: usize,
    /// Also write the markdown table to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Whether the clients batch their concurrent calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Batching {
    /// Every call is its own RPC.
    Off,
    /// `ClientOptions::batch`.
    On,
}

impl Batching {
    fn as_str(self) -> &'static str {
        match self {
            Batching::Off => "off",
            Batching::On => "on",
        }
    }
}

/// The call a benchmark client loops on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Op {
    /// `update_fleet`: a replicated write.
    Update,
    /// `describe_fleet` with stale consistency: a local read.
    StaleRead,
}

/// One measured row.
#[derive(Debug)]
pub struct WritesRow {
    /// How the clients picked their node.
    pub routing: Routing,
    /// Concurrent clients.
    pub clients: usize,
    /// Connections per node the clients shared (equal to `clients` when each had its own).
    pub conns: usize,
    /// Whether the clients batched their calls.
    pub batch: Batching,
    /// Acknowledged writes.
    pub ok: u64,
    /// Failed writes (after the client's retries).
    pub errors: u64,
    /// Measured wall time.
    pub elapsed: Duration,
    /// Latency of acknowledged writes, microseconds.
    pub latency: Histogram<u64>,
    /// The same, for clients bound to the node that led when the row started.
    pub via_leader: Histogram<u64>,
    /// The same, for clients bound to other nodes (their writes are forwarded).
    pub via_follower: Histogram<u64>,
    /// A few distinct error messages.
    pub sample_errors: Vec<String>,
    /// CPU use of the measured part of the row.
    pub cpu: Option<CpuUse>,
    /// Raft log entries the leader appended while the row was measured.
    pub entries: Option<u64>,
}

fn new_histogram() -> Histogram<u64> {
    // 1 us .. 10 min, 3 significant digits.
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

struct TaskResult {
    ok: u64,
    errors: u64,
    latency: Histogram<u64>,
    sample_errors: Vec<String>,
}

async fn writer(
    client: Client,
    op: Op,
    fleet_id: String,
    task: usize,
    warmup_until: Instant,
    until: Instant,
) -> TaskResult {
    let mut res = TaskResult {
        ok: 0,
        errors: 0,
        latency: new_histogram(),
        sample_errors: Vec::new(),
    };
    let mut seq = 0u64;
    loop {
        let start = Instant::now();
        if start >= until {
            return res;
        }
        seq += 1;
        let outcome = match op {
            Op::Update => {
                let input = UpdateFleetInput {
                    fleet_id: fleet_id.clone(),
                    name: None,
                    description: Some(format!("bench task {task} write {seq}")),
                    protection_policy: None,
                    resource_creation_limit_policy: None,
                    metric_groups: None,
                    placement_strategy: None,
                };
                client.update_fleet(input).await
            }
            Op::StaleRead => client.describe_fleet(&fleet_id).await.map(|_| ()),
        };
        if start < warmup_until {
            continue;
        }
        match outcome {
            Ok(_) => {
                res.ok += 1;
                let us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
                res.latency.saturating_record(us.max(1));
            }
            Err(err) => {
                res.errors += 1;
                let msg = err.to_string();
                if res.sample_errors.len() < 3 && !res.sample_errors.contains(&msg) {
                    res.sample_errors.push(msg);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// Runs `bench writes` and prints (and optionally writes) the markdown table.
pub async fn run(args: WritesArgs) -> anyhow::Result<()> {
    let binary = args.cluster.binary()?;
    eprintln!(
        "starting a {}-node cluster with {}",
        args.nodes,
        binary.display()
    );
    let mut cluster = args.cluster.builder(args.nodes)?.start().await?;
    if args.cluster.keep {
        eprintln!("keeping {}", cluster.keep_dir().display());
    }
    let admin = cluster.client()?;
    let mut fleets = Vec::new();
    for k in 0..args.fleets.max(1) {
        let fleet = admin
            .create_fleet(CreateFleetInput {
                name: format!("bench-fleet-{k}"),
                description: Some("write benchmark".to_owned()),
                ..Default::default()
            })
            .await
            .context("creating the benchmark fleets")?;
        fleets.push(fleet.fleet_id);
    }
    let endpoints = cluster.endpoints();
    let mut rows = Vec::new();
    let mut combos: Vec<(Routing, Batching, usize, usize)> = Vec::new();
    for &routing in &args.routing {
        for &batch in &args.batch {
            for &k in &args.conns {
                for &c in &args.clients {
                    let c = c.max(1);
                    combos.push((routing, batch, c, if k == 0 { c } else { k.min(c) }));
                }
            }
        }
    }
    for (routing, batch, clients, conns) in combos {
        eprintln!(
            "{clients} clients over {conns} connections, batching {}, routing {}: {:?} warm-up, \
             {:?} measured",
            batch.as_str(),
            routing.as_str(),
            args.warmup,
            args.duration
        );
        let warmup_until = Instant::now() + args.warmup;
        let probe = CpuProbe {
            nodes: node_pids(&cluster),
            servers: Vec::new(),
        };
        let status_client = admin.clone();
        let first_sample = tokio::spawn(async move {
            tokio::time::sleep_until(warmup_until.into()).await;
            (probe.sample(), leader_log_index(&status_client).await)
        });
        let until = warmup_until + args.duration;
        let leader = cluster.leader_index().await;
        let consistency = match args.op {
            Op::Update => Consistency::Linearizable,
            Op::StaleRead => Consistency::Stale,
        };
        let handles = routed_clients(
            &endpoints,
            clients,
            ClientSetup {
                routing,
                conns,
                batch: batch == Batching::On,
            },
            consistency,
        )?;
        let mut tasks = Vec::new();
        for (task, client) in handles.into_iter().enumerate() {
            let fleet = fleets[task % fleets.len()].clone();
            let node = (task % conns) % endpoints.len().max(1);
            let via_leader = routing == Routing::Leader || leader == Some(node);
            let handle = tokio::spawn(writer(client, args.op, fleet, task, warmup_until, until));
            tasks.push((via_leader, handle));
        }
        let mut row = WritesRow {
            routing,
            clients,
            conns,
            batch,
            ok: 0,
            errors: 0,
            elapsed: Duration::ZERO,
            latency: new_histogram(),
            via_leader: new_histogram(),
            via_follower: new_histogram(),
            sample_errors: Vec::new(),
            cpu: None,
            entries: None,
        };
        for (via_leader, t) in tasks {
            let r = t.await.context("writer task panicked")?;
            row.ok += r.ok;
            row.errors += r.errors;
            row.latency.add(&r.latency).context("merging histograms")?;
            let by_role = if via_leader {
                &mut row.via_leader
            } else {
                &mut row.via_follower
            };
            by_role.add(&r.latency).context("merging histograms")?;
            for e in r.sample_errors {
                if row.sample_errors.len() < 5 && !row.sample_errors.contains(&e) {
                    row.sample_errors.push(e);
                }
            }
        }
        // The last call of each task may end after `until`; count from the warm-up end.
        row.elapsed = warmup_until.elapsed();
        let probe = CpuProbe {
            nodes: node_pids(&cluster),
            servers: Vec::new(),
        };
        let (measured_from, first_index) =
            first_sample.await.context("CPU sampling task failed")?;
        row.cpu = Some(cpu_use("row", measured_from, probe.sample()));
        if let (Some(a), Some(b)) = (first_index, leader_log_index(&admin).await) {
            row.entries = Some(b.saturating_sub(a));
        }
        for e in &row.sample_errors {
            eprintln!("  error sample: {e}");
        }
        rows.push(row);
    }
    drop(cluster);
    emit(&render(&args, &binary, &rows), args.out.as_deref())
}

/// The leader's last log index, if the cluster answers.
async fn leader_log_index(admin: &Client) -> Option<u64> {
    let status = admin.cluster_status().await.ok()?;
    status.leader().map(|l| l.last_log_index)
}

/// CPU microseconds per operation, or `-`.
fn per_op(cpu_s: Option<f64>, ops: u64) -> String {
    match cpu_s {
        Some(c) if ops > 0 => format!("{:.0}", c * 1e6 / ops as f64),
        _ => "-".to_owned(),
    }
}

/// The markdown report.
pub fn render(args: &WritesArgs, binary: &std::path::Path, rows: &[WritesRow]) -> String {
    let mut s = String::new();
    let (title, calls) = match args.op {
        Op::Update => ("Write throughput: `update_fleet`", "writes"),
        Op::StaleRead => (
            "Baseline: stale `describe_fleet` reads (local replica, no Raft)",
            "reads",
        ),
    };
    let _ = writeln!(s, "### {title}, {} nodes\n", args.nodes);
    let _ = writeln!(
        s,
        "gamefleetd {}; {:?} measured per row after {:?} warm-up; {} fleets; routing `pinned`: each \
         client knows one node, round-robin (followers forward to the leader); routing `leader`: each \
         client knows every node and follows the leader hint; latency per call including client \
         retries.\n",
        describe_binary(binary),
        args.duration,
        args.warmup,
        args.fleets.max(1)
    );
    let _ = writeln!(
        s,
        "| routing | clients | conns | batching | {calls} | errors | {calls}/s | p50 ms | p90 ms | p99 ms | max ms | node CPU µs/op | load gen CPU µs/op | machine busy | ops per log entry |"
    );
    let _ = writeln!(
        s,
        "|:--|--:|--:|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    );
    for r in rows {
        let secs = r.elapsed.as_secs_f64().max(1e-9);
        let h = &r.latency;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.routing.as_str(),
            r.clients,
            r.conns,
            r.batch.as_str(),
            r.ok,
            r.errors,
            r.ok as f64 / secs,
            ms(h.value_at_quantile(0.50)),
            ms(h.value_at_quantile(0.90)),
            ms(h.value_at_quantile(0.99)),
            ms(h.max()),
            per_op(r.cpu.as_ref().map(|c| c.nodes_s), r.ok),
            per_op(r.cpu.as_ref().map(|c| c.bench_s), r.ok),
            r.cpu.as_ref().map_or("-".to_owned(), |c| format!(
                "{:.0}%",
                c.machine_busy * 100.0
            )),
            match r.entries {
                Some(e) if e > 0 => format!("{:.1}", r.ok as f64 / e as f64),
                _ => "-".to_owned(),
            },
        );
    }
    let _ = writeln!(
        s,
        "\nRouting `pinned`, by the node a client is bound to (the leader when the row started, or \
         a follower that forwards):\n"
    );
    let _ = writeln!(
        s,
        "| clients | conns | batching | bound to | {calls} | p50 ms | p90 ms | p99 ms | max ms |"
    );
    let _ = writeln!(s, "|--:|--:|:--|:--|--:|--:|--:|--:|--:|");
    for r in rows.iter().filter(|r| r.routing == Routing::Pinned) {
        for (role, h) in [("leader", &r.via_leader), ("follower", &r.via_follower)] {
            if h.is_empty() {
                continue;
            }
            let _ = writeln!(
                s,
                "| {} | {} | {} | {role} | {} | {} | {} | {} | {} |",
                r.clients,
                r.conns,
                r.batch.as_str(),
                h.len(),
                ms(h.value_at_quantile(0.50)),
                ms(h.value_at_quantile(0.90)),
                ms(h.value_at_quantile(0.99)),
                ms(h.max()),
            );
        }
    }
    s
}
