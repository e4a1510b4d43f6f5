//! The SDK against a mock node over a real WebSocket: connect parameters, the exact frames of
//! every call (against tests/fixtures), replies, pushes, errors, heartbeats, reconnects and
//! RefreshConnection.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use gamefleet_sdk::protocol::{AttributeValue, ConnectQuery};
use gamefleet_sdk::*;
use serde_json::Value;
use tokio::sync::mpsc;

const PROCESS_ID: &str = "proc-6f1d2c3b";
const TOKEN: &str = "token-1";

fn params(node: &MockNode) -> ServerParameters {
    ServerParameters {
        web_socket_url: node.url(),
        process_id: PROCESS_ID.into(),
        host_id: HOST_ID.into(),
        fleet_id: FLEET_ID.into(),
        auth_token: TOKEN.into(),
    }
}

/// Fast timers; heartbeats only when a test shortens the interval.
fn config() -> SdkConfig {
    SdkConfig {
        health_check_interval: Duration::from_secs(3600),
        health_check_max_jitter: Duration::ZERO,
        service_call_timeout: Duration::from_secs(3),
        activate_server_process_timeout: Duration::from_secs(3),
        connect_timeout: Duration::from_secs(3),
        connect_retries: 0,
        reconnect_initial_backoff: Duration::from_millis(50),
        reconnect_max_backoff: Duration::from_millis(200),
        refresh_drain_timeout: Duration::from_millis(200),
        exit_on_terminate: false,
        ..SdkConfig::default()
    }
}

async fn connect(node: &mut MockNode, config: SdkConfig) -> (GameLiftServerSdk, u64) {
    let sdk = GameLiftServerSdk::init_sdk_with(params(node), config)
        .await
        .expect("init_sdk");
    let (conn, _) = node.expect_connect().await;
    (sdk, conn)
}

/// Process ready, with `on_start_game_session` reporting sessions on the channel and
/// activating them.
async fn ready_with_sessions(
    sdk: &GameLiftServerSdk,
    node: &mut MockNode,
) -> mpsc::UnboundedReceiver<GameSession> {
    let (tx, rx) = mpsc::unbounded_channel();
    let on_start = sdk.clone();
    let params = ProcessParameters::new(7777)
        .log_paths(["/local/game/logs/server.log"])
        .on_start_game_session(move |session| {
            let sdk = on_start.clone();
            let tx = tx.clone();
            async move {
                let _ = tx.send(session);
                sdk.activate_game_session().await.expect("activate");
            }
        })
        .on_process_terminate(|| async {});
    sdk.process_ready(params).await.expect("process_ready");
    node.expect_frame("ActivateServerProcess").await;
    rx
}

async fn start_session(
    sdk: &GameLiftServerSdk,
    node: &mut MockNode,
    conn: u64,
) -> (mpsc::UnboundedReceiver<GameSession>, GameSession, Value) {
    let mut sessions = ready_with_sessions(sdk, node).await;
    node.send(
        conn,
        fixture_text("service_to_sdk/create_game_session.json"),
    );
    let session = tokio::time::timeout(WAIT, sessions.recv())
        .await
        .unwrap()
        .unwrap();
    let (_, activate) = node.expect_frame("ActivateGameSession").await;
    (sessions, session, activate)
}

#[tokio::test]
async fn connect_query_has_the_official_parameters() {
    let mut node = MockNode::start().await;
    let sdk = GameLiftServerSdk::init_sdk_with(params(&node), config())
        .await
        .unwrap();
    let (query, user_agent) = node
        .wait_for(|e| match e {
            Event::Connected {
                query, user_agent, ..
            } => Some((query.clone(), user_agent.clone())),
            _ => None,
        })
        .await;
    // Independent check of the raw keys (GO common/consts.go; CPP
    // GameLiftWebSocketClientManager.h).
    let pairs = raw_query_pairs(&query);
    let mut keys: Vec<&str> = pairs.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "Authorization",
            "ComputeId",
            "FleetId",
            "IdempotencyToken",
            "pID",
            "sdkLanguage",
            "sdkVersion"
        ]
    );
    assert_eq!(pairs["pID"], PROCESS_ID);
    assert_eq!(pairs["ComputeId"], HOST_ID);
    assert_eq!(pairs["FleetId"], FLEET_ID);
    assert_eq!(pairs["Authorization"], TOKEN);
    assert_eq!(pairs["sdkVersion"], "5.6.0");
    assert_eq!(pairs["sdkLanguage"], "Rust");
    assert!(!pairs["IdempotencyToken"].is_empty());
    // Keys sorted as GO's url.Values.Encode writes them.
    assert!(query.starts_with("Authorization="), "{query}");
    // The node-side parser agrees.
    let parsed = ConnectQuery::parse(&query).unwrap();
    assert_eq!(parsed.process_id, PROCESS_ID);
    assert_eq!(parsed.authorization.as_deref(), Some(TOKEN));
    assert!(user_agent.unwrap().starts_with("gamefleet-sdk-rust/"));
    assert_eq!(GameLiftServerSdk::get_sdk_version(), "5.6.0");
    sdk.destroy().await.unwrap();
}

