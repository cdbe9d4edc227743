//! The Kafka side of Portrait: the pipeline's source, its dead-letter and alert sinks, and the
//! producer and admin calls that `portrait generate` and the tests use.
//!
//! Speaks the Kafka protocol through librdkafka (rdkafka's bundled build), so it works with
//! Apache Kafka and compatible brokers such as tansu, the one the tests run.
//!
//! - `config.rs`: the `[kafka]` settings, and the librdkafka settings Portrait will not let
//!   them override;
//! - `source.rs`: the consumer group member: batches of borrowed records with their
//!   coordinates, manual commits of explicit offsets;
//! - `queue.rs`: the source's own librdkafka queue, which the assigned partitions' messages
//!   are routed to and which hands them out a batch per call;
//! - `headers.rs`: a consumed message's headers, borrowed like its key and payload;
//! - `end_offsets.rs`: where the input ends when a bounded run starts (and a tansu quirk);
//! - `offsets.rs`: what "next offset" and "end offset" mean, as types;
//! - `producer.rs`: keyed, murmur2-partitioned sends with bounded in-flight deliveries;
//! - `dead_letters.rs`: rejected input, re-sent to the dead-letter topic with its reason and
//!   source coordinates as headers;
//! - `alerts.rs`: alerts as JSON on an alert topic, keyed by user, with the id as a header;
//! - `admin.rs`: topic creation and the start-up co-partitioning check.
//!
//! Why offsets are committed the way they are: `docs/offsets.md`.

mod admin;
mod alerts;
mod config;
mod dead_letters;
mod end_offsets;
mod headers;
mod offsets;
mod producer;
mod queue;
mod source;

pub use admin::{check_copartitioned, Admin, AdminError, NotCoPartitioned};
pub use alerts::AlertProducer;
pub use config::{is_secret_property, ConfigError, KafkaConfig, OffsetReset};
pub use dead_letters::DeadLetterProducer;
pub use headers::Headers;
pub use offsets::{EndOffsets, NextOffsets, PartitionEnd};
pub use producer::{ProduceError, Producer, DEFAULT_MAX_IN_FLIGHT};
pub use source::{Batch, Record, Revoked, Source, SourceContext, SourceError};
