//! The pipeline's consumer: a consumer group member that hands out messages in batches and
//! commits only the offsets the caller says are done.
//!
//! librdkafka never commits or stores an offset on its own here (`enable.auto.commit` and
//! `enable.auto.offset.store` are off): the consumer's position runs ahead of what the sinks
//! acknowledged, so committing it could skip messages after a crash. See `docs/offsets.md`.

use std::future::{poll_fn, Future};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::Poll;
use std::time::Duration;

use futures_util::{FutureExt as _, StreamExt as _};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, MessageStream, StreamConsumer,
};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Message as _};
use rdkafka::types::{RDKafkaRespErr, RDKafkaTopic};
use rdkafka::{ClientConfig, ClientContext, TopicPartitionList};

use super::config::{KafkaConfig, OffsetReset};
use super::end_offsets;
use super::headers::Headers;
use super::offsets::{EndOffsets, NextOffsets};
use super::queue::{MessageQueue, QueuedMessage};

/// A failure of the source, with the topic, partition or group it concerns. The librdkafka
/// error is the [`source`](std::error::Error::source), boxed because it is large and
/// [`Source::next_batch`]'s `Result` is on the hot path.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot create a Kafka consumer for {brokers} in group {group}")]
    Client {
        brokers: String,
        group: String,
        source: Box<KafkaError>,
    },
    #[error("cannot subscribe group {group} to topics {topics:?}")]
    Subscribe {
        group: String,
        topics: Vec<String>,
        source: Box<KafkaError>,
    },
    #[error(
        "a partition of {topics:?} has no valid committed offset and kafka.auto_offset_reset is \
         `error`; set the group's offsets explicitly or choose earliest or latest"
    )]
    OffsetReset {
        topics: Vec<String>,
        source: Box<KafkaError>,
    },
    #[error("the consumer of group {group} failed and cannot continue")]
    Fatal {
        group: String,
        source: Box<KafkaError>,
    },
    #[error("group {group} could not release the partitions it was asked to give up")]
    Release {
        group: String,
        source: Box<KafkaError>,
    },
    #[error("group {group} could not commit {offsets}")]
    Commit {
        group: String,
        offsets: String,
        source: Box<KafkaError>,
    },
    #[error("cannot read the metadata of topic {topic}")]
    Metadata {
        topic: String,
        source: Box<KafkaError>,
    },
    #[error("topic {topic} does not exist (or is not visible to this client)")]
    UnknownTopic { topic: String },
    #[error("cannot read the watermarks of topic {topic} partition {partition}")]
    Watermarks {
        topic: String,
        partition: i32,
        source: Box<KafkaError>,
    },
    #[error("cannot read where topic {topic} ends")]
    Tail {
        topic: String,
        source: Box<KafkaError>,
    },
    #[error("topic {topic} partitions {partitions:?} did not report their end within {waited:?}")]
    TailTimeout {
        topic: String,
        partitions: Vec<i32>,
        waited: Duration,
    },
    #[error(
        "message {topic}/{partition}@{offset} came through the consumer queue, not the source's \
         own: its partition was assigned without being routed (a bug in Portrait)"
    )]
    Unrouted {
        topic: String,
        partition: i32,
        offset: i64,
    },
    #[error("cannot read the committed offsets of group {group} for {topic}")]
    Committed {
        group: String,
        topic: String,
        source: Box<KafkaError>,
    },
}

impl SourceError {
    /// Whether a commit failed because this member no longer belongs to the group's current
    /// generation: retrying cannot help, its partitions are someone else's now.
    pub fn is_membership_lost(&self) -> bool {
        let Self::Commit { source, .. } = self else {
            return false;
        };
        matches!(
            source.rdkafka_error_code(),
            Some(
                RDKafkaErrorCode::UnknownMemberId
                    | RDKafkaErrorCode::IllegalGeneration
                    | RDKafkaErrorCode::RebalanceInProgress
                    | RDKafkaErrorCode::FencedInstanceId
            )
        )
    }
}

/// Callbacks librdkafka makes into the source: its log to `tracing`, offset resets counted,
/// assigned partitions routed to the source's message queue, and revocations held for the
/// engine (see [`Source::take_revoked`]).
#[derive(Default)]
pub struct SourceContext {
    /// Where assigned partitions' messages go (`queue.rs`). Weak, because the queue must be
    /// destroyed before the consumer: the source owns it and drops it first.
    messages: OnceLock<Weak<MessageQueue>>,
    offset_resets: AtomicU64,
    /// The revocation the engine has not taken yet.
    revoked: Mutex<Option<Revoked>>,
    /// Whether `revoked` is set: checked per message, so cheaper than the lock.
    any_revoked: AtomicBool,
    /// Set by [`Source::close`]: the revocation that closing triggers is released at once.
    closing: AtomicBool,
}

