//! `exam.answer_similarity` and `exam.identical_responses`: every pair of
//! candidates within one session, compared item by item.
//!
//! Null hypothesis: the two candidates answered independently, each item's
//! answer drawn from that item's province-wide answer distribution (all
//! sessions that used the item, i.e. the operation's question bank), with
//! the pair's own two answers left out. The province-wide distribution is
//! used rather than the session's because a session where answers were
//! relayed makes its own wrong answers look popular and would hide itself.
//! Test: generalised binomial test (exact Poisson-binomial upper tail) on
//! the number of identical wrong answers; Bonferroni over the session's
//! tested pairs. Linked candidates are grouped by union-find into clusters.

use rayon::prelude::*;

use super::{Items, Params, SessionMatrix};
use crate::checks::ResponsesCheck;
use crate::checks::{ColKind, EvidenceTable, Finding, SubjectKind};
use crate::dataset::rows::Tables;
use crate::stats::similarity::{gbt_p, pair_stat, ItemDist, PairStat};

struct Pair {
    a: usize,
    b: usize,
    st: PairStat,
    p: Option<f64>,
    p_adj: Option<f64>,
}

struct SessionPairs<'m> {
    m: &'m SessionMatrix,
    tested: u64,
    linked: Vec<Pair>,
    near: Vec<Pair>,
}

fn session_pairs<'m>(m: &'m SessionMatrix, items: &Items, p: &Params) -> SessionPairs<'m> {
    let dists: Vec<&ItemDist> = m.items.iter().map(|&i| &items.dist[i as usize]).collect();
    let n = m.records.len();
    let k = m.items.len();
    // Each candidate's probability of a wrong answer per item: a Rasch-like
    // logit(w) = logit(candidate's wrong share) + item difficulty offset,
    // so the null conditions on ability (weak pairs share more wrong answers).
    let offs: Vec<f64> = m.items.iter().map(|&i| items.wrong_logit_offset[i as usize]).collect();
    let mut w = vec![0.0f32; n * k];
    for r in 0..n {
        let row = m.row(r);
        let answered = row.iter().filter(|&&c| c != 0).count();
        let wrong = row.iter().filter(|&&c| c >= 2).count();
        let la = super::logit((wrong as f64 + 0.5) / (answered as f64 + 1.0));
        for c in 0..k {
            w[r * k + c] = (1.0 / (1.0 + (-(la + offs[c])).exp())) as f32;
        }
    }
    let mut ps = Vec::with_capacity(k);
    let mut cand = Vec::new();
    let mut tested = 0u64;
    for a in 0..n {
        for b in a + 1..n {
            let st = pair_stat(m.row(a), m.row(b), &w[a * k..(a + 1) * k], &w[b * k..(b + 1) * k], &dists, &mut ps);
            if st.common < p.min_common_items.min(p.identical_min_items) {
                continue;
            }
            if st.common >= p.min_common_items {
                tested += 1;
            }
            let pv = gbt_p(&st, &ps, p.screen_z);
            let near = st.common >= p.identical_min_items
                && st.differing <= p.identical_max_diff
                && st.identical_wrong >= p.identical_min_shared_wrong;
            if pv.is_some() || near {
                cand.push(Pair { a, b, st, p: pv, p_adj: None });
            }
        }
    }
    let mut linked = Vec::new();
    let mut near = Vec::new();
    for mut c in cand {
        c.p_adj = c.p.map(|v| (v * tested.max(1) as f64).min(1.0));
        let is_near = c.st.common >= p.identical_min_items
            && c.st.differing <= p.identical_max_diff
            && c.st.identical_wrong >= p.identical_min_shared_wrong;
        let is_linked = c.st.common >= p.min_common_items
            && c.st.identical_wrong >= p.min_identical_wrong
            && c.p_adj.is_some_and(|q| q < p.pair_alpha);
        match (is_linked, is_near) {
            (true, true) => {
                near.push(Pair { a: c.a, b: c.b, st: c.st.clone(), p: c.p, p_adj: c.p_adj });
                linked.push(c);
            }
            (true, false) => linked.push(c),
            (false, true) => near.push(c),
            (false, false) => {}
        }
    }
    SessionPairs { m, tested, linked, near }
}

