//! `gamefleetd`: parses arguments, sets up logging and runs the node (or a
//! local dev cluster). Errors end the process with one `error:` line and exit
//! code 1.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use gamefleet_node::config::{NodeConfig, RunArgs};
use gamefleet_node::dev::DevArgs;

#[derive(Parser)]
#[command(
    name = "gamefleetd",
    version,
    about = "gamefleet node: replicated, self-hosted game server hosting"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a node.
    Run(Box<RunArgs>),
    /// Start a local cluster (1, 3 or 5 node processes) with a demo fleet.
    Dev(DevArgs),
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Cmd::Run(args) => {
                let cfg = NodeConfig::load(&args)?;
                let filter = tracing_subscriber::EnvFilter::try_new(&cfg.log)
                    .map_err(|e| anyhow::anyhow!("log: invalid filter {:?}: {e}", cfg.log))?;
                tracing_subscriber::fmt()
                    .with_env_filter(filter)
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                    .with_writer(std::io::stderr)
                    .init();
                gamefleet_node::server::run(cfg, shutdown_signal()).await
            }
            Cmd::Dev(args) => gamefleet_node::dev::run(args, shutdown_signal()).await,
        }
    });
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
