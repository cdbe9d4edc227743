//! Segments (docs/segments.md): named SQL predicates over the profile columns, evaluated at
//! every flush over the profiles it writes; entering or leaving one writes a row of
//! `segment_membership`, and entering an alerting one raises a `segment_entered` alert.
//!
//! Checked against references the pipeline does not compute, in both modes:
//! - after a run, each segment's members are the users of the generator's truth whose profile
//!   satisfies the predicate, as ClickHouse evaluates it over the truth loaded into a table;
//! - the entries and exits are exactly where the predicate changes from one written version
//!   of a profile to the next, as ClickHouse (for the Kafka mode) or DataFusion over the
//!   Parquet table (for the embedded mode) evaluates it over every version.

mod common;

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use common::embedded::{fresh_dir, write_events};
use common::pipeline::{portrait, produce, succeed, ALERT_LATENESS_MS};
use portrait_connectors::clickhouse::migrate;
use portrait_generator::{generate, Dataset, ExpectedProfile, GeneratorConfig};
use serde::{Deserialize, Serialize};

const PARTITIONS: u32 = 4;
/// `pipeline.lateness_ms` at its default, as the truth is computed with.
const LATENESS_MS: i64 = 300_000;
const FLUSH_MAX_DIRTY: &str = "50";

/// The segments of the test: names and predicates, valid SQL for DataFusion and ClickHouse
/// alike. Between them, users enter and leave as time passes and as events come.
const SEGMENTS: [(&str, &str); 5] = [
    (
        "at_risk_buyers",
        "lifecycle_stage = 'at_risk' AND orders >= 1",
    ),
    ("busy_week", "events_7d >= 5"),
    ("marketing_averse", "marketing_averse = 1"),
    ("promo_only", "orders >= 2 AND promo_orders = orders"),
    (
        "vip_at_risk",
        "rfm_segment = 'champions' AND lifecycle_stage IN ('at_risk', 'dormant')",
    ),
];
/// The segment whose entries raise alerts.
const ALERTING: &str = "busy_week";

/// One change of one user's membership: user, profile version, entered (or left).
type Change = (String, u64, bool);

#[derive(Debug, clickhouse::Row, Deserialize)]
struct Membership {
    user_id: String,
    version: u64,
    member: u8,
}

#[derive(Debug, clickhouse::Row, Deserialize)]
struct ChangeRow {
    user_id: String,
    version: u64,
    change: String,
}

#[derive(Debug, clickhouse::Row, Deserialize)]
struct UserRow {
    user_id: String,
}

#[derive(Debug, clickhouse::Row, Deserialize)]
struct Entry {
    user_id: String,
    at: u32,
}

#[derive(Debug, clickhouse::Row, Deserialize)]
struct SegmentAlert {
    user_id: String,
    transition_at: u32,
    reason: String,
}

/// A truth profile as a row of a table made like `user_profiles`.
#[derive(Debug, clickhouse::Row, Serialize)]
struct TruthRow {
    user_id: String,
    first_seen_at: u32,
    first_contact_at: Option<u32>,
    last_active_at: Option<u32>,
    page_views: u64,
    searches: u64,
    messages_sent: u64,
    messages_received: u64,
    orders: u64,
    promo_orders: u64,
    revenue: f64,
    discount_total: f64,
    active_days_30d: u32,
    activated: u8,
    activated_at: Option<u32>,
    days_inactive: u32,
    events_7d: u32,
    events_prev_28d: u32,
    frequency_drop: f64,
    hard_churned: u8,
    marketing_averse: u8,
    reactivated_at: Option<u32>,
    lifecycle_stage: String,
    churn_risk: f64,
    promo_order_share: f64,
    discount_share: f64,
    promo_engagement: u64,
    promo_tier: String,
    rfm_recency_days: Option<u32>,
    rfm_r: Option<u8>,
    rfm_f: Option<u8>,
    rfm_m: Option<u8>,
    rfm_segment: Option<String>,
    top_categories: Vec<String>,
    purchasing_power: Option<String>,
}

