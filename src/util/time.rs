//! UTC calendar arithmetic and the three timestamp formats S3 uses: RFC 3339 (listings, our
//! logs), ISO 8601 basic (`x-amz-date`) and IMF-fixdate (HTTP `Last-Modified`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds and nanoseconds since the Unix epoch (negative seconds before 1970).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
}

impl Timestamp {
    pub fn from_system(t: SystemTime) -> Timestamp {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp {
                secs: d.as_secs() as i64,
                nanos: d.subsec_nanos(),
            },
            Err(e) => {
                let d = e.duration();
                let (mut secs, mut nanos) = (-(d.as_secs() as i64), d.subsec_nanos());
                if nanos > 0 {
                    secs -= 1;
                    nanos = 1_000_000_000 - nanos;
                }
                Timestamp { secs, nanos }
            }
        }
    }

    pub fn now() -> Timestamp {
        Timestamp::from_system(SystemTime::now())
    }

    pub fn to_system(self) -> SystemTime {
        if self.secs >= 0 {
            UNIX_EPOCH + Duration::new(self.secs as u64, self.nanos)
        } else {
            UNIX_EPOCH - Duration::from_secs(self.secs.unsigned_abs())
                + Duration::from_nanos(u64::from(self.nanos))
        }
    }

    pub fn civil(self) -> Civil {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
            nanos: self.nanos,
        }
    }

    /// `2024-06-15T01:02:27.123+00:00`, the form the reference prints in its logs.
    pub fn rfc3339_millis(self) -> String {
        let c = self.civil();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+00:00",
            c.year,
            c.month,
            c.day,
            c.hour,
            c.minute,
            c.second,
            c.nanos / 1_000_000
        )
    }

    /// `2024-06-15T01:02:27.123456Z`, used for log timestamps.
    pub fn rfc3339_micros_z(self) -> String {
        let c = self.civil();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            c.year,
            c.month,
            c.day,
            c.hour,
            c.minute,
            c.second,
            c.nanos / 1000
        )
    }

    /// `2024-06-15T01:02:27Z`, or `2024-06-15T01:02:27.123Z` when there are milliseconds:
    /// the form the reference's Lua callbacks are given.
    pub fn rfc3339_z(self) -> String {
        let c = self.civil();
        let millis = c.nanos / 1_000_000;
        let fraction = if millis > 0 {
            format!(".{millis:03}")
        } else {
            String::new()
        };
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{fraction}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }

    /// `2025-01-01T00:00:00+00:00`: whole seconds, as the reference writes origin metadata.
    pub fn rfc3339_seconds(self) -> String {
        let c = self.civil();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }

    /// `Sat, 15 Jun 2024 01:02:27 GMT` (HTTP date, as in `Expires`).
    pub fn http_date(self) -> String {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        let c = self.civil();
        let weekday = DAYS[self.secs.div_euclid(86_400).rem_euclid(7) as usize];
        format!(
            "{weekday}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
            c.day,
            MONTHS[(c.month - 1) as usize],
            c.year,
            c.hour,
            c.minute,
            c.second
        )
    }

    /// `20240615T010227Z` for `x-amz-date`.
    pub fn amz_date(self) -> String {
        let c = self.civil();
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }

    /// Parses RFC 3339 / ISO 8601 with a `T` or space separator, optional fraction and a `Z`
    /// or `±hh:mm` offset: `2023-02-19T12:00:00Z`, `2024-06-15T01:02:27.000Z`.
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let s = text.get(r)?;
            if !s.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            s.parse().ok()
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(i64::from(year), month) {
            return None;
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut i = 19;
        let mut nanos = 0u32;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let digits = &text[start..i];
            if digits.is_empty() {
                return None;
            }
            let mut padded: String = digits.chars().take(9).collect();
            while padded.len() < 9 {
                padded.push('0');
            }
            nanos = padded.parse().ok()?;
        }
        let offset_secs: i64 = match &text[i..] {
            "Z" | "z" => 0,
            rest if rest.len() == 6
                && (rest.starts_with('+') || rest.starts_with('-'))
                && rest.as_bytes()[3] == b':' =>
            {
                let h = num(i + 1..i + 3)? as i64;
                let m = num(i + 4..i + 6)? as i64;
                if h > 23 || m > 59 {
                    return None;
                }
                let sign = if rest.starts_with('-') { -1 } else { 1 };
                sign * (h * 3600 + m * 60)
            }
            _ => return None,
        };
        let days = days_from_civil(i64::from(year), month, day);
        let secs =
            days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second)
                - offset_secs;
        Some(Timestamp { secs, nanos })
    }

    /// Parses the HTTP date form `Sat, 15 Jun 2024 01:02:27 GMT`.
    pub fn parse_http_date(text: &str) -> Option<Timestamp> {
        let parts: Vec<&str> = text.split_whitespace().collect();
        if parts.len() != 6 || parts[5] != "GMT" {
            return None;
        }
        let day: u32 = parts[1].parse().ok()?;
        let month = MONTHS.iter().position(|m| *m == parts[2])? as u32 + 1;
        let year: i64 = parts[3].parse().ok()?;
        let hms: Vec<u32> = parts[4]
            .split(':')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        if hms.len() != 3
            || day == 0
            || day > days_in_month(year, month)
            || hms[0] > 23
            || hms[1] > 59
            || hms[2] > 60
        {
            return None;
        }
        let secs = days_from_civil(year, month, day) * 86_400
            + i64::from(hms[0]) * 3600
            + i64::from(hms[1]) * 60
            + i64::from(hms[2]);
        Some(Timestamp { secs, nanos: 0 })
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Human duration for the summary line: `0 seconds`, `1 second`, `3 minutes`.
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (n, unit) = if secs < 60 {
        (secs, "second")
    } else if secs < 3600 {
        (secs / 60, "minute")
    } else if secs < 86_400 {
        (secs / 3600, "hour")
    } else {
        (secs / 86_400, "day")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        let t = Timestamp {
            secs: 1_718_413_347,
            nanos: 123_456_789,
        };
        assert_eq!(t.amz_date(), "20240615T010227Z");
        assert_eq!(t.rfc3339_millis(), "2024-06-15T01:02:27.123+00:00");
        assert_eq!(t.rfc3339_micros_z(), "2024-06-15T01:02:27.123456Z");
        assert_eq!(t.rfc3339_z(), "2024-06-15T01:02:27.123Z");
        assert_eq!(
            Timestamp {
                secs: 0,
                nanos: 999
            }
            .rfc3339_z(),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            Timestamp { secs: 0, nanos: 0 }.amz_date(),
            "19700101T000000Z"
        );
        assert_eq!(
            Timestamp {
                secs: 951_782_400,
                nanos: 0
            }
            .amz_date(),
            "20000229T000000Z"
        );
    }

    #[test]
    fn parses_rfc3339_variants() {
        let t = Timestamp::parse_rfc3339("2024-06-15T01:02:27.123Z");
        assert_eq!(
            t,
            Some(Timestamp {
                secs: 1_718_413_347,
                nanos: 123_000_000
            })
        );
        assert_eq!(
            Timestamp::parse_rfc3339("2024-06-15T03:02:27+02:00").map(|t| t.secs),
            Some(1_718_413_347)
        );
        assert_eq!(Timestamp::parse_rfc3339("2024-02-30T00:00:00Z"), None);
        assert_eq!(Timestamp::parse_rfc3339("2024-06-15 01:02:27"), None);
        assert_eq!(Timestamp::parse_rfc3339("not a date at all!!"), None);
        // A multi-byte character where the offset's ':' would be must not panic.
        assert_eq!(Timestamp::parse_rfc3339("2024-06-15T01:02:27+0☃x"), None);
        assert_eq!(Timestamp::parse_rfc3339("2024-06-15T01:02:27☃☃"), None);
    }

    #[test]
    fn parses_http_dates() {
        let t = Timestamp::parse_http_date("Sat, 15 Jun 2024 01:02:27 GMT");
        assert_eq!(t.map(|t| t.secs), Some(1_718_413_347));
        assert_eq!(
            Timestamp::parse_http_date("Sat, 15 Foo 2024 01:02:27 GMT"),
            None
        );
    }

    #[test]
    fn round_trips_through_civil() {
        for secs in [-86_401i64, -1, 0, 59, 86_399, 951_782_400, 4_102_444_800] {
            let t = Timestamp { secs, nanos: 5 };
            let c = t.civil();
            let back = days_from_civil(c.year, c.month, c.day) * 86_400
                + i64::from(c.hour * 3600 + c.minute * 60 + c.second);
            assert_eq!(back, secs);
            assert_eq!(Timestamp::from_system(t.to_system()), t);
        }
    }

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(Duration::from_millis(300)), "0 seconds");
        assert_eq!(human_duration(Duration::from_secs(1)), "1 second");
        assert_eq!(human_duration(Duration::from_secs(190)), "3 minutes");
    }
}
