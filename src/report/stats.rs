//! The campaign's monthly statistics table (附件1, 月份工作情况统计表;
//! layout in `shared/FORMS.md`): one row per region (GB/T 2260 names from
//! `models/regions.toml`) and a total row. Columns 1–8 are counted from
//! what is on record with a date in the window: institutions inspected
//! (an `audit` run or a decision), persons found with a fake or invalid
//! certificate (the certificate holders cited by confirmed certificate
//! findings), problems confirmed, rectification orders, suspensions,
//! fines (万元), rectifications accepted, police referrals. A decision
//! counts in the month of its decision date. Columns 9–15 are other
//! departments' figures: present, empty, marked for manual entry.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::case::{self, Action, Decision};

pub const BUILTIN_REGIONS: &str = include_str!("../../models/regions.toml");

/// `models/regions.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Regions {
    pub version: String,
    pub names: BTreeMap<String, String>,
}

impl Regions {
    pub fn builtin() -> Result<Regions> {
        toml::from_str(BUILTIN_REGIONS).context("built-in regions.toml is not valid")
    }

    /// The row a region code is counted under: itself when listed, else
    /// its prefecture (first four digits + 00).
    pub fn row_code(&self, code: &str) -> String {
        if self.names.contains_key(code) || code.len() != 6 {
            code.to_string()
        } else {
            format!("{}00", &code[..4])
        }
    }

    pub fn name(&self, code: &str) -> String {
        self.names.get(code).cloned().unwrap_or_else(|| code.to_string())
    }
}

/// The months counted: `months` months ending with `year-month`.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub year: i32,
    pub month: u32,
    pub months: u32,
    /// First and last day, YYYY-MM-DD.
    pub first: String,
    pub last: String,
}

impl Window {
    /// From `YYYY-MM` and a number of months (≥ 1).
    pub fn parse(month: &str, months: u32) -> Result<Window> {
        let bad = || anyhow::anyhow!("--month `{month}` is not YYYY-MM");
        let (y, m) = month.split_once('-').ok_or_else(bad)?;
        let (year, mon): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if !(1..=12).contains(&mon) || y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let months = months.clamp(1, 12);
        let start = year * 12 + mon as i32 - 1 - (months as i32 - 1);
        let (fy, fm) = (start.div_euclid(12), start.rem_euclid(12) as u32 + 1);
        let (ny, nm) = if mon == 12 { (year + 1, 1) } else { (year, mon + 1) };
        let last_day = crate::dataset::rows::days_from_civil(ny, nm, 1) - 1;
        Ok(Window {
            year,
            month: mon,
            months,
            first: format!("{fy:04}-{fm:02}-01"),
            last: crate::dataset::rows::fmt_day(last_day),
        })
    }

    pub fn contains(&self, when: &str) -> bool {
        when.get(..10).is_some_and(|d| d >= self.first.as_str() && d <= self.last.as_str())
    }
}

/// The eight counted columns of one region.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub inspected: usize,
    pub fake_cert_persons: usize,
    pub problems: usize,
    pub rectify: usize,
    pub suspend: usize,
    pub fine_wan: f64,
    pub accepted: usize,
    pub referred: usize,
}

/// Certificate checks whose cited holders count as "无证、假证人员".
const FAKE_CERT_CHECKS: [&str; 5] = [
    "cert.invalid_id",
    "cert.number_mismatch",
    "cert.no_passing_exam",
    "cert.name_mismatch",
    "cert.issued_before_exam",
];

