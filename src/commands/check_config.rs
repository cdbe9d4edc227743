//! `portrait check-config`: load the configuration the way `run` would and explain it.

use std::path::Path;

use anyhow::{bail, Context};

use crate::config::{Config, Mode};

#[derive(clap::Args)]
pub struct Args {
    /// Also print the effective configuration (defaults, file and environment merged) as TOML.
    /// Secrets are never printed.
    #[arg(long)]
    show: bool,
}

pub fn run(path: Option<&Path>, args: Args) -> anyhow::Result<()> {
    let loaded = match Config::load(path) {
        Ok(loaded) => loaded,
        Err(e) => bail!("{e}\nfix these and run `portrait check-config` again"),
    };
    let source = path.map_or("built-in defaults".into(), |p| p.display().to_string());
    println!("configuration OK ({source})");
    let config = &loaded.config;
    match config.mode() {
        Mode::Embedded => println!(
            "  mode: embedded (NDJSON files or stdin in, Parquet tables in {} out)",
            config.embedded.data_dir.display()
        ),
        Mode::Services => println!(
            "  mode: Kafka topics {} in, ClickHouse database {} out",
            config.kafka.topics.join(", "),
            config.clickhouse.database
        ),
    }
    if !config.segments.is_empty() {
        let names: Vec<&str> = config.segments.keys().map(String::as_str).collect();
        let alerting: Vec<&str> = config
            .segments
            .iter()
            .filter(|(_, segment)| segment.alert)
            .map(|(name, _)| name.as_str())
            .collect();
        let alerts = if alerting.is_empty() {
            String::new()
        } else {
            format!(" (alert: {})", alerting.join(", "))
        };
        println!("  segments: {}{alerts}", names.join(", "));
    }
    for line in &loaded.overrides {
        println!("  {line}");
    }
    for name in &loaded.unknown_env {
        println!("  note: {name} is set but names no setting; it is ignored");
    }
    if args.show {
        let text = toml::to_string_pretty(&loaded.config).context("printing the configuration")?;
        println!("\n{text}");
    }
    Ok(())
}
