//! Scan statistic for events clustered in time (e.g. exam submissions
//! within one session), with a Monte-Carlo null built from the session's
//! own spread.
//!
//! Statistic: the largest number of events inside any window of `w`
//! seconds. Null ("histogram-smoothed bootstrap"): the span is cut into bins
//! of `bin` seconds; each bin keeps its observed count and its events are
//! redrawn uniformly inside the bin. The session's coarse shape — honest
//! candidates bunch toward the end of the paper — is therefore kept exactly,
//! and only bunching finer than a bin (candidates submitting together,
//! as when answers are relayed) is evidence. The p-value is sequential
//! Monte Carlo (Besag & Clifford 1991: stop after `h` simulated maxima reach
//! the observed one) with a fixed seed; when none does in `reps` draws the
//! tail is approximated by Wallenstein & Neff (1987) summed over the bins of
//! the grid and of the grid shifted by half a bin (every window of width ≤
//! bin/2 lies inside one of them), capped at `1/(reps + 1)`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::function::gamma::ln_gamma;

use super::binom;

/// Largest number of sorted `times` inside a half-open window of `w`
/// (`t_j − t_i < w`), and the index of the first event of that window.
pub fn max_window(sorted: &[i64], w: i64) -> (usize, usize) {
    let (mut best, mut at, mut i) = (0usize, 0usize, 0usize);
    for j in 0..sorted.len() {
        while sorted[j] - sorted[i] >= w {
            i += 1;
        }
        if j + 1 - i > best {
            best = j + 1 - i;
            at = i;
        }
    }
    (best, at)
}

/// Settings of the scan test.
#[derive(Debug, Clone, Copy)]
pub struct ScanParams {
    /// Window width, seconds.
    pub window: i64,
    /// Null bin width, seconds (≥ 2 × window for the tail approximation).
    pub bin: i64,
    /// Maximum Monte-Carlo draws.
    pub reps: u32,
    /// Stop after this many simulated maxima ≥ the observed (Besag–Clifford).
    pub stop_after: u32,
}

/// Result of one scan test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScanResult {
    /// Events in the fullest window.
    pub count: usize,
    /// Times of the first and last event of that window.
    pub first: i64,
    pub last: i64,
    pub p_value: f64,
    /// Monte-Carlo draws made.
    pub draws: u32,
}

/// Tests `sorted` event times (all within `[lo, hi]`) for clustering.
pub fn scan_test(sorted: &[i64], lo: i64, hi: i64, p: &ScanParams, seed: u64) -> ScanResult {
    let (count, at) = max_window(sorted, p.window);
    let mut res = ScanResult {
        count,
        first: sorted.get(at).copied().unwrap_or(lo),
        last: sorted.get(at + count.saturating_sub(1)).copied().unwrap_or(lo),
        p_value: 1.0,
        draws: 0,
    };
    if count < 2 || hi <= lo || p.bin <= 0 {
        return res;
    }
    let bins = bin_counts(sorted, lo, hi, p.bin, 0);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sim = Vec::with_capacity(sorted.len());
    let mut exceed = 0u32;
    for r in 1..=p.reps {
        sim.clear();
        for &(a, b, n) in &bins {
            for _ in 0..n {
                sim.push(rng.gen_range(a..=b));
            }
        }
        sim.sort_unstable();
        if max_window(&sim, p.window).0 >= count {
            exceed += 1;
            if exceed >= p.stop_after {
                res.draws = r;
                res.p_value = f64::from(exceed) / f64::from(r);
                return res;
            }
        }
    }
    res.draws = p.reps;
    let floor = 1.0 / (f64::from(p.reps) + 1.0);
    res.p_value = if exceed == 0 {
        let mut tail = 0.0;
        for offset in [0, p.bin / 2] {
            for (a, b, n) in bin_counts(sorted, lo, hi, p.bin, offset) {
                let width = (b - a + 1) as f64;
                tail += wallenstein_neff(count as u64, n as u64, (p.window as f64 / width).min(1.0));
            }
        }
        tail.min(floor)
    } else {
        (f64::from(exceed) + 1.0) / (f64::from(p.reps) + 1.0)
    };
    res
}

