//! `portrait churn-model fit` and the pipeline's use of its fits (docs/churn-model.md,
//! "Parameters"), against the real broker and ClickHouse, and in the embedded mode:
//! - with no buyer yet, the fit refuses, saying so;
//! - the row it stores holds what `portrait_churn::fit` finds for the buyers' histories as the
//!   test reads them back (in days, converted to weeks here);
//! - a replay after the fit writes every buyer's `p_alive` as BG/NBD gives it with the stored
//!   parameters, and a live run takes up a newer fit at its refresh;
//! - in the embedded mode the fits live in `churn_model.parquet`, which a `run --replace`
//!   keeps and uses.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::churn_model::{buyers, parquet_buyers, Buyer};
use common::embedded::{fresh_dir, portrait as embedded, write_events};
use common::pipeline::{portrait, produce, run_until_end, succeed};
use portrait_connectors::clickhouse::{migrate, ChurnModelRow, ClickHouseSink};
use portrait_connectors::kafka::{Admin, KafkaConfig};
use portrait_core::churn_model::{BgNbdParams, Rfm};
use portrait_generator::{generate, Dataset, GeneratorConfig};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::ChildStderr;

const PARTITIONS: u32 = 2;

fn dataset() -> Dataset {
    generate(&GeneratorConfig {
        seed: 31,
        users: 400,
        days: 90,
        ..GeneratorConfig::default()
    })
}

/// Insists that every buyer's `p_alive` is BG/NBD's with `params` for its history.
fn assert_p_alive(buyers: &[Buyer], params: BgNbdParams) {
    for buyer in buyers {
        assert_eq!(
            buyer.p_alive,
            Some(params.p_alive(buyer.history())),
            "{}: p_alive with {params:?}",
            buyer.user_id
        );
    }
}

