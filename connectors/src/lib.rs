//! Portrait's connectors: Kafka and ClickHouse.

pub mod clickhouse;
pub mod dead_letter;
pub mod kafka;
