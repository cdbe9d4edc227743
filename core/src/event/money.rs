//! Money: a JSON number read as whole cents.
//!
//! The contract rounds every amount to whole cents, half away from zero (docs/signals.md
//! "Notation"). Rounding is done on the decimal digits of the JSON text, not on an `f64`: the
//! binary float nearest 0.285 is 0.28499…, so `(x * 100.0).round()` gives 28 cents where the
//! producer wrote 28.5 cents, which rounds to 29. Reading the digits also rejects an amount too large for `i64`
//! cents instead of saturating it.

/// Why a JSON number is not an acceptable amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MoneyError {
    /// Below zero (even a value that would round to zero cents, as `minimum: 0` in the schema).
    Negative,
    /// Above the maximum (even by less than half a cent, as `maximum` in the schema), which
    /// includes every amount beyond `i64` cents and a number such as `1e400` that is infinite
    /// as an `f64`.
    AboveMaximum,
}

/// Whole cents of `number`, which must be the text of a valid JSON number
/// (`-?digits(.digits)?([eE][+-]?digits)?`), if it lies in `0..=max_cents` cents.
///
/// Both bounds are checked on the exact decimal value, before rounding: `-0.001` is negative
/// and `max + 0.001` cents is above the maximum, though they round to 0 and to `max`. `-0` is
/// zero. The work is linear in the length of the text, whatever its exponent.
pub(crate) fn cents(number: &str, max_cents: i64) -> Result<i64, MoneyError> {
    let (negative, unsigned) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], exponent_value(&unsigned[at + 1..])),
        None => (unsigned, 0),
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = || {
        integer
            .bytes()
            .chain(fraction.bytes())
            .map(|b| i64::from(b - b'0'))
    };
    if negative && digits().any(|d| d != 0) {
        return Err(MoneyError::Negative);
    }

    // In the digit string `integer ++ fraction`, the decimal point sits after
    // `integer.len() + exponent` digits; the first `cents_len` digits are the whole cents and
    // the next one decides the rounding (`cents_len` may be <= 0 for tiny amounts).
    let cents_len = integer.len() as i64 + exponent + 2;
    let mut whole = 0i64;
    let mut rounding_digit = 0;
    // Whether a digit below the cents is not zero: the exact value is above `whole` cents.
    let mut fractional_cents = false;
    for (index, digit) in digits().enumerate() {
        let index = index as i64;
        if index < cents_len {
            whole = push_digit(whole, digit)?;
        } else {
            if index == cents_len {
                rounding_digit = digit;
            }
            if digit != 0 {
                fractional_cents = true;
                break;
            }
        }
    }
    // Digits the text does not write, up to the cents position, are zeros.
    let written = (integer.len() + fraction.len()) as i64;
    for _ in written..cents_len {
        if whole == 0 {
            break;
        }
        whole = push_digit(whole, 0)?;
    }
    if whole > max_cents || (whole == max_cents && fractional_cents) {
        return Err(MoneyError::AboveMaximum);
    }
    // Only the first dropped digit decides: >= 5 means at least half a cent. Such a digit makes
    // `fractional_cents` true, so `whole < max_cents` here and adding one cannot pass it.
    if rounding_digit >= 5 {
        whole += 1;
    }
    Ok(whole)
}

/// `cents` as a JSON-style decimal with two fraction digits, as limits are quoted in messages
/// in the unit the producer writes (`1000000000000` -> `10000000000.00`).
pub(crate) fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{}.{:02}", cents / 100, cents % 100)
}

fn push_digit(value: i64, digit: i64) -> Result<i64, MoneyError> {
    value
        .checked_mul(10)
        .and_then(|v| v.checked_add(digit))
        .ok_or(MoneyError::AboveMaximum)
}

