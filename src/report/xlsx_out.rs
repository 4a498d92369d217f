//! `kaopei.xlsx`: the score outputs as one Excel workbook, the task force's
//! path into Excel/WPS (issue 18). A CSV cannot carry a cell type, so an
//! 18-digit ID number in `flags.csv` becomes `4.1E+17` in Excel; here every
//! ID, certificate and record number is a *text* cell, numbers are number
//! cells, headers are Chinese, the header row is frozen and columns have
//! widths.
//!
//! Sheets: 评分 (scores), 发现 (findings, with the Chinese summary), 标记
//! (flags), 考生 (`examinees.csv`, when a run wrote one: its columns are
//! taken from the file), 未审计 (institutions not audited), 拒收行
//! (rejected rows) and 字段缺陷 (field defects). A sheet longer than Excel's
//! 1,048,576 rows continues on `名称 (2)`, `名称 (3)`, ...
//!
//! Deterministic: rows come sorted as in the CSVs, and the document
//! metadata is fixed (creation time [`FIXED_CREATED`], no author from the
//! environment), so two runs on the same input give byte-identical files.
//! Text follows the CSVs' [`TextPolicy`]: free text masked unless
//! `--unmasked`; keys (institution, subject ids) as written.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};

use crate::checks::{Finding, Source};
use crate::dataset::{FieldDefect, Reject};
use crate::report::csv_out::{self, TextPolicy};
use crate::score::InstScore;

/// Excel's rows per sheet, the header row included.
pub const EXCEL_ROWS: usize = 1_048_576;
/// The workbook's creation time: fixed, so the file depends on its data only.
pub const FIXED_CREATED: (u16, u8, u8) = (2024, 1, 1);
/// The score workbook's file name in the output folder.
pub const FILE: &str = "kaopei.xlsx";

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    /// A text cell (IDs stay exactly as written).
    Text(String),
    Num(f64),
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        if s.is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s)
        }
    }

    fn num(x: Option<f64>) -> Cell {
        match x {
            Some(v) if v.is_finite() => Cell::Num(v),
            _ => Cell::Empty,
        }
    }
}

/// One logical sheet: name, header with a column width each, rows.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub name: String,
    pub columns: Vec<(String, f64)>,
    pub rows: Vec<Vec<Cell>>,
}

impl Sheet {
    fn new(name: &str, columns: &[(&str, f64)]) -> Sheet {
        Sheet {
            name: name.into(),
            columns: columns.iter().map(|(h, w)| (h.to_string(), *w)).collect(),
            rows: Vec::new(),
        }
    }
}

/// The workbook's bytes: each sheet split into parts of at most
/// `max_rows` rows (header included) named `名称`, `名称 (2)`, ...
pub fn workbook_bytes(sheets: &[Sheet], max_rows: usize) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(FIXED_CREATED.0, FIXED_CREATED.1, FIXED_CREATED.2)?;
    wb.set_properties(&DocProperties::new().set_title("kaopei").set_author("kaopei").set_creation_datetime(&created));
    let bold = Format::new().set_bold();
    let per = max_rows.max(2) - 1;
    for sheet in sheets {
        let parts = sheet.rows.len().div_ceil(per).max(1);
        for part in 0..parts {
            let ws = wb.add_worksheet();
            let name = if part == 0 { sheet.name.clone() } else { format!("{} ({})", sheet.name, part + 1) };
            ws.set_name(&name)?;
            for (c, (h, w)) in sheet.columns.iter().enumerate() {
                let c = c as u16;
                ws.write_string_with_format(0, c, h, &bold)?;
                ws.set_column_width(c, *w)?;
            }
            ws.set_freeze_panes(1, 0)?;
            let rows = sheet.rows.iter().skip(part * per).take(per);
            for (r, row) in rows.enumerate() {
                let r = r as u32 + 1;
                for (c, cell) in row.iter().enumerate() {
                    match cell {
                        Cell::Empty => {}
                        Cell::Text(s) => {
                            ws.write_string(r, c as u16, s)?;
                        }
                        Cell::Num(v) => {
                            ws.write_number(r, c as u16, *v)?;
                        }
                    }
                }
            }
        }
    }
    Ok(wb.save_to_buffer()?)
}

/// Writes `sheets` to `path` atomically.
pub fn write_workbook(path: &Path, sheets: &[Sheet]) -> Result<()> {
    let bytes = workbook_bytes(sheets, EXCEL_ROWS)?;
    crate::output::write_atomic(path, &bytes).with_context(|| format!("cannot write `{}`", path.display()))
}

fn tier_zh(tier: &str) -> &'static str {
    match tier {
        "red" => "红",
        "orange" => "橙",
        "yellow" => "黄",
        "green" => "绿",
        "not_audited" => "未审计",
        _ => "",
    }
}

fn source_zh(s: Source) -> &'static str {
    crate::report::Lang::Zh.text().source_name(s)
}

