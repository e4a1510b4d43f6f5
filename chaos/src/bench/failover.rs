//! `bench failover`: how long writes stop when the leader dies.
//!
//! Per run: writers (two per surviving node, each bound to that node) loop on `update_fleet`;
//! the leader is SIGKILLed; the run's figure is the time from the SIGKILL to the first
//! acknowledged write that was *invoked after* the SIGKILL (a write invoked before it might
//! have been committed by the old leader, so it proves nothing). Then the killed node is
//! restarted and the cluster must be ready again before the next run.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use gamefleet_client::{Client, ClientOptions, Consistency, CreateFleetInput, UpdateFleetInput};
use tokio::sync::mpsc;

use super::{ClusterArgs, describe_binary, emit, quantile};

/// Options of `bench failover`.
#[derive(Debug, Clone, clap::Args)]
pub struct FailoverArgs {
    /// Number of leader kills.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Number of nodes in the local cluster (3 or 5 voters).
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// Writers per surviving node.
    #[arg(long, default_value_t = 2)]
    pub writers_per_node: usize,
    /// The client's per-attempt timeout in milliseconds (bounds how long a write sent to the
    /// dead leader hangs before the client retries).
    #[arg(long, default_value_t = 1000)]
    pub attempt_timeout_ms: u64,
    /// Also write the markdown table to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// One run's measurement.
#[derive(Debug, Clone)]
pub struct FailoverRun {
    /// The killed leader's name.
    pub killed: String,
    /// The leader elected after it.
    pub new_leader: String,
    /// SIGKILL to first acknowledged write invoked after it.
    pub failover: Duration,
    /// Writes that failed after the client's retries, during the run.
    pub errors: u64,
}

async fn writer(
    client: Client,
    fleet_id: String,
    id: usize,
    stop: Arc<AtomicBool>,
    acks: mpsc::UnboundedSender<(Instant, Instant)>,
) -> u64 {
    let mut errors = 0;
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        seq += 1;
        let invoked = Instant::now();
        let input = UpdateFleetInput {
            fleet_id: fleet_id.clone(),
            name: None,
            description: Some(format!("failover writer {id} write {seq}")),
            protection_policy: None,
            resource_creation_limit_policy: None,
            metric_groups: None,
            placement_strategy: None,
        };
        match client.update_fleet(input).await {
            Ok(_) => {
                let _ = acks.send((invoked, Instant::now()));
            }
            Err(_) => {
                errors += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }
    errors
}

/// Runs `bench failover` and prints (and optionally writes) the markdown table.
pub async fn run(args: FailoverArgs) -> anyhow::Result<()> {
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
    let fleet_id = cluster
        .client()?
        .create_fleet(CreateFleetInput {
            name: "failover-bench".to_owned(),
            ..Default::default()
        })
        .await
        .context("creating the benchmark fleet")?
        .fleet_id;

    let mut runs = Vec::new();
    for run in 0..args.runs {
        cluster.wait_ready(Duration::from_secs(60)).await?;
        let leader = cluster.wait_leader(Duration::from_secs(30)).await?;
        let survivors: Vec<usize> = cluster
            .running()
            .into_iter()
            .filter(|&i| i != leader)
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        for (k, &s) in survivors
            .iter()
            .flat_map(|s| std::iter::repeat_n(s, args.writers_per_node.max(1)))
            .enumerate()
        {
            let client = Client::with_options(ClientOptions {
                endpoints: vec![cluster.endpoint(s)],
                attempt_timeout: Duration::from_millis(args.attempt_timeout_ms),
                total_timeout: Duration::from_secs(60),
                consistency: Consistency::Linearizable,
                follow_leader: true,
                batch: false,
            })?;
            tasks.push(tokio::spawn(writer(
                client,
                fleet_id.clone(),
                k,
                stop.clone(),
                tx.clone(),
            )));
        }
        drop(tx);
        // Writes must flow before the kill, or the measurement is meaningless.
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .map_err(|_| anyhow!("no write acknowledged within 10 s before the kill"))?
            .ok_or_else(|| anyhow!("writers stopped before the kill"))?;
        tokio::time::sleep(Duration::from_millis(300)).await;

        let killed_at = Instant::now();
        cluster.kill(leader)?;
        let deadline = killed_at + Duration::from_secs(60);
        let failover = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, rx.recv()).await {
                Ok(Some((invoked, acked))) if invoked >= killed_at => break acked - killed_at,
                Ok(Some(_)) => continue,
                Ok(None) => bail!("writers stopped after the kill"),
                Err(_) => bail!(
                    "run {}: no write acknowledged within 60 s of killing {}\n{}",
                    run + 1,
                    cluster.name(leader),
                    cluster.tails(&survivors)
                ),
            }
        };
        stop.store(true, Ordering::Relaxed);
        let mut errors = 0;
        for t in tasks {
            match tokio::time::timeout(Duration::from_secs(70), t).await {
                Ok(Ok(e)) => errors += e,
                Ok(Err(e)) => bail!("writer task failed: {e}"),
                Err(_) => bail!("a writer did not stop within 70 s"),
            }
        }
        let new_leader = cluster.wait_leader(Duration::from_secs(30)).await?;
        let row = FailoverRun {
            killed: cluster.name(leader).to_owned(),
            new_leader: cluster.name(new_leader).to_owned(),
            failover,
            errors,
        };
        eprintln!(
            "run {}: killed {}, new leader {}, first write after {:?}",
            run + 1,
            row.killed,
            row.new_leader,
            row.failover
        );
        runs.push(row);
        cluster.restart(leader).await?;
    }
    cluster.wait_ready(Duration::from_secs(60)).await?;
    drop(cluster);
    emit(&render(&args, &binary, &runs), args.out.as_deref())
}

/// The markdown report.
pub fn render(args: &FailoverArgs, binary: &std::path::Path, runs: &[FailoverRun]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "### Leader failover: SIGKILL of the leader, {} nodes\n",
        args.nodes
    );
    let node_args = if args.cluster.node_args.is_empty() {
        "node defaults".to_owned()
    } else {
        format!("`{}`", args.cluster.node_args.join(" "))
    };
    let _ = writeln!(
        s,
        "gamefleetd {}; timings: {node_args}; {} writers per surviving node, client attempt timeout \
         {} ms; figure = SIGKILL to the first acknowledged write invoked after it.\n",
        describe_binary(binary),
        args.writers_per_node.max(1),
        args.attempt_timeout_ms
    );
    let _ = writeln!(
        s,
        "| run | killed leader | new leader | failover ms | failed writes |"
    );
    let _ = writeln!(s, "|--:|:--|:--|--:|--:|");
    for (i, r) in runs.iter().enumerate() {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            i + 1,
            r.killed,
            r.new_leader,
            r.failover.as_millis(),
            r.errors
        );
    }
    let mut sorted: Vec<Duration> = runs.iter().map(|r| r.failover).collect();
    sorted.sort_unstable();
    let _ = writeln!(s, "\n| runs | median ms | p99 ms | max ms |");
    let _ = writeln!(s, "|--:|--:|--:|--:|");
    let _ = writeln!(
        s,
        "| {} | {} | {} | {} |",
        runs.len(),
        quantile(&sorted, 0.5).as_millis(),
        quantile(&sorted, 0.99).as_millis(),
        sorted.last().copied().unwrap_or_default().as_millis()
    );
    s
}
