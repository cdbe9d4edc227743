//! What each query in dashboards/queries/ must return, computed from the generator's ground
//! truth, never from what the pipeline wrote: the expected profiles (`Dataset::truth`), the
//! expected alerts (`Dataset::expected_alerts`) and, for the two queries on the `events`
//! archive, the valid messages produced (`Dataset::messages`).
//!
//! Each function follows its query file's header comment (the columns, their types and
//! meanings, the window, the order), not the query's SQL. Floats the queries round are
//! rounded here the way ClickHouse 18.16 rounds ([`round`]); those the server sums in an order
//! of its own are checked to sit clear of a rounding edge ([`round_off_edge`]).

use std::collections::{BTreeMap, BTreeSet};

use portrait_generator::{Dataset, ExpectedAlert, ExpectedProfile, Truth, DAY_MS};
use serde_json::Value;

use crate::common::{ALERT_KINDS, STAGES, TIERS};
use crate::table::{Cell, Table};

/// Computes one query's result from the ground truth.
pub type Expected = fn(&GroundTruth) -> Table;

/// Every query file (its name without `.sql`) with the function that computes its result.
/// The test insists that this list and the files in dashboards/queries/ are the same set, so a
/// new query cannot ship unchecked.
pub const QUERIES: &[(&str, Expected)] = &[
    ("activation_funnel", activation_funnel),
    ("active_users_per_day", active_users_per_day),
    ("alerts_per_day", alerts_per_day),
    ("churn_risk_distribution", churn_risk_distribution),
    (
        "churned_and_reactivated_per_day",
        churned_and_reactivated_per_day,
    ),
    ("lifecycle_stages", lifecycle_stages),
    (
        "new_and_activated_users_per_day",
        new_and_activated_users_per_day,
    ),
    ("page_views_per_day", page_views_per_day),
    ("promotion_tiers", promotion_tiers),
    ("rfm_grid", rfm_grid),
    ("rfm_segments", rfm_segments),
    ("time_to_activation", time_to_activation),
    ("time_to_activation_summary", time_to_activation_summary),
    ("top_categories", top_categories),
];

/// The event types that count as activity in active_users_per_day.sql.
const ACTIVITY_TYPES: [&str; 3] = ["page_view", "search", "order"];

/// What one seeded data set must hold, from the generator alone.
pub struct GroundTruth {
    /// The expected profiles at the replay's final watermark.
    pub truth: Truth,
    /// The expected alerts up to that watermark.
    pub alerts: Vec<ExpectedAlert>,
    /// Every valid event produced, as the `events` archive keeps it.
    pub events: Vec<ArchivedEvent>,
}

/// The fields of one valid event that the archive queries read.
pub struct ArchivedEvent {
    pub event_id: String,
    pub user_id: String,
    /// The wire type name: `page_view`, `search`, ...
    pub kind: String,
    /// The UTC day of `ts`, in days since 1970-01-01.
    pub day: i64,
}

impl GroundTruth {
    /// The ground truth of a replay of `dataset` with the pipeline's lateness `lateness_ms`.
    pub fn of(dataset: &Dataset, lateness_ms: i64) -> GroundTruth {
        let events = dataset
            .messages()
            .iter()
            .filter(|m| m.malformed.is_none())
            .map(|m| ArchivedEvent::parse(&m.payload))
            .collect();
        GroundTruth {
            truth: dataset.truth(lateness_ms),
            alerts: dataset.expected_alerts(lateness_ms),
            events,
        }
    }

    /// `toDate(max(updated_at))` of `user_profiles`: the day of the replay's final watermark,
    /// which the daily series of profiles and alerts end at.
    pub fn watermark_day(&self) -> i64 {
        self.truth.watermark_ms.div_euclid(DAY_MS)
    }

    /// `max(day)` of `events`: the day the archive's series end at; `None` without events.
    pub fn latest_archived_day(&self) -> Option<i64> {
        self.events.iter().map(|e| e.day).max()
    }

    fn profiles(&self) -> &[ExpectedProfile] {
        &self.truth.profiles
    }

    fn activated(&self) -> impl Iterator<Item = (&ExpectedProfile, i64)> {
        self.profiles().iter().filter_map(|p| {
            p.activated_at
                .filter(|_| p.activated)
                .map(|at| (p, at - p.first_seen_at))
        })
    }
}

