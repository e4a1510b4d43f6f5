//! Quorum: a 5-voter cluster keeps serving writes with two voters SIGKILLed; with a third one
//! gone, writes and linearizable reads fail with Unavailable/Timeout within a bounded time
//! instead of hanging, stale reads still work, and a restarted node restores service.

use std::time::{Duration, Instant};

use gamefleet_chaos::ClusterBuilder;
use gamefleet_client::{Client, ClientOptions, Consistency};
use gamefleet_tests::{fleet, is_unavailable, set_description, start, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_voters_survive_two_failures_and_fail_fast_without_quorum() {
    let cluster = start(ClusterBuilder::new(5).voters(5)).await;
    within(Duration::from_secs(200), async {
        let client = cluster.client()?;
        let f = client.create_fleet(fleet("quorum")).await?;

        // Lose two voters: the leader and one follower.
        let leader = cluster.wait_leader(Duration::from_secs(10)).await?;
        let follower = (leader + 1) % 5;
        cluster.kill(leader)?;
        cluster.kill(follower)?;
        let survivors = cluster.running();
        assert_eq!(survivors.len(), 3);

        let writer = Client::with_options(cluster.client_options(&survivors))?;
        let started = Instant::now();
        writer
            .update_fleet(set_description(&f.fleet_id, "with 3 of 5"))
            .await?;
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the first write with 3 of 5 voters took {:?}",
            started.elapsed()
        );
        let new_leader = cluster.wait_leader(Duration::from_secs(10)).await?;
        for k in 0..10 {
            writer
                .update_fleet(set_description(&f.fleet_id, &format!("with 3 of 5: {k}")))
                .await?;
        }

        // Lose a third voter (a follower, so a leader remains that may believe it leads).
        let third = *survivors
            .iter()
            .find(|&&i| i != new_leader)
            .expect("a follower survives");
        cluster.kill(third)?;
        let left = cluster.running();
        let bounded = ClientOptions {
            attempt_timeout: Duration::from_secs(2),
            total_timeout: Duration::from_secs(10),
            ..cluster.client_options(&left)
        };
        let bounded = Client::with_options(bounded)?;

        let started = Instant::now();
        let res = bounded
            .update_fleet(set_description(&f.fleet_id, "without quorum"))
            .await;
        let took = started.elapsed();
        let err = res.expect_err("a write without quorum must fail");
        eprintln!("write without quorum failed after {took:?}: {err:?}");
        assert!(
            is_unavailable(&err),
            "expected Unavailable/Timeout, got {err:?}"
        );
        assert!(
            took < Duration::from_secs(15),
            "the failing write took {took:?}"
        );

        let started = Instant::now();
        let res = bounded.describe_fleet(&f.fleet_id).await;
        let took = started.elapsed();
        let err = res.expect_err("a linearizable read without quorum must fail");
        eprintln!("read without quorum failed after {took:?}: {err:?}");
        assert!(
            is_unavailable(&err),
            "expected Unavailable/Timeout, got {err:?}"
        );
        assert!(
            took < Duration::from_secs(15),
            "the failing read took {took:?}"
        );

        // Stale reads need no quorum.
        for &i in &left {
            let stale = cluster.client_for(i)?.with_consistency(Consistency::Stale);
            let got = stale.describe_fleet(&f.fleet_id).await?;
            assert!(
                got.description
                    .is_some_and(|d| d.starts_with("with 3 of 5") || d == "without quorum"),
                "stale read on {}",
                cluster.name(i)
            );
        }

        // Liveness: one node back gives a quorum of 3 again.
        cluster.restart(third).await?;
        let healed = Client::with_options(cluster.client_options(&cluster.running()))?;
        healed
            .update_fleet(set_description(&f.fleet_id, "healed"))
            .await?;
        let got = healed.describe_fleet(&f.fleet_id).await?;
        assert_eq!(got.description.as_deref(), Some("healed"));
        Ok(())
    })
    .await;
}
