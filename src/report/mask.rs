//! Masking of personal data in reports and CSV outputs: resident ID numbers
//! keep their first 3 and last 4 characters (`410***********1234`), phone
//! numbers their first 3 and last 4 (`138****5678`), names their first
//! character (`张**`) when name masking is asked for.

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
}
