//! The ClickHouse side of Portrait: connection settings, schema migrations and the sink.
//!
//! Speaks ClickHouse's HTTP interface through the `clickhouse` crate (SQL in the request body,
//! typed rows as RowBinary). Everything here also runs against ClickHouse 18.16, the version
//! the tests use: see [`ClickHouseConfig::validation`] and [`ClickHouseConfig::compression`].
//!
//! - `config.rs`: the `[clickhouse]` settings and the client they build;
//! - `migrate.rs`: the embedded `schemas/clickhouse/NNNN_*.sql` files, applied in order, once
//!   each, and the CRM's database when one is configured;
//! - `rows.rs`: one row type per table written, in RowBinary's byte layout;
//! - `sink.rs`: a flush's inserts (dead letters, alerts, segment changes, states, profiles) and
//!   the state restore read;
//! - `state_rows.rs`: that read's response cut into rows as it arrives;
//! - `pseudonym.rs`: the keyed hash analysts see in place of a user id;
//! - `forget.rs`: forgetting users: tombstones, deletes from every table, and waiting for them;
//! - `churn_model.rs`: the buyers' order histories the churn model is fitted to, and the
//!   `churn_model` table of fits.
//!
//! The table layout and why it is so: `docs/storage.md`.

mod churn_model;
mod config;
mod forget;
mod migrate;
mod pseudonym;
mod rows;
mod sink;
mod state_rows;

pub use churn_model::{ChurnModelRow, InvalidOrderHistory, OrderHistoriesError, OrderHistoryRow};
pub use config::ClickHouseConfig;
pub use forget::{forget, ForgetError, ForgetReport, Tombstone, UserTable};
pub use migrate::{
    migrate, migrate_with, CrmFeed, MigrateError, Migration, MigrationReport, EMBEDDED,
};
pub use pseudonym::{Pseudonym, Pseudonymiser};
pub use rows::{
    AlertRow, DeadLetterRow, EventRow, ProfileRow, SegmentChange, SegmentRow, StateRow,
    StoredDeadlines, TombstoneRow,
};
pub use sink::{ClickHouseSink, SinkBatch, SinkError};
pub use state_rows::{
    RowError, StateChunk, StateRows, StateRowsError, StoredState, StoredStateRef,
};
