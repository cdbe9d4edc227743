//! The profile signals of docs/signals.md, one module per family, each quoting its definitions
//! and testing them beside the code.
//!
//! - `activity`: first/last seen, counters, `active_days_30d`.
//! - `activation`: `activated`, `activated_at`.
//! - `churn`: `days_inactive`, the 7/28-day windows, `frequency_drop`, `hard_churned`,
//!   `marketing_averse`, and submodules for comebacks (`reactivated_at`), the lifecycle stage
//!   and `churn_risk`.
//! - `promotion`: promo orders, shares, `promo_engagement`, `promo_tier`.
//! - `value`: RFM, `top_categories`, `purchasing_power`.
//!
//! The signals are pure functions of the per-user state ([`crate::state`]) and the watermark;
//! [`SignalConfig`] holds every threshold and keyword list.

pub(crate) mod activation;
pub(crate) mod activity;
pub(crate) mod churn;
mod config;
pub(crate) mod elapsed;
mod keywords;
pub(crate) mod promotion;
pub(crate) mod value;

pub use churn::stage::{LifecycleStage, LifecycleThresholds};
pub use config::{SignalConfig, SignalConfigError};
pub use keywords::{Keywords, KeywordsError};
pub use promotion::{PromoTier, PromoTierThresholds};
pub use value::purchasing_power::{PurchasingPower, PurchasingPowerThresholds};
pub use value::rfm::{RfmSegment, RfmThresholds};
pub use value::top_categories::TopCategoriesConfig;
