//! The resident ID number validator (`checks::idno`, GB 11643-1999): any
//! text is either a canonical 18-character number or a reason, never a
//! panic; a canonical number validates to itself, and its check character
//! is the one `check_char` computes.
#![no_main]

use kaopei::checks::idno;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let _ = idno::normalise(s);
    // Judged as of 2025-01-01 (days since 1970-01-01).
    let as_of = 20_089;
    if let Ok(canon) = idno::validate(s, as_of) {
        assert_eq!(canon.len(), 18, "`{s}` → `{canon}`");
        assert_eq!(idno::validate(&canon, as_of).as_deref(), Ok(canon.as_str()), "`{s}` → `{canon}`");
        let b = canon.as_bytes();
        assert_eq!(idno::check_char(&b[..17]), Some(char::from(b[17])), "`{canon}`");
    }
});
