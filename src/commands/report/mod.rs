//! `portrait report`: the operators' daily report, one self-contained HTML page.
//!
//! It reads the profiles and alerts that `portrait run` wrote to ClickHouse over HTTP (the
//! `clickhouse` crate, typed RowBinary rows), with the SQL in `dashboards/report/`, and
//! draws them as inline SVG charts: lifecycle stages, new vs churned vs reactivated users
//! over the 30 days ending the report's date, promotion tiers and alert counts, the users
//! most at risk of churning, and the churn model's predicted vs actual repeat orders per week.
//! docs/report.md says where each number comes from.
//!
//! The steps are the modules: [`date`] (the `--date` argument), [`data`] (queries to typed
//! numbers), [`calibration`] (the churn model's weekly predictions), [`chart`] (bar charts as
//! SVG), [`html`] (the page) and [`escape`] (text into HTML).

mod calibration;
mod chart;
mod data;
mod date;
mod escape;
mod html;

use std::path::{Path, PathBuf};

use anyhow::Context;

use self::date::ReportDate;

#[derive(clap::Args)]
pub struct Args {
    /// The report's day D, a UTC date as YYYY-MM-DD: the headline numbers are D's, the daily
    /// chart covers the 30 days ending D. No default.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = ReportDate::parse)]
    date: ReportDate,
    /// Where to write the HTML page; an existing file is replaced. No default.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(path: Option<&Path>, args: Args) -> anyhow::Result<()> {
    let config = crate::commands::services_config(path, "report")?;
    let clickhouse = &config.clickhouse;
    let report = super::runtime()?
        .block_on(data::fetch(clickhouse, args.date))
        .with_context(|| {
            format!(
                "reading the report for {} from database {} at {} (has `portrait migrate` \
                 run against it?)",
                args.date, clickhouse.database, clickhouse.url
            )
        })?;
    let page = html::render(&report, &clickhouse.database);
    std::fs::write(&args.out, page)
        .with_context(|| format!("writing the report to {}", args.out.display()))?;
    println!(
        "wrote the report for {} to {} ({} profiles, {} alerts on the day)",
        args.date,
        args.out.display(),
        report.profiles,
        report.alerts_today()
    );
    Ok(())
}
