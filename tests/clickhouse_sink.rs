//! The sinks a flush writes to, against the real ClickHouse and broker started by
//! `scripts/services up`: the ClickHouse sink (profiles, state blobs, dead letters, alerts,
//! segment changes, the event archive, readiness) and the Kafka dead-letter producer.
//!
//! Every test works in a database, topic and consumer group of its own, so tests run in any
//! order and in parallel. Expected values are written out by hand below, never derived from the
//! row types under test: timestamps as ClickHouse prints them in UTC, bytes as hex.

#![recursion_limit = "256"]

mod common;

use std::time::{Duration, Instant};

use common::alerts::NEW_YEAR_MS;
use common::{fresh, kafka_config, on_fresh_database};
use portrait_connectors::clickhouse::{
    migrate, AlertRow, ClickHouseConfig, ClickHouseSink, DeadLetterRow, EventRow, ProfileRow,
    Pseudonymiser, SegmentChange, SegmentRow, SinkBatch, SinkError, StateRow, StateRows,
    StoredDeadlines, StoredState,
};
use portrait_connectors::dead_letter::DeadLetter;
use portrait_connectors::kafka::{Admin, DeadLetterProducer, Source};
use portrait_core::alerts::{Alert, AlertKind, AlertSnapshot};
use portrait_core::profile::{LifecycleStage, Profile, PromoTier, PurchasingPower, RfmSegment};
use serde_json::{json, Value};

/// Generous: a consumer group join on tansu takes a few seconds.
const DEADLINE: Duration = Duration::from_secs(90);
/// How long one poll waits for a first message.
const POLL: Duration = Duration::from_millis(500);

/// 2024-05-01T12:00:00Z, in epoch seconds.
const MAY_1_NOON: i64 = 1_714_564_800;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// The rows `sql` returns, as JSON objects keyed by column name: every column of a row can then
/// be compared with one hand-written `json!` literal. 64-bit integers as numbers, not strings.
async fn select_json(config: &ClickHouseConfig, sql: &str) -> Vec<Value> {
    let bytes = config
        .client()
        .query(sql)
        .with_option("output_format_json_quote_64bit_integers", "0")
        .fetch_bytes("JSONEachRow")
        .unwrap_or_else(|err| panic!("{sql}: {err}"))
        .collect()
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
    bytes
        .split(|&byte| byte == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).expect("JSONEachRow gives one object a line"))
        .collect()
}

async fn write(sink: &ClickHouseSink, batch: SinkBatch<'_>) {
    sink.write(&batch).await.expect("write the batch");
}

/// Writes one profile row, as a flush with one changed user does.
async fn write_profile(sink: &ClickHouseSink, profile: &Profile, written_at_ms: i64, version: u64) {
    let rows = [ProfileRow::new(profile, written_at_ms, version)];
    let batch = SinkBatch {
        profiles: &rows,
        ..SinkBatch::default()
    };
    write(sink, batch).await;
}

/// A user early in their life: no orders, so every RFM column and the purchasing power are
/// NULL, and no contact yet.
fn first_version() -> Profile {
    Profile {
        user_id: "u-1".to_owned(),
        first_seen_at: MAY_1_NOON,
        first_contact_at: None,
        last_active_at: Some(MAY_1_NOON + HOUR),
        page_views: 12,
        searches: 3,
        messages_sent: 2,
        messages_received: 1,
        orders: 0,
        promo_orders: 0,
        revenue: 0.0,
        discount_total: 0.0,
        active_days_30d: 1,
        activated: false,
        activated_at: None,
        days_inactive: 0,
        events_7d: 17,
        events_prev_28d: 0,
        frequency_drop: 0.0,
        hard_churned: false,
        marketing_averse: false,
        reactivated_at: None,
        lifecycle_stage: LifecycleStage::New,
        churn_risk: 0.0,
        promo_order_share: 0.0,
        discount_share: 0.0,
        promo_engagement: 1,
        promo_tier: PromoTier::Unknown,
        rfm_recency_days: None,
        rfm_r: None,
        rfm_f: None,
        rfm_m: None,
        rfm_segment: None,
        top_categories: vec!["shoes".to_owned()],
        purchasing_power: None,
        repeat_order_days: None,
        order_span_days: None,
        customer_age_days: None,
        p_alive: None,
        expected_orders_90d: None,
    }
}

