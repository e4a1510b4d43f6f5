//! Game server hosting on real nodes with real game servers (the sdk crate's example servers
//! `chat` and `minimal`, speaking the GameLift Server SDK 5 protocol to their node):
//! - 2 nodes × 3 chat servers: 6 ready processes with the `GAMELIFT_SDK_*` environment, each
//!   listening on its own port; deleting the fleet ends them gracefully;
//! - kill -9 of a game server: `SERVER_PROCESS_CRASHED` and a ready replacement; a graceful
//!   node shutdown (SIGTERM) ends its game servers;
//! - a hung (SIGSTOPped) game server misses its heartbeats: `SERVER_PROCESS_TERMINATED_UNHEALTHY`
//!   and a ready replacement;
//! - a process that never connects / connects but never calls ProcessReady is killed after the
//!   shortened timeout with `SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT` /
//!   `SERVER_PROCESS_PROCESS_READY_TIMEOUT`;
//! - SIGKILL of a node: after its restart none of its old game servers is alive and fresh ones
//!   run.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use gamefleet_chaos::cluster::HostingTimers;
use gamefleet_chaos::{Cluster, ClusterBuilder};
use gamefleet_client::{
    Client, CreateFleetInput, ErrorKind, FleetStatus, InstanceCounts, RuntimeConfiguration,
    ServerProcess, ServerProcessStatus,
};
use gamefleet_tests::game_servers::{alive, connects_but_never_ready, env_of, example};
use gamefleet_tests::{start, within};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// A fleet running `per_node` copies of `launch_path` on each of `nodes` nodes.
fn hosted(
    name: &str,
    launch_path: &str,
    params: Option<&str>,
    per_node: i32,
    nodes: i32,
) -> CreateFleetInput {
    CreateFleetInput {
        name: name.to_owned(),
        runtime_configuration: Some(RuntimeConfiguration {
            server_processes: vec![ServerProcess {
                launch_path: launch_path.to_owned(),
                parameters: params.map(str::to_owned),
                concurrent_executions: per_node,
            }],
            max_concurrent_game_session_activations: None,
            game_session_activation_timeout_seconds: None,
        }),
        instances: Some(InstanceCounts {
            desired: nodes,
            minimum: 0,
            maximum: nodes,
            active: 0,
        }),
        ..Default::default()
    }
}

fn minimal(name: &str, per_node: i32, nodes: i32) -> CreateFleetInput {
    let path = example("minimal");
    hosted(
        name,
        path.to_str().unwrap(),
        Some("--port {port}"),
        per_node,
        nodes,
    )
}

fn signal(pid: u32, sig: Signal) {
    kill(Pid::from_raw(i32::try_from(pid).unwrap()), sig)
        .unwrap_or_else(|e| panic!("{sig} to {pid}: {e}"));
}

