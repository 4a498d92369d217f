//! Records that contradict the exam archive or the class calendar:
//! `training.backfilled` (attendance dated after the trainee's exam for
//! that operation, or after the class ended) and
//! `training.no_attendance_record` (candidates whose exam record names this
//! institution as their trainer but who have no attendance there for that
//! operation). A candidate whose attendance may be in a rejected row
//! (DATA.md: rejected is unknown, not absent) is left out and named as
//! unknown in the summary.

use std::collections::HashMap;

use crate::checks::{ColKind, Ctx, EvidenceTable, Finding, SubjectKind};
use crate::dataset::intern::Sym;
use crate::dataset::rows::{day_of, fmt_day, fmt_ts, CourseKind, Tables, Ts};

use super::{ids, op_key, pct, push_row, share_severity, Index};

/// The exam archive as the training checks need it.
pub(super) struct ExamIndex {
    pub has: bool,
    /// Earliest exam start per (person, operation key).
    first_exam: HashMap<(u32, u32), Ts>,
    /// Exam record indices per named training institution.
    by_training_inst: Vec<Vec<u32>>,
}

impl ExamIndex {
    /// Whether `person` sat any exam for the operation `op_key`.
    pub fn examined(&self, person: u32, op_key: u32) -> bool {
        self.first_exam.contains_key(&(person, op_key))
    }

    pub fn build(t: &Tables) -> ExamIndex {
        let mut first_exam: HashMap<(u32, u32), Ts> = HashMap::new();
        let mut by_training_inst = vec![Vec::new(); t.institutions.len()];
        let (Some(sessions), Some(recs)) = (t.exam_sessions.as_deref(), t.exam_records.as_deref()) else {
            return ExamIndex { has: false, first_exam, by_training_inst };
        };
        for (i, r) in recs.iter().enumerate() {
            let Some(s) = sessions.get(r.session as usize) else { continue };
            let e = first_exam.entry((r.person.0, op_key(&s.operation))).or_insert(s.start);
            *e = (*e).min(s.start);
            if let Some(v) = r.training_inst.and_then(|ti| by_training_inst.get_mut(ti as usize)) {
                v.push(i as u32);
            }
        }
        ExamIndex { has: true, first_exam, by_training_inst }
    }
}

