//! `portrait migrate`: apply the embedded ClickHouse migrations that have not run yet.

use std::path::Path;

use anyhow::Context;
use portrait_connectors::clickhouse::migrate;

pub fn run(path: Option<&Path>) -> anyhow::Result<()> {
    let config = super::services_config(path, "migrate")?;
    let report = super::runtime()?
        .block_on(migrate(&config.clickhouse))
        .with_context(|| format!("migrating ClickHouse at {}", config.clickhouse.url))?;
    println!("{report}");
    Ok(())
}
