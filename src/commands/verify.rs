//! `portrait verify`: compare the profiles in ClickHouse with a ground-truth file.
//!
//! The truth is what `portrait generate --truth FILE` wrote: the reference model's profile of
//! every generated user at the final watermark of a replay (`portrait run --until-end`). This
//! reads `user_profiles_current` back and compares it column by column with
//! [`portrait_generator::differences`], the same comparison the end-to-end test makes, so a
//! benchmark (`scripts/bench`) or an operator trying a new build can check that fast is also
//! exact.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use portrait_connectors::clickhouse::ClickHouseConfig;
use portrait_generator::{differences, ExpectedProfile, Truth};
use serde::Deserialize;

use crate::config::Config;

/// Differences printed before the rest are only counted.
const SHOWN: usize = 20;

#[derive(clap::Args)]
pub struct Args {
    /// The expected profiles, as `portrait generate --truth FILE` wrote them (NDJSON).
    #[arg(long, value_name = "FILE")]
    truth: PathBuf,
}

pub fn run(path: Option<&Path>, args: Args) -> anyhow::Result<()> {
    let config = Config::load(path)?.config;
    let file = File::open(&args.truth)
        .with_context(|| format!("opening the truth file {}", args.truth.display()))?;
    let truth = Truth::read_ndjson(BufReader::new(file))
        .with_context(|| format!("reading the truth file {}", args.truth.display()))?;
    let clickhouse = &config.clickhouse;
    let actual = super::runtime()?
        .block_on(read_current(clickhouse))
        .with_context(|| {
            format!(
                "reading user_profiles_current from database {} at {}",
                clickhouse.database, clickhouse.url
            )
        })?;

    let found = differences(&actual, &truth.profiles);
    if found.is_empty() {
        println!(
            "verified: the {} profiles in {}.user_profiles_current equal {}",
            actual.len(),
            clickhouse.database,
            args.truth.display()
        );
        return Ok(());
    }
    for line in found.iter().take(SHOWN) {
        eprintln!("  {line}");
    }
    if found.len() > SHOWN {
        eprintln!("  ... and {} more", found.len() - SHOWN);
    }
    bail!(
        "{} difference(s) between {}.user_profiles_current ({} profiles) and {} ({} profiles)",
        found.len(),
        clickhouse.database,
        actual.len(),
        args.truth.display(),
        truth.profiles.len()
    )
}

/// One row of `user_profiles_current` in RowBinary: timestamps as `DateTime` epoch seconds,
/// booleans as `UInt8` (ClickHouse 18.16 has no `Bool`).
#[derive(Debug, clickhouse::Row, Deserialize)]
struct Row {
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

impl From<Row> for ExpectedProfile {
    fn from(r: Row) -> Self {
        let time = |t: u32| i64::from(t);
        ExpectedProfile {
            user_id: r.user_id,
            first_seen_at: time(r.first_seen_at),
            first_contact_at: r.first_contact_at.map(time),
            last_active_at: r.last_active_at.map(time),
            page_views: r.page_views,
            searches: r.searches,
            messages_sent: r.messages_sent,
            messages_received: r.messages_received,
            orders: r.orders,
            promo_orders: r.promo_orders,
            revenue: r.revenue,
            discount_total: r.discount_total,
            active_days_30d: r.active_days_30d,
            activated: r.activated != 0,
            activated_at: r.activated_at.map(time),
            days_inactive: r.days_inactive,
            events_7d: r.events_7d,
            events_prev_28d: r.events_prev_28d,
            frequency_drop: r.frequency_drop,
            hard_churned: r.hard_churned != 0,
            marketing_averse: r.marketing_averse != 0,
            reactivated_at: r.reactivated_at.map(time),
            lifecycle_stage: r.lifecycle_stage,
            churn_risk: r.churn_risk,
            promo_order_share: r.promo_order_share,
            discount_share: r.discount_share,
            promo_engagement: r.promo_engagement,
            promo_tier: r.promo_tier,
            rfm_recency_days: r.rfm_recency_days,
            rfm_r: r.rfm_r,
            rfm_f: r.rfm_f,
            rfm_m: r.rfm_m,
            rfm_segment: r.rfm_segment,
            top_categories: r.top_categories,
            purchasing_power: r.purchasing_power,
        }
    }
}

/// Every profile in `user_profiles_current` (the latest version of each user), sorted by
/// user id as the truth is.
async fn read_current(config: &ClickHouseConfig) -> anyhow::Result<Vec<ExpectedProfile>> {
    let rows = config
        .client()
        .query("SELECT ?fields FROM user_profiles_current ORDER BY user_id")
        .fetch_all::<Row>()
        .await?;
    Ok(rows.into_iter().map(ExpectedProfile::from).collect())
}
