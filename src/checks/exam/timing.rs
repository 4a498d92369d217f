//! Timing checks on the parts listed in `[params.exam] timing_parts`
//! (computer theory exams by default):
//! - `exam.early_submit`: submissions before the minimum sitting time
//!   (`operations.toml [exam] min_sitting_minutes`), a hard rule;
//! - `exam.fast_high_score`: high scores (≥ `fast_min_score`) after a sitting
//!   whose log-duration is a robust-z outlier (≤ −`fast_z`, median/MAD) in
//!   its session or among all sittings of the same operation and part; the
//!   institution's count is tested against the peers' rate of such sittings
//!   (exact binomial, indirect standardisation by cell), BH over institutions;
//! - `exam.submit_cluster`: the fullest `cluster_window_minutes` window of
//!   submissions in a session against a null that keeps the session's own
//!   coarse spread ([`crate::stats::scan`]), automatic submissions at the end
//!   excluded; BH over all sessions tested;
//! - `exam.outside_window`: logins/submissions outside the session window,
//!   late entry (`late_entry_minutes`) and submissions before login.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::{count_severity, fmt_opt_ts, fmt_p, stat_severity, Cell, Exams, Params, ROWS};
use crate::checks::ExamCheck;
use crate::checks::{Chart, ColKind, Ctx, EvidenceTable, Finding, SubjectKind};
use crate::dataset::rows::{fmt_ts, ExamRecord, ExamSession};
use crate::stats::fdr::bh_adjust;
use crate::stats::funnel::{quasi_binomial_upper, Dispersion, Unit};
use crate::stats::robust::RobustScale;
use crate::stats::scan::{scan_test, ScanParams, ScanResult};

pub(super) fn run(ctx: &Ctx, ex: &Exams, p: &Params) -> Vec<Finding> {
    let mut out = early_submit(ctx, ex, p);
    out.extend(outside_window(ctx, ex, p));
    out.extend(fast_high_score(ctx, ex, p));
    out.extend(submit_cluster(ctx, ex, p));
    out
}

/// The timing checks alone as a family-shaped entry point (for tests).
#[cfg(test)]
fn run_family(ctx: &Ctx) -> Vec<Finding> {
    match Exams::new(ctx.t) {
        Some(ex) => run(ctx, &ex, &ctx.params.exam),
        None => Vec::new(),
    }
}

fn record_cols() -> Vec<(&'static str, ColKind)> {
    vec![
        ("record_id", ColKind::Text),
        ("person_id", ColKind::PersonId),
        ("session_id", ColKind::Text),
        ("seat", ColKind::Text),
        ("session start", ColKind::Time),
        ("login_at", ColKind::Time),
        ("submit_at", ColKind::Time),
        ("minutes after start", ColKind::Number),
        ("score", ColKind::Number),
    ]
}

fn record_row(ctx: &Ctx, s: &ExamSession, r: &ExamRecord) -> Vec<String> {
    let t = ctx.t;
    vec![
        t.s(r.id).to_string(),
        t.s(r.person).to_string(),
        t.s(s.id).to_string(),
        r.seat.map(|x| t.s(x).to_string()).unwrap_or_default(),
        fmt_ts(s.start),
        fmt_opt_ts(r.login_at),
        fmt_opt_ts(r.submit_at),
        r.submit_at.map(|x| format!("{:.1}", (x - s.start) as f64 / 60.0)).unwrap_or_default(),
        format!("{}", r.score),
    ]
}

/// Records of timed sessions grouped by institution: (inst → record indices).
fn by_inst<F: Fn(&ExamSession, &ExamRecord) -> bool>(ex: &Exams, keep: F) -> BTreeMap<u32, Vec<u32>> {
    let mut m: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (i, r) in ex.records.iter().enumerate() {
        let s = ex.session_of(r);
        if keep(s, r) {
            m.entry(s.inst).or_default().push(i as u32);
        }
    }
    m
}

