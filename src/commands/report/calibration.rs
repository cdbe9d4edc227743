//! The churn model's calibration check: per week, the repeat orders customers placed against
//! the number the BG/NBD model predicts for them, the "tracking" plot of Fader, Hardie & Lee
//! (2005, fig. 4). docs/report.md says how to read it.
//!
//! A customer i who first ordered on day sᵢ is expected to have made E[X(t)] repeat orders
//! (order days after sᵢ) by t weeks later, the model's unconditional expectation
//! ([`BgNbdParams::expected_repeat_purchases`]): nothing about the customer but the first
//! order day enters the prediction, so the actual series is an honest test of the parameters.
//! A week of days w₀ ..= w₁ is predicted
//!
//! ```text
//! Σᵢ E[X((w₁ − sᵢ) / 7)] − E[X((w₀ − 1 − sᵢ) / 7)]        (times before sᵢ count as 0)
//! ```
//!
//! The days are whole UTC days and a week is 7 of them, as the model's time unit is
//! (docs/churn-model.md): E[X((e − s) / 7)] is the repeat order days to expect on days
//! s + 1 ..= e. Customers who first ordered on the same day have the same prediction, so the
//! sum runs over those days (cohorts), weighted by their customers: the model is evaluated
//! (weeks + 1) × cohorts times, however many customers there are.

use anyhow::{bail, Context};
use portrait_core::churn_model::BgNbdParams;

use super::date::ReportDate;

/// The most weeks the chart shows, ending the report's date: a year. `weekly_repeat_orders.sql`
/// counts over the same window.
pub const MAX_WEEKS: usize = 52;

const DAYS_PER_WEEK: i32 = 7;

/// The parameters the predictions use, and where they come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelInForce {
    pub params: BgNbdParams,
    /// The fit the parameters come from; `None` for the published CDNOW parameters
    /// ([`BgNbdParams::default`]), which are in force until `churn_model` holds a fit.
    pub fit: Option<Fit>,
}

/// When the parameters in force were fitted, and to how many customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    /// `DateTime` epoch seconds: the wall clock of the machine that ran the fit.
    pub fitted_at: u32,
    pub customers: u64,
}

/// The customers whose first order fell on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cohort {
    pub first_order_day: ReportDate,
    pub customers: u64,
}

/// One week of the chart: days `first_day ..= last_day`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Week {
    pub first_day: ReportDate,
    pub last_day: ReportDate,
    /// Repeat orders placed: distinct (customer, day) pairs after the customer's first order
    /// day.
    pub actual: u64,
    /// Repeat orders the model predicts for the same customers.
    pub predicted: f64,
}

/// The chart's data.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    pub model: ModelInForce,
    /// Oldest first, ending the report's date; from the week of the first order (at most
    /// [`MAX_WEEKS`] back). Empty when no order was placed up to the report's date.
    pub weeks: Vec<Week>,
}

impl Calibration {
    /// The weeks ending `date` with their actual repeat orders, from `repeat_orders` (a count
    /// per week, by the week's last day; a week it lacks counts zero), and the predictions of
    /// `model` for `cohorts`, every customer who ordered up to `date`.
    pub fn new(
        date: ReportDate,
        model: ModelInForce,
        cohorts: &[Cohort],
        repeat_orders: impl IntoIterator<Item = (ReportDate, u64)>,
    ) -> anyhow::Result<Calibration> {
        let mut weeks = window(date, cohorts);
        for (last_day, count) in repeat_orders {
            let Some(week) = weeks.iter_mut().find(|w| w.last_day == last_day) else {
                bail!(
                    "repeat orders counted for the week ending {last_day}, which is not one of \
                     the weeks ending {date} that have customers"
                );
            };
            week.actual = count;
        }
        predict(&model.params, cohorts, &mut weeks)?;
        Ok(Calibration { model, weeks })
    }
}

/// The weeks ending `date`, oldest first, back to the one holding the earliest first order of
/// `cohorts` or [`MAX_WEEKS`] back, whichever is later; none without cohorts. Zero counts.
fn window(date: ReportDate, cohorts: &[Cohort]) -> Vec<Week> {
    let Some(earliest) = cohorts.iter().map(|c| c.first_order_day).min() else {
        return Vec::new();
    };
    // No week when the earliest is after `date`, which first_orders.sql never returns.
    let weeks = usize::try_from(date.0.since(earliest.0).div_euclid(DAYS_PER_WEEK) + 1)
        .unwrap_or(0)
        .min(MAX_WEEKS);
    (0..weeks)
        .rev()
        .map(|back| {
            let weeks_back = i32::try_from(back).expect("at most MAX_WEEKS");
            let last_day = date.plus(-DAYS_PER_WEEK * weeks_back);
            Week {
                first_day: last_day.plus(1 - DAYS_PER_WEEK),
                last_day,
                actual: 0,
                predicted: 0.0,
            }
        })
        .collect()
}