/// Partitions the group took back from this member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// As (topic, partition): the whole assignment, since the group rebalances eagerly.
    pub partitions: Vec<(String, i32)>,
    /// The group already gave them to others (this member missed its session timeout or its
    /// poll interval): nothing of them may be written or committed any more. Otherwise the
    /// group waits for [`Source::release_revoked`], and they are still this member's to flush
    /// and commit until then.
    pub lost: bool,
}

impl SourceContext {
    fn count_offset_reset(&self) {
        self.offset_resets.fetch_add(1, Ordering::Relaxed);
    }
}

/// Whether a librdkafka log line reports an offset reset caused by an error (out of range,
/// ...). librdkafka reports those only as a warning with facility `OFFSET` (resets for lack of
/// a committed offset are debug-level and not counted); the text is from
/// `rd_kafka_offset_reset` in librdkafka's `rdkafka_offset.c`.
fn is_offset_reset(level: RDKafkaLogLevel, facility: &str, message: &str) -> bool {
    let warning_or_worse = !matches!(
        level,
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info | RDKafkaLogLevel::Debug
    );
    warning_or_worse && facility == "OFFSET" && message.contains("offset reset")
}

impl ClientContext for SourceContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        if is_offset_reset(level, facility, message) {
            self.count_offset_reset();
        }
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", facility, "{message}")
            }
            RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", facility, "{message}"),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", facility, "{message}")
            }
            RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", facility, "{message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::error!(target: "librdkafka", %error, "{reason}");
    }
}

/// Newly assigned partitions start at the group's committed offsets (librdkafka's default),
/// their messages routed to the source's message queue first. A revocation is not released
/// here: librdkafka lets the member keep the partitions until
/// it calls `unassign`, within the rebalance timeout, which gives the engine time to flush and
/// commit them first (DESIGN.md, "Scale-out"; docs/guarantees.md, "Rebalances").
impl ConsumerContext for SourceContext {
    fn rebalance(
        &self,
        base_consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        partitions: &mut TopicPartitionList,
    ) {
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                // Gone only while the source is being dropped, when nothing is assigned.
                if let Some(queue) = self.messages.get().and_then(Weak::upgrade) {
                    let client = base_consumer.client().native_ptr();
                    for element in partitions.elements() {
                        // SAFETY: the queue was made for this consumer, which is live here.
                        unsafe { queue.route(client, element.topic(), element.partition()) };
                    }
                }
                if let Err(error) = base_consumer.assign(partitions) {
                    tracing::error!(%error, "cannot take the assigned partitions");
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                let lost = base_consumer.assignment_lost();
                let revoked = Revoked {
                    partitions: partitions
                        .elements()
                        .iter()
                        .map(|element| (element.topic().to_owned(), element.partition()))
                        .collect(),
                    lost,
                };
                tracing::info!(
                    partitions = ?revoked.partitions,
                    lost,
                    "the group is taking partitions back"
                );
                // Nothing is left to flush once closing, and nothing may be once lost.
                if lost || self.closing.load(Ordering::Acquire) {
                    unassign(base_consumer);
                }
                *self.revoked.lock().expect("revocation poisoned") = Some(revoked);
                self.any_revoked.store(true, Ordering::Release);
            }
            error => {
                let code: RDKafkaErrorCode = error.into();
                tracing::error!(%code, "rebalance failed; dropping the assignment");
                unassign(base_consumer);
            }
        }
    }
}

fn unassign(consumer: &impl Consumer<SourceContext>) {
    if let Err(error) = consumer.unassign() {
        tracing::error!(%error, "cannot release the revoked partitions");
    }
}

/// One consumed message and where it came from, borrowed from the batch that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub topic: &'a str,
    /// The topic's position in the subscribed topics (`kafka.topics`), found once per run of
    /// records from the same topic rather than by comparing names for each record.
    pub topic_index: usize,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<&'a [u8]>,
    pub payload: Option<&'a [u8]>,
    /// The pipeline ignores them on input; the dead-letter topic carries its reason and the
    /// source coordinates here.
    pub headers: Headers<'a>,
}

