//! `exam.pass_rate` (exam centres, by the session's institution) and
//! `exam.training_pass_rate` (training institutions, by the record's
//! `training_institution_id`): first-sitting pass rates against peers.
//!
//! Method (DESIGN.md "Pass rates"): for every institution `u` and every
//! operation × part cell `c` it sat candidates in, the peers' pass rate
//! `p_c` is the pooled rate of all *other* institutions' first sittings in
//! `c` (half-count corrected). Indirect standardisation gives the expected
//! passes `E = Σ n_c·p_c` and null variance `V = Σ n_c·p_c(1 − p_c)`; the
//! standardised ratio `O/E` with `s = √V/E` goes on a funnel whose spread is
//! inflated for overdispersion estimated from all institutions of the group
//! ([`crate::stats::funnel`]; multiplicative φ or DerSimonian–Laird τ², per
//! `[params.exam] overdispersion`). The p-value is the exact binomial upper
//! tail of `O` out of `n` at `E/n`, on counts deflated by the institution's
//! inflation factor (so small centres get exact tails, and a strong-but-honest
//! large centre is judged against the real spread between centres); then
//! Benjamini–Hochberg over the group. A finding needs q < `fdr_q` and at
//! least `pass_min_excess_share` of the expected failures passing instead.

use std::collections::BTreeMap;

use super::{cell_label, fmt_p, stat_severity, Cell, Exams, Params, ROWS};
use crate::checks::ExamCheck;
use crate::checks::{Chart, ColKind, Ctx, EvidenceTable, Finding, SubjectKind};
use crate::dataset::rows::ExamRecord;
use crate::stats::fdr::bh_adjust;
use crate::stats::funnel::{norm_quantile, quasi_binomial_upper, Dispersion, Method, Unit};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    /// Exam centres: the session's institution.
    Centre,
    /// Training institutions: the record's `training_institution_id`.
    Training,
}

impl Group {
    fn check(self) -> ExamCheck {
        match self {
            Group::Centre => ExamCheck::PassRate,
            Group::Training => ExamCheck::TrainingPassRate,
        }
    }

    fn unit_of(self, ex: &Exams, r: &ExamRecord) -> Option<u32> {
        match self {
            Group::Centre => Some(ex.session_of(r).inst),
            Group::Training => r.training_inst,
        }
    }

    fn words(self) -> (&'static str, &'static str) {
        match self {
            Group::Centre => ("考点", "exam centres"),
            Group::Training => ("培训机构", "training institutions"),
        }
    }
}

/// First-sitting counts of one institution in one cell.
#[derive(Debug, Clone, Copy, Default)]
struct Count {
    n: u64,
    pass: u64,
}

/// Counts per cell and institution, plus a session that names each cell.
struct Tally {
    cells: BTreeMap<Cell, BTreeMap<u32, Count>>,
    label_session: BTreeMap<Cell, usize>,
}

fn tally(ex: &Exams, group: Group, pass_mark: f64) -> Tally {
    let mut cells: BTreeMap<Cell, BTreeMap<u32, Count>> = BTreeMap::new();
    let mut label_session = BTreeMap::new();
    for r in ex.records.iter().filter(|r| r.attempt <= 1) {
        let Some(u) = group.unit_of(ex, r) else { continue };
        let s = ex.session_of(r);
        let cell = Cell::of(s.operation, s.part);
        label_session.entry(cell).or_insert(r.session as usize);
        let c = cells.entry(cell).or_default().entry(u).or_default();
        c.n += 1;
        c.pass += u64::from(f64::from(r.score) >= pass_mark);
    }
    Tally { cells, label_session }
}

/// One institution's standardised comparison.
struct Std {
    unit: u32,
    n: u64,
    observed: u64,
    expected: f64,
    variance: f64,
    /// (cell, n, passes, peer rate, peer n)
    cells: Vec<(Cell, u64, u64, f64, u64)>,
}

