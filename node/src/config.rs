//! Node configuration: a TOML file, command-line flags and `GAMEFLEET_*`
//! environment variables, merged (flag or env over file over default) and
//! validated into a [`NodeConfig`]. Every rule names the setting it checks.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Flags of `gamefleetd run`; each also reads a `GAMEFLEET_*` variable.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct RunArgs {
    /// TOML config file with the same settings (flags win over the file).
    #[arg(long, env = "GAMEFLEET_CONFIG")]
    pub config: Option<PathBuf>,
    /// Unique node name (letters, digits, '-', '_', '.'; 1-63 characters). Default: the host name.
    #[arg(long, env = "GAMEFLEET_NAME")]
    pub name: Option<String>,
    /// Data directory (Raft log, snapshots, node identity). Default: ./gamefleet-data.
    #[arg(long, env = "GAMEFLEET_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on for all gRPC traffic (clients, operators, peers). Default: 127.0.0.1:7400.
    #[arg(long, env = "GAMEFLEET_LISTEN")]
    pub listen: Option<String>,
    /// Address other nodes and clients use to reach this node. Default: the listen address.
    #[arg(long, env = "GAMEFLEET_ADVERTISE")]
    pub advertise: Option<String>,
    /// Join an existing cluster through any of these members (host:port, comma separated).
    #[arg(long, env = "GAMEFLEET_JOIN", value_delimiter = ',')]
    pub join: Vec<String>,
    /// With no --join and an empty data dir, wait for `gamefleet node join` instead of bootstrapping.
    #[arg(long, env = "GAMEFLEET_NO_BOOTSTRAP")]
    pub no_bootstrap: bool,
    /// Node labels, KEY=VALUE (repeat, or comma separated), e.g. location=custom-eu.
    #[arg(long = "label", env = "GAMEFLEET_LABELS", value_delimiter = ',')]
    pub labels: Vec<String>,
    /// Voters the leader keeps in the cluster: 1, 3 or 5. Default: 3.
    #[arg(long, env = "GAMEFLEET_VOTERS")]
    pub voters: Option<u64>,
    /// Raft heartbeat interval in ms. Default: 100.
    #[arg(long, env = "GAMEFLEET_HEARTBEAT_MS")]
    pub heartbeat_ms: Option<u64>,
    /// Lower bound of the election timeout in ms. Default: 150.
    #[arg(long, env = "GAMEFLEET_ELECTION_TIMEOUT_MIN_MS")]
    pub election_timeout_min_ms: Option<u64>,
    /// Upper bound of the election timeout in ms. Default: 300.
    #[arg(long, env = "GAMEFLEET_ELECTION_TIMEOUT_MAX_MS")]
    pub election_timeout_max_ms: Option<u64>,
    /// Take a snapshot after this many log entries. Default: 5000.
    #[arg(long, env = "GAMEFLEET_SNAPSHOT_LOGS")]
    pub snapshot_logs: Option<u64>,
    /// Log entries kept after a snapshot. Default: 1000.
    #[arg(long, env = "GAMEFLEET_KEEP_LOGS")]
    pub keep_logs: Option<u64>,
    /// sled page cache in MiB. Default: 128.
    #[arg(long, env = "GAMEFLEET_SLED_CACHE_MB")]
    pub sled_cache_mb: Option<u64>,
    /// How long a write may take to commit before it fails with Unavailable, in ms. Default: 5000.
    #[arg(long, env = "GAMEFLEET_PROPOSE_TIMEOUT_MS")]
    pub propose_timeout_ms: Option<u64>,
    /// Log filter (tracing EnvFilter syntax). Default: info,openraft=warn.
    #[arg(long, env = "GAMEFLEET_LOG")]
    pub log: Option<String>,
    /// Address of the game-server SDK endpoint (WebSocket, GameLift Server SDK 5). Default: listen port + 1000.
    #[arg(long, env = "GAMEFLEET_SDK_LISTEN")]
    pub sdk_listen: Option<String>,
    /// Seconds a new process has to connect (InitSDK). Default: 300.
    #[arg(long, env = "GAMEFLEET_SDK_INIT_TIMEOUT_S")]
    pub sdk_init_timeout_s: Option<u64>,
    /// Seconds a process has to call ProcessReady after InitSDK. Default: 300.
    #[arg(long, env = "GAMEFLEET_PROCESS_READY_TIMEOUT_S")]
    pub process_ready_timeout_s: Option<u64>,
    /// Heartbeat interval expected from game servers, in seconds; 3 missed = unhealthy. Default: 60.
    #[arg(long, env = "GAMEFLEET_HEALTH_CHECK_INTERVAL_S")]
    pub health_check_interval_s: Option<u64>,
    /// Seconds a process may take to exit after ProcessEnding. Default: 30.
    #[arg(long, env = "GAMEFLEET_PROCESS_EXIT_TIMEOUT_S")]
    pub process_exit_timeout_s: Option<u64>,
    /// Seconds between OnProcessTerminate and a forced kill. Default: 300.
    #[arg(long, env = "GAMEFLEET_TERMINATE_GRACE_S")]
    pub terminate_grace_s: Option<u64>,
    /// A build directory on this node, NAME=ABSOLUTE_DIR (repeat, or comma separated): a launch
    /// path `NAME/bin/server` runs ABSOLUTE_DIR/bin/server.
    #[arg(
        long = "build-dir",
        env = "GAMEFLEET_BUILD_DIRS",
        value_delimiter = ','
    )]
    pub build_dirs: Vec<String>,
    /// IpAddress game clients use to reach this node's game servers. Default: the advertise
    /// address's IP (127.0.0.1 when advertise is a host name).
    #[arg(long, env = "GAMEFLEET_GAME_IP")]
    pub game_ip: Option<String>,
    /// DnsName game clients may use instead of the IP. Default: none.
    #[arg(long, env = "GAMEFLEET_GAME_DNS_NAME")]
    pub game_dns_name: Option<String>,
    /// Seconds a player session stays RESERVED before it times out (leader setting). Default: 60.
    #[arg(long, env = "GAMEFLEET_PLAYER_SESSION_TIMEOUT_S")]
    pub player_session_timeout_s: Option<u64>,
    /// Ms a node may not answer the leader before its game sessions are declared lost (leader
    /// setting). Default: 5000.
    #[arg(long, env = "GAMEFLEET_NODE_LOST_AFTER_MS")]
    pub node_lost_after_ms: Option<u64>,
}