#[tokio::test]
async fn process_ready_sends_activate_server_process_and_heartbeats() {
    let mut node = MockNode::start().await;
    let (sdk, _) = connect(
        &mut node,
        SdkConfig {
            health_check_interval: Duration::from_millis(100),
            ..config()
        },
    )
    .await;
    let healthy = Arc::new(AtomicBool::new(true));
    let verdict = healthy.clone();
    sdk.process_ready(
        ProcessParameters::new(7777)
            .log_paths(["/local/game/logs/server.log"])
            .on_health_check(move || {
                let verdict = verdict.clone();
                async move { verdict.load(Ordering::SeqCst) }
            }),
    )
    .await
    .unwrap();
    let (_, frame) = node.expect_frame("ActivateServerProcess").await;
    assert_matches_fixture(&frame, "sdk_to_service/activate_server_process.json");
    assert_eq!(frame["SdkLanguage"], "Rust");
    assert_eq!(frame["SdkVersion"], "5.6.0");

    // The first heartbeat goes out at once, then one per (shortened) interval.
    let started = tokio::time::Instant::now();
    let mut ids = Vec::new();
    for _ in 0..4 {
        let (_, beat) = node.expect_frame("HeartbeatServerProcess").await;
        assert_matches_fixture(&beat, "sdk_to_service/heartbeat_server_process.json");
        ids.push(beat["RequestId"].as_str().unwrap().to_string());
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    ids.dedup();
    assert_eq!(ids.len(), 4, "every request has a fresh RequestId");

    healthy.store(false, Ordering::SeqCst);
    let (_, beat) = node
        .wait_for(|e| match e {
            Event::Frame { conn, text } => {
                let v: Value = serde_json::from_str(text).ok()?;
                (v["Action"] == "HeartbeatServerProcess" && v["HealthStatus"] == false)
                    .then_some((*conn, v))
            }
            _ => None,
        })
        .await;
    assert_matches_fixture(
        &beat,
        "sdk_to_service/variants/heartbeat_server_process_unhealthy.json",
    );
    sdk.destroy().await.unwrap();
}

#[tokio::test]
async fn slow_health_check_reports_unhealthy() {
    let mut node = MockNode::start().await;
    let (sdk, _) = connect(
        &mut node,
        SdkConfig {
            health_check_timeout: Duration::from_millis(50),
            ..config()
        },
    )
    .await;
    sdk.process_ready(ProcessParameters::new(7777).on_health_check(|| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        true
    }))
    .await
    .unwrap();
    let (_, beat) = node.expect_frame("HeartbeatServerProcess").await;
    assert_eq!(beat["HealthStatus"], false);
    sdk.destroy().await.unwrap();
}

