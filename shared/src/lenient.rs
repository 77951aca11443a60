//! Lenient field parsers for upstream answers: the guide shows examples, not a schema,
//! so any field may arrive as `null`, with a fraction or a sign, or with another type.
//!
//! Each helper reads one field as whatever JSON it is and keeps what can be kept
//! (a string, a rounded count, the objects of a list); the rest becomes the field's
//! "unknown" value (empty, zero, `None`). None of them ever fails on valid JSON, so one
//! odd field can no longer turn a whole report or job list into an error. They are used
//! with `#[serde(default, deserialize_with = "…")]`: `default` covers a missing field.
//!
//! Values are read in a streaming way (nested arrays and objects that are not wanted
//! are skipped, not built), so a 10,000-test report costs what it did before.

use std::{fmt, marker::PhantomData};

use serde::{
    Deserialize, Deserializer,
    de::{IgnoredAny, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer},
};

/// One JSON value reduced to what a scalar field can use; containers are skipped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    /// `null`, or an array or object where a scalar was expected.
    Nothing,
    /// `true` or `false`.
    Bool(bool),
    /// Any number, as a float (integers above 2^53 lose precision, which no count or
    /// duration reaches).
    Number(f64),
    /// A string.
    Text(String),
}

impl Scalar {
    /// The value as text a person can read: strings as they are, booleans and whole
    /// numbers spelled as JSON spells them, other numbers with up to six decimals,
    /// nothing as `None`. Numbers are spelled with integers: core's float formatter
    /// would add ~7 KB (gzipped) to the widget's wasm.
    pub(crate) fn into_text(self) -> Option<String> {
        match self {
            Self::Text(text) => Some(text),
            Self::Number(n) => Some(decimal_text(n)),
            Self::Bool(b) => Some(b.to_string()),
            Self::Nothing => None,
        }
    }

    /// The value as a non-negative whole number: fractions are rounded, numeric
    /// strings (digits with an optional fraction) are read; negative, non-finite or
    /// non-numeric values are `None`.
    pub(crate) fn into_whole(self) -> Option<u64> {
        let n = match self {
            Self::Number(n) => n,
            Self::Text(text) => return whole_from_text(text.trim()),
            Self::Bool(_) | Self::Nothing => return None,
        };
        // `as` saturates at u64::MAX for huge values, which is the honest answer.
        (n.is_finite() && n >= 0.0).then(|| n.round() as u64)
    }
}

/// `n` in decimal: whole numbers exactly (up to 2^63), others rounded to six decimals
/// with trailing zeros dropped ("1240.5", "-0.125"); from 10^12 on, where an `f64` keeps
/// few fractional digits anyway, the fraction is dropped.
fn decimal_text(n: f64) -> String {
    if n.fract() == 0.0 || n.abs() >= 1e12 {
        // `as` saturates beyond i64, which no id or title of the platform reaches.
        return format!("{}", n.trunc() as i64);
    }
    let sign = if n < 0.0 { "-" } else { "" };
    let millionths = (n.abs() * 1e6).round() as u64;
    let (whole, fraction) = (millionths / 1_000_000, millionths % 1_000_000);
    if fraction == 0 {
        return format!("{sign}{whole}");
    }
    let digits = format!("{fraction:06}");
    format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
}

/// Reads "1240" or "1240.5" (rounded) without a float parser: core's would add ~15 KB
/// (gzipped) to the widget's wasm. Signs, exponents and other text are `None`.
fn whole_from_text(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !is_digits(whole) || !is_digits(fraction) {
        return None;
    }
    let value = if whole.is_empty() {
        0
    } else {
        whole.parse::<u64>().ok()?
    };
    let round_up = fraction.bytes().next().is_some_and(|b| b >= b'5');
    Some(value.saturating_add(u64::from(round_up)))
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v as f64))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v as f64))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(v))
    }

    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Nothing)
    }

    fn visit_none<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Nothing)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        Scalar::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Nothing)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Nothing)
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

/// Reads the wire spelling of a status: a string as it is, a number or boolean as its
/// JSON text, anything else (`null` included) as the empty string, shown as "unknown".
pub(crate) fn status_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Scalar::deserialize(d)?.into_text().unwrap_or_default())
}

/// A text field (a title, an id): numbers and booleans become their JSON text,
/// anything else the empty string.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    status_text(d)
}