/// The config file's shape; unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    name: Option<String>,
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    advertise: Option<String>,
    join: Option<Vec<String>>,
    bootstrap: Option<bool>,
    labels: Option<BTreeMap<String, String>>,
    voters: Option<u64>,
    sled_cache_mb: Option<u64>,
    propose_timeout_ms: Option<u64>,
    log: Option<String>,
    raft: Option<RaftFile>,
    hosting: Option<HostingFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostingFile {
    sdk_listen: Option<String>,
    sdk_init_timeout_s: Option<u64>,
    process_ready_timeout_s: Option<u64>,
    health_check_interval_s: Option<u64>,
    process_exit_timeout_s: Option<u64>,
    terminate_grace_s: Option<u64>,
    build_dirs: Option<BTreeMap<String, PathBuf>>,
    game_ip: Option<String>,
    game_dns_name: Option<String>,
    player_session_timeout_s: Option<u64>,
    node_lost_after_ms: Option<u64>,
}

/// Game server hosting: the SDK endpoint and the process timers (GameLift's defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostingSettings {
    pub sdk_listen: SocketAddr,
    pub sdk_init_timeout_s: u64,
    pub process_ready_timeout_s: u64,
    pub health_check_interval_s: u64,
    pub process_exit_timeout_s: u64,
    pub terminate_grace_s: u64,
    /// Registered build directories: name → absolute directory.
    pub build_dirs: BTreeMap<String, PathBuf>,
    /// IpAddress of game sessions hosted here.
    pub game_ip: IpAddr,
    /// DnsName of game sessions hosted here.
    pub game_dns_name: Option<String>,
    /// RESERVED → TIMEDOUT after this long (applied by the leader).
    pub player_session_timeout_s: u64,
    /// A node silent this long is lost (applied by the leader).
    pub node_lost_after_ms: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RaftFile {
    heartbeat_ms: Option<u64>,
    election_timeout_min_ms: Option<u64>,
    election_timeout_max_ms: Option<u64>,
    snapshot_logs: Option<u64>,
    keep_logs: Option<u64>,
}