fn standardise(tally: &Tally, min_peer_n: u64) -> Vec<Std> {
    let mut by_unit: BTreeMap<u32, Std> = BTreeMap::new();
    for (cell, units) in &tally.cells {
        let (tn, tp) = units.values().fold((0, 0), |(a, b), c| (a + c.n, b + c.pass));
        for (&u, c) in units {
            let peer_n = tn - c.n;
            if peer_n < min_peer_n {
                continue;
            }
            let p = ((tp - c.pass) as f64 + 0.5) / (peer_n as f64 + 1.0);
            let e = by_unit.entry(u).or_insert(Std {
                unit: u,
                n: 0,
                observed: 0,
                expected: 0.0,
                variance: 0.0,
                cells: Vec::new(),
            });
            e.n += c.n;
            e.observed += c.pass;
            e.expected += c.n as f64 * p;
            e.variance += c.n as f64 * p * (1.0 - p);
            e.cells.push((*cell, c.n, c.pass, p, peer_n));
        }
    }
    by_unit.into_values().filter(|s| s.expected > 0.0 && s.variance > 0.0).collect()
}

fn unit_of_std(s: &Std) -> Unit {
    Unit { y: s.observed as f64 / s.expected, s: s.variance.sqrt() / s.expected }
}

pub(super) fn run(ctx: &Ctx, ex: &Exams, p: &Params) -> Vec<Finding> {
    let mut out = group_findings(ctx, ex, p, Group::Centre);
    out.extend(group_findings(ctx, ex, p, Group::Training));
    out
}