/// Messages received together. They borrow librdkafka's buffers, so no payload is copied;
/// hold a batch only as long as it takes to process it.
pub struct Batch<'a> {
    messages: Vec<QueuedMessage>,
    /// The subscribed topics, in the order of [`Record::topic_index`].
    topics: &'a [String],
}

impl Batch<'_> {
    /// The records in the order they were received (offset order within each partition).
    pub fn iter(&self) -> impl Iterator<Item = Record<'_>> {
        // Asking librdkafka for a message's topic name costs a `strlen` and a UTF-8 check,
        // about 2% of the pipeline's CPU per record; consecutive records almost always share
        // their topic handle, so the name and index are looked up only when it changes.
        let mut last: Option<(*mut RDKafkaTopic, &str, usize)> = None;
        self.messages.iter().map(move |message| {
            let handle = message.topic_handle();
            let (topic, topic_index) = match last {
                Some((known, topic, index)) if known == handle => (topic, index),
                _ => {
                    let topic = message.topic();
                    let index = self
                        .topics
                        .iter()
                        .position(|subscribed| subscribed == topic)
                        .expect("a consumer only receives the topics it subscribed to");
                    last = Some((handle, topic, index));
                    (topic, index)
                }
            };
            Record {
                topic,
                topic_index,
                partition: message.partition(),
                offset: message.offset(),
                key: message.key(),
                payload: message.payload(),
                headers: Headers::new(message),
            }
        })
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }
}

/// A member of the consumer group, subscribed to the input topics.
///
/// Call [`Source::next_batch`] regularly even when the pipeline is applying backpressure:
/// polling is what keeps the member in the group (`max.poll.interval.ms`).
pub struct Source {
    /// Where the assigned partitions' messages wait (`queue.rs`). Declared before `consumer`
    /// so that it is dropped first: a queue must not outlive its client.
    messages: Arc<MessageQueue>,
    /// An `Arc` so that blocking calls (commit, metadata) can run on tokio's blocking pool.
    consumer: Arc<StreamConsumer<SourceContext>>,
    topics: Vec<String>,
    group: String,
    reset: OffsetReset,
    /// Settings for the short-lived consumer that checks where each partition ends.
    probe: ClientConfig,
}