/// Chinese headers of the columns `examinees.csv` is known to have
/// (DATA.md); other columns keep their name.
fn examinee_header(name: &str) -> &str {
    match name {
        "record_id" => "考试记录编号",
        "person_id" => "身份证号",
        "exam_institution_id" => "考点编号",
        "training_institution_id" => "培训机构编号",
        "speed_z" => "作答速度z值",
        "preknowledge_z" => "泄题迹象z值",
        "p_value" => "p值",
        "q_value" => "q值(BH)",
        other => other,
    }
}

/// What the score workbook is made of.
pub struct ScoreBook<'a> {
    pub scores: &'a [InstScore],
    pub findings: &'a [Finding],
    pub rejects: &'a [Reject],
    pub defects: &'a [FieldDefect],
    /// `examinees.csv` as written (header + rows), when the run wrote one.
    pub examinees: Option<Vec<Vec<String>>>,
    pub text: TextPolicy,
}

impl ScoreBook<'_> {
    /// The sheets, rows sorted as in the CSVs.
    pub fn sheets(&self) -> Vec<Sheet> {
        let p = self.text;
        let mut out = Vec::new();

        let mut s = Sheet::new(
            "评分",
            &[
                ("机构编号", 16.0),
                ("机构名称", 30.0),
                ("行政区划代码", 12.0),
                ("机构类型", 10.0),
                ("风险分", 8.0),
                ("风险等级", 8.0),
                ("等级代码", 10.0),
                ("发现数", 8.0),
                ("主要检查", 28.0),
            ],
        );
        let mut scores: Vec<&InstScore> = self.scores.iter().collect();
        scores.sort_by(|a, b| a.institution_id.cmp(&b.institution_id));
        for x in &scores {
            s.rows.push(vec![
                Cell::text(&x.institution_id),
                Cell::text(p.clean(&x.name)),
                Cell::text(&x.region),
                Cell::text(crate::report::Lang::Zh.text().kind_name(&x.kind)),
                Cell::Num((x.score * 100.0).round() / 100.0),
                Cell::text(tier_zh(&x.tier)),
                Cell::text(&x.tier),
                Cell::Num(x.findings as f64),
                Cell::text(&x.top_check),
            ]);
        }
        out.push(s);

        let mut s = Sheet::new(
            "发现",
            &[
                ("机构编号", 16.0),
                ("检查", 28.0),
                ("严重度", 8.0),
                ("统计量", 10.0),
                ("p值", 10.0),
                ("摘要", 80.0),
                ("摘要(英文)", 60.0),
            ],
        );
        let mut fs: Vec<&Finding> = self.findings.iter().collect();
        fs.sort_by(|a, b| {
            (&a.institution_id, &a.check, &a.summary_en).cmp(&(&b.institution_id, &b.check, &b.summary_en))
        });
        for f in fs {
            s.rows.push(vec![
                Cell::text(&f.institution_id),
                Cell::text(&f.check),
                Cell::Num((f.severity * 1e4).round() / 1e4),
                Cell::num(f.statistic),
                Cell::num(f.p_value),
                Cell::text(p.clean(&f.summary_zh)),
                Cell::text(p.clean(&f.summary_en)),
            ]);
        }
        out.push(s);

        let mut s = Sheet::new(
            "标记",
            &[("机构编号", 16.0), ("检查", 28.0), ("对象类型", 12.0), ("对象编号", 24.0), ("证据强度", 10.0)],
        );
        let mut flags: Vec<(&str, &str, &str, &str, f64)> = self
            .findings
            .iter()
            .flat_map(|f| {
                f.flags.iter().map(move |g| {
                    (f.institution_id.as_str(), f.check.as_str(), g.kind.as_str(), g.subject_id.as_str(), g.strength)
                })
            })
            .collect();
        // As flags.csv: one row per (institution, check, kind, subject), the strongest.
        flags.sort_by(|a, b| (a.0, a.1, a.2, a.3).cmp(&(b.0, b.1, b.2, b.3)).then(b.4.total_cmp(&a.4)));
        flags.dedup_by(|a, b| (a.0, a.1, a.2, a.3) == (b.0, b.1, b.2, b.3));
        for (inst, check, kind, subject, strength) in flags {
            s.rows.push(vec![
                Cell::text(inst),
                Cell::text(check),
                Cell::text(kind),
                Cell::text(subject),
                Cell::Num((strength * 1e4).round() / 1e4),
            ]);
        }
        out.push(s);

        if let Some(rows) = &self.examinees {
            if let Some((header, body)) = rows.split_first() {
                let numeric = |h: &str| h.ends_with("_z") || h == "p_value" || h == "q_value";
                let cols: Vec<(&str, f64)> =
                    header.iter().map(|h| (examinee_header(h), if numeric(h) { 12.0 } else { 22.0 })).collect();
                let mut s = Sheet::new("考生", &cols);
                for r in body {
                    s.rows.push(
                        header
                            .iter()
                            .zip(r)
                            .map(|(h, v)| match v.parse::<f64>() {
                                Ok(x) if numeric(h) => Cell::Num(x),
                                _ => Cell::text(v.as_str()),
                            })
                            .collect(),
                    );
                }
                out.push(s);
            }
        }

        let mut s = Sheet::new("未审计", &[("机构编号", 16.0), ("机构名称", 30.0), ("未提供数据的来源", 40.0)]);
        for x in scores.iter().filter(|x| x.tier == "not_audited") {
            let missing: Vec<&str> =
                Source::ALL.into_iter().filter(|src| !x.audited.contains(src)).map(source_zh).collect();
            s.rows.push(vec![
                Cell::text(&x.institution_id),
                Cell::text(p.clean(&x.name)),
                Cell::text(missing.join("、")),
            ]);
        }
        out.push(s);

        let mut s =
            Sheet::new("拒收行", &[("表", 16.0), ("文件", 20.0), ("行号", 8.0), ("原因", 60.0), ("原始内容", 80.0)]);
        for r in self.rejects {
            s.rows.push(vec![
                Cell::text(&r.table),
                Cell::text(&r.file),
                Cell::Num(r.line as f64),
                Cell::text(p.clean(&r.reason)),
                Cell::text(p.clean(&r.raw)),
            ]);
        }
        out.push(s);

        let mut s = Sheet::new(
            "字段缺陷",
            &[
                ("表", 16.0),
                ("文件", 20.0),
                ("行号", 8.0),
                ("列", 16.0),
                ("值", 20.0),
                ("原因", 60.0),
                ("机构编号", 16.0),
            ],
        );
        for d in self.defects {
            s.rows.push(vec![
                Cell::text(&d.table),
                Cell::text(&d.file),
                Cell::Num(d.line as f64),
                Cell::text(&d.column),
                Cell::text(p.clean(&d.value)),
                Cell::text(p.clean(&d.reason)),
                Cell::text(d.institution_id.clone().unwrap_or_default()),
            ]);
        }
        out.push(s);
        out
    }

    /// Writes `DIR/kaopei.xlsx`; returns its path.
    pub fn write(&self, dir: &Path) -> Result<PathBuf> {
        let path = dir.join(FILE);
        write_workbook(&path, &self.sheets())?;
        Ok(path)
    }
}

