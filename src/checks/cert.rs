//! `cert.*` checks: the certificate registry cross-checked against the ID
//! algorithm, the numbering rule, the exam archive and the training log
//! (逢查必检证书, DOMAIN.md "Certificates without exams").
//!
//! Each certificate is tested against every rule; a certificate that breaks
//! a rule counts against the training institution and the exam centre it
//! names (or, when it names none, those of its exam record). One finding per
//! (check, institution) whose severity grows with the count and share of
//! that institution's certificates affected:
//! `severity = min(1, max(share / full_severity_share, count / full_severity_count))`.
//!
//! | id | rule |
//! |---|---|
//! | `cert.invalid_id` | holder's ID fails GB 11643-1999 ([`super::idno`]) |
//! | `cert.number_mismatch` | special operation, number ≠ `T` + ID |
//! | `cert.duplicate` | one number for two people, or one person with two live certificates for one operation |
//! | `cert.no_passing_exam` | no passing theory *and* practical exam of that operation in the window before issue |
//! | `cert.issued_before_exam` | the passing exams come after the issue date |
//! | `cert.name_mismatch` | the holder's name differs from the exam record's |
//! | `cert.validity` | `expires_on` ≠ `issued_on` + the operation's `cert_valid_years` |
//! | `cert.training_hours_short` | credited training hours before the exam below the syllabus |
//!
//! Defects set where the certificate is issued (`exam_centre_checks` in
//! `[params.cert]`: number, issue date, name, validity, duplicates) count
//! against the exam centre alone when it is known.
//! A training institution answers for a certificate only when its own
//! records include the holder (or the dataset has none of its records).
//! Exam rules are only applied where the exam archive can answer: when the
//! certificate's exam centre is in the dataset with sessions, or it names
//! none. Hours are only checked when the training institution has classes
//! in the dataset. A certificate of a centre outside the dataset is never
//! called "without exam".

use std::collections::HashMap;

use serde::Deserialize;

use super::{idno, ColKind, Ctx, EvidenceTable, Finding, SubjectKind};
use crate::checks::CertCheck;
use crate::dataset::intern::Sym;
use crate::dataset::rows::{
    civil_from_days, day_of, days_from_civil, fmt_day, Attendance, Certificate, CourseKind, Day, Mode, OpRef, Part,
    Tables,
};
use crate::model::operations::{normalise_name, to_half_width, Family};
use crate::model::Operations;

/// `[params.cert]` in `models/scorecard.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// A passing exam must lie within this many months before issue.
    pub exam_window_months: u32,
    /// Allowed |expires_on − (issued_on + valid years)| in days.
    pub validity_tolerance_days: i32,
    /// Two certificates of one person and operation count as both live when
    /// their validity periods overlap by more than this many days.
    pub live_overlap_days: i32,
    /// Credited hours may fall short of the syllabus by this share (clock
    /// rounding of sign-in/out) before a holder counts as short.
    pub hours_tolerance: f64,
    /// `cert.training_hours_short` needs at least this share of the
    /// institution's certificates short, and at least `hours_short_min_count`
    /// (honest trainees miss the odd session; a pattern is a schedule).
    pub hours_short_min_share: f64,
    pub hours_short_min_count: u32,
    /// Share of an institution's certificates affected at which severity is 1.
    pub full_severity_share: f64,
    /// Count of affected certificates at which severity is 1.
    pub full_severity_count: u32,
    /// A finding needs at least this many affected certificates.
    pub min_certificates: u32,
    /// Rows kept per evidence table (all are counted).
    pub evidence_rows: usize,
    /// Checks whose defects are made where the exam is sat and the
    /// certificate issued: they count against the exam centre only, and
    /// against the training institution only when the certificate has no
    /// known exam centre.
    pub exam_centre_checks: Vec<String>,
}

impl Default for Params {
    /// The committed `[params.cert]` (so values live only in the model file).
    fn default() -> Self {
        crate::model::Scorecard::from_toml(crate::model::BUILTIN_SCORECARD)
            .and_then(|c| super::family_params(&c, super::Family::Cert))
            .expect("built-in scorecard has a valid [family.cert] and [checks.cert.*]")
    }
}

/// The check codes of this family, in report order.
pub const CHECKS: &[CertCheck] = CertCheck::ALL;

pub fn run(ctx: &Ctx) -> Vec<Finding> {
    let Some(certs) = ctx.t.certificates.as_deref() else { return Vec::new() };
    if certs.is_empty() {
        return Vec::new();
    }
    let a = analyse(ctx.t, ctx.ops, &ctx.params.cert);
    findings(ctx, &a)
}

/// Canonical keys for person ids, so `11010519491231002x`, its full-width
/// form and `11010519491231002X` name one person without re-hashing the
/// millions of ids that are already canonical.
pub(crate) struct PersonKeys<'a> {
    t: &'a Tables,
    extra: HashMap<String, u64>,
}

impl<'a> PersonKeys<'a> {
    pub(crate) fn new(t: &'a Tables) -> Self {
        PersonKeys { t, extra: HashMap::new() }
    }

    pub(crate) fn key(&mut self, sym: Sym) -> u64 {
        let text = self.t.s(sym);
        let n = idno::normalise(text);
        if n == text {
            return u64::from(sym.0);
        }
        if let Some(s) = self.t.strings.lookup(&n) {
            return u64::from(s.0);
        }
        let next = (1u64 << 32) + self.extra.len() as u64;
        *self.extra.entry(n.into_owned()).or_insert(next)
    }
}

/// Hours one attendance record credits: offline minutes ÷ 45, online ÷ 30
/// (`[hours]` of the operations model, AQ 8011-2023).
pub fn credited_hours(ops: &Operations, a: &Attendance) -> f64 {
    let minutes = (a.check_out - a.check_in).max(0) as f64 / 60.0;
    let per_hour = match a.mode {
        Mode::Online => ops.hours.online_minutes_per_hour,
        Mode::Classroom | Mode::Practical => ops.hours.offline_minutes_per_hour,
    };
    if per_hour > 0.0 {
        minutes / per_hour
    } else {
        0.0
    }
}

/// `day` moved by `months` calendar months (day clamped to the month's end).
pub fn add_months(day: Day, months: i32) -> Day {
    let (y, m, d) = civil_from_days(day);
    let total = y * 12 + (m as i32 - 1) + months;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
    days_from_civil(ny, nm, d.min(idno::days_in_month(ny, nm)))
}

