//! The `protocol` module against the fixture frames (see tests/fixtures/README.md): every
//! fixture parses in its direction, the parsed values are the fixture's values, and serializing
//! gives back the fixture's exact keys. A renamed or dropped field fails here.

mod common;

use std::path::Path;

use common::{GAME_SESSION_ID, assert_matches_fixture, fixture, fixture_dir, fixture_text};
use gamefleet_sdk::protocol::*;
use serde_json::Value;

fn json_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.ends_with(".json").then_some(name)
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_request_fixture_parses_and_reserializes_identically() {
    let dir = fixture_dir().join("sdk_to_service");
    let names = json_files(&dir);
    assert_eq!(names.len(), 12, "one fixture per request action: {names:?}");
    let mut actions = Vec::new();
    for name in names {
        let path = format!("sdk_to_service/{name}");
        let frame =
            ToService::parse(&fixture_text(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        actions.push(frame.action());
        let reserialized: Value = serde_json::from_str(&frame.to_json()).unwrap();
        assert_matches_fixture(&reserialized, &path);
        // Exact, RequestId included.
        assert_eq!(reserialized["RequestId"], fixture(&path)["RequestId"]);
    }
    actions.sort();
    actions.dedup();
    assert_eq!(actions.len(), 12, "every request action is covered");
}

#[test]
fn every_request_variant_parses_and_round_trips() {
    let dir = fixture_dir().join("sdk_to_service/variants");
    let names = json_files(&dir);
    assert!(names.len() >= 7, "{names:?}");
    for name in names {
        let path = format!("sdk_to_service/variants/{name}");
        let frame =
            ToService::parse(&fixture_text(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(ToService::parse(&frame.to_json()).unwrap(), frame, "{path}");
    }
}

#[test]
fn request_fixture_values() {
    let parse = |name: &str| ToService::parse(&fixture_text(&format!("sdk_to_service/{name}")));
    match parse("activate_server_process.json").unwrap() {
        ToService::ActivateServerProcess(m) => {
            assert_eq!(m.port, 7777);
            assert_eq!(m.sdk_version, "5.6.0");
            assert_eq!(m.sdk_language, "Go");
            assert_eq!(m.log_paths, ["/local/game/logs/server.log"]);
            assert_eq!(m.sdk_tool_name, None);
        }
        other => panic!("{other:?}"),
    }
    match parse("variants/activate_server_process_cpp_no_log_paths.json").unwrap() {
        ToService::ActivateServerProcess(m) => {
            assert_eq!(m.sdk_language, "Cpp");
            assert!(m.log_paths.is_empty());
        }
        other => panic!("{other:?}"),
    }
    match parse("variants/activate_server_process_with_tool.json").unwrap() {
        ToService::ActivateServerProcess(m) => {
            assert_eq!(m.sdk_tool_name.as_deref(), Some("UnrealPlugin"));
            assert_eq!(m.sdk_tool_version.as_deref(), Some("3.0.0"));
            assert_eq!(m.log_paths.len(), 2);
        }
        other => panic!("{other:?}"),
    }
    match parse("accept_player_session.json").unwrap() {
        ToService::AcceptPlayerSession(m) => {
            assert_eq!(m.game_session_id, GAME_SESSION_ID);
            assert_eq!(m.player_session_id, "psess-9f8e7d6c");
        }
        other => panic!("{other:?}"),
    }
    match parse("update_player_session_creation_policy.json").unwrap() {
        ToService::UpdatePlayerSessionCreationPolicy(m) => {
            assert_eq!(
                m.player_session_policy,
                PlayerSessionCreationPolicy::DenyAll
            )
        }
        other => panic!("{other:?}"),
    }
    match parse("describe_player_sessions.json").unwrap() {
        ToService::DescribePlayerSessions(m) => {
            assert_eq!(m.game_session_id.as_deref(), Some(GAME_SESSION_ID));
            assert_eq!(m.player_session_status_filter.as_deref(), Some("ACTIVE"));
            assert_eq!(m.limit, Some(10));
            assert_eq!(m.player_id, None);
        }
        other => panic!("{other:?}"),
    }
    match parse("start_match_backfill.json").unwrap() {
        ToService::StartMatchBackfill(m) => {
            let player = &m.players[0];
            assert_eq!(player.team, "red");
            assert_eq!(
                player.player_attributes["skill"],
                AttributeValue::Double(23.0)
            );
            assert_eq!(
                player.player_attributes["mode"],
                AttributeValue::String("ctf".into())
            );
            assert_eq!(player.latency_in_ms["us-west-2"], 42);
        }
        other => panic!("{other:?}"),
    }
    match parse("variants/heartbeat_server_process_unhealthy.json").unwrap() {
        ToService::HeartbeatServerProcess(m) => assert!(!m.health_status),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_service_fixture_parses_and_reserializes_identically() {
    let dir = fixture_dir().join("service_to_sdk");
    let names = json_files(&dir);
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        let path = format!("service_to_sdk/{name}");
        let frame = ToSdk::parse(&fixture_text(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        let reserialized: Value = serde_json::from_str(&frame.to_json()).unwrap();
        assert_matches_fixture(&reserialized, &path);
        if let Some(id) = fixture(&path).get("RequestId") {
            assert_eq!(&reserialized["RequestId"], id);
        }
    }
}

#[test]
fn service_fixture_values() {
    let parse = |name: &str| ToSdk::parse(&fixture_text(&format!("service_to_sdk/{name}")));
    match parse("create_game_session.json").unwrap() {
        ToSdk::CreateGameSession(m) => {
            assert_eq!(m.request_id, None);
            assert_eq!(m.game_session_id, GAME_SESSION_ID);
            assert_eq!(m.game_session_name, "ctf-night");
            assert_eq!(m.maximum_player_session_count, 4);
            assert_eq!(m.port, 7777);
            assert_eq!(m.ip_address, "10.0.0.5");
            assert_eq!(m.dns_name, "node-1.gamefleet.local");
            assert_eq!(m.game_session_data, r#"{"map":"dust"}"#);
            assert_eq!(m.game_properties["mode"], "ctf");
        }
        other => panic!("{other:?}"),
    }
    match parse("update_game_session.json").unwrap() {
        ToSdk::UpdateGameSession(m) => {
            assert_eq!(m.update_reason, Some(UpdateReason::MatchmakingDataUpdated));
            assert_eq!(m.backfill_ticket_id, "ticket-1");
            assert_eq!(m.game_session.name, "ctf-night");
            assert_eq!(m.game_session.location, "custom-local");
            assert_eq!(m.game_session.status, Some(GameSessionStatus::Active));
        }
        other => panic!("{other:?}"),
    }
    match parse("terminate_process.json").unwrap() {
        ToSdk::TerminateProcess(m) => assert_eq!(m.termination_time, 1_767_225_600_000),
        other => panic!("{other:?}"),
    }
    match parse("refresh_connection.json").unwrap() {
        ToSdk::RefreshConnection(m) => assert_eq!(m.auth_token, "token-refreshed-2"),
        other => panic!("{other:?}"),
    }
    match parse("response_error.json").unwrap() {
        ToSdk::Response(r) => {
            assert_eq!(r.action, Action::AcceptPlayerSession);
            assert_eq!(r.status_code, 400);
            assert!(r.error_message.unwrap().contains("not RESERVED"));
        }
        other => panic!("{other:?}"),
    }
    match parse("describe_player_sessions_response.json").unwrap() {
        ToSdk::Response(Response {
            body: ResponseBody::DescribePlayerSessions(result),
            ..
        }) => {
            assert_eq!(result.next_token.as_deref(), Some("page-2"));
            let session = &result.player_sessions[0];
            assert_eq!(session.status, Some(PlayerSessionStatus::Active));
            assert_eq!(session.creation_time, 1_767_225_000_000);
            assert_eq!(session.player_data, r#"{"skin":"red"}"#);
        }
        other => panic!("{other:?}"),
    }
    match parse("get_fleet_role_credentials_response.json").unwrap() {
        ToSdk::Response(Response {
            body: ResponseBody::GetFleetRoleCredentials(result),
            ..
        }) => {
            assert_eq!(result.access_key_id, "ASIAEXAMPLEKEY");
            assert_eq!(result.expiration, 4_102_444_800_000);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn request_fixtures_are_not_service_frames_and_vice_versa() {
    // A push sent to the service, or a request sent to a game server, is refused by direction.
    let push = fixture_text("service_to_sdk/create_game_session.json");
    assert!(matches!(
        ToService::parse(&push),
        Err(ProtocolError::UnexpectedAction { .. })
    ));
    // A request frame has a RequestId but no StatusCode: as a reply it is malformed.
    let request = fixture_text("sdk_to_service/heartbeat_server_process.json");
    assert!(matches!(
        ToSdk::parse(&request),
        Err(ProtocolError::MissingField {
            field: "StatusCode",
            ..
        })
    ));
}
