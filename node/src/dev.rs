//! `gamefleetd dev`: one command for a local cluster. It starts 1, 3 or 5
//! `gamefleetd run` child processes on 127.0.0.1 (data in a temp dir unless
//! `--data-dir` is given), waits until they form a cluster, creates a demo
//! fleet, prints how to reach it, and stops every child on Ctrl-C.

use std::future::Future;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use gamefleet_proto::v1 as pb;
use tokio::process::{Child, Command};

/// Flags of `gamefleetd dev`.
#[derive(clap::Args, Debug, Clone)]
pub struct DevArgs {
    /// Number of node processes: 1, 3 or 5.
    #[arg(long, default_value_t = 1)]
    pub nodes: u16,
    /// Keep data here instead of a temp dir deleted on exit.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// First node's port; node i listens on base-port + i.
    #[arg(long, default_value_t = 7400)]
    pub base_port: u16,
}

struct DevNode {
    name: String,
    addr: String,
    log: PathBuf,
    child: Child,
}

async fn wait_answers(addr: &str, want_nodes: usize, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let status = async {
            let mut c = pb::admin_client::AdminClient::connect(format!("http://{addr}")).await?;
            let s = c
                .cluster_status(pb::ClusterStatusRequest {})
                .await?
                .into_inner();
            anyhow::Ok(s)
        }
        .await;
        if let Ok(s) = status {
            let healthy = s.nodes.iter().filter(|n| n.health == "ok").count();
            if s.leader_id != 0 && healthy >= want_nodes {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            anyhow::bail!(
                "the cluster at {addr} did not become ready within {}s",
                timeout.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The demo game server: the SDK's chat example, built next to gamefleetd
/// (`cargo build --release --examples`), if it is there.
fn demo_server(exe: &std::path::Path) -> Option<PathBuf> {
    let p = exe.parent()?.join("examples").join("chat");
    p.is_file().then(|| std::fs::canonicalize(&p).unwrap_or(p))
}

/// Creates the demo fleet: the chat example, 2 processes on every node, or a
/// data-only fleet when the example is not built.
async fn create_demo_fleet(
    addr: &str,
    server: Option<&std::path::Path>,
    nodes: i32,
) -> anyhow::Result<String> {
    let mut c = pb::game_lift_client::GameLiftClient::connect(format!("http://{addr}")).await?;
    let hosting = server.map(|path| pb::RuntimeConfiguration {
        server_processes: vec![pb::ServerProcess {
            launch_path: path.to_string_lossy().into_owned(),
            parameters: Some("--port {port}".into()),
            concurrent_executions: 2,
        }],
        ..Default::default()
    });
    let r = c
        .create_fleet(pb::CreateFleetRequest {
            name: "demo-fleet".into(),
            description: Some("created by gamefleetd dev".into()),
            idempotency_token: Some("gamefleetd-dev-demo-fleet".into()),
            instances: hosting.as_ref().map(|_| pb::InstanceCounts {
                desired: nodes,
                minimum: 0,
                maximum: nodes,
                active: 0,
            }),
            runtime_configuration: hosting,
            port_range: Some(pb::PortRange {
                from_port: 7700,
                to_port: 7799,
            }),
            ..Default::default()
        })
        .await?
        .into_inner();
    Ok(r.fleet_attributes.map(|f| f.fleet_id).unwrap_or_default())
}

/// Runs the dev cluster until `shutdown` resolves.
pub async fn run(args: DevArgs, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    if ![1, 3, 5].contains(&args.nodes) {
        anyhow::bail!("nodes: must be 1, 3 or 5 (got {})", args.nodes);
    }
    let temp;
    let dir = match &args.data_dir {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::Builder::new()
                .prefix("gamefleet-dev-")
                .tempdir()?;
            temp.path().to_path_buf()
        }
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let exe = std::env::current_exe().context("finding the gamefleetd binary")?;
    let voters = if args.nodes >= 5 { 5 } else { 3 };
    let first = format!("127.0.0.1:{}", args.base_port);
    let mut nodes: Vec<DevNode> = Vec::new();
    for i in 0..args.nodes {
        let name = format!("dev-{}", i + 1);
        let port = args
            .base_port
            .checked_add(i)
            .context("base-port: too high for this many nodes")?;
        let addr = format!("127.0.0.1:{port}");
        let log = dir.join(format!("{name}.log"));
        let file =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let mut cmd = Command::new(&exe);
        cmd.arg("run")
            .args(["--name", &name, "--listen", &addr, "--sled-cache-mb", "32"])
            .arg("--data-dir")
            .arg(dir.join(&name))
            .args(["--voters", &voters.to_string()])
            .stdout(Stdio::null())
            .stderr(file)
            .kill_on_drop(true);
        if i > 0 {
            cmd.args(["--join", &first]);
        }
        let child = cmd.spawn().with_context(|| format!("starting {name}"))?;
        nodes.push(DevNode {
            name,
            addr: addr.clone(),
            log,
            child,
        });
        if i == 0 {
            wait_answers(&addr, 1, Duration::from_secs(20))
                .await
                .with_context(|| {
                    format!(
                        "node dev-1 did not start; see {}",
                        dir.join("dev-1.log").display()
                    )
                })?;
        }
    }
    wait_answers(&first, nodes.len(), Duration::from_secs(30)).await?;
    let server = demo_server(&exe);
    let fleet = create_demo_fleet(&first, server.as_deref(), i32::from(args.nodes))
        .await
        .context("creating the demo fleet")?;
    let endpoints: Vec<&str> = nodes.iter().map(|n| n.addr.as_str()).collect();
    println!(
        "gamefleet dev cluster is up: {} node(s), data in {}",
        nodes.len(),
        dir.display()
    );
    for n in &nodes {
        println!("  {:<6} {}  (log: {})", n.name, n.addr, n.log.display());
    }
    match &server {
        Some(path) => println!("demo fleet: {fleet} (2 x {} per node)", path.display()),
        None => println!(
            "demo fleet: {fleet} (data only: build the example game server with \
             `cargo build --release --examples` to have it hosted)"
        ),
    }
    println!();
    println!("Try:");
    println!("  export GAMEFLEET_ENDPOINTS={}", endpoints.join(","));
    println!("  cargo run --release --bin gamefleet -- cluster status");
    println!("  cargo run --release --bin gamefleet -- fleet list");
    println!("  cargo run --release --bin gamefleet -- fleet processes {fleet}");
    println!("  cargo run --release --bin gamefleet -- fleet events {fleet}");
    println!("Press Ctrl-C to stop.");

    // A node that exits (say, killed to watch a failover) is reported, not fatal:
    // the rest of the cluster keeps running until Ctrl-C.
    let watch = async {
        let mut reported = vec![false; nodes.len()];
        loop {
            for (i, n) in nodes.iter_mut().enumerate() {
                if !reported[i]
                    && let Ok(Some(status)) = n.child.try_wait()
                {
                    println!("node {} exited ({status}); see {}", n.name, n.log.display());
                    reported[i] = true;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::select! {
        () = shutdown => {}
        () = watch => {}
    }
    for n in nodes.iter_mut() {
        if let Some(pid) = n.child.id() {
            let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap_or(0));
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        }
    }
    for n in nodes.iter_mut() {
        if tokio::time::timeout(Duration::from_secs(5), n.child.wait())
            .await
            .is_err()
        {
            let _ = n.child.kill().await;
        }
    }
    println!("stopped");
    Ok(())
}
