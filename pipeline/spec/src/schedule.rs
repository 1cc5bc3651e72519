//! Weekly schedules: when a rule is in force ("no parking 07:00–19:00 on weekdays"), in a named
//! time zone (`Asia/Shanghai`), judged by the wall-clock time of each frame.

use chrono::{Datelike, TimeZone, Timelike, Weekday};
use chrono_tz::Tz;
use std::time::SystemTime;

/// One window: on `days`, from `from_min` to `to_min` (minutes after midnight). A window whose
/// end is not after its start runs past midnight into the next day (22:00–06:00).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// Monday first.
    pub days: [bool; 7],
    pub from_min: u16,
    pub to_min: u16,
}

impl Window {
    /// The minutes of the week it covers, as half-open ranges (Monday 00:00 = 0).
    pub fn week_ranges(&self) -> Vec<(u32, u32)> {
        const DAY: u32 = 24 * 60;
        let mut out = Vec::new();
        for (d, on) in self.days.iter().enumerate() {
            if !on {
                continue;
            }
            let start = d as u32 * DAY + u32::from(self.from_min);
            let len = if self.to_min > self.from_min {
                u32::from(self.to_min - self.from_min)
            } else {
                DAY - u32::from(self.from_min) + u32::from(self.to_min)
            };
            let end = start + len;
            if end <= 7 * DAY {
                out.push((start, end));
            } else {
                // Sunday night into Monday morning.
                out.push((start, 7 * DAY));
                out.push((0, end - 7 * DAY));
            }
        }
        out
    }
}

/// When a rule is in force.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub tz: Tz,
    pub windows: Vec<Window>,
}

impl Schedule {
    /// Minute of the week (Monday 00:00 = 0) of `t` in the schedule's time zone.
    fn minute_of_week(&self, t: SystemTime) -> u32 {
        let utc: chrono::DateTime<chrono::Utc> = t.into();
        let local = self.tz.from_utc_datetime(&utc.naive_utc());
        let day = local.weekday().num_days_from_monday();
        day * 24 * 60 + local.hour() * 60 + local.minute()
    }

    /// Whether the rule is in force at `t`.
    pub fn active(&self, t: SystemTime) -> bool {
        let m = self.minute_of_week(t);
        self.windows
            .iter()
            .flat_map(Window::week_ranges)
            .any(|(a, b)| (a..b).contains(&m))
    }

    /// The first pair of windows that overlap, if any (by index), for validation.
    pub fn overlap(&self) -> Option<(usize, usize)> {
        for (i, a) in self.windows.iter().enumerate() {
            for (j, b) in self.windows.iter().enumerate().skip(i + 1) {
                let ra = a.week_ranges();
                let rb = b.week_ranges();
                if ra
                    .iter()
                    .any(|&(a0, a1)| rb.iter().any(|&(b0, b1)| a0 < b1 && b0 < a1))
                {
                    return Some((i, j));
                }
            }
        }
        None
    }
}

/// `mon` … `sun` (also `weekdays`, `weekends`, `daily` as shorthands) to day flags.
pub fn parse_days(names: &[&str]) -> Result<[bool; 7], String> {
    let mut days = [false; 7];
    for name in names {
        let set: &[Weekday] = match name.to_ascii_lowercase().as_str() {
            "mon" => &[Weekday::Mon],
            "tue" => &[Weekday::Tue],
            "wed" => &[Weekday::Wed],
            "thu" => &[Weekday::Thu],
            "fri" => &[Weekday::Fri],
            "sat" => &[Weekday::Sat],
            "sun" => &[Weekday::Sun],
            "weekdays" => &[
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            "weekends" => &[Weekday::Sat, Weekday::Sun],
            "daily" => &[
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
            ],
            other => {
                return Err(format!(
                    "unknown day \"{other}\" (mon … sun, weekdays, weekends, daily)"
                ));
            }
        };
        for d in set {
            days[d.num_days_from_monday() as usize] = true;
        }
    }
    Ok(days)
}

/// `HH:MM` (00:00 … 24:00) to minutes after midnight.
pub fn parse_time(s: &str) -> Result<u16, String> {
    let bad = || format!("time \"{s}\" is not HH:MM between 00:00 and 24:00");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    /// 2026-11-30 is a Monday.
    fn at(day: u32, h: u32, m: u32, tz: Tz) -> SystemTime {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
            + chrono::Days::new(u64::from(day));
        let local = tz
            .from_local_datetime(&date.and_hms_opt(h, m, 0).unwrap())
            .single()
            .unwrap();
        UNIX_EPOCH + Duration::from_secs(local.timestamp() as u64)
    }

    fn weekdays_7_to_19() -> Schedule {
        Schedule {
            tz: chrono_tz::Asia::Shanghai,
            windows: vec![Window {
                days: parse_days(&["weekdays"]).unwrap(),
                from_min: parse_time("07:00").unwrap(),
                to_min: parse_time("19:00").unwrap(),
            }],
        }
    }

    #[test]
    fn weekday_daytime_window_in_its_time_zone() {
        let s = weekdays_7_to_19();
        let sh = chrono_tz::Asia::Shanghai;
        assert!(!s.active(at(0, 6, 59, sh)));
        assert!(s.active(at(0, 7, 0, sh)));
        assert!(s.active(at(4, 18, 59, sh)));
        assert!(!s.active(at(4, 19, 0, sh)));
        assert!(!s.active(at(5, 12, 0, sh)), "Saturday");
        // Judged in Shanghai time: Monday 12:00 UTC is 20:00 there (out), 00:30 UTC is 08:30 (in).
        assert!(!s.active(at(0, 12, 0, chrono_tz::UTC)));
        assert!(s.active(at(0, 0, 30, chrono_tz::UTC)));
    }

    #[test]
    fn night_windows_run_past_midnight_and_sunday_into_monday() {
        let sh = chrono_tz::Asia::Shanghai;
        let s = Schedule {
            tz: sh,
            windows: vec![Window {
                days: parse_days(&["sun"]).unwrap(),
                from_min: parse_time("22:00").unwrap(),
                to_min: parse_time("06:00").unwrap(),
            }],
        };
        assert!(s.active(at(6, 23, 0, sh)), "Sunday 23:00");
        assert!(s.active(at(7, 5, 59, sh)), "Monday 05:59");
        assert!(!s.active(at(7, 6, 0, sh)));
        assert!(!s.active(at(5, 23, 0, sh)), "Saturday night is not in it");
    }

    #[test]
    fn overlaps_and_bad_input_are_found() {
        let mut s = weekdays_7_to_19();
        assert_eq!(s.overlap(), None);
        s.windows.push(Window {
            days: parse_days(&["fri", "sat"]).unwrap(),
            from_min: parse_time("18:00").unwrap(),
            to_min: parse_time("20:00").unwrap(),
        });
        assert_eq!(s.overlap(), Some((0, 1)));
        assert!(parse_time("7:00").is_err());
        assert!(parse_time("24:01").is_err());
        assert_eq!(parse_time("24:00"), Ok(1440));
        assert!(parse_days(&["someday"]).is_err());
    }
}