fn find(parent: &mut [usize], x: usize) -> usize {
    let mut r = x;
    while parent[r] != r {
        r = parent[r];
    }
    let mut y = x;
    while parent[y] != r {
        let next = parent[y];
        parent[y] = r;
        y = next;
    }
    r
}

/// Clusters of linked rows (each sorted), largest first.
fn clusters(n: usize, pairs: &[Pair]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..n).collect();
    for pr in pairs {
        let (ra, rb) = (find(&mut parent, pr.a), find(&mut parent, pr.b));
        if ra != rb {
            parent[ra.max(rb)] = ra.min(rb);
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for pr in pairs {
        for x in [pr.a, pr.b] {
            let r = find(&mut parent, x);
            groups.entry(r).or_default().push(x);
        }
    }
    let mut out: Vec<Vec<usize>> = groups
        .into_values()
        .map(|mut g| {
            g.sort_unstable();
            g.dedup();
            g
        })
        .collect();
    out.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    out
}

fn strength(p_adj: Option<f64>, full: f64) -> f64 {
    match p_adj {
        Some(q) if q > 0.0 => (-q.log10() / full).clamp(0.0, 1.0),
        Some(_) => 1.0,
        None => 0.0,
    }
}

pub(crate) fn severity(share: f64, strength: f64, p: &Params) -> f64 {
    // Weak floor, then half from how many candidates are involved and the
    // rest from how far beyond chance the strongest evidence is.
    0.15 + 0.5 * (share / p.linked_share_full).min(1.0) + 0.35 * strength
}

fn fmt_p(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.2e}"))
}

struct Ctx2<'a> {
    t: &'a Tables,
}

impl Ctx2<'_> {
    fn rec(&self, m: &SessionMatrix, row: usize) -> &crate::dataset::rows::ExamRecord {
        let recs = self.t.exam_records.as_deref().unwrap_or(&[]);
        &recs[m.records[row] as usize]
    }
    fn rec_id(&self, m: &SessionMatrix, row: usize) -> String {
        self.t.s(self.rec(m, row).id).to_string()
    }
    fn seat(&self, m: &SessionMatrix, row: usize) -> String {
        self.rec(m, row).seat.map_or_else(String::new, |s| self.t.s(s).to_string())
    }
    fn person(&self, m: &SessionMatrix, row: usize) -> String {
        self.t.s(self.rec(m, row).person).to_string()
    }
    fn session_id(&self, m: &SessionMatrix) -> String {
        let ss = self.t.exam_sessions.as_deref().unwrap_or(&[]);
        self.t.s(ss[m.session as usize].id).to_string()
    }
    fn pair_id(&self, m: &SessionMatrix, pr: &Pair) -> (String, String) {
        let (a, b) = (self.rec_id(m, pr.a), self.rec_id(m, pr.b));
        if a <= b {
            (a, b)
        } else {
            (b, a)
        }
    }
}

fn pair_table(c: &Ctx2, rows: &[(&SessionMatrix, &Pair)], title: (&str, &str), limit: usize) -> EvidenceTable {
    let mut tab = EvidenceTable::new(
        title.0,
        title.1,
        "exam_responses",
        &[
            ("session_id", ColKind::Text),
            ("record_a", ColKind::Text),
            ("person_a", ColKind::PersonId),
            ("seat_a", ColKind::Text),
            ("record_b", ColKind::Text),
            ("person_b", ColKind::PersonId),
            ("seat_b", ColKind::Text),
            ("common_items", ColKind::Number),
            ("identical", ColKind::Number),
            ("identical_wrong", ColKind::Number),
            ("expected_identical_wrong", ColKind::Number),
            ("p", ColKind::Number),
            ("p_bonferroni", ColKind::Number),
        ],
    );
    for (m, pr) in rows {
        tab.push_limited(
            vec![
                c.session_id(m),
                c.rec_id(m, pr.a),
                c.person(m, pr.a),
                c.seat(m, pr.a),
                c.rec_id(m, pr.b),
                c.person(m, pr.b),
                c.seat(m, pr.b),
                pr.st.common.to_string(),
                pr.st.identical.to_string(),
                pr.st.identical_wrong.to_string(),
                format!("{:.2}", pr.st.expected),
                fmt_p(pr.p),
                fmt_p(pr.p_adj),
            ],
            limit,
        );
    }
    tab
}

