//! Calibration of the scorecard on labelled (synthetic) datasets: fitting
//! check weights, choosing tier cut-offs, and the figures that say how well
//! a scorecard separates planted from honest institutions.
//!
//! The score ([`crate::score::combine`]: damped within a family, noisy-OR
//! across families) is read as the chance that the findings reveal
//! falsification. The weights are fitted by maximising the Bernoulli
//! log-likelihood of the labels under that formula with a small leak, by
//! projected gradient ascent (central finite differences: the formula is
//! piecewise smooth), with a ridge pull toward the prior weights (the
//! current scorecard) so that a check seen on few institutions keeps a
//! sensible weight. Pure functions; the `calibrate` command feeds them.

use std::collections::BTreeMap;

use crate::model::scorecard::Scoring;
use crate::model::Tier;

/// One labelled institution: its findings as (check id, severity), and
/// whether falsification was planted there.
#[derive(Debug, Clone)]
pub struct Example {
    pub findings: Vec<(String, f64)>,
    pub planted: bool,
}

/// The combined value (0–1, before the red gate) of findings under weights
/// `w` (checks missing from `w` weigh 0).
pub fn combined(sc: &Scoring, findings: &[(String, f64)], w: &BTreeMap<String, f64>) -> f64 {
    let xs: Vec<(&str, f64)> =
        findings.iter().map(|(c, s)| (c.as_str(), w.get(c).copied().unwrap_or(0.0) * s.clamp(0.0, 1.0))).collect();
    crate::score::combine(sc, &xs).0
}

/// The 0–100 score of findings under weights `w`, with the red gate held
/// below `red`.
pub fn gated_score(sc: &Scoring, findings: &[(String, f64)], w: &BTreeMap<String, f64>, red: f64) -> f64 {
    let xs: Vec<(&str, f64)> =
        findings.iter().map(|(c, s)| (c.as_str(), w.get(c).copied().unwrap_or(0.0) * s.clamp(0.0, 1.0))).collect();
    let (v, ok) = crate::score::combine(sc, &xs);
    if ok {
        100.0 * v
    } else {
        (100.0 * v).min(crate::score::below_red(red))
    }
}

/// Fits weights by projected gradient ascent on the likelihood of the
/// labels under [`combined`]. `prior` gives the starting weights and the
/// ridge target; `ridge` its strength (per example); weights stay in `[lo, hi]`.
pub fn fit_weights(
    sc: &Scoring,
    examples: &[Example],
    prior: &BTreeMap<String, f64>,
    ridge: f64,
    lo: f64,
    hi: f64,
) -> BTreeMap<String, f64> {
    const LEAK: f64 = 0.01;
    const H: f64 = 1e-4;
    let n = examples.len().max(1) as f64;
    // Examples each check appears in (only those change with its weight).
    let mut touches: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in examples.iter().enumerate() {
        for (c, _) in &e.findings {
            if prior.contains_key(c) {
                let v = touches.entry(c.as_str()).or_default();
                if v.last() != Some(&i) {
                    v.push(i);
                }
            }
        }
    }
    let ll_of = |e: &Example, w: &BTreeMap<String, f64>| {
        let p = (1.0 - (1.0 - LEAK) * (1.0 - combined(sc, &e.findings, w))).clamp(1e-9, 1.0 - 1e-9);
        if e.planted {
            p.ln()
        } else {
            (1.0 - p).ln()
        }
    };
    let objective = |w: &BTreeMap<String, f64>| {
        let ll: f64 = examples.iter().map(|e| ll_of(e, w)).sum::<f64>() / n;
        ll - w.iter().map(|(c, v)| ridge * (v - prior.get(c).copied().unwrap_or(*v)).powi(2)).sum::<f64>()
    };
    let mut w = prior.clone();
    let mut step = 0.5;
    let mut last = objective(&w);
    for _ in 0..400 {
        let mut grad: BTreeMap<String, f64> = BTreeMap::new();
        for (c, idx) in &touches {
            let v = w[*c];
            let mut wp = w.clone();
            wp.insert(c.to_string(), v + H);
            let mut wm = w.clone();
            wm.insert(c.to_string(), v - H);
            let d: f64 =
                idx.iter().map(|&i| ll_of(&examples[i], &wp) - ll_of(&examples[i], &wm)).sum::<f64>() / (2.0 * H * n);
            grad.insert(c.to_string(), d - 2.0 * ridge * (v - prior[*c]));
        }
        if grad.is_empty() {
            break;
        }
        // Backtracking: halve the step until the objective does not fall.
        let mut next;
        loop {
            next = w.clone();
            for (c, g) in &grad {
                let v = next.get_mut(c).expect("prior has every touched check");
                *v = (*v + step * g).clamp(lo, hi);
            }
            let o = objective(&next);
            if o >= last || step < 1e-6 {
                break;
            }
            step *= 0.5;
        }
        let o = objective(&next);
        let done = (o - last).abs() < 1e-10;
        if o >= last {
            w = next;
            last = o;
        }
        if done || step < 1e-6 {
            break;
        }
        step = (step * 1.5).min(2.0);
    }
    w
}

