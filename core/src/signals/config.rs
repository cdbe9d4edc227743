//! [`SignalConfig`]: every threshold and keyword list of docs/signals.md, with its defaults.
//!
//! It is meant to be the `[signals]` section of the configuration file; every field has a
//! default, so a file sets only what it changes.
//!
//! Some keys shape the per-user state as events are applied and pruned, so changing them
//! affects only what is applied afterwards, and a state restored from `profile_state` keeps
//! what the old values made of the events before: `activation_messages`, both keyword lists,
//! `reactivation_gap_days` and all of `top_categories` except `count`. To change them for
//! existing users, replay the input. All other keys are read only when a profile is
//! evaluated and take effect at once.

use serde::{Deserialize, Serialize};

use super::{
    Keywords, LifecycleThresholds, PromoTierThresholds, PurchasingPowerThresholds, RfmThresholds,
    TopCategoriesConfig,
};

/// The most messages `activation_messages` may require: the state keeps that many timestamps.
const MAX_ACTIVATION_MESSAGES: u32 = 64;
/// The most categories `top_categories.max_tracked` may keep per user.
const MAX_TRACKED_CATEGORIES: usize = 256;

/// Thresholds and keyword lists of every signal; `Default` is docs/signals.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalConfig {
    /// `activated` from this many user messages. Default 3.
    pub activation_messages: u32,
    /// A user message containing one of these marks the user `marketing_averse`. Default
    /// 退订, 别发了, 不要再发, 取消订阅, 骚扰, unsubscribe, stop.
    pub marketing_keywords: Keywords,
    /// A search containing one of these is `promo_engagement`. Default 优惠, 折扣, 秒杀, 满减,
    /// 券, coupon, sale, discount, deal.
    pub promo_keywords: Keywords,
    /// An active day at least this many days after the previous one is a comeback. Default 30.
    pub reactivation_gap_days: u32,
    pub lifecycle: LifecycleThresholds,
    pub promo_tier: PromoTierThresholds,
    pub rfm: RfmThresholds,
    pub purchasing_power: PurchasingPowerThresholds,
    pub top_categories: TopCategoriesConfig,
}

impl Default for SignalConfig {
    fn default() -> Self {
        let keywords = |words: &[&str]| Keywords::new(words).expect("no empty default keyword");
        SignalConfig {
            activation_messages: 3,
            marketing_keywords: keywords(&[
                "退订",
                "别发了",
                "不要再发",
                "取消订阅",
                "骚扰",
                "unsubscribe",
                "stop",
            ]),
            promo_keywords: keywords(&[
                "优惠", "折扣", "秒杀", "满减", "券", "coupon", "sale", "discount", "deal",
            ]),
            reactivation_gap_days: 30,
            lifecycle: LifecycleThresholds::default(),
            promo_tier: PromoTierThresholds::default(),
            rfm: RfmThresholds::default(),
            purchasing_power: PurchasingPowerThresholds::default(),
            top_categories: TopCategoriesConfig::default(),
        }
    }
}

/// One value of `[signals]` that cannot work, phrased so the user can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signals.{key} {problem}")]
pub struct SignalConfigError {
    /// The key's path inside `[signals]`, e.g. `lifecycle.churned_days`.
    pub key: &'static str,
    pub problem: String,
}

