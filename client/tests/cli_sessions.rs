//! The `gamefleet` CLI against a real one-node cluster hosting the `minimal` example game
//! server: `session create --wait`, `player reserve|list`, `session search|update|list|terminate`
//! and `alias create`, in JSON; and an error's one line and exit code.

use std::process::Output;
use std::time::Duration;

use gamefleet_chaos::ClusterBuilder;
use gamefleet_chaos::examples::sdk_example;
use gamefleet_client::{
    CreateFleetInput, FleetStatus, InstanceCounts, RuntimeConfiguration, ServerProcess,
};
use serde_json::Value;

/// Runs the CLI against `endpoint` with `args`; the output and its JSON (when it is JSON).
async fn cli(endpoint: &str, args: &[&str]) -> (Output, Value) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_gamefleet"))
        .arg("--endpoints")
        .arg(endpoint)
        .args(args)
        .output()
        .await
        .expect("the gamefleet CLI runs");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, json)
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_drives_sessions_players_and_aliases() {
    let cluster = match ClusterBuilder::new(1).start().await {
        Ok(c) => c,
        Err(e) => panic!("cluster did not start: {e:#}"),
    };
    let body = async {
        let client = cluster.client()?;
        let endpoint = cluster.endpoint(0);
        let minimal = sdk_example("minimal");
        let fleet = client
            .create_fleet(CreateFleetInput {
                name: "cli".into(),
                runtime_configuration: Some(RuntimeConfiguration {
                    server_processes: vec![ServerProcess {
                        launch_path: minimal.to_string_lossy().into_owned(),
                        parameters: Some("--port {port}".into()),
                        concurrent_executions: 2,
                    }],
                    max_concurrent_game_session_activations: None,
                    game_session_activation_timeout_seconds: None,
                }),
                instances: Some(InstanceCounts {
                    desired: 1,
                    minimum: 0,
                    maximum: 1,
                    active: 0,
                }),
                ..Default::default()
            })
            .await?;
        let fleet_id = fleet.fleet_id.clone();
        cluster
            .wait_until(Duration::from_secs(60), "fleet ACTIVE", [0], || async {
                let f = client.describe_fleet(&fleet_id).await?;
                if f.status == FleetStatus::Active {
                    Ok(Some(()))
                } else {
                    anyhow::bail!("{:?}", f.status)
                }
            })
            .await?;

        let (out, s) = cli(
            &endpoint,
            &[
                "--json",
                "session",
                "create",
                "--fleet",
                &fleet_id,
                "--max-players",
                "1",
                "--name",
                "duel",
                "--property",
                "mode=duel",
                "--wait",
            ],
        )
        .await;
        ok(&out);
        assert_eq!(s["Status"], "ACTIVE", "{s}");
        assert_eq!(s["Name"], "duel");
        let gs = s["GameSessionId"].as_str().unwrap_or_default().to_owned();
        assert!(gs.contains(&fleet_id), "{gs}");

        let (out, p) = cli(&endpoint, &["--json", "player", "reserve", &gs, "alice"]).await;
        ok(&out);
        assert_eq!(p["Status"], "RESERVED", "{p}");
        let (out, list) = cli(
            &endpoint,
            &["--json", "player", "list", "--game-session", &gs],
        )
        .await;
        ok(&out);
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");

        // Full: one line naming the kind, exit code 1, nothing reserved.
        let (out, _) = cli(&endpoint, &["player", "reserve", &gs, "bob"]).await;
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: GameSessionFull"), "{err}");

        let (out, found) = cli(
            &endpoint,
            &[
                "--json",
                "session",
                "search",
                "--fleet",
                &fleet_id,
                "--filter",
                "gameSessionProperties.mode = 'duel' AND playerSessionCount = 1",
                "--sort",
                "creationTimeMillis DESC",
            ],
        )
        .await;
        ok(&out);
        assert_eq!(
            found["GameSessions"][0]["GameSessionId"],
            gs.as_str(),
            "{found}"
        );
        let (out, none) = cli(
            &endpoint,
            &[
                "--json",
                "session",
                "search",
                "--fleet",
                &fleet_id,
                "--filter",
                "hasAvailablePlayerSessions = true",
            ],
        )
        .await;
        ok(&out);
        assert_eq!(
            none["GameSessions"].as_array().map(Vec::len),
            Some(0),
            "{none}"
        );
        let (out, _) = cli(
            &endpoint,
            &[
                "session",
                "search",
                "--fleet",
                &fleet_id,
                "--filter",
                "maximumSessions >",
            ],
        )
        .await;
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("filter_expression"));

        let (out, u) = cli(
            &endpoint,
            &[
                "--json",
                "session",
                "update",
                &gs,
                "--max-players",
                "4",
                "--policy",
                "deny-all",
            ],
        )
        .await;
        ok(&out);
        assert_eq!(u["MaximumPlayerSessionCount"], 4, "{u}");
        assert_eq!(u["PlayerSessionCreationPolicy"], "DENY_ALL", "{u}");
        let (out, _) = cli(&endpoint, &["player", "reserve", &gs, "carol"]).await;
        assert_eq!(out.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&out.stderr).contains("InvalidGameSessionStatus"));

        let (out, a) = cli(
            &endpoint,
            &["--json", "alias", "create", "live", "--fleet", &fleet_id],
        )
        .await;
        ok(&out);
        let alias = a["AliasId"].as_str().unwrap_or_default().to_owned();
        let (out, listed) = cli(&endpoint, &["--json", "session", "list", "--alias", &alias]).await;
        ok(&out);
        assert_eq!(listed[0]["GameSessionId"], gs.as_str(), "{listed}");

        let (out, t) = cli(
            &endpoint,
            &["--json", "session", "terminate", &gs, "--force"],
        )
        .await;
        ok(&out);
        assert_eq!(t["Status"], "TERMINATED", "{t}");
        assert_eq!(t["StatusReason"], "FORCE_TERMINATED", "{t}");
        anyhow::Ok(())
    };
    match tokio::time::timeout(Duration::from_secs(120), body).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("{e:#}"),
        Err(_) => panic!("the CLI test took longer than 120 s"),
    }
}