impl From<&ExpectedProfile> for TruthRow {
    fn from(p: &ExpectedProfile) -> Self {
        let seconds = |at: i64| u32::try_from(at).expect("a DateTime fits in 32 bits");
        TruthRow {
            user_id: p.user_id.clone(),
            first_seen_at: seconds(p.first_seen_at),
            first_contact_at: p.first_contact_at.map(seconds),
            last_active_at: p.last_active_at.map(seconds),
            page_views: p.page_views,
            searches: p.searches,
            messages_sent: p.messages_sent,
            messages_received: p.messages_received,
            orders: p.orders,
            promo_orders: p.promo_orders,
            revenue: p.revenue,
            discount_total: p.discount_total,
            active_days_30d: p.active_days_30d,
            activated: p.activated.into(),
            activated_at: p.activated_at.map(seconds),
            days_inactive: p.days_inactive,
            events_7d: p.events_7d,
            events_prev_28d: p.events_prev_28d,
            frequency_drop: p.frequency_drop,
            hard_churned: p.hard_churned.into(),
            marketing_averse: p.marketing_averse.into(),
            reactivated_at: p.reactivated_at.map(seconds),
            lifecycle_stage: p.lifecycle_stage.clone(),
            churn_risk: p.churn_risk,
            promo_order_share: p.promo_order_share,
            discount_share: p.discount_share,
            promo_engagement: p.promo_engagement,
            promo_tier: p.promo_tier.clone(),
            rfm_recency_days: p.rfm_recency_days,
            rfm_r: p.rfm_r,
            rfm_f: p.rfm_f,
            rfm_m: p.rfm_m,
            rfm_segment: p.rfm_segment.clone(),
            top_categories: p.top_categories.clone(),
            purchasing_power: p.purchasing_power.clone(),
        }
    }
}

fn dataset() -> Dataset {
    generate(&GeneratorConfig {
        seed: 21,
        users: 400,
        days: 90,
        ..GeneratorConfig::default()
    })
}

/// A configuration file with [`SEGMENTS`], [`ALERTING`] alerting.
fn write_config(path: &Path) {
    let mut out = BufWriter::new(File::create(path).unwrap());
    for (name, predicate) in SEGMENTS {
        writeln!(out, "[segments.{name}]\nwhere = \"{predicate}\"").unwrap();
        if name == ALERTING {
            writeln!(out, "alert = true").unwrap();
        }
    }
    out.flush().unwrap();
}

/// Each version of each profile and whether it satisfies `predicate`, in `user_profiles`,
/// sorted by user and version; `byte` is the dialect's name of an unsigned 8-bit integer.
fn versions_query(predicate: &str, byte: &str) -> String {
    format!(
        "SELECT user_id, version, CAST(CASE WHEN {predicate} THEN 1 ELSE 0 END AS {byte}) \
         AS member FROM user_profiles ORDER BY user_id, version"
    )
}

/// Where membership changes between consecutive versions of each user's profile, starting
/// from no membership before the first: what `segment_membership` must hold.
fn expected_changes(versions: &[Membership]) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut previous: Option<(&str, bool)> = None;
    for row in versions {
        let was = match previous {
            Some((user, member)) if user == row.user_id => member,
            _ => false,
        };
        let is = row.member == 1;
        if is != was {
            changes.push((row.user_id.clone(), row.version, is));
        }
        previous = Some((&row.user_id, is));
    }
    changes
}

fn changes(rows: Vec<ChangeRow>) -> Vec<Change> {
    rows.into_iter()
        .map(|row| {
            let entered = match row.change.as_str() {
                "entered" => true,
                "left" => false,
                other => panic!("a change is entered or left, not {other:?}"),
            };
            (row.user_id, row.version, entered)
        })
        .collect()
}

/// The users a query of `user_id`s answers.
async fn users(query: clickhouse::query::Query) -> BTreeSet<String> {
    let rows = query.fetch_all::<UserRow>().await.unwrap();
    rows.into_iter().map(|row| row.user_id).collect()
}

/// Adds the entries and the exits among `changes`.
fn count(changes: &[Change], entered: &mut usize, left: &mut usize) {
    let entries = changes.iter().filter(|(.., entered)| *entered).count();
    *entered += entries;
    *left += changes.len() - entries;
}

/// The members after the last change of each user.
fn members_after(changes: &[Change]) -> BTreeSet<String> {
    let mut members = BTreeSet::new();
    for (user, _, entered) in changes {
        if *entered {
            members.insert(user.clone());
        } else {
            members.remove(user);
        }
    }
    members
}