/// The same user a month later: every column changed, every NULL filled, every flag set.
fn second_version() -> Profile {
    Profile {
        user_id: "u-1".to_owned(),
        first_seen_at: MAY_1_NOON,
        first_contact_at: Some(MAY_1_NOON + 2 * HOUR),
        last_active_at: Some(MAY_1_NOON + 20 * DAY),
        page_views: 240,
        searches: 31,
        messages_sent: 9,
        messages_received: 14,
        orders: 6,
        promo_orders: 5,
        revenue: 1234.56,
        discount_total: 87.9,
        active_days_30d: 18,
        activated: true,
        activated_at: Some(MAY_1_NOON + 3 * DAY),
        days_inactive: 15,
        events_7d: 2,
        events_prev_28d: 60,
        frequency_drop: 0.8666666666666667,
        hard_churned: true,
        marketing_averse: true,
        reactivated_at: Some(MAY_1_NOON + 10 * DAY + 5),
        lifecycle_stage: LifecycleStage::AtRisk,
        churn_risk: 1.0,
        promo_order_share: 0.8333333333333334,
        discount_share: 0.0665,
        promo_engagement: 42,
        promo_tier: PromoTier::High,
        rfm_recency_days: Some(15),
        rfm_r: Some(4),
        rfm_f: Some(4),
        rfm_m: Some(4),
        rfm_segment: Some(RfmSegment::Champions),
        top_categories: vec![
            "shoes".to_owned(),
            "bags".to_owned(),
            "beauty".to_owned(),
            "home".to_owned(),
            "toys".to_owned(),
        ],
        purchasing_power: Some(PurchasingPower::Premium),
        repeat_order_days: Some(4),
        order_span_days: Some(19),
        customer_age_days: Some(35),
        p_alive: Some(0.8372612209218923),
        expected_orders_90d: Some(1.25),
    }
}

fn expected_first_version() -> Value {
    json!({
        "user_id": "u-1",
        "first_seen_at": "2024-05-01 12:00:00",
        "first_contact_at": null,
        "last_active_at": "2024-05-01 13:00:00",
        "page_views": 12,
        "searches": 3,
        "messages_sent": 2,
        "messages_received": 1,
        "orders": 0,
        "promo_orders": 0,
        "revenue": 0,
        "discount_total": 0,
        "active_days_30d": 1,
        "activated": 0,
        "activated_at": null,
        "days_inactive": 0,
        "events_7d": 17,
        "events_prev_28d": 0,
        "frequency_drop": 0,
        "hard_churned": 0,
        "marketing_averse": 0,
        "reactivated_at": null,
        "lifecycle_stage": "new",
        "churn_risk": 0,
        "promo_order_share": 0,
        "discount_share": 0,
        "promo_engagement": 1,
        "promo_tier": "unknown",
        "rfm_recency_days": null,
        "rfm_r": null,
        "rfm_f": null,
        "rfm_m": null,
        "rfm_segment": null,
        "top_categories": ["shoes"],
        "purchasing_power": null,
        "repeat_order_days": null,
        "order_span_days": null,
        "customer_age_days": null,
        "p_alive": null,
        "expected_orders_90d": null,
        "updated_at": "2024-05-01 13:55:00",
        "version": 1,
    })
}

