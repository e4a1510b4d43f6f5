//! `gamefleet`: the operator and developer CLI of a gamefleet cluster.
//!
//! `main` only parses arguments (clap; usage errors exit with 2), runs the
//! command on a Tokio runtime and prints the result. A failed command prints
//! one line, `error: <Kind>: <message>`, on stderr and exits with 1.

// NB: the crate root is this file, so its modules would resolve next to it
// (and `src/bin/*.rs` would each become a binary); they live in `gamefleet/`.
#[path = "gamefleet/cli.rs"]
mod cli;
#[path = "gamefleet/commands.rs"]
mod commands;
#[path = "gamefleet/render.rs"]
mod render;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: Internal: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(args)) {
        Ok(output) => {
            let mut stdout = std::io::stdout().lock();
            // NB: a closed pipe (`gamefleet fleet list | head`) is not an error.
            match stdout
                .write_all(output.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("error: Internal: cannot write output: {e}");
                    ExitCode::from(1)
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
