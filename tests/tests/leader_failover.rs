//! Losing the leader. SIGKILL: a new leader is elected and writes succeed again; the killed
//! node, restarted with no `--join`, catches up (same applied index and state hash as the
//! others) and serves the latest value. SIGSTOP (a stalled leader that does not know it was
//! replaced): the others elect a new leader, and after SIGCONT the old leader steps down and
//! converges.

use std::time::{Duration, Instant};

use gamefleet_chaos::ClusterBuilder;
use gamefleet_client::{Client, Consistency};
use gamefleet_tests::{eventually, fleet, set_description, start, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_leader_is_replaced_and_catches_up_after_restart() {
    let cluster = start(ClusterBuilder::new(3)).await;
    within(Duration::from_secs(180), async {
        let old = cluster.wait_leader(Duration::from_secs(10)).await?;
        let client = cluster.client()?;
        let f = client.create_fleet(fleet("failover")).await?;
        for k in 0..20 {
            client
                .update_fleet(set_description(&f.fleet_id, &format!("before {k}")))
                .await?;
        }

        cluster.kill(old)?;
        let killed_at = Instant::now();
        let survivors: Vec<usize> = (0..3).filter(|&i| i != old).collect();

        let new = cluster.wait_leader(Duration::from_secs(15)).await?;
        assert_ne!(new, old, "the killed node cannot be the leader");

        // Writes through the survivors succeed again (the client retries meanwhile).
        let survivor_client = Client::with_options(cluster.client_options(&survivors))?;
        survivor_client
            .update_fleet(set_description(&f.fleet_id, "after 0"))
            .await?;
        let took = killed_at.elapsed();
        assert!(
            took < Duration::from_secs(15),
            "first write after the leader's death took {took:?}"
        );
        for k in 1..20 {
            survivor_client
                .update_fleet(set_description(&f.fleet_id, &format!("after {k}")))
                .await?;
        }

        // The survivors' applied index, which the restarted node must reach.
        let st = cluster.status(new).await?;
        let target = st
            .nodes
            .iter()
            .find(|n| n.name == cluster.name(new))
            .map(|n| n.last_applied_index)
            .unwrap_or(0);

        cluster.restart(old).await?;
        let st = cluster
            .wait_converged(Duration::from_secs(60), target)
            .await?;
        let me = st
            .nodes
            .iter()
            .find(|n| n.name == cluster.name(old))
            .expect("the restarted node is listed");
        assert!(me.last_applied_index >= target, "{st:?}");
        assert!(
            st.nodes.iter().all(|n| n.state_hash == me.state_hash),
            "state hashes differ: {st:?}"
        );
        cluster.wait_ready(Duration::from_secs(30)).await?;

        // The restarted node serves the latest value, linearizably and (eventually) locally.
        let got = cluster.client_for(old)?.describe_fleet(&f.fleet_id).await?;
        assert_eq!(got.description.as_deref(), Some("after 19"));
        let stale = cluster
            .client_for(old)?
            .with_consistency(Consistency::Stale);
        eventually(
            Duration::from_secs(10),
            "a stale read on the restarted node",
            || {
                let stale = stale.clone();
                let id = f.fleet_id.clone();
                async move {
                    let got = stale.describe_fleet(&id).await?;
                    Ok((got.description.as_deref() == Some("after 19")).then_some(()))
                }
            },
        )
        .await?;

        // And it takes writes again.
        cluster
            .client_for(old)?
            .update_fleet(set_description(&f.fleet_id, "after restart"))
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_leader_is_replaced_and_steps_down_after_resume() {
    let cluster = start(ClusterBuilder::new(3)).await;
    within(Duration::from_secs(150), async {
        let old = cluster.wait_leader(Duration::from_secs(10)).await?;
        let client = cluster.client()?;
        let f = client.create_fleet(fleet("paused-leader")).await?;

        cluster.pause(old)?;
        let survivors: Vec<usize> = (0..3).filter(|&i| i != old).collect();
        let new = cluster.wait_leader(Duration::from_secs(15)).await?;
        assert_ne!(new, old, "a paused node cannot answer as leader");
        let writer = Client::with_options(cluster.client_options(&survivors))?;
        for k in 0..10 {
            writer
                .update_fleet(set_description(&f.fleet_id, &format!("while paused {k}")))
                .await?;
        }

        cluster.resume(old)?;
        cluster.wait_ready(Duration::from_secs(30)).await?;
        let st = cluster.wait_converged(Duration::from_secs(30), 0).await?;
        let me = st
            .nodes
            .iter()
            .find(|n| n.name == cluster.name(old))
            .expect("the resumed node is listed");
        assert_eq!(me.role, "FOLLOWER", "the old leader must step down: {st:?}");
        let got = cluster.client_for(old)?.describe_fleet(&f.fleet_id).await?;
        assert_eq!(got.description.as_deref(), Some("while paused 9"));
        Ok(())
    })
    .await;
}
