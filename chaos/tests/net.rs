//! Real kernel-level network faults with [`NetLab`]: namespaces on a bridge, iptables cuts,
//! netem delays, teardown and stale-lab sweeping, and a 3-node `gamefleetd` cluster whose
//! isolated leader is replaced and then rejoins as a follower.
//!
//! Requirements: root with CAP_NET_ADMIN and CAP_SYS_ADMIN, and `ip`, `tc`, `iptables` (the
//! tests install missing tools with `apt-get install -y iptables iproute2` through
//! `NetLab::ensure_tools`). When those cannot be had (not root, say), every test here FAILS
//! with a message saying why, unless `GAMEFLEET_SKIP_NET_TESTS=1` is set: then they pass
//! without doing anything (and say so on stderr). Nothing here is `#[ignore]`d.
//!
//! Delays need the kernel's netem qdisc. On a kernel without it the delay test checks that
//! `slow` fails with a clear `Unavailable::NoNetem` and passes with a note on stderr, unless
//! `GAMEFLEET_REQUIRE_NETEM=1` is set, which makes it fail instead.
//!
//! The cluster test needs the `gamefleetd` binary: `cargo build -p gamefleet-node` first.
//!
//! Probes run inside the namespaces as child processes: this test binary, re-executed through
//! `NetLab::command` with `GAMEFLEET_NET_TEST_HELPER=<mode>` (see `helper_process_entry`),
//! because entering a namespace from a thread would need `setns` (unsafe code). Every wait is
//! bounded, and every lab is removed by `Drop`, also when a test fails.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use gamefleet_chaos::ClusterBuilder;
use gamefleet_chaos::net::{DEFAULT_PREFIX, NetLab, Unavailable};

/// Set to `1` to let these tests pass without root.
const SKIP_ENV: &str = "GAMEFLEET_SKIP_NET_TESTS";
/// Set to `1` to make the delay test fail on kernels without netem.
const REQUIRE_NETEM_ENV: &str = "GAMEFLEET_REQUIRE_NETEM";
/// Tells a re-executed test binary which probe to be.
const HELPER_ENV: &str = "GAMEFLEET_NET_TEST_HELPER";
/// The TCP and UDP echo port of every node's listener.
const ECHO_PORT: u16 = 7000;
/// The port of one-way UDP receivers.
const UDP_PROBE_PORT: u16 = 7001;
/// How long a probe waits for a connection or a datagram.
const PROBE_TIMEOUT: Duration = Duration::from_millis(800);

// ---- The helper process ----------------------------------------------------------------

/// The entry point of the re-executed helper: does nothing in a normal test run. With
/// `GAMEFLEET_NET_TEST_HELPER` set it becomes the probe the variable names and exits:
/// - `listen <port>`: TCP and UDP echo on `<port>` (for at most 10 minutes);
/// - `connect <ip:port> <timeout_ms>`: exit 0 if a TCP connection echoes a byte back;
/// - `udp-recv <port> <timeout_ms>`: exit 0 when a datagram arrives;
/// - `udp-send <ip:port> <count>`: sends `<count>` datagrams, 25 ms apart;
/// - `make-lab`: creates a 1-node lab, prints `LAB <bridge> <netns>`, sleeps until killed.
#[test]
fn helper_process_entry() {
    let Ok(mode) = std::env::var(HELPER_ENV) else {
        return;
    };
    let code = match helper(&mode) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("helper {mode:?}: {err:#}");
            2
        }
    };
    std::process::exit(code);
}

