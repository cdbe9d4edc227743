//! The ClickHouse sink: what one flush writes, and the state restore reads back.
//!
//! [`ClickHouseSink::write`] sends one `INSERT ... FORMAT RowBinary` per table of the batch,
//! in this order:
//!
//! 1. `dead_letters`: a rejected message's offset counts as done only once its dead letter is
//!    stored (FAULTS.md pitfall 5), so these go first;
//! 2. `profile_alerts`: before the states, because a stored state includes its user's alert
//!    timeline, which counts these alerts as sent; a restart from a state written before its
//!    alerts would never send them (docs/guarantees.md). An alert may thus be visible a moment
//!    before the profile showing the stage it announces;
//! 3. `segment_membership`: before the states, for the same reason: a stored state holds its
//!    user's segment membership, which counts these changes as written;
//! 4. `profile_state`: before the profiles, so that a profile the CRM can see always has its
//!    state stored; a restore never falls behind what was already published;
//! 5. `user_profiles`.
//!
//! The event archive goes its own way: [`ClickHouseSink::write_events`] may be called at any
//! time, as often as the caller's buffer fills up, as long as an event reaches `events` before
//! any state that has it applied is stored (so that skipping the events a restored state
//! already holds never leaves a hole in the archive). Writing an event twice is harmless
//! (see below).
//!
//! **A failed write is retried whole by the caller**, and the offsets it covers are not
//! committed until a retry succeeds (pitfall 4). Some of the inserts may have succeeded (or a
//! timed-out one may have landed), so a retry writes those rows again. That is safe:
//! `user_profiles` and `profile_state` are `ReplacingMergeTree(version)` and readers go through
//! `FINAL`, so a repeated row with the same version collapses into one, and an older version
//! never wins over a newer one. `events` is a `ReplacingMergeTree` keyed by what identifies an
//! event, so a repeated event collapses too (exact counts before a merge use
//! `uniqExact(event_id)`). `profile_alerts` is a `ReplacingMergeTree` ordered by what the
//! `alert_id` hashes, so a repeated alert collapses too (readers use `profile_alerts_unique`).
//! `segment_membership` is a `ReplacingMergeTree` ordered by (user, segment, profile version),
//! so a repeated change collapses too. `dead_letters` is an append-only log and may then hold
//! a repeat, which its table documentation allows (count `uniqExact(topic, partition,
//! offset)`). See `docs/storage.md`.

use std::borrow::Borrow;
use std::time::Duration;

use clickhouse::{Client, Row, RowWrite};

use super::rows::{AlertRow, DeadLetterRow, EventRow, ProfileRow, SegmentRow, StateRow};
use super::state_rows::StateChunk;
use super::{ClickHouseConfig, Pseudonymiser};

pub(super) const PROFILES: &str = "user_profiles";
pub(super) const STATES: &str = "profile_state";
pub(super) const DEAD_LETTERS: &str = "dead_letters";
pub(super) const ALERTS: &str = "profile_alerts";
pub(super) const EVENTS: &str = "events";
pub(super) const SEGMENTS: &str = "segment_membership";
/// The tombstones of forgotten users (`forget.rs`).
pub(super) const FORGOTTEN: &str = "forgotten_users";
/// The churn model's fits, the latest of which the pipeline reads (`churn_model.rs`).
pub(super) const CHURN_MODEL: &str = "churn_model";

/// How long sending one chunk of an insert, and then waiting for ClickHouse's answer, may take.
/// Without a bound a stalled server would hang the flush for ever instead of letting the
/// caller retry; an insert that times out may still land, which a retry tolerates (see above).
const INSERT_TIMEOUT: Duration = Duration::from_secs(120);

