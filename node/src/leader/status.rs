//! Pure fleet status transitions the leader drives (GameLift's NEW →
//! ACTIVATING → ACTIVE, or ERROR when processes cannot start).

use crate::fsm::hosting::{Hosting, ProcessStatus};
use crate::fsm::{Fleet, FleetStatus};

/// Event code a node records when a launch path cannot be executed.
pub const INVALID_PATH: &str = "SERVER_PROCESS_INVALID_PATH";

/// The status `f` should move to now, if any.
pub fn next_status(f: &Fleet, hosting: &Hosting) -> Option<FleetStatus> {
    if f.is_deleting() || f.spec.runtime_configuration.is_none() {
        return None;
    }
    let active = hosting
        .fleet_processes(&f.id)
        .any(|p| p.status == ProcessStatus::Active);
    let next = match f.status {
        FleetStatus::Active => return None,
        _ if active => FleetStatus::Active,
        FleetStatus::New if !f.assigned_nodes.is_empty() => FleetStatus::Activating,
        FleetStatus::Activating if failed_to_start(f, hosting) => FleetStatus::Error,
        _ => return None,
    };
    Some(next)
}

/// No process runs, and a launch failed since the fleet started activating.
fn failed_to_start(f: &Fleet, hosting: &Hosting) -> bool {
    if hosting.fleet_processes(&f.id).next().is_some() {
        return false;
    }
    let Some(log) = hosting.events.get(&f.id) else {
        return false;
    };
    for e in log.iter().rev() {
        if e.event_code == INVALID_PATH {
            return true;
        }
        if e.event_code == "FLEET_STATE_ACTIVATING" {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsm::fleet::FleetSpec;
    use crate::fsm::hosting::{ProcessRecord, RuntimeConfiguration, ServerProcess};

    fn fleet(status: FleetStatus, assigned: bool) -> Fleet {
        Fleet {
            id: "fleet-1".into(),
            arn: String::new(),
            spec: FleetSpec {
                name: "f".into(),
                runtime_configuration: Some(RuntimeConfiguration {
                    server_processes: vec![ServerProcess {
                        launch_path: "/x".into(),
                        parameters: None,
                        concurrent_executions: 1,
                    }],
                    max_concurrent_game_session_activations: None,
                    game_session_activation_timeout_seconds: None,
                }),
                ..Default::default()
            },
            status,
            creation_time_ms: 0,
            termination_time_ms: None,
            assigned_nodes: if assigned {
                [1].into()
            } else {
                Default::default()
            },
        }
    }

    fn process(status: ProcessStatus) -> ProcessRecord {
        ProcessRecord {
            process_id: "process-1".into(),
            fleet_id: "fleet-1".into(),
            node_id: 1,
            pid: 10,
            port: 30000,
            launch_path: "/x".into(),
            status,
            healthy: true,
            launched_at_ms: 0,
            ready_at_ms: None,
        }
    }

    #[test]
    fn new_activating_active() {
        let mut h = Hosting::default();
        assert_eq!(next_status(&fleet(FleetStatus::New, false), &h), None);
        assert_eq!(
            next_status(&fleet(FleetStatus::New, true), &h),
            Some(FleetStatus::Activating)
        );
        h.processes
            .insert("process-1".into(), process(ProcessStatus::Launching));
        assert_eq!(next_status(&fleet(FleetStatus::Activating, true), &h), None);
        h.processes
            .insert("process-1".into(), process(ProcessStatus::Active));
        assert_eq!(
            next_status(&fleet(FleetStatus::Activating, true), &h),
            Some(FleetStatus::Active)
        );
        assert_eq!(next_status(&fleet(FleetStatus::Active, true), &h), None);
    }

    #[test]
    fn invalid_path_after_activating_is_an_error_until_a_process_runs() {
        let mut h = Hosting::default();
        h.record_event("fleet-1", "FLEET_STATE_ACTIVATING", "", 1);
        assert_eq!(next_status(&fleet(FleetStatus::Activating, true), &h), None);
        h.record_event("fleet-1", INVALID_PATH, "no such file", 2);
        assert_eq!(
            next_status(&fleet(FleetStatus::Activating, true), &h),
            Some(FleetStatus::Error)
        );
        h.processes
            .insert("process-1".into(), process(ProcessStatus::Active));
        assert_eq!(
            next_status(&fleet(FleetStatus::Error, true), &h),
            Some(FleetStatus::Active)
        );
    }
}