/// Raft timings and log compaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaftSettings {
    pub heartbeat_ms: u64,
    pub election_timeout_min_ms: u64,
    pub election_timeout_max_ms: u64,
    pub snapshot_logs: u64,
    pub keep_logs: u64,
}

/// A validated node configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    pub name: String,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub advertise: String,
    pub join: Vec<String>,
    pub bootstrap: bool,
    pub labels: BTreeMap<String, String>,
    pub voters: u64,
    pub raft: RaftSettings,
    pub sled_cache_mb: u64,
    pub propose_timeout_ms: u64,
    pub log: String,
    pub hosting: HostingSettings,
}

/// A configuration problem, naming the setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {message}")]
    File { path: String, message: String },
    #[error("{setting}: {rule}")]
    Invalid { setting: &'static str, rule: String },
}

fn invalid(setting: &'static str, rule: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        rule: rule.into(),
    }
}

/// Checks `host:port` (port 1-65535, non-empty host without spaces).
pub fn check_host_port(setting: &'static str, value: &str) -> Result<(), ConfigError> {
    let rule = || invalid(setting, format!("{value:?} is not host:port"));
    let (host, port) = value.rsplit_once(':').ok_or_else(rule)?;
    let port: u16 = port.parse().map_err(|_| rule())?;
    if host.is_empty() || port == 0 || host.contains(char::is_whitespace) || host.contains('/') {
        return Err(rule());
    }
    Ok(())
}

fn default_name() -> String {
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default();
    let clean: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
        .take(63)
        .collect();
    if clean.is_empty() {
        "gamefleet-node".into()
    } else {
        clean
    }
}

fn parse_label(s: &str) -> Result<(String, String), ConfigError> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| invalid("label", format!("{s:?} is not KEY=VALUE")))?;
    Ok((k.to_string(), v.to_string()))
}

