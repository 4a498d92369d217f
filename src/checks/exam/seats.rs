//! Seats and identity rules (hard rules: a finding needs at least the
//! `*_min_count` breaches in `[params.exam]`; severity is the count over
//! `*_full_count`, capped at 1, with no floor — [`super::count_severity`]):
//! - `exam.seat_conflict`: one seat occupied by two different candidates at
//!   the same time (their login–submit intervals overlap), or more
//!   candidates present *at once* than the session's seats (or, when the
//!   session gives none, the institution's seats). Seats are an
//!   instantaneous capacity: a practical exam rotating 30 candidates
//!   through 5 stations over a morning is honest. Candidates without both a
//!   login and a submit time are not judged (their presence is unknown);
//!   such sessions are counted as inconclusive in the method text;
//! - `exam.person_overlap`: one person present in two different sessions
//!   at the same time — presence is `[login or start, submit or end]`, so a
//!   candidate who finishes theory early and then sits the practical is not
//!   a breach. The finding goes to every institution involved;
//! - `exam.face_mismatch`: candidates admitted (a score recorded) although
//!   their face-match score is below `face_min_score`.

use std::collections::BTreeMap;

use super::{count_severity, fmt_opt_ts, Exams, Params, ROWS};
use crate::checks::ExamCheck;
use crate::checks::{ColKind, Ctx, EvidenceTable, Finding, SubjectKind};
use crate::dataset::rows::{fmt_ts, ExamRecord, Ts};

pub(super) fn run(ctx: &Ctx, ex: &Exams, p: &Params) -> Vec<Finding> {
    let mut out = seat_conflict(ctx, ex, p);
    out.extend(person_overlap(ctx, ex, p));
    out.extend(face_mismatch(ctx, ex, p));
    out
}

/// One institution's shared-seat rows, over-capacity rows, flags, breach
/// count, sessions tested and sessions left inconclusive.
#[derive(Default)]
struct SeatHits {
    shared: Vec<Vec<String>>,
    over: Vec<Vec<String>>,
    flags: Vec<(SubjectKind, String)>,
    breaches: usize,
    tested: usize,
    inconclusive: usize,
}

/// A record's presence interval when both ends are recorded (`None` when
/// either is missing: its presence is unknown, not the whole session).
fn timed(r: &ExamRecord) -> Option<(Ts, Ts)> {
    match (r.login_at, r.submit_at) {
        (Some(a), Some(b)) => Some((a, b.max(a))),
        _ => None,
    }
}

/// Peak number of distinct persons present at once over half-open
/// intervals `[a, b)` (one leaving when the next arrives do not overlap),
/// with the moment it is first reached.
fn peak_concurrent(mut iv: Vec<(Ts, Ts, crate::dataset::intern::Sym)>) -> (usize, Option<Ts>) {
    // One interval per person: a person's own records never count twice.
    iv.sort_by_key(|x| (x.2, x.0, x.1));
    let mut merged: Vec<(Ts, Ts)> = Vec::new();
    for g in iv.chunk_by(|a, b| a.2 == b.2) {
        let mut cur = (g[0].0, g[0].1);
        for x in &g[1..] {
            if x.0 <= cur.1 {
                cur.1 = cur.1.max(x.1);
            } else {
                merged.push(cur);
                cur = (x.0, x.1);
            }
        }
        merged.push(cur);
    }
    // Sweep: ends (-1) sort before starts (+1) at the same instant; a
    // zero-length presence (login = submit) occupies its seat for a second.
    let mut ev: Vec<(Ts, i32)> = merged.iter().flat_map(|&(a, b)| [(a, 1), (b.max(a + 1), -1)]).collect();
    ev.sort_unstable();
    let (mut cur, mut peak, mut at) = (0i32, 0i32, None);
    for (t, d) in ev {
        cur += d;
        if cur > peak {
            peak = cur;
            at = Some(t);
        }
    }
    (peak.max(0) as usize, at)
}

