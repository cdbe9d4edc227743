//! The report's numbers: the SQL in `dashboards/report/`, run on ClickHouse and read back as
//! typed rows, then shaped into [`Report`] (every stage, tier, kind and day present, zeros
//! included, in a fixed order).
//!
//! Each statement is a file of its own so that it can be read, run by hand and tested on
//! current ClickHouse exactly as the report runs it (dashboards/README.md). Its only
//! placeholders are `?` for the report's date, bound as a `'YYYY-MM-DD'` string (the SQL
//! wraps each in `toDate(?)`); see [`query`].

use anyhow::{bail, Context};
use clickhouse::{Client, Row, RowOwned, RowRead};
use portrait_connectors::clickhouse::ClickHouseConfig;
use portrait_core::alerts::AlertKind;
use portrait_core::churn_model::BgNbdParams;
use portrait_core::signals::{LifecycleStage, PromoTier};
use portrait_core::time::EventTime;
use serde::Deserialize;

use super::calibration::{Calibration, Cohort, Fit, ModelInForce};
use super::date::ReportDate;

/// Length of the daily series, in days ending the report's date.
pub const DAYS: usize = 30;

/// How many users the risk list holds: the `LIMIT` of `top_risk.sql`.
pub const TOP_RISK: usize = 20;

/// Stages along the lifecycle, as the stage chart shows them (the enum's own order is the
/// rules' precedence, which reads oddly on an axis).
pub const STAGES: [LifecycleStage; 6] = [
    LifecycleStage::New,
    LifecycleStage::Active,
    LifecycleStage::Reactivated,
    LifecycleStage::AtRisk,
    LifecycleStage::Dormant,
    LifecycleStage::Churned,
];

/// Tiers from the most to the least promotion-sensitive, then `unknown`.
pub const TIERS: [PromoTier; 6] = [
    PromoTier::PromoOnly,
    PromoTier::High,
    PromoTier::Medium,
    PromoTier::Low,
    PromoTier::None,
    PromoTier::Unknown,
];

/// Alert kinds in the order a user meets them: the lifecycle's, which the report is about. A
/// segment's alerts (`segment_entered`) mean what each configuration makes them mean, and
/// are left out.
pub const KINDS: [AlertKind; 5] = [
    AlertKind::Activated,
    AlertKind::AtRisk,
    AlertKind::Dormant,
    AlertKind::Churned,
    AlertKind::Reactivated,
];

/// Everything the page shows, read from ClickHouse for one date.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// D, the report's day.
    pub date: ReportDate,
    /// Users with a profile.
    pub profiles: u64,
    /// The latest watermark a profile was written at; `None` without profiles.
    pub as_of: Option<EventTime>,
    /// Every alert stored, of any day: 0 when the ClickHouse alert sink is off.
    pub alerts_stored: u64,
    /// Users per stage now, in [`STAGES`] order.
    pub stages: Vec<(LifecycleStage, u64)>,
    /// Users per promotion tier now, in [`TIERS`] order.
    pub tiers: Vec<(PromoTier, u64)>,
    /// The [`DAYS`] days ending D, oldest first.
    pub days: Vec<DayCounts>,
    /// Alerts per kind, in [`KINDS`] order.
    pub alerts: Vec<KindCounts>,
    /// Up to [`TOP_RISK`] users not churned, riskiest first.
    pub top_risk: Vec<RiskRow>,
    /// Repeat orders per week, actual and predicted by the churn model.
    pub calibration: Calibration,
}

impl Report {
    /// The counts of D itself, the last of [`Report::days`].
    pub fn today(&self) -> DayCounts {
        *self.days.last().expect("the series has DAYS days")
    }

    /// Alerts of every kind on D.
    pub fn alerts_today(&self) -> u64 {
        self.alerts.iter().map(|k| k.on_day).sum()
    }
}

