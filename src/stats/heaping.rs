//! Heaping at a threshold: are scores just at/above the pass mark more
//! common, relative to just below it, than peers' scores are?
//!
//! Counts `a` in `[mark, mark + w)` and `b` in `[mark − w, mark)`. Under the
//! null the share `a/(a+b)` equals the peers' share `p0`; conditional on
//! `a + b` the count `a` is binomial, so the test is the exact binomial
//! upper tail (optionally overdispersion-deflated, see
//! [`super::funnel::quasi_binomial_upper`]). This is the nested-window
//! binomial test of rddensity (Cattaneo–Jansson–Ma) against a peer ratio
//! instead of a flat density.

use super::funnel::quasi_binomial_upper;

/// Counts just above and just below a threshold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Scores in `[mark, mark + width)`.
    pub above: u64,
    /// Scores in `[mark − width, mark)`.
    pub below: u64,
}

impl Window {
    pub fn add(&mut self, score: f64, mark: f64, width: f64) {
        if score >= mark && score < mark + width {
            self.above += 1;
        } else if score >= mark - width && score < mark {
            self.below += 1;
        }
    }

    pub fn n(&self) -> u64 {
        self.above + self.below
    }

    /// Share above, with a half-count continuity correction so that an
    /// empty or one-sided window never gives exactly 0 or 1.
    pub fn share(&self) -> f64 {
        (self.above as f64 + 0.5) / (self.n() as f64 + 1.0)
    }

    /// The difference of two windows (a cell total minus one institution).
    pub fn minus(&self, other: &Window) -> Window {
        Window { above: self.above.saturating_sub(other.above), below: self.below.saturating_sub(other.below) }
    }

    /// Odds ratio of this window against `peers` (both continuity-corrected).
    pub fn odds_ratio(&self, peers: &Window) -> f64 {
        let o = |w: &Window| (w.above as f64 + 0.5) / (w.below as f64 + 0.5);
        o(self) / o(peers)
    }
}

/// p-value of heaping: `P(X ≥ above)` for `X ~ Binomial(above + below, p0)`
/// with counts deflated by `inflation` (1 = exact binomial).
pub fn heaping_p(this: &Window, p0: f64, inflation: f64) -> f64 {
    quasi_binomial_upper(this.above as f64, this.n() as f64, p0, inflation)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_test_match_scipy() {
        let mut w = Window::default();
        for s in [77.0, 78.0, 79.5, 80.0, 80.0, 82.9, 83.0, 60.0] {
            w.add(s, 80.0, 3.0);
        }
        assert_eq!(w, Window { above: 3, below: 3 });
        // scipy.stats.binom.sf(29, 40, 0.45) = 0.00011350735010767908
        let h = Window { above: 30, below: 10 };
        let p = heaping_p(&h, 0.45, 1.0);
        assert!((p - 0.000_113_507_350_107_679_08).abs() < 1e-12, "{p}");
        // Honest: the same share as peers is not evidence.
        assert!(heaping_p(&Window { above: 9, below: 11 }, 0.45, 1.0) > 0.3);
        assert!((h.odds_ratio(&Window { above: 45, below: 55 }) - (30.5 / 10.5) / (45.5 / 55.5)).abs() < 1e-12);
    }
}