impl ArchivedEvent {
    /// Reads a valid message's envelope; `ts` is epoch milliseconds or RFC 3339 text.
    fn parse(payload: &[u8]) -> ArchivedEvent {
        let json: Value = serde_json::from_slice(payload).expect("a valid event is JSON");
        let text = |key: &str| {
            json[key]
                .as_str()
                .unwrap_or_else(|| panic!("a valid event has a string {key}"))
                .to_owned()
        };
        let ts_ms = match &json["ts"] {
            Value::Number(ms) => ms.as_i64().expect("ts in milliseconds is an integer"),
            Value::String(text) => rfc3339_ms(text),
            other => panic!("a valid event's ts is {other}"),
        };
        ArchivedEvent {
            event_id: text("event_id"),
            user_id: text("user_id"),
            kind: text("type"),
            day: ts_ms.div_euclid(DAY_MS),
        }
    }
}

// --- One function per query file, in the order of QUERIES. -----------------------------------

fn activation_funnel(g: &GroundTruth) -> Table {
    let registered = g.profiles().len() as u64;
    let first_message = count(g.profiles(), |p| p.messages_sent >= 1);
    let activated = count(g.profiles(), |p| p.activated);
    let mut table = Table::new(&[
        ("registered_users", "UInt64"),
        ("first_message_users", "UInt64"),
        ("activated_users", "UInt64"),
        ("first_message_rate", "Float64"),
        ("activation_rate", "Float64"),
    ]);
    // Integer / integer is one f64 division on the server too: exactly reproducible.
    table.push(vec![
        Cell::Int(registered),
        Cell::Int(first_message),
        Cell::Int(activated),
        Cell::Float(round(ratio(first_message, registered), 4)),
        Cell::Float(round(ratio(activated, first_message), 4)),
    ]);
    table
}

fn active_users_per_day(g: &GroundTruth) -> Table {
    let mut table = Table::new(&[
        ("day", "Date"),
        ("dau", "UInt64"),
        ("wau", "UInt64"),
        ("mau", "UInt64"),
    ]);
    let Some(last) = g.latest_archived_day() else {
        return table;
    };
    let mut active: BTreeMap<i64, BTreeSet<&str>> = BTreeMap::new();
    for event in &g.events {
        if ACTIVITY_TYPES.contains(&event.kind.as_str()) {
            active.entry(event.day).or_default().insert(&event.user_id);
        }
    }
    let distinct = |from: i64, to: i64| -> u64 {
        let users: BTreeSet<&str> = active
            .range(from..=to)
            .flat_map(|(_, users)| users.iter().copied())
            .collect();
        users.len() as u64
    };
    for day in last - 89..=last {
        let mau = distinct(day - 29, day);
        if mau > 0 {
            table.push(vec![
                date(day),
                Cell::Int(distinct(day, day)),
                Cell::Int(distinct(day - 6, day)),
                Cell::Int(mau),
            ]);
        }
    }
    table
}

fn alerts_per_day(g: &GroundTruth) -> Table {
    let mut columns = vec![("day", "Date")];
    columns.extend(ALERT_KINDS.iter().map(|kind| (*kind, "UInt64")));
    let mut table = Table::new(&columns);
    for (day, counts) in alerts_by_day(g) {
        let mut row = vec![date(day)];
        row.extend(counts.iter().map(|&n| Cell::Int(n)));
        table.push(row);
    }
    table
}

fn churn_risk_distribution(g: &GroundTruth) -> Table {
    let mut buckets: BTreeMap<u64, u64> = BTreeMap::new();
    for p in g.profiles() {
        *buckets.entry(churn_bucket(p)).or_default() += 1;
    }
    let mut table = Table::new(&[("bucket", "UInt8"), ("risk", "String"), ("users", "UInt64")]);
    for (bucket, users) in buckets {
        table.push(vec![
            Cell::Int(bucket),
            Cell::Text(format!("{}-{}%", bucket * 10, bucket * 10 + 10)),
            Cell::Int(users),
        ]);
    }
    table
}

