//! Bar charts as inline SVG: one or more series of counts (or expected counts, which need not
//! be whole) over a row of categories.
//!
//! Written by hand rather than drawn by a JavaScript chart library: the report must open
//! anywhere (a mail attachment, an air-gapped laptop), so it cannot load code, and a bar chart
//! of counts is a few rectangles. The geometry is whole pixels and the bars are drawn with
//! `crispEdges`, so a bar of value `v` is exactly the rectangle its attributes say: a test
//! (tests/report.rs) counts the screenshot's pixels of each series' colour against them.
//!
//! Every bar carries `data-series`, `data-category` and `data-value` (the exact value, as Rust
//! prints an `f64`: `12` for a count, every digit of an expectation), and a `<title>` that a
//! browser shows on hover.

use std::fmt::{self, Write};

use super::escape::Escaped;

/// Size of every chart, in CSS pixels: the page's content width.
pub const WIDTH: u32 = 1120;
pub const HEIGHT: u32 = 280;
/// Room for the y-axis labels, the legend and value labels, and the x-axis labels.
const LEFT: u32 = 56;
const RIGHT: u32 = 16;
const TOP: u32 = 40;
const BOTTOM: u32 = 28;
const PLOT_WIDTH: u32 = WIDTH - LEFT - RIGHT;
const PLOT_HEIGHT: u32 = HEIGHT - TOP - BOTTOM;
/// A group of bars never gets wider than this, however few categories there are.
const MAX_GROUP: u32 = 96;
/// The legend's colour squares.
const SWATCH: u32 = 12;

const TEXT: &str = "#374151";
const GRID: &str = "#e5e7eb";
const AXIS: &str = "#9ca3af";

/// One series: a value per category, drawn in one colour.
pub struct Series<'a> {
    /// Machine name, for `data-series`.
    pub key: &'a str,
    /// What the legend and the tooltips call it.
    pub label: &'a str,
    /// `#rrggbb`. Each series of the page has its own, used nowhere else on the page.
    pub colour: &'a str,
    /// One per category, finite and >= 0.
    pub values: Vec<f64>,
}

/// A bar chart: for each category, one bar per series, side by side.
pub struct BarChart<'a> {
    /// `id="chart-<id>"` and `data-chart="<id>"`.
    pub id: &'a str,
    /// For screen readers (`aria-label`).
    pub title: &'a str,
    /// The x axis.
    pub categories: Vec<String>,
    /// Label every n-th category (and the last), so that long axes stay legible.
    pub label_every: usize,
    /// Write each bar's value above it; for charts with few, wide bars.
    pub value_labels: bool,
    pub series: Vec<Series<'a>>,
}

