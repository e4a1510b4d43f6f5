//! In-process supervisor tests: the real supervisor and SDK endpoint, real OS processes (the
//! sdk crate's example game servers, or `/bin/sleep` driven by a fake SDK that speaks raw
//! frames with the token it reads from `/proc/<pid>/environ`), and an in-memory cluster that
//! applies proposals with the real pure state machine. Timers are shortened to about a second.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use gamefleet_sdk::protocol::ConnectQuery;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::fsm::hosting::{PortRange, ProcessRecord, RuntimeConfiguration, ServerProcess};
use crate::fsm::{FleetSpec, apply};

const NODE: u64 = 1;

/// A one-node "cluster": proposals are applied with the real state machine, or refused as
/// unavailable while `down` is set.
struct Fake {
    state: Mutex<State>,
    down: AtomicBool,
    log: Mutex<Vec<String>>,
}

impl Cluster for Arc<Fake> {
    fn node_id(&self) -> u64 {
        NODE
    }

    fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.state.lock().unwrap())
    }

    async fn propose_once(&self, cmd: Command) -> Result<(), ProposeError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(ProposeError::Unavailable("no leader (test)".into()));
        }
        self.log.lock().unwrap().push(cmd.name().to_string());
        apply(&mut self.state.lock().unwrap(), &cmd)
            .map(|_| ())
            .map_err(ProposeError::Refused)
    }
}

fn limits() -> Limits {
    Limits {
        sdk_init: Duration::from_secs(3),
        ready: Duration::from_secs(2),
        exit: Duration::from_millis(1500),
        grace: Duration::from_millis(1500),
        health_interval: Duration::from_secs(1),
    }
}

struct Harness {
    fake: Arc<Fake>,
    hosting: Option<Hosting>,
    stop: CancellationToken,
    dir: tempfile::TempDir,
}

impl Harness {
    async fn start() -> Harness {
        Self::start_in(
            tempfile::tempdir().unwrap(),
            Arc::new(Fake {
                state: Mutex::new(State::default()),
                down: AtomicBool::new(false),
                log: Mutex::new(Vec::new()),
            }),
        )
        .await
    }

    async fn start_in(dir: tempfile::TempDir, fake: Arc<Fake>) -> Harness {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let settings = Settings {
            node_id: NODE,
            compute_name: "n0".into(),
            records_dir: records::dir(dir.path()),
            sdk_url: sdk_url(listener.local_addr().unwrap()),
            limits: limits(),
            shutdown_grace: Duration::from_secs(2),
            reconcile_every: Duration::from_millis(100),
            build_dirs: Default::default(),
            game_address: Default::default(),
        };
        let stop = CancellationToken::new();
        let hosting = launch(fake.clone(), settings, listener, stop.clone()).unwrap();
        Harness {
            fake,
            hosting: Some(hosting),
            stop,
            dir,
        }
    }

    fn apply(&self, cmd: Command) {
        apply(&mut self.fake.state.lock().unwrap(), &cmd).unwrap();
    }

    fn create_fleet(&self, id: &str, rc: RuntimeConfiguration) {
        self.apply(Command::CreateFleet {
            fleet_id: id.into(),
            arn: format!("arn:aws:gamelift:local::fleet/{id}"),
            spec: FleetSpec {
                name: id.into(),
                runtime_configuration: Some(rc),
                port_range: Some(PortRange {
                    from_port: 41000,
                    to_port: 41999,
                }),
                ..Default::default()
            },
            idempotency_token: None,
            at_ms: 1,
        });
        self.assign(id, &[NODE]);
    }

    fn assign(&self, id: &str, nodes: &[u64]) {
        self.apply(Command::AssignFleetNodes {
            fleet_id: id.into(),
            nodes: nodes.iter().copied().collect(),
            at_ms: 2,
        });
    }

    fn processes(&self, fleet: &str) -> Vec<ProcessRecord> {
        self.fake
            .read(|s| s.hosting.fleet_processes(fleet).cloned().collect())
    }

