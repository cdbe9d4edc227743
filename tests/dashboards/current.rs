//! Every shipped SQL statement on current ClickHouse: the schema (schemas/clickhouse/), the
//! dashboard queries (dashboards/queries/) and the report's queries (dashboards/report/), run
//! by run_on_chdb.py in chdb (chdb-core, an in-process ClickHouse 26), on exactly the rows
//! the pipeline wrote to the local 18.16. Each query's result there must equal its result on
//! 18.16: the same columns, types and rows, numbers compared as numbers (the servers print
//! them alike, but need not).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use portrait_connectors::clickhouse::ClickHouseConfig;
use serde_json::Value;

/// The interpreter of the virtualenv holding chdb-core, from `PORTRAIT_CHDB_PYTHON`.
pub fn chdb_python() -> String {
    std::env::var("PORTRAIT_CHDB_PYTHON").unwrap_or_else(|_| {
        panic!(
            "PORTRAIT_CHDB_PYTHON is not set: run scripts/tools up (it installs chdb-core, an \
             in-process current ClickHouse) and source .tools/env"
        )
    })
}

/// Every shipped query as `(folder/file.sql, SQL as run)`: the dashboard queries as they are,
/// the report's with each `?` bound to `date` as the clickhouse crate binds it (`??` is a
/// literal `?`), the same rule as run_on_chdb.py's `bind_date`.
fn shipped_queries(dashboards: &Path, date: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (folder, bind) in [("queries", false), ("report", true)] {
        for name in super::sql_files(&dashboards.join(folder)) {
            let path = dashboards.join(folder).join(format!("{name}.sql"));
            let sql = std::fs::read_to_string(&path).unwrap();
            let sql = if bind { bind_date(&sql, date) } else { sql };
            out.push((format!("{folder}/{name}.sql"), sql));
        }
    }
    out
}

