//! Hand-written parsers for the contract's value spellings (DATA.md):
//! datetimes, dates, booleans, the categorical columns, scores and counts.
//! Each returns `Err(expected)` naming what was expected, so a reject reason
//! reads "column `check_in` is not a datetime ...". Ranges are validated
//! (`2024-02-30` and `25:00` are errors), nothing is "fixed".

use super::rows::{days_from_civil, Attended, CourseKind, Day, InstKind, Mode, Part, Ts};

/// Cursor over the bytes of one value.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn new(s: &'a str) -> Self {
        Cur { b: s.as_bytes(), i: 0 }
    }

    /// 1..=max digits as a number.
    fn num(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        let mut v: u32 = 0;
        while self.i < self.b.len() && self.i - start < max && self.b[self.i].is_ascii_digit() {
            v = v * 10 + u32::from(self.b[self.i] - b'0');
            self.i += 1;
        }
        (self.i - start >= min).then_some(v)
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.b[self.i..].starts_with(lit.as_bytes()) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Date part: `2024-07-10`, `2024/7/10`, `2024年7月10日`.
fn date_part(c: &mut Cur) -> Option<Day> {
    let y = c.num(4, 4)? as i32;
    let (m, d) = if c.eat("年") {
        let m = c.num(1, 2)?;
        if !c.eat("月") {
            return None;
        }
        let d = c.num(1, 2)?;
        if !c.eat("日") {
            return None;
        }
        (m, d)
    } else {
        let sep = *c.b.get(c.i)?;
        if sep != b'-' && sep != b'/' {
            return None;
        }
        c.i += 1;
        let m = c.num(1, 2)?;
        if c.b.get(c.i) != Some(&sep) {
            return None;
        }
        c.i += 1;
        (m, c.num(1, 2)?)
    };
    if !(1900..=2200).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Time part after the separator: `8:30`, `08:30:00`, `08:30:00.000`.
fn time_part(c: &mut Cur) -> Option<u32> {
    let h = c.num(1, 2)?;
    if !c.eat(":") {
        return None;
    }
    let m = c.num(2, 2)?;
    let s = if c.eat(":") { c.num(2, 2)? } else { 0 };
    if c.eat(".") {
        // Fractional seconds from database exports: ignored (truncated).
        c.num(1, 9)?;
    }
    (h < 24 && m < 60 && s < 60).then_some(h * 3600 + m * 60 + s)
}

pub const DATETIME_EXPECTED: &str = "a datetime like `2024-07-10 08:30:00`";
pub const DATE_EXPECTED: &str = "a date like `2024-07-10`";

/// A local datetime: `2024-07-10 08:30:00`, `2024-07-10T08:30:00`,
/// `2024/7/10 8:30`, `2024-07-10 08:30`.
pub fn datetime(s: &str) -> Result<Ts, &'static str> {
    let mut c = Cur::new(s);
    let day = date_part(&mut c).ok_or(DATETIME_EXPECTED)?;
    if !(c.eat(" ") || c.eat("T")) {
        return Err(DATETIME_EXPECTED);
    }
    while c.eat(" ") {}
    let sec = time_part(&mut c).ok_or(DATETIME_EXPECTED)?;
    if !c.done() {
        return Err(DATETIME_EXPECTED);
    }
    Ok(i64::from(day) * 86_400 + i64::from(sec))
}

/// A date: `2024-07-10`, `2024/7/10`, `2024年7月10日`; a datetime at
/// exactly midnight (`2024-07-10 00:00:00`, as spreadsheets export dates) is
/// accepted too.
pub fn date(s: &str) -> Result<Day, &'static str> {
    let mut c = Cur::new(s);
    let day = date_part(&mut c).ok_or(DATE_EXPECTED)?;
    if c.done() {
        return Ok(day);
    }
    if (c.eat(" ") || c.eat("T")) && time_part(&mut c) == Some(0) && c.done() {
        return Ok(day);
    }
    Err(DATE_EXPECTED)
}

