//! Per-examinee statistics of one question bank (issue 16), on plain
//! numbers: the bank's answers ([`Bank`]), each examinee's log sitting time
//! and score. The accuracy and response-time model is `stats::lnirt`.
//!
//! **Speed.** An examinee's speed is τ̂ of the lognormal model when they
//! have enough timed answers, else minus their log sitting time (login to
//! submit). Each is compared with the bank's population of the same
//! measure: (a) a robust z (median / MAD) of the speed itself, (b) a robust
//! z of the residual of speed regressed (OLS) on ability (θ̂, or the score
//! when only sitting times exist): fast *beyond what ability predicts*.
//! p_speed = Bonferroni over the two one-sided normal tails.
//!
//! **Preknowledge, blind.** Under the model, given θ and τ, an answer's
//! standardised log-time residual z_ij = α_j(ln t_ij − β_j + τ_i) and its
//! accuracy residual x_ij − P_ij are independent, so for every item
//! C_j = Σ_i w_i(−z_ij)(x_ij − P_ij) / √(Σ_i w_i² z_ij² P_ij(1 − P_ij)) is
//! ~N(0, 1); an item whose fast answers are unusually often right (a
//! leaked item) has a large C_j. The suspected set S is the items whose
//! C_j, robustly standardised over the bank's items, reaches `item_z`. For
//! examinee i, S is recomputed with i's own terms subtracted from the sums
//! (leave-one-out from sufficient statistics), and i is scored on S against
//! the other items with Sinharay's signed likelihood ratios: L_s on the
//! answers (2017; item difficulties without i's answers) and Λ_s on the
//! times (2020; β without i's times). The preknowledge z is their Stouffer
//! sum (independent under the model given θ, τ). With weights w_i = 1 the
//! first round treats all examinees alike; later rounds (`rounds`) weight
//! the examinees whose previous preknowledge z reached `focus_z` by 1 and
//! the rest by `background_weight`, so the item statistic listens to the
//! examinees who look like they knew the items.
//!
//! An outside list of suspect items replaces the estimated S.

use crate::stats::funnel::norm_upper;
use crate::stats::lnirt::{fisher, signed_lr_scores, signed_lr_times, Bank, FitOptions, LogNormalRt, Rasch};
use crate::stats::robust::RobustScale;

/// The numeric settings of the model (a view of `[params.examinee]`).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub min_items: usize,
    pub min_population: usize,
    pub min_set_items: usize,
    pub item_z: f64,
    pub min_set_share: f64,
    pub rounds: u32,
    pub focus_z: f64,
    pub background_weight: f64,
    pub min_log_scale: f64,
    pub fit: FitOptions,
}

/// What one examinee of a bank gets.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PersonStat {
    /// Speed as a z (positive = faster): the larger of the two robust z's
    /// (vs peers, and beyond ability); `p_speed` is their Bonferroni p.
    pub speed_z: Option<f64>,
    pub p_speed: Option<f64>,
    /// Whether the speed rests on item times (τ̂) or on the sitting time.
    pub speed_from_items: bool,
    /// Robust z of the speed and of its residual on ability.
    pub z_speed: f64,
    pub z_residual: f64,
    pub l_s: Option<f64>,
    pub lambda_s: Option<f64>,
    pub pk_z: Option<f64>,
    pub p_pk: Option<f64>,
    /// Items of the examinee's suspected set that they answered.
    pub n_set: u32,
    /// Combined p (Fisher over the components present), NaN without any.
    pub p: f64,
}

/// A bank's results.
#[derive(Debug, Clone, Default)]
pub struct BankStats {
    pub persons: Vec<PersonStat>,
    /// Items in the (full-data) suspected set of the last round.
    pub suspect: Vec<bool>,
    /// Rasch JML iterations (for the record).
    pub iterations: u32,
}

/// Answer-level quantities precomputed once per bank.
struct Resid {
    /// x − P.
    e: Vec<f64>,
    /// P(1 − P).
    v: Vec<f64>,
    /// α(y − β + τ), NaN without a time.
    z: Vec<f64>,
}