/// One broken rule on one certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub check: CertCheck,
    /// Row index into `certificates`.
    pub cert: u32,
    pub detail_zh: String,
    pub detail_en: String,
    /// Flag strength (1 = rule plainly broken).
    pub strength: f64,
}

/// Every certificate's attribution and every broken rule.
#[derive(Debug, Default)]
pub struct Analysis {
    /// Per certificate: (training institution, exam centre) row indices.
    pub attributed: Vec<[Option<u32>; 2]>,
    pub hits: Vec<Hit>,
}

/// Operation identity: the model index when known, else the normalised text.
fn same_op(t: &Tables, a: OpRef, b: OpRef) -> bool {
    match (a.op, b.op) {
        (Some(x), Some(y)) => x == y,
        (None, None) => a.raw == b.raw || normalise_name(t.s(a.raw)) == normalise_name(t.s(b.raw)),
        _ => false,
    }
}

/// Names compared without spaces, width or the several dots of minority names.
pub(crate) fn norm_person_name(s: &str) -> String {
    to_half_width(s).chars().filter(|c| !c.is_whitespace() && !matches!(c, '·' | '•' | '.' | '・' | '‧')).collect()
}

pub(crate) fn norm_cert_no(s: &str) -> String {
    to_half_width(s).chars().filter(|c| !c.is_whitespace()).flat_map(char::to_uppercase).collect()
}

fn hit(hits: &mut Vec<Hit>, check: CertCheck, cert: u32, zh: String, en: String, strength: f64) {
    hits.push(Hit { check, cert, detail_zh: zh, detail_en: en, strength });
}