fn churned_and_reactivated_per_day(g: &GroundTruth) -> Table {
    let churned = column("churned");
    let reactivated = column("reactivated");
    let mut table = Table::new(&[
        ("day", "Date"),
        ("churned", "UInt64"),
        ("reactivated", "UInt64"),
    ]);
    for (day, counts) in alerts_by_day(g) {
        if counts[churned] + counts[reactivated] > 0 {
            table.push(vec![
                date(day),
                Cell::Int(counts[churned]),
                Cell::Int(counts[reactivated]),
            ]);
        }
    }
    table
}

fn lifecycle_stages(g: &GroundTruth) -> Table {
    let mut stages: BTreeMap<(usize, &str), u64> = BTreeMap::new();
    for p in g.profiles() {
        let stage = p.lifecycle_stage.as_str();
        *stages
            .entry((sort_position(&STAGES, stage), stage))
            .or_default() += 1;
    }
    let mut table = Table::new(&[("stage", "String"), ("users", "UInt64")]);
    for ((_, stage), users) in stages {
        table.push(vec![Cell::Text(stage.to_owned()), Cell::Int(users)]);
    }
    table
}

fn new_and_activated_users_per_day(g: &GroundTruth) -> Table {
    let mut days: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    for p in g.profiles() {
        days.entry(day_of(p.first_seen_at)).or_default().0 += 1;
    }
    for (p, _) in g.activated() {
        let at = p.activated_at.expect("an activated user has activated_at");
        days.entry(day_of(at)).or_default().1 += 1;
    }
    let first = g.watermark_day() - 89;
    let mut table = Table::new(&[
        ("day", "Date"),
        ("new_users", "UInt64"),
        ("activated_users", "UInt64"),
    ]);
    for (day, (new, activated)) in days.range(first..) {
        table.push(vec![date(*day), Cell::Int(*new), Cell::Int(*activated)]);
    }
    table
}

fn page_views_per_day(g: &GroundTruth) -> Table {
    let mut table = Table::new(&[("day", "Date"), ("pv", "UInt64"), ("uv", "UInt64")]);
    let Some(last) = g.latest_archived_day() else {
        return table;
    };
    let mut days: BTreeMap<i64, (BTreeSet<&str>, BTreeSet<&str>)> = BTreeMap::new();
    for event in &g.events {
        if event.kind == "page_view" && event.day > last - 90 {
            let (ids, users) = days.entry(event.day).or_default();
            ids.insert(&event.event_id);
            users.insert(&event.user_id);
        }
    }
    for (day, (ids, users)) in days {
        table.push(vec![
            date(day),
            Cell::Int(ids.len() as u64),
            Cell::Int(users.len() as u64),
        ]);
    }
    table
}

fn promotion_tiers(g: &GroundTruth) -> Table {
    #[derive(Default)]
    struct Tier {
        users: u64,
        orders: u64,
        promo_orders: u64,
        discount_share_sum: f64,
        revenue_cents: i64,
        discount_cents: i64,
    }
    let mut tiers: BTreeMap<(usize, &str), Tier> = BTreeMap::new();
    for p in g.profiles() {
        let name = p.promo_tier.as_str();
        let tier = tiers
            .entry((sort_position(&TIERS, name), name))
            .or_default();
        tier.users += 1;
        tier.orders += p.orders;
        tier.promo_orders += p.promo_orders;
        tier.discount_share_sum += p.discount_share;
        tier.revenue_cents += cents(p.revenue);
        tier.discount_cents += cents(p.discount_total);
    }
    let mut table = Table::new(&[
        ("tier", "String"),
        ("users", "UInt64"),
        ("orders_total", "UInt64"),
        ("promo_orders_total", "UInt64"),
        ("avg_discount_share", "Float64"),
        ("pooled_discount_share", "Float64"),
    ]);
    for ((_, name), tier) in tiers {
        let list_price = tier.revenue_cents + tier.discount_cents;
        let pooled = if list_price == 0 {
            0.0
        } else {
            tier.discount_cents as f64 / list_price as f64
        };
        table.push(vec![
            Cell::Text(name.to_owned()),
            Cell::Int(tier.users),
            Cell::Int(tier.orders),
            Cell::Int(tier.promo_orders),
            Cell::Float(round_off_edge(
                tier.discount_share_sum / tier.users as f64,
                4,
                &format!("avg_discount_share of {name}"),
            )),
            Cell::Float(round_off_edge(
                pooled,
                4,
                &format!("pooled_discount_share of {name}"),
            )),
        ]);
    }
    table
}