fn summary(ps: &[ServerProcessStatus]) -> String {
    ps.iter()
        .map(|p| {
            format!(
                "{}@{} pid {} {} {}",
                p.process_id, p.node_name, p.pid, p.status, p.health
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Waits until the fleet has exactly `n` processes, all ACTIVE and HEALTHY, that `ok` accepts.
async fn ready(
    cluster: &Cluster,
    client: &Client,
    fleet_id: &str,
    n: usize,
    limit: Duration,
    ok: impl Fn(&[ServerProcessStatus]) -> bool,
) -> anyhow::Result<Vec<ServerProcessStatus>> {
    let nodes: Vec<usize> = cluster.running();
    cluster
        .wait_until(
            limit,
            &format!("{n} ready processes of {fleet_id}"),
            nodes,
            || async {
                let ps = client.describe_fleet_processes(fleet_id).await?;
                let all_ready = ps.len() == n
                    && ps
                        .iter()
                        .all(|p| p.status == "ACTIVE" && p.health == "HEALTHY");
                if all_ready && ok(&ps) {
                    Ok(Some(ps))
                } else {
                    anyhow::bail!("processes: [{}]", summary(&ps))
                }
            },
        )
        .await
}

/// Waits for an event with `code` in the fleet's log; returns its message.
async fn event(
    cluster: &Cluster,
    client: &Client,
    fleet_id: &str,
    code: &str,
    limit: Duration,
) -> anyhow::Result<String> {
    let nodes: Vec<usize> = cluster.running();
    cluster
        .wait_until(limit, &format!("{code} on {fleet_id}"), nodes, || async {
            let events = client.describe_fleet_events(fleet_id, None, None).await?;
            match events.iter().find(|e| e.event_code == code) {
                Some(e) => Ok(Some(e.message.clone())),
                None => anyhow::bail!(
                    "events: {:?}",
                    events
                        .iter()
                        .map(|e| format!("{}: {}", e.event_code, e.message))
                        .collect::<Vec<_>>()
                ),
            }
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_run_three_ready_processes_each_and_a_delete_ends_them() {
    let cluster = start(ClusterBuilder::new(2)).await;
    within(Duration::from_secs(120), async {
        let client = cluster.client()?;
        // The chat example binds its game port, so the ports are really in use.
        let chat = example("chat");
        let input = hosted(
            "hosting-6",
            chat.to_str().unwrap(),
            Some("--port {port}"),
            3,
            2,
        );
        let fleet = client.create_fleet(input).await?;
        let ps = ready(
            &cluster,
            &client,
            &fleet.fleet_id,
            6,
            Duration::from_secs(60),
            |ps| ps.iter().map(|p| p.node_id).collect::<BTreeSet<_>>().len() == 2,
        )
        .await?;
        let mut per_node: BTreeMap<&str, Vec<&ServerProcessStatus>> = BTreeMap::new();
        for p in &ps {
            per_node.entry(p.node_name.as_str()).or_default().push(p);
        }
        assert_eq!(per_node.len(), 2, "{}", summary(&ps));
        for (node, procs) in &per_node {
            assert_eq!(procs.len(), 3, "{node}: {}", summary(&ps));
            let ports: BTreeSet<u32> = procs.iter().map(|p| p.port).collect();
            assert_eq!(
                ports.len(),
                3,
                "ports on {node} must differ: {}",
                summary(&ps)
            );
        }
        for p in &ps {
            assert!(
                alive(p.pid),
                "{} (pid {}) is not running",
                p.process_id,
                p.pid
            );
            assert_eq!(
                env_of(p.pid, "GAMELIFT_SDK_PROCESS_ID").as_deref(),
                Some(p.process_id.as_str())
            );
            assert_eq!(
                env_of(p.pid, "GAMELIFT_SDK_FLEET_ID").as_deref(),
                Some(fleet.fleet_id.as_str())
            );
            assert_eq!(
                env_of(p.pid, "GAMELIFT_SDK_HOST_ID").as_deref(),
                Some(p.node_name.as_str())
            );
            assert_eq!(env_of(p.pid, "GAMEFLEET_PORT"), Some(p.port.to_string()));
            let url = env_of(p.pid, "GAMELIFT_SDK_WEBSOCKET_URL").unwrap_or_default();
            let i = cluster.index_of(&p.node_name).unwrap();
            assert_eq!(url, format!("ws://{}", cluster.sdk_address(i)));
            assert!(env_of(p.pid, "GAMELIFT_SDK_AUTH_TOKEN").is_some_and(|t| t.len() >= 32));
            let port = u16::try_from(p.port)?;
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .map_err(|e| {
                    anyhow::anyhow!("{} does not listen on its port {port}: {e}", p.process_id)
                })?;
        }
        let tokens: BTreeSet<String> = ps
            .iter()
            .filter_map(|p| env_of(p.pid, "GAMELIFT_SDK_AUTH_TOKEN"))
            .collect();
        assert_eq!(tokens.len(), 6, "every process gets its own token");
        cluster
            .wait_until(
                Duration::from_secs(10),
                "the fleet ACTIVE",
                cluster.running(),
                || async {
                    Ok((client.describe_fleet(&fleet.fleet_id).await?.status
                        == FleetStatus::Active)
                        .then_some(()))
                },
            )
            .await?;

        // Delete: every process is asked to end (the minimal server calls ProcessEnding and
        // exits), and the fleet is finalized once none runs.
        client.delete_fleet(&fleet.fleet_id).await?;
        cluster
            .wait_until(
                Duration::from_secs(30),
                "the fleet gone",
                cluster.running(),
                || async {
                    match client.describe_fleet(&fleet.fleet_id).await {
                        Err(e) if e.kind == ErrorKind::NotFound => Ok(Some(())),
                        Err(e) => Err(e.into()),
                        Ok(f) => anyhow::bail!("fleet is {:?}", f.status),
                    }
                },
            )
            .await?;
        for p in &ps {
            assert!(
                !alive(p.pid),
                "{} (pid {}) outlived its fleet",
                p.process_id,
                p.pid
            );
        }
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_game_server_is_replaced() {
    let cluster = start(ClusterBuilder::new(1)).await;
    within(Duration::from_secs(90), async {
        let client = cluster.client()?;
        let fleet = client.create_fleet(minimal("hosting-crash", 2, 1)).await?;
        let before = ready(
            &cluster,
            &client,
            &fleet.fleet_id,
            2,
            Duration::from_secs(45),
            |_| true,
        )
        .await?;
        let victim = &before[0];
        signal(victim.pid, Signal::SIGKILL);
        let msg = event(
            &cluster,
            &client,
            &fleet.fleet_id,
            "SERVER_PROCESS_CRASHED",
            Duration::from_secs(20),
        )
        .await?;
        assert!(msg.contains(&victim.process_id), "{msg}");
        let after = ready(
            &cluster,
            &client,
            &fleet.fleet_id,
            2,
            Duration::from_secs(30),
            |ps| ps.iter().all(|p| p.process_id != victim.process_id),
        )
        .await?;
        assert!(
            after.iter().any(|p| p.process_id == before[1].process_id),
            "the other one kept running"
        );
        let events = client
            .describe_fleet_events(&fleet.fleet_id, None, None)
            .await?;
        let crashes = events
            .iter()
            .filter(|e| e.event_code == "SERVER_PROCESS_CRASHED")
            .count();
        assert_eq!(crashes, 1, "{events:?}");

        // A graceful node shutdown takes its game servers down with it.
        let status = cluster.terminate(0, Duration::from_secs(20)).await?;
        assert!(status.success(), "gamefleetd exited with {status}");
        for p in &after {
            assert!(
                !alive(p.pid),
                "{} (pid {}) outlived its node",
                p.process_id,
                p.pid
            );
        }
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_game_server_is_terminated_as_unhealthy_and_replaced() {
    let cluster = start(ClusterBuilder::new(1).hosting_timers(HostingTimers {
        health_check_interval_s: Some(1),
        terminate_grace_s: Some(2),
        ..Default::default()
    }))
    .await;
    within(Duration::from_secs(90), async {
        let client = cluster.client()?;
        let fleet = client.create_fleet(minimal("hosting-hung", 1, 1)).await?;
        let hung = ready(
            &cluster,
            &client,
            &fleet.fleet_id,
            1,
            Duration::from_secs(45),
            |_| true,
        )
        .await?
        .remove(0);
        // Heartbeats keep it healthy for several intervals.
        tokio::time::sleep(Duration::from_secs(4)).await;
        let still = client.describe_fleet_processes(&fleet.fleet_id).await?;
        assert_eq!(
            summary(&still),
            summary(std::slice::from_ref(&hung)),
            "a heartbeating server was touched"
        );

        signal(hung.pid, Signal::SIGSTOP);
        cluster
            .wait_until(
                Duration::from_secs(10),
                "the hung server reported UNHEALTHY",
                [0],
                || async {
                    let ps = client.describe_fleet_processes(&fleet.fleet_id).await?;
                    Ok(ps
                        .iter()
                        .any(|p| p.process_id == hung.process_id && p.health == "UNHEALTHY")
                        .then_some(()))
                },
            )
            .await?;
        event(
            &cluster,
            &client,
            &fleet.fleet_id,
            "SERVER_PROCESS_TERMINATED_UNHEALTHY",
            Duration::from_secs(20),
        )
        .await?;
        assert!(!alive(hung.pid), "the hung server was not killed");
        ready(
            &cluster,
            &client,
            &fleet.fleet_id,
            1,
            Duration::from_secs(30),
            |ps| ps[0].process_id != hung.process_id,
        )
        .await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_that_never_initialize_or_never_become_ready_are_killed() {
    let cluster = start(ClusterBuilder::new(1).hosting_timers(HostingTimers {
        sdk_init_timeout_s: Some(2),
        process_ready_timeout_s: Some(2),
        ..Default::default()
    }))
    .await;
    let scripts = tempfile::tempdir().unwrap();
    let never_ready = connects_but_never_ready(scripts.path());
    within(Duration::from_secs(90), async {
        let client = cluster.client()?;
        let silent = client
            .create_fleet(hosted("hosting-noinit", "/bin/sleep", Some("600"), 1, 1))
            .await?;
        let idle = client
            .create_fleet(hosted(
                "hosting-noready",
                never_ready.to_str().unwrap(),
                None,
                1,
                1,
            ))
            .await?;
        let mut pids = Vec::new();
        for f in [&silent, &idle] {
            let first = cluster
                .wait_until(
                    Duration::from_secs(20),
                    "a launched process",
                    [0],
                    || async {
                        Ok(client
                            .describe_fleet_processes(&f.fleet_id)
                            .await?
                            .into_iter()
                            .next())
                    },
                )
                .await?;
            pids.push(first.pid);
        }
        let msg = event(
            &cluster,
            &client,
            &silent.fleet_id,
            "SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT",
            Duration::from_secs(20),
        )
        .await?;
        assert!(msg.contains("InitSDK"), "{msg}");
        let msg = event(
            &cluster,
            &client,
            &idle.fleet_id,
            "SERVER_PROCESS_PROCESS_READY_TIMEOUT",
            Duration::from_secs(20),
        )
        .await?;
        assert!(msg.contains("ProcessReady"), "{msg}");
        for pid in pids {
            assert!(!alive(pid), "pid {pid} was not killed");
        }
        // The one that connected did not get the InitSDK verdict.
        let events = client
            .describe_fleet_events(&idle.fleet_id, None, None)
            .await?;
        assert!(
            events
                .iter()
                .all(|e| e.event_code != "SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT"),
            "{events:?}"
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_leaves_no_game_servers_behind_after_its_restart() {
    let cluster = start(ClusterBuilder::new(3)).await;
    within(Duration::from_secs(180), async {
        let client = cluster.client()?;
        let fleet = client
            .create_fleet(minimal("hosting-nodekill", 2, 3))
            .await?;
        let ps = ready(
            &cluster,
            &client,
            &fleet.fleet_id,
            6,
            Duration::from_secs(90),
            |ps| ps.iter().map(|p| p.node_id).collect::<BTreeSet<_>>().len() == 3,
        )
        .await?;
        let leader = cluster.wait_leader(Duration::from_secs(10)).await?;
        let victim = (0..3).find(|i| *i != leader).unwrap();
        let name = cluster.name(victim).to_owned();
        let old: Vec<&ServerProcessStatus> = ps.iter().filter(|p| p.node_name == name).collect();
        assert_eq!(old.len(), 2, "{}", summary(&ps));
        cluster.kill(victim)?;
        // Its game servers outlive it (nothing can stop them before the node is back)...
        tokio::time::sleep(Duration::from_millis(500)).await;
        cluster.restart(victim).await?;
        // ...and its restart kills them all before anything else.
        cluster
            .wait_until(
                Duration::from_secs(15),
                "the old game servers gone",
                [victim],
                || async {
                    let left: Vec<u32> = old.iter().map(|p| p.pid).filter(|p| alive(*p)).collect();
                    if left.is_empty() {
                        Ok(Some(()))
                    } else {
                        anyhow::bail!("still alive: {left:?}")
                    }
                },
            )
            .await?;
        let old_ids: BTreeSet<&str> = old.iter().map(|p| p.process_id.as_str()).collect();
        let now = ready(
            &cluster,
            &client,
            &fleet.fleet_id,
            6,
            Duration::from_secs(60),
            |ps| {
                let on_victim: Vec<_> = ps.iter().filter(|p| p.node_name == name).collect();
                on_victim.len() == 2
                    && on_victim
                        .iter()
                        .all(|p| !old_ids.contains(p.process_id.as_str()))
            },
        )
        .await?;
        for p in now.iter().filter(|p| p.node_name == name) {
            assert!(alive(p.pid), "{}", summary(&now));
        }
        let records = cluster.data_dir(victim).join("processes");
        for p in &old {
            assert!(
                !records.join(format!("{}.json", p.process_id)).exists(),
                "record of {} left",
                p.process_id
            );
        }
        Ok(())
    })
    .await;
}