/// Applies every rule to every certificate.
pub fn analyse(t: &Tables, ops: &Operations, p: &Params) -> Analysis {
    let Some(certs) = t.certificates.as_deref() else { return Analysis::default() };
    let mut keys = PersonKeys::new(t);
    let cert_key: Vec<u64> = certs.iter().map(|c| keys.key(c.person)).collect();
    let mut hits = Vec::new();

    // Exam records by person, and which centres have sessions at all.
    let sessions = t.exam_sessions.as_deref().unwrap_or(&[]);
    let records = t.exam_records.as_deref().filter(|_| t.exam_sessions.is_some());
    let mut rec_by_person: Vec<(u64, u32)> = records
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .filter(|(_, r)| (r.session as usize) < sessions.len())
        .map(|(i, r)| (keys.key(r.person), i as u32))
        .collect();
    rec_by_person.sort_unstable();
    let mut inst_named_by_records = vec![false; t.institutions.len()];
    for r in records.unwrap_or(&[]) {
        if let Some(x) = r.training_inst.and_then(|i| inst_named_by_records.get_mut(i as usize)) {
            *x = true;
        }
    }
    let mut centre_has_sessions = vec![false; t.institutions.len()];
    for s in sessions {
        if let Some(x) = centre_has_sessions.get_mut(s.inst as usize) {
            *x = true;
        }
    }

    // Attendance by person, and which institutions have classes.
    let classes = t.classes.as_deref().unwrap_or(&[]);
    let attendance = t.attendance.as_deref().filter(|_| t.classes.is_some());
    let mut att_by_person: Vec<(u64, u32)> = attendance
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .filter(|(_, a)| (a.class as usize) < classes.len())
        .map(|(i, a)| (keys.key(a.person), i as u32))
        .collect();
    att_by_person.sort_unstable();
    let mut inst_has_classes = vec![false; t.institutions.len()];
    for c in classes {
        if let Some(x) = inst_has_classes.get_mut(c.inst as usize) {
            *x = true;
        }
    }
    let slice = |v: &[(u64, u32)], k: u64| -> std::ops::Range<usize> {
        let lo = v.partition_point(|e| e.0 < k);
        let hi = v.partition_point(|e| e.0 <= k);
        lo..hi
    };

    let has_earlier = earlier_certificate(t, certs, &cert_key);
    let pass_mark = ops.exam.pass_mark as f32;
    let mut attributed = Vec::with_capacity(certs.len());
    for (ci, c) in certs.iter().enumerate() {
        let ci = ci as u32;
        let pid = t.s(c.person);
        let op = c.operation.op.map(|o| ops.get(o));

        // 1. ID number.
        if let Err(e) = idno::validate(pid, c.issued_on) {
            hit(&mut hits, CertCheck::InvalidId, ci, e.zh(), e.en(), 1.0);
        }
        // 2. Number = T + ID for special operations.
        if let Some(o) = op.filter(|o| o.family == Family::Special) {
            let want = format!("T{}", idno::normalise(pid));
            let got = norm_cert_no(t.s(c.cert_no));
            if got != want {
                hit(
                    &mut hits,
                    CertCheck::NumberMismatch,
                    ci,
                    format!("{}证书编号应为“T+身份证号”", o.name),
                    format!("{} certificate number should be `T` + ID number", o.code),
                    1.0,
                );
            }
        }
        // 5. Validity period.
        if let Some(o) = op {
            let want = add_months(c.issued_on, o.cert_valid_years as i32 * 12);
            let diff = c.expires_on - want;
            if diff.abs() > p.validity_tolerance_days {
                let years = f64::from(c.expires_on - c.issued_on) / 365.25;
                hit(
                    &mut hits,
                    CertCheck::Validity,
                    ci,
                    format!("有效期约{years:.1}年，应为{}年（至{}）", o.cert_valid_years, fmt_day(want)),
                    format!("valid {years:.1} years, should be {} (to {})", o.cert_valid_years, fmt_day(want)),
                    1.0,
                );
            }
        }

        // 4. Exams: this holder's records of this operation.
        let mut train_inst = c.training_inst;
        let mut exam_inst = c.exam_inst;
        let exam_auditable = records.is_some()
            && match (c.exam_institution, c.exam_inst) {
                (None, _) => true,
                (Some(_), Some(i)) => centre_has_sessions.get(i as usize).copied().unwrap_or(false),
                (Some(_), None) => false,
            };
        let mut exam_done: Option<Day> = None;
        if let Some(recs) = records {
            let window_start = add_months(c.issued_on, -(p.exam_window_months as i32));
            let mine: Vec<u32> = rec_by_person[slice(&rec_by_person, cert_key[ci as usize])]
                .iter()
                .map(|e| e.1)
                .filter(|&r| same_op(t, sessions[recs[r as usize].session as usize].operation, c.operation))
                .collect();
            let day = |r: u32| day_of(sessions[recs[r as usize].session as usize].start);
            let part = |r: u32| sessions[recs[r as usize].session as usize].part;
            let passed = |r: u32| recs[r as usize].score >= pass_mark;
            // First passing day of each part from the window start on.
            let first_pass = |want: Part| -> Option<(Day, u32)> {
                mine.iter()
                    .filter(|&&r| part(r) == want && passed(r) && day(r) >= window_start)
                    .map(|&r| (day(r), r))
                    .min()
            };
            let (th, pr) = (first_pass(Part::Theory), first_pass(Part::Practical));
            let used: Vec<u32> = match (th, pr) {
                (Some(a), Some(b)) => vec![a.1, b.1],
                _ => mine.clone(),
            };
            // Derive attribution from the exam record when the certificate is silent.
            if let Some(&r) = used.iter().max_by_key(|&&r| day(r)) {
                let rec = &recs[r as usize];
                train_inst = train_inst.or(rec.training_inst);
                exam_inst = exam_inst.or(Some(sessions[rec.session as usize].inst));
            }
            if exam_auditable {
                match (th, pr) {
                    (Some(a), Some(b)) if a.0.max(b.0) > c.issued_on => {
                        let done = a.0.max(b.0);
                        exam_done = Some(done);
                        hit(
                            &mut hits,
                            CertCheck::IssuedBeforeExam,
                            ci,
                            format!("发证{}，考试合格{}", fmt_day(c.issued_on), fmt_day(done)),
                            format!("issued {}, exams passed {}", fmt_day(c.issued_on), fmt_day(done)),
                            1.0,
                        );
                    }
                    (Some(a), Some(b)) => exam_done = Some(a.0.max(b.0)),
                    _ => {
                        let earlier = mine.iter().any(|&r| passed(r) && day(r) < window_start);
                        let (zh, en) = if mine.is_empty() {
                            ("无该作业类别的考试记录".to_string(), "no exam record for this operation".to_string())
                        } else {
                            let mut zh = Vec::new();
                            let mut en = Vec::new();
                            if th.is_none() {
                                zh.push("理论");
                                en.push("theory");
                            }
                            if pr.is_none() {
                                zh.push("实操");
                                en.push("practical");
                            }
                            let tail = if earlier { "（仅有窗口期以前的合格记录）" } else { "" };
                            let tail_en = if earlier { " (passes only before the window)" } else { "" };
                            (
                                format!("无合格的{}考试记录{tail}", zh.join("、")),
                                format!("no passing {} exam{tail_en}", en.join(" or ")),
                            )
                        };
                        hit(&mut hits, CertCheck::NoPassingExam, ci, zh, en, 1.0);
                    }
                }
                // 6. Name on the exam records used.
                let cname = norm_person_name(t.s(c.name));
                if let Some(other) = used
                    .iter()
                    .filter_map(|&r| recs[r as usize].name)
                    .find(|&n| !cname.is_empty() && norm_person_name(t.s(n)) != cname)
                {
                    hit(
                        &mut hits,
                        CertCheck::NameMismatch,
                        ci,
                        format!("考试档案姓名为“{}”", t.s(other)),
                        format!("exam record name `{}`", t.s(other)),
                        1.0,
                    );
                }
            }
        }

        // A training institution answers for a certificate only when its own
        // records (attendance, or exam records naming it) include the holder,
        // or when the dataset has no records of it at all: the name on a
        // sold certificate is the seller's choice, not evidence against it.
        let key = cert_key[ci as usize];
        let train_inst = train_inst.filter(|&ti| {
            let has_data = inst_has_classes.get(ti as usize).copied().unwrap_or(false)
                || inst_named_by_records.get(ti as usize).copied().unwrap_or(false);
            let holder_there = attendance.is_some_and(|atts| {
                att_by_person[slice(&att_by_person, key)]
                    .iter()
                    .any(|&(_, ai)| classes[atts[ai as usize].class as usize].inst == ti)
            }) || records.is_some_and(|recs| {
                rec_by_person[slice(&rec_by_person, key)]
                    .iter()
                    .any(|&(_, r)| recs[r as usize].training_inst == Some(ti))
            });
            !has_data || holder_there
        });

        // 2b. Hours before the exam (or before issue when there was none).
        if let (Some(o), Some(atts), Some(ti)) = (op, attendance, train_inst) {
            if inst_has_classes.get(ti as usize).copied().unwrap_or(false) {
                let until = exam_done.unwrap_or(c.issued_on);
                let mut credited = 0.0;
                let mut any_initial = false;
                let mut any = false;
                for &(_, ai) in &att_by_person[slice(&att_by_person, cert_key[ci as usize])] {
                    let a = &atts[ai as usize];
                    let class = &classes[a.class as usize];
                    if !same_op(t, class.operation, c.operation) || day_of(a.check_in) > until {
                        continue;
                    }
                    any = true;
                    any_initial |= class.course_kind == CourseKind::Initial;
                    credited += credited_hours(ops, a);
                }
                // A renewal (an earlier certificate of the same operation, or
                // only refresher classes) needs the refresher hours.
                let renewal = (any && !any_initial) || has_earlier[ci as usize];
                let required = if renewal { o.refresher_hours } else { o.initial_hours };
                if required > 0.0 && credited < required * (1.0 - p.hours_tolerance) {
                    hit(
                        &mut hits,
                        CertCheck::TrainingHoursShort,
                        ci,
                        format!("考试前记录学时{credited:.1}，应为{required:.0}"),
                        format!("{credited:.1} credited hours before the exam, syllabus {required:.0}"),
                        (1.0 - credited / required).clamp(0.0, 1.0),
                    );
                }
            }
        }
        attributed.push([train_inst, exam_inst]);
    }

    duplicates(t, certs, &cert_key, p, &mut hits);
    hits.sort_by_key(|h| (h.check, h.cert));
    hits.dedup_by(|a, b| a.check == b.check && a.cert == b.cert);
    Analysis { attributed, hits }
}

