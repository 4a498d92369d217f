//! Resident ID numbers (居民身份证号码, GB 11643-1999): normalisation and
//! validation. A pure function from the text as written to either the
//! canonical 18-character form or the reason it cannot be a real number —
//! length, characters, province code, birth date, check character.
//!
//! Used by the `cert.invalid_id` check and by `verify-certs`; the structure
//! is 6-digit region (GB/T 2260) + 8-digit birth date + 3-digit sequence +
//! check character with weights `7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2` and
//! `S mod 11 → 1 0 X 9 8 7 6 5 4 3 2` (DOMAIN.md).

use std::borrow::Cow;

use crate::dataset::rows::{days_from_civil, Day};

/// Why an ID number is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdProblem {
    /// Not 18 characters after normalisation (the number of characters found).
    Length(usize),
    /// A character other than a digit (or a final `X`).
    Character,
    /// The first two digits are not a province-level code of GB/T 2260.
    Region,
    /// Positions 7–14 are not a calendar date (or before 1900).
    BirthDate,
    /// The birth date is after the reference day (e.g. the certificate's issue date).
    BirthInFuture,
    /// The check character is wrong: (expected, found).
    CheckChar(char, char),
}

impl IdProblem {
    /// Short English reason, e.g. for CSV outputs.
    pub fn en(&self) -> String {
        match self {
            IdProblem::Length(n) => format!("{n} characters, not 18"),
            IdProblem::Character => "contains a character other than digits and a final X".into(),
            IdProblem::Region => "first two digits are not a province code".into(),
            IdProblem::BirthDate => "birth date is not a valid date".into(),
            IdProblem::BirthInFuture => "birth date is in the future".into(),
            IdProblem::CheckChar(want, got) => format!("check character `{got}` should be `{want}`"),
        }
    }

    /// Short Chinese reason.
    pub fn zh(&self) -> String {
        match self {
            IdProblem::Length(n) => format!("位数为{n}位，应为18位"),
            IdProblem::Character => "含有数字和末位X以外的字符".into(),
            IdProblem::Region => "前两位不是省级行政区划代码".into(),
            IdProblem::BirthDate => "出生日期不是有效日期".into(),
            IdProblem::BirthInFuture => "出生日期晚于参照日期".into(),
            IdProblem::CheckChar(want, got) => format!("校验码为`{got}`，应为`{want}`"),
        }
    }
}

/// Province-level codes of GB/T 2260 (11 北京 … 65 新疆, 71 台湾, 81 香港,
/// 82 澳门) plus 83, used since 2018 in residence-permit numbers of Taiwan
/// residents (港澳台居民居住证), which follow the same algorithm.
const PROVINCES: [u8; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82, 83,
];

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [u8; 11] = *b"10X98765432";

/// Canonical form of an ID number as written: surrounding spaces removed,
/// full-width digits and letters made half-width, a final `x` upper-cased.
/// Borrows when the text is already canonical (the common case).
pub fn normalise(text: &str) -> Cow<'_, str> {
    let trimmed = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
    if trimmed.bytes().all(|b| b.is_ascii_digit() || b == b'X') {
        return Cow::Borrowed(trimmed);
    }
    let s: String = trimmed
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .map(|c| if c == 'x' { 'X' } else { c })
        .filter(|c| !c.is_whitespace())
        .collect();
    Cow::Owned(s)
}

/// The check character of the first 17 digits.
pub fn check_char(first17: &[u8]) -> Option<char> {
    if first17.len() != 17 || !first17.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let s: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    Some(CHECK[(s % 11) as usize] as char)
}

/// Validates an ID number as written against GB 11643-1999; `as_of` is the
/// day the birth date must not be after (the issue date of a certificate,
/// or today for a roster). Returns the canonical form when valid.
pub fn validate(text: &str, as_of: Day) -> Result<String, IdProblem> {
    let id = normalise(text);
    let b = id.as_bytes();
    let n = id.chars().count();
    if n != 18 || b.len() != 18 {
        return Err(IdProblem::Length(n));
    }
    if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
        return Err(IdProblem::Character);
    }
    let num = |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
    if !PROVINCES.contains(&(num(0..2) as u8)) {
        return Err(IdProblem::Region);
    }
    let (y, m, d) = (num(6..10) as i32, num(10..12), num(12..14));
    if y < 1900 || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return Err(IdProblem::BirthDate);
    }
    if days_from_civil(y, m, d) > as_of {
        return Err(IdProblem::BirthInFuture);
    }
    let want = check_char(&b[..17]).ok_or(IdProblem::Character)?;
    let got = b[17] as char;
    if want != got {
        return Err(IdProblem::CheckChar(want, got));
    }
    Ok(id.into_owned())
}

/// Days in month `m` of year `y` (proleptic Gregorian).
pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Day {
        days_from_civil(2026, 11, 28)
    }

    #[track_caller]
    fn check(id: &str, expected: Result<&str, IdProblem>) {
        assert_eq!(validate(id, today()).as_deref().map_err(|e| *e), expected, "{id}");
    }

    #[test]
    fn domain_examples() {
        // DOMAIN.md: 11010519491231002X is valid; 340524198001010013 is not.
        check("11010519491231002X", Ok("11010519491231002X"));
        check("340524198001010013", Err(IdProblem::CheckChar('X', '3')));
    }

    #[test]
    fn computed_examples() {
        // Check characters computed with the GB 11643 weights in Python:
        // sum(int(a)*w for a, w in zip(s, W)) % 11 -> "10X98765432".
        check("410102199001011234", Ok("410102199001011234"));
        check("440306200002290025", Ok("440306200002290025")); // 2000-02-29 is a leap day
        check("510107198511110671", Ok("510107198511110671"));
        check("510107198511110672", Err(IdProblem::CheckChar('1', '2')));
    }

    #[test]
    fn normalises_full_width_and_lower_x() {
        check(" １１０１０５１９４９１２３１００２ｘ ", Ok("11010519491231002X"));
        check("11010519491231002x", Ok("11010519491231002X"));
        assert!(matches!(normalise("410102199001011234"), Cow::Borrowed(_)));
    }

    #[test]
    fn structural_problems() {
        check("4101021990010112", Err(IdProblem::Length(16)));
        check("", Err(IdProblem::Length(0)));
        check("41010219900101123A", Err(IdProblem::Character));
        check("4101021990O101123X", Err(IdProblem::Character));
        // 99 is not a province; 2001-02-29 does not exist; 1899 too early.
        check("990102199001011234", Err(IdProblem::Region));
        check("410102200102290011", Err(IdProblem::BirthDate));
        check("410102189901010011", Err(IdProblem::BirthDate));
        check("410102199013010011", Err(IdProblem::BirthDate));
        // Born 2030-01-01: valid digits, impossible as of 2026.
        check("11010520300101001X", Err(IdProblem::BirthInFuture));
    }

    #[test]
    fn reasons_are_readable() {
        assert_eq!(IdProblem::CheckChar('X', '3').en(), "check character `3` should be `X`");
        assert!(IdProblem::Length(15).zh().contains("15"));
    }
}
