//! Joint model of accuracy and response time for one question bank (issue
//! 16): van der Linden's (2006, 2007) hierarchical framework with a Rasch
//! model for accuracy, P(x_ij = 1) = σ(θ_i − b_j), and the lognormal
//! response-time model ln t_ij ~ N(β_j − τ_i, α_j⁻²).
//!
//! Estimation is deliberately simple and documented:
//! - **Rasch**: joint maximum likelihood (JML), alternating one Newton step
//!   for every θ_i and one for every b_j, items centred to mean 0. Persons
//!   with a zero or perfect score carry no information on b and are left
//!   out of the item step (as `glm` would diverge on them). JML item
//!   estimates are biased outwards by about L/(L−1) for L items per person;
//!   [`Rasch::fit`] applies Wright & Douglas's (1977) correction
//!   b·(L−1)/L and then re-estimates every θ by ML given the corrected b,
//!   with zero and perfect scores moved 0.3 points inwards (Winsteps'
//!   extreme-score adjustment) so they get a finite θ. The uncorrected JML
//!   fit is the unconditional ML of the logistic regression with person
//!   and item effects, `glm(x ~ 0 + person + item, binomial)`, which the
//!   tests reproduce.
//! - **Lognormal RT**: a two-step feasible GLS of the two-way additive
//!   model. Step 1 is ordinary least squares by alternating means (τ_i and
//!   β_j in turn, mean τ = 0); item variances are the item's mean squared
//!   residual times N/(N − P − I + 1) (the model's residual degrees of
//!   freedom); step 2 is weighted least squares with weights α_j² = 1/σ_j²
//!   by the same alternation. (Iterating the weights to the full ML fixed
//!   point diverges: one item's variance collapses to 0 when persons are
//!   free parameters, which `lm` in a loop shows too.) The tests reproduce
//!   `lm(lt ~ person + item)` and its weighted refit.
//!
//! Leave-one-out quantities are obtained from the fits' sufficient
//! statistics, not by refitting: see [`Rasch::b_without`] and
//! [`LogNormalRt::beta_without`].

// Person and item loops index several parallel arrays at once.
#![allow(clippy::needless_range_loop)]

use crate::stats::funnel::norm_upper;

/// One bank's responses grouped by person (CSR): person `p` answered
/// `items[off[p]..off[p+1]]` with correctness `x` and log-time `logt`
/// (NaN when the answer has no usable time).
#[derive(Debug, Clone, Default)]
pub struct Bank {
    pub n_items: usize,
    pub off: Vec<u32>,
    pub items: Vec<u32>,
    pub x: Vec<u8>,
    pub logt: Vec<f32>,
}

impl Bank {
    pub fn n_persons(&self) -> usize {
        self.off.len().saturating_sub(1)
    }

    pub fn range(&self, p: usize) -> std::ops::Range<usize> {
        self.off[p] as usize..self.off[p + 1] as usize
    }

    /// A bank from `(person, item, x, logt)` rows sorted by person (tests).
    pub fn from_rows(n_persons: usize, n_items: usize, rows: &[(u32, u32, u8, f64)]) -> Bank {
        let mut off = vec![0u32; n_persons + 1];
        for r in rows {
            off[r.0 as usize + 1] += 1;
        }
        for p in 0..n_persons {
            off[p + 1] += off[p];
        }
        Bank {
            n_items,
            off,
            items: rows.iter().map(|r| r.1).collect(),
            x: rows.iter().map(|r| r.2).collect(),
            logt: rows.iter().map(|r| r.3 as f32).collect(),
        }
    }
}

/// Iteration limits of the fits.
#[derive(Debug, Clone, Copy)]
pub struct FitOptions {
    pub max_iter: u32,
    /// Stop when no parameter moves by more than this.
    pub tol: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions { max_iter: 100, tol: 1e-5 }
    }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// The fitted Rasch model of one bank.
