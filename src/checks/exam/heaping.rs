//! `exam.score_heaping`: scores heaped just at/above the pass mark.
//!
//! For each exam centre and operation × part cell, the scores in
//! `[mark, mark + w)` and `[mark − w, mark)` are counted (`w` per part,
//! `[params.exam] heaping_width_*`). Under the null the share above equals
//! the peers' share in the same cell (all other centres; half-count
//! corrected); the test is the binomial upper tail conditional on the total
//! in the two windows ([`crate::stats::heaping`]), with counts deflated by
//! the cell's overdispersion between centres (a centre whose whole
//! distribution sits higher has a somewhat higher share above the mark
//! without any heaping). Benjamini–Hochberg over all centre × cell tests; a
//! finding needs q < `fdr_q` and an odds ratio against peers of at least
//! `heaping_min_odds_ratio`. Examiners pushing practical scores over the
//! line is the reported pattern, so theory heaping is weighted by
//! `heaping_theory_factor`.

use std::collections::BTreeMap;

use super::{cell_label, fmt_p, stat_severity, Cell, Exams, Params, ROWS};
use crate::checks::ExamCheck;
use crate::checks::{Chart, ColKind, Ctx, EvidenceTable, Finding, SubjectKind};
use crate::dataset::rows::Part;
use crate::stats::fdr::bh_adjust;
use crate::stats::funnel::{Dispersion, Unit};
use crate::stats::heaping::{heaping_p, Window};

/// Score histogram range for the chart: from `mark − 30` to the maximum.
const HIST_BELOW: f64 = 30.0;

struct Test {
    inst: u32,
    cell: Cell,
    this: Window,
    peers: Window,
    p: f64,
}

