//! Portrait's core: the event contract, per-user state and profile signals.
//!
//! This crate does no I/O: it turns bytes into typed events and events into profiles, so its
//! tests compile and run in seconds. Kafka, ClickHouse and HTTP live in `portrait-connectors`.
//!
//! - [`time`]: event time ([`time::EventTime`], epoch milliseconds) and UTC days
//!   ([`time::Day`]), with the two timestamp forms of the contract.
//! - [`event`]: the event contract of DESIGN.md in code: [`event::decode`] turns one Kafka
//!   payload into a typed, validated [`event::Event`] borrowing from the payload, or a
//!   [`event::DecodeError`] whose [`reason`](event::DecodeError::reason) code is what the
//!   dead-letter table stores.

pub mod event;
pub mod time;