/// `yes/no`, `true/false`, `1/0`, `是/否` (ASCII case-insensitive).
pub fn boolean(s: &str) -> Result<bool, &'static str> {
    const EXPECTED: &str = "a boolean (`yes`/`no`, `true`/`false`, `1`/`0`, `是`/`否`)";
    match s {
        "1" | "是" => Ok(true),
        "0" | "否" => Ok(false),
        _ if s.eq_ignore_ascii_case("yes") || s.eq_ignore_ascii_case("true") => Ok(true),
        _ if s.eq_ignore_ascii_case("no") || s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(EXPECTED),
    }
}

fn one_of<T: Copy>(s: &str, table: &[(&str, &str, T)], expected: &'static str) -> Result<T, &'static str> {
    table.iter().find(|(en, zh, _)| s.eq_ignore_ascii_case(en) || s == *zh).map(|t| t.2).ok_or(expected)
}

pub fn inst_kind(s: &str) -> Result<InstKind, &'static str> {
    use InstKind::*;
    let t = [("training", "培训", Training), ("exam", "考试", Exam), ("both", "培训考试", Both)];
    one_of(s, &t, "`training`, `exam` or `both` (培训 / 考试 / 培训考试)")
}

pub fn course_kind(s: &str) -> Result<CourseKind, &'static str> {
    use CourseKind::*;
    one_of(
        s,
        &[("initial", "初训", Initial), ("refresher", "复训", Refresher)],
        "`initial` or `refresher` (初训 / 复训)",
    )
}

pub fn mode(s: &str) -> Result<Mode, &'static str> {
    use Mode::*;
    let t = [("classroom", "面授", Classroom), ("online", "网络", Online), ("practical", "实操", Practical)];
    one_of(s, &t, "`classroom`, `online` or `practical` (面授 / 网络 / 实操)")
}

pub fn part(s: &str) -> Result<Part, &'static str> {
    use Part::*;
    one_of(s, &[("theory", "理论", Theory), ("practical", "实操", Practical)], "`theory` or `practical` (理论 / 实操)")
}

pub fn attended(s: &str) -> Result<Attended, &'static str> {
    use Attended::*;
    let t = [("yes", "是", Yes), ("no", "否", No), ("unsure", "不确定", Unsure)];
    one_of(s, &t, "`yes`, `no` or `unsure` (是 / 否 / 不确定)")
}

/// A finite decimal number.
pub fn number(s: &str) -> Result<f64, &'static str> {
    const EXPECTED: &str = "a number";
    // Rust's float parser also takes `inf`, `NaN` and `1e5`: only plain
    // decimals are data.
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+')) {
        return Err(EXPECTED);
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or(EXPECTED)
}

/// A non-negative whole number (`30`, or `30.0` as spreadsheets write it).
pub fn count(s: &str) -> Result<u64, &'static str> {
    const EXPECTED: &str = "a whole number >= 0";
    if let Ok(v) = s.parse::<u64>() {
        return Ok(v);
    }
    let v = number(s).map_err(|_| EXPECTED)?;
    (v >= 0.0 && v.fract() == 0.0 && v < 1e15).then_some(v as u64).ok_or(EXPECTED)
}

/// An exam score, 0–100.
pub fn score(s: &str) -> Result<f32, &'static str> {
    const EXPECTED: &str = "a score from 0 to 100";
    let v = number(s).map_err(|_| EXPECTED)?;
    (0.0..=100.0).contains(&v).then_some(v as f32).ok_or(EXPECTED)
}

/// A face-comparison score: 0–1, or 0–100 (divided by 100). Decided per
/// value: a value above 1 is on the 0–100 scale.
pub fn face_score(s: &str) -> Result<f32, &'static str> {
    const EXPECTED: &str = "a face score from 0 to 1 (or 0 to 100)";
    let v = number(s).map_err(|_| EXPECTED)?;
    match v {
        _ if (0.0..=1.0).contains(&v) => Ok(v as f32),
        _ if v > 1.0 && v <= 100.0 => Ok((v / 100.0) as f32),
        _ => Err(EXPECTED),
    }
}

/// A non-negative quantity (seconds, hours).
pub fn non_negative(s: &str) -> Result<f32, &'static str> {
    const EXPECTED: &str = "a number >= 0";
    let v = number(s).map_err(|_| EXPECTED)?;
    (v >= 0.0).then_some(v as f32).ok_or(EXPECTED)
}

