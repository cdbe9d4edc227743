//! The embedded mode's side of the tests: events as an NDJSON file, and `portrait` with no
//! services configured, its tables in a directory of the test's own.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use portrait_generator::Dataset;

use super::pipeline::ALERT_LATENESS_MS;

/// A directory of its own for one test's files.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(super::fresh(name));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every message of `dataset` as an NDJSON file, one payload a line.
pub fn write_events(dataset: &Dataset, path: &Path) {
    let mut out = BufWriter::new(File::create(path).unwrap());
    for message in dataset.messages() {
        out.write_all(&message.payload).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
}

/// `portrait ARGS` in the embedded mode: the services this test environment names are
/// unset, and the tables are in `data_dir`. Alerts are decided as `run_until_end` has them.
pub fn portrait(args: &[&str], data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portrait"));
    command
        .args(args)
        .env_remove("PORTRAIT_KAFKA_BROKERS")
        .env_remove("PORTRAIT_CLICKHOUSE_URL")
        .env("PORTRAIT_EMBEDDED_DATA_DIR", data_dir)
        .env("PORTRAIT_ALERTS_LATENESS_MS", ALERT_LATENESS_MS.to_string())
        .env("PORTRAIT_METRICS_LISTEN", "");
    command
}
