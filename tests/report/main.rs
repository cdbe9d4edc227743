//! `portrait report` end to end, as an operator gets it: generated events → Kafka →
//! `portrait run --until-end` → ClickHouse → `portrait report --date D` → an HTML file that
//! Debian's headless Chromium renders.
//!
//! Every number is checked against the generator's reference model (`expected`), and the
//! churn model's calibration chart against the generated orders and the model's formula
//! (`calibration`): in the DOM Chromium built (the tiles, the tables, each chart's bars and
//! their values, the risk list in its order), and in a screenshot, where each chart's colours must cover exactly the pixels
//! its bars and legend swatches say they do (the bars are whole-pixel rectangles drawn with
//! `crispEdges`), so a chart that is in the markup but not painted fails.

mod browser;
mod calibration;
#[path = "../common/mod.rs"]
mod common;
mod dom;
mod expected;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use common::pipeline::{portrait, produce, run_until_end, succeed};
use portrait_connectors::clickhouse::migrate;
use portrait_core::churn_model::BgNbdParams;
use portrait_core::time::Day;
use portrait_generator::{generate, GeneratorConfig, DAY_MS};

use expected::{Expected, DAYS};

const PARTITIONS: u32 = 4;
/// The report's charts (`data-chart`), in page order.
const CHARTS: [&str; 5] = ["stages", "daily", "tiers", "alerts", "calibration"];
/// Three fits in `churn_model`: the report must use the latest (by fitted_at), and of two
/// equally late the one with the higher log-likelihood. Columns: fitted_at, r, alpha, a, b,
/// users, log_likelihood, iterations.
const FITS: &str = "INSERT INTO churn_model VALUES \
    ('2026-03-01 23:00:00', 0.3, 5.0, 0.7, 2.0, 900, -4000.0, 120), \
    ('2026-03-02 06:00:00', 0.9, 6.5, 1.3, 3.1, 950, -3900.0, 130), \
    ('2026-03-02 06:00:00', 0.4, 2.0, 0.6, 1.5, 950, -3950.0, 140)";

/// The churn model a page must name and predict with.
struct Model {
    /// The text of `data-metric="model"`: when it was fitted, or `defaults`.
    named: &'static str,
    /// The customers fitted, which the page names with the time of the fit.
    customers: Option<u64>,
    /// r, α, a, b.
    params: [f64; 4],
}

/// Without a fit: the paper's CDNOW parameters (its table 1).
const PUBLISHED: Model = Model {
    named: "defaults",
    customers: None,
    params: [0.243, 4.414, 0.793, 2.426],
};

/// The fit in force among [`FITS`].
const FIT_IN_FORCE: Model = Model {
    named: "2026-03-02 06:00:00 UTC",
    customers: Some(950),
    params: [0.9, 6.5, 1.3, 3.1],
};
/// The pipeline's default `lateness_ms`: the truth is the profiles at max event time − this.
const LATENESS_MS: i64 = 300_000;

/// `YYYY-MM-DD` of a day number. The core's formatter: dates are the input here, not a
/// value under test.
fn date(day: i64) -> String {
    let text = Day::new(i32::try_from(day).unwrap()).start().to_string();
    text[.."YYYY-MM-DD".len()].to_owned()
}