/// A 6-digit administrative division code (GB/T 2260).
pub fn region(s: &str) -> Result<(), &'static str> {
    (s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())).then_some(()).ok_or("a 6-digit region code")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::rows::fmt_ts;

    #[track_caller]
    fn check(input: &str, expected: Option<&str>) {
        assert_eq!(datetime(input).ok().map(fmt_ts).as_deref(), expected, "{input:?}");
    }

    #[test]
    fn datetimes() {
        check("2024-07-10 08:30:00", Some("2024-07-10 08:30:00"));
        check("2024-07-10T08:30:00", Some("2024-07-10 08:30:00"));
        check("2024/7/10 8:30", Some("2024-07-10 08:30:00"));
        check("2024-07-10 08:30", Some("2024-07-10 08:30:00"));
        check("2024-07-10 08:30:05.250", Some("2024-07-10 08:30:05"));
        check("2024年7月10日 8:30", Some("2024-07-10 08:30:00"));
        check("2024-02-29 23:59:59", Some("2024-02-29 23:59:59"));
        check("2024-02-30 08:00", None);
        check("2023-02-29 08:00", None);
        check("2024-07-10 25:00", None);
        check("2024-07-10 24:00", None);
        check("2024-07-10 08:60", None);
        check("2024-07-10 08:30:61", None);
        check("2024-13-01 08:00", None);
        check("2024-07-10", None);
        check("2024-07/10 08:00", None);
        check("2024-07-10 08:30 x", None);
        check("n/a", None);
        check("", None);
        check("２０２４-07-10 08:30", None);
    }

    #[track_caller]
    fn check_date(input: &str, expected: Option<(i32, u32, u32)>) {
        assert_eq!(date(input).ok(), expected.map(|(y, m, d)| days_from_civil(y, m, d)), "{input:?}");
    }

    #[test]
    fn dates() {
        check_date("2024-07-10", Some((2024, 7, 10)));
        check_date("2024/7/10", Some((2024, 7, 10)));
        check_date("2024年7月10日", Some((2024, 7, 10)));
        check_date("2024-07-10 00:00:00", Some((2024, 7, 10)));
        check_date("2024-07-10 08:00:00", None);
        check_date("2024-02-30", None);
        check_date("2024年7月10", None);
        check_date("10/07/2024", None);
        check_date("1899-12-31", None);
    }

    #[track_caller]
    fn check_bool(input: &str, expected: Option<bool>) {
        assert_eq!(boolean(input).ok(), expected, "{input:?}");
    }

    #[test]
    fn booleans() {
        for t in ["yes", "YES", "true", "True", "1", "是"] {
            check_bool(t, Some(true));
        }
        for f in ["no", "No", "false", "FALSE", "0", "否"] {
            check_bool(f, Some(false));
        }
        for bad in ["", "y", "2", "对", "yes!"] {
            check_bool(bad, None);
        }
    }

    #[test]
    fn categories_and_numbers() {
        assert_eq!(mode("网络"), Ok(Mode::Online));
        assert_eq!(mode("Classroom"), Ok(Mode::Classroom));
        assert!(mode("函授").is_err());
        assert_eq!(inst_kind("培训考试"), Ok(InstKind::Both));
        assert_eq!(part("实操"), Ok(Part::Practical));
        assert_eq!(course_kind("复训"), Ok(CourseKind::Refresher));
        assert_eq!(attended("不确定"), Ok(Attended::Unsure));
        assert_eq!(score("80"), Ok(80.0));
        assert_eq!(score("100"), Ok(100.0));
        assert!(score("101").is_err());
        assert!(score("NaN").is_err());
        assert!(score("inf").is_err());
        assert!(score("-1").is_err());
        assert_eq!(face_score("0.93"), Ok(0.93));
        assert_eq!(face_score("93"), Ok(0.93));
        assert!(face_score("130").is_err());
        assert_eq!(count("30"), Ok(30));
        assert_eq!(count("30.0"), Ok(30));
        assert!(count("30.5").is_err());
        assert!(count("-3").is_err());
        assert!(region("410102").is_ok());
        assert!(region("41010").is_err());
    }
}
