//! The expected profiles of a data set (its ground truth) and their NDJSON file form.
//!
//! One [`ExpectedProfile`] has one field per column of docs/signals.md, typed as ClickHouse
//! holds it: timestamps are `DateTime` seconds (⌊ms / 1000⌋), absent values are `None` (NULL),
//! money is `cents / 100`. `updated_at` and `version` are not here: they say when a row was
//! written, not what it says.

use std::io::{self, BufRead, Write};

use serde::{Deserialize, Serialize};

/// The expected `user_profiles` row of one user. Field names are the column names.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ExpectedProfile {
    pub user_id: String,
    pub first_seen_at: i64,
    pub first_contact_at: Option<i64>,
    pub last_active_at: Option<i64>,
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
    pub activated_at: Option<i64>,
    pub days_inactive: u32,
    pub events_7d: u32,
    pub events_prev_28d: u32,
    pub frequency_drop: f64,
    pub hard_churned: bool,
    pub marketing_averse: bool,
    pub reactivated_at: Option<i64>,
    pub lifecycle_stage: String,
    pub churn_risk: f64,
    pub promo_order_share: f64,
    pub discount_share: f64,
    pub promo_engagement: u64,
    pub promo_tier: String,
    pub rfm_recency_days: Option<u32>,
    pub rfm_r: Option<u8>,
    pub rfm_f: Option<u8>,
    pub rfm_m: Option<u8>,
    pub rfm_segment: Option<String>,
    pub top_categories: Vec<String>,
    pub purchasing_power: Option<String>,
    pub repeat_order_days: Option<u32>,
    pub order_span_days: Option<u32>,
    pub customer_age_days: Option<u32>,
    pub p_alive: Option<f64>,
    pub expected_orders_90d: Option<f64>,
}

/// Every user's expected profile at one watermark.
#[derive(Debug, Clone, PartialEq)]
pub struct Truth {
    /// `W` the profiles are evaluated at: max event time − lateness, epoch milliseconds.
    pub watermark_ms: i64,
    /// One per user with at least one valid event, sorted by `user_id`.
    pub profiles: Vec<ExpectedProfile>,
}

/// One NDJSON line: the profile's columns plus the watermark they hold at. Repeating the
/// watermark on every line keeps the file one object per user while letting `read_ndjson`
/// give back the whole [`Truth`]; readers that want only the columns can ignore the key.
#[derive(Serialize)]
struct LineOut<'a> {
    #[serde(flatten)]
    profile: &'a ExpectedProfile,
    watermark_ms: i64,
}

#[derive(Deserialize)]
struct LineIn {
    #[serde(flatten)]
    profile: ExpectedProfile,
    watermark_ms: i64,
}

impl Truth {
    /// Writes one JSON object per line, one line per user, in `profiles` order (by user_id).
    pub fn write_ndjson(&self, mut w: impl Write) -> io::Result<()> {
        for profile in &self.profiles {
            let line = LineOut {
                profile,
                watermark_ms: self.watermark_ms,
            };
            serde_json::to_writer(&mut w, &line)?;
            w.write_all(b"\n")?;
        }
        w.flush()
    }

    /// Reads what [`Truth::write_ndjson`] wrote. Blank lines are skipped; an empty file, or
    /// lines that disagree on the watermark, are `InvalidData` errors.
    pub fn read_ndjson(r: impl BufRead) -> io::Result<Truth> {
        let mut watermark_ms = None;
        let mut profiles = Vec::new();
        for (index, line) in r.lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let parsed: LineIn = serde_json::from_str(&line)
                .map_err(|e| invalid(format!("truth line {}: {e}", index + 1)))?;
            if *watermark_ms.get_or_insert(parsed.watermark_ms) != parsed.watermark_ms {
                return Err(invalid(format!(
                    "truth line {}: watermark_ms {} differs from the first line's",
                    index + 1,
                    parsed.watermark_ms
                )));
            }
            profiles.push(parsed.profile);
        }
        let watermark_ms = watermark_ms
            .ok_or_else(|| invalid("truth file has no profiles, so no watermark".to_owned()))?;
        Ok(Truth {
            watermark_ms,
            profiles,
        })
    }
}

/// Floats are computed by two implementations summing in different orders; they agree to
/// this much.
pub const FLOAT_TOLERANCE: f64 = 1e-9;

/// Compares the profiles a pipeline wrote (`actual`) with the expected ones, column by column,
/// both sorted by `user_id`. Returns one line per difference, empty when they agree: that the
/// users differ (and nothing more, as the rows cannot be paired then), or
/// `user column: got X want Y`. Floats agree within [`FLOAT_TOLERANCE`]; everything else must
/// be equal.
pub fn differences(actual: &[ExpectedProfile], expected: &[ExpectedProfile]) -> Vec<String> {
    let mut out = Vec::new();
    let ids = |profiles: &[ExpectedProfile]| -> Vec<String> {
        profiles.iter().map(|p| p.user_id.clone()).collect()
    };
    if ids(actual) != ids(expected) {
        out.push(format!(
            "users differ: {} written, {} expected",
            actual.len(),
            expected.len()
        ));
        return out;
    }
    for (a, e) in actual.iter().zip(expected) {
        let a_json = serde_json::to_value(a).expect("profiles serialize");
        let e_json = serde_json::to_value(e).expect("profiles serialize");
        for (column, want) in e_json.as_object().expect("a profile is an object") {
            let got = &a_json[column];
            if !same(got, want) {
                out.push(format!("{} {column}: got {got} want {want}", e.user_id));
            }
        }
    }
    out
}

