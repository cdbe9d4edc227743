//! The rows the sink writes, one struct per table, fields in the table's column order
//! (`schemas/clickhouse/*.sql`), serialized as RowBinary.
//!
//! RowBinary carries no column types, so each Rust type must have exactly the byte layout of
//! its column:
//!
//! - `DateTime('UTC')` is a `u32` of epoch seconds; [`datetime`] converts and saturates.
//! - `Nullable(T)` is an `Option<T>` (a null byte, then the value).
//! - `UInt8` booleans are `bool`s, which RowBinary writes as one byte, 0 or 1 (18.16 has no
//!   `Bool` type; the column is `UInt8` on every version).
//! - `String` columns holding bytes that need not be UTF-8 (state blobs, raw Kafka keys and
//!   payloads) are `serde_bytes` slices: serde's bytes type is written as a length-prefixed
//!   string, while a plain `Vec<u8>` would be a sequence of numbers.
//! - a column added by a later migration comes last in its table, so its field comes last too;
//! - enums are their `as_str()` names, and everything else is borrowed, so building the rows of
//!   a flush copies no strings.

use clickhouse::Row;
use portrait_core::alerts::Alert;
use portrait_core::profile::Profile;
use serde::Serialize;

use super::pseudonym::{Pseudonym, Pseudonymiser};
use crate::dead_letter::DeadLetter;

/// A `DateTime` value from epoch seconds. `DateTime` spans 1970-01-01 to 2106-02-07; an
/// instant outside it (event times may lie anywhere in the years 0000 to 9999) becomes the
/// nearest end rather than failing the flush, which would stop the pipeline over one user.
fn datetime(epoch_seconds: i64) -> u32 {
    u32::try_from(epoch_seconds.max(0)).unwrap_or(u32::MAX)
}

/// One version of one user's profile: a row of `user_profiles`. The columns are the contract
/// in `docs/signals.md`.
#[derive(Debug, Clone, PartialEq, Row, Serialize)]
pub struct ProfileRow<'a> {
    pub user_id: &'a str,
    pub first_seen_at: u32,
    pub first_contact_at: Option<u32>,
    pub last_active_at: Option<u32>,
    pub page_views: u64,
    pub searches: u64,
    pub messages_sent: u64,
    pub messages_received: u64,
    pub orders: u64,
    pub promo_orders: u64,
    pub revenue: f64,
    pub discount_total: f64,
    pub active_days_30d: u32,
    pub activated: bool,
    pub activated_at: Option<u32>,
    pub days_inactive: u32,
    pub events_7d: u32,
    pub events_prev_28d: u32,
    pub frequency_drop: f64,
    pub hard_churned: bool,
    pub marketing_averse: bool,
    pub reactivated_at: Option<u32>,
    pub lifecycle_stage: &'static str,
    pub churn_risk: f64,
    pub promo_order_share: f64,
    pub discount_share: f64,
    pub promo_engagement: u64,
    pub promo_tier: &'static str,
    pub rfm_recency_days: Option<u32>,
    pub rfm_r: Option<u8>,
    pub rfm_f: Option<u8>,
    pub rfm_m: Option<u8>,
    pub rfm_segment: Option<&'static str>,
    pub top_categories: &'a [String],
    pub purchasing_power: Option<&'static str>,
    pub updated_at: u32,
    pub version: u64,
    /// The user's pseudonym for the analysts' database (`pseudonym.rs`), or empty.
    pub user_key: Pseudonym,
    pub repeat_order_days: Option<u32>,
    pub order_span_days: Option<u32>,
    pub customer_age_days: Option<u32>,
    pub p_alive: Option<f64>,
    pub expected_orders_90d: Option<f64>,
}

