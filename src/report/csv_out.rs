//! The stable CSV outputs of DATA.md: `scores.csv`, `findings.csv` and
//! `flags.csv`. Rows are sorted (institution, check, subject) and numbers
//! formatted with fixed precision so two runs on the same input give
//! byte-identical files, each written atomically ([`crate::output`]). Text
//! fields that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`,
//! tab, CR at the start) are prefixed with `'`, and ID and mobile numbers
//! in names and summaries are masked as in the HTML reports unless
//! `--unmasked` is given. Keys are kept as written: `institution_id`, and
//! `flags.csv`'s `subject_id`, which DATA.md defines as the record other
//! tools act on (a person's ID number, a certificate number) — masked, two
//! people could collapse into one flag. `flags.csv` is therefore
//! confidential; the reports and summaries are the shareable outputs.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::output::AtomicFile;

use crate::checks::Finding;
use crate::report::mask::redact_text;
use crate::score::InstScore;

/// How input-derived text is written: ID and phone numbers masked unless
/// `unmasked`, then formulas neutralised.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextPolicy {
    pub unmasked: bool,
}

impl TextPolicy {
    /// ID and phone numbers masked unless `unmasked` (no formula prefix: a
    /// typed spreadsheet cell is never a formula).
    pub fn clean(self, s: &str) -> String {
        if self.unmasked {
            s.to_string()
        } else {
            redact_text(s)
        }
    }

    fn text(self, s: &str) -> String {
        if self.unmasked {
            safe_text(s)
        } else {
            safe_text(&redact_text(s))
        }
    }
}

/// The UTF-8 byte order mark every CSV output begins with.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `bytes` without a leading UTF-8 byte order mark.
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(BOM).unwrap_or(bytes)
}

/// A CSV writer over `out` that has written the byte order mark.
pub fn bom_writer<W: std::io::Write>(mut out: W) -> std::io::Result<csv::Writer<W>> {
    out.write_all(BOM)?;
    Ok(csv::Writer::from_writer(out))
}

