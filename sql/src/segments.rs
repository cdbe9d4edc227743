//! Segments: named SQL predicates over the columns of `user_profiles`, evaluated over the
//! profiles a flush writes (docs/segments.md).
//!
//! A predicate is compiled once, at start-up: parsed by sqlparser (DataFusion's parser, so it
//! is DataFusion's SQL), checked against the profile columns, planned by DataFusion and turned
//! into a physical expression. Evaluating it is then a plain function call over one Arrow batch,
//! with no query plan, no async runtime and no table: the flush calls it synchronously.
//!
//! Mistakes are reported with the segment's name and the line and column in its predicate, as
//! `portrait check-config` shows them:
//!
//! ```text
//! segment vip_at_risk: no column "rfm_segmnt" in user_profiles, at line 1, column 1:
//!     rfm_segmnt = 'champions'
//!     ^
//! ```

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::common::DFSchema;
use datafusion::error::DataFusionError;
use datafusion::execution::context::SessionState;
use datafusion::logical_expr::ExprSchemable;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::sqlparser::ast::{visit_expressions, Expr, ExprWithAlias, Ident, Spanned};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::{Location, Token};
use portrait_connectors::clickhouse::ProfileRow;
use portrait_pipelines::{PredicateError, SegmentPredicates, SegmentRules, MAX_SEGMENTS};

use crate::columns;

/// One configured segment, as `[segments.NAME]` in the configuration file sets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentDef {
    /// Lower-case letters, digits and underscores: it is written to `segment_membership` and
    /// names the segment in alerts.
    pub name: String,
    /// A boolean SQL expression over the columns of `user_profiles` (`where = "..."`).
    pub predicate: String,
    /// Whether entering the segment fires a `segment_entered` alert.
    pub alert: bool,
}

/// A place in a predicate, both 1-based, as sqlparser counts them: lines are separated by
/// `\n`, columns count characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

