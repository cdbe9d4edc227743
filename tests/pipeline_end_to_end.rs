//! The core pipeline end to end, against the real broker and ClickHouse: generated events
//! (late, out of order, 1% malformed) → Kafka → `portrait run --until-end` → ClickHouse, and
//! every column of every profile compared with the generator's ground truth.

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::process::{Command, Output};

use portrait_connectors::clickhouse::{migrate, ClickHouseConfig};
use portrait_connectors::kafka::{Admin, KafkaConfig, Producer};
use portrait_generator::{generate, Dataset, GeneratorConfig};
use serde::Deserialize;

const PARTITIONS: u32 = 4;
const LATENESS_MS: i64 = 300_000;

/// Produces every message of `dataset` to a fresh topic; returns the Kafka configuration of a
/// fresh group reading it.
async fn load(test: &str, dataset: &Dataset) -> KafkaConfig {
    let topic = common::fresh(&format!("{test}_events"));
    let kafka = common::kafka_config(&[&topic], &common::fresh(&format!("{test}_group")));
    Admin::new(&kafka)
        .unwrap()
        .create_topics(&[topic.as_str()], PARTITIONS)
        .await
        .unwrap();
    // Collected first: a lazy iterator's closure held across the await below trips the
    // compiler's Send check for the spawned test body.
    let messages: Vec<(&[u8], &[u8])> = dataset
        .messages()
        .iter()
        .map(|m| (m.key.as_bytes(), m.payload.as_slice()))
        .collect();
    Producer::new(&kafka)
        .unwrap()
        .send_all(&topic, messages, |_| {})
        .await
        .unwrap();
    kafka
}

/// Runs `portrait ARGS` as a separate process, as an operator would, configured through the
/// environment for this test's topics and database.
async fn portrait(
    args: &[&str],
    kafka: &KafkaConfig,
    clickhouse: &ClickHouseConfig,
    dead_letter_topic: &str,
) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portrait"));
    command
        .args(args)
        .env("PORTRAIT_KAFKA_BROKERS", &kafka.brokers)
        .env("PORTRAIT_KAFKA_TOPICS", kafka.topics.join(","))
        .env("PORTRAIT_KAFKA_GROUP", &kafka.group)
        .env("PORTRAIT_CLICKHOUSE_URL", &clickhouse.url)
        .env("PORTRAIT_CLICKHOUSE_DATABASE", &clickhouse.database)
        .env("PORTRAIT_PIPELINE_DEAD_LETTER_TOPIC", dead_letter_topic)
        // Flush often and in small batches: many flushes, sweeps and prunes in between are
        // what the final profiles must not depend on.
        .env("PORTRAIT_PIPELINE_REPLAY_FLUSH_INTERVAL_MS", "300")
        .env("PORTRAIT_PIPELINE_FLUSH_MAX_DIRTY", "1000")
        // Tests run side by side: no shared metrics port.
        .env("PORTRAIT_METRICS_LISTEN", "");
    tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("start portrait")
}

fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[derive(Debug, clickhouse::Row, Deserialize)]
struct DeadLetterRow {
    partition: u32,
    offset: i64,
    reason: String,
    payload: Vec<u8>,
}

#[tokio::test(flavor = "multi_thread")]
async fn profiles_equal_the_ground_truth_and_bad_input_becomes_dead_letters() {
    common::on_fresh_database("e2e", |clickhouse| async move {
        let dataset = generate(&GeneratorConfig {
            seed: 7,
            users: 5_000,
            days: 120,
            malformed_rate: 0.01,
            ..GeneratorConfig::default()
        });
        let malformed: Vec<_> = dataset
            .messages()
            .iter()
            .filter(|m| m.malformed.is_some())
            .collect();
        let valid = dataset.messages().len() - malformed.len();
        assert!(valid >= 200_000, "only {valid} valid events");
        assert!(!malformed.is_empty());

        let kafka = load("e2e", &dataset).await;
        migrate(&clickhouse).await.unwrap();
        let dead_letter_topic = common::fresh("e2e_dead_letters");
        let run = portrait(
            &["run", "--until-end"],
            &kafka,
            &clickhouse,
            &dead_letter_topic,
        );
        assert_success("portrait run --until-end", &run.await);

        // Every column of every profile against the reference model, by `portrait verify`.
        let truth = std::env::temp_dir().join(format!("{}.ndjson", common::fresh("e2e_truth")));
        dataset
            .truth(LATENESS_MS)
            .write_ndjson(BufWriter::new(File::create(&truth).unwrap()))
            .unwrap();
        let verify = portrait(
            &["verify", "--truth", truth.to_str().unwrap()],
            &kafka,
            &clickhouse,
            &dead_letter_topic,
        )
        .await;
        std::fs::remove_file(&truth).unwrap();
        assert_success("portrait verify", &verify);
        assert!(
            String::from_utf8_lossy(&verify.stdout).contains("verified: the 5000 profiles"),
            "{}",
            String::from_utf8_lossy(&verify.stdout)
        );

        let letters = clickhouse
            .client()
            .query("SELECT partition, offset, reason, payload FROM dead_letters")
            .fetch_all::<DeadLetterRow>()
            .await
            .unwrap();
        let mut expected_reasons = BTreeMap::new();
        for message in &malformed {
            let kind = message.malformed.unwrap();
            *expected_reasons
                .entry(common::expected_rejection(kind).0)
                .or_insert(0) += 1;
        }
        let mut reasons = BTreeMap::new();
        for letter in &letters {
            *reasons.entry(letter.reason.as_str()).or_insert(0) += 1;
        }
        assert_eq!(reasons, expected_reasons, "dead letters by reason");

        let mut coordinates: Vec<_> = letters.iter().map(|l| (l.partition, l.offset)).collect();
        coordinates.sort_unstable();
        coordinates.dedup();
        assert_eq!(coordinates.len(), malformed.len(), "each bad message once");

        let mut payloads: Vec<&[u8]> = letters.iter().map(|l| l.payload.as_slice()).collect();
        let mut expected_payloads: Vec<&[u8]> =
            malformed.iter().map(|m| m.payload.as_slice()).collect();
        payloads.sort_unstable();
        expected_payloads.sort_unstable();
        assert!(
            payloads == expected_payloads,
            "dead letters keep the original bytes"
        );
    })
    .await;
}