/// One day of the daily series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCounts {
    pub day: ReportDate,
    /// Users first seen that day.
    pub new_users: u64,
    /// Transitions into `churned` that day (the churned alerts).
    pub churned: u64,
    /// Transitions into `reactivated` that day (the reactivated alerts).
    pub reactivated: u64,
}

/// The alerts of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindCounts {
    pub kind: AlertKind,
    /// On D.
    pub on_day: u64,
    /// On the [`DAYS`] days ending D.
    pub in_30_days: u64,
}

/// One user of the risk list: a row of `top_risk.sql`.
#[derive(Debug, Clone, PartialEq, Row, Deserialize)]
pub struct RiskRow {
    pub user_id: String,
    pub lifecycle_stage: String,
    pub churn_risk: f64,
    pub days_inactive: u32,
    /// `DateTime` epoch seconds; `None` for a user never active.
    pub last_active_at: Option<u32>,
    pub frequency_drop: f64,
    pub orders: u64,
    pub revenue: f64,
}

/// A statement of `dashboards/report/`, by file name for error messages.
struct Statement {
    file: &'static str,
    sql: &'static str,
}

macro_rules! statement {
    ($file:literal) => {
        Statement {
            file: $file,
            sql: include_str!(concat!("../../../dashboards/report/", $file)),
        }
    };
}

const SUMMARY: Statement = statement!("summary.sql");
const STAGES_SQL: Statement = statement!("stages.sql");
const TIERS_SQL: Statement = statement!("promotion_tiers.sql");
const DAILY_SQL: Statement = statement!("daily_users.sql");
const ALERTS_SQL: Statement = statement!("alerts_by_kind.sql");
const TOP_RISK_SQL: Statement = statement!("top_risk.sql");
const CHURN_MODEL_SQL: Statement = statement!("churn_model.sql");
const FIRST_ORDERS_SQL: Statement = statement!("first_orders.sql");
const WEEKLY_REPEATS_SQL: Statement = statement!("weekly_repeat_orders.sql");

#[derive(Row, Deserialize)]
struct SummaryRow {
    profiles: u64,
    as_of: u32,
    alerts_stored: u64,
}

#[derive(Row, Deserialize)]
struct StageRow {
    stage: String,
    users: u64,
}

#[derive(Row, Deserialize)]
struct TierRow {
    tier: String,
    users: u64,
}

#[derive(Row, Deserialize)]
struct DailyRow {
    day: u16,
    new_users: u64,
    churned: u64,
    reactivated: u64,
}

#[derive(Row, Deserialize)]
struct KindRow {
    kind: String,
    on_day: u64,
    in_30_days: u64,
}

#[derive(Row, Deserialize)]
struct ModelRow {
    fitted_at: u32,
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
    customers: u64,
}

#[derive(Row, Deserialize)]
struct CohortRow {
    first_order_day: u16,
    customers: u64,
}

#[derive(Row, Deserialize)]
struct WeekRow {
    week_end: u16,
    repeat_orders: u64,
}

/// Reads the whole report for `date` from the database `config` names.
pub async fn fetch(config: &ClickHouseConfig, date: ReportDate) -> anyhow::Result<Report> {
    let client = config.client();
    let [summary] = <[SummaryRow; 1]>::try_from(query(&client, &SUMMARY, date).await?)
        .map_err(|rows| anyhow::anyhow!("{} returned {} rows, not 1", SUMMARY.file, rows.len()))?;
    let stage_rows: Vec<StageRow> = query(&client, &STAGES_SQL, date).await?;
    let stages = in_order(
        &STAGES,
        LifecycleStage::parse,
        stage_rows.into_iter().map(|r| (r.stage, r.users)),
        "lifecycle_stage",
    )?;
    let tier_rows: Vec<TierRow> = query(&client, &TIERS_SQL, date).await?;
    let tiers = in_order(
        &TIERS,
        PromoTier::parse,
        tier_rows.into_iter().map(|r| (r.tier, r.users)),
        "promo_tier",
    )?;
    let days = daily_series(date, query(&client, &DAILY_SQL, date).await?)?;
    let alerts = by_kind(query(&client, &ALERTS_SQL, date).await?)?;
    let top_risk = query(&client, &TOP_RISK_SQL, date).await?;
    let calibration = calibration(&client, date).await?;
    Ok(Report {
        date,
        profiles: summary.profiles,
        as_of: (summary.profiles > 0)
            .then(|| EventTime::from_millis(i64::from(summary.as_of) * 1000)),
        alerts_stored: summary.alerts_stored,
        stages,
        tiers,
        days,
        alerts,
        top_risk,
        calibration,
    })
}