#[tokio::test(flavor = "multi_thread")]
async fn memberships_and_changes_follow_the_predicates_in_both_modes() {
    common::on_fresh_database("segments", |clickhouse| async move {
        let dataset = dataset();
        let dir = fresh_dir("segments");
        let config = dir.join("portrait.toml");
        write_config(&config);
        let config = config.to_str().unwrap();
        let client = clickhouse.client();

        // Kafka into ClickHouse, with merges stopped so that every version written stays for
        // the reference to read. Both modes flush every 50 changed users: many flushes, and
        // with them users who enter and leave as time and events move them.
        let kafka = produce("segments", &dataset, PARTITIONS).await;
        migrate(&clickhouse).await.unwrap();
        client
            .query("SYSTEM STOP MERGES user_profiles")
            .execute()
            .await
            .unwrap();
        let mut run = portrait(
            &["--config", config, "run", "--until-end"],
            &kafka,
            &clickhouse,
        );
        run.env("PORTRAIT_ALERTS_LATENESS_MS", ALERT_LATENESS_MS.to_string())
            .env("PORTRAIT_PIPELINE_FLUSH_MAX_DIRTY", FLUSH_MAX_DIRTY);
        succeed("portrait run --until-end (segments)", run).await;

        // The same input in the embedded mode.
        let events = dir.join("events.ndjson");
        write_events(&dataset, &events);
        let data_dir = dir.join("data");
        let input = events.to_str().unwrap();
        let mut run =
            common::embedded::portrait(&["--config", config, "run", "--input", input], &data_dir);
        run.env("PORTRAIT_PIPELINE_FLUSH_MAX_DIRTY", FLUSH_MAX_DIRTY);
        succeed("portrait run (embedded, segments)", run).await;

        // The truth, in a table made like user_profiles, for ClickHouse to evaluate over.
        client
            .query("CREATE TABLE truth_profiles AS user_profiles")
            .execute()
            .await
            .unwrap();
        let mut insert = client.insert::<TruthRow>("truth_profiles").await.unwrap();
        for profile in &dataset.truth(LATENESS_MS).profiles {
            insert.write(&TruthRow::from(profile)).await.unwrap();
        }
        insert.end().await.unwrap();

        // Entries and exits in ClickHouse, then in Parquet.
        let (mut entered, mut left) = ([0; 2], [0; 2]);
        for (segment, predicate) in SEGMENTS {
            let truth = users(client.query(&format!(
                "SELECT user_id FROM truth_profiles WHERE {predicate}"
            )))
            .await;

            // Kafka mode.
            let versions: Vec<Membership> = client
                .query(&versions_query(predicate, "UInt8"))
                .fetch_all()
                .await
                .unwrap();
            let expected = expected_changes(&versions);
            let written = changes(
                client
                    .query(
                        "SELECT user_id, version, change FROM segment_membership FINAL \
                         WHERE segment = ? ORDER BY user_id, version",
                    )
                    .bind(segment)
                    .fetch_all()
                    .await
                    .unwrap(),
            );
            assert_eq!(written, expected, "{segment}: the changes in ClickHouse");
            assert_eq!(
                members_after(&written),
                truth,
                "{segment}: members in ClickHouse"
            );
            let current = users(
                client
                    .query("SELECT user_id FROM segment_members WHERE segment = ?")
                    .bind(segment),
            )
            .await;
            assert_eq!(current, truth, "{segment}: segment_members");
            count(&written, &mut entered[0], &mut left[0]);

            if segment == ALERTING {
                let alerts: Vec<SegmentAlert> = client
                    .query(
                        "SELECT user_id, transition_at, reason FROM profile_alerts_unique \
                         WHERE kind = 'segment_entered' ORDER BY user_id, transition_at",
                    )
                    .fetch_all()
                    .await
                    .unwrap();
                let at: Vec<(String, u32)> = client
                    .query(
                        "SELECT user_id, toUInt32(at) AS at FROM segment_membership FINAL \
                         WHERE segment = ? AND change = 'entered' ORDER BY user_id, at",
                    )
                    .bind(segment)
                    .fetch_all::<Entry>()
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|entry| (entry.user_id, entry.at))
                    .collect();
                let alerted: Vec<(String, u32)> = alerts
                    .iter()
                    .map(|alert| (alert.user_id.clone(), alert.transition_at))
                    .collect();
                assert_eq!(alerted, at, "an alert for each entry into {segment}");
                assert!(alerts
                    .iter()
                    .all(|alert| alert.reason == format!("entered segment {segment}")));
            }

            // Embedded mode: its own flushes, so its own versions and changes.
            let versions: Vec<Membership> =
                portrait_sql::rows(&data_dir, &versions_query(predicate, "TINYINT UNSIGNED"))
                    .await
                    .unwrap();
            let expected = expected_changes(&versions);
            let written = changes(
                portrait_sql::rows(
                    &data_dir,
                    &format!(
                        "SELECT user_id, version, change FROM segment_membership \
                         WHERE segment = '{segment}' ORDER BY user_id, version"
                    ),
                )
                .await
                .unwrap(),
            );
            assert_eq!(written, expected, "{segment}: the changes in Parquet");
            count(&written, &mut entered[1], &mut left[1]);
            assert_eq!(
                members_after(&written),
                truth,
                "{segment}: members in Parquet"
            );
        }
        eprintln!("entries {entered:?}, exits {left:?} (ClickHouse, Parquet)");
        for mode in 0..2 {
            assert!(
                entered[mode] > 200 && left[mode] > 50,
                "the segments see users come and go: {entered:?} entries, {left:?} exits"
            );
        }

        std::fs::remove_dir_all(&dir).unwrap();
    })
    .await;
}
