//! The event contract of DESIGN.md ("Event contract") in code.
//!
//! One JSON object per Kafka message: an envelope (`event_id`, `type`, `user_id`, `ts`) and
//! per-type `props`. [`decode`] checks all of it and returns a typed [`Event`] that borrows its
//! strings from the payload, or a [`DecodeError`] naming the field, what was expected and a
//! stable [`reason`](DecodeError::reason) code for the dead-letter table. The same contract is
//! written as JSON Schema in `schemas/events.schema.json`; `tests/event_contract.rs` checks
//! that the two agree.
//!
//! Layout: `decode` (envelope and entry point) → `scan` (the one pass over the JSON) →
//! `props` (per type) → `json` (reading one field) and `money` (cents from decimal text);
//! `model` holds the typed event, `names` the closed sets, `error` the reasons.

mod decode;
mod error;
mod json;
mod model;
mod money;
mod names;
mod props;
mod scan;

pub use decode::{decode, DecodeLimits};
pub use error::DecodeError;
pub use model::{Account, ChatMessage, Event, EventKind, Item, Order, PageView, Promotion, Search};
pub(crate) use names::{wire_enum, WireName};
pub use names::{AccountAction, Direction, EventType, PromotionAction};