fn expected_second_version() -> Value {
    json!({
        "user_id": "u-1",
        "first_seen_at": "2024-05-01 12:00:00",
        "first_contact_at": "2024-05-01 14:00:00",
        "last_active_at": "2024-05-21 12:00:00",
        "page_views": 240,
        "searches": 31,
        "messages_sent": 9,
        "messages_received": 14,
        "orders": 6,
        "promo_orders": 5,
        "revenue": 1234.56,
        "discount_total": 87.9,
        "active_days_30d": 18,
        "activated": 1,
        "activated_at": "2024-05-04 12:00:00",
        "days_inactive": 15,
        "events_7d": 2,
        "events_prev_28d": 60,
        "frequency_drop": 0.8666666666666667,
        "hard_churned": 1,
        "marketing_averse": 1,
        "reactivated_at": "2024-05-11 12:00:05",
        "lifecycle_stage": "at_risk",
        "churn_risk": 1,
        "promo_order_share": 0.8333333333333334,
        "discount_share": 0.0665,
        "promo_engagement": 42,
        "promo_tier": "high",
        "rfm_recency_days": 15,
        "rfm_r": 4,
        "rfm_f": 4,
        "rfm_m": 4,
        "rfm_segment": "champions",
        "top_categories": ["shoes", "bags", "beauty", "home", "toys"],
        "purchasing_power": "premium",
        "repeat_order_days": 4,
        "order_span_days": 19,
        "customer_age_days": 35,
        "p_alive": 0.8372612209218923,
        "expected_orders_90d": 1.25,
        "updated_at": "2024-06-05 00:00:00",
        "version": 2,
    })
}

/// Every column of the view, as the CRM reads it.
async fn current_profiles(config: &ClickHouseConfig) -> Vec<Value> {
    select_json(
        config,
        "SELECT * FROM user_profiles_current ORDER BY user_id",
    )
    .await
}

#[tokio::test]
async fn the_current_view_shows_every_column_of_the_latest_version() {
    on_fresh_database("sink_profiles", |config| async move {
        migrate(&config).await.expect("migrate");
        let sink = ClickHouseSink::new(&config);
        let (first, second) = (first_version(), second_version());
        // Watermarks in milliseconds; the column keeps whole seconds.
        let first_written_at = (MAY_1_NOON + HOUR + 55 * 60) * 1000 + 999;
        let second_written_at = (MAY_1_NOON + 34 * DAY + 12 * HOUR) * 1000;

        write_profile(&sink, &first, first_written_at, 1).await;
        assert_eq!(current_profiles(&config).await, [expected_first_version()]);

        write_profile(&sink, &second, second_written_at, 2).await;
        assert_eq!(current_profiles(&config).await, [expected_second_version()]);

        // A retried flush re-sends version 1 after version 2: the version decides, not the
        // arrival order, so the view still shows version 2 while the table holds all three.
        write_profile(&sink, &first, first_written_at, 1).await;
        assert_eq!(current_profiles(&config).await, [expected_second_version()]);
        let stored = select_json(&config, "SELECT count() AS rows FROM user_profiles").await;
        assert_eq!(stored, [json!({ "rows": 3 })]);
    })
    .await;
}

/// Every row `read_states` gives for `partition`, in the order they came.
async fn read_states(sink: &ClickHouseSink, partition: u32) -> Vec<StoredState> {
    let mut chunks = Vec::new();
    sink.read_states(partition, |chunk| chunks.push(chunk))
        .await
        .unwrap_or_else(|err| panic!("read partition {partition}: {err}"));
    let (mut rows, mut read) = (StateRows::default(), Vec::new());
    for chunk in &chunks {
        rows.push(chunk, |row| {
            read.push(row.to_owned());
            Ok::<_, std::convert::Infallible>(())
        })
        .expect("rows of profile_state");
    }
    rows.finish().expect("whole rows");
    read
}

