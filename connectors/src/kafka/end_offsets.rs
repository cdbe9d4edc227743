//! Where the input ends, for bounded runs (`run --until-end`): for every partition of the
//! input topics, where the group resumes and the offset after the last message.
//!
//! The end is asked for twice, because one broker answers the usual question wrongly. First
//! the high watermark from a ListOffsets request (`fetch_watermarks`), which is all a correct
//! broker needs. Then a short-lived consumer, assigned partitions directly, reads each non-empty partition from
//! one before that watermark until librdkafka reports the partition's end: the offset after
//! the last message read is the end. On Apache Kafka that reads one message per partition and
//! confirms the watermark. On tansu 0.6 with its `memory://` storage, ListOffsets answers
//! with the first offset of the last record batch plus one, short of the real end by the rest
//! of that batch; the read finds the rest. Without it a bounded run would stop early, and a
//! group that had consumed everything would look as if its commit were out of range.
//!
//! Everything here blocks its thread; `Source::end_offsets` runs it on tokio's blocking pool.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message as _;
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};

use super::config::{KafkaConfig, OffsetReset};
use super::offsets::{EndOffsets, NextOffsets, PartitionEnd};
use super::source::{SourceContext, SourceError};

/// How long one metadata, watermark or offset request, or one tail read, may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// One poll of the tail reader; the loop checks its deadline between polls.
const POLL: Duration = Duration::from_millis(100);

/// Settings of the tail reader: it assigns partitions itself, so it never joins a group or
/// commits, and it asks for an end-of-partition event, which is how it knows it has read
/// everything. librdkafka still wants a group id for `assign`; one derived from the
/// pipeline's keeps prefix-based ACLs working.
pub(super) fn probe_config(config: &KafkaConfig) -> ClientConfig {
    let mut probe = config.client_config();
    probe
        .set("group.id", format!("{}.end-offsets", config.group))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        // If the message it starts at was just deleted by retention, go to the end rather
        // than reading the whole partition.
        .set("auto.offset.reset", "latest");
    probe
}

/// The tail reader's client hooks. It asks for end-of-partition events, and librdkafka also
/// reports each one as a global error; here they are the expected outcome, not worth an
/// error line in the log.
struct TailContext;

impl ClientContext for TailContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::PartitionEOF) {
            tracing::debug!(target: "librdkafka", "{reason}");
        } else {
            tracing::error!(target: "librdkafka", %error, "{reason}");
        }
    }
}

impl ConsumerContext for TailContext {}

/// Start and end of every partition of `topics`, for `group`.
pub(super) fn end_offsets(
    consumer: &StreamConsumer<SourceContext>,
    probe: &ClientConfig,
    group: &str,
    topics: &[String],
    reset: OffsetReset,
) -> Result<EndOffsets, SourceError> {
    let mut ends = EndOffsets::default();
    for topic in topics {
        let partitions = partitions(consumer, topic)?;
        let committed = committed(consumer, group, topic, &partitions)?;
        let mut watermarks = BTreeMap::new();
        for &partition in &partitions {
            let (low, high) = consumer
                .fetch_watermarks(topic, partition, REQUEST_TIMEOUT)
                .map_err(|source| SourceError::Watermarks {
                    topic: topic.clone(),
                    partition,
                    source: source.into(),
                })?;
            watermarks.insert(partition, (low, high));
        }
        let tails = read_tails(probe, topic, &watermarks)?;
        for (partition, (low, high)) in watermarks {
            let end = tails.get(&partition).map_or(high, |&tail| tail.max(high));
            let committed = committed.get(&partition).copied();
            ends.insert(
                topic,
                partition,
                PartitionEnd::new(committed, low, end, reset),
            );
        }
    }
    Ok(ends)
}

/// The group's committed offsets in every partition of `topics` that has one.
pub(super) fn group_committed(
    consumer: &StreamConsumer<SourceContext>,
    group: &str,
    topics: &[String],
) -> Result<NextOffsets, SourceError> {
    let mut offsets = NextOffsets::new();
    for topic in topics {
        let partitions = partitions(consumer, topic)?;
        for (partition, next) in committed(consumer, group, topic, &partitions)? {
            if next > 0 {
                offsets.processed(topic, partition, next - 1);
            }
        }
    }
    Ok(offsets)
}

/// The partition ids of `topic`, from the brokers' metadata.
fn partitions(
    consumer: &StreamConsumer<SourceContext>,
    topic: &str,
) -> Result<Vec<i32>, SourceError> {
    let metadata = consumer
        .fetch_metadata(Some(topic), REQUEST_TIMEOUT)
        .map_err(|source| SourceError::Metadata {
            topic: topic.to_owned(),
            source: source.into(),
        })?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic && t.error().is_none())
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    if partitions.is_empty() {
        return Err(SourceError::UnknownTopic {
            topic: topic.to_owned(),
        });
    }
    Ok(partitions)
}

/// The group's committed offsets in `topic`; partitions without one are absent.
fn committed(
    consumer: &StreamConsumer<SourceContext>,
    group: &str,
    topic: &str,
    partitions: &[i32],
) -> Result<BTreeMap<i32, i64>, SourceError> {
    let mut list = TopicPartitionList::new();
    for &partition in partitions {
        list.add_partition(topic, partition);
    }
    let committed = consumer
        .committed_offsets(list, REQUEST_TIMEOUT)
        .map_err(|source| SourceError::Committed {
            group: group.to_owned(),
            topic: topic.to_owned(),
            source: source.into(),
        })?;
    Ok(committed
        .elements_for_topic(topic)
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(offset) => Some((e.partition(), offset)),
            _ => None,
        })
        .collect())
}

/// For each non-empty partition, the offset after the last message, read from the one before
/// the listed high watermark until librdkafka reports the end of the partition (the Fetch
/// response's high watermark). One topic at a time: librdkafka's end-of-partition event names
/// the partition but not the topic.
fn read_tails(
    probe: &ClientConfig,
    topic: &str,
    watermarks: &BTreeMap<i32, (i64, i64)>,
) -> Result<BTreeMap<i32, i64>, SourceError> {
    let tail_error = |source: KafkaError| SourceError::Tail {
        topic: topic.to_owned(),
        source: source.into(),
    };
    let mut list = TopicPartitionList::new();
    let mut pending = BTreeSet::new();
    for (&partition, &(low, high)) in watermarks {
        if high > low {
            list.add_partition_offset(topic, partition, Offset::Offset(high - 1))
                .map_err(tail_error)?;
            pending.insert(partition);
        }
    }
    let mut tails = BTreeMap::new();
    if pending.is_empty() {
        return Ok(tails);
    }
    let reader: BaseConsumer<TailContext> =
        probe.create_with_context(TailContext).map_err(tail_error)?;
    reader.assign(&list).map_err(tail_error)?;
    let deadline = Instant::now() + REQUEST_TIMEOUT;
    while !pending.is_empty() {
        if Instant::now() >= deadline {
            return Err(SourceError::TailTimeout {
                topic: topic.to_owned(),
                partitions: pending.into_iter().collect(),
                waited: REQUEST_TIMEOUT,
            });
        }
        match reader.poll(POLL) {
            None => {}
            Some(Ok(message)) => {
                let tail = tails.entry(message.partition()).or_insert(0);
                *tail = (*tail).max(message.offset() + 1);
            }
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                pending.remove(&partition);
            }
            Some(Err(error)) => {
                tracing::warn!(topic, %error, "reading partition tails, librdkafka retries");
            }
        }
    }
    Ok(tails)
}
