//! Just enough reading of the DOM that Chromium dumps to find the report's charts, tiles and
//! table rows by the attributes the page gives them (`data-chart`, `data-metric`,
//! `data-key`, ...). The page's attribute values never hold `>` or `"` (they are escaped), so
//! a tag ends at the first `>` and a value at the next `"`.

use std::collections::BTreeMap;

/// One start tag: its attributes, and where it starts in the document.
#[derive(Debug)]
pub struct Tag<'a> {
    pub at: usize,
    pub attributes: BTreeMap<&'a str, &'a str>,
}

impl Tag<'_> {
    pub fn get(&self, name: &str) -> &str {
        self.attributes
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", self.attributes))
    }

    /// A whole-pixel attribute (x, y, width, height).
    pub fn pixels(&self, name: &str) -> u64 {
        let value = self.get(name);
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not whole pixels"))
    }
}

/// Every `<name ...>` start tag in `html`, in document order.
pub fn tags<'a>(html: &'a str, name: &str) -> Vec<Tag<'a>> {
    let open = format!("<{name}");
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = html[from..].find(&open) {
        let at = from + offset;
        let rest = &html[at + open.len()..];
        let end = rest.find('>').expect("a tag ends");
        from = at + open.len() + end;
        // `<rect` must not match `<rectangle`.
        if !rest.starts_with([' ', '>', '/']) {
            continue;
        }
        found.push(Tag {
            at,
            attributes: attributes(&rest[..end]),
        });
    }
    found
}

fn attributes(mut text: &str) -> BTreeMap<&str, &str> {
    let mut map = BTreeMap::new();
    while let Some(eq) = text.find("=\"") {
        let name = text[..eq].trim();
        let rest = &text[eq + 2..];
        let close = rest.find('"').expect("a value ends");
        map.insert(name, &rest[..close]);
        text = &rest[close + 1..];
    }
    map
}

/// The text from `start` to the first `end` after it, panicking with `what` if absent.
pub fn between<'a>(html: &'a str, start: &str, end: &str, what: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("no {what} ({start}) in the page"))
        + start.len();
    let to = html[from..]
        .find(end)
        .unwrap_or_else(|| panic!("{what} does not end"));
    &html[from..from + to]
}

/// The text of the tile `data-metric="name"`.
pub fn metric<'a>(html: &'a str, name: &str) -> &'a str {
    between(html, &format!("data-metric=\"{name}\">"), "<", name)
}

/// The `<section id="id">`'s content.
pub fn section<'a>(html: &'a str, id: &str) -> &'a str {
    between(html, &format!("<section id=\"{id}\">"), "</section>", id)
}

/// The `<svg data-chart="id">` element's content.
pub fn chart<'a>(html: &'a str, id: &str) -> &'a str {
    between(html, &format!("<svg id=\"chart-{id}\""), "</svg>", id)
}

/// The rows `<tr data-key="...">` of `html`, in order, each as its key and the texts of its
/// `<td>` cells.
pub fn rows(html: &str) -> Vec<(String, Vec<String>)> {
    tags(html, "tr")
        .into_iter()
        .filter(|tr| tr.attributes.contains_key("data-key"))
        .map(|tr| {
            let row = between(&html[tr.at..], ">", "</tr>", "a row");
            let cells = row
                .split("<td")
                .skip(1)
                .map(|cell| between(cell, ">", "</td>", "a cell").to_owned())
                .collect();
            (tr.get("data-key").to_owned(), cells)
        })
        .collect()
}