/// One number held by two people; one person with two live certificates
/// for one operation.
fn duplicates(t: &Tables, certs: &[Certificate], key: &[u64], p: &Params, hits: &mut Vec<Hit>) {
    let mut by_no: HashMap<String, Vec<u32>> = HashMap::new();
    for (i, c) in certs.iter().enumerate() {
        by_no.entry(norm_cert_no(t.s(c.cert_no))).or_default().push(i as u32);
    }
    for (no, rows) in &by_no {
        if no.is_empty() || rows.len() < 2 {
            continue;
        }
        let first = key[rows[0] as usize];
        if rows.iter().any(|&r| key[r as usize] != first) {
            let people = {
                let mut k: Vec<u64> = rows.iter().map(|&r| key[r as usize]).collect();
                k.sort_unstable();
                k.dedup();
                k.len()
            };
            for &r in rows {
                hit(
                    hits,
                    CertCheck::Duplicate,
                    r,
                    format!("同一证书编号登记给{people}人"),
                    format!("the same number is registered to {people} people"),
                    1.0,
                );
            }
        }
    }
    for group in person_op_groups(t, certs, key) {
        for (i, &ri) in group.iter().enumerate() {
            for &rj in &group[i + 1..] {
                let (a, b) = (&certs[ri as usize], &certs[rj as usize]);
                let overlap = a.expires_on.min(b.expires_on) - a.issued_on.max(b.issued_on);
                if overlap > p.live_overlap_days {
                    for (r, other) in [(ri, b), (rj, a)] {
                        hit(
                            hits,
                            CertCheck::Duplicate,
                            r,
                            format!(
                                "同一人同一作业类别另有有效证书{}（{}起）",
                                t.s(other.cert_no),
                                fmt_day(other.issued_on)
                            ),
                            format!(
                                "same person also holds live certificate {} of this operation (from {})",
                                t.s(other.cert_no),
                                fmt_day(other.issued_on)
                            ),
                            1.0,
                        );
                    }
                }
            }
        }
    }
}

/// Certificates grouped by (holder, operation), each group in issue order.
fn person_op_groups(t: &Tables, certs: &[Certificate], key: &[u64]) -> Vec<Vec<u32>> {
    let op_key = |c: &Certificate| match c.operation.op {
        Some(o) => (0u8, u32::from(o), String::new()),
        None => (1u8, 0, normalise_name(t.s(c.operation.raw))),
    };
    type Entry = (u64, (u8, u32, String), Day, u32);
    let mut idx: Vec<Entry> =
        certs.iter().enumerate().map(|(i, c)| (key[i], op_key(c), c.issued_on, i as u32)).collect();
    idx.sort_unstable();
    idx.chunk_by(|a, b| a.0 == b.0 && a.1 == b.1).map(|g| g.iter().map(|e| e.3).collect()).collect()
}

/// Per certificate: does the holder have an earlier certificate of the same
/// operation (so this one is a renewal)?
fn earlier_certificate(t: &Tables, certs: &[Certificate], key: &[u64]) -> Vec<bool> {
    let mut out = vec![false; certs.len()];
    for g in person_op_groups(t, certs, key) {
        let first = certs[g[0] as usize].issued_on;
        for &r in &g {
            out[r as usize] = certs[r as usize].issued_on > first;
        }
    }
    out
}

/// Groups hits by (check, institution) into findings.
fn findings(ctx: &Ctx, a: &Analysis) -> Vec<Finding> {
    let t = ctx.t;
    let p = &ctx.params.cert;
    let Some(certs) = t.certificates.as_deref() else { return Vec::new() };
    let mut per_inst = vec![0u32; t.institutions.len()];
    for pair in &a.attributed {
        for i in inst_set(pair) {
            if let Some(n) = per_inst.get_mut(i as usize) {
                *n += 1;
            }
        }
    }
    // (check, inst) -> hits
    let mut groups: Vec<(CertCheck, u32, &Hit)> = Vec::new();
    for h in &a.hits {
        let mut pair = a.attributed[h.cert as usize];
        if h.check == CertCheck::TrainingHoursShort {
            // Hours are the training institution's duty, not the exam centre's.
            pair[1] = None;
        } else if pair[1].is_some() && p.exam_centre_checks.iter().any(|c| c == &h.check) {
            // The number, issue date, name and validity are set where the
            // certificate is issued, not by the school that sent the trainee.
            pair[0] = None;
        }
        for i in inst_set(&pair) {
            groups.push((h.check, i, h));
        }
    }
    groups.sort_by_key(|g| (g.0, g.1, g.2.cert));
    let mut out = Vec::new();
    for chunk in groups.chunk_by(|x, y| x.0 == y.0 && x.1 == y.1) {
        let (check, inst) = (chunk[0].0, chunk[0].1);
        let k = chunk.len() as u32;
        let n = per_inst.get(inst as usize).copied().unwrap_or(k).max(k);
        let share = f64::from(k) / f64::from(n);
        if k < p.min_certificates.max(1)
            || (check == CertCheck::TrainingHoursShort
                && (k < p.hours_short_min_count || share < p.hours_short_min_share))
        {
            continue;
        }
        let severity =
            (share / p.full_severity_share).max(f64::from(k) / f64::from(p.full_severity_count.max(1))).min(1.0);
        let (title_zh, title_en) = ctx
            .card
            .check(check.id())
            .map(|c| (c.title_zh.as_str(), c.title_en.as_str()))
            .unwrap_or((check.id(), check.id()));
        let mut table = EvidenceTable::new(
            "涉及的证书",
            "Certificates concerned",
            "certificates",
            &[
                ("line", ColKind::Number),
                ("cert_no", ColKind::PersonId),
                ("person_id", ColKind::PersonId),
                ("name", ColKind::Name),
                ("operation", ColKind::Text),
                ("issued_on", ColKind::Time),
                ("expires_on", ColKind::Time),
                ("training_institution_id", ColKind::Text),
                ("exam_institution_id", ColKind::Text),
                ("problem", ColKind::Text),
            ],
        );
        let mut f = Finding::new(t.inst_id(inst), check, severity)
            .stat(share, None)
            .summary(
                format!("{title_zh}：{k}张证书（占本机构相关证书{n}张的{:.1}%）", share * 100.0),
                format!("{title_en}: {k} of {n} certificates of this institution ({:.1}%)", share * 100.0),
            )
            .method(method_zh(check, p), method_en(check, p));
        for &(_, _, h) in chunk {
            let c = &certs[h.cert as usize];
            let [ti, ei] = a.attributed[h.cert as usize];
            let name_of = |i: Option<u32>, raw: Option<Sym>| {
                i.map(|i| t.inst_id(i).to_string()).or(raw.map(|s| t.s(s).to_string())).unwrap_or_default()
            };
            table.push_limited(
                vec![
                    c.line.to_string(),
                    t.s(c.cert_no).to_string(),
                    t.s(c.person).to_string(),
                    t.s(c.name).to_string(),
                    t.s(c.operation.raw).to_string(),
                    fmt_day(c.issued_on),
                    fmt_day(c.expires_on),
                    name_of(ti, c.training_institution),
                    name_of(ei, c.exam_institution),
                    format!("{} / {}", h.detail_zh, h.detail_en),
                ],
                p.evidence_rows,
            );
            f = f.flag(SubjectKind::Certificate, t.s(c.cert_no), h.strength).flag(
                SubjectKind::Person,
                idno::normalise(t.s(c.person)),
                h.strength,
            );
        }
        out.push(f.evidence(table));
    }
    out
}