impl BarChart<'_> {
    /// Appends the `<svg>` element to `out`.
    pub fn write_svg(&self, out: &mut String) -> fmt::Result {
        let groups = u32::try_from(self.categories.len()).expect("a chart has few categories");
        let per_group = u32::try_from(self.series.len()).expect("a chart has few series");
        assert!(
            groups > 0 && per_group > 0,
            "a chart needs categories and series"
        );
        for series in &self.series {
            assert_eq!(series.values.len(), self.categories.len(), "{}", series.key);
            assert!(
                series.values.iter().all(|v| v.is_finite() && *v >= 0.0),
                "{}: {:?}",
                series.key,
                series.values
            );
        }
        let max = self
            .series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .fold(0.0, f64::max);
        // Values are counts or expectations of counts, far below 2^53.
        let (top, step) = axis(max.ceil() as u64);

        write!(
            out,
            r#"<svg id="chart-{id}" data-chart="{id}" class="chart" role="img" aria-label="{title}" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">"#,
            id = Escaped(self.id),
            title = Escaped(self.title),
        )?;
        // Grid and y labels first, so that the bars paint over the lines.
        for tick in (step..=top).step_by(usize::try_from(step).expect("small step")) {
            let y = TOP + PLOT_HEIGHT - height(tick as f64, top);
            write!(
                out,
                r#"<line x1="{LEFT}" x2="{}" y1="{y}.5" y2="{y}.5" stroke="{GRID}"/>"#,
                LEFT + PLOT_WIDTH
            )?;
            write!(
                out,
                r#"<text x="{}" y="{}" text-anchor="end" fill="{TEXT}">{tick}</text>"#,
                LEFT - 8,
                y + 4
            )?;
        }
        write!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end" fill="{TEXT}">0</text>"#,
            LEFT - 8,
            TOP + PLOT_HEIGHT + 4
        )?;
        if self.series.len() > 1 {
            self.write_legend(out)?;
        }

        let group = (PLOT_WIDTH / groups).min(MAX_GROUP);
        let slack = PLOT_WIDTH - group * groups;
        // A fifth of each group is the gap between groups; series within a group are 1 px apart.
        let bar = ((group * 4 / 5).saturating_sub(per_group - 1) / per_group).max(1);
        let bars_width = bar * per_group + (per_group - 1);
        for (i, category) in self.categories.iter().enumerate() {
            let i = u32::try_from(i).expect("few categories");
            let group_x = LEFT + slack / 2 + i * group;
            let first_x = group_x + (group - bars_width) / 2;
            for (s, series) in self.series.iter().enumerate() {
                let s = u32::try_from(s).expect("few series");
                let value = series.values[i as usize];
                let h = height(value, top);
                let readable = readable(value);
                let x = first_x + s * (bar + 1);
                let y = TOP + PLOT_HEIGHT - h;
                write!(
                    out,
                    r#"<rect class="bar" data-series="{key}" data-category="{category}" data-value="{value}" x="{x}" y="{y}" width="{bar}" height="{h}" fill="{colour}" shape-rendering="crispEdges"><title>{category}: {readable} {label}</title></rect>"#,
                    key = Escaped(series.key),
                    category = Escaped(category),
                    colour = Escaped(series.colour),
                    label = Escaped(series.label),
                )?;
                if self.value_labels {
                    write!(
                        out,
                        r#"<text class="value" x="{}" y="{}" text-anchor="middle" fill="{TEXT}">{readable}</text>"#,
                        x + bar / 2,
                        y - 6
                    )?;
                }
            }
            let index = i as usize;
            if index % self.label_every.max(1) == 0 || index + 1 == self.categories.len() {
                write!(
                    out,
                    r#"<text x="{}" y="{}" text-anchor="middle" fill="{TEXT}">{}</text>"#,
                    group_x + group / 2,
                    TOP + PLOT_HEIGHT + 20,
                    Escaped(category)
                )?;
            }
        }
        // The baseline last, on the row just below the bars.
        write!(
            out,
            r#"<line x1="{LEFT}" x2="{}" y1="{y}.5" y2="{y}.5" stroke="{AXIS}"/></svg>"#,
            LEFT + PLOT_WIDTH,
            y = TOP + PLOT_HEIGHT
        )
    }

    /// A swatch and a name per series, left to right above the plot.
    fn write_legend(&self, out: &mut String) -> fmt::Result {
        let mut x = LEFT;
        for series in &self.series {
            write!(
                out,
                r#"<rect class="swatch" data-series="{key}" x="{x}" y="8" width="{SWATCH}" height="{SWATCH}" fill="{colour}" shape-rendering="crispEdges"/><text x="{}" y="19" fill="{TEXT}">{label}</text>"#,
                x + SWATCH + 6,
                key = Escaped(series.key),
                colour = Escaped(series.colour),
                label = Escaped(series.label),
            )?;
            // About 7 px a character at the page's 12 px font, plus a gap.
            let chars = u32::try_from(series.label.chars().count()).unwrap_or(u32::MAX / 16);
            x += SWATCH + 6 + chars * 7 + 24;
        }
        Ok(())
    }
}

/// The y axis for values up to `max`: its top and the step between its labels, a round
/// number (1, 2 or 5 times a power of ten) with at most five steps to the top.
fn axis(max: u64) -> (u64, u64) {
    let max = max.max(1);
    let mut power = 1u64;
    loop {
        for step in [power, 2 * power, 5 * power] {
            if max.div_ceil(step) <= 5 {
                return (max.div_ceil(step) * step, step);
            }
        }
        power *= 10;
    }
}

/// A bar's height in whole pixels: proportional to `value` on an axis up to `top`, rounded
/// (halves up), and at least 1 px for any value above zero, so that no event disappears from
/// the chart.
fn height(value: f64, top: u64) -> u32 {
    // value <= top, so the result is at most PLOT_HEIGHT.
    let pixels = (value * f64::from(PLOT_HEIGHT) / top as f64).round() as u32;
    if value > 0.0 {
        pixels.max(1)
    } else {
        0
    }
}