pub(super) fn run(ctx: &Ctx, ex: &Exams, p: &Params) -> Vec<Finding> {
    let mark = ctx.ops.exam.pass_mark;
    let width = |part: Part| match part {
        Part::Theory => p.heaping_width_theory,
        Part::Practical => p.heaping_width_practical,
    };
    let mut cells: BTreeMap<Cell, BTreeMap<u32, Window>> = BTreeMap::new();
    let mut label: BTreeMap<Cell, usize> = BTreeMap::new();
    for r in ex.records {
        let s = ex.session_of(r);
        let cell = Cell::of(s.operation, s.part);
        label.entry(cell).or_insert(r.session as usize);
        cells.entry(cell).or_default().entry(s.inst).or_default().add(f64::from(r.score), mark, width(s.part));
    }
    let mut tests = Vec::new();
    for (cell, units) in &cells {
        let total = units
            .values()
            .fold(Window::default(), |a, w| Window { above: a.above + w.above, below: a.below + w.below });
        let p0 = total.share();
        let fu: Vec<Unit> = units
            .values()
            .filter(|w| w.n() > 0)
            .map(|w| Unit { y: w.above as f64 / w.n() as f64, s: (p0 * (1.0 - p0) / w.n() as f64).sqrt() })
            .collect();
        let disp = Dispersion::estimate(&fu, p0, p.overdispersion, p.winsor_low, p.winsor_high, p.min_units_dispersion);
        for (&inst, w) in units {
            let peers = total.minus(w);
            if w.n() < p.heaping_min_n || peers.n() < p.heaping_min_n {
                continue;
            }
            let s = (p0 * (1.0 - p0) / w.n() as f64).sqrt();
            tests.push(Test { inst, cell: *cell, this: *w, peers, p: heaping_p(w, peers.share(), disp.inflation(s)) });
        }
    }
    let q = bh_adjust(&tests.iter().map(|t| t.p).collect::<Vec<_>>());
    // Strongest significant cell per centre.
    let mut best: BTreeMap<u32, (usize, f64)> = BTreeMap::new();
    for (i, t) in tests.iter().enumerate() {
        let or = t.this.odds_ratio(&t.peers);
        if q[i] >= p.fdr_q || or < p.heaping_min_odds_ratio {
            continue;
        }
        let factor = if t.cell.part() == Part::Theory { p.heaping_theory_factor } else { 1.0 };
        let effect = (or.ln() / p.heaping_full_odds_ratio.ln()).clamp(0.0, 1.0);
        let sev = stat_severity(q[i], p, effect) * factor;
        if best.get(&t.inst).is_none_or(|b| sev > b.1) {
            best.insert(t.inst, (i, sev));
        }
    }
    let mut out = Vec::new();
    for (&inst, &(i, sev)) in &best {
        let t = &tests[i];
        let w = width(t.cell.part());
        let Some(&ls) = label.get(&t.cell) else { continue };
        let (lzh, len) = cell_label(ctx, &ex.sessions[ls]);
        let or = t.this.odds_ratio(&t.peers);
        let id = ctx.t.inst_id(inst).to_string();
        let mut f = Finding::new(&id, ExamCheck::ScoreHeaping, sev)
            .stat(or, Some(q[i]))
            .summary(
                format!(
                    "{lzh}：[{mark}, {}) 分 {} 人，[{}, {mark}) 分 {} 人；同类考点分别为 {} 与 {}，比值比 {or:.1}，q = {}",
                    mark + w,
                    t.this.above,
                    mark - w,
                    t.this.below,
                    t.peers.above,
                    t.peers.below,
                    fmt_p(q[i])
                ),
                format!(
                    "{len}: {} scores in [{mark}, {}) vs {} in [{}, {mark}); peers {} vs {}; odds ratio {or:.1}, q = {}",
                    t.this.above,
                    mark + w,
                    t.this.below,
                    mark - w,
                    t.peers.above,
                    t.peers.below,
                    fmt_p(q[i])
                ),
            )
            .method(
                format!(
                    "及格线上方 [{mark}, {}) 与下方 [{}, {mark}) 人数之比，与同一作业类别、科目其他考点的比例（{:.3}）比较：\
                     以两窗口总人数 {} 为条件的二项检验（按考点间过度离散折算），p = {}；对 {} 个考点×科目检验做 \
                     Benjamini–Hochberg 校正。",
                    mark + w,
                    mark - w,
                    t.peers.share(),
                    t.this.n(),
                    fmt_p(t.p),
                    tests.len()
                ),
                format!(
                    "Scores just at/above the pass mark [{mark}, {}) against just below [{}, {mark}), compared with the \
                     share above among other centres in the same operation and part ({:.3}): binomial test conditional \
                     on the {} scores in both windows (counts deflated for overdispersion between centres), p = {}; \
                     Benjamini–Hochberg over {} centre × cell tests.",
                    mark + w,
                    mark - w,
                    t.peers.share(),
                    t.this.n(),
                    fmt_p(t.p),
                    tests.len()
                ),
            );
        let mut table = EvidenceTable::new(
            "及格线附近的成绩",
            "Scores next to the pass mark",
            "exam_records",
            &[
                ("record_id", ColKind::Text),
                ("person_id", ColKind::PersonId),
                ("session_id", ColKind::Text),
                ("seat", ColKind::Text),
                ("submit_at", ColKind::Time),
                ("score", ColKind::Number),
            ],
        );
        let bins = (mark - HIST_BELOW).max(0.0) as usize..=ctx.ops.exam.max_score as usize;
        let nb = bins.clone().count();
        let (mut this, mut peers) = (vec![0.0; nb], vec![0.0; nb]);
        let (mut tn, mut pn) = (0.0f64, 0.0f64);
        let mut flags = Vec::new();
        for r in ex.records {
            let s = ex.session_of(r);
            if Cell::of(s.operation, s.part) != t.cell {
                continue;
            }
            let sc = f64::from(r.score);
            let b = sc.floor() as i64 - *bins.start() as i64;
            let mine = s.inst == inst;
            if mine {
                tn += 1.0;
            } else {
                pn += 1.0;
            }
            if b >= 0 && (b as usize) < nb {
                if mine {
                    this[b as usize] += 1.0;
                } else {
                    peers[b as usize] += 1.0;
                }
            }
            if mine && sc >= mark && sc < mark + w {
                table.push_limited(
                    vec![
                        ctx.t.s(r.id).to_string(),
                        ctx.t.s(r.person).to_string(),
                        ctx.t.s(s.id).to_string(),
                        r.seat.map(|x| ctx.t.s(x).to_string()).unwrap_or_default(),
                        super::fmt_opt_ts(r.submit_at),
                        format!("{}", r.score),
                    ],
                    ROWS,
                );
                flags.push(ctx.t.s(r.id).to_string());
            }
        }
        this.iter_mut().for_each(|x| *x /= tn.max(1.0));
        peers.iter_mut().for_each(|x| *x /= pn.max(1.0));
        f = f.evidence(table).chart(Chart::Histogram {
            title: format!("{lzh} 成绩分布 / {len} score distribution"),
            bin_edges: (*bins.start()..=*bins.end() + 1).map(|x| x as f64).collect(),
            this,
            peers,
            marker: Some(mark),
        });
        // Expected share of those above the mark that are genuine: the
        // strength of each flag is the excess share.
        let excess = 1.0 - 1.0 / or.max(1.0);
        for id in flags {
            f = f.flag(SubjectKind::ExamRecord, id, sev * excess);
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{of, ts, Fx};
    use crate::dataset::rows::Part;

    /// Eight centres of 100 practical candidates each with a smooth score
    /// spread 60–99; centre `shift` points higher for the strong one.
    fn province(heaped: bool, strong: bool) -> Fx {
        let mut fx = Fx::new();
        for c in 0..8 {
            let inst = fx.inst(&format!("C{c}"), None);
            let s = fx.session(inst, "低压电工", Part::Practical, ts(c, 9, 0), 60);
            for k in 0..100 {
                let base = 60.0 + ((k * 37 + c * 11) % 40) as f32;
                let mut score = if strong && c == 7 { (base + 6.0).min(99.0) } else { base };
                if heaped && c == 3 && (70.0..80.0).contains(&score) {
                    score = 80.0;
                }
                fx.record(s, &format!("P{c}-{k}"), score);
            }
        }
        fx
    }

    #[test]
    fn heaped_practical_scores_are_found() {
        let f = province(true, false).run(crate::checks::exam::run);
        let h = of(&f, "exam.score_heaping");
        assert_eq!(h.len(), 1, "{h:#?}");
        assert_eq!(h[0].institution_id, "C3");
        assert!(h[0].severity > 0.5);
        assert!(!h[0].flags.is_empty());
        assert!(matches!(h[0].charts[0], crate::checks::Chart::Histogram { marker: Some(m), .. } if m == 80.0));
    }

    #[test]
    fn smooth_and_shifted_distributions_are_not_flagged() {
        let f = province(false, true).run(crate::checks::exam::run);
        assert!(of(&f, "exam.score_heaping").is_empty());
    }
}