/// Computes every examinee's statistics. `log_sit[p]` is ln(sitting
/// seconds) or NaN, `score[p]` the record's score, `outside` an external
/// suspected set over the bank's items.
pub fn bank_stats(bank: &Bank, log_sit: &[f64], score: &[f64], outside: Option<&[bool]>, s: &Settings) -> BankStats {
    let np = bank.n_persons();
    let mut out =
        BankStats { persons: vec![PersonStat::default(); np], suspect: vec![false; bank.n_items], iterations: 0 };
    let enough: Vec<bool> = (0..np).map(|p| bank.range(p).len() >= s.min_items).collect();
    let n_enough = enough.iter().filter(|&&e| e).count();
    let rasch = (n_enough >= s.min_population).then(|| Rasch::fit(bank, s.fit));
    let rt = if n_enough >= s.min_population { LogNormalRt::fit(bank, s.fit) } else { None };
    if let Some(r) = &rasch {
        out.iterations = r.iterations;
    }
    let timed: Vec<usize> = (0..np).map(|p| bank.range(p).filter(|&k| bank.logt[k].is_finite()).count()).collect();

    // -- speed
    let mut from_items = vec![false; np];
    let mut measure = vec![f64::NAN; np];
    let mut ability = vec![f64::NAN; np];
    for p in 0..np {
        if let (Some(m), Some(r)) = (&rt, &rasch) {
            if timed[p] >= s.min_items && m.tau[p].is_finite() && r.theta[p].is_finite() {
                from_items[p] = true;
                measure[p] = m.tau[p];
                ability[p] = r.theta[p];
                continue;
            }
        }
        if log_sit[p].is_finite() {
            measure[p] = -log_sit[p];
            ability[p] = score[p];
        }
    }
    for group in [true, false] {
        let idx: Vec<usize> = (0..np).filter(|&p| measure[p].is_finite() && from_items[p] == group).collect();
        if idx.len() < s.min_population {
            continue;
        }
        let m: Vec<f64> = idx.iter().map(|&p| measure[p]).collect();
        let a: Vec<f64> = idx.iter().map(|&p| ability[p]).collect();
        let (c, d) = ols(&a, &m);
        let res: Vec<f64> = m.iter().zip(&a).map(|(y, x)| y - c - d * x).collect();
        let sm = RobustScale::of(&m, s.min_log_scale);
        let sr = RobustScale::of(&res, s.min_log_scale);
        for (k, &p) in idx.iter().enumerate() {
            let (z1, z2) = (sm.z(m[k]), sr.z(res[k]));
            let ps = (2.0 * norm_upper(z1).min(norm_upper(z2))).min(1.0);
            let st = &mut out.persons[p];
            st.speed_from_items = group;
            st.z_speed = z1;
            st.z_residual = z2;
            st.p_speed = Some(ps);
            st.speed_z = Some(z1.max(z2));
        }
    }

    // -- preknowledge
    if let (Some(r), Some(m)) = (&rasch, &rt) {
        let res = residuals(bank, r, m);
        let mut weights = vec![1.0; np];
        for round in 0..s.rounds.max(1) {
            let (num, var) = item_sums(bank, &res, &weights);
            let cut = set_cut(&num, &var, s);
            let full_set: Vec<bool> = match outside {
                Some(o) => o.to_vec(),
                None => (0..bank.n_items).map(|j| in_set(num[j], var[j], cut)).collect(),
            };
            for p in 0..np {
                let st = &mut out.persons[p];
                (st.l_s, st.lambda_s, st.pk_z, st.p_pk, st.n_set) = (None, None, None, None, 0);
                if !enough[p] {
                    continue;
                }
                let w = weights[p];
                let set_of = |k: usize| -> bool {
                    let j = bank.items[k] as usize;
                    match outside {
                        Some(o) => o[j],
                        None => {
                            let (zn, e, v) = (res.z[k], res.e[k], res.v[k]);
                            let (dn, dv) = if zn.is_finite() { (w * -zn * e, w * w * zn * zn * v) } else { (0.0, 0.0) };
                            in_set(num[j] - dn, var[j] - dv, cut)
                        }
                    }
                };
                let (stat, n_set) = person_pk(bank, r, m, p, &set_of, s.min_set_items);
                let st = &mut out.persons[p];
                st.n_set = n_set;
                if let Some((ls, lam)) = stat {
                    st.l_s = ls;
                    st.lambda_s = lam;
                    let zs: Vec<f64> = [ls, lam].into_iter().flatten().collect();
                    if !zs.is_empty() {
                        let z = zs.iter().sum::<f64>() / (zs.len() as f64).sqrt();
                        st.pk_z = Some(z);
                        st.p_pk = Some(norm_upper(z));
                    }
                }
            }
            out.suspect = full_set;
            if outside.is_some() {
                break;
            }
            if round + 1 < s.rounds {
                for (w, st) in weights.iter_mut().zip(&out.persons) {
                    *w = if st.pk_z.is_some_and(|z| z >= s.focus_z) { 1.0 } else { s.background_weight };
                }
            }
        }
    }

    for st in &mut out.persons {
        let ps: Vec<f64> = [st.p_speed, st.p_pk].into_iter().flatten().collect();
        st.p = if ps.is_empty() { f64::NAN } else { fisher(&ps) };
    }
    out
}