/// An optional text field (a link, an instant, an id that appears later): like
/// [`string`], but empty or unusable values are `None`, since an empty link or id
/// leads nowhere.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Scalar::deserialize(d)?
        .into_text()
        .filter(|text| !text.is_empty()))
}

/// A count: fractions rounded, negative or non-numeric values 0.
pub(crate) fn count<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(Scalar::deserialize(d)?.into_whole().unwrap_or(0))
}

/// A measurement that may be unknown (a duration): fractions rounded, negative or
/// non-numeric values `None`.
pub(crate) fn opt_whole<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(Scalar::deserialize(d)?.into_whole())
}

/// A flag: only `true` is true.
pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Scalar::deserialize(d)? == Scalar::Bool(true))
}

/// A list of text (ids): strings and numbers are kept, other elements skipped, and a
/// value that is not a list is an empty list.
pub(crate) fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let items: Vec<Scalar> = list(d)?;
    Ok(items.into_iter().filter_map(Scalar::into_text).collect())
}

/// Visitor methods that answer `$nothing` for every scalar and `null` (and look
/// through `Some`); each visitor handles arrays and objects itself.
macro_rules! anything_else_is {
    ($nothing:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($nothing)
        }

        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($nothing)
        }

        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($nothing)
        }

        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($nothing)
        }

        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($nothing)
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok($nothing)
        }

        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok($nothing)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    };
}

/// A list of `T`: a value that is not a list is an empty list.
fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    struct ListVisitor<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(item) = seq.next_element()? {
                items.push(item);
            }
            Ok(items)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<T>, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Vec::new())
        }

        anything_else_is!(Vec::new());
    }

    d.deserialize_any(ListVisitor(PhantomData))
}

/// One element of a list of records: the record when the element is an object,
/// nothing (skipped by [`objects`]) when it is anything else.
struct MaybeObject<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for MaybeObject<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = MaybeObject<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|t| MaybeObject(Some(t)))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(MaybeObject(None))
            }

            anything_else_is!(MaybeObject(None));
        }

        d.deserialize_any(ObjectVisitor(PhantomData))
    }
}

/// A list of records (tests, jobs, summary entries): elements that are not objects
/// (`null`, a string…) are skipped, and a value that is not a list is an empty list.
/// The records' own fields are lenient, so an object element never fails.
pub(crate) fn objects<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let items: Vec<MaybeObject<T>> = list(d)?;
    Ok(items.into_iter().filter_map(|item| item.0).collect())
}

/// An answer type whose top level must be a JSON object: the one thing a lenient
/// answer insists on, since an array, a string or `null` is not an answer at all
/// (serde would otherwise read an array positionally, and with every field
/// defaulted, `[]` would pass as an empty report).
pub(crate) trait Object: Sized {
    /// The derived, field-by-field reading of the object's members.
    fn from_members<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

/// Reads `T` when the value is an object; anything else is an error naming it.
pub(crate) fn object<'de, D: Deserializer<'de>, T: Object>(d: D) -> Result<T, D::Error> {
    struct ObjectOnly<T>(PhantomData<T>);

    impl<'de, T: Object> Visitor<'de> for ObjectOnly<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::from_members(MapAccessDeserializer::new(map))
        }
    }

    d.deserialize_any(ObjectOnly(PhantomData))
}

#[cfg(test)]
mod tests {
    use super::{decimal_text, whole_from_text};

    #[test]
    fn numbers_are_spelled_without_the_float_formatter() {
        let check = |n: f64, expected: &str| assert_eq!(decimal_text(n), expected, "{n}");
        check(1240.5, "1240.5");
        check(-0.125, "-0.125");
        check(12345.0, "12345");
        check(-7.0, "-7");
        check(0.1 + 0.2, "0.3");
        check(1e15, "1000000000000000");
        check(2.5e12, "2500000000000");
    }

    #[test]
    fn numeric_text_is_read_as_a_rounded_whole_number() {
        let check = |text: &str, expected: Option<u64>| {
            assert_eq!(whole_from_text(text), expected, "{text:?}");
        };
        check("1240", Some(1240));
        check("1240.5", Some(1241));
        check("1240.4", Some(1240));
        check(".5", Some(1));
        check("7.", Some(7));
        for refused in ["", ".", "1e3", "+5", "-1", "12 s", "1.2.3"] {
            check(refused, None);
        }
    }
}
