//! The fit recovers the parameters that a million synthetic customers were drawn from (issue
//! 11), and prints how long it took: `cargo test -p portrait-churn --test recovery --
//! --nocapture`. docs/churn-model.md has the figures.

use std::time::Instant;

use portrait_churn::fit;
use portrait_core::churn_model::{BgNbdParams, Rfm};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Exp, Gamma};

/// The parameters drawn from: a purchase every 8 weeks on average while active (r/α), and a
/// 24% mean chance of dropping out after each repeat purchase (a/(a+b)), so that over 20 to 60
/// weeks most customers buy again and many drop out, which is what pins a and b down.
fn truth() -> BgNbdParams {
    BgNbdParams::new(0.5, 4.0, 0.8, 2.5).unwrap()
}

/// `n` customers from BG/NBD's generative process, each seen for a uniform 20 to 60 weeks
/// after the first purchase.
fn simulate(params: BgNbdParams, n: usize, seed: u64) -> Vec<Rfm> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let rates = Gamma::new(params.r(), 1.0 / params.alpha()).unwrap();
    let dropouts = Beta::new(params.a(), params.b()).unwrap();
    (0..n)
        .map(|_| {
            let rate = rates.sample(&mut rng);
            let dropout = dropouts.sample(&mut rng);
            let age = rng.gen_range(20.0..60.0);
            let gaps = Exp::new(rate).unwrap();
            // The first purchase is at 0; the customer may drop out only after a repeat one.
            let (mut x, mut last) = (0.0, 0.0);
            loop {
                let next = last + gaps.sample(&mut rng);
                if next > age {
                    break;
                }
                x += 1.0;
                last = next;
                if rng.gen_bool(dropout) {
                    break;
                }
            }
            Rfm::new(x, last, age).unwrap()
        })
        .collect()
}

#[test]
fn recovers_the_parameters_of_a_million_customers_within_2_percent() {
    let n = 1_000_000;
    let truth = truth();
    let customers = simulate(truth, n, 11);
    let started = Instant::now();
    let fitted = fit(&customers).unwrap();
    let took = started.elapsed();
    let p = fitted.params;
    println!(
        "{n} customers: r = {:.4}, α = {:.4}, a = {:.4}, b = {:.4} in {:.1} s, {} iterations",
        p.r(),
        p.alpha(),
        p.a(),
        p.b(),
        took.as_secs_f64(),
        fitted.iterations
    );
    // A maximum at least as high as the truth's: the search did not stop short of it.
    let at_truth: f64 = customers.iter().map(|&rfm| truth.log_likelihood(rfm)).sum();
    assert!(
        fitted.log_likelihood >= at_truth,
        "{} < {at_truth}",
        fitted.log_likelihood
    );
    for (name, value, true_value) in [
        ("r", p.r(), truth.r()),
        ("α", p.alpha(), truth.alpha()),
        ("a", p.a(), truth.a()),
        ("b", p.b(), truth.b()),
    ] {
        let off = value / true_value - 1.0;
        println!("  {name}: {:+.2}%", 100.0 * off);
        assert!(
            off.abs() <= 0.02,
            "{name} = {value}, drawn from {true_value}"
        );
    }
}
