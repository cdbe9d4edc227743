//! `portrait check-config`: load the configuration the way `run` would and explain it.

use std::path::Path;

use anyhow::bail;

use crate::config::Config;

pub fn run(path: Option<&Path>) -> anyhow::Result<()> {
    let loaded = match Config::load(path) {
        Ok(loaded) => loaded,
        Err(e) => bail!("{e}\nfix these and run `portrait check-config` again"),
    };
    let source = path.map_or("built-in defaults".into(), |p| p.display().to_string());
    println!("configuration OK ({source})");
    for line in &loaded.overrides {
        println!("  {line}");
    }
    for name in &loaded.unknown_env {
        println!("  note: {name} is set but names no setting; it is ignored");
    }
    let c = &loaded.config;
    println!(
        "  kafka: brokers {}, topics {}, group {}",
        c.kafka.brokers,
        c.kafka.topics.join(","),
        c.kafka.group
    );
    println!(
        "  clickhouse: {} database {}",
        c.clickhouse.url, c.clickhouse.database
    );
    Ok(())
}
