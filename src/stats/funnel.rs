//! Funnel-plot statistics with overdispersion (Spiegelhalter 2005,
//! "Handling over-dispersion of performance indicators", Qual Saf Health
//! Care 14:347–351; the method of the R package FunnelPlotR).
//!
//! Each unit (an institution) has an estimate `y` and its standard error
//! `s` under the null (`y = θ0`). Real institutions differ more than binomial
//! noise allows — a genuinely strong centre is not a cheat — so the spread is
//! estimated from the units themselves:
//! - z-scores `z = (y − θ0)/s`, winsorised at the 10th/90th percentiles so
//!   that the outliers under test do not inflate their own yardstick;
//! - multiplicative: `φ = mean(z_w²)`; limits and z use `s·√φ` when φ > 1;
//! - additive (DerSimonian–Laird): `τ² = (Iφ − (I − 1)) / (Σw − Σw²/Σw)`,
//!   `w = 1/s²`, floored at 0; limits and z use `√(s² + τ²)`.
//!
//! For small counts the normal approximation is poor, so [`quasi_binomial_upper`]
//! gives an exact binomial tail on counts deflated by the same inflation
//! factor (the quasi-binomial view of overdispersion).

use serde::Deserialize;
use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::beta::beta_reg;

use super::robust::{quantile_sorted, sorted_finite};

/// How between-unit variation beyond chance is modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Variance × φ (same inflation for every unit).
    #[default]
    Multiplicative,
    /// Variance + τ² (DerSimonian–Laird; inflates large units most).
    Additive,
}

/// One unit on a funnel: estimate and null standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    pub y: f64,
    pub s: f64,
}

/// The estimated overdispersion of a set of units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dispersion {
    pub method: Method,
    /// Winsorised mean squared z (always reported, whatever the method).
    pub phi: f64,
    /// DerSimonian–Laird τ² (0 for the multiplicative method).
    pub tau2: f64,
    /// Units the estimate rests on.
    pub units: usize,
}

impl Dispersion {
    /// No overdispersion (plain binomial limits).
    pub fn none(method: Method) -> Dispersion {
        Dispersion { method, phi: 1.0, tau2: 0.0, units: 0 }
    }

    /// Estimates φ (and τ² for the additive method) from the units'
    /// z-scores against `target`, winsorised at the `lo`/`hi` quantiles.
    /// Units with `s ≤ 0` are ignored. Fewer than `min_units` usable units
    /// give no inflation (too few to estimate a spread from).
    pub fn estimate(units: &[Unit], target: f64, method: Method, lo: f64, hi: f64, min_units: usize) -> Dispersion {
        let ok: Vec<Unit> = units.iter().copied().filter(|u| u.s > 0.0 && u.y.is_finite()).collect();
        if ok.len() < min_units.max(2) {
            return Dispersion { units: ok.len(), ..Dispersion::none(method) };
        }
        let z: Vec<f64> = ok.iter().map(|u| (u.y - target) / u.s).collect();
        let sorted = sorted_finite(&z);
        let (a, b) = (quantile_sorted(&sorted, lo), quantile_sorted(&sorted, hi));
        let i = z.len() as f64;
        let phi = z.iter().map(|x| x.clamp(a, b).powi(2)).sum::<f64>() / i;
        let tau2 = match method {
            Method::Multiplicative => 0.0,
            Method::Additive => {
                let w: Vec<f64> = ok.iter().map(|u| 1.0 / (u.s * u.s)).collect();
                let sw: f64 = w.iter().sum();
                let sw2: f64 = w.iter().map(|x| x * x).sum();
                let denom = sw - sw2 / sw;
                if denom > 0.0 {
                    ((i * phi - (i - 1.0)) / denom).max(0.0)
                } else {
                    0.0
                }
            }
        };
        Dispersion { method, phi, tau2, units: ok.len() }
    }

