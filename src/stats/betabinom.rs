//! Beta-binomial peer null: how often comparable units (institutions of
//! one kind) show an event (a class-day typed in by hand, a record at
//! night) when the rate itself varies between honest units. The rate's
//! spread is estimated from the units in hand by the method of moments
//! (Kleinman 1973: intra-class correlation ρ from the n-weighted scatter of
//! the unit shares), so a peer whose share is merely in the honest spread is
//! not extreme, and the tail of a unit is computed exactly from the
//! beta-binomial pmf.

use statrs::function::gamma::ln_gamma;

/// A fitted beta-binomial: mean rate `p` and intra-class correlation `rho`
/// (`rho` = 1 / (α + β + 1); `rho` = 0 is the plain binomial).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaBinom {
    pub p: f64,
    pub rho: f64,
    /// Units the fit used.
    pub units: usize,
}

impl BetaBinom {
    /// Shape parameters (α, β); `None` for the binomial limit (ρ ≈ 0).
    pub fn shapes(&self) -> Option<(f64, f64)> {
        if self.rho <= 1e-9 {
            return None;
        }
        let s = (1.0 - self.rho) / self.rho;
        Some((self.p * s, (1.0 - self.p) * s))
    }

    /// P(X ≥ k) for X ~ BetaBinomial(n, α, β) (binomial when ρ ≈ 0).
    pub fn upper_tail(&self, k: u64, n: u64) -> f64 {
        if k == 0 {
            return 1.0;
        }
        if k > n {
            return 0.0;
        }
        let Some((a, b)) = self.shapes() else { return super::binom::upper_tail(k, n, self.p) };
        if a <= 0.0 {
            return 0.0;
        }
        if b <= 0.0 {
            return 1.0;
        }
        let ln_b = |x: f64, y: f64| ln_gamma(x) + ln_gamma(y) - ln_gamma(x + y);
        let nf = n as f64;
        let base = ln_gamma(nf + 1.0) - ln_b(a, b);
        let mut s = 0.0;
        for j in k..=n {
            let jf = j as f64;
            let lp = base - ln_gamma(jf + 1.0) - ln_gamma(nf - jf + 1.0) + ln_b(jf + a, nf - jf + b);
            s += lp.exp();
        }
        s.clamp(0.0, 1.0)
    }
}

/// Method-of-moments fit over units `(events, trials)`; units with no
/// trials are ignored. `None` with fewer than two units or no trials.
///
/// With weights `n_i`, `W = Σ n_i`, `p = Σ k_i / W` and
/// `S = Σ n_i (k_i/n_i − p)²`, the beta-binomial gives
/// `E[S] = p(1−p) Σ (1 − n_i/W)(1 + (n_i − 1) ρ)`, solved for ρ
/// (clamped to [0, 1)).
pub fn fit(units: &[(u64, u64)]) -> Option<BetaBinom> {
    let u: Vec<(f64, f64)> = units.iter().filter(|u| u.1 > 0).map(|&(k, n)| (k.min(n) as f64, n as f64)).collect();
    if u.len() < 2 {
        return None;
    }
    let w: f64 = u.iter().map(|x| x.1).sum();
    let p = u.iter().map(|x| x.0).sum::<f64>() / w;
    if p <= 0.0 || p >= 1.0 {
        return Some(BetaBinom { p, rho: 0.0, units: u.len() });
    }
    let s: f64 = u.iter().map(|&(k, n)| n * (k / n - p).powi(2)).sum();
    let a: f64 = u.iter().map(|&(_, n)| 1.0 - n / w).sum();
    let b: f64 = u.iter().map(|&(_, n)| (1.0 - n / w) * (n - 1.0)).sum();
    let rho = if b > 0.0 { ((s / (p * (1.0 - p)) - a) / b).clamp(0.0, 0.999) } else { 0.0 };
    Some(BetaBinom { p, rho, units: u.len() })
}

/// The fit of every unit but `skip` (its own excess must not widen the
/// null it is tested against).
pub fn fit_without(units: &[(u64, u64)], skip: usize) -> Option<BetaBinom> {
    let rest: Vec<(u64, u64)> = units.iter().enumerate().filter(|&(i, _)| i != skip).map(|(_, &u)| u).collect();
    fit(&rest)
}