#[derive(Debug, Clone)]
pub struct Rasch {
    /// Bias-corrected item difficulties (mean 0).
    pub b: Vec<f64>,
    /// Person abilities given the corrected `b` (extreme scores adjusted).
    pub theta: Vec<f64>,
    /// Per item: Σ P(1 − P) over the persons that informed it (for the
    /// one-step leave-one-out).
    pub info: Vec<f64>,
    /// Whether person `p` informed the item step (score not 0 or perfect).
    pub informs: Vec<bool>,
    /// Iterations the JML loop used.
    pub iterations: u32,
}

/// Uncorrected JML: `(theta, b, informs, iterations)`; `theta` of extreme
/// persons is left at 0.
pub fn rasch_jml(bank: &Bank, opt: FitOptions) -> (Vec<f64>, Vec<f64>, Vec<bool>, u32) {
    let np = bank.n_persons();
    let ni = bank.n_items;
    let mut informs = vec![false; np];
    let mut r = vec![0.0f64; np];
    let mut s = vec![0.0f64; ni];
    let mut n_item = vec![0u32; ni];
    for (p, inf) in informs.iter_mut().enumerate() {
        let rg = bank.range(p);
        let score: u32 = bank.x[rg.clone()].iter().map(|&x| x as u32).sum();
        *inf = score > 0 && (score as usize) < rg.len();
        r[p] = score as f64;
        if *inf {
            for k in rg {
                s[bank.items[k] as usize] += bank.x[k] as f64;
                n_item[bank.items[k] as usize] += 1;
            }
        }
    }
    // An item every informing person got right (or wrong) has no finite
    // estimate: its count is moved 0.3 inwards, as for extreme persons.
    for j in 0..ni {
        let n = n_item[j] as f64;
        if n > 0.0 {
            s[j] = s[j].clamp(0.3, n - 0.3);
        }
    }
    let mut theta = vec![0.0f64; np];
    let mut b = vec![0.0f64; ni];
    let mut e = vec![0.0f64; ni];
    let mut inf_j = vec![0.0f64; ni];
    let mut it = 0;
    while it < opt.max_iter {
        it += 1;
        let mut moved = 0.0f64;
        for p in 0..np {
            if !informs[p] {
                continue;
            }
            let (mut ep, mut ip) = (0.0, 0.0);
            for k in bank.range(p) {
                let pr = sigmoid(theta[p] - b[bank.items[k] as usize]);
                ep += pr;
                ip += pr * (1.0 - pr);
            }
            let step = ((r[p] - ep) / ip.max(1e-12)).clamp(-2.0, 2.0);
            theta[p] += step;
            moved = moved.max(step.abs());
        }
        e.iter_mut().for_each(|v| *v = 0.0);
        inf_j.iter_mut().for_each(|v| *v = 0.0);
        for p in 0..np {
            if !informs[p] {
                continue;
            }
            for k in bank.range(p) {
                let j = bank.items[k] as usize;
                let pr = sigmoid(theta[p] - b[j]);
                e[j] += pr;
                inf_j[j] += pr * (1.0 - pr);
            }
        }
        let mut sum_b = 0.0;
        let mut n_b = 0usize;
        for j in 0..ni {
            if n_item[j] > 0 {
                let step = ((e[j] - s[j]) / inf_j[j].max(1e-12)).clamp(-2.0, 2.0);
                b[j] += step;
                moved = moved.max(step.abs());
                sum_b += b[j];
                n_b += 1;
            }
        }
        let m = if n_b > 0 { sum_b / n_b as f64 } else { 0.0 };
        for j in 0..ni {
            if n_item[j] > 0 {
                b[j] -= m;
            }
        }
        for (t, &inf) in theta.iter_mut().zip(&informs) {
            if inf {
                *t -= m;
            }
        }
        if moved < opt.tol {
            break;
        }
    }
    (theta, b, informs, it)
}