fn same(got: &serde_json::Value, want: &serde_json::Value) -> bool {
    match (got.as_f64(), want.as_f64()) {
        (Some(g), Some(w)) if got.is_f64() || want.is_f64() => (g - w).abs() <= FLOAT_TOLERANCE,
        _ => got == want,
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(user_id: &str) -> ExpectedProfile {
        ExpectedProfile {
            user_id: user_id.to_owned(),
            first_seen_at: 1_767_225_600,
            first_contact_at: None,
            last_active_at: Some(1_767_225_601),
            page_views: 3,
            searches: 1,
            messages_sent: 0,
            messages_received: 2,
            orders: 1,
            promo_orders: 1,
            revenue: 123.45,
            discount_total: 0.1,
            active_days_30d: 1,
            activated: false,
            activated_at: None,
            days_inactive: 4,
            events_7d: 5,
            events_prev_28d: 0,
            frequency_drop: 0.0,
            hard_churned: false,
            marketing_averse: true,
            reactivated_at: None,
            lifecycle_stage: "new".to_owned(),
            churn_risk: 1.0 / 15.0,
            promo_order_share: 1.0,
            discount_share: 0.1 / 123.55,
            promo_engagement: 2,
            promo_tier: "unknown".to_owned(),
            rfm_recency_days: Some(4),
            rfm_r: Some(5),
            rfm_f: Some(1),
            rfm_m: Some(3),
            rfm_segment: Some("new_customer".to_owned()),
            top_categories: vec!["数码".to_owned(), "books".to_owned()],
            purchasing_power: Some("medium".to_owned()),
            repeat_order_days: Some(0),
            order_span_days: Some(0),
            customer_age_days: Some(4),
            p_alive: Some(1.0),
            expected_orders_90d: Some(0.75),
        }
    }

    #[test]
    fn ndjson_round_trips_exactly() {
        let truth = Truth {
            watermark_ms: 1_777_593_299_999,
            profiles: vec![profile("u000000"), profile("u000001")],
        };
        let mut bytes = Vec::new();
        truth.write_ndjson(&mut bytes).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.starts_with(r#"{"user_id":"u000000","first_seen_at":1767225600,"#));
        assert_eq!(Truth::read_ndjson(bytes.as_slice()).unwrap(), truth);
    }

    #[test]
    fn each_line_reads_as_a_plain_profile() {
        let truth = Truth {
            watermark_ms: 5,
            profiles: vec![profile("u000000")],
        };
        let mut bytes = Vec::new();
        truth.write_ndjson(&mut bytes).unwrap();
        let plain: ExpectedProfile = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(plain, truth.profiles[0]);
    }

    #[test]
    fn equal_profiles_have_no_differences_and_floats_agree_within_the_tolerance() {
        let expected = vec![profile("u1"), profile("u2")];
        let mut actual = expected.clone();
        actual[1].churn_risk += FLOAT_TOLERANCE / 2.0;
        assert_eq!(differences(&actual, &expected), Vec::<String>::new());
    }

    #[test]
    fn differences_name_the_user_and_column() {
        let expected = vec![profile("u1"), profile("u2")];
        let mut actual = expected.clone();
        actual[0].page_views = 4;
        actual[1].revenue += 0.01;
        actual[1].top_categories.pop();
        assert_eq!(
            differences(&actual, &expected),
            [
                "u1 page_views: got 4 want 3",
                "u2 revenue: got 123.46000000000001 want 123.45",
                r#"u2 top_categories: got ["数码"] want ["数码","books"]"#,
            ]
        );
    }

    #[test]
    fn different_users_are_one_difference() {
        let expected = vec![profile("u1"), profile("u2")];
        let actual = vec![profile("u1")];
        assert_eq!(
            differences(&actual, &expected),
            ["users differ: 1 written, 2 expected"]
        );
    }

    #[test]
    fn empty_or_inconsistent_files_are_rejected() {
        assert!(Truth::read_ndjson(&b"\n"[..]).is_err());
        let lines = |w: i64| {
            let truth = Truth {
                watermark_ms: w,
                profiles: vec![profile("u1")],
            };
            let mut bytes = Vec::new();
            truth.write_ndjson(&mut bytes).unwrap();
            bytes
        };
        let mut mixed = lines(1);
        mixed.extend(lines(2));
        let error = Truth::read_ndjson(mixed.as_slice()).unwrap_err();
        assert!(error.to_string().contains("line 2"), "{error}");
    }
}
