#!/usr/bin/env python3
"""Writes grafana/dashboards/portrait.json from the query files in queries/.

Each panel's rawSql is the exact text of one query file, so the dashboard and the SQL that
tests and people run by hand cannot drift apart. Run it after adding or editing a query:

    python3 dashboards/build.py            # rewrite the dashboard
    python3 dashboards/build.py --check    # exit 1 if the dashboard is stale (for CI)

Standard library only (Python 3.11). The layout lives here, the SQL and what each column
means live in the query files.
"""

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUERIES = HERE / "queries"
DASHBOARD = HERE / "grafana" / "dashboards" / "portrait.json"

# Must match grafana/provisioning/datasources/portrait.yaml.
DATASOURCE = {"type": "grafana-clickhouse-datasource", "uid": "portrait-clickhouse"}

# The plugin's query formats: time series panels get a time-sorted frame, the others a table.
FORMAT_TIMESERIES = 0
FORMAT_TABLE = 1

GRID_WIDTH = 24


@dataclass
class Panel:
    query: str  # file name in queries/, without .sql
    title: str
    kind: str  # Grafana panel type
    width: int
    height: int = 8
    options: dict = field(default_factory=dict)
    field_config: dict = field(default_factory=lambda: {"defaults": {}, "overrides": []})
    hide: tuple = ()  # columns that only order the rows


