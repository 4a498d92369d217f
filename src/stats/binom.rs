//! Exact binomial tails (via the regularised incomplete beta function, so
//! they stay accurate far into the tail).

use statrs::function::beta::beta_reg;

/// P(X >= k) for X ~ Binomial(n, p).
pub fn upper_tail(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    // P(X >= k) = I_p(k, n - k + 1)
    beta_reg(k as f64, (n - k + 1) as f64, p).clamp(0.0, 1.0)
}

/// P(X <= k) for X ~ Binomial(n, p).
pub fn lower_tail(k: u64, n: u64, p: f64) -> f64 {
    if k >= n {
        return 1.0;
    }
    1.0 - upper_tail(k + 1, n, p)
}

/// One-sided Clopper–Pearson lower confidence bound of a proportion: the
/// smallest true share that `k` of `n` is still consistent with at level
/// `confidence` (the `confidence` quantile of nothing smaller; 0 when k = 0).
/// Two of four is a share of 0.5 but proves only ≈ 0.10 at 95 %.
pub fn share_lower_bound(k: u64, n: u64, confidence: f64) -> f64 {
    use statrs::distribution::{Beta, ContinuousCDF};
    if k == 0 || n == 0 {
        return 0.0;
    }
    let k = k.min(n);
    let alpha = (1.0 - confidence).clamp(1e-12, 1.0);
    match Beta::new(k as f64, (n - k + 1) as f64) {
        Ok(b) => b.inverse_cdf(alpha).clamp(0.0, 1.0),
        Err(_) => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_lower_bound_matches_scipy() {
        // SciPy 1.17.1: scipy.stats.beta.ppf(0.05, k, n - k + 1), equal to
        // binomtest(k, n).proportion_ci(0.90, 'exact').low.
        close(share_lower_bound(2, 4, 0.95), 0.09761146288641434, 1e-8);
        close(share_lower_bound(108, 164, 0.95), 0.5927626950897209, 1e-8);
        close(share_lower_bound(187, 417, 0.95), 0.4075503922534175, 1e-8);
        assert_eq!(share_lower_bound(0, 10, 0.95), 0.0);
        // n of n: the bound is alpha^(1/n) (0.05^(1/3) = 0.368...).
        close(share_lower_bound(3, 3, 0.95), 0.05f64.powf(1.0 / 3.0), 1e-8);
    }

    #[track_caller]
    fn close(a: f64, b: f64, rel: f64) {
        assert!((a - b).abs() <= rel * b.abs().max(1e-300), "{a} vs {b}");
    }

    #[test]
    fn matches_scipy() {
        // scipy.stats.binom.sf(9, 20, 0.3) = 0.047961897331343435  (P(X >= 10))
        close(upper_tail(10, 20, 0.3), 0.047_961_897_331_343_435, 1e-9);
        // scipy.stats.binom.cdf(3, 50, 0.2) = 0.0056563610121525  (P(X <= 3))
        close(lower_tail(3, 50, 0.2), 0.005_656_361_012_152_5, 1e-7);
        // R: pbinom(29, 30, 0.5, lower.tail = FALSE) = 2^-30; pbinom(28, 30, 0.5, lower.tail = FALSE) = 31 / 2^30
        close(upper_tail(30, 30, 0.5), 9.313_225_746_154_785e-10, 1e-9);
        close(upper_tail(29, 30, 0.5), 2.887_099_981_307_983_4e-08, 1e-9);
    }

    #[test]
    fn edges() {
        assert_eq!(upper_tail(0, 10, 0.5), 1.0);
        assert_eq!(upper_tail(11, 10, 0.5), 0.0);
        assert_eq!(lower_tail(10, 10, 0.5), 1.0);
    }
}