impl<'a> ProfileRow<'a> {
    /// The row for `profile`, written at watermark `updated_at_ms` (epoch milliseconds) with
    /// `version`, which must grow strictly per user (`docs/storage.md`).
    pub fn new(profile: &'a Profile, updated_at_ms: i64, version: u64) -> Self {
        let at = |seconds: Option<i64>| seconds.map(datetime);
        Self {
            user_id: &profile.user_id,
            first_seen_at: datetime(profile.first_seen_at),
            first_contact_at: at(profile.first_contact_at),
            last_active_at: at(profile.last_active_at),
            page_views: profile.page_views,
            searches: profile.searches,
            messages_sent: profile.messages_sent,
            messages_received: profile.messages_received,
            orders: profile.orders,
            promo_orders: profile.promo_orders,
            revenue: profile.revenue,
            discount_total: profile.discount_total,
            active_days_30d: profile.active_days_30d,
            activated: profile.activated,
            activated_at: at(profile.activated_at),
            days_inactive: profile.days_inactive,
            events_7d: profile.events_7d,
            events_prev_28d: profile.events_prev_28d,
            frequency_drop: profile.frequency_drop,
            hard_churned: profile.hard_churned,
            marketing_averse: profile.marketing_averse,
            reactivated_at: at(profile.reactivated_at),
            lifecycle_stage: profile.lifecycle_stage.as_str(),
            churn_risk: profile.churn_risk,
            promo_order_share: profile.promo_order_share,
            discount_share: profile.discount_share,
            promo_engagement: profile.promo_engagement,
            promo_tier: profile.promo_tier.as_str(),
            rfm_recency_days: profile.rfm_recency_days,
            rfm_r: profile.rfm_r,
            rfm_f: profile.rfm_f,
            rfm_m: profile.rfm_m,
            rfm_segment: profile.rfm_segment.map(|segment| segment.as_str()),
            top_categories: &profile.top_categories,
            purchasing_power: profile.purchasing_power.map(|tier| tier.as_str()),
            updated_at: datetime(updated_at_ms.div_euclid(1000)),
            version,
            user_key: Pseudonym::NONE,
            repeat_order_days: profile.repeat_order_days,
            order_span_days: profile.order_span_days,
            customer_age_days: profile.customer_age_days,
            p_alive: profile.p_alive,
            expected_orders_90d: profile.expected_orders_90d,
        }
    }

    /// The row with its user's pseudonym, when there is a pseudonymiser.
    pub fn pseudonymised(self, pseudonymiser: Option<&Pseudonymiser>) -> Self {
        Self {
            user_key: Pseudonymiser::pseudonym_of(pseudonymiser, self.user_id),
            ..self
        }
    }
}

/// One user's restorable state: a row of `profile_state`. Owned, because the blob is encoded
/// at flush time for this row only.
#[derive(Debug, Clone, PartialEq, Eq, Row, Serialize)]
pub struct StateRow {
    /// The source partition the user belongs to (the same on every co-partitioned topic).
    pub partition: u32,
    pub user_id: String,
    /// The blob from core's state codec: binary, not UTF-8.
    #[serde(with = "serde_bytes")]
    pub state: Vec<u8>,
    /// The same version as the profile row written with it.
    pub version: u64,
    pub updated_at: u32,
    /// The user's deadlines as the shard filed them when `state` was encoded, the least `i64`
    /// for none, and the fingerprint of what they were computed with (see
    /// [`StoredDeadlines`]).
    pub next_change_ms: i64,
    pub alert_due_ms: i64,
    pub deadlines_fingerprint: u64,
}

/// What `next_change_ms` and `alert_due_ms` hold for no deadline: the least `Int64`, which no
/// deadline reaches. The columns are not `Nullable`, which would cost the restore's read a
/// null map per column (schemas/clickhouse/0010_profile_state_deadlines.sql).
pub(super) const NO_DEADLINE: i64 = i64::MIN;

/// A user's deadlines, epoch milliseconds of event time, as `profile_state` stores them beside
/// the state, so that a restore can file the user without decoding it (docs/pipeline.md,
/// "Restoring a partition").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoredDeadlines {
    /// When the profile next changes with no new event; `None` if never. (A deadline is an
    /// event time from the years 0000 to 9999, never the least `i64`, which the column holds
    /// for none.)
    pub next_change_ms: Option<i64>,
    /// When the alert timeline next has something to decide; `None` if nothing (or no
    /// timeline).
    pub alert_due_ms: Option<i64>,
    /// `portrait_core::state::deadlines_fingerprint` of the settings the two were computed
    /// with; 0 in rows written before they were stored.
    pub fingerprint: u64,
}

