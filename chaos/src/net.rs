//! Real network faults for chaos runs: every node in its own Linux network namespace, the
//! namespaces joined by a bridge the run creates, links cut with iptables and slowed with tc
//! netem. A [`NetLab`] owns all of it and removes all of it when dropped.
//!
//! Layout of a lab with run id `<id>` (6 hex digits, random, unique on the machine) and the
//! default name prefix `gf`:
//!
//! ```text
//!   root namespace: bridge gfb<id>, 10.a.b.1/24  <- the harness and clients live here
//!      |-- veth gf<id>v0 ==== gf<id>p0 in netns gf<id>n0, 10.a.b.10/24 (+ lo up)
//!      |-- veth gf<id>v1 ==== gf<id>p1 in netns gf<id>n1, 10.a.b.11/24
//!      `-- ...
//! ```
//!
//! `10.a.b.0/24` is picked per run from `10.200.0.0/16`-`10.249.255.0/24`, derived from the run
//! id, skipping every prefix an address or route of the root namespace already covers (so two
//! concurrent runs, or a host network in 10/8, never clash). The namespaces get no default
//! route on purpose: the /24 already connects root <-> node and node <-> node, and without a
//! default route a node cannot send anything off the machine even when the host forwards.
//! Processes started with [`NetLab::command`] run inside a node's namespace (`ip netns exec`
//! execs the program, so the pid the caller holds is the program's own); children they start
//! (game servers) inherit it.
//!
//! Faults are iptables DROP rules inside the affected namespaces, in two chains the lab owns
//! (`GAMEFLEET-IN` / `GAMEFLEET-OUT`, reached from INPUT / OUTPUT for the node's veth only, so
//! loopback traffic inside a namespace is never cut), plus a netem qdisc on the node's veth for
//! [`NetLab::slow`]. Faults add up; [`NetLab::heal`] removes every rule and qdisc the lab added.
//! The root namespace's address (the bridge, which clients' packets come from) stays reachable
//! unless [`NetLab::isolate_from_clients`] is asked for.
//!
//! Invariants:
//! - The lab touches only interfaces, namespaces and rules it created itself, found by name (and,
//!   for the one root-namespace rule, by an iptables comment naming the bridge). It never
//!   changes a sysctl or a rule it did not add.
//! - Only private addresses inside the lab's own /24 are used; nothing routes off the machine.
//! - Teardown ([`NetLab::teardown`], also run by `Drop`, also when a test panics) is idempotent
//!   and best-effort: it kills processes still inside the lab's namespaces, deletes the
//!   namespaces, veths, the root-namespace rule and the bridge, and logs (and returns) what it
//!   could not remove. [`NetLab::sweep_stale`] removes what crashed runs left behind: only labs
//!   whose owner process (recorded in the bridge's alias) is gone.
//! - Every external command is bounded by a time limit.
//!
//! Requirements: root with CAP_NET_ADMIN and CAP_SYS_ADMIN, `ip` and `tc` (iproute2) and
//! `iptables`. [`NetLab::create`] says which is missing; [`NetLab::ensure_tools`] installs the
//! tools with `apt-get install -y iptables iproute2`. Delays need the kernel's netem qdisc
//! (`CONFIG_NET_SCH_NETEM`); on kernels without it [`NetLab::slow`] fails with
//! [`Unavailable::NoNetem`] ([`NetLab::netem_supported`] tells in advance), while every other
//! fault (loss included, which uses the iptables `statistic` match) still works.
//!
//! If the host loads `br_netfilter` (`net.bridge.bridge-nf-call-iptables = 1`) and its FORWARD
//! chain is not a plain ACCEPT (Docker hosts), bridged node-to-node frames would hit it; the
//! lab then inserts one `-i <bridge> -o <bridge> -j ACCEPT` rule for its own bridge, tagged with
//! a comment, and removes it on teardown.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fmt;
use std::io::Read;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The name prefix of [`NetLab::create`]'s bridges, namespaces and veths.
pub const DEFAULT_PREFIX: &str = "gf";

/// The most nodes one lab holds (node addresses are `.10` to `.209` of the lab's /24).
pub const MAX_NODES: usize = 200;

/// The command that installs the tools the lab needs.
pub const INSTALL_COMMAND: &str = "apt-get install -y iptables iproute2";

/// The chain (in every node namespace) that INPUT from the node's veth jumps to.
const CHAIN_IN: &str = "GAMEFLEET-IN";
/// The chain (in every node namespace) that OUTPUT to the node's veth jumps to.
const CHAIN_OUT: &str = "GAMEFLEET-OUT";
/// The first word of a lab bridge's alias: `gamefleet-netlab pid=<pid> start=<ticks>`.
const ALIAS_TAG: &str = "gamefleet-netlab";
/// The comment of the root-namespace FORWARD rule is this plus the bridge name.
const FORWARD_TAG: &str = "gamefleet-netlab:";
/// The bound on one `ip` / `iptables` / `tc` command.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// The bound on one `apt-get` command.
const APT_TIMEOUT: Duration = Duration::from_secs(900);
/// The first node's last address octet.
const FIRST_NODE_OCTET: usize = 10;
/// Where tools are looked for after `$PATH` (a non-root `$PATH` often lacks the sbin dirs).
const TOOL_DIRS: [&str; 4] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// Why network faults cannot run here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// The effective user is not root.
    NotRoot,
    /// Root, but without CAP_NET_ADMIN or CAP_SYS_ADMIN (e.g. an unprivileged container).
    NoNetAdmin,
    /// These tools are not installed.
    MissingTools(Vec<&'static str>),
    /// The kernel has no netem qdisc, so delays cannot be emulated.
    NoNetem,
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unavailable::NotRoot => write!(
                f,
                "network faults need root: network namespaces, the bridge, iptables and tc all \
                 require it (this process's effective uid is not 0)"
            ),
            Unavailable::NoNetAdmin => write!(
                f,
                "network faults need root with CAP_NET_ADMIN and CAP_SYS_ADMIN; this process is \
                 root but lacks them (an unprivileged container? run it with --privileged or \
                 --cap-add NET_ADMIN --cap-add SYS_ADMIN)"
            ),
            Unavailable::MissingTools(tools) => write!(
                f,
                "network faults need {} but it is not installed: run `{INSTALL_COMMAND}` as root \
                 (or call NetLab::ensure_tools)",
                tools.join(", ")
            ),
            Unavailable::NoNetem => write!(
                f,
                "this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM is off and sch_netem cannot \
                 be loaded), so slow links cannot be emulated here; the other faults (loss \
                 included) still work"
            ),
        }
    }
}

