//! A producer for keyed messages: what `portrait generate` and the tests write input with.
//!
//! Throughput comes from librdkafka's batching (`linger.ms`, large batches) and from keeping
//! many deliveries in flight; memory stays bounded because at most
//! [`Producer::with_max_in_flight`] messages wait for their delivery report at any time. Keys are
//! partitioned with murmur2, as Java clients do, so a user's events are co-partitioned across
//! topics whichever client wrote them.
//!
//! The dead-letter and alert sinks send through the same code (`send_messages`, with optional
//! keys and headers), so every producer of Portrait has one set of settings, one in-flight
//! bound and one way of reporting a failed delivery.

use futures_util::stream::{FuturesUnordered, StreamExt};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Message as _, OwnedHeaders, ToBytes};
use rdkafka::producer::future_producer::OwnedDeliveryResult;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::ClientConfig;

use super::config::KafkaConfig;

/// Deliveries awaited at once by default: far below librdkafka's local queue limit
/// (`queue.buffering.max.messages`, 100 000), so sending never fails with a full queue, and
/// large enough to fill several batches per partition.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 20_000;

/// librdkafka's partition number before a message was assigned one.
const UNASSIGNED: i32 = -1;

/// Why sending stopped. Messages sent before the failed one were acknowledged; messages after
/// it may or may not have been written. The librdkafka error is the
/// [`source`](std::error::Error::source), boxed to keep `Result`s small.
#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    #[error("cannot create a Kafka producer for {brokers}")]
    Client {
        brokers: String,
        source: Box<KafkaError>,
    },
    #[error("cannot queue a message for topic {topic}")]
    Enqueue {
        topic: String,
        source: Box<KafkaError>,
    },
    #[error(
        "delivery to topic {topic} {} failed (key {key:?})",
        partition_name(*partition)
    )]
    Delivery {
        topic: String,
        partition: i32,
        key: String,
        source: Box<KafkaError>,
    },
    #[error("the producer shut down before reporting a delivery to topic {topic}")]
    Canceled { topic: String },
}

fn partition_name(partition: i32) -> String {
    if partition == UNASSIGNED {
        "(before a partition was chosen)".to_owned()
    } else {
        format!("partition {partition}")
    }
}

/// The producer's librdkafka settings: `config`'s, with the durability settings and the
/// throughput defaults of [`Producer::new`].
fn settings(config: &KafkaConfig) -> ClientConfig {
    let mut client = config.client_config();
    client
        // Java's default partitioner for keyed messages; random for unkeyed ones.
        .set("partitioner", "murmur2_random")
        // Written means written to every in-sync replica.
        .set("acks", "all")
        // Retries neither duplicate nor reorder messages within a partition.
        .set("enable.idempotence", "true");
    // Wait a little to fill large batches: bulk loads, not latency, are the use.
    for (key, value) in [
        ("linger.ms", "20"),
        ("batch.num.messages", "10000"),
        ("batch.size", "1048576"),
    ] {
        if !config.properties.contains_key(key) {
            client.set(key, value);
        }
    }
    client
}

fn client_error(config: &KafkaConfig, source: KafkaError) -> ProduceError {
    ProduceError::Client {
        brokers: config.brokers.clone(),
        source: source.into(),
    }
}

/// Sends keyed messages and waits for every delivery report.
pub struct Producer {
    inner: FutureProducer,
    max_in_flight: usize,
}

impl Producer {
    /// A producer tuned for throughput with durable, ordered, duplicate-free writes. The
    /// throughput settings are defaults: `kafka.properties` may override them (a fault test
    /// writes one message per batch, for instance).
    pub fn new(config: &KafkaConfig) -> Result<Self, ProduceError> {
        let inner = settings(config)
            .create()
            .map_err(|source| client_error(config, source))?;
        Ok(Self {
            inner,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        })
    }

    /// Fails as [`Self::new`] would on settings librdkafka rejects, without creating a client
    /// (which starts threads and connects): for producers created only once needed.
    pub fn check(config: &KafkaConfig) -> Result<(), ProduceError> {
        settings(config)
            .create_native_config()
            .map(drop)
            .map_err(|source| client_error(config, source))
    }

    /// Bounds the deliveries awaited at once (at least 1).
    pub fn with_max_in_flight(mut self, max_in_flight: usize) -> Self {
        self.max_in_flight = max_in_flight.max(1);
        self
    }

    /// Sends every `(key, payload)` to `topic`, partitioned by key, and returns once all are
    /// acknowledged, with their number. `on_progress` gets the running count of acknowledged
    /// messages after each one (cheap enough for a progress bar). Fails on the first delivery
    /// that fails, naming its topic and partition.
    pub async fn send_all<I, K, P>(
        &self,
        topic: &str,
        messages: I,
        on_progress: impl FnMut(u64),
    ) -> Result<u64, ProduceError>
    where
        I: IntoIterator<Item = (K, P)>,
        K: AsRef<[u8]>,
        P: AsRef<[u8]>,
    {
        self.send_messages::<_, K, P>(topic, messages, on_progress)
            .await
    }

