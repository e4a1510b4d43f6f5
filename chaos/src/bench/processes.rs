//! `bench processes`: game server hosting on one node.
//!
//! For each N: creates ceil(N/50) fleets (GameLift caps a node at 50 processes per fleet) of the
//! `minimal` example server on a 1-node cluster and times fleet creation → N processes ACTIVE
//! (ProcessReady). Then it measures the node's memory per idle hosted process (node RSS delta / N
//! and the servers' own RSS), and the time from `kill -9` of a game server to a ready
//! replacement. Fleets are deleted (and their processes gone) before the next N.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use gamefleet_client::{
    Client, CreateFleetInput, InstanceCounts, RuntimeConfiguration, ServerProcess,
    ServerProcessStatus,
};

use super::ClusterArgs;

/// Flags of `bench processes`.
#[derive(Debug, clap::Args)]
pub struct ProcessesArgs {
    /// Comma-separated process counts on the one node.
    #[arg(long, value_delimiter = ',', default_value = "50,200")]
    pub counts: Vec<usize>,
    /// The game server to host (default: the `minimal` SDK example next to gamefleetd).
    #[arg(long, value_name = "PATH")]
    pub server: Option<PathBuf>,
    /// kill -9 → replacement measurements per count.
    #[arg(long, default_value_t = 5)]
    pub kills: usize,
    /// Also write the markdown to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The pid of the gamefleetd whose command line names `data_dir`.
fn node_pid(data_dir: &Path) -> Option<u32> {
    let needle = data_dir.to_string_lossy().to_string();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains("gamefleetd") && cmd.contains(" run ") && cmd.contains(&needle) {
            return Some(pid);
        }
    }
    None
}

async fn processes(client: &Client, fleets: &[String]) -> anyhow::Result<Vec<ServerProcessStatus>> {
    let mut all = Vec::new();
    for f in fleets {
        all.extend(client.describe_fleet_processes(f).await?);
    }
    Ok(all)
}

fn active(ps: &[ServerProcessStatus]) -> usize {
    ps.iter().filter(|p| p.status == "ACTIVE").count()
}

async fn wait_active(
    client: &Client,
    fleets: &[String],
    n: usize,
    limit: Duration,
) -> anyhow::Result<Duration> {
    let start = Instant::now();
    loop {
        let ps = processes(client, fleets).await?;
        if active(&ps) >= n {
            return Ok(start.elapsed());
        }
        if start.elapsed() > limit {
            bail!(
                "only {} of {n} processes ACTIVE after {limit:?}",
                active(&ps)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn default_server(gamefleetd: &Path) -> PathBuf {
    gamefleetd
        .parent()
        .map(|d| d.join("examples").join("minimal"))
        .unwrap_or_default()
}

/// Runs the benchmark and prints a markdown report.
pub async fn run(args: ProcessesArgs) -> anyhow::Result<()> {
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
    eprintln!("starting a 1-node cluster with {}", binary.display());
    let mut cluster = args.cluster.builder(1)?.voters(1).start().await?;
    if args.cluster.keep {
        eprintln!("keeping {}", cluster.keep_dir().display());
    }
    let client = cluster.client()?;
    let node = node_pid(cluster.data_dir(0)).context("finding the node's pid")?;
    let mut rows = Vec::new();
    for &n in &args.counts {
        let idle_rss = rss_kib(node).unwrap_or(0);
        let started = Instant::now();
        let mut fleets = Vec::new();
        let mut left = n;
        while left > 0 {
            let k = left.min(50);
            left -= k;
            let f = client
                .create_fleet(CreateFleetInput {
                    name: format!("bench-{n}-{}", fleets.len()),
                    runtime_configuration: Some(RuntimeConfiguration {
                        server_processes: vec![ServerProcess {
                            launch_path: server.to_string_lossy().into_owned(),
                            parameters: Some("--port {port}".into()),
                            concurrent_executions: i32::try_from(k)?,
                        }],
                        max_concurrent_game_session_activations: None,
                        game_session_activation_timeout_seconds: None,
                    }),
                    instances: Some(InstanceCounts {
                        desired: 1,
                        minimum: 0,
                        maximum: 1,
                        active: 0,
                    }),
                    ..Default::default()
                })
                .await?;
            fleets.push(f.fleet_id);
        }
        wait_active(&client, &fleets, n, Duration::from_secs(600)).await?;
        let to_ready = started.elapsed();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let ps = processes(&client, &fleets).await?;
        let node_rss = rss_kib(node).unwrap_or(0);
        let server_rss: Vec<u64> = ps.iter().filter_map(|p| rss_kib(p.pid)).collect();
        let avg_server = server_rss.iter().sum::<u64>() / u64::try_from(server_rss.len().max(1))?;
        let mut replacements = Vec::new();
        for _ in 0..args.kills {
            let ps = processes(&client, &fleets).await?;
            let Some(victim) = ps.iter().find(|p| p.status == "ACTIVE") else {
                break;
            };
            let killed_at = Instant::now();
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(i32::try_from(victim.pid)?),
                nix::sys::signal::Signal::SIGKILL,
            )?;
            loop {
                let now = processes(&client, &fleets).await?;
                let replaced = !now.iter().any(|p| p.process_id == victim.process_id);
                if replaced && active(&now) >= n {
                    replacements.push(killed_at.elapsed());
                    break;
                }
                if killed_at.elapsed() > Duration::from_secs(120) {
                    bail!(
                        "no ready replacement 120 s after kill -9 of {}",
                        victim.process_id
                    );
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        replacements.sort();
        let median = replacements
            .get(replacements.len() / 2)
            .copied()
            .unwrap_or_default();
        let max = replacements.last().copied().unwrap_or_default();
        rows.push(format!(
            "| {n} | {:.1} | {:.0} | {} | {} | {:.0} | {:.0} |",
            to_ready.as_secs_f64(),
            (node_rss.saturating_sub(idle_rss)) as f64 / n as f64,
            avg_server,
            replacements.len(),
            median.as_secs_f64() * 1000.0,
            max.as_secs_f64() * 1000.0,
        ));
        for f in &fleets {
            client.delete_fleet(f).await?;
        }
        let deadline = Instant::now() + Duration::from_secs(180);
        while !processes(&client, &fleets)
            .await
            .map(|p| p.is_empty())
            .unwrap_or(true)
        {
            if Instant::now() > deadline {
                bail!("the deleted fleets' processes did not end within 180 s");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let mut md = format!(
        "### Game server hosting on one node\n\ngamefleetd `{}`, server `{}`, {} CPUs.\n\n\
         | processes | creation → all ready (s) | node RSS per process (KiB) | server RSS avg (KiB) | kills | kill -9 → ready replacement median (ms) | max (ms) |\n\
         |--:|--:|--:|--:|--:|--:|--:|\n",
        binary.display(),
        server.display(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
    );
    for r in rows {
        md.push_str(&r);
        md.push('\n');
    }
    println!("{md}");
    if let Some(out) = &args.out {
        std::fs::write(out, &md)?;
    }
    Ok(())
}