impl Position {
    /// The position of a sqlparser location; `None` for the empty location (line 0) that
    /// sqlparser gives what has no place in the text, such as the end of the input.
    fn of(location: Location) -> Option<Self> {
        (location.line > 0).then_some(Self {
            line: location.line,
            column: location.column,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SegmentError {
    #[error(
        "segment name {0:?} must be lower-case letters, digits and underscores, e.g. vip_at_risk"
    )]
    Name(String),
    #[error("segment {0} is defined twice")]
    Duplicate(String),
    #[error(
        "{0} segments are defined, at most {MAX_SEGMENTS} can be: each user's membership is one \
         64-bit mask"
    )]
    TooMany(usize),
    /// The predicate does not parse, names an unknown column, is not a boolean, or DataFusion
    /// cannot plan it.
    #[error("segment {segment}: {message}{}", excerpt(.predicate, *.position))]
    Predicate {
        segment: String,
        predicate: String,
        position: Option<Position>,
        message: String,
    },
    #[error("segment {segment}: cannot evaluate its predicate")]
    Evaluate {
        segment: String,
        #[source]
        source: DataFusionError,
    },
    #[error("segments are evaluated over the columns of user_profiles, and this batch has others")]
    Schema,
    #[error("cannot build the batch of profiles to evaluate the segments over")]
    Batch(#[source] ArrowError),
}

/// Every mistake in a list of segments, so that one `check-config` reports them all.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct SegmentErrors(pub Vec<SegmentError>);

/// `, at line L, column C:` and the predicate's line with a caret under the column.
fn excerpt(predicate: &str, position: Option<Position>) -> String {
    let Some(Position { line, column }) = position else {
        return String::new();
    };
    let text = usize::try_from(line - 1)
        .ok()
        .and_then(|index| predicate.split('\n').nth(index))
        .unwrap_or_default();
    let indent = " ".repeat(usize::try_from(column.saturating_sub(1)).unwrap_or_default());
    format!(", at line {line}, column {column}:\n    {text}\n    {indent}^")
}

/// The configured segments, compiled. Segment `i` of [`Segments::names`] is bit `i` of a
/// membership mask; the order is that of the definitions, so a mask means nothing to a
/// process configured with other segments (store names, not bits).
#[derive(Debug)]
pub struct Segments {
    names: Vec<String>,
    /// Bit `i` set when segment `i` alerts on entry.
    alerting: u64,
    predicates: Vec<Arc<dyn PhysicalExpr>>,
    schema: SchemaRef,
}

impl Segments {
    /// Compiles `defs` against the columns of `user_profiles`, reporting every mistake.
    pub fn compile(defs: &[SegmentDef]) -> Result<Self, SegmentErrors> {
        let schema = columns::profiles_schema();
        let df_schema = DFSchema::try_from(Arc::clone(&schema))
            .expect("the profile columns have distinct names");
        // Spans on the planned columns, so that DataFusion's own errors can name a position.
        let config = SessionConfig::new().set_bool("datafusion.sql_parser.collect_spans", true);
        let state = SessionContext::new_with_config(config).state();

        let mut errors = Vec::new();
        if defs.len() > MAX_SEGMENTS {
            errors.push(SegmentError::TooMany(defs.len()));
        }
        let mut predicates = Vec::with_capacity(defs.len());
        for (index, def) in defs.iter().enumerate() {
            if !is_valid_name(&def.name) {
                errors.push(SegmentError::Name(def.name.clone()));
            } else if defs[..index].iter().any(|other| other.name == def.name) {
                errors.push(SegmentError::Duplicate(def.name.clone()));
            }
            match compile_predicate(&state, &df_schema, def) {
                Ok(predicate) => predicates.push(predicate),
                Err(error) => errors.push(error),
            }
        }
        if !errors.is_empty() {
            return Err(SegmentErrors(errors));
        }
        Ok(Self {
            names: defs.iter().map(|def| def.name.clone()).collect(),
            alerting: defs
                .iter()
                .enumerate()
                .filter(|(_, def)| def.alert)
                .fold(0, |mask, (bit, _)| mask | 1 << bit),
            predicates,
            schema,
        })
    }

    /// The segments' names, bit `i` of a mask being `names()[i]`.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Each row's membership: bit `i` set when segment `i`'s predicate is true for it. A NULL
    /// (a predicate over an absent value, such as `rfm_segment` before any order) is not true.
    /// `batch` must have the columns of `user_profiles`, as [`Segments::evaluate_rows`] builds.
    pub fn evaluate(&self, batch: &RecordBatch) -> Result<Vec<u64>, SegmentError> {
        if batch.schema().fields() != self.schema.fields() {
            return Err(SegmentError::Schema);
        }
        let mut members = vec![0u64; batch.num_rows()];
        for (bit, (name, predicate)) in self.names.iter().zip(&self.predicates).enumerate() {
            let values = predicate
                .evaluate(batch)
                .and_then(|values| values.into_array(batch.num_rows()))
                .map_err(|source| SegmentError::Evaluate {
                    segment: name.clone(),
                    source,
                })?;
            // `compile` refused every predicate that is not a boolean.
            for (member, value) in members.iter_mut().zip(values.as_boolean()) {
                if value == Some(true) {
                    *member |= 1 << bit;
                }
            }
        }
        Ok(members)
    }