/// The rows of one flush, borrowed from the caller, who keeps them for a retry.
#[derive(Debug, Clone, Copy, Default)]
pub struct SinkBatch<'a> {
    pub profiles: &'a [ProfileRow<'a>],
    pub states: &'a [StateRow],
    pub dead_letters: &'a [DeadLetterRow<'a>],
    /// The alerts decided at this flush; empty when the ClickHouse alert sink is off.
    pub alerts: &'a [AlertRow<'a>],
    /// The segments users entered and left at this flush (docs/segments.md).
    pub segments: &'a [SegmentRow<'a>],
}

/// A failed sink operation. ClickHouse's own message (the server's exception text, or the
/// network error) is the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("cannot insert {rows} rows into {table}")]
    Insert {
        table: &'static str,
        rows: usize,
        #[source]
        source: clickhouse::error::Error,
    },
    #[error("cannot list the tables of database {database}")]
    Tables {
        database: String,
        #[source]
        source: clickhouse::error::Error,
    },
    #[error("database {database} has no table {missing:?}; run `portrait migrate`")]
    NotMigrated {
        database: String,
        missing: Vec<&'static str>,
    },
    #[error("cannot read the states of partition {partition} from {STATES}")]
    ReadStates {
        partition: u32,
        #[source]
        source: clickhouse::error::Error,
    },
    /// Any other statement; `what` says what it was for ("delete the rows of forgotten users").
    #[error("cannot {what}")]
    Query {
        what: &'static str,
        #[source]
        source: clickhouse::error::Error,
    },
}

/// Writes profiles, state blobs, dead letters, alerts and segment changes to ClickHouse. Cheap
/// to clone: clones share one connection pool.
#[derive(Clone)]
pub struct ClickHouseSink {
    pub(super) client: Client,
    pub(super) database: String,
    /// The CRM's database, whose copy of the profiles forgetting a user must reach too.
    pub(super) crm_database: Option<String>,
    /// The analysts' database, whose copies forgetting a user must reach too, by pseudonym.
    pub(super) analytics_database: Option<String>,
    /// The key of the pseudonyms, if set ([`ClickHouseConfig::pseudonymisation_key`]).
    pub(super) pseudonymiser: Option<Pseudonymiser>,
}

impl ClickHouseSink {
    /// Connects lazily: the first request reaches the server, not this call.
    pub fn new(config: &ClickHouseConfig) -> Self {
        Self {
            client: config.client(),
            database: config.database.clone(),
            crm_database: Some(config.crm_database.clone()).filter(|name| !name.is_empty()),
            analytics_database: Some(config.analytics_database.clone())
                .filter(|name| !name.is_empty()),
            pseudonymiser: config.pseudonymiser(),
        }
    }

    /// What computes the rows' `user_key` (and `event_key`); `None` without a key.
    pub fn pseudonymiser(&self) -> Option<&Pseudonymiser> {
        self.pseudonymiser.as_ref()
    }