    /// [`Producer::send_all`] for messages that may lack a key or carry headers: what the
    /// sinks that re-send or describe data (dead letters, alerts) need. Each item becomes an
    /// [`Outgoing`] through `From`, not through a closure: a closure over borrowed messages
    /// inside this async fn would make its future not `Send` for callers that spawn it (see
    /// the test below).
    pub(crate) async fn send_messages<I, K, P>(
        &self,
        topic: &str,
        messages: I,
        on_progress: impl FnMut(u64),
    ) -> Result<u64, ProduceError>
    where
        I: IntoIterator,
        I::Item: Into<Outgoing<K, P>>,
        K: AsRef<[u8]>,
        P: AsRef<[u8]>,
    {
        let mut deliveries = self.deliveries(topic, on_progress);
        for message in messages {
            let message: Outgoing<K, P> = message.into();
            let mut record: FutureRecord<'_, [u8], [u8]> =
                FutureRecord::to(topic).payload(message.payload.as_ref());
            if let Some(key) = &message.key {
                record = record.key(key.as_ref());
            }
            if let Some(headers) = message.headers {
                record = record.headers(headers);
            }
            deliveries.send(record).await?;
        }
        deliveries.finish().await
    }

    /// The bookkeeping of one batch of sends to `topic`.
    fn deliveries<'p, F: FnMut(u64)>(
        &'p self,
        topic: &'p str,
        on_progress: F,
    ) -> Deliveries<'p, F> {
        Deliveries {
            producer: &self.inner,
            topic,
            max_in_flight: self.max_in_flight,
            in_flight: FuturesUnordered::new(),
            acknowledged: 0,
            on_progress,
        }
    }
}

/// One message for [`Producer::send_messages`]. Without a key, librdkafka's partitioner
/// picks a partition at random.
pub(crate) struct Outgoing<K, P> {
    pub(crate) key: Option<K>,
    pub(crate) payload: P,
    pub(crate) headers: Option<OwnedHeaders>,
}

/// A `(key, payload)` pair of [`Producer::send_all`]: keyed, no headers.
impl<K, P> From<(K, P)> for Outgoing<K, P> {
    fn from((key, payload): (K, P)) -> Self {
        Self {
            key: Some(key),
            payload,
            headers: None,
        }
    }
}

/// Messages sent to one topic and not yet acknowledged: at most `max_in_flight` of them, so
/// memory stays bounded however many are sent. Call [`Deliveries::finish`] to wait for the
/// rest; dropping it abandons their reports (the messages may still be written).
struct Deliveries<'p, F> {
    producer: &'p FutureProducer,
    topic: &'p str,
    max_in_flight: usize,
    in_flight: FuturesUnordered<DeliveryFuture>,
    acknowledged: u64,
    on_progress: F,
}

impl<F: FnMut(u64)> Deliveries<'_, F> {
    /// Queues one message, first waiting for an earlier delivery when `max_in_flight` are
    /// pending or librdkafka's local queue is full.
    async fn send<K, P>(&mut self, mut record: FutureRecord<'_, K, P>) -> Result<(), ProduceError>
    where
        K: ToBytes + ?Sized,
        P: ToBytes + ?Sized,
    {
        loop {
            if self.in_flight.len() >= self.max_in_flight {
                self.settle_next().await?;
            }
            match self.producer.send_result(record) {
                Ok(delivery) => {
                    self.in_flight.push(delivery);
                    return Ok(());
                }
                // Someone else filled the local queue: wait for one of ours, then retry.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                    if !self.in_flight.is_empty() =>
                {
                    record = back;
                    self.settle_next().await?;
                }
                Err((source, _)) => {
                    return Err(ProduceError::Enqueue {
                        topic: self.topic.to_owned(),
                        source: source.into(),
                    })
                }
            }
        }
    }

    /// Waits for every pending delivery; returns how many messages were acknowledged in all.
    async fn finish(mut self) -> Result<u64, ProduceError> {
        while !self.in_flight.is_empty() {
            self.settle_next().await?;
        }
        Ok(self.acknowledged)
    }

    async fn settle_next(&mut self) -> Result<(), ProduceError> {
        settle(self.in_flight.next().await, self.topic)?;
        self.acknowledged += 1;
        (self.on_progress)(self.acknowledged);
        Ok(())
    }
}

/// Turns one delivery report into success or an error with the message's coordinates.
/// A report that is not there or was canceled means the producer went away.
fn settle<Canceled>(
    report: Option<Result<OwnedDeliveryResult, Canceled>>,
    topic: &str,
) -> Result<(), ProduceError> {
    match report {
        Some(Ok(Ok(_))) => Ok(()),
        Some(Ok(Err((source, message)))) => Err(ProduceError::Delivery {
            topic: message.topic().to_owned(),
            partition: message.partition(),
            key: String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned(),
            source: source.into(),
        }),
        Some(Err(_)) | None => Err(ProduceError::Canceled {
            topic: topic.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_send<T: Send>(_: &T) {}

    /// Callers spawn sends of borrowed messages (`tokio::spawn` needs `Send`, and the
    /// integration tests do it). A closure over the messages inside these async fns breaks
    /// that ("implementation of `FnOnce` is not general enough"); this stops compiling if one
    /// comes back.
    #[allow(dead_code)]
    fn sends_of_borrowed_messages_are_send(producer: &'static Producer) {
        let task = async move {
            let owned: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            let messages: Vec<(&[u8], &[u8])> = owned
                .iter()
                .map(|(key, payload)| (key.as_slice(), payload.as_slice()))
                .collect();
            producer.send_all("topic", messages, |_| {}).await
        };
        is_send(&task);
    }

    #[allow(dead_code)]
    fn dead_letter_and_alert_sends_are_send(
        letters: &'static super::super::DeadLetterProducer,
        alerts: &'static super::super::AlertProducer,
    ) {
        is_send(&async move {
            let batch: Vec<crate::dead_letter::DeadLetter> = Vec::new();
            letters.send("topic", &batch).await
        });
        is_send(&async move {
            let batch: Vec<portrait_core::alerts::Alert> = Vec::new();
            alerts.send("topic", &batch).await
        });
    }
}