/// ML ability on a set of items with difficulties `bs` and raw score `r`
/// (any real in 0..=len). A zero or perfect score has θ = ∓∞ (where the
/// log-likelihood reaches its supremum 0).
pub fn theta_mle(bs: &[f64], r: f64) -> f64 {
    let n = bs.len() as f64;
    if bs.is_empty() {
        return f64::NAN;
    }
    if r <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if r >= n {
        return f64::INFINITY;
    }
    let mut th = (r / (n - r)).ln() + bs.iter().sum::<f64>() / n;
    for _ in 0..50 {
        let (mut e, mut i) = (0.0, 0.0);
        for &b in bs {
            let p = sigmoid(th - b);
            e += p;
            i += p * (1.0 - p);
        }
        let step = ((r - e) / i.max(1e-12)).clamp(-2.0, 2.0);
        th += step;
        if step.abs() < 1e-10 {
            break;
        }
    }
    th
}

/// Log-likelihood of 0/1 answers `xs` on items `bs` at ability `th`.
pub fn rasch_loglik(bs: &[f64], xs: &[u8], th: f64) -> f64 {
    if th.is_infinite() {
        // Only reached for an all-right / all-wrong subset: the supremum.
        return 0.0;
    }
    bs.iter()
        .zip(xs)
        .map(|(&b, &x)| {
            let z = th - b;
            // log σ(z) = −ln(1 + e^{−z}), log(1 − σ(z)) = −ln(1 + e^{z}).
            if x == 1 {
                -(-z).exp().ln_1p()
            } else {
                -z.exp().ln_1p()
            }
        })
        .sum()
}

impl Rasch {
    /// JML, bias correction and final abilities (see the module doc).
    pub fn fit(bank: &Bank, opt: FitOptions) -> Rasch {
        let (_, b_raw, informs, iterations) = rasch_jml(bank, opt);
        let np = bank.n_persons();
        let mean_len = if np > 0 { bank.items.len() as f64 / np as f64 } else { 0.0 };
        let shrink = if mean_len > 1.0 { (mean_len - 1.0) / mean_len } else { 1.0 };
        let b: Vec<f64> = b_raw.iter().map(|v| v * shrink).collect();
        let mut theta = vec![0.0; np];
        let mut bs = Vec::new();
        for (p, th) in theta.iter_mut().enumerate() {
            let rg = bank.range(p);
            bs.clear();
            bs.extend(bank.items[rg.clone()].iter().map(|&j| b[j as usize]));
            let n = rg.len() as f64;
            let r: f64 = bank.x[rg].iter().map(|&x| x as f64).sum();
            *th = theta_mle(&bs, r.clamp(0.3, (n - 0.3).max(0.3)));
        }
        let mut info = vec![0.0; bank.n_items];
        for p in 0..np {
            if informs[p] {
                for k in bank.range(p) {
                    let j = bank.items[k] as usize;
                    let pr = sigmoid(theta[p] - b[j]);
                    info[j] += pr * (1.0 - pr);
                }
            }
        }
        Rasch { b, theta, info, informs, iterations }
    }

    /// Difficulty of item `j` without person `p`'s answer `x` (one Newton
    /// step from the full fit: removing a right answer makes the item
    /// harder by (1 − P)/I_j, a wrong one easier by P/I_j).
    pub fn b_without(&self, j: usize, p: usize, x: u8) -> f64 {
        if !self.informs[p] {
            return self.b[j];
        }
        let pr = sigmoid(self.theta[p] - self.b[j]);
        let rest = self.info[j] - pr * (1.0 - pr);
        if rest <= 1e-9 {
            return self.b[j];
        }
        self.b[j] + (x as f64 - pr) / rest
    }
}

/// The fitted lognormal response-time model of one bank.
#[derive(Debug, Clone)]
pub struct LogNormalRt {
    /// Time intensity β_j (NaN for an item without times).
    pub beta: Vec<f64>,
    /// Precision α_j = 1/σ_j (the weights of the second step).
    pub alpha: Vec<f64>,
    /// Speed τ_i (NaN for a person without times); mean 0.
    pub tau: Vec<f64>,
    /// Σ α_j² over the person's timed answers: 1/W is the variance of τ̂_i.
    pub w: Vec<f64>,
    /// Per item: Σ (y + τ) and the count, for the leave-one-out β.
    pub sum_j: Vec<f64>,
    pub n_j: Vec<u32>,
}

