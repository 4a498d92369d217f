//! Severity as a documented function of the evidence (issue 15, design
//! item 2): every check turns its effect size and its multiplicity-adjusted
//! significance into a 0–1 severity with one of these two forms, and none
//! has a floor — a finding that is not significant is no finding, and one
//! that barely passes weighs almost nothing.
//!
//! - [`evidence`] (statistical patterns honest institutions also produce):
//!   `strength(q) · effect`, with
//!   `strength(q) = clamp(log10(alpha / q) / log10(alpha / q_full), 0, 1)`
//!   — 0 at the test level `alpha`, 1 at `q_full` — and the effect already
//!   scaled to 0–1 by the check (e.g. excess share / its full value).
//! - [`extent`] (breaches of a hard rule, which need no null): the extent of
//!   the breach over the extent that counts as full, `min(1, x / full)`.

/// Significance strength of an adjusted p-value `q` on the log scale:
/// 0 at `alpha` (and for any `q ≥ alpha`), 1 at `q_full` or below.
pub fn strength(q: f64, alpha: f64, q_full: f64) -> f64 {
    if q.is_nan() || alpha.is_nan() || q >= alpha || alpha <= 0.0 {
        return 0.0;
    }
    let span = (alpha / q_full.clamp(1e-300, alpha)).log10();
    if span <= 0.0 {
        return 1.0;
    }
    ((alpha / q.max(1e-300)).log10() / span).clamp(0.0, 1.0)
}

/// Severity of a statistical finding: `strength(q) · clamp(effect, 0, 1)`.
pub fn evidence(q: f64, alpha: f64, q_full: f64, effect: f64) -> f64 {
    let e = if effect.is_nan() { 0.0 } else { effect.clamp(0.0, 1.0) };
    strength(q, alpha, q_full) * e
}

/// Severity of a hard-rule breach: `min(1, x / full)` (0 for `x ≤ 0`).
pub fn extent(x: f64, full: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return 0.0;
    }
    if full.is_nan() || full <= 0.0 {
        return 1.0;
    }
    (x / full).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_floor_and_monotone() {
        // Not significant: nothing, whatever the effect.
        assert_eq!(evidence(0.05, 0.05, 1e-4, 1.0), 0.0);
        assert_eq!(evidence(0.7, 0.05, 1e-4, 1.0), 0.0);
        assert_eq!(evidence(f64::NAN, 0.05, 1e-4, 1.0), 0.0);
        // Half-way on the log scale: log10(0.05/q) = log10(500)/2 -> q = 0.05/sqrt(500).
        let q = 0.05 / 500f64.sqrt();
        assert!((strength(q, 0.05, 1e-4) - 0.5).abs() < 1e-12);
        assert!((evidence(q, 0.05, 1e-4, 0.5) - 0.25).abs() < 1e-12);
        assert_eq!(strength(1e-9, 0.05, 1e-4), 1.0);
        let mut last = 0.0;
        for k in 0..60 {
            let s = evidence(0.05 * 0.8f64.powi(k), 0.05, 1e-4, 0.9);
            assert!(s >= last);
            last = s;
        }
        assert_eq!((extent(0.0, 10.0), extent(1.0, 10.0), extent(30.0, 10.0)), (0.0, 0.1, 1.0));
    }
}
