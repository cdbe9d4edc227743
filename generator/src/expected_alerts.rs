//! The expected alerts of a data set, their NDJSON file form, and how to compare a pipeline's
//! alerts with them.
//!
//! The alerts come from the reference model (`reference::alerts`, which documents the
//! semantics); [`Dataset::expected_alerts`](crate::Dataset::expected_alerts) gathers them.

use std::cmp::Ordering;
use std::io::{self, BufRead, Write};

use serde::{Deserialize, Serialize};

use crate::time::rfc3339;

/// Every alert kind, in name order.
pub const ALERT_KINDS: [&str; 5] = ["activated", "at_risk", "churned", "dormant", "reactivated"];

/// One alert the pipeline must send. Ordered by (user_id, at_ms, kind), then the stages.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct ExpectedAlert {
    pub user_id: String,
    /// One of [`ALERT_KINDS`].
    pub kind: String,
    /// The transition time, epoch milliseconds.
    pub at_ms: i64,
    /// The lifecycle stage just before `at_ms`; `None` when `at_ms` is the user's first event.
    pub stage_before: Option<String>,
    /// The lifecycle stage at `at_ms`.
    pub stage_after: String,
}

impl ExpectedAlert {
    /// What pairs an actual alert with an expected one.
    fn key(&self) -> (&str, i64, &str) {
        (&self.user_id, self.at_ms, &self.kind)
    }
}

impl Ord for ExpectedAlert {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key()
            .cmp(&other.key())
            .then_with(|| self.stage_before.cmp(&other.stage_before))
            .then_with(|| self.stage_after.cmp(&other.stage_after))
    }
}

impl PartialOrd for ExpectedAlert {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Writes one JSON object per line, one line per alert, in the given order.
pub fn write_alerts_ndjson(alerts: &[ExpectedAlert], mut w: impl Write) -> io::Result<()> {
    for alert in alerts {
        serde_json::to_writer(&mut w, alert)?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

/// Reads what [`write_alerts_ndjson`] wrote, in file order. Blank lines are skipped (an empty
/// file is no alerts); a line that is not an alert is an `InvalidData` error.
pub fn read_alerts_ndjson(r: impl BufRead) -> io::Result<Vec<ExpectedAlert>> {
    let mut alerts = Vec::new();
    for (index, line) in r.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let alert = serde_json::from_str(&line).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("alerts line {}: {e}", index + 1),
            )
        })?;
        alerts.push(alert);
    }
    Ok(alerts)
}

/// Compares the alerts a pipeline sent (`actual`) with the expected ones, pairing them by
/// (user_id, at_ms, kind); both are sorted here, so any order will do. Returns one line per
/// difference, empty when they agree: `missing: USER KIND at TIME` (expected, not sent),
/// `unexpected: USER KIND at TIME` (sent, not expected, or sent twice), and
/// `USER KIND at TIME: stage_before got X want Y` (likewise `stage_after`; `null` for `None`).
/// Times are RFC 3339 in UTC.
pub fn alert_differences(actual: &[ExpectedAlert], expected: &[ExpectedAlert]) -> Vec<String> {
    let (actual, expected) = (sorted(actual), sorted(expected));
    let name = |a: &ExpectedAlert| format!("{} {} at {}", a.user_id, a.kind, rfc3339(a.at_ms, 0));
    let mut out = Vec::new();
    let (mut a, mut e) = (actual.iter().peekable(), expected.iter().peekable());
    loop {
        let order = match (a.peek(), e.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(got), Some(want)) => got.key().cmp(&want.key()),
        };
        match order {
            Ordering::Less => out.push(format!("unexpected: {}", name(a.next().unwrap()))),
            Ordering::Greater => out.push(format!("missing: {}", name(e.next().unwrap()))),
            Ordering::Equal => {
                let (got, want) = (a.next().unwrap(), e.next().unwrap());
                let stages = [
                    ("stage_before", &got.stage_before, &want.stage_before),
                    (
                        "stage_after",
                        &Some(got.stage_after.clone()),
                        &Some(want.stage_after.clone()),
                    ),
                ];
                for (field, g, w) in stages {
                    if g != w {
                        let show =
                            |s: &Option<String>| s.clone().unwrap_or_else(|| "null".to_owned());
                        out.push(format!(
                            "{}: {field} got {} want {}",
                            name(want),
                            show(g),
                            show(w)
                        ));
                    }
                }
            }
        }
    }
    out
}