pub(super) fn backfilled(ctx: &Ctx, ix: &Index, ex: &ExamIndex, inst: u32, rows: &[u32]) -> Option<Finding> {
    let p = &ctx.params.training;
    let t = ix.t;
    // (row, exam time if after the exam)
    let mut hits: Vec<(u32, Option<Ts>)> = Vec::new();
    for &r in rows {
        let a = ix.a(r);
        let class = ix.class_of(r);
        if class.course_kind == CourseKind::Initial {
            if let Some(&exam) = ex.first_exam.get(&(a.person.0, op_key(&class.operation))) {
                // Only the class that prepared for that exam: a class that
                // began after it is later training, not backfill.
                if a.check_in >= exam && class.start_date <= day_of(exam) {
                    hits.push((r, Some(exam)));
                    continue;
                }
            }
        }
        if day_of(a.check_in) > class.end_date + p.backfill_grace_days {
            hits.push((r, None));
        }
    }
    let mut persons: Vec<u32> = hits.iter().map(|&(r, _)| ix.a(r).person.0).collect();
    persons.sort_unstable();
    persons.dedup();
    if persons.len() < p.backfill_min_persons.max(1) {
        return None;
    }
    let mut all: Vec<u32> = rows.iter().map(|&r| ix.a(r).person.0).collect();
    all.sort_unstable();
    all.dedup();
    let share = persons.len() as f64 / all.len().max(1) as f64;
    let sev = share_severity(share, p.backfill_full_share);
    let after_exam = hits.iter().filter(|h| h.1.is_some()).count();
    let after_end = hits.len() - after_exam;
    let mut tr = EvidenceTable::new(
        "考试后或结业后的学时记录",
        "Attendance dated after the exam or after the class ended",
        "attendance",
        &[
            ("record_id", ColKind::Text),
            ("person_id", ColKind::PersonId),
            ("name", ColKind::Name),
            ("class_id", ColKind::Text),
            ("check_in", ColKind::Time),
            ("check_out", ColKind::Time),
            ("class_end", ColKind::Time),
            ("first_exam", ColKind::Time),
            ("why", ColKind::Text),
        ],
    );
    let mut f = Finding::new(t.inst_id(inst), ids::BACKFILLED, sev);
    for &(r, exam) in &hits {
        let a = ix.a(r);
        let class = ix.class_of(r);
        push_row(
            &mut tr,
            || {
                vec![
                    t.s(a.id).into(),
                    t.s(a.person).into(),
                    ix.opt(a.name),
                    t.s(class.id).into(),
                    fmt_ts(a.check_in),
                    fmt_ts(a.check_out),
                    fmt_day(class.end_date),
                    exam.map(fmt_ts).unwrap_or_default(),
                    if exam.is_some() { "考试之后 after the exam" } else { "结业之后 after the class end" }.into(),
                ]
            },
            p.evidence_rows,
        );
        let strength = if exam.is_some() { 1.0 } else { 0.7 };
        f = f.flag(SubjectKind::Attendance, t.s(a.id), strength).flag(SubjectKind::Person, t.s(a.person), strength);
    }
    let (np, n) = (persons.len(), all.len());
    Some(
        f.stat(share, None)
            .summary(
                format!(
                    "{np}/{n} 名学员（{}）有补录嫌疑的学时记录：{after_exam} 条在本人该作业类别考试之后，{after_end} 条在班级结业日期之后",
                    pct(share)
                ),
                format!(
                    "{np} of {n} trainees ({}) have records that look backfilled: {after_exam} dated after their own exam for the operation, {after_end} after the class end date",
                    pct(share)
                ),
            )
            .method(
                format!(
                    "初训班级的学时记录签到时间晚于该学员同一作业类别最早一次考试开考时间（且班级在考试前已开班），或任何记录签到日期晚于班级结业日期 {} 天以上。不少于 {} 名学员时报告；严重度 = 涉及学员比例 ÷ {}。",
                    p.backfill_grace_days,
                    p.backfill_min_persons,
                    pct(p.backfill_full_share)
                ),
                format!(
                    "Records of an initial class checked in after the start of the trainee's first exam for the same operation (the class having begun before that exam), or any record dated more than {} day(s) after the class end date. Reported from {} trainees; severity = share of trainees ÷ {}.",
                    p.backfill_grace_days,
                    p.backfill_min_persons,
                    pct(p.backfill_full_share)
                ),
            )
            .evidence(tr),
    )
}