fn group_findings(ctx: &Ctx, ex: &Exams, p: &Params, group: Group) -> Vec<Finding> {
    let pass_mark = ctx.ops.exam.pass_mark;
    let tally = tally(ex, group, pass_mark);
    let stds = standardise(&tally, p.min_peer_n);
    if stds.is_empty() {
        return Vec::new();
    }
    let units: Vec<Unit> = stds.iter().map(unit_of_std).collect();
    let disp = Dispersion::estimate(&units, 1.0, p.overdispersion, p.winsor_low, p.winsor_high, p.min_units_dispersion);
    let pvals: Vec<f64> = stds
        .iter()
        .zip(&units)
        .map(|(s, u)| quasi_binomial_upper(s.observed as f64, s.n as f64, s.expected / s.n as f64, disp.inflation(u.s)))
        .collect();
    let qvals = bh_adjust(&pvals);
    let funnels = cell_funnels(ctx, ex, &tally, p, group);
    let (gzh, gen) = group.words();
    let mut out = Vec::new();
    for ((s, u), (&pv, &q)) in stds.iter().zip(&units).zip(pvals.iter().zip(&qvals)) {
        let n = s.n as f64;
        let headroom = n - s.expected;
        let excess = if headroom > 0.0 { (s.observed as f64 - s.expected) / headroom } else { 0.0 };
        if q >= p.fdr_q || excess < p.pass_min_excess_share {
            continue;
        }
        let effect = excess / p.pass_full_excess_share;
        let sev = stat_severity(q, p, effect);
        let z = disp.z(*u, 1.0);
        let inst = ctx.t.inst_id(s.unit).to_string();
        let rate = s.observed as f64 / n;
        let exp_rate = s.expected / n;
        let disp_en = match disp.method {
            Method::Multiplicative => {
                format!("multiplicative φ = {:.2} (winsorised z², {} institutions)", disp.phi, disp.units)
            }
            Method::Additive => {
                format!("additive τ² = {:.4} (DerSimonian–Laird, {} institutions)", disp.tau2, disp.units)
            }
        };
        let disp_zh = match disp.method {
            Method::Multiplicative => format!("乘性过度离散 φ = {:.2}（缩尾 z²，{} 个机构）", disp.phi, disp.units),
            Method::Additive => {
                format!("加性过度离散 τ² = {:.4}（DerSimonian–Laird，{} 个机构）", disp.tau2, disp.units)
            }
        };
        let mut f = Finding::new(&inst, group.check(), sev)
            .stat(s.observed as f64 / s.expected, Some(q))
            .summary(
                format!(
                    "首考通过 {}/{}（{:.1}%），同类{}预期 {:.1}（{:.1}%），标准化比 {:.2}，q = {}",
                    s.observed,
                    s.n,
                    100.0 * rate,
                    gzh,
                    s.expected,
                    100.0 * exp_rate,
                    s.observed as f64 / s.expected,
                    fmt_p(q)
                ),
                format!(
                    "{}/{} first sittings passed ({:.1}%) where peer {} would pass {:.1} ({:.1}%): ratio {:.2}, q = {}",
                    s.observed,
                    s.n,
                    100.0 * rate,
                    gen,
                    s.expected,
                    100.0 * exp_rate,
                    s.observed as f64 / s.expected,
                    fmt_p(q)
                ),
            )
            .method(
                format!(
                    "与同一作业类别、同一科目的其他{gzh}首考通过率比较（间接标准化：预期通过数 E = Σ n·p_同类 = {:.1}，n = {}）；\
                     漏斗图控制限考虑机构间{disp_zh}，调整后 z = {z:.2}；按膨胀系数折算后的精确二项上尾概率 p = {}；\
                     对 {} 个{gzh}做 Benjamini–Hochberg 校正，q = {}。",
                    s.expected,
                    s.n,
                    fmt_p(pv),
                    stds.len(),
                    fmt_p(q)
                ),
                format!(
                    "Compared with the first sittings of other {gen} in the same operation and exam part (indirect \
                     standardisation: expected passes E = Σ n·p_peer = {:.1}, n = {}); funnel limits allow for {disp_en}, \
                     adjusted z = {z:.2}; exact binomial upper tail on counts deflated by that inflation, p = {}; \
                     Benjamini–Hochberg over {} {gen}, q = {}.",
                    s.expected,
                    s.n,
                    fmt_p(pv),
                    stds.len(),
                    fmt_p(q)
                ),
            );
        let mut cells = EvidenceTable::new(
            "各作业类别与科目的首考通过情况",
            "First sittings by operation and part",
            "derived",
            &[
                ("operation / part", ColKind::Text),
                ("first sittings", ColKind::Number),
                ("passed", ColKind::Number),
                ("pass rate", ColKind::Number),
                ("peer pass rate", ColKind::Number),
                ("peer first sittings", ColKind::Number),
                ("expected passes", ColKind::Number),
            ],
        );
        for (cell, cn, cp, pr, pn) in &s.cells {
            let label = tally.label_session.get(cell).map(|&i| cell_label(ctx, &ex.sessions[i]).1).unwrap_or_default();
            cells.push_limited(
                vec![
                    label,
                    cn.to_string(),
                    cp.to_string(),
                    format!("{:.3}", *cp as f64 / *cn as f64),
                    format!("{pr:.3}"),
                    pn.to_string(),
                    format!("{:.1}", *cn as f64 * pr),
                ],
                ROWS,
            );
        }
        f = f.evidence(cells);
        // The funnel of the cell where this institution sat most candidates.
        if let Some((cell, ..)) = s.cells.iter().max_by_key(|c| (c.1, std::cmp::Reverse(c.0))) {
            if let Some(Chart::Funnel { title, points, target, limits, .. }) = funnels.get(cell) {
                f = f.chart(Chart::Funnel {
                    title: title.clone(),
                    points: points.clone(),
                    highlight: inst.clone(),
                    target: *target,
                    limits: limits.clone(),
                });
            }
        }
        out.push(f);
    }
    attach_candidates(ctx, ex, p, group, &mut out);
    out
}

