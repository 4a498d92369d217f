//! Seats and identity rules (hard rules: a finding needs at least the
//! `*_min_count` breaches in `[params.exam]`; severity rises with the count
//! to `*_full_count`):
//! - `exam.seat_conflict`: one seat used by two different candidates in one
//!   session, or more candidates than the session's seats (or, when the
//!   session gives none, the institution's seats);
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

/// One institution's shared-seat rows, over-capacity rows, flags and breach count.
type SeatHits = (Vec<Vec<String>>, Vec<Vec<String>>, Vec<(SubjectKind, String)>, usize);

fn seat_conflict(ctx: &Ctx, ex: &Exams, p: &Params) -> Vec<Finding> {
    let t = ctx.t;
    // inst → (shared-seat rows, over-capacity rows)
    let mut hits: BTreeMap<u32, SeatHits> = BTreeMap::new();
    for (si, s) in ex.sessions.iter().enumerate() {
        let mut seated: Vec<&ExamRecord> =
            ex.of_session(si).iter().map(|&i| &ex.records[i as usize]).filter(|r| r.seat.is_some()).collect();
        seated.sort_by_key(|r| (r.seat, r.person, r.id));
        for group in seated.chunk_by(|a, b| a.seat == b.seat) {
            if group.windows(2).all(|w| w[0].person == w[1].person) {
                continue;
            }
            let e = hits.entry(s.inst).or_default();
            e.3 += 1;
            for r in group {
                e.0.push(vec![
                    t.s(s.id).to_string(),
                    r.seat.map(|x| t.s(x).to_string()).unwrap_or_default(),
                    t.s(r.id).to_string(),
                    t.s(r.person).to_string(),
                    fmt_opt_ts(r.login_at),
                    fmt_opt_ts(r.submit_at),
                    format!("{}", r.score),
                ]);
                e.2.push((SubjectKind::ExamRecord, t.s(r.id).to_string()));
            }
        }
        let cap = s.seats.or(t.institutions[s.inst as usize].seats);
        let mut persons: Vec<_> = ex.of_session(si).iter().map(|&i| ex.records[i as usize].person).collect();
        persons.sort_unstable();
        persons.dedup();
        if let Some(cap) = cap {
            if persons.len() > cap as usize {
                let e = hits.entry(s.inst).or_default();
                e.3 += 1;
                e.1.push(vec![
                    t.s(s.id).to_string(),
                    fmt_ts(s.start),
                    persons.len().to_string(),
                    cap.to_string(),
                    if s.seats.is_some() { "session seats" } else { "institution seats" }.to_string(),
                ]);
                e.2.push((SubjectKind::Session, t.s(s.id).to_string()));
            }
        }
    }
    let mut out = Vec::new();
    for (inst, (shared, over, flags, count)) in hits {
        if count < p.seat_min_count {
            continue;
        }
        let sev = count_severity(count, p.seat_min_count, p.seat_full_count);
        let n_shared = count - over.len();
        let mut f = Finding::new(t.inst_id(inst), ExamCheck::SeatConflict, sev)
            .stat(count as f64, None)
            .summary(
                format!("{n_shared} 个座位在同一场次被不同考生使用，{} 个场次考生数超过座位数", over.len()),
                format!("{n_shared} seats used by different candidates in one session; {} sessions with more candidates than seats", over.len()),
            )
            .method(
                "规则：同一场次一个座位只能对应一名考生；场次考生人数不得超过场次座位数（无场次座位数时用机构座位数）。",
                "Rules: one candidate per seat in a session; no more candidates than the session's seats (the institution's seats when the session gives none).",
            );
        if !shared.is_empty() {
            let mut table = EvidenceTable::new(
                "同一座位的多名考生",
                "Candidates sharing a seat",
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
            shared.into_iter().for_each(|r| table.push_limited(r, ROWS));
            f = f.evidence(table);
        }
        if !over.is_empty() {
            let mut table = EvidenceTable::new(
                "超过座位数的场次",
                "Sessions over capacity",
                "exam_sessions",
                &[
                    ("session_id", ColKind::Text),
                    ("start", ColKind::Time),
                    ("candidates", ColKind::Number),
                    ("seats", ColKind::Number),
                    ("seats from", ColKind::Text),
                ],
            );
            over.into_iter().for_each(|r| table.push_limited(r, ROWS));
            f = f.evidence(table);
        }
        for (k, id) in flags {
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
        let sev = count_severity(list.len(), p.overlap_min_count, p.overlap_full_count);
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
        let sev = count_severity(list.len(), p.face_min_count, p.face_full_count);
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

    #[test]
    fn shared_seat_overlap_and_face_failures_are_found() {
        let mut fx = province();
        // Seat 03 of C1 reused by someone else; C1's session over its 10 seats.
        let seat = fx.seat("03");
        fx.record(2, "INTRUDER", 90.0).seat = Some(seat);
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