fn bind_date(sql: &str, date: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find('?') {
        out.push_str(&rest[..at]);
        if rest[at + 1..].starts_with('?') {
            out.push('?');
            rest = &rest[at + 2..];
        } else {
            out.push_str(&format!("'{date}'"));
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// Stops background merges of every table of `clickhouse`'s database (on this server only,
/// until the database is dropped).
pub async fn stop_merges(clickhouse: &ClickHouseConfig) {
    let client = clickhouse.client();
    for table in tables(&client).await {
        client
            .query(&format!(
                "SYSTEM STOP MERGES `{}`.`{table}`",
                clickhouse.database
            ))
            .execute()
            .await
            .unwrap();
    }
}

/// The tables of the client's database: not the views, not the migrator's bookkeeping.
async fn tables(client: &clickhouse::Client) -> Vec<String> {
    client
        .query(
            "SELECT name FROM system.tables WHERE database = currentDatabase() \
             AND engine NOT LIKE '%View' AND name != 'schema_migrations' ORDER BY name",
        )
        .fetch_all::<String>()
        .await
        .unwrap()
}

/// A temporary folder, removed when dropped (a failed test leaves nothing behind).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes each table of `clickhouse`'s database ([`tables`]) to `folder/<table>.tsv`; returns
/// each table's row count.
async fn dump_tables(clickhouse: &ClickHouseConfig, folder: &Path) -> BTreeMap<String, u64> {
    let client = clickhouse.client();
    let mut counts = BTreeMap::new();
    for table in tables(&client).await {
        let bytes = client
            .query(&format!("SELECT * FROM `{table}`"))
            .fetch_bytes("TabSeparated")
            .unwrap()
            .collect()
            .await
            .unwrap();
        std::fs::write(folder.join(format!("{table}.tsv")), &bytes).unwrap();
        let rows = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        counts.insert(table, rows);
    }
    counts
}

/// Runs every shipped query on the local 18.16 and, on a copy of its tables, in chdb, and
/// insists that the results agree and that none is empty.
pub async fn compare(python: &str, clickhouse: &ClickHouseConfig, dashboards: &Path, date: &str) {
    let queries = shipped_queries(dashboards, date);
    let client = clickhouse.client();
    let mut on_18_16 = BTreeMap::new();
    for (name, sql) in &queries {
        let result = super::run_json_compact(&client, sql)
            .await
            .map(|bytes| serde_json::from_slice::<Value>(&bytes).unwrap());
        on_18_16.insert(name.clone(), result);
    }

    let dump = TempDir(std::env::temp_dir().join(super::common::fresh("dashboards_dump")));
    std::fs::create_dir_all(&dump.0).unwrap();
    let tables = dump_tables(clickhouse, &dump.0).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dashboards/run_on_chdb.py");
    let mut command = Command::new(python);
    command
        .arg(&script)
        .arg("--data")
        .arg(&dump.0)
        .arg("--date")
        .arg(date);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot run {python} (PORTRAIT_CHDB_PYTHON): {e}"));
    assert!(
        output.status.success(),
        "{} failed ({}):\n{}",
        script.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let current: Value = serde_json::from_slice(&output.stdout).unwrap();
    println!(
        "chdb-core {} (ClickHouse {}), {} queries, tables {tables:?}",
        current["chdb"],
        current["version"],
        queries.len()
    );

    let loaded: BTreeMap<String, u64> = serde_json::from_value(current["tables"].clone()).unwrap();
    assert_eq!(loaded, tables, "rows loaded into chdb, per table");
    let names: Vec<&String> = current["results"]
        .as_object()
        .expect("results by query")
        .keys()
        .collect();
    assert_eq!(
        names,
        on_18_16.keys().collect::<Vec<_>>(),
        "chdb ran the same files"
    );

    let mut failures = Vec::new();
    for (name, local) in &on_18_16 {
        let theirs = &current["results"][name];
        let problem = match local {
            Err(error) => Some(format!("fails on 18.16: {error}")),
            Ok(_) if theirs.get("error").is_some() => {
                Some(format!("fails on current ClickHouse: {}", theirs["error"]))
            }
            Ok(local) if local["data"].as_array().is_none_or(Vec::is_empty) => {
                Some("returns no rows on the seeded data, which would prove nothing".to_owned())
            }
            Ok(local) => difference(local, theirs),
        };
        let rows = local
            .as_ref()
            .ok()
            .and_then(|l| l["data"].as_array())
            .map_or(0, Vec::len);
        println!(
            "{name}: {rows} rows, {}",
            problem.as_deref().unwrap_or("the same on both")
        );
        if let Some(problem) = problem {
            failures.push(format!("{name}: {problem}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// How the result on current ClickHouse differs from the one on 18.16, if it does.
fn difference(local: &Value, current: &Value) -> Option<String> {
    if local["meta"] != current["meta"] {
        return Some(format!(
            "columns differ: 18.16 {}, current {}",
            local["meta"], current["meta"]
        ));
    }
    let (ours, theirs) = (
        local["data"].as_array().unwrap(),
        current["data"].as_array().unwrap(),
    );
    if ours.len() != theirs.len() {
        return Some(format!(
            "{} rows on 18.16, {} on current",
            ours.len(),
            theirs.len()
        ));
    }
    let rows: Vec<String> = ours
        .iter()
        .zip(theirs)
        .enumerate()
        .filter(|(_, (a, b))| !same(a, b))
        .map(|(i, (a, b))| format!("row {}: 18.16 {a}, current {b}", i + 1))
        .collect();
    (!rows.is_empty()).then(|| {
        format!(
            "{} rows differ:\n  {}",
            rows.len(),
            rows[..rows.len().min(10)].join("\n  ")
        )
    })
}

/// Equal values, numbers compared by value (`1` and `1.0`, `0.1` and `1e-1` are the same).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_binds_like_the_clickhouse_crate() {
        assert_eq!(
            bind_date("SELECT ? AS d, '??' AS q -- why??", "2026-04-30"),
            "SELECT '2026-04-30' AS d, '?' AS q -- why?"
        );
    }
}
