//! Plays one persona forward day by day and records the events it causes.
//!
//! A day has the system's part (promotions issued and expiring, staff broadcasts to users who
//! have added the staff contact) and the user's part, chosen by their fate: nothing, a number
//! of visits, or a last visit followed by a hard churn. A visit is a short session: maybe a
//! login, page views, maybe a search, a chat with staff, an order. Sessions start at random
//! milliseconds, so timestamps use their full precision.

use rand::seq::SliceRandom;
use rand::Rng;

use crate::behaviour::{DayPlan, Fate, Persona};
use crate::catalogue::{
    AVERSE_LINES, CAMPAIGNS, CATEGORY_PAGES, GENERIC_QUERIES, PLAIN_PAGES, PROMO_PAGE, STAFF_LINES,
    USER_LINES,
};
use crate::event::{
    Account, AccountAction, Cents, Chat, Direction, Event, EventKind, Item, Order, PageView,
    PromoAction, Promotion, Search, StaffId,
};
use crate::time::{Calendar, DAY_MS};

const HOUR_MS: i64 = 3_600_000;
/// A coupon can be redeemed for a week after it is issued.
const COUPON_LIFETIME_MS: i64 = 7 * DAY_MS;
/// Visits per day are drawn as Binomial(MAX_VISITS_PER_DAY, rate / MAX_VISITS_PER_DAY): the
/// mean is the persona's rate, and no exp() is needed (see `behaviour` on portability).
const MAX_VISITS_PER_DAY: u32 = 6;

/// All events of one user, sorted by event time (stably, so equal times keep creation order).
pub(crate) fn simulate(
    persona: &Persona,
    calendar: Calendar,
    user_id: &str,
    rng: &mut impl Rng,
) -> Vec<Event> {
    let mut sim = Simulation {
        persona,
        user_id,
        calendar,
        rng,
        events: Vec::new(),
        registered: false,
        cancelled: false,
        contact: false,
        wallet: Vec::new(),
        coupons: 0,
        orders: 0,
    };
    sim.run();
    let mut events = sim.events;
    events.sort_by_key(|e| e.ts);
    events
}

/// A claimed coupon, waiting to be redeemed by an order or to expire.
struct Coupon {
    id: Box<str>,
    promo_id: Option<&'static str>,
    claimed_at: i64,
    expires_at: i64,
}

/// The terms an order was placed on.
struct Terms {
    discount: Option<Cents>,
    coupon_id: Option<Box<str>>,
    promo_id: Option<&'static str>,
}

struct Simulation<'a, R> {
    persona: &'a Persona,
    user_id: &'a str,
    calendar: Calendar,
    rng: &'a mut R,
    events: Vec<Event>,
    /// Has an open account (registered, not cancelled since).
    registered: bool,
    /// Cancelled and not back yet: the system sends them nothing.
    cancelled: bool,
    /// Has the staff contact (added, not deleted since).
    contact: bool,
    wallet: Vec<Coupon>,
    /// Coupons issued so far, numbering coupon ids.
    coupons: u32,
    /// Orders placed so far, numbering order ids.
    orders: u32,
}

