//! JSON numbers as serde_json reads them: integers exactly, anything with a fraction or
//! an exponent as an `f64` (the significand times a power of ten, without core's float
//! parser, which would add ~15 KB to the widget's wasm).

/// A JSON number as sent, read on demand as serde_json would read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number<'a>(pub(super) &'a str);

/// What a JSON number is to serde: an integer (unsigned or negative) or a float.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Numeric {
    /// A non-negative integer that fits `u64`.
    Unsigned(u64),
    /// A negative integer that fits `i64`.
    Negative(i64),
    /// Anything else: a fraction, an exponent, or an integer too large.
    Float(f64),
}

impl Number<'_> {
    /// The number as serde_json reads it.
    pub fn numeric(self) -> Numeric {
        let text = self.0;
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if let Some(n) = digits
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| digits.parse::<u64>().ok())
            .flatten()
        {
            if !negative {
                return Numeric::Unsigned(n);
            }
            // serde_json reads `-0`, and what `i64` cannot hold, as floats.
            let negated = (n as i64).wrapping_neg();
            if negated < 0 {
                return Numeric::Negative(negated);
            }
        }
        let value = float(digits);
        Numeric::Float(if negative { -value } else { value })
    }

    /// The number as an `f64`: integers converted with `as`, as serde's visitors do.
    pub fn as_f64(self) -> f64 {
        match self.numeric() {
            Numeric::Unsigned(n) => n as f64,
            Numeric::Negative(n) => n as f64,
            Numeric::Float(f) => f,
        }
    }
}

/// The value of an unsigned number's text (digits, an optional fraction and exponent)
/// computed as serde_json computes it: the digits as an integer significand (integer
/// digits past what `u64` holds scale it, such fraction digits are dropped) times ten to
/// the exponent. Up to 10^22 the power is exact and so is the agreement with serde_json;
/// beyond, this scales in steps and may differ from it in the last bit.
fn float(text: &str) -> f64 {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut significand: u64 = 0;
    let mut scale: i32 = 0;
    let push = |significand: u64, digit: u8| {
        significand
            .checked_mul(10)
            .and_then(|s| s.checked_add(u64::from(digit - b'0')))
    };
    for digit in whole.bytes() {
        match push(significand, digit) {
            Some(next) if scale == 0 => significand = next,
            _ => scale += 1,
        }
    }
    for digit in fraction.bytes() {
        let Some(next) = push(significand, digit) else {
            break;
        };
        significand = next;
        scale -= 1;
    }
    if let Some(exponent) = exponent {
        let (positive, digits) = match exponent.as_bytes().first() {
            Some(b'-') => (false, &exponent[1..]),
            Some(b'+') => (true, &exponent[1..]),
            _ => (true, exponent),
        };
        let Ok(e) = digits.parse::<i32>() else {
            // An exponent beyond i32: out of range, or zero.
            return if significand != 0 && positive {
                f64::INFINITY
            } else {
                0.0
            };
        };
        scale = if positive {
            scale.saturating_add(e)
        } else {
            scale.saturating_sub(e)
        };
    }
    times_ten_to(significand as f64, scale)
}

/// `value` × 10^`exponent`, in steps of at most 10^22 (exact powers).
fn times_ten_to(mut value: f64, mut exponent: i32) -> f64 {
    while exponent > 0 && value.is_finite() {
        let step = exponent.min(22);
        value *= 10f64.powi(step);
        exponent -= step;
    }
    while exponent < 0 && value != 0.0 {
        let step = (-exponent).min(22);
        value /= 10f64.powi(step);
        exponent += step;
    }
    value
}