/// Alternating least squares of y = β_j − τ_i with weights α_j²; returns
/// `(tau, beta, sum_j, n_j)` where β_j = sum_j / n_j.
fn als(bank: &Bank, alpha2: &[f64], opt: FitOptions) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<u32>) {
    let np = bank.n_persons();
    let ni = bank.n_items;
    let mut n_j = vec![0u32; ni];
    let mut sum_j = vec![0.0f64; ni];
    for k in 0..bank.items.len() {
        if bank.logt[k].is_finite() {
            n_j[bank.items[k] as usize] += 1;
            sum_j[bank.items[k] as usize] += bank.logt[k] as f64;
        }
    }
    let mut beta: Vec<f64> =
        sum_j.iter().zip(&n_j).map(|(s, &n)| if n > 0 { s / n as f64 } else { f64::NAN }).collect();
    let mut tau = vec![f64::NAN; np];
    for _ in 0..opt.max_iter {
        let mut moved = 0.0f64;
        let (mut t_sum, mut t_n) = (0.0, 0usize);
        for (p, t) in tau.iter_mut().enumerate() {
            let (mut num, mut den) = (0.0, 0.0);
            for k in bank.range(p) {
                let y = bank.logt[k];
                if y.is_finite() {
                    let j = bank.items[k] as usize;
                    num += alpha2[j] * (beta[j] - y as f64);
                    den += alpha2[j];
                }
            }
            if den > 0.0 {
                let new = num / den;
                if t.is_finite() {
                    moved = moved.max((new - *t).abs());
                } else {
                    moved = f64::INFINITY;
                }
                *t = new;
                t_sum += new;
                t_n += 1;
            }
        }
        let m = if t_n > 0 { t_sum / t_n as f64 } else { 0.0 };
        tau.iter_mut().filter(|t| t.is_finite()).for_each(|t| *t -= m);
        sum_j.iter_mut().for_each(|v| *v = 0.0);
        for p in 0..np {
            if !tau[p].is_finite() {
                continue;
            }
            for k in bank.range(p) {
                if bank.logt[k].is_finite() {
                    sum_j[bank.items[k] as usize] += bank.logt[k] as f64 + tau[p];
                }
            }
        }
        for j in 0..ni {
            if n_j[j] > 0 {
                let new = sum_j[j] / n_j[j] as f64;
                moved = moved.max((new - beta[j]).abs());
                beta[j] = new;
            }
        }
        if moved < opt.tol {
            break;
        }
    }
    (tau, beta, sum_j, n_j)
}

impl LogNormalRt {
    /// Two-step feasible GLS (see the module doc). `None` without any time.
    pub fn fit(bank: &Bank, opt: FitOptions) -> Option<LogNormalRt> {
        let ni = bank.n_items;
        let ones = vec![1.0; ni];
        let (tau0, beta0, _, n_j) = als(bank, &ones, opt);
        let n_obs: u32 = n_j.iter().sum();
        if n_obs == 0 {
            return None;
        }
        let n_p = tau0.iter().filter(|t| t.is_finite()).count();
        let n_i = n_j.iter().filter(|&&n| n > 0).count();
        let df = n_obs as f64 - n_p as f64 - n_i as f64 + 1.0;
        let mut rss = vec![0.0f64; ni];
        for p in 0..bank.n_persons() {
            for k in bank.range(p) {
                if bank.logt[k].is_finite() {
                    let j = bank.items[k] as usize;
                    let e = bank.logt[k] as f64 - beta0[j] + tau0[p];
                    rss[j] += e * e;
                }
            }
        }
        let dff = if df > 0.0 { n_obs as f64 / df } else { 1.0 };
        // A floor on σ² (0.01, i.e. σ = 0.1 log units ≈ 10 %) keeps an item
        // whose times barely vary from taking all the weight.
        let var: Vec<f64> =
            rss.iter().zip(&n_j).map(|(r, &n)| if n > 0 { (r / n as f64 * dff).max(0.01) } else { f64::NAN }).collect();
        let alpha2: Vec<f64> = var.iter().map(|v| if v.is_finite() { 1.0 / v } else { 0.0 }).collect();
        let (tau, beta, sum_j, n_j) = als(bank, &alpha2, opt);
        let mut w = vec![0.0; bank.n_persons()];
        for (p, wp) in w.iter_mut().enumerate() {
            *wp = bank.range(p).filter(|&k| bank.logt[k].is_finite()).map(|k| alpha2[bank.items[k] as usize]).sum();
        }
        Some(LogNormalRt { beta, alpha: alpha2.iter().map(|a| a.sqrt()).collect(), tau, w, sum_j, n_j })
    }