/// The distinct institutions a certificate counts against.
fn inst_set(pair: &[Option<u32>; 2]) -> impl Iterator<Item = u32> {
    let a = pair[0];
    let b = pair[1].filter(|&x| Some(x) != a);
    a.into_iter().chain(b)
}

fn method_zh(check: CertCheck, p: &Params) -> String {
    let rule = match check {
        CertCheck::InvalidId => "按GB 11643-1999校验持证人身份证号码（位数、省级代码、出生日期、校验码）".to_string(),
        CertCheck::NumberMismatch => "特种作业操作证编号应为“T+身份证号”".to_string(),
        CertCheck::Duplicate => {
            format!("同一编号不得登记给不同人；同一人同一作业类别的两张证书有效期重叠超过{}天", p.live_overlap_days)
        }
        CertCheck::NoPassingExam => format!("发证前{}个月内须有该作业类别理论和实操考试合格记录", p.exam_window_months),
        CertCheck::IssuedBeforeExam => "发证日期不得早于理论和实操考试均合格的日期".to_string(),
        CertCheck::NameMismatch => "证书姓名与所依据考试档案的姓名比对".to_string(),
        CertCheck::Validity => format!("有效期应为作业类别规定年限（允许误差{}天）", p.validity_tolerance_days),
        CertCheck::TrainingHoursShort => format!(
            "考试前的培训学时（线下45分钟、线上30分钟计1学时）不得低于大纲学时（容差{:.0}%）",
            p.hours_tolerance * 100.0
        ),
    };
    format!(
        "{rule}；严重度按受影响证书数（{}张为满）和占比（{:.0}%为满）计。",
        p.full_severity_count,
        p.full_severity_share * 100.0
    )
}

fn method_en(check: CertCheck, p: &Params) -> String {
    let rule = match check {
        CertCheck::InvalidId => "holder's ID checked against GB 11643-1999 (length, province code, birth date, check character)".to_string(),
        CertCheck::NumberMismatch => "a special-operation certificate number must be `T` + the holder's ID number".to_string(),
        CertCheck::Duplicate => format!(
            "one number may not be registered to two people; one person's two certificates for one operation may not overlap by more than {} days",
            p.live_overlap_days
        ),
        CertCheck::NoPassingExam => format!(
            "a passing theory and practical exam of the operation is required within {} months before issue",
            p.exam_window_months
        ),
        CertCheck::IssuedBeforeExam => "the issue date may not precede the day both exams were passed".to_string(),
        CertCheck::NameMismatch => "the certificate name compared with the exam records it rests on".to_string(),
        CertCheck::Validity => format!("validity must equal the operation's years (±{} days)", p.validity_tolerance_days),
        CertCheck::TrainingHoursShort => format!(
            "credited hours before the exam (45 min offline, 30 min online per hour) against the syllabus (tolerance {:.0}%)",
            p.hours_tolerance * 100.0
        ),
    };
    format!(
        "{rule}; severity from the count ({} = full) and share ({:.0}% = full) of certificates affected.",
        p.full_severity_count,
        p.full_severity_share * 100.0
    )
}

/// A small in-memory dataset builder shared by the `cert` and `callback` tests.
#[cfg(test)]
pub(crate) mod fixture {
    use crate::checks::{self, Ctx, Finding};
    use crate::dataset::rows::*;
    use crate::model::{Models, Operations, Scorecard};

    pub(crate) struct Fx {
        pub t: Tables,
        pub ops: Operations,
        pub card: Scorecard,
        pub params: checks::Params,
    }

    /// A valid ID number with sequence `n` (born 1990-01-01 in 410102).
    pub(crate) fn pid(n: u32) -> String {
        let first = format!("41010219900101{:03}", n % 1000);
        let c = crate::checks::idno::check_char(first.as_bytes()).unwrap_or('0');
        format!("{first}{c}")
    }

    pub(crate) fn day(y: i32, m: u32, d: u32) -> Day {
        days_from_civil(y, m, d)
    }

    impl Fx {
        pub(crate) fn new() -> Fx {
            let m = Models::load(None).unwrap();
            let params = checks::Params::from_scorecard(&m.scorecard).unwrap();
            let t = Tables {
                classes: Some(Vec::new()),
                attendance: Some(Vec::new()),
                exam_sessions: Some(Vec::new()),
                exam_records: Some(Vec::new()),
                certificates: Some(Vec::new()),
                callbacks: Some(Vec::new()),
                ..Default::default()
            };
            let mut fx = Fx { t, ops: m.operations, card: m.scorecard, params };
            fx.inst("T1", InstKind::Training);
            fx.inst("E1", InstKind::Exam);
            fx
        }

        pub(crate) fn sym(&mut self, s: &str) -> crate::dataset::intern::Sym {
            self.t.strings.intern(s)
        }

        pub(crate) fn op(&mut self, name: &str) -> OpRef {
            OpRef { raw: self.sym(name), op: self.ops.resolve(name) }
        }

        pub(crate) fn inst(&mut self, id: &str, kind: InstKind) -> u32 {
            let (id, name, region) = (self.sym(id), self.sym(id), self.sym("410102"));
            self.t.institutions.push(Institution { line: 0, id, name, kind, region, seats: None });
            self.t.institutions.len() as u32 - 1
        }