/// `12.3%`, as the report writes a fraction.
fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daily_report_renders_the_ground_truth_in_chromium() {
    // Fail before the minute of setup if the browser is missing.
    browser::chromium();
    common::on_fresh_database("report", |clickhouse| async move {
        let config = GeneratorConfig {
            seed: 11,
            users: 1_000,
            days: 60,
            ..GeneratorConfig::default()
        };
        let dataset = generate(&config);
        let kafka = produce("report", &dataset, PARTITIONS).await;
        migrate(&clickhouse).await.unwrap();
        succeed(
            "portrait run --until-end",
            run_until_end(&kafka, &clickhouse),
        )
        .await;

        // D is the generated period's last day; the watermark is a little after it.
        let day = config.start_ms.div_euclid(DAY_MS) + i64::from(config.days) - 1;
        let expected = Expected::new(
            &dataset.truth(LATENESS_MS),
            &dataset.expected_alerts(LATENESS_MS),
            day,
        );
        // A report of zeros would prove little.
        let today = expected.today();
        assert!(today.new_users > 0 && today.churned > 0 && today.reactivated > 0);
        assert!(expected.alerts.iter().all(|&(_, on_day, _)| on_day > 0));

        let expected_weeks = |model: &Model| {
            let [r, alpha, a, b] = model.params;
            let params = BgNbdParams::new(r, alpha, a, b).unwrap();
            calibration::expected_weeks(&dataset, &params, day)
        };
        let weeks = expected_weeks(&FIT_IN_FORCE);
        assert!(weeks.iter().any(|w| w.actual > 0) && weeks.iter().all(|w| w.predicted > 0.0));

        let scratch = std::env::temp_dir().join(common::fresh("report"));
        std::fs::create_dir_all(&scratch).unwrap();
        let write_report = |page: &Path| {
            let args = [
                "report",
                "--date",
                &date(day),
                "--out",
                page.to_str().unwrap(),
            ];
            succeed("portrait report", portrait(&args, &kafka, &clickhouse))
        };
        // Before any fit, as written (no browser needed for the model's numbers).
        let before_fits = scratch.join("before-fits.html");
        write_report(&before_fits).await;
        let html = std::fs::read_to_string(&before_fits).unwrap();
        check_calibration(&html, &expected_weeks(&PUBLISHED), &PUBLISHED);

        clickhouse.client().query(FITS).execute().await.unwrap();
        let page = scratch.join("report.html");
        let written = write_report(&page).await;
        let summary = String::from_utf8_lossy(&written.stdout);
        assert!(summary.contains("wrote the report for"), "{summary}");

        let html = browser::dump_dom(&scratch, &page).await;
        check_numbers(&html, &expected, day);
        check_charts(&html, &expected);
        check_calibration(&html, &weeks, &FIT_IN_FORCE);
        let colours = browser::screenshot_colours(&scratch, &page).await;
        check_painted(&html, &colours);
        std::fs::remove_dir_all(&scratch).unwrap();
    })
    .await;
}

/// The tiles, the notes and every table against the truth.
fn check_numbers(html: &str, expected: &Expected, day: i64) {
    let today = expected.today();
    let alerts_today: u64 = expected.alerts.iter().map(|&(_, on_day, _)| on_day).sum();
    for (name, value) in [
        ("profiles", expected.profiles),
        ("new_users", today.new_users),
        ("churned", today.churned),
        ("reactivated", today.reactivated),
        ("alerts", alerts_today),
    ] {
        assert_eq!(dom::metric(html, name), value.to_string(), "tile {name}");
    }
    assert_eq!(
        dom::metric(html, "as_of").get(.."YYYY-MM-DD".len()),
        Some(date(expected.watermark_day).as_str())
    );
    // The watermark falls after D, so the page must say whose day the stages describe.
    assert!(expected.watermark_day > day);
    assert!(html.contains("data-note=\"later\""));
    assert!(!html.contains("data-note=\"no-alerts\""));

    let cells = |values: &[u64]| -> Vec<String> { values.iter().map(u64::to_string).collect() };
    let stage_rows = dom::rows(dom::section(html, "stages"));
    let want: Vec<(String, Vec<String>)> = expected
        .stages
        .iter()
        .map(|&(stage, n)| {
            let share = percent(n as f64 / expected.profiles as f64);
            (stage.to_owned(), vec![n.to_string(), share])
        })
        .collect();
    assert_eq!(stage_rows, want, "the stage table");

    let tier_rows = dom::rows(dom::section(html, "tiers"));
    let want: Vec<(String, Vec<String>)> = expected
        .tiers
        .iter()
        .map(|&(tier, n)| {
            let share = percent(n as f64 / expected.profiles as f64);
            (tier.to_owned(), vec![n.to_string(), share])
        })
        .collect();
    assert_eq!(tier_rows, want, "the tier table");

    let day_rows = dom::rows(dom::section(html, "daily"));
    let want: Vec<(String, Vec<String>)> = expected
        .days
        .iter()
        .map(|d| (date(d.day), cells(&[d.new_users, d.churned, d.reactivated])))
        .collect();
    assert_eq!(day_rows.len(), DAYS as usize);
    assert_eq!(day_rows, want, "the daily table");

    let alert_rows = dom::rows(dom::section(html, "alerts"));
    let want: Vec<(String, Vec<String>)> = expected
        .alerts
        .iter()
        .map(|&(kind, on_day, in_30)| (kind.to_owned(), cells(&[on_day, in_30])))
        .collect();
    assert_eq!(alert_rows, want, "the alert table");

    let risk_rows = dom::rows(dom::section(html, "risk"));
    let want: Vec<(String, Vec<String>)> = expected
        .top_risk
        .iter()
        .enumerate()
        .map(|(rank, p)| {
            let last_active = p
                .last_active_at
                .map_or("never".to_owned(), |t| date(t.div_euclid(86_400)));
            let row = vec![
                (rank + 1).to_string(),
                p.user_id.clone(),
                p.lifecycle_stage.clone(),
                percent(p.churn_risk),
                p.days_inactive.to_string(),
                last_active,
                percent(p.frequency_drop),
                p.orders.to_string(),
                format!("{:.2}", p.revenue),
            ];
            (p.user_id.clone(), row)
        })
        .collect();
    assert_eq!(risk_rows.len(), expected::TOP_RISK);
    assert_eq!(risk_rows, want, "the risk list");
}

