//! Embeds the ClickHouse migrations (`schemas/clickhouse/NNNN_*.sql`) in the binary, so that
//! `portrait migrate` works from any directory and always applies the schema it was built with.
//!
//! Generates `$OUT_DIR/clickhouse_migrations.rs`: a slice of `Migration { name, sql }` sorted by
//! file name, each `sql` an `include_str!` of the file. Names and contents are checked at run
//! time by `clickhouse::migrate`, in one place for embedded and test-supplied migrations alike.

use std::{env, fmt::Write as _, fs, path::PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let schemas = manifest_dir.join("../schemas/clickhouse");
    // A directory here makes cargo rebuild when any file in it is added, removed or changed.
    println!("cargo:rerun-if-changed={}", schemas.display());

    let mut files: Vec<PathBuf> = fs::read_dir(&schemas)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", schemas.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| is_numbered_sql(path))
        .collect();
    files.sort();

    let mut generated = String::from("&[\n");
    for path in &files {
        let path = path
            .canonicalize()
            .unwrap_or_else(|err| panic!("cannot resolve {}: {err}", path.display()));
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_else(|| panic!("{} is not a UTF-8 file name", path.display()));
        let path = path
            .to_str()
            .unwrap_or_else(|| panic!("{} is not a UTF-8 path", path.display()));
        writeln!(
            generated,
            "    Migration {{ name: {name:?}, sql: include_str!({path:?}) }},"
        )
        .expect("writing to a String cannot fail");
    }
    generated.push_str("]\n");

    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    fs::write(out.join("clickhouse_migrations.rs"), generated)
        .expect("cannot write clickhouse_migrations.rs to OUT_DIR");
}

/// Whether `path` is meant as a migration: a `.sql` file whose name starts with four digits.
/// Other SQL files sit beside the migrations without being ones: `roles.sql` is run by an
/// administrator (it creates users and grants, which `migrate` has no business doing), and
/// `migrate` would refuse any name that is not `NNNN_name.sql`. The full check of the name
/// stays in `migrate`, so a misnamed migration (`0007-foo.sql`) is still embedded and refused.
fn is_numbered_sql(path: &std::path::Path) -> bool {
    let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
        return false;
    };
    let bytes = name.as_bytes();
    name.ends_with(".sql") && bytes.len() > 4 && bytes[..4].iter().all(u8::is_ascii_digit)
}
