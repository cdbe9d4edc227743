//! The rows the ClickHouse sink writes, as Arrow record batches with the same columns, names
//! and values: what the Parquet tables hold, so that SQL over them answers as SQL over
//! ClickHouse does.
//!
//! Types follow the ClickHouse columns: `DateTime('UTC')` is a timestamp in seconds in UTC,
//! `UInt8` booleans stay `UInt8` (queries written for ClickHouse compare them with 1),
//! `Nullable(T)` is a nullable column, and `String` columns that may hold any bytes (a dead
//! letter's key and payload) are binary.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BinaryArray, Float64Array, Int64Array, ListBuilder, RecordBatch, StringArray,
    StringBuilder, TimestampSecondArray, UInt32Array, UInt64Array, UInt8Array,
};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use portrait_connectors::clickhouse::{AlertRow, DeadLetterRow, ProfileRow, SegmentRow};

/// `user_profiles`: one row per written version of a profile.
pub fn profiles(rows: &[ProfileRow<'_>]) -> Result<RecordBatch, ArrowError> {
    let c = Columns(rows);
    batch(vec![
        ("user_id", c.strings(|r| r.user_id), false),
        ("first_seen_at", c.times(|r| Some(r.first_seen_at)), false),
        ("first_contact_at", c.times(|r| r.first_contact_at), true),
        ("last_active_at", c.times(|r| r.last_active_at), true),
        ("page_views", c.u64s(|r| r.page_views), false),
        ("searches", c.u64s(|r| r.searches), false),
        ("messages_sent", c.u64s(|r| r.messages_sent), false),
        ("messages_received", c.u64s(|r| r.messages_received), false),
        ("orders", c.u64s(|r| r.orders), false),
        ("promo_orders", c.u64s(|r| r.promo_orders), false),
        ("revenue", c.f64s(|r| r.revenue), false),
        ("discount_total", c.f64s(|r| r.discount_total), false),
        (
            "active_days_30d",
            c.u32s(|r| Some(r.active_days_30d)),
            false,
        ),
        ("activated", c.flags(|r| r.activated), false),
        ("activated_at", c.times(|r| r.activated_at), true),
        ("days_inactive", c.u32s(|r| Some(r.days_inactive)), false),
        ("events_7d", c.u32s(|r| Some(r.events_7d)), false),
        (
            "events_prev_28d",
            c.u32s(|r| Some(r.events_prev_28d)),
            false,
        ),
        ("frequency_drop", c.f64s(|r| r.frequency_drop), false),
        ("hard_churned", c.flags(|r| r.hard_churned), false),
        ("marketing_averse", c.flags(|r| r.marketing_averse), false),
        ("reactivated_at", c.times(|r| r.reactivated_at), true),
        ("lifecycle_stage", c.strings(|r| r.lifecycle_stage), false),
        ("churn_risk", c.f64s(|r| r.churn_risk), false),
        ("promo_order_share", c.f64s(|r| r.promo_order_share), false),
        ("discount_share", c.f64s(|r| r.discount_share), false),
        ("promo_engagement", c.u64s(|r| r.promo_engagement), false),
        ("promo_tier", c.strings(|r| r.promo_tier), false),
        ("rfm_recency_days", c.u32s(|r| r.rfm_recency_days), true),
        ("rfm_r", c.u8s(|r| r.rfm_r), true),
        ("rfm_f", c.u8s(|r| r.rfm_f), true),
        ("rfm_m", c.u8s(|r| r.rfm_m), true),
        ("rfm_segment", c.optional_strings(|r| r.rfm_segment), true),
        (
            "top_categories",
            c.string_lists(|r| r.top_categories),
            false,
        ),
        (
            "purchasing_power",
            c.optional_strings(|r| r.purchasing_power),
            true,
        ),
        ("updated_at", c.times(|r| Some(r.updated_at)), false),
        ("version", c.u64s(|r| r.version), false),
        ("repeat_order_days", c.u32s(|r| r.repeat_order_days), true),
        ("order_span_days", c.u32s(|r| r.order_span_days), true),
        ("customer_age_days", c.u32s(|r| r.customer_age_days), true),
        ("p_alive", c.optional_f64s(|r| r.p_alive), true),
        (
            "expected_orders_90d",
            c.optional_f64s(|r| r.expected_orders_90d),
            true,
        ),
    ])
}

/// The columns of [`profiles`], which segment predicates are written over.
pub fn profiles_schema() -> SchemaRef {
    profiles(&[])
        .expect("a batch of no profiles has the table's columns")
        .schema()
}

/// `profile_alerts`: one row per alert.
pub fn alerts(rows: &[AlertRow<'_>]) -> Result<RecordBatch, ArrowError> {
    let c = Columns(rows);
    batch(vec![
        ("alert_id", c.strings(|r| &r.alert_id), false),
        ("user_id", c.strings(|r| r.user_id), false),
        ("kind", c.strings(|r| r.kind), false),
        ("transition_at", c.times(|r| Some(r.transition_at)), false),
        ("transition_at_ms", c.i64s(|r| r.transition_at_ms), false),
        ("stage_before", c.optional_strings(|r| r.stage_before), true),
        ("stage_after", c.strings(|r| r.stage_after), false),
        ("reason", c.strings(|r| r.reason), false),
        ("days_inactive", c.u32s(|r| Some(r.days_inactive)), false),
        ("events_7d", c.u32s(|r| Some(r.events_7d)), false),
        (
            "events_prev_28d",
            c.u32s(|r| Some(r.events_prev_28d)),
            false,
        ),
        ("frequency_drop", c.f64s(|r| r.frequency_drop), false),
        ("churn_risk", c.f64s(|r| r.churn_risk), false),
        ("hard_churned", c.flags(|r| r.hard_churned), false),
        ("messages_sent", c.u64s(|r| r.messages_sent), false),
        ("last_active_at", c.times(|r| r.last_active_at), true),
        ("emitted_at", c.times(|r| Some(r.emitted_at)), false),
    ])
}

/// `dead_letters`: one row per rejected message.
pub fn dead_letters(rows: &[DeadLetterRow<'_>]) -> Result<RecordBatch, ArrowError> {
    let c = Columns(rows);
    batch(vec![
        ("received_at", c.times(|r| Some(r.received_at)), false),
        ("topic", c.strings(|r| r.topic), false),
        ("partition", c.u32s(|r| Some(r.partition)), false),
        ("offset", c.i64s(|r| r.offset), false),
        ("key", c.bytes(|r| r.key), false),
        ("reason", c.strings(|r| r.reason), false),
        ("detail", c.strings(|r| r.detail), false),
        ("payload", c.bytes(|r| r.payload), false),
    ])
}

/// `segment_membership`: one row per user entering or leaving a segment.
pub fn segments(rows: &[SegmentRow<'_>]) -> Result<RecordBatch, ArrowError> {
    let c = Columns(rows);
    batch(vec![
        ("user_id", c.strings(|r| r.user_id), false),
        ("segment", c.strings(|r| r.segment), false),
        ("change", c.strings(|r| r.change), false),
        ("at", c.times(|r| Some(r.at)), false),
        ("version", c.u64s(|r| r.version), false),
    ])
}

fn batch(columns: Vec<(&str, ArrayRef, bool)>) -> Result<RecordBatch, ArrowError> {
    RecordBatch::try_from_iter_with_nullable(columns)
}

/// One table's rows, read a column at a time.
struct Columns<'r, R>(&'r [R]);

impl<'r, R> Columns<'r, R> {
    fn strings(&self, value: impl Fn(&'r R) -> &'r str) -> ArrayRef {
        Arc::new(StringArray::from_iter_values(self.0.iter().map(value)))
    }

    fn optional_strings(&self, value: impl Fn(&'r R) -> Option<&'r str>) -> ArrayRef {
        Arc::new(self.0.iter().map(value).collect::<StringArray>())
    }

    fn string_lists(&self, value: impl Fn(&'r R) -> &'r [String]) -> ArrayRef {
        let mut lists = ListBuilder::new(StringBuilder::new());
        for row in self.0 {
            lists.append_value(value(row).iter().map(Some));
        }
        Arc::new(lists.finish())
    }

    fn bytes(&self, value: impl Fn(&'r R) -> &'r [u8]) -> ArrayRef {
        Arc::new(BinaryArray::from_iter_values(self.0.iter().map(value)))
    }

    /// Epoch seconds, as ClickHouse's `DateTime('UTC')` holds them.
    fn times(&self, value: impl Fn(&R) -> Option<u32>) -> ArrayRef {
        let seconds = self.0.iter().map(|row| value(row).map(i64::from));
        Arc::new(
            seconds
                .collect::<TimestampSecondArray>()
                .with_timezone("UTC"),
        )
    }

    fn u64s(&self, value: impl Fn(&R) -> u64) -> ArrayRef {
        Arc::new(UInt64Array::from_iter_values(self.0.iter().map(value)))
    }

    fn i64s(&self, value: impl Fn(&R) -> i64) -> ArrayRef {
        Arc::new(Int64Array::from_iter_values(self.0.iter().map(value)))
    }

    fn u32s(&self, value: impl Fn(&R) -> Option<u32>) -> ArrayRef {
        Arc::new(self.0.iter().map(value).collect::<UInt32Array>())
    }

    fn u8s(&self, value: impl Fn(&R) -> Option<u8>) -> ArrayRef {
        Arc::new(self.0.iter().map(value).collect::<UInt8Array>())
    }

    /// A boolean as ClickHouse's `UInt8`, 0 or 1.
    fn flags(&self, value: impl Fn(&R) -> bool) -> ArrayRef {
        let flags = self.0.iter().map(|row| u8::from(value(row)));
        Arc::new(UInt8Array::from_iter_values(flags))
    }

    fn f64s(&self, value: impl Fn(&R) -> f64) -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(self.0.iter().map(value)))
    }

    fn optional_f64s(&self, value: impl Fn(&R) -> Option<f64>) -> ArrayRef {
        Arc::new(self.0.iter().map(value).collect::<Float64Array>())
    }
}