    /// [`Segments::evaluate`] over the profile rows of a flush.
    pub fn evaluate_rows(&self, rows: &[ProfileRow<'_>]) -> Result<Vec<u64>, SegmentError> {
        self.evaluate(&columns::profiles(rows).map_err(SegmentError::Batch)?)
    }
}

impl SegmentPredicates for Segments {
    fn evaluate(&self, profiles: &[ProfileRow<'_>]) -> Result<Vec<u64>, PredicateError> {
        Ok(self.evaluate_rows(profiles)?)
    }
}

impl From<Segments> for SegmentRules {
    /// The rules a run evaluates at each flush.
    fn from(segments: Segments) -> Self {
        SegmentRules {
            names: segments.names.iter().cloned().collect(),
            alerting: segments.alerting,
            predicates: Arc::new(segments),
        }
    }
}

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Parses, checks and plans one predicate.
fn compile_predicate(
    state: &SessionState,
    schema: &DFSchema,
    def: &SegmentDef,
) -> Result<Arc<dyn PhysicalExpr>, SegmentError> {
    let mistake = |position, message| SegmentError::Predicate {
        segment: def.name.clone(),
        predicate: def.predicate.clone(),
        position,
        message,
    };
    let planning = |error: DataFusionError| {
        // DataFusion attaches a diagnostic with a span to some errors (an unknown function).
        let diagnostic = error.diagnostic();
        let position = diagnostic
            .and_then(|diagnostic| diagnostic.span)
            .filter(|span| span.start.line > 0)
            .map(|span| Position {
                line: span.start.line,
                column: span.start.column,
            });
        let message = diagnostic.map_or_else(
            || error.strip_backtrace(),
            |diagnostic| diagnostic.message.clone(),
        );
        mistake(position, message)
    };

    let expr = parse(&def.predicate).map_err(|(position, message)| mistake(position, message))?;
    // DataFusion would plan an unknown column and fail only later, without a position.
    if let Some(column) = unknown_column(&expr, schema) {
        return Err(mistake(
            Position::of(column.span.start),
            format!("no column {:?} in user_profiles", column.value),
        ));
    }
    let start = Position::of(expr.span().start);
    let logical = state
        .create_logical_expr_from_sql_expr(ExprWithAlias { expr, alias: None }, schema)
        .map_err(planning)?;
    let data_type = logical.get_type(schema).map_err(planning)?;
    if data_type != DataType::Boolean {
        return Err(mistake(
            start,
            format!(
                "the predicate is a {data_type}, not true or false; compare it, e.g. \
                 `lifecycle_stage = 'at_risk'`"
            ),
        ));
    }
    state
        .create_physical_expr(logical, schema)
        .map_err(planning)
}

/// Parses one whole expression, or says where it goes wrong.
fn parse(predicate: &str) -> Result<Expr, (Option<Position>, String)> {
    let dialect = GenericDialect {};
    let mut parser = Parser::new(&dialect)
        .try_with_sql(predicate)
        .map_err(syntax_error)?;
    let expr = parser.parse_expr().map_err(syntax_error)?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err((
            Position::of(next.span.start),
            format!(
                "unexpected {} after the end of the predicate (a predicate is one expression, \
                 e.g. `a = 1 AND b = 2`)",
                next.token
            ),
        ));
    }
    Ok(expr)
}

/// sqlparser's message and position: its errors carry the position only as text, at the end
/// of the message (`Expected: an expression, found: AND at Line: 1, Column: 5`).
fn syntax_error(error: ParserError) -> (Option<Position>, String) {
    let message = match error {
        ParserError::TokenizerError(message) | ParserError::ParserError(message) => message,
        ParserError::RecursionLimitExceeded => {
            return (None, "the predicate nests too deeply".to_owned())
        }
    };
    let located = message.rsplit_once(" at Line: ").and_then(|(text, at)| {
        let (line, column) = at.split_once(", Column: ")?;
        let position = Position {
            line: line.parse().ok()?,
            column: column.parse().ok()?,
        };
        Some((Some(position), text.to_owned()))
    });
    located.unwrap_or((None, message))
}

/// The first identifier in `expr` that is not a column of `schema`, normalised as DataFusion
/// does (unquoted names are lower-cased). A qualified name (`t.orders`) is unknown too: the
/// predicate has one table.
fn unknown_column(expr: &Expr, schema: &DFSchema) -> Option<Ident> {
    let is_column = |ident: &Ident| {
        let name = match ident.quote_style {
            Some(_) => ident.value.clone(),
            None => ident.value.to_lowercase(),
        };
        schema.has_column_with_unqualified_name(&name)
    };
    let found = visit_expressions(expr, |expr| match expr {
        Expr::Identifier(ident) if !is_column(ident) => ControlFlow::Break(ident.clone()),
        Expr::CompoundIdentifier(parts) => ControlFlow::Break(Ident {
            value: parts
                .iter()
                .map(|part| part.value.as_str())
                .collect::<Vec<_>>()
                .join("."),
            ..parts[0].clone()
        }),
        _ => ControlFlow::Continue(()),
    });
    match found {
        ControlFlow::Break(ident) => Some(ident),
        ControlFlow::Continue(()) => None,
    }
}

#[cfg(test)]
mod tests {
    use portrait_core::profile::{LifecycleStage, Profile, PromoTier, RfmSegment};

