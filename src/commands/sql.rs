//! `portrait sql`: DataFusion SQL over the embedded mode's Parquet tables.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use portrait_sql::Format;

use crate::config::Config;

#[derive(clap::Args)]
pub struct Args {
    /// The query, e.g. "SELECT lifecycle_stage, count(*) FROM user_profiles_current GROUP BY 1".
    /// Tables: user_profiles (every written version), user_profiles_current (each user's
    /// latest), profile_alerts, profile_alerts_unique, dead_letters. It may start with `--`
    /// comments, as the dashboards' query files do.
    #[arg(allow_hyphen_values = true)]
    query: String,
    /// How to print the result.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

pub fn run(path: Option<&Path>, args: Args) -> anyhow::Result<()> {
    let config = Config::load(path)?.config;
    let data_dir = &config.embedded.data_dir;
    let runtime = super::runtime()?;
    let batches = runtime
        .block_on(portrait_sql::query(data_dir, &args.query))
        .with_context(|| format!("querying the tables in {}", data_dir.display()))?;
    let mut out = std::io::stdout().lock();
    portrait_sql::write(&batches, args.format, &mut out).context("printing the result")?;
    out.flush().context("printing the result")
}
