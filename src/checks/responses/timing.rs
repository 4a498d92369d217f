//! `exam.answer_change_burst` and `exam.item_time_pattern`: what answers
//! changed to the key and fast-correct answering after a common moment say
//! about answers relayed partway through a session.
//!
//! Both compare a session with its peers (all other sessions of the same
//! operation in the province) by an exact binomial upper tail, and control
//! the false discovery rate with Benjamini–Hochberg across all tested
//! sessions of the province.

use rayon::prelude::*;

use super::pairs::severity;
use super::{Items, Params, SessionMatrix, KEY};
use crate::checks::ResponsesCheck;
use crate::checks::{ColKind, EvidenceTable, Finding, SubjectKind};
use std::collections::{BTreeMap, HashMap};

use crate::dataset::intern::Sym;
use crate::dataset::rows::{fmt_ts, Tables};
use crate::stats::{binom, fdr::bh_adjust};

/// Per-answer indicator a moment test counts.
#[derive(Clone, Copy, PartialEq)]
enum Flagged {
    /// Correct and faster than `fast_fraction` of the item's typical time.
    FastCorrect,
    /// Changed (changes > 0) and ending on the key.
    ChangedToKey,
}

/// One session's counts before and after each candidate moment.
#[derive(Default, Clone)]
struct Moments {
    /// Enough answers carried times to place them in the session.
    timed: bool,
    /// Per grid moment: (n_pre, k_pre, n_post, k_post).
    grid: Vec<(u64, u64, u64, u64)>,
    /// Per row and grid moment: (n_pre, k_pre, n_post, k_post).
    rows: Vec<Vec<(u32, u32, u32, u32)>>,
    /// Flagged and total answers of the whole session (and per row).
    k: u64,
    n: u64,
    row_k: Vec<u32>,
    row_n: Vec<u32>,
    /// Whether the indicator could be computed at all (e.g. `changes` given).
    any_input: bool,
}

fn moments_of(m: &SessionMatrix, t: &Tables, items: &Items, p: &Params, what: Flagged) -> Moments {
    let resp = t.exam_responses.as_deref().unwrap_or(&[]);
    let mut s = Moments::default();
    // Per row: (cumulative seconds at the answer, flagged?).
    let mut seqs: Vec<Vec<(f64, bool)>> = Vec::with_capacity(m.resp_rows.len());
    let (mut timed, mut total) = (0usize, 0usize);
    let mut max_cum = 0.0f64;
    for rows in &m.resp_rows {
        let mut cum = 0.0;
        let mut seq = Vec::with_capacity(rows.len());
        let (mut rk, mut rn) = (0u32, 0u32);
        for &k in rows {
            total += 1;
            let r = &resp[k as usize];
            let sec = r.seconds.filter(|x| *x > 0.0);
            let correct = items.code_of_resp[k as usize] == KEY;
            let flag = match what {
                Flagged::FastCorrect => {
                    let Some(sec) = sec else { continue };
                    let typical = items.mean_log_secs[items.item_of_resp[k as usize] as usize].exp();
                    correct && (sec as f64) < p.fast_fraction * typical
                }
                Flagged::ChangedToKey => {
                    let Some(c) = r.changes else { continue };
                    c > 0 && correct
                }
            };
            s.any_input = true;
            rn += 1;
            rk += flag as u32;
            if let Some(sec) = sec {
                timed += 1;
                cum += sec as f64;
                seq.push((cum, flag));
            }
        }
        s.k += rk as u64;
        s.n += rn as u64;
        s.row_k.push(rk);
        s.row_n.push(rn);
        max_cum = max_cum.max(cum);
        seqs.push(seq);
    }
    if timed * 5 < total * 4 || p.moment_grid_minutes <= 0.0 {
        return s; // fewer than 80 % of answers timed: no moments
    }
    let step = p.moment_grid_minutes * 60.0;
    let n_grid = (max_cum / step).floor() as usize;
    if n_grid < 2 {
        return s;
    }
    s.timed = true;
    s.grid = vec![(0, 0, 0, 0); n_grid - 1];
    for seq in &seqs {
        let mut row = vec![(0u32, 0u32, 0u32, 0u32); n_grid - 1];
        for (g, cell) in row.iter_mut().enumerate() {
            let moment = step * (g + 1) as f64;
            for &(cum, fc) in seq {
                if cum <= moment {
                    cell.0 += 1;
                    cell.1 += fc as u32;
                } else {
                    cell.2 += 1;
                    cell.3 += fc as u32;
                }
            }
            let gs = &mut s.grid[g];
            gs.0 += cell.0 as u64;
            gs.1 += cell.1 as u64;
            gs.2 += cell.2 as u64;
            gs.3 += cell.3 as u64;
        }
        s.rows.push(row);
    }
    s
}