fn seat_conflict(ctx: &Ctx, ex: &Exams, p: &Params) -> Vec<Finding> {
    let t = ctx.t;
    let mut hits: BTreeMap<u32, SeatHits> = BTreeMap::new();
    for (si, s) in ex.sessions.iter().enumerate() {
        let recs: Vec<&ExamRecord> = ex.of_session(si).iter().map(|&i| &ex.records[i as usize]).collect();
        let e = hits.entry(s.inst).or_default();
        e.tested += 1;
        let mut unknown = false;
        // Shared seat: two different persons on one seat whose recorded
        // presences overlap in time. Without both times it is inconclusive.
        let mut seated: Vec<&ExamRecord> = recs.iter().copied().filter(|r| r.seat.is_some()).collect();
        seated.sort_by_key(|r| (r.seat, r.login_at, r.person, r.id));
        for group in seated.chunk_by(|a, b| a.seat == b.seat) {
            if group.windows(2).all(|w| w[0].person == w[1].person) {
                continue;
            }
            let mut clash: Vec<&ExamRecord> = Vec::new();
            for (k, a) in group.iter().enumerate() {
                for b in &group[k + 1..] {
                    if a.person == b.person {
                        continue;
                    }
                    match (timed(a), timed(b)) {
                        (Some((a0, a1)), Some((b0, b1))) => {
                            if a0 < b1 && b0 < a1 {
                                clash.push(a);
                                clash.push(b);
                            }
                        }
                        _ => unknown = true,
                    }
                }
            }
            if clash.is_empty() {
                continue;
            }
            clash.sort_by_key(|r| r.id);
            clash.dedup_by_key(|r| r.id);
            e.breaches += 1;
            for r in clash {
                e.shared.push(vec![
                    t.s(s.id).to_string(),
                    r.seat.map(|x| t.s(x).to_string()).unwrap_or_default(),
                    t.s(r.id).to_string(),
                    t.s(r.person).to_string(),
                    fmt_opt_ts(r.login_at),
                    fmt_opt_ts(r.submit_at),
                    format!("{}", r.score),
                ]);
                e.flags.push((SubjectKind::ExamRecord, t.s(r.id).to_string()));
            }
        }
        // Capacity: seats are an instantaneous capacity, so they are compared
        // with the peak number of candidates present at once. Records without
        // both times make the peak a lower bound: a breach by the timed
        // records alone still counts, otherwise the session is inconclusive.
        let cap = s.seats.or(t.institutions[s.inst as usize].seats);
        if let Some(cap) = cap {
            let iv: Vec<(Ts, Ts, _)> = recs.iter().filter_map(|r| timed(r).map(|(a, b)| (a, b, r.person))).collect();
            let untimed = recs.len() - iv.len();
            let (peak, at) = peak_concurrent(iv);
            if peak > cap as usize {
                e.breaches += 1;
                e.over.push(vec![
                    t.s(s.id).to_string(),
                    fmt_ts(s.start),
                    at.map(fmt_ts).unwrap_or_default(),
                    peak.to_string(),
                    recs.len().to_string(),
                    cap.to_string(),
                    if s.seats.is_some() { "session seats" } else { "institution seats" }.to_string(),
                ]);
                e.flags.push((SubjectKind::Session, t.s(s.id).to_string()));
            } else if untimed > 0 {
                let mut persons: Vec<_> = recs.iter().map(|r| r.person).collect();
                persons.sort_unstable();
                persons.dedup();
                unknown |= persons.len() > cap as usize;
            }
        }
        if unknown {
            e.inconclusive += 1;
        }
    }
    let mut out = Vec::new();
    for (inst, h) in hits {
        let count = h.breaches;
        if count == 0 || count < p.seat_min_count {
            continue;
        }
        let sev = count_severity(count, p.seat_full_count);
        let n_over = h.over.len();
        let n_shared = count - n_over;
        let mut f = Finding::new(t.inst_id(inst), ExamCheck::SeatConflict, sev)
            .stat(count as f64, None)
            .summary(
                format!("{n_shared} 个座位在同一时间被不同考生占用，{n_over} 个场次同时在场考生数超过座位数（{} 个场次因缺少登录/交卷时间无法判定）", h.inconclusive),
                format!("{n_shared} seats occupied by different candidates at the same time; {n_over} sessions with more candidates present at once than seats ({} sessions inconclusive: no login/submit times)", h.inconclusive),
            )
            .method(
                format!("规则：同一座位同一时间只能有一名考生（两名考生的登录—交卷时间须重叠才算共用）；任一时刻同时在场的考生数不得超过座位数（无场次座位数时用机构座位数）。座位是瞬时容量，实操考试轮换工位不算超员。缺少登录或交卷时间的考生不作判定。共检查 {} 个场次；严重度 = 违规数 / {}（满），无下限。", h.tested, p.seat_full_count),
                format!("Rules: one candidate per seat at a time (two candidates share a seat only when their login-to-submit times overlap); no more candidates present at once than seats (the institution's seats when the session gives none). Seats are an instantaneous capacity, so stations rotating candidates through a practical exam are not over capacity. Candidates without login or submit times are not judged. {} sessions checked; severity = breaches / {} (full), no floor.", h.tested, p.seat_full_count),
            );
        if !h.shared.is_empty() {
            let mut table = EvidenceTable::new(
                "同一时间共用座位的考生",
                "Candidates on one seat at the same time",
                "exam_records",
                &[
                    ("session_id", ColKind::Text),
                    ("seat", ColKind::Text),
                    ("record_id", ColKind::Text),
                    ("person_id", ColKind::PersonId),
                    ("login_at", ColKind::Time),
                    ("submit_at", ColKind::Time),
                    ("score", ColKind::Number),
                ],
            );
            h.shared.into_iter().for_each(|r| table.push_limited(r, ROWS));
            f = f.evidence(table);
        }
        if !h.over.is_empty() {
            let mut table = EvidenceTable::new(
                "同时在场人数超过座位数的场次",
                "Sessions with more candidates present at once than seats",
                "exam_sessions",
                &[
                    ("session_id", ColKind::Text),
                    ("start", ColKind::Time),
                    ("peak at", ColKind::Time),
                    ("present at once", ColKind::Number),
                    ("candidates", ColKind::Number),
                    ("seats", ColKind::Number),
                    ("seats from", ColKind::Text),
                ],
            );
            h.over.into_iter().for_each(|r| table.push_limited(r, ROWS));
            f = f.evidence(table);
        }
        for (k, id) in h.flags {
            f = f.flag(k, id, sev);
        }
        out.push(f);
    }
    out
}

