//! `kaopei synth --continue-from DIR`: continues a synthetic dataset into
//! the next months, as an institution's whole-archive export for a
//! follow-up would look: every earlier file's bytes first, unchanged, then
//! the new period's rows. The new rows come from the same plan (same
//! institutions and centres) with the records drawn from another seed,
//! their dates moved past the earlier data by whole weeks (weekdays stay),
//! and their record ids suffixed `-F<k>` so they never collide with the
//! earlier ones. `--rectified ID,…` (or `all`) generates those
//! institutions without planted patterns: they rectified.
//!
//! Needs a CSV dataset as `synth` writes it (`--formats csv`).

use std::collections::HashMap;
use std::path::Path;

use super::{Config, SynthError, Table, TABLES};
use crate::dataset::rows::{civil_from_days, days_from_civil};

/// The columns holding record ids (suffixed in new rows) and dates (moved).
fn columns(t: Table) -> (&'static [&'static str], &'static [&'static str]) {
    match t {
        Table::Classes => (&["class_id"], &["start_date", "end_date"]),
        Table::Attendance => (&["record_id", "class_id"], &["check_in", "check_out"]),
        Table::ExamSessions => (&["session_id"], &["start", "end"]),
        Table::ExamRecords => (&["record_id", "session_id"], &["login_at", "submit_at"]),
        Table::ExamResponses => (&["record_id"], &[]),
        // Certificate numbers carry the holder's ID: new holders, new numbers.
        Table::Certificates => (&[], &["issued_on", "expires_on"]),
        Table::Cctv => (&["video_id", "file"], &["claimed_start", "claimed_end"]),
        Table::Callbacks => (&[], &["called_at"]),
        Table::Institutions => (&[], &[]),
    }
}

fn day_of(s: &str) -> Option<i64> {
    let y: i32 = s.get(0..4)?.parse().ok()?;
    let m: u32 = s.get(5..7)?.parse().ok()?;
    let d: u32 = s.get(8..10)?.parse().ok()?;
    (s.as_bytes().get(4) == Some(&b'-')).then(|| days_from_civil(y, m, d) as i64)
}

fn shift(s: &str, days: i64) -> String {
    match day_of(s) {
        Some(d) => {
            let (y, m, dd) = civil_from_days((d + days) as _);
            format!("{y:04}-{m:02}-{dd:02}{}", &s[10..])
        }
        None => s.to_string(),
    }
}

fn suffix_id(s: &str, tag: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    match s.rsplit_once('.') {
        // A file name: suffix before the extension.
        Some((stem, ext)) if s.contains('/') => format!("{stem}{tag}.{ext}"),
        _ => format!("{s}{tag}"),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, SynthError> {
    std::fs::read(path).map_err(|source| SynthError::Io { path: path.to_path_buf(), source })
}

fn csv_records(bytes: &[u8], path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), SynthError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
    let bad = |e: csv::Error| SynthError::Invalid(format!("`{}`: {e}", path.display()));
    let header: Vec<String> = r.headers().map_err(bad)?.iter().map(str::to_string).collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        rows.push(rec.map_err(bad)?.iter().map(str::to_string).collect());
    }
    Ok((header, rows))
}

/// The first and last day among the date columns of the dataset in `dir`.
fn span(dir: &Path) -> Result<(i64, i64), SynthError> {
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for &t in TABLES.iter() {
        let path = dir.join(format!("{}.csv", t.name()));
        if !path.is_file() {
            continue;
        }
        let (header, rows) = csv_records(&read(&path)?, &path)?;
        // Event days only: a certificate's expiry lies years ahead.
        let idx: Vec<usize> = columns(t)
            .1
            .iter()
            .filter(|c| **c != "expires_on")
            .filter_map(|c| header.iter().position(|h| h == c))
            .collect();
        for r in &rows {
            for &i in &idx {
                if let Some(d) = r.get(i).and_then(|s| day_of(s)) {
                    lo = lo.min(d);
                    hi = hi.max(d);
                }
            }
        }
    }
    if lo > hi {
        return Err(SynthError::Invalid(format!("`{}` has no dated rows to continue", dir.display())));
    }
    Ok((lo, hi))
}

