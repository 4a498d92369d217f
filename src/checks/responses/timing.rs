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
use crate::checks::{ColKind, EvidenceTable, Finding, SubjectKind};
use crate::dataset::rows::{fmt_ts, Tables};
use crate::stats::{binom, fdr::bh_adjust};

#[derive(Default, Clone)]
struct Burst {
    changed: u64,
    to_key: u64,
    /// (matrix row, changes to key) of candidates with any.
    per_row: Vec<(usize, u32)>,
    /// Cumulative minutes at each change to the key (when times exist).
    minutes: Vec<f64>,
}

#[derive(Default, Clone)]
struct TimeShift {
    tested: bool,
    /// Per grid moment: (n_pre, k_pre, n_post, k_post).
    grid: Vec<(u64, u64, u64, u64)>,
    /// Per row and grid moment: (n_pre, k_pre, n_post, k_post).
    rows: Vec<Vec<(u32, u32, u32, u32)>>,
    /// Fast-correct and total answers of the whole session.
    fc: u64,
    n: u64,
}

fn burst_of(m: &SessionMatrix, t: &Tables, items: &Items) -> Burst {
    let resp = t.exam_responses.as_deref().unwrap_or(&[]);
    let mut b = Burst::default();
    for (ri, rows) in m.resp_rows.iter().enumerate() {
        let mut cum = 0.0f64;
        let mut mine = 0u32;
        for &k in rows {
            let r = &resp[k as usize];
            cum += r.seconds.unwrap_or(0.0).max(0.0) as f64;
            if r.changes.is_some_and(|c| c > 0) {
                b.changed += 1;
                if items.code_of_resp[k as usize] == KEY {
                    b.to_key += 1;
                    mine += 1;
                    if r.seconds.is_some() {
                        b.minutes.push(cum / 60.0);
                    }
                }
            }
        }
        if mine > 0 {
            b.per_row.push((ri, mine));
        }
    }
    b
}