impl std::error::Error for Unavailable {}

/// The absolute paths of the tools the lab runs.
#[derive(Debug, Clone)]
struct Tools {
    ip: PathBuf,
    iptables: PathBuf,
    tc: PathBuf,
}

impl Tools {
    fn find() -> Result<Tools, Unavailable> {
        let (ip, iptables, tc) = (find_tool("ip"), find_tool("iptables"), find_tool("tc"));
        match (ip, iptables, tc) {
            (Some(ip), Some(iptables), Some(tc)) => Ok(Tools { ip, iptables, tc }),
            (ip, iptables, tc) => {
                let mut missing = Vec::new();
                for (name, found) in [
                    ("ip", ip.is_some()),
                    ("iptables", iptables.is_some()),
                    ("tc", tc.is_some()),
                ] {
                    if !found {
                        missing.push(name);
                    }
                }
                Err(Unavailable::MissingTools(missing))
            }
        }
    }
}

/// `name` in `$PATH` or in the usual system dirs.
fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(TOOL_DIRS.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Whether this process may build a lab: effective uid 0 with CAP_NET_ADMIN (interfaces,
/// iptables, tc) and CAP_SYS_ADMIN (`ip netns add` mounts the namespace file).
fn privileges() -> Result<(), Unavailable> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
    };
    let euid = field("Uid:")
        .and_then(|v| v.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u32>().ok());
    if euid != Some(0) {
        return Err(Unavailable::NotRoot);
    }
    const CAP_NET_ADMIN: u32 = 12;
    const CAP_SYS_ADMIN: u32 = 21;
    let needed = (1u64 << CAP_NET_ADMIN) | (1u64 << CAP_SYS_ADMIN);
    match field("CapEff:").and_then(|v| u64::from_str_radix(v, 16).ok()) {
        Some(caps) if caps & needed != needed => Err(Unavailable::NoNetAdmin),
        _ => Ok(()),
    }
}

/// Why an external command failed.
#[derive(Debug)]
struct CommandFailed {
    cmdline: String,
    kind: FailureKind,
}

#[derive(Debug)]
enum FailureKind {
    Spawn(std::io::Error),
    TimedOut(Duration),
    Exit { status: ExitStatus, stderr: String },
}

impl CommandFailed {
    fn stderr(&self) -> &str {
        match &self.kind {
            FailureKind::Exit { stderr, .. } => stderr,
            _ => "",
        }
    }

    /// Whether the command failed because the thing it should remove is already gone.
    fn is_absent(&self) -> bool {
        let e = self.stderr();
        [
            "Cannot find device",
            "No such file or directory",
            "does not exist",
            "No such device",
            "Cannot open network namespace",
            "Bad rule",
            "No chain/target/match by that name",
        ]
        .iter()
        .any(|needle| e.contains(needle))
    }
}

impl fmt::Display for CommandFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            FailureKind::Spawn(err) => write!(f, "cannot run `{}`: {err}", self.cmdline),
            FailureKind::TimedOut(t) => {
                write!(f, "`{}` did not finish within {t:?} (killed)", self.cmdline)
            }
            FailureKind::Exit { status, stderr } => {
                write!(f, "`{}` failed ({status}): {}", self.cmdline, stderr.trim())
            }
        }
    }
}

impl std::error::Error for CommandFailed {}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `cmd` to completion (killed after `timeout`) and returns its stdout.
fn run(cmd: &mut Command, timeout: Duration) -> Result<String, CommandFailed> {
    let cmdline = describe(cmd);
    let fail = |kind| CommandFailed {
        cmdline: cmdline.clone(),
        kind,
    };
    tracing::debug!(command = %cmdline, "netlab");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| fail(FailureKind::Spawn(e)))?;
    // NB: the pipes are drained by threads so a chatty command cannot block on a full pipe, and
    // read through channels so a grandchild holding a pipe open cannot block us either.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        let (tx, rx) = mpsc::channel();
        if let Some(mut pipe) = pipe {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = pipe.read_to_end(&mut buf);
                let _ = tx.send(buf);
            });
        }
        rx
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let mut nap = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(FailureKind::TimedOut(timeout)));
            }
            Ok(None) => {
                std::thread::sleep(nap);
                nap = (nap * 2).min(Duration::from_millis(50));
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(FailureKind::Spawn(e)));
            }
        }
    };
    let collect = |rx: mpsc::Receiver<Vec<u8>>| {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(200));
        String::from_utf8_lossy(&rx.recv_timeout(left).unwrap_or_default()).into_owned()
    };
    let stdout = collect(out);
    let stderr = collect(err);
    if status.success() {
        Ok(stdout)
    } else {
        Err(fail(FailureKind::Exit { status, stderr }))
    }
}

/// The whitespace-separated words of `s` (for command lines whose parts hold no spaces).
fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

fn run_tool(program: &Path, args: &[&str]) -> Result<String, CommandFailed> {
    run(Command::new(program).args(args), COMMAND_TIMEOUT)
}

/// Checks a name prefix: 1 to 4 lowercase ASCII letters (so every name fits the kernel's
/// 15-byte interface name limit).
fn check_prefix(prefix: &str) -> anyhow::Result<()> {
    if prefix.is_empty() || prefix.len() > 4 || !prefix.bytes().all(|b| b.is_ascii_lowercase()) {
        bail!("network lab name prefix {prefix:?} must be 1 to 4 lowercase ASCII letters");
    }
    Ok(())
}

fn is_lab_id(s: &str) -> bool {
    s.len() == 6
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The run id of a lab bridge name `<prefix>b<id>`.
fn parse_bridge<'a>(prefix: &str, name: &'a str) -> Option<&'a str> {
    let id = name.strip_prefix(prefix)?.strip_prefix('b')?;
    is_lab_id(id).then_some(id)
}

