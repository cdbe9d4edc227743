//! What the report must say, computed from the generator's reference model: the expected
//! profiles (`Dataset::truth`) and the expected alerts (`Dataset::expected_alerts`), counted
//! here the slow obvious way, with no code of the report's.

use portrait_generator::{ExpectedAlert, ExpectedProfile, Truth, DAY_MS};

use crate::common::{ALERT_KINDS, STAGES, TIERS};

/// The daily chart's length and the risk list's, as docs/report.md states them.
pub const DAYS: i64 = 30;
pub const TOP_RISK: usize = 20;

/// One day of the daily chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    /// Days since 1970-01-01.
    pub day: i64,
    pub new_users: u64,
    pub churned: u64,
    pub reactivated: u64,
}

/// Every number the report shows for one date.
#[derive(Debug)]
pub struct Expected {
    pub profiles: u64,
    /// The day of the truth's watermark, what the report calls "as of".
    pub watermark_day: i64,
    pub stages: Vec<(&'static str, u64)>,
    pub tiers: Vec<(&'static str, u64)>,
    /// The 30 days ending the date, oldest first.
    pub days: Vec<Day>,
    /// (kind, alerts on the date, alerts in the 30 days ending it).
    pub alerts: Vec<(&'static str, u64, u64)>,
    /// The risk list: not churned, highest churn_risk first, ties by user id.
    pub top_risk: Vec<ExpectedProfile>,
}

impl Expected {
    /// The report for `date` (days since 1970-01-01) over these profiles and alerts.
    pub fn new(truth: &Truth, alerts: &[ExpectedAlert], date: i64) -> Expected {
        let profiles = &truth.profiles;
        let count_profiles = |keep: &dyn Fn(&ExpectedProfile) -> bool| {
            profiles.iter().filter(|p| keep(p)).count() as u64
        };
        let count_alerts = |kind: &str, first: i64, last: i64| {
            alerts
                .iter()
                .filter(|a| a.kind == kind && (first..=last).contains(&a.at_ms.div_euclid(DAY_MS)))
                .count() as u64
        };
        let first = date - (DAYS - 1);
        let mut top_risk: Vec<ExpectedProfile> = profiles
            .iter()
            .filter(|p| p.lifecycle_stage != "churned")
            .cloned()
            .collect();
        top_risk.sort_by(|a, b| {
            b.churn_risk
                .total_cmp(&a.churn_risk)
                .then_with(|| a.user_id.cmp(&b.user_id))
        });
        top_risk.truncate(TOP_RISK);
        Expected {
            profiles: profiles.len() as u64,
            watermark_day: truth.watermark_ms.div_euclid(DAY_MS),
            stages: STAGES
                .iter()
                .map(|&s| (s, count_profiles(&|p| p.lifecycle_stage == s)))
                .collect(),
            tiers: TIERS
                .iter()
                .map(|&t| (t, count_profiles(&|p| p.promo_tier == t)))
                .collect(),
            days: (first..=date)
                .map(|day| Day {
                    day,
                    new_users: count_profiles(&|p| p.first_seen_at.div_euclid(86_400) == day),
                    churned: count_alerts("churned", day, day),
                    reactivated: count_alerts("reactivated", day, day),
                })
                .collect(),
            alerts: ALERT_KINDS
                .iter()
                .map(|&k| (k, count_alerts(k, date, date), count_alerts(k, first, date)))
                .collect(),
            top_risk,
        }
    }

    /// The date's own counts, the last of the daily series.
    pub fn today(&self) -> Day {
        *self.days.last().unwrap()
    }
}