    use super::*;

    fn def(name: &str, predicate: &str) -> SegmentDef {
        SegmentDef {
            name: name.to_owned(),
            predicate: predicate.to_owned(),
            alert: false,
        }
    }

    fn compile(defs: &[SegmentDef]) -> Segments {
        Segments::compile(defs).unwrap_or_else(|errors| panic!("{errors}"))
    }

    /// The one mistake in `predicate`, as `check-config` would print it.
    fn mistake(predicate: &str) -> String {
        let errors = Segments::compile(&[def("vip_at_risk", predicate)]).unwrap_err();
        assert_eq!(errors.0.len(), 1, "{errors}");
        errors.to_string()
    }

    /// A user with orders, active today: every column set.
    fn customer(user_id: &str) -> Profile {
        Profile {
            user_id: user_id.to_owned(),
            first_seen_at: 1_714_564_800,
            first_contact_at: Some(1_714_568_400),
            last_active_at: Some(1_716_300_000),
            page_views: 120,
            searches: 14,
            messages_sent: 4,
            messages_received: 6,
            orders: 5,
            promo_orders: 2,
            revenue: 1_250.0,
            discount_total: 40.0,
            active_days_30d: 12,
            activated: true,
            activated_at: Some(1_714_900_000),
            days_inactive: 0,
            events_7d: 30,
            events_prev_28d: 90,
            frequency_drop: 0.0,
            hard_churned: false,
            marketing_averse: false,
            reactivated_at: None,
            lifecycle_stage: LifecycleStage::Active,
            churn_risk: 0.0,
            promo_order_share: 0.4,
            discount_share: 0.03,
            promo_engagement: 3,
            promo_tier: PromoTier::Medium,
            rfm_recency_days: Some(2),
            rfm_r: Some(5),
            rfm_f: Some(4),
            rfm_m: Some(4),
            rfm_segment: Some(RfmSegment::Champions),
            top_categories: vec!["shoes".to_owned()],
            purchasing_power: None,
            repeat_order_days: Some(4),
            order_span_days: Some(20),
            customer_age_days: Some(22),
            p_alive: Some(0.9),
            expected_orders_90d: Some(1.5),
        }
    }

    fn members(segments: &Segments, profiles: &[Profile]) -> Vec<u64> {
        let rows: Vec<ProfileRow<'_>> = profiles
            .iter()
            .map(|profile| ProfileRow::new(profile, 1_716_336_000_000, 3))
            .collect();
        segments.evaluate_rows(&rows).expect("evaluate")
    }

