//! Game server executables for the hosting tests: the sdk crate's example servers (`minimal`,
//! `chat`; built on demand when this test run did not build them) and small scripts that
//! misbehave on purpose; `/proc` checks on the processes a node runs; and fleets of them that
//! are ACTIVE with every process ready.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gamefleet_chaos::Cluster;
use gamefleet_client::{
    Client, CreateFleetInput, FleetStatus, InstanceCounts, PlacementStrategy, RuntimeConfiguration,
    ServerProcess,
};

/// The path of an sdk example server (`minimal` or `chat`); see [`gamefleet_chaos::examples`].
pub fn example(name: &str) -> PathBuf {
    gamefleet_chaos::examples::sdk_example(name)
}

/// Writes an executable script `name` into `dir` and returns its path.
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
    path
}

/// A game server that does InitSDK (opens the SDK WebSocket with the query the official SDKs
/// send) and then never calls ProcessReady.
pub fn connects_but_never_ready(dir: &Path) -> PathBuf {
    script(
        dir,
        "never-ready.sh",
        r#"#!/bin/bash
# InitSDK without ProcessReady: a raw WebSocket handshake to the node, then silence.
hostport="${GAMELIFT_SDK_WEBSOCKET_URL#ws://}"
hostport="${hostport%%/*}"
exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}" || exit 3
q="pID=${GAMELIFT_SDK_PROCESS_ID}&sdkVersion=5.6.0&sdkLanguage=Go&ComputeId=${GAMELIFT_SDK_HOST_ID}"
q="$q&FleetId=${GAMELIFT_SDK_FLEET_ID}&IdempotencyToken=t1&Authorization=${GAMELIFT_SDK_AUTH_TOKEN}"
printf 'GET /?%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' "$q" "$hostport" >&3
exec sleep 600
"#,
    )
}

/// Whether `pid` is a live (not zombie) process.
pub fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next())
        .unwrap_or("Z");
    state != "Z" && state != "X"
}

/// The value of one environment variable of a running process.
pub fn env_of(pid: u32, key: &str) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    raw.split(|b| *b == 0).find_map(|kv| {
        let kv = String::from_utf8_lossy(kv);
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

/// A fleet running `per_node` copies of example `server` on each of `nodes` nodes, spreading
/// sessions over the nodes.
pub fn fleet_of(
    name: &str,
    server: &str,
    extra: &str,
    per_node: i32,
    nodes: i32,
    activation_timeout_s: Option<i32>,
) -> CreateFleetInput {
    let path = example(server);
    CreateFleetInput {
        name: name.to_owned(),
        runtime_configuration: Some(RuntimeConfiguration {
            server_processes: vec![ServerProcess {
                launch_path: path.to_str().unwrap_or_default().to_owned(),
                parameters: Some(format!("--port {{port}}{extra}")),
                concurrent_executions: per_node,
            }],
            max_concurrent_game_session_activations: None,
            game_session_activation_timeout_seconds: activation_timeout_s,
        }),
        instances: Some(InstanceCounts {
            desired: nodes,
            minimum: 0,
            maximum: nodes,
            active: 0,
        }),
        placement_strategy: Some(PlacementStrategy::Spread),
        ..Default::default()
    }
}

/// Creates the fleet and waits until it is ACTIVE with `ready` ready processes.
pub async fn active_fleet(
    cluster: &Cluster,
    client: &Client,
    input: CreateFleetInput,
    ready: usize,
) -> anyhow::Result<String> {
    let fleet = client.create_fleet(input).await?;
    let id = fleet.fleet_id.clone();
    cluster
        .wait_until(
            Duration::from_secs(60),
            &format!("fleet {id} ACTIVE with {ready} ready processes"),
            cluster.running(),
            || async {
                let f = client.describe_fleet(&id).await?;
                let ps = client.describe_fleet_processes(&id).await?;
                let n = ps
                    .iter()
                    .filter(|p| p.status == "ACTIVE" && p.health == "HEALTHY")
                    .count();
                if f.status == FleetStatus::Active && n == ready {
                    Ok(Some(()))
                } else {
                    anyhow::bail!("fleet {:?}, {n} ready", f.status)
                }
            },
        )
        .await?;
    Ok(id)
}