    fn event_codes(&self, fleet: &str) -> Vec<String> {
        self.fake.read(|s| {
            s.hosting
                .events
                .get(fleet)
                .map(|l| l.iter().map(|e| e.event_code.clone()).collect())
                .unwrap_or_default()
        })
    }

    fn messages(&self, fleet: &str) -> Vec<String> {
        self.fake.read(|s| {
            s.hosting
                .events
                .get(fleet)
                .map(|l| {
                    l.iter()
                        .map(|e| format!("{}: {}", e.event_code, e.message))
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// Polls `probe` until it holds, panicking with `what` and the fleet's state otherwise.
    async fn until<T>(
        &self,
        limit: Duration,
        what: &str,
        fleet: &str,
        mut probe: impl FnMut(&Self) -> Option<T>,
    ) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = probe(self) {
                return v;
            }
            if start.elapsed() > limit {
                panic!(
                    "timed out after {limit:?} waiting for {what}\nprocesses: {:#?}\nevents: {:#?}",
                    self.processes(fleet),
                    self.messages(fleet)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn active(&self, fleet: &str, n: usize) -> Vec<ProcessRecord> {
        self.until(
            Duration::from_secs(20),
            &format!("{n} active processes"),
            fleet,
            |h| {
                let ps = h.processes(fleet);
                (ps.len() == n
                    && ps
                        .iter()
                        .all(|p| p.status == ProcessStatus::Active && p.healthy))
                .then_some(ps)
            },
        )
        .await
    }

    async fn shutdown(mut self) -> tempfile::TempDir {
        self.stop.cancel();
        if let Some(h) = self.hosting.take() {
            tokio::time::timeout(Duration::from_secs(15), h.join())
                .await
                .expect("supervisor did not stop in time");
        }
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.stop.cancel();
        // NB: if a test failed, make sure no child outlives it.
        records::kill_orphans(&records::dir(self.dir.path()));
    }
}

/// An sdk example binary, built once if this test run did not build it.
fn example(name: &str) -> PathBuf {
    gamefleet_chaos::examples::sdk_example(name)
}

fn minimal(n: i32) -> RuntimeConfiguration {
    rc(
        example("minimal").to_str().unwrap(),
        Some("--port {port}"),
        n,
    )
}

fn rc(path: &str, params: Option<&str>, n: i32) -> RuntimeConfiguration {
    RuntimeConfiguration {
        server_processes: vec![ServerProcess {
            launch_path: path.into(),
            parameters: params.map(Into::into),
            concurrent_executions: n,
        }],
        max_concurrent_game_session_activations: None,
        game_session_activation_timeout_seconds: None,
    }
}

fn alive(pid: u32) -> bool {
    records::alive(pid, None)
}

/// A game server played by the test over raw frames, as the process `pid` (whose environment
/// holds its credentials).
struct FakeSdk {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    seq: u32,
}

impl FakeSdk {
    async fn connect_as(pid: u32) -> FakeSdk {
        let raw = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
        let env: BTreeMap<String, String> = raw
            .split(|b| *b == 0)
            .filter_map(|kv| {
                let kv = String::from_utf8_lossy(kv);
                let (k, v) = kv.split_once('=')?;
                Some((k.to_string(), v.to_string()))
            })
            .collect();
        let q = ConnectQuery {
            process_id: env["GAMELIFT_SDK_PROCESS_ID"].clone(),
            sdk_version: "5.6.0".into(),
            sdk_language: "Go".into(),
            compute_id: env["GAMELIFT_SDK_HOST_ID"].clone(),
            fleet_id: env["GAMELIFT_SDK_FLEET_ID"].clone(),
            idempotency_token: Some("t".into()),
            authorization: Some(env["GAMELIFT_SDK_AUTH_TOKEN"].clone()),
            extra: Default::default(),
        };
        let (ws, _) =
            tokio_tungstenite::connect_async(q.to_url(&env["GAMELIFT_SDK_WEBSOCKET_URL"]))
                .await
                .unwrap();
        FakeSdk { ws, seq: 0 }
    }

    /// Sends a request and returns its reply (skipping pushes).
    async fn call(&mut self, action: &str, fields: Value) -> Value {
        self.seq += 1;
        let id = format!("req-{}", self.seq);
        let mut frame = fields;
        frame["Action"] = action.into();
        frame["RequestId"] = id.clone().into();
        self.ws
            .send(Message::text(frame.to_string()))
            .await
            .unwrap();
        loop {
            let v = self.next().await;
            if v["RequestId"] == id.as_str() {
                return v;
            }
        }
    }

    async fn next(&mut self) -> Value {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("no frame in 10 s")
                .expect("closed")
                .expect("socket error");
            if let Message::Text(t) = m {
                return serde_json::from_str(t.as_str()).unwrap();
            }
        }
    }
}

async fn launched(h: &Harness, fleet: &str) -> ProcessRecord {
    h.until(Duration::from_secs(10), "a launched process", fleet, |h| {
        h.processes(fleet).into_iter().next()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeps_configured_processes_ready_and_replaces_a_crashed_one() {
    let h = Harness::start().await;
    h.create_fleet("fleet-crash", minimal(3));
    let ps = h.active("fleet-crash", 3).await;
    let ports: std::collections::BTreeSet<u16> = ps.iter().map(|p| p.port).collect();
    assert_eq!(ports.len(), 3, "ports must differ: {ps:?}");
    assert!(
        ps.iter()
            .all(|p| (41000..=41999).contains(&p.port) && p.node_id == NODE)
    );
    assert!(ps.iter().all(|p| p.process_id.starts_with("process-")));
    for p in &ps {
        let work = records::dir(h.dir.path()).join(&p.process_id);
        assert!(work.join("stdout.log").is_file() && work.join("stderr.log").is_file());
        assert!(
            records::dir(h.dir.path())
                .join(format!("{}.json", p.process_id))
                .is_file()
        );
    }

    let victim = ps[0].clone();
    kill(Pid::from_raw(victim.pid as i32), Signal::SIGKILL).unwrap();
    h.until(
        Duration::from_secs(10),
        "a CRASHED event",
        "fleet-crash",
        |h| {
            h.event_codes("fleet-crash")
                .contains(&"SERVER_PROCESS_CRASHED".to_string())
                .then_some(())
        },
    )
    .await;
    let after = h.active("fleet-crash", 3).await;
    assert!(after.iter().all(|p| p.process_id != victim.process_id));
    assert!(
        !records::dir(h.dir.path())
            .join(format!("{}.json", victim.process_id))
            .exists()
    );
    assert_eq!(h.event_codes("fleet-crash"), vec!["SERVER_PROCESS_CRASHED"]);

    // Graceful node shutdown: every child is gone and every end recorded.
    let pids: Vec<u32> = after.iter().map(|p| p.pid).collect();
    let fake = h.fake.clone();
    let dir = h.shutdown().await;
    assert!(
        pids.iter().all(|p| !alive(*p)),
        "children outlived the supervisor"
    );
    assert!(fake.read(|s| s.hosting.processes.is_empty()));
    let left: Vec<_> = std::fs::read_dir(records::dir(dir.path()))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .collect();
    assert!(left.is_empty(), "records left: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_that_never_connects_is_killed_after_the_init_timeout() {
    let h = Harness::start().await;
    h.create_fleet("fleet-noinit", rc("/bin/sleep", Some("600"), 1));
    let first = launched(&h, "fleet-noinit").await;
    h.until(
        Duration::from_secs(10),
        "an SDK init timeout",
        "fleet-noinit",
        |h| {
            h.event_codes("fleet-noinit")
                .contains(&"SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT".to_string())
                .then_some(())
        },
    )
    .await;
    assert!(!alive(first.pid));
    // Replaced (after a short backoff), and never by the same process.
    let next = launched(&h, "fleet-noinit").await;
    assert_ne!(next.process_id, first.process_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_that_never_calls_process_ready_is_killed() {
    let h = Harness::start().await;
    h.create_fleet("fleet-noready", rc("/bin/sleep", Some("600"), 1));
    let p = launched(&h, "fleet-noready").await;
    let _sdk = FakeSdk::connect_as(p.pid).await;
    h.until(
        Duration::from_secs(10),
        "a ProcessReady timeout",
        "fleet-noready",
        |h| {
            h.event_codes("fleet-noready")
                .contains(&"SERVER_PROCESS_PROCESS_READY_TIMEOUT".to_string())
                .then_some(())
        },
    )
    .await;
    assert!(!alive(p.pid));
    assert!(
        !h.event_codes("fleet-noready")
            .contains(&"SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT".to_string()),
        "{:?}",
        h.messages("fleet-noready")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unhealthy_reports_terminate_the_process_and_it_is_replaced() {
    let h = Harness::start().await;
    h.create_fleet("fleet-sick", rc("/bin/sleep", Some("600"), 1));
    let p = launched(&h, "fleet-sick").await;
    let mut sdk = FakeSdk::connect_as(p.pid).await;
    let r = sdk
        .call("ActivateServerProcess", serde_json::json!({"SdkVersion":"5.6.0","SdkLanguage":"Go","Port":p.port,"LogPaths":null}))
        .await;
    assert_eq!(r["StatusCode"], 200, "{r}");
    assert_eq!(h.processes("fleet-sick")[0].status, ProcessStatus::Active);
    // Another process's game session, a certificate: honest errors.
    let r = sdk.call("ActivateGameSession", serde_json::json!({"GameSessionId":"arn:aws:gamelift:local::gamesession/fleet-other/x"})).await;
    assert_eq!(r["StatusCode"], 404);
    let r = sdk
        .call(
            "HeartbeatServerProcess",
            serde_json::json!({"HealthStatus": false}),
        )
        .await;
    assert_eq!(r["StatusCode"], 200);
    h.until(
        Duration::from_secs(5),
        "the process marked unhealthy",
        "fleet-sick",
        |h| {
            h.processes("fleet-sick")
                .iter()
                .any(|p| !p.healthy)
                .then_some(())
        },
    )
    .await;
    for _ in 0..2 {
        sdk.call(
            "HeartbeatServerProcess",
            serde_json::json!({"HealthStatus": false}),
        )
        .await;
    }
    // Third bad report: the node asks the process to end.
    let push = sdk.next().await;
    assert_eq!(push["Action"], "TerminateProcess", "{push}");
    assert!(push.get("RequestId").is_none());
    assert!(push["TerminationTime"].as_i64().unwrap() > wall_ms());
    assert_eq!(
        h.processes("fleet-sick")[0].status,
        ProcessStatus::Terminating
    );
    // It cooperates: ProcessEnding, then exits.
    let r = sdk
        .call("TerminateServerProcess", serde_json::json!({}))
        .await;
    assert_eq!(r["StatusCode"], 200);
    kill(Pid::from_raw(p.pid as i32), Signal::SIGTERM).unwrap();
    h.until(
        Duration::from_secs(10),
        "a replacement",
        "fleet-sick",
        |h| {
            let ps = h.processes("fleet-sick");
            (ps.len() == 1 && ps[0].process_id != p.process_id).then_some(())
        },
    )
    .await;
    assert_eq!(
        h.event_codes("fleet-sick"),
        vec!["SERVER_PROCESS_TERMINATED_UNHEALTHY"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_ending_then_exit_is_a_normal_end_and_a_fresh_process_starts() {
    let h = Harness::start().await;
    h.create_fleet("fleet-ending", rc("/bin/sleep", Some("600"), 1));
    let p = launched(&h, "fleet-ending").await;
    let mut sdk = FakeSdk::connect_as(p.pid).await;
    sdk.call("ActivateServerProcess", serde_json::json!({"Port": p.port}))
        .await;
    let r = sdk
        .call("TerminateServerProcess", serde_json::json!({}))
        .await;
    assert_eq!(r["StatusCode"], 200);
    assert_eq!(
        h.processes("fleet-ending")[0].status,
        ProcessStatus::Terminating
    );
    // ProcessReady after ProcessEnding is refused.
    let r = sdk
        .call("ActivateServerProcess", serde_json::json!({"Port": p.port}))
        .await;
    assert_eq!(r["StatusCode"], 409, "{r}");
    // A fresh process starts at once, before the old one exits.
    h.until(
        Duration::from_secs(5),
        "a fresh process",
        "fleet-ending",
        |h| (h.processes("fleet-ending").len() == 2).then_some(()),
    )
    .await;
    kill(Pid::from_raw(p.pid as i32), Signal::SIGTERM).unwrap();
    h.until(
        Duration::from_secs(5),
        "the old process ended",
        "fleet-ending",
        |h| {
            h.processes("fleet-ending")
                .iter()
                .all(|x| x.process_id != p.process_id)
                .then_some(())
        },
    )
    .await;
    assert!(
        h.event_codes("fleet-ending").is_empty(),
        "{:?}",
        h.messages("fleet-ending")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_exit_after_process_ending_is_killed() {
    let h = Harness::start().await;
    h.create_fleet("fleet-linger", rc("/bin/sleep", Some("600"), 1));
    let p = launched(&h, "fleet-linger").await;
    let mut sdk = FakeSdk::connect_as(p.pid).await;
    sdk.call("ActivateServerProcess", serde_json::json!({"Port": p.port}))
        .await;
    sdk.call("TerminateServerProcess", serde_json::json!({}))
        .await;
    h.until(
        Duration::from_secs(10),
        "an exit timeout",
        "fleet-linger",
        |h| {
            h.event_codes("fleet-linger")
                .contains(&"SERVER_PROCESS_PROCESS_EXIT_TIMEOUT".to_string())
                .then_some(())
        },
    )
    .await;
    assert!(!alive(p.pid));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_heartbeats_terminate_a_hung_server() {
    let h = Harness::start().await;
    h.create_fleet("fleet-hung", minimal(1));
    let p = h.active("fleet-hung", 1).await.remove(0);
    kill(Pid::from_raw(p.pid as i32), Signal::SIGSTOP).unwrap();
    h.until(
        Duration::from_secs(15),
        "TERMINATED_UNHEALTHY",
        "fleet-hung",
        |h| {
            h.event_codes("fleet-hung")
                .contains(&"SERVER_PROCESS_TERMINATED_UNHEALTHY".to_string())
                .then_some(())
        },
    )
    .await;
    assert!(!alive(p.pid));
    let next = h.active("fleet-hung", 1).await.remove(0);
    assert_ne!(next.process_id, p.process_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_launch_path_is_an_event_not_a_spin() {
    let h = Harness::start().await;
    h.create_fleet("fleet-nopath", rc("/nonexistent/gamefleet/server", None, 2));
    let dir = tempfile::tempdir().unwrap();
    let not_exec = dir.path().join("server");
    std::fs::write(&not_exec, "#!/bin/sh\n").unwrap();
    h.create_fleet("fleet-noexec", rc(not_exec.to_str().unwrap(), None, 1));
    tokio::time::sleep(Duration::from_secs(3)).await;
    for fleet in ["fleet-nopath", "fleet-noexec"] {
        assert_eq!(
            h.event_codes(fleet),
            vec!["SERVER_PROCESS_INVALID_PATH"],
            "{:?}",
            h.messages(fleet)
        );
        assert!(h.processes(fleet).is_empty());
    }
    assert!(h.messages("fleet-noexec")[0].contains("not executable"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_changes_and_unassignment_retire_processes_gracefully() {
    let h = Harness::start().await;
    h.create_fleet("fleet-cfg", minimal(2));
    let old = h.active("fleet-cfg", 2).await;
    // New parameters: the old processes (no game) are asked to end, new ones start.
    let mut new_rc = rc(
        example("minimal").to_str().unwrap(),
        Some("--port={port}"),
        1,
    );
    new_rc.server_processes[0].concurrent_executions = 1;
    h.apply(Command::UpdateRuntimeConfiguration {
        fleet_id: "fleet-cfg".into(),
        runtime_configuration: new_rc,
        at_ms: 3,
    });
    // NB: not `active(.., 1)`: while the old processes retire, one of them may be the only
    // active process for a moment.
    let now = h
        .until(
            Duration::from_secs(20),
            "one new active process",
            "fleet-cfg",
            |h| {
                let ps = h.processes("fleet-cfg");
                (ps.len() == 1
                    && ps[0].status == ProcessStatus::Active
                    && ps[0].healthy
                    && old.iter().all(|o| o.process_id != ps[0].process_id))
                .then_some(ps)
            },
        )
        .await;
    assert!(old.iter().all(|o| !alive(o.pid)));
    // Unassigned: terminated gracefully (the minimal server calls ProcessEnding and exits).
    h.assign("fleet-cfg", &[2]);
    h.until(Duration::from_secs(10), "no processes", "fleet-cfg", |h| {
        h.processes("fleet-cfg").is_empty().then_some(())
    })
    .await;
    assert!(!alive(now[0].pid));
    assert!(
        h.event_codes("fleet-cfg").is_empty(),
        "{:?}",
        h.messages("fleet-cfg")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_kills_the_previous_runs_processes_and_resets_them() {
    let dir = tempfile::tempdir().unwrap();
    let fake = Arc::new(Fake {
        state: Mutex::new(State::default()),
        down: AtomicBool::new(true),
        log: Mutex::new(Vec::new()),
    });
    // What a SIGKILLed previous run left: a recorded game server in its own process group
    // (with a child of its own) and its replicated record.
    let rdir = records::dir(dir.path());
    let work = rdir.join("process-old");
    std::fs::create_dir_all(&work).unwrap();
    let mut orphan = {
        use std::os::unix::process::CommandExt as _;
        std::process::Command::new("/bin/sh")
            .args(["-c", "sleep 600 & wait"])
            .current_dir(std::env::temp_dir())
            .process_group(0)
            .spawn()
            .unwrap()
    };
    records::write(
        &rdir,
        &records::Record {
            process_id: "process-old".into(),
            fleet_id: "fleet-restart".into(),
            pid: orphan.id(),
            pgid: orphan.id(),
            start_time: records::stat(orphan.id()).map(|s| s.start_time),
            launch_path: "/bin/sh".into(),
        },
    )
    .unwrap();
    {
        let mut st = fake.state.lock().unwrap();
        for cmd in [
            Command::CreateFleet {
                fleet_id: "fleet-restart".into(),
                arn: "arn:x".into(),
                spec: FleetSpec {
                    name: "r".into(),
                    runtime_configuration: Some(rc("/bin/sleep", Some("600"), 1)),
                    ..Default::default()
                },
                idempotency_token: None,
                at_ms: 1,
            },
            Command::AssignFleetNodes {
                fleet_id: "fleet-restart".into(),
                nodes: [NODE].into(),
                at_ms: 1,
            },
            Command::ProcessLaunched {
                process: ProcessRecord {
                    process_id: "process-old".into(),
                    fleet_id: "fleet-restart".into(),
                    node_id: NODE,
                    pid: orphan.id(),
                    port: 30000,
                    launch_path: "/bin/sh".into(),
                    status: ProcessStatus::Active,
                    healthy: true,
                    launched_at_ms: 1,
                    ready_at_ms: Some(1),
                    ..Default::default()
                },
            },
        ] {
            apply(&mut st, &cmd).unwrap();
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let group_child = {
        let out = std::fs::read_to_string(format!(
            "/proc/{}/task/{}/children",
            orphan.id(),
            orphan.id()
        ))
        .unwrap_or_default();
        out.split_whitespace()
            .next()
            .and_then(|p| p.parse::<u32>().ok())
    };
    // The cluster has no leader yet: the orphan is killed anyway, nothing new is launched.
    let h = Harness::start_in(dir, fake.clone()).await;
    assert!(
        orphan.wait().unwrap().code().is_none(),
        "the orphan was not killed"
    );
    if let Some(c) = group_child {
        h.until(
            Duration::from_secs(5),
            "the orphan's child killed",
            "fleet-restart",
            |_| (!alive(c)).then_some(()),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        h.processes("fleet-restart").len(),
        1,
        "launched before the reset committed"
    );
    assert_eq!(h.processes("fleet-restart")[0].process_id, "process-old");
    // Leader back: the reset commits first, then a fresh process starts.
    fake.down.store(false, Ordering::SeqCst);
    h.until(
        Duration::from_secs(10),
        "only a fresh process",
        "fleet-restart",
        |h| {
            let ps = h.processes("fleet-restart");
            (ps.len() == 1 && ps[0].process_id != "process-old").then_some(())
        },
    )
    .await;
    let log = fake.log.lock().unwrap().clone();
    assert_eq!(
        log.first().map(String::as_str),
        Some("NodeProcessesReset"),
        "{log:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transitions_wait_out_a_leaderless_cluster() {
    let h = Harness::start().await;
    h.create_fleet("fleet-outage", minimal(1));
    let p = h.active("fleet-outage", 1).await.remove(0);
    h.fake.down.store(true, Ordering::SeqCst);
    kill(Pid::from_raw(p.pid as i32), Signal::SIGKILL).unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(h.processes("fleet-outage")[0].process_id, p.process_id);
    h.fake.down.store(false, Ordering::SeqCst);
    h.until(
        Duration::from_secs(10),
        "the crash recorded",
        "fleet-outage",
        |h| {
            h.event_codes("fleet-outage")
                .contains(&"SERVER_PROCESS_CRASHED".to_string())
                .then_some(())
        },
    )
    .await;
    let next = h.active("fleet-outage", 1).await.remove(0);
    assert_ne!(next.process_id, p.process_id);
}

#[test]
fn effects_of_retried_commands_are_recognized() {
    let mut st = State::default();
    let rec = ProcessRecord {
        process_id: "process-1".into(),
        fleet_id: "fleet-1".into(),
        node_id: 7,
        pid: 1,
        port: 1,
        launch_path: "/x".into(),
        status: ProcessStatus::Launching,
        healthy: true,
        launched_at_ms: 1,
        ready_at_ms: None,
        ..Default::default()
    };
    let launched = Command::ProcessLaunched {
        process: rec.clone(),
    };
    let ended = Command::ProcessEnded {
        process_id: "process-1".into(),
        event_code: None,
        message: String::new(),
        at_ms: 1,
    };
    let reset = Command::NodeProcessesReset {
        node_id: 7,
        at_ms: 1,
    };
    assert!(!effect_present(&st, &launched));
    assert!(effect_present(&st, &ended));
    assert!(effect_present(&st, &reset));
    st.hosting.processes.insert(rec.process_id.clone(), rec);
    assert!(effect_present(&st, &launched));
    assert!(!effect_present(&st, &ended));
    assert!(!effect_present(&st, &reset));
    assert!(!effect_present(
        &st,
        &Command::ProcessReady {
            process_id: "process-1".into(),
            at_ms: 1,
            port: None,
        }
    ));
    assert!(effect_present(
        &st,
        &Command::ProcessHealthChanged {
            process_id: "process-1".into(),
            healthy: true,
            at_ms: 1
        }
    ));
}

#[test]
fn compute_names_and_urls() {
    assert_eq!(compute_name("node_1.eu"), "node-1-eu");
    assert_eq!(compute_name(""), "gamefleet-node");
    assert_eq!(
        sdk_url("0.0.0.0:7000".parse().unwrap()),
        "ws://127.0.0.1:7000"
    );
    assert_eq!(sdk_url("[::]:7000".parse().unwrap()), "ws://[::1]:7000");
    assert_eq!(
        sdk_url("10.1.2.3:7000".parse().unwrap()),
        "ws://10.1.2.3:7000"
    );
}