/// Reads `DIR/examinees.csv` (BOM or not) as header + rows, when present.
pub fn read_examinees(dir: &Path) -> Result<Option<Vec<Vec<String>>>> {
    let path = dir.join("examinees.csv");
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    };
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).from_reader(csv_out::strip_bom(&bytes));
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.with_context(|| format!("cannot read `{}`", path.display()))?;
        rows.push(rec.iter().map(str::to_string).collect());
    }
    Ok(Some(rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader};

    fn book(rows: usize) -> Vec<Sheet> {
        let mut s = Sheet::new("标记", &[("对象编号", 24.0), ("证据强度", 10.0)]);
        for i in 0..rows {
            s.rows.push(vec![Cell::text(format!("41010219900101{:04}", 1000 + i)), Cell::Num(0.5)]);
        }
        vec![s]
    }

    fn read(bytes: Vec<u8>) -> Vec<(String, Vec<Vec<Data>>)> {
        let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let names = wb.sheet_names();
        names
            .into_iter()
            .map(|n| {
                let r = wb.worksheet_range(&n).unwrap();
                (n, r.rows().map(|row| row.to_vec()).collect())
            })
            .collect()
    }

    #[test]
    fn ids_are_text_headers_chinese_and_two_writes_identical() {
        let a = workbook_bytes(&book(3), EXCEL_ROWS).unwrap();
        let b = workbook_bytes(&book(3), EXCEL_ROWS).unwrap();
        assert_eq!(a, b, "fixed metadata: byte-identical");
        let sheets = read(a);
        assert_eq!(sheets.len(), 1);
        let (name, rows) = &sheets[0];
        assert_eq!(name, "标记");
        assert_eq!(rows[0][0], Data::String("对象编号".into()));
        assert_eq!(rows[1][0], Data::String("410102199001011000".into()));
        assert_eq!(rows[1][1], Data::Float(0.5));
    }

    #[test]
    fn a_sheet_over_the_row_limit_continues_on_the_next() {
        let sheets = read(workbook_bytes(&book(7), 4).unwrap());
        let names: Vec<&str> = sheets.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(names, ["标记", "标记 (2)", "标记 (3)"]);
        let lens: Vec<usize> = sheets.iter().map(|s| s.1.len()).collect();
        assert_eq!(lens, [4, 4, 2], "each part has the header and at most 3 rows");
        assert_eq!(sheets[2].1[1][0], Data::String("410102199001011006".into()));
    }
}