        pub(crate) fn session(&mut self, inst: &str, op: &str, part: Part, d: Day) -> u32 {
            let inst = self.t.inst_index(inst).unwrap();
            let v = self.t.exam_sessions.as_ref().unwrap().len();
            let (id, room, operation) = (self.sym(&format!("S{v}")), self.sym("R1"), self.op(op));
            let start = i64::from(d) * 86_400 + 9 * 3600;
            self.t.exam_sessions.as_mut().unwrap().push(ExamSession {
                line: v as u32 + 2,
                id,
                inst,
                room,
                operation,
                part,
                start,
                end: start + 7200,
                seats: None,
                proctor: None,
            });
            v as u32
        }

        pub(crate) fn record(&mut self, session: u32, person: &str, name: &str, score: f32, training: Option<&str>) {
            let v = self.t.exam_records.as_ref().unwrap().len();
            let (id, person, name) = (self.sym(&format!("X{v}")), self.sym(person), self.sym(name));
            let training_inst = training.and_then(|i| self.t.inst_index(i));
            self.t.exam_records.as_mut().unwrap().push(ExamRecord {
                line: v as u32 + 2,
                id,
                session,
                person,
                name: Some(name),
                seat: None,
                training_inst,
                login_at: None,
                submit_at: None,
                score,
                attempt: 1,
                face_score: None,
            });
        }

        #[allow(clippy::too_many_arguments)]
        pub(crate) fn cert(
            &mut self,
            cert_no: &str,
            person: &str,
            name: &str,
            op: &str,
            issued: Day,
            expires: Day,
            training: Option<&str>,
            exam: Option<&str>,
        ) {
            let v = self.t.certificates.as_ref().unwrap().len();
            let (cert_no, person, name, operation) = (self.sym(cert_no), self.sym(person), self.sym(name), self.op(op));
            let training_institution = training.map(|s| self.sym(s));
            let exam_institution = exam.map(|s| self.sym(s));
            let training_inst = training.and_then(|i| self.t.inst_index(i));
            let exam_inst = exam.and_then(|i| self.t.inst_index(i));
            self.t.certificates.as_mut().unwrap().push(Certificate {
                line: v as u32 + 2,
                cert_no,
                person,
                name,
                operation,
                issued_on: issued,
                expires_on: expires,
                training_institution,
                training_inst,
                exam_institution,
                exam_inst,
            });
        }

        pub(crate) fn class(&mut self, inst: &str, op: &str, kind: CourseKind, start: Day) -> u32 {
            let inst = self.t.inst_index(inst).unwrap();
            let v = self.t.classes.as_ref().unwrap().len();
            let (id, operation) = (self.sym(&format!("C{v}")), self.op(op));
            self.t.classes.as_mut().unwrap().push(Class {
                line: v as u32 + 2,
                id,
                inst,
                operation,
                course_kind: kind,
                start_date: start,
                end_date: start + 30,
                room: None,
                capacity: None,
            });
            v as u32
        }

        pub(crate) fn att(&mut self, class: u32, person: &str, mode: Mode, d: Day, minutes: i64) {
            let v = self.t.attendance.as_ref().unwrap().len();
            let (id, person) = (self.sym(&format!("A{v}")), self.sym(person));
            let check_in = i64::from(d) * 86_400 + 8 * 3600;
            self.t.attendance.as_mut().unwrap().push(Attendance {
                line: v as u32 + 2,
                id,
                class,
                person,
                name: None,
                instructor: None,
                mode,
                check_in,
                check_out: check_in + minutes * 60,
                device: None,
                face_score: None,
            });
        }

        /// A complete honest 低压电工 history: 148 hours of classroom
        /// training at T1, theory and practical passed at E1, certificate
        /// `T`+ID issued a month later for 6 years.
        pub(crate) fn honest(&mut self, n: u32, issued: Day) -> String {
            let p = pid(n);
            let c = self.class("T1", "低压电工", CourseKind::Initial, issued - 90);
            self.att(c, &p, Mode::Classroom, issued - 90, 148 * 45);
            let s1 = self.session("E1", "低压电工作业", Part::Theory, issued - 40);
            let s2 = self.session("E1", "low_voltage_electrician", Part::Practical, issued - 35);
            self.record(s1, &p, "张三", 86.0, Some("T1"));
            self.record(s2, &p, "张三", 90.0, Some("T1"));
            let expires = super::add_months(issued, 72);
            self.cert(&format!("T{p}"), &p, "张三", "低压电工", issued, expires, Some("T1"), Some("E1"));
            p
        }

        pub(crate) fn run(&self, f: fn(&Ctx) -> Vec<Finding>) -> Vec<Finding> {
            let footage = crate::video::Footage::default();
            let ctx = Ctx { t: &self.t, ops: &self.ops, card: &self.card, params: &self.params, footage: &footage };
            let mut v = f(&ctx);
            v.sort_by(|a, b| (&a.institution_id, &a.check).cmp(&(&b.institution_id, &b.check)));
            v
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::{day, pid, Fx};
    use super::*;
    use crate::dataset::rows::CourseKind;

    /// (institution, check) of every finding.
    fn ids(fx: &Fx) -> Vec<(String, String)> {
        fx.run(run).into_iter().map(|f| (f.institution_id, f.check)).collect()
    }

    #[track_caller]
    fn check(fx: &Fx, expected: &[(&str, &str)]) {
        let want: Vec<(String, String)> = expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(ids(fx), want);
    }

    fn both(check_id: &str) -> Vec<(&'static str, &str)> {
        vec![("E1", check_id), ("T1", check_id)]
    }

    /// Issuing defects count against the exam centre alone (`exam_centre_checks`).
    fn centre(check_id: &str) -> Vec<(&'static str, &str)> {
        vec![("E1", check_id)]
    }

    #[test]
    fn honest_certificates_give_nothing() {
        let mut fx = Fx::new();
        for n in 0..5 {
            fx.honest(n, day(2024, 6, 1));
        }
        check(&fx, &[]);
    }

    #[test]
    fn add_months_clamps() {
        assert_eq!(add_months(day(2024, 2, 29), 72), day(2030, 2, 28));
        assert_eq!(add_months(day(2024, 6, 1), -12), day(2023, 6, 1));
        assert_eq!(add_months(day(2024, 1, 31), 1), day(2024, 2, 29));
    }

    #[test]
    fn invalid_id() {
        let mut fx = Fx::new();
        fx.honest(1, day(2024, 6, 1));
        let bad = "340524198001010013";
        let i = day(2024, 6, 1);
        let s1 = fx.session("E1", "低压电工", Part::Theory, i - 20);
        let s2 = fx.session("E1", "低压电工", Part::Practical, i - 19);
        fx.record(s1, bad, "李四", 85.0, Some("T1"));
        fx.record(s2, bad, "李四", 85.0, Some("T1"));
        let c = fx.class("T1", "低压电工", CourseKind::Initial, i - 60);
        fx.att(c, bad, Mode::Classroom, i - 60, 150 * 45);
        fx.cert(&format!("T{bad}"), bad, "李四", "低压电工", i, add_months(i, 72), Some("T1"), Some("E1"));
        check(&fx, &both("cert.invalid_id"));
        let f = &fx.run(run)[0];
        assert!(f.evidence[0].rows[0].last().unwrap().contains("should be `X`"));
        assert!(f.flags.iter().any(|fl| fl.kind == SubjectKind::Person && fl.subject_id == bad));
        // 1 of 2 certificates: share 0.5 -> full severity.
        assert_eq!(f.severity, 1.0);
    }

    #[test]
    fn number_mismatch_and_its_honest_variants() {
        let mut fx = Fx::new();
        let i = day(2024, 6, 1);
        let p = fx.honest(1, i);
        // Full-width digits and a lower-case x are the same number.
        let q = fx.honest(2, i);
        let wide: String = q.chars().map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap()).collect();
        fx.t.certificates.as_mut().unwrap()[1].cert_no = fx.t.strings.intern(&format!(" ｔ{wide} "));
        // The last certificate of holder 1's class: a number of someone else.
        fx.t.certificates.as_mut().unwrap()[0].cert_no = fx.t.strings.intern(&format!("T{}", pid(7)));
        check(&fx, &centre("cert.number_mismatch"));
        let f = &fx.run(run)[0];
        assert_eq!(f.evidence[0].total_rows, 1);
        assert_eq!(
            f.flags.iter().find(|fl| fl.kind == SubjectKind::Person).map(|fl| fl.subject_id.as_str()),
            Some(p.as_str())
        );
    }

