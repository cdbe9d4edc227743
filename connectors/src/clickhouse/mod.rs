//! The ClickHouse side of Portrait: connection settings and schema migrations.
//!
//! Speaks ClickHouse's HTTP interface through the `clickhouse` crate (SQL in the request body,
//! typed rows as RowBinary). Everything here also runs against ClickHouse 18.16, the version
//! the tests use: see [`ClickHouseConfig::validation`] and [`ClickHouseConfig::compression`].
//!
//! - `config.rs`: the `[clickhouse]` settings and the client they build;
//! - `migrate.rs`: the embedded `schemas/clickhouse/*.sql` files, applied in order, once each.
//!
//! The table layout and why it is so: `docs/storage.md`.

mod config;
mod migrate;

pub use config::ClickHouseConfig;
pub use migrate::{migrate, migrate_with, MigrateError, Migration, MigrationReport, EMBEDDED};
