//! The Grafana dashboard runs exactly the tested queries: every panel's SQL is the text of one
//! file in dashboards/queries/ (dashboards/build.py copies it verbatim, with no rewriting), and
//! every file has exactly one panel. Reads the generated JSON; needs no service.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The data source uid of grafana/provisioning/datasources/portrait.yaml.
const DATASOURCE_UID: &str = "portrait-clickhouse";

/// Checks grafana/dashboards/portrait.json under `dashboards` against the query files, and
/// that it is what build.py writes now (`build.py --check`).
pub fn check_dashboard(dashboards: &Path) {
    let build = Command::new("python3")
        .arg(dashboards.join("build.py"))
        .arg("--check")
        .output()
        .expect("run python3 dashboards/build.py --check (is python3 installed?)");
    assert!(
        build.status.success(),
        "dashboards/build.py --check: {}{}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );

    let mut queries: BTreeMap<String, String> = BTreeMap::new();
    for name in super::sql_files(&dashboards.join("queries")) {
        queries.insert(name.clone(), super::read_query(&name));
    }
    let path = dashboards.join("grafana/dashboards/portrait.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));

    // Query file name -> titles of the panels running it.
    let mut panels_of: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for panel in json["panels"].as_array().expect("the dashboard has panels") {
        let title = panel["title"].as_str().unwrap_or("(untitled)").to_owned();
        if panel["type"] == "row" {
            continue;
        }
        let targets = panel["targets"].as_array().unwrap_or_else(|| {
            panic!("panel {title:?} has no targets");
        });
        assert_eq!(targets.len(), 1, "panel {title:?} runs one query");
        let target = &targets[0];
        for datasource in [&panel["datasource"], &target["datasource"]] {
            assert_eq!(
                datasource["uid"], DATASOURCE_UID,
                "panel {title:?} reads the provisioned data source"
            );
        }
        let sql = target["rawSql"]
            .as_str()
            .unwrap_or_else(|| panic!("panel {title:?} has no rawSql"));
        let Some((name, _)) = queries.iter().find(|(_, text)| text.as_str() == sql) else {
            panic!(
                "panel {title:?} runs SQL that is no file in dashboards/queries/ (edited by \
                 hand or stale: run python3 dashboards/build.py):\n{sql}"
            );
        };
        let description = panel["description"].as_str().unwrap_or_default();
        assert!(
            description.ends_with(&format!("Query: dashboards/queries/{name}.sql")),
            "panel {title:?} names the file it runs, {name}.sql: {description:?}"
        );
        panels_of.entry(name).or_default().push(title);
    }
    for name in queries.keys() {
        let panels = panels_of.get(name.as_str()).map_or(0, Vec::len);
        assert_eq!(
            panels,
            1,
            "{name}.sql has {panels} panels ({:?}), not one",
            panels_of.get(name.as_str())
        );
    }
}
