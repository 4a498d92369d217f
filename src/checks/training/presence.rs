//! Impossible presence: `training.person_overlap` (one person in two
//! overlapping records of different classes, in this or another
//! institution),
//! `training.instructor_overlap` (an instructor teaching overlapping
//! sessions in different rooms), `training.room_over_capacity` (more
//! trainees signed in present at once in a room than it holds: some of
//! them cannot have been there) and `training.roster_over_capacity` (a
//! class roster larger than its room, never all present at once: a
//! planning breach visible in the plan, not falsification).

use std::collections::HashMap;

use rayon::prelude::*;

use crate::checks::{ColKind, Ctx, EvidenceTable, Finding, SubjectKind};
use crate::dataset::intern::Sym;
use crate::dataset::rows::{day_of, fmt_day, fmt_ts, Day, Mode, Ts};

use super::{ids, minutes, pct, push_row, share_severity, Index, OverlapMap, Params};

/// Overlapping record pairs `(earlier, later)` of one person, keyed by each
/// institution involved. Province-wide: rows are sorted by (person,
/// check_in) and swept once, comparing each record with the one that
/// reaches furthest so far.
pub(super) fn person_overlaps(ix: &Index, p: &Params) -> OverlapMap {
    let att = ix.att;
    let mut rows: Vec<u32> = (0..att.len() as u32).collect();
    rows.par_sort_unstable_by_key(|&i| {
        let a = &att[i as usize];
        (a.person.0, a.check_in, i)
    });
    let min = ((p.overlap_min_minutes * 60.0) as i64).max(1);
    let mut map: OverlapMap = HashMap::new();
    let mut k = 0;
    while k < rows.len() {
        let person = att[rows[k] as usize].person;
        let mut active = rows[k];
        let mut m = k + 1;
        while m < rows.len() && att[rows[m] as usize].person == person {
            let r = rows[m];
            let (a, act) = (&att[r as usize], &att[active as usize]);
            let ov = a.check_out.min(act.check_out) - a.check_in;
            // Records of one class overlapping (an online session during the
            // same course's lecture) double-count hours but do not put the
            // person in two places; the issue asks for different classes,
            // rooms or institutions.
            if ov >= min && a.class != act.class {
                let (ia, ib) = (ix.inst_of(active), ix.inst_of(r));
                map.entry(ia).or_default().push((active, r));
                if ib != ia {
                    map.entry(ib).or_default().push((active, r));
                }
            }
            if a.check_out > act.check_out {
                active = r;
            }
            m += 1;
        }
        k = m;
    }
    map
}

