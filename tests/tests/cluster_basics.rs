//! A 3-node cluster forms, and the client API works through every node: a fleet created
//! through a follower is readable linearizably through every node, and stale reads eventually
//! see it too. Every node names the leader in its answers.

use std::time::Duration;

use gamefleet_chaos::ClusterBuilder;
use gamefleet_client::proto::v1 as pb;
use gamefleet_client::proto::v1::game_lift_client::GameLiftClient;
use gamefleet_client::{
    Consistency, CreateFleetInput, ErrorKind, FleetStatus, LEADER_METADATA_KEY, Tag,
};
use gamefleet_tests::{eventually, start, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_form_a_cluster_and_serve_reads_through_every_node() {
    let cluster = start(ClusterBuilder::new(3)).await;
    within(Duration::from_secs(120), async {
        let leader = cluster.wait_leader(Duration::from_secs(10)).await?;

        // Membership as every node sees it: 3 voters, one leader, one cluster id.
        let mut cluster_id = None;
        for i in 0..3 {
            let st = cluster.status(i).await?;
            assert_eq!(
                st.nodes.len(),
                3,
                "{} lists {:?}",
                cluster.name(i),
                st.nodes
            );
            assert_eq!(st.nodes.iter().filter(|n| n.voter).count(), 3, "{st:?}");
            assert_eq!(
                st.nodes.iter().filter(|n| n.role == "LEADER").count(),
                1,
                "{st:?}"
            );
            assert_eq!(st.leader_name, cluster.name(leader), "{st:?}");
            assert!(!st.cluster_id.is_empty(), "{st:?}");
            for n in &st.nodes {
                assert_eq!(n.cluster_id, st.cluster_id, "{st:?}");
                assert_eq!(n.health, "ok", "{st:?}");
            }
            let id = cluster_id.get_or_insert_with(|| st.cluster_id.clone());
            assert_eq!(*id, st.cluster_id, "nodes disagree on the cluster id");
        }

        // Create through a follower.
        let follower = (leader + 1) % 3;
        let input = CreateFleetInput {
            name: "basics".to_owned(),
            description: Some("created through a follower".to_owned()),
            tags: vec![Tag::new("team", "e2e")],
            idempotency_token: Some("basics-create-1".to_owned()),
            ..Default::default()
        };
        let created = cluster
            .client_for(follower)?
            .create_fleet(input.clone())
            .await?;
        assert!(created.fleet_id.starts_with("fleet-"), "{created:?}");
        assert_eq!(created.name, "basics");
        assert_eq!(created.status, FleetStatus::New);

        // A retried create (same token) through another node returns the same fleet.
        let other = (leader + 2) % 3;
        let again = cluster.client_for(other)?.create_fleet(input).await?;
        assert_eq!(
            again.fleet_id, created.fleet_id,
            "idempotent retry made a new fleet"
        );

        // Linearizable reads through every node see it at once.
        for i in 0..3 {
            let client = cluster.client_for(i)?;
            let got = client.describe_fleet(&created.fleet_id).await?;
            assert_eq!(got.fleet_id, created.fleet_id, "via {}", cluster.name(i));
            assert_eq!(got.fleet_arn, created.fleet_arn, "via {}", cluster.name(i));
            assert_eq!(got.name, "basics", "via {}", cluster.name(i));
            assert_eq!(
                got.description.as_deref(),
                Some("created through a follower"),
                "via {}",
                cluster.name(i)
            );
            assert_eq!(
                got.tags,
                vec![Tag::new("team", "e2e")],
                "via {}",
                cluster.name(i)
            );
            let ids = client.list_fleets().await?;
            assert_eq!(
                ids,
                vec![created.fleet_id.clone()],
                "via {}",
                cluster.name(i)
            );
        }

        // Stale reads (local replica) eventually see it on every node.
        for i in 0..3 {
            let stale = cluster.client_for(i)?.with_consistency(Consistency::Stale);
            let id = created.fleet_id.clone();
            let what = format!("a stale read on {} to see the fleet", cluster.name(i));
            eventually(Duration::from_secs(10), &what, || {
                let stale = stale.clone();
                let id = id.clone();
                async move {
                    match stale.describe_fleet(&id).await {
                        Ok(f) => Ok(Some(f)),
                        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
                        Err(e) => Err(e.into()),
                    }
                }
            })
            .await?;
        }

        // An unknown fleet is NotFound, through a follower as well.
        let err = cluster
            .client_for(follower)?
            .describe_fleet("fleet-00000000-0000-4000-8000-000000000000")
            .await
            .expect_err("an unknown fleet must not be found");
        assert_eq!(err.kind, ErrorKind::NotFound, "{err}");

        // Every node names the leader in its answers and in its refusals, so clients that know
        // every node can send straight to the leader.
        let unknown = "fleet-00000000-0000-4000-8000-000000000000".to_owned();
        for i in 0..3 {
            let mut raw = GameLiftClient::connect(cluster.endpoint(i)).await?;
            for (what, id) in [("answer", &created.fleet_id), ("refusal", &unknown)] {
                let req = pb::DescribeFleetAttributesRequest {
                    fleet_ids: vec![id.clone()],
                    ..Default::default()
                };
                let metadata = match raw.describe_fleet_attributes(req).await {
                    Ok(r) => r.metadata().clone(),
                    Err(s) => s.metadata().clone(),
                };
                let named = metadata
                    .get(LEADER_METADATA_KEY)
                    .and_then(|v| v.to_str().ok());
                assert_eq!(
                    named,
                    Some(cluster.address(leader).as_str()),
                    "{what} of {}",
                    cluster.name(i)
                );
            }
        }

        cluster.wait_converged(Duration::from_secs(20), 0).await?;
        Ok(())
    })
    .await;
}
