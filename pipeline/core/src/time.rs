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

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
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

    #[test]
    fn sub_millisecond_time_is_truncated() {
        let t = UNIX_EPOCH + Duration::from_nanos(1_999_999);
        assert_eq!(rfc3339(t), "1970-01-01T00:00:00.001Z");
    }
}