/// The run id and index of a lab member name `<prefix><id><kind><index>` (kind `n` for a
/// namespace, `v` for a root-side veth, `p` for a namespace-side veth).
fn parse_member<'a>(prefix: &str, name: &'a str, kind: char) -> Option<(&'a str, usize)> {
    let rest = name.strip_prefix(prefix)?;
    let id = rest.get(..6)?;
    let index = rest.get(6..)?.strip_prefix(kind)?;
    if !is_lab_id(id) || index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((id, index.parse().ok()?))
}

/// An IPv4 prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cidr {
    addr: u32,
    len: u32,
}

impl Cidr {
    fn parse(s: &str) -> Option<Cidr> {
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, l.parse::<u32>().ok().filter(|l| *l <= 32)?),
            None => (s, 32),
        };
        let addr: Ipv4Addr = addr.parse().ok()?;
        Some(Cidr {
            addr: u32::from(addr),
            len,
        })
    }

    fn mask(len: u32) -> u32 {
        u32::MAX.checked_shl(32 - len).unwrap_or(0)
    }

    /// Whether the two prefixes share an address.
    fn overlaps(&self, other: &Cidr) -> bool {
        let mask = Cidr::mask(self.len.min(other.len));
        self.addr & mask == other.addr & mask
    }
}

/// The IPv4 addresses of the root namespace, each with its interface.
type Addresses = Vec<(String, Cidr)>;

/// The IPv4 addresses (with their interface) and routed prefixes of the root namespace.
fn used_prefixes(ip: &Path) -> anyhow::Result<(Addresses, Vec<Cidr>)> {
    let addrs = run_tool(ip, &["-4", "-o", "addr", "show"])?;
    let addrs = addrs
        .lines()
        .filter_map(|line| {
            // "3: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\ ..."
            let mut words = line.split_whitespace();
            let ifname = words.nth(1)?.to_owned();
            let cidr = words.skip_while(|w| *w != "inet").nth(1)?;
            Some((ifname, Cidr::parse(cidr)?))
        })
        .collect();
    let routes = run_tool(ip, &["-4", "route", "show", "table", "all"])?;
    let routes = routes
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let mut first = words.next()?;
            // Typed routes ("local 127.0.0.1 dev lo ...") name the type first.
            if matches!(
                first,
                "local" | "broadcast" | "unicast" | "unreachable" | "blackhole" | "prohibit"
            ) {
                first = words.next()?;
            }
            (first != "default").then(|| Cidr::parse(first)).flatten()
        })
        .collect();
    Ok((addrs, routes))
}

/// The interface names of the root namespace.
fn link_names(ip: &Path) -> anyhow::Result<Vec<String>> {
    let out = run_tool(ip, &["-o", "link", "show"])?;
    Ok(out
        .lines()
        .filter_map(|line| {
            // "7: gf1a2b3cv0@if6: <BROADCAST,..."
            let name = line.split(": ").nth(1)?;
            Some(name.split('@').next()?.to_owned())
        })
        .collect())
}

/// The named network namespaces.
fn netns_names(ip: &Path) -> anyhow::Result<Vec<String>> {
    let out = run_tool(ip, &["netns", "list"])?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect())
}

/// The start time (clock ticks since boot) of process `pid`, if it exists.
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the owner recorded in a bridge alias (`gamefleet-netlab pid=.. start=..`) lives.
/// `None` when the alias is not a lab's.
fn owner_alive(alias: &str) -> Option<bool> {
    let mut words = alias.split_whitespace();
    if words.next()? != ALIAS_TAG {
        return None;
    }
    let mut pid = None;
    let mut start = None;
    for w in words {
        if let Some(v) = w.strip_prefix("pid=") {
            pid = v.parse::<u32>().ok();
        } else if let Some(v) = w.strip_prefix("start=") {
            start = v.parse::<u64>().ok();
        }
    }
    let (pid, start) = (pid?, start?);
    Some(process_start(pid) == Some(start))
}

/// SIGKILLs every process inside namespace `ns`; returns how many.
fn kill_netns_processes(ip: &Path, ns: &str) -> usize {
    let Ok(out) = run_tool(ip, &["netns", "pids", ns]) else {
        return 0;
    };
    let own = std::process::id();
    let mut killed = 0;
    for pid in out.split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
        if pid <= 1 || u32::try_from(pid).is_ok_and(|p| p == own) {
            continue;
        }
        if kill(Pid::from_raw(pid), Signal::SIGKILL).is_ok() {
            killed += 1;
        }
    }
    killed
}

/// The root-namespace FORWARD rules whose comment is `gamefleet-netlab:<bridge>` with a lab
/// bridge name of `prefix`: each bridge name with the `iptables -D` arguments removing it.
fn forward_rules(iptables: &Path, prefix: &str) -> Vec<(String, Vec<String>)> {
    let Ok(out) = run_tool(iptables, &["-w", "5", "-S", "FORWARD"]) else {
        return Vec::new();
    };
    out.lines()
        .filter_map(|line| {
            let words: Vec<String> = line
                .split_whitespace()
                .map(|w| w.trim_matches('"').to_owned())
                .collect();
            if words.first().map(String::as_str) != Some("-A") {
                return None;
            }
            let bridge = words
                .iter()
                .find_map(|w| w.strip_prefix(FORWARD_TAG))?
                .to_owned();
            parse_bridge(prefix, &bridge)?;
            let mut args = words;
            args[0] = "-D".to_owned();
            Some((bridge, args))
        })
        .collect()
}

/// What [`NetLab::sweep_stale`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sweep {
    /// The namespaces, interfaces and rules removed (names; rules as `FORWARD:<bridge>`).
    pub removed: Vec<String>,
    /// The run ids of labs left alone because their owner process is alive.
    pub live: Vec<String>,
    /// What could not be removed, and why.
    pub failures: Vec<String>,
}