fn sorted(alerts: &[ExpectedAlert]) -> Vec<&ExpectedAlert> {
    let mut refs: Vec<&ExpectedAlert> = alerts.iter().collect();
    refs.sort();
    refs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{DAY_MS, DEFAULT_START_MS};

    fn alert(
        user_id: &str,
        kind: &str,
        day: i64,
        before: Option<&str>,
        after: &str,
    ) -> ExpectedAlert {
        ExpectedAlert {
            user_id: user_id.to_owned(),
            kind: kind.to_owned(),
            at_ms: DEFAULT_START_MS + day * DAY_MS,
            stage_before: before.map(str::to_owned),
            stage_after: after.to_owned(),
        }
    }

    fn sample() -> Vec<ExpectedAlert> {
        vec![
            alert("u000001", "churned", 0, None, "churned"),
            alert("u000001", "activated", 3, Some("new"), "new"),
            alert("u000001", "reactivated", 3, Some("dormant"), "reactivated"),
            alert("u000002", "at_risk", 1, Some("active"), "at_risk"),
        ]
    }

    #[test]
    fn order_is_user_then_time_then_kind() {
        let mut shuffled = sample();
        shuffled.reverse();
        shuffled.sort();
        assert_eq!(shuffled, sample());
    }

    #[test]
    fn ndjson_round_trips_one_alert_per_line() {
        let mut bytes = Vec::new();
        write_alerts_ndjson(&sample(), &mut bytes).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(text.lines().count(), 4);
        assert_eq!(
            text.lines().next().unwrap(),
            r#"{"user_id":"u000001","kind":"churned","at_ms":1767225600000,"stage_before":null,"stage_after":"churned"}"#
        );
        assert_eq!(read_alerts_ndjson(bytes.as_slice()).unwrap(), sample());
        assert_eq!(read_alerts_ndjson(&b"\n\n"[..]).unwrap(), []);
        let error = read_alerts_ndjson(&b"\n{\"user_id\":1}\n"[..]).unwrap_err();
        assert!(error.to_string().contains("line 2"), "{error}");
    }

    #[test]
    fn equal_alerts_in_any_order_have_no_differences() {
        let mut actual = sample();
        actual.swap(0, 3);
        assert_eq!(alert_differences(&actual, &sample()), Vec::<String>::new());
    }

    #[test]
    fn differences_name_missing_unexpected_and_wrong_stages() {
        let expected = sample();
        let mut actual = sample();
        actual.remove(1);
        actual[0].stage_before = Some("new".to_owned());
        actual[1].stage_after = "active".to_owned();
        actual.push(alert("u000002", "at_risk", 1, Some("active"), "at_risk"));
        actual.push(alert("u000003", "dormant", 2, Some("at_risk"), "dormant"));
        assert_eq!(
            alert_differences(&actual, &expected),
            [
                "u000001 churned at 2026-01-01T00:00:00.000Z: stage_before got new want null",
                "missing: u000001 activated at 2026-01-04T00:00:00.000Z",
                "u000001 reactivated at 2026-01-04T00:00:00.000Z: stage_after got active want reactivated",
                "unexpected: u000002 at_risk at 2026-01-02T00:00:00.000Z",
                "unexpected: u000003 dormant at 2026-01-03T00:00:00.000Z",
            ]
        );
    }
}