/// A value as a reader wants it: a count as the whole number it is, an expectation to one
/// decimal.
pub fn readable(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value}")
    } else {
        format!("{value:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(values: Vec<Vec<f64>>) -> String {
        let categories = (0..values[0].len()).map(|i| format!("c{i}")).collect();
        let keys = ["a", "b", "c"];
        let series = values
            .into_iter()
            .enumerate()
            .map(|(i, values)| Series {
                key: keys[i],
                label: keys[i],
                colour: "#123456",
                values,
            })
            .collect();
        let chart = BarChart {
            id: "test",
            title: "test",
            categories,
            label_every: 1,
            value_labels: true,
            series,
        };
        let mut out = String::new();
        chart.write_svg(&mut out).unwrap();
        out
    }

    #[test]
    fn the_axis_is_round_and_covers_the_maximum() {
        assert_eq!(axis(0), (1, 1));
        assert_eq!(axis(1), (1, 1));
        assert_eq!(axis(5), (5, 1));
        assert_eq!(axis(6), (6, 2));
        assert_eq!(axis(13), (15, 5));
        assert_eq!(axis(79), (80, 20));
        assert_eq!(axis(359), (400, 100));
        assert_eq!(axis(1001), (1500, 500));
    }

    #[test]
    fn heights_are_proportional_and_never_hide_a_count() {
        assert_eq!(height(0.0, 10), 0);
        assert_eq!(height(10.0, 10), PLOT_HEIGHT);
        assert_eq!(height(5.0, 10), PLOT_HEIGHT / 2);
        assert_eq!(height(1.0, 1_000_000), 1);
        assert_eq!(height(0.001, 10), 1);
        // 212 px for 10: 1 unit is 21.2 px, 2.5 units 53 px, 0.25 units 5.3 px.
        assert_eq!(height(2.5, 10), 53);
        assert_eq!(height(0.25, 10), 5);
    }

    #[test]
    fn counts_read_whole_and_expectations_to_one_decimal() {
        assert_eq!(readable(12.0), "12");
        assert_eq!(readable(0.0), "0");
        assert_eq!(readable(12.345), "12.3");
        assert_eq!(readable(0.04), "0.0");
    }

    #[test]
    fn one_bar_per_series_and_category_inside_the_plot() {
        let svg = chart(vec![vec![3.0, 0.0, 8.0], vec![1.0, 2.0, 0.0]]);
        assert_eq!(svg.matches(r#"<rect class="bar""#).count(), 6);
        assert_eq!(svg.matches(r#"<rect class="swatch""#).count(), 2);
        assert!(
            svg.contains(r#"data-series="a" data-category="c2" data-value="8""#),
            "{svg}"
        );
        assert!(
            svg.contains(&format!(r#"height="{PLOT_HEIGHT}""#)),
            "the largest bar fills the plot"
        );
        assert!(svg.starts_with(r#"<svg id="chart-test""#) && svg.ends_with("</svg>"));
    }

    #[test]
    fn a_fractional_value_keeps_every_digit_in_data_value() {
        let svg = chart(vec![vec![2.0, 1.0 / 3.0]]);
        assert!(
            svg.contains(r#"data-category="c1" data-value="0.3333333333333333""#),
            "{svg}"
        );
        assert!(svg.contains("<title>c1: 0.3 a</title>"), "{svg}");
    }

    #[test]
    fn a_single_series_has_no_legend_and_many_categories_still_fit() {
        let svg = chart(vec![(0..30).map(f64::from).collect()]);
        assert_eq!(svg.matches(r#"<rect class="swatch""#).count(), 0);
        assert_eq!(svg.matches(r#"<rect class="bar""#).count(), 30);
        let last_x: u32 = svg
            .rsplit(r#"<rect class="bar""#)
            .next()
            .and_then(|rect| rect.split(r#" x=""#).nth(1))
            .and_then(|rest| rest.split('"').next())
            .and_then(|x| x.parse().ok())
            .unwrap();
        assert!(last_x < LEFT + PLOT_WIDTH, "{last_x}");
    }

    #[test]
    fn all_zero_values_draw_an_empty_axis() {
        let svg = chart(vec![vec![0.0, 0.0]]);
        assert_eq!(svg.matches(r#"height="0""#).count(), 2);
    }
}