fn presence(ex: &Exams, r: &ExamRecord) -> (Ts, Ts) {
    let s = ex.session_of(r);
    let a = r.login_at.unwrap_or(s.start);
    let b = r.submit_at.unwrap_or(s.end);
    (a, b.max(a))
}

fn person_overlap(ctx: &Ctx, ex: &Exams, p: &Params) -> Vec<Finding> {
    let t = ctx.t;
    let mut idx: Vec<u32> = (0..ex.records.len() as u32).collect();
    idx.sort_by_key(|&i| {
        let r = &ex.records[i as usize];
        (r.person, presence(ex, r).0, i)
    });
    // Overlapping pairs (record a, record b), a before b.
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for group in idx.chunk_by(|&a, &b| ex.records[a as usize].person == ex.records[b as usize].person) {
        if group.len() < 2 {
            continue;
        }
        for (k, &a) in group.iter().enumerate() {
            let ra = &ex.records[a as usize];
            let (_, ea) = presence(ex, ra);
            for &b in &group[k + 1..] {
                let rb = &ex.records[b as usize];
                let (sb, _) = presence(ex, rb);
                if sb >= ea {
                    break;
                }
                if ra.session != rb.session {
                    pairs.push((a, b));
                }
            }
        }
    }
    let mut by_inst: BTreeMap<u32, Vec<(u32, u32)>> = BTreeMap::new();
    for &(a, b) in &pairs {
        let ia = ex.session_of(&ex.records[a as usize]).inst;
        let ib = ex.session_of(&ex.records[b as usize]).inst;
        by_inst.entry(ia).or_default().push((a, b));
        if ib != ia {
            by_inst.entry(ib).or_default().push((a, b));
        }
    }
    let mut out = Vec::new();
    for (inst, list) in by_inst {
        if list.len() < p.overlap_min_count {
            continue;
        }
        let sev = count_severity(list.len(), p.overlap_full_count);
        let mut table = EvidenceTable::new(
            "同时出现在两个场次的考生",
            "Candidates present in two sessions at once",
            "exam_records",
            &[
                ("person_id", ColKind::PersonId),
                ("record A", ColKind::Text),
                ("session A", ColKind::Text),
                ("centre A", ColKind::Text),
                ("present A", ColKind::Text),
                ("record B", ColKind::Text),
                ("session B", ColKind::Text),
                ("centre B", ColKind::Text),
                ("present B", ColKind::Text),
            ],
        );
        let mut f = Finding::new(t.inst_id(inst), ExamCheck::PersonOverlap, sev)
            .stat(list.len() as f64, None)
            .summary(
                format!("{} 对考试记录显示同一考生同时在两个场次", list.len()),
                format!("{} pairs of exam records put one candidate in two sessions at the same time", list.len()),
            )
            .method(
                "规则：同一身份证号的在场时间（登录或开考至交卷或结束）不得在两个不同场次重叠。",
                "Rule: one ID number cannot be present (login or start to submission or end) in two different sessions at overlapping times.",
            );
        for &(a, b) in &list {
            let (ra, rb) = (&ex.records[a as usize], &ex.records[b as usize]);
            let (sa, sb) = (ex.session_of(ra), ex.session_of(rb));
            let span = |r: &ExamRecord| {
                let (x, y) = presence(ex, r);
                format!("{} – {}", fmt_ts(x), fmt_ts(y))
            };
            table.push_limited(
                vec![
                    t.s(ra.person).to_string(),
                    t.s(ra.id).to_string(),
                    t.s(sa.id).to_string(),
                    t.inst_id(sa.inst).to_string(),
                    span(ra),
                    t.s(rb.id).to_string(),
                    t.s(sb.id).to_string(),
                    t.inst_id(sb.inst).to_string(),
                    span(rb),
                ],
                ROWS,
            );
            let (x, y) = if t.s(ra.id) < t.s(rb.id) { (ra.id, rb.id) } else { (rb.id, ra.id) };
            f = f
                .flag(SubjectKind::Pair, format!("{}|{}", t.s(x), t.s(y)), sev)
                .flag(SubjectKind::Person, t.s(ra.person), sev)
                .flag(SubjectKind::ExamRecord, t.s(ra.id), sev)
                .flag(SubjectKind::ExamRecord, t.s(rb.id), sev);
        }
        out.push(f.evidence(table));
    }
    out
}

