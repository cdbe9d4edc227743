//! A query result as the checks compare it: named, typed columns and rows of cells, read from
//! ClickHouse's `JSONCompact` output or built from the ground truth.

use std::fmt;

use serde_json::Value;

/// One value of a result. Dates are [`Cell::Text`] (`YYYY-MM-DD`), as ClickHouse writes them.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Any unsigned integer column (`UInt8` ... `UInt64`).
    Int(u64),
    /// A `Float64`, compared exactly: the checks compute the same rounding as the server.
    Float(f64),
    Text(String),
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Int(n) => write!(f, "{n}"),
            // `{:?}` prints the shortest text that reads back as the same f64, so two floats
            // that print alike are equal.
            Cell::Float(x) => write!(f, "{x:?}"),
            Cell::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// A result: `(name, ClickHouse type)` per column, and the rows in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty result with these columns, as `(name, type)`.
    pub fn new(columns: &[(&str, &str)]) -> Table {
        Table {
            columns: columns
                .iter()
                .map(|(name, kind)| (name.to_string(), kind.to_string()))
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; panics if it does not have one cell per column.
    pub fn push(&mut self, row: Vec<Cell>) {
        assert_eq!(
            row.len(),
            self.columns.len(),
            "a row has one cell per column"
        );
        self.rows.push(row);
    }

    /// Reads ClickHouse's `JSONCompact` output, written with
    /// `output_format_json_quote_64bit_integers=0` (so 64-bit integers are JSON numbers on
    /// 18.16 too). Each cell is read as its column's type says.
    pub fn from_json_compact(bytes: &[u8]) -> Result<Table, String> {
        let json: Value = serde_json::from_slice(bytes).map_err(|e| {
            format!(
                "not JSONCompact ({e}): {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(500)])
            )
        })?;
        let columns: Vec<(String, String)> = json["meta"]
            .as_array()
            .ok_or("JSONCompact without `meta`")?
            .iter()
            .map(|column| {
                let text = |key: &str| column[key].as_str().unwrap_or_default().to_owned();
                (text("name"), text("type"))
            })
            .collect();
        let mut rows = Vec::new();
        for row in json["data"]
            .as_array()
            .ok_or("JSONCompact without `data`")?
        {
            let values = row.as_array().ok_or("a JSONCompact row is an array")?;
            if values.len() != columns.len() {
                return Err(format!("row {row} does not have {} cells", columns.len()));
            }
            let cells = values
                .iter()
                .zip(&columns)
                .map(|(value, (name, kind))| {
                    cell(value, kind).ok_or_else(|| format!("column {name} ({kind}): {value}"))
                })
                .collect::<Result<Vec<Cell>, String>>()?;
            rows.push(cells);
        }
        Ok(Table { columns, rows })
    }

    /// How `self` (what the server returned) differs from `expected`: one line per
    /// difference, empty when they are equal. Columns are compared first (name and type); rows
    /// are compared position by position, so a wrong order shows as differing rows.
    pub fn differences(&self, expected: &Table) -> Vec<String> {
        if self.columns != expected.columns {
            return vec![format!(
                "columns: got {:?}, want {:?}",
                self.columns, expected.columns
            )];
        }
        let mut out = Vec::new();
        for index in 0..self.rows.len().max(expected.rows.len()) {
            let show = |rows: &[Vec<Cell>]| {
                rows.get(index).map_or("(no row)".to_owned(), |row| {
                    let cells: Vec<String> = row.iter().map(Cell::to_string).collect();
                    format!("[{}]", cells.join(", "))
                })
            };
            if self.rows.get(index) != expected.rows.get(index) {
                out.push(format!(
                    "row {}: got {}, want {}",
                    index + 1,
                    show(&self.rows),
                    show(&expected.rows)
                ));
            }
        }
        if self.rows.len() != expected.rows.len() {
            out.push(format!(
                "{} rows, want {}",
                self.rows.len(),
                expected.rows.len()
            ));
        }
        out
    }
}

/// `value` as a cell of a column of type `kind`; `None` if it is not one.
fn cell(value: &Value, kind: &str) -> Option<Cell> {
    if kind.starts_with("UInt") {
        value.as_u64().map(Cell::Int)
    } else if kind.starts_with("Float") {
        value.as_f64().map(Cell::Float)
    } else {
        value.as_str().map(|s| Cell::Text(s.to_owned()))
    }
}
