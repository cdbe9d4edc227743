//! Forgetting users: the tombstones in `forgotten_users`, and the deletes that remove a user's
//! rows from every table (docs/security.md, "Forgetting a user").
//!
//! [`forget`] is what `portrait forget` runs: tombstones first, then one `ALTER TABLE ...
//! DELETE` per table, then it waits until ClickHouse has applied them and counts what is left.
//! The pipeline uses the pieces: [`ClickHouseSink::read_tombstones`] at start and at every
//! flush, and [`ClickHouseSink::purge`] for the rows a flush racing with `forget` may have
//! written after `forget`'s deletes (the ordering argument is in docs/security.md).
//!
//! Deletes are mutations: ClickHouse registers one when the `ALTER` returns, applies it to
//! every part that existed then by rewriting the part without the rows, in the background,
//! and lists its progress in `system.mutations` (`is_done`). Rows inserted after the `ALTER`
//! are not affected, which is why the order tombstone → delete matters. Every version of a
//! row goes, since the delete matches rows, not the `FINAL` view of them.

use std::time::{Duration, Instant};

use clickhouse::query::Query;
use clickhouse::Row;
use serde::Deserialize;

use super::migrate::quoted;
use super::rows::TombstoneRow;
use super::sink::{ALERTS, DEAD_LETTERS, EVENTS, FORGOTTEN, PROFILES, SEGMENTS, STATES};
use super::{ClickHouseConfig, ClickHouseSink, SinkError};

/// Every table of the database that holds rows of a user, and the column that names the user
/// there. `dead_letters` rows are matched by their raw Kafka key, which a producer sets to the
/// user id. With `crm_database` set, the CRM's copy of `user_profiles` there holds them too,
/// and with `analytics_database` set, the analysts' copies of `user_profiles`, `events` and
/// `profile_alerts`, under the user's pseudonym ([`ClickHouseSink::user_tables`]).
const USER_TABLES: [(&str, &str); 6] = [
    (PROFILES, "user_id"),
    (STATES, "user_id"),
    (ALERTS, "user_id"),
    (SEGMENTS, "user_id"),
    (EVENTS, "user_id"),
    (DEAD_LETTERS, "key"),
];

/// The analysts' copies, whose `user_id` is the pseudonym (`migrate.rs`).
const ANALYTICS_TABLES: [&str; 3] = [PROFILES, EVENTS, ALERTS];

/// Ids per `ALTER TABLE ... DELETE` (and per count): a statement must stay well inside the
/// server's `max_query_size` (256 KiB by default), and user ids are at most 128 bytes.
const IDS_PER_STATEMENT: usize = 1_000;

/// How often [`forget`] asks `system.mutations` whether its deletes are done.
const POLL: Duration = Duration::from_millis(200);

/// Rounds of delete, wait and count before [`forget`] gives up on rows that keep coming back.
/// A second round is needed only when a running pipeline wrote the user once more while the
/// first ran (docs/security.md), and that pipeline deletes those rows itself too.
const ROUNDS: usize = 3;

/// One tombstone as the pipeline reads it.
#[derive(Debug, Clone, PartialEq, Eq, Row, Deserialize)]
pub struct Tombstone {
    pub user_id: String,
    /// When `forget` wrote it, by the server's clock, in epoch seconds.
    pub forgotten_at: u32,
}

/// What [`forget`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgetReport {
    pub database: String,
    /// Distinct users forgotten.
    pub users: usize,
    /// Rounds of deletes it took until no row was left (1 unless a pipeline raced).
    pub rounds: usize,
    /// The tables they were deleted from, as `database.table`.
    pub tables: Vec<String>,
}

/// Why [`forget`] stopped. The tombstones, once written, stay: running `forget` again for the
/// same users is safe and finishes the job.
#[derive(Debug, thiserror::Error)]
pub enum ForgetError {
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error(
        "the deletes in database {database} were not done after {waited:?}; ClickHouse applies \
         them in the background (see system.mutations, where a failing one stays is_done = 0); \
         run `portrait forget` again for the same users to wait once more"
    )]
    Timeout { database: String, waited: Duration },
    #[error(
        "rows of forgotten users kept coming back in database {database} after {ROUNDS} rounds \
         of deletes ({left}); is a pipeline without the forgotten_users check writing to it?"
    )]
    RowsLeft { database: String, left: String },
}