fn early_submit(ctx: &Ctx, ex: &Exams, p: &Params) -> Vec<Finding> {
    let min = i64::from(ctx.ops.exam.min_sitting_minutes) * 60;
    let hits =
        by_inst(ex, |s, r| p.times_part(s.part) && r.submit_at.is_some_and(|t| t >= s.start && t < s.start + min));
    let mut out = Vec::new();
    for (inst, recs) in hits {
        if recs.len() < p.early_min_count {
            continue;
        }
        let sev = count_severity(recs.len(), p.early_min_count, p.early_full_count);
        let passed =
            recs.iter().filter(|&&i| f64::from(ex.records[i as usize].score) >= ctx.ops.exam.pass_mark).count();
        let m = ctx.ops.exam.min_sitting_minutes;
        let mut table = EvidenceTable::new(
            "未到最短考试时间交卷的记录",
            "Submissions before the minimum sitting time",
            "exam_records",
            &record_cols(),
        );
        let mut f = Finding::new(ctx.t.inst_id(inst), ExamCheck::EarlySubmit, sev)
            .stat(recs.len() as f64, None)
            .summary(
                format!("{} 名考生在开考后 {m} 分钟内交卷（其中 {passed} 人及格）", recs.len()),
                format!("{} candidates submitted within {m} minutes of the start ({passed} of them passed)", recs.len()),
            )
            .method(
                format!("规则：开考 {m} 分钟内不得交卷（operations.toml min_sitting_minutes）；逐条比对交卷时间与场次开考时间。"),
                format!("Rule: no submission within {m} minutes of the start (operations.toml min_sitting_minutes); each submit time compared with its session's start."),
            );
        for &i in &recs {
            let r = &ex.records[i as usize];
            let s = ex.session_of(r);
            table.push_limited(record_row(ctx, s, r), ROWS);
            f = f.flag(SubjectKind::ExamRecord, ctx.t.s(r.id), sev);
        }
        out.push(f.evidence(table));
    }
    out
}

/// Why a record's times fall outside its session, if they do.
fn outside_reason(ctx: &Ctx, p: &Params, s: &ExamSession, r: &ExamRecord) -> Option<(&'static str, &'static str)> {
    let before = (p.login_before_start_minutes * 60.0) as i64;
    let after = (p.submit_after_end_minutes * 60.0) as i64;
    let late = i64::from(ctx.ops.exam.late_entry_minutes) * 60;
    if let Some(l) = r.login_at {
        if l < s.start - before {
            return Some(("开考前过早登录", "login long before the start"));
        }
        if l > s.end {
            return Some(("结束后登录", "login after the end"));
        }
        if p.times_part(s.part) && l > s.start + late {
            return Some(("迟到入场", "entry after the late-entry limit"));
        }
    }
    if let Some(t) = r.submit_at {
        if t < s.start {
            return Some(("开考前交卷", "submitted before the start"));
        }
        if t > s.end + after {
            return Some(("结束后交卷", "submitted after the end"));
        }
        if r.login_at.is_some_and(|l| t < l) {
            return Some(("交卷早于登录", "submitted before logging in"));
        }
    }
    None
}