/// What the lab has created so far (teardown removes exactly this) and the faults in force.
#[derive(Debug, Default)]
struct State {
    bridge: bool,
    forward_rule: bool,
    netns: BTreeSet<usize>,
    veths: BTreeSet<usize>,
    /// Nodes whose veth carries a netem qdisc.
    netem: BTreeSet<usize>,
    torn_down: bool,
}

/// A set of network namespaces, one per node, on a bridge of their own, with iptables/tc fault
/// injection. See the module docs.
pub struct NetLab {
    id: String,
    prefix: String,
    /// The first three octets of the lab's /24.
    net: [u8; 3],
    nodes: usize,
    /// `<prefix><id>n<i>` for every node.
    ns_names: Vec<String>,
    tools: Tools,
    state: Mutex<State>,
    netem: OnceLock<bool>,
}

impl fmt::Debug for NetLab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetLab")
            .field("bridge", &self.bridge())
            .field("subnet", &self.subnet())
            .field("nodes", &self.nodes)
            .finish()
    }
}

impl NetLab {
    /// Whether this process can build a lab here: root with the needed capabilities, and the
    /// tools installed. The error says what is missing.
    pub fn prerequisites() -> Result<(), Unavailable> {
        privileges()?;
        Tools::find().map(|_| ())
    }

    /// Installs `ip`, `tc` and `iptables` with `apt-get install -y iptables iproute2` when one
    /// is missing (an `apt-get update` and a retry if the first install fails). Needs root.
    pub fn ensure_tools() -> anyhow::Result<()> {
        let missing = match Tools::find() {
            Ok(_) => return Ok(()),
            Err(missing) => missing,
        };
        privileges().map_err(|e| anyhow!("{missing}; installing them needs root: {e}"))?;
        let apt = find_tool("apt-get")
            .ok_or_else(|| anyhow!("{missing}; and apt-get is not available to install them"))?;
        // NB: one install at a time in this process, and apt itself waits for the dpkg lock
        // (parallel tests may all find the tools missing at once).
        static INSTALLING: Mutex<()> = Mutex::new(());
        let _one = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
        if Tools::find().is_ok() {
            return Ok(());
        }
        let apt_run = |args: &[&str]| {
            run(
                Command::new(&apt)
                    .args(["-o", "DPkg::Lock::Timeout=300"])
                    .args(args)
                    .env("DEBIAN_FRONTEND", "noninteractive"),
                APT_TIMEOUT,
            )
        };
        eprintln!("gamefleet-chaos: network faults: {missing}; running `{INSTALL_COMMAND}`");
        let install = ["install", "-y", "iptables", "iproute2"];
        if let Err(first) = apt_run(&install) {
            eprintln!("gamefleet-chaos: {first}; running `apt-get update` and retrying");
            apt_run(&["update"]).map_err(|e| anyhow!("{e}"))?;
            apt_run(&install).map_err(|e| anyhow!("{e}"))?;
        }
        Tools::find().map_err(|e| anyhow!("after `{INSTALL_COMMAND}`: {e}"))?;
        Ok(())
    }

    /// Creates a lab of `nodes` namespaces (1 to [`MAX_NODES`]) with the default prefix.
    pub fn create(nodes: usize) -> anyhow::Result<NetLab> {
        NetLab::create_with_prefix(nodes, DEFAULT_PREFIX)
    }

