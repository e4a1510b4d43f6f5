//! Fleet hosting as GameLift models it: runtime configuration (which server
//! processes run, how many), the port range and locations that place a fleet,
//! instance capacity, which nodes host a fleet, the server processes running
//! for it, and its event log. Rules and apply logic only; no IO.
//!
//! Only state transitions are replicated: a process launched, became ready,
//! changed health, started terminating or ended. Heartbeats stay on the node.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::error::FsmError;
use super::validate;

/// Most server process entries in a runtime configuration (GameLift).
pub const MAX_SERVER_PROCESSES: usize = 50;
/// Most processes one node (instance) runs for a fleet in total (GameLift).
pub const MAX_PROCESSES_PER_INSTANCE: i64 = 50;
/// Lowest and highest port a fleet's range may use (GameLift's Linux range).
pub const PORT_MIN: u16 = 1026;
/// See [`PORT_MIN`].
pub const PORT_MAX: u16 = 60000;
/// Events kept per fleet; older ones are dropped.
pub const MAX_EVENTS_PER_FLEET: usize = 500;
/// Event code a node records when a launch path cannot be executed.
pub const INVALID_PATH: &str = "SERVER_PROCESS_INVALID_PATH";
/// Most locations a fleet may name (GameLift).
pub const MAX_LOCATIONS: usize = 100;

/// One kind of server process and how many copies run on each instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerProcess {
    /// Absolute path of the game server executable on the nodes.
    pub launch_path: String,
    /// Command-line parameters; `{port}` is replaced by the process's port.
    pub parameters: Option<String>,
    /// Copies per instance, at least 1.
    pub concurrent_executions: i32,
}

/// GameLift's RuntimeConfiguration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeConfiguration {
    pub server_processes: Vec<ServerProcess>,
    pub max_concurrent_game_session_activations: Option<i32>,
    pub game_session_activation_timeout_seconds: Option<i32>,
}

/// Ports the fleet's processes listen on, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRange {
    pub from_port: u16,
    pub to_port: u16,
}

/// Instance (node) capacity: how many nodes host the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capacity {
    pub desired: i32,
    pub min: i32,
    pub max: i32,
}

impl Default for Capacity {
    fn default() -> Self {
        // GameLift: a new fleet has one instance; MinSize 0, MaxSize 1.
        Capacity {
            desired: 1,
            min: 0,
            max: 1,
        }
    }
}

impl RuntimeConfiguration {
    /// Processes each instance runs in total.
    pub fn processes_per_instance(&self) -> i64 {
        self.server_processes
            .iter()
            .map(|p| i64::from(p.concurrent_executions))
            .sum()
    }

    /// Checks GameLift's RuntimeConfiguration rules.
    pub fn validate(&self) -> Result<(), FsmError> {
        let f = "runtime_configuration.server_processes";
        if self.server_processes.is_empty() {
            return Err(FsmError::invalid(f, "at least 1 entry is required"));
        }
        validate::max_items(f, &self.server_processes, MAX_SERVER_PROCESSES)?;
        for p in &self.server_processes {
            validate::length(
                "runtime_configuration.server_processes.launch_path",
                &p.launch_path,
                1,
                1024,
            )?;
            validate_launch_path(&p.launch_path)?;
            validate::opt_length(
                "runtime_configuration.server_processes.parameters",
                p.parameters.as_deref(),
                1,
                1024,
            )?;
            if p.concurrent_executions < 1 {
                return Err(FsmError::invalid(
                    "runtime_configuration.server_processes.concurrent_executions",
                    format!("must be 1 or greater (got {})", p.concurrent_executions),
                ));
            }
        }
        let total = self.processes_per_instance();
        if total > MAX_PROCESSES_PER_INSTANCE {
            return Err(FsmError::invalid(
                "runtime_configuration.server_processes.concurrent_executions",
                format!(
                    "an instance runs at most {MAX_PROCESSES_PER_INSTANCE} processes in total (got {total})"
                ),
            ));
        }
        if let Some(v) = self.max_concurrent_game_session_activations
            && v < 1
        {
            return Err(FsmError::invalid(
                "runtime_configuration.max_concurrent_game_session_activations",
                format!("must be 1 to 2147483647 (got {v})"),
            ));
        }
        if let Some(v) = self.game_session_activation_timeout_seconds
            && !(1..=600).contains(&v)
        {
            return Err(FsmError::invalid(
                "runtime_configuration.game_session_activation_timeout_seconds",
                format!("must be 1 to 600 (got {v})"),
            ));
        }
        Ok(())
    }
}