    /// β_j without person `p`'s log-time `y` (exact for the β step).
    pub fn beta_without(&self, j: usize, p: usize, y: f64) -> f64 {
        let n = self.n_j[j];
        if n <= 1 || !self.tau[p].is_finite() {
            return self.beta[j];
        }
        (self.sum_j[j] - (y + self.tau[p])) / (n - 1) as f64
    }
}

/// Sinharay's (2017) signed likelihood-ratio statistic L_s for a
/// difference in ability between the items of a suspected set S and the
/// rest: L_s = sign(θ̂_S − θ̂_N)·√(2[ℓ_S(θ̂_S) + ℓ_N(θ̂_N) − ℓ(θ̂)]), N(0,1)
/// under the null of one ability. `None` when either part is empty.
pub fn signed_lr_scores(b_s: &[f64], x_s: &[u8], b_n: &[f64], x_n: &[u8]) -> Option<f64> {
    if b_s.is_empty() || b_n.is_empty() {
        return None;
    }
    let r_s: f64 = x_s.iter().map(|&x| x as f64).sum();
    let r_n: f64 = x_n.iter().map(|&x| x as f64).sum();
    let th_s = theta_mle(b_s, r_s);
    let th_n = theta_mle(b_n, r_n);
    let all_b: Vec<f64> = b_s.iter().chain(b_n).copied().collect();
    let all_x: Vec<u8> = x_s.iter().chain(x_n).copied().collect();
    let th = theta_mle(&all_b, r_s + r_n);
    let lr = 2.0 * (rasch_loglik(b_s, x_s, th_s) + rasch_loglik(b_n, x_n, th_n) - rasch_loglik(&all_b, &all_x, th));
    let lr = lr.max(0.0);
    let sign = if th_s > th_n {
        1.0
    } else if th_s < th_n {
        -1.0
    } else {
        0.0
    };
    Some(sign * lr.sqrt())
}

/// Sinharay's (2020) signed likelihood-ratio statistic Λ_s for a
/// difference in speed between S and the rest under the lognormal model
/// with known β, α: with τ̂_A = Σ α²(β − y)/Σ α² over a set A, the LR is
/// (τ̂_S − τ̂_N)²/(1/W_S + 1/W_N), so Λ_s = (τ̂_S − τ̂_N)/√(1/W_S + 1/W_N),
/// exactly N(0,1) under the null; positive = faster on S. Arguments are
/// `(alpha², beta − y)` per answer.
pub fn signed_lr_times(s: &[(f64, f64)], n: &[(f64, f64)]) -> Option<f64> {
    let tau = |v: &[(f64, f64)]| {
        let w: f64 = v.iter().map(|a| a.0).sum();
        (v.iter().map(|a| a.0 * a.1).sum::<f64>() / w, w)
    };
    if s.is_empty() || n.is_empty() {
        return None;
    }
    let (ts, ws) = tau(s);
    let (tn, wn) = tau(n);
    Some((ts - tn) / (1.0 / ws + 1.0 / wn).sqrt())
}

/// Fisher's combination of independent p-values: P(χ²_{2k} ≥ −2 Σ ln p),
/// closed form for even degrees of freedom.
pub fn fisher(ps: &[f64]) -> f64 {
    if ps.is_empty() {
        return f64::NAN;
    }
    let half: f64 = -ps.iter().map(|p| p.max(1e-300).ln()).sum::<f64>();
    let mut term = 1.0;
    let mut sum = 1.0;
    for j in 1..ps.len() {
        term *= half / j as f64;
        sum += term;
    }
    ((-half).exp() * sum).min(1.0)
}

/// One-sided upper p of a z.
pub fn upper_p(z: f64) -> f64 {
    norm_upper(z)
}

