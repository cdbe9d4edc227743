//! Portrait's core: the event contract, per-user state and profile signals.
//!
//! This crate does no I/O: it turns bytes into typed events and events into profiles, so its
//! tests compile and run in seconds. Kafka, ClickHouse and HTTP live in `portrait-connectors`.
