//! Masking of personal data in reports and CSV outputs: resident ID numbers
//! keep their first 3 and last 4 characters (`410***********1234`), phone
//! numbers their first 3 and last 4 (`138****5678`), names their first
//! character (`张**`) when name masking is asked for. [`redact_text`] masks
//! ID and mobile numbers wherever they occur inside free text (summaries,
//! captions, chart labels, certificate numbers `T` + ID), so a check that
//! quotes a number in prose cannot leak it into a report.

/// Masks an ID number: first 3 and last 4 characters kept.
pub fn mask_id(id: &str) -> String {
    keep_ends(id, 3, 4)
}

/// Masks a phone number: first 3 and last 4 digits kept.
pub fn mask_phone(phone: &str) -> String {
    keep_ends(phone, 3, 4)
}

/// Masks a name: first character kept.
pub fn mask_name(name: &str) -> String {
    let n = name.chars().count();
    if n <= 1 {
        return "*".into();
    }
    let first: String = name.chars().take(1).collect();
    format!("{first}{}", "*".repeat(n - 1))
}

/// Masks every resident ID number (17 digits and a check digit or `X`) and
/// every 11-digit mobile number (starting with `1`) found in `text`. A
/// number is a maximal run of ASCII digits (with an optional trailing `X`
/// for IDs); letters may touch it (`T410…` certificate numbers are masked),
/// longer digit runs are left alone (they are not IDs or phones).
pub fn redact_text(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut last = 0; // byte offset copied up to
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && b[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = i - start;
        let mut end = i;
        if digits == 17 && i < b.len() && (b[i] == b'X' || b[i] == b'x') {
            end = i + 1;
        }
        let len = end - start;
        let masked = if len == 18 {
            Some(mask_id(&text[start..end]))
        } else if digits == 11 && b[start] == b'1' {
            Some(mask_phone(&text[start..end]))
        } else {
            None
        };
        if let Some(m) = masked {
            out.push_str(&text[last..start]);
            out.push_str(&m);
            last = end;
        }
        i = end.max(i);
    }
    out.push_str(&text[last..]);
    out
}

fn keep_ends(text: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    if n <= head + tail {
        // Too short to keep anything without revealing most of it.
        return "*".repeat(n.max(1));
    }
    let mut s: String = chars[..head].iter().collect();
    s.push_str(&"*".repeat(n - head - tail));
    s.extend(&chars[n - tail..]);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(mask_id("410102199001011234"), "410***********1234");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_id("123"), "***");
    }

    #[track_caller]
    fn check(input: &str, expected: &str) {
        assert_eq!(redact_text(input), expected);
    }

    #[test]
    fn redacts_numbers_in_text() {
        check("身份证号410102199001011234的学员", "身份证号410***********1234的学员");
        check("证书T11010519491231002X不符", "证书T110***********002X不符");
        check("电话13812345678未接通", "电话138****5678未接通");
        // Not IDs or phones: longer or shorter digit runs, timestamps.
        check("12345678901234567890", "12345678901234567890");
        check("2024-07-10 08:30:00, n=1234", "2024-07-10 08:30:00, n=1234");
        check("23812345678", "23812345678");
        check("", "");
    }
}
