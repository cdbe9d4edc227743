//! Scale-out against the real broker and ClickHouse: processes of one consumer group join and
//! leave while they work, and the profiles and alerts still equal the generator's reference
//! model (DESIGN.md, "Scale-out"; docs/guarantees.md, "Rebalances").

mod common;

use std::time::{Duration, Instant};

use common::pipeline::{produce_one_per_batch, run_until_end, verify, Running};
use portrait_connectors::clickhouse::migrate;
use portrait_generator::{generate, GeneratorConfig};

const PARTITIONS: u32 = 4;
const LATENESS_MS: i64 = 300_000;
/// How long a member may take to finish; longer is a hang, and fails the test.
const FINISH_WITHIN: Duration = Duration::from_secs(300);
/// `pipeline.shutdown_timeout_ms`'s default: a stopped member must be gone by then.
const SHUTDOWN_WITHIN: Duration = Duration::from_secs(25);

/// Short session and poll timeouts, so that the group notices members come and go within
/// seconds (the same as a deployment would set them, scaled down).
const CONFIG: &str = r#"[kafka.properties]
"session.timeout.ms" = "6000"
"max.poll.interval.ms" = "10000"
"#;

/// The events a member applied itself: the `N` of `processed N events ...`, the first line of
/// `run`'s summary.
fn applied_events(member: &str, (summary, log): (String, String)) -> Applied {
    let first_line = summary.lines().next().unwrap_or_default();
    eprintln!("{member}: {first_line}");
    let events = first_line
        .strip_prefix("processed ")
        .and_then(|rest| rest.split_once(' '))
        .and_then(|(events, _)| events.parse().ok())
        .unwrap_or_else(|| panic!("the {member} member printed no summary:\n{summary}\n{log}"));
    let dropped = log
        .lines()
        .filter(|line| DROPPED_WORK.iter().any(|warning| line.contains(warning)))
        .map(|line| format!("{member}: {line}"))
        .collect();
    Applied {
        events,
        dropped,
        log,
    }
}

/// The warnings of a member the group dropped (its poll came later than
/// `max.poll.interval.ms`, on a loaded machine): it lost its partitions before it could flush
/// them, or while it flushed them, its commit refused, and the next owner may have restored
/// their states before that flush wrote them. Either way the next owner may apply that work
/// again, rightly, and the sum of applied events then exceeds the input.
const DROPPED_WORK: [&str; 2] = [
    "dropping their unflushed work",
    "the group moved on without this process",
];

/// What a member's run applied, and its warnings of work it dropped ([`DROPPED_WORK`]).
struct Applied {
    events: u64,
    dropped: Vec<String>,
    /// Shown when the applied events do not add up, to tell which member applied what twice.
    log: String,
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_joining_and_one_leaving_mid_run_leave_the_profiles_and_alerts_exact() {
    common::on_fresh_database("rebalance", |clickhouse| async move {
        let dataset = generate(&GeneratorConfig {
            seed: 11,
            // Enough for the group to rebalance twice while the members work.
            users: 2_000,
            days: 120,
            ..GeneratorConfig::default()
        });
        // One message per batch: members resume other members' partitions at their committed
        // offsets, which the fast test broker gets right only at batch boundaries.
        let kafka = produce_one_per_batch("rebalance", &dataset, PARTITIONS).await;
        migrate(&clickhouse).await.unwrap();
        let config = std::env::temp_dir().join(format!("{}.toml", common::fresh("rebalance")));
        std::fs::write(&config, CONFIG).unwrap();
        let member = || {
            let mut command = run_until_end(&kafka, &clickhouse);
            command.env("PORTRAIT_CONFIG", &config);
            Running::consuming(command)
        };

        let (first, second) = tokio::join!(member(), member());
        let third = member().await;
        first.terminate();
        let stopping = Instant::now();
        let by_first = applied_events("first", first.finished(SHUTDOWN_WITHIN).await);
        eprintln!(
            "the first member stopped {:?} after SIGTERM",
            stopping.elapsed()
        );
        let (second, third) = tokio::join!(
            second.finished(FINISH_WITHIN),
            third.finished(FINISH_WITHIN)
        );
        let (by_second, by_third) = (
            applied_events("second", second),
            applied_events("third", third),
        );
        std::fs::remove_file(&config).unwrap();

        let members = [
            ("first", by_first),
            ("second", by_second),
            ("third", by_third),
        ];
        for (name, applied) in &members {
            assert!(applied.events > 0, "the {name} member applied no event");
        }
        // Revoked partitions are flushed and committed before they are handed over, so no
        // member replays what another one applied, unless the group took partitions from a
        // member before it could flush them, or before their flush's writes landed. Dropped
        // work may also have been empty, or already stored when its next owner restored it
        // (and then skipped as replayed): so at least every event, then.
        let events = dataset.messages().len() as u64;
        let applied: u64 = members.iter().map(|(_, applied)| applied.events).sum();
        let dropped: Vec<&String> = members.iter().flat_map(|(_, a)| &a.dropped).collect();
        if dropped.is_empty() {
            if applied != events {
                for (name, applied) in &members {
                    eprintln!("the {name} member's log:\n{}", applied.log);
                }
            }
            assert_eq!(applied, events, "no member dropped work");
        } else {
            eprintln!("work dropped unflushed, and applied again:\n{dropped:#?}");
            assert!(
                applied >= events,
                "{applied} of {events} events applied: {dropped:#?}"
            );
        }
        eprintln!(
            "{}",
            verify(&dataset, LATENESS_MS, &kafka, &clickhouse).await
        );
    })
    .await;
}
