//! Wall-clock time as alert records write it: RFC 3339, UTC, milliseconds
//! (`2026-12-02T20:35:00.123Z`). Written here, without a calendar library, so the core types
//! stay free of heavy dependencies.

use std::time::{SystemTime, UNIX_EPOCH};

/// `t` as RFC 3339 with milliseconds, UTC (`Z`). Times before 1970 are written as 1970.
pub fn rfc3339(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// `t` as RFC 3339 to the second, UTC (`2026-12-03T13:00:05Z`): what SOAP tokens carry.
pub fn rfc3339_seconds(t: SystemTime) -> String {
    let full = rfc3339(t);
    format!("{}Z", full.get(..19).unwrap_or(&full))
}

/// The time named by a string in the form [`rfc3339`] writes — `YYYY-MM-DDTHH:MM:SS[.fff]Z`,
/// UTC — or `None` for anything else (other offsets, out-of-range fields, before 1970).
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    let (main, millis) = match s.strip_suffix('Z')?.split_once('.') {
        Some((main, frac)) if frac.len() == 3 => (main, frac.parse::<u64>().ok()?),
        Some(_) => return None,
        None => (s.strip_suffix('Z')?, 0),
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if main.len() != 19 || separators.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let field = |r: std::ops::Range<usize>| -> Option<u64> {
        let text = main.get(r)?;
        text.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| text.parse().ok())?
    };
    let (year, month, day) = (field(0..4)?, field(5..7)?, field(8..10)?);
    let (hour, minute, second) = (field(11..13)?, field(14..16)?, field(17..19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let valid = year >= 1970
        && (1..=12).contains(&month)
        && (1..=month_days[month as usize - 1]).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(UNIX_EPOCH + std::time::Duration::from_millis(secs * 1000 + millis))
}

/// Days from 1970-01-01 to the proleptic Gregorian date (Howard Hinnant's `days_from_civil`;
/// `year` ≥ 1970).
pub fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// A wall time (RFC 3339, UTC) in Beijing time (UTC+8, no daylight saving), `2026-12-03
/// 16:00:05`: how the sites' staff read times. Text that is not RFC 3339 is returned as it is.
pub fn beijing(wall: &str) -> String {
    let Some(t) = parse_rfc3339(wall) else {
        return wall.to_string();
    };
    let shown = rfc3339(t + std::time::Duration::from_secs(8 * 3600));
    shown.get(..19).unwrap_or(&shown).replace('T', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, millis: u64) -> String {
        rfc3339(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis))
    }

    #[test]
    fn known_instants() {
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        // `date -u -d @951782400` = 2000-02-29 00:00:00 (a leap day of a century leap year).
        assert_eq!(at(951_782_400, 7), "2000-02-29T00:00:00.007Z");
        // `date -u -d @1796240100` = 2026-12-02 19:35:00.
        assert_eq!(at(1_796_240_100, 999), "2026-12-02T19:35:00.999Z");
        // 2100 is not a leap year: 2100-02-28 23:59:59 is followed by 2100-03-01.
        assert_eq!(at(4_107_542_399, 0), "2100-02-28T23:59:59.000Z");
        assert_eq!(at(4_107_542_400, 0), "2100-03-01T00:00:00.000Z");
    }

    proptest::proptest! {
        /// The same text as chrono's RFC 3339 (what records were written with before).
        #[test]
        fn agrees_with_chrono(nanos in 0u64..8_000_000_000_000_000_000) {
            let t = UNIX_EPOCH + Duration::from_nanos(nanos);
            let chrono = chrono::DateTime::<chrono::Utc>::from(t)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            proptest::prop_assert_eq!(rfc3339(t), chrono);
        }
    }

    proptest::proptest! {
        /// What `rfc3339` writes reads back to the same millisecond.
        #[test]
        fn parses_what_it_writes(millis in 0u64..250_000_000_000_000) {
            let t = UNIX_EPOCH + Duration::from_millis(millis);
            proptest::prop_assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        }
    }

    #[test]
    fn parsing_refuses_other_forms() {
        for bad in [
            "2026-12-02T19:35:00+08:00",
            "2026-12-02 19:35:00Z",
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-12-02T24:00:00Z",
            "2026-12-02T19:35:00.1Z",
            "+026-12-02T19:35:00Z",
            "",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        assert_eq!(
            parse_rfc3339("2000-02-29T00:00:00Z"),
            Some(UNIX_EPOCH + Duration::from_secs(951_782_400))
        );
    }

    #[test]
    fn sub_millisecond_time_is_truncated() {
        let t = UNIX_EPOCH + Duration::from_nanos(1_999_999);
        assert_eq!(rfc3339(t), "1970-01-01T00:00:00.001Z");
    }

    #[test]
    fn times_are_shown_in_beijing_time() {
        assert_eq!(beijing("2026-12-03T08:00:05.000Z"), "2026-12-03 16:00:05");
        assert_eq!(beijing("2026-12-31T20:30:00Z"), "2027-01-01 04:30:00");
        assert_eq!(beijing("yesterday"), "yesterday");
    }
}