impl Source {
    /// Creates the consumer and subscribes it to `config.topics`; partitions are assigned once
    /// the group is joined, during the first calls to [`Self::next_batch`]. Must be called
    /// inside a tokio runtime.
    pub fn new(config: &KafkaConfig) -> Result<Self, SourceError> {
        let consumer: StreamConsumer<SourceContext> = config
            .client_config()
            .set("group.id", &config.group)
            // Offsets move only through `commit`, with what the caller processed.
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", config.auto_offset_reset.as_str())
            // The range assignor gives one member the same partition numbers of every topic
            // when the counts are equal: co-partitioned input stays together per process.
            .set("partition.assignment.strategy", "range")
            .create_with_context(SourceContext::default())
            .map_err(|source| SourceError::Client {
                brokers: config.brokers.clone(),
                group: config.group.clone(),
                source: source.into(),
            })?;
        // SAFETY: the consumer is live, and `Source` drops the queue before it.
        let messages = Arc::new(unsafe { MessageQueue::new(consumer.client().native_ptr()) });
        // Set before subscribing, so before any assignment: nothing to route can come earlier.
        let routed = consumer.context().messages.set(Arc::downgrade(&messages));
        debug_assert!(routed.is_ok(), "a new context has no queue yet");
        let topics: Vec<&str> = config.topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&topics)
            .map_err(|source| SourceError::Subscribe {
                group: config.group.clone(),
                topics: config.topics.clone(),
                source: source.into(),
            })?;
        Ok(Self {
            messages,
            consumer: Arc::new(consumer),
            topics: config.topics.clone(),
            group: config.group.clone(),
            reset: config.auto_offset_reset,
            probe: end_offsets::probe_config(config),
        })
    }

    /// Up to `max` messages: waits up to `wait` for the first one, then takes only what has
    /// already arrived. An empty batch means nothing arrived in time, or a revocation is
    /// waiting to be taken ([`Self::take_revoked`]).
    ///
    /// Consumer errors that librdkafka recovers from (a broker down, an out-of-range offset it
    /// resets) are logged and skipped; only fatal ones and a reset under the `error` policy
    /// end up here as errors.
    pub async fn next_batch(&self, max: usize, wait: Duration) -> Result<Batch<'_>, SourceError> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut events = self.consumer.stream();
        let mut messages = Vec::with_capacity(max.min(PREALLOCATED_MESSAGES));
        loop {
            // The group's events first: a rebalance is served here, by the context.
            while let Some(Some(event)) = self.group_event(&mut events).now_or_never() {
                self.consumer_event(event)?;
            }
            // A batch never spans a rebalance: what came before it belongs to the old
            // assignment, and the caller must drop the revoked partitions before going on.
            if self.revocation_pending() {
                break;
            }
            self.messages.take(&mut messages, max);
            self.drop_errors(&mut messages)?;
            if !messages.is_empty() {
                break;
            }
            let woken = tokio::time::timeout_at(deadline, async {
                tokio::select! {
                    () = self.messages.ready() => Ok(()),
                    // `None`: a revocation, which the loop's next round notices.
                    event = self.group_event(&mut events) => {
                        event.map_or(Ok(()), |event| self.consumer_event(event))
                    }
                }
            });
            match woken.await {
                Ok(result) => result?,
                Err(_elapsed) => break,
            }
        }
        Ok(Batch {
            messages,
            topics: &self.topics,
        })
    }

    /// The next message or error on the consumer queue, serving the group's events on the
    /// way; `None` as soon as a revocation is pending.
    fn group_event<'s, 'e>(
        &'s self,
        events: &'e mut MessageStream<'s, SourceContext>,
    ) -> impl Future<Output = Option<KafkaResult<BorrowedMessage<'s>>>> + use<'s, 'e> {
        poll_fn(move |context| match events.poll_next_unpin(context) {
            Poll::Ready(event) => Poll::Ready(event),
            Poll::Pending if self.revocation_pending() => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        })
    }

    fn revocation_pending(&self) -> bool {
        self.consumer.context().any_revoked.load(Ordering::Acquire)
    }

    /// An error from the consumer queue, sorted by [`Self::consumer_error`]. Messages never
    /// come that way, as every assigned partition is routed to the message queue first.
    fn consumer_event(&self, event: KafkaResult<BorrowedMessage<'_>>) -> Result<(), SourceError> {
        match event {
            Ok(message) => Err(SourceError::Unrouted {
                topic: message.topic().to_owned(),
                partition: message.partition(),
                offset: message.offset(),
            }),
            Err(error) => self.consumer_error(error),
        }
    }

    /// Takes the per-partition errors out of `messages`, sorted by [`Self::consumer_error`].
    fn drop_errors(&self, messages: &mut Vec<QueuedMessage>) -> Result<(), SourceError> {
        let mut result = Ok(());
        messages.retain(|message| match message.error() {
            None => true,
            Some(error) => {
                if result.is_ok() {
                    result = self.consumer_error(error);
                }
                false
            }
        });
        result
    }

    /// Sorts a consumer error into recoverable (logged) and not.
    fn consumer_error(&self, error: KafkaError) -> Result<(), SourceError> {
        match error {
            KafkaError::MessageConsumption(RDKafkaErrorCode::AutoOffsetReset) => {
                self.consumer.context().count_offset_reset();
                Err(SourceError::OffsetReset {
                    topics: self.topics.clone(),
                    source: error.into(),
                })
            }
            KafkaError::MessageConsumptionFatal(_) => Err(SourceError::Fatal {
                group: self.group.clone(),
                source: error.into(),
            }),
            KafkaError::MessageConsumption(RDKafkaErrorCode::OffsetOutOfRange) => {
                self.consumer.context().count_offset_reset();
                tracing::warn!(group = %self.group, %error, "offset out of range, reset per kafka.auto_offset_reset");
                Ok(())
            }
            error => {
                tracing::warn!(group = %self.group, %error, "consumer error, librdkafka retries");
                Ok(())
            }
        }
    }

    /// Commits exactly `offsets` (next offsets, see [`NextOffsets`]) for the group and waits
    /// for the broker's answer. Partitions not in `offsets` keep their committed offset.
    pub async fn commit(&self, offsets: &NextOffsets) -> Result<(), SourceError> {
        if offsets.is_empty() {
            return Ok(());
        }
        let list = offsets.to_list();
        let consumer = Arc::clone(&self.consumer);
        let result = tokio::task::spawn_blocking(move || consumer.commit(&list, CommitMode::Sync))
            .await
            .expect("commit panicked");
        result.map_err(|source| SourceError::Commit {
            group: self.group.clone(),
            offsets: describe(offsets),
            source: source.into(),
        })
    }

    /// For every partition of the subscribed topics: where this group resumes and where the
    /// input ends, now. `run --until-end` reads up to these ends and stops.
    pub async fn end_offsets(&self) -> Result<EndOffsets, SourceError> {
        let consumer = Arc::clone(&self.consumer);
        let probe = self.probe.clone();
        let topics = self.topics.clone();
        let group = self.group.clone();
        let reset = self.reset;
        tokio::task::spawn_blocking(move || {
            end_offsets::end_offsets(&consumer, &probe, &group, &topics, reset)
        })
        .await
        .expect("end offset lookup panicked")
    }

    /// The group's committed offsets, for every partition of the subscribed topics that has
    /// one: what all its members together have finished.
    pub async fn group_committed(&self) -> Result<NextOffsets, SourceError> {
        let consumer = Arc::clone(&self.consumer);
        let topics = self.topics.clone();
        let group = self.group.clone();
        tokio::task::spawn_blocking(move || {
            end_offsets::group_committed(&consumer, &group, &topics)
        })
        .await
        .expect("committed offset lookup panicked")
    }

    /// Offsets reset since start because the stored one was out of range (or missing under
    /// the `error` policy). Each one may have skipped or replayed input.
    pub fn offset_resets(&self) -> u64 {
        self.consumer
            .context()
            .offset_resets
            .load(Ordering::Relaxed)
    }

    /// The revocation since the last call, if any. Unless it is `lost`, the partitions stay
    /// this member's, and the whole group waits, until [`Self::release_revoked`]: flush and
    /// commit them in between, so their next owner starts where this one stopped.
    pub fn take_revoked(&self) -> Option<Revoked> {
        let context = self.consumer.context();
        let mut revoked = context.revoked.lock().expect("revocation poisoned");
        context.any_revoked.store(false, Ordering::Release);
        revoked.take()
    }

    /// Hands the revoked partitions over to the group, which then goes on with the rebalance.
    /// Their unprocessed messages already fetched are discarded; the next owner reads them
    /// again from the committed offsets.
    pub fn release_revoked(&self) -> Result<(), SourceError> {
        self.consumer
            .unassign()
            .map_err(|source| SourceError::Release {
                group: self.group.clone(),
                source: source.into(),
            })
    }

    /// Leaves the group cleanly, so that its partitions are reassigned at once rather than
    /// after the session timeout. Dropping the source does the same, but blocks the thread.
    pub async fn close(self) {
        drop(self.messages);
        let consumer = self.consumer;
        consumer.context().closing.store(true, Ordering::Release);
        tokio::task::spawn_blocking(move || drop(consumer))
            .await
            .expect("closing the consumer panicked");
    }
}

