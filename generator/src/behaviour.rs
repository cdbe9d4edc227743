//! Who a synthetic user is: a [`Persona`] drawn once per user, fixing how often they visit,
//! what they like, how they buy and chat, and their [`Fate`]: how their activity ends up by
//! the last day.
//!
//! Fates are drawn relative to the end of the period, so that the default data set ends with
//! users in every lifecycle stage of docs/signals.md: steady users, newcomers, users whose
//! visits fall off in the last week, users quiet for 14+, 30+ or 60+ days, hard churners (some
//! of whom come back, some the same day), and users who return after 30+ silent days.
//!
//! Only `+ - * /` on floats and integer sampling are used, never `exp`/`ln`/`powf`: those come
//! from the platform's math library, and the data set must be identical on every platform.

use rand::seq::SliceRandom;
use rand::Rng;

use crate::catalogue::Category;
use crate::event::AccountAction;

/// How a user's activity evolves; days are 0-based days of the period.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Fate {
    /// Visits at the base rate until the end.
    Steady,
    /// Visits at the base rate, then far less in the final week: a falling frequency.
    Fading,
    /// Stops visiting after `last_day`.
    Quiet { last_day: u32 },
    /// Deletes the staff contact or cancels the account on `day`, after a last visit; may come
    /// back on day `back` (on `day` itself: hours later), re-adding the contact or registering
    /// again.
    HardChurn {
        day: u32,
        action: AccountAction,
        back: Option<u32>,
    },
    /// Visits until `pause`, is silent, and returns on `back`, at least 31 days later.
    Comeback { pause: u32, back: u32 },
    /// A prospect who never acts: they only receive promotions.
    Lead,
}

/// What a user does on one day, as decided by their fate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum DayPlan {
    Silent,
    /// Visits at `factor` × the base rate, and at least `at_least` times.
    Visit {
        factor: f64,
        at_least: u32,
    },
    /// Visits once, then does `action`; comes back later that day if `back_same_day`.
    Churn {
        action: AccountAction,
        back_same_day: bool,
    },
}

/// The visit rate of a fading user in the final week, relative to before.
const FADED_FACTOR: f64 = 0.15;

impl Fate {
    /// The plan for `day` of a user whose first day is `start`, in a period of `days` days.
    pub fn plan(self, day: u32, start: u32, days: u32) -> DayPlan {
        const VISIT: DayPlan = DayPlan::Visit {
            factor: 1.0,
            at_least: 0,
        };
        const RETURN: DayPlan = DayPlan::Visit {
            factor: 1.0,
            at_least: 1,
        };
        if day < start {
            return DayPlan::Silent;
        }
        let visit_if = |active: bool| if active { VISIT } else { DayPlan::Silent };
        match self {
            Fate::Lead => DayPlan::Silent,
            _ if day == start => RETURN,
            Fate::Steady => VISIT,
            Fate::Fading if day + 7 >= days => DayPlan::Visit {
                factor: FADED_FACTOR,
                at_least: 0,
            },
            Fate::Fading => VISIT,
            Fate::Quiet { last_day } => visit_if(day <= last_day),
            Fate::HardChurn {
                day: churn,
                action,
                back,
            } => match back {
                _ if day < churn => VISIT,
                _ if day == churn => DayPlan::Churn {
                    action,
                    back_same_day: back == Some(churn),
                },
                Some(back) if day == back => RETURN,
                Some(back) => visit_if(day > back),
                None => DayPlan::Silent,
            },
            Fate::Comeback { back, .. } if day == back => RETURN,
            Fate::Comeback { pause, back } => visit_if(day <= pause || day > back),
        }
    }
}

/// A user's stable traits.
#[derive(Clone, Debug)]
pub(crate) struct Persona {
    pub fate: Fate,
    /// The first day with an event (registration, or the first promotion for a lead).
    pub start_day: u32,
    /// Mean visits per day at the base rate (a visit is a session of a few events).
    pub visits_per_day: f64,
    /// One to three favourite categories; most category-bearing events pick one of these.
    pub interests: Vec<Category>,
    /// Chance that a visit ends in an order.
    pub order_chance: f64,
    /// Chance that an order uses a promotion (coupon, campaign or discount).
    pub promo_share: f64,
    /// Chance that a visit includes a chat with staff.
    pub chat_chance: f64,
    /// Writes opt-out lines now and then.
    pub averse: bool,
    /// Typical unit price of what they buy, in cents.
    pub item_price: i64,
    /// Days after the first day when they add the staff contact; `None`: never.
    pub contact_after: Option<u32>,
    /// Receives a new-user gift the day before registering, so `first_seen_at` precedes any
    /// user-initiated event.
    pub early_gift: bool,
}