/// Continues the dataset in `earlier` into `cfg.out` (continuation `k` ≥ 1,
/// `cfg.seed`/`cfg.institutions` as the earlier dataset was made with).
/// Returns the days the new rows were moved by.
pub fn continue_dataset(
    earlier: &Path,
    cfg: &Config,
    k: u32,
    ops: &crate::model::Operations,
) -> Result<i64, SynthError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SynthError::Io { path, source }
    };
    for t in TABLES.iter() {
        if !earlier.join(format!("{}.csv", t.name())).is_file() && *t != Table::Cctv {
            return Err(SynthError::Invalid(format!(
                "`{}` has no {}.csv: continuation needs a dataset made with `synth --formats csv`",
                earlier.display(),
                t.name()
            )));
        }
    }
    let tmp = cfg.out.join(format!(".continuation-{k}"));
    let _ = std::fs::remove_dir_all(&tmp);
    let mut gen = cfg.clone();
    gen.out = tmp.clone();
    gen.records_salt = 0x00C0_FFEE_u64.wrapping_mul(k as u64 + 1);
    super::generate(&gen, ops)?;
    // The same plan gives the same institutions: refuse a mismatch.
    if read(&tmp.join("institutions.csv"))? != read(&earlier.join("institutions.csv"))? {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(SynthError::Invalid(format!(
            "`{}` was not made with --seed {} --institutions {}: give the options it was made with",
            earlier.display(),
            cfg.seed,
            cfg.institutions
        )));
    }
    let (_, earlier_last) = span(earlier)?;
    let (new_first, _) = span(&tmp)?;
    let days = ((earlier_last - new_first + 1).max(0) + 6) / 7 * 7;
    let tag = format!("-F{k}");
    std::fs::create_dir_all(&cfg.out).map_err(io(&cfg.out))?;
    for &t in TABLES.iter() {
        let name = format!("{}.csv", t.name());
        let old = earlier.join(&name);
        if !old.is_file() {
            continue;
        }
        let mut bytes = read(&old)?;
        if t != Table::Institutions {
            let newp = tmp.join(&name);
            if newp.is_file() {
                let (header, rows) = csv_records(&read(&newp)?, &newp)?;
                let (ids, dates) = columns(t);
                let pos = |cols: &[&str]| -> Vec<usize> {
                    cols.iter().filter_map(|c| header.iter().position(|h| h == c)).collect()
                };
                let (ids, dates) = (pos(ids), pos(dates));
                if !bytes.is_empty() && !bytes.ends_with(b"\n") {
                    bytes.push(b'\n');
                }
                let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
                let crlf = bytes.windows(2).any(|x| x == b"\r\n");
                if !crlf {
                    w = csv::WriterBuilder::new().from_writer(Vec::new());
                }
                for mut r in rows {
                    for &i in &ids {
                        r[i] = suffix_id(&r[i], &tag);
                    }
                    for &i in &dates {
                        r[i] = shift(&r[i], days);
                    }
                    w.write_record(&r).map_err(|e| SynthError::Invalid(e.to_string()))?;
                }
                bytes.extend(w.into_inner().map_err(|e| SynthError::Invalid(e.to_string()))?);
            }
        }
        let dest = cfg.out.join(&name);
        std::fs::write(&dest, &bytes).map_err(io(&dest))?;
    }
    // Clips: the earlier ones as they were, the new ones renamed.
    let mut renamed: HashMap<std::path::PathBuf, std::path::PathBuf> = HashMap::new();
    for (from, suffix) in [(earlier.to_path_buf(), None), (tmp.clone(), Some(tag.as_str()))] {
        let vids = from.join("videos");
        if let Ok(entries) = std::fs::read_dir(&vids) {
            std::fs::create_dir_all(cfg.out.join("videos")).map_err(io(&cfg.out))?;
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let target = match suffix {
                    Some(tag) => suffix_id(&format!("videos/{name}"), tag),
                    None => format!("videos/{name}"),
                };
                let dest = cfg.out.join(&target);
                std::fs::copy(e.path(), &dest).map_err(io(&dest))?;
                renamed.insert(e.path(), dest);
            }
        }
    }
    for f in ["truth.csv", "truth_subjects.csv"] {
        let p = earlier.join(f);
        if p.is_file() {
            std::fs::copy(&p, cfg.out.join(f)).map_err(io(&p))?;
        }
        let q = tmp.join(f);
        if q.is_file() {
            let dest = cfg.out.join(format!("{}_continued{k}.csv", f.trim_end_matches(".csv")));
            std::fs::copy(&q, &dest).map_err(io(&q))?;
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_move_by_whole_days_and_ids_get_a_suffix() {
        assert_eq!(shift("2024-07-01 09:00:00", 7), "2024-07-08 09:00:00");
        assert_eq!(shift("2024-12-30", 7), "2025-01-06");
        assert_eq!(shift("", 7), "");
        assert_eq!(suffix_id("410700001-S0001", "-F1"), "410700001-S0001-F1");
        assert_eq!(suffix_id("videos/410700001-V01.mp4", "-F1"), "videos/410700001-V01-F1.mp4");
    }
}
