//! Operator alerts end to end, against the real broker, ClickHouse and an HTTP webhook on
//! 127.0.0.1: generated events → Kafka → `portrait run --until-end` → the `profile_alerts`
//! table, an alert topic and the webhook, each compared with the alerts the generator's
//! reference model expects (kind, user, transition time, stages).
//!
//! The webhook answers 500 for the first 30 seconds: the pipeline must hold its flush (and so
//! its consumption) meanwhile, and deliver every alert once the webhook is back. A second run
//! over the same input, from scratch, must send the same `alert_id`s, which the ClickHouse
//! view holds once.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::memory::ResidentMemory;
use common::pipeline::{portrait, produce, read_topic, succeed};
use common::webhook::{self, Delivery};
use portrait_connectors::clickhouse::migrate;
use portrait_generator::{
    alert_differences, generate, ExpectedAlert, GeneratorConfig, ALERT_KINDS, MAX_ARRIVAL_DELAY_MS,
};
use serde::Deserialize;

const PARTITIONS: u32 = 4;
const LATENESS_MS: i64 = 300_000;
/// Later than the generator's worst arrival delay: every event is placed in time, so the
/// alerts are exactly the reference model's (docs/alerts.md, "When an alert is decided").
const ALERT_LATENESS_MS: i64 = MAX_ARRIVAL_DELAY_MS + 60_000;
const OUTAGE: Duration = Duration::from_secs(30);
const SECRET: &str = "alerts-test-secret";
/// The webhook's concurrency: while it fails, at most this many alerts are being retried.
const MAX_IN_FLIGHT: usize = 4;

/// The fields of an alert payload (webhook body or Kafka value) the comparison reads.
#[derive(Debug, Deserialize)]
struct Payload {
    alert_id: String,
    user_id: String,
    kind: String,
    at_ms: i64,
    stage_before: Option<String>,
    stage_after: String,
}

impl Payload {
    fn parse(bytes: &[u8]) -> Payload {
        serde_json::from_slice(bytes)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes)))
    }

    fn expected(&self) -> ExpectedAlert {
        ExpectedAlert {
            user_id: self.user_id.clone(),
            kind: self.kind.clone(),
            at_ms: self.at_ms,
            stage_before: self.stage_before.clone(),
            stage_after: self.stage_after.clone(),
        }
    }
}

#[derive(Debug, clickhouse::Row, Deserialize)]
struct AlertRow {
    alert_id: String,
    user_id: String,
    kind: String,
    transition_at_ms: i64,
    stage_before: Option<String>,
    stage_after: String,
}

/// The alerts of `payloads`, once per `alert_id`, sorted like the expected ones; panics if
/// one id ever carried two different alerts.
fn distinct(payloads: impl IntoIterator<Item = Payload>) -> (Vec<ExpectedAlert>, BTreeSet<String>) {
    let mut by_id = BTreeMap::new();
    for payload in payloads {
        let alert = payload.expected();
        if let Some(earlier) = by_id.insert(payload.alert_id, alert.clone()) {
            assert_eq!(earlier, alert, "one alert_id, two alerts");
        }
    }
    let ids = by_id.keys().cloned().collect();
    let mut alerts: Vec<ExpectedAlert> = by_id.into_values().collect();
    alerts.sort();
    (alerts, ids)
}

fn assert_same(sink: &str, actual: &[ExpectedAlert], expected: &[ExpectedAlert]) {
    let differences = alert_differences(actual, expected);
    assert!(
        differences.is_empty(),
        "{sink}: {} difference(s), e.g.\n  {}",
        differences.len(),
        differences[..differences.len().min(20)].join("\n  ")
    );
}

