//! Answer-similarity statistic for one pair of candidates (the generalised
//! binomial test, GBT, of van der Ark et al.): the number of items on which
//! both gave the same *wrong* answer, against the count expected if they
//! answered independently with the item's answer frequencies.
//!
//! Answers are small integer codes per item: 0 = unanswered, 1 = the key,
//! 2.. = the distractors (and any other wrong text). Frequencies are passed
//! as counts so the pair's own two answers can be left out (leave-pair-out),
//! which stops a large cheating group from making its own shared wrong
//! answers look "popular".

use super::poibin;

/// Answer counts of one item over the reference population.
#[derive(Debug, Clone, Default)]
pub struct ItemDist {
    /// counts[c] = how many answered with code c (counts[0] unused).
    pub counts: Vec<u32>,
    /// Number of non-empty answers.
    pub n: u32,
    /// Number of wrong answers (codes ≥ 2).
    pub wrong: u32,
    /// Σ over wrong codes (c ≥ 2) of counts[c]².
    pub sum_sq_wrong: f64,
}

impl ItemDist {
    pub fn from_counts(counts: Vec<u32>) -> ItemDist {
        let n = counts.iter().skip(1).sum();
        let wrong = counts.iter().skip(2).sum();
        let sum_sq_wrong = counts.iter().skip(2).map(|&c| (c as f64) * (c as f64)).sum();
        ItemDist { counts, n, wrong, sum_sq_wrong }
    }

    fn count(&self, code: u8) -> f64 {
        self.counts.get(code as usize).copied().unwrap_or(0) as f64
    }

    /// Probability that two independent *wrong* answers to this item are the
    /// same wrong answer, Σ_o π_o² over the distractors' shares π_o among
    /// wrong answers, estimated with the answers `a` and `b` (both
    /// non-empty) left out of the counts.
    pub fn same_wrong_share_without(&self, a: u8, b: u8) -> f64 {
        let w = self.wrong as f64 - f64::from(u8::from(a >= 2)) - f64::from(u8::from(b >= 2));
        if w <= 0.0 {
            return 0.0;
        }
        let mut s = self.sum_sq_wrong;
        if a >= 2 && a == b {
            let c = self.count(a);
            s -= c * c - (c - 2.0).max(0.0).powi(2);
        } else {
            for x in [a, b] {
                if x >= 2 {
                    let c = self.count(x);
                    s -= c * c - (c - 1.0).max(0.0).powi(2);
                }
            }
        }
        (s.max(0.0) / (w * w)).min(1.0)
    }
}

/// What one pair shares.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PairStat {
    /// Items both answered.
    pub common: u32,
    /// Items with the same answer (right or wrong).
    pub identical: u32,
    /// Items with the same wrong answer — the GBT statistic.
    pub identical_wrong: u32,
    /// Items answered differently (including answered by one only).
    pub differing: u32,
    /// Expected identical wrong answers under independence.
    pub expected: f64,
    pub variance: f64,
}

/// Counts what `a` and `b` (codes per item position, aligned with `items`)
/// share and the null mean and variance; `ps` receives the per-item
/// probabilities for the exact tail. `wa`, `wb` are each candidate's
/// probability of answering the item wrongly (conditioning on ability, as
/// GBT/ω do through an IRT model: two weak candidates share more wrong
/// answers than two average ones). The null per item is
/// P(same wrong) = w_a · w_b · Σ_o π_o².
pub fn pair_stat(a: &[u8], b: &[u8], wa: &[f32], wb: &[f32], items: &[&ItemDist], ps: &mut Vec<f64>) -> PairStat {
    ps.clear();
    let mut st = PairStat::default();
    for i in 0..a.len().min(b.len()).min(items.len()).min(wa.len()).min(wb.len()) {
        let (x, y) = (a[i], b[i]);
        if x == 0 || y == 0 {
            if x != y {
                st.differing += 1;
            }
            continue;
        }
        st.common += 1;
        if x == y {
            st.identical += 1;
            if x >= 2 {
                st.identical_wrong += 1;
            }
        } else {
            st.differing += 1;
        }
        let p = (wa[i] as f64 * wb[i] as f64 * items[i].same_wrong_share_without(x, y)).min(1.0);
        st.expected += p;
        st.variance += p * (1.0 - p);
        ps.push(p);
    }
    st
}

/// Upper-tail p-value of the GBT: P(X >= identical_wrong) with X the
/// Poisson-binomial sum of `ps`. Pairs whose count is within `screen_z`
/// standard deviations of the mean are not computed exactly (their p-value
/// cannot reach any multiplicity-corrected threshold); `None` is returned.
pub fn gbt_p(st: &PairStat, ps: &[f64], screen_z: f64) -> Option<f64> {
    let x = st.identical_wrong as f64;
    if st.identical_wrong == 0 || x <= st.expected + screen_z * st.variance.sqrt() {
        return None;
    }
    Some(poibin::upper_tail(st.identical_wrong as usize, ps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leave_pair_out_probability() {
        // Item: 10 answers; key (code 1) ×6, distractor 2 ×3, distractor 3 ×1.
        let d = ItemDist::from_counts(vec![0, 6, 3, 1]);
        assert_eq!((d.n, d.wrong), (10, 4));
        assert_eq!(d.sum_sq_wrong, 10.0);
        // Both chose distractor 2: wrong counts become 1,1 over 2 → 2/4.
        assert!((d.same_wrong_share_without(2, 2) - 0.5).abs() < 1e-15);
        // Both right: wrong counts 3,1 over 4 → 10/16.
        assert!((d.same_wrong_share_without(1, 1) - 10.0 / 16.0).abs() < 1e-15);
        // One right, one on 3: 3,0 over 3 → 1.
        assert!((d.same_wrong_share_without(1, 3) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn hand_made_pair() {
        // Three items.
        let d1 = ItemDist::from_counts(vec![0, 4, 4]); // leaving out 2,2: wrong 2 of 2 → 1
        let d2 = ItemDist::from_counts(vec![0, 2, 2, 2]); // leaving out 2,3: 1,1 over 2 → 1/2
        let d3 = ItemDist::from_counts(vec![0, 5, 1, 1]); // leaving out 1,1: 1,1 over 2 → 1/2
        let items = [&d1, &d2, &d3];
        let w = [0.5f32, 0.5, 0.25];
        let mut ps = Vec::new();
        let st = pair_stat(&[2, 2, 1], &[2, 3, 1], &w, &w, &items, &mut ps);
        assert_eq!((st.common, st.identical, st.identical_wrong, st.differing), (3, 2, 1, 1));
        // p = w² · share: 0.25·1, 0.25·0.5, 0.0625·0.5
        assert_eq!(ps, vec![0.25, 0.125, 0.031_25]);
        assert!((st.expected - 0.406_25).abs() < 1e-15);
        // An unanswered item counts as differing, not common.
        let st = pair_stat(&[0, 2, 1], &[2, 2, 1], &w, &w, &items, &mut ps);
        assert_eq!((st.common, st.differing, st.identical_wrong), (2, 1, 1));
        // Item 2 now leaves out 2,2: wrong 0,2 over 2 → 1 → p = 0.25; item 3 → 0.03125.
        assert_eq!(ps, vec![0.25, 0.031_25]);
        // P(X >= 1) = 1 - 0.75 · 0.96875 = 0.2734375; with a loose screen it is computed.
        assert!((gbt_p(&st, &ps, 0.0).unwrap_or(1.0) - 0.273_437_5).abs() < 1e-15);
        // With a strict screen (x within 3 sd of the mean) it is skipped.
        assert_eq!(gbt_p(&st, &ps, 3.0), None);
    }
}