fn shift_of(m: &SessionMatrix, t: &Tables, items: &Items, p: &Params) -> TimeShift {
    let resp = t.exam_responses.as_deref().unwrap_or(&[]);
    let mut s = TimeShift::default();
    // Per row: (cumulative seconds at the answer, fast-correct?).
    let mut seqs: Vec<Vec<(f64, bool)>> = Vec::with_capacity(m.resp_rows.len());
    let (mut timed, mut total) = (0usize, 0usize);
    let mut max_cum = 0.0f64;
    for rows in &m.resp_rows {
        let mut cum = 0.0;
        let mut seq = Vec::with_capacity(rows.len());
        for &k in rows {
            total += 1;
            let r = &resp[k as usize];
            let Some(sec) = r.seconds.filter(|x| *x > 0.0) else { continue };
            timed += 1;
            cum += sec as f64;
            let i = items.item_of_resp[k as usize] as usize;
            let typical = items.mean_log_secs[i].exp();
            let fc = items.code_of_resp[k as usize] == KEY && (sec as f64) < p.fast_fraction * typical;
            seq.push((cum, fc));
            s.n += 1;
            s.fc += fc as u64;
        }
        max_cum = max_cum.max(cum);
        seqs.push(seq);
    }
    if timed * 5 < total * 4 || p.moment_grid_minutes <= 0.0 {
        return s; // fewer than 80 % of answers timed: not tested
    }
    let step = p.moment_grid_minutes * 60.0;
    let n_grid = (max_cum / step).floor() as usize;
    if n_grid < 2 {
        return s;
    }
    s.tested = true;
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
    let bursts: Vec<Burst> = matrices.par_iter().map(|m| burst_of(m, t, items)).collect();
    let shifts: Vec<TimeShift> = matrices.par_iter().map(|m| shift_of(m, t, items, p)).collect();
    let op_of = |m: &SessionMatrix| sessions[m.session as usize].operation.raw;
    // Peer totals per operation (raw operation text, so unknown operations still pool).
    let mut op_tot: std::collections::HashMap<_, (u64, u64, u64, u64)> = Default::default();
    for ((m, b), s) in matrices.iter().zip(&bursts).zip(&shifts) {
        let e = op_tot.entry(op_of(m)).or_default();
        e.0 += b.changed;
        e.1 += b.to_key;
        e.2 += s.n;
        e.3 += s.fc;
    }
    let inst_candidates = {
        let mut v = vec![0usize; t.institutions.len()];
        for m in matrices {
            v[sessions[m.session as usize].inst as usize] += m.records.len();
        }
        v
    };

    // ---- burst of changes to the key ----
    let mut b_tests: Vec<(usize, f64, f64)> = Vec::new(); // (matrix, p, peer rate)
    for (mi, (m, b)) in matrices.iter().zip(&bursts).enumerate() {
        let tot = op_tot[&op_of(m)];
        let (pc, pk) = (tot.0 - b.changed, tot.1 - b.to_key);
        if b.changed == 0 || pc == 0 {
            continue;
        }
        let r0 = pk as f64 / pc as f64;
        b_tests.push((mi, binom::upper_tail(b.to_key, b.changed, r0), r0));
    }
    let bq = bh_adjust(&b_tests.iter().map(|x| x.1).collect::<Vec<_>>());
    let mut burst_hits: std::collections::BTreeMap<u32, Vec<(usize, f64, f64, f64)>> = Default::default();
    for (&(mi, pv, r0), &q) in b_tests.iter().zip(&bq) {
        let b = &bursts[mi];
        let rate = b.to_key as f64 / b.changed as f64;
        if q < p.fdr_q && b.to_key >= p.burst_min_changes as u64 && rate >= p.burst_min_ratio * r0 {
            burst_hits.entry(sessions[matrices[mi].session as usize].inst).or_default().push((mi, pv, q, r0));
        }
    }

    // ---- fast-correct shift after a common moment ----
    let mut s_tests: Vec<(usize, f64, usize, f64)> = Vec::new(); // (matrix, p, best grid, peer rate)
    for (mi, (m, s)) in matrices.iter().zip(&shifts).enumerate() {
        if !s.tested {
            continue;
        }
        let tot = op_tot[&op_of(m)];
        let (pn, pf) = (tot.2 - s.n, tot.3 - s.fc);
        if pn == 0 {
            continue;
        }
        let peer = pf as f64 / pn as f64;
        let mut best = (1.0f64, 0usize);
        for (g, &(n0, k0, n1, k1)) in s.grid.iter().enumerate() {
            if n0 == 0 || n1 == 0 {
                continue;
            }
            let r_ref = (k0 as f64 / n0 as f64).max(peer);
            let pv = binom::upper_tail(k1, n1, r_ref);
            if pv < best.0 {
                best = (pv, g);
            }
        }
        let p_bonf = (best.0 * s.grid.len() as f64).min(1.0);
        s_tests.push((mi, p_bonf, best.1, peer));
    }
    let sq = bh_adjust(&s_tests.iter().map(|x| x.1).collect::<Vec<_>>());
    let mut shift_hits: std::collections::BTreeMap<u32, Vec<(usize, f64, f64, usize, f64, Vec<usize>)>> =
        Default::default();
    for (&(mi, pv, g, peer), &q) in s_tests.iter().zip(&sq) {
        if q >= p.fdr_q {
            continue;
        }
        let s = &shifts[mi];
        let movers: Vec<usize> = s
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                let (n0, k0, n1, k1) = r[g];
                n0 > 0 && n1 > 0 && k1 as f64 / n1 as f64 - k0 as f64 / n0 as f64 >= p.time_min_shift
            })
            .map(|(i, _)| i)
            .collect();
        if movers.len() >= p.time_min_candidates as usize {
            shift_hits
                .entry(sessions[matrices[mi].session as usize].inst)
                .or_default()
                .push((mi, pv, q, g, peer, movers));
        }
    }

    let rec = Rec { t };
    let mut out = Vec::new();
    for (inst, hits) in burst_hits {
        let mut ses_tab = EvidenceTable::new(
            "集中改答为正确答案的场次",
            "Sessions with a burst of changes to the key",
            "exam_responses",
            &[
                ("session_id", ColKind::Text),
                ("changed", ColKind::Number),
                ("changed_to_key", ColKind::Number),
                ("share_to_key", ColKind::Number),
                ("peer_share_to_key", ColKind::Number),
                ("median_minute", ColKind::Number),
                ("p", ColKind::Number),
                ("q_bh", ColKind::Number),
            ],
        );
        let mut cand_tab = EvidenceTable::new(
            "改答为正确答案的考生",
            "Candidates with answers changed to the key",
            "exam_responses",
            &[
                ("session_id", ColKind::Text),
                ("record_id", ColKind::Text),
                ("person_id", ColKind::PersonId),
                ("seat", ColKind::Text),
                ("changed_to_key", ColKind::Number),
            ],
        );
        let mut affected = 0usize;
        let mut best_q = 1.0f64;
        let mut flags = Vec::new();
        for &(mi, pv, q, r0) in &hits {
            let (m, b) = (&matrices[mi], &bursts[mi]);
            let sid = t.s(sessions[m.session as usize].id).to_string();
            let mut mins = b.minutes.clone();
            mins.sort_by(f64::total_cmp);
            let median = mins.get(mins.len() / 2).map_or_else(|| "-".to_string(), |x| format!("{x:.0}"));
            ses_tab.push_limited(
                vec![
                    sid.clone(),
                    b.changed.to_string(),
                    b.to_key.to_string(),
                    format!("{:.2}", b.to_key as f64 / b.changed as f64),
                    format!("{r0:.2}"),
                    median,
                    format!("{pv:.2e}"),
                    format!("{q:.2e}"),
                ],
                p.max_evidence_rows,
            );
            best_q = best_q.min(q);
            affected += b.per_row.len();
            flags.push((SubjectKind::Session, sid.clone(), strength(q, p.p_strength_full)));
            for &(ri, n) in &b.per_row {
                let [id, person, seat] = rec.cells(m, ri);
                cand_tab.push_limited(vec![sid.clone(), id.clone(), person, seat, n.to_string()], p.max_evidence_rows);
                flags.push((SubjectKind::ExamRecord, id, strength(q, p.p_strength_full) * 0.5));
            }
        }
        let share = affected as f64 / inst_candidates[inst as usize].max(1) as f64;
        let n = hits.len();
        let mut f = Finding::new(t.inst_id(inst), "exam.answer_change_burst", severity(share, strength(best_q, p.p_strength_full), p))
            .stat(n as f64, Some(best_q))
            .summary(
                format!("{n} 个场次改答中改为正确答案的比例远高于同类场次（{affected} 名考生，最小 q = {best_q:.2e}）"),
                format!("{n} sessions changed answers to the key far more often than peer sessions ({affected} candidates, smallest q = {best_q:.2e})"),
            )
            .method(
                format!(
                    "每场次：改答（改答次数 > 0）中最终为标准答案的比例，与全省同一作业类别其他场次的合并比例比较（精确二项上尾）；全省所有场次 BH 校正，q < {}，至少 {} 次，且比例至少为同类的 {} 倍。",
                    p.fdr_q, p.burst_min_changes, p.burst_min_ratio
                ),
                format!(
                    "Per session: the share of changed answers (changes > 0) that end on the key, against the pooled share of all other sessions of the same operation in the province (exact binomial upper tail); BH over all sessions of the province, q < {}, at least {} changes to the key, and at least {}× the peer share.",
                    p.fdr_q, p.burst_min_changes, p.burst_min_ratio
                ),
            )
            .evidence(ses_tab)
            .evidence(cand_tab);
        for (k, id, s) in flags {
            f = f.flag(k, id, s);
        }
        out.push(f);
    }

    for (inst, hits) in shift_hits {
        let mut ses_tab = EvidenceTable::new(
            "共同时刻后快速答对的场次",
            "Sessions answering fast and correct after a common moment",
            "exam_responses",
            &[
                ("session_id", ColKind::Text),
                ("moment", ColKind::Time),
                ("minute", ColKind::Number),
                ("fast_correct_before", ColKind::Number),
                ("fast_correct_after", ColKind::Number),
                ("peer_fast_correct", ColKind::Number),
                ("candidates_shifting", ColKind::Number),
                ("p_bonferroni", ColKind::Number),
                ("q_bh", ColKind::Number),
            ],
        );
        let mut cand_tab = EvidenceTable::new(
            "转为快速答对的考生",
            "Candidates who turned fast and correct",
            "exam_responses",
            &[
                ("session_id", ColKind::Text),
                ("record_id", ColKind::Text),
                ("person_id", ColKind::PersonId),
                ("seat", ColKind::Text),
                ("fast_correct_before", ColKind::Number),
                ("fast_correct_after", ColKind::Number),
            ],
        );
        let mut affected = 0usize;
        let mut best_q = 1.0f64;
        let mut flags = Vec::new();
        for (mi, pv, q, g, peer, movers) in &hits {
            let (m, s) = (&matrices[*mi], &shifts[*mi]);
            let ses = &sessions[m.session as usize];
            let sid = t.s(ses.id).to_string();
            let minute = p.moment_grid_minutes * (*g + 1) as f64;
            let (n0, k0, n1, k1) = s.grid[*g];
            ses_tab.push_limited(
                vec![
                    sid.clone(),
                    fmt_ts(ses.start + (minute * 60.0) as i64),
                    format!("{minute:.0}"),
                    format!("{:.2}", k0 as f64 / n0 as f64),
                    format!("{:.2}", k1 as f64 / n1 as f64),
                    format!("{peer:.2}"),
                    movers.len().to_string(),
                    format!("{pv:.2e}"),
                    format!("{q:.2e}"),
                ],
                p.max_evidence_rows,
            );
            best_q = best_q.min(*q);
            affected += movers.len();
            flags.push((SubjectKind::Session, sid.clone(), strength(*q, p.p_strength_full)));
            for &ri in movers {
                let (a0, b0, a1, b1) = s.rows[ri][*g];
                let [id, person, seat] = rec.cells(m, ri);
                cand_tab.push_limited(
                    vec![
                        sid.clone(),
                        id.clone(),
                        person,
                        seat,
                        format!("{:.2}", b0 as f64 / a0 as f64),
                        format!("{:.2}", b1 as f64 / a1 as f64),
                    ],
                    p.max_evidence_rows,
                );
                flags.push((SubjectKind::ExamRecord, id, strength(*q, p.p_strength_full) * 0.5));
            }
        }
        let share = affected as f64 / inst_candidates[inst as usize].max(1) as f64;
        let n = hits.len();
        let mut f = Finding::new(t.inst_id(inst), "exam.item_time_pattern", severity(share, strength(best_q, p.p_strength_full), p))
            .stat(n as f64, Some(best_q))
            .summary(
                format!("{n} 个场次在某一共同时刻后考生集中转为快速答对（{affected} 名考生，最小 q = {best_q:.2e}）"),
                format!("{n} sessions where candidates turned fast and correct after a common moment ({affected} candidates, smallest q = {best_q:.2e})"),
            )
            .method(
                format!(
                    "“快速答对”= 答对且用时低于该题全省几何平均用时的 {} 倍。每场次在每隔 {} 分钟的候选时刻，比较时刻后的快速答对比例与时刻前的比例及同作业类别其他场次的比例（取较大者，精确二项上尾），对候选时刻 Bonferroni 校正，全省场次 BH 校正 q < {}；至少 {} 名考生个人比例上升 ≥ {}。",
                    p.fast_fraction, p.moment_grid_minutes, p.fdr_q, p.time_min_candidates, p.time_min_shift
                ),
                format!(
                    "\"Fast correct\" = correct in less than {}× the item's province-wide geometric-mean time. For each candidate moment every {} minutes, the session's fast-correct share after the moment against the larger of its share before and the peer sessions' share (same operation; exact binomial upper tail), Bonferroni over moments, BH over the province's sessions q < {}; at least {} candidates whose own share rose by ≥ {}.",
                    p.fast_fraction, p.moment_grid_minutes, p.fdr_q, p.time_min_candidates, p.time_min_shift
                ),
            )
            .evidence(ses_tab)
            .evidence(cand_tab);
        for (k, id, s) in flags {
            f = f.flag(k, id, s);
        }
        out.push(f);
    }
    out
}