impl PortRange {
    /// Checks the range against GameLift's limits and the processes it must hold.
    pub fn validate(&self, processes: i64) -> Result<(), FsmError> {
        for (field, v) in [
            ("port_range.from_port", self.from_port),
            ("port_range.to_port", self.to_port),
        ] {
            if !(PORT_MIN..=PORT_MAX).contains(&v) {
                return Err(FsmError::invalid(
                    field,
                    format!("must be {PORT_MIN} to {PORT_MAX} (got {v})"),
                ));
            }
        }
        if self.from_port > self.to_port {
            return Err(FsmError::invalid(
                "port_range.to_port",
                "must not be below from_port",
            ));
        }
        let size = i64::from(self.to_port - self.from_port) + 1;
        if size < processes {
            return Err(FsmError::invalid(
                "port_range",
                format!("holds {size} ports but each instance runs {processes} processes"),
            ));
        }
        Ok(())
    }
}

impl Capacity {
    /// Checks 0 <= min <= desired <= max.
    pub fn validate(&self) -> Result<(), FsmError> {
        validate::non_negative("instances.min", self.min.into())?;
        if self.max < self.min {
            return Err(FsmError::invalid(
                "instances.max",
                "must not be below instances.min",
            ));
        }
        if !(self.min..=self.max).contains(&self.desired) {
            return Err(FsmError::invalid(
                "instances.desired",
                format!(
                    "must be between min {} and max {} (got {})",
                    self.min, self.max, self.desired
                ),
            ));
        }
        Ok(())
    }
}

/// Checks a build name (a build directory registered on nodes with `--build-dir`).
pub fn validate_build_name(name: &str) -> Result<(), FsmError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(FsmError::invalid(
            "build",
            format!("{name:?} is not a build name"),
        ))
    }
}

/// Checks a launch path: an absolute path on the nodes, or `BUILD/path/in/it`, a path inside a
/// build directory registered on the node (`..` and empty components are refused).
pub fn validate_launch_path(path: &str) -> Result<(), FsmError> {
    let field = "runtime_configuration.server_processes.launch_path";
    if path.starts_with('/') {
        return Ok(());
    }
    let rule =
        "must be an absolute path or BUILD/path inside a build directory registered on the nodes";
    let mut parts = path.split('/');
    let build = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    if validate_build_name(build).is_err()
        || rest.is_empty()
        || rest.iter().any(|c| c.is_empty() || *c == "." || *c == "..")
    {
        return Err(FsmError::invalid(field, rule));
    }
    Ok(())
}

/// Checks a fleet's location list (node `location` label values).
pub fn validate_locations(locations: &[String]) -> Result<(), FsmError> {
    validate::max_items("locations", locations, MAX_LOCATIONS)?;
    let mut seen = BTreeSet::new();
    for l in locations {
        validate::length("locations", l, 1, 64)?;
        if !l
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(FsmError::invalid(
                "locations",
                format!("{l:?} may contain only letters, digits, '-', '_', '.'"),
            ));
        }
        if !seen.insert(l) {
            return Err(FsmError::invalid(
                "locations",
                format!("duplicate location {l:?}"),
            ));
        }
    }
    Ok(())
}

/// A server process's lifecycle status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub enum ProcessStatus {
    /// Started by its node; has not called ProcessReady yet.
    #[default]
    Launching,
    /// Called ProcessReady: can host a game session.
    Active,
    /// Asked to end (ProcessEnding, termination, or replacement).
    Terminating,
}

/// A server process as replicated.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProcessRecord {
    pub process_id: String,
    pub fleet_id: String,
    pub node_id: u64,
    pub pid: u32,
    pub port: u16,
    pub launch_path: String,
    pub status: ProcessStatus,
    pub healthy: bool,
    pub launched_at_ms: i64,
    pub ready_at_ms: Option<i64>,
    /// The address game clients connect to (the node's public game address).
    #[serde(default)]
    pub ip_address: String,
    /// The node's public DNS name for game clients (may be empty).
    #[serde(default)]
    pub dns_name: String,
    /// The node's compute name (`GAMELIFT_SDK_HOST_ID`).
    #[serde(default)]
    pub compute_name: String,
    /// The node's `location` label.
    #[serde(default)]
    pub location: Option<String>,
    /// The port the process reported in ProcessReady (game clients use it).
    #[serde(default)]
    pub sdk_port: Option<u16>,
    /// The live game session this process hosts.
    #[serde(default)]
    pub game_session_id: Option<String>,
}

/// One fleet event (GameLift's Event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetEvent {
    pub event_id: String,
    pub resource_id: String,
    pub event_code: String,
    pub message: String,
    pub event_time_ms: i64,
}

