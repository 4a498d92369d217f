//! The datetime and date parsers of the dataset reader (`dataset::parse`):
//! any text is either a value or the "expected" message, never a panic, and
//! every accepted value prints back to text that parses to the same value.
#![no_main]

use kaopei::dataset::parse;
use kaopei::dataset::rows::{fmt_day, fmt_ts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(ts) = parse::datetime(s) {
        let back = fmt_ts(ts);
        assert_eq!(parse::datetime(&back), Ok(ts), "`{s}` → {ts} → `{back}`");
    }
    if let Ok(day) = parse::date(s) {
        let back = fmt_day(day);
        assert_eq!(parse::date(&back), Ok(day), "`{s}` → {day} → `{back}`");
    }
});
