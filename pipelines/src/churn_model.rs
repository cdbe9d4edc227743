//! The `[churn_model]` section, and which fit of the churn model the flushes use
//! (docs/churn-model.md, "Parameters").
//!
//! The parameters in force are always those of the latest fit stored (`churn_model` in
//! ClickHouse, `churn_model.parquet` in the embedded mode), or the published CDNOW parameters
//! ([`BgNbdParams::default`]) while there is none. A run reads them at start; a live run reads
//! them again every `refresh_interval_ms`. A replay keeps those it read at start, so that a
//! fit stored while it runs cannot make its profiles depend on when the fit landed.

use std::time::{Duration, Instant};

use portrait_connectors::clickhouse::ChurnModelRow;
use portrait_core::churn_model::{BgNbdParams, BgNbdParamsError};
use portrait_core::time::EventTime;
use serde::{Deserialize, Serialize};

use crate::profiler::Profiler;

/// How the pipeline follows the churn model's fits. Every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChurnModelConfig {
    /// How often a live run reads the latest fit from `churn_model` again, in milliseconds.
    /// A fit summarises every buyer and changes slowly, so taking a new one up within the
    /// hour is soon enough. Default 3 600 000 (an hour).
    pub refresh_interval_ms: u64,
}

impl Default for ChurnModelConfig {
    fn default() -> Self {
        Self {
            refresh_interval_ms: 3_600_000,
        }
    }
}

/// A `[churn_model]` setting the engine cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChurnModelConfigError {
    #[error("churn_model.refresh_interval_ms must be > 0")]
    ZeroRefreshInterval,
}

impl ChurnModelConfig {
    /// Every mistake in this section.
    pub fn validate(&self) -> Vec<ChurnModelConfigError> {
        let mut mistakes = Vec::new();
        if self.refresh_interval_ms == 0 {
            mistakes.push(ChurnModelConfigError::ZeroRefreshInterval);
        }
        mistakes
    }
}

/// The latest stored fit holds parameters the model refuses: a row written by hand, since a
/// fit only ever finds valid ones.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the latest churn model fit (fitted at {}) holds parameters the model refuses; store a new \
     one with `portrait churn-model fit`",
    fitted_at(.fit)
)]
pub struct UnusableFit {
    pub fit: ChurnModelRow,
    #[source]
    pub source: BgNbdParamsError,
}

/// The fit the profiler's parameters come from, and when to look for a newer one.
#[derive(Debug)]
pub(crate) struct ChurnModel {
    /// The fit in force; `None` while the defaults are.
    in_force: Option<ChurnModelRow>,
    /// How often to read the fits again; `None` in a replay, which keeps the first read's.
    refresh: Option<Duration>,
    next_read: Instant,
}

impl ChurnModel {
    /// Puts `latest`, the latest stored fit when the run starts, in force in `profiler`, and
    /// logs which parameters apply. A live run reads the fits again every `refresh`; a bounded
    /// run (`None`) keeps the one it starts with.
    pub fn start(
        refresh: Option<Duration>,
        latest: Option<ChurnModelRow>,
        profiler: &mut Profiler,
    ) -> Result<Self, UnusableFit> {
        let mut model = Self {
            in_force: None,
            refresh,
            next_read: Instant::now(),
        };
        let params = params(latest)?;
        model.put_in_force(latest, params, profiler, "at start");
        Ok(model)
    }

    /// Whether a live run should read the latest fit again.
    pub fn refresh_due(&self) -> bool {
        self.refresh.is_some() && Instant::now() >= self.next_read
    }

    /// Takes `latest`, the latest stored fit read just now, into use if it is not the one in
    /// force. An unusable one is logged and the parameters in force stay: a live run keeps
    /// profiling with the last good parameters rather than stop.
    pub fn refresh(&mut self, latest: Option<ChurnModelRow>, profiler: &mut Profiler) {
        if latest == self.in_force {
            self.schedule();
            return;
        }
        match params(latest) {
            Ok(params) => self.put_in_force(latest, params, profiler, "refreshed"),
            Err(unusable) => {
                tracing::warn!(
                    error = %unusable,
                    reason = %unusable.source,
                    "keeping the churn model parameters in force"
                );
                self.schedule();
            }
        }
    }