/// A session that passed a moment test.
struct Hit {
    mi: usize,
    p: f64,
    q: f64,
    /// Grid moment index (None = whole-session comparison, no times).
    g: Option<usize>,
    peer: f64,
    pre: Option<f64>,
    post: f64,
    k_post: u64,
    /// (matrix row, share before, share after) of the candidates who moved.
    movers: Vec<(usize, Option<f64>, f64)>,
}

/// Tests every session: with times, the share flagged after the best
/// moment against the larger of the share before it and the peers'
/// (Bonferroni over moments); without times, the whole session against the
/// peers. BH over all tested sessions.
fn moment_tests(
    matrices: &[SessionMatrix],
    ms: &[Moments],
    op_key: &dyn Fn(&SessionMatrix) -> Sym,
    min_shift: f64,
) -> Vec<Hit> {
    let mut op_tot: HashMap<Sym, (u64, u64)> = HashMap::new();
    for (m, s) in matrices.iter().zip(ms) {
        let e = op_tot.entry(op_key(m)).or_default();
        e.0 += s.n;
        e.1 += s.k;
    }
    let mut tests: Vec<Hit> = Vec::new();
    for (mi, (m, s)) in matrices.iter().zip(ms).enumerate() {
        let tot = op_tot.get(&op_key(m)).copied().unwrap_or_default();
        let (pn, pk) = (tot.0 - s.n, tot.1 - s.k);
        if !s.any_input || pn == 0 || s.n == 0 {
            continue;
        }
        let peer = pk as f64 / pn as f64;
        let hit = if s.timed {
            let mut best: Option<(f64, usize)> = None;
            for (g, &(n0, k0, n1, k1)) in s.grid.iter().enumerate() {
                if n0 == 0 || n1 == 0 {
                    continue;
                }
                let r_ref = (k0 as f64 / n0 as f64).max(peer);
                let pv = binom::upper_tail(k1, n1, r_ref);
                if best.is_none_or(|b| pv < b.0) {
                    best = Some((pv, g));
                }
            }
            let Some((pv, g)) = best else { continue };
            let (n0, k0, n1, k1) = s.grid[g];
            let movers = s
                .rows
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    let (a0, b0, a1, b1) = r[g];
                    if a0 == 0 || a1 == 0 {
                        return None;
                    }
                    let (pre, post) = (b0 as f64 / a0 as f64, b1 as f64 / a1 as f64);
                    (post - pre >= min_shift).then_some((i, Some(pre), post))
                })
                .collect();
            Hit {
                mi,
                p: (pv * s.grid.len() as f64).min(1.0),
                q: 1.0,
                g: Some(g),
                peer,
                pre: Some(k0 as f64 / n0 as f64),
                post: k1 as f64 / n1 as f64,
                k_post: k1,
                movers,
            }
        } else {
            let movers = (0..s.row_n.len())
                .filter(|&i| s.row_n[i] > 0 && s.row_k[i] as f64 / s.row_n[i] as f64 - peer >= min_shift)
                .map(|i| (i, None, s.row_k[i] as f64 / s.row_n[i] as f64))
                .collect();
            Hit {
                mi,
                p: binom::upper_tail(s.k, s.n, peer),
                q: 1.0,
                g: None,
                peer,
                pre: None,
                post: s.k as f64 / s.n as f64,
                k_post: s.k,
                movers,
            }
        };
        tests.push(hit);
    }
    let q = bh_adjust(&tests.iter().map(|h| h.p).collect::<Vec<_>>());
    for (h, q) in tests.iter_mut().zip(q) {
        h.q = q;
    }
    tests
}

struct Rec<'a> {
    t: &'a Tables,
}