/// The most messages a batch reserves room for up front: a full default batch (10 000), without
/// letting a huge `pipeline.batch_size` reserve memory it may never fill.
const PREALLOCATED_MESSAGES: usize = 16_384;

/// `events/0@42, events/1@17`, for error messages.
fn describe(offsets: &NextOffsets) -> String {
    offsets
        .iter()
        .map(|(topic, partition, next)| format!("{topic}/{partition}@{next}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_error_resets_but_not_resets_for_lack_of_a_commit() {
        // Formatted as librdkafka 2.12's rd_kafka_offset_reset logs them.
        let out_of_range = "events [3]: offset reset (at offset 120 (leader epoch -1), broker 0) \
                            to offset BEGINNING (leader epoch -1): fetch failed due to requested \
                            offset not available on the broker: Broker: Offset out of range";
        assert!(is_offset_reset(
            RDKafkaLogLevel::Warning,
            "OFFSET",
            out_of_range
        ));
        assert!(!is_offset_reset(
            RDKafkaLogLevel::Debug,
            "OFFSET",
            "events [3]: offset reset (at offset INVALID, broker 0) to offset BEGINNING: \
             no previously committed offset available: Local: No offset stored"
        ));
        assert!(!is_offset_reset(
            RDKafkaLogLevel::Warning,
            "FAIL",
            "offset reset"
        ));
    }

    #[test]
    fn describes_offsets_for_errors() {
        let mut offsets = NextOffsets::new();
        offsets.processed("events", 1, 16);
        offsets.processed("events", 0, 41);
        assert_eq!(describe(&offsets), "events/0@42, events/1@17");
    }
}
