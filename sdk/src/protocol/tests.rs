//! Unit tests of the protocol module: round trips, the routing rule and error reporting.
//! Frame-by-frame conformance against the official SDKs' shapes lives in
//! `tests/protocol_fixtures.rs`.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;

fn check_err(text: &str, expect: &str) {
    let to_sdk = ToSdk::parse(text).unwrap_err().to_string();
    assert!(
        to_sdk.contains(expect),
        "ToSdk: `{to_sdk}` lacks `{expect}`"
    );
}

#[test]
fn every_request_round_trips() {
    let requests = vec![
        ToService::ActivateServerProcess(ActivateServerProcessRequest {
            request_id: "r1".into(),
            sdk_version: SDK_VERSION.into(),
            sdk_language: SDK_LANGUAGE.into(),
            sdk_tool_name: Some("tool".into()),
            sdk_tool_version: None,
            port: 7777,
            log_paths: vec!["/tmp/a.log".into()],
        }),
        ToService::HeartbeatServerProcess(HeartbeatServerProcessRequest {
            request_id: "r2".into(),
            health_status: false,
        }),
        ToService::ActivateGameSession(ActivateGameSessionRequest {
            request_id: "r3".into(),
            game_session_id: "gs".into(),
        }),
        ToService::TerminateServerProcess(TerminateServerProcessRequest {
            request_id: "r4".into(),
        }),
        ToService::UpdatePlayerSessionCreationPolicy(UpdatePlayerSessionCreationPolicyRequest {
            request_id: "r5".into(),
            game_session_id: "gs".into(),
            player_session_policy: PlayerSessionCreationPolicy::DenyAll,
        }),
        ToService::AcceptPlayerSession(AcceptPlayerSessionRequest {
            request_id: "r6".into(),
            game_session_id: "gs".into(),
            player_session_id: "psess-1".into(),
        }),
        ToService::RemovePlayerSession(RemovePlayerSessionRequest {
            request_id: "r7".into(),
            game_session_id: "gs".into(),
            player_session_id: "psess-1".into(),
        }),
        ToService::DescribePlayerSessions(DescribePlayerSessionsRequest {
            request_id: "r8".into(),
            limit: Some(5),
            ..DescribePlayerSessionsRequest::for_player("p1")
        }),
        ToService::StartMatchBackfill(StartMatchBackfillRequest {
            request_id: "r9".into(),
            game_session_arn: "arn".into(),
            matchmaking_configuration_arn: "arn2".into(),
            ticket_id: String::new(),
            players: vec![Player {
                player_id: "p1".into(),
                team: "red".into(),
                player_attributes: BTreeMap::from([
                    ("skill".into(), AttributeValue::Double(10.5)),
                    ("mode".into(), AttributeValue::String("ctf".into())),
                    (
                        "maps".into(),
                        AttributeValue::StringList(vec!["a".into(), "b".into()]),
                    ),
                    (
                        "ranks".into(),
                        AttributeValue::StringDoubleMap(BTreeMap::from([("x".into(), 1.0)])),
                    ),
                    ("none".into(), AttributeValue::None),
                ]),
                latency_in_ms: BTreeMap::from([("us-west-2".into(), 20)]),
            }],
        }),
        ToService::StopMatchBackfill(StopMatchBackfillRequest {
            request_id: "r10".into(),
            game_session_arn: "arn".into(),
            matchmaking_configuration_arn: "arn2".into(),
            ticket_id: "t".into(),
        }),
        ToService::GetComputeCertificate(GetComputeCertificateRequest {
            request_id: "r11".into(),
        }),
        ToService::GetFleetRoleCredentials(GetFleetRoleCredentialsRequest {
            request_id: "r12".into(),
            role_arn: "arn:aws:iam::1:role/x".into(),
            role_session_name: "s".into(),
        }),
    ];
    assert_eq!(requests.len(), 12, "one of each request action");
    for request in requests {
        let text = request.to_json();
        assert!(
            text.starts_with(&format!(
                "{{\"Action\":\"{}\",\"RequestId\":",
                request.action()
            )),
            "{text}"
        );
        let parsed = ToService::parse(&text).unwrap();
        assert_eq!(parsed, request);
        // The node's reply parses back on the SDK side.
        let reply = ToSdk::Response(request.ok_response()).to_json();
        match ToSdk::parse(&reply).unwrap() {
            ToSdk::Response(r) => {
                assert_eq!(r.action, request.action());
                assert_eq!(r.request_id, request.request_id());
                assert!(r.is_success());
            }
            other => panic!("not a response: {other:?}"),
        }
    }
}