fn rfm_grid(g: &GroundTruth) -> Table {
    // Keyed by (−r, −f) for ORDER BY r DESC, f DESC.
    let mut cells: BTreeMap<(i16, i16, &str), (u64, i64)> = BTreeMap::new();
    for p in g.profiles() {
        if let (Some(segment), Some(r), Some(f)) = (&p.rfm_segment, p.rfm_r, p.rfm_f) {
            let cell = cells
                .entry((-i16::from(r), -i16::from(f), segment))
                .or_default();
            cell.0 += 1;
            cell.1 += cents(p.revenue);
        }
    }
    let mut table = Table::new(&[
        ("r", "UInt8"),
        ("f", "UInt8"),
        ("segment", "String"),
        ("users", "UInt64"),
        ("revenue_total", "Float64"),
    ]);
    for ((r, f, segment), (users, revenue_cents)) in cells {
        table.push(vec![
            Cell::Int((-r) as u64),
            Cell::Int((-f) as u64),
            Cell::Text(segment.to_owned()),
            Cell::Int(users),
            Cell::Float(money(revenue_cents)),
        ]);
    }
    table
}

fn rfm_segments(g: &GroundTruth) -> Table {
    let mut segments: BTreeMap<&str, (u64, i64)> = BTreeMap::new();
    for p in g.profiles() {
        if let Some(segment) = &p.rfm_segment {
            let entry = segments.entry(segment).or_default();
            entry.0 += 1;
            entry.1 += cents(p.revenue);
        }
    }
    let mut rows: Vec<(&str, u64, i64)> = segments
        .into_iter()
        .map(|(segment, (users, revenue_cents))| (segment, users, revenue_cents))
        .collect();
    // ORDER BY users DESC, segment.
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut table = Table::new(&[
        ("segment", "String"),
        ("users", "UInt64"),
        ("revenue_total", "Float64"),
        ("avg_revenue", "Float64"),
    ]);
    for (segment, users, revenue_cents) in rows {
        let average = revenue_cents as f64 / (100 * users) as f64;
        table.push(vec![
            Cell::Text(segment.to_owned()),
            Cell::Int(users),
            Cell::Float(money(revenue_cents)),
            Cell::Float(round_off_edge(
                average,
                2,
                &format!("avg_revenue of {segment}"),
            )),
        ]);
    }
    table
}

fn time_to_activation(g: &GroundTruth) -> Table {
    const LABELS: [&str; 7] = ["0", "1", "2-3", "4-7", "8-14", "15-30", "31+"];
    // The first day of buckets 2..7; bucket 1 is day 0.
    const STARTS: [i64; 6] = [1, 2, 4, 8, 15, 31];
    let mut buckets: BTreeMap<usize, u64> = BTreeMap::new();
    for (_, seconds) in g.activated() {
        let days = seconds.div_euclid(86_400);
        let bucket = 1 + STARTS.iter().filter(|&&start| days >= start).count();
        *buckets.entry(bucket).or_default() += 1;
    }
    let mut table = Table::new(&[("bucket", "UInt8"), ("days", "String"), ("users", "UInt64")]);
    for (bucket, users) in buckets {
        table.push(vec![
            Cell::Int(bucket as u64),
            Cell::Text(LABELS[bucket - 1].to_owned()),
            Cell::Int(users),
        ]);
    }
    table
}

fn time_to_activation_summary(g: &GroundTruth) -> Table {
    let mut seconds: Vec<i64> = g.activated().map(|(_, s)| s).collect();
    seconds.sort_unstable();
    let n = seconds.len();
    let (median, mean) = if n == 0 {
        (0.0, 0.0)
    } else {
        // quantileExact(0.5): the element at floor(n / 2) of the sorted hours, each one f64
        // division seconds / 3600 as on the server, so exactly reproducible.
        let median = round(seconds[n / 2] as f64 / 3600.0, 1);
        let total: i64 = seconds.iter().sum();
        let mean = total as f64 / (3600 * n as i64) as f64;
        (median, round_off_edge(mean, 1, "avg_hours"))
    };
    let mut table = Table::new(&[
        ("activated_users", "UInt64"),
        ("median_hours", "Float64"),
        ("avg_hours", "Float64"),
    ]);
    table.push(vec![
        Cell::Int(n as u64),
        Cell::Float(median),
        Cell::Float(mean),
    ]);
    table
}