impl Rec<'_> {
    fn cells(&self, m: &SessionMatrix, row: usize) -> [String; 3] {
        let recs = self.t.exam_records.as_deref().unwrap_or(&[]);
        let r = &recs[m.records[row] as usize];
        [
            self.t.s(r.id).to_string(),
            self.t.s(r.person).to_string(),
            r.seat.map_or_else(String::new, |s| self.t.s(s).to_string()),
        ]
    }
}

fn strength(q: f64, full: f64) -> f64 {
    if q <= 0.0 {
        1.0
    } else {
        (-q.log10() / full).clamp(0.0, 1.0)
    }
}

pub(crate) fn findings(t: &Tables, matrices: &[SessionMatrix], items: &Items, p: &Params) -> Vec<Finding> {
    let Some(sessions) = t.exam_sessions.as_deref() else { return Vec::new() };
    let op_key = |m: &SessionMatrix| sessions[m.session as usize].operation.raw;
    let inst_candidates = {
        let mut v = vec![0usize; t.institutions.len()];
        for m in matrices {
            v[sessions[m.session as usize].inst as usize] += m.records.len();
        }
        v
    };
    let mut out = Vec::new();
    for what in [Flagged::ChangedToKey, Flagged::FastCorrect] {
        let ms: Vec<Moments> = matrices.par_iter().map(|m| moments_of(m, t, items, p, what)).collect();
        let (min_shift, check) = match what {
            Flagged::ChangedToKey => (p.burst_min_shift, ResponsesCheck::AnswerChangeBurst),
            Flagged::FastCorrect => (p.time_min_shift, ResponsesCheck::ItemTimePattern),
        };
        let mut by_inst: BTreeMap<u32, Vec<Hit>> = BTreeMap::new();
        for h in moment_tests(matrices, &ms, &op_key, min_shift) {
            let mut ok = h.q < p.fdr_q && h.movers.len() >= p.time_min_candidates as usize;
            if what == Flagged::ChangedToKey {
                let r_ref = h.pre.unwrap_or(0.0).max(h.peer);
                ok &= h.k_post >= p.burst_min_changes as u64 && h.post >= p.burst_min_ratio * r_ref;
            }
            if what == Flagged::FastCorrect {
                ok &= h.g.is_some();
            }
            if ok {
                by_inst.entry(sessions[matrices[h.mi].session as usize].inst).or_default().push(h);
            }
        }
        for (inst, hits) in by_inst {
            out.push(render(t, matrices, &hits, inst, inst_candidates[inst as usize], what, check, p));
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn render(
    t: &Tables,
    matrices: &[SessionMatrix],
    hits: &[Hit],
    inst: u32,
    candidates: usize,
    what: Flagged,
    check: ResponsesCheck,
    p: &Params,
) -> Finding {
    let sessions = t.exam_sessions.as_deref().unwrap_or(&[]);
    let (label_zh, label_en) = match what {
        Flagged::ChangedToKey => ("改为正确答案", "changed to the key"),
        Flagged::FastCorrect => ("快速答对", "fast and correct"),
    };
    let mut ses_tab = EvidenceTable::new(
        &format!("共同时刻后{label_zh}比例上升的场次"),
        &format!("Sessions where answers {label_en} rose after a common moment"),
        "exam_responses",
        &[
            ("session_id", ColKind::Text),
            ("moment", ColKind::Time),
            ("minute", ColKind::Number),
            ("share_before", ColKind::Number),
            ("share_after", ColKind::Number),
            ("peer_share", ColKind::Number),
            ("candidates_shifting", ColKind::Number),
            ("p", ColKind::Number),
            ("q_bh", ColKind::Number),
        ],
    );
    let mut cand_tab = EvidenceTable::new(
        &format!("{label_zh}比例上升的考生"),
        &format!("Candidates whose answers {label_en} rose"),
        "exam_responses",
        &[
            ("session_id", ColKind::Text),
            ("record_id", ColKind::Text),
            ("person_id", ColKind::PersonId),
            ("seat", ColKind::Text),
            ("share_before", ColKind::Number),
            ("share_after", ColKind::Number),
        ],
    );
    let rec = Rec { t };
    let fmt_opt = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |x| format!("{x:.2}"));
    let (mut affected, mut best_q) = (0usize, 1.0f64);
    let mut flags = Vec::new();
    for h in hits {
        let m = &matrices[h.mi];
        let ses = &sessions[m.session as usize];
        let sid = t.s(ses.id).to_string();
        let minute = h.g.map(|g| p.moment_grid_minutes * (g + 1) as f64);
        ses_tab.push_limited(
            vec![
                sid.clone(),
                minute.map_or_else(|| "-".into(), |mm| fmt_ts(ses.start + (mm * 60.0) as i64)),
                minute.map_or_else(|| "-".into(), |mm| format!("{mm:.0}")),
                fmt_opt(h.pre),
                format!("{:.2}", h.post),
                format!("{:.2}", h.peer),
                h.movers.len().to_string(),
                format!("{:.2e}", h.p),
                format!("{:.2e}", h.q),
            ],
            p.max_evidence_rows,
        );
        best_q = best_q.min(h.q);
        affected += h.movers.len();
        let st = strength(h.q, p.p_strength_full);
        flags.push((SubjectKind::Session, sid.clone(), st));
        for &(ri, pre, post) in &h.movers {
            let [id, person, seat] = rec.cells(m, ri);
            cand_tab.push_limited(
                vec![sid.clone(), id.clone(), person, seat, fmt_opt(pre), format!("{post:.2}")],
                p.max_evidence_rows,
            );
            flags.push((SubjectKind::ExamRecord, id, st * 0.5));
        }
    }
    let share = affected as f64 / candidates.max(1) as f64;
    let n = hits.len();
    let mut f = Finding::new(t.inst_id(inst), check, severity(share, strength(best_q, p.p_strength_full), p))
        .stat(n as f64, Some(best_q))
        .summary(
            format!("{n} 个场次在某一共同时刻后{label_zh}的比例明显上升（{affected} 名考生，最小 q = {best_q:.2e}）"),
            format!("{n} sessions where answers {label_en} rose after a common moment ({affected} candidates, smallest q = {best_q:.2e})"),
        );
    f = match what {
        Flagged::ChangedToKey => f.method(
            format!(
                "每场次、每隔 {} 分钟的候选时刻（按各考生累计答题用时定位）：时刻后“改答且最终为标准答案”的比例，与时刻前比例及全省同作业类别其他场次比例中较大者比较（精确二项上尾，候选时刻 Bonferroni 校正）；无用时数据时整场与同类比较。全省场次 BH 校正 q < {}，时刻后至少 {} 次、比例至少为参照的 {} 倍，且至少 {} 名考生个人比例上升 ≥ {}。",
                p.moment_grid_minutes, p.fdr_q, p.burst_min_changes, p.burst_min_ratio, p.time_min_candidates, p.burst_min_shift
            ),
            format!(
                "Per session and candidate moment every {} minutes (placed by each candidate's cumulative answer time): the share of answers changed (changes > 0) and ending on the key after the moment, against the larger of the share before it and the peer sessions' share (same operation, province-wide; exact binomial upper tail, Bonferroni over moments); without times, the whole session against peers. BH over the province's sessions q < {}, at least {} such changes after the moment, at least {}x the reference share, and at least {} candidates whose own share rose by >= {}.",
                p.moment_grid_minutes, p.fdr_q, p.burst_min_changes, p.burst_min_ratio, p.time_min_candidates, p.burst_min_shift
            ),
        ),
        Flagged::FastCorrect => f.method(
            format!(
                "“快速答对”= 答对且用时低于该题全省几何平均用时的 {} 倍。每场次每隔 {} 分钟的候选时刻，时刻后快速答对比例与时刻前比例及同作业类别其他场次比例中较大者比较（精确二项上尾，候选时刻 Bonferroni 校正），全省场次 BH 校正 q < {}；至少 {} 名考生个人比例上升 ≥ {}。",
                p.fast_fraction, p.moment_grid_minutes, p.fdr_q, p.time_min_candidates, p.time_min_shift
            ),
            format!(
                "\"Fast correct\" = correct in less than {}x the item's province-wide geometric-mean time. For each candidate moment every {} minutes, the session's fast-correct share after the moment against the larger of its share before and the peer sessions' share (same operation; exact binomial upper tail), Bonferroni over moments, BH over the province's sessions q < {}; at least {} candidates whose own share rose by >= {}.",
                p.fast_fraction, p.moment_grid_minutes, p.fdr_q, p.time_min_candidates, p.time_min_shift
            ),
        ),
    };
    f = f.evidence(ses_tab).evidence(cand_tab);
    for (k, id, s) in flags {
        f = f.flag(k, id, s);
    }
    f
}