/// Counts per region code (`region_of`: institution → region code);
/// `audited`: (institution, day) of each audit run.
pub fn count(
    decisions: &[Decision],
    audited: &[(String, String)],
    region_of: &HashMap<String, String>,
    regions: &Regions,
    w: &Window,
) -> BTreeMap<String, Counts> {
    let row = |inst: &str| regions.row_code(region_of.get(inst).map_or("", String::as_str));
    let eff: Vec<&Decision> = case::effective(decisions).into_iter().filter(|d| w.contains(&d.decided_at)).collect();
    let mut sets: BTreeMap<String, [BTreeSet<String>; 7]> = BTreeMap::new();
    let mut fines: BTreeMap<String, f64> = BTreeMap::new();
    for (inst, day) in audited {
        if w.contains(day) {
            sets.entry(row(inst)).or_default()[0].insert(inst.clone());
        }
    }
    for d in &eff {
        let r = row(&d.institution_id);
        let s = sets.entry(r.clone()).or_default();
        s[0].insert(d.institution_id.clone());
        let key = format!("{}|{}", d.institution_id, d.check_id);
        match d.action {
            Action::Confirm | Action::Rectify if !d.check_id.is_empty() => {
                if case::standing(decisions, &d.institution_id, &d.check_id) == case::Standing::Confirmed {
                    s[2].insert(key.clone());
                    if FAKE_CERT_CHECKS.contains(&d.check_id.as_str()) {
                        for c in d.cited.iter().filter(|c| c.table == "certificates") {
                            if let Some(p) = c.fields.get("person_id").and_then(|v| v.as_str()) {
                                s[1].insert(p.to_string());
                            }
                        }
                    }
                }
                if d.action == Action::Rectify {
                    s[3].insert(d.institution_id.clone());
                }
            }
            Action::Suspend => {
                s[4].insert(d.institution_id.clone());
            }
            Action::Fine => *fines.entry(r).or_default() += d.amount_wan.unwrap_or(0.0),
            Action::Accept => {
                s[5].insert(key);
            }
            Action::Refer => {
                s[6].insert(format!("{}#{}", key, d.id));
            }
            _ => {}
        }
    }
    let mut out: BTreeMap<String, Counts> = BTreeMap::new();
    for (r, s) in sets {
        let c = out.entry(r.clone()).or_default();
        c.inspected = s[0].len();
        c.fake_cert_persons = s[1].len();
        c.problems = s[2].len();
        c.rectify = s[3].len();
        c.suspend = s[4].len();
        c.accepted = s[5].len();
        c.referred = s[6].len();
        c.fine_wan = fines.get(&r).copied().unwrap_or(0.0);
    }
    for (r, f) in fines {
        out.entry(r).or_default().fine_wan = f;
    }
    out
}

/// Column names of 附件1 (Jiaozuo wording), columns 1–15.
const COLUMNS: [&str; 15] = [
    "开展执法检查的企业数量（家）",
    "查出无证、假证人员数量（人）",
    "查出企业问题总数（项）",
    "限期整改的企业数量（家）",
    "停业整顿的企业数量（家）",
    "罚款金额（万元）",
    "完成整改的问题数量（项）",
    "涉嫌犯罪问题线索移交数量（项）",
    "查出假冒政府网站平台数量（个）",
    "清理涉安全生产资格证书违法违规信息数量（项）",
    "涉嫌犯罪问题线索移交数量（项）",
    "公安机关处涉证案件数量（件）",
    "检察机关前介入涉证案件数量（件）",
    "检察机关提起公诉涉证案件数量（件、人）",
    "人民法院审判假证案件数量（件）",
];

fn e<T>(r: Result<T, rust_xlsxwriter::XlsxError>) -> Result<()> {
    r.map(|_| ()).map_err(|e| anyhow::anyhow!("cannot write the XLSX: {e}"))
}

