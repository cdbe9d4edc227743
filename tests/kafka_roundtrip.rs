//! The Kafka connector against the real brokers started by `scripts/services up`, found through
//! `PORTRAIT_KAFKA_BROKERS` (fast, `memory://`) and `PORTRAIT_KAFKA_DURABLE_BROKERS` (correct when
//! a consumer resumes inside a record batch, `sqlite://`). Every test creates its own topics and consumer groups, so tests
//! run in any order and in parallel, and a group left behind by an earlier run cannot stall a
//! join. Waits are polls with deadlines, never sleeps.
//!
//! Expected values come from the generator's messages, the broker's watermarks and a
//! hand-written murmur2 (Kafka's Java partitioner), never from the code under test.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use common::{durable_kafka_config, fresh, kafka_config};
use portrait_connectors::kafka::{
    check_copartitioned, Admin, AdminError, AlertProducer, EndOffsets, NextOffsets, Producer,
    Source,
};
use portrait_core::alerts::{Alert, AlertKind, AlertSnapshot};
use portrait_core::profile::LifecycleStage;
use portrait_generator::{generate, GeneratorConfig};
use serde_json::{json, Value};

/// Generous: a consumer group join on tansu takes a few seconds.
const DEADLINE: Duration = Duration::from_secs(90);
/// How long one poll waits for a first message.
const POLL: Duration = Duration::from_millis(500);

/// Kafka's `Utils.murmur2`, written from the Java source.
fn java_murmur2(data: &[u8]) -> u32 {
    const M: u32 = 0x5bd1_e995;
    let mut h: u32 = 0x9747_b28c ^ data.len() as u32;
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes(chunk.try_into().unwrap());
        k = k.wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &byte) in tail.iter().enumerate().rev() {
            h ^= u32::from(byte) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^ (h >> 15)
}

/// The partition a Java producer's default partitioner picks for a keyed message.
fn java_partition(key: &[u8], partitions: u32) -> i32 {
    ((java_murmur2(key) & 0x7fff_ffff) % partitions) as i32
}

#[test]
fn java_murmur2_matches_kafkas_own_test_vectors() {
    // org.apache.kafka.common.utils.UtilsTest.testMurmur2
    let cases: [(&str, i32); 6] = [
        ("21", -973_932_308),
        ("foobar", -790_332_482),
        ("a-little-bit-long-string", -985_981_536),
        ("a-little-bit-longer-string", -1_486_304_829),
        (
            "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
            -58_897_971,
        ),
        ("abc", 479_470_107),
    ];
    for (input, want) in cases {
        assert_eq!(java_murmur2(input.as_bytes()) as i32, want, "{input}");
    }
}

/// What a consumer saw, checked as it reads.
#[derive(Default)]
struct Seen {
    /// `(key, payload)` of every message, in arrival order.
    messages: Vec<(String, Vec<u8>)>,
    /// The partition each key came from.
    partition_of: HashMap<String, i32>,
    /// The last offset read in each partition.
    last_offset: BTreeMap<i32, i64>,
    processed: NextOffsets,
}

impl Seen {
    /// Reads, checking per-partition offset order and one partition per key, and commits after
    /// every batch, until `done` says so or the deadline passes (then panics, adding `hint`).
    async fn read_until(
        &mut self,
        source: &Source,
        topic: &str,
        done: impl Fn(&Self) -> bool,
        hint: &str,
    ) {
        let deadline = Instant::now() + DEADLINE;
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "timed out after {DEADLINE:?} with {} messages read{hint}",
                self.messages.len()
            );
            let batch = source.next_batch(1000, POLL).await.unwrap();
            for record in batch.iter() {
                assert_eq!(record.topic, topic);
                if let Some(previous) = self.last_offset.insert(record.partition, record.offset) {
                    assert!(
                        record.offset > previous,
                        "partition {}: offset {} after {previous}",
                        record.partition,
                        record.offset
                    );
                }
                let key = String::from_utf8(record.key.expect("keyed").to_vec()).unwrap();
                let first = *self
                    .partition_of
                    .entry(key.clone())
                    .or_insert(record.partition);
                assert_eq!(
                    first, record.partition,
                    "key {key} came from partitions {first} and {}",
                    record.partition
                );
                let payload = record.payload.expect("a payload").to_vec();
                self.messages.push((key, payload));
                self.processed
                    .processed(record.topic, record.partition, record.offset);
            }
            drop(batch);
            source.commit(&self.processed).await.unwrap();
        }
    }
}