fn helper(mode: &str) -> anyhow::Result<i32> {
    let words: Vec<&str> = mode.split_whitespace().collect();
    let ms = |s: &str| -> anyhow::Result<Duration> { Ok(Duration::from_millis(s.parse()?)) };
    match words.as_slice() {
        ["listen", port] => {
            let port: u16 = port.parse()?;
            std::thread::spawn(|| {
                std::thread::sleep(Duration::from_secs(600));
                std::process::exit(3);
            });
            let udp = UdpSocket::bind(("0.0.0.0", port))?;
            std::thread::spawn(move || {
                let mut buf = [0u8; 1500];
                while let Ok((n, from)) = udp.recv_from(&mut buf) {
                    let _ = udp.send_to(&buf[..n], from);
                }
            });
            let listener = TcpListener::bind(("0.0.0.0", port))?;
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                std::thread::spawn(move || {
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
                    let mut buf = [0u8; 512];
                    while let Ok(n) = conn.read(&mut buf) {
                        if n == 0 || conn.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
            Ok(0)
        }
        ["connect", addr, timeout] => Ok(i32::from(!tcp_echo(addr.parse()?, ms(timeout)?))),
        ["udp-recv", port, timeout] => {
            let udp = UdpSocket::bind(("0.0.0.0", port.parse::<u16>()?))?;
            udp.set_read_timeout(Some(ms(timeout)?))?;
            let mut buf = [0u8; 64];
            Ok(i32::from(udp.recv_from(&mut buf).is_err()))
        }
        ["udp-send", addr, count] => {
            let udp = UdpSocket::bind("0.0.0.0:0")?;
            let to: SocketAddr = addr.parse()?;
            for _ in 0..count.parse::<u32>()? {
                let _ = udp.send_to(b"probe", to);
                std::thread::sleep(Duration::from_millis(25));
            }
            Ok(0)
        }
        ["make-lab"] => {
            let lab = NetLab::create(1)?;
            // NB: on a line of its own: libtest has printed "test ... " without a newline.
            println!("\nLAB {} {}", lab.bridge(), lab.netns(0));
            std::io::stdout().flush()?;
            std::thread::sleep(Duration::from_secs(120));
            Ok(0)
        }
        _ => bail!("unknown helper mode"),
    }
}

/// Whether a TCP connection to `addr` opens and echoes one byte back within `timeout`.
fn tcp_echo(addr: SocketAddr, timeout: Duration) -> bool {
    let Ok(mut conn) = TcpStream::connect_timeout(&addr, timeout) else {
        return false;
    };
    let _ = conn.set_read_timeout(Some(timeout));
    let _ = conn.set_write_timeout(Some(timeout));
    let mut got = [0u8; 1];
    conn.write_all(b"x").is_ok() && conn.read_exact(&mut got).is_ok() && got == *b"x"
}

/// A child process killed and reaped on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// Waits (bounded) for the process to exit.
    fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.0.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                _ => return None,
            }
        }
    }
}

/// This test binary as helper `mode`, inside node `node`'s namespace (or the root namespace).
fn helper_command(lab: &NetLab, node: Option<usize>, mode: &str) -> anyhow::Result<Command> {
    let exe = std::env::current_exe().context("cannot find the test binary")?;
    let mut cmd = match node {
        Some(i) => lab.command(i, &exe),
        None => Command::new(&exe),
    };
    cmd.args([
        "--exact",
        "helper_process_entry",
        "--nocapture",
        "--test-threads",
        "1",
    ])
    .env(HELPER_ENV, mode)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    Ok(cmd)
}

fn spawn_helper(lab: &NetLab, node: Option<usize>, mode: &str) -> anyhow::Result<Proc> {
    let child = helper_command(lab, node, mode)?
        .spawn()
        .with_context(|| format!("cannot start helper {mode:?}"))?;
    Ok(Proc(child))
}

// ---- Lab setup and probes ----------------------------------------------------------------

/// A lab of `nodes`, or `None` when the tests may be skipped (see the module docs); panics
/// with the reason otherwise.
fn lab_or_skip(nodes: usize) -> Option<NetLab> {
    match NetLab::prerequisites() {
        Ok(()) => {}
        Err(Unavailable::MissingTools(_)) => {
            if let Err(err) = NetLab::ensure_tools() {
                panic!("network fault tests: {err:#}");
            }
        }
        Err(why) => {
            if std::env::var(SKIP_ENV).is_ok_and(|v| v == "1") {
                eprintln!("SKIPPED (because {SKIP_ENV}=1): {why}");
                return None;
            }
            panic!("network fault tests cannot run: {why}. Set {SKIP_ENV}=1 to skip them.");
        }
    }
    // Labs left behind by earlier test runs that were killed (live labs are never touched).
    static SWEEP: std::sync::Once = std::sync::Once::new();
    SWEEP.call_once(|| {
        if let Err(err) = NetLab::sweep_stale(DEFAULT_PREFIX) {
            eprintln!("sweeping stale network labs failed: {err:#}");
        }
    });
    match NetLab::create(nodes) {
        Ok(lab) => Some(lab),
        Err(err) => panic!("cannot create a network lab: {err:#}"),
    }
}

