//! How numbers and times read to people: "850 ms", "3.4 s", "2 m 05 s", "12 s ago",
//! "10:15:52". Callers pass the clock and the local offset.

use crate::logic::time::civil;

/// A test's title as shown: "untitled test" when the platform sent none.
pub(crate) fn test_title(title: &str) -> &str {
    if title.trim().is_empty() {
        "untitled test"
    } else {
        title
    }
}

/// A duration in milliseconds, human: "850 ms", "3.4 s", "2 m 05 s", "1 h 02 m".
pub(crate) fn duration(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms} ms");
    }
    let tenths = (ms + 50) / 100;
    if tenths < 600 {
        return format!("{}.{} s", tenths / 10, tenths % 10);
    }
    let secs = (ms + 500) / 1000;
    if secs < 3600 {
        return format!("{} m {:02} s", secs / 60, secs % 60);
    }
    let mins = secs / 60;
    format!("{} h {:02} m", mins / 60, mins % 60)
}

/// How long ago `then_ms` was at `now_ms`: "0 s ago", "12 s ago", "4 m ago", "3 h ago",
/// "2 d ago". A time in the future (clock skew) reads "just now".
pub(crate) fn ago(now_ms: i64, then_ms: i64) -> String {
    let diff = now_ms - then_ms;
    if diff < 0 {
        return "just now".to_owned();
    }
    let secs = diff / 1000;
    match secs {
        0..60 => format!("{secs} s ago"),
        60..3600 => format!("{} m ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

/// The local time of day, "10:15:52".
pub(crate) fn clock(ms: i64, offset_min: i64) -> String {
    let c = civil(ms, offset_min);
    format!("{:02}:{:02}:{:02}", c.hour, c.minute, c.second)
}

/// The local time of day without seconds, "10:15".
pub(crate) fn clock_short(ms: i64, offset_min: i64) -> String {
    let c = civil(ms, offset_min);
    format!("{:02}:{:02}", c.hour, c.minute)
}

/// The full local timestamp for tooltips, "2026-04-20 10:15:52".
pub(crate) fn timestamp(ms: i64, offset_min: i64) -> String {
    let c = civil(ms, offset_min);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// An elapsed time for a run header: "4m12s" style is hard to read, so this reuses
/// [`duration`] but without fractions: "42 s", "4 m 12 s", "1 h 02 m".
pub(crate) fn elapsed(ms: u64) -> String {
    if ms < 60_000 {
        return format!("{} s", ms / 1000);
    }
    duration(ms)
}

/// `share` (0–100) as a CSS percentage with three decimals, like `{share:.3}%`, but
/// through integers: core's float formatter would add ~9 KB to the widget's wasm.
pub(crate) fn css_percent(share: f64) -> String {
    let thousandths = (share * 1000.0).round() as u64;
    format!("{}.{:03}%", thousandths / 1000, thousandths % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_say_them() {
        let check = |ms, expected: &str| assert_eq!(duration(ms), expected, "{ms}");
        check(0, "0 ms");
        check(850, "850 ms");
        check(999, "999 ms");
        check(1000, "1.0 s");
        check(1240, "1.2 s");
        check(3400, "3.4 s");
        check(59_940, "59.9 s");
        check(59_960, "1 m 00 s");
        check(125_000, "2 m 05 s");
        check(3_599_400, "59 m 59 s");
        check(3_720_000, "1 h 02 m");
    }

    #[test]
    fn tests_without_a_title_say_so() {
        assert_eq!(test_title(""), "untitled test");
        assert_eq!(test_title("  "), "untitled test");
        assert_eq!(test_title("Login works"), "Login works");
    }

    #[test]
    fn relative_times_count_up() {
        let check = |diff: i64, expected: &str| {
            assert_eq!(ago(1_000_000_000 + diff, 1_000_000_000), expected)
        };
        check(0, "0 s ago");
        check(12_400, "12 s ago");
        check(59_999, "59 s ago");
        check(60_000, "1 m ago");
        check(3 * 3_600_000, "3 h ago");
        check(50 * 3_600_000, "2 d ago");
        check(-5000, "just now");
    }

    #[test]
    fn clock_times_are_local() {
        let ms = 1_776_680_152_000; // 2026-04-20T10:15:52Z
        assert_eq!(clock(ms, 0), "10:15:52");
        assert_eq!(clock(ms, 60), "11:15:52");
        assert_eq!(clock_short(ms, -600), "00:15");
        assert_eq!(timestamp(ms, 0), "2026-04-20 10:15:52");
    }

    #[test]
    fn elapsed_drops_fractions() {
        assert_eq!(elapsed(42_700), "42 s");
        assert_eq!(elapsed(252_000), "4 m 12 s");
    }

    #[test]
    fn css_percent_matches_three_decimal_formatting() {
        for share in [
            0.0,
            100.0,
            33.333_333,
            66.666_666_7,
            0.012_5,
            12.5,
            99.999_9,
        ] {
            assert_eq!(css_percent(share), format!("{share:.3}%"));
        }
    }
}
