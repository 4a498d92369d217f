//! Scoring: combines an institution's findings into a 0–100 risk score and a
//! tier with the scorecard model (`models/scorecard.toml`, `[scoring]`).
//!
//! With `x_i = w_i · s_i` for each finding (`w` the check's weight, `s` the
//! severity the check derived from its evidence, both in 0–1):
//!
//! 1. **Screening cap.** A `screening` check's `x` is capped at
//!    `screening_cap` unless a non-screening finding has `x ≥ corroborate_min`
//!    (a pass rate alone cannot tell excellence from cheating).
//! 2. **Within a family** (checks reading the same units, `[scoring.families]`)
//!    the strongest finding counts fully and the others damped:
//!    `F_f = 1 − (1 − x₍₁₎) · Π_{k≥2} (1 − d · x₍ₖ₎)`, `d = family_damping`.
//!    Several rules firing on one session or clip are one piece of evidence.
//! 3. **Across families**, noisy-OR: `score = 100 · (1 − Π_f (1 − F_f))`.
//! 4. **Red gate.** Red needs two families with `F_f ≥ corroborate_min`, or
//!    one finding with `x ≥ red_single_min`; otherwise the score is held just
//!    below the red cut-off. One weak finding never makes an institution red.
//!
//! Every step is monotone (a further finding or a higher severity never
//! lowers the score) and bounded. Each finding's contribution is its
//! marginal effect when findings are added strongest first, so the
//! contributions add up to the score. An institution with no data in any
//! source is `not_audited`.

pub mod calibrate;

use serde::{Deserialize, Serialize};

use crate::checks::{Finding, Source};
use std::collections::BTreeMap;

use crate::model::scorecard::Scoring;
use crate::model::{Scorecard, Tier};

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
    pub tier: Tier,
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
    let weight_of = |f: &Finding| card.check(&f.check).map_or(0.0, |c| c.weight).clamp(0.0, 1.0);
    let xs: Vec<(&str, f64)> =
        sorted.iter().map(|f| (f.check.as_str(), weight_of(f) * f.severity.clamp(0.0, 1.0))).collect();
    // Marginal points, strongest first (ties by check order).
    let mut order: Vec<usize> = (0..xs.len()).collect();
    order.sort_by(|&a, &b| xs[b].1.total_cmp(&xs[a].1).then(a.cmp(&b)));
    let mut points = vec![0.0; xs.len()];
    let mut added: Vec<(&str, f64)> = Vec::with_capacity(xs.len());
    let mut before = 0.0;
    for &i in &order {
        added.push(xs[i]);
        let now = score_of(card, &added);
        points[i] = (now - before).max(0.0);
        before = now;
    }
    let contributions: Vec<Contribution> = sorted
        .iter()
        .zip(&points)
        .map(|(f, &p)| Contribution { check: f.check.clone(), weight: weight_of(f), severity: f.severity, points: p })
        .collect();
    let score = round2(before);
    let tier = if audited.is_empty() { Tier::NotAudited } else { card.tier(score) };
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

/// The combined value (0–1) of findings given as (check, `w·s`), and
/// whether they may reach red (the red gate of the module docs).
pub fn combine(sc: &Scoring, xs: &[(&str, f64)]) -> (f64, bool) {
    let corroborated = xs.iter().any(|&(c, x)| !sc.is_screening(c) && x >= sc.corroborate_min);
    let mut fams: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut strongest = 0.0f64;
    for &(c, x) in xs {
        let x = x.clamp(0.0, 1.0);
        let x = if !corroborated && sc.is_screening(c) { x.min(sc.screening_cap) } else { x };
        strongest = strongest.max(x);
        fams.entry(sc.family_of(c)).or_default().push(x);
    }
    let d = sc.family_damping.clamp(0.0, 1.0);
    let mut keep = 1.0;
    let mut strong_families = 0;
    for v in fams.values_mut() {
        v.sort_by(|a, b| b.total_cmp(a));
        let f_keep: f64 = v.iter().enumerate().map(|(k, &x)| if k == 0 { 1.0 - x } else { 1.0 - d * x }).product();
        let fam = 1.0 - f_keep;
        strong_families += usize::from(fam >= sc.corroborate_min);
        keep *= f_keep;
    }
    (1.0 - keep, strong_families >= 2 || strongest >= sc.red_single_min)
}

