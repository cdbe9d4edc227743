//! The churn model on the CDNOW sample of Fader, Hardie & Lee (2005), end to end against the
//! real broker and ClickHouse (issue 11; docs/churn-model.md): the customers' purchases up to
//! the end of the paper's 39-week calibration period go through Kafka and the pipeline as order
//! events, every customer's history and P(alive) in `user_profiles` equal `lifetimes`' (values
//! checked in at churn/tests/reference), and `portrait churn-model fit` over those profiles finds
//! the published parameters.

mod common;

use std::path::Path;

use clickhouse::Row;
use common::churn_model::buyers;
use common::on_fresh_database;
use common::pipeline::{portrait, produce_messages, succeed};
use portrait_connectors::clickhouse::{migrate, ClickHouseConfig};
use portrait_core::churn_model::BgNbdParams;
use serde::Deserialize;

/// The last day of the calibration period, as CDNOW_sample.txt writes dates.
const CALIBRATION_END: &str = "19970930";
/// The customers of the sample, all of whom bought in the calibration period.
const CUSTOMERS: usize = 2_357;
/// The paper's table 1: r, α, a, b.
const PUBLISHED: [f64; 4] = [0.243, 4.414, 0.793, 2.426];
/// How far the fit may land from the published parameters, relative.
const FIT_TOLERANCE: f64 = 0.005;
/// How far P(alive) and expected purchases may differ from `lifetimes`' (issue 11).
const REFERENCE_TOLERANCE: f64 = 1e-6;
const PARTITIONS: u32 = 2;

fn fixture(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn user_id(customer: &str) -> String {
    format!("cdnow-{customer:0>4}")
}

/// One order event per purchase of the calibration period, in time order, at noon UTC of its
/// day; then a page view of a user who never orders at the period's last instant. With
/// `pipeline.lateness_ms` at 0 that last event pins the watermark to the end of the calibration
/// period: day(W) = 1997-09-30, the paper's T. As (key, payload).
fn calibration_events() -> Vec<(String, String)> {
    let sample = fixture("tests/fixtures/cdnow/CDNOW_sample.txt");
    let mut purchases: Vec<(&str, &str, &str)> = sample
        .lines()
        .map(|line| match *line.split_whitespace().collect::<Vec<_>>() {
            [_id, customer, date, _cds, dollars] => (date, customer, dollars),
            _ => panic!("CDNOW_sample.txt: not five columns: {line:?}"),
        })
        .filter(|&(date, _, _)| date <= CALIBRATION_END)
        .collect();
    purchases.sort_unstable();
    let mut events: Vec<(String, String)> = purchases
        .iter()
        .enumerate()
        .map(|(n, (date, customer, dollars))| {
            let user = user_id(customer);
            let (year, rest) = date.split_at(4);
            let (month, day) = rest.split_at(2);
            let payload = format!(
                r#"{{"event_id":"cdnow-{n}","type":"order","user_id":"{user}","ts":"{year}-{month}-{day}T12:00:00Z","props":{{"order_id":"cdnow-{n}","amount":{dollars}}}}}"#
            );
            (user, payload)
        })
        .collect();
    let clock = "calibration-end".to_owned();
    let payload = format!(
        r#"{{"event_id":"calibration-end","type":"page_view","user_id":"{clock}","ts":"1997-09-30T23:59:59.999Z","props":{{"page":"/"}}}}"#
    );
    events.push((clock, payload));
    events
}

/// `lifetimes`' values for the published parameters (churn/tests/reference/make_reference.py):
/// per customer, (x, t_x, T, P(alive), expected purchases in the next 39 weeks), by user id.
fn reference() -> Vec<(String, [f64; 5])> {
    let csv = fixture("churn/tests/reference/cdnow_reference.csv");
    let mut rows: Vec<(String, [f64; 5])> = csv
        .lines()
        .skip(1)
        .map(|line| {
            let (customer, values) = line.split_once(',').expect("a CSV row");
            let values: Vec<f64> = values.split(',').map(|v| v.parse().unwrap()).collect();
            (user_id(customer), values.try_into().expect("five values"))
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// The parameters in force: the latest fit.
#[derive(Debug, Row, Deserialize)]
struct StoredFit {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
    users: u64,
}

async fn latest_fit(clickhouse: &ClickHouseConfig) -> StoredFit {
    clickhouse
        .client()
        .query(
            "SELECT r, alpha, a, b, users FROM churn_model \
             ORDER BY fitted_at DESC, log_likelihood DESC LIMIT 1",
        )
        .fetch_one()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_pipeline_and_the_fit_find_the_published_model_of_cdnow() {
    on_fresh_database("cdnow", |clickhouse| async move {
        let events = calibration_events();
        let messages = events
            .iter()
            .map(|(key, payload)| (key.as_bytes(), payload.as_bytes()))
            .collect();
        let kafka = produce_messages("cdnow", messages, PARTITIONS).await;
        migrate(&clickhouse).await.unwrap();
        let mut run = portrait(&["run", "--until-end"], &kafka, &clickhouse);
        run.env("PORTRAIT_PIPELINE_LATENESS_MS", "0");
        succeed("portrait run", run).await;

        // No fit yet: the columns are computed with the defaults, the published parameters
        // the reference values were made with.
        let model = BgNbdParams::default();
        let buyers = buyers(&clickhouse).await;
        let reference = reference();
        assert_eq!((buyers.len(), reference.len()), (CUSTOMERS, CUSTOMERS));
        for (buyer, (user_id, [x, t_x, t, p_alive, expected_39w])) in buyers.iter().zip(&reference)
        {
            assert_eq!(&buyer.user_id, user_id);
            let history = buyer.history();
            let weeks = [history.x(), history.t_x(), history.t()];
            assert!(
                weeks
                    .iter()
                    .zip([x, t_x, t])
                    .all(|(a, b)| (a - b).abs() < 1e-12),
                "{user_id}: (x, t_x, T) = {weeks:?}, lifetimes has {:?}",
                [x, t_x, t]
            );
            let got = buyer.p_alive.unwrap();
            assert!(
                (got - p_alive).abs() <= REFERENCE_TOLERANCE,
                "{user_id}: p_alive {got}, lifetimes {p_alive}"
            );
            let got = model.expected_purchases(39.0, history).unwrap();
            assert!(
                (got - expected_39w).abs() <= REFERENCE_TOLERANCE,
                "{user_id}: 39 weeks {got}, lifetimes {expected_39w}"
            );
            assert_eq!(
                buyer.expected_orders_90d,
                model.expected_purchases(90.0 / 7.0, history).ok(),
                "{user_id}"
            );
        }

        let fit = portrait(&["churn-model", "fit"], &kafka, &clickhouse);
        let output = succeed("portrait churn-model fit", fit).await;
        eprintln!("{}", String::from_utf8_lossy(&output.stdout));
        let stored = latest_fit(&clickhouse).await;
        assert_eq!(stored.users, CUSTOMERS as u64);
        let fitted = [stored.r, stored.alpha, stored.a, stored.b];
        for (name, (got, published)) in ["r", "alpha", "a", "b"]
            .into_iter()
            .zip(fitted.into_iter().zip(PUBLISHED))
        {
            let off = (got - published).abs() / published;
            assert!(
                off <= FIT_TOLERANCE,
                "{name} = {got}, {:.2}% from the published {published}",
                off * 100.0
            );
        }
    })
    .await;
}