    /// Creates a lab whose names start with `prefix` (1 to 4 lowercase letters) instead of
    /// [`DEFAULT_PREFIX`]. On error, whatever was created is removed again.
    pub fn create_with_prefix(nodes: usize, prefix: &str) -> anyhow::Result<NetLab> {
        check_prefix(prefix)?;
        if nodes == 0 || nodes > MAX_NODES {
            bail!("a network lab holds 1 to {MAX_NODES} nodes, not {nodes}");
        }
        privileges()?;
        let tools = Tools::find()?;
        let links = link_names(&tools.ip)?;
        let namespaces = netns_names(&tools.ip)?;
        let taken = |id: &str| {
            links
                .iter()
                .chain(&namespaces)
                .any(|name| name.strip_prefix(prefix).is_some_and(|r| r.contains(id)))
        };
        let id = (0..64)
            .map(|_| format!("{:06x}", rand::random::<u32>() & 0x00ff_ffff))
            .find(|id| !taken(id))
            .ok_or_else(|| anyhow!("cannot find an unused network lab id"))?;
        let mut lab = NetLab {
            id: id.clone(),
            prefix: prefix.to_owned(),
            net: [10, 0, 0],
            nodes,
            ns_names: (0..nodes).map(|i| format!("{prefix}{id}n{i}")).collect(),
            tools,
            state: Mutex::new(State::default()),
            netem: OnceLock::new(),
        };
        // NB: from here on an early return drops `lab`, and Drop removes what exists so far.
        lab.create_bridge()?;
        lab.allow_bridged_forwarding()?;
        for i in 0..nodes {
            lab.create_node(i)
                .with_context(|| format!("cannot set up {}", lab.netns(i)))?;
        }
        tracing::info!(bridge = %lab.bridge(), subnet = %lab.subnet(), nodes, "network lab up");
        Ok(lab)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn ip_cmd(&self, args: &[&str]) -> Result<String, CommandFailed> {
        run_tool(&self.tools.ip, args)
    }

    /// Runs `iptables -w 5 <args>` inside node `i`'s namespace.
    fn iptables(&self, i: usize, args: &[&str]) -> Result<String, CommandFailed> {
        let mut cmd = self.command(i, &self.tools.iptables);
        cmd.args(["-w", "5"]).args(args);
        run(&mut cmd, COMMAND_TIMEOUT)
    }

    /// Runs `tc <args>` inside node `i`'s namespace.
    fn tc(&self, i: usize, args: &[&str]) -> Result<String, CommandFailed> {
        let mut cmd = self.command(i, &self.tools.tc);
        cmd.args(args);
        run(&mut cmd, COMMAND_TIMEOUT)
    }

    fn create_bridge(&mut self) -> anyhow::Result<()> {
        let br = self.bridge();
        self.ip_cmd(&["link", "add", "name", &br, "type", "bridge"])?;
        self.lock().bridge = true;
        let own = std::process::id();
        let alias = format!(
            "{ALIAS_TAG} pid={own} start={}",
            process_start(own).unwrap_or(0)
        );
        self.ip_cmd(&["link", "set", "dev", &br, "alias", &alias])?;
        let seed = u32::from_str_radix(&self.id, 16).unwrap_or(0);
        for attempt in 0..200u32 {
            let n = seed.wrapping_add(attempt.wrapping_mul(40_503));
            let net = [
                10,
                200 + u8::try_from((n >> 8) % 50).unwrap_or(0),
                u8::try_from(n & 0xff).unwrap_or(0),
            ];
            let ours = Cidr {
                addr: u32::from(Ipv4Addr::new(net[0], net[1], net[2], 0)),
                len: 24,
            };
            let (addrs, routes) = used_prefixes(&self.tools.ip)?;
            if addrs.iter().any(|(_, c)| c.overlaps(&ours))
                || routes.iter().any(|c| c.overlaps(&ours))
            {
                continue;
            }
            let host = format!("{}/24", Ipv4Addr::new(net[0], net[1], net[2], 1));
            self.ip_cmd(&["addr", "add", &host, "dev", &br])?;
            // NB: a concurrent run may have picked the same /24 between our check and our add.
            // The one whose bridge name sorts lower keeps it; any other clash makes us move.
            let (addrs, _) = used_prefixes(&self.tools.ip)?;
            let clash = addrs.iter().any(|(ifname, c)| {
                *ifname != br
                    && c.overlaps(&ours)
                    && !(parse_bridge(&self.prefix, ifname).is_some() && *ifname > br)
            });
            if clash {
                let _ = self.ip_cmd(&["addr", "del", &host, "dev", &br]);
                continue;
            }
            self.net = net;
            self.ip_cmd(&["link", "set", "dev", &br, "up"])?;
            return Ok(());
        }
        bail!("no free /24 in 10.200.0.0-10.249.255.255 for the network lab")
    }

    /// Inserts the root-namespace FORWARD accept rule for the lab's bridge when bridged frames
    /// go through a FORWARD chain that could drop them (see the module docs).
    fn allow_bridged_forwarding(&self) -> anyhow::Result<()> {
        let nf = std::fs::read_to_string("/proc/sys/net/bridge/bridge-nf-call-iptables")
            .is_ok_and(|s| s.trim() == "1");
        if !nf {
            return Ok(());
        }
        let rules = run_tool(&self.tools.iptables, &["-w", "5", "-S", "FORWARD"])?;
        if rules
            .lines()
            .all(|l| l.trim().is_empty() || l.trim() == "-P FORWARD ACCEPT")
        {
            return Ok(());
        }
        let br = self.bridge();
        let comment = format!("{FORWARD_TAG}{br}");
        let rule =
            format!("-w 5 -I FORWARD 1 -i {br} -o {br} -m comment --comment {comment} -j ACCEPT");
        run_tool(&self.tools.iptables, &words(&rule))?;
        self.lock().forward_rule = true;
        Ok(())
    }

    fn create_node(&self, i: usize) -> anyhow::Result<()> {
        let ns = self.netns(i).to_owned();
        let host_veth = self.host_veth(i);
        let ns_veth = self.ns_veth(i);
        let br = self.bridge();
        self.ip_cmd(&["netns", "add", &ns])?;
        self.lock().netns.insert(i);
        self.ip_cmd(&[
            "link", "add", "name", &host_veth, "type", "veth", "peer", "name", &ns_veth, "netns",
            &ns,
        ])?;
        self.lock().veths.insert(i);
        self.ip_cmd(&["link", "set", "dev", &host_veth, "master", &br, "up"])?;
        self.ip_cmd(&["-n", &ns, "link", "set", "dev", "lo", "up"])?;
        let addr = format!("{}/24", self.ip(i));
        self.ip_cmd(&["-n", &ns, "addr", "add", &addr, "dev", &ns_veth])?;
        self.ip_cmd(&["-n", &ns, "link", "set", "dev", &ns_veth, "up"])?;
        self.iptables(i, &["-N", CHAIN_IN])?;
        self.iptables(i, &["-N", CHAIN_OUT])?;
        self.iptables(i, &["-A", "INPUT", "-i", &ns_veth, "-j", CHAIN_IN])?;
        self.iptables(i, &["-A", "OUTPUT", "-o", &ns_veth, "-j", CHAIN_OUT])?;
        // NB: a conntrack match turns connection tracking on in this namespace now, so every
        // connection is tracked from its first packet and `cut_connections_one_way` knows who
        // opened it. The rule has no target: it only counts.
        self.iptables(
            i,
            &["-A", "INPUT", "-m", "conntrack", "--ctstate", "INVALID"],
        )?;
        Ok(())
    }

    /// The run id: 6 hex digits, part of every name the lab creates.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The number of nodes (namespaces).
    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// The bridge's name (`<prefix>b<id>`), in the root namespace.
    pub fn bridge(&self) -> String {
        format!("{}b{}", self.prefix, self.id)
    }

    /// The lab's subnet, e.g. `10.213.7.0/24`.
    pub fn subnet(&self) -> String {
        let [a, b, c] = self.net;
        format!("{a}.{b}.{c}.0/24")
    }

    /// The root namespace's address on the bridge (`.1`): what packets from the harness and
    /// clients come from.
    pub fn host_ip(&self) -> Ipv4Addr {
        let [a, b, c] = self.net;
        Ipv4Addr::new(a, b, c, 1)
    }

    /// Node `i`'s address (`.10 + i`).
    ///
    /// # Panics
    /// If `i >= self.nodes()` (a caller bug, like an out-of-range slice index).
    pub fn ip(&self, i: usize) -> Ipv4Addr {
        self.assert_index(i);
        let [a, b, c] = self.net;
        let d = u8::try_from(FIRST_NODE_OCTET + i).unwrap_or(u8::MAX);
        Ipv4Addr::new(a, b, c, d)
    }

    /// Node `i`'s network namespace (`<prefix><id>n<i>`).
    ///
    /// # Panics
    /// If `i >= self.nodes()`.
    pub fn netns(&self, i: usize) -> &str {
        self.assert_index(i);
        &self.ns_names[i]
    }

    /// Node `i`'s root-namespace veth end (`<prefix><id>v<i>`, a port of the bridge).
    pub fn host_veth(&self, i: usize) -> String {
        format!("{}{}v{i}", self.prefix, self.id)
    }

    /// Node `i`'s veth end inside its namespace (`<prefix><id>p<i>`).
    pub fn ns_veth(&self, i: usize) -> String {
        format!("{}{}p{i}", self.prefix, self.id)
    }

    fn assert_index(&self, i: usize) {
        assert!(
            i < self.nodes,
            "node index {i} out of range (the network lab has {} nodes)",
            self.nodes
        );
    }

    fn check_index(&self, i: usize) -> anyhow::Result<()> {
        if i >= self.nodes {
            bail!(
                "node index {i} out of range (the network lab has {} nodes)",
                self.nodes
            );
        }
        if self.lock().torn_down {
            bail!("the network lab {} has been torn down", self.bridge());
        }
        Ok(())
    }

    /// `ip netns exec <netns(i)> <program>`: add arguments and spawn it; the process (and its
    /// children) run inside node `i`'s namespace. `ip netns exec` execs `program`, so the
    /// spawned child's pid is the program's own.
    ///
    /// # Panics
    /// If `i >= self.nodes()`.
    pub fn command(&self, i: usize, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(&self.tools.ip);
        cmd.arg("netns").arg("exec").arg(self.netns(i)).arg(program);
        cmd
    }

    /// Adds a DROP rule in node `i`'s namespace: `dir` is `-s` (INPUT from `addr`) or `-d`
    /// (OUTPUT to `addr`); `extra` are more match arguments.
    fn drop_rule(&self, i: usize, dir: &str, addr: Ipv4Addr, extra: &[&str]) -> anyhow::Result<()> {
        let chain = if dir == "-s" { CHAIN_IN } else { CHAIN_OUT };
        let addr = addr.to_string();
        let mut args = vec!["-A", chain, dir, addr.as_str()];
        args.extend_from_slice(extra);
        args.extend(["-j", "DROP"]);
        self.iptables(i, &args)?;
        Ok(())
    }

    /// Drops every packet between nodes `a` and `b`, in both namespaces.
    fn cut_between(&self, a: usize, b: usize) -> anyhow::Result<()> {
        for (x, y) in [(a, b), (b, a)] {
            self.drop_rule(x, "-d", self.ip(y), &[])?;
            self.drop_rule(x, "-s", self.ip(y), &[])?;
        }
        Ok(())
    }

    /// Nodes in different groups cannot exchange packets; each group keeps talking to itself.
    /// Nodes in no group are not affected. The root namespace (clients, the harness) still
    /// reaches every node. Fails, changing nothing, on an out-of-range or repeated index.
    pub fn partition(&self, groups: &[Vec<usize>]) -> anyhow::Result<()> {
        let mut group_of: BTreeMap<usize, usize> = BTreeMap::new();
        for (g, members) in groups.iter().enumerate() {
            for &i in members {
                self.check_index(i)?;
                if group_of.insert(i, g).is_some() {
                    bail!("node {i} appears in more than one partition group: {groups:?}");
                }
            }
        }
        for (&a, &ga) in &group_of {
            for (&b, &gb) in group_of.range(a + 1..) {
                if ga != gb {
                    self.cut_between(a, b)?;
                }
            }
        }
        Ok(())
    }

    /// Cuts node `i` off from every other node (the root namespace still reaches it).
    pub fn isolate(&self, i: usize) -> anyhow::Result<()> {
        self.check_index(i)?;
        let others: Vec<usize> = (0..self.nodes).filter(|&j| j != i).collect();
        self.partition(&[vec![i], others])
    }

    /// Cuts node `i` off from the root namespace: clients and the harness can no longer reach
    /// it (its links to other nodes are unchanged).
    pub fn isolate_from_clients(&self, i: usize) -> anyhow::Result<()> {
        self.check_index(i)?;
        self.drop_rule(i, "-d", self.host_ip(), &[])?;
        self.drop_rule(i, "-s", self.host_ip(), &[])
    }

    /// Drops every packet from node `from` to node `to`; packets from `to` to `from` still
    /// flow. Note that TCP needs both directions: connections either way stall (only their
    /// packets towards `from` arrive). See [`NetLab::cut_connections_one_way`] for the
    /// connection-level variant.
    pub fn cut_one_way(&self, from: usize, to: usize) -> anyhow::Result<()> {
        self.check_index(from)?;
        self.check_index(to)?;
        if from == to {
            bail!("cannot cut node {from} from itself");
        }
        self.drop_rule(from, "-d", self.ip(to), &[])?;
        self.drop_rule(to, "-s", self.ip(from), &[])
    }

    /// Node `from` can no longer open (or keep using) connections to node `to`, while
    /// connections `to` opens to `from` keep working in both directions: with gRPC, `from`'s
    /// RPCs to `to` fail and `to`'s RPCs to `from` succeed. Uses conntrack's direction of each
    /// connection.
    pub fn cut_connections_one_way(&self, from: usize, to: usize) -> anyhow::Result<()> {
        self.check_index(from)?;
        self.check_index(to)?;
        if from == to {
            bail!("cannot cut node {from} from itself");
        }
        let original = ["-m", "conntrack", "--ctdir", "ORIGINAL"];
        let reply = ["-m", "conntrack", "--ctdir", "REPLY"];
        // In `from`: its requests to `to`, and the replies to them.
        self.drop_rule(from, "-d", self.ip(to), &original)?;
        self.drop_rule(from, "-s", self.ip(to), &reply)?;
        // In `to`: the same connections, seen from the other end.
        self.drop_rule(to, "-s", self.ip(from), &original)?;
        self.drop_rule(to, "-d", self.ip(from), &reply)
    }

    /// Each packet into or out of node `i` (from or to any address, clients included) is
    /// dropped with probability `percent` / 100. Uses the iptables `statistic` match, so it
    /// works without netem.
    pub fn lossy(&self, i: usize, percent: f64) -> anyhow::Result<()> {
        self.check_index(i)?;
        if !percent.is_finite() || !(0.0..=100.0).contains(&percent) {
            bail!("loss must be a percentage from 0 to 100, not {percent}");
        }
        if percent == 0.0 {
            return Ok(());
        }
        let p = format!("{:.6}", percent / 100.0);
        for chain in [CHAIN_IN, CHAIN_OUT] {
            let rule = format!("-A {chain} -m statistic --mode random --probability {p} -j DROP");
            self.iptables(i, &words(&rule))?;
        }
        Ok(())
    }

    /// Every packet node `i` sends (to nodes and clients alike) is delayed by `delay_ms`, with
    /// a uniform jitter of +/- `jitter_ms` (jitter may reorder packets): a round trip with the
    /// node takes `delay_ms` longer. A netem qdisc on the node's veth; a second call replaces
    /// the first. Fails with [`Unavailable::NoNetem`] on kernels without netem.
    pub fn slow(&self, i: usize, delay_ms: u32, jitter_ms: u32) -> anyhow::Result<()> {
        self.check_index(i)?;
        if delay_ms > 60_000 || jitter_ms > 60_000 {
            bail!(
                "a delay or jitter above 60 s ({delay_ms} ms, {jitter_ms} ms) is not a slow link"
            );
        }
        let dev = self.ns_veth(i);
        let delay = format!("{delay_ms}ms");
        let jitter = format!("{jitter_ms}ms");
        let mut args = vec![
            "qdisc", "replace", "dev", &dev, "root", "netem", "limit", "100000", "delay", &delay,
        ];
        if jitter_ms > 0 {
            args.push(&jitter);
        }
        match self.tc(i, &args) {
            Ok(_) => {
                self.lock().netem.insert(i);
                Ok(())
            }
            Err(e) if e.stderr().contains("qdisc kind is unknown") => {
                Err(anyhow::Error::new(e).context(Unavailable::NoNetem))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the kernel has the netem qdisc that [`NetLab::slow`] needs (probed once, on
    /// node 0's veth, and remembered).
    pub fn netem_supported(&self) -> bool {
        *self.netem.get_or_init(|| {
            if self.lock().torn_down {
                return false;
            }
            let dev = self.host_veth(0);
            let probe = self.ip_cmd(&["link", "show", "dev", &dev]).and_then(|_| {
                run_tool(
                    &self.tools.tc,
                    &["qdisc", "add", "dev", &dev, "root", "netem", "delay", "0ms"],
                )
            });
            let ok = probe.is_ok();
            if ok {
                let _ = run_tool(&self.tools.tc, &["qdisc", "del", "dev", &dev, "root"]);
            }
            ok
        })
    }

    /// Removes every fault: flushes the lab's iptables chains and deletes its netem qdiscs.
    /// Tries everything, then reports what failed.
    pub fn heal(&self) -> anyhow::Result<()> {
        let mut failures = Vec::new();
        if self.lock().torn_down {
            bail!("the network lab {} has been torn down", self.bridge());
        }
        for i in 0..self.nodes {
            for chain in [CHAIN_IN, CHAIN_OUT] {
                if let Err(e) = self.iptables(i, &["-F", chain]) {
                    failures.push(e.to_string());
                }
            }
        }
        let netem: Vec<usize> = std::mem::take(&mut self.lock().netem).into_iter().collect();
        for i in netem {
            let dev = self.ns_veth(i);
            match self.tc(i, &["qdisc", "del", "dev", &dev, "root"]) {
                Err(e) if !e.is_absent() => {
                    failures.push(e.to_string());
                    self.lock().netem.insert(i);
                }
                _ => {}
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            bail!(
                "healing the network lab {} failed: {}",
                self.bridge(),
                failures.join("; ")
            )
        }
    }

    /// Removes the lab: kills the processes still inside its namespaces, deletes the
    /// namespaces, veths, root-namespace rule and bridge. Idempotent and best-effort: it tries
    /// everything, logs each failure to stderr and returns them. `Drop` calls it.
    pub fn teardown(&self) -> anyhow::Result<()> {
        let mut state = self.lock();
        if state.torn_down {
            return Ok(());
        }
        state.torn_down = true;
        let mut failures = Vec::new();
        let mut note = |r: Result<String, CommandFailed>| {
            if let Err(e) = r
                && !e.is_absent()
            {
                failures.push(e.to_string());
            }
        };
        for &i in &state.netns {
            let ns = &self.ns_names[i];
            let killed = kill_netns_processes(&self.tools.ip, ns);
            if killed > 0 {
                eprintln!("gamefleet-chaos: netlab: killed {killed} leftover process(es) in {ns}");
            }
            note(self.ip_cmd(&["netns", "del", ns]));
        }
        for &i in &state.veths {
            note(self.ip_cmd(&["link", "del", "dev", &self.host_veth(i)]));
        }
        if state.forward_rule {
            let br = self.bridge();
            let comment = format!("{FORWARD_TAG}{br}");
            let rule =
                format!("-w 5 -D FORWARD -i {br} -o {br} -m comment --comment {comment} -j ACCEPT");
            note(run_tool(&self.tools.iptables, &words(&rule)));
        }
        if state.bridge {
            note(self.ip_cmd(&["link", "del", "dev", &self.bridge()]));
        }
        state.netns.clear();
        state.veths.clear();
        state.netem.clear();
        state.forward_rule = false;
        state.bridge = false;
        drop(state);
        if failures.is_empty() {
            return Ok(());
        }
        for f in &failures {
            eprintln!("gamefleet-chaos: netlab {}: teardown: {f}", self.bridge());
        }
        bail!(
            "tearing down the network lab {} left something behind: {}",
            self.bridge(),
            failures.join("; ")
        )
    }

    /// Removes what crashed runs left behind: labs named with `prefix` (normally
    /// [`DEFAULT_PREFIX`]) whose owner process, recorded in the bridge's alias, is gone, and
    /// namespaces / veths / FORWARD rules of ours that have no live lab bridge. A bridge
    /// without our alias is never touched; live labs (of this or any other process) are left
    /// alone.
    pub fn sweep_stale(prefix: &str) -> anyhow::Result<Sweep> {
        check_prefix(prefix)?;
        privileges()?;
        let tools = Tools::find()?;
        let links = link_names(&tools.ip)?;
        let namespaces = netns_names(&tools.ip)?;
        // Run id -> whether its owner lives (`None`: no lab bridge seen for it).
        let mut labs: BTreeMap<String, Option<bool>> = BTreeMap::new();
        let mut foreign_bridges = BTreeSet::new();
        for link in &links {
            if let Some(id) = parse_bridge(prefix, link) {
                let alias = std::fs::read_to_string(format!("/sys/class/net/{link}/ifalias"))
                    .unwrap_or_default();
                match owner_alive(&alias) {
                    Some(alive) => {
                        labs.insert(id.to_owned(), Some(alive));
                    }
                    None => {
                        foreign_bridges.insert(id.to_owned());
                    }
                }
            }
        }
        let members = namespaces
            .iter()
            .filter_map(|n| parse_member(prefix, n, 'n'))
            .chain(links.iter().filter_map(|l| parse_member(prefix, l, 'v')));
        for (id, _) in members {
            labs.entry(id.to_owned()).or_insert(None);
        }
        let mut sweep = Sweep::default();
        let stale = |id: &str| {
            !foreign_bridges.contains(id) && labs.get(id).is_none_or(|alive| *alive != Some(true))
        };
        let note = |what: String, r: Result<String, CommandFailed>, sweep: &mut Sweep| match r {
            Ok(_) => sweep.removed.push(what),
            Err(e) if e.is_absent() => {}
            Err(e) => sweep.failures.push(e.to_string()),
        };
        for ns in &namespaces {
            if let Some((id, _)) = parse_member(prefix, ns, 'n')
                && stale(id)
            {
                kill_netns_processes(&tools.ip, ns);
                let r = run_tool(&tools.ip, &["netns", "del", ns]);
                note(ns.clone(), r, &mut sweep);
            }
        }
        for link in &links {
            if let Some((id, _)) = parse_member(prefix, link, 'v')
                && stale(id)
            {
                let r = run_tool(&tools.ip, &["link", "del", "dev", link]);
                note(link.clone(), r, &mut sweep);
            }
        }
        for (bridge, args) in forward_rules(&tools.iptables, prefix) {
            if parse_bridge(prefix, &bridge).is_some_and(stale) {
                let mut full = vec!["-w", "5"];
                full.extend(args.iter().map(String::as_str));
                let r = run_tool(&tools.iptables, &full);
                note(format!("FORWARD:{bridge}"), r, &mut sweep);
            }
        }
        for link in &links {
            if let Some(id) = parse_bridge(prefix, link)
                && !foreign_bridges.contains(id)
                && stale(id)
            {
                let r = run_tool(&tools.ip, &["link", "del", "dev", link]);
                note(link.clone(), r, &mut sweep);
            }
        }
        sweep.live = labs
            .iter()
            .filter(|(_, alive)| **alive == Some(true))
            .map(|(id, _)| id.clone())
            .collect();
        if !sweep.removed.is_empty() {
            eprintln!(
                "gamefleet-chaos: netlab: removed stale {}",
                sweep.removed.join(", ")
            );
        }
        Ok(sweep)
    }
}

impl Drop for NetLab {
    fn drop(&mut self) {
        // Failures are logged by teardown itself; Drop cannot report them otherwise.
        let _ = self.teardown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_only_our_pattern() {
        assert_eq!(parse_bridge("gf", "gfb0a1b2c"), Some("0a1b2c"));
        assert_eq!(parse_bridge("gf", "gfb0a1b2"), None);
        assert_eq!(parse_bridge("gf", "gfb0a1b2cd"), None);
        assert_eq!(parse_bridge("gf", "gfbXa1b2c"), None);
        assert_eq!(parse_bridge("gf", "docker0"), None);
        assert_eq!(parse_member("gf", "gf0a1b2cn12", 'n'), Some(("0a1b2c", 12)));
        assert_eq!(parse_member("gf", "gf0a1b2cv0", 'v'), Some(("0a1b2c", 0)));
        assert_eq!(parse_member("gf", "gf0a1b2cv0", 'n'), None);
        assert_eq!(parse_member("gf", "gf0a1b2cn", 'n'), None);
        assert_eq!(parse_member("gf", "gf0a1b2cn1x", 'n'), None);
        assert_eq!(parse_member("gf", "gf0a1b", 'n'), None);
        assert_eq!(parse_member("gf", "gféééé", 'n'), None);
    }

    #[test]
    fn prefixes_are_checked() {
        assert!(check_prefix("gf").is_ok());
        assert!(check_prefix("").is_err());
        assert!(check_prefix("toolong").is_err());
        assert!(check_prefix("g-").is_err());
    }

    #[test]
    fn cidr_overlap() {
        let c = |s| Cidr::parse(s).unwrap();
        assert!(c("10.200.3.0/24").overlaps(&c("10.0.0.0/8")));
        assert!(c("10.200.3.0/24").overlaps(&c("10.200.3.77")));
        assert!(!c("10.200.3.0/24").overlaps(&c("10.200.4.0/24")));
        assert!(c("0.0.0.0/0").overlaps(&c("192.0.2.1/32")));
        assert!(!c("192.0.2.0/24").overlaps(&c("10.0.0.0/8")));
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(Cidr::parse("nope"), None);
    }

    #[test]
    fn aliases_name_their_owner() {
        assert_eq!(owner_alive("something else"), None);
        assert_eq!(owner_alive("gamefleet-netlab pid=x"), None);
        let own = std::process::id();
        let start = process_start(own).unwrap();
        assert_eq!(
            owner_alive(&format!("gamefleet-netlab pid={own} start={start}")),
            Some(true)
        );
        assert_eq!(
            owner_alive(&format!("gamefleet-netlab pid={own} start={}", start + 1)),
            Some(false)
        );
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(NetLab::create(0).is_err());
        assert!(NetLab::create(MAX_NODES + 1).is_err());
        assert!(NetLab::create_with_prefix(1, "BAD").is_err());
    }
}