fn outside_window(ctx: &Ctx, ex: &Exams, p: &Params) -> Vec<Finding> {
    let hits = by_inst(ex, |s, r| outside_reason(ctx, p, s, r).is_some());
    let mut out = Vec::new();
    for (inst, recs) in hits {
        if recs.len() < p.outside_min_count {
            continue;
        }
        let sev = count_severity(recs.len(), p.outside_min_count, p.outside_full_count);
        let mut cols = record_cols();
        cols.push(("reason", ColKind::Text));
        let mut table = EvidenceTable::new(
            "场次时间外的登录或交卷",
            "Logins or submissions outside the session",
            "exam_records",
            &cols,
        );
        let mut f = Finding::new(ctx.t.inst_id(inst), ExamCheck::OutsideWindow, sev)
            .stat(recs.len() as f64, None)
            .summary(
                format!("{} 条考试记录的登录或交卷时间在场次时间之外", recs.len()),
                format!("{} exam records logged in or submitted outside their session", recs.len()),
            )
            .method(
                format!(
                    "规则：登录不早于开考前 {} 分钟、不晚于开考后 {} 分钟（迟到限制）；交卷在开考后、结束后 {} 分钟内且不早于登录。",
                    p.login_before_start_minutes, ctx.ops.exam.late_entry_minutes, p.submit_after_end_minutes
                ),
                format!(
                    "Rules: login no earlier than {} minutes before the start and no later than {} minutes after it (late entry); \
                     submission after the start, within {} minutes of the end, and not before login.",
                    p.login_before_start_minutes, ctx.ops.exam.late_entry_minutes, p.submit_after_end_minutes
                ),
            );
        for &i in &recs {
            let r = &ex.records[i as usize];
            let s = ex.session_of(r);
            let mut row = record_row(ctx, s, r);
            let (zh, en) = outside_reason(ctx, p, s, r).unwrap_or_default();
            row.push(format!("{zh} / {en}"));
            table.push_limited(row, ROWS);
            f = f.flag(SubjectKind::ExamRecord, ctx.t.s(r.id), sev);
        }
        out.push(f.evidence(table));
    }
    out
}

/// Sitting duration in seconds: submit − max(start, login).
fn duration(s: &ExamSession, r: &ExamRecord) -> Option<i64> {
    let sub = r.submit_at?;
    let from = r.login_at.map_or(s.start, |l| l.max(s.start));
    let d = sub - from;
    (d > 0).then_some(d)
}

/// A fast high-scoring record: index, robust z vs peers, robust z vs session.
type Hit = (u32, f64, f64);
/// A flagged session: index, submissions tested, scan result, q, severity.
type Cluster = (usize, usize, ScanResult, f64, f64);