    #[test]
    fn a_predicate_over_two_columns_selects_the_rows_where_both_hold() {
        let segments = compile(&[
            def(
                "vip_at_risk",
                "rfm_segment = 'champions' AND lifecycle_stage = 'at_risk'",
            ),
            def("promo_only", "orders >= 2 AND promo_orders = orders"),
        ]);
        let vip_at_risk = Profile {
            lifecycle_stage: LifecycleStage::AtRisk,
            ..customer("u-1")
        };
        let vip_active = customer("u-2");
        let promo_only = Profile {
            promo_orders: 5,
            lifecycle_stage: LifecycleStage::AtRisk,
            rfm_segment: Some(RfmSegment::Loyal),
            ..customer("u-3")
        };
        assert_eq!(
            members(&segments, &[vip_at_risk, vip_active, promo_only]),
            [0b01, 0b00, 0b10]
        );
        assert_eq!(segments.names(), ["vip_at_risk", "promo_only"]);
    }

    #[test]
    fn null_is_not_a_member() {
        let segments = compile(&[
            def("champions", "rfm_segment = 'champions'"),
            def("not_champions", "NOT (rfm_segment = 'champions')"),
        ]);
        let no_orders = Profile {
            orders: 0,
            rfm_segment: None,
            ..customer("u-1")
        };
        // NULL = 'champions' is NULL, and so is its negation: a member of neither.
        assert_eq!(members(&segments, &[no_orders, customer("u-2")]), [0, 0b01]);
    }

    #[test]
    fn a_syntax_error_names_the_segment_line_and_column() {
        assert_eq!(
            mistake("orders >= 2 AND promo_orders >=\n  = orders"),
            "segment vip_at_risk: Expected: an expression, found: =, at line 2, column 3:\n    \
             \x20 = orders\n      ^"
        );
    }

    #[test]
    fn an_unknown_column_is_pointed_at() {
        assert_eq!(
            mistake("orders >= 2 AND rfm_segmnt = 'champions'"),
            "segment vip_at_risk: no column \"rfm_segmnt\" in user_profiles, at line 1, column \
             17:\n    orders >= 2 AND rfm_segmnt = 'champions'\n                    ^"
        );
        assert!(
            mistake("user_profiles.orders > 1").contains("no column \"user_profiles.orders\""),
            "a qualified name is refused too"
        );
    }

    #[test]
    fn an_unknown_function_is_pointed_at() {
        let message = mistake("orders > 1 AND lenght(user_id) > 3");
        assert!(
            message.starts_with("segment vip_at_risk: Invalid function 'lenght'"),
            "{message}"
        );
        assert!(message.contains("at line 1, column 16:"), "{message}");
    }

    #[test]
    fn trailing_text_after_the_expression_is_refused_where_it_starts() {
        let message = mistake("orders >= 2 LIMIT 3");
        assert!(
            message.starts_with("segment vip_at_risk: unexpected LIMIT after the end"),
            "{message}"
        );
        assert!(message.contains("at line 1, column 13:"), "{message}");
    }

    #[test]
    fn a_predicate_that_is_not_a_boolean_is_refused() {
        let message = mistake("revenue * 2");
        assert!(
            message
                .starts_with("segment vip_at_risk: the predicate is a Float64, not true or false"),
            "{message}"
        );
    }

    #[test]
    fn names_count_and_duplicates_are_checked() {
        let errors = Segments::compile(&[def("VIP", "orders > 1"), def("", "orders > 1")])
            .unwrap_err()
            .to_string();
        assert!(
            errors.contains("segment name \"VIP\" must be lower-case"),
            "{errors}"
        );
        assert!(errors.contains("segment name \"\" must be"), "{errors}");

        let errors = Segments::compile(&[def("a", "orders > 1"), def("a", "orders > 2")])
            .unwrap_err()
            .to_string();
        assert_eq!(errors, "segment a is defined twice");

        let many: Vec<SegmentDef> = (0..=MAX_SEGMENTS)
            .map(|i| def(&format!("s{i}"), "orders > 1"))
            .collect();
        let errors = Segments::compile(&many).unwrap_err().to_string();
        assert!(
            errors.starts_with("65 segments are defined, at most 64"),
            "{errors}"
        );
        assert_eq!(compile(&many[..MAX_SEGMENTS]).names().len(), 64);
    }
}