#[tokio::test]
async fn game_session_calls_send_the_official_frames() {
    let mut node = MockNode::start().await;
    let (sdk, conn) = connect(&mut node, config()).await;
    let (_sessions, session, activate) = start_session(&sdk, &mut node, conn).await;

    // The callback's GameSession: the flat push, renamed, with the SDK's fleet id.
    assert_eq!(session.game_session_id, GAME_SESSION_ID);
    assert_eq!(session.name, "ctf-night");
    assert_eq!(session.fleet_id, FLEET_ID);
    assert_eq!(session.maximum_player_session_count, 4);
    assert_eq!(session.port, 7777);
    assert_eq!(session.ip_address, "10.0.0.5");
    assert_eq!(session.dns_name, "node-1.gamefleet.local");
    assert_eq!(session.game_session_data, r#"{"map":"dust"}"#);
    assert_eq!(session.game_properties["region"], "local");
    assert_eq!(sdk.get_game_session_id().unwrap(), GAME_SESSION_ID);
    assert_matches_fixture(&activate, "sdk_to_service/activate_game_session.json");

    sdk.accept_player_session(PLAYER_SESSION_ID).await.unwrap();
    let (_, frame) = node.expect_frame("AcceptPlayerSession").await;
    assert_matches_fixture(&frame, "sdk_to_service/accept_player_session.json");

    sdk.remove_player_session(PLAYER_SESSION_ID).await.unwrap();
    let (_, frame) = node.expect_frame("RemovePlayerSession").await;
    assert_matches_fixture(&frame, "sdk_to_service/remove_player_session.json");

    sdk.update_player_session_creation_policy(PlayerSessionCreationPolicy::DenyAll)
        .await
        .unwrap();
    let (_, frame) = node.expect_frame("UpdatePlayerSessionCreationPolicy").await;
    assert_matches_fixture(
        &frame,
        "sdk_to_service/update_player_session_creation_policy.json",
    );

    let result = sdk
        .describe_player_sessions(DescribePlayerSessionsRequest {
            player_session_status_filter: Some("ACTIVE".into()),
            limit: Some(10),
            ..DescribePlayerSessionsRequest::for_game_session(GAME_SESSION_ID)
        })
        .await
        .unwrap();
    let (_, frame) = node.expect_frame("DescribePlayerSessions").await;
    assert_matches_fixture(&frame, "sdk_to_service/describe_player_sessions.json");
    assert_eq!(result.next_token.as_deref(), Some("page-2"));
    assert_eq!(result.player_sessions.len(), 1);
    assert_eq!(
        result.player_sessions[0].player_session_id,
        PLAYER_SESSION_ID
    );
    assert_eq!(
        result.player_sessions[0].status,
        Some(PlayerSessionStatus::Active)
    );

    let certificate = sdk.get_compute_certificate().await.unwrap();
    let (_, frame) = node.expect_frame("GetComputeCertificate").await;
    assert_matches_fixture(&frame, "sdk_to_service/get_compute_certificate.json");
    assert_eq!(certificate.certificate_path, "/local/game/certs/cert.pem");
    assert_eq!(certificate.compute_name, HOST_ID);

    let role = GetFleetRoleCredentialsRequest {
        role_arn: "arn:aws:iam::123456789012:role/game-server".into(),
        ..Default::default()
    };
    let credentials = sdk.get_fleet_role_credentials(role.clone()).await.unwrap();
    let (_, frame) = node.expect_frame("GetFleetRoleCredentials").await;
    assert_matches_fixture(&frame, "sdk_to_service/get_fleet_role_credentials.json");
    assert_eq!(credentials.access_key_id, "ASIAEXAMPLEKEY");
    // Cached: the second call sends nothing (the next frame is the backfill below).
    assert_eq!(
        sdk.get_fleet_role_credentials(role).await.unwrap(),
        credentials
    );

    let ticket = sdk
        .start_match_backfill(StartMatchBackfillRequest {
            game_session_arn: GAME_SESSION_ID.into(),
            matchmaking_configuration_arn:
                "arn:aws:gamelift:us-west-2:123456789012:matchmakingconfiguration/ctf-4v4".into(),
            players: vec![Player {
                player_id: "player-1".into(),
                team: "red".into(),
                player_attributes: [
                    ("mode".to_string(), AttributeValue::String("ctf".into())),
                    ("skill".to_string(), AttributeValue::Double(23.0)),
                ]
                .into(),
                latency_in_ms: [("us-west-2".to_string(), 42)].into(),
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    let (_, frame) = node
        .wait_for(|e| match e {
            Event::Frame { conn, text } => {
                let v: Value = serde_json::from_str(text).ok()?;
                if v["Action"] == "GetFleetRoleCredentials" {
                    panic!("cached credentials were fetched again");
                }
                (v["Action"] == "StartMatchBackfill").then_some((*conn, v))
            }
            _ => None,
        })
        .await;
    assert_matches_fixture(&frame, "sdk_to_service/start_match_backfill.json");
    assert_eq!(ticket.ticket_id, "ticket-1");

    sdk.stop_match_backfill(StopMatchBackfillRequest {
        game_session_arn: GAME_SESSION_ID.into(),
        matchmaking_configuration_arn:
            "arn:aws:gamelift:us-west-2:123456789012:matchmakingconfiguration/ctf-4v4".into(),
        ticket_id: "ticket-1".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let (_, frame) = node.expect_frame("StopMatchBackfill").await;
    assert_matches_fixture(&frame, "sdk_to_service/stop_match_backfill.json");

    sdk.process_ending().await.unwrap();
    let (_, frame) = node.expect_frame("TerminateServerProcess").await;
    assert_matches_fixture(&frame, "sdk_to_service/terminate_server_process.json");
    assert!(matches!(
        sdk.activate_game_session().await,
        Err(SdkError::ProcessNotReady)
    ));
    sdk.destroy().await.unwrap();
}

#[tokio::test]
async fn service_errors_timeouts_and_bad_replies_are_errors() {
    let mut node = MockNode::start().await;
    let (sdk, conn) = connect(
        &mut node,
        SdkConfig {
            service_call_timeout: Duration::from_millis(300),
            timeouts_before_reconnect: 0,
            ..config()
        },
    )
    .await;
    let _session = start_session(&sdk, &mut node, conn).await;
    node.set_replier(|request| {
        let action = request["Action"].as_str().unwrap_or_default();
        let id = request["RequestId"].as_str().unwrap_or_default();
        match action {
            "AcceptPlayerSession" => {
                Reply::Text(reply_fixture("service_to_sdk/response_error.json", id))
            }
            "RemovePlayerSession" => Reply::Nothing,
            "GetComputeCertificate" => Reply::Text(error_reply(action, id, 503, "busy")),
            "DescribePlayerSessions" => Reply::Text(
                serde_json::json!({
                    "Action": action, "RequestId": id, "StatusCode": 200, "PlayerSessions": {},
                })
                .to_string(),
            ),
            "UpdatePlayerSessionCreationPolicy" => {
                Reply::Text(serde_json::json!({"Action": action, "RequestId": id}).to_string())
            }
            _ => default_reply(request),
        }
    });

    let err = sdk.accept_player_session("psess-bad").await.unwrap_err();
    match &err {
        SdkError::Service {
            status, message, ..
        } => {
            assert_eq!(*status, 400);
            assert!(message.contains("not RESERVED"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.service_kind(), Some(ServiceErrorKind::BadRequest));

    let err = sdk.get_compute_certificate().await.unwrap_err();
    assert_eq!(err.service_kind(), Some(ServiceErrorKind::InternalService));

    let started = tokio::time::Instant::now();
    let err = sdk.remove_player_session("psess-1").await.unwrap_err();
    assert!(matches!(err, SdkError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));

    let err = sdk
        .describe_player_sessions(DescribePlayerSessionsRequest::for_player("p1"))
        .await
        .unwrap_err();
    assert!(matches!(err, SdkError::Protocol(_)), "{err:?}");
    assert!(err.to_string().contains("DescribePlayerSessions"), "{err}");

    // A reply without StatusCode is a failure (as in the official SDKs), reported at once.
    let started = tokio::time::Instant::now();
    let err = sdk
        .update_player_session_creation_policy(PlayerSessionCreationPolicy::AcceptAll)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("StatusCode"), "{err}");
    assert!(started.elapsed() < Duration::from_millis(300));
    sdk.destroy().await.unwrap();
}

#[tokio::test]
async fn malformed_and_unknown_frames_do_not_break_the_sdk() {
    let mut node = MockNode::start().await;
    let (sdk, conn) = connect(&mut node, config()).await;
    let mut sessions = ready_with_sessions(&sdk, &mut node).await;
    for junk in [
        "not json",
        "",
        "[1,2,3]",
        "{}",
        r#"{"Action":"Bogus","RequestId":"x","StatusCode":200}"#,
        r#"{"Action":"CreateGameSession"}"#,
        r#"{"Action":"CreateGameSession","GameSessionId":5}"#,
        r#"{"Action":"TerminateProcess","TerminationTime":"soon"}"#,
        r#"{"Action":"RefreshConnection","AuthToken":"t"}"#,
        r#"{"Action":"HeartbeatServerProcess","RequestId":"nobody-waits","StatusCode":200}"#,
    ] {
        node.send(conn, junk);
    }
    node.send_binary(conn, vec![0, 1, 2]);
    // Still connected and working: a request round-trips and a valid push still lands.
    node.send(
        conn,
        fixture_text("service_to_sdk/create_game_session.json"),
    );
    let session = tokio::time::timeout(WAIT, sessions.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.game_session_id, GAME_SESSION_ID);
    sdk.accept_player_session(PLAYER_SESSION_ID).await.unwrap();
    assert!(matches!(
        sdk.get_termination_time(),
        Err(SdkError::TerminationTimeNotSet)
    ));
    let connects = node
        .history
        .iter()
        .filter(|e| matches!(e, Event::Connected { .. }))
        .count();
    assert_eq!(connects, 1, "junk frames did not cost the connection");
    sdk.destroy().await.unwrap();
}

#[tokio::test]
async fn calls_fail_clearly_before_ready_without_session_and_after_destroy() {
    let mut node = MockNode::start().await;
    let (sdk, conn) = connect(&mut node, config()).await;
    assert!(matches!(
        sdk.activate_game_session().await,
        Err(SdkError::ProcessNotReady)
    ));
    assert!(matches!(
        sdk.accept_player_session(PLAYER_SESSION_ID).await,
        Err(SdkError::ProcessNotReady)
    ));
    assert!(matches!(
        sdk.get_compute_certificate().await,
        Err(SdkError::ProcessNotReady)
    ));
    assert!(matches!(
        sdk.get_game_session_id(),
        Err(SdkError::NoGameSession)
    ));
    assert!(matches!(
        sdk.process_ready(ProcessParameters::new(0)).await,
        Err(SdkError::Validation(_))
    ));
    // A CreateGameSession before ProcessReady is ignored, as in the official SDKs.
    node.send(
        conn,
        fixture_text("service_to_sdk/create_game_session.json"),
    );
    let _ = ready_with_sessions(&sdk, &mut node).await;
    assert!(matches!(
        sdk.get_game_session_id(),
        Err(SdkError::NoGameSession)
    ));
    assert!(matches!(
        sdk.accept_player_session(PLAYER_SESSION_ID).await,
        Err(SdkError::NoGameSession)
    ));
    assert!(matches!(
        sdk.describe_player_sessions(DescribePlayerSessionsRequest {
            player_id: Some("p".into()),
            ..DescribePlayerSessionsRequest::for_game_session("g")
        })
        .await,
        Err(SdkError::Validation(m)) if m.contains("exactly one")
    ));
    assert!(matches!(
        sdk.describe_player_sessions(DescribePlayerSessionsRequest {
            player_session_status_filter: Some("GONE".into()),
            ..DescribePlayerSessionsRequest::for_player("p")
        })
        .await,
        Err(SdkError::Validation(_))
    ));
    node.send(
        conn,
        fixture_text("service_to_sdk/create_game_session.json"),
    );
    node.expect_frame("ActivateGameSession").await;
    assert!(matches!(
        sdk.accept_player_session("bad id!").await,
        Err(SdkError::Validation(m)) if m.contains("PlayerSessionID")
    ));

    sdk.destroy().await.unwrap();
    assert_eq!(node.expect_disconnect(conn).await, Some(1001));
    assert!(matches!(
        sdk.accept_player_session(PLAYER_SESSION_ID).await,
        Err(SdkError::NotInitialized)
    ));
    assert!(matches!(
        sdk.process_ending().await,
        Err(SdkError::NotInitialized)
    ));
    assert!(matches!(
        sdk.get_game_session_id(),
        Err(SdkError::NotInitialized)
    ));
    sdk.destroy().await.unwrap();
}

#[tokio::test]
async fn terminate_and_update_pushes_run_the_callbacks() {
    let mut node = MockNode::start().await;
    let (sdk, conn) = connect(&mut node, config()).await;
    let (terminated_tx, mut terminated) = mpsc::unbounded_channel();
    let (updated_tx, mut updated) = mpsc::unbounded_channel();
    let on_terminate = sdk.clone();
    sdk.process_ready(
        ProcessParameters::new(7777)
            .on_process_terminate(move || {
                let sdk = on_terminate.clone();
                let tx = terminated_tx.clone();
                async move {
                    let _ = tx.send(sdk.get_termination_time());
                    sdk.process_ending().await.unwrap();
                }
            })
            .on_update_game_session(move |update| {
                let _ = updated_tx.send(update);
                async {}
            }),
    )
    .await
    .unwrap();
    node.send(
        conn,
        fixture_text("service_to_sdk/update_game_session.json"),
    );
    let update = tokio::time::timeout(WAIT, updated.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        update.update_reason,
        Some(protocol::UpdateReason::MatchmakingDataUpdated)
    );
    assert_eq!(update.backfill_ticket_id, "ticket-1");
    assert_eq!(update.game_session.matchmaker_data, r#"{"matchId":"m-1"}"#);

    node.send(conn, fixture_text("service_to_sdk/terminate_process.json"));
    let seen = tokio::time::timeout(WAIT, terminated.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.unwrap(), 1_767_225_600, "epoch seconds");
    node.expect_frame("TerminateServerProcess").await;
    sdk.destroy().await.unwrap();
}

#[tokio::test]
async fn terminate_without_a_callback_ends_the_process_itself() {
    let mut node = MockNode::start().await;
    let (sdk, conn) = connect(&mut node, config()).await;
    sdk.process_ready(ProcessParameters::new(7777))
        .await
        .unwrap();
    node.send(conn, fixture_text("service_to_sdk/terminate_process.json"));
    node.expect_frame("TerminateServerProcess").await;
    // Then Destroy: the socket closes with 1001 (exit is disabled in this test's config).
    assert_eq!(node.expect_disconnect(conn).await, Some(1001));
    assert!(matches!(
        sdk.get_termination_time(),
        Err(SdkError::NotInitialized)
    ));
}

#[tokio::test]
async fn reconnects_after_the_node_drops_the_connection() {
    let mut node = MockNode::start().await;
    let (sdk, first) = connect(
        &mut node,
        SdkConfig {
            health_check_interval: Duration::from_millis(100),
            ..config()
        },
    )
    .await;
    let (_sessions, _, _) = start_session(&sdk, &mut node, first).await;
    let first_query = node
        .history
        .iter()
        .find_map(|e| match e {
            Event::Connected { query, .. } => Some(query.clone()),
            _ => None,
        })
        .unwrap();

    node.drop_conn(first);
    node.expect_disconnect(first).await;
    let (second, query) = node.expect_connect().await;
    assert_ne!(first, second);
    let (a, b) = (raw_query_pairs(&first_query), raw_query_pairs(&query));
    assert_eq!(a["pID"], b["pID"], "same process id after a reconnect");
    assert_ne!(
        a["IdempotencyToken"], b["IdempotencyToken"],
        "fresh idempotency token per connect"
    );
    // Heartbeats and requests continue on the new socket; the session is still known.
    let (conn, _) = node.expect_frame("HeartbeatServerProcess").await;
    assert_eq!(conn, second);
    sdk.accept_player_session(PLAYER_SESSION_ID).await.unwrap();
    let (conn, _) = node.expect_frame("AcceptPlayerSession").await;
    assert_eq!(conn, second);
    sdk.destroy().await.unwrap();
}

#[tokio::test]
async fn requests_wait_for_the_reconnect_and_in_flight_ones_fail() {
    let mut node = MockNode::start().await;
    let (sdk, first) = connect(&mut node, config()).await;
    let _session = start_session(&sdk, &mut node, first).await;
    // No reply to this one: drop the socket while it is in flight.
    node.set_replier(|request| {
        if request["Action"] == "RemovePlayerSession" {
            Reply::Nothing
        } else {
            default_reply(request)
        }
    });
    let in_flight = {
        let sdk = sdk.clone();
        tokio::spawn(async move { sdk.remove_player_session(PLAYER_SESSION_ID).await })
    };
    node.expect_frame("RemovePlayerSession").await;
    let started = tokio::time::Instant::now();
    node.drop_conn(first);
    let err = in_flight.await.unwrap().unwrap_err();
    assert!(matches!(err, SdkError::Network(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2), "failed fast");
    // A request made around the loss still completes once reconnected.
    sdk.accept_player_session(PLAYER_SESSION_ID).await.unwrap();
    let (second, _) = node.expect_frame("AcceptPlayerSession").await;
    assert_ne!(second, first);
    sdk.destroy().await.unwrap();
}

#[tokio::test]
async fn normal_close_by_the_node_is_not_retried() {
    let mut node = MockNode::start().await;
    let (sdk, conn) = connect(&mut node, config()).await;
    let _session = start_session(&sdk, &mut node, conn).await;
    node.close_conn(conn, 1000);
    node.expect_disconnect(conn).await;
    assert!(
        node.try_next_event(Duration::from_millis(500))
            .await
            .is_none_or(|e| !matches!(e, Event::Connected { .. })),
        "no reconnect after a normal closure (official SDK behaviour)"
    );
    let err = sdk
        .accept_player_session(PLAYER_SESSION_ID)
        .await
        .unwrap_err();
    assert!(matches!(err, SdkError::Network(_)), "{err:?}");
    sdk.destroy().await.unwrap();
}

#[tokio::test]
async fn consecutive_timeouts_reopen_a_half_open_socket() {
    let mut node = MockNode::start().await;
    let (sdk, first) = connect(
        &mut node,
        SdkConfig {
            service_call_timeout: Duration::from_millis(200),
            ..config()
        },
    )
    .await;
    let _session = start_session(&sdk, &mut node, first).await;
    node.set_replier(|_| Reply::Nothing);
    for _ in 0..2 {
        assert!(matches!(
            sdk.accept_player_session(PLAYER_SESSION_ID).await,
            Err(SdkError::Timeout { .. })
        ));
    }
    let (second, _) = node.expect_connect().await;
    assert_ne!(first, second);
    sdk.destroy().await.unwrap();
}

#[tokio::test]
async fn refresh_connection_moves_to_the_new_endpoint() {
    let mut node = MockNode::start().await;
    let mut other = MockNode::start().await;
    let (sdk, first) = connect(
        &mut node,
        SdkConfig {
            health_check_interval: Duration::from_millis(100),
            ..config()
        },
    )
    .await;
    let _session = start_session(&sdk, &mut node, first).await;
    let mut refresh = fixture("service_to_sdk/refresh_connection.json");
    refresh["RefreshConnectionEndpoint"] = Value::String(other.url());
    node.send(first, refresh.to_string());

    let (moved, query) = other.expect_connect().await;
    let pairs = raw_query_pairs(&query);
    assert_eq!(pairs["Authorization"], "token-refreshed-2");
    assert_eq!(pairs["pID"], PROCESS_ID);
    assert_eq!(pairs["FleetId"], FLEET_ID);
    // The old socket is closed with 1001 after the drain period.
    assert_eq!(node.expect_disconnect(first).await, Some(1001));
    // Traffic continues on the new endpoint.
    let (conn, _) = other.expect_frame("HeartbeatServerProcess").await;
    assert_eq!(conn, moved);
    sdk.accept_player_session(PLAYER_SESSION_ID).await.unwrap();
    other.expect_frame("AcceptPlayerSession").await;
    sdk.destroy().await.unwrap();
}

#[tokio::test]
async fn process_ready_times_out_without_a_reply() {
    let mut node = MockNode::start().await;
    node.set_replier(|_| Reply::Nothing);
    let (sdk, _) = connect(
        &mut node,
        SdkConfig {
            activate_server_process_timeout: Duration::from_millis(200),
            ..config()
        },
    )
    .await;
    let err = sdk
        .process_ready(ProcessParameters::new(7777))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SdkError::Timeout { action, .. } if action == protocol::Action::ActivateServerProcess),
        "{err:?}"
    );
    assert!(matches!(
        sdk.activate_game_session().await,
        Err(SdkError::ProcessNotReady)
    ));
    sdk.destroy().await.unwrap();
}

#[tokio::test]
async fn init_fails_cleanly() {
    // Nothing listens on the port: a network error after the retries.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = GameLiftServerSdk::init_sdk_with(
        ServerParameters {
            web_socket_url: format!("ws://127.0.0.1:{port}"),
            process_id: PROCESS_ID.into(),
            host_id: HOST_ID.into(),
            fleet_id: FLEET_ID.into(),
            auth_token: TOKEN.into(),
        },
        SdkConfig {
            connect_retries: 2,
            reconnect_initial_backoff: Duration::from_millis(10),
            ..config()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SdkError::Network(_)), "{err:?}");

    let node = MockNode::start().await;
    let err = GameLiftServerSdk::init_sdk_with(
        ServerParameters {
            fleet_id: "not a fleet id".into(),
            ..params(&node)
        },
        config(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SdkError::Validation(m) if m.contains("FleetID")));
}
