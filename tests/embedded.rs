//! The embedded mode (docs/embedded.md): generated events from an NDJSON file or stdin,
//! through `portrait run` with neither Kafka nor ClickHouse configured, into Parquet tables.
//!
//! The same input profiled once in the embedded mode and once from Kafka into ClickHouse must
//! give identical rows, column by column; `portrait sql` must answer a dashboard query as
//! ClickHouse does over the same data; and `portrait verify` must find the Parquet tables
//! exact against the generator's truth.

mod common;

use std::fs::File;
use std::path::Path;
use std::process::Stdio;

use common::embedded::{fresh_dir, portrait as embedded, write_events};
use common::pipeline::{run_until_end, succeed, write_truth};
use portrait_connectors::clickhouse::migrate;
use portrait_generator::{generate, Dataset, GeneratorConfig};
use serde::Deserialize;

const PARTITIONS: u32 = 4;
/// `pipeline.lateness_ms` at its default, as the truth is computed with.
const LATENESS_MS: i64 = 300_000;
/// Large enough that a run flushes once, at the end of its input: each user's single row then
/// has version 1 and the final watermark in either mode.
const NEVER: &str = "1000000000";

/// Every column of `user_profiles_current`.
#[derive(Debug, PartialEq, clickhouse::Row, Deserialize)]
struct ProfileRow {
    user_id: String,
    first_seen_at: u32,
    first_contact_at: Option<u32>,
    last_active_at: Option<u32>,
    page_views: u64,
    searches: u64,
    messages_sent: u64,
    messages_received: u64,
    orders: u64,
    promo_orders: u64,
    revenue: f64,
    discount_total: f64,
    active_days_30d: u32,
    activated: u8,
    activated_at: Option<u32>,
    days_inactive: u32,
    events_7d: u32,
    events_prev_28d: u32,
    frequency_drop: f64,
    hard_churned: u8,
    marketing_averse: u8,
    reactivated_at: Option<u32>,
    lifecycle_stage: String,
    churn_risk: f64,
    promo_order_share: f64,
    discount_share: f64,
    promo_engagement: u64,
    promo_tier: String,
    rfm_recency_days: Option<u32>,
    rfm_r: Option<u8>,
    rfm_f: Option<u8>,
    rfm_m: Option<u8>,
    rfm_segment: Option<String>,
    top_categories: Vec<String>,
    purchasing_power: Option<String>,
    updated_at: u32,
    version: u64,
}

/// Every column of `profile_alerts_unique` but `emitted_at`, the wall clock of the run.
#[derive(Debug, PartialEq, clickhouse::Row, Deserialize)]
struct AlertRow {
    alert_id: String,
    user_id: String,
    kind: String,
    transition_at: u32,
    transition_at_ms: i64,
    stage_before: Option<String>,
    stage_after: String,
    reason: String,
    days_inactive: u32,
    events_7d: u32,
    events_prev_28d: u32,
    frequency_drop: f64,
    churn_risk: f64,
    hard_churned: u8,
    messages_sent: u64,
    last_active_at: Option<u32>,
}

/// What a dead letter says of the message, wherever it was read from.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, clickhouse::Row, Deserialize)]
struct DeadLetterRow {
    reason: String,
    detail: String,
    payload: Vec<u8>,
}

/// A row of `dashboards/queries/promotion_tiers.sql`.
#[derive(Debug, PartialEq, clickhouse::Row, Deserialize)]
struct TierRow {
    tier: String,
    users: u64,
    orders_total: u64,
    promo_orders_total: u64,
    avg_discount_share: f64,
    pooled_discount_share: f64,
}

fn dataset(seed: u64) -> Dataset {
    generate(&GeneratorConfig {
        seed,
        users: 400,
        days: 90,
        malformed_rate: 0.02,
        ..GeneratorConfig::default()
    })
}