fn fast_high_score(ctx: &Ctx, ex: &Exams, p: &Params) -> Vec<Finding> {
    // Log-durations per cell (province) and per session.
    let mut cell_d: BTreeMap<Cell, Vec<f64>> = BTreeMap::new();
    for r in ex.records {
        let s = ex.session_of(r);
        if p.times_part(s.part) {
            if let Some(d) = duration(s, r) {
                cell_d.entry(Cell::of(s.operation, s.part)).or_default().push((d as f64).ln());
            }
        }
    }
    let cell_scale: BTreeMap<Cell, RobustScale> =
        cell_d.into_iter().map(|(c, v)| (c, RobustScale::of(&v, p.fast_min_log_scale))).collect();
    // (inst, cell) → (n timed, fast-high record indices); per-record robust z kept for evidence.
    let per_session: Vec<Vec<(u32, f64, f64)>> = (0..ex.sessions.len())
        .into_par_iter()
        .map(|si| {
            let s = &ex.sessions[si];
            if !p.times_part(s.part) {
                return Vec::new();
            }
            let Some(cs) = cell_scale.get(&Cell::of(s.operation, s.part)) else { return Vec::new() };
            let recs = ex.of_session(si);
            let logs: Vec<(u32, f64)> = recs
                .iter()
                .filter_map(|&i| duration(s, &ex.records[i as usize]).map(|d| (i, (d as f64).ln())))
                .collect();
            let ss = (logs.len() >= 5)
                .then(|| RobustScale::of(&logs.iter().map(|x| x.1).collect::<Vec<_>>(), p.fast_min_log_scale));
            logs.iter()
                .map(|&(i, l)| {
                    let zp = cs.z(l);
                    let zs = ss.map_or(0.0, |ss| ss.z(l));
                    (i, zp, zs)
                })
                .collect()
        })
        .collect();
    let mut counts: BTreeMap<(u32, Cell), (u64, Vec<Hit>)> = BTreeMap::new();
    let mut cell_tot: BTreeMap<Cell, (u64, u64)> = BTreeMap::new();
    for (si, v) in per_session.iter().enumerate() {
        let s = &ex.sessions[si];
        let cell = Cell::of(s.operation, s.part);
        for &(i, zp, zs) in v {
            let e = counts.entry((s.inst, cell)).or_default();
            e.0 += 1;
            let ct = cell_tot.entry(cell).or_default();
            ct.0 += 1;
            if f64::from(ex.records[i as usize].score) >= p.fast_min_score && (zp <= -p.fast_z || zs <= -p.fast_z) {
                e.1.push((i, zp, zs));
                ct.1 += 1;
            }
        }
    }
    // Indirect standardisation against other institutions' rate per cell.
    struct Inst {
        n: u64,
        k: u64,
        e: f64,
        hits: Vec<(u32, f64, f64)>,
    }
    let mut insts: BTreeMap<u32, Inst> = BTreeMap::new();
    for ((inst, cell), (n, hits)) in counts {
        let (tn, tk) = cell_tot[&cell];
        let (pn, pk) = (tn - n, tk - hits.len() as u64);
        if pn < p.min_peer_n {
            continue;
        }
        let rate = (pk as f64 + 0.5) / (pn as f64 + 1.0);
        let e = insts.entry(inst).or_insert(Inst { n: 0, k: 0, e: 0.0, hits: Vec::new() });
        e.n += n;
        e.k += hits.len() as u64;
        e.e += n as f64 * rate;
        e.hits.extend(hits);
    }
    let list: Vec<(u32, Inst)> = insts.into_iter().collect();
    // Fast sittings cluster within sessions, so institutions' counts vary
    // more than binomially: deflate by the overdispersion between them.
    let units: Vec<Unit> = list
        .iter()
        .map(|(_, x)| Unit { y: x.k as f64 / x.e, s: (x.e * (1.0 - x.e / x.n as f64)).max(1e-12).sqrt() / x.e })
        .collect();
    let disp = Dispersion::estimate(&units, 1.0, p.overdispersion, p.winsor_low, p.winsor_high, p.min_units_dispersion);
    let pv: Vec<f64> = list
        .iter()
        .zip(&units)
        .map(|((_, x), u)| {
            quasi_binomial_upper(x.k as f64, x.n as f64, (x.e / x.n as f64).min(1.0), disp.inflation(u.s))
        })
        .collect();
    let q = bh_adjust(&pv);
    let mut out = Vec::new();
    for (((inst, x), &pv), &q) in list.iter().zip(&pv).zip(&q) {
        if q >= p.fdr_q || x.k < p.fast_min_count {
            continue;
        }
        let excess = (x.k as f64 - x.e) / x.n as f64;
        let sev = stat_severity(q, p, excess / p.fast_full_share);
        let mut cols = record_cols();
        cols.push(("robust z vs peers", ColKind::Number));
        cols.push(("robust z vs session", ColKind::Number));
        let mut table =
            EvidenceTable::new("用时极短且高分的考试记录", "Fast sittings with high scores", "exam_records", &cols);
        let mut f = Finding::new(ctx.t.inst_id(*inst), ExamCheck::FastHighScore, sev)
            .stat(x.k as f64, Some(q))
            .summary(
                format!("{} 名考生用时异常短且得分 ≥ {}，同类机构预期 {:.1} 人（共 {} 场考试记录），q = {}", x.k, p.fast_min_score, x.e, x.n, fmt_p(q)),
                format!(
                    "{} candidates scored ≥ {} after an unusually short sitting where peers' rate predicts {:.1} (of {} timed sittings), q = {}",
                    x.k,
                    p.fast_min_score,
                    x.e,
                    x.n,
                    fmt_p(q)
                ),
            )
            .method(
                format!(
                    "用时 = 交卷 − max(开考, 登录)；对数用时的稳健 z（中位数/MAD）相对本场次或全省同作业类别同科目 ≤ −{} 且得分 ≥ {} 计为“快而高分”；\
                     以其他机构同一类别科目的比例做间接标准化，按机构间过度离散折算的精确二项上尾 p = {}，对 {} 个机构做 BH 校正。",
                    p.fast_z,
                    p.fast_min_score,
                    fmt_p(pv),
                    list.len()
                ),
                format!(
                    "Duration = submit − max(start, login); a sitting is fast when the robust z (median/MAD) of its log-duration \
                     within its session or among all sittings of the same operation and part is ≤ −{}, and high when the score is \
                     ≥ {}; the count is compared with other institutions' rate in the same cells (indirect standardisation), exact \
                     binomial upper tail on counts deflated for overdispersion between institutions, p = {}, Benjamini–Hochberg over {} institutions.",
                    p.fast_z,
                    p.fast_min_score,
                    fmt_p(pv),
                    list.len()
                ),
            );
        for &(i, zp, zs) in &x.hits {
            let r = &ex.records[i as usize];
            let s = ex.session_of(r);
            let mut row = record_row(ctx, s, r);
            row.push(format!("{zp:.1}"));
            row.push(format!("{zs:.1}"));
            table.push_limited(row, ROWS);
            f = f.flag(SubjectKind::ExamRecord, ctx.t.s(r.id), sev).flag(
                SubjectKind::Person,
                ctx.t.s(r.person),
                sev * 0.8,
            );
        }
        out.push(f.evidence(table));
    }
    out
}