    #[test]
    fn number_rule_only_for_special_operations() {
        let mut fx = Fx::new();
        let i = day(2024, 6, 1);
        let p = pid(3);
        // A manager certificate with its own numbering is fine (no exams here: centre outside the dataset).
        fx.cert("安管2024-0001", &p, "王五", "manager", i, add_months(i, 36), None, Some("OUTSIDE"));
        let ids = ids(&fx);
        assert!(!ids.iter().any(|(_, c)| c == "cert.number_mismatch"), "{ids:?}");
    }

    #[test]
    fn duplicates() {
        let mut fx = Fx::new();
        let i = day(2024, 6, 1);
        let p = fx.honest(1, i);
        // Renewal six years later under the same number: not a duplicate.
        let j = add_months(i, 72);
        fx.cert(&format!("T{p}"), &p, "张三", "低压电工", j, add_months(j, 72), None, Some("OUTSIDE"));
        check(&fx, &[]);
        // A second live certificate two years in overlaps both: all three flagged.
        let k = add_months(i, 24);
        fx.cert(&format!("T{p}"), &p, "张三", "低压电工", k, add_months(k, 72), None, Some("OUTSIDE"));
        let found = fx.run(run);
        let dup: Vec<_> = found.iter().filter(|f| f.check == "cert.duplicate").collect();
        assert_eq!(dup.len(), 1, "{:?}", found.iter().map(|f| (&f.institution_id, &f.check)).collect::<Vec<_>>());
        assert_eq!(dup[0].evidence[0].total_rows, 3);
    }

    #[test]
    fn one_number_two_people() {
        let mut fx = Fx::new();
        let i = day(2024, 6, 1);
        let p = fx.honest(1, i);
        let q = fx.honest(2, i);
        fx.t.certificates.as_mut().unwrap()[1].cert_no = fx.t.strings.intern(&format!("T{p}"));
        let found = fx.run(run);
        let dup = found.iter().find(|f| f.check == "cert.duplicate" && f.institution_id == "E1").unwrap();
        assert!(!found.iter().any(|f| f.check == "cert.duplicate" && f.institution_id == "T1"));
        assert_eq!(dup.evidence[0].total_rows, 2);
        assert!(dup.flags.iter().any(|f| f.subject_id == q));
    }

    #[test]
    fn no_passing_exam() {
        let mut fx = Fx::new();
        let i = day(2024, 6, 1);
        fx.honest(1, i);
        // Holder 2 passed theory only.
        let p = pid(2);
        let c = fx.class("T1", "低压电工", CourseKind::Initial, i - 90);
        fx.att(c, &p, Mode::Classroom, i - 90, 148 * 45);
        let s = fx.session("E1", "低压电工", Part::Theory, i - 30);
        fx.record(s, &p, "赵六", 92.0, Some("T1"));
        let s = fx.session("E1", "低压电工", Part::Practical, i - 29);
        fx.record(s, &p, "赵六", 70.0, Some("T1"));
        fx.cert(&format!("T{p}"), &p, "赵六", "低压电工", i, add_months(i, 72), Some("T1"), Some("E1"));
        check(&fx, &both("cert.no_passing_exam"));
        let f = &fx.run(run)[0];
        assert!(f.evidence[0].rows[0].last().unwrap().contains("no passing practical exam"), "{:?}", f.evidence);
    }

    #[test]
    fn exams_too_long_before_issue_or_outside_dataset() {
        let mut fx = Fx::new();
        let i = day(2024, 6, 1);
        let p = fx.honest(1, i);
        // Move holder 1's exams to 14 months before issue.
        for s in fx.t.exam_sessions.as_mut().unwrap() {
            s.start -= 400 * 86_400;
        }
        let found = ids(&fx);
        assert!(found.contains(&("E1".into(), "cert.no_passing_exam".into())), "{found:?}");
        // A certificate whose exam centre is not in the dataset is not judged.
        let mut fx = Fx::new();
        fx.cert(&format!("T{p}"), &p, "张三", "低压电工", i, add_months(i, 72), Some("T1"), Some("E9"));
        let found = ids(&fx);
        assert!(!found.iter().any(|(_, c)| c == "cert.no_passing_exam"), "{found:?}");
    }

    #[test]
    fn issued_before_exam() {
        let mut fx = Fx::new();
        let i = day(2024, 6, 1);
        fx.honest(1, i);
        fx.t.certificates.as_mut().unwrap()[0].issued_on = i - 60;
        fx.t.certificates.as_mut().unwrap()[0].expires_on = add_months(i - 60, 72);
        check(&fx, &centre("cert.issued_before_exam"));
    }