/// Lists each flagged institution's passing first sittings, and flags
/// sessions (exam centres) where every first sitting passed.
fn attach_candidates(ctx: &Ctx, ex: &Exams, p: &Params, group: Group, out: &mut [Finding]) {
    if out.is_empty() {
        return;
    }
    let pass_mark = ctx.ops.exam.pass_mark;
    let mut idx: BTreeMap<u32, usize> = BTreeMap::new();
    for (i, f) in out.iter().enumerate() {
        if let Some(u) = ctx.t.inst_index(&f.institution_id) {
            idx.insert(u, i);
        }
    }
    let mut tables: Vec<EvidenceTable> = (0..out.len())
        .map(|_| {
            EvidenceTable::new(
                "通过的首考考生",
                "Passing first sittings",
                "exam_records",
                &[
                    ("record_id", ColKind::Text),
                    ("person_id", ColKind::PersonId),
                    ("session_id", ColKind::Text),
                    ("exam centre", ColKind::Text),
                    ("seat", ColKind::Text),
                    ("submit_at", ColKind::Time),
                    ("score", ColKind::Number),
                ],
            )
        })
        .collect();
    for r in ex.records.iter().filter(|r| r.attempt <= 1 && f64::from(r.score) >= pass_mark) {
        let Some(u) = group.unit_of(ex, r) else { continue };
        let Some(&i) = idx.get(&u) else { continue };
        let s = ex.session_of(r);
        let t = ctx.t;
        tables[i].push_limited(
            vec![
                t.s(r.id).to_string(),
                t.s(r.person).to_string(),
                t.s(s.id).to_string(),
                t.inst_id(s.inst).to_string(),
                r.seat.map(|x| t.s(x).to_string()).unwrap_or_default(),
                super::fmt_opt_ts(r.submit_at),
                format!("{}", r.score),
            ],
            ROWS,
        );
    }
    for (f, t) in out.iter_mut().zip(tables) {
        f.evidence.push(t);
    }
    if group == Group::Centre {
        for (si, s) in ex.sessions.iter().enumerate() {
            let Some(&i) = idx.get(&s.inst) else { continue };
            let firsts: Vec<&ExamRecord> =
                ex.of_session(si).iter().map(|&r| &ex.records[r as usize]).filter(|r| r.attempt <= 1).collect();
            if firsts.len() >= p.heaping_min_n as usize / 2 && firsts.iter().all(|r| f64::from(r.score) >= pass_mark) {
                let strength = 0.5 * out[i].severity;
                let f = std::mem::replace(&mut out[i], Finding::new("", group.check(), 0.0));
                out[i] = f.flag(SubjectKind::Session, ctx.t.s(s.id), strength);
            }
        }
    }
}

/// Funnel chart per cell: every institution's first-sitting pass rate, the
/// pooled rate, and 95 % / 99.8 % limits with the cell's own overdispersion.
fn cell_funnels(ctx: &Ctx, ex: &Exams, tally: &Tally, p: &Params, group: Group) -> BTreeMap<Cell, Chart> {
    let (z95, z998) = (norm_quantile(0.975), norm_quantile(0.999));
    let (gzh, gen) = group.words();
    let mut out = BTreeMap::new();
    for (cell, units) in &tally.cells {
        let (tn, tp) = units.values().fold((0u64, 0u64), |(a, b), c| (a + c.n, b + c.pass));
        if tn == 0 {
            continue;
        }
        let p0 = tp as f64 / tn as f64;
        let fu: Vec<Unit> = units
            .values()
            .map(|c| Unit { y: c.pass as f64 / c.n as f64, s: (p0 * (1.0 - p0) / c.n as f64).sqrt() })
            .collect();
        let disp = if p0 > 0.0 && p0 < 1.0 {
            Dispersion::estimate(&fu, p0, p.overdispersion, p.winsor_low, p.winsor_high, p.min_units_dispersion)
        } else {
            Dispersion::none(p.overdispersion)
        };
        let points: Vec<(String, f64, f64)> = units
            .iter()
            .map(|(&u, c)| (ctx.t.inst_id(u).to_string(), c.n as f64, c.pass as f64 / c.n as f64))
            .collect();
        let max_n = units.values().map(|c| c.n).max().unwrap_or(1).max(2) as f64;
        let limits = (0..=40)
            .map(|i| {
                let n = max_n.powf(f64::from(i) / 40.0).max(1.0);
                let (l95, u95) = disp.proportion_limits(p0, n, z95);
                let (l998, u998) = disp.proportion_limits(p0, n, z998);
                (n, l95, u95, l998, u998)
            })
            .collect();
        let (lzh, len) = tally.label_session.get(cell).map(|&i| cell_label(ctx, &ex.sessions[i])).unwrap_or_default();
        out.insert(
            *cell,
            Chart::Funnel {
                title: format!("{lzh} 首考通过率（{gzh}）/ {len} first-sitting pass rate ({gen})"),
                points,
                highlight: String::new(),
                target: p0,
                limits,
            },
        );
    }
    out
}

