//! Game server executables for the hosting tests: the sdk crate's example servers (`minimal`,
//! `chat`; built on demand when this test run did not build them) and small scripts that
//! misbehave on purpose; plus `/proc` checks on the processes a node runs.

use std::path::{Path, PathBuf};

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
