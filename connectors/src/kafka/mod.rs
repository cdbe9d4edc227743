//! The Kafka side of Portrait: the pipeline's source, and the producer and admin calls that
//! `portrait generate` and the tests use.
//!
//! Speaks the Kafka protocol through librdkafka (rdkafka's bundled build), so it works with
//! Apache Kafka and compatible brokers such as tansu, the one the tests run.
//!
//! - `config.rs`: the `[kafka]` settings, and the librdkafka settings Portrait will not let
//!   them override;
//! - `source.rs`: the consumer group member: batches of borrowed records with their
//!   coordinates, manual commits of explicit offsets, end offsets for bounded runs;
//! - `offsets.rs`: what "next offset" and "end offset" mean, as types;
//! - `producer.rs`: keyed, murmur2-partitioned sends with bounded in-flight deliveries;
//! - `admin.rs`: topic creation and the start-up co-partitioning check.
//!
//! Why offsets are committed the way they are: `docs/offsets.md`.

mod admin;
mod config;
mod offsets;
mod producer;
mod source;

pub use admin::{check_copartitioned, Admin, AdminError, NotCoPartitioned};
pub use config::{ConfigError, KafkaConfig, OffsetReset};
pub use offsets::{EndOffsets, NextOffsets, PartitionEnd};
pub use producer::{ProduceError, Producer, DEFAULT_MAX_IN_FLIGHT};
pub use source::{Batch, Record, Source, SourceContext, SourceError};