    fn put_in_force(
        &mut self,
        fit: Option<ChurnModelRow>,
        params: BgNbdParams,
        profiler: &mut Profiler,
        when: &str,
    ) {
        let (r, alpha, a, b) = (params.r(), params.alpha(), params.a(), params.b());
        match &fit {
            Some(fit) => tracing::info!(
                fitted_at = %fitted_at(fit),
                r,
                alpha,
                a,
                b,
                "churn model parameters {when}: the fit of {} buyers",
                fit.users
            ),
            None => tracing::info!(
                r,
                alpha,
                a,
                b,
                "churn model parameters {when}: no fit stored yet, so the published CDNOW \
                 defaults (`portrait churn-model fit` stores one)"
            ),
        }
        profiler.set_churn_model(params);
        self.in_force = fit;
        self.schedule();
    }

    fn schedule(&mut self) {
        if let Some(refresh) = self.refresh {
            self.next_read = Instant::now() + refresh;
        }
    }
}

/// The parameters of `fit`, or the defaults without one.
fn params(fit: Option<ChurnModelRow>) -> Result<BgNbdParams, UnusableFit> {
    fit.map_or(Ok(BgNbdParams::default()), |fit| {
        fit.params().map_err(|source| UnusableFit { fit, source })
    })
}

/// A fit's time in RFC 3339, for the log.
fn fitted_at(fit: &ChurnModelRow) -> EventTime {
    EventTime::from_millis(i64::from(fit.fitted_at) * 1000)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use portrait_core::SignalConfig;

    use super::*;
    use crate::alerts::AlertsConfig;
    use crate::config::PipelineConfig;
    use crate::profiler::Keys;

    fn profiler() -> Profiler {
        Profiler::new(
            &PipelineConfig::default(),
            &SignalConfig::default(),
            &AlertsConfig::default(),
            None,
            Arc::from([]),
            Keys::None,
        )
    }

    fn fit(fitted_at: u32, r: f64) -> ChurnModelRow {
        let params = BgNbdParams::new(r, 4.0, 0.8, 2.5).unwrap();
        ChurnModelRow::new(fitted_at, params, 1_000, -2_000.0, 120)
    }

    /// A live run whose every check finds a refresh due: no waiting in the tests.
    const AT_ONCE: Option<Duration> = Some(Duration::ZERO);

    #[test]
    fn a_bounded_run_keeps_the_fit_it_starts_with() {
        let mut profiler = profiler();
        let model = ChurnModel::start(None, Some(fit(10, 0.5)), &mut profiler).unwrap();
        assert_eq!(model.in_force, Some(fit(10, 0.5)));
        assert!(!model.refresh_due());
    }

    #[test]
    fn a_live_run_is_due_again_after_the_interval() {
        let mut profiler = profiler();
        let hourly = Some(Duration::from_secs(3_600));
        let model = ChurnModel::start(hourly, None, &mut profiler).unwrap();
        assert_eq!(model.in_force, None, "the defaults");
        assert!(!model.refresh_due());
        let model = ChurnModel::start(AT_ONCE, None, &mut profiler).unwrap();
        assert!(model.refresh_due());
    }

    #[test]
    fn a_refresh_takes_a_newer_fit_up_and_an_emptied_table_means_the_defaults() {
        let mut profiler = profiler();
        let mut model = ChurnModel::start(AT_ONCE, None, &mut profiler).unwrap();
        model.refresh(Some(fit(10, 0.5)), &mut profiler);
        assert_eq!(model.in_force, Some(fit(10, 0.5)));
        model.refresh(Some(fit(20, 0.6)), &mut profiler);
        assert_eq!(model.in_force, Some(fit(20, 0.6)));
        model.refresh(None, &mut profiler);
        assert_eq!(model.in_force, None);
    }

    #[test]
    fn an_unusable_fit_stops_a_start_but_not_a_running_pipeline() {
        let unusable = ChurnModelRow {
            b: -1.0,
            ..fit(30, 0.5)
        };
        let mut profiler = profiler();
        let error = ChurnModel::start(None, Some(unusable), &mut profiler).unwrap_err();
        assert_eq!(error.source.name, "b");
        assert_eq!(
            error.to_string(),
            "the latest churn model fit (fitted at 1970-01-01T00:00:30.000Z) holds parameters \
             the model refuses; store a new one with `portrait churn-model fit`"
        );

        let mut model = ChurnModel::start(AT_ONCE, Some(fit(10, 0.5)), &mut profiler).unwrap();
        model.refresh(Some(unusable), &mut profiler);
        assert_eq!(model.in_force, Some(fit(10, 0.5)));
    }

    #[test]
    fn the_refresh_interval_must_be_positive() {
        let config = ChurnModelConfig {
            refresh_interval_ms: 0,
        };
        assert_eq!(
            config.validate(),
            [ChurnModelConfigError::ZeroRefreshInterval]
        );
        assert!(ChurnModelConfig::default().validate().is_empty());
    }
}
