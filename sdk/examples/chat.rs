//! Example game server: a line-based TCP chat room that hosts one game session.
//!
//! It shows the whole SDK 5 lifecycle a real game server goes through:
//!
//! 1. listen on the game port (`--port N`, `--port=N`, `-port N` or `$PORT`; `0` picks a free
//!    port, which is then reported to the service);
//! 2. `init_sdk_from_env` (the `GAMELIFT_SDK_*` variables the launcher sets), `process_ready`;
//! 3. on `CreateGameSession`: `activate_game_session`;
//! 4. each player connects over TCP and sends its player session id as the first line; the
//!    server checks it with `accept_player_session` and answers `WELCOME <id>`, or `ERROR
//!    <reason>` and closes. Then every line is broadcast to the room as `<id>: <text>`; the line
//!    `/end` finishes the game for everyone;
//! 5. on disconnect: `remove_player_session`;
//! 6. the session ends when every player has left (after at least one joined), when a player
//!    sends `/end`, or on `TerminateProcess`: the server calls `process_ending`, `destroy`, and
//!    exits with code 0.
//!
//! Run it against a gamefleet node that launched it (the node sets the environment), or by hand:
//! `GAMELIFT_SDK_WEBSOCKET_URL=ws://127.0.0.1:7800 GAMELIFT_SDK_PROCESS_ID=p1
//! GAMELIFT_SDK_HOST_ID=node-1 GAMELIFT_SDK_FLEET_ID=fleet-1 GAMELIFT_SDK_AUTH_TOKEN=t
//! cargo run -p gamefleet-sdk --example chat -- --port 7777`, then `nc 127.0.0.1 7777`.

use std::time::Duration;

use anyhow::{Context, bail};
use gamefleet_sdk::{GameLiftServerSdk, ProcessParameters};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc};
use tracing::{info, warn};

/// How long a new connection has to send its player session id.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything the main loop reacts to.
enum Event {
    SessionStarted(String),
    Terminate,
    PlayerJoined(String),
    PlayerLeft(String),
    GameFinished(String),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let port = game_port()?;
    let listener = TcpListener::bind(("0.0.0.0", port))
        .await
        .with_context(|| format!("binding the game port {port}"))?;
    let port = listener.local_addr()?.port();

    let sdk = GameLiftServerSdk::init_sdk_from_env()
        .await
        .context("InitSDK")?;
    let (events_tx, mut events) = mpsc::unbounded_channel();

    let on_start = (sdk.clone(), events_tx.clone());
    let on_terminate = events_tx.clone();
    let params = ProcessParameters::new(port)
        .log_paths([std::env::temp_dir()
            .join(format!("chat-{port}.log"))
            .display()
            .to_string()])
        .on_start_game_session(move |session| {
            let (sdk, events) = on_start.clone();
            async move {
                // A real game would load the map named in session.game_properties here.
                match sdk.activate_game_session().await {
                    Ok(()) => {
                        let _ = events.send(Event::SessionStarted(session.game_session_id));
                    }
                    Err(e) => warn!(error = %e, "ActivateGameSession failed"),
                }
            }
        })
        .on_process_terminate(move || {
            let _ = on_terminate.send(Event::Terminate);
            async {}
        })
        .on_health_check(|| async { true });
    sdk.process_ready(params).await.context("ProcessReady")?;
    info!(port, "chat server ready");

