//! `portrait churn-model fit`: the churn model's parameters, fitted by maximum likelihood to
//! every buyer's order history in the profiles, stored where the pipeline reads them
//! (docs/churn-model.md, "Parameters").
//!
//! The histories are read first, then fitted off the async runtime (the fit is seconds of
//! CPU for a million buyers), then the fit is stored as a new row: runs started from then on
//! use it, and live runs take it up at their next refresh.

mod store;

use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use portrait_connectors::clickhouse::ChurnModelRow;
use portrait_core::time::EventTime;

use crate::config::{Config, Mode};
use store::Store;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Fit the model's parameters to the buyers' order histories and store them.
    ///
    /// Fits BG/NBD's parameters (r, α, a, b) to every buyer's order history (x, t_x, T) in the
    /// latest profiles, by maximum likelihood, and stores them with the fit time, the number
    /// of buyers and the log-likelihood in the churn_model table (ClickHouse, or
    /// churn_model.parquet in the embedded mode's data directory). Pipelines compute p_alive
    /// and expected_orders_90d with the latest fit: a run from its start, a live run also
    /// from its next refresh (churn_model.refresh_interval_ms).
    Fit,
}

pub fn run(path: Option<&Path>, args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Fit => fit(path),
    }
}

fn fit(path: Option<&Path>) -> anyhow::Result<()> {
    let config = Config::load(path)?.config;
    let store = Store::of(&config);
    let runtime = super::runtime()?;

    let started = Instant::now();
    let histories = runtime
        .block_on(store.order_histories())
        .with_context(|| store.reading("the order histories"))?;
    let read_in = started.elapsed();
    if histories.is_empty() {
        bail!(
            "no buyers to fit the churn model to: no profile in {} has an order yet; run the \
             pipeline over input with orders first",
            store.name("user_profiles")
        );
    }

    let started = Instant::now();
    let fit = portrait_churn::fit(&histories).context("fitting the churn model")?;
    let fitted_in = started.elapsed();
    let fitted_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the clock is before 1970")?
        .as_secs();
    let fitted_at = u32::try_from(fitted_at).context("the clock is past 2106")?;
    let row = ChurnModelRow::new(
        fitted_at,
        fit.params,
        fit.users as u64,
        fit.log_likelihood,
        fit.iterations,
    );
    runtime.block_on(store.save(&row))?;

    println!(
        "fitted the churn model to the order histories of {} buyers in {}",
        fit.users,
        store.name("user_profiles")
    );
    println!(
        "  r = {:.6}, alpha = {:.6}, a = {:.6}, b = {:.6}",
        row.r, row.alpha, row.a, row.b
    );
    println!(
        "  log-likelihood {:.4} after {} Nelder–Mead iterations",
        fit.log_likelihood, fit.iterations
    );
    println!(
        "  read in {:.3} s, fitted in {:.3} s",
        read_in.as_secs_f64(),
        fitted_in.as_secs_f64()
    );
    // Wall-clock seconds, written as event times are.
    let at = EventTime::from_millis(i64::from(fitted_at) * 1000);
    let taken_up = match config.mode() {
        Mode::Services => format!(
            "runs started from now on use it, and running ones within \
             churn_model.refresh_interval_ms ({} ms)",
            config.churn_model.refresh_interval_ms
        ),
        Mode::Embedded => "the next `portrait run` uses it".to_owned(),
    };
    println!(
        "stored in {} as the fit of {at}: {taken_up}",
        store.name("churn_model")
    );
    Ok(())
}
