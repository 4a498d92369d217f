//! Writing the generated dataset: one buffered file per table (header
//! first, then each group's rows in group order), `truth.csv` and
//! `truth_subjects.csv` (sorted), and the `--formats mixed` variants: a
//! table re-encoded as GBK with Chinese headers and values, and a table
//! converted to XLSX (with a fixed creation time so the bytes are stable).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::plan::Plan;
use super::{SynthError, Table, TABLES};

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SynthError {
    let path = path.to_path_buf();
    move |source| SynthError::Io { path, source }
}

/// The open table files.
pub struct TableFiles {
    files: Vec<Option<(PathBuf, BufWriter<File>)>>,
    rows: [u64; 9],
}

impl TableFiles {
    pub fn create(dir: &Path, tables: &[Table]) -> Result<TableFiles, SynthError> {
        let mut files = Vec::new();
        for t in TABLES {
            if !tables.contains(&t) {
                files.push(None);
                continue;
            }
            let path = dir.join(format!("{}.csv", t.name()));
            let mut w = BufWriter::with_capacity(1 << 20, File::create(&path).map_err(io(&path))?);
            writeln!(w, "{}", t.headers().join(",")).map_err(io(&path))?;
            files.push(Some((path, w)));
        }
        Ok(TableFiles { files, rows: [0; 9] })
    }

    /// Appends one group's buffers (rows of tables not written are dropped
    /// only when that table is switched off, e.g. CCTV without video).
    pub fn append(&mut self, bufs: &[Vec<u8>], rows: &[u64; 9]) -> Result<(), SynthError> {
        for (k, b) in bufs.iter().enumerate() {
            if let Some((path, w)) = &mut self.files[k] {
                w.write_all(b).map_err(io(path))?;
                self.rows[k] += rows[k];
            }
        }
        Ok(())
    }

    pub fn finish(self) -> Result<[u64; 9], SynthError> {
        for (path, mut w) in self.files.into_iter().flatten() {
            w.flush().map_err(io(&path))?;
        }
        Ok(self.rows)
    }
}

/// `truth.csv` (one row per institution) and `truth_subjects.csv` (sorted).
pub fn truth(dir: &Path, plan: &Plan, subjects: &mut Vec<[String; 4]>) -> Result<(), SynthError> {
    let path = dir.join("truth.csv");
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_path(&path)?;
    w.write_record(["institution_id", "honest_profile", "patterns"])?;
    for i in &plan.insts {
        let pats: Vec<&str> = i.patterns.iter().map(|p| p.name()).collect();
        w.write_record([i.id.as_str(), &i.profile.label(), &pats.join(";")])?;
    }
    w.flush().map_err(io(&path))?;
    subjects.sort();
    subjects.dedup();
    let path = dir.join("truth_subjects.csv");
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_path(&path)?;
    w.write_record(["institution_id", "pattern", "subject_kind", "subject_id"])?;
    for s in subjects.iter() {
        w.write_record(s)?;
    }
    w.flush().map_err(io(&path))?;
    Ok(())
}

fn read_csv(path: &Path) -> Result<Vec<csv::StringRecord>, SynthError> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_path(path)?;
    let mut out = Vec::new();
    for rec in r.records() {
        out.push(rec?);
    }
    Ok(out)
}

/// Rewrites `TABLE.csv` as GB18030/GBK with the Chinese headers and
/// Chinese enum values (是/否, 不确定, 初训/复训 …), as office exports do.
pub fn to_gbk_chinese(dir: &Path, t: Table) -> Result<(), SynthError> {
    let path = dir.join(format!("{}.csv", t.name()));
    let recs = read_csv(&path)?;
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    w.write_record(t.headers_zh())?;
    for rec in recs.iter().skip(1) {
        let fields: Vec<&str> = rec
            .iter()
            .map(|f| match f {
                "yes" => "是",
                "no" => "否",
                "unsure" => "不确定",
                "initial" => "初训",
                "refresher" => "复训",
                "classroom" => "面授",
                "online" => "网络",
                "practical" => "实操",
                "theory" => "理论",
                other => other,
            })
            .collect();
        w.write_record(&fields)?;
    }
    let utf8 = w.into_inner().map_err(|e| SynthError::Invalid(format!("csv buffer: {e}")))?;
    let text = String::from_utf8_lossy(&utf8);
    let (bytes, _, _) = encoding_rs::GBK.encode(&text);
    std::fs::write(&path, &bytes).map_err(io(&path))?;
    Ok(())
}

/// Replaces `TABLE.csv` by `TABLE.xlsx` (first sheet, header row first).
pub fn to_xlsx(dir: &Path, t: Table) -> Result<(), SynthError> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};
    let csv_path = dir.join(format!("{}.csv", t.name()));
    let path = dir.join(format!("{}.xlsx", t.name()));
    let recs = read_csv(&csv_path)?;
    let xerr = |e: rust_xlsxwriter::XlsxError| SynthError::Xlsx { path: path.clone(), message: e.to_string() };
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(2024, 12, 1).map_err(xerr)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let sheet = wb.add_worksheet();
    sheet.set_name(t.name()).map_err(xerr)?;
    for (r, rec) in recs.iter().enumerate() {
        for (c, f) in rec.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, f).map_err(xerr)?;
        }
    }
    let bytes = wb.save_to_buffer().map_err(xerr)?;
    std::fs::write(&path, bytes).map_err(io(&path))?;
    std::fs::remove_file(&csv_path).map_err(io(&csv_path))?;
    Ok(())
}

/// Total bytes of the files under `dir`.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else { return 0 };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(ft) if ft.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}
