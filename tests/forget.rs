//! `portrait forget` against the real broker and ClickHouse: generated events → `run
//! --until-end`; three users (with alerts, archived events and a dead letter) forgotten; no
//! row of theirs left in any table, the CRM database's copy of the profiles included, while every other user is exactly the ground truth; then
//! new events for a forgotten user and a replay of the whole topic by a fresh consumer group
//! must not bring any of them back (docs/security.md, "Forgetting a user": the policy is to
//! drop a forgotten user's messages).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::BufWriter;
use std::time::{Duration, Instant};

use common::pipeline::{portrait, produce, run_until_end, succeed, Running};
use portrait_connectors::clickhouse::{migrate, ClickHouseConfig};
use portrait_connectors::kafka::{KafkaConfig, Producer};
use portrait_generator::{generate, write_alerts_ndjson, Dataset, GeneratorConfig, Truth};

const PARTITIONS: u32 = 2;
/// The pipeline's default `pipeline.lateness_ms`, which the truth is computed at.
const LATENESS_MS: i64 = 300_000;

/// Every table of the database that can hold a user's rows, and the column naming the user
/// there; the CRM database's copy of `user_profiles` is [`CRM_PROFILES`].
const TABLES: [(&str, &str); 6] = [
    ("user_profiles", "user_id"),
    ("profile_state", "user_id"),
    ("profile_alerts", "user_id"),
    ("segment_membership", "user_id"),
    ("events", "user_id"),
    ("dead_letters", "key"),
];

/// A segment every user enters at their first flush, so that each has a row of
/// `segment_membership`.
const EVERYONE: &str = "[segments.everyone]\nwhere = \"first_seen_at IS NOT NULL\"\n";

/// The key of the CRM's copy of the profiles in [`rows_of`]'s answer.
const CRM_PROFILES: &str = "crm.user_profiles";

