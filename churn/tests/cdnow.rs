//! The CDNOW sample of Fader, Hardie & Lee (2005), as `lifetimes` ships it
//! (tests/fixtures/cdnow/README.md): the histories summarised here match the paper's, the fit
//! finds the published parameters, and for those parameters every customer's P(alive) and
//! expected purchases match `lifetimes` (churn/tests/reference/make_reference.py).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use portrait_churn::fit;
use portrait_core::churn_model::{BgNbdParams, Rfm};
use portrait_core::time::{Day, EventTime};

/// The end of the paper's 39-week calibration period: purchases up to this day count.
const CALIBRATION_END: &str = "1997-09-30";

/// The paper's table 1.
const PUBLISHED: [f64; 4] = [0.243, 4.414, 0.793, 2.426];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cdnow")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `YYYY-MM-DD` or `YYYYMMDD` as a UTC day.
fn day(date: &str) -> Day {
    let digits = date.replace('-', "");
    let (year, rest) = digits.split_at(4);
    let (month, day) = rest.split_at(2);
    EventTime::parse_rfc3339(&format!("{year}-{month}-{day}T00:00:00Z"))
        .unwrap_or_else(|e| panic!("{date}: {e}"))
        .day()
}

/// Each customer's (x, t_x, T) at the end of calibration, by customer index, as the paper and
/// `lifetimes` (freq "D", freq_multiplier 7) make them: x counts distinct purchase days after
/// the first, and days are turned into weeks only at the end.
fn calibration_histories() -> BTreeMap<u32, Rfm> {
    let end = day(CALIBRATION_END);
    let mut days_by_customer = BTreeMap::<u32, Vec<Day>>::new();
    for line in read(&fixtures().join("CDNOW_sample.txt")).lines() {
        let [_id, customer, date, _cds, _dollars] = *line.split_whitespace().collect::<Vec<_>>()
        else {
            panic!("CDNOW_sample.txt: not five columns: {line:?}")
        };
        let purchase = day(date);
        if purchase <= end {
            let customer = customer.parse().expect("customer index");
            days_by_customer.entry(customer).or_default().push(purchase);
        }
    }
    days_by_customer
        .into_iter()
        .map(|(customer, mut days)| {
            days.sort_unstable();
            days.dedup();
            let first = days[0];
            let weeks = |day: Day| f64::from(day.since(first)) / 7.0;
            let x = (days.len() - 1) as f64;
            let rfm = Rfm::new(x, weeks(*days.last().unwrap()), weeks(end)).unwrap();
            (customer, rfm)
        })
        .collect()
}

/// The rows of a checked-in CSV after its header, split at commas.
fn csv_rows(path: &Path) -> Vec<Vec<f64>> {
    read(path)
        .lines()
        .skip(1)
        .map(|line| {
            line.split(',')
                .map(|field| field.parse().unwrap_or_else(|e| panic!("{line:?}: {e}")))
                .collect()
        })
        .collect()
}

#[test]
fn histories_match_the_papers_summary() {
    // cdnow_customers_summary.csv: ID, x, t_x, T with the weeks rounded to 2 decimals.
    let histories = calibration_histories();
    let summary = csv_rows(&fixtures().join("cdnow_customers_summary.csv"));
    assert_eq!(histories.len(), 2357);
    assert_eq!(summary.len(), 2357);
    for row in summary {
        let rfm = histories[&(row[0] as u32)];
        assert_eq!(rfm.x(), row[1], "customer {}", row[0]);
        assert!((rfm.t_x() - row[2]).abs() <= 0.005, "customer {}", row[0]);
        assert!((rfm.t() - row[3]).abs() <= 0.005, "customer {}", row[0]);
    }
}

#[test]
fn fit_finds_the_published_parameters() {
    let histories: Vec<Rfm> = calibration_histories().into_values().collect();
    let fitted = fit(&histories).unwrap();
    let p = fitted.params;
    println!(
        "CDNOW: r = {:.4}, α = {:.4}, a = {:.4}, b = {:.4}, ln L = {:.2}, {} users, {} iterations",
        p.r(),
        p.alpha(),
        p.a(),
        p.b(),
        fitted.log_likelihood,
        fitted.users,
        fitted.iterations
    );
    assert_eq!(fitted.users, 2357);
    for (name, value, published) in [
        ("r", p.r(), PUBLISHED[0]),
        ("α", p.alpha(), PUBLISHED[1]),
        ("a", p.a(), PUBLISHED[2]),
        ("b", p.b(), PUBLISHED[3]),
    ] {
        let off = (value / published - 1.0).abs();
        assert!(off <= 0.005, "{name} = {value}, published {published}");
    }
    // The paper's log-likelihood at its parameters is −9582.4.
    assert!(
        (fitted.log_likelihood - -9582.4).abs() < 0.1,
        "{}",
        fitted.log_likelihood
    );
}

#[test]
fn every_customer_matches_lifetimes_for_the_published_parameters() {
    // cdnow_reference.csv: customer, x, t_x, T, P(alive), expected purchases in 39 weeks.
    let [r, alpha, a, b] = PUBLISHED;
    let params = BgNbdParams::new(r, alpha, a, b).unwrap();
    let histories = calibration_histories();
    let reference = csv_rows(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/cdnow_reference.csv"),
    );
    assert_eq!(reference.len(), histories.len());
    let (mut worst_p_alive, mut worst_expected) = (0.0_f64, 0.0_f64);
    for row in reference {
        let [customer, x, t_x, t, p_alive, expected] = row[..] else {
            panic!("cdnow_reference.csv: not six columns: {row:?}")
        };
        let rfm = histories[&(customer as u32)];
        // The same history as lifetimes' summary, up to the rounding of days / 7.
        assert_eq!(rfm.x(), x, "customer {customer}");
        assert!((rfm.t_x() - t_x).abs() < 1e-12 && (rfm.t() - t).abs() < 1e-12);
        worst_p_alive = worst_p_alive.max((params.p_alive(rfm) - p_alive).abs());
        let ours = params.expected_purchases(39.0, rfm).unwrap();
        worst_expected = worst_expected.max((ours - expected).abs());
    }
    println!(
        "largest differences from lifetimes: P(alive) {worst_p_alive:e}, \
         expected purchases {worst_expected:e}"
    );
    assert!(worst_p_alive <= 1e-6, "{worst_p_alive}");
    assert!(worst_expected <= 1e-6, "{worst_expected}");
}
