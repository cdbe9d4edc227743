//! Portrait's connectors: Kafka, ClickHouse, and the alert webhook.
//!
//! One folder per system Portrait talks to (`kafka/`, `clickhouse/`), plus `alerts/` for the
//! webhook and the alert JSON shared by the webhook and the Kafka alert topic.

pub mod alerts;
pub mod clickhouse;
pub mod dead_letter;
pub mod kafka;
