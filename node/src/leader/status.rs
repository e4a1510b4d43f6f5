//! Pure fleet status transitions the leader drives (GameLift's NEW →
//! ACTIVATING → ACTIVE, or ERROR when processes cannot start).

use crate::fsm::hosting::{Hosting, ProcessStatus};
use crate::fsm::{Fleet, FleetStatus};

pub use crate::fsm::hosting::INVALID_PATH;

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

/// No process runs, and a launch failed since the runtime configuration last changed.
fn failed_to_start(f: &Fleet, hosting: &Hosting) -> bool {
    f.launch_failed && hosting.fleet_processes(&f.id).next().is_none()
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
            launch_failed: false,
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
            ..Default::default()
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
    fn a_failed_launch_is_an_error_until_a_process_runs() {
        let mut h = Hosting::default();
        let mut f = fleet(FleetStatus::Activating, true);
        assert_eq!(next_status(&f, &h), None);
        // Whether the node's event lands before or after FLEET_STATE_ACTIVATING does not matter.
        f.launch_failed = true;
        assert_eq!(next_status(&f, &h), Some(FleetStatus::Error));
        h.processes
            .insert("process-1".into(), process(ProcessStatus::Launching));
        assert_eq!(
            next_status(&f, &h),
            None,
            "a process is starting: not an error"
        );
        h.processes
            .insert("process-1".into(), process(ProcessStatus::Active));
        let mut e = fleet(FleetStatus::Error, true);
        e.launch_failed = true;
        assert_eq!(next_status(&e, &h), Some(FleetStatus::Active));
    }
}