/// `(first second, last second, count)` of each bin of width `bin` over
/// `[lo, hi]`, the grid shifted by `offset` (0 ≤ offset < bin).
fn bin_counts(sorted: &[i64], lo: i64, hi: i64, bin: i64, offset: i64) -> Vec<(i64, i64, usize)> {
    let mut edges = vec![lo];
    let mut e = lo + if offset > 0 { offset } else { bin };
    while e <= hi {
        edges.push(e);
        e += bin;
    }
    edges.push(hi + 1);
    let mut out = Vec::with_capacity(edges.len());
    let mut i = 0;
    for w in edges.windows(2) {
        let (a, b) = (w[0], w[1]);
        if b <= a {
            continue;
        }
        let start = i;
        while i < sorted.len() && sorted[i] < b {
            i += 1;
        }
        out.push((a, b - 1, i - start));
    }
    out
}

/// Wallenstein & Neff (1987) approximation of `P(S_w ≥ k)` for `n` points
/// uniform on [0, 1] and a window of length `p`:
/// `(k/p − n − 1)·b(k; n, p) + 2·P(X ≥ k + 1)`, valid in the upper tail.
pub fn wallenstein_neff(k: u64, n: u64, p: f64) -> f64 {
    if k > n {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let ln_pmf = ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
        + k as f64 * p.ln()
        + (n - k) as f64 * (1.0 - p).ln();
    let v = (k as f64 / p - n as f64 - 1.0) * ln_pmf.exp() + 2.0 * binom::upper_tail(k + 1, n, p);
    v.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Beta, Distribution};

    const P: ScanParams = ScanParams { window: 120, bin: 600, reps: 999, stop_after: 10 };

    #[test]
    fn max_window_counts_half_open() {
        assert_eq!(max_window(&[0, 10, 119, 120, 200, 230, 239], 120), (4, 2));
        assert_eq!(max_window(&[], 120), (0, 0));
    }

    #[test]
    fn wallenstein_neff_matches_simulation() {
        // numpy simulation, 200,000 draws of 20 uniform points (seed 7), window 0.1:
        //   P(S >= 7) = 0.10091, P(S >= 9) = 0.003325; the formula gives
        //   0.09738353515360242 and 0.003651128120672239 (scipy.stats.binom pmf/sf).
        assert!((wallenstein_neff(7, 20, 0.1) - 0.097_383_535_153_602_42).abs() < 1e-9);
        assert!((wallenstein_neff(9, 20, 0.1) - 0.003_651_128_120_672_239).abs() < 1e-9);
    }

    /// Honest session: 40 candidates submitting between 30 and 120 minutes,
    /// bunched toward the end (Beta(4, 1.5) of the span).
    fn honest(rng: &mut ChaCha8Rng, n: usize) -> Vec<i64> {
        let beta = Beta::new(4.0, 1.5).unwrap();
        let mut t: Vec<i64> = (0..n).map(|_| 1800 + (5400.0 * beta.sample(rng)) as i64).collect();
        t.sort_unstable();
        t
    }

    #[test]
    fn type_one_error_near_nominal() {
        // 400 honest sessions (seed 42), 199 draws each: the share of p ≤ 0.05
        // must be near 5 %.
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let p = ScanParams { reps: 199, ..P };
        let runs: u32 = 400;
        let mut rejected = 0;
        for s in 0..u64::from(runs) {
            let t = honest(&mut rng, 40);
            if scan_test(&t, 0, 7200, &p, s).p_value <= 0.05 {
                rejected += 1;
            }
        }
        let rate = f64::from(rejected) / f64::from(runs);
        assert!((0.015..=0.085).contains(&rate), "type-I error {rate}");
    }

    #[test]
    fn relayed_cluster_is_found() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut t = honest(&mut rng, 25);
        // 15 candidates submit within 90 s at minute 45.
        t.extend((0..15).map(|i| 2700 + i * 6));
        t.sort_unstable();
        let r = scan_test(&t, 0, 7200, &P, 3);
        assert!(r.count >= 15 && r.p_value < 1e-3, "{r:?}");
        assert!(r.first >= 2700 && r.last <= 2790);
        // The same seed gives the same answer.
        assert_eq!(scan_test(&t, 0, 7200, &P, 3), r);
    }
}