impl SignalConfig {
    /// Every mistake in the section, so one run of `check-config` can report them all.
    pub fn validate(&self) -> Vec<SignalConfigError> {
        let mut mistakes = Vec::new();
        let mut check = |ok: bool, key, problem: String| {
            if !ok {
                mistakes.push(SignalConfigError { key, problem });
            }
        };
        let fraction = |x: f64| (0.0..=1.0).contains(&x);

        check(
            (1..=MAX_ACTIVATION_MESSAGES).contains(&self.activation_messages),
            "activation_messages",
            format!(
                "is {}; it must be from 1 to {MAX_ACTIVATION_MESSAGES}",
                self.activation_messages
            ),
        );
        check(
            self.reactivation_gap_days >= 1,
            "reactivation_gap_days",
            "is 0; it must be at least 1, or every active day would be a comeback".into(),
        );

        let l = &self.lifecycle;
        check(
            l.churned_days >= 1,
            "lifecycle.churned_days",
            "is 0; it must be at least 1".into(),
        );
        check(
            l.at_risk_days <= l.dormant_days && l.dormant_days <= l.churned_days,
            "lifecycle",
            format!(
                "thresholds must satisfy at_risk_days <= dormant_days <= churned_days, got {} \
                 / {} / {}",
                l.at_risk_days, l.dormant_days, l.churned_days
            ),
        );
        check(
            fraction(l.at_risk_frequency_drop),
            "lifecycle.at_risk_frequency_drop",
            format!("is {}; it must be from 0 to 1", l.at_risk_frequency_drop),
        );

        let p = &self.promo_tier;
        check(
            fraction(p.medium_share) && fraction(p.high_share) && p.medium_share <= p.high_share,
            "promo_tier",
            format!(
                "shares must satisfy 0 <= medium_share <= high_share <= 1, got {} / {}",
                p.medium_share, p.high_share
            ),
        );

        let r = &self.rfm;
        check(
            r.recency_days.is_sorted(),
            "rfm.recency_days",
            format!(
                "{:?} must be ascending (the bounds of R 5, 4, 3, 2)",
                r.recency_days
            ),
        );
        check(
            r.orders.is_sorted_by(|a, b| a >= b),
            "rfm.orders",
            format!(
                "{:?} must be descending (the bounds of F 5, 4, 3, 2)",
                r.orders
            ),
        );
        check(
            r.revenue_cents.is_sorted_by(|a, b| a >= b),
            "rfm.revenue_cents",
            format!(
                "{:?} must be descending (the bounds of M 5, 4, 3, 2)",
                r.revenue_cents
            ),
        );
        check(
            self.purchasing_power.below_cents.is_sorted(),
            "purchasing_power.below_cents",
            format!(
                "{:?} must be ascending (the bounds of low, medium, high)",
                self.purchasing_power.below_cents
            ),
        );

        let t = &self.top_categories;
        check(
            t.half_life_days >= 1,
            "top_categories.half_life_days",
            "is 0; it must be at least 1".into(),
        );
        check(
            t.count <= t.max_tracked && t.max_tracked <= MAX_TRACKED_CATEGORIES,
            "top_categories.max_tracked",
            format!(
                "is {}; it must be from count ({}) to {MAX_TRACKED_CATEGORIES}",
                t.max_tracked, t.count
            ),
        );
        for (key, weight) in [
            ("top_categories.view_weight", t.view_weight),
            ("top_categories.search_weight", t.search_weight),
            ("top_categories.item_weight", t.item_weight),
        ] {
            check(
                weight.is_finite() && weight >= 0.0,
                key,
                format!("is {weight}; it must be a finite number >= 0"),
            );
        }
        mistakes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_those_of_the_signal_definitions() {
        let config = SignalConfig::default();
        assert_eq!(config.validate(), []);
        assert_eq!(config.activation_messages, 3);
        assert_eq!(config.marketing_keywords.as_slice().len(), 7);
        assert_eq!(config.promo_keywords.as_slice().len(), 9);
        assert_eq!(config.lifecycle.churned_days, 60);
        assert_eq!(config.top_categories.count, 5);
    }

    #[test]
    fn an_empty_section_is_the_defaults_and_a_partial_one_overrides_only_its_keys() {
        let empty: SignalConfig = toml_like("{}");
        assert_eq!(empty, SignalConfig::default());
        let partial: SignalConfig =
            toml_like(r#"{"activation_messages": 5, "lifecycle": {"dormant_days": 40}}"#);
        assert_eq!(partial.activation_messages, 5);
        assert_eq!(partial.lifecycle.dormant_days, 40);
        assert_eq!(partial.lifecycle.churned_days, 60);
    }

    #[test]
    fn serializes_and_reads_back() {
        let config = SignalConfig::default();
        let text = serde_json::to_string(&config).unwrap();
        assert_eq!(toml_like::<SignalConfig>(&text), config);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let result: Result<SignalConfig, _> = serde_json::from_str(r#"{"activation_msgs": 5}"#);
        assert!(result
            .unwrap_err()
            .to_string()
            .contains("unknown field `activation_msgs`"));
    }

    #[test]
    fn every_mistake_is_reported() {
        let mut config = SignalConfig {
            activation_messages: 0,
            ..SignalConfig::default()
        };
        config.lifecycle.dormant_days = 70;
        config.rfm.orders = [2, 3, 5, 10];
        config.top_categories.max_tracked = 4;
        config.top_categories.item_weight = f64::NAN;
        let keys: Vec<_> = config.validate().into_iter().map(|m| m.key).collect();
        assert_eq!(
            keys,
            [
                "activation_messages",
                "lifecycle",
                "rfm.orders",
                "top_categories.max_tracked",
                "top_categories.item_weight"
            ]
        );
        let first = &config.validate()[0];
        assert_eq!(
            first.to_string(),
            "signals.activation_messages is 0; it must be from 1 to 64"
        );
    }

    /// The section as the configuration loader hands it over (JSON stands in for TOML: both
    /// go through serde the same way).
    fn toml_like<T: serde::de::DeserializeOwned>(text: &str) -> T {
        serde_json::from_str(text).unwrap()
    }
}