impl StateRow {
    /// The state of `user_id`, from source partition `partition`, written at watermark
    /// `updated_at_ms` with the same `version` as its profile row, and its `deadlines`.
    pub fn new(
        partition: i32,
        user_id: &str,
        state: Vec<u8>,
        version: u64,
        updated_at_ms: i64,
        deadlines: StoredDeadlines,
    ) -> Self {
        Self {
            partition: u32::try_from(partition).expect("Kafka partitions are >= 0"),
            user_id: user_id.to_owned(),
            state,
            version,
            updated_at: datetime(updated_at_ms.div_euclid(1000)),
            next_change_ms: deadlines.next_change_ms.unwrap_or(NO_DEADLINE),
            alert_due_ms: deadlines.alert_due_ms.unwrap_or(NO_DEADLINE),
            deadlines_fingerprint: deadlines.fingerprint,
        }
    }
}

/// One rejected message: a row of `dead_letters`.
#[derive(Debug, Clone, PartialEq, Eq, Row, Serialize)]
pub struct DeadLetterRow<'a> {
    pub received_at: u32,
    pub topic: &'a str,
    pub partition: u32,
    pub offset: i64,
    /// The raw key; empty for an unkeyed message (the column is not `Nullable`).
    #[serde(with = "serde_bytes")]
    pub key: &'a [u8],
    pub reason: &'a str,
    pub detail: &'a str,
    #[serde(with = "serde_bytes")]
    pub payload: &'a [u8],
}

impl<'a> From<&'a DeadLetter> for DeadLetterRow<'a> {
    fn from(letter: &'a DeadLetter) -> Self {
        Self {
            received_at: datetime(letter.received_at_ms.div_euclid(1000)),
            topic: &letter.topic,
            partition: u32::try_from(letter.partition)
                .expect("a consumed message has a partition number >= 0"),
            offset: letter.offset,
            key: letter.key.as_deref().unwrap_or_default(),
            reason: letter.reason,
            detail: &letter.detail,
            payload: &letter.payload,
        }
    }
}

/// One emitted alert: a row of `profile_alerts`. Borrows the alert's strings; only the id is
/// computed here.
#[derive(Debug, Clone, PartialEq, Row, Serialize)]
pub struct AlertRow<'a> {
    pub alert_id: String,
    pub user_id: &'a str,
    pub kind: &'static str,
    pub transition_at: u32,
    pub transition_at_ms: i64,
    pub stage_before: Option<&'static str>,
    pub stage_after: &'static str,
    pub reason: &'a str,
    pub days_inactive: u32,
    pub events_7d: u32,
    pub events_prev_28d: u32,
    pub frequency_drop: f64,
    pub churn_risk: f64,
    pub hard_churned: bool,
    pub messages_sent: u64,
    pub last_active_at: Option<u32>,
    pub emitted_at: u32,
    /// The user's pseudonym for the analysts' database (`pseudonym.rs`), or empty.
    pub user_key: Pseudonym,
}

impl<'a> AlertRow<'a> {
    /// The row for `alert`, emitted at wall-clock epoch milliseconds `emitted_at_ms`.
    pub fn new(alert: &'a Alert, emitted_at_ms: i64) -> Self {
        let snapshot = &alert.snapshot;
        Self {
            alert_id: alert.id(),
            user_id: &alert.user_id,
            kind: alert.kind.as_str(),
            transition_at: datetime(alert.at.millis().div_euclid(1000)),
            transition_at_ms: alert.at.millis(),
            stage_before: alert.stage_before.map(|stage| stage.as_str()),
            stage_after: alert.stage_after.as_str(),
            reason: &alert.reason,
            days_inactive: snapshot.days_inactive,
            events_7d: snapshot.events_7d,
            events_prev_28d: snapshot.events_prev_28d,
            frequency_drop: snapshot.frequency_drop,
            churn_risk: snapshot.churn_risk,
            hard_churned: snapshot.hard_churned,
            messages_sent: snapshot.messages_sent,
            last_active_at: snapshot.last_active_at.map(datetime),
            emitted_at: datetime(emitted_at_ms.div_euclid(1000)),
            user_key: Pseudonym::NONE,
        }
    }