#[tokio::test]
async fn state_blobs_round_trip_byte_for_byte_per_partition() {
    on_fresh_database("sink_states", |config| async move {
        migrate(&config).await.expect("migrate");
        let sink = ClickHouseSink::new(&config);
        // Not UTF-8: a lone continuation byte, an invalid lead byte, NUL, a quote, a backslash.
        let old_blob = vec![0x01, 0x80, 0xff, 0x00, b'\'', b'\\', 0xc3];
        let new_blob = vec![0x01, 0xfe, 0x00, 0x00, 0x9f, b'\n', 0xf8, 0x7f];
        let other_blob = vec![0x01, 0xc0, 0xaf];
        // Deadlines of every shape: absent, negative, beyond 32 bits, the fingerprint's top bit.
        let deadlines = |version: u64| StoredDeadlines {
            next_change_ms: (version != 7).then_some(1_714_600_000_000 + version as i64),
            alert_due_ms: (version == 2).then_some(-86_400_000),
            fingerprint: u64::MAX - version,
        };
        let state = |partition, user_id: &str, state: &[u8], version| {
            StateRow::new(
                partition,
                user_id,
                state.to_vec(),
                version,
                1_714_564_800_000,
                deadlines(version),
            )
        };

        let first = [
            state(3, "u-1", &old_blob, 1),
            state(4, "u-9", &other_blob, 7),
        ];
        write(
            &sink,
            SinkBatch {
                states: &first,
                ..SinkBatch::default()
            },
        )
        .await;
        let second = [state(3, "u-1", &new_blob, 2), state(3, "u-2", &[], 1)];
        write(
            &sink,
            SinkBatch {
                states: &second,
                ..SinkBatch::default()
            },
        )
        .await;

        let mut partition_3 = read_states(&sink, 3).await;
        partition_3.sort();
        let stored = |user_id: &str, state: Vec<u8>, version| StoredState {
            user_id: user_id.to_owned(),
            state,
            version,
            updated_at: 1_714_564_800,
            next_change_ms: deadlines(version).next_change_ms,
            alert_due_ms: deadlines(version).alert_due_ms,
            deadlines_fingerprint: deadlines(version).fingerprint,
        };
        assert_eq!(
            partition_3,
            [stored("u-1", new_blob, 2), stored("u-2", Vec::new(), 1)]
        );
        assert_eq!(read_states(&sink, 4).await, [stored("u-9", other_blob, 7)]);
        assert!(read_states(&sink, 5).await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_state_row_written_before_the_deadline_columns_reads_without_deadlines() {
    on_fresh_database("sink_states_old", |config| async move {
        migrate(&config).await.expect("migrate");
        // The columns 0002 created, as a binary before 0010 wrote them.
        config
            .client()
            .query(
                "INSERT INTO profile_state (partition, user_id, state, version, updated_at) \
                 VALUES (1, 'u-1', 'blob', 3, 1714564800)",
            )
            .execute()
            .await
            .expect("insert a row of the old columns");
        let sink = ClickHouseSink::new(&config);
        let read = read_states(&sink, 1).await;
        assert_eq!(
            read,
            [StoredState {
                user_id: "u-1".to_owned(),
                state: b"blob".to_vec(),
                version: 3,
                updated_at: 1_714_564_800,
                next_change_ms: None,
                alert_due_ms: None,
                deadlines_fingerprint: 0,
            }]
        );
    })
    .await;
}

/// Two rejected messages: an unkeyed one that is not UTF-8, and a keyed one with a binary key.
fn dead_letters() -> Vec<DeadLetter> {
    vec![
        DeadLetter {
            topic: "pages".to_owned(),
            partition: 2,
            offset: 41,
            key: None,
            payload: vec![0xff, 0xfe, b'{'],
            reason: "invalid_json",
            detail: "payload is not valid JSON: invalid UTF-8".to_owned(),
            received_at_ms: MAY_1_NOON * 1000 + 750,
        },
        DeadLetter {
            topic: "orders".to_owned(),
            partition: 0,
            offset: 9_000_000_001,
            key: Some(vec![b'u', 0x00, 0x80]),
            payload: br#"{"type":"refund"}"#.to_vec(),
            reason: "unknown_type",
            detail: "unknown event type \"refund\"".to_owned(),
            received_at_ms: (MAY_1_NOON + DAY) * 1000,
        },
    ]
}

#[tokio::test]
async fn dead_letters_land_with_their_coordinates() {
    on_fresh_database("sink_dead_letters", |config| async move {
        migrate(&config).await.expect("migrate");
        let sink = ClickHouseSink::new(&config);
        let letters = dead_letters();
        let rows: Vec<DeadLetterRow<'_>> = letters.iter().map(DeadLetterRow::from).collect();
        write(
            &sink,
            SinkBatch {
                dead_letters: &rows,
                ..SinkBatch::default()
            },
        )
        .await;

        let stored = select_json(
            &config,
            "SELECT received_at, topic, partition, offset, hex(key) AS key, reason, detail, \
             hex(payload) AS payload FROM dead_letters ORDER BY topic, partition, offset",
        )
        .await;
        assert_eq!(
            stored,
            [
                json!({
                    "received_at": "2024-05-02 12:00:00",
                    "topic": "orders",
                    "partition": 0,
                    "offset": 9_000_000_001_i64,
                    "key": "750080",
                    "reason": "unknown_type",
                    "detail": "unknown event type \"refund\"",
                    "payload": "7B2274797065223A22726566756E64227D",
                }),
                json!({
                    "received_at": "2024-05-01 12:00:00",
                    "topic": "pages",
                    "partition": 2,
                    "offset": 41,
                    "key": "",
                    "reason": "invalid_json",
                    "detail": "payload is not valid JSON: invalid UTF-8",
                    "payload": "FFFE7B",
                }),
            ]
        );
    })
    .await;
}

/// Two alerts of one user at the same instant: the one whose id core pins, and an activation.
fn alerts() -> Vec<Alert> {
    let dormant = common::alerts::dormant();
    let activated = Alert {
        kind: AlertKind::Activated,
        stage_before: None,
        stage_after: LifecycleStage::New,
        reason: "sent 3 messages to staff".to_owned(),
        snapshot: AlertSnapshot {
            hard_churned: true,
            last_active_at: None,
            ..dormant.snapshot
        },
        ..dormant.clone()
    };
    vec![dormant, activated]
}

/// A flush writes the alerts, then is retried (an hour later, say, after a ClickHouse outage):
/// the table holds every copy, the view each alert once, with every column as written.
#[tokio::test]
async fn a_repeated_alert_appears_once_in_the_unique_view() {
    on_fresh_database("sink_alerts", |config| async move {
        migrate(&config).await.expect("migrate");
        // Merges off, so the copies stay in separate parts: the view alone must collapse them.
        config
            .client()
            .query("SYSTEM STOP MERGES profile_alerts")
            .execute()
            .await
            .expect("stop merges");
        let sink = ClickHouseSink::new(&config);
        let alerts = alerts();
        for emitted_at_ms in [NEW_YEAR_MS + 5 * 60_000 + 999, NEW_YEAR_MS + 3_600_000] {
            let rows: Vec<AlertRow<'_>> = alerts
                .iter()
                .map(|alert| AlertRow::new(alert, emitted_at_ms))
                .collect();
            write(
                &sink,
                SinkBatch {
                    alerts: &rows,
                    ..SinkBatch::default()
                },
            )
            .await;
        }

        let stored = select_json(&config, "SELECT count() AS rows FROM profile_alerts").await;
        assert_eq!(stored, [json!({ "rows": 4 })]);
        let unique = select_json(
            &config,
            "SELECT * FROM profile_alerts_unique ORDER BY user_id, transition_at_ms, kind",
        )
        .await;
        // Ids computed independently (Python's hashlib, as core's pinned test explains).
        assert_eq!(
            unique,
            [
                json!({
                    "alert_id": "782116dc4684d02077d0beb41fad7cad",
                    "user_id": "u000042",
                    "kind": "activated",
                    "transition_at": "2026-01-01 00:00:00",
                    "transition_at_ms": 1_767_225_600_000_i64,
                    "stage_before": null,
                    "stage_after": "new",
                    "reason": "sent 3 messages to staff",
                    "days_inactive": 30,
                    "events_7d": 0,
                    "events_prev_28d": 12,
                    "frequency_drop": 0.75,
                    "churn_risk": 0.8,
                    "hard_churned": 1,
                    "messages_sent": 3,
                    "last_active_at": null,
                    "emitted_at": "2026-01-01 01:00:00",
                }),
                json!({
                    "alert_id": common::alerts::DORMANT_ID,
                    "user_id": "u000042",
                    "kind": "dormant",
                    "transition_at": "2026-01-01 00:00:00",
                    "transition_at_ms": 1_767_225_600_000_i64,
                    "stage_before": "at_risk",
                    "stage_after": "dormant",
                    "reason": "no activity for 30 days (last active 2025-12-02)",
                    "days_inactive": 30,
                    "events_7d": 0,
                    "events_prev_28d": 12,
                    "frequency_drop": 0.75,
                    "churn_risk": 0.8,
                    "hard_churned": 0,
                    "messages_sent": 3,
                    "last_active_at": "2025-12-02 00:00:00",
                    // Without a version column, the last copy written is the one kept.
                    "emitted_at": "2026-01-01 01:00:00",
                }),
            ]
        );
    })
    .await;
}

/// Segment changes land as written, with the pseudonym; a replayed flush's repeats collapse,
/// and `segment_members` shows each user's current segments by the latest version.
#[tokio::test]
async fn segment_changes_land_and_the_members_view_follows_the_latest_version() {
    on_fresh_database("sink_segments", |config| async move {
        migrate(&config).await.expect("migrate");
        config
            .client()
            .query("SYSTEM STOP MERGES segment_membership")
            .execute()
            .await
            .expect("stop merges");
        let sink = ClickHouseSink::new(&config);
        let pseudonymiser = Pseudonymiser::new("k3y");
        let change = |user_id, segment, change, hour: i64, version| {
            SegmentRow::new(
                user_id,
                segment,
                change,
                (MAY_1_NOON + hour * HOUR) * 1000,
                version,
            )
            .pseudonymised(Some(&pseudonymiser))
        };
        let first = [
            change("u-1", "vip_at_risk", SegmentChange::Entered, 0, 3),
            change("u-1", "promo_only", SegmentChange::Entered, 0, 3),
            change("u-2", "promo_only", SegmentChange::Entered, 0, 1),
        ];
        let second = [change("u-1", "vip_at_risk", SegmentChange::Left, 30, 5)];
        // The first flush twice, as a retry after a failed write would.
        for rows in [&first[..], &first[..], &second[..]] {
            write(
                &sink,
                SinkBatch {
                    segments: rows,
                    ..SinkBatch::default()
                },
            )
            .await;
        }

        let stored = select_json(&config, "SELECT count() AS rows FROM segment_membership").await;
        assert_eq!(stored, [json!({ "rows": 7 })]);
        let unique = select_json(
            &config,
            "SELECT * FROM segment_membership FINAL ORDER BY user_id, segment, version",
        )
        .await;
        // HMAC-SHA256 under "k3y" of "u-1" and "u-2", computed with Python's hmac module.
        let u1 = "ecaa44d54b00fe3dd0759ac111e265dbdd870755f2c6fb47164fbf7b6fd0dfe1";
        let u2 = "0957819ad2a2d564280920ecd44b5caebd6663c384ffd5b2efbb910345da3a6c";
        assert_eq!(
            unique,
            [
                json!({ "user_id": "u-1", "segment": "promo_only", "change": "entered",
                        "at": "2024-05-01 12:00:00", "version": 3, "user_key": u1 }),
                json!({ "user_id": "u-1", "segment": "vip_at_risk", "change": "entered",
                        "at": "2024-05-01 12:00:00", "version": 3, "user_key": u1 }),
                json!({ "user_id": "u-1", "segment": "vip_at_risk", "change": "left",
                        "at": "2024-05-02 18:00:00", "version": 5, "user_key": u1 }),
                json!({ "user_id": "u-2", "segment": "promo_only", "change": "entered",
                        "at": "2024-05-01 12:00:00", "version": 1, "user_key": u2 }),
            ]
        );
        let members = select_json(
            &config,
            "SELECT * FROM segment_members ORDER BY user_id, segment",
        )
        .await;
        assert_eq!(
            members,
            [
                json!({ "user_id": "u-1", "segment": "promo_only",
                        "entered_at": "2024-05-01 12:00:00", "version": 3 }),
                json!({ "user_id": "u-2", "segment": "promo_only",
                        "entered_at": "2024-05-01 12:00:00", "version": 1 }),
            ]
        );
    })
    .await;
}

/// Each archived column lands as written, `day` is the event's UTC day, and an event written
/// twice is one row.
#[tokio::test]
async fn archived_events_land_with_their_day_and_a_repeat_collapses() {
    on_fresh_database("sink_events", |config| async move {
        migrate(&config).await.expect("migrate");
        let sink = ClickHouseSink::new(&config);
        let rows = [
            EventRow {
                event_id: "e1",
                user_id: "u1",
                category: "shoes",
                page: "/p/1",
                topic: "events",
                partition: 3,
                offset: 41,
                // The last millisecond of May 1st: the day is the UTC day of `ts`.
                ..EventRow::at("page_view", (MAY_1_NOON + 12 * HOUR) * 1000 - 1)
            },
            EventRow {
                event_id: "e2",
                user_id: "u1",
                amount: 129.9,
                topic: "events",
                partition: 3,
                offset: 42,
                ..EventRow::at("order", (MAY_1_NOON + 12 * HOUR) * 1000)
            },
        ];
        // Written twice, as a replay after a lost commit would.
        for _ in 0..2 {
            sink.write_events(rows.clone().into_iter())
                .await
                .expect("archive the events");
        }

        let archived = select_json(&config, "SELECT * FROM events FINAL ORDER BY event_id").await;
        assert_eq!(
            archived,
            [
                json!({
                    "event_id": "e1", "user_id": "u1", "type": "page_view",
                    "ts": "2024-05-01 23:59:59", "day": "2024-05-01",
                    "category": "shoes", "page": "/p/1", "amount": 0,
                    "topic": "events", "partition": 3, "offset": 41,
                    // No pseudonymisation key: the pseudonyms stay empty.
                    "user_key": "", "event_key": "",
                }),
                json!({
                    "event_id": "e2", "user_id": "u1", "type": "order",
                    "ts": "2024-05-02 00:00:00", "day": "2024-05-02",
                    "category": "", "page": "", "amount": 129.9,
                    "topic": "events", "partition": 3, "offset": 42,
                    "user_key": "", "event_key": "",
                }),
            ]
        );
    })
    .await;
}

/// Readiness fails until `migrate` has run, naming the tables that are missing; a write to an
/// unmigrated database fails on the first table it writes, with the row count and ClickHouse's
/// message.
#[tokio::test]
async fn an_unmigrated_database_is_not_ready_and_refuses_writes() {
    on_fresh_database("sink_unmigrated", |config| async move {
        let server = ClickHouseConfig {
            database: "default".to_owned(),
            ..config.clone()
        };
        server
            .client()
            .query(&format!("CREATE DATABASE `{}`", config.database))
            .execute()
            .await
            .expect("create the empty database");
        let sink = ClickHouseSink::new(&config);

        match sink.check_ready().await {
            Err(SinkError::NotMigrated { database, missing }) => {
                assert_eq!(database, config.database);
                assert_eq!(
                    missing,
                    [
                        "dead_letters",
                        "profile_state",
                        "user_profiles",
                        "profile_alerts",
                        "segment_membership",
                        "events",
                        "forgotten_users"
                    ]
                );
            }
            other => panic!("expected NotMigrated, got {other:?}"),
        }

        let letters = dead_letters();
        let rows: Vec<DeadLetterRow<'_>> = letters.iter().map(DeadLetterRow::from).collect();
        let profile = first_version();
        let profiles = [ProfileRow::new(&profile, 0, 1)];
        let batch = SinkBatch {
            profiles: &profiles,
            dead_letters: &rows,
            ..SinkBatch::default()
        };
        match sink.write(&batch).await {
            Err(error @ SinkError::Insert { .. }) => {
                let text = error.to_string();
                assert_eq!(text, "cannot insert 2 rows into dead_letters");
                let server_message = std::error::Error::source(&error)
                    .expect("ClickHouse's error is the source")
                    .to_string();
                assert!(
                    server_message.contains("dead_letters") && server_message.contains("exist"),
                    "{server_message}"
                );
            }
            other => panic!("expected an insert error, got {other:?}"),
        }

        migrate(&config).await.expect("migrate");
        sink.check_ready().await.expect("ready once migrated");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letter_messages_keep_key_payload_and_carry_reason_and_source_in_headers() {
    let topic = fresh("portrait-dead-letters");
    let config = kafka_config(&[&topic], &fresh("portrait-dead-letters-group"));
    Admin::new(&config)
        .unwrap()
        .create_topics(&[&topic], 1)
        .await
        .unwrap();
    let letters = dead_letters();
    DeadLetterProducer::new(&config)
        .unwrap()
        .send(&topic, &letters)
        .await
        .expect("send the dead letters");

    let source = Source::new(&config).unwrap();
    let deadline = Instant::now() + DEADLINE;
    let mut received = Vec::new();
    while received.len() < letters.len() {
        assert!(
            Instant::now() < deadline,
            "timed out after {DEADLINE:?} with {} of {} messages read",
            received.len(),
            letters.len()
        );
        let batch = source.next_batch(100, POLL).await.unwrap();
        for record in batch.iter() {
            // Header values are text by design: compared as text, they read well on failure.
            let headers: Vec<(String, Option<String>)> = record
                .headers
                .iter()
                .map(|(name, value)| {
                    let text = value.map(|v| String::from_utf8(v.to_vec()).expect("UTF-8"));
                    (name.to_owned(), text)
                })
                .collect();
            received.push((
                record.key.map(<[u8]>::to_vec),
                record.payload.map(<[u8]>::to_vec),
                headers,
            ));
        }
    }
    source.close().await;

    let header = |name: &str, value: &str| (name.to_owned(), Some(value.to_owned()));
    // One partition, so the broker keeps the order they were sent in.
    assert_eq!(
        received,
        [
            (
                None,
                Some(vec![0xff, 0xfe, b'{']),
                vec![
                    header("portrait.reason", "invalid_json"),
                    header(
                        "portrait.detail",
                        "payload is not valid JSON: invalid UTF-8"
                    ),
                    header("portrait.source.topic", "pages"),
                    header("portrait.source.partition", "2"),
                    header("portrait.source.offset", "41"),
                ],
            ),
            (
                Some(vec![b'u', 0x00, 0x80]),
                Some(br#"{"type":"refund"}"#.to_vec()),
                vec![
                    header("portrait.reason", "unknown_type"),
                    header("portrait.detail", "unknown event type \"refund\""),
                    header("portrait.source.topic", "orders"),
                    header("portrait.source.partition", "0"),
                    header("portrait.source.offset", "9000000001"),
                ],
            ),
        ]
    );
}