#[cfg(test)]
#[allow(clippy::approx_constant)] // 3.14 is a log-time of the data, not π
mod tests {
    use super::*;

    // The data of the R fits below (d.csv: p,i,x,lt), 10 persons × 6 items
    // with cells (2,3) and (7,0) missing.
    const P: [u32; 58] = [
        0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 6, 6,
        6, 6, 6, 6, 7, 7, 7, 7, 7, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9,
    ];
    const I: [u32; 58] = [
        0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1,
        2, 3, 4, 5, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5,
    ];
    const X: [u8; 58] = [
        1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0,
    ];
    const LT: [f64; 58] = [
        2.091, 3.306, 3.459, 2.895, 4.313, 4.621, 4.677, 3.565, 3.401, 4.078, 4.57, 5.047, 3.269, 3.01, 4.273, 2.89,
        3.824, 3.167, 4.465, 4.039, 2.603, 4.262, 3.493, 3.246, 2.554, 3.367, 2.079, 3.769, 3.759, 3.068, 2.504, 2.368,
        3.727, 3.548, 3.472, 2.692, 3.333, 4.095, 2.78, 3.022, 3.709, 2.815, 3.14, 2.981, 3.904, 2.664, 3.62, 4.305,
        4.25, 3.832, 4.145, 4.318, 2.275, 3.29, 3.472, 3.221, 3.932, 2.755,
    ];

    fn bank() -> Bank {
        let rows: Vec<(u32, u32, u8, f64)> = (0..58).map(|k| (P[k], I[k], X[k], LT[k])).collect();
        Bank::from_rows(10, 6, &rows)
    }

    const TIGHT: FitOptions = FitOptions { max_iter: 2000, tol: 1e-12 };

    #[test]
    fn jml_matches_glm_with_person_and_item_effects() {
        // R 4.x:
        //   d <- read.csv("d.csv"); d$p <- factor(d$p); d$i <- factor(d$i)
        //   g <- glm(x ~ 0 + p + i, binomial, d, control = glm.control(epsilon = 1e-12, maxit = 100))
        //   nd <- expand.grid(p = factor(0:9), i = factor(0:5))
        //   matrix(predict(g, nd, type = "link"), 10, 6)[c(1, 4, 10), ]; logLik(g)
        // -> persons 0, 3, 9 (rows) × items 0..5 (columns), logLik -26.109130
        let want = [
            [0.011189, 0.050325, 0.050325, -1.229094, -1.288138, -3.492118],
            [1.803268, 1.842404, 1.842404, 0.562985, 0.503941, -1.700039],
            [1.803268, 1.842404, 1.842404, 0.562985, 0.503941, -1.700039],
        ];
        let b = bank();
        let (theta, bj, informs, it) = rasch_jml(&b, TIGHT);
        assert!(it < 100, "JML took {it} iterations");
        assert!(informs.iter().all(|&i| i));
        for (row, &p) in [0usize, 3, 9].iter().enumerate() {
            for j in 0..6 {
                let eta = theta[p] - bj[j];
                assert!((eta - want[row][j]).abs() < 1e-4, "p{p} i{j}: {eta} vs {}", want[row][j]);
            }
        }
        let ll: f64 = (0..10)
            .map(|p| {
                let rg = b.range(p);
                let bs: Vec<f64> = b.items[rg.clone()].iter().map(|&j| bj[j as usize]).collect();
                rasch_loglik(&bs, &b.x[rg], theta[p])
            })
            .sum();
        assert!((ll - -26.109130).abs() < 1e-4, "{ll}");
    }