/// Forgets `user_ids`: writes their tombstones, deletes their rows from every table of
/// [`USER_TABLES`], waits (up to `timeout`) until ClickHouse has applied the deletes, and
/// checks that no row of theirs is left, deleting again if a running pipeline wrote some
/// meanwhile. When it returns `Ok`, the users' rows are gone.
pub async fn forget(
    config: &ClickHouseConfig,
    user_ids: &[String],
    timeout: Duration,
) -> Result<ForgetReport, ForgetError> {
    let sink = ClickHouseSink::new(config);
    sink.check_ready().await?;
    let mut ids: Vec<&str> = user_ids.iter().map(String::as_str).collect();
    ids.sort_unstable();
    ids.dedup();
    // First the tombstones: from the moment they are visible, no pipeline writes these users
    // again, so the deletes below (or the pipeline's own) catch every row written before.
    sink.write_tombstones(&ids).await?;
    let deadline = Instant::now() + timeout;
    for round in 1..=ROUNDS {
        sink.purge(&ids).await?;
        sink.wait_for_mutations(deadline, timeout).await?;
        let left = sink.rows_of(&ids).await?;
        if left.is_empty() {
            return Ok(ForgetReport {
                database: config.database.clone(),
                users: ids.len(),
                rounds: round,
                tables: sink
                    .user_tables()
                    .into_iter()
                    .map(|table| table.name)
                    .collect(),
            });
        }
        tracing::warn!(
            ?left,
            round,
            "rows of forgotten users came back; deleting again"
        );
        if round == ROUNDS {
            return Err(ForgetError::RowsLeft {
                database: config.database.clone(),
                left: left
                    .iter()
                    .map(|(table, rows)| format!("{rows} in {table}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    unreachable!("the last round returns")
}

impl ClickHouseSink {
    /// Records that `user_ids` are forgotten, stamped with the server's clock.
    pub async fn write_tombstones(&self, user_ids: &[&str]) -> Result<(), SinkError> {
        let rows: Vec<TombstoneRow<'_>> = user_ids
            .iter()
            .map(|&user_id| TombstoneRow { user_id })
            .collect();
        self.insert::<TombstoneRow<'_>, _>(FORGOTTEN, &rows).await
    }

    /// The tombstones written at or after `since` (epoch seconds), or all of them. One range
    /// read of the table's primary key.
    pub async fn read_tombstones(&self, since: Option<u32>) -> Result<Vec<Tombstone>, SinkError> {
        self.client
            .query(
                "SELECT user_id, toUInt32(forgotten_at) AS forgotten_at FROM forgotten_users \
                 WHERE forgotten_at >= toDateTime(?, 'UTC')",
            )
            .bind(since.unwrap_or(0))
            .fetch_all()
            .await
            .map_err(|source| SinkError::Query {
                what: "read the tombstones from forgotten_users",
                source,
            })
    }

    /// Every table that holds rows of a user: [`USER_TABLES`], the CRM's copy of the
    /// profiles when there is one, and the analysts' pseudonymised copies when there are
    /// (`migrate.rs`; their materialized views copy every row written).
    pub fn user_tables(&self) -> Vec<UserTable> {
        let in_database =
            |database: &str, table: &str| format!("{}.{}", quoted(database), quoted(table));
        let mut tables: Vec<UserTable> = USER_TABLES
            .iter()
            .map(|&(table, column)| UserTable {
                name: in_database(&self.database, table),
                column,
                pseudonymised: false,
            })
            .collect();
        if let Some(crm_database) = &self.crm_database {
            tables.push(UserTable {
                name: in_database(crm_database, PROFILES),
                column: "user_id",
                pseudonymised: false,
            });
        }
        if let Some(analytics_database) = &self.analytics_database {
            tables.extend(ANALYTICS_TABLES.iter().map(|table| UserTable {
                name: in_database(analytics_database, table),
                column: "user_id",
                pseudonymised: true,
            }));
        }
        tables
    }

    /// The values `table`'s column holds for `user_ids`: the ids, or their pseudonyms.
    fn ids_in(&self, table: &UserTable, user_ids: &[&str]) -> Vec<String> {
        match (&self.pseudonymiser, table.pseudonymised) {
            (Some(pseudonymiser), true) => user_ids
                .iter()
                .map(|id| pseudonymiser.pseudonym(id).as_str().to_owned())
                .collect(),
            // Config validation refuses an analytics database without a key; without one no
            // row reached it, and '' matches none that did.
            (None, true) => vec![String::new()],
            (_, false) => user_ids.iter().map(|&id| id.to_owned()).collect(),
        }
    }

    /// `statement WHERE <the table's user column> IN (?, ...)`, with `ids` bound: one bound
    /// (and escaped) value per id. An array bound as one value would do for `has()`, which
    /// scans the array for each row; `IN` builds a set once.
    fn of_users(&self, statement: &str, table: &UserTable, ids: &[String]) -> Query {
        let placeholders = vec!["?"; ids.len()].join(", ");
        let sql = format!("{statement} WHERE {} IN ({placeholders})", table.column);
        ids.iter()
            .fold(self.client.query(&sql), |query, id| query.bind(id.as_str()))
    }

    /// Deletes every row of `user_ids` from every table of [`Self::user_tables`]: registers
    /// the mutations and returns, without waiting for ClickHouse to apply them. They cover
    /// every row inserted before this call.
    pub async fn purge(&self, user_ids: &[&str]) -> Result<(), SinkError> {
        for table in self.user_tables() {
            let ids = self.ids_in(&table, user_ids);
            let delete = format!("ALTER TABLE {} DELETE", table.name);
            for chunk in ids.chunks(IDS_PER_STATEMENT) {
                let query = self.of_users(&delete, &table, chunk);
                query.execute().await.map_err(|source| SinkError::Query {
                    what: "delete the rows of forgotten users",
                    source,
                })?;
            }
        }
        Ok(())
    }

    /// Waits until no mutation of [`Self::user_tables`] is pending, or fails at `deadline`.
    async fn wait_for_mutations(
        &self,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), ForgetError> {
        let mut databases = vec![self.database.as_str()];
        databases.extend(self.crm_database.as_deref());
        databases.extend(self.analytics_database.as_deref());
        let tables: Vec<&str> = USER_TABLES.iter().map(|(table, _)| *table).collect();
        loop {
            // Any pending mutation of those names in any of the databases: the others hold
            // only some of the tables, and waiting for a stranger's mutation is harmless.
            let pending: u64 = self
                .client
                .query(
                    "SELECT count() FROM system.mutations \
                     WHERE has(?, database) AND has(?, table) AND is_done = 0",
                )
                .bind(&databases)
                .bind(&tables)
                .fetch_one()
                .await
                .map_err(|source| SinkError::Query {
                    what: "read the progress of the deletes from system.mutations",
                    source,
                })?;
            if pending == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(ForgetError::Timeout {
                    database: self.database.clone(),
                    waited: timeout,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The tables that still hold rows of `user_ids`, with how many.
    pub async fn rows_of(&self, user_ids: &[&str]) -> Result<Vec<(String, u64)>, SinkError> {
        let mut left = Vec::new();
        for table in self.user_tables() {
            let mut rows = 0;
            let ids = self.ids_in(&table, user_ids);
            let count = format!("SELECT count() FROM {}", table.name);
            for chunk in ids.chunks(IDS_PER_STATEMENT) {
                rows += self
                    .of_users(&count, &table, chunk)
                    .fetch_one::<u64>()
                    .await
                    .map_err(|source| SinkError::Query {
                        what: "count the rows of forgotten users",
                        source,
                    })?;
            }
            if rows > 0 {
                left.push((table.name, rows));
            }
        }
        Ok(left)
    }
}

/// A table holding rows of users, for [`ClickHouseSink::user_tables`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTable {
    /// `database.table`, back-quoted.
    pub name: String,
    /// The column that names the user.
    pub column: &'static str,
    /// Whether that column holds the user's pseudonym rather than the id.
    pub pseudonymised: bool,
}
