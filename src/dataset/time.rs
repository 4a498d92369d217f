//! The clock: the dataset's times are China Standard Time (UTC+8, no
//! daylight saving; DATA.md), and so are the times kaopei stamps on its
//! runs, samples and reports. The one place that reads the system clock.

use super::rows::{day_of, fmt_ts, Day, Ts};

/// China Standard Time minus UTC, in seconds.
pub const CST_OFFSET_SECONDS: Ts = 8 * 3600;

/// Now as a local (UTC+8) timestamp in the dataset's `Ts` scale.
pub fn now() -> Ts {
    let secs =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    secs + CST_OFFSET_SECONDS
}

/// Now as `YYYY-MM-DD HH:MM:SS` China Standard Time.
pub fn now_local() -> String {
    fmt_ts(now())
}

/// Today in China Standard Time.
pub fn today() -> Day {
    day_of(now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_clock_is_utc_plus_8() {
        let utc = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let local = now();
        assert!((local - utc - 8 * 3600).abs() <= 2, "{local} vs {utc}");
        assert_eq!(now_local().len(), "2024-07-10 08:30:05".len());
        assert!(today() >= day_of(utc));
    }
}
