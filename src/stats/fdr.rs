//! Benjamini–Hochberg false discovery rate control.

/// BH-adjusted p-values (the `p.adjust(p, "BH")` of R), in input order.
pub fn bh_adjust(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut idx: Vec<usize> = (0..m).collect();
    idx.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let mut out = vec![0.0; m];
    let mut running = 1.0f64;
    for (rank_from_top, &i) in idx.iter().enumerate() {
        let rank = m - rank_from_top; // 1-based rank in ascending order
        let v = (p[i] * m as f64 / rank as f64).min(1.0);
        running = running.min(v);
        out[i] = running;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_r_p_adjust() {
        // R: p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.5), "BH")
        //    -> 0.025 0.050 0.050 0.025 0.500
        let adj = bh_adjust(&[0.01, 0.04, 0.03, 0.005, 0.5]);
        let want = [0.025, 0.05, 0.05, 0.025, 0.5];
        for (a, w) in adj.iter().zip(want) {
            assert!((a - w).abs() < 1e-12, "{adj:?}");
        }
        assert!(bh_adjust(&[]).is_empty());
    }
}