/// OLS intercept and slope of y on x (slope 0 when x does not vary).
fn ols(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    let d = if sxx > 1e-12 { sxy / sxx } else { 0.0 };
    (my - d * mx, d)
}

fn residuals(bank: &Bank, r: &Rasch, m: &LogNormalRt) -> Resid {
    let n = bank.items.len();
    let (mut e, mut v, mut z) = (vec![0.0; n], vec![0.0; n], vec![f64::NAN; n]);
    for p in 0..bank.n_persons() {
        for k in bank.range(p) {
            let j = bank.items[k] as usize;
            let pr = 1.0 / (1.0 + (r.b[j] - r.theta[p]).exp());
            e[k] = bank.x[k] as f64 - pr;
            v[k] = pr * (1.0 - pr);
            let y = bank.logt[k];
            if y.is_finite() && m.tau[p].is_finite() && m.beta[j].is_finite() {
                z[k] = m.alpha[j] * (y as f64 - m.beta[j] + m.tau[p]);
            }
        }
    }
    Resid { e, v, z }
}

/// Per item: Σ w(−z)e and Σ w² z² v.
fn item_sums(bank: &Bank, res: &Resid, w: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (mut num, mut var) = (vec![0.0; bank.n_items], vec![0.0; bank.n_items]);
    for (p, &wp) in w.iter().enumerate() {
        for k in bank.range(p) {
            let z = res.z[k];
            if z.is_finite() {
                let j = bank.items[k] as usize;
                num[j] += wp * -z * res.e[k];
                var[j] += wp * wp * z * z * res.v[k];
            }
        }
    }
    (num, var)
}

/// The C_j an item needs to join the set: `item_z` robust sd above the
/// items' median, or less when fewer than `min_set_share` of the items
/// reach that (the set is then the top share). Any rule works for the null
/// as long as the examinee's own answers do not choose their set; the cut
/// is taken from the full data (one examinee moves it by O(1/examinees))
/// and each examinee's C_j are their leave-one-out values.
fn set_cut(num: &[f64], var: &[f64], s: &Settings) -> f64 {
    let mut c: Vec<f64> = num.iter().zip(var).filter(|(_, &v)| v > 1e-9).map(|(n, v)| n / v.sqrt()).collect();
    if c.is_empty() {
        return f64::INFINITY;
    }
    let scale = RobustScale::of(&c, 0.5);
    c.sort_by(|a, b| b.total_cmp(a));
    let m = ((s.min_set_share * c.len() as f64).ceil() as usize).clamp(1, c.len());
    (scale.median + s.item_z * scale.scale).min(c[m - 1])
}

fn in_set(num: f64, var: f64, cut: f64) -> bool {
    var > 1e-9 && num / var.sqrt() >= cut
}

type PkStat = (Option<f64>, Option<f64>);

/// L_s and Λ_s of person `p` on the answers `set_of` marks; `None` when
/// either side has fewer than `min_set` answers.
fn person_pk(
    bank: &Bank,
    r: &Rasch,
    m: &LogNormalRt,
    p: usize,
    set_of: &dyn Fn(usize) -> bool,
    min_set: usize,
) -> (Option<PkStat>, u32) {
    let (mut bs, mut xs, mut bn, mut xn) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut ts, mut tn) = (Vec::new(), Vec::new());
    for k in bank.range(p) {
        let j = bank.items[k] as usize;
        let x = bank.x[k];
        let b = r.b_without(j, p, x);
        let inset = set_of(k);
        if inset {
            bs.push(b);
            xs.push(x);
        } else {
            bn.push(b);
            xn.push(x);
        }
        let y = bank.logt[k];
        if y.is_finite() && m.beta[j].is_finite() {
            let a2 = m.alpha[j] * m.alpha[j];
            let t = (a2, m.beta_without(j, p, y as f64) - y as f64);
            if inset {
                ts.push(t);
            } else {
                tn.push(t);
            }
        }
    }
    let n_set = bs.len() as u32;
    if bs.len() < min_set || bn.len() < min_set {
        return (None, n_set);
    }
    let ls = signed_lr_scores(&bs, &xs, &bn, &xn);
    let lam = if ts.len() >= min_set && tn.len() >= min_set { signed_lr_times(&ts, &tn) } else { None };
    (Some((ls, lam)), n_set)
}
