//! Endpoint tests with raw WebSocket frames: connect refusals, error frames for bad input,
//! isolation between connections, and protocol conformance against the sdk crate's fixture
//! frames (`sdk/tests/fixtures`, field names exactly those of GAMELIFT.md §4).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use gamefleet_sdk::protocol::{ConnectQuery, ResponseBody, ToSdk, ToService};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

use super::*;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const FLEET: &str = "fleet-1a2b3c4d";
const COMPUTE: &str = "node-1";

struct Endpoint {
    addr: SocketAddr,
    registry: Arc<Registry>,
    stop: CancellationToken,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn endpoint() -> Endpoint {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let registry = Arc::new(Registry::default());
    let stop = CancellationToken::new();
    tokio::spawn(serve(listener, registry.clone(), stop.clone()));
    Endpoint {
        addr,
        registry,
        stop,
    }
}

/// Registers a process and answers its supervisor events like a healthy supervisor would;
/// the returned channel carries the names of the events seen.
fn register(ep: &Endpoint, id: &str, token: &str) -> mpsc::UnboundedReceiver<String> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    ep.registry.register(
        ProcessCredentials {
            process_id: id.into(),
            fleet_id: FLEET.into(),
            compute_id: COMPUTE.into(),
            auth_token: token.into(),
        },
        tx,
    );
    let (seen_tx, seen_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            let name = match ev {
                SdkEvent::Connected { sdk_language, .. } => format!("Connected:{sdk_language}"),
                SdkEvent::Disconnected => "Disconnected".into(),
                SdkEvent::Activate { port, reply, .. } => {
                    let _ = reply.send(Ok(()));
                    format!("Activate:{port}")
                }
                SdkEvent::Heartbeat { healthy } => format!("Heartbeat:{healthy}"),
                SdkEvent::Ending { reply } => {
                    let _ = reply.send(Ok(()));
                    "Ending".into()
                }
                // This supervisor hosts no game session (as `supervisor::sessions` answers
                // then): a player's sessions are an empty list, anything else is not found.
                SdkEvent::GameSession { request, reply } => {
                    let r = match &*request {
                        ToService::DescribePlayerSessions(m) if m.player_id.is_some() => request
                            .ok_response()
                            .with_body(ResponseBody::DescribePlayerSessions(Default::default())),
                        _ => request.error_response(
                            404,
                            "no such game session (the test supervisor hosts none)",
                        ),
                    };
                    let _ = reply.send(r);
                    format!("GameSession:{}", request.action())
                }
            };
            let _ = seen_tx.send(name);
        }
    });
    seen_rx
}

fn query(id: &str, token: Option<&str>) -> ConnectQuery {
    ConnectQuery {
        process_id: id.into(),
        sdk_version: "5.6.0".into(),
        sdk_language: "Go".into(),
        compute_id: COMPUTE.into(),
        fleet_id: FLEET.into(),
        idempotency_token: Some(uuid::Uuid::new_v4().to_string()),
        authorization: token.map(Into::into),
        extra: Default::default(),
    }
}

async fn connect_url(url: &str) -> Result<Ws, WsError> {
    tokio_tungstenite::connect_async(url)
        .await
        .map(|(ws, _)| ws)
}

async fn connect(ep: &Endpoint, q: &ConnectQuery) -> Result<Ws, WsError> {
    connect_url(&q.to_url(&format!("ws://{}/", ep.addr))).await
}

/// The HTTP status and JSON body of a refused handshake.
fn refusal(r: Result<Ws, WsError>) -> (u16, Value) {
    match r {
        Err(WsError::Http(resp)) => {
            let body = resp.body().clone().unwrap_or_default();
            (
                resp.status().as_u16(),
                serde_json::from_slice(&body).unwrap_or(Value::Null),
            )
        }
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("expected an HTTP refusal, got a connection"),
    }
}

async fn next_text(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("no frame within 5 s")
            .expect("socket closed")
            .expect("socket error");
        match msg {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            Message::Close(c) => panic!("closed: {c:?}"),
            _ => continue,
        }
    }
}