fn distinct_persons(ix: &Index, rows: &[u32]) -> usize {
    let mut v: Vec<u32> = rows.iter().map(|&r| ix.a(r).person.0).collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

pub(super) fn person_overlap(
    ctx: &Ctx,
    ix: &Index,
    inst: u32,
    rows: &[u32],
    pairs: Option<&Vec<(u32, u32)>>,
) -> Option<Finding> {
    let p = &ctx.params.training;
    let pairs = pairs?;
    let t = ix.t;
    let mut persons: Vec<Sym> = pairs.iter().map(|&(a, _)| ix.a(a).person).collect();
    persons.sort_unstable();
    persons.dedup();
    if persons.len() < p.overlap_min_persons.max(1) {
        return None;
    }
    let total = distinct_persons(ix, rows).max(persons.len());
    let share = persons.len() as f64 / total as f64;
    let sev = share_severity(share, p.overlap_full_share);
    let cross = pairs.iter().filter(|&&(a, b)| ix.inst_of(a) != ix.inst_of(b)).count();
    let mut table = EvidenceTable::new(
        "同一人时间重叠的签到记录",
        "Overlapping records of the same person",
        "attendance",
        &[
            ("person_id", ColKind::PersonId),
            ("record_a", ColKind::Text),
            ("institution_a", ColKind::Text),
            ("class_a", ColKind::Text),
            ("mode_a", ColKind::Text),
            ("check_in_a", ColKind::Time),
            ("check_out_a", ColKind::Time),
            ("record_b", ColKind::Text),
            ("institution_b", ColKind::Text),
            ("class_b", ColKind::Text),
            ("mode_b", ColKind::Text),
            ("check_in_b", ColKind::Time),
            ("check_out_b", ColKind::Time),
            ("overlap_minutes", ColKind::Number),
        ],
    );
    let mut f = Finding::new(t.inst_id(inst), ids::PERSON_OVERLAP, sev);
    for &(ra, rb) in pairs {
        let (a, b) = (ix.a(ra), ix.a(rb));
        let ov = minutes(b.check_in, a.check_out.min(b.check_out));
        let (ca, cb) = (ix.class_of(ra), ix.class_of(rb));
        push_row(
            &mut table,
            || {
                vec![
                    t.s(a.person).to_string(),
                    t.s(a.id).to_string(),
                    t.inst_id(ca.inst).to_string(),
                    t.s(ca.id).to_string(),
                    format!("{:?}", a.mode).to_lowercase(),
                    fmt_ts(a.check_in),
                    fmt_ts(a.check_out),
                    t.s(b.id).to_string(),
                    t.inst_id(cb.inst).to_string(),
                    t.s(cb.id).to_string(),
                    format!("{:?}", b.mode).to_lowercase(),
                    fmt_ts(b.check_in),
                    fmt_ts(b.check_out),
                    format!("{ov:.0}"),
                ]
            },
            p.evidence_rows,
        );
        let shorter = minutes(a.check_in, a.check_out).min(minutes(b.check_in, b.check_out)).max(1.0);
        let strength = (ov / shorter).min(1.0);
        for r in [ra, rb] {
            if ix.inst_of(r) == inst {
                f = f.flag(SubjectKind::Attendance, t.s(ix.a(r).id), strength);
            }
        }
        f = f.flag(SubjectKind::Person, t.s(a.person), strength);
    }
    let (n, np) = (pairs.len(), persons.len());
    Some(
        f.stat(share, None)
            .summary(
                format!(
                    "{np}/{total} 名学员（{}）存在时间重叠的学时记录，共 {n} 对（其中 {cross} 对涉及其他机构）",
                    pct(share)
                ),
                format!(
                    "{np} of {total} trainees ({}) have overlapping attendance records: {n} pair(s), {cross} of them with another institution",
                    pct(share)
                ),
            )
            .method(
                format!(
                    "全省范围内按身份证号汇总每人的全部学时记录，按签到时间排序，与此前签退最晚的记录比较；两条记录属于不同班级（含其他机构）且重叠不少于 {} 分钟计为一对。至少 {} 人时报告；严重度 = 涉及学员比例 ÷ {}。",
                    p.overlap_min_minutes,
                    p.overlap_min_persons,
                    pct(p.overlap_full_share)
                ),
                format!(
                    "Every record of each person across the province, sorted by check-in and compared with the earlier record that ends latest; records of different classes (in any institution) overlapping by at least {} minutes are a pair. Reported from {} persons; severity = share of trainees involved ÷ {}.",
                    p.overlap_min_minutes,
                    p.overlap_min_persons,
                    pct(p.overlap_full_share)
                ),
            )
            .evidence(table),
    )
}

/// One teaching session of an instructor reconstructed from the trainees'
/// records: a cluster of check-ins of one class on one day.
struct Session {
    instructor: Sym,
    class: u32,
    room: Option<Sym>,
    start: Ts,
    end: Ts,
    n: usize,
    first: u32,
}

fn median(v: &mut [Ts]) -> Ts {
    let m = v.len() / 2;
    *v.select_nth_unstable(m).1
}

pub(super) fn instructor_overlap(ctx: &Ctx, ix: &Index, inst: u32, rows: &[u32]) -> Option<Finding> {
    let p = &ctx.params.training;
    let t = ix.t;
    let mut r: Vec<u32> =
        rows.iter().copied().filter(|&r| ix.a(r).instructor.is_some() && ix.a(r).mode != Mode::Online).collect();
    if r.is_empty() {
        return None;
    }
    r.sort_unstable_by_key(|&i| {
        let a = ix.a(i);
        (a.instructor.map_or(0, |s| s.0), day_of(a.check_in), a.class, a.check_in, i)
    });
    let gap = (p.session_gap_minutes * 60.0) as i64;
    let mut sessions: Vec<Session> = Vec::new();
    let mut k = 0;
    while k < r.len() {
        let a0 = ix.a(r[k]);
        let key = (a0.instructor, day_of(a0.check_in), a0.class);
        let mut m = k + 1;
        while m < r.len() {
            let a = ix.a(r[m]);
            if (a.instructor, day_of(a.check_in), a.class) != key || a.check_in - ix.a(r[m - 1]).check_in > gap {
                break;
            }
            m += 1;
        }
        let mut ins: Vec<Ts> = r[k..m].iter().map(|&i| ix.a(i).check_in).collect();
        let mut outs: Vec<Ts> = r[k..m].iter().map(|&i| ix.a(i).check_out).collect();
        sessions.push(Session {
            instructor: a0.instructor.unwrap_or_default(),
            class: a0.class,
            room: ix.classes[a0.class as usize].room,
            start: median(&mut ins),
            end: median(&mut outs),
            n: m - k,
            first: r[k],
        });
        k = m;
    }
    sessions.sort_by_key(|s| (s.instructor.0, s.start, s.class));
    let min = (p.instructor_overlap_min_minutes * 60.0) as i64;
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for i in 0..sessions.len() {
        let a = &sessions[i];
        for (j, b) in sessions.iter().enumerate().skip(i + 1) {
            if b.instructor != a.instructor || b.start > a.end - min {
                break;
            }
            let ov = a.end.min(b.end) - b.start;
            if ov >= min.max(1) {
                if let (Some(ra), Some(rb)) = (a.room, b.room) {
                    if ra != rb {
                        pairs.push((i, j));
                    }
                }
            }
        }
    }
    if pairs.is_empty() {
        return None;
    }
    pairs.sort_by(|&(i, j), &(k, l)| {
        (sessions[i].start, ix.s(sessions[i].instructor), sessions[j].start).cmp(&(
            sessions[k].start,
            ix.s(sessions[k].instructor),
            sessions[l].start,
        ))
    });
    let sev = share_severity(pairs.len() as f64, p.instructor_full_pairs);
    let mut table = EvidenceTable::new(
        "同一教师在不同教室的重叠授课",
        "Overlapping sessions of one instructor in different rooms",
        "attendance",
        &[
            ("instructor_id", ColKind::Text),
            ("class_a", ColKind::Text),
            ("room_a", ColKind::Text),
            ("start_a", ColKind::Time),
            ("end_a", ColKind::Time),
            ("trainee_records_a", ColKind::Number),
            ("example_record_a", ColKind::Text),
            ("class_b", ColKind::Text),
            ("room_b", ColKind::Text),
            ("start_b", ColKind::Time),
            ("end_b", ColKind::Time),
            ("trainee_records_b", ColKind::Number),
            ("example_record_b", ColKind::Text),
            ("overlap_minutes", ColKind::Number),
        ],
    );
    let mut f = Finding::new(t.inst_id(inst), ids::INSTRUCTOR_OVERLAP, sev);
    let mut instructors: Vec<Sym> = Vec::new();
    for &(i, j) in &pairs {
        let (a, b) = (&sessions[i], &sessions[j]);
        instructors.push(a.instructor);
        let (ca, cb) = (&ix.classes[a.class as usize], &ix.classes[b.class as usize]);
        push_row(
            &mut table,
            || {
                vec![
                    t.s(a.instructor).to_string(),
                    t.s(ca.id).to_string(),
                    ix.opt(a.room),
                    fmt_ts(a.start),
                    fmt_ts(a.end),
                    a.n.to_string(),
                    t.s(ix.a(a.first).id).to_string(),
                    t.s(cb.id).to_string(),
                    ix.opt(b.room),
                    fmt_ts(b.start),
                    fmt_ts(b.end),
                    b.n.to_string(),
                    t.s(ix.a(b.first).id).to_string(),
                    format!("{:.0}", minutes(b.start, a.end.min(b.end))),
                ]
            },
            p.evidence_rows,
        );
        f = f.flag(SubjectKind::Class, t.s(ca.id), sev).flag(SubjectKind::Class, t.s(cb.id), sev);
    }
    instructors.sort_unstable();
    instructors.dedup();
    let (n, ni) = (pairs.len(), instructors.len());
    Some(
        f.stat(n as f64, None)
            .summary(
                format!("{ni} 名教师在不同教室同时授课，共 {n} 对重叠课次"),
                format!("{ni} instructor(s) taught overlapping sessions in different rooms: {n} pair(s) of sessions"),
            )
            .method(
                format!(
                    "按教师、日期、班级汇总线下学员记录，签到间隔超过 {} 分钟即分为不同课次；课次时间取学员签到、签退时间的中位数。同一教师两个课次重叠不少于 {} 分钟且教室不同计为一对（教室未知的不比较）。严重度 = 对数 ÷ {}。",
                    p.session_gap_minutes,
                    p.instructor_overlap_min_minutes,
                    p.instructor_full_pairs
                ),
                format!(
                    "Offline trainee records grouped by instructor, day and class, split into sessions where check-ins are more than {} minutes apart; a session runs from the median check-in to the median check-out. Two sessions of one instructor overlapping by at least {} minutes in different rooms are a pair (unknown rooms are not compared). Severity = pairs ÷ {}.",
                    p.session_gap_minutes,
                    p.instructor_overlap_min_minutes,
                    p.instructor_full_pairs
                ),
            )
            .evidence(table),
    )
}

pub(super) fn room_over_capacity(ctx: &Ctx, ix: &Index, inst: u32, rows: &[u32]) -> Option<Finding> {
    let p = &ctx.params.training;
    let t = ix.t;
    // Room capacity: the largest capacity any class of this institution
    // declares for the room (the most generous reading).
    let mut cap: HashMap<Sym, u32> = HashMap::new();
    for &c in &ix.classes_of[inst as usize] {
        let class = &ix.classes[c as usize];
        if let (Some(room), Some(k)) = (class.room, class.capacity) {
            let e = cap.entry(room).or_insert(0);
            *e = (*e).max(k);
        }
    }
    if cap.is_empty() {
        return None;
    }
    let room_of = |r: u32| ix.class_of(r).room.filter(|room| cap.contains_key(room));
    let mut ev: Vec<(u32, Ts, i32)> = Vec::new();
    for &r in rows {
        let a = ix.a(r);
        if a.mode != Mode::Classroom {
            continue;
        }
        if let Some(room) = room_of(r) {
            ev.push((room.0, a.check_in, 1));
            ev.push((room.0, a.check_out, -1));
        }
    }
    ev.par_sort_unstable();
    let mut rd: Vec<(u32, Day)> = ev.iter().filter(|e| e.2 > 0).map(|e| (e.0, day_of(e.1))).collect();
    rd.sort_unstable();
    rd.dedup();
    let room_days = rd.len();
    // Peak concurrency per (room, day) where it exceeds the capacity.
    let mut peaks: Vec<(Sym, Day, u32, Ts)> = Vec::new();
    let mut k = 0;
    while k < ev.len() {
        let room = Sym(ev[k].0);
        let c = cap.get(&room).copied().unwrap_or(u32::MAX);
        let mut cur = 0i64;
        while k < ev.len() && ev[k].0 == room.0 {
            cur += ev[k].2 as i64;
            let (ts, d) = (ev[k].1, day_of(ev[k].1));
            if cur as u64 >= c as u64 + p.room_min_excess_persons as u64 {
                match peaks.last_mut() {
                    Some(last) if last.0 == room && last.1 == d => {
                        if cur as u32 > last.2 {
                            last.2 = cur as u32;
                            last.3 = ts;
                        }
                    }
                    _ => peaks.push((room, d, cur as u32, ts)),
                }
            }
            k += 1;
        }
    }
    // Verify each peak with distinct persons (a duplicated record is not a
    // second person) and name the classes present.
    struct Episode {
        room: Sym,
        day: Day,
        cap: u32,
        persons: usize,
        at: Ts,
        classes: Vec<u32>,
    }
    let mut eps: Vec<Episode> = Vec::new();
    for (room, day, _, at) in peaks {
        let present: Vec<u32> = rows
            .iter()
            .copied()
            .filter(|&r| {
                let a = ix.a(r);
                a.mode == Mode::Classroom && ix.class_of(r).room == Some(room) && a.check_in <= at && at < a.check_out
            })
            .collect();
        let persons = distinct_persons(ix, &present);
        let c = cap.get(&room).copied().unwrap_or(u32::MAX);
        if persons as u64 >= c as u64 + p.room_min_excess_persons as u64 {
            let mut classes: Vec<u32> = present.iter().map(|&r| ix.a(r).class).collect();
            classes.sort_unstable();
            classes.dedup();
            eps.push(Episode { room, day, cap: c, persons, at, classes });
        }
    }
    if eps.is_empty() {
        return None;
    }
    eps.sort_by(|a, b| (a.day, ix.s(a.room)).cmp(&(b.day, ix.s(b.room))));
    let ratio = eps.iter().map(|e| e.persons as f64 / e.cap.max(1) as f64).fold(0.0, f64::max);
    // How far over (the worst room-day) times how often (share of room-days).
    let (n, days) = (eps.len(), room_days.max(1));
    let sev =
        share_severity(ratio - 1.0, p.room_full_excess) * share_severity(n as f64 / days as f64, p.room_full_share);
    let mut table = EvidenceTable::new(
        "同时在教室人数超过容量",
        "Concurrent trainees above the room's capacity",
        "attendance",
        &[
            ("room", ColKind::Text),
            ("day", ColKind::Time),
            ("capacity", ColKind::Number),
            ("persons_present", ColKind::Number),
            ("at", ColKind::Time),
            ("classes", ColKind::Text),
        ],
    );
    let mut f = Finding::new(t.inst_id(inst), ids::ROOM_OVER_CAPACITY, sev);
    for e in &eps {
        let classes: Vec<&str> = e.classes.iter().map(|&c| t.s(ix.classes[c as usize].id)).collect();
        push_row(
            &mut table,
            || {
                vec![
                    t.s(e.room).to_string(),
                    fmt_day(e.day),
                    e.cap.to_string(),
                    e.persons.to_string(),
                    fmt_ts(e.at),
                    classes.join(" "),
                ]
            },
            p.evidence_rows,
        );
        for &c in &e.classes {
            f = f.flag(SubjectKind::Class, t.s(ix.classes[c as usize].id), sev);
        }
    }
    Some(
        f.stat(ratio, None)
            .summary(
                format!("{n}/{days} 个教室·日出现同时在教室人数超过容量，最高为容量的 {ratio:.2} 倍"),
                format!("{n} of {days} room-day(s) had more trainees present at once than the room holds, up to {ratio:.2}× its capacity"),
            )
            .method(
                format!(
                    "面授签到、签退记录按教室排序扫描，得到每个教室每天同时在场的最多人数（按不同身份证号复核），与班级登记的教室容量（同一教室取最大值）比较，超出至少 {} 人计入（签到在场的人多于教室能容纳的，其中一些人不可能在场）。花名册大于教室但从未同时超员的班级另计为计划问题（training.roster_over_capacity）。严重度 = min(1, (人数/容量 − 1) ÷ {}) × min(1, 超员教室·日占比 ÷ {})。",
                    p.room_min_excess_persons,
                    p.room_full_excess,
                    pct(p.room_full_share)
                ),
                format!(
                    "Classroom check-ins and check-outs swept per room give the most trainees present at once each day (re-counted as distinct persons), compared with the capacity the classes declare for the room (the largest if several); counted when it exceeds it by at least {} (more persons signed in present than the room holds: some cannot have been there). A roster larger than the room that never fills it at once is a planning breach, reported apart (training.roster_over_capacity). Severity = min(1, (persons/capacity − 1) ÷ {}) × min(1, share of room-days over capacity ÷ {}).",
                    p.room_min_excess_persons,
                    p.room_full_excess,
                    pct(p.room_full_share)
                ),
            )
            .evidence(table),
    )
}

/// Classes whose roster (distinct trainees with classroom records) exceeds
/// the capacity the class declares by at least `room_min_excess_persons`:
/// visible in the plan, a compliance breach, not falsification (absences,
/// split halves and rotations keep such rooms from overfilling; when they do
/// overfill, `room_over_capacity` says so). Hard rule; severity = share of
/// the institution's classes with a declared capacity that break it ÷
/// `roster_full_share`.
pub(super) fn roster_over_capacity(ctx: &Ctx, ix: &Index, inst: u32) -> Option<Finding> {
    let p = &ctx.params.training;
    let t = ix.t;
    let mut over: Vec<(u32, u32, usize)> = Vec::new();
    let mut with_cap = 0usize;
    for &c in &ix.classes_of[inst as usize] {
        let Some(cap) = ix.classes[c as usize].capacity else { continue };
        let rows: Vec<u32> = ix.class_rows(c).iter().copied().filter(|&r| ix.a(r).mode == Mode::Classroom).collect();
        if rows.is_empty() {
            continue;
        }
        with_cap += 1;
        let roster = distinct_persons(ix, &rows);
        if roster as u64 >= cap as u64 + p.room_min_excess_persons as u64 {
            over.push((c, cap, roster));
        }
    }
    if over.is_empty() {
        return None;
    }
    let share = over.len() as f64 / with_cap as f64;
    let sev = share_severity(share, p.roster_full_share);
    let mut table = EvidenceTable::new(
        "花名册人数超过教室容量的班级",
        "Classes whose roster exceeds the room",
        "classes",
        &[
            ("class_id", ColKind::Text),
            ("room", ColKind::Text),
            ("capacity", ColKind::Number),
            ("roster", ColKind::Number),
        ],
    );
    let mut f = Finding::new(t.inst_id(inst), ids::ROSTER_OVER_CAPACITY, sev);
    for &(c, cap, roster) in &over {
        let class = &ix.classes[c as usize];
        push_row(
            &mut table,
            || vec![t.s(class.id).into(), ix.opt(class.room), cap.to_string(), roster.to_string()],
            p.evidence_rows,
        );
        f = f.flag(SubjectKind::Class, t.s(class.id), sev);
    }
    let n = over.len();
    Some(
        f.stat(share, None)
            .summary(
                format!("{n}/{with_cap} 个班级（{}）花名册人数超过登记的教室容量", pct(share)),
                format!("{n} of {with_cap} classes ({}) have a roster larger than the room they declare", pct(share)),
            )
            .method(
                format!(
                    "每个班级面授记录中的不同学员数（花名册）与该班登记的教室容量比较，超出至少 {} 人计入。这是计划中可见的合规问题（教室不够大），不是造假证据：缺勤、分批上课使教室不必同时超员；同时在场超员另由 training.room_over_capacity 判断。严重度 = 超员班级占比 ÷ {}。",
                    p.room_min_excess_persons,
                    pct(p.roster_full_share)
                ),
                format!(
                    "Each class's distinct classroom trainees (its roster) against the room capacity the class declares; counted when over by at least {}. A planning breach visible in the plan (the room is too small), not evidence of falsification: absences and split halves keep the room from overfilling at once, which training.room_over_capacity tests. Severity = share of classes over ÷ {}.",
                    p.room_min_excess_persons,
                    pct(p.roster_full_share)
                ),
            )
            .evidence(table),
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{pid, ts, Fx};
    use super::super::ids;
    use crate::dataset::rows::{CourseKind, Mode};

    #[test]
    fn person_in_two_institutions_at_once() {
        let mut fx = Fx::new();
        let a = fx.class("C1", 0, "低压电工", CourseKind::Refresher, "2024-07-01", "2024-07-01", None, None);
        let b = fx.class("C2", 1, "高压电工", CourseKind::Refresher, "2024-07-01", "2024-07-01", None, None);
        for k in 0..10 {
            fx.att(a, &pid(k), Mode::Classroom, ts("2024-07-01 08:00:00"), ts("2024-07-01 12:00:00"));
        }
        for k in 0..3 {
            fx.att(b, &pid(k), Mode::Classroom, ts("2024-07-01 09:00:00"), ts("2024-07-01 11:00:00"));
        }
        let f = fx.run_check(ids::PERSON_OVERLAP);
        assert_eq!(f.len(), 2, "both institutions see the overlap");
        assert!(f.iter().all(|f| f.evidence[0].total_rows == 3));
        assert!(f[0].summary_en.contains("3 of 10"), "{}", f[0].summary_en);
        assert!(f[1].summary_en.contains("3 of 3"), "{}", f[1].summary_en);
    }

    #[test]
    fn back_to_back_records_do_not_overlap() {
        let mut fx = Fx::new();
        let a = fx.class("C1", 0, "低压电工", CourseKind::Refresher, "2024-07-01", "2024-07-01", None, None);
        for k in 0..10 {
            fx.att(a, &pid(k), Mode::Classroom, ts("2024-07-01 08:00:00"), ts("2024-07-01 12:00:00"));
            // a straggler checks out 3 minutes after the next session began: below the 5-minute floor
            fx.att(a, &pid(k), Mode::Classroom, ts("2024-07-01 11:57:00"), ts("2024-07-01 15:00:00"));
        }
        assert!(fx.run_check(ids::PERSON_OVERLAP).is_empty());
    }

    #[test]
    fn online_during_own_class_is_not_two_places() {
        let mut fx = Fx::new();
        let a = fx.class("C1", 0, "低压电工", CourseKind::Initial, "2024-07-01", "2024-07-30", None, None);
        for k in 0..10 {
            fx.att(a, &pid(k), Mode::Classroom, ts("2024-07-06 08:30:00"), ts("2024-07-06 12:00:00"));
            fx.att(a, &pid(k), Mode::Online, ts("2024-07-06 10:00:00"), ts("2024-07-06 11:00:00"));
        }
        assert!(fx.run_check(ids::PERSON_OVERLAP).is_empty());
    }

    fn teach(fx: &mut Fx, class: u32, instr: &str, from: &str, to: &str, first: usize, n: usize) {
        let s = fx.sym(instr);
        for k in first..first + n {
            fx.att(class, &pid(k), Mode::Classroom, ts(from) + k as i64 % 7 * 40, ts(to) + k as i64 % 5 * 30)
                .instructor = Some(s);
        }
    }

    #[test]
    fn instructor_in_two_rooms() {
        let mut fx = Fx::new();
        let a = fx.class("C1", 0, "低压电工", CourseKind::Initial, "2024-07-01", "2024-07-30", Some("101"), Some(50));
        let b = fx.class("C2", 0, "高压电工", CourseKind::Initial, "2024-07-01", "2024-07-30", Some("102"), Some(50));
        teach(&mut fx, a, "T1", "2024-07-01 08:00:00", "2024-07-01 12:00:00", 0, 20);
        teach(&mut fx, b, "T1", "2024-07-01 09:00:00", "2024-07-01 11:00:00", 20, 20);
        let f = fx.run_check(ids::INSTRUCTOR_OVERLAP);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].statistic, Some(1.0));
    }

    #[test]
    fn instructor_back_to_back_or_same_room_is_fine() {
        let mut fx = Fx::new();
        let a = fx.class("C1", 0, "低压电工", CourseKind::Initial, "2024-07-01", "2024-07-30", Some("101"), Some(50));
        let b = fx.class("C2", 0, "高压电工", CourseKind::Initial, "2024-07-01", "2024-07-30", Some("102"), Some(50));
        let c = fx.class("C3", 0, "高压电工", CourseKind::Initial, "2024-07-01", "2024-07-30", Some("101"), Some(50));
        // Room 101 morning, room 102 right after with stragglers overlapping a few minutes.
        teach(&mut fx, a, "T1", "2024-07-01 08:00:00", "2024-07-01 10:00:00", 0, 20);
        teach(&mut fx, b, "T1", "2024-07-01 09:57:00", "2024-07-01 12:00:00", 20, 20);
        // A combined lecture of two classes in the same room.
        teach(&mut fx, a, "T2", "2024-07-02 08:00:00", "2024-07-02 12:00:00", 0, 20);
        teach(&mut fx, c, "T2", "2024-07-02 08:00:00", "2024-07-02 12:00:00", 40, 20);
        assert!(fx.run_check(ids::INSTRUCTOR_OVERLAP).is_empty());
    }

    #[test]
    fn roster_larger_than_the_room_is_a_planning_breach_only() {
        // 45 on the roster of a 30-seat room, taught in two halves that never
        // overfill it: no presence finding, a low-weight planning finding.
        let mut fx = Fx::new();
        let a = fx.class("C1", 0, "低压电工", CourseKind::Initial, "2024-07-01", "2024-07-30", Some("101"), Some(30));
        for k in 0..45 {
            let (i, o) = if k < 23 { ("08:00:00", "12:00:00") } else { ("13:00:00", "17:00:00") };
            fx.att(a, &pid(k), Mode::Classroom, ts(&format!("2024-07-01 {i}")), ts(&format!("2024-07-01 {o}")));
        }
        assert!(fx.run_check(ids::ROOM_OVER_CAPACITY).is_empty());
        let f = fx.run_check(ids::ROSTER_OVER_CAPACITY);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence[0].rows[0][3], "45");
        assert!(
            fx.card.check(ids::ROSTER_OVER_CAPACITY).unwrap().weight
                < fx.card.check(ids::ROOM_OVER_CAPACITY).unwrap().weight
        );
    }

    #[test]
    fn room_over_capacity_found_and_full_room_fine() {
        let mut fx = Fx::new();
        let a = fx.class("C1", 0, "低压电工", CourseKind::Initial, "2024-07-01", "2024-07-30", Some("101"), Some(30));
        let b = fx.class("C2", 0, "高压电工", CourseKind::Initial, "2024-07-01", "2024-07-30", Some("101"), Some(30));
        // Day 1: 30 + 15 people in a 30-seat room at once.
        for k in 0..30 {
            fx.att(a, &pid(k), Mode::Classroom, ts("2024-07-01 08:00:00"), ts("2024-07-01 12:00:00"));
        }
        for k in 30..45 {
            fx.att(b, &pid(k), Mode::Classroom, ts("2024-07-01 09:00:00"), ts("2024-07-01 11:00:00"));
        }
        let f = fx.run_check(ids::ROOM_OVER_CAPACITY);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].statistic, Some(1.5));
        assert_eq!(f[0].evidence[0].rows[0][3], "45");

        // Only a full room, one class after the other: nothing.
        let mut fx = Fx::new();
        let a = fx.class("C1", 0, "低压电工", CourseKind::Initial, "2024-07-01", "2024-07-30", Some("101"), Some(30));
        let b = fx.class("C2", 0, "高压电工", CourseKind::Initial, "2024-07-01", "2024-07-30", Some("101"), Some(30));
        for k in 0..30 {
            fx.att(a, &pid(k), Mode::Classroom, ts("2024-07-01 08:00:00"), ts("2024-07-01 12:00:00"));
            fx.att(b, &pid(k + 30), Mode::Classroom, ts("2024-07-01 12:00:00"), ts("2024-07-01 16:00:00"));
        }
        assert!(fx.run_check(ids::ROOM_OVER_CAPACITY).is_empty());
    }
}
