//! `churn_risk`: one number in [0, 1] for sorting users by how likely they are to leave.
//!
//! docs/signals.md: "`churn_risk` = 1.0 when `hard_churned`; otherwise
//! `1 − (1 − a) · (1 − f / 2)` with `a = min(days_inactive, 60) / 60` and `f = frequency_drop`.
//! It is 0 for a user active today with steady frequency, grows with each day of inactivity and
//! with a falling frequency, and reaches 1 at 60 days inactive (the `churned` threshold)."
//!
//! The 60 is `lifecycle.churned_days`, so the score and the stage agree when it is configured.

/// `churn_risk`; `churned_days` is at least 1 (a validated configuration).
pub(crate) fn churn_risk(
    hard_churned: bool,
    days_inactive: u32,
    frequency_drop: f64,
    churned_days: u32,
) -> f64 {
    if hard_churned {
        return 1.0;
    }
    let a = f64::from(days_inactive.min(churned_days)) / f64::from(churned_days);
    1.0 - (1.0 - a) * (1.0 - frequency_drop / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn risk(days_inactive: u32, frequency_drop: f64) -> f64 {
        churn_risk(false, days_inactive, frequency_drop, 60)
    }

    #[test]
    fn steady_and_active_is_no_risk() {
        assert_eq!(risk(0, 0.0), 0.0);
    }

    #[test]
    fn inactivity_and_falling_frequency_combine() {
        // a = 30/60 = 0.5, f = 0.5: 1 − 0.5 · 0.75.
        assert_eq!(risk(30, 0.5), 0.625);
        // A full drop alone is half the risk.
        assert_eq!(risk(0, 1.0), 0.5);
        // a = 15/60 = 0.25: 1 − 0.75 · 1.
        assert_eq!(risk(15, 0.0), 0.25);
    }

    #[test]
    fn saturates_at_the_churned_threshold() {
        assert_eq!(risk(60, 0.0), 1.0);
        assert_eq!(risk(200, 0.3), 1.0);
        assert_eq!(churn_risk(false, 20, 0.0, 20), 1.0);
    }

    #[test]
    fn hard_churn_is_certain() {
        assert_eq!(churn_risk(true, 0, 0.0, 60), 1.0);
    }

    #[test]
    fn never_decreases_with_inactivity_or_drop() {
        let drops = [0.0, 0.1, 0.5, 0.9, 1.0];
        for days in 0..80 {
            for pair in drops.windows(2) {
                assert!(risk(days, pair[0]) <= risk(days, pair[1]));
                assert!(risk(days, pair[0]) <= risk(days + 1, pair[0]));
            }
        }
    }
}
