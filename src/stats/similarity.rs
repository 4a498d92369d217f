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
    /// Σ over wrong codes (c ≥ 2) of counts[c]².
    pub sum_sq_wrong: f64,
}

impl ItemDist {
    pub fn from_counts(counts: Vec<u32>) -> ItemDist {
        let n = counts.iter().skip(1).sum();
        let sum_sq_wrong = counts.iter().skip(2).map(|&c| (c as f64) * (c as f64)).sum();
        ItemDist { counts, n, sum_sq_wrong }
    }

    fn count(&self, code: u8) -> f64 {
        self.counts.get(code as usize).copied().unwrap_or(0) as f64
    }

    /// Probability that two independent candidates both give the same wrong
    /// answer, estimated with the answers `a` and `b` (both non-empty) left
    /// out of the counts: Σ_wrong o p_o².
    pub fn p_same_wrong_without(&self, a: u8, b: u8) -> f64 {
        let n = self.n as f64 - 2.0;
        if n <= 0.0 {
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
        (s.max(0.0) / (n * n)).min(1.0)
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
/// probabilities for the exact tail.
pub fn pair_stat(a: &[u8], b: &[u8], items: &[&ItemDist], ps: &mut Vec<f64>) -> PairStat {
    ps.clear();
    let mut st = PairStat::default();
    for ((&x, &y), d) in a.iter().zip(b).zip(items) {
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
        let p = d.p_same_wrong_without(x, y);
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
        assert_eq!(d.n, 10);
        assert_eq!(d.sum_sq_wrong, 10.0);
        // Both chose distractor 2: counts become 6,1,1 over 8 → (1+1)/64.
        assert!((d.p_same_wrong_without(2, 2) - 2.0 / 64.0).abs() < 1e-15);
        // Both right: 4,3,1 over 8 → (9+1)/64.
        assert!((d.p_same_wrong_without(1, 1) - 10.0 / 64.0).abs() < 1e-15);
        // One right, one on 3: 5,3,0 over 8 → 9/64.
        assert!((d.p_same_wrong_without(1, 3) - 9.0 / 64.0).abs() < 1e-15);
    }

    #[test]
    fn hand_made_pair() {
        // Three items; the population is 6 answers each.
        let d1 = ItemDist::from_counts(vec![0, 4, 2]); // leaving out 2,2: 4,0 → 0
        let d2 = ItemDist::from_counts(vec![0, 2, 2, 2]); // leaving out 2,3: 2,1,1 over 4 → 2/16
        let d3 = ItemDist::from_counts(vec![0, 5, 1]); // leaving out 1,1: 3,1 over 4 → 1/16
        let items = [&d1, &d2, &d3];
        let mut ps = Vec::new();
        let st = pair_stat(&[2, 2, 1], &[2, 3, 1], &items, &mut ps);
        assert_eq!((st.common, st.identical, st.identical_wrong, st.differing), (3, 2, 1, 1));
        assert!((st.expected - 3.0 / 16.0).abs() < 1e-15);
        assert_eq!(ps, vec![0.0, 2.0 / 16.0, 1.0 / 16.0]);
        // An unanswered item counts as differing, not common.
        let st = pair_stat(&[0, 2, 1], &[2, 2, 1], &items, &mut ps);
        assert_eq!((st.common, st.differing, st.identical_wrong), (2, 1, 1));
        // Item 2 now leaves out 2,2: counts 2,0,2 over 4 → 4/16; item 3 → 1/16.
        // P(X >= 1) = 1 - (12/16)(15/16) = 0.296875; with a loose screen it is computed.
        assert_eq!(ps, vec![4.0 / 16.0, 1.0 / 16.0]);
        assert!((gbt_p(&st, &ps, 0.0).unwrap_or(1.0) - 0.296_875).abs() < 1e-15);
        // With a strict screen (x within 3 sd of the mean) it is skipped.
        assert_eq!(gbt_p(&st, &ps, 3.0), None);
    }
}