#[test]
fn every_push_round_trips() {
    let pushes = vec![
        ToSdk::CreateGameSession(CreateGameSessionMessage {
            game_session_id: "gs".into(),
            maximum_player_session_count: 4,
            port: 7777,
            game_properties: BTreeMap::from([("mode".into(), "ctf".into())]),
            ..Default::default()
        }),
        ToSdk::UpdateGameSession(UpdateGameSessionMessage {
            game_session: GameSession {
                game_session_id: "gs".into(),
                status: Some(GameSessionStatus::Active),
                ..Default::default()
            },
            update_reason: Some(UpdateReason::BackfillFailed),
            backfill_ticket_id: "t".into(),
            request_id: None,
        }),
        ToSdk::TerminateProcess(TerminateProcessMessage {
            request_id: None,
            termination_time: 1_700_000_000_123,
        }),
        ToSdk::RefreshConnection(RefreshConnectionMessage {
            request_id: None,
            refresh_connection_endpoint: "ws://x".into(),
            auth_token: "t".into(),
        }),
    ];
    for push in pushes {
        let text = push.to_json();
        assert!(
            !text.contains("RequestId"),
            "pushes carry no RequestId: {text}"
        );
        assert!(text.starts_with(&format!("{{\"Action\":\"{}\"", push.action())));
        assert_eq!(ToSdk::parse(&text).unwrap(), push);
        // A push is not something a game server sends.
        assert!(matches!(
            ToService::parse(&text),
            Err(ProtocolError::UnexpectedAction {
                direction: Direction::ToService,
                ..
            })
        ));
    }
}

#[test]
fn responses_with_bodies_round_trip() {
    let bodies = vec![
        ResponseBody::DescribePlayerSessions(DescribePlayerSessionsResult {
            next_token: Some("n".into()),
            player_sessions: vec![PlayerSession {
                player_session_id: "psess-1".into(),
                status: Some(PlayerSessionStatus::Active),
                creation_time: 5,
                ..Default::default()
            }],
        }),
        ResponseBody::GetComputeCertificate(GetComputeCertificateResult {
            certificate_path: "/c".into(),
            compute_name: "n".into(),
        }),
        ResponseBody::GetFleetRoleCredentials(GetFleetRoleCredentialsResult {
            access_key_id: "AK".into(),
            expiration: 9,
            ..Default::default()
        }),
        ResponseBody::StartMatchBackfill(StartMatchBackfillResult {
            ticket_id: "t".into(),
        }),
    ];
    let actions = [
        Action::DescribePlayerSessions,
        Action::GetComputeCertificate,
        Action::GetFleetRoleCredentials,
        Action::StartMatchBackfill,
    ];
    for (action, body) in actions.into_iter().zip(bodies) {
        let response = Response::ok(action, "id").with_body(body);
        let text = ToSdk::Response(response.clone()).to_json();
        assert_eq!(ToSdk::parse(&text).unwrap(), ToSdk::Response(response));
    }
}

#[test]
fn error_reply_wins_over_push_action() {
    // Both official SDKs treat RequestId + StatusCode != 200 as an error reply, whatever the
    // action.
    let text =
        r#"{"Action":"CreateGameSession","RequestId":"r","StatusCode":404,"ErrorMessage":"gone"}"#;
    match ToSdk::parse(text).unwrap() {
        ToSdk::Response(r) => {
            assert_eq!(r.status_code, 404);
            assert_eq!(r.error_message.as_deref(), Some("gone"));
            assert!(!r.is_success());
        }
        other => panic!("{other:?}"),
    }
    // An error reply's body is not parsed (it usually has none).
    let text = r#"{"Action":"DescribePlayerSessions","RequestId":"r","StatusCode":400,"PlayerSessions":"junk"}"#;
    assert!(matches!(ToSdk::parse(text), Ok(ToSdk::Response(r)) if r.status_code == 400));
}

#[test]
fn push_with_request_id_and_status_200_is_still_a_push() {
    let text =
        r#"{"Action":"TerminateProcess","RequestId":"r","StatusCode":200,"TerminationTime":5}"#;
    assert!(matches!(
        ToSdk::parse(text),
        Ok(ToSdk::TerminateProcess(TerminateProcessMessage {
            termination_time: 5,
            ..
        }))
    ));
}

