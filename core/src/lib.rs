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
//! - [`state`]: [`state::ProfileState`], everything kept per user: `apply` an event, `evaluate`
//!   the profile at a watermark, `next_change` for the timer sweep, `prune`, and the
//!   `profile_state` blob.
//! - [`signals`]: the definitions of docs/signals.md, one module per signal family, and
//!   [`signals::SignalConfig`], their thresholds.
//! - [`profile`]: [`profile::Profile`], the evaluated `user_profiles` row.
//! - [`churn_model`]: the BG/NBD model of repeat buying: P(alive) and expected purchases from
//!   a customer's [`churn_model::Rfm`] and the population's [`churn_model::BgNbdParams`].
//! - [`alerts`]: [`alerts::StageTimeline`], one user's stage followed in event time, and the
//!   [`alerts::Alert`]s its transitions raise.

pub mod alerts;
pub mod churn_model;
pub mod event;
pub mod profile;
pub mod signals;
pub mod state;
#[cfg(test)]
mod testing;
pub mod time;

pub use profile::Profile;
pub use signals::SignalConfig;
pub use state::{ProfileState, StateDecodeError, StoredUser};
