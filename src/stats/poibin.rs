//! Poisson-binomial tails: the distribution of a sum of independent
//! Bernoulli variables with different success probabilities. This is the
//! null distribution of the generalised binomial test (GBT, van der Ark et
//! al.) used for answer copying: the number of items on which two
//! independent candidates give the same wrong answer.

use statrs::function::erf::erfc;

/// P(X >= k) for X = Σ Bernoulli(p_i), computed exactly by the recursive
/// convolution of the Bernoulli pmfs, truncated at `k` (states ≥ k are
/// absorbed), so the cost is O(n·k) and deep tails keep full relative
/// accuracy (no subtraction from 1).
pub fn upper_tail(k: usize, ps: &[f64]) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > ps.len() {
        return 0.0;
    }
    // f[j] = P(partial sum = j) for j < k; `tail` = P(partial sum >= k).
    let mut f = vec![0.0f64; k];
    f[0] = 1.0;
    let mut tail = 0.0f64;
    let mut top = 0usize; // highest j with possibly non-zero mass
    for &p in ps {
        let p = p.clamp(0.0, 1.0);
        let q = 1.0 - p;
        tail += f[k - 1] * p;
        let hi = (top + 1).min(k - 1);
        for j in (1..=hi).rev() {
            f[j] = f[j] * q + f[j - 1] * p;
        }
        f[0] *= q;
        top = hi;
    }
    tail.clamp(0.0, 1.0)
}

/// Mean and variance of the Poisson-binomial distribution.
pub fn moments(ps: &[f64]) -> (f64, f64) {
    ps.iter().fold((0.0, 0.0), |(m, v), &p| (m + p, v + p * (1.0 - p)))
}

/// Refined normal approximation (Volkova 1996; Hong 2013 eq. 4) of
/// P(X >= k), with continuity and skewness corrections, for long tests
/// where the exact recursion is not needed.
pub fn upper_tail_rna(k: usize, ps: &[f64]) -> f64 {
    let (mu, var) = moments(ps);
    if var <= 0.0 {
        return if (k as f64) <= mu + 1e-9 { 1.0 } else { 0.0 };
    }
    let sd = var.sqrt();
    let gamma = ps.iter().map(|&p| p * (1.0 - p) * (1.0 - 2.0 * p)).sum::<f64>() / (sd * sd * sd);
    let x = (k as f64 - 0.5 - mu) / sd;
    let phi = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let upper_normal = 0.5 * erfc(x / std::f64::consts::SQRT_2);
    (upper_normal - gamma * (1.0 - x * x) * phi / 6.0).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn close(a: f64, b: f64, rel: f64) {
        assert!((a - b).abs() <= rel * b.abs().max(1e-300), "{a} vs {b}");
    }

    const PS10: [f64; 10] = [0.05, 0.1, 0.2, 0.02, 0.3, 0.15, 0.08, 0.01, 0.25, 0.12];

    #[test]
    fn exact_matches_numpy_convolution() {
        // numpy: f = [1.]; for p in PS10: f = np.convolve(f, [1-p, p]); f[k:].sum()
        close(upper_tail(1, &PS10), 0.760_245_868_028_800_1, 1e-12);
        close(upper_tail(3, &PS10), 0.117_615_546_919_600_02, 1e-12);
        close(upper_tail(5, &PS10), 0.003_045_119_236_400_000_5, 1e-10);
        close(upper_tail(7, &PS10), 1.228_765_480_000_000_1e-05, 1e-9);
        // Same with ps = [0.01 * (1 + i % 7) for i in range(100)].
        let ps: Vec<f64> = (0..100).map(|i| 0.01 * (1 + i % 7) as f64).collect();
        close(upper_tail(5, &ps), 0.361_078_350_779_345_75, 1e-10);
        close(upper_tail(10, &ps), 0.005_992_753_054_646_088, 1e-9);
        close(upper_tail(20, &ps), 1.498_035_059_115_462_5e-09, 1e-8);
        close(upper_tail(30, &ps), 5.575_502_964_325_354e-19, 1e-7);
    }

    #[test]
    fn equal_ps_is_binomial() {
        // scipy.stats.binom.sf(14, 60, 0.07) = 1.2163513343494297e-05
        close(upper_tail(15, &[0.07; 60]), 1.216_351_334_349_429_7e-05, 1e-9);
        // scipy.stats.binom.sf(39, 100, 0.2) = 3.6084201146408714e-06
        close(upper_tail(40, &[0.2; 100]), 3.608_420_114_640_871_4e-06, 1e-9);
        close(upper_tail(40, &[0.2; 100]), crate::stats::binom::upper_tail(40, 100, 0.2), 1e-9);
    }

    #[test]
    fn edges_and_approximation() {
        assert_eq!(upper_tail(0, &PS10), 1.0);
        assert_eq!(upper_tail(11, &PS10), 0.0);
        assert_eq!(upper_tail(1, &[]), 0.0);
        assert_eq!(upper_tail(2, &[1.0, 1.0, 0.0]), 1.0);
        // The refined normal approximation is close in the body for n = 100.
        let ps: Vec<f64> = (0..100).map(|i| 0.01 * (1 + i % 7) as f64).collect();
        close(upper_tail_rna(5, &ps), upper_tail(5, &ps), 0.05);
        let (m, v) = moments(&[0.5, 0.5]);
        close(m, 1.0, 1e-12);
        close(v, 0.5, 1e-12);
    }
}