pub(crate) fn findings(t: &Tables, matrices: &[SessionMatrix], items: &Items, p: &Params) -> Vec<Finding> {
    let Some(sessions) = t.exam_sessions.as_deref() else { return Vec::new() };
    let per: Vec<SessionPairs> = matrices.par_iter().map(|m| session_pairs(m, items, p)).collect();
    // Group sessions by institution (BTreeMap: deterministic order).
    let mut by_inst: std::collections::BTreeMap<u32, Vec<&SessionPairs>> = Default::default();
    for sp in &per {
        by_inst.entry(sessions[sp.m.session as usize].inst).or_default().push(sp);
    }
    let c = Ctx2 { t };
    let mut out = Vec::new();
    for (inst, sps) in by_inst {
        let candidates: usize = sps.iter().map(|s| s.m.records.len()).sum();
        let tested: u64 = sps.iter().map(|s| s.tested).sum();
        let inst_id = t.inst_id(inst).to_string();
        if let Some(f) = similarity_finding(&c, &inst_id, &sps, candidates, tested, p) {
            out.push(f);
        }
        if let Some(f) = identical_finding(&c, &inst_id, &sps, candidates, p) {
            out.push(f);
        }
    }
    out
}

fn similarity_finding(
    c: &Ctx2,
    inst_id: &str,
    sps: &[&SessionPairs],
    candidates: usize,
    tested: u64,
    p: &Params,
) -> Option<Finding> {
    let n_pairs: usize = sps.iter().map(|s| s.linked.len()).sum();
    if n_pairs == 0 {
        return None;
    }
    let mut cl_tab = EvidenceTable::new(
        "关联考生群组（含座位）",
        "Clusters of linked candidates (with seats)",
        "derived",
        &[
            ("session_id", ColKind::Text),
            ("cluster", ColKind::Number),
            ("size", ColKind::Number),
            ("records (seat)", ColKind::Text),
        ],
    );
    let mut linked_n = 0usize;
    let mut biggest = 0usize;
    let mut n_clusters = 0usize;
    let mut rec_strength: Vec<(String, f64)> = Vec::new();
    let mut all: Vec<(&SessionMatrix, &Pair)> = Vec::new();
    for sp in sps {
        let cls = clusters(sp.m.records.len(), &sp.linked);
        for (k, g) in cls.iter().enumerate() {
            linked_n += g.len();
            biggest = biggest.max(g.len());
            n_clusters += 1;
            let members: Vec<String> =
                g.iter().map(|&r| format!("{} ({})", c.rec_id(sp.m, r), c.seat(sp.m, r))).collect();
            cl_tab.push_limited(
                vec![c.session_id(sp.m), (k + 1).to_string(), g.len().to_string(), members.join(", ")],
                p.max_evidence_rows,
            );
        }
        for pr in &sp.linked {
            let s = strength(pr.p_adj, p.p_strength_full);
            rec_strength.push((c.rec_id(sp.m, pr.a), s));
            rec_strength.push((c.rec_id(sp.m, pr.b), s));
            all.push((sp.m, pr));
        }
    }
    all.sort_by(|x, y| x.1.p.unwrap_or(1.0).total_cmp(&y.1.p.unwrap_or(1.0)));
    let min_adj = all.first().and_then(|x| x.1.p_adj);
    let share = linked_n as f64 / candidates.max(1) as f64;
    let sev = severity(share, strength(min_adj, p.p_strength_full), p);
    let pairs_tab = pair_table(
        c,
        &all,
        ("答案雷同的考生对", "Linked pairs (identical wrong answers beyond chance)"),
        p.max_evidence_rows,
    );
    let mut f = Finding::new(inst_id, ResponsesCheck::AnswerSimilarity, sev)
        .stat(linked_n as f64, min_adj)
        .summary(
            format!(
                "{linked_n} 名考生（占 {candidates} 名的 {:.1}%）在 {n_clusters} 个群组中答错的题目与同场考生雷同，远超独立作答的预期（{n_pairs} 对，最大群组 {biggest} 人，最小校正 p = {}）",
                share * 100.0,
                fmt_p(min_adj)
            ),
            format!(
                "{linked_n} of {candidates} candidates ({:.1}%) in {n_clusters} clusters share identical wrong answers with a session mate far beyond chance ({n_pairs} pairs, largest cluster {biggest}, smallest corrected p = {})",
                share * 100.0,
                fmt_p(min_adj)
            ),
        )
        .method(
            format!(
                "零假设：同场两名考生独立作答，各题作答分布取全省使用该题的全部作答（剔除该对考生本身）。统计量：相同错误答案数（广义二项检验 GBT，精确泊松二项上尾）。仅比较同一场次内的考生对，共检验 {tested} 对，每场次内 Bonferroni 校正，阈值 {}；且相同错误答案至少 {} 题。",
                p.pair_alpha, p.min_identical_wrong
            ),
            format!(
                "Null: the two candidates of one session answered independently, each item's answer distribution taken from every province-wide answer to that item (leaving the pair out). Statistic: identical wrong answers (generalised binomial test, exact Poisson-binomial upper tail). Only pairs within one session; {tested} pairs tested; Bonferroni over each session's pairs at {}; at least {} identical wrong answers.",
                p.pair_alpha, p.min_identical_wrong
            ),
        )
        .evidence(pairs_tab)
        .evidence(cl_tab);
    for (m, pr) in &all {
        let (a, b) = c.pair_id(m, pr);
        f = f.flag(SubjectKind::Pair, format!("{a}|{b}"), strength(pr.p_adj, p.p_strength_full));
    }
    rec_strength.sort_by(|x, y| x.0.cmp(&y.0).then(y.1.total_cmp(&x.1)));
    for (id, s) in rec_strength {
        // Sorted strongest first per record; run_all keeps the first of duplicates.
        f = f.flag(SubjectKind::ExamRecord, id, s);
    }
    Some(f)
}

