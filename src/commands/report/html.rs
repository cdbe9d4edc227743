//! The page: a [`Report`] as one self-contained HTML document.
//!
//! Self-contained means inline CSS and inline SVG and nothing else: no script, no stylesheet,
//! font or image from anywhere, so the file opens the same from a mail attachment, a shared
//! drive or an air-gapped laptop, and shows nothing the operator did not receive. Every text
//! from the data goes through [`Escaped`].
//!
//! Numbers are written plainly (`1234`, not `1,234`), the same in the tiles, the tables and
//! the charts' `data-value`s, so that what the page says can be checked against ClickHouse by
//! a program as well as by eye. The one exception is the model's predictions, expectations
//! rather than counts: one decimal in the table, every digit in their bars' `data-value`s.
//! Each chart has its own colours, used nowhere else on the page
//! (tests/report.rs counts them in a screenshot).

use std::fmt::{self, Write};

use portrait_core::time::EventTime;

use super::calibration::{Calibration, ModelInForce};
use super::chart::{readable, BarChart, Series};
use super::data::{Report, RiskRow, DAYS, TOP_RISK};
use super::date::ReportDate;
use super::escape::Escaped;

const STAGES_COLOUR: &str = "#2563eb";
const NEW_COLOUR: &str = "#16a34a";
const CHURNED_COLOUR: &str = "#dc2626";
const REACTIVATED_COLOUR: &str = "#9333ea";
const TIERS_COLOUR: &str = "#d97706";
const ALERTS_COLOUR: &str = "#0891b2";
const ACTUAL_REPEATS_COLOUR: &str = "#0f766e";
const PREDICTED_REPEATS_COLOUR: &str = "#be185d";

/// Daily axis labels every this many days (and on D).
const LABEL_EVERY: usize = 5;
/// Weekly axis labels every this many weeks (and on D's week).
const LABEL_EVERY_WEEKS: usize = 4;