/// Sorted, so that two multisets compare with `==`.
fn sorted(mut messages: Vec<(String, Vec<u8>)>) -> Vec<(String, Vec<u8>)> {
    messages.sort();
    messages
}

fn total_end(ends: &EndOffsets) -> i64 {
    ends.iter().map(|(_, _, end)| end.end).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_events_round_trip_and_a_restarted_consumer_resumes_at_the_commit() {
    let topic = fresh("portrait-roundtrip");
    let config = kafka_config(&[&topic], &fresh("portrait-roundtrip-group"));

    let admin = Admin::new(&config).unwrap();
    admin.create_topics(&[&topic], 4).await.unwrap();
    // Creating again is fine: start-up can always ask for its topics.
    admin.create_topics(&[&topic], 4).await.unwrap();
    let counts = admin.partition_counts(&config.topics).await.unwrap();
    assert_eq!(counts, BTreeMap::from([(topic.clone(), 4)]));

    // Produce the generated events, with a small in-flight bound so that it is exercised.
    let dataset = generate(&GeneratorConfig {
        users: 200,
        days: 30,
        ..Default::default()
    });
    let sent: Vec<(String, Vec<u8>)> = dataset
        .messages()
        .iter()
        .map(|m| (m.key.clone(), m.payload.clone()))
        .collect();
    let producer = Producer::new(&config).unwrap().with_max_in_flight(500);
    let started = Instant::now();
    let mut progress = Vec::new();
    let acknowledged = producer
        .send_all(&topic, sent.iter().map(|(k, p)| (k, p)), |n| {
            progress.push(n)
        })
        .await
        .unwrap();
    let produce_time = started.elapsed();
    assert_eq!(acknowledged, sent.len() as u64);
    assert!(progress.iter().copied().eq(1..=acknowledged));

    // The broker's own count: a fresh topic holds exactly what was sent, from offset 0.
    let source = Source::new(&config).unwrap();
    let ends = source.end_offsets().await.unwrap();
    assert_eq!(ends.iter().count(), 4);
    assert!(ends.iter().all(|(_, _, end)| end.start == 0));
    assert_eq!(total_end(&ends), sent.len() as i64);

    let started = Instant::now();
    let mut seen = Seen::default();
    seen.read_until(
        &source,
        &topic,
        |seen| ends.remaining(&seen.processed) == 0,
        "",
    )
    .await;
    let consume_time = started.elapsed();
    eprintln!(
        "{} messages, {} users: produced in {produce_time:?}, consumed and committed in \
         {consume_time:?}",
        sent.len(),
        seen.partition_of.len()
    );

    assert_eq!(seen.messages.len(), sent.len());
    assert!(
        sorted(seen.messages.clone()) == sorted(sent.clone()),
        "the messages read differ from those sent"
    );
    for (key, &partition) in &seen.partition_of {
        assert_eq!(
            partition,
            java_partition(key.as_bytes(), 4),
            "key {key} is not where a Java producer puts it"
        );
    }
    // Every partition got some users, so the per-partition checks above meant something.
    assert_eq!(seen.last_offset.len(), 4);
    assert_eq!(source.offset_resets(), 0);
    source.commit(&seen.processed).await.unwrap();
    source.close().await;

    // A new member of the same group starts at the committed end, as the broker records it.
    let resumed = Source::new(&config).unwrap();
    let committed = resumed.end_offsets().await.unwrap();
    let starts: Vec<_> = committed
        .iter()
        .map(|(_, p, end)| (p, end.start, end.end))
        .collect();
    let expected: Vec<_> = ends
        .iter()
        .map(|(_, p, end)| (p, end.end, end.end))
        .collect();
    assert_eq!(starts, expected, "(partition, resumes at, end)");

    // Ten more messages: it reads exactly those, nothing from before the commit.
    let late: Vec<(String, Vec<u8>)> = (0..10)
        .map(|i| (format!("late-{i}"), format!("{{\"n\":{i}}}").into_bytes()))
        .collect();
    producer
        .send_all(&topic, late.iter().map(|(k, p)| (k, p)), |_| {})
        .await
        .unwrap();
    let mut after = Seen::default();
    after
        .read_until(
            &resumed,
            &topic,
            |seen| seen.messages.len() >= late.len(),
            "",
        )
        .await;
    assert_eq!(sorted(after.messages.clone()), sorted(late.clone()));
    for (partition, first_end) in ends.iter().map(|(_, p, end)| (p, end.end)) {
        if let Some(&last) = after.last_offset.get(&partition) {
            assert!(
                last >= first_end,
                "partition {partition} re-read offset {last}"
            );
        }
    }
    // And the broker agrees that nothing else is left.
    let now = resumed.end_offsets().await.unwrap();
    assert_eq!(total_end(&now), total_end(&ends) + 10);
    assert_eq!(now.remaining(&after.processed), 0);
    resumed.close().await;
}

#[tokio::test]
async fn topics_with_different_partition_counts_are_not_copartitioned() {
    let (pages, chats, orders) = (
        fresh("portrait-pages"),
        fresh("portrait-chats"),
        fresh("portrait-orders"),
    );
    let config = kafka_config(&[&pages, &chats], &fresh("portrait-admin-group"));
    let admin = Admin::new(&config).unwrap();
    admin.create_topics(&[&pages, &orders], 3).await.unwrap();
    admin.create_topics(&[&chats], 2).await.unwrap();

    let counts = admin.partition_counts(&config.topics).await.unwrap();
    assert_eq!(
        counts,
        BTreeMap::from([(pages.clone(), 3), (chats.clone(), 2)])
    );
    let message = check_copartitioned(&counts).unwrap_err().to_string();
    assert!(
        message.contains(&format!("{chats} has 2, {pages} has 3 partitions")),
        "{message}"
    );

    let same = admin
        .partition_counts(&[pages.clone(), orders.clone()])
        .await
        .unwrap();
    assert_eq!(check_copartitioned(&same), Ok(3));
}

#[tokio::test]
async fn a_missing_topic_is_reported_and_not_created() {
    let missing = fresh("portrait-missing");
    let config = kafka_config(&[&missing], &fresh("portrait-missing-group"));
    let admin = Admin::new(&config).unwrap();
    for _ in 0..2 {
        match admin.partition_counts(&config.topics).await {
            Err(AdminError::UnknownTopic { topic, .. }) => assert_eq!(topic, missing),
            other => panic!("expected UnknownTopic for {missing}, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_resumes_mid_batch_at_the_committed_offset() {
    // The durable broker: tansu 0.6's memory:// storage answers a fetch at an offset inside a
    // record batch with the batches that *start* after it, so the fast broker would lose the
    // rest of the batch here (docs/offsets.md, "Known broker quirks").
    let topic = fresh("portrait-midbatch");
    let config = durable_kafka_config(&[&topic], &fresh("portrait-midbatch-group"));
    Admin::new(&config)
        .unwrap()
        .create_topics(&[&topic], 1)
        .await
        .unwrap();
    // Sent at once, so librdkafka packs them into few record batches.
    let sent: Vec<(String, Vec<u8>)> = (0..100)
        .map(|i| (format!("user-{i}"), format!("{{\"n\":{i}}}").into_bytes()))
        .collect();
    let producer = Producer::new(&config).unwrap();
    producer
        .send_all(&topic, sent.iter().map(|(k, p)| (k, p)), |_| {})
        .await
        .unwrap();

    // Process offsets 0..=36 and commit that, as a pipeline that crashed mid-batch would.
    let first = Source::new(&config).unwrap();
    let mut done = NextOffsets::new();
    let deadline = Instant::now() + DEADLINE;
    while done.get(&topic, 0) != Some(37) {
        assert!(
            Instant::now() < deadline,
            "timed out reading offsets 0..=36"
        );
        let batch = first.next_batch(1000, POLL).await.unwrap();
        for record in batch.iter().filter(|r| r.offset <= 36) {
            done.processed(record.topic, record.partition, record.offset);
        }
    }
    first.commit(&done).await.unwrap();
    first.close().await;

    let resumed = Source::new(&config).unwrap();
    let ends = resumed.end_offsets().await.unwrap();
    let starts: Vec<_> = ends.iter().map(|(_, p, e)| (p, e.start, e.end)).collect();
    assert_eq!(starts, [(0, 37, 100)]);
    let mut seen = Seen::default();
    seen.read_until(
        &resumed,
        &topic,
        |seen| ends.remaining(&seen.processed) == 0,
        "; if PORTRAIT_KAFKA_DURABLE_BROKERS points at tansu with memory:// storage, it cannot \
         fetch from inside a record batch: use the sqlite:// broker that scripts/services runs \
         (kafka-durable), see docs/offsets.md",
    )
    .await;
    assert_eq!(seen.messages, sent[37..]);
    resumed.close().await;
}

/// Two users' alerts on a topic of three partitions: each message is keyed by its user, lands
/// where a Java producer would put that key, carries the alert's JSON as its value and the id
/// as the `portrait.alert_id` header. Ids and partitions are computed independently (Python's
/// hashlib, the hand-written murmur2 above).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_are_keyed_by_user_with_the_json_payload_and_the_id_header() {
    const PARTITIONS: u32 = 3;
    let topic = fresh("portrait-alerts");
    let config = kafka_config(&[&topic], &fresh("portrait-alerts-group"));
    Admin::new(&config)
        .unwrap()
        .create_topics(&[&topic], PARTITIONS)
        .await
        .unwrap();
    let dormant = common::alerts::dormant();
    let activated = Alert {
        user_id: "u000043".to_owned(),
        kind: AlertKind::Activated,
        stage_before: None,
        stage_after: LifecycleStage::New,
        reason: "sent 3 messages to staff".to_owned(),
        snapshot: AlertSnapshot {
            last_active_at: None,
            ..dormant.snapshot
        },
        ..dormant.clone()
    };
    let alerts = [dormant, activated];
    AlertProducer::new(&config)
        .unwrap()
        .send(&topic, &alerts)
        .await
        .expect("send the alerts");

    let source = Source::new(&config).unwrap();
    let deadline = Instant::now() + DEADLINE;
    // (key, partition, alert_id header, payload)
    let mut received: Vec<(String, i32, Option<String>, Value)> = Vec::new();
    while received.len() < alerts.len() {
        assert!(
            Instant::now() < deadline,
            "timed out after {DEADLINE:?} with {} of {} alerts read",
            received.len(),
            alerts.len()
        );
        let batch = source.next_batch(100, POLL).await.unwrap();
        for record in batch.iter() {
            let key = String::from_utf8(record.key.expect("keyed").to_vec()).unwrap();
            let header = record
                .headers
                .get("portrait.alert_id")
                .map(|value| String::from_utf8(value.to_vec()).expect("UTF-8"));
            let payload = serde_json::from_slice(record.payload.expect("a value")).unwrap();
            received.push((key, record.partition, header, payload));
        }
    }
    source.close().await;
    received.sort_by(|a, b| a.0.cmp(&b.0));

    let (dormant_id, activated_id) = (
        common::alerts::DORMANT_ID,
        "dfdd0e8f81b60627ed7b9b70e8b6ca59",
    );
    assert_eq!(
        received,
        [
            (
                "u000042".to_owned(),
                java_partition(b"u000042", PARTITIONS),
                Some(dormant_id.to_owned()),
                json!({
                    "text": "Portrait: u000042 is now dormant (was at_risk): no activity for 30 \
                             days (last active 2025-12-02)",
                    "alert_id": dormant_id,
                    "user_id": "u000042",
                    "kind": "dormant",
                    "at": "2026-01-01T00:00:00.000Z",
                    "at_ms": 1_767_225_600_000_i64,
                    "stage_before": "at_risk",
                    "stage_after": "dormant",
                    "reason": "no activity for 30 days (last active 2025-12-02)",
                    "snapshot": {
                        "days_inactive": 30,
                        "events_7d": 0,
                        "events_prev_28d": 12,
                        "frequency_drop": 0.75,
                        "churn_risk": 0.8,
                        "hard_churned": false,
                        "messages_sent": 3,
                        "last_active_at": 1_764_633_600,
                    },
                }),
            ),
            (
                "u000043".to_owned(),
                java_partition(b"u000043", PARTITIONS),
                Some(activated_id.to_owned()),
                json!({
                    "text": "Portrait: u000043 is activated: sent 3 messages to staff",
                    "alert_id": activated_id,
                    "user_id": "u000043",
                    "kind": "activated",
                    "at": "2026-01-01T00:00:00.000Z",
                    "at_ms": 1_767_225_600_000_i64,
                    "stage_before": null,
                    "stage_after": "new",
                    "reason": "sent 3 messages to staff",
                    "snapshot": {
                        "days_inactive": 30,
                        "events_7d": 0,
                        "events_prev_28d": 12,
                        "frequency_drop": 0.75,
                        "churn_risk": 0.8,
                        "hard_churned": false,
                        "messages_sent": 3,
                        "last_active_at": null,
                    },
                }),
            ),
        ]
    );
}
