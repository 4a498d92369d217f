//! Digit-heaping tests: are the values of a digit (the seconds of a
//! timestamp, the last digit of its minutes) spread uniformly over their
//! cells, as machine-recorded times are, or heaped on round values, as
//! hand-entered times are? Pearson's chi-square goodness-of-fit test against
//! the uniform distribution (`scipy.stats.chisquare` with default
//! `f_exp`), plus the excess share of the heaped cells as an effect size.

use statrs::distribution::{ChiSquared, ContinuousCDF};

/// Result of a chi-square goodness-of-fit test against uniform.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChiSquare {
    /// Pearson's X² = Σ (observed − expected)² / expected.
    pub statistic: f64,
    /// Degrees of freedom: cells − 1.
    pub df: f64,
    /// P(χ²_df ≥ X²) under the null "every cell equally likely".
    pub p_value: f64,
    /// Number of observations.
    pub n: u64,
}

/// Pearson's chi-square test of `counts` against equal expected counts.
/// Returns `None` with fewer than two cells or no observations.
pub fn chisq_uniform(counts: &[u64]) -> Option<ChiSquare> {
    let k = counts.len();
    let n: u64 = counts.iter().sum();
    if k < 2 || n == 0 {
        return None;
    }
    let e = n as f64 / k as f64;
    let statistic: f64 = counts.iter().map(|&o| (o as f64 - e).powi(2) / e).sum();
    let df = (k - 1) as f64;
    let p_value = ChiSquared::new(df).map(|d| d.sf(statistic)).ok()?.clamp(0.0, 1.0);
    Some(ChiSquare { statistic, df, p_value, n })
}

/// Excess share of observations in the `heaped` cells over what uniform
/// predicts, scaled to 0–1: `(observed share − expected share) / (1 −
/// expected share)`, floored at 0. 0 = no more than chance, 1 = every
/// observation is on a heaped cell.
pub fn heaped_excess(counts: &[u64], heaped: &[usize]) -> f64 {
    let n: u64 = counts.iter().sum();
    if n == 0 || counts.is_empty() || heaped.is_empty() {
        return 0.0;
    }
    let on: u64 = heaped.iter().filter_map(|&i| counts.get(i)).sum();
    let expected = heaped.len() as f64 / counts.len() as f64;
    if expected >= 1.0 {
        return 0.0;
    }
    ((on as f64 / n as f64 - expected) / (1.0 - expected)).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(counts: &[u64], stat: f64, p: f64) {
        let r = chisq_uniform(counts).unwrap();
        assert!((r.statistic - stat).abs() < 1e-9 * stat.max(1.0), "{r:?}");
        assert!((r.p_value - p).abs() <= 1e-9 + 1e-7 * p, "{r:?} vs p {p}");
        assert_eq!(r.df, (counts.len() - 1) as f64);
    }

    #[test]
    fn matches_scipy_chisquare() {
        // scipy.stats.chisquare([5,8,9,8,10,20]) -> statistic=13.4, pvalue=0.01990522033477438
        check(&[5, 8, 9, 8, 10, 20], 13.4, 0.019_905_220_334_774_38);
        // scipy.stats.chisquare([12,9,11,8,10,10,9,11,10,10]) -> 1.2, 0.9988211034284458
        check(&[12, 9, 11, 8, 10, 10, 9, 11, 10, 10], 1.2, 0.998_821_103_428_445_8);
        // scipy.stats.chisquare([30]+[10]*59) -> 38.06451612903222, 0.984418768104826
        let mut sec = vec![10u64; 60];
        sec[0] = 30;
        check(&sec, 38.064_516_129_032_22, 0.984_418_768_104_826);
        // scipy.stats.chisquare([60,5,5,5,5,40,5,5,5,5]) -> 245.7142857142857, 8.008018846955875e-48
        check(&[60, 5, 5, 5, 5, 40, 5, 5, 5, 5], 245.714_285_714_285_7, 8.008_018_846_955_875e-48);
    }

    #[test]
    fn degenerate_inputs() {
        assert!(chisq_uniform(&[]).is_none());
        assert!(chisq_uniform(&[7]).is_none());
        assert!(chisq_uniform(&[0, 0, 0]).is_none());
    }

    #[test]
    fn excess_share() {
        // uniform: no excess
        assert_eq!(heaped_excess(&[10; 10], &[0, 5]), 0.0);
        // all on the heaped cells: full excess
        assert!((heaped_excess(&[50, 0, 0, 0, 0, 50, 0, 0, 0, 0], &[0, 5]) - 1.0).abs() < 1e-12);
        // 60 % on 2 of 10 cells: (0.6 − 0.2) / 0.8 = 0.5
        assert!((heaped_excess(&[30, 5, 5, 5, 5, 30, 5, 5, 5, 5], &[0, 5]) - 0.5).abs() < 1e-12);
    }
}
