//! ISO 8601 timestamps to epoch milliseconds and back to civil dates, without a clock:
//! the caller passes "now" and the local offset, so every function here is testable.

use runboard_shared::calendar::{civil_from_days, days_from_civil};

/// Parses `2026-04-20T10:15:30.000Z` (also without fraction, with `+02:00`/`-0130`
/// offsets, or with a space instead of `T`) into milliseconds since the Unix epoch.
pub(crate) fn parse_iso_ms(text: &str) -> Option<i64> {
    let s = text.trim().as_bytes();
    if s.len() < 19 || s[4] != b'-' || s[7] != b'-' || !matches!(s[10], b'T' | b't' | b' ') {
        return None;
    }
    if s[13] != b':' || s[16] != b':' {
        return None;
    }
    let year = digits(&s[0..4])?;
    let month = digits(&s[5..7])?;
    let day = digits(&s[8..10])?;
    let (hour, minute, second) = (
        digits(&s[11..13])?,
        digits(&s[14..16])?,
        digits(&s[17..19])?,
    );
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0;
    if let Some((b'.', frac)) = rest.split_first() {
        let len = frac.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        let mut value = 0;
        for (i, b) in frac[..len.min(3)].iter().enumerate() {
            value += i64::from(b - b'0') * [100, 10, 1][i];
        }
        millis = value;
        rest = &frac[len..];
    }
    let offset_min = parse_offset(rest)?;
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(secs * 1000 + millis - offset_min * 60_000)
}

fn parse_offset(rest: &[u8]) -> Option<i64> {
    match rest {
        [] | [b'Z'] | [b'z'] => Some(0),
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let tail: Vec<u8> = tail.iter().copied().filter(|b| *b != b':').collect();
            if tail.len() != 4 {
                return None;
            }
            let minutes = digits(&tail[0..2])? * 60 + digits(&tail[2..4])?;
            Some(if *sign == b'-' { -minutes } else { minutes })
        }
        _ => None,
    }
}

fn digits(bytes: &[u8]) -> Option<i64> {
    bytes.iter().try_fold(0i64, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
    })
}

/// A civil date and time of day, as shown to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    pub(crate) month: i64,
    pub(crate) day: i64,
    pub(crate) hour: i64,
    pub(crate) minute: i64,
    pub(crate) second: i64,
}

/// Splits epoch milliseconds, shifted by `offset_min` (minutes east of UTC), into a
/// civil date and time.
pub(crate) fn civil(ms: i64, offset_min: i64) -> Civil {
    let secs = (ms + offset_min * 60_000).div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: tod / 3600,
        minute: tod % 3600 / 60,
        second: tod % 60,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Option<i64>) {
        assert_eq!(parse_iso_ms(input), expected, "{input}");
    }

    #[test]
    fn parses_the_guides_timestamps() {
        check("1970-01-01T00:00:00Z", Some(0));
        check("2026-04-20T10:15:30.000Z", Some(1_776_680_130_000));
        check("2026-04-20T10:15:30.5Z", Some(1_776_680_130_500));
        check("2026-04-20T10:15:30Z", Some(1_776_680_130_000));
        check("2026-04-20T12:15:30+02:00", Some(1_776_680_130_000));
        check("2026-04-20T09:45:30-0030", Some(1_776_680_130_000));
        check("2026-04-20 10:15:30", Some(1_776_680_130_000));
    }

    #[test]
    fn refuses_what_is_not_a_timestamp() {
        check("", None);
        check("yesterday", None);
        check("2026-13-20T10:15:30Z", None);
        check("2026-04-20T10:15:30.Z", None);
        check("2026-04-20T10:15:30+2", None);
        check("2026-04-20T10:15:30Zjunk", None);
    }

    #[test]
    fn civil_round_trips_and_applies_the_offset() {
        let ms = 1_776_680_130_000;
        let utc = civil(ms, 0);
        assert_eq!(
            (
                utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second
            ),
            (2026, 4, 20, 10, 15, 30)
        );
        let east = civil(ms, 120);
        assert_eq!((east.hour, east.minute), (12, 15));
        let west = civil(0, -60);
        assert_eq!(
            (west.year, west.month, west.day, west.hour),
            (1969, 12, 31, 23)
        );
        let leap = civil(parse_iso_ms("2024-02-29T23:59:59Z").unwrap_or_default(), 0);
        assert_eq!((leap.month, leap.day), (2, 29));
    }
}