/// The exponent of a JSON number, saturated: beyond ±10^15 the answer is decided anyway
/// (overflow or zero), and saturating keeps the arithmetic above from overflowing.
fn exponent_value(text: &str) -> i64 {
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    let magnitude = digits
        .bytes()
        .try_fold(0i64, |value, b| {
            let next = value * 10 + i64::from(b - b'0');
            (next <= 1_000_000_000_000_000).then_some(next)
        })
        .unwrap_or(1_000_000_000_000_000);
    sign * magnitude
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Cents with no maximum but `i64`'s own.
    fn cents(number: &str) -> Result<i64, MoneyError> {
        super::cents(number, i64::MAX)
    }

    #[test]
    fn two_decimal_amounts_are_exact() {
        assert_eq!(cents("0"), Ok(0));
        assert_eq!(cents("12"), Ok(1200));
        assert_eq!(cents("12.3"), Ok(1230));
        assert_eq!(cents("12.34"), Ok(1234));
        assert_eq!(cents("0.01"), Ok(1));
    }

    #[test]
    fn half_cents_round_away_from_zero_on_the_decimal_text() {
        assert_eq!(cents("0.285"), Ok(29)); // 0.285_f64 * 100.0 is 28.499999999999996
        assert_eq!(cents("0.284999"), Ok(28));
        assert_eq!(cents("0.005"), Ok(1));
        assert_eq!(cents("0.0049999"), Ok(0));
        assert_eq!(cents("1.995"), Ok(200));
        assert_eq!(cents("9.999"), Ok(1000));
    }

    #[test]
    fn exponents_shift_the_decimal_point() {
        assert_eq!(cents("1e2"), Ok(10_000));
        assert_eq!(cents("1.5E+1"), Ok(1500));
        assert_eq!(cents("125e-3"), Ok(13));
        assert_eq!(cents("5e-3"), Ok(1));
        assert_eq!(cents("5e-4"), Ok(0));
        assert_eq!(cents("1e-400"), Ok(0));
        assert_eq!(cents("0e400"), Ok(0));
        assert_eq!(cents("0.0e99999999999999999999"), Ok(0));
    }

    #[test]
    fn negative_amounts_are_rejected_but_negative_zero_is_zero() {
        assert_eq!(cents("-1"), Err(MoneyError::Negative));
        assert_eq!(cents("-0.001"), Err(MoneyError::Negative));
        assert_eq!(cents("-0"), Ok(0));
        assert_eq!(cents("-0.0e5"), Ok(0));
    }

    #[test]
    fn amounts_beyond_i64_cents_are_too_large() {
        assert_eq!(cents("92233720368547758.07"), Ok(i64::MAX));
        assert_eq!(cents("92233720368547758.08"), Err(MoneyError::AboveMaximum));
        assert_eq!(cents("92233720368547758.065"), Ok(i64::MAX));
        assert_eq!(
            cents("92233720368547758.075"),
            Err(MoneyError::AboveMaximum)
        );
        assert_eq!(cents("1e17"), Err(MoneyError::AboveMaximum));
        assert_eq!(
            cents("1e99999999999999999999"),
            Err(MoneyError::AboveMaximum)
        );
    }

    #[test]
    fn the_maximum_is_checked_on_the_exact_value_before_rounding() {
        let max = 1_000_000_000_000; // 10,000,000,000.00
        assert_eq!(super::cents("10000000000", max), Ok(max));
        assert_eq!(super::cents("10000000000.00", max), Ok(max));
        assert_eq!(super::cents("1e10", max), Ok(max));
        assert_eq!(super::cents("9999999999.995", max), Ok(max));
        assert_eq!(super::cents("9999999999.9949999", max), Ok(max - 1));
        // Rounds to the maximum, but is above it: as the schema's `maximum` says.
        assert_eq!(
            super::cents("10000000000.001", max),
            Err(MoneyError::AboveMaximum)
        );
        assert_eq!(
            super::cents("10000000000.0000000001", max),
            Err(MoneyError::AboveMaximum)
        );
        assert_eq!(
            super::cents("10000000000.01", max),
            Err(MoneyError::AboveMaximum)
        );
        assert_eq!(super::cents("1e400", max), Err(MoneyError::AboveMaximum));
        assert_eq!(super::cents("1E+400", max), Err(MoneyError::AboveMaximum));
        assert_eq!(super::cents("0.1", 0), Err(MoneyError::AboveMaximum));
        assert_eq!(super::cents("0.00", 0), Ok(0));
        assert_eq!(super::cents("-0", 0), Ok(0));
    }

    #[test]
    fn limits_are_quoted_as_decimals() {
        assert_eq!(format_cents(1_000_000_000_000), "10000000000.00");
        assert_eq!(format_cents(5), "0.05");
        assert_eq!(format_cents(i64::MIN), "-92233720368547758.08");
    }

    proptest! {
        #[test]
        fn formatted_cents_read_back_exactly(value in 0i64..=i64::MAX) {
            let text = format!("{}.{:02}", value / 100, value % 100);
            prop_assert_eq!(cents(&text), Ok(value));
        }

        #[test]
        fn agrees_with_f64_rounding_where_f64_is_exact(units in 0u32..1_000_000, thousandths in 0u32..1000) {
            // x.yyz with z != 5 is never a tie, so f64 rounding gives the same cents.
            prop_assume!(thousandths % 10 != 5);
            let text = format!("{units}.{thousandths:03}");
            let expected = (text.parse::<f64>().unwrap() * 100.0).round() as i64;
            prop_assert_eq!(cents(&text), Ok(expected));
        }

        #[test]
        fn any_json_number_text_never_panics(text in "-?(0|[1-9][0-9]{0,25})(\\.[0-9]{1,25})?([eE][+-]?[0-9]{1,25})?") {
            let _ = cents(&text);
        }

        #[test]
        fn within_the_maximum_exactly_when_the_exact_value_is(
            units in 0u64..2_000, thousandths in 0u64..1000, max in 0i64..200_000,
        ) {
            // x.yyz is 10 × (x.yyz) cents exactly; compare in tenths of a cent.
            let text = format!("{units}.{thousandths:03}");
            let tenths = units * 1000 + thousandths;
            let within = tenths <= (max as u64) * 10;
            prop_assert_eq!(super::cents(&text, max).is_ok(), within, "{} against {}", text, max);
        }
    }
}