impl NodeConfig {
    /// Reads the file named by `--config` (if any) and merges it with the flags.
    pub fn load(args: &RunArgs) -> Result<NodeConfig, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let raft = file.raft.unwrap_or_default();
        let mut labels = file.labels.unwrap_or_default();
        for l in &args.labels {
            let (k, v) = parse_label(l)?;
            labels.insert(k, v);
        }
        let listen_s = args
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:7400".into());
        let listen: SocketAddr = listen_s.parse().map_err(|_| {
            invalid(
                "listen",
                format!("{listen_s:?} is not an IP:port socket address"),
            )
        })?;
        let advertise = match args.advertise.clone().or(file.advertise) {
            Some(a) => a,
            None if listen.ip().is_unspecified() => {
                return Err(invalid(
                    "advertise",
                    "required when listen is an unspecified address (0.0.0.0 or ::)",
                ));
            }
            None => listen.to_string(),
        };
        let h = file.hosting.unwrap_or_default();
        let sdk_listen_s = match args.sdk_listen.clone().or(h.sdk_listen) {
            Some(s) => s,
            None => {
                let port = listen.port().checked_add(1000).ok_or_else(|| {
                    invalid("sdk_listen", "required when the listen port is above 64535")
                })?;
                SocketAddr::new(listen.ip(), port).to_string()
            }
        };
        let sdk_listen: SocketAddr = sdk_listen_s.parse().map_err(|_| {
            invalid(
                "sdk_listen",
                format!("{sdk_listen_s:?} is not an IP:port socket address"),
            )
        })?;
        let mut build_dirs = h.build_dirs.unwrap_or_default();
        for b in &args.build_dirs {
            let (k, v) = b
                .split_once('=')
                .ok_or_else(|| invalid("build_dir", format!("{b:?} is not NAME=DIRECTORY")))?;
            build_dirs.insert(k.to_string(), PathBuf::from(v));
        }
        let game_ip = match args.game_ip.clone().or(h.game_ip) {
            Some(s) => s
                .parse::<IpAddr>()
                .map_err(|_| invalid("game_ip", format!("{s:?} is not an IP address")))?,
            None => default_game_ip(&advertise),
        };
        let hosting = HostingSettings {
            build_dirs,
            game_ip,
            game_dns_name: args.game_dns_name.clone().or(h.game_dns_name),
            player_session_timeout_s: args
                .player_session_timeout_s
                .or(h.player_session_timeout_s)
                .unwrap_or(60),
            node_lost_after_ms: args
                .node_lost_after_ms
                .or(h.node_lost_after_ms)
                .unwrap_or(5000),
            sdk_listen,
            sdk_init_timeout_s: args
                .sdk_init_timeout_s
                .or(h.sdk_init_timeout_s)
                .unwrap_or(300),
            process_ready_timeout_s: args
                .process_ready_timeout_s
                .or(h.process_ready_timeout_s)
                .unwrap_or(300),
            health_check_interval_s: args
                .health_check_interval_s
                .or(h.health_check_interval_s)
                .unwrap_or(60),
            process_exit_timeout_s: args
                .process_exit_timeout_s
                .or(h.process_exit_timeout_s)
                .unwrap_or(30),
            terminate_grace_s: args
                .terminate_grace_s
                .or(h.terminate_grace_s)
                .unwrap_or(300),
        };
        let join = if args.join.is_empty() {
            file.join.unwrap_or_default()
        } else {
            args.join.clone()
        };
        let cfg = NodeConfig {
            name: args.name.clone().or(file.name).unwrap_or_else(default_name),
            data_dir: args
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("gamefleet-data")),
            listen,
            advertise,
            join: join.into_iter().filter(|j| !j.trim().is_empty()).collect(),
            bootstrap: !args.no_bootstrap && file.bootstrap.unwrap_or(true),
            labels,
            voters: args.voters.or(file.voters).unwrap_or(3),
            raft: RaftSettings {
                heartbeat_ms: args.heartbeat_ms.or(raft.heartbeat_ms).unwrap_or(100),
                election_timeout_min_ms: args
                    .election_timeout_min_ms
                    .or(raft.election_timeout_min_ms)
                    .unwrap_or(150),
                election_timeout_max_ms: args
                    .election_timeout_max_ms
                    .or(raft.election_timeout_max_ms)
                    .unwrap_or(300),
                snapshot_logs: args.snapshot_logs.or(raft.snapshot_logs).unwrap_or(5000),
                keep_logs: args.keep_logs.or(raft.keep_logs).unwrap_or(1000),
            },
            sled_cache_mb: args.sled_cache_mb.or(file.sled_cache_mb).unwrap_or(128),
            propose_timeout_ms: args
                .propose_timeout_ms
                .or(file.propose_timeout_ms)
                .unwrap_or(5000),
            hosting,
            log: args
                .log
                .clone()
                .or(file.log)
                .unwrap_or_else(|| "info,openraft=warn".into()),
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// Checks every rule.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let n = self.name.chars().count();
        if n == 0
            || n > 63
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(invalid(
                "name",
                format!(
                    "{:?} must be 1-63 letters, digits, '-', '_' or '.'",
                    self.name
                ),
            ));
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err(invalid("data_dir", "must not be empty"));
        }
        check_host_port("advertise", &self.advertise)?;
        for j in &self.join {
            check_host_port("join", j)?;
        }
        for (k, v) in &self.labels {
            if k.is_empty()
                || k.len() > 63
                || !k
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
            {
                return Err(invalid(
                    "label",
                    format!("key {k:?} must be 1-63 letters, digits, '-', '_', '.' or '/'"),
                ));
            }
            if v.len() > 256 {
                return Err(invalid(
                    "label",
                    format!("value of {k:?} is longer than 256 bytes"),
                ));
            }
        }
        if ![1, 3, 5].contains(&self.voters) {
            return Err(invalid(
                "voters",
                format!("must be 1, 3 or 5 (got {})", self.voters),
            ));
        }
        let r = &self.raft;
        if r.heartbeat_ms < 10 {
            return Err(invalid("heartbeat_ms", "must be at least 10"));
        }
        if r.election_timeout_min_ms <= r.heartbeat_ms {
            return Err(invalid(
                "election_timeout_min_ms",
                "must be greater than heartbeat_ms",
            ));
        }
        if r.election_timeout_max_ms <= r.election_timeout_min_ms {
            return Err(invalid(
                "election_timeout_max_ms",
                "must be greater than election_timeout_min_ms",
            ));
        }
        if r.snapshot_logs < 10 {
            return Err(invalid("snapshot_logs", "must be at least 10"));
        }
        if self.sled_cache_mb == 0 {
            return Err(invalid("sled_cache_mb", "must be at least 1"));
        }
        let h = &self.hosting;
        for (setting, v) in [
            ("sdk_init_timeout_s", h.sdk_init_timeout_s),
            ("process_ready_timeout_s", h.process_ready_timeout_s),
            ("health_check_interval_s", h.health_check_interval_s),
            ("process_exit_timeout_s", h.process_exit_timeout_s),
            ("player_session_timeout_s", h.player_session_timeout_s),
        ] {
            if v == 0 {
                return Err(invalid(setting, "must be at least 1"));
            }
        }
        for (name, dir) in &h.build_dirs {
            if crate::fsm::hosting::validate_build_name(name).is_err() {
                return Err(invalid(
                    "build_dir",
                    format!("name {name:?} must be 1-63 letters, digits, '-', '_' or '.'"),
                ));
            }
            if !dir.is_absolute() || !dir.is_dir() {
                return Err(invalid(
                    "build_dir",
                    format!(
                        "{name}: {} is not an existing absolute directory",
                        dir.display()
                    ),
                ));
            }
        }
        if h.node_lost_after_ms < 1000 {
            return Err(invalid("node_lost_after_ms", "must be at least 1000"));
        }
        if let Some(d) = &h.game_dns_name
            && (d.is_empty() || d.len() > 253)
        {
            return Err(invalid("game_dns_name", "must be 1 to 253 characters"));
        }
        if h.sdk_listen == self.listen {
            return Err(invalid("sdk_listen", "must differ from listen"));
        }
        if self.propose_timeout_ms < 100 {
            return Err(invalid("propose_timeout_ms", "must be at least 100"));
        }
        Ok(())
    }
}