async fn call(ws: &mut Ws, frame: &str) -> Value {
    ws.send(Message::text(frame.to_string())).await.unwrap();
    next_text(ws).await
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sdk/tests/fixtures")
}

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(fixtures().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[tokio::test]
async fn connects_are_refused_without_the_right_credentials() {
    let ep = endpoint().await;
    let mut seen = register(&ep, "process-a", "token-a");
    let _b = register(&ep, "process-b", "token-b");

    let (status, body) = refusal(connect(&ep, &query("process-a", Some("token-b"))).await);
    assert_eq!(status, 403);
    assert_eq!(body["StatusCode"], 403);
    assert!(body["ErrorMessage"].as_str().unwrap().contains("process-a"));
    assert_eq!(
        refusal(connect(&ep, &query("process-x", Some("token-a"))).await).0,
        403
    );
    assert_eq!(
        refusal(connect(&ep, &query("process-a", None)).await).0,
        401
    );
    let other_fleet = ConnectQuery {
        fleet_id: "fleet-other".into(),
        ..query("process-a", Some("token-a"))
    };
    assert_eq!(refusal(connect(&ep, &other_fleet).await).0, 403);
    let (status, body) = refusal(
        connect_url(&format!(
            "ws://{}/?pID=process-a&Authorization=token-a",
            ep.addr
        ))
        .await,
    );
    assert_eq!(status, 400);
    assert!(
        body["ErrorMessage"]
            .as_str()
            .unwrap()
            .contains("sdkVersion")
    );
    // Garbage instead of a handshake does not hurt the endpoint.
    {
        use tokio::io::AsyncWriteExt as _;
        let mut raw = TcpStream::connect(ep.addr).await.unwrap();
        raw.write_all(b"\x00\x01garbage\r\n\r\n").await.unwrap();
    }

    let mut ws = connect(&ep, &query("process-a", Some("token-a")))
        .await
        .unwrap();
    let reply = call(
        &mut ws,
        r#"{"Action":"HeartbeatServerProcess","RequestId":"r-1","HealthStatus":true}"#,
    )
    .await;
    assert_eq!(reply["StatusCode"], 200);
    assert_eq!(seen.recv().await.unwrap(), "Connected:Go");
    assert_eq!(seen.recv().await.unwrap(), "Heartbeat:true");

    // Once the process is unregistered, its socket is closed and its token is worthless.
    ep.registry.unregister("process-a");
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "socket not closed after unregister");
    assert_eq!(
        refusal(connect(&ep, &query("process-a", Some("token-a"))).await).0,
        403
    );
}