    /// The row with its user's pseudonym, when there is a pseudonymiser.
    pub fn pseudonymised(self, pseudonymiser: Option<&Pseudonymiser>) -> Self {
        Self {
            user_key: Pseudonymiser::pseudonym_of(pseudonymiser, self.user_id),
            ..self
        }
    }
}

/// Whether a user entered or left a segment: the `change` column of `segment_membership`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentChange {
    Entered,
    Left,
}

impl SegmentChange {
    /// The column value: a plain string rather than an `Enum8`, so that the same SQL compares
    /// it in ClickHouse and over the Parquet table.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entered => "entered",
            Self::Left => "left",
        }
    }
}

/// One user entering or leaving one segment: a row of `segment_membership` (docs/segments.md).
/// `version` is that of the profile row whose values caused the change, so a replayed flush
/// writes the same row again, which the table's key collapses.
#[derive(Debug, Clone, PartialEq, Eq, Row, Serialize)]
pub struct SegmentRow<'a> {
    pub user_id: &'a str,
    pub segment: &'a str,
    pub change: &'static str,
    /// The flush's watermark: the profile row's `updated_at`.
    pub at: u32,
    pub version: u64,
    /// The user's pseudonym for the analysts' database (`pseudonym.rs`), or empty.
    pub user_key: Pseudonym,
}

impl<'a> SegmentRow<'a> {
    /// The row for `user_id` making `change` to `segment` at watermark `updated_at_ms` (epoch
    /// milliseconds), in the profile row of `version`.
    pub fn new(
        user_id: &'a str,
        segment: &'a str,
        change: SegmentChange,
        updated_at_ms: i64,
        version: u64,
    ) -> Self {
        Self {
            user_id,
            segment,
            change: change.as_str(),
            at: datetime(updated_at_ms.div_euclid(1000)),
            version,
            user_key: Pseudonym::NONE,
        }
    }

    /// The row with its user's pseudonym, when there is a pseudonymiser.
    pub fn pseudonymised(self, pseudonymiser: Option<&Pseudonymiser>) -> Self {
        Self {
            user_key: Pseudonymiser::pseudonym_of(pseudonymiser, self.user_id),
            ..self
        }
    }
}

/// One archived input event: a row of `events`, the raw archive the PV/UV dashboards read.
/// It keeps only what those queries need; a prop the event's type lacks is `''` or `0`.
#[derive(Debug, Clone, PartialEq, Row, Serialize)]
pub struct EventRow<'a> {
    pub event_id: &'a str,
    pub user_id: &'a str,
    #[serde(rename = "type")]
    pub event_type: &'static str,
    pub ts: u32,
    /// `Date`: days since 1970-01-01, the day of `ts` in UTC.
    pub day: u16,
    /// A page view's or search's category.
    pub category: &'a str,
    /// A page view's page.
    pub page: &'a str,
    /// An order's amount paid, in currency units.
    pub amount: f64,
    /// Where the event was read: input topic, partition and offset.
    pub topic: &'a str,
    pub partition: u32,
    pub offset: u64,
    /// The user's pseudonym for the analysts' database (`pseudonym.rs`), or empty.
    pub user_key: Pseudonym,
    /// The event id's pseudonym, or empty: producers may build event ids from the user id
    /// (the generator's are `u000042-17`), so the analysts' copy cannot show them either.
    pub event_key: Pseudonym,
}