    /// The factor by which the null variance `s²` of a unit is inflated:
    /// `max(φ, 1)` (multiplicative) or `(s² + τ²)/s²` (additive).
    pub fn inflation(&self, s: f64) -> f64 {
        match self.method {
            Method::Multiplicative => self.phi.max(1.0),
            Method::Additive if s > 0.0 => (s * s + self.tau2) / (s * s),
            Method::Additive => 1.0,
        }
    }

    /// Overdispersion-adjusted z-score of a unit.
    pub fn z(&self, u: Unit, target: f64) -> f64 {
        if u.s <= 0.0 {
            return 0.0;
        }
        (u.y - target) / (u.s * self.inflation(u.s).sqrt())
    }

    /// Control limits `(lower, upper)` for a proportion with target `p0` at
    /// sample size `n`, two-sided at normal quantile `zq` (1.96 ↔ 95 %,
    /// 3.09 ↔ 99.8 %), clamped to [0, 1].
    pub fn proportion_limits(&self, p0: f64, n: f64, zq: f64) -> (f64, f64) {
        let s = (p0 * (1.0 - p0) / n).sqrt();
        let half = zq * s * self.inflation(s).sqrt();
        ((p0 - half).clamp(0.0, 1.0), (p0 + half).clamp(0.0, 1.0))
    }
}

/// Standard normal quantile.
pub fn norm_quantile(p: f64) -> f64 {
    match Normal::new(0.0, 1.0) {
        Ok(n) => n.inverse_cdf(p.clamp(1e-300, 1.0 - 1e-16)),
        Err(_) => f64::NAN,
    }
}

/// One-sided upper normal tail `P(Z ≥ z)`.
pub fn norm_upper(z: f64) -> f64 {
    match Normal::new(0.0, 1.0) {
        Ok(n) => n.sf(z),
        Err(_) => f64::NAN,
    }
}