/// The 0–100 score of findings given as (check, `w·s`): [`combine`], held
/// just below the red cut-off when the red gate is closed.
pub fn score_of(card: &Scorecard, xs: &[(&str, f64)]) -> f64 {
    let (v, red_ok) = combine(&card.scoring, xs);
    let s = 100.0 * v;
    if red_ok {
        s
    } else {
        s.min(below_red(card.tiers.red))
    }
}

/// The highest 2-decimal score below the red cut-off.
pub fn below_red(red: f64) -> f64 {
    ((red * 100.0).ceil() - 1.0) / 100.0
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

    fn score(c: &Scorecard, f: &[Finding]) -> InstScore {
        let refs: Vec<&Finding> = f.iter().collect();
        score_institution(c, "I1", "n", "410000", "both", vec![Source::Exam], &refs)
    }

    fn w(c: &Scorecard, id: &str) -> f64 {
        c.check(id).unwrap().weight
    }

    #[test]
    fn formula_and_contributions_add_up() {
        let c = card();
        let d = c.scoring.family_damping;
        // Two families: noisy-OR across them.
        let (a, b) = ("exam.seat_conflict", "cert.invalid_id");
        assert_ne!(c.scoring.family_of(a), c.scoring.family_of(b));
        let s = score(&c, &[finding(a, 0.5), finding(b, 0.4)]);
        let want = 100.0 * (1.0 - (1.0 - w(&c, a) * 0.5) * (1.0 - w(&c, b) * 0.4));
        assert!((s.score - want.min(below_red(c.tiers.red))).abs() < 0.006, "{} vs {want}", s.score);
        let sum: f64 = s.contributions.iter().map(|c| c.points).sum();
        assert!((sum - s.score).abs() < 0.006);
        // One family: the weaker finding is damped.
        let (a, b) = ("exam.answer_similarity", "exam.identical_responses");
        assert_eq!(c.scoring.family_of(a), c.scoring.family_of(b));
        let (xa, xb) = (w(&c, a) * 0.5, w(&c, b) * 0.4);
        let (hi, lo) = if xa >= xb { (xa, xb) } else { (xb, xa) };
        let s = score(&c, &[finding(a, 0.5), finding(b, 0.4)]);
        let want = 100.0 * (1.0 - (1.0 - hi) * (1.0 - d * lo));
        assert!((s.score - want.min(below_red(c.tiers.red))).abs() < 0.006, "{} vs {want}", s.score);
        assert_eq!(s.top_check, if xa >= xb { a } else { b });
    }

    #[test]
    fn one_weak_finding_never_makes_red() {
        let c = card();
        for id in c.checks.keys() {
            let x = w(&c, id);
            for sev in [0.3, 0.6, 1.0] {
                let s = score(&c, &[finding(id, sev)]);
                if x * sev < c.scoring.red_single_min {
                    assert_ne!(s.tier, Tier::Red, "{id} at {sev}: {}", s.score);
                }
            }
        }
        // Several correlated findings of one family stay below red too.
        let fam: Vec<Finding> = [
            "exam.answer_similarity",
            "exam.identical_responses",
            "exam.answer_change_burst",
            "exam.item_time_pattern",
        ]
        .iter()
        .map(|id| finding(id, 0.6))
        .collect();
        let s = score(&c, &fam);
        assert!(fam.iter().all(|f| w(&c, &f.check) * 0.6 < c.scoring.red_single_min));
        assert_ne!(s.tier, Tier::Red, "{}", s.score);
    }

    #[test]
    fn pass_rate_alone_is_screening_until_corroborated() {
        let c = card();
        let alone = score(&c, &[finding("exam.pass_rate", 1.0)]);
        assert!(alone.score <= 100.0 * c.scoring.screening_cap + 0.006, "{}", alone.score);
        let with = score(&c, &[finding("exam.pass_rate", 1.0), finding("exam.seat_conflict", 1.0)]);
        let seat = score(&c, &[finding("exam.seat_conflict", 1.0)]);
        // Corroborated, the pass rate counts in full (its own family).
        let want = 100.0 * (1.0 - (1.0 - w(&c, "exam.pass_rate")) * (1.0 - w(&c, "exam.seat_conflict")));
        assert!(with.score > seat.score && with.score > alone.score);
        assert!((with.score - want).abs() < 0.006 || with.score >= c.tiers.red, "{} vs {want}", with.score);
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
        assert_eq!((s.tier, s.score), (Tier::NotAudited, 0.0));
        let s = score_institution(&card(), "I1", "n", "r", "exam", vec![Source::Cert], &[]);
        assert_eq!(s.tier, Tier::Green);
    }
}
