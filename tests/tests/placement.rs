//! Fleet placement by the leader: a fleet with a runtime configuration is assigned to
//! `instances.desired` nodes and goes NEW → ACTIVATING; a fleet whose launch path cannot run
//! ends in ERROR with a SERVER_PROCESS_INVALID_PATH or timeout event; a fleet whose locations no
//! node has stays unassigned; when a hosting node dies, the leader moves the fleet to another
//! node.

use std::collections::BTreeSet;
use std::time::Duration;

use gamefleet_chaos::ClusterBuilder;
use gamefleet_client::proto::v1 as pb;
use gamefleet_tests::{eventually, start, within};
use pb::game_lift_client::GameLiftClient;

fn hosted_fleet(name: &str, desired: i32, locations: &[&str]) -> pb::CreateFleetRequest {
    pb::CreateFleetRequest {
        name: name.into(),
        runtime_configuration: Some(pb::RuntimeConfiguration {
            server_processes: vec![pb::ServerProcess {
                launch_path: "/nonexistent/gamefleet-test-server".into(),
                parameters: None,
                concurrent_executions: 1,
            }],
            ..Default::default()
        }),
        locations: locations.iter().map(|s| s.to_string()).collect(),
        instances: Some(pb::InstanceCounts {
            desired,
            minimum: 0,
            maximum: 3,
            active: 0,
        }),
        ..Default::default()
    }
}

async fn describe(
    c: &mut GameLiftClient<tonic::transport::Channel>,
    id: &str,
) -> anyhow::Result<pb::FleetAttributes> {
    let r = c
        .describe_fleet_attributes(pb::DescribeFleetAttributesRequest {
            fleet_ids: vec![id.into()],
            ..Default::default()
        })
        .await?
        .into_inner();
    r.fleet_attributes
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("fleet {id} missing"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_places_fleets_and_moves_them_off_a_dead_node() {
    let cluster = start(ClusterBuilder::new(3)).await;
    within(Duration::from_secs(150), async {
        let leader = cluster.wait_leader(Duration::from_secs(10)).await?;
        let mut c = GameLiftClient::connect(format!("http://{}", cluster.address(leader))).await?;

        // Hosted fleet on 2 of 3 nodes: assigned, then ACTIVATING.
        let f = c
            .create_fleet(hosted_fleet("placed", 2, &[]))
            .await?
            .into_inner()
            .fleet_attributes
            .unwrap();
        assert_eq!(f.status, pb::FleetStatus::New as i32);
        let placed = eventually(Duration::from_secs(15), "2 hosting nodes", || {
            let (mut c, id) = (c.clone(), f.fleet_id.clone());
            async move {
                let a = describe(&mut c, &id).await?;
                Ok((a.hosting_node_ids.len() == 2).then_some(a))
            }
        })
        .await?;
        let hosts: BTreeSet<u64> = placed.hosting_node_ids.iter().copied().collect();

        // A location no node has: never assigned.
        let nowhere = c
            .create_fleet(hosted_fleet("nowhere", 1, &["mars"]))
            .await?
            .into_inner()
            .fleet_attributes
            .unwrap();

        // A data-only fleet: never assigned, stays NEW.
        let data = c
            .create_fleet(pb::CreateFleetRequest {
                name: "data".into(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .fleet_attributes
            .unwrap();

        // Kill a hosting node that is not the leader: the fleet moves to the third node.
        let status = cluster.status(leader).await?;
        let victim_id = *hosts
            .iter()
            .find(|id| cluster.index_of_id(&status, **id) != Some(leader))
            .expect("two hosts, at most one is the leader");
        let victim = cluster
            .index_of_id(&status, victim_id)
            .expect("victim index");
        cluster.kill(victim)?;
        let moved = eventually(
            Duration::from_secs(30),
            "the fleet to leave the dead node",
            || {
                let (mut c, id) = (c.clone(), f.fleet_id.clone());
                async move {
                    let a = describe(&mut c, &id).await?;
                    Ok(
                        (a.hosting_node_ids.len() == 2 && !a.hosting_node_ids.contains(&victim_id))
                            .then_some(a),
                    )
                }
            },
        )
        .await?;
        assert!(
            moved.hosting_node_ids.iter().any(|id| !hosts.contains(id)),
            "{moved:?}"
        );

        let a = describe(&mut c, &nowhere.fleet_id).await?;
        assert!(a.hosting_node_ids.is_empty(), "{a:?}");
        assert_eq!(a.status, pb::FleetStatus::New as i32, "{a:?}");
        let a = describe(&mut c, &data.fleet_id).await?;
        assert!(a.hosting_node_ids.is_empty(), "{a:?}");
        assert_eq!(a.status, pb::FleetStatus::New as i32, "{a:?}");

        // The placed fleet went through ACTIVATING (an event records each status).
        let events = c
            .describe_fleet_events(pb::DescribeFleetEventsRequest {
                fleet_id: f.fleet_id.clone(),
                ..Default::default()
            })
            .await?
            .into_inner()
            .events;
        assert!(
            events
                .iter()
                .any(|e| e.event_code == "FLEET_STATE_ACTIVATING"),
            "{events:?}"
        );
        Ok(())
    })
    .await
}