def timeseries(query, title, width, bars=False):
    custom = {"drawStyle": "bars", "fillOpacity": 80, "stacking": {"mode": "normal"}} if bars else {}
    return Panel(
        query, title, "timeseries", width,
        options={"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                 "tooltip": {"mode": "multi", "sort": "none"}},
        field_config={"defaults": {"custom": custom}, "overrides": []},
    )


def barchart(query, title, width, x, hide=(), horizontal=False):
    return Panel(
        query, title, "barchart", width, hide=hide,
        options={"xField": x, "orientation": "horizontal" if horizontal else "vertical",
                 "showValue": "auto", "stacking": "none",
                 "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                 "tooltip": {"mode": "multi", "sort": "none"}},
    )


def stat(query, title, width, units=None, height=8):
    overrides = [
        {"matcher": {"id": "byRegexp", "options": pattern},
         "properties": [{"id": "unit", "value": unit}]}
        for pattern, unit in (units or {}).items()
    ]
    return Panel(
        query, title, "stat", width, height,
        options={"reduceOptions": {"values": False, "calcs": ["lastNotNull"], "fields": ""},
                 "textMode": "value_and_name", "colorMode": "none", "graphMode": "none"},
        field_config={"defaults": {}, "overrides": overrides},
    )


def table(query, title, width):
    return Panel(query, title, "table", width, options={"showHeader": True})


# Sections top to bottom; panels fill each line of the 24-column grid left to right.
SECTIONS = [
    ("Acquisition and activation", [
        timeseries("new_and_activated_users_per_day", "New and activated users per day", 12),
        barchart("time_to_activation", "Days from first seen to activation", 12, x="days",
                 hide=("bucket",)),
        stat("activation_funnel", "Activation funnel: registered, first message, activated", 12,
             units={"/_rate$/": "percentunit"}),
        stat("time_to_activation_summary", "Time to activation", 12, units={"/_hours$/": "h"}),
    ]),
    ("Lifecycle, churn and alerts", [
        barchart("lifecycle_stages", "Users by lifecycle stage", 8, x="stage"),
        barchart("churn_risk_distribution", "Users by churn risk", 8, x="risk", hide=("bucket",)),
        timeseries("churned_and_reactivated_per_day", "Churned and reactivated per day", 8,
                   bars=True),
        timeseries("alerts_per_day", "Operator alerts per day, by kind", 24, bars=True),
    ]),
    ("Promotion and value", [
        table("promotion_tiers", "Promotion tiers and discount share", 12),
        barchart("top_categories", "Top categories (users with it in their top 5)", 12,
                 x="category", horizontal=True),
        table("rfm_grid", "RFM grid (recency x frequency)", 12),
        table("rfm_segments", "RFM segments", 12),
    ]),
    ("Activity (event archive)", [
        timeseries("active_users_per_day", "DAU, WAU and MAU", 12),
        timeseries("page_views_per_day", "Page views (PV) and unique viewers (UV)", 12),
    ]),
]


def question(sql):
    """The header's `Question:` text, for the panel description."""
    lines = []
    for line in sql.splitlines():
        text = line.removeprefix("--").strip()
        if not line.startswith("--") or (lines and re.match(r"[A-Z][a-z]+:", text)):
            break
        if text.startswith("Question:"):
            text = text.removeprefix("Question:").strip()
        elif not lines:
            continue
        lines.append(text)
    text = " ".join(lines)
    return text[:1].upper() + text[1:]


def panel_json(panel, panel_id, x, y):
    sql = (QUERIES / f"{panel.query}.sql").read_text(encoding="utf-8")
    timeseries_format = panel.kind == "timeseries"
    out = {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": f"{question(sql)}\n\nQuery: dashboards/queries/{panel.query}.sql",
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": panel.width, "h": panel.height},
        "targets": [{
            "refId": "A",
            "datasource": DATASOURCE,
            "editorType": "sql",
            "format": FORMAT_TIMESERIES if timeseries_format else FORMAT_TABLE,
            "queryType": "timeseries" if timeseries_format else "table",
            "rawSql": sql,
        }],
        "options": panel.options,
        "fieldConfig": panel.field_config,
    }
    if panel.hide:
        out["transformations"] = [{
            "id": "organize",
            "options": {"excludeByName": {name: True for name in panel.hide}},
        }]
    return out


def dashboard():
    panels, y, next_id = [], 0, 1
    for title, section in SECTIONS:
        panels.append({"id": next_id, "type": "row", "title": title, "collapsed": False,
                       "gridPos": {"x": 0, "y": y, "w": GRID_WIDTH, "h": 1}, "panels": []})
        next_id, y, x, line_height = next_id + 1, y + 1, 0, 0
        for panel in section:
            if x + panel.width > GRID_WIDTH:
                x, y, line_height = 0, y + line_height, 0
            panels.append(panel_json(panel, next_id, x, y))
            next_id, x, line_height = next_id + 1, x + panel.width, max(line_height, panel.height)
        y += line_height
    return {
        "uid": "portrait-users",
        "title": "Portrait: users, activation, churn and value",
        "description": "Generated by dashboards/build.py from dashboards/queries/*.sql; "
                       "edit those, not this file.",
        "tags": ["portrait"],
        "timezone": "utc",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "time": {"from": "now-90d", "to": "now"},
        "refresh": "",
        "panels": panels,
    }


def main():
    # One panel per query file and one file per panel, so a file names its panel.
    files = {path.stem for path in QUERIES.glob("*.sql")}
    queries = [panel.query for _, section in SECTIONS for panel in section]
    used = set(queries)
    if files != used or len(queries) != len(used):
        sys.exit(f"build.py: query files without a panel: {sorted(files - used)}; "
                 f"panels without a query file: {sorted(used - files)}; "
                 f"queries on several panels: {sorted({q for q in queries if queries.count(q) > 1})}")
    text = json.dumps(dashboard(), indent=2, ensure_ascii=False) + "\n"
    if sys.argv[1:] == ["--check"]:
        current = DASHBOARD.read_text(encoding="utf-8") if DASHBOARD.exists() else ""
        if current != text:
            sys.exit(f"{DASHBOARD} is stale: run python3 dashboards/build.py")
        return
    DASHBOARD.parent.mkdir(parents=True, exist_ok=True)
    DASHBOARD.write_text(text, encoding="utf-8")
    print(f"wrote {DASHBOARD.relative_to(HERE.parent)} ({len(used)} queries)")


if __name__ == "__main__":
    main()