/// ROC AUC of `scores` for the positive labels (Mann–Whitney, ties count ½).
pub fn roc_auc(scored: &[(f64, bool)]) -> Option<f64> {
    let pos: Vec<f64> = scored.iter().filter(|x| x.1).map(|x| x.0).collect();
    let neg: Vec<f64> = scored.iter().filter(|x| !x.1).map(|x| x.0).collect();
    if pos.is_empty() || neg.is_empty() {
        return None;
    }
    let mut wins = 0.0;
    for p in &pos {
        for n in &neg {
            wins += if p > n {
                1.0
            } else if p == n {
                0.5
            } else {
                0.0
            };
        }
    }
    Some(wins / (pos.len() * neg.len()) as f64)
}

/// The lowest cut-off (on the grid of observed scores, rounded up to 1
/// point) that keeps the share of honest institutions at or above it at
/// most `max_fpr`, never below `floor`.
pub fn cutoff_for_fpr(scored: &[(f64, bool)], max_fpr: f64, floor: f64) -> f64 {
    let mut honest: Vec<f64> = scored.iter().filter(|x| !x.1).map(|x| x.0).collect();
    honest.sort_by(f64::total_cmp);
    if honest.is_empty() {
        return floor;
    }
    let allowed = (max_fpr * honest.len() as f64).floor() as usize;
    // The (allowed+1)-th highest honest score must fall below the cut-off.
    let idx = honest.len() - 1 - allowed.min(honest.len() - 1);
    let must_exceed = if allowed >= honest.len() { f64::NEG_INFINITY } else { honest[idx] };
    (must_exceed.floor() + 1.0).max(floor)
}

/// Figures of one scorecard on labelled institutions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub n_planted: usize,
    pub n_honest: usize,
    pub auc: Option<f64>,
    /// Of the institutions in red or orange, the share planted.
    pub precision_red_orange: f64,
    /// Of the planted institutions, the share in red or orange.
    pub recall_red_orange: f64,
    /// Of the honest institutions, the share in red.
    pub honest_red_rate: f64,
    /// Of the honest institutions, the share in red or orange.
    pub honest_red_orange_rate: f64,
}

/// Computes [`Figures`] from (score, tier, planted) triples.
pub fn figures(rows: &[(f64, Tier, bool)]) -> Figures {
    let planted = rows.iter().filter(|r| r.2).count();
    let honest = rows.len() - planted;
    let hot = |t: Tier| t.is_hot();
    let flagged = rows.iter().filter(|r| hot(r.1)).count();
    let tp = rows.iter().filter(|r| hot(r.1) && r.2).count();
    let share = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let scored: Vec<(f64, bool)> = rows.iter().map(|r| (r.0, r.2)).collect();
    Figures {
        n_planted: planted,
        n_honest: honest,
        auc: roc_auc(&scored),
        precision_red_orange: share(tp, flagged),
        recall_red_orange: share(tp, planted),
        honest_red_rate: share(rows.iter().filter(|r| r.1 == Tier::Red && !r.2).count(), honest),
        honest_red_orange_rate: share(rows.iter().filter(|r| hot(r.1) && !r.2).count(), honest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_matches_hand_count() {
        let s = [(0.9, true), (0.5, true), (0.2, true), (0.5, false), (0.3, false)];
        // Hand count: (0.9 beats both) 2, (0.5 ties 0.5, beats 0.3) 1.5, (0.2 beats none) 0 → 3.5/6.
        assert!((roc_auc(&s).unwrap() - 3.5 / 6.0).abs() < 1e-12);
        assert_eq!(roc_auc(&[(1.0, true)]), None);
    }

    #[test]
    fn fit_raises_weight_of_a_predictive_check_and_lowers_a_noisy_one() {
        let mut ex = Vec::new();
        for i in 0..40 {
            // `good` fires only on planted ones; `noise` fires on half of all.
            let planted = i % 2 == 0;
            let mut f = Vec::new();
            if planted {
                f.push(("good".to_string(), 1.0));
            }
            if i % 4 < 2 {
                f.push(("noise".to_string(), 1.0));
            }
            ex.push(Example { findings: f, planted });
        }
        let prior: BTreeMap<String, f64> = [("good".to_string(), 0.5), ("noise".to_string(), 0.5)].into();
        let card = crate::model::Models::load(None).unwrap().scorecard;
        let w = fit_weights(&card.scoring, &ex, &prior, 0.01, 0.01, 0.95);
        assert!(w["good"] > 0.8, "{w:?}");
        assert!(w["noise"] < 0.5, "{w:?}");
    }

    #[test]
    fn cutoff_keeps_honest_below() {
        let s: Vec<(f64, bool)> = (0..100).map(|i| (i as f64 / 2.0, false)).chain([(90.0, true)]).collect();
        // 1% of 100 honest = 1 may exceed: the second-highest honest score is 49.0.
        assert_eq!(cutoff_for_fpr(&s, 0.01, 10.0), 50.0);
        assert_eq!(cutoff_for_fpr(&s, 0.0, 10.0), 50.0);
        assert_eq!(cutoff_for_fpr(&s, 0.0, 60.0), 60.0);
    }

    #[test]
    fn figures_count() {
        let f = figures(&[
            (80.0, Tier::Red, true),
            (50.0, Tier::Orange, false),
            (10.0, Tier::Green, true),
            (0.0, Tier::Green, false),
        ]);
        assert_eq!((f.precision_red_orange, f.recall_red_orange, f.honest_red_rate), (0.5, 0.5, 0.0));
        assert_eq!(f.honest_red_orange_rate, 0.5);
    }
}