/// Starts an echo listener in every node and waits (bounded) until the root namespace
/// reaches each of them.
fn start_listeners(lab: &NetLab) -> anyhow::Result<Vec<Proc>> {
    let mut procs = Vec::new();
    for i in 0..lab.nodes() {
        procs.push(spawn_helper(lab, Some(i), &format!("listen {ECHO_PORT}"))?);
    }
    for i in 0..lab.nodes() {
        let addr = echo_addr(lab, i);
        let deadline = Instant::now() + Duration::from_secs(15);
        while !tcp_echo(addr, PROBE_TIMEOUT) {
            if Instant::now() >= deadline {
                bail!("the listener in {} ({addr}) never answered", lab.netns(i));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(procs)
}

fn echo_addr(lab: &NetLab, i: usize) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(lab.ip(i), ECHO_PORT))
}

/// Where a probe starts: the root namespace (`None`, like clients) or a node.
type Src = Option<usize>;

/// Whether a TCP connection from `from` to node `to` echoes.
fn tcp_ok(lab: &NetLab, from: Src, to: usize) -> anyhow::Result<bool> {
    let addr = echo_addr(lab, to);
    match from {
        None => Ok(tcp_echo(addr, PROBE_TIMEOUT)),
        Some(_) => {
            let mode = format!("connect {addr} {}", PROBE_TIMEOUT.as_millis());
            let mut p = spawn_helper(lab, from, &mode)?;
            let status = p.wait(PROBE_TIMEOUT + Duration::from_secs(10));
            Ok(status.is_some_and(|s| s.success()))
        }
    }
}

/// Whether UDP datagrams from node `from` reach node `to` (one direction only).
fn udp_ok(lab: &NetLab, from: usize, to: usize) -> anyhow::Result<bool> {
    let wait_ms = 1500;
    let mut recv = spawn_helper(
        lab,
        Some(to),
        &format!("udp-recv {UDP_PROBE_PORT} {wait_ms}"),
    )?;
    let target = SocketAddrV4::new(lab.ip(to), UDP_PROBE_PORT);
    let mut send = spawn_helper(lab, Some(from), &format!("udp-send {target} 40"))?;
    let got = recv.wait(Duration::from_millis(wait_ms) + Duration::from_secs(10));
    send.wait(Duration::from_secs(10));
    Ok(got.is_some_and(|s| s.success()))
}

fn who(from: Src) -> String {
    from.map_or_else(|| "root".to_owned(), |i| format!("n{i}"))
}

/// Checks TCP reachability for every `(from, to, expected)` case (in parallel) and fails with
/// the full table if any differs.
fn expect_tcp(lab: &NetLab, phase: &str, cases: &[(Src, usize, bool)]) -> anyhow::Result<()> {
    let results: Vec<anyhow::Result<bool>> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .map(|&(from, to, _)| s.spawn(move || tcp_ok(lab, from, to)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow!("probe panicked"))))
            .collect()
    });
    let mut table = String::new();
    let mut wrong = 0;
    for (&(from, to, want), got) in cases.iter().zip(results) {
        let got = got?;
        if got != want {
            wrong += 1;
        }
        table.push_str(&format!(
            "  {} -> n{to}: expected {}, got {}{}\n",
            who(from),
            if want { "open" } else { "cut" },
            if got { "open" } else { "cut" },
            if got == want { "" } else { "   <-- WRONG" }
        ));
    }
    if wrong > 0 {
        bail!("{phase}: {wrong} TCP link(s) wrong:\n{table}");
    }
    Ok(())
}

/// Every ordered pair of nodes plus root -> every node, all expected `open`.
fn all_open(n: usize) -> Vec<(Src, usize, bool)> {
    let mut cases: Vec<(Src, usize, bool)> = (0..n).map(|i| (None, i, true)).collect();
    for a in 0..n {
        for b in 0..n {
            if a != b {
                cases.push((Some(a), b, true));
            }
        }
    }
    cases
}

