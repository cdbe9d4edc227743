//! Seeded synthetic behavioral events, and the reference model that computes the profiles and
//! alerts they must produce.
//!
//! [`generate`] simulates users over a period of days (see `behaviour` for the model) and
//! returns a [`Dataset`]: the Kafka [`Message`]s a producer sends, and [`Dataset::truth`], the
//! expected profile of every user, which [`differences`] compares with the pipeline's output
//! column by column (`portrait verify`, the tests). The truth comes from `reference`, a
//! deliberately naive implementation of docs/signals.md. This crate does not depend on
//! `portrait-core`: a checker that shared code with what it checks would share its bugs.
//!
//! # Expected alerts
//!
//! [`Dataset::expected_alerts`] gives every [`ExpectedAlert`] a replay must send, up to the
//! truth's watermark (the bound). The reference model defines them from the stage it already
//! computes: `stage(t)` is the `lifecycle_stage` of the user's events with ts <= t at W = t.
//!
//! - `at_risk`, `dormant`, `churned`, `reactivated`: a change of `stage` into that stage, at
//!   the instant it happens: an event, `last activity + 14, 30 or 60 days` to the millisecond,
//!   or a UTC midnight (day windows; `reactivated` and `new` expire at midnights). A change
//!   into `new` or `active` is no alert, but it is the `stage_before` of the next one. At the
//!   user's first event the stage before is `None`.
//! - `activated`: at `activated_at` (the 3rd user message by event time), from the stage just
//!   before that instant to the stage at it.
//! - Cooldown: per user and kind, in time order, an alert fires only if none of that kind
//!   fired less than 7 days earlier; a suppressed one does not restart the cooldown.
//!
//! [`write_alerts_ndjson`] and [`read_alerts_ndjson`] give them a file form (one alert a line,
//! `portrait generate --expected-alerts`), and [`alert_differences`] compares a pipeline's
//! alerts with them. Computing them for 5 000 users over 90 days (0.9 million events) takes
//! about 4 s with a debug build, 0.6 s with a release build.
//!
//! # What the messages look like
//!
//! - One JSON object per message, following the event contract of DESIGN.md; the key is the
//!   `user_id` (`u000042`: zero-padded, so ids sort like user indices). Event ids are
//!   `{user_id}-{n}`, unique, numbered in event-time order per user.
//! - All six event types. `ts` is epoch milliseconds for about half of the events, an RFC 3339
//!   string with milliseconds for the rest (in UTC with `Z`, or the same instant at `+08:00`).
//! - **Bounded disorder.** Messages are in arrival order: arrival = event time + a delay of at
//!   most 5 s for 90% of events, at most 5 minutes for 8%, and between 5 minutes and 48 hours
//!   for 2%. The delay never exceeds [`MAX_ARRIVAL_DELAY_MS`] (48 h); the pipeline relies on
//!   that bound.
//! - With [`GeneratorConfig::malformed_rate`] > 0, extra invalid messages, one
//!   [`MalformedKind`] after another, keyed by real users. They never affect the truth.
//!
//! # Determinism
//!
//! Each user draws from its own ChaCha8 stream of the seed (stream = user index), so a user's
//! events do not depend on how many users there are, and the output is byte-identical on every
//! run and platform: the simulation uses no platform math functions (`exp`, `ln`, ...), only
//! arithmetic, and samples integer ranges as fixed-width integers.
//!
//! # Scale
//!
//! Event records are compact (vocabulary is `&'static str`, a category one byte), so memory is
//! dominated by the encoded payloads (about 160 bytes each). Measured on the 2-core machine:
//! 20 000 users over 120 days give 5.2 million messages in 28 s with a *debug* build, about
//! 2.1 GB resident; a release build is several times faster.

mod arrival;
mod behaviour;
mod catalogue;
mod config;
mod dataset;
mod encode;
mod event;
mod expected_alerts;
mod malformed;
mod reference;
mod simulate;
mod time;
mod truth;

pub use arrival::MAX_ARRIVAL_DELAY_MS;
pub use config::{ConfigError, GeneratorConfig};
pub use dataset::{generate, Dataset, Message};
pub use expected_alerts::{
    alert_differences, read_alerts_ndjson, write_alerts_ndjson, ExpectedAlert, ALERT_KINDS,
};
pub use malformed::MalformedKind;
pub use time::{DAY_MS, DEFAULT_START_MS};
pub use truth::{differences, ExpectedProfile, Truth, FLOAT_TOLERANCE};