pub(super) fn no_attendance_record(ctx: &Ctx, ix: &Index, ex: &ExamIndex, inst: u32, rows: &[u32]) -> Option<Finding> {
    let p = &ctx.params.training;
    let t = ix.t;
    if !ex.has {
        return None;
    }
    let cands = &ex.by_training_inst[inst as usize];
    if cands.is_empty() {
        return None;
    }
    let (Some(sessions), Some(recs)) = (t.exam_sessions.as_deref(), t.exam_records.as_deref()) else { return None };
    let mut trained: Vec<(u32, u32)> =
        rows.iter().map(|&r| (ix.a(r).person.0, op_key(&ix.class_of(r).operation))).collect();
    trained.sort_unstable();
    trained.dedup();
    let mut keys: Vec<((u32, u32), u32)> = Vec::new();
    for &ri in cands {
        let r = &recs[ri as usize];
        let Some(s) = sessions.get(r.session as usize) else { continue };
        keys.push(((r.person.0, op_key(&s.operation)), ri));
    }
    keys.sort_unstable();
    let mut distinct = 0usize;
    let mut missing: Vec<u32> = Vec::new();
    let mut missing_keys = 0usize;
    // Candidates whose attendance here may sit in a rejected row: unknown.
    let mut unreadable = 0usize;
    let mut k = 0;
    while k < keys.len() {
        let key = keys[k].0;
        let mut m = k;
        while m < keys.len() && keys[m].0 == key {
            m += 1;
        }
        if trained.binary_search(&key).is_err() && ix.attendance_unreadable(Sym(key.0), inst, key.1) {
            unreadable += 1;
            k = m;
            continue;
        }
        distinct += 1;
        if trained.binary_search(&key).is_err() {
            missing_keys += 1;
            missing.extend(keys[k..m].iter().map(|x| x.1));
        }
        k = m;
    }
    let share = missing_keys as f64 / distinct.max(1) as f64;
    if missing_keys < p.noatt_min_persons || share < p.noatt_min_share {
        return None;
    }
    let sev = share_severity(share, p.noatt_full_share);
    let mut tr = EvidenceTable::new(
        "无本机构培训记录的考生",
        "Candidates with no attendance at this institution",
        "exam_records",
        &[
            ("exam_record_id", ColKind::Text),
            ("person_id", ColKind::PersonId),
            ("name", ColKind::Name),
            ("session_id", ColKind::Text),
            ("operation", ColKind::Text),
            ("exam_start", ColKind::Time),
            ("score", ColKind::Number),
        ],
    );
    let mut f = Finding::new(t.inst_id(inst), ids::NO_ATTENDANCE, sev);
    missing.sort_unstable();
    for &ri in &missing {
        let r = &recs[ri as usize];
        let s = &sessions[r.session as usize];
        push_row(
            &mut tr,
            || {
                vec![
                    t.s(r.id).into(),
                    t.s(r.person).into(),
                    ix.opt(r.name),
                    t.s(s.id).into(),
                    t.s(s.operation.raw).into(),
                    fmt_ts(s.start),
                    format!("{:.0}", r.score),
                ]
            },
            p.evidence_rows,
        );
        f = f.flag(SubjectKind::ExamRecord, t.s(r.id), 0.8).flag(SubjectKind::Person, t.s(r.person), 0.8);
    }
    Some(
        f.stat(share, None)
            .summary(
                format!(
                    "{missing_keys}/{distinct} 名考生（{}）的考试档案写明由本机构培训，但本机构没有其该作业类别的任何学时记录{}",
                    pct(share),
                    if unreadable > 0 { format!("（另有 {unreadable} 名考生的学时记录被拒读，视为未知，未计入）") } else { String::new() }
                ),
                format!(
                    "{missing_keys} of {distinct} candidates ({}) name this institution as their trainer in the exam archive but have no attendance record here for that operation{}",
                    pct(share),
                    if unreadable > 0 { format!(" ({unreadable} more whose attendance rows were rejected are unknown, not counted)") } else { String::new() }
                ),
            )
            .method(
                format!(
                    "考试档案中培训机构编号为本机构的考生（按身份证号和作业类别去重），与本机构该作业类别班级的学时记录比对。不少于 {} 人且占比不低于 {} 时报告；严重度 = 占比 ÷ {}。",
                    p.noatt_min_persons,
                    pct(p.noatt_min_share),
                    pct(p.noatt_full_share)
                ),
                format!(
                    "Candidates whose exam record names this institution as trainer (distinct by ID number and operation), matched against the attendance of this institution's classes of that operation. Reported from {} candidates and a share of {}; severity = share ÷ {}.",
                    p.noatt_min_persons,
                    pct(p.noatt_min_share),
                    pct(p.noatt_full_share)
                ),
            )
            .evidence(tr),
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{pid, ts, Fx};
    use super::super::ids;
    use crate::dataset::rows::{CourseKind, Mode};

    #[test]
    fn attendance_after_exam_or_class_end() {
        let mut fx = Fx::new();
        let c = fx.class("C1", 0, "低压电工", CourseKind::Initial, "2024-07-01", "2024-07-25", None, None);
        for k in 0..20 {
            fx.att(c, &pid(k), Mode::Classroom, ts("2024-07-02 08:00:00"), ts("2024-07-02 12:00:00"));
            fx.exam(1, &pid(k), "低压电工作业", ts("2024-07-26 09:00:00"), Some(0));
        }
        for k in 0..4 {
            fx.att(c, &pid(k), Mode::Classroom, ts("2024-07-28 08:00:00"), ts("2024-07-28 12:00:00"));
        }
        let f = fx.run_check(ids::BACKFILLED);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].statistic, Some(0.2));
        assert!(f[0].summary_en.contains("4 dated after their own exam"), "{}", f[0].summary_en);
        assert!(fx.run_check(ids::NO_ATTENDANCE).is_empty());
    }

    #[test]
    fn refresher_after_old_exam_is_fine() {
        let mut fx = Fx::new();
        let c = fx.class("R1", 0, "低压电工", CourseKind::Refresher, "2027-07-01", "2027-07-01", None, None);
        for k in 0..20 {
            fx.exam(1, &pid(k), "低压电工", ts("2024-07-26 09:00:00"), Some(0));
            fx.att(c, &pid(k), Mode::Classroom, ts("2027-07-01 08:00:00"), ts("2027-07-01 14:00:00"));
        }
        assert!(fx.run_check(ids::BACKFILLED).is_empty());
    }

    #[test]
    fn candidates_without_training_records() {
        let mut fx = Fx::new();
        let c = fx.class("C1", 0, "低压电工", CourseKind::Initial, "2024-07-01", "2024-07-25", None, None);
        for k in 0..20 {
            if k >= 8 {
                fx.att(c, &pid(k), Mode::Classroom, ts("2024-07-02 08:00:00"), ts("2024-07-02 12:00:00"));
            }
            fx.exam(1, &pid(k), "低压电工", ts("2024-07-26 09:00:00"), Some(0));
        }
        // Trained for another operation does not count for this one.
        let h = fx.class("C2", 0, "高压电工", CourseKind::Initial, "2024-07-01", "2024-07-25", None, None);
        fx.att(h, &pid(0), Mode::Classroom, ts("2024-07-03 08:00:00"), ts("2024-07-03 12:00:00"));
        let f = fx.run_check(ids::NO_ATTENDANCE);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].statistic, Some(8.0 / 20.0));
        assert_eq!(f[0].evidence[0].total_rows, 8);
        assert!(f[0].flags.iter().any(|x| x.subject_id == pid(0)));
    }

    #[test]
    fn rejected_attendance_is_unknown_not_absent() {
        // 8 candidates' attendance rows were rejected (say a bad check-out
        // time): their hours are unknown, so they are not "no record".
        let mut fx = Fx::new();
        let c = fx.class("C1", 0, "低压电工", CourseKind::Initial, "2024-07-01", "2024-07-25", None, None);
        let operation = fx.t.classes.as_ref().unwrap()[c as usize].operation;
        for k in 0..20 {
            if k >= 8 {
                fx.att(c, &pid(k), Mode::Classroom, ts("2024-07-02 08:00:00"), ts("2024-07-02 12:00:00"));
            } else {
                let person = Some(fx.sym(&pid(k)));
                fx.t.rejected.push(crate::dataset::rows::RejectedRow {
                    table: crate::dataset::Table::Attendance,
                    line: 100 + k as u32,
                    id: None,
                    person,
                    session_id: None,
                    session: None,
                    record_id: None,
                    cert_no: None,
                    operation: if k < 4 { Some(operation) } else { None },
                    inst: if k < 6 { Some(0) } else { None },
                    institution_id: None,
                    training_inst: None,
                });
            }
            fx.exam(1, &pid(k), "低压电工", ts("2024-07-26 09:00:00"), Some(0));
        }
        assert!(fx.run_check(ids::NO_ATTENDANCE).is_empty());
        // A rejected row of another institution does not hide anything here.
        for r in &mut fx.t.rejected {
            r.inst = Some(1);
        }
        let f = fx.run_check(ids::NO_ATTENDANCE);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].statistic, Some(8.0 / 20.0));
    }
}