    #[test]
    fn rt_fgls_matches_lm_and_its_weighted_refit() {
        // R 4.x:
        //   f0 <- lm(lt ~ p + i, d)
        //   s2 <- tapply(resid(f0)^2, d$i, sum) / as.vector(table(d$i)) * nrow(d) / f0$df.residual
        //   f1 <- lm(lt ~ p + i, d, weights = 1 / s2[as.integer(d$i)])
        //   s2; matrix(predict(f1, nd), 10, 6)[c(1, 4, 10), ]
        let s2 = [0.358071, 0.251035, 0.383408, 0.345447, 0.272653, 0.316798];
        let want = [
            [3.112429, 3.350533, 3.622233, 3.153840, 3.871333, 3.802033],
            [3.350169, 3.588273, 3.859973, 3.391580, 4.109073, 4.039773],
            [2.805688, 3.043792, 3.315492, 2.847099, 3.564592, 3.495292],
        ];
        let m = LogNormalRt::fit(&bank(), TIGHT).unwrap();
        for j in 0..6 {
            assert!((1.0 / (m.alpha[j] * m.alpha[j]) - s2[j]).abs() < 1e-5, "item {j}");
        }
        for (row, &p) in [0usize, 3, 9].iter().enumerate() {
            for j in 0..6 {
                let fv = m.beta[j] - m.tau[p];
                assert!((fv - want[row][j]).abs() < 1e-5, "p{p} i{j}: {fv} vs {}", want[row][j]);
            }
        }
        // Mean τ is 0 and the LOO β removes one observation exactly.
        assert!(m.tau.iter().sum::<f64>().abs() < 1e-9);
        let b = bank();
        let k = b.range(3).start; // person 3, item 0
                                  // (Times are stored as f32 in the bank.)
        let loo = m.beta_without(0, 3, b.logt[k] as f64);
        let direct =
            (0..58).filter(|&q| I[q] == 0 && P[q] != 3).map(|q| b.logt[q] as f64 + m.tau[P[q] as usize]).sum::<f64>()
                / 8.0;
        assert!((loo - direct).abs() < 1e-12, "{loo} vs {direct}");
    }

    #[test]
    fn bias_correction_shrinks_difficulties_and_loo_moves_the_right_way() {
        let b = bank();
        let (_, raw, _, _) = rasch_jml(&b, TIGHT);
        let fit = Rasch::fit(&b, TIGHT);
        let l = 58.0 / 10.0;
        for j in 0..6 {
            assert!((fit.b[j] - raw[j] * (l - 1.0) / l).abs() < 1e-9);
        }
        // Person 0 got item 0 right: without it, item 0 is harder.
        assert!(fit.b_without(0, 0, 1) > fit.b[0]);
        assert!(fit.b_without(1, 0, 0) < fit.b[1]);
    }

    #[test]
    fn signed_lr_statistics() {
        // Equal performance on both halves: L_s = 0.
        let bs = [0.0, 0.5, -0.5, 0.0];
        assert_eq!(signed_lr_scores(&bs, &[1, 0, 1, 0], &bs, &[1, 0, 1, 0]), Some(0.0));
        // All right on S, half on N: positive, and the perfect subset is handled.
        let l = signed_lr_scores(&bs, &[1, 1, 1, 1], &bs, &[1, 0, 1, 0]).unwrap();
        // The perfect subset contributes its supremum 0 to the likelihood.
        let all_b: Vec<f64> = bs.iter().chain(&bs).copied().collect();
        let th = theta_mle(&all_b, 6.0);
        let thn = theta_mle(&bs, 2.0);
        let lr = 2.0 * (rasch_loglik(&bs, &[1, 0, 1, 0], thn) - rasch_loglik(&all_b, &[1, 1, 1, 1, 1, 0, 1, 0], th));
        assert!((l - lr.sqrt()).abs() < 1e-12 && l > 0.0);
        assert!(signed_lr_scores(&[], &[], &bs, &[1, 0, 1, 0]).is_none());
        // Λ_s: S 0.5 log units faster with W_S = W_N = 4: 0.5 / √0.5.
        let s = [(1.0, 0.5); 4];
        let n = [(1.0, 0.0); 4];
        assert!((signed_lr_times(&s, &n).unwrap() - 0.5 / 0.5f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn fisher_matches_r() {
        // R: pchisq(-2 * sum(log(c(0.01, 0.2))), df = 4, lower.tail = FALSE) -> 0.0144292162
        assert!((fisher(&[0.01, 0.2]) - 0.0144292162).abs() < 1e-10);
        assert!((fisher(&[0.3]) - 0.3).abs() < 1e-12);
    }
}
