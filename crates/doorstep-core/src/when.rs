//! Times as operators write them: `2026-11-24T09:30:00Z`, `2026-11-24T10:30+01:00` or
//! `2026-11-24 09:30` (UTC). Stored as Unix seconds. Pure arithmetic: no clock, no time zone
//! database, so it runs wherever the core does.

use alloc::format;
use alloc::string::String;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn number(s: &str, len: usize) -> Option<i64> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

pub fn parse(text: &str) -> Option<u64> {
    let text = text.trim();
    let (date, rest) = text.split_at_checked(10)?;
    let rest = rest.strip_prefix(['T', ' '])?;
    let mut date_parts = date.split('-');
    let y = number(date_parts.next()?, 4)?;
    let m = number(date_parts.next()?, 2)?;
    let d = number(date_parts.next()?, 2)?;
    let (clock, offset_secs) = if let Some(c) = rest.strip_suffix('Z') {
        (c, 0)
    } else if let Some(i) = rest.rfind(['+', '-']) {
        let (c, off) = rest.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off[1..].split_once(':')?;
        (c, sign * (number(oh, 2)? * 3600 + number(om, 2)? * 60))
    } else {
        (rest, 0)
    };
    let mut clock_parts = clock.split(':');
    let hh = number(clock_parts.next()?, 2)?;
    let mm = number(clock_parts.next()?, 2)?;
    let ss = clock_parts.next().map_or(Some(0), |s| number(s, 2))?;
    if clock_parts.next().is_some()
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&d)
        || hh > 23
        || mm > 59
        || ss > 59
    {
        return None;
    }
    // Rejects 31 February and friends: the date must survive the round trip.
    let days = days_from_civil(y, m, d);
    if civil_from_days(days) != (y, m, d) {
        return None;
    }
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss - offset_secs).ok()
}

pub fn format(unix: u64) -> String {
    let secs = i64::try_from(unix).unwrap_or(i64::MAX);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_the_forms_operators_write_and_round_trip() {
        assert_eq!(parse("2026-11-24T09:30:00Z"), Some(1_795_512_600));
        assert_eq!(parse("2026-11-24 09:30"), Some(1_795_512_600));
        assert_eq!(parse("2026-11-24T10:30+01:00"), Some(1_795_512_600));
        assert_eq!(parse("2026-11-24T04:30-05:00"), Some(1_795_512_600));
        assert_eq!(format(1_795_512_600), "2026-11-24T09:30:00Z");
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse("2028-02-29T00:00Z"), Some(1_835_395_200));
        for bad in [
            "",
            "2026-02-30T09:00Z",
            "2026-13-01T09:00Z",
            "2026-11-24T25:00Z",
            "2026-11-24",
            "24/11/2026 09:30",
            "2026-11-24T09:30:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-11-24T09:30+1",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        for t in [0, 86_399, 951_782_400, 1_795_512_600, 4_102_444_800] {
            assert_eq!(parse(&format(t)), Some(t));
        }
    }
}
