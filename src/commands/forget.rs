//! `portrait forget`: erase users from ClickHouse for good (docs/security.md, "Forgetting a
//! user").

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use portrait_connectors::clickhouse::forget;

#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("who").required(true).multiple(true))]
pub struct Args {
    /// A user id to forget; repeat the flag for more.
    #[arg(long = "user", value_name = "ID", group = "who")]
    users: Vec<String>,
    /// A file of user ids to forget, one per line; blank lines and surrounding spaces are
    /// ignored.
    #[arg(long, value_name = "FILE", group = "who")]
    users_file: Option<PathBuf>,
    /// How long to wait for ClickHouse to apply the deletes, in seconds; past it the command
    /// fails, and running it again for the same users waits once more.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    timeout_secs: u64,
}

/// Writes the users' tombstones, deletes their rows and returns once they are gone.
pub fn run(path: Option<&Path>, args: Args) -> anyhow::Result<()> {
    let config = super::services_config(path, "forget")?;
    let mut users = args.users;
    if let Some(file) = &args.users_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading user ids from {}", file.display()))?;
        users.extend(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_owned),
        );
    }
    if users.iter().any(String::is_empty) {
        bail!("an empty user id cannot be forgotten (--user \"\")");
    }
    if users.is_empty() {
        bail!("no user ids to forget: the file holds none");
    }
    let timeout = Duration::from_secs(args.timeout_secs);
    let report = super::runtime()?
        .block_on(forget(&config.clickhouse, &users, timeout))
        .with_context(|| {
            format!(
                "forgetting users in ClickHouse at {}",
                config.clickhouse.url
            )
        })?;
    println!(
        "forgot {} users in database `{}`: tombstones in forgotten_users; no row of theirs left \
         in {}",
        report.users,
        report.database,
        report.tables.join(", ")
    );
    if report.rounds > 1 {
        println!(
            "  a running pipeline wrote some of their rows again meanwhile: deleted in {} rounds",
            report.rounds
        );
    }
    Ok(())
}