    /// Readiness: the server answers and the database holds every table this sink writes, and
    /// the tombstones and the churn model's fits it reads.
    pub async fn check_ready(&self) -> Result<(), SinkError> {
        let present: Vec<String> = self
            .client
            .query("SELECT name FROM system.tables WHERE database = ?")
            .bind(self.database.as_str())
            .fetch_all()
            .await
            .map_err(|source| SinkError::Tables {
                database: self.database.clone(),
                source,
            })?;
        let missing: Vec<&'static str> = [
            DEAD_LETTERS,
            STATES,
            PROFILES,
            ALERTS,
            SEGMENTS,
            EVENTS,
            FORGOTTEN,
            CHURN_MODEL,
        ]
        .into_iter()
        .filter(|table| !present.iter().any(|name| name == table))
        .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(SinkError::NotMigrated {
                database: self.database.clone(),
                missing,
            })
        }
    }

    /// Writes the batch: one insert per non-empty table, in the order of the module
    /// documentation. On error, retry the whole batch.
    pub async fn write(&self, batch: &SinkBatch<'_>) -> Result<(), SinkError> {
        self.insert::<DeadLetterRow<'_>, _>(DEAD_LETTERS, batch.dead_letters)
            .await?;
        self.insert::<AlertRow<'_>, _>(ALERTS, batch.alerts).await?;
        self.insert::<SegmentRow<'_>, _>(SEGMENTS, batch.segments)
            .await?;
        self.insert::<StateRow, _>(STATES, batch.states).await?;
        self.insert::<ProfileRow<'_>, _>(PROFILES, batch.profiles)
            .await
    }

    /// Archives `events`; nothing at all when there are none. On error, retry them all.
    ///
    /// The rows are taken from an iterator, serialized as they come: the archive writes a
    /// quarter of a million at a time, which collected first would take tens of megabytes,
    /// mapped and faulted in afresh for every write (docs/performance.md).
    pub async fn write_events<'e>(
        &self,
        events: impl ExactSizeIterator<Item = EventRow<'e>>,
    ) -> Result<(), SinkError> {
        self.insert::<EventRow<'_>, _>(EVENTS, events).await
    }

    /// How many rows of `profile_state` partition `partition` holds, the versions its merges
    /// have not collapsed yet included: an upper bound of its users, to size a restore's tables
    /// before the rows come. Cheap: one column of the partition's range is read.
    ///
    /// Read to the end of the response (`fetch_all`, not `fetch_one`, which stops after the
    /// row), so that the connection goes back to the pool for the read that follows: a new
    /// connection is refused by a ClickHouse shutting down, which still serves open ones.
    pub async fn count_states(&self, partition: u32) -> Result<u64, SinkError> {
        let counts: Vec<u64> = self
            .client
            .query("SELECT count() FROM profile_state WHERE `partition` = ?")
            .bind(partition)
            .fetch_all()
            .await
            .map_err(|source| SinkError::ReadStates { partition, source })?;
        Ok(counts.into_iter().sum())
    }

    /// The latest state of every user of source partition `partition`, in no particular
    /// order, handed to `chunk` as the response arrives, to be cut into rows by
    /// [`StateRows`](super::StateRows). One range read of the table's primary key, `FINAL` so
    /// that only the highest version per user comes back. On error, the chunks handed over so
    /// far are not the whole answer: read again from the start.
    pub async fn read_states(
        &self,
        partition: u32,
        mut chunk: impl FnMut(StateChunk),
    ) -> Result<(), SinkError> {
        let error = |source| SinkError::ReadStates { partition, source };
        let mut response = self
            .client
            .query(
                "SELECT user_id, state, version, updated_at, next_change_ms, alert_due_ms, \
                 deadlines_fingerprint FROM profile_state FINAL WHERE `partition` = ?",
            )
            .bind(partition)
            .fetch_bytes("RowBinary")
            .map_err(error)?;
        while let Some(bytes) = response.next().await.map_err(error)? {
            chunk(StateChunk(bytes));
        }
        Ok(())
    }

    /// One `INSERT` of `rows` (values or references to them) into `table`; nothing at all
    /// when `rows` is empty.
    pub(super) async fn insert<'v, R, I>(
        &self,
        table: &'static str,
        rows: I,
    ) -> Result<(), SinkError>
    where
        R: Row + RowWrite,
        I: IntoIterator,
        I::IntoIter: ExactSizeIterator,
        I::Item: Borrow<R::Value<'v>>,
    {
        let rows = rows.into_iter();
        if rows.len() == 0 {
            return Ok(());
        }
        let count = rows.len();
        let error = |source| SinkError::Insert {
            table,
            rows: count,
            source,
        };
        let mut insert = self
            .client
            .insert::<R>(table)
            .await
            .map_err(error)?
            .with_timeouts(Some(INSERT_TIMEOUT), Some(INSERT_TIMEOUT));
        for row in rows {
            insert.write(row.borrow()).await.map_err(error)?;
        }
        insert.end().await.map_err(error)
    }
}
