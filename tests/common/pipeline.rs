//! Running the pipeline as an operator would, for the end-to-end tests: generated input on a
//! fresh topic, the `portrait` binary configured through the environment, its log, topics
//! read back to their end, and `portrait verify` against the generator's truth.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use portrait_connectors::clickhouse::ClickHouseConfig;
use portrait_connectors::kafka::{Admin, KafkaConfig, Producer, Source};
use portrait_generator::{write_alerts_ndjson, Dataset, MAX_ARRIVAL_DELAY_MS};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStderr};
use tokio::task::JoinHandle;

/// Produces every message of `dataset` to a fresh topic of `partitions` partitions; returns
/// the Kafka configuration of a fresh group reading it.
pub async fn produce(test: &str, dataset: &Dataset, partitions: u32) -> KafkaConfig {
    let brokers = super::endpoint("PORTRAIT_KAFKA_BROKERS");
    produce_on(&brokers, test, dataset, partitions).await
}

/// [`produce`] to the broker at `brokers` (a private one, say) instead of the local one.
pub async fn produce_on(
    brokers: &str,
    test: &str,
    dataset: &Dataset,
    partitions: u32,
) -> KafkaConfig {
    let topic = super::fresh(&format!("{test}_events"));
    let mut kafka = super::kafka_config(&[&topic], &super::fresh(&format!("{test}_group")));
    kafka.brokers = brokers.to_owned();
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
    // Collected first: a lazy iterator's closure held across the await below trips the
    // compiler's Send check for the spawned test body.
    let messages: Vec<(&[u8], &[u8])> = dataset
        .messages()
        .iter()
        .map(|m| (m.key.as_bytes(), m.payload.as_slice()))
        .collect();
    produce_messages_to(kafka, messages, partitions).await
}

/// Produces `messages`, (key, payload) pairs in order, to a fresh topic of `partitions`
/// partitions; returns the Kafka configuration of a fresh group reading it. For inputs that
/// are not a generated [`Dataset`].
pub async fn produce_messages(
    test: &str,
    messages: Vec<(&[u8], &[u8])>,
    partitions: u32,
) -> KafkaConfig {
    let topic = super::fresh(&format!("{test}_events"));
    let kafka = super::kafka_config(&[&topic], &super::fresh(&format!("{test}_group")));
    produce_messages_to(kafka, messages, partitions).await
}

async fn produce_messages_to(
    kafka: KafkaConfig,
    messages: Vec<(&[u8], &[u8])>,
    partitions: u32,
) -> KafkaConfig {
    let topic = kafka.topics[0].clone();
    Admin::new(&kafka)
        .unwrap()
        .create_topics(&[topic.as_str()], partitions)
        .await
        .unwrap();
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
        .env("PORTRAIT_CLICKHOUSE_CRM_DATABASE", &clickhouse.crm_database)
        .env(
            "PORTRAIT_PIPELINE_DEAD_LETTER_TOPIC",
            super::fresh("dead_letters"),
        )
        .env("PORTRAIT_PIPELINE_REPLAY_FLUSH_INTERVAL_MS", "300")
        .env("PORTRAIT_PIPELINE_FLUSH_MAX_DIRTY", "1000")
        .env(
            "PORTRAIT_CLICKHOUSE_ANALYTICS_DATABASE",
            &clickhouse.analytics_database,
        )
        // Tests run side by side: no shared metrics port.
        .env("PORTRAIT_METRICS_LISTEN", "");
    if let Some(key) = &clickhouse.pseudonymisation_key {
        command.env("PORTRAIT_CLICKHOUSE_PSEUDONYMISATION_KEY", key);
    }
    command
}

/// `alerts.lateness_ms` late enough for the alerts to be exactly the reference model's on
/// generated data (docs/alerts.md, "When an alert is decided"), as [`verify`] expects them.
pub const ALERT_LATENESS_MS: i64 = MAX_ARRIVAL_DELAY_MS + 60_000;

/// `portrait run --until-end`, with alerts decided at [`ALERT_LATENESS_MS`].
pub fn run_until_end(kafka: &KafkaConfig, clickhouse: &ClickHouseConfig) -> Command {
    let mut command = portrait(&["run", "--until-end"], kafka, clickhouse);
    command.env("PORTRAIT_ALERTS_LATENESS_MS", ALERT_LATENESS_MS.to_string());
    command
}

/// Reads a run's log (its stderr) until the run reports taking a partition on, that is, once
/// it consumes. The rest is read in the background, so the child never blocks on a full
/// pipe, and the handle gives the whole log once it ends (when the child exits). `Err` with
/// the log if it ended first.
pub async fn took_a_partition_on(stderr: ChildStderr) -> Result<JoinHandle<String>, String> {
    let mut lines = BufReader::new(stderr).lines();
    let mut log = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        writeln!(log, "{line}").unwrap();
        if line.contains("took the partition on") {
            return Ok(tokio::spawn(async move {
                while let Ok(Some(line)) = lines.next_line().await {
                    writeln!(log, "{line}").unwrap();
                }
                log
            }));
        }
    }
    Err(log)
}