fn face_mismatch(ctx: &Ctx, ex: &Exams, p: &Params) -> Vec<Finding> {
    let t = ctx.t;
    let mut by_inst: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let mut scored: BTreeMap<u32, usize> = BTreeMap::new();
    for (i, r) in ex.records.iter().enumerate() {
        let Some(fs) = r.face_score else { continue };
        let inst = ex.session_of(r).inst;
        *scored.entry(inst).or_default() += 1;
        if f64::from(fs) < p.face_min_score {
            by_inst.entry(inst).or_default().push(i as u32);
        }
    }
    let mut out = Vec::new();
    for (inst, list) in by_inst {
        if list.len() < p.face_min_count {
            continue;
        }
        let sev = count_severity(list.len(), p.face_full_count);
        let n = scored.get(&inst).copied().unwrap_or(0);
        let mut table = EvidenceTable::new(
            "人脸比对未通过仍准予考试的考生",
            "Candidates admitted despite a failed face match",
            "exam_records",
            &[
                ("record_id", ColKind::Text),
                ("person_id", ColKind::PersonId),
                ("session_id", ColKind::Text),
                ("seat", ColKind::Text),
                ("login_at", ColKind::Time),
                ("face_score", ColKind::Number),
                ("score", ColKind::Number),
            ],
        );
        let mut f = Finding::new(t.inst_id(inst), ExamCheck::FaceMismatch, sev)
            .stat(list.len() as f64, None)
            .summary(
                format!("{} 名考生人脸比对分低于 {}（共 {n} 条有比对分的记录）仍参加考试", list.len(), p.face_min_score),
                format!("{} candidates sat the exam with a face-match score below {} (of {n} records with a score)", list.len(), p.face_min_score),
            )
            .method(
                format!("规则：人脸比对分低于 {}（scorecard.toml face_min_score）应拒绝入场；逐条检查有成绩的考试记录。", p.face_min_score),
                format!("Rule: a face-match score below {} (scorecard.toml face_min_score) should bar entry; every record with a score is checked.", p.face_min_score),
            );
        for &i in &list {
            let r = &ex.records[i as usize];
            let s = ex.session_of(r);
            table.push_limited(
                vec![
                    t.s(r.id).to_string(),
                    t.s(r.person).to_string(),
                    t.s(s.id).to_string(),
                    r.seat.map(|x| t.s(x).to_string()).unwrap_or_default(),
                    fmt_opt_ts(r.login_at),
                    r.face_score.map(|x| format!("{x:.2}")).unwrap_or_default(),
                    format!("{}", r.score),
                ],
                ROWS,
            );
            f = f.flag(SubjectKind::ExamRecord, t.s(r.id), sev).flag(SubjectKind::Person, t.s(r.person), sev);
        }
        out.push(f.evidence(table));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{of, ts, Fx};
    use crate::dataset::rows::Part;

    /// Two centres; each session has 10 seated candidates, all face scores high.
    fn province() -> Fx {
        let mut fx = Fx::new();
        for c in 0..2 {
            let inst = fx.inst(&format!("C{c}"), Some(40));
            let s = fx.session(inst, "低压电工", Part::Theory, ts(0, 9, 0), 120);
            fx.session_mut(s).seats = Some(10);
            for k in 0..10 {
                let seat = fx.seat(&format!("{k:02}"));
                let r = fx.record(s, &format!("P{c}-{k}"), 85.0);
                r.seat = Some(seat);
                r.face_score = Some(0.93);
                r.submit_at = Some(ts(0, 9, 50));
            }
            // The first candidate finishes theory at 09:50, then sits the practical.
            let p = fx.session(inst, "低压电工", Part::Practical, ts(0, 10, 0), 60);
            fx.record(p, &format!("P{c}-0"), 85.0);
        }
        fx
    }

    #[test]
    fn honest_rooms_have_no_findings() {
        let f = province().run(crate::checks::exam::run);
        for id in ["exam.seat_conflict", "exam.person_overlap", "exam.face_mismatch"] {
            assert!(of(&f, id).is_empty(), "{id}: {:#?}", of(&f, id));
        }
    }

    /// A practical yard with 5 stations: 30 candidates in six rounds of 35
    /// minutes, each station's candidates one after another (the next logs
    /// in when the previous submits).
    fn rotation(timed: bool) -> Fx {
        let mut fx = Fx::new();
        let inst = fx.inst("Y", Some(40));
        let s = fx.session(inst, "焊工", Part::Practical, ts(0, 8, 0), 210);
        fx.session_mut(s).seats = Some(5);
        for k in 0..30i64 {
            let seat = fx.seat(&format!("{:02}", k % 5 + 1));
            let r = fx.record(s, &format!("Y-{k}"), 85.0);
            r.seat = Some(seat);
            let login = ts(0, 8, 0) + (k / 5) * 35 * 60;
            (r.login_at, r.submit_at) = if timed { (Some(login), Some(login + 35 * 60)) } else { (None, None) };
        }
        fx
    }

    #[test]
    fn station_rotation_is_honest() {
        for timed in [true, false] {
            let f = rotation(timed).run(crate::checks::exam::run);
            assert!(of(&f, "exam.seat_conflict").is_empty(), "timed={timed}: {:#?}", of(&f, "exam.seat_conflict"));
        }
    }

    #[test]
    fn rotation_with_a_double_booked_station_is_found() {
        let mut fx = rotation(true);
        // A sixth candidate at station 03 during round 2, while Y-7 is there.
        let seat = fx.seat("03");
        let r = fx.record(0, "EXTRA", 90.0);
        r.seat = Some(seat);
        (r.login_at, r.submit_at) = (Some(ts(0, 8, 40)), Some(ts(0, 9, 0)));
        let f = fx.run(crate::checks::exam::run);
        let sc = of(&f, "exam.seat_conflict");
        assert_eq!(sc.len(), 1, "{sc:#?}");
        // One shared seat, and 6 present at once on 5 seats.
        assert_eq!(sc[0].statistic, Some(2.0));
        assert!(sc[0].severity > 0.0 && sc[0].severity <= 0.2 + 1e-9, "{}", sc[0].severity);
        assert!(sc[0].flags.iter().any(|x| x.subject_id == "R000030"), "{:?}", sc[0].flags);
    }

    #[test]
    fn peak_concurrency_counts_people_at_once() {
        use super::peak_concurrent;
        let p = |i: u32| crate::dataset::intern::Sym(i);
        // [0,10) [10,20) touch: 1 at once; [5,15) overlaps both: 2.
        assert_eq!(peak_concurrent(vec![(0, 10, p(1)), (10, 20, p(2))]).0, 1);
        assert_eq!(peak_concurrent(vec![(0, 10, p(1)), (10, 20, p(2)), (5, 15, p(3))]), (2, Some(5)));
        // One person's two records count once.
        assert_eq!(peak_concurrent(vec![(0, 10, p(1)), (5, 15, p(1))]).0, 1);
        assert_eq!(peak_concurrent(vec![]).0, 0);
    }

    #[test]
    fn shared_seat_overlap_and_face_failures_are_found() {
        let mut fx = province();
        // Seat 03 of C1 reused by someone else; C1's session over its 10 seats.
        let seat = fx.seat("03");
        let r = fx.record(2, "INTRUDER", 90.0);
        r.seat = Some(seat);
        r.submit_at = Some(ts(0, 9, 40));
        // P0-5 also "sits" at C1 at the same time (proxy).
        fx.record(2, "P0-5", 88.0);
        let recs = fx.t.exam_records.as_mut().unwrap();
        recs[3].face_score = Some(0.2);
        recs[4].face_score = Some(0.41);
        let f = fx.run(crate::checks::exam::run);
        let sc = of(&f, "exam.seat_conflict");
        assert_eq!(sc.len(), 1);
        assert_eq!((sc[0].institution_id.as_str(), sc[0].statistic), ("C1", Some(2.0)));
        let po = of(&f, "exam.person_overlap");
        assert_eq!(po.iter().map(|x| x.institution_id.as_str()).collect::<Vec<_>>(), ["C0", "C1"]);
        assert!(po[0].flags.iter().any(|x| x.kind == crate::checks::SubjectKind::Pair));
        let fm = of(&f, "exam.face_mismatch");
        assert_eq!((fm.len(), fm[0].institution_id.as_str(), fm[0].evidence[0].total_rows), (1, "C0", 2));
    }
}