/// The table as XLSX bytes: `rows` are (region code, counts) for every
/// region to list (a total row is added). Fixed metadata: the same input
/// gives the same bytes.
pub fn to_xlsx(rows: &[(String, Counts)], regions: &Regions, w: &Window) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook};
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(2024, 1, 1).map_err(|e| anyhow::anyhow!("{e}"))?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&created).set_author("kaopei"));
    let ws = wb.add_worksheet();
    ws.set_name("附件1").map_err(|e| anyhow::anyhow!("{e}"))?;
    let title = Format::new().set_bold().set_font_size(16).set_align(FormatAlign::Center);
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin);
    let cell = Format::new().set_border(FormatBorder::Thin).set_align(FormatAlign::Center);
    let manual = Format::new().set_border(FormatBorder::Thin).set_background_color(0xEEEEEE);
    let plain = Format::new();
    let wrap = Format::new().set_text_wrap();
    e(ws.merge_range(0, 0, 0, 15, &format!("{}年{}月份工作情况统计表", w.year, w.month), &title))?;
    e(ws.merge_range(1, 0, 1, 3, "填报单位：", &plain))?;
    e(ws.merge_range(1, 4, 1, 7, "填报人：", &plain))?;
    e(ws.merge_range(1, 8, 1, 11, "联系方式：", &plain))?;
    e(ws.merge_range(1, 12, 1, 15, "填报时间：", &plain))?;
    e(ws.merge_range(2, 0, 3, 0, "地区", &head))?;
    e(ws.merge_range(2, 1, 2, 8, "对企业执法检查情况", &head))?;
    e(ws.merge_range(2, 9, 2, 11, "网络空间治理情况", &head))?;
    e(ws.merge_range(2, 12, 2, 15, "立案查处情况", &head))?;
    for (i, c) in COLUMNS.iter().enumerate() {
        e(ws.write_string_with_format(3, i as u16 + 1, *c, &head))?;
    }
    e(ws.set_row_height(3, 80))?;
    e(ws.set_column_width(0, 14))?;
    for c in 1..=15 {
        e(ws.set_column_width(c, 12))?;
    }
    let mut total = Counts::default();
    let mut r = 4u32;
    let write_row = |ws: &mut rust_xlsxwriter::Worksheet, r: u32, label: &str, c: &Counts| -> Result<()> {
        e(ws.write_string_with_format(r, 0, label, &cell))?;
        let nums = [
            c.inspected as f64,
            c.fake_cert_persons as f64,
            c.problems as f64,
            c.rectify as f64,
            c.suspend as f64,
            c.fine_wan,
            c.accepted as f64,
            c.referred as f64,
        ];
        for (i, v) in nums.iter().enumerate() {
            e(ws.write_number_with_format(r, i as u16 + 1, *v, &cell))?;
        }
        for col in 9..=15 {
            e(ws.write_blank(r, col, &manual))?;
        }
        Ok(())
    };
    for (code, c) in rows {
        write_row(ws, r, &regions.name(code), c)?;
        total.inspected += c.inspected;
        total.fake_cert_persons += c.fake_cert_persons;
        total.problems += c.problems;
        total.rectify += c.rectify;
        total.suspend += c.suspend;
        total.fine_wan += c.fine_wan;
        total.accepted += c.accepted;
        total.referred += c.referred;
        r += 1;
    }
    write_row(ws, r, "合计", &total)?;
    r += 2;
    e(ws.merge_range(r, 0, r, 15, "备注：7月、8月、10月、12月底前报送近2个月（含本月）的进展情况", &plain))?;
    let note = format!(
        "说明：第1–8列由 kaopei 依据存储中的记录统计，统计期间 {} 至 {}（{} 个月），决定按其决定日期计入；第2列为经认定的证书类问题所涉持证人（verify-certs 花名册核查结果未逐人入库，需人工补充）。第9–15列（灰色）为网信、公安、检察、法院等部门数据，请人工填报。",
        w.first, w.last, w.months
    );
    e(ws.merge_range(r + 1, 0, r + 1, 15, &note, &wrap))?;
    e(ws.set_row_height(r + 1, 48))?;
    wb.save_to_buffer().map_err(|e| anyhow::anyhow!("cannot write the XLSX: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(id: i64, inst: &str, check: &str, action: Action, at: &str) -> Decision {
        Decision {
            id,
            run_id: id,
            audit_run: 1,
            institution_id: inst.into(),
            check_id: check.into(),
            action,
            reason: String::new(),
            items: vec![],
            deadline: None,
            amount_wan: (action == Action::Fine).then_some(2.5),
            decided_by: "x".into(),
            decided_at: at.into(),
            supersedes: None,
            period: None,
            cited: vec![],
        }
    }

    #[test]
    fn windows_and_counts_by_month() {
        let w = Window::parse("2024-07", 2).unwrap();
        assert_eq!((w.first.as_str(), w.last.as_str()), ("2024-06-01", "2024-07-31"));
        assert_eq!(Window::parse("2024-01", 2).unwrap().first, "2023-12-01");
        assert!(Window::parse("2024-7", 1).is_err() && Window::parse("2024-13", 1).is_err());
        let regions = Regions::builtin().unwrap();
        assert_eq!(regions.row_code("410102"), "410100");
        assert_eq!(regions.row_code("419001"), "419001");
        let all = vec![
            d(1, "I1", "training.hours_short", Action::Confirm, "2024-07-02 10:00:00"),
            d(2, "I1", "exam.pass_rate", Action::Rectify, "2024-07-03 10:00:00"),
            d(3, "I2", "cctv.frozen", Action::Dismiss, "2024-07-03 10:00:00"),
            d(4, "I1", "", Action::Fine, "2024-07-04 10:00:00"),
            d(5, "I2", "", Action::Refer, "2024-08-01 10:00:00"),
        ];
        let region_of: HashMap<String, String> =
            [("I1".to_string(), "410102".to_string()), ("I2".to_string(), "410300".to_string())].into();
        let w = Window::parse("2024-07", 1).unwrap();
        let c = count(&all, &[("I3".into(), "2024-07-09".into())], &region_of, &regions, &w);
        let zz = &c["410100"];
        assert_eq!((zz.inspected, zz.problems, zz.rectify, zz.fine_wan), (1, 2, 1, 2.5));
        assert_eq!(c["410300"].inspected, 1, "a dismissal is an inspection");
        assert_eq!(c["410300"].referred, 0, "August's referral is not July's");
        assert!(c.contains_key(""), "an institution of unknown region is counted under its own row");
        let rows: Vec<(String, Counts)> = c.into_iter().collect();
        let a = to_xlsx(&rows, &regions, &w).unwrap();
        assert_eq!(a, to_xlsx(&rows, &regions, &w).unwrap(), "byte-identical");
    }
}
