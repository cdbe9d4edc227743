//! Portrait's engine: events from Kafka become profile rows in ClickHouse.
//!
//! ```text
//! Source (Kafka) ─► decode ─► Shard (per partition) ─► flush ─► ClickHouse, dead letters,
//!                      │  │        ▲ watermark + sweep,        alert sinks ─► commit
//!                      │  │        ▲ alert timelines
//!                      │  └─ event archive ─────────────────► ClickHouse `events`
//!                      └─ bad input ─► dead letters
//! ```
//!
//! [`run`] owns the loop (`engine.rs`) around the I/O-free part (`profiler.rs`: decode, apply,
//! watermark, what a flush writes), which [`run_embedded`] drives too, from NDJSON files to
//! [`Tables`] (`embedded.rs`); a [`shard`] holds the users of one source partition, rebuilt
//! from `profile_state` when the partition is assigned (`restore.rs`); the
//! [`deadlines`] index lets the sweep visit only users whose profile changes with time.
//! Those two are public for the benchmarks (`benches/` of the `portrait` package), which
//! measure them in process; the engine is their only other user.

mod alerts;
mod archive;
mod churn_model;
mod config;
pub mod deadlines;
mod dirty;
mod embedded;
mod engine;
mod metrics;
mod prefetch;
mod profiler;
mod restore;
mod retry;
mod segments;
pub mod shard;

use std::collections::BTreeMap;
use std::time::Duration;

pub use alerts::{AlertsConfig, AlertsConfigError};
pub use churn_model::{ChurnModelConfig, ChurnModelConfigError, UnusableFit};
pub use config::{ConfigError, PipelineConfig};
pub use embedded::{run_embedded, EmbeddedError, EmbeddedOptions, Input, Tables};
pub use engine::{run, RunOptions};
pub use profiler::ProfilerError;
pub use segments::{PredicateError, SegmentPredicates, SegmentRules, MAX_SEGMENTS};

/// Why the pipeline stopped. Sink outages are not errors: they are retried until they pass.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Admin(#[from] portrait_connectors::kafka::AdminError),
    #[error(transparent)]
    NotCoPartitioned(#[from] portrait_connectors::kafka::NotCoPartitioned),
    #[error(transparent)]
    Source(#[from] portrait_connectors::kafka::SourceError),
    #[error(transparent)]
    Producer(#[from] portrait_connectors::kafka::ProduceError),
    #[error(transparent)]
    Profiler(#[from] profiler::ProfilerError),
    #[error("cannot restore partition {partition} from profile_state")]
    Restore {
        partition: i32,
        source: shard::RestoreError,
    },
    #[error(
        "cannot restore partition {partition}: ClickHouse's answer is not profile_state's rows"
    )]
    StateRows {
        partition: i32,
        source: portrait_connectors::clickhouse::StateRowsError,
    },
    #[error(transparent)]
    ChurnModel(#[from] churn_model::UnusableFit),
    #[error(
        "ClickHouse at {url} is not ready for database {database} (did `portrait migrate` run?)"
    )]
    ClickHouseNotReady {
        url: String,
        database: String,
        source: portrait_connectors::clickhouse::SinkError,
    },
}

/// What a run did, for the operator and the tests.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    /// Events applied to a user's state.
    pub events: u64,
    /// The same, by type, indexed like [`EventType::ALL`](portrait_core::event::EventType::ALL).
    pub events_by_type: [u64; 6],
    /// Messages set aside, by reason.
    pub dead_letters: BTreeMap<&'static str, u64>,
    /// Events skipped because the restored state already contained them (replayed after a
    /// restart).
    pub replayed: u64,
    /// Messages dropped because their user was forgotten (docs/security.md, "Forgetting a
    /// user"), valid or not.
    pub forgotten: u64,
    /// Forgotten users this process held in memory when it learned of their tombstones.
    pub forgotten_users: usize,
    /// Users restored from `profile_state`.
    pub restored: usize,
    /// Time spent restoring them: reading `profile_state` and rebuilding the shards (outages
    /// waited out included).
    pub restore_time: Duration,
    /// Users held at the end.
    pub users: usize,
    /// Profile rows written.
    pub profiles_written: u64,
    /// Events written to the `events` archive.
    pub archived: u64,
    /// Flushes that wrote or committed something.
    pub flushes: u64,
    /// Users the timer sweep visited because their deadline had passed.
    pub swept: usize,
    /// Alerts delivered, by kind.
    pub alerts: BTreeMap<&'static str, u64>,
    /// Events that arrived after their user's alerts were decided past their time
    /// (`alerts.lateness_ms` too small for the input's disorder).
    pub late_for_alerts: u64,
}