/// Which units a robust fit keeps: those not extreme (upper tail ≥
/// `trim_p`) under the fit of the kept units. The moments are not robust:
/// a few units with a real excess (the very ones a check looks for)
/// inflate ρ and hide each other. So, as funnel plots winsorise their
/// z-scores before estimating overdispersion (Spiegelhalter 2005), the
/// first fit leaves out the `max_share` of units with the highest shares;
/// then the units extreme under the fit are dropped, the rest refitted, and
/// every unit re-judged against the refit until the kept set is stable (at
/// most 20 rounds). At most `max_share` of the units are dropped (the most
/// extreme first): a rate most units share is the honest spread, not
/// contamination.
pub fn keep_mask(units: &[(u64, u64)], trim_p: f64, max_share: f64) -> Vec<bool> {
    let mut keep = vec![true; units.len()];
    let max_drop = (max_share * units.len() as f64).floor() as usize;
    let share = |i: usize| if units[i].1 == 0 { 0.0 } else { units[i].0 as f64 / units[i].1 as f64 };
    let mut by_share: Vec<usize> = (0..units.len()).collect();
    by_share.sort_by(|&a, &b| share(b).total_cmp(&share(a)).then(a.cmp(&b)));
    let first: Vec<(u64, u64)> = by_share[max_drop.min(units.len())..].iter().map(|&i| units[i]).collect();
    let Some(mut f) = fit(&first).or_else(|| fit(units)) else { return keep };
    for _ in 0..20 {
        let tails: Vec<f64> = units.iter().map(|&(k, n)| if n == 0 { 1.0 } else { f.upper_tail(k, n) }).collect();
        let mut order: Vec<usize> = (0..units.len()).filter(|&i| tails[i] < trim_p).collect();
        order.sort_by(|&a, &b| tails[a].total_cmp(&tails[b]).then(a.cmp(&b)));
        order.truncate(max_drop);
        let mut next = vec![true; units.len()];
        for i in order {
            next[i] = false;
        }
        if next == keep {
            break;
        }
        keep = next;
        let kept: Vec<(u64, u64)> = units.iter().zip(&keep).filter(|(_, &m)| m).map(|(&u, _)| u).collect();
        match fit(&kept) {
            Some(g) => f = g,
            None => break,
        }
    }
    keep
}

/// The fit of the units in `keep` other than `skip`.
pub fn fit_kept_without(units: &[(u64, u64)], keep: &[bool], skip: usize) -> Option<BetaBinom> {
    let rest: Vec<(u64, u64)> = units
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != skip && keep.get(i).copied().unwrap_or(true))
        .map(|(_, &u)| u)
        .collect();
    fit(&rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) {
        assert!((a - b).abs() <= rel * b.abs().max(1e-300), "{a} vs {b}");
    }

    #[test]
    fn tail_matches_scipy() {
        // SciPy 1.17.1: scipy.stats.betabinom.sf(k - 1, n, a, b).
        let bb = |a: f64, b: f64| BetaBinom { p: a / (a + b), rho: 1.0 / (a + b + 1.0), units: 0 };
        close(bb(0.5, 9.5).upper_tail(5, 40), 0.14943929765285424, 1e-9);
        close(bb(2.0, 38.0).upper_tail(12, 60), 0.009657322593801698, 1e-9);
        close(bb(0.3, 12.0).upper_tail(30, 200), 0.028028318173379696, 1e-9);
        assert_eq!(bb(1.0, 1.0).upper_tail(0, 10), 1.0);
        assert_eq!(bb(1.0, 1.0).upper_tail(11, 10), 0.0);
        // Binomial limit: scipy.stats.binom.sf(4, 50, 0.02).
        let bin = BetaBinom { p: 0.02, rho: 0.0, units: 0 };
        close(bin.upper_tail(5, 50), 0.003209742026079395, 1e-9);
    }

    #[test]
    fn moments_recover_the_spread() {
        // Equal sizes: rho from the between-unit variance of the shares.
        // Shares 0.0, 0.1, 0.2, 0.3 of 10: p = 0.15, S = 10 * 0.05 = 0.5,
        // a = 3, b = 27 → rho = (0.5 / 0.1275 − 3) / 27 = 0.034132...
        let f = fit(&[(0, 10), (1, 10), (2, 10), (3, 10)]).unwrap();
        close(f.p, 0.15, 1e-12);
        close(f.rho, (0.5 / 0.1275 - 3.0) / 27.0, 1e-12);
        // No scatter beyond binomial: rho clamps to 0.
        let f = fit(&[(5, 100), (5, 100), (5, 100)]).unwrap();
        assert_eq!(f.rho, 0.0);
        assert!(fit(&[(1, 10)]).is_none());
        let f = fit_without(&[(1, 10), (90, 100), (1, 10)], 1).unwrap();
        close(f.p, 0.1, 1e-12);
        // One unit far out is dropped from the fit the others are tested against.
        // 20 honest units of 20 with 0-3 events and two far out (16 and
        // 18 of 20): the two are dropped; then the honest ones shape the null.
        let mut units: Vec<(u64, u64)> = (0..20).map(|i| ([0, 1, 2, 3, 1][i % 5], 20)).collect();
        units.extend([(16, 20), (18, 20)]);
        let keep = keep_mask(&units, 0.01, 0.2);
        assert!(keep[..20].iter().all(|&k| k), "{keep:?}");
        assert!(!keep[20] && !keep[21], "{keep:?}");
        let f = fit_kept_without(&units, &keep, 0).unwrap();
        close(f.p, 28.0 / 380.0, 1e-12);
        // At most a fifth dropped: zero-inflated rates (most units 0) keep their spread.
        let units: Vec<(u64, u64)> = (0..20).map(|i| if i < 12 { (0, 20) } else { (3, 20) }).collect();
        assert_eq!(
            keep_mask(&units, 0.01, 0.2).iter().filter(|&&k| !k).count().min(4),
            keep_mask(&units, 0.01, 0.2).iter().filter(|&&k| !k).count()
        );
    }
}
