//! End to end: the example game servers as real processes, launched the way a node launches
//! them (the `GAMELIFT_SDK_*` environment), against the mock node, with real TCP players.
//!
//! The binaries are the ones `cargo test` builds under `target/<profile>/examples/`; when this
//! test runs alone (`--test examples`), it builds them first.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;

use common::*;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

const FRIEND_SESSION_ID: &str = "psess-friend1";

/// `target/<profile>/examples/<name>`. The first call in this test binary runs
/// `cargo build --examples` so the binaries match the current source (a no-op after a full
/// `cargo test`, which builds them anyway).
fn example_binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    BUILT.get_or_init(|| {
        let mut build = std::process::Command::new(env!("CARGO"));
        build.args(["build", "-p", "gamefleet-sdk", "--examples"]);
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("running cargo build");
        assert!(status.success(), "building the examples");
    });
    profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

fn launch(name: &str, node: &MockNode, process_id: &str, args: &[&str]) -> Child {
    Command::new(example_binary(name))
        .args(args)
        .env(gamefleet_sdk::protocol::env::WEBSOCKET_URL, node.url())
        .env(gamefleet_sdk::protocol::env::AUTH_TOKEN, "token-1")
        .env(gamefleet_sdk::protocol::env::PROCESS_ID, process_id)
        .env(gamefleet_sdk::protocol::env::HOST_ID, HOST_ID)
        .env(gamefleet_sdk::protocol::env::FLEET_ID, FLEET_ID)
        .env("HEALTHCHECK_INTERVAL", "200ms")
        .env("HEALTHCHECK_MAX_JITTER", "0s")
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "0")
        .env_remove("PORT")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("starting example {name}: {e}"))
}

async fn exit_code(child: &mut Child) -> Option<i32> {
    tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("the game server did not exit")
        .unwrap()
        .code()
}

/// Accepts only the two known player sessions, like a node would.
fn accept_known_players(request: &Value) -> Reply {
    if request["Action"] == "AcceptPlayerSession" {
        let id = request["RequestId"].as_str().unwrap_or_default();
        let player = request["PlayerSessionId"].as_str().unwrap_or_default();
        if player != PLAYER_SESSION_ID && player != FRIEND_SESSION_ID {
            return Reply::Text(error_reply(
                "AcceptPlayerSession",
                id,
                404,
                &format!("player session {player} not found"),
            ));
        }
    }
    default_reply(request)
}