impl EventRow<'_> {
    /// A row of type `event_type` at event time `ts_ms` (epoch milliseconds), its other
    /// columns empty for the caller to fill. `ts` saturates like every `DateTime`, and `day`
    /// is the day of the saturated `ts`, so the two always agree.
    pub fn at(event_type: &'static str, ts_ms: i64) -> Self {
        let ts = datetime(ts_ms.div_euclid(1000));
        Self {
            event_id: "",
            user_id: "",
            event_type,
            ts,
            day: u16::try_from(ts / 86_400).expect("u32::MAX seconds is day 49 710"),
            category: "",
            page: "",
            amount: 0.0,
            topic: "",
            partition: 0,
            offset: 0,
            user_key: Pseudonym::NONE,
            event_key: Pseudonym::NONE,
        }
    }
}

/// One forgotten user: a row of `forgotten_users`. Only the id: `forgotten_at` is left to the
/// column's `DEFAULT now()`, the server's clock, which every reader of the tombstones shares.
#[derive(Debug, Clone, PartialEq, Eq, Row, Serialize)]
pub struct TombstoneRow<'a> {
    pub user_id: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_saturates_outside_the_range_clickhouse_can_store() {
        assert_eq!(datetime(1_714_564_800), 1_714_564_800);
        assert_eq!(datetime(0), 0);
        // 1900-01-01 and 2200-01-01: event times the contract accepts.
        assert_eq!(datetime(-2_208_988_800), 0);
        assert_eq!(datetime(7_258_118_400), u32::MAX);
    }

    #[test]
    fn alert_row_keeps_the_milliseconds_and_truncates_the_datetimes() {
        let alert = crate::alerts::sample_alert();
        let row = AlertRow::new(&alert, 1_767_225_660_999);
        assert_eq!(
            row,
            AlertRow {
                // Pinned by core's id test (computed independently).
                alert_id: "d424017bf689b2a99ff9844d5d956d45".to_owned(),
                user_id: "u000042",
                kind: "dormant",
                transition_at: 1_767_225_600,
                transition_at_ms: 1_767_225_600_000,
                stage_before: Some("at_risk"),
                stage_after: "dormant",
                reason: "no activity for 30 days (last active 2025-12-02)",
                days_inactive: 30,
                events_7d: 0,
                events_prev_28d: 0,
                frequency_drop: 1.0,
                churn_risk: 0.8,
                hard_churned: false,
                messages_sent: 3,
                last_active_at: Some(1_764_633_600),
                emitted_at: 1_767_225_660,
                user_key: Pseudonym::NONE,
            }
        );
    }

    #[test]
    fn segment_row_is_written_at_the_flush_watermark_in_whole_seconds() {
        let row = SegmentRow::new(
            "u000042",
            "vip_at_risk",
            SegmentChange::Left,
            1_714_564_800_999,
            7,
        );
        assert_eq!(
            row,
            SegmentRow {
                user_id: "u000042",
                segment: "vip_at_risk",
                change: "left",
                at: 1_714_564_800,
                version: 7,
                user_key: Pseudonym::NONE,
            }
        );
        assert_eq!(SegmentChange::Entered.as_str(), "entered");
    }

    #[test]
    fn event_row_day_is_the_utc_day_of_its_saturated_time() {
        // 2024-05-01T23:59:59.999Z is day 19 844.
        let row = EventRow::at("page_view", 1_714_607_999_999);
        assert_eq!((row.ts, row.day), (1_714_607_999, 19_844));
        assert_eq!(EventRow::at("order", -1).day, 0);
        assert_eq!(EventRow::at("order", i64::MAX).day, 49_710);
    }

    #[test]
    fn dead_letter_row_borrows_the_letter_and_stores_a_missing_key_as_empty() {
        let letter = DeadLetter {
            topic: "events".to_owned(),
            partition: 3,
            offset: 42,
            key: None,
            payload: vec![0xff, b'{'],
            reason: "invalid_json",
            detail: "payload is not valid JSON".to_owned(),
            received_at_ms: 1_714_564_800_999,
        };
        let row = DeadLetterRow::from(&letter);
        assert_eq!(
            row,
            DeadLetterRow {
                received_at: 1_714_564_800,
                topic: "events",
                partition: 3,
                offset: 42,
                key: b"",
                reason: "invalid_json",
                detail: "payload is not valid JSON",
                payload: &[0xff, b'{'],
            }
        );
    }
}