/// One bar as the DOM describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bar {
    series: String,
    category: String,
    value: u64,
}

/// The charts, in page order, each with one bar per (category, series) carrying the truth's
/// value (the calibration chart's, in [`check_calibration`]), and taller for larger values.
fn check_charts(html: &str, expected: &Expected) {
    let charts: Vec<String> = dom::tags(html, "svg")
        .iter()
        .map(|svg| svg.get("data-chart").to_owned())
        .collect();
    assert_eq!(charts, CHARTS);

    let bar = |series: &str, category: &str, value: u64| Bar {
        series: series.to_owned(),
        category: category.to_owned(),
        value,
    };
    let want: BTreeMap<&str, Vec<Bar>> = BTreeMap::from([
        (
            "stages",
            expected
                .stages
                .iter()
                .map(|&(s, n)| bar("users", s, n))
                .collect(),
        ),
        (
            "daily",
            expected
                .days
                .iter()
                .flat_map(|d| {
                    let category = &date(d.day)["YYYY-".len()..];
                    [
                        bar("new_users", category, d.new_users),
                        bar("churned", category, d.churned),
                        bar("reactivated", category, d.reactivated),
                    ]
                })
                .collect(),
        ),
        (
            "tiers",
            expected
                .tiers
                .iter()
                .map(|&(t, n)| bar("users", t, n))
                .collect(),
        ),
        (
            "alerts",
            expected
                .alerts
                .iter()
                .map(|&(k, on_day, _)| bar("on_day", k, on_day))
                .collect(),
        ),
    ]);
    for (chart, want) in &want {
        let got: Vec<Bar> = bars(html, chart)
            .iter()
            .map(|rect| Bar {
                series: rect.get("data-series").to_owned(),
                category: rect.get("data-category").to_owned(),
                value: rect.get("data-value").parse().unwrap(),
            })
            .collect();
        assert_eq!(&got, want, "the bars of chart {chart}");
    }
    for chart in CHARTS {
        // Bigger values, taller bars: the heights are proportional within a chart.
        let heights: Vec<(f64, u64)> = bars(html, chart)
            .iter()
            .map(|rect| {
                (
                    rect.get("data-value").parse().unwrap(),
                    rect.pixels("height"),
                )
            })
            .collect();
        for &(value, height) in &heights {
            for &(other, other_height) in &heights {
                if value < other {
                    assert!(
                        height <= other_height,
                        "chart {chart}: {value} drawn taller than {other}"
                    );
                }
            }
            assert_eq!(
                value == 0.0,
                height == 0,
                "chart {chart}: {value} drawn {height} px tall"
            );
        }
    }
}