/// FNV-1a of a session id: the per-session Monte-Carlo seed does not depend
/// on row order or thread count.
fn fnv(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn submit_cluster(ctx: &Ctx, ex: &Exams, p: &Params) -> Vec<Finding> {
    let sp = ScanParams {
        window: (p.cluster_window_minutes * 60.0) as i64,
        bin: (p.cluster_bin_minutes * 60.0) as i64,
        reps: p.cluster_reps,
        stop_after: p.cluster_stop_after,
    };
    let grace = (p.auto_submit_grace_minutes * 60.0) as i64;
    let tested: Vec<(usize, usize, ScanResult)> = (0..ex.sessions.len())
        .into_par_iter()
        .filter_map(|si| {
            let s = &ex.sessions[si];
            if !p.times_part(s.part) {
                return None;
            }
            let hi = s.end - grace;
            let mut t: Vec<i64> = ex
                .of_session(si)
                .iter()
                .filter_map(|&i| ex.records[i as usize].submit_at)
                .filter(|&x| x >= s.start && x < hi)
                .collect();
            if t.len() < p.cluster_min_n {
                return None;
            }
            t.sort_unstable();
            let res = scan_test(&t, s.start, hi - 1, &sp, p.seed ^ fnv(ctx.t.s(s.id)));
            Some((si, t.len(), res))
        })
        .collect();
    let q = bh_adjust(&tested.iter().map(|x| x.2.p_value).collect::<Vec<_>>());
    let mut hits: BTreeMap<u32, Vec<Cluster>> = BTreeMap::new();
    for ((si, n, res), &q) in tested.iter().zip(&q) {
        let share = res.count as f64 / *n as f64;
        if q < p.fdr_q && res.count >= p.cluster_min_count && share >= p.cluster_min_share {
            let sev = stat_severity(q, p, share / p.cluster_full_share);
            hits.entry(ex.sessions[*si].inst).or_default().push((*si, *n, *res, q, sev));
        }
    }
    let mut out = Vec::new();
    for (inst, sessions) in hits {
        let sev = 1.0 - sessions.iter().map(|x| 1.0 - x.4).product::<f64>();
        let Some(top) = sessions.iter().min_by(|a, b| a.3.total_cmp(&b.3).then(a.0.cmp(&b.0))) else { continue };
        let (tsi, tn, tres, tq, _) = *top;
        let ts = &ex.sessions[tsi];
        let w = p.cluster_window_minutes;
        let mut stable = EvidenceTable::new(
            "集中交卷的场次",
            "Sessions with clustered submissions",
            "derived",
            &[
                ("session_id", ColKind::Text),
                ("start", ColKind::Time),
                ("submissions tested", ColKind::Number),
                ("in the fullest window", ColKind::Number),
                ("window from", ColKind::Time),
                ("window to", ColKind::Time),
                ("Monte-Carlo draws", ColKind::Number),
                ("p", ColKind::Number),
                ("q", ColKind::Number),
            ],
        );
        let mut rtable =
            EvidenceTable::new("集中交卷的考生", "Candidates submitting together", "exam_records", &record_cols());
        let mut f = Finding::new(ctx.t.inst_id(inst), ExamCheck::SubmitCluster, sev)
            .stat(tres.count as f64, Some(tq))
            .summary(
                format!(
                    "{} 个场次出现集中交卷；最显著的场次 {} 有 {}/{} 人在 {w} 分钟内交卷（{} 至 {}），q = {}",
                    sessions.len(),
                    ctx.t.s(ts.id),
                    tres.count,
                    tn,
                    fmt_ts(tres.first),
                    fmt_ts(tres.last),
                    fmt_p(tq)
                ),
                format!(
                    "{} sessions with clustered submissions; in the strongest, {}, {}/{} candidates submitted within {w} minutes ({} to {}), q = {}",
                    sessions.len(),
                    ctx.t.s(ts.id),
                    tres.count,
                    tn,
                    fmt_ts(tres.first),
                    fmt_ts(tres.last),
                    fmt_p(tq)
                ),
            )
            .method(
                format!(
                    "扫描统计量：任一 {w} 分钟窗口内的最多交卷人数（不含结束前 {} 分钟内的自动交卷）。零假设保留本场次每 {} 分钟的交卷人数、\
                     在各时段内均匀重抽交卷时间（即本场次自身的分布），固定种子 {} 的蒙特卡洛（最多 {} 次，Besag–Clifford 序贯停止；\
                     无一次达到观测值时用 Wallenstein–Neff 尾部近似）；对全省 {} 个场次做 BH 校正。",
                    p.auto_submit_grace_minutes,
                    p.cluster_bin_minutes,
                    p.seed,
                    p.cluster_reps,
                    tested.len()
                ),
                format!(
                    "Scan statistic: the most submissions inside any {w}-minute window (automatic submissions in the last {} minutes \
                     excluded). Null: the session's own submission counts per {}-minute bin are kept and times redrawn uniformly within \
                     each bin (the session's own spread); Monte Carlo with fixed seed {} (up to {} draws, Besag–Clifford sequential \
                     stopping; Wallenstein–Neff tail approximation when no draw reaches the observed count); Benjamini–Hochberg over {} \
                     sessions.",
                    p.auto_submit_grace_minutes,
                    p.cluster_bin_minutes,
                    p.seed,
                    p.cluster_reps,
                    tested.len()
                ),
            );
        let mut sorted = sessions.clone();
        sorted.sort_by(|a, b| a.3.total_cmp(&b.3).then(a.0.cmp(&b.0)));
        for (si, n, res, q, ssev) in &sorted {
            let s = &ex.sessions[*si];
            stable.push_limited(
                vec![
                    ctx.t.s(s.id).to_string(),
                    fmt_ts(s.start),
                    n.to_string(),
                    res.count.to_string(),
                    fmt_ts(res.first),
                    fmt_ts(res.last),
                    res.draws.to_string(),
                    fmt_p(res.p_value),
                    fmt_p(*q),
                ],
                ROWS,
            );
            f = f.flag(SubjectKind::Session, ctx.t.s(s.id), *ssev);
            for &i in ex.of_session(*si) {
                let r = &ex.records[i as usize];
                if r.submit_at.is_some_and(|x| x >= res.first && x <= res.last) {
                    rtable.push_limited(record_row(ctx, s, r), ROWS);
                    f = f.flag(SubjectKind::ExamRecord, ctx.t.s(r.id), ssev * 0.8);
                }
            }
        }
        // Timeline of the strongest session.
        let mut ev: Vec<(f64, bool)> = ex
            .of_session(tsi)
            .iter()
            .filter_map(|&i| ex.records[i as usize].submit_at)
            .map(|x| ((x - ts.start) as f64 / 60.0, x >= tres.first && x <= tres.last))
            .collect();
        ev.sort_by(|a, b| a.0.total_cmp(&b.0));
        f = f.evidence(stable).evidence(rtable).chart(Chart::Timeline {
            title: format!("场次 {} 交卷时间 / submissions in session {}", ctx.t.s(ts.id), ctx.t.s(ts.id)),
            start_label: fmt_ts(ts.start),
            minutes: ev.iter().map(|x| x.0).collect(),
            highlight: ev.iter().map(|x| x.1).collect(),
            window_end: (ts.end - ts.start) as f64 / 60.0,
        });
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{of, ts, Fx};
    use crate::dataset::rows::Part;

    /// `centres` centres × 4 theory sessions of 30 honest candidates: submit
    /// 45–118 minutes after the start, bunched toward the end, scores 60–99.
    fn province(centres: usize) -> Fx {
        let mut fx = Fx::new();
        for c in 0..centres {
            let inst = fx.inst(&format!("C{c}"), None);
            for d in 0..4 {
                let start = ts((c * 4 + d) as i32, 9, 0);
                let s = fx.session(inst, "低压电工", Part::Theory, start, 120);
                for k in 0..30i64 {
                    // Quadratic spacing: denser toward the end, like real sessions.
                    let u = (k as f64 + 0.5 + ((c * 7 + d * 3) % 5) as f64 * 0.1) / 30.0;
                    let minute = 45.0 + 73.0 * u.sqrt();
                    let score = 60.0 + ((k * 13 + c as i64) % 40) as f32;
                    fx.record(s, &format!("P{c}-{d}-{k}"), score).submit_at = Some(start + (minute * 60.0) as i64);
                }
            }
        }
        fx
    }

    #[test]
    fn honest_province_has_no_timing_findings() {
        let f = province(8).run(super::run_family);
        for id in ["exam.early_submit", "exam.fast_high_score", "exam.submit_cluster", "exam.outside_window"] {
            assert!(of(&f, id).is_empty(), "{id}: {:#?}", of(&f, id));
        }
    }

    #[test]
    fn relayed_session_is_found() {
        let mut fx = province(8);
        // Session 0 of C3: 18 of its 30 candidates submit within 80 s at minute 50.
        let s = 3 * 4;
        let start = fx.t.exam_sessions.as_ref().unwrap()[s].start;
        let recs: Vec<usize> =
            fx.t.exam_records
                .as_ref()
                .unwrap()
                .iter()
                .enumerate()
                .filter(|(_, r)| r.session as usize == s)
                .map(|x| x.0)
                .collect();
        for (j, &i) in recs.iter().take(18).enumerate() {
            fx.t.exam_records.as_mut().unwrap()[i].submit_at = Some(start + 3000 + j as i64 * 4);
        }
        let f = fx.run(super::run_family);
        let c = of(&f, "exam.submit_cluster");
        assert_eq!(c.len(), 1, "{c:#?}");
        assert_eq!(c[0].institution_id, "C3");
        assert!(c[0].flags.iter().any(|x| x.kind == crate::checks::SubjectKind::Session));
        assert!(
            matches!(&c[0].charts[0], crate::checks::Chart::Timeline { highlight, .. } if highlight.iter().filter(|h| **h).count() >= 18)
        );
    }

    #[test]
    fn early_fast_and_outside_are_found() {
        let mut fx = province(20);
        let start = fx.t.exam_sessions.as_ref().unwrap()[5 * 4].start;
        let recs = fx.t.exam_records.as_mut().unwrap();
        let mut n = 0;
        for r in recs.iter_mut().filter(|r| r.session == 5 * 4) {
            n += 1;
            if n <= 6 {
                // Proxies: 12–17 minutes and a near-perfect score.
                r.submit_at = Some(start + (11 + n) * 60);
                r.score = 98.0;
            } else if n <= 10 {
                r.login_at = Some(start + 50 * 60);
            }
        }
        let f = fx.run(super::run_family);
        let e = of(&f, "exam.early_submit");
        assert_eq!((e.len(), e[0].institution_id.as_str(), e[0].evidence[0].total_rows), (1, "C5", 6));
        let fh = of(&f, "exam.fast_high_score");
        assert_eq!(fh.len(), 1, "{fh:#?}");
        assert_eq!(fh[0].institution_id, "C5");
        let o = of(&f, "exam.outside_window");
        assert_eq!((o.len(), o[0].evidence[0].total_rows), (1, 4));
    }
}
