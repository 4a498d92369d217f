//! The stable CSV outputs of DATA.md: `scores.csv`, `findings.csv` and
//! `flags.csv`. Rows are sorted (institution, check, subject) and numbers
//! formatted with fixed precision so two runs on the same input give
//! byte-identical files. Text fields that a spreadsheet would run as a
//! formula (`=`, `+`, `-`, `@`, tab, CR at the start) are prefixed with `'`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::checks::Finding;
use crate::score::InstScore;

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

fn writer(path: &Path) -> Result<csv::Writer<std::io::BufWriter<std::fs::File>>> {
    let f = std::fs::File::create(path).with_context(|| format!("cannot create `{}`", path.display()))?;
    Ok(csv::Writer::from_writer(std::io::BufWriter::new(f)))
}

/// Writes `scores.csv`: one row per institution, sorted by institution_id.
pub fn write_scores(path: &Path, scores: &[InstScore]) -> Result<()> {
    let mut rows: Vec<&InstScore> = scores.iter().collect();
    rows.sort_by(|a, b| a.institution_id.cmp(&b.institution_id));
    let mut w = writer(path)?;
    w.write_record(["institution_id", "name", "score", "tier", "findings", "top_check"])?;
    for s in rows {
        w.write_record([
            safe_text(&s.institution_id),
            safe_text(&s.name),
            format!("{:.2}", s.score),
            s.tier.clone(),
            s.findings.to_string(),
            s.top_check.clone(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Writes `findings.csv` (English summaries: a stable, tool-friendly text).
pub fn write_findings(path: &Path, findings: &[Finding]) -> Result<()> {
    let mut rows: Vec<&Finding> = findings.iter().collect();
    rows.sort_by(|a, b| {
        (&a.institution_id, &a.check, &a.summary_en).cmp(&(&b.institution_id, &b.check, &b.summary_en))
    });
    let mut w = writer(path)?;
    w.write_record(["institution_id", "check", "severity", "statistic", "p_value", "summary"])?;
    for f in rows {
        w.write_record([
            safe_text(&f.institution_id),
            f.check.clone(),
            fixed4(f.severity),
            opt_num(f.statistic, fixed4),
            opt_num(f.p_value, sci),
            safe_text(&f.summary_en),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Writes `flags.csv`: one row per (institution, check, subject), keeping the
/// strongest strength when several findings of one check flag the same subject.
pub fn write_flags(path: &Path, findings: &[Finding]) -> Result<()> {
    let mut rows: Vec<(&str, &str, &str, &str, f64)> = findings
        .iter()
        .flat_map(|f| {
            f.flags.iter().map(move |g| {
                (f.institution_id.as_str(), f.check.as_str(), g.kind.as_str(), g.subject_id.as_str(), g.strength)
            })
        })
        .collect();
    rows.sort_by(|a, b| (a.0, a.1, a.2, a.3).cmp(&(b.0, b.1, b.2, b.3)).then(b.4.total_cmp(&a.4)));
    rows.dedup_by(|a, b| (a.0, a.1, a.2, a.3) == (b.0, b.1, b.2, b.3));
    let mut w = writer(path)?;
    w.write_record(["institution_id", "check", "subject_kind", "subject_id", "strength"])?;
    for (inst, check, kind, subject, strength) in rows {
        w.write_record([safe_text(inst), check.to_string(), kind.to_string(), safe_text(subject), fixed4(strength)])?;
    }
    w.flush()?;
    Ok(())
}

/// Writes all three files into `dir`.
pub fn write_all(dir: &Path, scores: &[InstScore], findings: &[Finding]) -> Result<()> {
    write_scores(&dir.join("scores.csv"), scores)?;
    write_findings(&dir.join("findings.csv"), findings)?;
    write_flags(&dir.join("flags.csv"), findings)?;
    std::io::stdout().flush().ok();
    Ok(())
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
}