/// The `<rect class="bar">`s of one chart, in document order.
fn bars<'a>(html: &'a str, chart: &str) -> Vec<dom::Tag<'a>> {
    dom::tags(dom::chart(html, chart), "rect")
        .into_iter()
        .filter(|rect| rect.attributes.get("class") == Some(&"bar"))
        .collect()
}

/// The calibration chart and its table: the model named with its parameters; per week, the
/// actual repeat orders exactly and the predicted ones within 1e-9 relative of the sum over
/// customers (the table to its one decimal).
fn check_calibration(html: &str, weeks: &[calibration::Week], model: &Model) {
    assert_eq!(dom::metric(html, "model"), model.named);
    if let Some(customers) = model.customers {
        assert!(html.contains(&format!("</time> to {customers} customers")));
    }
    let [r, alpha, a, b] = model.params;
    for (name, value) in [
        ("model_r", r),
        ("model_alpha", alpha),
        ("model_a", a),
        ("model_b", b),
    ] {
        assert_eq!(dom::metric(html, name).parse::<f64>(), Ok(value), "{name}");
    }

    let close = |got: f64, want: f64| (got - want).abs() <= 1e-9 * want.abs();
    let bars = bars(html, "calibration");
    assert_eq!(bars.len(), 2 * weeks.len(), "two bars a week");
    for (week, pair) in weeks.iter().zip(bars.chunks(2)) {
        let category = &date(week.last_day)["YYYY-".len()..];
        let [actual, predicted] = pair else {
            unreachable!("chunks of two")
        };
        for (bar, series) in [(actual, "actual"), (predicted, "predicted")] {
            assert_eq!(bar.get("data-series"), series);
            assert_eq!(bar.get("data-category"), category);
        }
        assert_eq!(
            actual.get("data-value"),
            week.actual.to_string(),
            "actual repeat orders of the week ending {category}"
        );
        let value: f64 = predicted.get("data-value").parse().unwrap();
        assert!(
            close(value, week.predicted),
            "predicted repeat orders of the week ending {category}: {value}, not {}",
            week.predicted
        );
    }

    let rows = dom::rows(dom::section(html, "calibration"));
    assert_eq!(rows.len(), weeks.len(), "a table row a week");
    for (week, (key, cells)) in weeks.iter().zip(&rows) {
        assert_eq!(*key, date(week.last_day));
        let [actual, predicted] = &cells[..] else {
            panic!("week {key}: cells {cells:?}")
        };
        assert_eq!(*actual, week.actual.to_string(), "week {key}");
        let shown: f64 = predicted.parse().unwrap();
        assert!(
            (shown - week.predicted).abs() <= 0.05 + 1e-9,
            "week {key}: {shown} shown for {}",
            week.predicted
        );
    }
}

/// Each chart's colours, in the screenshot, cover exactly the area of its rectangles (bars
/// and legend swatches) of that colour, and no chart shares a colour with another.
fn check_painted(html: &str, colours: &HashMap<String, u64>) {
    let mut owner: HashMap<String, &str> = HashMap::new();
    let mut area: BTreeMap<String, u64> = BTreeMap::new();
    for chart in CHARTS {
        for rect in dom::tags(dom::chart(html, chart), "rect") {
            let fill = rect.get("fill").to_owned();
            let previous = owner.insert(fill.clone(), chart);
            assert!(
                previous.is_none_or(|p| p == chart),
                "{fill} is used by charts {chart} and {previous:?}"
            );
            *area.entry(fill).or_insert(0) += rect.pixels("width") * rect.pixels("height");
        }
    }
    assert_eq!(area.len(), 8, "one colour per series: {area:?}");
    for (fill, want) in &area {
        let got = colours.get(fill).copied().unwrap_or(0);
        assert!(*want > 0, "{fill} ({}) has nothing to paint", owner[fill]);
        assert_eq!(
            got, *want,
            "pixels of {fill}, the colour of chart {}, in the screenshot",
            owner[fill]
        );
    }
}
