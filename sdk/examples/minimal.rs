//! Minimal example game server, for benchmarks: the smallest correct SDK 5 process.
//!
//! It does `init_sdk_from_env`, `process_ready` on the given port (it opens no socket of its
//! own), activates every game session it is given, and answers heartbeats. It has no
//! `on_process_terminate` callback, so on `TerminateProcess` the SDK itself calls
//! `process_ending` and `destroy` and exits, the official SDKs' default. With
//! `--session-seconds N` it ends each session after N seconds instead (`process_ending`, exit 0),
//! so a supervisor can measure the full process cycle. With `--no-activate` it never activates
//! the sessions it is given (to exercise the activation timeout).
//!
//! `cargo run -p gamefleet-sdk --example minimal -- --port 7777 [--session-seconds 5]
//! [--no-activate]`, with the `GAMELIFT_SDK_*` variables set.

use std::time::Duration;

use anyhow::{Context, bail};
use gamefleet_sdk::{GameLiftServerSdk, ProcessParameters};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let (port, session_seconds, activate) = arguments()?;

    let sdk = GameLiftServerSdk::init_sdk_from_env()
        .await
        .context("InitSDK")?;
    let on_start = sdk.clone();
    sdk.process_ready(
        ProcessParameters::new(port).on_start_game_session(move |session| {
            let sdk = on_start.clone();
            async move {
                if !activate {
                    println!("not activating {}", session.game_session_id);
                    return;
                }
                if let Err(e) = sdk.activate_game_session().await {
                    eprintln!("ActivateGameSession failed: {e}");
                    return;
                }
                println!("active {}", session.game_session_id);
                if let Some(seconds) = session_seconds {
                    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
                    let ended = sdk.process_ending().await;
                    let _ = sdk.destroy().await;
                    std::process::exit(if ended.is_ok() { 0 } else { 1 });
                }
            }
        }),
    )
    .await
    .context("ProcessReady")?;
    println!("ready {port}");

    tokio::signal::ctrl_c().await?;
    let _ = sdk.process_ending().await;
    sdk.destroy().await?;
    Ok(())
}

/// `--port N` (or `--port=N`, `-port N`, `$PORT`; default 7777), `--session-seconds S` and
/// `--no-activate`.
fn arguments() -> anyhow::Result<(u16, Option<f64>, bool)> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut port = std::env::var("PORT").ok();
    let mut session_seconds = None;
    let mut activate = true;
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--no-activate" {
            activate = false;
            i += 1;
            continue;
        }
        let (key, inline) = match args[i].split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (args[i].clone(), None),
        };
        let value = match inline {
            Some(v) => Some(v),
            None => {
                i += 1;
                args.get(i).cloned()
            }
        };
        match key.as_str() {
            "--port" | "-port" => port = value,
            "--session-seconds" => session_seconds = value,
            other => bail!("unknown argument `{other}`"),
        }
        i += 1;
    }
    let port = port.unwrap_or_else(|| "7777".into());
    if port.contains('{') {
        bail!("the launcher passed `{port}` unsubstituted; expected a port number");
    }
    let port = port
        .parse()
        .with_context(|| format!("`{port}` is not a port"))?;
    let session_seconds = session_seconds
        .map(|s| {
            s.parse::<f64>()
                .with_context(|| format!("`{s}` is not a number of seconds"))
        })
        .transpose()?;
    Ok((port, session_seconds, activate))
}