fn identical_finding(c: &Ctx2, inst_id: &str, sps: &[&SessionPairs], candidates: usize, p: &Params) -> Option<Finding> {
    let mut all: Vec<(&SessionMatrix, &Pair)> =
        sps.iter().flat_map(|sp| sp.near.iter().map(move |pr| (sp.m, pr))).collect();
    if all.is_empty() {
        return None;
    }
    all.sort_by(|x, y| {
        x.1.st.differing.cmp(&y.1.st.differing).then(y.1.st.identical_wrong.cmp(&x.1.st.identical_wrong))
    });
    let mut recs: Vec<String> = Vec::new();
    for (m, pr) in &all {
        recs.push(c.rec_id(m, pr.a));
        recs.push(c.rec_id(m, pr.b));
    }
    recs.sort();
    recs.dedup();
    let share = recs.len() as f64 / candidates.max(1) as f64;
    let best = all.iter().filter_map(|x| x.1.p_adj).fold(1.0f64, f64::min);
    let sev = severity(share, strength(Some(best), p.p_strength_full), p);
    let n_pairs = all.len();
    let exact = all.iter().filter(|x| x.1.st.differing == 0).count();
    let tab = pair_table(
        c,
        &all,
        ("答题串（几乎）完全相同的考生对", "Pairs with (nearly) identical response strings"),
        p.max_evidence_rows,
    );
    let mut f = Finding::new(inst_id, ResponsesCheck::IdenticalResponses, sev)
        .stat(n_pairs as f64, Some(best))
        .summary(
            format!("{n_pairs} 对同场考生答题串几乎完全相同（其中 {exact} 对完全相同），涉及 {} 名考生，且共有错误答案", recs.len()),
            format!(
                "{n_pairs} pairs of candidates in one session have (nearly) identical response strings ({exact} fully identical), {} candidates, sharing wrong answers",
                recs.len()
            ),
        )
        .method(
            format!(
                "同场次内逐对比较完整答题串：共同作答至少 {} 题、不同答案至多 {} 题、相同错误答案至少 {} 题（全对的答卷相同不算）。p 为上述广义二项检验。",
                p.identical_min_items, p.identical_max_diff, p.identical_min_shared_wrong
            ),
            format!(
                "Full response strings compared pair by pair within each session: at least {} items answered by both, at most {} answered differently, at least {} identical wrong answers (identical perfect papers do not count). p is the generalised binomial test above.",
                p.identical_min_items, p.identical_max_diff, p.identical_min_shared_wrong
            ),
        )
        .evidence(tab);
    for (m, pr) in &all {
        let (a, b) = c.pair_id(m, pr);
        let s = 1.0 - pr.st.differing as f64 / (p.identical_max_diff as f64 + 1.0);
        f = f.flag(SubjectKind::Pair, format!("{a}|{b}"), s);
    }
    Some(f)
}