impl Persona {
    pub fn draw(rng: &mut impl Rng, days: u32) -> Persona {
        let fate = draw_fate(rng, days);
        let start_day = draw_start(rng, fate, days);
        let fading = matches!(fate, Fate::Fading);
        // A fading user needs enough earlier visits for the drop to be visible.
        let visits_per_day = if fading {
            between_f(rng, 0.6, 2.5)
        } else {
            // Skewed towards occasional visitors: 0.1 + 2.4 u², mean about 0.9 a day.
            let u: f64 = rng.gen();
            0.1 + 2.4 * u * u
        };
        Persona {
            fate,
            start_day,
            visits_per_day,
            interests: draw_interests(rng),
            order_chance: pick(
                rng,
                &[(20, (0.0, 0.0)), (45, (0.02, 0.1)), (35, (0.12, 0.4))],
            ),
            promo_share: pick(
                rng,
                &[
                    (25, (0.0, 0.0)),
                    (15, (0.05, 0.25)),
                    (20, (0.3, 0.55)),
                    (20, (0.6, 0.9)),
                    (20, (1.0, 1.0)),
                ],
            ),
            chat_chance: pick(rng, &[(35, (0.0, 0.0)), (65, (0.05, 0.45))]),
            averse: rng.gen_bool(0.1),
            // 10.00 to 1500.00, skewed low: spans every purchasing-power tier.
            item_price: {
                let u: f64 = rng.gen();
                1_000 + (149_000.0 * u * u * u) as i64
            },
            contact_after: match rng.gen_range(0..20) {
                0..=13 => Some(0),
                14..=16 => Some(rng.gen_range(1..=5)),
                _ => None,
            },
            early_gift: rng.gen_bool(0.1),
        }
    }

    /// A category for one event: usually an interest, sometimes anything.
    pub fn category(&self, rng: &mut impl Rng) -> Category {
        if rng.gen_bool(0.85) {
            *self.interests.choose(rng).expect("a persona has interests")
        } else {
            Category::any(rng)
        }
    }
}

/// Draws a fate whose timing is placed relative to the last day. Weights are percentages.
fn draw_fate(rng: &mut impl Rng, days: u32) -> Fate {
    let last = days - 1;
    let quiet_for = |rng: &mut _, lo, hi| Fate::Quiet {
        last_day: last.saturating_sub(between(rng, lo, hi)),
    };
    match rng.gen_range(0..100) {
        0..=43 => Fate::Steady,
        44..=51 => Fate::Fading,
        // Inactive long enough for at_risk, dormant and churned, away from the thresholds.
        52..=59 => quiet_for(rng, 15, 27),
        60..=67 => quiet_for(rng, 32, 56),
        68..=77 => quiet_for(rng, 62, 110),
        78..=87 => {
            let day = between(rng, days / 5, last);
            let action = if rng.gen_bool(0.6) {
                AccountAction::FriendDeleted
            } else {
                AccountAction::Cancel
            };
            let back = match rng.gen_range(0..20) {
                0..=8 => None,
                9..=11 => Some(day),
                _ => Some((day + between(rng, 1, 40)).min(last)),
            };
            Fate::HardChurn { day, action, back }
        }
        88..=97 => {
            // Half come back in the final week (stage `reactivated`), half earlier.
            let back = if rng.gen_bool(0.5) {
                between(rng, days.saturating_sub(7), last)
            } else {
                between(rng, 45.min(last), days.saturating_sub(8))
            };
            let pause = back.saturating_sub(between(rng, 31, 50));
            Fate::Comeback { pause, back }
        }
        _ => Fate::Lead,
    }
}

/// The first day: a tenth of ordinary users are new in the final week; everyone else starts
/// early enough for their fate to play out.
fn draw_start(rng: &mut impl Rng, fate: Fate, days: u32) -> u32 {
    let last = days - 1;
    let latest = match fate {
        Fate::Steady if rng.gen_bool(0.18) => return between(rng, days.saturating_sub(7), last),
        Fate::Steady => days.saturating_sub(8),
        Fate::Fading => days.saturating_sub(40),
        Fate::Quiet { last_day } => last_day,
        Fate::HardChurn { day, .. } => day.saturating_sub(1),
        Fate::Comeback { pause, .. } => pause,
        Fate::Lead => last,
    };
    // Skewed towards early starts, so most users have a long history.
    let u: f64 = rng.gen();
    (f64::from(latest) * u * u) as u32
}