/// The lab's names as seen by `ip netns list` and `ip link`.
fn names_present(lab_names: &[String]) -> anyhow::Result<Vec<String>> {
    let run = |args: &[&str]| -> anyhow::Result<String> {
        let out = Command::new("ip")
            .args(args)
            .output()
            .with_context(|| format!("cannot run ip {args:?}"))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let netns = run(&["netns", "list"])?;
    let links = run(&["-o", "link", "show"])?;
    let mut present: Vec<String> = netns
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .chain(links.lines().filter_map(|l| {
            let name = l.split(": ").nth(1)?;
            name.split('@').next()
        }))
        .filter(|n| lab_names.iter().any(|x| x == n))
        .map(str::to_owned)
        .collect();
    present.sort();
    present.dedup();
    Ok(present)
}

fn lab_names(lab: &NetLab) -> Vec<String> {
    let mut names = vec![lab.bridge()];
    for i in 0..lab.nodes() {
        names.extend([lab.netns(i).to_owned(), lab.host_veth(i)]);
    }
    names
}

// ---- The tests ---------------------------------------------------------------------------

#[test]
fn faults_cut_exactly_the_links_they_name_and_heal_restores_them() -> anyhow::Result<()> {
    let Some(lab) = lab_or_skip(3) else {
        return Ok(());
    };
    let _listeners = start_listeners(&lab)?;
    expect_tcp(&lab, "fresh lab", &all_open(3))?;

    lab.partition(&[vec![0], vec![1, 2]])?;
    expect_tcp(
        &lab,
        "partition [[0], [1, 2]]",
        &[
            (Some(1), 0, false),
            (Some(2), 0, false),
            (Some(0), 1, false),
            (Some(0), 2, false),
            (Some(1), 2, true),
            (Some(2), 1, true),
            (None, 0, true),
            (None, 1, true),
            (None, 2, true),
        ],
    )?;
    lab.heal()?;
    expect_tcp(&lab, "healed after the partition", &all_open(3))?;

    // Packet level: 1 -> 0 is dropped, 0 -> 1 still arrives (shown with UDP; TCP needs both
    // directions, so TCP stalls either way).
    lab.cut_one_way(1, 0)?;
    assert!(
        !udp_ok(&lab, 1, 0)?,
        "cut_one_way(1, 0): UDP 1 -> 0 arrived"
    );
    assert!(
        udp_ok(&lab, 0, 1)?,
        "cut_one_way(1, 0): UDP 0 -> 1 was lost"
    );
    assert!(
        udp_ok(&lab, 1, 2)?,
        "cut_one_way(1, 0): UDP 1 -> 2 was lost"
    );
    expect_tcp(
        &lab,
        "cut_one_way(1, 0)",
        &[
            (Some(1), 0, false),
            (Some(0), 1, false),
            (Some(1), 2, true),
            (Some(0), 2, true),
            (None, 0, true),
            (None, 1, true),
        ],
    )?;
    lab.heal()?;
    assert!(udp_ok(&lab, 1, 0)?, "healed: UDP 1 -> 0 was lost");

    // Connection level: 1 cannot connect to 0, 0 connects to 1 fine.
    lab.cut_connections_one_way(1, 0)?;
    expect_tcp(
        &lab,
        "cut_connections_one_way(1, 0)",
        &[
            (Some(1), 0, false),
            (Some(0), 1, true),
            (Some(1), 2, true),
            (Some(2), 0, true),
            (None, 0, true),
            (None, 1, true),
        ],
    )?;
    lab.heal()?;

    lab.isolate(2)?;
    expect_tcp(
        &lab,
        "isolate(2)",
        &[
            (Some(0), 2, false),
            (Some(2), 1, false),
            (Some(0), 1, true),
            (Some(1), 0, true),
            (None, 2, true),
        ],
    )?;
    lab.isolate_from_clients(2)?;
    expect_tcp(
        &lab,
        "isolate(2) + isolate_from_clients(2)",
        &[(None, 2, false), (None, 0, true), (Some(1), 2, false)],
    )?;
    lab.heal()?;

    lab.lossy(0, 100.0)?;
    expect_tcp(
        &lab,
        "lossy(0, 100%)",
        &[
            (None, 0, false),
            (Some(1), 0, false),
            (None, 1, true),
            (Some(1), 2, true),
        ],
    )?;
    lab.heal()?;
    expect_tcp(&lab, "healed at the end", &all_open(3))?;
    Ok(())
}

#[test]
fn partial_loss_drops_some_packets_not_all() -> anyhow::Result<()> {
    let Some(lab) = lab_or_skip(2) else {
        return Ok(());
    };
    let _listeners = start_listeners(&lab)?;
    lab.lossy(1, 50.0)?;
    // 40 UDP round trips through node 1 (each crosses its veth twice): with 50% loss per
    // packet, about a quarter come back; all or none would mean the rule is wrong.
    let udp = UdpSocket::bind((lab.host_ip(), 0))?;
    udp.set_read_timeout(Some(Duration::from_millis(150)))?;
    let to = SocketAddrV4::new(lab.ip(1), ECHO_PORT);
    let mut back = 0;
    for k in 0..40u8 {
        udp.send_to(&[k], to)?;
        let mut buf = [0u8; 8];
        let deadline = Instant::now() + Duration::from_millis(150);
        while Instant::now() < deadline {
            match udp.recv_from(&mut buf) {
                Ok((1, _)) if buf[0] == k => {
                    back += 1;
                    break;
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    }
    assert!(
        (1..=30).contains(&back),
        "lossy(1, 50%): {back} of 40 UDP round trips came back"
    );
    lab.heal()?;
    assert!(
        tcp_echo(echo_addr(&lab, 1), PROBE_TIMEOUT),
        "healed: root -> n1"
    );
    Ok(())
}

/// The fastest of `n` TCP connects (one round trip each) from the root namespace to node `i`.
fn min_connect_time(lab: &NetLab, i: usize, n: usize) -> anyhow::Result<Duration> {
    let addr = echo_addr(lab, i);
    let mut best = Duration::MAX;
    for _ in 0..n {
        let start = Instant::now();
        TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .with_context(|| format!("connect to {addr}"))?;
        best = best.min(start.elapsed());
    }
    Ok(best)
}

#[test]
fn slow_link_delays_round_trips() -> anyhow::Result<()> {
    let Some(lab) = lab_or_skip(2) else {
        return Ok(());
    };
    let _listeners = start_listeners(&lab)?;
    if !lab.netem_supported() {
        let err = match lab.slow(0, 200, 0) {
            Ok(()) => bail!("netem_supported() is false but slow() succeeded"),
            Err(err) => err,
        };
        assert_eq!(
            err.downcast_ref::<Unavailable>(),
            Some(&Unavailable::NoNetem),
            "{err:#}"
        );
        let note = format!("{}", Unavailable::NoNetem);
        assert!(format!("{err:#}").contains(&note), "{err:#}");
        if std::env::var(REQUIRE_NETEM_ENV).is_ok_and(|v| v == "1") {
            bail!("{REQUIRE_NETEM_ENV}=1 but {err:#}");
        }
        eprintln!("NOTE: the delay check did not run: {err:#}");
        // Loss still works without netem.
        lab.lossy(0, 100.0)?;
        assert!(!tcp_echo(echo_addr(&lab, 0), PROBE_TIMEOUT));
        lab.heal()?;
        assert!(tcp_echo(echo_addr(&lab, 0), PROBE_TIMEOUT));
        return Ok(());
    }
    let before = min_connect_time(&lab, 0, 5)?;
    lab.slow(0, 200, 0)?;
    let slowed = min_connect_time(&lab, 0, 3)?;
    let other = min_connect_time(&lab, 1, 3)?;
    assert!(
        slowed >= before + Duration::from_millis(150),
        "slow(0, 200 ms): round trip {before:?} -> {slowed:?}"
    );
    assert!(
        other < Duration::from_millis(100),
        "slow(0) must not slow node 1: {other:?}"
    );
    lab.heal()?;
    let healed = min_connect_time(&lab, 0, 5)?;
    assert!(
        healed < Duration::from_millis(100),
        "healed: round trip still {healed:?}"
    );
    Ok(())
}

#[test]
fn teardown_removes_everything_and_programs_keep_their_pid() -> anyhow::Result<()> {
    let Some(lab) = lab_or_skip(2) else {
        return Ok(());
    };
    let names = lab_names(&lab);
    assert_eq!(names_present(&names)?, {
        let mut n = names.clone();
        n.sort();
        n
    });
    assert!(lab.bridge().len() <= 15 && lab.host_veth(1).len() <= 15);
    assert!(lab.bridge().starts_with(&format!("{DEFAULT_PREFIX}b")));
    assert_eq!(lab.ip(1), {
        let [a, b, c, _] = lab.host_ip().octets();
        Ipv4Addr::new(a, b, c, 11)
    });

    // `ip netns exec` execs the program: the child's pid is the program's own.
    let mut child = lab
        .command(1, "sh")
        .args(["-c", "echo $$"])
        .stdout(Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        BufReader::new(out).read_line(&mut line)?;
    }
    let mut child = Proc(child);
    assert!(
        child
            .wait(Duration::from_secs(10))
            .is_some_and(|s| s.success())
    );
    assert_eq!(
        line.trim(),
        pid.to_string(),
        "the pid behind `ip netns exec`"
    );

    // A process left running inside a namespace is killed by teardown.
    let mut leftover = spawn_helper(&lab, Some(0), &format!("listen {ECHO_PORT}"))?;
    lab.partition(&[vec![0], vec![1]])?;
    lab.teardown()?;
    assert!(
        leftover.wait(Duration::from_secs(10)).is_some(),
        "teardown left a process running in the lab"
    );
    assert_eq!(names_present(&names)?, Vec::<String>::new());
    // Idempotent, and faults on a torn-down lab are errors, not panics.
    lab.teardown()?;
    assert!(lab.isolate(0).is_err());
    assert!(lab.heal().is_err());
    drop(lab);

    // Drop alone removes a lab too.
    let Some(lab) = lab_or_skip(1) else {
        return Ok(());
    };
    let names = lab_names(&lab);
    assert_eq!(names_present(&names)?.len(), names.len());
    drop(lab);
    assert_eq!(names_present(&names)?, Vec::<String>::new());
    Ok(())
}

#[test]
fn bad_fault_arguments_are_errors() -> anyhow::Result<()> {
    let Some(lab) = lab_or_skip(2) else {
        return Ok(());
    };
    assert!(lab.partition(&[vec![0], vec![5]]).is_err());
    assert!(lab.partition(&[vec![0, 1], vec![1]]).is_err());
    assert!(lab.isolate(2).is_err());
    assert!(lab.isolate_from_clients(9).is_err());
    assert!(lab.cut_one_way(1, 1).is_err());
    assert!(lab.cut_one_way(0, 7).is_err());
    assert!(lab.cut_connections_one_way(0, 0).is_err());
    assert!(lab.lossy(0, 150.0).is_err());
    assert!(lab.lossy(0, f64::NAN).is_err());
    assert!(lab.lossy(0, -1.0).is_err());
    assert!(lab.slow(3, 10, 0).is_err());
    assert!(lab.slow(0, 100_000, 0).is_err());
    lab.heal()?;
    Ok(())
}

#[test]
fn sweep_removes_dead_runs_labs_and_keeps_live_ones() -> anyhow::Result<()> {
    let Some(live) = lab_or_skip(1) else {
        return Ok(());
    };
    // A helper process creates a lab and is SIGKILLed: its lab is left behind.
    let mut cmd = helper_command(&live, None, "make-lab")?;
    let mut child = Proc(
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?,
    );
    let out = child
        .0
        .stdout
        .take()
        .ok_or_else(|| anyhow!("no stdout from the make-lab helper"))?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(out).lines();
        // Skip libtest's own lines ("running 1 test") up to ours.
        for line in lines.by_ref().map_while(Result::ok) {
            if let Some(names) = line.strip_prefix("LAB ") {
                let _ = tx.send(names.to_owned());
                break;
            }
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .context("the make-lab helper did not report its lab")?;
    let leaked: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    let _ = child.0.kill();
    child.wait(Duration::from_secs(10));
    assert_eq!(
        names_present(&leaked)?.len(),
        2,
        "the leaked lab {leaked:?}"
    );

    let sweep = NetLab::sweep_stale(DEFAULT_PREFIX)?;
    assert!(sweep.failures.is_empty(), "{sweep:?}");
    assert_eq!(
        names_present(&leaked)?,
        Vec::<String>::new(),
        "sweep left the dead run's lab: {sweep:?}"
    );
    assert!(sweep.live.contains(&live.id().to_owned()), "{sweep:?}");
    let live_names = lab_names(&live);
    assert_eq!(
        names_present(&live_names)?.len(),
        live_names.len(),
        "sweep touched a live lab"
    );
    assert!(NetLab::sweep_stale("NOPE").is_err());
    Ok(())
}

/// The namespace `ip netns identify` names for `pid`.
fn netns_of(pid: u32) -> anyhow::Result<String> {
    let out = Command::new("ip")
        .args(["netns", "identify", &pid.to_string()])
        .output()?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Raft leader election across a real partition (Raft paper §5.2): a leader cut off from both
/// followers is replaced by one of them within 10 s; after healing, the old leader learns the
/// newer term and rejoins as a follower (§5.1: a stale leader steps down on a higher term).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolated_leader_is_replaced_and_rejoins_as_follower() -> anyhow::Result<()> {
    let Some(lab) = lab_or_skip(3) else {
        return Ok(());
    };
    let lab = Arc::new(lab);
    // NB: wider election timeouts than the defaults (150-300 ms). openraft gives a vote request
    // election_timeout_min to be answered, and answering persists the vote (a sled flush); with
    // the CI machine's two cores busy with property tests, those flushes took longer than 150 ms
    // and one CI run saw 24 elections in a row time out (terms 9-33). This test is about the
    // lab's isolation and the cluster's recovery from it, not about election speed.
    let cluster = ClusterBuilder::new(3)
        .network(lab.clone())
        .args([
            "--election-timeout-min-ms=400".to_owned(),
            "--election-timeout-max-ms=800".to_owned(),
        ])
        .start()
        .await?;

    for i in 0..3 {
        assert!(cluster.endpoint(i).contains(&lab.ip(i).to_string()));
        let pid = cluster
            .process_id(i)
            .ok_or_else(|| anyhow!("n{i} is not running"))?;
        let exe = std::fs::read_link(format!("/proc/{pid}/exe"))?;
        assert!(
            exe.ends_with("gamefleetd"),
            "n{i}'s pid {pid} is {exe:?}, not gamefleetd"
        );
        assert_eq!(netns_of(pid)?, lab.netns(i), "n{i}'s namespace");
        let st = cluster.status(i).await?;
        assert_eq!(st.nodes.len(), 3, "{st:?}");
        assert!(st.nodes.iter().all(|n| n.health == "ok"), "{st:?}");
    }

    let old = cluster.wait_leader(Duration::from_secs(10)).await?;
    let old_status = cluster.status(old).await?;
    let (old_id, old_term) = (old_status.answered_by, old_status.term);
    let others: Vec<usize> = (0..3).filter(|&i| i != old).collect();

    lab.isolate(old)?;
    let isolated_at = Instant::now();
    let (new, new_id) = cluster
        .wait_until(
            Duration::from_secs(10),
            "a new leader among the other two",
            others.clone(),
            || async {
                for &j in &others {
                    let Ok(st) = cluster.status(j).await else {
                        continue;
                    };
                    if st.leader_id == Some(st.answered_by) && st.term > old_term {
                        return Ok(Some((j, st.answered_by)));
                    }
                }
                Ok(None)
            },
        )
        .await?;
    eprintln!(
        "n{new} leads {:?} after isolating the leader n{old}",
        isolated_at.elapsed()
    );
    assert!(others.contains(&new));

    lab.heal()?;
    let what = format!("the old leader n{old} to follow a newer leader");
    cluster
        .wait_until(Duration::from_secs(30), &what, [old], || async {
            let st = cluster.status(old).await?;
            let me = st.nodes.iter().find(|n| n.node_id == old_id);
            let following = st.leader_id.is_some_and(|l| l != old_id)
                && st.term > old_term
                && me.is_some_and(|n| n.role == "FOLLOWER");
            if following {
                Ok(Some(()))
            } else {
                bail!(
                    "n{old} sees leader {:?} (new leader was {new_id}) in term {}, itself {:?}",
                    st.leader_id,
                    st.term,
                    me.map(|n| &n.role)
                )
            }
        })
        .await?;
    cluster.wait_ready(Duration::from_secs(30)).await?;

    // SIGKILL and restart reach the real process, and the restarted node is back in its
    // namespace.
    let killed_pid = cluster.process_id(old);
    cluster.kill(old)?;
    assert!(!cluster.is_running(old));
    if let Some(pid) = killed_pid {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists() || netns_of(pid)?.is_empty(),
            "n{old} (pid {pid}) survived SIGKILL"
        );
    }
    cluster.restart(old).await?;
    let pid = cluster
        .process_id(old)
        .ok_or_else(|| anyhow!("n{old} did not restart"))?;
    assert_eq!(
        netns_of(pid)?,
        lab.netns(old),
        "restarted n{old}'s namespace"
    );
    cluster.wait_ready(Duration::from_secs(30)).await?;
    Ok(())
}