/// The advertise address's IP, or loopback when it is a host name.
fn default_game_ip(advertise: &str) -> IpAddr {
    advertise
        .parse::<SocketAddr>()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
}

impl NodeConfig {
    /// IpAddress of the game sessions this node hosts.
    pub fn game_ip(&self) -> IpAddr {
        self.hosting.game_ip
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let err = |message: String| ConfigError::File {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    toml::from_str(&text).map_err(|e| err(e.to_string().trim().replace('\n', " ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_toml(toml: &str, args: RunArgs) -> Result<NodeConfig, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        std::fs::write(&path, toml).unwrap();
        NodeConfig::load(&RunArgs {
            config: Some(path),
            ..args
        })
    }

    #[test]
    fn file_values_and_flag_overrides() {
        let cfg = load_toml(
            "name = \"a\"\nlisten = \"127.0.0.1:9000\"\nvoters = 5\nlabels = { location = \"eu\" }\n[raft]\nheartbeat_ms = 50\n",
            RunArgs { name: Some("b".into()), ..Default::default() },
        )
        .unwrap();
        assert_eq!(cfg.name, "b");
        assert_eq!(cfg.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(cfg.advertise, "127.0.0.1:9000");
        assert_eq!(cfg.voters, 5);
        assert_eq!(cfg.raft.heartbeat_ms, 50);
        assert_eq!(cfg.labels.get("location").map(String::as_str), Some("eu"));
    }

    #[test]
    fn errors_name_the_setting() {
        let cases = [
            ("voters = 4", "voters"),
            ("listen = \"nope\"", "listen"),
            ("name = \"bad name\"", "name"),
            ("[raft]\nheartbeat_ms = 500", "election_timeout_min_ms"),
            ("join = [\"no-port\"]", "join"),
            ("listen = \"0.0.0.0:7400\"", "advertise"),
        ];
        for (toml, setting) in cases {
            let e = load_toml(toml, RunArgs::default()).unwrap_err().to_string();
            assert!(e.starts_with(setting), "{toml:?} gave {e:?}");
        }
        let e = load_toml("bogus = 1", RunArgs::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `bogus`"), "{e}");
        let e = load_toml("voters = [", RunArgs::default())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("config file"), "{e}");
    }
}