fn top_categories(g: &GroundTruth) -> Table {
    let mut categories: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for p in g.profiles() {
        for (rank, category) in p.top_categories.iter().enumerate() {
            let entry = categories.entry(category).or_default();
            entry.0 += 1;
            entry.1 += u64::from(rank == 0);
        }
    }
    let mut rows: Vec<(&str, u64, u64)> = categories
        .into_iter()
        .map(|(category, (users, top1))| (category, users, top1))
        .collect();
    // ORDER BY users DESC, category (String order is byte order, as Rust's str order).
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    rows.truncate(20);
    let mut table = Table::new(&[
        ("category", "String"),
        ("users", "UInt64"),
        ("top1_users", "UInt64"),
    ]);
    for (category, users, top1) in rows {
        table.push(vec![
            Cell::Text(category.to_owned()),
            Cell::Int(users),
            Cell::Int(top1),
        ]);
    }
    table
}

// --- Helpers. ---------------------------------------------------------------------------------

/// `floor(churn_risk × 10)` capped at 9, in real numbers: computed in integers from the signals
/// that define `churn_risk` (docs/signals.md), 1 when hard-churned, else
/// `1 − (1 − a)(1 − f/2)` with `a = min(days_inactive, 60) / 60` and
/// `f = clamp(1 − 4 · events_7d / events_prev_28d, 0, 1)` (0 without earlier events). So a risk
/// of exactly k/10 is in bucket k, whatever float is stored for it: 6 days inactive is a risk
/// of 1/10, stored as 1 − (1 − 6/60) = 0.09999999999999998.
fn churn_bucket(p: &ExpectedProfile) -> u64 {
    if p.hard_churned {
        return 9;
    }
    // risk = 1 − (inactive / 60) · (keep / scale), with keep / scale = 1 − f/2.
    let inactive = 60 - i64::from(p.days_inactive.min(60));
    let (e7, e28) = (i64::from(p.events_7d), i64::from(p.events_prev_28d));
    let (keep, scale) = if e28 == 0 || 4 * e7 >= e28 {
        (1, 1)
    } else {
        (e28 + 4 * e7, 2 * e28)
    };
    let exact = 1.0 - (inactive * keep) as f64 / (60 * scale) as f64;
    assert!(
        (exact - p.churn_risk).abs() < 1e-9,
        "{}: churn_risk {} is not the formula's {exact}",
        p.user_id,
        p.churn_risk
    );
    // floor(10 · risk) = 10 − ceil(10 · inactive · keep / (60 · scale)).
    let (numerator, denominator) = (10 * inactive * keep, 60 * scale);
    let bucket = 10 - (numerator + denominator - 1) / denominator;
    bucket.min(9) as u64
}

/// The alerts per day of their transition, in the 90 days up to the watermark day, counted
/// per kind in [`ALERT_KINDS`] order. Days without alerts are absent.
fn alerts_by_day(g: &GroundTruth) -> BTreeMap<i64, [u64; 5]> {
    let first = g.watermark_day() - 89;
    let mut days: BTreeMap<i64, [u64; 5]> = BTreeMap::new();
    for alert in &g.alerts {
        let day = alert.at_ms.div_euclid(DAY_MS);
        if day >= first {
            days.entry(day).or_default()[column(&alert.kind)] += 1;
        }
    }
    days
}

fn column(kind: &str) -> usize {
    ALERT_KINDS
        .iter()
        .position(|k| *k == kind)
        .unwrap_or_else(|| panic!("unknown alert kind {kind}"))
}

/// `indexOf([...], value)` as the queries sort by it: 1-based, 0 for a value not listed (which
/// then sorts first, by name).
fn sort_position(order: &[&str], value: &str) -> usize {
    order.iter().position(|v| *v == value).map_or(0, |i| i + 1)
}