/// One funnel per operation × part for exam centres and for training
/// institutions, nothing highlighted.
pub(super) fn overview_charts(ctx: &Ctx, ex: &Exams, p: &Params) -> Vec<Chart> {
    let pass_mark = ctx.ops.exam.pass_mark;
    let mut out = Vec::new();
    for group in [Group::Centre, Group::Training] {
        let tally = tally(ex, group, pass_mark);
        out.extend(cell_funnels(ctx, ex, &tally, p, group).into_values());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{of, ts, Fx};
    use crate::checks::Chart;
    use crate::dataset::rows::Part;

    /// `centres` as (id, candidates, passes); sessions of 20 in 低压电工 theory.
    fn province(centres: &[(&str, usize, usize)]) -> Fx {
        let mut fx = Fx::new();
        let mut person = 0;
        for (ci, &(id, n, passes)) in centres.iter().enumerate() {
            let inst = fx.inst(id, None);
            let mut s = 0;
            for k in 0..n {
                if k % 20 == 0 {
                    s = fx.session(inst, "低压电工", Part::Theory, ts(ci as i32, 9, 0), 120);
                }
                person += 1;
                fx.record(s, &format!("P{person}"), if k < passes { 85.0 } else { 60.0 });
            }
        }
        fx
    }

    fn honest_peers() -> Vec<(&'static str, usize, usize)> {
        // Honest centres vary between 65 % and 82 %.
        vec![
            ("C01", 300, 210),
            ("C02", 240, 180),
            ("C03", 400, 290),
            ("C04", 200, 130),
            ("C05", 350, 270),
            ("C06", 280, 200),
            ("C07", 180, 140),
            ("C08", 320, 220),
            ("C09", 260, 195),
            ("C10", 220, 160),
        ]
    }

    #[test]
    fn cheating_centre_is_found_with_funnel() {
        let mut c = honest_peers();
        c.push(("CHEAT", 300, 296));
        let f = province(&c).run(crate::checks::exam::run);
        let pr = of(&f, "exam.pass_rate");
        assert_eq!(pr.len(), 1, "{pr:#?}");
        assert_eq!(pr[0].institution_id, "CHEAT");
        assert!(pr[0].severity > 0.7, "{}", pr[0].severity);
        assert!(pr[0].p_value.unwrap() < 1e-4);
        assert!(matches!(&pr[0].charts[0], Chart::Funnel { highlight, .. } if highlight == "CHEAT"));
        assert_eq!(pr[0].evidence[1].total_rows, 296);
    }

    #[test]
    fn tiny_perfect_and_strong_honest_centres_are_not_flagged() {
        let mut c = honest_peers();
        c.push(("TINY", 10, 10));
        c.push(("STRONG", 400, 324)); // 81 % against peers' ~72 %, within the spread
        let f = province(&c).run(crate::checks::exam::run);
        assert!(of(&f, "exam.pass_rate").is_empty(), "{:#?}", of(&f, "exam.pass_rate"));
    }

    #[test]
    fn training_institutions_are_compared_too() {
        let mut fx = province(&honest_peers());
        let centre = fx.inst("C99", None);
        let trainer = fx.inst("T-CHEAT", None);
        let s = fx.session(centre, "低压电工", Part::Theory, ts(20, 9, 0), 120);
        for k in 0..200 {
            fx.record(s, &format!("Q{k}"), 90.0).training_inst = Some(trainer);
        }
        // Peers: training institutions T0..T9, one per honest centre.
        let tr: Vec<u32> = (0..10).map(|i| fx.inst(&format!("T{i}"), None)).collect();
        let recs = fx.t.exam_records.as_mut().unwrap();
        for (i, r) in recs.iter_mut().enumerate() {
            if r.training_inst.is_none() {
                r.training_inst = Some(tr[i % 10]);
            }
        }
        let f = fx.run(crate::checks::exam::run);
        let tp = of(&f, "exam.training_pass_rate");
        assert_eq!(tp.len(), 1, "{tp:#?}");
        assert_eq!(tp[0].institution_id, "T-CHEAT");
    }
}
