//! The `gamefleet-chaos` command: chaos runs and benchmarks against local clusters of real
//! `gamefleetd` processes.
//!
//! ```text
//! gamefleet-chaos run --nodes 5 --duration 300s --faults kill,pause,partition,... --seed N --out DIR
//! gamefleet-chaos bench writes --nodes 3 --clients 1,64 --duration 10s [--gamefleetd PATH] [--out FILE]
//! gamefleet-chaos bench failover --runs 5 [--gamefleetd PATH] [--out FILE]
//! gamefleet-chaos bench processes --counts 50,200 --kills 5 [--gamefleetd PATH] [--out FILE]
//! gamefleet-chaos bench sessions --fleets 4 --clients 32 --reserve-clients 64 --duration 10s [--out FILE]
//! ```
//!
//! Thin shell: argument parsing and dispatch only; the work lives in the library.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gamefleet_chaos::bench::{
    failover::FailoverArgs, processes::ProcessesArgs, sessions::SessionsArgs, writes::WritesArgs,
};

/// Fault injection and benchmarks for gamefleet clusters.
#[derive(Debug, Parser)]
#[command(name = "gamefleet-chaos", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// A chaos run: faults on a seeded schedule while clients work; checks the history.
    Run(gamefleet_chaos::run::RunArgs),
    /// Benchmarks against a local cluster (use a release gamefleetd).
    #[command(subcommand)]
    Bench(BenchCmd),
}

#[derive(Debug, Subcommand)]
enum BenchCmd {
    /// Replicated write throughput and latency (`update_fleet`) per client count.
    Writes(WritesArgs),
    /// Time from a SIGKILL of the leader to the first acknowledged write after it.
    Failover(FailoverArgs),
    /// Game server hosting on one node: time to N ready processes, memory, replacement time.
    Processes(ProcessesArgs),
    /// Game session placement (latency, throughput) and player session reservations.
    Sessions(SessionsArgs),
}

/// Resolves on the first SIGINT or SIGTERM, naming it.
async fn interrupted() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the tokio runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let work = async {
            match cli.command {
                Cmd::Run(args) => gamefleet_chaos::run::run(args).await,
                Cmd::Bench(BenchCmd::Writes(args)) => {
                    gamefleet_chaos::bench::writes::run(args).await.map(|()| 0)
                }
                Cmd::Bench(BenchCmd::Failover(args)) => {
                    gamefleet_chaos::bench::failover::run(args).await.map(|()| 0)
                }
                Cmd::Bench(BenchCmd::Processes(args)) => {
                    gamefleet_chaos::bench::processes::run(args).await.map(|()| 0)
                }
                Cmd::Bench(BenchCmd::Sessions(args)) => {
                    gamefleet_chaos::bench::sessions::run(args).await.map(|()| 0)
                }
            }
        };
        // NB: on SIGINT/SIGTERM the work future is dropped, and with it any cluster it owns,
        // whose Drop kills and reaps the nodes and removes their directory.
        tokio::select! {
            res = work => res,
            sig = interrupted() => Err(anyhow::anyhow!("interrupted by {sig}; the local cluster was stopped")),
        }
    });
    match result {
        Ok(0) => ExitCode::SUCCESS,
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