struct Player {
    lines: tokio::io::Lines<BufReader<tokio::net::tcp::OwnedReadHalf>>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Player {
    async fn connect(port: u16, player_session_id: &str) -> Player {
        let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let (reader, mut writer) = stream.into_split();
        writer
            .write_all(format!("{player_session_id}\n").as_bytes())
            .await
            .unwrap();
        Player {
            lines: BufReader::new(reader).lines(),
            writer,
        }
    }

    async fn line(&mut self) -> Option<String> {
        tokio::time::timeout(WAIT, self.lines.next_line())
            .await
            .expect("no line from the game server")
            .unwrap()
    }

    async fn say(&mut self, text: &str) {
        self.writer
            .write_all(format!("{text}\n").as_bytes())
            .await
            .unwrap();
    }
}

/// Starts `chat --port 0` and walks it to an active game session; returns the child, the
/// node connection and the game port.
async fn chat_with_session(node: &mut MockNode, process_id: &str) -> (Child, u64, u16) {
    node.set_replier(accept_known_players);
    let child = launch("chat", node, process_id, &["--port", "0"]);
    let (conn, query) = node.expect_connect().await;
    let pairs = raw_query_pairs(&query);
    assert_eq!(pairs["pID"], process_id);
    assert_eq!(pairs["Authorization"], "token-1");
    let (_, ready) = node.expect_frame("ActivateServerProcess").await;
    let port = ready["Port"].as_u64().expect("Port") as u16;
    assert_ne!(port, 0, "the real bound port is reported");
    assert_eq!(ready["LogPaths"].as_array().map(Vec::len), Some(1));
    // Heartbeats run at the interval from HEALTHCHECK_INTERVAL.
    node.expect_frame("HeartbeatServerProcess").await;
    node.expect_frame("HeartbeatServerProcess").await;
    node.send(
        conn,
        fixture_text("service_to_sdk/create_game_session.json"),
    );
    let (_, activate) = node.expect_frame("ActivateGameSession").await;
    assert_matches_fixture(&activate, "sdk_to_service/activate_game_session.json");
    (child, conn, port)
}

#[tokio::test]
async fn chat_checks_players_and_ends_when_everyone_leaves() {
    let mut node = MockNode::start().await;
    let (mut child, _conn, port) = chat_with_session(&mut node, "proc-chat-1").await;

    // An unknown player session is refused with an error line, then the socket closes.
    let mut intruder = Player::connect(port, "psess-unknown").await;
    let (_, frame) = node.expect_frame("AcceptPlayerSession").await;
    assert_eq!(frame["PlayerSessionId"], "psess-unknown");
    assert_eq!(frame["GameSessionId"], GAME_SESSION_ID);
    let refusal = intruder.line().await.unwrap();
    assert!(refusal.starts_with("ERROR "), "{refusal}");
    assert!(refusal.contains("404"), "{refusal}");
    assert_eq!(intruder.line().await, None, "closed after the refusal");

    // Known players are accepted and chat.
    let mut alice = Player::connect(port, PLAYER_SESSION_ID).await;
    assert_eq!(
        alice.line().await.unwrap(),
        format!("WELCOME {PLAYER_SESSION_ID}")
    );
    let (_, frame) = node.expect_frame("AcceptPlayerSession").await;
    assert_matches_fixture(&frame, "sdk_to_service/accept_player_session.json");
    let mut bob = Player::connect(port, FRIEND_SESSION_ID).await;
    assert_eq!(
        bob.line().await.unwrap(),
        format!("WELCOME {FRIEND_SESSION_ID}")
    );
    assert_eq!(
        alice.line().await.unwrap(),
        format!("* {PLAYER_SESSION_ID} joined")
    );
    assert_eq!(
        alice.line().await.unwrap(),
        format!("* {FRIEND_SESSION_ID} joined")
    );
    alice.say("hello bob").await;
    // Bob may see his own join first.
    loop {
        let line = bob.line().await.unwrap();
        if line.starts_with(PLAYER_SESSION_ID) {
            assert_eq!(line, format!("{PLAYER_SESSION_ID}: hello bob"));
            break;
        }
    }

    // Leaving removes the player session; the last one out ends the game session.
    drop(bob);
    let (_, frame) = node.expect_frame("RemovePlayerSession").await;
    assert_eq!(frame["PlayerSessionId"], FRIEND_SESSION_ID);
    drop(alice);
    let (_, frame) = node.expect_frame("RemovePlayerSession").await;
    assert_matches_fixture(&frame, "sdk_to_service/remove_player_session.json");
    let (_, frame) = node.expect_frame("TerminateServerProcess").await;
    assert_matches_fixture(&frame, "sdk_to_service/terminate_server_process.json");
    assert_eq!(exit_code(&mut child).await, Some(0));
}

#[tokio::test]
async fn chat_ends_on_terminate_process() {
    let mut node = MockNode::start().await;
    let (mut child, conn, port) = chat_with_session(&mut node, "proc-chat-2").await;
    let mut alice = Player::connect(port, PLAYER_SESSION_ID).await;
    assert!(alice.line().await.unwrap().starts_with("WELCOME"));
    node.send(conn, fixture_text("service_to_sdk/terminate_process.json"));
    node.expect_frame("TerminateServerProcess").await;
    let mut rest = String::new();
    let _ = tokio::time::timeout(WAIT, alice.lines.get_mut().read_to_string(&mut rest)).await;
    assert!(
        rest.contains("* game over: the service terminated"),
        "{rest}"
    );
    assert_eq!(exit_code(&mut child).await, Some(0));
}

#[tokio::test]
async fn chat_player_can_finish_the_game() {
    let mut node = MockNode::start().await;
    let (mut child, _conn, port) = chat_with_session(&mut node, "proc-chat-3").await;
    let mut alice = Player::connect(port, PLAYER_SESSION_ID).await;
    assert!(alice.line().await.unwrap().starts_with("WELCOME"));
    alice.say("/end").await;
    node.expect_frame("TerminateServerProcess").await;
    assert_eq!(exit_code(&mut child).await, Some(0));
}

#[tokio::test]
async fn minimal_example_runs_the_lifecycle_and_exits_on_terminate() {
    let mut node = MockNode::start().await;
    let mut child = launch("minimal", &node, "proc-minimal-1", &["--port", "7777"]);
    let (conn, _) = node.expect_connect().await;
    let (_, ready) = node.expect_frame("ActivateServerProcess").await;
    assert_eq!(ready["Port"], 7777);
    node.expect_frame("HeartbeatServerProcess").await;
    node.send(
        conn,
        fixture_text("service_to_sdk/create_game_session.json"),
    );
    node.expect_frame("ActivateGameSession").await;
    node.expect_frame("HeartbeatServerProcess").await;
    // No on_process_terminate: the SDK ends the process itself (official default).
    node.send(conn, fixture_text("service_to_sdk/terminate_process.json"));
    node.expect_frame("TerminateServerProcess").await;
    assert_eq!(node.expect_disconnect(conn).await, Some(1001));
    assert_eq!(exit_code(&mut child).await, Some(0));
}

#[tokio::test]
async fn minimal_example_can_end_its_session_itself() {
    let mut node = MockNode::start().await;
    let mut child = launch(
        "minimal",
        &node,
        "proc-minimal-2",
        &["--port=7777", "--session-seconds", "0.2"],
    );
    let (conn, _) = node.expect_connect().await;
    node.expect_frame("ActivateServerProcess").await;
    node.send(
        conn,
        fixture_text("service_to_sdk/create_game_session.json"),
    );
    node.expect_frame("ActivateGameSession").await;
    node.expect_frame("TerminateServerProcess").await;
    assert_eq!(exit_code(&mut child).await, Some(0));
}

#[tokio::test]
async fn examples_refuse_an_unsubstituted_port_placeholder() {
    let node = MockNode::start().await;
    let mut child = launch("chat", &node, "proc-bad", &["--port", "{port}"]);
    assert_eq!(exit_code(&mut child).await, Some(1));
}