/// The churn model in force, its predictions for every customer who ordered up to `date`, and
/// the repeat orders they placed.
async fn calibration(client: &Client, date: ReportDate) -> anyhow::Result<Calibration> {
    let latest_fit = query(client, &CHURN_MODEL_SQL, date)
        .await?
        .into_iter()
        .next();
    let model = model_in_force(latest_fit)?;
    let cohorts: Vec<Cohort> = query::<CohortRow>(client, &FIRST_ORDERS_SQL, date)
        .await?
        .into_iter()
        .map(|row| Cohort {
            first_order_day: ReportDate::from_clickhouse(row.first_order_day),
            customers: row.customers,
        })
        .collect();
    let repeat_orders = query::<WeekRow>(client, &WEEKLY_REPEATS_SQL, date)
        .await?
        .into_iter()
        .map(|row| (ReportDate::from_clickhouse(row.week_end), row.repeat_orders));
    Calibration::new(date, model, &cohorts, repeat_orders)
        .with_context(|| format!("the rows of {}", WEEKLY_REPEATS_SQL.file))
}

/// The latest fit, the row of `churn_model.sql`, or the published parameters without one.
fn model_in_force(latest_fit: Option<ModelRow>) -> anyhow::Result<ModelInForce> {
    let Some(row) = latest_fit else {
        return Ok(ModelInForce {
            params: BgNbdParams::default(),
            fit: None,
        });
    };
    let params = BgNbdParams::new(row.r, row.alpha, row.a, row.b).with_context(|| {
        format!(
            "the latest row of churn_model (fitted_at {}) holds parameters no BG/NBD model \
             has; fit again with `portrait churn-model fit`",
            row.fitted_at
        )
    })?;
    Ok(ModelInForce {
        params,
        fit: Some(Fit {
            fitted_at: row.fitted_at,
            customers: row.customers,
        }),
    })
}

/// Runs one statement with every `?` bound to `date`, as typed rows. The statements take no
/// other parameter (dashboards/report/ keeps `?` for the date only, in comments too), so
/// binding the date once per `?` is all the binding there is.
async fn query<T>(
    client: &Client,
    statement: &Statement,
    date: ReportDate,
) -> anyhow::Result<Vec<T>>
where
    T: RowOwned + RowRead,
{
    let date = date.to_string();
    let mut query = client.query(statement.sql);
    for _ in 0..statement.sql.matches('?').count() {
        query = query.bind(date.as_str());
    }
    query
        .fetch_all::<T>()
        .await
        .with_context(|| format!("running dashboards/report/{}", statement.file))
}

/// `rows` of (name, users) as one count per member of `order`, zeros included. A name the
/// binary does not know is an error: the page would otherwise drop users silently.
fn in_order<T: Copy + PartialEq>(
    order: &[T],
    parse: fn(&str) -> Option<T>,
    rows: impl IntoIterator<Item = (String, u64)>,
    column: &str,
) -> anyhow::Result<Vec<(T, u64)>> {
    let mut counts: Vec<(T, u64)> = order.iter().map(|&member| (member, 0)).collect();
    for (name, users) in rows {
        let Some(member) = parse(&name) else {
            bail!(
                "user_profiles_current has {column} {name:?}, which this portrait does not \
                 know (is the pipeline newer than this binary?)"
            );
        };
        let slot = counts
            .iter_mut()
            .find(|(m, _)| *m == member)
            .expect("the order lists every member");
        slot.1 += users;
    }
    Ok(counts)
}