/// Runs `sql` with `portrait sql --format json` over the tables in `data_dir`.
async fn sql_json<T: serde::de::DeserializeOwned>(sql: &str, data_dir: &Path) -> Vec<T> {
    let command = embedded(&["sql", "--format", "json", sql], data_dir);
    let output = succeed("portrait sql", command).await;
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_and_kafka_modes_write_identical_rows() {
    common::on_fresh_database("embedded", |clickhouse| async move {
        let dataset = dataset(11);
        let dir = fresh_dir("embedded_same");
        let events = dir.join("events.ndjson");
        write_events(&dataset, &events);

        let kafka = common::pipeline::produce("embedded", &dataset, PARTITIONS).await;
        migrate(&clickhouse).await.unwrap();
        let mut run = run_until_end(&kafka, &clickhouse);
        run.env("PORTRAIT_PIPELINE_REPLAY_FLUSH_INTERVAL_MS", NEVER)
            .env("PORTRAIT_PIPELINE_FLUSH_MAX_DIRTY", NEVER);
        succeed("portrait run --until-end", run).await;

        let data_dir = dir.join("data");
        let mut run = embedded(&["run", "--input", events.to_str().unwrap()], &data_dir);
        run.env("PORTRAIT_PIPELINE_FLUSH_MAX_DIRTY", NEVER);
        succeed("portrait run (embedded)", run).await;

        let client = clickhouse.client();
        let stored: Vec<ProfileRow> = client
            .query("SELECT ?fields FROM user_profiles_current ORDER BY user_id")
            .fetch_all()
            .await
            .unwrap();
        let written: Vec<ProfileRow> = portrait_sql::rows(
            &data_dir,
            "SELECT * FROM user_profiles_current ORDER BY user_id",
        )
        .await
        .unwrap();
        assert_eq!(stored.len(), 400, "a profile per user in ClickHouse");
        assert_eq!(written.len(), stored.len(), "a profile per user in Parquet");
        for (written, stored) in written.iter().zip(&stored) {
            assert_eq!(written, stored);
        }

        let stored: Vec<AlertRow> = client
            .query("SELECT ?fields FROM profile_alerts_unique ORDER BY alert_id")
            .fetch_all()
            .await
            .unwrap();
        let written: Vec<AlertRow> = portrait_sql::rows(
            &data_dir,
            "SELECT * FROM profile_alerts_unique ORDER BY alert_id",
        )
        .await
        .unwrap();
        assert!(!stored.is_empty(), "the input raises alerts");
        assert_eq!(written, stored);

        // The Kafka coordinates differ (topic, partition, offset): what was wrong does not.
        let mut stored: Vec<DeadLetterRow> = client
            .query("SELECT ?fields FROM dead_letters")
            .fetch_all()
            .await
            .unwrap();
        let mut written: Vec<DeadLetterRow> =
            portrait_sql::rows(&data_dir, "SELECT * FROM dead_letters")
                .await
                .unwrap();
        let malformed = dataset.messages().iter().filter(|m| m.malformed.is_some());
        assert_eq!(stored.len(), malformed.count());
        stored.sort();
        written.sort();
        assert_eq!(written, stored);

        // A dashboard query, as shipped, over either store.
        let query = std::fs::read_to_string("dashboards/queries/promotion_tiers.sql").unwrap();
        // `?` binds an argument in the client's queries; `??` is a question mark.
        let stored: Vec<TierRow> = client
            .query(&query.replace('?', "??"))
            .fetch_all()
            .await
            .unwrap();
        let answered: Vec<TierRow> = sql_json(&query, &data_dir).await;
        assert!(stored.len() >= 3, "{stored:?}");
        assert_eq!(answered, stored);

        std::fs::remove_dir_all(&dir).unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_tables_from_stdin_verify_against_the_truth() {
    let dataset = dataset(12);
    let dir = fresh_dir("embedded_verify");
    let events = dir.join("events.ndjson");
    write_events(&dataset, &events);
    let data_dir = dir.join("data");

    // Standard input, and a flush every 50 changed users: many flushes, sweeps and prunes,
    // which the profiles must not depend on.
    let mut run = embedded(&["run"], &data_dir);
    run.env("PORTRAIT_PIPELINE_FLUSH_MAX_DIRTY", "50")
        .stdin(Stdio::from(File::open(&events).unwrap()));
    let output = succeed("portrait run (embedded, stdin)", run).await;
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("tables written to"), "{summary}");

    let (truth, alerts) = write_truth(&dataset, LATENESS_MS);
    let verify = embedded(
        &[
            "verify",
            "--truth",
            truth.to_str().unwrap(),
            "--expected-alerts",
            alerts.to_str().unwrap(),
        ],
        &data_dir,
    );
    let verified = succeed("portrait verify (embedded)", verify).await;
    let verified = String::from_utf8_lossy(&verified.stdout);
    assert_eq!(
        verified.matches("verified: no difference").count(),
        2,
        "{verified}"
    );

    // The segments' tables are there, empty with no segment configured.
    #[derive(Deserialize)]
    struct Count {
        n: u64,
    }
    for table in ["segment_membership", "segment_members"] {
        let counts: Vec<Count> =
            sql_json(&format!("SELECT count(*) AS n FROM {table}"), &data_dir).await;
        assert_eq!(counts.iter().map(|c| c.n).sum::<u64>(), 0, "{table}");
    }

    // A second run does not overwrite the first one's tables unless asked to.
    let again = embedded(&["run", "--input", events.to_str().unwrap()], &data_dir)
        .output()
        .unwrap();
    let refused = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success());
    assert!(refused.contains("pass --replace"), "{refused}");
    let replace = embedded(
        &["run", "--replace", "--input", events.to_str().unwrap()],
        &data_dir,
    );
    succeed("portrait run --replace (embedded)", replace).await;
    let verified = succeed(
        "portrait verify (embedded, replaced)",
        embedded(&["verify", "--truth", truth.to_str().unwrap()], &data_dir),
    )
    .await;
    assert!(String::from_utf8_lossy(&verified.stdout).contains("verified: no difference"));

    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_file(&truth).unwrap();
    std::fs::remove_file(&alerts).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn check_config_points_at_the_mistake_in_a_segment() {
    let dir = fresh_dir("segments_config");
    let config = dir.join("portrait.toml");
    std::fs::write(
        &config,
        "[segments.promo_only]\n\
         where = \"orders >= 2 AND promo_orders = orders\"\n\
         [segments.vip_at_risk]\n\
         where = \"rfm_segment = 'champions' AND lifecycle_stage = 'at_risk'\"\n\
         alert = true\n",
    )
    .unwrap();
    let check = |config: &Path| {
        embedded(
            &["--config", config.to_str().unwrap(), "check-config"],
            &dir,
        )
    };
    let checked = succeed("portrait check-config (good segments)", check(&config)).await;
    let checked = String::from_utf8_lossy(&checked.stdout);
    assert!(
        checked.contains("  segments: promo_only, vip_at_risk (alert: vip_at_risk)\n"),
        "{checked}"
    );

    std::fs::write(
        &config,
        "[segments.vip_at_risk]\n\
         where = \"rfm_segment = 'champions' AND lifecycle_stage = = 'at_risk'\"\n",
    )
    .unwrap();
    let refused = check(&config).output().unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(
            "segment vip_at_risk: Expected: an expression, found: =, at line 1, column 49:\n    \
             rfm_segment = 'champions' AND lifecycle_stage = = 'at_risk'\n    \
             \x20                                               ^"
        ),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
