//! The analysts' dashboards (dashboards/), checked three ways:
//!
//! 1. **Against the ground truth.** Generated events go through the real pipeline (Kafka →
//!    `portrait run --until-end` → the local ClickHouse 18.16), then every query in
//!    dashboards/queries/ runs as it is shipped, and its whole result, columns, types, rows and
//!    order, must equal what `expected` computes from the generator's reference model.
//! 2. **The Grafana dashboard** runs exactly those queries: each panel's SQL is the text of one
//!    query file, and every file has its panel (`grafana`).
//! 3. **On current ClickHouse.** The schema and every shipped query (dashboards/queries/ and
//!    the report's dashboards/report/) run in chdb, an in-process ClickHouse 26, on the rows the
//!    pipeline wrote to 18.16, and must give the same results as on 18.16 (`current`).

#[path = "../common/mod.rs"]
mod common;
mod current;
mod expected;
mod grafana;
mod table;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::pipeline::{produce, run_until_end, succeed, verify};
use portrait_connectors::clickhouse::{migrate, ClickHouseConfig};
use portrait_generator::{generate, Dataset, GeneratorConfig};

use expected::GroundTruth;
use table::Table;

const PARTITIONS: u32 = 4;
/// The pipeline's default `lateness_ms`: the truth is the profiles at max event time − this.
const LATENESS_MS: i64 = 300_000;

/// The repository's `dashboards/` folder.
fn dashboards() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards")
}