/// The [`DAYS`] days ending `date`, each from its row of `daily_users.sql` (which has one per
/// day; a day it lacks counts zero).
fn daily_series(date: ReportDate, rows: Vec<DailyRow>) -> anyhow::Result<Vec<DayCounts>> {
    let first = date.plus(1 - DAYS as i32);
    let mut days: Vec<DayCounts> = (0..DAYS as i32)
        .map(|i| DayCounts {
            day: first.plus(i),
            new_users: 0,
            churned: 0,
            reactivated: 0,
        })
        .collect();
    for row in rows {
        let day = ReportDate::from_clickhouse(row.day);
        let index = usize::try_from(day.0.since(first.0))
            .ok()
            .filter(|&i| i < DAYS)
            .with_context(|| {
                format!(
                    "{} returned {day}, outside {first}..={date}",
                    DAILY_SQL.file
                )
            })?;
        days[index] = DayCounts {
            day,
            new_users: row.new_users,
            churned: row.churned,
            reactivated: row.reactivated,
        };
    }
    Ok(days)
}

/// One [`KindCounts`] per kind of [`KINDS`], zeros included.
fn by_kind(rows: Vec<KindRow>) -> anyhow::Result<Vec<KindCounts>> {
    let mut kinds: Vec<KindCounts> = KINDS
        .iter()
        .map(|&kind| KindCounts {
            kind,
            on_day: 0,
            in_30_days: 0,
        })
        .collect();
    for row in rows {
        if row.kind == AlertKind::SegmentEntered.as_str() {
            continue;
        }
        let Some(slot) = kinds.iter_mut().find(|k| k.kind.as_str() == row.kind) else {
            bail!(
                "profile_alerts_unique has kind {:?}, which this portrait does not know \
                 (is the pipeline newer than this binary?)",
                row.kind
            );
        };
        slot.on_day += row.on_day;
        slot.in_30_days += row.in_30_days;
    }
    Ok(kinds)
}

#[cfg(test)]
mod tests {
    use super::super::calibration::MAX_WEEKS;
    use super::*;

    fn named(name: &str, users: u64) -> (String, u64) {
        (name.to_owned(), users)
    }

    #[test]
    fn every_closed_set_is_listed_once() {
        let mut stages = STAGES.to_vec();
        stages.sort();
        assert_eq!(stages, LifecycleStage::ALL);
        let mut tiers = TIERS.to_vec();
        tiers.sort();
        assert_eq!(tiers, PromoTier::ALL);
        let mut kinds = KINDS.to_vec();
        kinds.push(AlertKind::SegmentEntered);
        kinds.sort();
        assert_eq!(kinds, AlertKind::ALL);
    }

    #[test]
    fn segment_alerts_are_left_out_of_the_counts() {
        let row = |kind: &str| KindRow {
            kind: kind.to_owned(),
            on_day: 1,
            in_30_days: 2,
        };
        let kinds = by_kind(vec![row("dormant"), row("segment_entered")]).unwrap();
        let counted: Vec<(AlertKind, u64)> = kinds.iter().map(|k| (k.kind, k.in_30_days)).collect();
        assert!(counted.contains(&(AlertKind::Dormant, 2)));
        assert_eq!(counted.iter().map(|(_, n)| n).sum::<u64>(), 2);
    }

    #[test]
    fn missing_stages_count_zero_and_keep_their_place() {
        let rows = vec![named("churned", 4), named("new", 7)];
        let counts = in_order(&STAGES, LifecycleStage::parse, rows, "lifecycle_stage").unwrap();
        let numbers: Vec<u64> = counts.iter().map(|(_, n)| *n).collect();
        assert_eq!(numbers, [7, 0, 0, 0, 0, 4]);
        assert_eq!(counts[0].0, LifecycleStage::New);
    }

