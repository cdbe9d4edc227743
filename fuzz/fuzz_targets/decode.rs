//! Fuzzes `portrait_core::event::decode` with arbitrary bytes (docs/security.md, "Hostile
//! input"). A crash is a panic, an overflow (checks are on in this profile) or a broken
//! invariant below: an accepted event that breaks the limits it was decoded under.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portrait_core::event::{decode, DecodeLimits, EventKind};

/// Small enough limits that the fuzzer meets every one of them with short inputs.
const TIGHT: DecodeLimits = DecodeLimits {
    max_payload_bytes: 4_096,
    max_user_id_bytes: 8,
    max_string_bytes: 16,
    max_text_bytes: 32,
    max_items: 3,
    max_amount_cents: 100_000,
    max_qty: 10,
    max_dwell_ms: 60_000,
};

fuzz_target!(|payload: &[u8]| {
    for limits in [DecodeLimits::default(), TIGHT] {
        if let Ok(event) = decode(payload, &limits) {
            check(&event, &limits);
        }
    }
});

/// Panics unless `event` honours `limits` and the contract's own bounds.
fn check(event: &portrait_core::event::Event<'_>, limits: &DecodeLimits) {
    let string = |s: &str| assert!(s.len() <= limits.max_string_bytes, "{s:?}");
    let optional = |s: &Option<std::borrow::Cow<'_, str>>| s.as_deref().map_or((), string);
    let money = |cents: i64| assert!((0..=limits.max_amount_cents).contains(&cents), "{cents}");
    assert!(!event.event_id.is_empty());
    string(&event.event_id);
    assert!(!event.user_id.is_empty() && event.user_id.len() <= limits.max_user_id_bytes);
    match &event.kind {
        EventKind::PageView(view) => {
            string(&view.page);
            optional(&view.category);
            assert!(view.dwell_ms.is_none_or(|ms| ms <= limits.max_dwell_ms));
        }
        EventKind::Search(search) => {
            string(&search.query);
            optional(&search.category);
        }
        EventKind::ChatMessage(chat) => {
            assert!(chat.text.as_deref().map_or(0, str::len) <= limits.max_text_bytes);
            optional(&chat.staff_id);
        }
        EventKind::Order(order) => {
            string(&order.order_id);
            optional(&order.coupon_id);
            optional(&order.promo_id);
            money(order.amount_cents);
            money(order.discount_cents);
            assert!(order.items.len() <= limits.max_items);
            for item in &order.items {
                string(&item.category);
                money(item.price_cents);
                assert!((1..=limits.max_qty).contains(&item.qty));
            }
        }
        EventKind::Promotion(promotion) => {
            optional(&promotion.promo_id);
            optional(&promotion.coupon_id);
        }
        EventKind::Account(_) => {}
    }
}