/// What `portrait` logged.
fn log(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `command`, which must fail; returns what it printed to stderr.
async fn fail(what: &str, mut command: Command) -> String {
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("start portrait");
    assert!(!output.status.success(), "{what} succeeded");
    log(&output)
}

fn now() -> u32 {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    u32::try_from(seconds).unwrap()
}

/// What `portrait_churn::fit` finds for `buyers`' histories, as a row fitted at `fitted_at`.
fn expected_fit(buyers: &[Buyer], fitted_at: u32) -> ChurnModelRow {
    let histories: Vec<Rfm> = buyers.iter().map(Buyer::history).collect();
    let fit = portrait_churn::fit(&histories).unwrap();
    ChurnModelRow::new(
        fitted_at,
        fit.params,
        fit.users as u64,
        fit.log_likelihood,
        fit.iterations,
    )
}

/// The stderr of a running `portrait`, read line by line up to a line containing `needle`;
/// panics, with what was read, when the process ends first or `within` passes.
async fn read_until(lines: &mut Lines<BufReader<ChildStderr>>, needle: &str, within: Duration) {
    let mut read = String::new();
    let found = tokio::time::timeout(within, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            read.push_str(&line);
            read.push('\n');
            if line.contains(needle) {
                return true;
            }
        }
        false
    })
    .await;
    assert!(
        found == Ok(true),
        "no line with {needle:?} in the log within {within:?}:\n{read}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fit_stored_is_the_buyers_and_a_replay_computes_p_alive_with_it() {
    common::on_fresh_database("churn_fit", |clickhouse| async move {
        let dataset = dataset();
        let kafka = produce("churn_fit", &dataset, PARTITIONS).await;
        migrate(&clickhouse).await.unwrap();
        let fit = || portrait(&["churn-model", "fit"], &kafka, &clickhouse);

        let refused = fail("portrait churn-model fit (no profiles)", fit()).await;
        let expected = format!(
            "no buyers to fit the churn model to: no profile in {}.user_profiles has an order yet",
            clickhouse.database
        );
        assert!(refused.contains(&expected), "{refused}");

        // Before any fit, the published defaults.
        let replayed = succeed(
            "portrait run --until-end",
            run_until_end(&kafka, &clickhouse),
        )
        .await;
        assert!(
            log(&replayed).contains("no fit stored yet"),
            "{}",
            log(&replayed)
        );
        let buyers = buyers(&clickhouse).await;
        assert!(buyers.len() > 100, "{} buyers", buyers.len());
        assert_p_alive(&buyers, BgNbdParams::default());

        let before = now();
        let fitted = succeed("portrait churn-model fit", fit()).await;
        let after = now();
        eprintln!("{}", String::from_utf8_lossy(&fitted.stdout));
        let stored: Vec<ChurnModelRow> = clickhouse
            .client()
            .query("SELECT ?fields FROM churn_model")
            .fetch_all()
            .await
            .unwrap();
        let [stored] = stored[..] else {
            panic!("one fit stored, not {stored:?}")
        };
        assert!((before..=after).contains(&stored.fitted_at), "{stored:?}");
        assert_eq!(stored, expected_fit(&buyers, stored.fitted_at));
        assert_eq!(stored.users, buyers.len() as u64);

        // The same input replayed into a database holding that fit, by a group of its own.
        common::on_fresh_database("churn_refit", move |refit| async move {
            migrate(&refit).await.unwrap();
            ClickHouseSink::new(&refit)
                .write_churn_model(&stored)
                .await
                .unwrap();
            let kafka = KafkaConfig {
                group: common::fresh("churn_refit_group"),
                ..kafka
            };
            let replayed = succeed(
                "portrait run --until-end (refit)",
                run_until_end(&kafka, &refit),
            )
            .await;
            let at_start = format!(
                "churn model parameters at start: the fit of {} buyers",
                stored.users
            );
            assert!(log(&replayed).contains(&at_start), "{}", log(&replayed));
            let rewritten = self::buyers(&refit).await;
            let histories =
                |buyers: &[Buyer]| -> Vec<Rfm> { buyers.iter().map(Buyer::history).collect() };
            assert_eq!(histories(&rewritten), histories(&buyers));
            assert_p_alive(&rewritten, stored.params().unwrap());
            let moved = rewritten
                .iter()
                .zip(&buyers)
                .filter(|(now, then)| now.p_alive != then.p_alive)
                .count();
            assert!(
                moved > buyers.len() / 2,
                "the fit moves most buyers' p_alive: {moved} of {}",
                buyers.len()
            );
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_run_takes_a_newer_fit_up_at_its_refresh() {
    common::on_fresh_database("churn_refresh", |clickhouse| async move {
        migrate(&clickhouse).await.unwrap();
        // No input at all: the run only starts and refreshes.
        let topic = common::fresh("churn_refresh_events");
        let kafka = common::kafka_config(&[&topic], &common::fresh("churn_refresh_group"));
        Admin::new(&kafka)
            .unwrap()
            .create_topics(&[topic.as_str()], 1)
            .await
            .unwrap();
        let sink = ClickHouseSink::new(&clickhouse);
        let params = BgNbdParams::new(0.5, 4.0, 0.8, 2.5).unwrap();
        let first = ChurnModelRow::new(now() - 60, params, 1_000, -5_000.0, 120);
        sink.write_churn_model(&first).await.unwrap();

        let mut run = portrait(&["run"], &kafka, &clickhouse);
        run.env("PORTRAIT_CHURN_MODEL_REFRESH_INTERVAL_MS", "100")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = tokio::process::Command::from(run)
            .kill_on_drop(true)
            .spawn()
            .expect("start portrait");
        let mut log = BufReader::new(child.stderr.take().unwrap()).lines();
        let within = Duration::from_secs(60);
        read_until(
            &mut log,
            "churn model parameters at start: the fit of 1000 buyers",
            within,
        )
        .await;

        let newer = ChurnModelRow {
            fitted_at: first.fitted_at + 30,
            r: 0.7,
            users: 2_000,
            ..first
        };
        sink.write_churn_model(&newer).await.unwrap();
        read_until(
            &mut log,
            "churn model parameters refreshed: the fit of 2000 buyers",
            within,
        )
        .await;
        child.kill().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_fits_are_kept_in_the_data_directory_and_used_by_a_replaced_run() {
    let dir = fresh_dir("churn_embedded");
    let events = dir.join("events.ndjson");
    write_events(&dataset(), &events);
    let input = events.to_str().unwrap();
    let data_dir = dir.join("data");
    let fit = || embedded(&["churn-model", "fit"], &data_dir);

    let refused = fail("portrait churn-model fit (no tables)", fit()).await;
    assert!(
        refused.contains("holds no user_profiles table: run `portrait run`"),
        "{refused}"
    );

    succeed(
        "portrait run (embedded)",
        embedded(&["run", "--input", input], &data_dir),
    )
    .await;
    let buyers = parquet_buyers(&data_dir).await;
    assert!(buyers.len() > 100, "{} buyers", buyers.len());
    assert_p_alive(&buyers, BgNbdParams::default());

    let before = now();
    succeed("portrait churn-model fit (embedded)", fit()).await;
    let after = now();
    let fits = || async {
        portrait_sql::rows::<ChurnModelRow>(&data_dir, "SELECT * FROM churn_model")
            .await
            .unwrap()
    };
    let stored = fits().await;
    let [stored] = stored[..] else {
        panic!("one fit stored, not {stored:?}")
    };
    assert!((before..=after).contains(&stored.fitted_at), "{stored:?}");
    assert_eq!(stored, expected_fit(&buyers, stored.fitted_at));

    // The fits are not a run's table: replacing the run's tables keeps them, and uses the latest.
    let replaced = embedded(&["run", "--replace", "--input", input], &data_dir);
    let replaced = succeed("portrait run --replace (embedded)", replaced).await;
    let at_start = format!(
        "churn model parameters at start: the fit of {} buyers",
        stored.users
    );
    assert!(log(&replaced).contains(&at_start), "{}", log(&replaced));
    assert_eq!(fits().await, [stored]);
    assert_p_alive(&parquet_buyers(&data_dir).await, stored.params().unwrap());

    std::fs::remove_dir_all(&dir).unwrap();
}
