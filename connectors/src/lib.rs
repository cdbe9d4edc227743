//! Portrait's connectors: Kafka and ClickHouse.
