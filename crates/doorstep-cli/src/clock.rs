//! UTC timestamps for display.

/// `2026-11-23 10:30 UTC` from Unix seconds.
pub fn utc(unix: u64) -> String {
    let iso = doorstep_core::when::format(unix);
    format!("{} {} UTC", &iso[..10], &iso[11..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc(1_795_429_800), "2026-11-23 10:30 UTC");
    }
}
