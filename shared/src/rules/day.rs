//! A calendar day (`YYYY-MM-DD`, UTC), written by hand because `shared` takes no date
//! crate (tidy test): a quarantine's `until` is a day, compared with today's.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{ValidationError, calendar};

/// A real calendar day between the years 1970 and 9999. Ordered by time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Day {
    year: u16,
    month: u8,
    day: u8,
}

impl Day {
    /// Reads exactly `YYYY-MM-DD` naming a day that exists (`2026-02-30` does not); the
    /// error names `field`.
    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationError> {
        let bad = || ValidationError::new(field, "is not a day: write it as YYYY-MM-DD");
        let bytes = text.as_bytes();
        let shape = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shape {
            return Err(bad());
        }
        let number = |range: std::ops::Range<usize>| text[range].parse::<u16>().map_err(|_| bad());
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        if year < 1970 || !(1..=12).contains(&month) {
            return Err(bad());
        }
        // Both fit: month ≤ 12 and a day is checked against its month's length below.
        let (month, day) = (month as u8, day.min(99) as u8);
        if day == 0 || day > days_in_month(year, month) {
            return Err(ValidationError::new(
                field,
                format!("{text} is not a day of the calendar"),
            ));
        }
        Ok(Self { year, month, day })
    }

    /// The day `days` days after 1970-01-01 (clamped to the supported years).
    pub fn from_epoch_days(days: i64) -> Self {
        let (year, month, day) = calendar::civil_from_days(days.clamp(0, 2_932_896));
        Self {
            year: u16::try_from(year).unwrap_or(9999),
            month: u8::try_from(month).unwrap_or(12),
            day: u8::try_from(day).unwrap_or(31),
        }
    }

    /// The day of a time given in milliseconds since the Unix epoch (UTC).
    pub fn from_epoch_ms(ms: i64) -> Self {
        Self::from_epoch_days(ms.div_euclid(86_400_000))
    }

    /// Days since 1970-01-01.
    pub fn epoch_days(self) -> i64 {
        calendar::days_from_civil(
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        )
    }

    /// How many days `later` is after `self` (negative when it is before).
    pub fn days_until(self, later: Self) -> i64 {
        later.epoch_days() - self.epoch_days()
    }

    /// The day `days` after this one.
    pub fn plus_days(self, days: i64) -> Self {
        Self::from_epoch_days(self.epoch_days() + days)
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl TryFrom<String> for Day {
    type Error = ValidationError;
    fn try_from(text: String) -> Result<Self, ValidationError> {
        Self::parse("until", &text)
    }
}

impl From<Day> for String {
    fn from(day: Day) -> Self {
        day.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_days_parse_and_print_back() {
        for text in [
            "1970-01-01",
            "2024-02-29",
            "2000-02-29",
            "2026-12-31",
            "9999-12-31",
        ] {
            assert_eq!(Day::parse("until", text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn anything_else_is_refused_naming_the_field() {
        for text in [
            "",
            "2026-2-01",
            "2026-02-1",
            "2026/02/01",
            "2026-02-30",
            "2025-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-01-00",
            "1969-12-31",
            "2026-01-01T00:00",
            " 2026-01-01",
            "+026-01-01",
            "２０２６-01-01",
        ] {
            let err = Day::parse("until", text).unwrap_err();
            assert_eq!(err.field, "until", "{text}");
        }
    }

    #[test]
    fn epoch_days_round_trip_across_leap_years() {
        assert_eq!(Day::from_epoch_days(0).to_string(), "1970-01-01");
        assert_eq!(Day::from_epoch_days(19_782).to_string(), "2024-02-29");
        assert_eq!(
            Day::from_epoch_ms(1_767_225_599_999).to_string(),
            "2025-12-31"
        );
        assert_eq!(
            Day::from_epoch_ms(1_767_225_600_000).to_string(),
            "2026-01-01"
        );
        for days in (0..2_932_896).step_by(97) {
            assert_eq!(Day::from_epoch_days(days).epoch_days(), days);
        }
        let day = Day::parse("until", "2026-02-27").unwrap();
        assert_eq!(day.plus_days(2).to_string(), "2026-03-01");
        assert_eq!(day.days_until(day.plus_days(30)), 30);
        assert!(day < day.plus_days(1));
    }
}