const STYLE: &str = r#"
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: #111827; background: #ffffff; max-width: 1120px; margin: 24px auto; padding: 0 16px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 4px; }
p { margin: 4px 0 8px; }
.meta, .explain, footer { color: #4b5563; }
.note { border-left: 4px solid #6b7280; background: #f3f4f6; padding: 8px 12px; margin: 12px 0; }
.tiles { display: flex; gap: 12px; margin: 16px 0; padding: 0; }
.tiles div { flex: 1; border: 1px solid #d1d5db; border-radius: 6px; padding: 8px 12px; }
.tiles dt { color: #4b5563; font-size: 13px; }
.tiles dd { margin: 0; font-size: 28px; font-weight: 600; }
svg.chart { display: block; max-width: 100%; height: auto; font-size: 12px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { padding: 3px 12px 3px 0; text-align: left; border-bottom: 1px solid #e5e7eb; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
details { margin: 8px 0; }
code { font-size: 13px; }
"#;

/// The whole document for `report`, read from `database`.
pub fn render(report: &Report, database: &str) -> String {
    let mut out = String::with_capacity(64 * 1024);
    write_page(&mut out, report, database).expect("writing to a String cannot fail");
    out
}

fn write_page(out: &mut String, report: &Report, database: &str) -> fmt::Result {
    let date = report.date;
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Portrait daily report, {date}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
    )?;
    write!(
        out,
        "<header>\n<h1>Portrait daily report: <time datetime=\"{date}\">{date}</time></h1>\n\
         <p class=\"meta\">Database <code>{}</code>. ",
        Escaped(database)
    )?;
    match report.as_of {
        Some(as_of) => write!(
            out,
            "Profiles as of <time data-metric=\"as_of\">{}</time>, the pipeline's latest \
             watermark. Days are UTC calendar days, in event time.</p>\n</header>\n",
            utc(as_of)
        )?,
        None => out.push_str("No profiles yet.</p>\n</header>\n"),
    }
    write_notes(out, report, database)?;
    write_tiles(out, report)?;
    write_stages(out, report)?;
    write_daily(out, report)?;
    write_tiers(out, report)?;
    write_alerts(out, report)?;
    write_risk(out, report)?;
    write_calibration(out, &report.calibration, report.date)?;
    write!(
        out,
        "<footer>\n<p>Written by <code>portrait report --date {date}</code> (portrait {}). \
         Where each number comes from: docs/report.md; the SQL: dashboards/report/.</p>\n\
         </footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// What an operator must know before trusting the numbers: empty tables, and a report date
/// that is not the profiles' day.
fn write_notes(out: &mut String, report: &Report, database: &str) -> fmt::Result {
    let date = report.date;
    let Some(as_of) = report.as_of else {
        return writeln!(
            out,
            "<p class=\"note\" data-note=\"no-profiles\">There are no profiles in database \
             <code>{}</code>: every number below is zero. Has <code>portrait migrate</code> run \
             against it, and has <code>portrait run</code> written to it?</p>",
            Escaped(database)
        );
    };
    if report.alerts_stored == 0 {
        out.push_str(
            "<p class=\"note\" data-note=\"no-alerts\">No alert is stored in ClickHouse at all, \
             so the churned and reactivated series and the alert counts are zero. They come \
             from the <code>profile_alerts</code> table, which only the ClickHouse alert sink \
             fills (<code>[alerts] clickhouse = true</code>, the default; docs/alerts.md). If \
             it is off, alerts went to the webhook or the Kafka topic only.</p>\n",
        );
    }
    let as_of_day = ReportDate(as_of.day());
    if as_of_day < date {
        writeln!(
            out,
            "<p class=\"note\" data-note=\"behind\">The pipeline has not reached {date} yet: its \
             latest watermark is {}. The counts for {as_of_day} and later are incomplete or \
             zero.</p>",
            utc(as_of)
        )?;
    } else if as_of_day > date {
        writeln!(
            out,
            "<p class=\"note\" data-note=\"later\">The stages, tiers and the risk list describe \
             the profiles as of {}, after {date}: ClickHouse keeps each user's latest profile \
             only. The daily counts are those of {date} and the days before.</p>",
            utc(as_of)
        )?;
    }
    Ok(())
}

fn write_tiles(out: &mut String, report: &Report) -> fmt::Result {
    let today = report.today();
    let date = report.date;
    out.push_str("<dl class=\"tiles\">\n");
    for (metric, label, value) in [
        (
            "profiles",
            "Users with a profile".to_owned(),
            report.profiles,
        ),
        ("new_users", format!("New users on {date}"), today.new_users),
        ("churned", format!("Churned on {date}"), today.churned),
        (
            "reactivated",
            format!("Reactivated on {date}"),
            today.reactivated,
        ),
        ("alerts", format!("Alerts on {date}"), report.alerts_today()),
    ] {
        writeln!(
            out,
            "<div><dt>{label}</dt><dd data-metric=\"{metric}\">{value}</dd></div>"
        )?;
    }
    out.push_str("</dl>\n");
    Ok(())
}

fn write_stages(out: &mut String, report: &Report) -> fmt::Result {
    let rows: Vec<(&str, u64)> = report
        .stages
        .iter()
        .map(|(s, n)| (s.as_str(), *n))
        .collect();
    let stages = Distribution {
        id: "stages",
        heading: "Lifecycle stages now",
        explain: "Users per <code>lifecycle_stage</code> of their latest profile \
                  (docs/signals.md).",
        title: "Users per lifecycle stage",
        colour: STAGES_COLOUR,
        label: "Stage",
    };
    stages.write(out, &rows, report.profiles)
}

fn write_tiers(out: &mut String, report: &Report) -> fmt::Result {
    let rows: Vec<(&str, u64)> = report.tiers.iter().map(|(t, n)| (t.as_str(), *n)).collect();
    let tiers = Distribution {
        id: "tiers",
        heading: "Promotion tiers now",
        explain: "Users per <code>promo_tier</code>: how much of what they order is on \
                  promotion. <code>unknown</code> is fewer than 3 orders (docs/signals.md).",
        title: "Users per promotion tier",
        colour: TIERS_COLOUR,
        label: "Tier",
    };
    tiers.write(out, &rows, report.profiles)
}

/// A section of users per category (stage, tier): a bar chart and a table with each share.
struct Distribution {
    id: &'static str,
    heading: &'static str,
    /// HTML.
    explain: &'static str,
    title: &'static str,
    colour: &'static str,
    /// The table's header for the categories.
    label: &'static str,
}

impl Distribution {
    fn write(&self, out: &mut String, rows: &[(&str, u64)], profiles: u64) -> fmt::Result {
        writeln!(
            out,
            "<section id=\"{}\">\n<h2>{}</h2>\n<p class=\"explain\">{}</p>",
            self.id, self.heading, self.explain
        )?;
        let chart = BarChart {
            id: self.id,
            title: self.title,
            categories: rows.iter().map(|(name, _)| (*name).to_owned()).collect(),
            label_every: 1,
            value_labels: true,
            series: vec![Series {
                key: "users",
                label: "users",
                colour: self.colour,
                values: rows.iter().map(|(_, n)| *n as f64).collect(),
            }],
        };
        chart.write_svg(out)?;
        write_share_table(out, self.label, rows, profiles)?;
        out.push_str("</section>\n");
        Ok(())
    }
}

fn write_share_table(
    out: &mut String,
    what: &str,
    rows: &[(&str, u64)],
    total: u64,
) -> fmt::Result {
    write!(
        out,
        "<table>\n<tr><th>{what}</th><th class=\"num\">Users</th><th class=\"num\">Share</th></tr>\n"
    )?;
    for (name, users) in rows {
        let share = if total == 0 {
            "–".to_owned()
        } else {
            format!("{:.1}%", *users as f64 * 100.0 / total as f64)
        };
        writeln!(
            out,
            "<tr data-key=\"{name}\"><th>{name}</th><td class=\"num\">{users}</td>\
             <td class=\"num\">{share}</td></tr>",
            name = Escaped(name)
        )?;
    }
    out.push_str("</table>\n");
    Ok(())
}

fn write_daily(out: &mut String, report: &Report) -> fmt::Result {
    let first = report.days.first().expect("DAYS days").day;
    write!(
        out,
        "<section id=\"daily\">\n<h2>New, churned and reactivated users, {first} to {}</h2>\n\
         <p class=\"explain\">Per day over the {DAYS} days ending the report's date. New: users \
         first seen that day. Churned and reactivated: moves into that stage that day, from the \
         alerts, at most one per user and kind within the 7-day alert cooldown \
         (docs/alerts.md).</p>\n",
        report.date
    )?;
    let chart = BarChart {
        id: "daily",
        title: "New, churned and reactivated users per day",
        categories: report.days.iter().map(|d| d.day.month_day()).collect(),
        label_every: LABEL_EVERY,
        value_labels: false,
        series: vec![
            Series {
                key: "new_users",
                label: "new",
                colour: NEW_COLOUR,
                values: report.days.iter().map(|d| d.new_users as f64).collect(),
            },
            Series {
                key: "churned",
                label: "churned",
                colour: CHURNED_COLOUR,
                values: report.days.iter().map(|d| d.churned as f64).collect(),
            },
            Series {
                key: "reactivated",
                label: "reactivated",
                colour: REACTIVATED_COLOUR,
                values: report.days.iter().map(|d| d.reactivated as f64).collect(),
            },
        ],
    };
    chart.write_svg(out)?;
    out.push_str(
        "<details>\n<summary>The numbers, day by day</summary>\n<table>\n<tr><th>Day</th>\
         <th class=\"num\">New</th><th class=\"num\">Churned</th><th class=\"num\">Reactivated</th>\
         </tr>\n",
    );
    for day in &report.days {
        writeln!(
            out,
            "<tr data-key=\"{d}\"><th>{d}</th><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td></tr>",
            day.new_users,
            day.churned,
            day.reactivated,
            d = day.day
        )?;
    }
    out.push_str("</table>\n</details>\n</section>\n");
    Ok(())
}

fn write_alerts(out: &mut String, report: &Report) -> fmt::Result {
    let date = report.date;
    write!(
        out,
        "<section id=\"alerts\">\n<h2>Alerts by kind on {date}</h2>\n<p class=\"explain\">Operator \
         alerts whose transition falls on {date}, each once; the table adds the {DAYS} days \
         ending it (docs/alerts.md).</p>\n"
    )?;
    let chart = BarChart {
        id: "alerts",
        title: "Alerts by kind on the report's date",
        categories: report
            .alerts
            .iter()
            .map(|k| k.kind.as_str().to_owned())
            .collect(),
        label_every: 1,
        value_labels: true,
        series: vec![Series {
            key: "on_day",
            label: "alerts",
            colour: ALERTS_COLOUR,
            values: report.alerts.iter().map(|k| k.on_day as f64).collect(),
        }],
    };
    chart.write_svg(out)?;
    write!(
        out,
        "<table>\n<tr><th>Kind</th><th class=\"num\">On {date}</th>\
         <th class=\"num\">{DAYS} days</th></tr>\n"
    )?;
    for kind in &report.alerts {
        writeln!(
            out,
            "<tr data-key=\"{k}\"><th>{k}</th><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            kind.on_day,
            kind.in_30_days,
            k = kind.kind
        )?;
    }
    out.push_str("</table>\n</section>\n");
    Ok(())
}

fn write_risk(out: &mut String, report: &Report) -> fmt::Result {
    write!(
        out,
        "<section id=\"risk\">\n<h2>Highest churn risk: the top {TOP_RISK} not yet churned</h2>\n\
         <p class=\"explain\">The users with the highest <code>churn_risk</code> in their latest \
         profile, ties by user id. Users already <code>churned</code> (contact removed, account \
         closed, or 60+ days inactive) are left out: their risk is at or near 100%, they would \
         fill the list, and the churned alerts name them. These are the ones still worth a \
         call.</p>\n"
    )?;
    if report.top_risk.is_empty() {
        out.push_str("<p class=\"note\" data-note=\"no-risk\">No user outside <code>churned</code>.</p>\n</section>\n");
        return Ok(());
    }
    out.push_str(
        "<table>\n<tr><th class=\"num\">#</th><th>User</th><th>Stage</th>\
         <th class=\"num\">Churn risk</th><th class=\"num\">Days inactive</th><th>Last active</th>\
         <th class=\"num\">Activity drop</th><th class=\"num\">Orders</th>\
         <th class=\"num\">Revenue</th></tr>\n",
    );
    for (rank, user) in report.top_risk.iter().enumerate() {
        write_risk_row(out, rank + 1, user)?;
    }
    out.push_str("</table>\n</section>\n");
    Ok(())
}

fn write_risk_row(out: &mut String, rank: usize, user: &RiskRow) -> fmt::Result {
    let last_active = match user.last_active_at {
        Some(seconds) => {
            ReportDate(EventTime::from_millis(i64::from(seconds) * 1000).day()).to_string()
        }
        None => "never".to_owned(),
    };
    writeln!(
        out,
        "<tr data-key=\"{id}\"><td class=\"num\">{rank}</td><td>{id}</td><td>{stage}</td>\
         <td class=\"num\">{risk}</td><td class=\"num\">{inactive}</td><td>{last_active}</td>\
         <td class=\"num\">{drop}</td><td class=\"num\">{orders}</td>\
         <td class=\"num\">{revenue:.2}</td></tr>",
        id = Escaped(&user.user_id),
        stage = Escaped(&user.lifecycle_stage),
        risk = percent(user.churn_risk),
        inactive = user.days_inactive,
        drop = percent(user.frequency_drop),
        orders = user.orders,
        revenue = user.revenue,
    )
}

fn write_calibration(out: &mut String, calibration: &Calibration, date: ReportDate) -> fmt::Result {
    out.push_str(
        "<section id=\"calibration\">\n<h2>Churn model calibration: repeat orders per week</h2>\n\
         <p class=\"explain\">Per week (the 7 days ending the report's date, the 7 before, ..., \
         each labelled with its last day), the repeat orders customers placed, counted as the \
         days they ordered after their first order day (from the event archive), against the \
         number the churn model predicts for the same customers from their first order days \
         alone (docs/churn-model.md). The two should track each other. A lasting gap means the parameters no longer describe these \
         customers: fit them again (<code>portrait churn-model fit</code>); a gap that stays \
         after a fit means the model misfits them.</p>\n",
    );
    write_model(out, &calibration.model)?;
    let (Some(first), Some(last)) = (calibration.weeks.first(), calibration.weeks.last()) else {
        writeln!(
            out,
            "<p class=\"note\" data-note=\"no-orders\">No orders up to {date} in the event \
             archive (<code>events</code>): nothing to compare yet. <code>portrait run</code> \
             fills it while <code>pipeline.archive_events</code> is on, the default \
             (docs/pipeline.md).</p>\n</section>"
        )?;
        return Ok(());
    };
    let chart = BarChart {
        id: "calibration",
        title: "Actual and predicted repeat orders per week",
        categories: calibration
            .weeks
            .iter()
            .map(|w| w.last_day.month_day())
            .collect(),
        label_every: LABEL_EVERY_WEEKS,
        value_labels: false,
        series: vec![
            Series {
                key: "actual",
                label: "actual repeat orders",
                colour: ACTUAL_REPEATS_COLOUR,
                values: calibration.weeks.iter().map(|w| w.actual as f64).collect(),
            },
            Series {
                key: "predicted",
                label: "predicted by the model",
                colour: PREDICTED_REPEATS_COLOUR,
                values: calibration.weeks.iter().map(|w| w.predicted).collect(),
            },
        ],
    };
    chart.write_svg(out)?;
    writeln!(
        out,
        "<details>\n<summary>The numbers, week by week, {} to {}</summary>\n<table>\n\
         <tr><th>Week</th><th class=\"num\">Actual</th><th class=\"num\">Predicted</th></tr>",
        first.first_day, last.last_day
    )?;
    for week in &calibration.weeks {
        writeln!(
            out,
            "<tr data-key=\"{last}\"><th>{first} to {last}</th><td class=\"num\">{actual}</td>\
             <td class=\"num\">{predicted}</td></tr>",
            first = week.first_day,
            last = week.last_day,
            actual = week.actual,
            predicted = readable(week.predicted),
        )?;
    }
    out.push_str("</table>\n</details>\n</section>\n");
    Ok(())
}

/// Which parameters predicted the repeat orders: a fit of Portrait's customers, or the
/// published ones.
fn write_model(out: &mut String, model: &ModelInForce) -> fmt::Result {
    match model.fit {
        Some(fit) => write!(
            out,
            "<p class=\"meta\">Predicted with the parameters fitted at <time \
             data-metric=\"model\">{}</time> to {} customers (the latest row of \
             <code>churn_model</code>): ",
            // fitted_at is the wall clock, not event time; EventTime only formats it.
            utc(EventTime::from_millis(i64::from(fit.fitted_at) * 1000)),
            fit.customers
        )?,
        None => out.push_str(
            "<p class=\"meta\">Predicted with the <span data-metric=\"model\">defaults</span>, \
             the published parameters of the CDNOW customers, because <code>churn_model</code> \
             holds no fit yet (<code>portrait churn-model fit</code> makes one): ",
        ),
    }
    let params = model.params;
    writeln!(
        out,
        "r = <span data-metric=\"model_r\">{}</span>, α = <span data-metric=\"model_alpha\">{}\
         </span> weeks, a = <span data-metric=\"model_a\">{}</span>, b = \
         <span data-metric=\"model_b\">{}</span>.</p>",
        params.r(),
        params.alpha(),
        params.a(),
        params.b()
    )
}

/// A fraction in [0, 1] as a percent with one decimal: `0.98333` → `98.3%`.
pub fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// `2026-03-02 01:06:14 UTC`.
fn utc(t: EventTime) -> String {
    let text = t.to_string();
    format!(
        "{} {} UTC",
        &text[.."YYYY-MM-DD".len()],
        &text["YYYY-MM-DDT".len().."YYYY-MM-DDThh:mm:ss".len()]
    )
}

#[cfg(test)]
mod tests {
    use portrait_core::alerts::AlertKind;
    use portrait_core::churn_model::BgNbdParams;

    use super::super::calibration::{Fit, Week};
    use super::super::data::{DayCounts, KindCounts, KINDS, STAGES, TIERS};
    use super::*;

    fn report(profiles: u64, alerts_stored: u64) -> Report {
        let date = ReportDate::parse("2026-03-01").unwrap();
        Report {
            date,
            profiles,
            as_of: (profiles > 0)
                .then(|| EventTime::parse_rfc3339("2026-03-01T18:00:05Z").unwrap()),
            alerts_stored,
            stages: STAGES.iter().map(|&s| (s, profiles / 6)).collect(),
            tiers: TIERS.iter().map(|&t| (t, 1)).collect(),
            days: (0..DAYS as i32)
                .map(|i| DayCounts {
                    day: date.plus(i - (DAYS as i32 - 1)),
                    new_users: 2,
                    churned: 1,
                    reactivated: 0,
                })
                .collect(),
            alerts: KINDS
                .iter()
                .map(|&kind| KindCounts {
                    kind,
                    on_day: u64::from(kind == AlertKind::Churned),
                    in_30_days: 4,
                })
                .collect(),
            top_risk: vec![RiskRow {
                user_id: "<img src=x onerror=alert(1)>".to_owned(),
                lifecycle_stage: "dormant".to_owned(),
                churn_risk: 59.0 / 60.0,
                days_inactive: 59,
                last_active_at: Some(1_767_225_600),
                frequency_drop: 0.0,
                orders: 2,
                revenue: 13_100.34,
            }],
            calibration: Calibration {
                model: ModelInForce {
                    params: BgNbdParams::default(),
                    fit: None,
                },
                weeks: vec![Week {
                    first_day: date.plus(-6),
                    last_day: date,
                    actual: 7,
                    predicted: 6.254_9,
                }],
            },
        }
    }

    #[test]
    fn the_page_is_self_contained() {
        // The hostile user id of `report` is escaped text, not an image: leave it out.
        let page = render(&report(600, 10), "portrait").replace("&lt;img src=x", "");
        for outside in [
            "<script", "http://", "https://", "src=", "@import", "url(", "<link",
        ] {
            assert!(!page.contains(outside), "{outside} in the page");
        }
        assert_eq!(page.matches("<svg ").count(), 5);
    }

    #[test]
    fn user_ids_are_escaped() {
        let page = render(&report(600, 10), "portrait");
        assert!(
            page.contains("<td>&lt;img src=x onerror=alert(1)&gt;</td>"),
            "{page}"
        );
        assert!(!page.contains("<img"));
    }

    #[test]
    fn headline_numbers_are_those_of_the_date() {
        let page = render(&report(600, 10), "portrait");
        assert!(page.contains(r#"<dd data-metric="profiles">600</dd>"#));
        assert!(page.contains(r#"<dd data-metric="new_users">2</dd>"#));
        assert!(page.contains(r#"<dd data-metric="churned">1</dd>"#));
        assert!(page.contains(r#"<dd data-metric="alerts">1</dd>"#));
        assert!(page.contains("<td class=\"num\">98.3%</td>"));
        assert!(page
            .contains("Profiles as of <time data-metric=\"as_of\">2026-03-01 18:00:05 UTC</time>"));
    }

    #[test]
    fn empty_tables_are_explained() {
        let page = render(&report(0, 0), "crm");
        assert!(page.contains("data-note=\"no-profiles\""));
        let page = render(&report(600, 0), "crm");
        assert!(page.contains("data-note=\"no-alerts\""));
        assert!(!page.contains("data-note=\"no-profiles\""));
    }

    #[test]
    fn a_date_away_from_the_watermark_is_pointed_out() {
        let mut later = report(600, 10);
        later.date = later.date.plus(-1);
        assert!(render(&later, "p").contains("data-note=\"later\""));
        let mut behind = report(600, 10);
        behind.date = behind.date.plus(1);
        assert!(render(&behind, "p").contains("data-note=\"behind\""));
        let same = render(&report(600, 10), "p");
        assert!(!same.contains("data-note=\"later\"") && !same.contains("data-note=\"behind\""));
    }

    #[test]
    fn the_calibration_names_the_parameters_it_used() {
        let mut report = report(600, 10);
        let page = render(&report, "p");
        assert!(page.contains(r#"<span data-metric="model">defaults</span>"#));
        assert!(page.contains(r#"r = <span data-metric="model_r">0.243</span>"#));
        assert!(page.contains(
            r#"<tr data-key="2026-03-01"><th>2026-02-23 to 2026-03-01</th><td class="num">7</td><td class="num">6.3</td></tr>"#
        ));
        report.calibration.model = ModelInForce {
            params: BgNbdParams::new(0.5, 4.0, 0.8, 2.5).unwrap(),
            fit: Some(Fit {
                fitted_at: 1_772_409_600,
                customers: 812,
            }),
        };
        let page = render(&report, "p");
        assert!(page.contains(
            r#"fitted at <time data-metric="model">2026-03-02 00:00:00 UTC</time> to 812 customers"#
        ));
        assert!(page.contains(r#"b = <span data-metric="model_b">2.5</span>"#));
    }

    #[test]
    fn no_orders_is_explained_instead_of_an_empty_chart() {
        let mut report = report(600, 10);
        report.calibration.weeks.clear();
        let page = render(&report, "p");
        assert!(page.contains("data-note=\"no-orders\""));
        assert!(!page.contains("chart-calibration"));
    }
}