/// The names (without `.sql`) of the `.sql` files in `folder`, sorted; none if it does not exist.
fn sql_files(folder: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "sql"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn read_query(name: &str) -> String {
    let path = dashboards().join("queries").join(format!("{name}.sql"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Produces `dataset` to a fresh topic, migrates `clickhouse` and replays the topic with
/// `portrait run --until-end` (alerts decided late enough to be the reference model's); then
/// `portrait verify` insists that every profile and alert is the ground truth, so that a
/// difference found by a query check is the query's, not the pipeline's.
async fn seed(test: &str, dataset: &Dataset, clickhouse: &ClickHouseConfig) {
    let kafka = produce(test, dataset, PARTITIONS).await;
    migrate(clickhouse).await.unwrap();
    succeed(
        "portrait run --until-end",
        run_until_end(&kafka, clickhouse),
    )
    .await;
    verify(dataset, LATENESS_MS, &kafka, clickhouse).await;
}

/// Runs `sql` as a client would (unchanged; the format is a URL parameter, 64-bit integers as
/// JSON numbers) and returns the server's `JSONCompact` answer, or its error message.
async fn run_json_compact(client: &clickhouse::Client, sql: &str) -> Result<Vec<u8>, String> {
    // The client reads `?` as a bind placeholder and `??` as a literal `?`.
    let mut cursor = client
        .query(&sql.replace('?', "??"))
        .with_option("output_format_json_quote_64bit_integers", "0")
        .fetch_bytes("JSONCompact")
        .map_err(|e| e.to_string())?;
    let bytes = cursor.collect().await.map_err(|e| e.to_string())?;
    Ok(bytes.to_vec())
}

#[test]
fn every_query_file_has_an_expected_result_and_every_check_a_file() {
    let files: BTreeSet<String> = sql_files(&dashboards().join("queries"))
        .into_iter()
        .collect();
    let checked: BTreeSet<String> = expected::QUERIES
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    assert_eq!(
        checked.len(),
        expected::QUERIES.len(),
        "a query is listed twice in expected::QUERIES"
    );
    assert!(
        files == checked,
        "dashboards/queries/ and expected::QUERIES disagree: files without a check {:?}, \
         checks without a file {:?}; give each query file a function computing its result \
         from the ground truth",
        files.difference(&checked).collect::<Vec<_>>(),
        checked.difference(&files).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_dashboard_query_returns_what_the_ground_truth_says() {
    common::on_fresh_database("dashboards", |clickhouse| async move {
        // 3 000 users over 120 days: every stage, tier, segment and histogram bucket is
        // populated, and the daily series have (nearly) all their 90 days; checked first.
        // 1% malformed messages, which the archive must not count.
        let dataset = generate(&GeneratorConfig {
            seed: 2024,
            users: 3_000,
            days: 120,
            malformed_rate: 0.01,
            ..GeneratorConfig::default()
        });
        let ground = GroundTruth::of(&dataset, LATENESS_MS);
        assert_covers_every_case(&ground);
        seed("dashboards", &dataset, &clickhouse).await;

        let client = clickhouse.client();
        let mut failures = Vec::new();
        for (name, expected_result) in expected::QUERIES {
            let want = expected_result(&ground);
            let got = match run_json_compact(&client, &read_query(name)).await {
                Ok(bytes) => Table::from_json_compact(&bytes),
                Err(error) => Err(error),
            };
            let differences = match got {
                Ok(got) => got.differences(&want),
                Err(error) => vec![error],
            };
            println!(
                "{name}.sql: {} rows{}",
                want.rows.len(),
                if differences.is_empty() {
                    ", as expected"
                } else {
                    ", DIFFERENT"
                }
            );
            if !differences.is_empty() {
                failures.push(format!(
                    "{name}.sql: {} difference(s):\n  {}",
                    differences.len(),
                    differences[..differences.len().min(10)].join("\n  ")
                ));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    })
    .await;
}

/// Insists that the data set makes every check meaningful: each closed set (stage, tier,
/// segment, churn bucket, activation bucket, alert kind) occurs, and the daily series have
/// (nearly) all their 90 days. Reads the expected results only: it needs no service.
fn assert_covers_every_case(ground: &GroundTruth) {
    let expected = |name: &str| {
        let (_, compute) = expected::QUERIES.iter().find(|(n, _)| *n == name).unwrap();
        compute(ground)
    };
    let first_column = |name: &str| -> BTreeSet<String> {
        expected(name)
            .rows
            .iter()
            .map(|row| row[0].to_string())
            .collect()
    };
    let quoted =
        |names: &[&str]| -> BTreeSet<String> { names.iter().map(|n| format!("{n:?}")).collect() };
    assert_eq!(first_column("lifecycle_stages"), quoted(&common::STAGES));
    assert_eq!(first_column("promotion_tiers"), quoted(&common::TIERS));
    assert_eq!(first_column("rfm_segments").len(), 9, "every RFM segment");
    assert_eq!(
        first_column("churn_risk_distribution").len(),
        10,
        "every churn bucket"
    );
    assert_eq!(
        first_column("time_to_activation").len(),
        7,
        "every activation bucket"
    );
    for series in [
        "new_and_activated_users_per_day",
        "alerts_per_day",
        "active_users_per_day",
        "page_views_per_day",
    ] {
        let days = expected(series).rows.len();
        assert!(days >= 80, "{series} has only {days} of its 90 days");
    }
    for (kind, column) in expected("alerts_per_day")
        .columns
        .iter()
        .enumerate()
        .skip(1)
    {
        let total: u64 = expected("alerts_per_day")
            .rows
            .iter()
            .map(|row| match row[kind] {
                table::Cell::Int(n) => n,
                _ => 0,
            })
            .sum();
        assert!(total > 0, "no {} alert in the window", column.0);
    }
}

#[test]
fn every_grafana_panel_runs_a_query_file_and_every_file_has_a_panel() {
    grafana::check_dashboard(&dashboards());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_schema_and_every_shipped_query_give_the_same_results_on_current_clickhouse() {
    let python = current::chdb_python();
    common::on_fresh_database("dashboards_chdb", |clickhouse| async move {
        // Small, so the table dumps stay small; still every event type, stage and alert kind.
        let dataset = generate(&GeneratorConfig {
            seed: 5,
            users: 400,
            days: 60,
            malformed_rate: 0.01,
            ..GeneratorConfig::default()
        });
        // No merges: the tables keep every row the pipeline wrote (a profile's older versions,
        // an alert's repeats), so the views' FINAL has work to do on both servers.
        migrate(&clickhouse).await.unwrap();
        current::stop_merges(&clickhouse).await;
        seed("dashboards_chdb", &dataset, &clickhouse).await;
        // `portrait churn-model fit` writes churn_model, not the pipeline: one fit, so that the
        // report's churn_model.sql has a row to compare.
        clickhouse
            .client()
            .query(
                "INSERT INTO churn_model VALUES \
                 ('2026-03-02 06:00:00', 0.243, 4.414, 0.793, 2.426, 400, -1234.5, 130)",
            )
            .execute()
            .await
            .unwrap();
        // The report's day: the last day of the data, the replay's watermark day.
        let report_date =
            expected::date_text(GroundTruth::of(&dataset, LATENESS_MS).watermark_day());
        current::compare(&python, &clickhouse, &dashboards(), &report_date).await;
    })
    .await;
}
