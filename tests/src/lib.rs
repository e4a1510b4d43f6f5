//! Shared helpers for the end-to-end tests in `tests/tests/`, which run real `gamefleetd`
//! processes (build them first: `cargo build -p gamefleet-node`).
//!
//! The pattern every test follows: start the [`Cluster`] in the test's own scope, then run the
//! body inside [`within`]. A failing body or an exceeded time limit panics while the cluster is
//! still alive, so the cluster's `Drop` prints every node's log tail before killing them.

pub mod game_servers;

use std::future::Future;
use std::time::{Duration, Instant};

use gamefleet_chaos::exec::Outcome;
use gamefleet_chaos::{Cluster, ClusterBuilder};
use gamefleet_client::{Client, ClientError, CreateFleetInput, ErrorKind, UpdateFleetInput};

/// Runs `body` with a time limit; panics with the error (or the limit) so that clusters owned
/// by the caller are dropped during the unwind and print their node logs.
pub async fn within<T>(limit: Duration, body: impl Future<Output = anyhow::Result<T>>) -> T {
    match tokio::time::timeout(limit, body).await {
        Ok(Ok(v)) => v,
        Ok(Err(err)) => panic!("{err:#}"),
        Err(_) => panic!("test body exceeded its time limit of {limit:?}"),
    }
}

/// Starts a cluster; panics with the harness's explanation (it carries the node log tails).
pub async fn start(builder: ClusterBuilder) -> Cluster {
    match builder.start().await {
        Ok(c) => c,
        Err(err) => panic!("cluster did not start: {err:#}"),
    }
}

/// A create-fleet input with just a name and a description.
pub fn fleet(name: &str) -> CreateFleetInput {
    CreateFleetInput {
        name: name.to_owned(),
        description: Some(format!("{name} (e2e)")),
        ..Default::default()
    }
}

/// `n` concurrent CreatePlayerSession calls for `game_session_id` (player ids `p0`, `p1`, ...),
/// call `i` through `clients[i mod len]`; returns how many succeeded, how many got
/// GameSessionFull, and every other error.
pub async fn reserve_concurrently(
    clients: &[Client],
    game_session_id: &str,
    n: usize,
) -> anyhow::Result<(usize, usize, Vec<String>)> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let c = clients[i % clients.len()].clone();
            let id = game_session_id.to_owned();
            tokio::spawn(async move { c.create_player_session(&id, &format!("p{i}"), None).await })
        })
        .collect();
    let (mut ok, mut full, mut other) = (0, 0, Vec::new());
    for t in tasks {
        match t.await? {
            Ok(_) => ok += 1,
            Err(e) if e.kind == ErrorKind::GameSessionFull => full += 1,
            Err(e) => other.push(e.to_string()),
        }
    }
    Ok((ok, full, other))
}

/// An update that sets only the description.
pub fn set_description(fleet_id: &str, description: &str) -> UpdateFleetInput {
    UpdateFleetInput {
        fleet_id: fleet_id.to_owned(),
        description: Some(description.to_owned()),
        ..Default::default()
    }
}

/// Polls `probe` every 100 ms until it yields `Some`, failing after `limit` with `what` and the
/// last observation.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut probe: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Option<T>>>,
{
    let start = Instant::now();
    loop {
        let last = match probe().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => "condition not met".to_owned(),
            Err(e) => format!("{e:#}"),
        };
        if start.elapsed() >= limit {
            anyhow::bail!("timed out after {limit:?} waiting for {what}; last observation: {last}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether an error is the "cannot serve this now" kind a client must see instead of a hang.
pub fn is_unavailable(err: &ClientError) -> bool {
    matches!(err.kind, ErrorKind::Unavailable | ErrorKind::Timeout)
}

/// Asserts the error contract of a `gamefleetd` run that must fail: it exited by itself with a
/// non-zero code within `max`, never panicked, and wrote a line starting with `error:` that
/// mentions (case-insensitively) at least one of `mentions`.
#[track_caller]
pub fn assert_error_exit(out: &Outcome, max: Duration, mentions: &[&str]) {
    let desc = out.describe();
    assert!(!out.timed_out, "gamefleetd did not exit: {desc}");
    assert!(
        out.code().is_some_and(|c| c != 0),
        "gamefleetd must exit with a non-zero code: {desc}"
    );
    assert!(
        out.elapsed <= max,
        "gamefleetd took {:?} (> {max:?}) to fail: {desc}",
        out.elapsed
    );
    assert!(
        !out.stderr.contains("panicked"),
        "gamefleetd panicked instead of reporting an error: {desc}"
    );
    let error_lines: Vec<&str> = out
        .stderr
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert!(
        !error_lines.is_empty(),
        "stderr has no line starting with `error:`: {desc}"
    );
    let text = error_lines.join("\n").to_lowercase();
    assert!(
        mentions.iter().any(|m| text.contains(&m.to_lowercase())),
        "the `error:` line should name the problem (one of {mentions:?}): {desc}"
    );
}