#[tokio::test(flavor = "multi_thread")]
async fn forgotten_users_leave_no_row_and_never_come_back() {
    common::on_fresh_database("forget", |clickhouse| async move {
        // With the CRM's database, whose copy of the profiles must be forgotten too.
        let clickhouse = ClickHouseConfig {
            crm_database: common::crm_database(&clickhouse),
            ..clickhouse
        };
        let dataset = generate(&GeneratorConfig {
            seed: 11,
            users: 200,
            days: 60,
            malformed_rate: 0.02,
            ..GeneratorConfig::default()
        });
        let kafka = produce("forget", &dataset, PARTITIONS).await;
        migrate(&clickhouse).await.unwrap();
        let config = std::env::temp_dir().join(format!("{}.toml", common::fresh("forget")));
        std::fs::write(&config, EVERYONE).unwrap();
        let mut run = run_until_end(&kafka, &clickhouse);
        run.env("PORTRAIT_CONFIG", &config);
        succeed("portrait run --until-end", run).await;

        // A user with alerts and a dead letter keyed by them, and two more with alerts.
        let alerted: BTreeSet<String> = dataset
            .expected_alerts(LATENESS_MS)
            .into_iter()
            .map(|alert| alert.user_id)
            .collect();
        let lettered: BTreeSet<&str> = dataset
            .messages()
            .iter()
            .filter(|m| m.malformed.is_some())
            .map(|m| m.key.as_str())
            .collect();
        let first = alerted
            .iter()
            .find(|user| lettered.contains(user.as_str()))
            .expect("a user with alerts and a dead letter")
            .clone();
        let others: Vec<String> = alerted
            .iter()
            .filter(|user| **user != first)
            .take(2)
            .cloned()
            .collect();
        let forgotten: Vec<String> = [vec![first.clone()], others.clone()].concat();

        // The test means something only if they are everywhere to begin with.
        let before = rows_of(&clickhouse, &forgotten).await;
        for (table, _, _) in user_tables(&clickhouse) {
            assert!(before[table] > 0, "no rows of {forgotten:?} in {table}: {before:?}");
        }

        let file = std::env::temp_dir().join(format!("{}.txt", common::fresh("forget_ids")));
        std::fs::write(&file, format!("{}\n\n  {}  \n", others[0], others[1])).unwrap();
        let forget = portrait(
            &[
                "forget",
                "--user",
                &first,
                "--users-file",
                file.to_str().unwrap(),
            ],
            &kafka,
            &clickhouse,
        );
        let forget = succeed("portrait forget", forget).await;
        std::fs::remove_file(&file).unwrap();
        assert!(
            String::from_utf8_lossy(&forget.stdout).starts_with("forgot 3 users"),
            "{}",
            String::from_utf8_lossy(&forget.stdout)
        );

        let none = no_rows(&clickhouse);
        assert_eq!(rows_of(&clickhouse, &forgotten).await, none, "right after forget");
        let tombstones: Vec<String> = clickhouse
            .client()
            .query("SELECT user_id FROM forgotten_users ORDER BY user_id")
            .fetch_all()
            .await
            .unwrap();
        assert_eq!(tombstones, forgotten);
        assert_rest_is_the_truth(&dataset, &forgotten, &kafka, &clickhouse, 1).await;

        // New events for a forgotten user, a malformed one keyed by them too, and a run of a
        // fresh consumer group, which reads the whole topic again from offset 0.
        let topic = &kafka.topics[0];
        let at = dataset.max_event_ms() + 3_600_000;
        let mut later: Vec<(Vec<u8>, Vec<u8>)> = (0..3)
            .map(|i| {
                let payload = format!(
                    r#"{{"event_id":"{first}-later-{i}","type":"page_view","user_id":"{first}","ts":{},"props":{{"page":"/back"}}}}"#,
                    at + i * 60_000
                );
                (first.clone().into_bytes(), payload.into_bytes())
            })
            .collect();
        later.push((
            first.clone().into_bytes(),
            format!(r#"{{"event_id":"{first}-later-bad","type":"page_view","user_id":"{first}"}}"#)
                .into_bytes(),
        ));
        let messages: Vec<(&[u8], &[u8])> = later
            .iter()
            .map(|(key, value)| (key.as_slice(), value.as_slice()))
            .collect();
        Producer::new(&kafka)
            .unwrap()
            .send_all(topic, messages, |_| {})
            .await
            .unwrap();
        let replay = KafkaConfig {
            group: common::fresh("forget_replay_group"),
            ..kafka.clone()
        };
        let mut rerun = run_until_end(&replay, &clickhouse);
        rerun.env("PORTRAIT_CONFIG", &config);
        let rerun = succeed("portrait run --until-end (fresh group)", rerun).await;
        let theirs = dataset
            .messages()
            .iter()
            .filter(|m| forgotten.contains(&m.key))
            .count()
            + later.len();
        let summary = String::from_utf8_lossy(&rerun.stdout);
        assert!(
            summary.contains(&format!(
                "dropped {theirs} messages of forgotten users; dropped 0 forgotten users held \
                 in memory"
            )),
            "{summary}"
        );
        assert_eq!(rows_of(&clickhouse, &forgotten).await, none, "after the replay");
        assert_rest_is_the_truth(&dataset, &forgotten, &replay, &clickhouse, 2).await;
        std::fs::remove_file(&config).unwrap();
    })
    .await;
}

/// `forget` while a live pipeline holds the user in memory: the pipeline learns of the
/// tombstone at its next flush, drops the user and never writes them again, while it goes on
/// writing everyone else.
#[tokio::test(flavor = "multi_thread")]
async fn a_running_pipeline_drops_a_user_forgotten_under_it() {
    common::on_fresh_database("forget_live", |clickhouse| async move {
        let dataset = generate(&GeneratorConfig {
            seed: 12,
            users: 100,
            days: 30,
            malformed_rate: 0.0,
            ..GeneratorConfig::default()
        });
        let kafka = produce("forget_live", &dataset, PARTITIONS).await;
        migrate(&clickhouse).await.unwrap();
        let users = dataset.truth(LATENESS_MS).profiles.len() as u64;
        let running = Running::consuming(portrait(&["run"], &kafka, &clickhouse)).await;
        wait_until("every user has a profile", || async {
            count(&clickhouse, "SELECT count() FROM user_profiles_current").await == users
        })
        .await;

        let (gone, stays) = ("u000000".to_owned(), "u000001".to_owned());
        let forget = portrait(&["forget", "--user", &gone], &kafka, &clickhouse);
        succeed("portrait forget", forget).await;
        let none = no_rows(&clickhouse);
        assert_eq!(rows_of(&clickhouse, std::slice::from_ref(&gone)).await, none);

        // One more page view each. The flush that writes the one of `stays` began after
        // `forget` returned, so it had read the tombstone: whatever the pipeline would write
        // of `gone`, it would have written by then.
        let views = format!("SELECT page_views FROM user_profiles FINAL WHERE user_id = '{stays}'");
        let before = count(&clickhouse, &views).await;
        let at = dataset.max_event_ms();
        let later: Vec<(String, String)> = [&gone, &stays]
            .into_iter()
            .map(|user| {
                let payload = format!(
                    r#"{{"event_id":"{user}-later","type":"page_view","user_id":"{user}","ts":{at},"props":{{"page":"/back"}}}}"#
                );
                (user.clone(), payload)
            })
            .collect();
        let messages: Vec<(&[u8], &[u8])> = later
            .iter()
            .map(|(key, value)| (key.as_bytes(), value.as_bytes()))
            .collect();
        Producer::new(&kafka)
            .unwrap()
            .send_all(&kafka.topics[0], messages, |_| {})
            .await
            .unwrap();
        wait_until("the new page view of the user who stays is written", || async {
            count(&clickhouse, &views).await == before + 1
        })
        .await;
        running.terminate();
        let (summary, log) = running.finished(Duration::from_secs(60)).await;
        // The pipeline learns the tombstone at its first flush after `forget` wrote it. The
        // later page view of `gone` is dropped on arrival if that flush came first, or else
        // applied to the user still held and dropped with them at that flush: either way,
        // nothing of it is written, which the row counts below check.
        assert!(
            summary.contains("dropped 1 forgotten users held in memory"),
            "{summary}\n{log}"
        );
        assert!(
            ["dropped 0 messages", "dropped 1 messages"]
                .iter()
                .any(|dropped| summary.contains(&format!("{dropped} of forgotten users;"))),
            "{summary}\n{log}"
        );
        assert_eq!(rows_of(&clickhouse, std::slice::from_ref(&gone)).await, none, "after the run");
        assert_eq!(
            count(&clickhouse, "SELECT count() FROM user_profiles_current").await,
            users - 1
        );
    })
    .await;
}

async fn count(clickhouse: &ClickHouseConfig, sql: &str) -> u64 {
    clickhouse.client().query(sql).fetch_one().await.unwrap()
}

/// Polls `condition` until it holds; fails the test after a minute.
async fn wait_until<F, Fut>(what: &str, condition: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    while !condition().await {
        assert!(
            Instant::now() < deadline,
            "still waiting after a minute: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every table that can hold a user's rows on `clickhouse`, as [`rows_of`] names it: the
/// [`TABLES`], and the CRM's copy of the profiles ([`CRM_PROFILES`]) when there is a CRM
/// database; with the table's name in SQL and the column naming the user.
fn user_tables(clickhouse: &ClickHouseConfig) -> Vec<(&'static str, String, &'static str)> {
    let mut tables: Vec<_> = TABLES
        .iter()
        .map(|&(table, column)| (table, table.to_owned(), column))
        .collect();
    if !clickhouse.crm_database.is_empty() {
        let copy = format!("`{}`.user_profiles", clickhouse.crm_database);
        tables.push((CRM_PROFILES, copy, "user_id"));
    }
    tables
}

/// What [`rows_of`] answers for users without a row anywhere.
fn no_rows(clickhouse: &ClickHouseConfig) -> BTreeMap<&'static str, u64> {
    user_tables(clickhouse)
        .into_iter()
        .map(|(key, _, _)| (key, 0))
        .collect()
}

/// Rows of `users` in each of [`user_tables`], every version counted (no `FINAL`).
async fn rows_of(clickhouse: &ClickHouseConfig, users: &[String]) -> BTreeMap<&'static str, u64> {
    let mut rows = BTreeMap::new();
    for (key, table, column) in user_tables(clickhouse) {
        let count: u64 = clickhouse
            .client()
            .query(&format!(
                "SELECT count() FROM {table} WHERE has(?, {column})"
            ))
            .bind(users)
            .fetch_one()
            .await
            .unwrap();
        rows.insert(key, count);
    }
    rows
}

/// Every user but `forgotten` is exactly as the ground truth says: profiles and alerts (by
/// `portrait verify`), archived events, and dead letters, each bad message `runs` times (every
/// run read the whole topic).
async fn assert_rest_is_the_truth(
    dataset: &Dataset,
    forgotten: &[String],
    kafka: &KafkaConfig,
    clickhouse: &ClickHouseConfig,
    runs: u64,
) {
    let kept = |user: &String| !forgotten.contains(user);
    let truth = dataset.truth(LATENESS_MS);
    let truth = Truth {
        profiles: truth
            .profiles
            .into_iter()
            .filter(|p| kept(&p.user_id))
            .collect(),
        ..truth
    };
    let alerts: Vec<_> = dataset
        .expected_alerts(LATENESS_MS)
        .into_iter()
        .filter(|alert| kept(&alert.user_id))
        .collect();
    let truth_file = std::env::temp_dir().join(format!("{}.ndjson", common::fresh("truth")));
    let alerts_file = std::env::temp_dir().join(format!("{}.ndjson", common::fresh("alerts")));
    truth
        .write_ndjson(BufWriter::new(File::create(&truth_file).unwrap()))
        .unwrap();
    write_alerts_ndjson(&alerts, BufWriter::new(File::create(&alerts_file).unwrap())).unwrap();
    let verify = portrait(
        &[
            "verify",
            "--truth",
            truth_file.to_str().unwrap(),
            "--expected-alerts",
            alerts_file.to_str().unwrap(),
        ],
        kafka,
        clickhouse,
    );
    let verified = succeed("portrait verify", verify).await;
    std::fs::remove_file(&truth_file).unwrap();
    std::fs::remove_file(&alerts_file).unwrap();
    let printed = String::from_utf8_lossy(&verified.stdout);
    assert!(
        printed.contains(&format!("({} profiles) and", truth.profiles.len())),
        "{printed}"
    );

    let mut expected_events: BTreeMap<String, u64> = BTreeMap::new();
    let mut bad = 0;
    for message in dataset.messages().iter().filter(|m| kept(&m.key)) {
        match message.event_type {
            Some(kind) => *expected_events.entry(kind.to_owned()).or_default() += 1,
            None => bad += 1,
        }
    }
    let events: BTreeMap<String, u64> = clickhouse
        .client()
        .query("SELECT type, count() FROM events FINAL GROUP BY type")
        .fetch_all::<(String, u64)>()
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(events, expected_events, "archived events by type");
    let letters: (u64, u64) = clickhouse
        .client()
        .query("SELECT count(), uniqExact(topic, partition, offset) FROM dead_letters")
        .fetch_one()
        .await
        .unwrap();
    assert_eq!(
        letters,
        (bad * runs, bad),
        "dead letters: rows, distinct messages"
    );
}
