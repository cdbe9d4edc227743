//! Running the pipeline as an operator would, for the end-to-end tests: generated input on a
//! fresh topic, the `portrait` binary configured through the environment, and topics read
//! back to their end.

use std::process::{Command, Output};
use std::time::Duration;

use portrait_connectors::clickhouse::ClickHouseConfig;
use portrait_connectors::kafka::{Admin, KafkaConfig, Producer, Source};
use portrait_generator::Dataset;

/// Produces every message of `dataset` to a fresh topic of `partitions` partitions; returns
/// the Kafka configuration of a fresh group reading it.
pub async fn produce(test: &str, dataset: &Dataset, partitions: u32) -> KafkaConfig {
    let topic = super::fresh(&format!("{test}_events"));
    let kafka = super::kafka_config(&[&topic], &super::fresh(&format!("{test}_group")));
    produce_to(kafka, dataset, partitions).await
}

/// [`produce`], one message per record batch: a consumer that resumes at any committed offset
/// then starts at a batch boundary, which the fast test broker needs to resume exactly
/// (docs/offsets.md, "Known broker quirks"). For tests that kill and restart the pipeline.
pub async fn produce_one_per_batch(test: &str, dataset: &Dataset, partitions: u32) -> KafkaConfig {
    let topic = super::fresh(&format!("{test}_events"));
    let mut kafka = super::kafka_config(&[&topic], &super::fresh(&format!("{test}_group")));
    for (key, value) in [("batch.num.messages", "1"), ("linger.ms", "0")] {
        kafka.properties.insert(key.to_owned(), value.to_owned());
    }
    let mut kafka = produce_to(kafka, dataset, partitions).await;
    kafka.properties.clear();
    kafka
}

async fn produce_to(kafka: KafkaConfig, dataset: &Dataset, partitions: u32) -> KafkaConfig {
    let topic = kafka.topics[0].clone();
    Admin::new(&kafka)
        .unwrap()
        .create_topics(&[topic.as_str()], partitions)
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

/// `portrait ARGS`, configured through the environment for this test's topics and database,
/// flushing often and in small batches: many flushes, sweeps and prunes in between are what
/// the results must not depend on. Add `.env(...)` for more.
pub fn portrait(args: &[&str], kafka: &KafkaConfig, clickhouse: &ClickHouseConfig) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portrait"));
    command
        .args(args)
        .env("PORTRAIT_KAFKA_BROKERS", &kafka.brokers)
        .env("PORTRAIT_KAFKA_TOPICS", kafka.topics.join(","))
        .env("PORTRAIT_KAFKA_GROUP", &kafka.group)
        .env("PORTRAIT_CLICKHOUSE_URL", &clickhouse.url)
        .env("PORTRAIT_CLICKHOUSE_DATABASE", &clickhouse.database)
        .env(
            "PORTRAIT_PIPELINE_DEAD_LETTER_TOPIC",
            super::fresh("dead_letters"),
        )
        .env("PORTRAIT_PIPELINE_REPLAY_FLUSH_INTERVAL_MS", "300")
        .env("PORTRAIT_PIPELINE_FLUSH_MAX_DIRTY", "1000")
        // Tests run side by side: no shared metrics port.
        .env("PORTRAIT_METRICS_LISTEN", "");
    command
}

/// Runs `command` to completion off the async runtime and insists that it succeeded.
pub async fn succeed(what: &str, mut command: Command) -> Output {
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("start portrait");
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Every message of `topic`, from the start to the end it has now, as (key, value).
pub async fn read_topic(brokers: &str, topic: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut config = super::kafka_config(&[topic], &super::fresh("reader"));
    config.brokers = brokers.to_owned();
    let source = Source::new(&config).unwrap();
    let ends = source.end_offsets().await.unwrap();
    let mut processed = portrait_connectors::kafka::NextOffsets::new();
    let mut messages = Vec::new();
    while ends.remaining(&processed) > 0 {
        let batch = source
            .next_batch(10_000, Duration::from_millis(500))
            .await
            .unwrap();
        for record in batch.iter() {
            processed.processed(record.topic, record.partition, record.offset);
            messages.push((
                record.key.unwrap_or_default().to_vec(),
                record.payload.unwrap_or_default().to_vec(),
            ));
        }
    }
    source.close().await;
    messages
}