/// Sets each week's prediction: per cohort, the expected repeat orders up to the end of each
/// week (and up to the day before the first), differenced.
fn predict(params: &BgNbdParams, cohorts: &[Cohort], weeks: &mut [Week]) -> anyhow::Result<()> {
    let Some(first) = weeks.first() else {
        return Ok(());
    };
    let start = first.first_day.plus(-1);
    for cohort in cohorts {
        let mut before = expected_by(params, cohort, start)?;
        for week in weeks.iter_mut() {
            let by_end = expected_by(params, cohort, week.last_day)?;
            week.predicted += cohort.customers as f64 * (by_end - before);
            before = by_end;
        }
    }
    Ok(())
}

/// E[X(t)] for one customer of `cohort` on the days after the first order up to `day`.
fn expected_by(params: &BgNbdParams, cohort: &Cohort, day: ReportDate) -> anyhow::Result<f64> {
    let days = day.0.since(cohort.first_order_day.0);
    if days <= 0 {
        return Ok(0.0);
    }
    let weeks = f64::from(days) / f64::from(DAYS_PER_WEEK);
    params.expected_repeat_purchases(weeks).with_context(|| {
        format!(
            "predicting the repeat orders of the customers who first ordered on {}, {weeks} \
             weeks on, with {params:?}",
            cohort.first_order_day
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> ReportDate {
        ReportDate::parse(text).unwrap()
    }

    fn cohort(first_order_day: &str, customers: u64) -> Cohort {
        Cohort {
            first_order_day: day(first_order_day),
            customers,
        }
    }

    fn defaults() -> ModelInForce {
        ModelInForce {
            params: BgNbdParams::default(),
            fit: None,
        }
    }

    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() <= 1e-12 * expected.abs(),
            "{actual} is not {expected}"
        );
    }

    #[test]
    fn the_weeks_end_the_date_and_start_at_the_first_order() {
        let date = day("2026-03-01");
        let calibration = Calibration::new(
            date,
            defaults(),
            &[cohort("2026-02-14", 3), cohort("2026-02-20", 1)],
            [],
        )
        .unwrap();
        let weeks: Vec<(String, String)> = calibration
            .weeks
            .iter()
            .map(|w| (w.first_day.to_string(), w.last_day.to_string()))
            .collect();
        assert_eq!(
            weeks,
            [
                ("2026-02-09".to_owned(), "2026-02-15".to_owned()),
                ("2026-02-16".to_owned(), "2026-02-22".to_owned()),
                ("2026-02-23".to_owned(), "2026-03-01".to_owned()),
            ]
        );
    }

    #[test]
    fn a_long_history_is_cut_to_a_year_and_no_orders_is_no_weeks() {
        let date = day("2026-03-01");
        let old = Calibration::new(date, defaults(), &[cohort("2020-01-01", 1)], []).unwrap();
        assert_eq!(old.weeks.len(), MAX_WEEKS);
        assert_eq!(old.weeks[0].first_day.to_string(), "2025-03-03");
        let none = Calibration::new(date, defaults(), &[], []).unwrap();
        assert!(none.weeks.is_empty());
    }

    #[test]
    fn actual_counts_land_on_their_weeks_and_others_are_refused() {
        let date = day("2026-03-01");
        let cohorts = [cohort("2026-02-01", 5)];
        let calibration =
            Calibration::new(date, defaults(), &cohorts, [(day("2026-02-22"), 4)]).unwrap();
        let actual: Vec<u64> = calibration.weeks.iter().map(|w| w.actual).collect();
        assert_eq!(actual, [0, 0, 0, 4, 0]);
        let off_grid = Calibration::new(date, defaults(), &cohorts, [(day("2026-02-21"), 1)]);
        assert!(off_grid.unwrap_err().to_string().contains("2026-02-21"));
    }

    #[test]
    fn predictions_are_the_cohorts_expectations_differenced_by_week() {
        // Two customers who first ordered on 2026-02-18 (day 3 of the week 02-16..02-22) and
        // one on 2026-02-23: by the end of week 02-16..02-22 the first two have had 4 days,
        // by the end of the next 11; the third has had 6 days by 03-01.
        let params = BgNbdParams::default();
        let e = |days: f64| params.expected_repeat_purchases(days / 7.0).unwrap();
        let calibration = Calibration::new(
            day("2026-03-01"),
            defaults(),
            &[cohort("2026-02-18", 2), cohort("2026-02-23", 1)],
            [],
        )
        .unwrap();
        let [first, second] = &calibration.weeks[..] else {
            panic!("{:?}", calibration.weeks);
        };
        assert_close(first.predicted, 2.0 * e(4.0));
        assert_close(second.predicted, 2.0 * (e(11.0) - e(4.0)) + e(6.0));
    }
}
