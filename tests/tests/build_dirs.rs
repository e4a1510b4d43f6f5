//! Launch paths inside a build directory registered on the node (`--build-dir NAME=DIR`): a
//! fleet whose launch path is `NAME/minimal` runs DIR/minimal and its processes become ready;
//! a launch path naming a build the nodes do not have records SERVER_PROCESS_INVALID_PATH and
//! the fleet goes to ERROR instead of spinning.

use std::time::Duration;

use gamefleet_chaos::ClusterBuilder;
use gamefleet_client::{
    CreateFleetInput, FleetStatus, InstanceCounts, RuntimeConfiguration, ServerProcess,
};
use gamefleet_tests::game_servers::example;
use gamefleet_tests::{eventually, start, within};

fn fleet(name: &str, launch_path: &str) -> CreateFleetInput {
    CreateFleetInput {
        name: name.to_owned(),
        runtime_configuration: Some(RuntimeConfiguration {
            server_processes: vec![ServerProcess {
                launch_path: launch_path.to_owned(),
                parameters: Some("--port {port}".to_owned()),
                concurrent_executions: 2,
            }],
            max_concurrent_game_session_activations: None,
            game_session_activation_timeout_seconds: None,
        }),
        instances: Some(InstanceCounts {
            desired: 1,
            minimum: 0,
            maximum: 1,
            active: 0,
        }),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_paths_inside_registered_build_dirs_run_and_unknown_builds_are_errors() {
    let server = example("minimal");
    let dir = server.parent().expect("examples dir").to_path_buf();
    let cluster = start(
        ClusterBuilder::new(1)
            .voters(1)
            .args(["--build-dir".to_owned(), format!("demo={}", dir.display())]),
    )
    .await;
    within(Duration::from_secs(120), async {
        let client = cluster.client()?;
        let f = client
            .create_fleet(fleet("from-build", "demo/minimal"))
            .await?;
        let ps = eventually(
            Duration::from_secs(60),
            "2 ready processes from the build dir",
            || {
                let (c, id) = (client.clone(), f.fleet_id.clone());
                async move {
                    let ps = c.describe_fleet_processes(&id).await?;
                    Ok((ps.len() == 2 && ps.iter().all(|p| p.status == "ACTIVE")).then_some(ps))
                }
            },
        )
        .await?;
        assert!(ps.iter().all(|p| p.launch_path == "demo/minimal"), "{ps:?}");

        let g = client
            .create_fleet(fleet("no-such-build", "nosuch/minimal"))
            .await?;
        let err = eventually(
            Duration::from_secs(60),
            "the unknown build to be an error",
            || {
                let (c, id) = (client.clone(), g.fleet_id.clone());
                async move {
                    let events = c.describe_fleet_events(&id, None, None).await?;
                    let fleet = c.describe_fleet(&id).await?;
                    Ok(events
                        .into_iter()
                        .find(|e| e.event_code == "SERVER_PROCESS_INVALID_PATH")
                        .filter(|_| fleet.status == FleetStatus::Error))
                }
            },
        )
        .await?;
        assert!(err.message.contains("not registered"), "{err:?}");
        assert!(
            client
                .describe_fleet_processes(&g.fleet_id)
                .await?
                .is_empty()
        );
        Ok(())
    })
    .await
}
