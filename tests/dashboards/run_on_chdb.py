#!/usr/bin/env python3
"""Runs Portrait's schema and every shipped query on current ClickHouse, in process (chdb).

    run_on_chdb.py --data DIR --date YYYY-MM-DD [--repo ROOT]

1. Creates the database `portrait` in a chdb Session under a temporary directory.
2. Applies schemas/clickhouse/NNNN_*.sql in order, each split into statements as
   `portrait migrate` splits it (on `;` outside quotes and comments; see
   connectors/src/clickhouse/migrate.rs), with nothing substituted; then the CRM database's
   file, schemas/clickhouse/crm/user_profiles_current.sql, for `portrait_crm`, as `migrate`
   applies it when `[clickhouse] crm_database` is set. (roles.sql is checked elsewhere:
   chdb has no user storage to run it in, tests/access_control.rs.)
3. Loads DIR/<table>.tsv into each table: the table's rows as TabSeparated, as
   `SELECT * FROM <table> FORMAT TabSeparated` writes them (on 18.16, say). Merges are
   off, so the tables keep every row loaded (a profile's older versions too). The CRM's
   view must then show every profile, fed by its materialized view as on 18.16.
4. Runs every dashboards/queries/*.sql as it is, and every dashboards/report/*.sql with each `?`
   replaced by the date literal '<date>' (`??` stands for a literal `?`), as the clickhouse
   crate binds the report's date.
5. Prints one JSON object: {"version": "<server version>", "chdb": "<chdb-core version>",
   "tables": {"<table>": <rows loaded>, ...}, "results": {"queries/NAME.sql": <the JSONCompact
   result, or {"error": "..."}>, ...}}, with 64-bit integers as JSON numbers.

A schema statement or a load that fails stops the run (exit status 1, the error on stderr); a
query that fails is reported in its result, so one run shows every failing query. Needs
chdb-core (`scripts/tools up` installs it in .tools/chdb; run it with PORTRAIT_CHDB_PYTHON).
tests/dashboards/ (the `current` module) runs it on what the pipeline wrote to 18.16 and compares.
"""

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

import chdb
from chdb.session import Session

DATABASE = "portrait"
CRM_DATABASE = "portrait_crm"


def statements(sql):
    """Splits on the `;` that end statements, as migrate.rs does: not those inside '...'
    strings, "..." or `...` identifiers (a backslash escapes the next character, a doubled
    quote stands for itself), `--` comments or /* */ comments. Drops empty statements."""
    out, start, i, n = [], None, 0, len(sql)
    while i < n:
        c = sql[i]
        if sql.startswith("--", i):
            i = sql.find("\n", i)
            i = n if i < 0 else i
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end < 0:
                raise ValueError("block comment is never closed")
            i = end + 2
        elif c in "'\"`":
            start = i if start is None else start
            i += 1
            while True:
                if i >= n:
                    raise ValueError("quote is never closed")
                if sql[i] == "\\":
                    i += 2
                elif sql[i] == c:
                    if sql.startswith(c, i + 1):
                        i += 2
                    else:
                        i += 1
                        break
                else:
                    i += 1
        elif c == ";":
            if start is not None:
                out.append(sql[start:i].rstrip())
                start = None
            i += 1
        else:
            if not c.isspace() and start is None:
                start = i
            i += 1
    if start is not None:
        out.append(sql[start:].rstrip())
    return out


def bind_date(sql, date):
    """Every `?` becomes the date literal, every `??` a `?`: the clickhouse crate's binding."""
    return re.sub(r"\?\??", lambda m: "?" if m.group() == "??" else f"'{date}'", sql)


def literal(text):
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def run(session, sql, fmt="TabSeparated"):
    return session.query(sql, fmt).bytes().decode("utf-8")


def apply_schema(session, repo):
    schemas = repo / "schemas" / "clickhouse"
    for migration in sorted(schemas.glob("[0-9][0-9][0-9][0-9]_*.sql")):
        apply(session, migration, migration.read_text("utf-8"))
    crm = schemas / "crm" / "user_profiles_current.sql"
    sql = crm.read_text("utf-8")
    sql = sql.replace("{database}", f"`{DATABASE}`").replace("{crm_database}", f"`{CRM_DATABASE}`")
    apply(session, crm, sql)


def apply(session, path, sql):
    for number, statement in enumerate(statements(sql), 1):
        try:
            session.query(statement)
        except Exception as error:
            sys.exit(f"{path.name}, statement {number} failed: {error}\n{statement}")


def load(session, data):
    """Loads each DIR/<table>.tsv into <table>; returns the rows each table then holds."""
    tables = {}
    for dump in sorted(data.glob("*.tsv")):
        # file() without a structure takes the insertion table's columns
        # (use_structure_from_insertion_table_in_table_functions).
        try:
            session.query(f"INSERT INTO `{dump.stem}` SELECT * FROM file("
                          f"{literal(str(dump.resolve()))}, 'TabSeparated')")
        except Exception as error:
            sys.exit(f"cannot load {dump}: {error}")
        tables[dump.stem] = int(run(session, f"SELECT count() FROM `{dump.stem}`"))
    return tables


def run_queries(session, repo, date):
    results = {}
    for folder, bind in (("queries", False), ("report", True)):
        for query in sorted((repo / "dashboards" / folder).glob("*.sql")):
            sql = query.read_text("utf-8")
            if bind:
                sql = bind_date(sql, date)
            try:
                result = json.loads(run(session, sql, "JSONCompact"))
            except Exception as error:
                result = {"error": str(error)}
            results[f"{folder}/{query.name}"] = result
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, type=Path, help="folder of <table>.tsv dumps")
    parser.add_argument("--date", required=True, help="the report queries' date, YYYY-MM-DD")
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[2],
                        help="the repository root (default: this script's)")
    args = parser.parse_args()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", args.date):
        sys.exit(f"--date must be YYYY-MM-DD, not {args.date!r}")

    with tempfile.TemporaryDirectory(prefix="portrait-chdb-") as path:
        session = Session(path)
        try:
            session.query(f"CREATE DATABASE {DATABASE}")
            session.query(f"USE {DATABASE}")
            session.query("SET output_format_json_quote_64bit_integers = 0")
            apply_schema(session, args.repo)
            # The tables keep exactly the rows loaded, old versions and repeats included, so
            # the views' FINAL collapses them at read time as on 18.16, and the row counts
            # can be compared with the dumps': no merges, and no merging of an inserted block
            # (optimize_on_insert, on by default since 20.x, absent in 18.16).
            session.query("SYSTEM STOP MERGES")
            session.query("SET optimize_on_insert = 0")
            tables = load(session, args.data)
            count = "SELECT count() FROM {}.user_profiles_current"
            profiles, crm = (run(session, count.format(db)) for db in (DATABASE, CRM_DATABASE))
            if profiles != crm:
                sys.exit(f"the CRM's view shows {crm.strip()} profiles, not {profiles.strip()}")
            results = run_queries(session, args.repo, args.date)
            version = run(session, "SELECT version()").strip()
        finally:
            session.close()
    out = {"version": version, "chdb": chdb.__version__, "tables": tables, "results": results}
    json.dump(out, sys.stdout, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
