//! Robust summaries: quantiles (R type 7 / NumPy's default), median, MAD,
//! robust z-scores and winsorisation. Used where one extreme institution or
//! candidate must not move the baseline it is compared against.

/// The `q`-quantile (0–1) of `sorted` by linear interpolation between order
/// statistics (R `quantile(type = 7)`, `numpy.quantile` default). `NaN` for
/// an empty slice.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * q.clamp(0.0, 1.0);
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// Sorted copy of finite values.
pub fn sorted_finite(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

pub fn median(values: &[f64]) -> f64 {
    quantile_sorted(&sorted_finite(values), 0.5)
}

/// Median absolute deviation scaled by 1.4826, so that it estimates the
/// standard deviation of normal data (R `mad()`).
pub fn mad(values: &[f64]) -> f64 {
    let m = median(values);
    let dev: Vec<f64> = values.iter().filter(|x| x.is_finite()).map(|x| (x - m).abs()).collect();
    1.4826 * median(&dev)
}

/// Location and scale of a sample by median and MAD, for robust z-scores
/// `(x − median) / MAD`. `scale` is floored at `min_scale` so that a sample
/// of identical values does not make every other value infinitely extreme.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RobustScale {
    pub median: f64,
    pub scale: f64,
    pub n: usize,
}

impl RobustScale {
    pub fn of(values: &[f64], min_scale: f64) -> RobustScale {
        let n = values.iter().filter(|x| x.is_finite()).count();
        RobustScale { median: median(values), scale: mad(values).max(min_scale), n }
    }

    pub fn z(&self, x: f64) -> f64 {
        (x - self.median) / self.scale
    }
}

/// Values clamped to the `lo` and `hi` quantiles of the sample
/// (Spiegelhalter 2005 winsorises z-scores at the 10th and 90th percentiles).
pub fn winsorise(values: &[f64], lo: f64, hi: f64) -> Vec<f64> {
    let s = sorted_finite(values);
    let (a, b) = (quantile_sorted(&s, lo), quantile_sorted(&s, hi));
    values.iter().map(|x| x.clamp(a, b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }

    #[test]
    fn matches_numpy() {
        let x = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        let s = sorted_finite(&x);
        // numpy.quantile([3,1,4,1,5,9,2,6], [0.1, 0.5, 0.9]) = [1.0, 3.5, 6.9]
        close(quantile_sorted(&s, 0.1), 1.0);
        close(quantile_sorted(&s, 0.5), 3.5);
        close(quantile_sorted(&s, 0.9), 6.9);
        // scipy.stats.median_abs_deviation([3,1,4,1,5,9,2,6], scale='normal')
        //   = 2.965204437011204 (1/Φ⁻¹(3/4) = 1.482602…; R's mad() uses 1.4826)
        assert!((mad(&x) - 2.965_204_437_011_204).abs() < 1e-5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn winsorises_and_robust_z() {
        let x = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        let w = winsorise(&x, 0.1, 0.9);
        // numpy.clip(x, 1.0, 6.9)
        for (a, b) in w.iter().zip([3.0, 1.0, 4.0, 1.0, 5.0, 6.9, 2.0, 6.0]) {
            close(*a, b);
        }
        let r = RobustScale::of(&[5.0, 5.0, 5.0], 0.5);
        assert_eq!(r.scale, 0.5);
        close(r.z(6.0), 2.0);
    }
}
