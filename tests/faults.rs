//! Faults against the real broker and ClickHouse: the pipeline killed with SIGKILL over and
//! over must still end with every profile and every alert exactly as the generator's
//! reference model says (DESIGN.md, "Exactly-once effect"; docs/guarantees.md).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::pipeline::{self, produce_one_per_batch, verify, Running};
use portrait_connectors::clickhouse::migrate;
use portrait_generator::{generate, GeneratorConfig};
use rand::{Rng, SeedableRng};

const PARTITIONS: u32 = 4;
const LATENESS_MS: i64 = 300_000;
const KILLS: usize = 10;
/// tansu 0.6's group coordinator now and then gives a member that joins after killed ones no
/// partition for minutes rather than the session timeout; such a run is replaced, this many
/// times at most.
const STALL: Duration = Duration::from_secs(90);
const MAX_STALLS: usize = 3;
/// The final run reads what is left of a million events; longer is a hang.
const FINAL_RUN_WITHIN: Duration = Duration::from_secs(600);

/// `portrait run --until-end` as the fault tests run it: with short session and poll
/// timeouts, so that the group gives a killed member's partitions to its successor within
/// seconds rather than minutes.
fn run_until_end(
    kafka: &portrait_connectors::kafka::KafkaConfig,
    clickhouse: &portrait_connectors::clickhouse::ClickHouseConfig,
    config: &Path,
) -> std::process::Command {
    let mut command = pipeline::run_until_end(kafka, clickhouse);
    command.env("PORTRAIT_CONFIG", config);
    command
}

/// A run that took a partition on. A run the group gives no partition within [`STALL`] is
/// replaced (dropping it kills it, and a new member moves the group on), at most
/// [`MAX_STALLS`] times over the test, counted in `stalls`.
async fn consuming(
    kafka: &portrait_connectors::kafka::KafkaConfig,
    clickhouse: &portrait_connectors::clickhouse::ClickHouseConfig,
    config: &Path,
    stalls: &mut usize,
) -> Running {
    loop {
        let command = run_until_end(kafka, clickhouse, config);
        match tokio::time::timeout(STALL, Running::consuming(command)).await {
            Ok(run) => return run,
            Err(_stalled) => {
                *stalls += 1;
                assert!(*stalls <= MAX_STALLS, "the group stalled {stalls} times");
                eprintln!("the group gave a run no partition within {STALL:?}; replaced it");
            }
        }
    }
}

/// The configuration file of the fault tests' runs (the rest comes from the environment).
const CONFIG: &str = r#"[kafka.properties]
"session.timeout.ms" = "6000"
"max.poll.interval.ms" = "10000"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn killed_ten_times_mid_run_the_profiles_and_alerts_still_equal_the_truth() {
    common::on_fresh_database("crash", |clickhouse| async move {
        let dataset = generate(&GeneratorConfig {
            seed: 5,
            users: 4_100,
            days: 120,
            ..GeneratorConfig::default()
        });
        assert!(
            dataset.messages().len() >= 1_000_000,
            "only {} events",
            dataset.messages().len()
        );
        let producing = Instant::now();
        let kafka = produce_one_per_batch("crash", &dataset, PARTITIONS).await;
        eprintln!(
            "produced {} messages in {:?}",
            dataset.messages().len(),
            producing.elapsed()
        );
        migrate(&clickhouse).await.unwrap();
        let config = std::env::temp_dir().join(format!("{}.toml", common::fresh("crash")));
        std::fs::write(&config, CONFIG).unwrap();

        // Random moments, reproducibly: the seed is printed, and fixed per run of the test.
        let seed: u64 = rand::random();
        eprintln!("kill moments from seed {seed}");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut stalls = 0;
        for kills in 1..=KILLS {
            // The moment counts from when the run took a partition on (after the group
            // rebalance that follows each kill), so every kill lands while events are processed.
            let mut run = consuming(&kafka, &clickhouse, &config, &mut stalls).await;
            // The wait is the fault's timing, not synchronisation: the crash lands at a random
            // moment of the work, whatever the run is doing then.
            let moment = Duration::from_millis(rng.gen_range(200..3_000));
            tokio::time::sleep(moment).await;
            run.assert_still_going("before its kill").await;
            run.kill().await;
            eprintln!("kill {kills}: {moment:?} after taking a partition on");
        }

        let final_run = consuming(&kafka, &clickhouse, &config, &mut stalls).await;
        let (summary, _log) = final_run.finished(FINAL_RUN_WITHIN).await;
        eprintln!("the final run: {summary}");

        let verified = verify(&dataset, LATENESS_MS, &kafka, &clickhouse).await;
        std::fs::remove_file(&config).unwrap();
        eprintln!("{verified}");
    })
    .await;
}