fn draw_interests(rng: &mut impl Rng) -> Vec<Category> {
    let all: Vec<Category> = Category::all().collect();
    let count = rng.gen_range(1..=3);
    all.choose_multiple(rng, count).copied().collect()
}

/// A uniform integer in `lo..=hi`, or `lo` when the range is empty (short periods).
pub(crate) fn between(rng: &mut impl Rng, lo: u32, hi: u32) -> u32 {
    if hi <= lo {
        lo
    } else {
        rng.gen_range(lo..=hi)
    }
}

fn between_f(rng: &mut impl Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.gen::<f64>()
}

/// Picks a range by weight, then a value uniformly inside it.
fn pick(rng: &mut impl Rng, choices: &[(u32, (f64, f64))]) -> f64 {
    let total: u32 = choices.iter().map(|(w, _)| w).sum();
    let mut roll = rng.gen_range(0..total);
    for &(weight, (lo, hi)) in choices {
        if roll < weight {
            return between_f(rng, lo, hi);
        }
        roll -= weight;
    }
    unreachable!("roll < total")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    const DAYS: u32 = 120;

    fn visits(plan: DayPlan) -> bool {
        matches!(plan, DayPlan::Visit { .. })
    }

    #[test]
    fn first_day_always_has_a_visit_except_for_leads() {
        let first = DayPlan::Visit {
            factor: 1.0,
            at_least: 1,
        };
        assert_eq!(Fate::Steady.plan(10, 10, DAYS), first);
        assert_eq!(Fate::Quiet { last_day: 50 }.plan(10, 10, DAYS), first);
        assert_eq!(Fate::Lead.plan(10, 10, DAYS), DayPlan::Silent);
        assert_eq!(Fate::Steady.plan(9, 10, DAYS), DayPlan::Silent);
    }

    #[test]
    fn fading_users_slow_down_in_the_final_week() {
        let plan = |day| Fate::Fading.plan(day, 0, DAYS);
        assert_eq!(
            plan(112),
            DayPlan::Visit {
                factor: 1.0,
                at_least: 0
            }
        );
        assert_eq!(
            plan(113),
            DayPlan::Visit {
                factor: FADED_FACTOR,
                at_least: 0
            }
        );
    }

    #[test]
    fn hard_churners_go_silent_and_may_come_back() {
        let fate = Fate::HardChurn {
            day: 50,
            action: AccountAction::Cancel,
            back: Some(70),
        };
        assert!(visits(fate.plan(49, 0, DAYS)));
        assert_eq!(
            fate.plan(50, 0, DAYS),
            DayPlan::Churn {
                action: AccountAction::Cancel,
                back_same_day: false
            }
        );
        assert_eq!(fate.plan(60, 0, DAYS), DayPlan::Silent);
        assert!(visits(fate.plan(70, 0, DAYS)) && visits(fate.plan(90, 0, DAYS)));

        let same_day = Fate::HardChurn {
            day: 50,
            action: AccountAction::FriendDeleted,
            back: Some(50),
        };
        assert_eq!(
            same_day.plan(50, 0, DAYS),
            DayPlan::Churn {
                action: AccountAction::FriendDeleted,
                back_same_day: true
            }
        );
        assert!(visits(same_day.plan(51, 0, DAYS)));
    }

    #[test]
    fn comebacks_are_silent_between_pause_and_back() {
        let fate = Fate::Comeback {
            pause: 40,
            back: 80,
        };
        assert!(visits(fate.plan(40, 0, DAYS)));
        assert_eq!(fate.plan(41, 0, DAYS), DayPlan::Silent);
        assert_eq!(fate.plan(79, 0, DAYS), DayPlan::Silent);
        assert!(visits(fate.plan(80, 0, DAYS)));
    }

    #[test]
    fn drawing_never_panics_on_tiny_periods() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for days in 1..10 {
            for _ in 0..200 {
                let persona = Persona::draw(&mut rng, days);
                assert!(persona.start_day < days);
            }
        }
    }
}