fn count(profiles: &[ExpectedProfile], predicate: impl Fn(&ExpectedProfile) -> bool) -> u64 {
    profiles.iter().filter(|p| predicate(p)).count() as u64
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

/// A money column (a whole number of cents / 100) in cents: sums of these are exact.
fn cents(money: f64) -> i64 {
    (money * 100.0).round() as i64
}

/// `round(sum(money), 2)` of columns summing to `cents`: the server's float sum is within far
/// less than half a cent of `cents / 100`, so it rounds to exactly `cents / 100`.
fn money(cents: i64) -> f64 {
    round(cents as f64 / 100.0, 2)
}

/// `round(x, decimals)` of a Float64 as ClickHouse 18.16 computes it: `x × 10^decimals`
/// rounded half away from zero, then divided by `10^decimals`. Measured on the server: of
/// 90 000 ratios a / b rounded to 1, 2 and 4 decimals (2 671 of them exact halves), every one
/// matched this and 1 371 did not match half-to-even. Current ClickHouse rounds exact halves
/// to even, so the two servers can differ in the last decimal on an exact half
/// (dashboards/README.md).
pub fn round(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

/// [`round`] of a value the server computes from float sums in an order of its own (`avg`, a
/// ratio of sums), which may differ from `x` in the last bits. That changes the rounded value
/// only within a hair of a rounding edge, so this panics there rather than let the order of a
/// sum decide the check; a data set that puts a value there needs another seed.
fn round_off_edge(x: f64, decimals: i32, what: &str) -> f64 {
    let scaled = x * 10f64.powi(decimals);
    let from_edge = ((scaled - scaled.floor()) - 0.5).abs();
    assert!(
        from_edge > 1e-6,
        "{what} = {x} is within 1e-6 of a rounding edge at {decimals} decimals, where the \
         order of the server's float sum decides the last digit: choose another seed"
    );
    round(x, decimals)
}

/// The UTC day of a `DateTime` (epoch seconds).
fn day_of(seconds: i64) -> i64 {
    seconds.div_euclid(86_400)
}

/// A `Date` cell: the day (days since 1970-01-01) as `YYYY-MM-DD`.
fn date(day: i64) -> Cell {
    Cell::Text(date_text(day))
}

/// The day (days since 1970-01-01) as `YYYY-MM-DD`.
pub fn date_text(day: i64) -> String {
    let (year, month, day) = civil_from_days(day);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Epoch milliseconds of `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`, the generator's text form.
fn rfc3339_ms(text: &str) -> i64 {
    let number = |range: std::ops::Range<usize>| -> i64 {
        text.get(range)
            .and_then(|digits| digits.parse().ok())
            .unwrap_or_else(|| panic!("not RFC 3339: {text}"))
    };
    let day = days_from_civil(number(0..4), number(5..7), number(8..10));
    let mut ms = day * DAY_MS + number(11..13) * 3_600_000 + number(14..16) * 60_000;
    ms += number(17..19) * 1000;
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        let millis: String = format!("{:0<3}", &fraction[..digits.min(3)]);
        ms += millis.parse::<i64>().unwrap();
        rest = &fraction[digits..];
    }
    match rest {
        "Z" => ms,
        zone => {
            let sign = match zone.as_bytes().first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => panic!("not RFC 3339: {text}"),
            };
            let offset =
                zone[1..3].parse::<i64>().unwrap() * 60 + zone[4..6].parse::<i64>().unwrap();
            ms - sign * offset * 60_000
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day number, the inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_timestamps_convert_both_ways() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 1, 1), 20_454);
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(civil_from_days(20_454 + 59), (2026, 3, 1));
        assert_eq!(rfc3339_ms("2026-01-01T00:00:01.500Z"), 1_767_225_601_500);
        assert_eq!(
            rfc3339_ms("2026-01-01T08:00:00.000+08:00"),
            1_767_225_600_000
        );
    }

    #[test]
    fn rounding_is_half_away_from_zero_like_18_16() {
        assert_eq!(round(2.5, 0), 3.0);
        assert_eq!(round(0.125, 2), 0.13);
        assert_eq!(round(1.0 / 3.0, 4), 0.3333);
    }
}
