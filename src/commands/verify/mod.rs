//! `portrait verify`: compare what a replay wrote to ClickHouse (or, in the embedded mode, to
//! its Parquet tables) with ground-truth files.
//!
//! The truth is what `portrait generate` wrote: `--truth FILE`, the reference model's profile of
//! every generated user at the final watermark of a replay (`portrait run --until-end`), and
//! `--expected-alerts FILE`, the alerts that replay must raise. This reads
//! `user_profiles_current` and `profile_alerts_unique` back and compares them with
//! [`differences`] and [`alert_differences`], the same comparisons the end-to-end tests make,
//! so a benchmark (`scripts/bench`) or an operator trying a new build can check that fast is
//! also exact.

mod alerts;
mod profiles;
mod store;

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use portrait_generator::{alert_differences, differences, read_alerts_ndjson, Truth};

use crate::config::Config;
use store::Store;

/// Differences printed before the rest are only counted.
const SHOWN: usize = 20;

#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("files").required(true).multiple(true))]
pub struct Args {
    /// The expected profiles, as `portrait generate --truth FILE` wrote them (NDJSON).
    #[arg(long, value_name = "FILE", group = "files")]
    truth: Option<PathBuf>,
    /// The expected alerts, as `portrait generate --expected-alerts FILE` wrote them (NDJSON).
    /// They are exact only if the run's `alerts.lateness_ms` covers the generator's worst
    /// arrival delay (48 h): see docs/alerts.md.
    #[arg(long, value_name = "FILE", group = "files")]
    expected_alerts: Option<PathBuf>,
}

pub fn run(path: Option<&Path>, args: Args) -> anyhow::Result<()> {
    let config = Config::load(path)?.config;
    let store = Store::of(&config);
    let runtime = super::runtime()?;
    let mut failed = Vec::new();
    if let Some(truth_path) = &args.truth {
        let truth = Truth::read_ndjson(open(truth_path)?)
            .with_context(|| format!("reading the truth file {}", truth_path.display()))?;
        let actual = runtime
            .block_on(profiles::read_current(&store))
            .with_context(|| store.reading("user_profiles_current"))?;
        let found = differences(&actual, &truth.profiles);
        let what = format!(
            "{} ({} profiles) and {} ({} profiles)",
            store.name("user_profiles_current"),
            actual.len(),
            truth_path.display(),
            truth.profiles.len()
        );
        failed.extend(report(&found, &what));
    }
    if let Some(alerts_path) = &args.expected_alerts {
        let expected = read_alerts_ndjson(open(alerts_path)?)
            .with_context(|| format!("reading the alerts file {}", alerts_path.display()))?;
        let actual = runtime
            .block_on(alerts::read_unique(&store))
            .with_context(|| store.reading("profile_alerts_unique"))?;
        let found = alert_differences(&actual, &expected);
        let what = format!(
            "{} ({} alerts) and {} ({} alerts)",
            store.name("profile_alerts_unique"),
            actual.len(),
            alerts_path.display(),
            expected.len()
        );
        failed.extend(report(&found, &what));
    }
    if !failed.is_empty() {
        bail!("{}", failed.join("; "));
    }
    Ok(())
}

fn open(path: &Path) -> anyhow::Result<BufReader<File>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(BufReader::new(file))
}

/// Prints the outcome of one comparison; returns the failure, if any.
fn report(found: &[String], what: &str) -> Option<String> {
    if found.is_empty() {
        println!("verified: no difference between {what}");
        return None;
    }
    for line in found.iter().take(SHOWN) {
        eprintln!("  {line}");
    }
    if found.len() > SHOWN {
        eprintln!("  ... and {} more", found.len() - SHOWN);
    }
    Some(format!("{} difference(s) between {what}", found.len()))
}