impl<R: Rng> Simulation<'_, R> {
    fn run(&mut self) {
        let persona = self.persona;
        let first_day = self.calendar.day_start(persona.start_day);
        // A lead is first seen through marketing; some users get a gift before registering.
        let gift_day = if persona.fate == Fate::Lead {
            Some(first_day)
        } else if persona.early_gift && persona.start_day > 0 {
            Some(first_day - DAY_MS)
        } else {
            None
        };
        if let Some(base) = gift_day {
            let at = base + self.time_in_day(8, 20);
            self.issue_promotion(at, Some("new_user_gift"));
        }
        for day in persona.start_day..self.calendar.days {
            let base = self.calendar.day_start(day);
            self.expire_coupons(base);
            self.system_day(base);
            match persona
                .fate
                .plan(day, persona.start_day, self.calendar.days)
            {
                DayPlan::Silent => {}
                DayPlan::Visit { factor, at_least } => self.visit_day(day, factor, at_least),
                DayPlan::Churn {
                    action,
                    back_same_day,
                } => self.churn_day(day, action, back_same_day),
            }
        }
        self.expire_coupons(self.calendar.end_ms());
    }

    fn push(&mut self, ts: i64, kind: EventKind) {
        self.events.push(Event { ts, kind });
    }

    /// A random instant between `from_hour` and `to_hour` o'clock, as an offset into a day.
    fn time_in_day(&mut self, from_hour: i64, to_hour: i64) -> i64 {
        self.rng.gen_range(from_hour * HOUR_MS..to_hour * HOUR_MS)
    }

    /// The time of the next event in a session: a few seconds to a minute and a half later.
    fn after(&mut self, t: i64) -> i64 {
        t + self.rng.gen_range(2_000..=90_000)
    }

    fn system_day(&mut self, base: i64) {
        if self.cancelled {
            return;
        }
        let promo_share = self.persona.promo_share;
        if self.rng.gen_bool(0.04 + 0.08 * promo_share) {
            let promo_id = self
                .rng
                .gen_bool(0.7)
                .then(|| *CAMPAIGNS.choose(self.rng).expect("campaigns"));
            let at = base + self.time_in_day(8, 20);
            self.issue_promotion(at, promo_id);
        }
        if self.contact && self.rng.gen_bool(0.04) {
            let at = base + self.time_in_day(9, 21);
            self.staff_message(at);
        }
    }

    /// Issues a coupon; the user claims it (more likely the more promotion-minded they are)
    /// or lets it lapse.
    fn issue_promotion(&mut self, at: i64, promo_id: Option<&'static str>) {
        self.coupons += 1;
        let id: Box<str> = format!("{}-c{}", self.user_id, self.coupons).into();
        let promotion = |action, coupon_id| {
            EventKind::Promotion(Promotion {
                action,
                promo_id,
                coupon_id: Some(coupon_id),
            })
        };
        self.push(at, promotion(PromoAction::Issued, id.clone()));
        let expires_at = at + COUPON_LIFETIME_MS;
        if self.rng.gen_bool(0.2 + 0.7 * self.persona.promo_share) {
            let claimed_at = at + self.rng.gen_range(60_000..=6 * HOUR_MS);
            self.push(claimed_at, promotion(PromoAction::Claimed, id.clone()));
            self.wallet.push(Coupon {
                id,
                promo_id,
                claimed_at,
                expires_at,
            });
        } else if self.rng.gen_bool(0.5) && expires_at < self.calendar.end_ms() {
            self.push(expires_at, promotion(PromoAction::Expired, id));
        }
    }

    /// Records the expiry of every claimed coupon that lapsed before `now`.
    fn expire_coupons(&mut self, now: i64) {
        let (lapsed, kept) = std::mem::take(&mut self.wallet)
            .into_iter()
            .partition(|c| c.expires_at < now);
        self.wallet = kept;
        for coupon in lapsed {
            let kind = EventKind::Promotion(Promotion {
                action: PromoAction::Expired,
                promo_id: coupon.promo_id,
                coupon_id: Some(coupon.id),
            });
            self.push(coupon.expires_at, kind);
        }
    }

    fn visit_day(&mut self, day: u32, factor: f64, at_least: u32) {
        let chance =
            (self.persona.visits_per_day * factor / f64::from(MAX_VISITS_PER_DAY)).min(1.0);
        let drawn = (0..MAX_VISITS_PER_DAY)
            .filter(|_| self.rng.gen_bool(chance))
            .count() as u32;
        let base = self.calendar.day_start(day);
        let mut starts: Vec<i64> = (0..drawn.max(at_least))
            .map(|_| base + self.time_in_day(6, 24))
            .collect();
        starts.sort_unstable();
        for start in starts {
            self.session(day, start);
        }
    }

    /// A last visit, then the contact is deleted or the account cancelled; maybe a return
    /// hours later (a churn within one day, which is no comeback: the user is simply no longer
    /// hard-churned).
    fn churn_day(&mut self, day: u32, action: AccountAction, back_same_day: bool) {
        let base = self.calendar.day_start(day);
        let visit = base + self.time_in_day(7, 11);
        let last = self.session(day, visit);
        let churn_at = last.max(base + 12 * HOUR_MS) + self.time_in_day(0, 6);
        // Only a user who has the contact can delete it; the others leave by cancelling.
        let action = if self.contact {
            action
        } else {
            AccountAction::Cancel
        };
        self.push(churn_at, EventKind::Account(Account { action }));
        self.contact = false;
        if action == AccountAction::Cancel {
            self.registered = false;
            self.cancelled = true;
        }
        if back_same_day {
            let back = churn_at + self.rng.gen_range(HOUR_MS / 2..3 * HOUR_MS);
            self.session(day, back);
        }
    }

    /// One visit starting at `start`; returns the time of its last event.
    fn session(&mut self, day: u32, start: i64) -> i64 {
        let mut t = start;
        let account = |action| EventKind::Account(Account { action });
        if !self.registered {
            self.push(t, account(AccountAction::Register));
            self.registered = true;
            self.cancelled = false;
            t = self.after(t);
        } else if self.rng.gen_bool(0.3) {
            self.push(t, account(AccountAction::Login));
            t = self.after(t);
        }
        let contact_due = self
            .persona
            .contact_after
            .is_some_and(|after| day >= self.persona.start_day + after);
        if contact_due && !self.contact {
            self.push(t, account(AccountAction::FriendAdded));
            self.contact = true;
            t = self.after(t);
        }
        let mut views = 1;
        while views < 8 && self.rng.gen_bool(0.6) {
            views += 1;
        }
        let search_before = self
            .rng
            .gen_bool(0.45)
            .then(|| self.rng.gen_range(0..views));
        for view in 0..views {
            if search_before == Some(view) {
                self.search(t);
                t = self.after(t);
            }
            self.page_view(t);
            t = self.after(t);
        }
        if self.rng.gen_bool(self.persona.chat_chance) {
            t = self.chat(t);
        }
        if self.rng.gen_bool(self.persona.order_chance) {
            t = self.order(t);
        }
        t
    }

    fn page_view(&mut self, t: i64) {
        let promo_share = self.persona.promo_share;
        let (page, category, is_promo) = if self.rng.gen_bool(0.03 + 0.12 * promo_share) {
            let category = self
                .rng
                .gen_bool(0.5)
                .then(|| self.persona.category(self.rng));
            (PROMO_PAGE, category, Some(true))
        } else if self.rng.gen_bool(0.8) {
            let page = *CATEGORY_PAGES.choose(self.rng).expect("pages");
            let category = self.persona.category(self.rng);
            (
                page,
                Some(category),
                self.rng.gen_bool(0.3).then_some(false),
            )
        } else {
            (*PLAIN_PAGES.choose(self.rng).expect("pages"), None, None)
        };
        let dwell_ms = self
            .rng
            .gen_bool(0.75)
            .then(|| self.rng.gen_range(500..=180_000));
        let view = PageView {
            page,
            category,
            dwell_ms,
            is_promo,
        };
        self.push(t, EventKind::PageView(view));
    }

    fn search(&mut self, t: i64) {
        let search = if self.rng.gen_bool(0.1) {
            Search {
                query: GENERIC_QUERIES.choose(self.rng).expect("queries"),
                category: None,
            }
        } else {
            let category = self.persona.category(self.rng);
            let query = if self.rng.gen_bool(0.05 + 0.35 * self.persona.promo_share) {
                category.promo_query()
            } else {
                category.plain_queries().choose(self.rng).expect("queries")
            };
            // The query names a category even when the client did not tag it.
            let category = self.rng.gen_bool(0.85).then_some(category);
            Search { query, category }
        };
        self.push(t, EventKind::Search(search));
    }

    /// One to three user messages, most answered by staff; returns the time of the last.
    fn chat(&mut self, mut t: i64) -> i64 {
        for _ in 0..self.rng.gen_range(1..=3) {
            let text = if self.rng.gen_bool(0.15) {
                None // a sticker or a picture: no text
            } else if self.persona.averse && self.rng.gen_bool(0.3) {
                AVERSE_LINES.choose(self.rng).copied()
            } else {
                USER_LINES.choose(self.rng).copied()
            };
            let message = Chat {
                direction: Direction::User,
                text,
                staff_id: None,
            };
            self.push(t, EventKind::Chat(message));
            t = self.after(t);
            if self.rng.gen_bool(0.6) {
                self.staff_message(t);
                t = self.after(t);
            }
        }
        t
    }

    fn staff_message(&mut self, t: i64) {
        let message = Chat {
            direction: Direction::Staff,
            text: STAFF_LINES.choose(self.rng).copied(),
            staff_id: Some(StaffId(self.rng.gen_range(1..=9))),
        };
        self.push(t, EventKind::Chat(message));
    }

    /// An order, on promotion terms as often as the persona likes them; a redeemed coupon is
    /// recorded right after. Returns the time of the last event.
    fn order(&mut self, t: i64) -> i64 {
        self.orders += 1;
        let items: Vec<Item> = if self.rng.gen_bool(0.05) {
            Vec::new() // the contract makes items optional
        } else {
            (0..self.rng.gen_range(1..=3))
                .map(|_| self.item())
                .collect()
        };
        let subtotal = if items.is_empty() {
            self.unit_price()
        } else {
            items.iter().map(|i| i.price.0 * i64::from(i.qty)).sum()
        };
        let terms = if self.rng.gen_bool(self.persona.promo_share) {
            self.promo_terms(t, subtotal)
        } else {
            self.plain_terms()
        };
        let paid = subtotal - terms.discount.map_or(0, |d| d.0);
        let redeemed = terms.coupon_id.clone().filter(|id| !id.is_empty());
        let order = Order {
            order_id: format!("{}-o{}", self.user_id, self.orders),
            amount: Cents(paid),
            discount: terms.discount,
            coupon_id: terms.coupon_id,
            promo_id: terms.promo_id,
            items,
        };
        self.push(t, EventKind::Order(Box::new(order)));
        let Some(coupon_id) = redeemed else {
            return t;
        };
        let t = self.after(t);
        let redemption = Promotion {
            action: PromoAction::Redeemed,
            promo_id: terms.promo_id,
            coupon_id: Some(coupon_id),
        };
        self.push(t, EventKind::Promotion(redemption));
        t
    }

    fn item(&mut self) -> Item {
        Item {
            category: self.persona.category(self.rng),
            price: Cents(self.unit_price()),
            qty: match self.rng.gen_range(0..10) {
                0..=6 => 1,
                7..=8 => 2,
                _ => 3,
            },
        }
    }

    /// Half to 1.8 times the persona's typical price, in cents.
    fn unit_price(&mut self) -> i64 {
        self.persona.item_price * self.rng.gen_range(50..=180) / 100
    }

    /// A coupon from the wallet if one is valid now, otherwise a campaign and/or a discount.
    fn promo_terms(&mut self, t: i64, subtotal: i64) -> Terms {
        let discount = Cents(subtotal * self.rng.gen_range(5..=30) / 100);
        let usable = |c: &Coupon| c.claimed_at < t && t < c.expires_at;
        if let Some(index) = self.wallet.iter().position(usable) {
            let coupon = self.wallet.remove(index);
            return Terms {
                discount: Some(discount),
                coupon_id: Some(coupon.id),
                promo_id: coupon.promo_id,
            };
        }
        let campaign = CAMPAIGNS.choose(self.rng).copied();
        match self.rng.gen_range(0..3) {
            0 => Terms {
                discount: Some(discount),
                coupon_id: None,
                promo_id: campaign,
            },
            1 => Terms {
                discount: Some(discount),
                coupon_id: None,
                promo_id: None,
            },
            _ => Terms {
                discount: None,
                coupon_id: None,
                promo_id: campaign,
            },
        }
    }

    /// Full price; some clients still send `discount: 0` or an empty `coupon_id`, which do not
    /// make a promo order.
    fn plain_terms(&mut self) -> Terms {
        Terms {
            discount: self.rng.gen_bool(0.1).then_some(Cents(0)),
            coupon_id: self.rng.gen_bool(0.04).then(|| "".into()),
            promo_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::catalogue::Category;

    fn persona(fate: Fate) -> Persona {
        Persona {
            fate,
            start_day: 2,
            visits_per_day: 1.0,
            interests: Category::all().take(2).collect(),
            order_chance: 0.3,
            promo_share: 1.0,
            chat_chance: 0.3,
            averse: false,
            item_price: 5_000,
            contact_after: Some(0),
            early_gift: false,
        }
    }

    fn run(persona: &Persona) -> Vec<Event> {
        let calendar = Calendar {
            start_ms: 0,
            days: 60,
        };
        simulate(persona, calendar, "u1", &mut ChaCha8Rng::seed_from_u64(3))
    }

    fn account_actions(events: &[Event]) -> Vec<AccountAction> {
        events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Account(a) if a.action != AccountAction::Login => Some(a.action),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn first_visit_registers_and_adds_the_contact() {
        let events = run(&persona(Fate::Steady));
        assert!(events.windows(2).all(|w| w[0].ts <= w[1].ts));
        assert_eq!(
            account_actions(&events),
            [AccountAction::Register, AccountAction::FriendAdded]
        );
        assert_eq!(events[0].ts / DAY_MS, 2);
    }

    #[test]
    fn cancelling_then_returning_registers_again() {
        let fate = Fate::HardChurn {
            day: 20,
            action: AccountAction::Cancel,
            back: Some(30),
        };
        let events = run(&persona(fate));
        use AccountAction::*;
        assert_eq!(
            account_actions(&events),
            [Register, FriendAdded, Cancel, Register, FriendAdded]
        );
        let cancel = events
            .iter()
            .find(|e| matches!(&e.kind, EventKind::Account(a) if a.action == Cancel))
            .unwrap();
        assert_eq!(cancel.ts / DAY_MS, 20);
        // While cancelled, only earlier coupons lapse: no visits, promotions or staff messages.
        let lapsing = |e: &Event| matches!(&e.kind, EventKind::Promotion(p) if p.action == PromoAction::Expired);
        assert!(!events
            .iter()
            .any(|e| e.ts > cancel.ts && e.ts < 30 * DAY_MS && !lapsing(e)));
    }

    #[test]
    fn promo_only_buyers_place_only_promo_orders_and_redeem_coupons() {
        let events = run(&persona(Fate::Steady));
        let orders: Vec<&Order> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Order(o) => Some(&**o),
                _ => None,
            })
            .collect();
        assert!(orders.len() >= 3);
        for order in &orders {
            let coupon = order.coupon_id.as_deref().is_some_and(|c| !c.is_empty());
            let discount = order.discount.is_some_and(|d| d.0 > 0);
            assert!(coupon || order.promo_id.is_some() || discount);
            assert!(order.amount.0 >= 0);
        }
        let redeemed = events
            .iter()
            .filter(
                |e| matches!(&e.kind, EventKind::Promotion(p) if p.action == PromoAction::Redeemed),
            )
            .count();
        let with_coupon = orders
            .iter()
            .filter(|o| o.coupon_id.as_deref().is_some_and(|c| !c.is_empty()))
            .count();
        assert_eq!(redeemed, with_coupon);
    }
}
