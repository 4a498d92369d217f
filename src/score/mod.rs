//! Scoring: combines an institution's findings into a 0–100 risk score and a
//! tier with the scorecard model (`models/scorecard.toml`):
//!
//! `score = 100 · (1 − Π_c (1 − w_c · s_c))`
//!
//! over the institution's findings, where `w_c` is the check's weight and
//! `s_c` the finding's severity (0–1, derived by the check from its
//! evidence). The score is bounded, monotone (a further finding never lowers
//! it) and each finding's contribution is kept for the report's "why" chart.
//! An institution with no data in any source is `not_audited`.

pub mod calibrate;

use serde::{Deserialize, Serialize};

use crate::checks::{Finding, Source};
use crate::model::Scorecard;

/// One finding's share of an institution's score.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Contribution {
    pub check: String,
    pub weight: f64,
    pub severity: f64,
    /// Points this finding adds given the findings before it (in check
    /// order); the contributions add up to the score.
    pub points: f64,
}

/// The score of one institution.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstScore {
    pub institution_id: String,
    pub name: String,
    pub region: String,
    pub kind: String,
    pub score: f64,
    /// `red` / `orange` / `yellow` / `green` / `not_audited`.
    pub tier: String,
    pub findings: usize,
    /// The check contributing most, empty when none.
    pub top_check: String,
    pub contributions: Vec<Contribution>,
    /// Sources with data about this institution.
    pub audited: Vec<Source>,
}

/// Scores one institution from its findings (any order).
pub fn score_institution(
    card: &Scorecard,
    institution_id: &str,
    name: &str,
    region: &str,
    kind: &str,
    audited: Vec<Source>,
    findings: &[&Finding],
) -> InstScore {
    let mut sorted: Vec<&Finding> = findings.to_vec();
    sorted.sort_by(|a, b| (&a.check, &a.summary_en).cmp(&(&b.check, &b.summary_en)));
    let mut keep = 1.0f64; // Π(1 − w·s) so far
    let mut contributions = Vec::with_capacity(sorted.len());
    for f in &sorted {
        let weight = card.check(&f.check).map_or(0.0, |c| c.weight).clamp(0.0, 1.0);
        let factor = 1.0 - weight * f.severity.clamp(0.0, 1.0);
        let before = keep;
        keep *= factor;
        contributions.push(Contribution {
            check: f.check.clone(),
            weight,
            severity: f.severity,
            points: 100.0 * (before - keep),
        });
    }
    let score = round2(100.0 * (1.0 - keep));
    let tier = if audited.is_empty() { "not_audited".to_string() } else { card.tier(score).to_string() };
    let top_check = contributions
        .iter()
        .filter(|c| c.points > 0.0)
        .max_by(|a, b| a.points.total_cmp(&b.points).then_with(|| b.check.cmp(&a.check)))
        .map(|c| c.check.clone())
        .unwrap_or_default();
    InstScore {
        institution_id: institution_id.to_string(),
        name: name.to_string(),
        region: region.to_string(),
        kind: kind.to_string(),
        score,
        tier,
        findings: sorted.len(),
        top_check,
        contributions,
        audited,
    }
}

/// Rounds to 2 decimals so CSV output is stable across platforms.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Models;

    fn card() -> Scorecard {
        Models::load(None).unwrap().scorecard
    }

    fn finding(check: &str, severity: f64) -> Finding {
        Finding::new("I1", check.parse::<crate::checks::CheckId>().expect("registered id"), severity)
    }

    #[test]
    fn formula_and_contributions_add_up() {
        let c = card();
        let checks: Vec<String> = c.checks.keys().take(2).cloned().collect();
        let (w0, w1) = (c.check(&checks[0]).unwrap().weight, c.check(&checks[1]).unwrap().weight);
        let f = [finding(&checks[0], 0.5), finding(&checks[1], 1.0)];
        let refs: Vec<&Finding> = f.iter().collect();
        let s = score_institution(&c, "I1", "n", "410000", "exam", vec![Source::Exam], &refs);
        let want = 100.0 * (1.0 - (1.0 - w0 * 0.5) * (1.0 - w1));
        assert!((s.score - want).abs() < 0.006, "{} vs {want}", s.score);
        let sum: f64 = s.contributions.iter().map(|c| c.points).sum();
        assert!((sum - want).abs() < 1e-9);
    }

    #[test]
    fn adding_a_finding_never_lowers_the_score() {
        let c = card();
        let ids: Vec<String> = c.checks.keys().cloned().collect();
        let mut fs: Vec<Finding> = Vec::new();
        let mut last = 0.0;
        for (i, id) in ids.iter().enumerate().cycle().take(3 * ids.len()) {
            fs.push(finding(id, ((i * 37) % 100) as f64 / 100.0));
            let refs: Vec<&Finding> = fs.iter().collect();
            let s = score_institution(&c, "I1", "n", "r", "both", vec![Source::Exam], &refs);
            assert!(s.score >= last, "{} < {last}", s.score);
            assert!(s.score <= 100.0);
            last = s.score;
        }
    }

    #[test]
    fn no_data_is_not_audited_not_green() {
        let s = score_institution(&card(), "I1", "n", "r", "exam", vec![], &[]);
        assert_eq!((s.tier.as_str(), s.score), ("not_audited", 0.0));
        let s = score_institution(&card(), "I1", "n", "r", "exam", vec![Source::Cert], &[]);
        assert_eq!(s.tier, "green");
    }
}