#[test]
fn malformed_frames_are_errors() {
    check_err("", "not valid JSON");
    check_err("{", "not valid JSON");
    check_err("[1,2]", "not a JSON object");
    check_err("\"x\"", "not a JSON object");
    check_err("{}", "missing field `Action`");
    check_err(r#"{"Action":5}"#, "missing field `Action`");
    check_err(r#"{"Action":"Bogus"}"#, "unknown action `Bogus`");
    check_err(r#"{"Action":"createGameSession"}"#, "unknown action");
    // Missing required fields name the field.
    check_err(r#"{"Action":"CreateGameSession"}"#, "GameSessionId");
    check_err(r#"{"Action":"TerminateProcess"}"#, "TerminationTime");
    check_err(
        r#"{"Action":"RefreshConnection","AuthToken":"t"}"#,
        "RefreshConnectionEndpoint",
    );
    check_err(r#"{"Action":"UpdateGameSession"}"#, "GameSession");
    // Wrong types.
    check_err(
        r#"{"Action":"CreateGameSession","GameSessionId":"g","Port":"7777"}"#,
        "invalid `CreateGameSession` frame",
    );
    check_err(
        r#"{"Action":"CreateGameSession","GameSessionId":"g","Port":70000}"#,
        "invalid `CreateGameSession` frame",
    );
    check_err(
        r#"{"Action":"TerminateProcess","TerminationTime":"soon"}"#,
        "TerminateProcess",
    );
    // A reply without a RequestId cannot be routed; one without StatusCode is a failure.
    check_err(
        r#"{"Action":"AcceptPlayerSession","StatusCode":200}"#,
        "missing field `RequestId`",
    );
    check_err(
        r#"{"Action":"AcceptPlayerSession","RequestId":"r"}"#,
        "missing field `StatusCode`",
    );
    check_err(
        r#"{"Action":"DescribePlayerSessions","RequestId":"r","StatusCode":200,"PlayerSessions":{}}"#,
        "invalid `DescribePlayerSessions` frame",
    );

    let to_service = |t: &str| ToService::parse(t).unwrap_err().to_string();
    assert!(to_service(r#"{"Action":"HeartbeatServerProcess"}"#).contains("RequestId"));
    assert!(
        to_service(r#"{"Action":"HeartbeatServerProcess","RequestId":"r"}"#)
            .contains("HealthStatus")
    );
    assert!(
        to_service(r#"{"Action":"AcceptPlayerSession","RequestId":"r","GameSessionId":"g"}"#)
            .contains("PlayerSessionId")
    );
    assert!(to_service(r#"{"Action":"Nope","RequestId":"r"}"#).contains("unknown action"));
}

#[test]
fn lenient_where_the_official_sdks_are() {
    // GO writes `null` for a nil LogPaths slice; CPP omits empty strings and zero numbers.
    let go = r#"{"Action":"ActivateServerProcess","RequestId":"r","SdkVersion":"5.6.0","SdkLanguage":"Go","Port":1,"LogPaths":null}"#;
    let cpp = r#"{"Action":"ActivateServerProcess","RequestId":"r","SdkVersion":"5.4.0","SdkLanguage":"Cpp"}"#;
    for text in [go, cpp] {
        match ToService::parse(text).unwrap() {
            ToService::ActivateServerProcess(m) => assert!(m.log_paths.is_empty()),
            other => panic!("{other:?}"),
        }
    }
    // Unknown enum strings degrade to NOT_SET / UNKNOWN like GO.
    let text = json!({
        "Action": "UpdateGameSession",
        "GameSession": {"GameSessionId": "g", "Status": "WEIRD", "GameProperties": null},
        "UpdateReason": "SOMETHING_NEW",
    })
    .to_string();
    match ToSdk::parse(&text).unwrap() {
        ToSdk::UpdateGameSession(m) => {
            assert_eq!(m.game_session.status, Some(GameSessionStatus::NotSet));
            assert_eq!(m.update_reason, Some(UpdateReason::Unknown));
            assert!(m.game_session.game_properties.is_empty());
        }
        other => panic!("{other:?}"),
    }
    // GO writes NextToken "" when there is none.
    let text = r#"{"Action":"DescribePlayerSessions","RequestId":"r","StatusCode":200,"NextToken":"","PlayerSessions":null}"#;
    assert!(matches!(
        ToSdk::parse(text),
        Ok(ToSdk::Response(Response {
            body: ResponseBody::DescribePlayerSessions(DescribePlayerSessionsResult {
                next_token: None,
                ..
            }),
            ..
        }))
    ));
}

#[test]
fn envelope_peek_is_lenient() {
    let e = Envelope::peek(r#"{"Action":"X","RequestId":"r","StatusCode":"200"}"#).unwrap();
    assert_eq!(e.action.as_deref(), Some("X"));
    assert_eq!(e.request_id.as_deref(), Some("r"));
    assert_eq!(e.status_code, None);
    assert!(Envelope::peek("nope").is_err());
}

#[test]
fn action_names_are_exact() {
    for action in Action::ALL {
        assert_eq!(Action::from_name(action.as_str()), Some(action));
        assert_eq!(
            serde_json::to_string(&action).unwrap(),
            format!("\"{}\"", action.as_str())
        );
    }
    assert_eq!(Action::ALL.iter().filter(|a| a.is_push()).count(), 4);
}