#[tokio::test]
async fn bad_frames_get_error_frames_and_other_connections_keep_working() {
    let ep = endpoint().await;
    let _a = register(&ep, "process-a", "token-a");
    let _b = register(&ep, "process-b", "token-b");
    let mut a = connect(&ep, &query("process-a", Some("token-a")))
        .await
        .unwrap();
    let mut b = connect(&ep, &query("process-b", Some("token-b")))
        .await
        .unwrap();

    let r = call(&mut a, "{not json").await;
    assert_eq!(r["StatusCode"], 400);
    assert!(r.get("RequestId").is_none());

    let r = call(&mut a, r#"["an","array"]"#).await;
    assert_eq!(r["StatusCode"], 400);

    let r = call(&mut a, r#"{"Action":"FlyServerProcess","RequestId":"r-2"}"#).await;
    assert_eq!(
        (r["Action"].as_str(), r["RequestId"].as_str()),
        (Some("FlyServerProcess"), Some("r-2"))
    );
    assert_eq!(r["StatusCode"], 400);
    assert!(
        r["ErrorMessage"]
            .as_str()
            .unwrap()
            .contains("unknown action")
    );

    let r = call(
        &mut a,
        r#"{"Action":"HeartbeatServerProcess","RequestId":"r-3"}"#,
    )
    .await;
    assert_eq!(
        (r["RequestId"].as_str(), r["StatusCode"].as_i64()),
        (Some("r-3"), Some(400))
    );
    assert!(r["ErrorMessage"].as_str().unwrap().contains("HealthStatus"));

    let r = call(
        &mut a,
        r#"{"Action":"HeartbeatServerProcess","RequestId":"r-4","HealthStatus":"yes"}"#,
    )
    .await;
    assert_eq!(r["StatusCode"], 400);

    let r = call(&mut a, &fixture("service_to_sdk/terminate_process.json")).await;
    assert_eq!(
        r["StatusCode"], 400,
        "a push sent to the service is refused: {r}"
    );

    a.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    let r = next_text(&mut a).await;
    assert_eq!(r["StatusCode"], 400);

    // A process may act only on its own game sessions (it has none yet).
    let r = call(
        &mut a,
        &fixture("sdk_to_service/accept_player_session.json"),
    )
    .await;
    assert_eq!(r["StatusCode"], 404);
    assert_eq!(r["RequestId"], "6a1c5f43-9c4e-4f0e-8b4a-2f8d1e0c9a11");
    assert!(
        r["ErrorMessage"]
            .as_str()
            .unwrap()
            .contains("no such game session")
    );

    // Both sockets are still served.
    for ws in [&mut a, &mut b] {
        let r = call(
            ws,
            r#"{"Action":"HeartbeatServerProcess","RequestId":"ok","HealthStatus":true}"#,
        )
        .await;
        assert_eq!(
            (r["RequestId"].as_str(), r["StatusCode"].as_i64()),
            (Some("ok"), Some(200))
        );
    }
}

#[tokio::test]
async fn a_newer_connection_replaces_the_older_one() {
    let ep = endpoint().await;
    let mut seen = register(&ep, "process-a", "token-a");
    let mut first = connect(&ep, &query("process-a", Some("token-a")))
        .await
        .unwrap();
    let mut second = connect(&ep, &query("process-a", Some("token-a")))
        .await
        .unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(5), first.next())
        .await
        .unwrap();
    assert!(
        matches!(closed, Some(Ok(Message::Close(_))) | None),
        "{closed:?}"
    );
    let r = call(
        &mut second,
        &fixture("sdk_to_service/activate_server_process.json"),
    )
    .await;
    assert_eq!(r["StatusCode"], 200);
    let mut names = Vec::new();
    while let Ok(Some(n)) = tokio::time::timeout(Duration::from_millis(500), seen.recv()).await {
        names.push(n);
    }
    assert!(names.contains(&"Activate:7777".to_string()), "{names:?}");
    assert_eq!(
        names.iter().filter(|n| n.starts_with("Connected")).count(),
        2,
        "{names:?}"
    );
    // The replaced socket's task ended on its own.
    assert_eq!(
        names.iter().filter(|n| *n == "Disconnected").count(),
        1,
        "{names:?}"
    );
}

/// Every request fixture (and variant) an official SDK sends gets exactly one reply with its
/// `Action` and `RequestId`, the status this node gives it, and replies and pushes have exactly
/// the fixture's field names.
#[tokio::test]
async fn conformance_with_the_sdk_fixture_frames() {
    let ep = endpoint().await;
    let mut seen = register(&ep, "process-a", "token-a");
    let mut ws = connect(&ep, &query("process-a", Some("token-a")))
        .await
        .unwrap();
    let ok_keys = keys(&serde_json::from_str(&fixture("service_to_sdk/response_ok.json")).unwrap());
    let err_keys =
        keys(&serde_json::from_str(&fixture("service_to_sdk/response_error.json")).unwrap());

    let expected: &[(&str, i64)] = &[
        ("activate_server_process.json", 200),
        ("heartbeat_server_process.json", 200),
        ("get_compute_certificate.json", 404),
        ("get_fleet_role_credentials.json", 200),
        ("activate_game_session.json", 404),
        ("accept_player_session.json", 404),
        ("remove_player_session.json", 404),
        ("describe_player_sessions.json", 404),
        ("update_player_session_creation_policy.json", 404),
        ("start_match_backfill.json", 404),
        ("stop_match_backfill.json", 404),
        (
            "variants/activate_server_process_cpp_no_log_paths.json",
            200,
        ),
        (
            "variants/activate_server_process_go_nil_log_paths.json",
            200,
        ),
        ("variants/activate_server_process_with_tool.json", 200),
        (
            "variants/describe_player_sessions_by_player_session.json",
            404,
        ),
        (
            "variants/describe_player_sessions_by_player_with_token.json",
            200,
        ),
        ("variants/heartbeat_server_process_unhealthy.json", 200),
        (
            "variants/update_player_session_creation_policy_accept_all.json",
            404,
        ),
        ("terminate_server_process.json", 200),
    ];
    // Every fixture file is covered.
    let mut files: Vec<String> = Vec::new();
    for dir in ["sdk_to_service", "sdk_to_service/variants"] {
        for e in std::fs::read_dir(fixtures().join(dir)).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") {
                files.push(if dir.ends_with("variants") {
                    format!("variants/{name}")
                } else {
                    name
                });
            }
        }
    }
    files.sort();
    let mut listed: Vec<String> = expected.iter().map(|(f, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed, "a fixture is not covered");

    for (file, status) in expected {
        let text = fixture(&format!("sdk_to_service/{file}"));
        let request: Value = serde_json::from_str(&text).unwrap();
        let reply = call(&mut ws, &text).await;
        assert_eq!(reply["Action"], request["Action"], "{file}: {reply}");
        assert_eq!(reply["RequestId"], request["RequestId"], "{file}: {reply}");
        assert_eq!(
            reply["StatusCode"].as_i64(),
            Some(*status),
            "{file}: {reply}"
        );
        let action = request["Action"].as_str().unwrap();
        let shape = if *status != 200 {
            err_keys.clone()
        } else {
            match action {
                "GetFleetRoleCredentials" => keys(
                    &serde_json::from_str(&fixture(
                        "service_to_sdk/get_fleet_role_credentials_response.json",
                    ))
                    .unwrap(),
                ),
                "DescribePlayerSessions" => {
                    // NextToken is omitted when there is no next page.
                    let mut k = keys(
                        &serde_json::from_str(&fixture(
                            "service_to_sdk/describe_player_sessions_response.json",
                        ))
                        .unwrap(),
                    );
                    k.retain(|k| k != "NextToken");
                    k
                }
                _ => ok_keys.clone(),
            }
        };
        assert_eq!(keys(&reply), shape, "{file}: {reply}");
        // The reply parses the way both official SDKs route it.
        let parsed = ToSdk::parse(&reply.to_string()).unwrap();
        assert!(matches!(parsed, ToSdk::Response(r) if r.is_success() == (*status == 200)));
    }
    let creds = call(
        &mut ws,
        &fixture("sdk_to_service/get_fleet_role_credentials.json"),
    )
    .await;
    assert_eq!(
        creds["AccessKeyId"], "",
        "no managed fleet role: empty credentials"
    );

    // Pushes reach the game server with exactly the fixture's fields and no RequestId.
    for file in [
        "create_game_session.json",
        "update_game_session.json",
        "terminate_process.json",
        "refresh_connection.json",
    ] {
        let text = fixture(&format!("service_to_sdk/{file}"));
        let push = ToSdk::parse(&text).unwrap();
        ep.registry.push("process-a", &push).unwrap();
        let got = next_text(&mut ws).await;
        let want: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(got, want, "{file}");
        assert!(got.get("RequestId").is_none());
    }
    assert!(ep.registry.has_game_session("process-a"));
    let reply_frame = ToSdk::parse(&fixture("service_to_sdk/response_ok.json")).unwrap();
    assert!(matches!(
        ep.registry.push("process-a", &reply_frame),
        Err(PushError::NotAPush(_))
    ));

    let mut names = Vec::new();
    while let Ok(Some(n)) = tokio::time::timeout(Duration::from_millis(300), seen.recv()).await {
        names.push(n);
    }
    assert_eq!(names.first().map(String::as_str), Some("Connected:Go"));
    assert!(names.contains(&"Activate:7777".to_string()), "{names:?}");
    assert!(names.contains(&"Heartbeat:false".to_string()), "{names:?}");
    assert_eq!(
        names.last().map(String::as_str),
        Some("Ending"),
        "{names:?}"
    );
}