async fn read_view(
    clickhouse: &portrait_connectors::clickhouse::ClickHouseConfig,
) -> Vec<AlertRow> {
    clickhouse
        .client()
        .query(
            "SELECT alert_id, user_id, kind, transition_at_ms, stage_before, stage_after \
             FROM profile_alerts_unique",
        )
        .fetch_all::<AlertRow>()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_sink_gets_exactly_the_expected_alerts_through_a_webhook_outage() {
    common::on_fresh_database("alerts", |clickhouse| async move {
        let dataset = generate(&GeneratorConfig {
            seed: 11,
            users: 1_000,
            days: 120,
            ..GeneratorConfig::default()
        });
        let expected = dataset.expected_alerts(LATENESS_MS);
        let kinds: BTreeSet<&str> = expected.iter().map(|a| a.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ALERT_KINDS.iter().copied().collect(),
            "every kind occurs"
        );

        let kafka = produce("alerts", &dataset, PARTITIONS).await;
        migrate(&clickhouse).await.unwrap();
        let alert_topic = common::fresh("alerts_topic");
        let mut hook = webhook::start(SECRET, OUTAGE).await;
        let outage_ends = Instant::now() + OUTAGE;
        let run = |group: &str| {
            let mut command = portrait(&["run", "--until-end"], &kafka, &clickhouse);
            command
                .env("PORTRAIT_KAFKA_GROUP", group)
                .env("PORTRAIT_ALERTS_LATENESS_MS", ALERT_LATENESS_MS.to_string())
                .env("PORTRAIT_ALERTS_KAFKA_TOPIC", &alert_topic)
                .env("PORTRAIT_ALERTS_WEBHOOK_URL", &hook.url)
                .env("PORTRAIT_ALERTS_WEBHOOK_SECRET", SECRET)
                .env(
                    "PORTRAIT_ALERTS_WEBHOOK_MAX_IN_FLIGHT",
                    MAX_IN_FLIGHT.to_string(),
                )
                .env("PORTRAIT_ALERTS_WEBHOOK_BACKOFF_MAX_MS", "1000");
            command
        };

        // First run, through the outage. While the webhook fails the flush waits, and so does
        // consumption: only the alerts in flight are retried, and memory stays flat.
        let child = run(&kafka.group)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start portrait");
        let mut memory = ResidentMemory::of(child.id());
        let mut deliveries: Vec<Delivery> = Vec::new();
        let mut retried = BTreeSet::new();
        while Instant::now() < outage_ends {
            let Ok(Some(delivery)) =
                tokio::time::timeout_at(outage_ends.into(), hook.deliveries.recv()).await
            else {
                break;
            };
            if !delivery.accepted {
                retried.insert(delivery.alert_id.clone());
                memory.sample();
            }
            deliveries.push(delivery);
        }
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        assert!(
            output.status.success(),
            "portrait run failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        while let Ok(delivery) = hook.deliveries.try_recv() {
            deliveries.push(delivery);
        }

        assert!(!retried.is_empty(), "the outage was felt");
        assert!(
            retried.len() <= MAX_IN_FLIGHT,
            "{} alerts were tried during the outage: the pipeline went on instead of waiting",
            retried.len()
        );
        let (early_peak, late_peak) = memory.assert_flat(OUTAGE / 3, "while the webhook was down");
        eprintln!(
            "outage: {} failed requests for {} alerts; resident {early_peak} KiB early, \
             {late_peak} KiB late",
            memory.samples(),
            retried.len()
        );

        assert!(deliveries.iter().all(|d| d.signed), "every body is signed");
        let (webhook_alerts, first_ids) = distinct(
            deliveries
                .iter()
                .filter(|d| d.accepted)
                .map(|d| Payload::parse(&d.body)),
        );
        assert_same("webhook", &webhook_alerts, &expected);

        let (topic_alerts, _) = distinct(
            read_topic(&kafka.brokers, &alert_topic)
                .await
                .into_iter()
                .map(|(key, value)| {
                    let payload = Payload::parse(&value);
                    assert_eq!(key, payload.user_id.as_bytes(), "keyed by user_id");
                    payload
                }),
        );
        assert_same("kafka topic", &topic_alerts, &expected);

        let view = read_view(&clickhouse).await;
        let mut table_alerts: Vec<ExpectedAlert> = view
            .iter()
            .map(|row| ExpectedAlert {
                user_id: row.user_id.clone(),
                kind: row.kind.clone(),
                at_ms: row.transition_at_ms,
                stage_before: row.stage_before.clone(),
                stage_after: row.stage_after.clone(),
            })
            .collect();
        table_alerts.sort();
        assert_same("profile_alerts_unique", &table_alerts, &expected);

        // The same input again, from the start with a new group and without the stored
        // states (which would make every event a replay, and the run a no-op): the same ids,
        // and the view still shows each alert once.
        clickhouse
            .client()
            .query("TRUNCATE TABLE profile_state")
            .execute()
            .await
            .unwrap();
        succeed(
            "portrait run (replay)",
            run(&common::fresh("alerts_replay")),
        )
        .await;
        let mut replayed = Vec::new();
        while let Ok(delivery) = hook.deliveries.try_recv() {
            replayed.push(delivery);
        }
        let (_, replay_ids) = distinct(
            replayed
                .iter()
                .filter(|d| d.accepted)
                .map(|d| Payload::parse(&d.body)),
        );
        assert_eq!(replay_ids, first_ids, "a replay sends the same alert_ids");
        let view = read_view(&clickhouse).await;
        let view_ids: Vec<&str> = view.iter().map(|row| row.alert_id.as_str()).collect();
        let unique: BTreeSet<&str> = view_ids.iter().copied().collect();
        assert_eq!(
            view_ids.len(),
            expected.len(),
            "the view holds each alert once"
        );
        assert_eq!(unique.len(), expected.len());
    })
    .await;
}
