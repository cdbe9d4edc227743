//! The default data set, through the public API: it is reproducible, and it exercises every
//! signal (every lifecycle stage, promo tier and RFM segment occurs at least once, and so do
//! the edge cases the pipeline must get right).

use std::collections::BTreeMap;

use portrait_generator::{generate, ExpectedProfile, GeneratorConfig, Truth};

const LATENESS_MS: i64 = 300_000;

fn tally<'a>(
    truth: &'a Truth,
    column: impl Fn(&'a ExpectedProfile) -> &'a str,
) -> BTreeMap<&'a str, usize> {
    let mut counts = BTreeMap::new();
    for profile in &truth.profiles {
        *counts.entry(column(profile)).or_insert(0) += 1;
    }
    counts
}

#[test]
fn default_data_set_reaches_every_stage_tier_and_segment() {
    let dataset = generate(&GeneratorConfig::default());
    let truth = dataset.truth(LATENESS_MS);
    let stages = tally(&truth, |p| &p.lifecycle_stage);
    let tiers = tally(&truth, |p| &p.promo_tier);
    let segments = tally(&truth, |p| {
        p.rfm_segment.as_deref().unwrap_or("(no orders)")
    });
    let power = tally(&truth, |p| {
        p.purchasing_power.as_deref().unwrap_or("(no items)")
    });
    println!("{} messages", dataset.messages().len());
    println!("stages   {stages:?}");
    println!("tiers    {tiers:?}");
    println!("segments {segments:?}");
    println!("power    {power:?}");
    for stage in [
        "active",
        "new",
        "reactivated",
        "at_risk",
        "dormant",
        "churned",
    ] {
        assert!(stages.contains_key(stage), "no user is {stage}");
    }
    for tier in ["unknown", "promo_only", "high", "medium", "low", "none"] {
        assert!(tiers.contains_key(tier), "no user has promo tier {tier}");
    }
    for segment in [
        "champions",
        "loyal",
        "potential_loyalist",
        "new_customer",
        "promising",
        "needs_attention",
        "at_risk",
        "cant_lose",
        "hibernating",
    ] {
        assert!(
            segments.contains_key(segment),
            "no user is in RFM segment {segment}"
        );
    }
    for tier in ["low", "medium", "high", "premium"] {
        assert!(
            power.contains_key(tier),
            "no user has purchasing power {tier}"
        );
    }
}

#[test]
fn default_data_set_exercises_the_edge_cases() {
    let dataset = generate(&GeneratorConfig::default());
    let truth = dataset.truth(LATENESS_MS);
    let count = |f: fn(&ExpectedProfile) -> bool| truth.profiles.iter().filter(|p| f(p)).count();
    let cases = [
        (
            "never user-initiated",
            count(|p| p.last_active_at.is_none()),
        ),
        ("no staff contact", count(|p| p.first_contact_at.is_none())),
        ("activated", count(|p| p.activated)),
        (
            "chatting, not activated",
            count(|p| p.messages_sent > 0 && !p.activated),
        ),
        ("marketing-averse", count(|p| p.marketing_averse)),
        ("hard-churned", count(|p| p.hard_churned)),
        (
            "reactivated at some point",
            count(|p| p.reactivated_at.is_some()),
        ),
        (
            "at risk by falling frequency",
            count(|p| p.lifecycle_stage == "at_risk" && p.days_inactive < 14),
        ),
        (
            "orders without items only",
            count(|p| p.orders > 0 && p.purchasing_power.is_none()),
        ),
        (
            "promo engagement without orders",
            count(|p| p.orders == 0 && p.promo_engagement > 0),
        ),
    ];
    for (case, n) in cases {
        println!("{case}: {n}");
        assert!(n > 0, "no user is {case}");
    }
}

#[test]
fn same_seed_gives_byte_identical_messages_and_another_seed_does_not() {
    let config = GeneratorConfig {
        malformed_rate: 0.01,
        ..GeneratorConfig::default()
    };
    let first = generate(&config);
    let second = generate(&config);
    assert!(first.messages() == second.messages());
    let other = generate(&GeneratorConfig { seed: 43, ..config });
    assert!(first.messages() != other.messages());
}