    #[test]
    fn an_unknown_stage_is_an_error_not_a_dropped_count() {
        let err = in_order(
            &STAGES,
            LifecycleStage::parse,
            vec![named("zombie", 1)],
            "lifecycle_stage",
        )
        .unwrap_err();
        assert!(err.to_string().contains("\"zombie\""), "{err}");
    }

    #[test]
    fn the_daily_series_has_every_day_ending_the_date() {
        let date = ReportDate::parse("2026-03-01").unwrap();
        let rows = vec![DailyRow {
            day: 20_510,
            new_users: 3,
            churned: 1,
            reactivated: 2,
        }];
        let days = daily_series(date, rows).unwrap();
        assert_eq!(days.len(), DAYS);
        assert_eq!(days[0].day.to_string(), "2026-01-31");
        assert_eq!(days[DAYS - 1].day, date);
        assert_eq!(
            (days[26].new_users, days[26].churned, days[26].reactivated),
            (3, 1, 2)
        );
        assert_eq!(days.iter().map(|d| d.new_users).sum::<u64>(), 3);
    }

    #[test]
    fn a_day_outside_the_window_is_an_error() {
        let date = ReportDate::parse("2026-03-01").unwrap();
        let row = |day| DailyRow {
            day,
            new_users: 1,
            churned: 0,
            reactivated: 0,
        };
        assert!(daily_series(date, vec![row(20_514)]).is_err());
        assert!(daily_series(date, vec![row(20_483)]).is_err());
        assert!(daily_series(date, vec![row(20_484)]).is_ok());
    }

    #[test]
    fn the_statements_use_question_marks_for_the_date_only() {
        for statement in [
            &SUMMARY,
            &STAGES_SQL,
            &TIERS_SQL,
            &DAILY_SQL,
            &ALERTS_SQL,
            &TOP_RISK_SQL,
            &CHURN_MODEL_SQL,
            &FIRST_ORDERS_SQL,
            &WEEKLY_REPEATS_SQL,
        ] {
            let marks = statement.sql.matches('?').count();
            let dates = statement.sql.matches("toDate(?)").count();
            assert_eq!(
                marks, dates,
                "{}: a ? that is not toDate(?)",
                statement.file
            );
            assert!(
                !statement.sql.trim_end().ends_with(';'),
                "{}",
                statement.file
            );
        }
        assert_eq!(
            TOP_RISK_SQL
                .sql
                .matches(&format!("LIMIT {TOP_RISK}\n"))
                .count(),
            1,
            "top_risk.sql keeps TOP_RISK users"
        );
        assert_eq!(
            WEEKLY_REPEATS_SQL
                .sql
                .matches(&format!("toDate(?) - 7 * {MAX_WEEKS}\n"))
                .count(),
            1,
            "weekly_repeat_orders.sql counts MAX_WEEKS weeks"
        );
    }

    #[test]
    fn an_empty_churn_model_table_means_the_published_parameters() {
        let row = |r| ModelRow {
            fitted_at: 1_772_409_600,
            r,
            alpha: 4.0,
            a: 0.8,
            b: 2.5,
            customers: 900,
        };
        let defaults = model_in_force(None).unwrap();
        assert_eq!(defaults.params, BgNbdParams::default());
        assert_eq!(defaults.fit, None);
        let fitted = model_in_force(Some(row(0.5))).unwrap();
        assert_eq!(fitted.params, BgNbdParams::new(0.5, 4.0, 0.8, 2.5).unwrap());
        assert_eq!(
            fitted.fit,
            Some(Fit {
                fitted_at: 1_772_409_600,
                customers: 900
            })
        );
        let broken = model_in_force(Some(row(0.0))).unwrap_err();
        assert!(format!("{broken:#}").contains("r must be"), "{broken:#}");
    }
}
