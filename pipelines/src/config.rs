//! The `[pipeline]` section of Portrait's configuration.

use portrait_core::event::DecodeLimits;
use serde::{Deserialize, Serialize};

/// How the engine batches, flushes and judges time. Every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// How long events may arrive after later ones and still count as on time, in
    /// milliseconds: the watermark is the latest event time seen minus this. Default 5 minutes.
    pub lateness_ms: i64,
    /// Flush changed profiles at least this often, in milliseconds. Default 1000.
    pub flush_interval_ms: u64,
    /// The same for `run --until-end` (replay), where nobody waits for fresh rows: flushing
    /// less often writes each changed user fewer times. Default 10 000.
    pub replay_flush_interval_ms: u64,
    /// Flush as soon as this many users changed, whatever the interval. Default 50 000.
    pub flush_max_dirty: usize,
    /// Messages taken from Kafka at once. Default 10 000.
    pub batch_size: usize,
    /// How long a flush of partitions the group is taking back may hold the rebalance up, in
    /// milliseconds; past it their unflushed work is dropped for the next owner to replay.
    /// Keep it well below the consumer's `max.poll.interval.ms` (`[kafka.properties]`, 300 s
    /// by default), after which the group goes on without this process. Default 30 000.
    pub revoke_flush_timeout_ms: u64,
    /// How long `portrait run` may take to flush and commit after SIGTERM or SIGINT before it
    /// gives up and exits non-zero, in milliseconds; what it could not commit is replayed on
    /// the next start. Default 25 000, below the 30 s grace period of common supervisors.
    pub shutdown_timeout_ms: u64,
    /// Write every applied event to the ClickHouse table `events`, the archive the PV/UV and
    /// DAU dashboards read. Default `true`; turn it off when nobody reads them, as it is most
    /// of what a flush writes.
    pub archive_events: bool,
    /// Kafka topic that receives every message that fails to decode, with the reason and its
    /// source coordinates in headers. Default `portrait.dead_letters`.
    pub dead_letter_topic: String,
    /// What a message may hold before it is a dead letter: sizes, lengths, item counts and
    /// numeric ranges (`[pipeline.limits]`; docs/security.md, "Hostile input").
    pub limits: DecodeLimits,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            lateness_ms: 300_000,
            flush_interval_ms: 1_000,
            replay_flush_interval_ms: 10_000,
            flush_max_dirty: 50_000,
            batch_size: 10_000,
            revoke_flush_timeout_ms: 30_000,
            shutdown_timeout_ms: 25_000,
            archive_events: true,
            dead_letter_topic: "portrait.dead_letters".to_owned(),
            limits: DecodeLimits::default(),
        }
    }
}

/// A `[pipeline]` setting the engine cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("pipeline.lateness_ms must be >= 0")]
    NegativeLateness,
    #[error("pipeline.flush_interval_ms and pipeline.replay_flush_interval_ms must be > 0")]
    ZeroFlushInterval,
    #[error("pipeline.flush_max_dirty and pipeline.batch_size must be > 0")]
    ZeroBatch,
    #[error("pipeline.dead_letter_topic is empty; bad input must go somewhere")]
    NoDeadLetterTopic,
}

impl PipelineConfig {
    /// Every mistake in this section.
    pub fn validate(&self) -> Vec<ConfigError> {
        let mut mistakes = Vec::new();
        if self.lateness_ms < 0 {
            mistakes.push(ConfigError::NegativeLateness);
        }
        if self.flush_interval_ms == 0 || self.replay_flush_interval_ms == 0 {
            mistakes.push(ConfigError::ZeroFlushInterval);
        }
        if self.flush_max_dirty == 0 || self.batch_size == 0 {
            mistakes.push(ConfigError::ZeroBatch);
        }
        if self.dead_letter_topic.trim().is_empty() {
            mistakes.push(ConfigError::NoDeadLetterTopic);
        }
        mistakes
    }
}