/// A `portrait` process at work: started with its log at info level and read until it took a
/// partition on. Dropping it kills the process, so a failed test leaves nothing running.
pub struct Running {
    child: Child,
    log: JoinHandle<String>,
}

impl Running {
    /// Starts `command` and returns once it took a partition on; panics if it ended first or
    /// right then (its input was too small to catch it at work).
    pub async fn consuming(command: Command) -> Running {
        let mut child = tokio::process::Command::from(command)
            .env("RUST_LOG", "info,librdkafka=warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start portrait");
        let log = took_a_partition_on(child.stderr.take().unwrap())
            .await
            .unwrap_or_else(|log| panic!("the run ended before it took a partition on:\n{log}"));
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended as soon as it took a partition on: make the input larger"
        );
        Running { child, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the run is still going")
    }

    /// Asks the run to stop, as an operator or a supervisor would: SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "cannot signal the run");
    }

    /// Kills the run with SIGKILL, as a crash would, and reaps it.
    pub async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }

    /// Panics, with the run's log, if the run ended. `during` says why it should not have.
    pub async fn assert_still_going(&mut self, during: &str) {
        if let Some(status) = self.child.try_wait().unwrap() {
            let log = (&mut self.log).await.unwrap();
            panic!("the run ended ({status}) {during}:\n{log}");
        }
    }

    /// Waits for the run to end and insists that it succeeded; returns its summary (stdout)
    /// and its log. A run still going `within` from now hangs: it is killed, and the test
    /// fails rather than hang with it.
    pub async fn finished(mut self, within: Duration) -> (String, String) {
        let waited = tokio::time::timeout(within, self.child.wait()).await;
        if waited.is_err() {
            self.child.kill().await.unwrap();
        }
        let log = self.log.await.unwrap();
        let status = waited
            .unwrap_or_else(|_| panic!("the run hung: not done {within:?} later\n{log}"))
            .unwrap();
        assert!(status.success(), "the run failed ({status}):\n{log}");
        let mut summary = String::new();
        let mut stdout = self.child.stdout.take().unwrap();
        stdout.read_to_string(&mut summary).await.unwrap();
        (summary, log)
    }
}

/// `portrait verify` of what a run over `dataset` wrote to `clickhouse`: every profile
/// against the generator's truth at `lateness_ms` (the run's `pipeline.lateness_ms`), every
/// alert against its expected alerts (for a run of [`run_until_end`]). Insists that nothing
/// differs; returns what verify printed.
pub async fn verify(
    dataset: &Dataset,
    lateness_ms: i64,
    kafka: &KafkaConfig,
    clickhouse: &ClickHouseConfig,
) -> String {
    let (truth, alerts) = write_truth(dataset, lateness_ms);
    let command = portrait(
        &[
            "verify",
            "--truth",
            truth.to_str().unwrap(),
            "--expected-alerts",
            alerts.to_str().unwrap(),
        ],
        kafka,
        clickhouse,
    );
    let verified = succeed("portrait verify", command).await;
    std::fs::remove_file(&truth).unwrap();
    std::fs::remove_file(&alerts).unwrap();
    assert_archived(dataset, clickhouse).await;
    String::from_utf8_lossy(&verified.stdout).into_owned()
}

/// Writes the generator's truth for `dataset` at `lateness_ms` to two fresh NDJSON files, as
/// `portrait generate --truth --expected-alerts` would: the expected profiles and the expected
/// alerts, in that order. The caller removes them.
pub fn write_truth(dataset: &Dataset, lateness_ms: i64) -> (PathBuf, PathBuf) {
    let truth = temp_file("truth");
    dataset
        .truth(lateness_ms)
        .write_ndjson(BufWriter::new(File::create(&truth).unwrap()))
        .unwrap();
    let alerts = temp_file("alerts");
    write_alerts_ndjson(
        &dataset.expected_alerts(lateness_ms),
        BufWriter::new(File::create(&alerts).unwrap()),
    )
    .unwrap();
    (truth, alerts)
}

/// Insists that the `events` archive holds every valid event of `dataset` once, and nothing
/// else: after a crash or a rebalance too, where some were written twice (`FINAL` collapses
/// those) and none may be missing.
pub async fn assert_archived(dataset: &Dataset, clickhouse: &ClickHouseConfig) {
    let archived: BTreeMap<String, (u64, u64)> = clickhouse
        .client()
        .query("SELECT type, count(), uniqExact(event_id) FROM events FINAL GROUP BY type")
        .fetch_all::<(String, u64, u64)>()
        .await
        .unwrap()
        .into_iter()
        .map(|(kind, rows, ids)| (kind, (rows, ids)))
        .collect();
    let mut expected = BTreeMap::new();
    for kind in dataset.messages().iter().filter_map(|m| m.event_type) {
        let (rows, ids) = expected.entry(kind.to_owned()).or_insert((0, 0));
        *rows += 1;
        *ids += 1;
    }
    assert_eq!(
        archived, expected,
        "archived events by type: (rows, event ids)"
    );
}

fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{}.ndjson", super::fresh(name)))
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