/// Hosting state: processes and events (fleets themselves live in `State::fleets`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hosting {
    pub processes: BTreeMap<String, ProcessRecord>,
    pub events: BTreeMap<String, VecDeque<FleetEvent>>,
    pub event_seq: u64,
}

impl Hosting {
    /// Appends an event to a fleet's log, dropping the oldest past the cap.
    pub fn record_event(&mut self, fleet_id: &str, code: &str, message: &str, at_ms: i64) {
        self.event_seq += 1;
        let log = self.events.entry(fleet_id.to_string()).or_default();
        log.push_back(FleetEvent {
            event_id: format!("event-{:012}", self.event_seq),
            resource_id: fleet_id.to_string(),
            event_code: code.to_string(),
            message: message.to_string(),
            event_time_ms: at_ms,
        });
        while log.len() > MAX_EVENTS_PER_FLEET {
            log.pop_front();
        }
    }

    /// Processes of one fleet, in id order.
    pub fn fleet_processes<'a>(
        &'a self,
        fleet_id: &'a str,
    ) -> impl Iterator<Item = &'a ProcessRecord> + 'a {
        self.processes
            .values()
            .filter(move |p| p.fleet_id == fleet_id)
    }

    /// Processes on one node, in id order.
    pub fn node_processes(&self, node_id: u64) -> impl Iterator<Item = &ProcessRecord> + '_ {
        self.processes
            .values()
            .filter(move |p| p.node_id == node_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rc(n: i32) -> RuntimeConfiguration {
        RuntimeConfiguration {
            server_processes: vec![ServerProcess {
                launch_path: "/opt/game/server".into(),
                parameters: Some("--port {port}".into()),
                concurrent_executions: n,
            }],
            max_concurrent_game_session_activations: None,
            game_session_activation_timeout_seconds: Some(300),
        }
    }

    fn field_of(r: Result<(), FsmError>) -> String {
        match r {
            Err(FsmError::InvalidArgument { field, .. }) => field,
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn runtime_configuration_rules() {
        assert!(rc(50).validate().is_ok());
        assert_eq!(
            field_of(rc(51).validate()),
            "runtime_configuration.server_processes.concurrent_executions"
        );
        assert_eq!(
            field_of(rc(0).validate()),
            "runtime_configuration.server_processes.concurrent_executions"
        );
        let mut r = rc(1);
        r.server_processes[0].launch_path = "server".into();
        assert_eq!(
            field_of(r.validate()),
            "runtime_configuration.server_processes.launch_path"
        );
        let mut r = rc(1);
        r.game_session_activation_timeout_seconds = Some(601);
        assert_eq!(
            field_of(r.validate()),
            "runtime_configuration.game_session_activation_timeout_seconds"
        );
        let mut r = rc(1);
        r.server_processes.clear();
        assert_eq!(
            field_of(r.validate()),
            "runtime_configuration.server_processes"
        );
    }

    #[test]
    fn port_range_and_capacity_rules() {
        assert!(
            PortRange {
                from_port: 7000,
                to_port: 7009
            }
            .validate(10)
            .is_ok()
        );
        assert_eq!(
            field_of(
                PortRange {
                    from_port: 7000,
                    to_port: 7008
                }
                .validate(10)
            ),
            "port_range"
        );
        assert_eq!(
            field_of(
                PortRange {
                    from_port: 80,
                    to_port: 7000
                }
                .validate(1)
            ),
            "port_range.from_port"
        );
        assert_eq!(
            field_of(
                PortRange {
                    from_port: 7001,
                    to_port: 7000
                }
                .validate(1)
            ),
            "port_range.to_port"
        );
        assert!(Capacity::default().validate().is_ok());
        assert_eq!(
            field_of(
                Capacity {
                    desired: 3,
                    min: 0,
                    max: 2
                }
                .validate()
            ),
            "instances.desired"
        );
        assert_eq!(
            field_of(
                Capacity {
                    desired: 0,
                    min: 1,
                    max: 0
                }
                .validate()
            ),
            "instances.max"
        );
    }

    #[test]
    fn events_are_bounded_per_fleet() {
        let mut h = Hosting::default();
        for i in 0..(MAX_EVENTS_PER_FLEET + 10) {
            h.record_event("fleet-1", "GENERIC_EVENT", &format!("{i}"), 0);
        }
        let log = &h.events["fleet-1"];
        assert_eq!(log.len(), MAX_EVENTS_PER_FLEET);
        assert_eq!(log.front().map(|e| e.message.as_str()), Some("10"));
    }
}
