//! The `gamefleetd run` error contract: bad configuration, a data dir of another cluster, an
//! unreachable join target and a duplicate node name each make the process exit non-zero
//! within a bounded time with a one-line `error: ...` on stderr that names the problem, and
//! never with a panic (docs/operations.md).

use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use gamefleet_chaos::cluster::free_ports;
use gamefleet_chaos::{ClusterBuilder, run_gamefleetd};
use gamefleet_tests::{assert_error_exit, start, within};
use tempfile::TempDir;

/// How long a config error may take to be reported.
const CONFIG_LIMIT: Duration = Duration::from_secs(15);
/// How long a failed join may take to be reported (it involves network round trips).
const JOIN_LIMIT: Duration = Duration::from_secs(45);

fn free_addr() -> String {
    format!("127.0.0.1:{}", free_ports(1).expect("a free port")[0])
}

/// `run` arguments for a fresh node in `dir` (name, data dir, listen address).
fn node_args(dir: &Path, name: &str) -> Vec<String> {
    vec![
        "run".to_owned(),
        "--name".to_owned(),
        name.to_owned(),
        "--data-dir".to_owned(),
        dir.join("data").display().to_string(),
        "--listen".to_owned(),
        free_addr(),
        "--sled-cache-mb".to_owned(),
        "16".to_owned(),
    ]
}

fn with(mut args: Vec<String>, more: &[&str]) -> Vec<String> {
    args.extend(more.iter().map(|s| (*s).to_owned()));
    args
}

#[tokio::test]
async fn unparseable_config_file_is_an_error() {
    let dir = TempDir::new().unwrap();
    let cfg = dir.path().join("broken-config.toml");
    std::fs::write(&cfg, "voters = 3\nthis is [not toml ==\n").unwrap();
    let args = with(
        node_args(dir.path(), "bad-toml"),
        &["--config", cfg.to_str().unwrap()],
    );
    let out = run_gamefleetd(&args, CONFIG_LIMIT).await.unwrap();
    assert_error_exit(&out, CONFIG_LIMIT, &["broken-config.toml", "toml", "parse"]);
}

#[tokio::test]
async fn unknown_config_key_is_an_error() {
    let dir = TempDir::new().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "bogus_knob = 1\n").unwrap();
    let args = with(
        node_args(dir.path(), "unknown-key"),
        &["--config", cfg.to_str().unwrap()],
    );
    let out = run_gamefleetd(&args, CONFIG_LIMIT).await.unwrap();
    assert_error_exit(&out, CONFIG_LIMIT, &["bogus_knob"]);
}

#[tokio::test]
async fn unparseable_listen_address_is_an_error() {
    let dir = TempDir::new().unwrap();
    let mut args = node_args(dir.path(), "bad-addr");
    let at = args.iter().position(|a| a == "--listen").unwrap();
    args[at + 1] = "not-an-address".to_owned();
    let out = run_gamefleetd(&args, CONFIG_LIMIT).await.unwrap();
    assert_error_exit(&out, CONFIG_LIMIT, &["not-an-address"]);
}

#[tokio::test]
async fn listen_address_in_use_is_an_error() {
    let dir = TempDir::new().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let mut args = node_args(dir.path(), "addr-in-use");
    let at = args.iter().position(|a| a == "--listen").unwrap();
    args[at + 1] = addr.clone();
    let out = run_gamefleetd(&args, CONFIG_LIMIT).await.unwrap();
    assert_error_exit(&out, CONFIG_LIMIT, &[addr.as_str(), "in use", "bind"]);
}

#[tokio::test]
async fn four_voters_is_an_error_on_the_command_line() {
    let dir = TempDir::new().unwrap();
    let args = with(node_args(dir.path(), "four-voters"), &["--voters", "4"]);
    let out = run_gamefleetd(&args, CONFIG_LIMIT).await.unwrap();
    assert_error_exit(&out, CONFIG_LIMIT, &["voters"]);
}

#[tokio::test]
async fn four_voters_is_an_error_in_the_config_file() {
    let dir = TempDir::new().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "voters = 4\n").unwrap();
    let args = with(
        node_args(dir.path(), "four-voters-file"),
        &["--config", cfg.to_str().unwrap()],
    );
    let out = run_gamefleetd(&args, CONFIG_LIMIT).await.unwrap();
    assert_error_exit(&out, CONFIG_LIMIT, &["voters"]);
}

#[tokio::test]
async fn join_to_an_unreachable_address_is_an_error() {
    let dir = TempDir::new().unwrap();
    let nowhere = free_addr();
    let args = with(node_args(dir.path(), "lonely"), &["--join", &nowhere]);
    let out = run_gamefleetd(&args, JOIN_LIMIT + Duration::from_secs(5))
        .await
        .unwrap();
    assert_error_exit(&out, JOIN_LIMIT, &[nowhere.as_str(), "unreachable", "join"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_dir_of_another_cluster_is_an_error() {
    let a = start(ClusterBuilder::new(1).name_prefix("a")).await;
    let b = start(ClusterBuilder::new(1).name_prefix("b")).await;
    within(Duration::from_secs(120), async {
        let a_id = a.status(0).await?.cluster_id;
        let b_id = b.status(0).await?.cluster_id;
        anyhow::ensure!(
            a_id != b_id,
            "two bootstraps made the same cluster id {a_id}"
        );

        // A clean SIGTERM shutdown exits 0 (part of the same contract).
        let status = a.terminate(0, Duration::from_secs(20)).await?;
        anyhow::ensure!(status.success(), "SIGTERM shutdown exited with {status:?}");

        let args = vec![
            "run".to_owned(),
            "--name".to_owned(),
            a.name(0).to_owned(),
            "--data-dir".to_owned(),
            a.data_dir(0).display().to_string(),
            "--listen".to_owned(),
            free_addr(),
            "--join".to_owned(),
            b.address(0),
        ];
        let out = run_gamefleetd(&args, JOIN_LIMIT + Duration::from_secs(5)).await?;
        assert_error_exit(&out, JOIN_LIMIT, &["cluster"]);

        // B is unaffected: still one member, still serving.
        let st = b.status(0).await?;
        anyhow::ensure!(st.nodes.len() == 1, "cluster B changed: {st:?}");
        b.wait_ready(Duration::from_secs(10)).await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_node_name_is_an_error() {
    let cluster = start(ClusterBuilder::new(1)).await;
    within(Duration::from_secs(120), async {
        let dir = TempDir::new()?;
        let args = with(
            node_args(dir.path(), cluster.name(0)),
            &["--join", &cluster.address(0)],
        );
        let out = run_gamefleetd(&args, JOIN_LIMIT + Duration::from_secs(5)).await?;
        assert_error_exit(&out, JOIN_LIMIT, &[cluster.name(0), "name", "duplicate"]);

        // The original node keeps its name and address; nothing was added.
        let st = cluster.status(0).await?;
        anyhow::ensure!(st.nodes.len() == 1, "a node was added: {st:?}");
        anyhow::ensure!(
            st.nodes[0].address == cluster.address(0),
            "the original node's address changed: {st:?}"
        );
        cluster.wait_ready(Duration::from_secs(10)).await?;
        Ok(())
    })
    .await;
}
