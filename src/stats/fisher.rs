//! Fisher's exact test, one-sided: does the first group have a higher
//! share of "defects" than the second? Used to decide which unit a
//! certificate's defects belong to (`checks::cert` attribution).
//!
//! Table `[[k1, n1 − k1], [k2, n2 − k2]]`; the null is the hypergeometric
//! distribution of the first row's defects given both margins, and the
//! p-value is `P(X ≥ k1)` (SciPy `fisher_exact(..., alternative="greater")`).

/// ln(n!) by summing logs up to 1 000 and Stirling's series beyond.
fn ln_fact(n: u64) -> f64 {
    if n < 1000 {
        (2..=n).map(|i| (i as f64).ln()).sum()
    } else {
        let x = n as f64;
        x * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI * x).ln() + 1.0 / (12.0 * x) - 1.0 / (360.0 * x.powi(3))
    }
}

fn ln_choose(n: u64, k: u64) -> f64 {
    ln_fact(n) - ln_fact(k) - ln_fact(n - k)
}

/// One-sided p-value that group 1 (`k1` defects of `n1`) has a higher
/// defect share than group 2 (`k2` of `n2`). 1 when either group is empty.
pub fn greater(k1: u64, n1: u64, k2: u64, n2: u64) -> f64 {
    if n1 == 0 || n2 == 0 || k1 > n1 || k2 > n2 {
        return 1.0;
    }
    let (n, k) = (n1 + n2, k1 + k2);
    let hi = k.min(n1);
    if k1 > hi {
        return 0.0;
    }
    let denom = ln_choose(n, k);
    let lo_x = k.saturating_sub(n2);
    let mut p = 0.0;
    for x in k1.max(lo_x)..=hi {
        p += (ln_choose(n1, x) + ln_choose(n2, k - x) - denom).exp();
    }
    p.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::greater;

    #[test]
    fn matches_scipy() {
        // scipy.stats.fisher_exact(t, alternative="greater")[1] (SciPy 1.17.1):
        for (t, want) in [
            ([8, 10, 1, 51], 1.329_161_246_683_717_5e-07),
            ([3, 30, 0, 300], 0.000_684_059_064_962_023),
            ([0, 10, 5, 105], 1.0),
            ([40, 100, 10, 910], 9.056_304_267_330_075e-35),
            ([1, 1, 0, 1], 0.5),
        ] {
            let got = greater(t[0], t[1], t[2], t[3]);
            assert!((got - want).abs() <= 1e-8 * want + 1e-12, "{t:?}: {got} vs {want}");
        }
        assert_eq!(greater(1, 0, 0, 5), 1.0);
    }
}