/// `P(X ≥ k)` for `X ~ Binomial(n, p)` on counts deflated by `inflation`
/// (`k/φ` successes of `n/φ`), via the regularised incomplete beta function
/// `I_p(k', n' − k' + 1)` which accepts non-integer counts. With
/// `inflation = 1` this is the exact binomial upper tail.
pub fn quasi_binomial_upper(k: f64, n: f64, p: f64, inflation: f64) -> f64 {
    let f = inflation.max(1.0);
    let (k, n) = (k / f, n / f);
    if k <= 0.0 {
        return 1.0;
    }
    if k > n + 1e-9 || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    beta_reg(k, (n - k).max(0.0) + 1.0, p).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::binom;

    #[track_caller]
    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol * b.abs().max(1e-12), "{a} vs {b}");
    }

    /// Twelve centres' pass counts (hand-made example, overdispersed).
    fn units() -> (Vec<Unit>, f64) {
        let n = [20.0, 35.0, 50.0, 80.0, 120.0, 150.0, 200.0, 260.0, 300.0, 420.0, 500.0, 640.0];
        let x = [19.0, 24.0, 46.0, 55.0, 110.0, 108.0, 185.0, 190.0, 280.0, 300.0, 470.0, 480.0];
        let p0 = x.iter().sum::<f64>() / n.iter().sum::<f64>();
        let u = n.iter().zip(x).map(|(n, x)| Unit { y: x / n, s: (p0 * (1.0 - p0) / n).sqrt() }).collect();
        (u, p0)
    }

    #[test]
    fn phi_and_tau2_match_numpy() {
        // numpy, same formulas (see module doc):
        //   p0 = x.sum()/n.sum() = 0.8169369369369369
        //   z = (x/n - p0)/sqrt(p0*(1-p0)/n); lo, hi = np.quantile(z, [0.1, 0.9])
        //   phi = np.mean(np.clip(z, lo, hi)**2)            = 12.798621203796039
        //   w = 1/s**2; tau2 = (I*phi-(I-1))/(w.sum()-(w**2).sum()/w.sum())
        //                                                   = 0.008939014259257288
        //   z_mult[10] = z[10]/sqrt(phi)                     = 1.989007868443983
        //   z_add[10]  = (y[10]-p0)/sqrt(s[10]**2+tau2)      = 1.2803715334095396
        let (u, p0) = units();
        close(p0, 0.816_936_936_936_936_9, 1e-12);
        let m = Dispersion::estimate(&u, p0, Method::Multiplicative, 0.1, 0.9, 3);
        close(m.phi, 12.798_621_203_796_039, 1e-9);
        close(m.z(u[10], p0), 1.989_007_868_443_983, 1e-9);
        let a = Dispersion::estimate(&u, p0, Method::Additive, 0.1, 0.9, 3);
        close(a.tau2, 0.008_939_014_259_257_288, 1e-9);
        close(a.z(u[10], p0), 1.280_371_533_409_539_6, 1e-9);
        // 95 % upper limit at n = 100: p0 + 1.959963984540054*sqrt(phi*p0*(1-p0)/100)
        //   = 1.08809611734671 -> clamped to 1; additive: p0 + 1.96*sqrt(p0(1-p0)/100 + tau2)
        //   = 1.0171463133670708 -> clamped to 1; check the unclamped half-width instead.
        let (_, hi) = m.proportion_limits(0.5, 100.0, 1.959_963_984_540_054);
        close(hi, 0.5 + 1.959_963_984_540_054 * (12.798_621_203_796_039f64 * 0.25 / 100.0).sqrt(), 1e-12);
    }

    #[test]
    fn phi_below_one_gives_no_inflation() {
        // numpy, x = [17,27,41,60,97,120,171,203,246,330,421,499], same n:
        //   phi = 0.9613846615931877, tau2 = 3.5404857724115144e-05
        let n = [20.0, 35.0, 50.0, 80.0, 120.0, 150.0, 200.0, 260.0, 300.0, 420.0, 500.0, 640.0];
        let x = [17.0, 27.0, 41.0, 60.0, 97.0, 120.0, 171.0, 203.0, 246.0, 330.0, 421.0, 499.0];
        let p0 = x.iter().sum::<f64>() / n.iter().sum::<f64>();
        let u: Vec<Unit> = n.iter().zip(x).map(|(n, x)| Unit { y: x / n, s: (p0 * (1.0 - p0) / n).sqrt() }).collect();
        let m = Dispersion::estimate(&u, p0, Method::Multiplicative, 0.1, 0.9, 3);
        close(m.phi, 0.961_384_661_593_187_7, 1e-9);
        assert_eq!(m.inflation(0.1), 1.0);
        let a = Dispersion::estimate(&u, p0, Method::Additive, 0.1, 0.9, 3);
        close(a.tau2, 3.540_485_772_411_514_4e-05, 1e-6);
        // Too few units: no inflation.
        assert_eq!(Dispersion::estimate(&u[..2], p0, Method::Multiplicative, 0.1, 0.9, 3).phi, 1.0);
    }

    #[test]
    fn quasi_binomial_tail() {
        // Uninflated it is the exact binomial tail.
        close(quasi_binomial_upper(10.0, 20.0, 0.3, 1.0), binom::upper_tail(10, 20, 0.3), 1e-12);
        // 10/10 at p = 0.8 with φ = 2: scipy.special.betainc(5, 1, 0.8) = 0.32768 (= 0.8**5)
        close(quasi_binomial_upper(10.0, 10.0, 0.8, 2.0), 0.327_68, 1e-12);
        // scipy.special.betainc(45/1.7, 50/1.7-45/1.7+1, 0.75) = 0.03940680459179763
        close(quasi_binomial_upper(45.0, 50.0, 0.75, 1.7), 0.039_406_804_591_797_63, 1e-8);
        assert_eq!(quasi_binomial_upper(0.0, 5.0, 0.5, 1.0), 1.0);
    }

    #[test]
    fn normal_helpers() {
        // scipy.stats.norm.ppf(0.975) = 1.959963984540054; norm.sf(1.959963984540054) = 0.025
        close(norm_quantile(0.975), 1.959_963_984_540_054, 1e-9);
        close(norm_upper(1.959_963_984_540_054), 0.025, 1e-9);
    }
}
