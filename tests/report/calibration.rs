//! What the churn model's calibration chart must show, from the orders the generator produced:
//! the repeat orders per week counted the slow obvious way, and the model's prediction summed
//! customer by customer (the report sums cohorts of a first order day instead).

use std::collections::{BTreeMap, BTreeSet};

use portrait_core::churn_model::BgNbdParams;
use portrait_core::time::EventTime;
use portrait_generator::{Dataset, DAY_MS};
use serde_json::Value;

/// The chart's longest window, in weeks ending the report's date, as docs/report.md states it.
const MAX_WEEKS: i64 = 52;

/// One week of the chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Week {
    /// Days since 1970-01-01.
    pub first_day: i64,
    pub last_day: i64,
    pub actual: u64,
    pub predicted: f64,
}

/// Every week from the one of the first order to the one ending `date`, at most
/// [`MAX_WEEKS`], for the orders of `dataset` up to `date` and the model `params`.
pub fn expected_weeks(dataset: &Dataset, params: &BgNbdParams, date: i64) -> Vec<Week> {
    let order_days = order_days(dataset, date);
    let Some(earliest) = order_days.values().filter_map(|days| days.first()).min() else {
        return Vec::new();
    };
    let weeks = ((date - earliest) / 7 + 1).min(MAX_WEEKS);
    (0..weeks)
        .rev()
        .map(|back| {
            let last_day = date - 7 * back;
            let first_day = last_day - 6;
            let mut actual = 0;
            let mut predicted = 0.0;
            for days in order_days.values() {
                let first_order = *days.first().expect("a customer has an order");
                actual += days
                    .iter()
                    .filter(|&&d| d > first_order && (first_day..=last_day).contains(&d))
                    .count() as u64;
                let expected_by = |day: i64| {
                    let weeks = (day - first_order).max(0) as f64 / 7.0;
                    params.expected_repeat_purchases(weeks).unwrap()
                };
                predicted += expected_by(last_day) - expected_by(first_day - 1);
            }
            Week {
                first_day,
                last_day,
                actual,
                predicted,
            }
        })
        .collect()
}

/// Each customer's distinct order days up to `date`, from the valid order messages.
fn order_days(dataset: &Dataset, date: i64) -> BTreeMap<String, BTreeSet<i64>> {
    let mut customers: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for message in dataset.messages() {
        if message.malformed.is_some() || message.event_type != Some("order") {
            continue;
        }
        let json: Value = serde_json::from_slice(&message.payload).unwrap();
        let ts_ms = match &json["ts"] {
            Value::Number(ms) => ms.as_i64().unwrap(),
            // The core's parser: timestamps are the input here, not a value under test.
            Value::String(text) => EventTime::parse_rfc3339(text).unwrap().millis(),
            other => panic!("an order's ts is {other}"),
        };
        let day = ts_ms.div_euclid(DAY_MS);
        if day <= date {
            let user = json["user_id"].as_str().unwrap().to_owned();
            customers.entry(user).or_default().insert(day);
        }
    }
    customers
}