    #[test]
    fn name_mismatch_and_dot_variants() {
        let mut fx = Fx::new();
        let i = day(2024, 6, 1);
        fx.honest(1, i);
        fx.honest(2, i);
        let n = fx.t.strings.intern("阿依古丽·买买提");
        let m = fx.t.strings.intern("阿依古丽 • 买买提");
        fx.t.certificates.as_mut().unwrap()[1].name = n;
        for r in fx.t.exam_records.as_mut().unwrap().iter_mut().skip(2) {
            r.name = Some(m);
        }
        check(&fx, &[]);
        let x = fx.t.strings.intern("李四");
        fx.t.certificates.as_mut().unwrap()[0].name = x;
        check(&fx, &centre("cert.name_mismatch"));
    }

    #[test]
    fn validity() {
        let mut fx = Fx::new();
        let i = day(2024, 6, 1);
        fx.honest(1, i);
        fx.honest(2, i);
        // The day before the anniversary is fine; three years is not.
        fx.t.certificates.as_mut().unwrap()[1].expires_on -= 1;
        check(&fx, &[]);
        fx.t.certificates.as_mut().unwrap()[0].expires_on = add_months(i, 36);
        check(&fx, &centre("cert.validity"));
    }

    #[test]
    fn training_hours_short() {
        let mut fx = Fx::new();
        let i = day(2024, 6, 1);
        fx.honest(1, i);
        // Holder 2: 60 h classroom + 100 h online counted at 30 min = 160 h: enough.
        let q = fx.honest(2, i);
        let a = fx.t.attendance.as_mut().unwrap();
        a[1].check_out = a[1].check_in + 60 * 45 * 60;
        let c = fx.t.attendance.as_ref().unwrap()[1].class;
        fx.att(c, &q, Mode::Online, i - 80, 100 * 30);
        // Holder 3: 140 h, within the 10 % tolerance of 148.
        fx.honest(3, i);
        let a = fx.t.attendance.as_mut().unwrap();
        a[3].check_out = a[3].check_in + 140 * 45 * 60;
        check(&fx, &[]);
        // Holder 1: only 100 h, and 60 more hours logged after the exam do not count.
        let a = fx.t.attendance.as_mut().unwrap();
        a[0].check_out = a[0].check_in + 100 * 45 * 60;
        let p = pid(1);
        fx.att(0, &p, Mode::Classroom, i - 10, 60 * 45);
        // One short holder is below hours_short_min_count: no finding yet.
        check(&fx, &[]);
        // Holder 2 down to 10 h classroom + 100 h online = 110 h: short too.
        let a = fx.t.attendance.as_mut().unwrap();
        a[1].check_out = a[1].check_in + 10 * 45 * 60;
        check(&fx, &[("T1", "cert.training_hours_short")]);
        let f = &fx.run(run)[0];
        assert_eq!(f.evidence[0].total_rows, 2);
        assert!(f.evidence[0].rows[0].last().unwrap().contains("100.0 credited hours"), "{:?}", f.evidence[0].rows);
    }

    #[test]
    fn one_short_holder_among_many_is_no_pattern() {
        let mut fx = Fx::new();
        let i = day(2024, 6, 1);
        for n in 0..30 {
            fx.honest(n, i);
        }
        // Two of thirty short: 6.7 % < 10 %.
        for k in [3, 7] {
            let a = &mut fx.t.attendance.as_mut().unwrap()[k];
            a.check_out = a.check_in + 50 * 45 * 60;
        }
        check(&fx, &[]);
    }

    #[test]
    fn renewal_needs_only_refresher_hours() {
        let mut fx = Fx::new();
        let i = day(2024, 6, 1);
        let people = [pid(4), pid(5)];
        for p in &people {
            let c = fx.class("T1", "低压电工", CourseKind::Refresher, i - 20);
            fx.att(c, p, Mode::Classroom, i - 20, 8 * 45);
            fx.cert(&format!("T{p}"), p, "孙七", "低压电工", i, add_months(i, 72), Some("T1"), Some("E9"));
        }
        check(&fx, &[]);
        // Without any attendance, T1 has no record of the holders: the
        // certificates merely name it, which is not evidence against T1.
        fx.t.attendance.as_mut().unwrap().clear();
        check(&fx, &[]);
        // Exam records naming T1 as the training institution make them T1's
        // trainees: with no hours at all, the initial hours are missing.
        let s = fx.session("E1", "低压电工", Part::Theory, i - 400);
        for p in &people {
            fx.record(s, p, "孙七", 50.0, Some("T1"));
        }
        check(&fx, &[("T1", "cert.training_hours_short")]);
    }

    #[test]
    fn sold_certificate_counts_against_the_centre_only() {
        let mut fx = Fx::new();
        let i = day(2024, 6, 1);
        for n in 0..4 {
            fx.honest(n, i);
        }
        // A stranger's certificate naming T1 and E1: no exam, no training.
        let p = pid(99);
        fx.cert(&format!("T{p}"), &p, "周八", "低压电工", i, add_months(i, 72), Some("T1"), Some("E1"));
        check(&fx, &[("E1", "cert.no_passing_exam")]);
    }

    #[test]
    fn attribution_derived_from_exam_record() {
        let mut fx = Fx::new();
        let i = day(2024, 6, 1);
        fx.inst("E2", crate::dataset::rows::InstKind::Exam);
        let p = fx.honest(1, i);
        // Certificate names no institution; its exam record points at E1 and T1.
        let c = &mut fx.t.certificates.as_mut().unwrap()[0];
        (c.training_inst, c.training_institution, c.exam_inst, c.exam_institution) = (None, None, None, None);
        c.expires_on = add_months(i, 24);
        check(&fx, &centre("cert.validity"));
        assert!(p.ends_with(&p[17..]));
    }

    #[test]
    fn one_bad_certificate_among_many_is_weak() {
        let mut fx = Fx::new();
        let i = day(2024, 6, 1);
        for n in 0..100 {
            fx.honest(n, i);
        }
        fx.t.certificates.as_mut().unwrap()[5].expires_on -= 400;
        let found = fx.run(run);
        assert_eq!(found.len(), 1);
        assert!(found.iter().all(|f| f.severity < 0.2 && f.severity > 0.0), "{found:?}");
    }
}