    let (room, _) = broadcast::channel::<String>(256);
    let mut joined = 0usize;
    let mut present = 0usize;
    let reason = loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    info!(%peer, "connection");
                    tokio::spawn(player(stream, sdk.clone(), room.clone(), events_tx.clone()));
                }
                Err(e) => warn!(error = %e, "accept failed"),
            },
            Some(event) = events.recv() => match event {
                Event::SessionStarted(id) => info!(game_session_id = %id, "game session active"),
                Event::PlayerJoined(id) => {
                    joined += 1;
                    present += 1;
                    info!(player_session_id = %id, present, "player joined");
                }
                Event::PlayerLeft(id) => {
                    present = present.saturating_sub(1);
                    info!(player_session_id = %id, present, "player left");
                    if present == 0 && joined > 0 {
                        break "every player left".to_string();
                    }
                }
                Event::GameFinished(by) => break format!("{by} ended the game"),
                Event::Terminate => break "the service terminated the process".to_string(),
            },
            _ = tokio::signal::ctrl_c() => break "interrupted".to_string(),
        }
    };

    info!(%reason, "game session over");
    let _ = room.send(format!("* game over: {reason}\n"));
    // Let the players' tasks flush the last line before the process goes.
    tokio::time::sleep(Duration::from_millis(100)).await;
    if let Err(e) = sdk.process_ending().await {
        warn!(error = %e, "ProcessEnding failed");
    }
    sdk.destroy().await?;
    std::process::exit(0);
}

/// One player's connection: hello, accept, chat, remove.
async fn player(
    stream: TcpStream,
    sdk: GameLiftServerSdk,
    room: broadcast::Sender<String>,
    events: mpsc::UnboundedSender<Event>,
) {
    let _ = stream.set_nodelay(true);
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    let player_session_id = match tokio::time::timeout(HELLO_TIMEOUT, lines.next_line()).await {
        Ok(Ok(Some(line))) => line.trim().to_string(),
        _ => {
            let _ = writer
                .write_all(b"ERROR expected a player session id\n")
                .await;
            return;
        }
    };
    if let Err(e) = sdk.accept_player_session(&player_session_id).await {
        info!(%player_session_id, error = %e, "player refused");
        let _ = writer.write_all(format!("ERROR {e}\n").as_bytes()).await;
        let _ = writer.shutdown().await;
        return;
    }
    let mut inbox = room.subscribe();
    if writer
        .write_all(format!("WELCOME {player_session_id}\n").as_bytes())
        .await
        .is_err()
    {
        remove(&sdk, &player_session_id).await;
        return;
    }
    let _ = events.send(Event::PlayerJoined(player_session_id.clone()));
    let _ = room.send(format!("* {player_session_id} joined\n"));
    loop {
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) if line.trim() == "/end" => {
                    let _ = events.send(Event::GameFinished(player_session_id.clone()));
                }
                Ok(Some(line)) => {
                    let _ = room.send(format!("{player_session_id}: {}\n", line.trim_end()));
                }
                Ok(None) | Err(_) => break,
            },
            message = inbox.recv() => match message {
                Ok(message) => {
                    if writer.write_all(message.as_bytes()).await.is_err() {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    remove(&sdk, &player_session_id).await;
    let _ = room.send(format!("* {player_session_id} left\n"));
    let _ = events.send(Event::PlayerLeft(player_session_id));
}

async fn remove(sdk: &GameLiftServerSdk, player_session_id: &str) {
    if let Err(e) = sdk.remove_player_session(player_session_id).await {
        warn!(%player_session_id, error = %e, "RemovePlayerSession failed");
    }
}

/// The game port from `--port N`, `--port=N`, `-port N` or `$PORT`. A literal `{port}` means the
/// launcher did not substitute its placeholder.
fn game_port() -> anyhow::Result<u16> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut raw = None;
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if let Some(value) = arg.strip_prefix("--port=") {
            raw = Some(value.to_string());
        } else if arg == "--port" || arg == "-port" {
            raw = args.get(i + 1).cloned();
            i += 1;
        }
        i += 1;
    }
    let raw = match raw.or_else(|| std::env::var("PORT").ok()) {
        Some(raw) => raw,
        None => bail!("no game port: pass --port N (0 picks a free port) or set PORT"),
    };
    if raw.contains('{') {
        bail!("the launcher passed `{raw}` unsubstituted; expected a port number");
    }
    raw.parse()
        .with_context(|| format!("`{raw}` is not a port number"))
}