/// Neutralises spreadsheet formulas in a text field (OWASP CSV injection).
pub fn safe_text(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

fn opt_num(x: Option<f64>, fmt: fn(f64) -> String) -> String {
    match x {
        Some(v) if v.is_finite() => fmt(v),
        _ => String::new(),
    }
}

fn fixed4(v: f64) -> String {
    format!("{v:.4}")
}

fn sci(v: f64) -> String {
    format!("{v:.4e}")
}

/// The three stable outputs: file name, header, and the columns rows are
/// sorted by (so a merge of shard outputs sorts exactly like one run).
pub const SCORES: (&str, [&str; 6], &[usize]) =
    ("scores.csv", ["institution_id", "name", "score", "tier", "findings", "top_check"], &[0]);
pub const FINDINGS: (&str, [&str; 6], &[usize]) =
    ("findings.csv", ["institution_id", "check", "severity", "statistic", "p_value", "summary"], &[0, 1, 5, 2]);
pub const FLAGS: (&str, [&str; 5], &[usize]) =
    ("flags.csv", ["institution_id", "check", "subject_kind", "subject_id", "strength"], &[0, 1, 2, 3]);
/// `examinees.csv` (issue 16), sorted by record_id.
pub const EXAMINEES: (&str, [&str; 8], &[usize]) = (
    "examinees.csv",
    [
        "record_id",
        "person_id",
        "exam_institution_id",
        "training_institution_id",
        "speed_z",
        "preknowledge_z",
        "p_value",
        "q_value",
    ],
    &[0],
);

/// Sorts `rows` by the `key` columns (then the whole row) and writes them
/// under `header`. When `dedup` is set, rows equal on the key columns are
/// collapsed to the one that sorts last as text (for flags: the strongest,
/// since strengths are fixed-format numbers in 0–1).
pub fn sort_and_write(
    path: &Path,
    header: &[&str],
    mut rows: Vec<Vec<String>>,
    key: &[usize],
    dedup: bool,
) -> Result<()> {
    let cmp_key = |a: &Vec<String>, b: &Vec<String>| key.iter().map(|&k| a[k].cmp(&b[k])).find(|o| o.is_ne());
    rows.sort_by(|a, b| cmp_key(a, b).unwrap_or_else(|| if dedup { b.cmp(a) } else { a.cmp(b) }));
    if dedup {
        rows.dedup_by(|a, b| cmp_key(a, b).is_none());
    }
    let f = AtomicFile::create(path).with_context(|| format!("cannot create `{}`", path.display()))?;
    let mut w = bom_writer(f).with_context(|| format!("cannot write `{}`", path.display()))?;
    w.write_record(header)?;
    for r in &rows {
        w.write_record(r)?;
    }
    let f = w.into_inner().map_err(|e| e.into_error()).with_context(|| format!("cannot write `{}`", path.display()))?;
    f.commit().with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(())
}

/// Rows of `scores.csv`.
pub fn score_rows(scores: &[InstScore], p: TextPolicy) -> Vec<Vec<String>> {
    scores
        .iter()
        .map(|s| {
            vec![
                safe_text(&s.institution_id),
                p.text(&s.name),
                format!("{:.2}", s.score),
                s.tier.as_str().to_string(),
                s.findings.to_string(),
                s.top_check.clone(),
            ]
        })
        .collect()
}

/// Rows of `findings.csv` (English summaries: a stable, tool-friendly text).
pub fn finding_rows(findings: &[Finding], p: TextPolicy) -> Vec<Vec<String>> {
    findings
        .iter()
        .map(|f| {
            vec![
                safe_text(&f.institution_id),
                f.check.clone(),
                fixed4(f.severity),
                opt_num(f.statistic, fixed4),
                opt_num(f.p_value, sci),
                p.text(&f.summary_en),
            ]
        })
        .collect()
}

/// Rows of `flags.csv` (duplicates collapse in [`sort_and_write`]).
pub fn flag_rows(findings: &[Finding]) -> Vec<Vec<String>> {
    findings
        .iter()
        .flat_map(|f| {
            f.flags.iter().map(move |g| {
                vec![
                    safe_text(&f.institution_id),
                    f.check.clone(),
                    g.kind.as_str().to_string(),
                    safe_text(&g.subject_id),
                    fixed4(g.strength),
                ]
            })
        })
        .collect()
}

/// Writes `scores.csv`, `findings.csv` and `flags.csv` into `dir`; returns
/// their paths.
pub fn write_all(dir: &Path, scores: &[InstScore], findings: &[Finding], p: TextPolicy) -> Result<Vec<PathBuf>> {
    let paths = [dir.join(SCORES.0), dir.join(FINDINGS.0), dir.join(FLAGS.0)];
    sort_and_write(&paths[0], &SCORES.1, score_rows(scores, p), SCORES.2, false)?;
    sort_and_write(&paths[1], &FINDINGS.1, finding_rows(findings, p), FINDINGS.2, false)?;
    sort_and_write(&paths[2], &FLAGS.1, flag_rows(findings), FLAGS.2, true)?;
    Ok(paths.to_vec())
}

/// Rows of `examinees.csv`: ID numbers masked unless `--unmasked`, as in
/// the summaries (record_id is the key other tools act on).
pub fn examinee_rows(rows: &[crate::checks::examinee::ExamineeRow], p: TextPolicy) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            vec![
                safe_text(&r.record_id),
                p.text(&r.person_id),
                safe_text(&r.exam_institution_id),
                safe_text(&r.training_institution_id),
                opt_num(r.speed_z, fixed4),
                opt_num(r.preknowledge_z, fixed4),
                opt_num(Some(r.p_value), sci),
                opt_num(Some(r.q_value), sci),
            ]
        })
        .collect()
}

/// Writes `examinees.csv` into `dir`; returns its path.
pub fn write_examinees(dir: &Path, rows: &[crate::checks::examinee::ExamineeRow], p: TextPolicy) -> Result<PathBuf> {
    let path = dir.join(EXAMINEES.0);
    sort_and_write(&path, &EXAMINEES.1, examinee_rows(rows, p), EXAMINEES.2, false)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(safe_text("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(safe_text("-2+3"), "'-2+3");
        assert_eq!(safe_text("机构"), "机构");
    }

    #[test]
    fn numbers_are_masked_before_formulas_are_neutralised() {
        let masked = TextPolicy { unmasked: false };
        assert_eq!(masked.text("T410102199001011234"), "T410***********1234");
        assert_eq!(masked.text("=HYPERLINK(\"13812345678\")"), "'=HYPERLINK(\"138****5678\")");
        assert_eq!(TextPolicy { unmasked: true }.text("410102199001011234"), "410102199001011234");
    }
}
