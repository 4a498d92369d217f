//! `training.hours_short`, `training.compressed_schedule` and
//! `training.not_in_model`: the hours a class delivered (or could have
//! delivered) against the operation's syllabus.
//!
//! Credited 学时 follow AQ 8011-2023 with the operations model's
//! `[hours]`: offline (classroom, practical) minutes ÷ 45, online minutes
//! ÷ 30; practical hours count only offline (`practical` mode); at least
//! 30 % of the syllabus theory hours must be offline (classroom). Minutes
//! are summed per trainee per class before dividing, so no record is
//! rounded away.

use crate::checks::{Chart, ColKind, Ctx, EvidenceTable, Finding, SubjectKind};
use crate::dataset::intern::Sym;
use crate::dataset::rows::{day_of, fmt_day, fmt_ts, CourseKind, Mode};

use super::records::ExamIndex;
use super::{ids, minutes, op_key, pct, person_label, push_row, share_severity, Index};
use crate::stats::binom::{share_lower_bound, upper_tail};

const R_TOTAL: u8 = 1;
const R_PRACTICAL: u8 = 2;
const R_THEORY: u8 = 4;
const R_OFFLINE_THEORY: u8 = 8;

fn reason_text(r: u8) -> (String, String) {
    let mut zh = Vec::new();
    let mut en = Vec::new();
    if r & R_TOTAL != 0 {
        zh.push("总学时不足");
        en.push("total");
    }
    if r & R_THEORY != 0 {
        zh.push("理论学时不足");
        en.push("theory");
    }
    if r & R_PRACTICAL != 0 {
        zh.push("实操学时不足");
        en.push("practical");
    }
    if r & R_OFFLINE_THEORY != 0 {
        zh.push("线下理论不足30%");
        en.push("offline theory share");
    }
    (zh.join("、"), en.join(", "))
}

fn kind_text(k: CourseKind) -> &'static str {
    match k {
        CourseKind::Initial => "初训 initial",
        CourseKind::Refresher => "复训 refresher",
    }
}

/// One trainee short of hours in one class.
struct Short {
    class: u32,
    person: Sym,
    rows: (usize, usize),
    classroom: f64,
    online: f64,
    practical: f64,
    credited: f64,
    required: f64,
    deficit: f64,
    reasons: u8,
}

/// Credited 学时 of one record.
fn credited(ctx: &Ctx, mode: Mode, mins: f64) -> f64 {
    ctx.ops.hours.credited(mins, mode == Mode::Online)
}

pub(super) fn hours_short(ctx: &Ctx, ix: &Index, ex: &ExamIndex, inst: u32) -> Option<Finding> {
    if !ix.has_attendance {
        return None;
    }
    let p = &ctx.params.training;
    let rules = &ctx.ops.hours;
    let tol = p.hours_tolerance;
    let mut trainees = 0usize;
    // Initial-course trainees who never sat the exam (dropouts, not yet
    // examined) are not counted when the exam archive is given: hours
    // matter for whoever is presented for the exam.
    let filter = p.hours_only_examined && ex.has;
    let mut not_examined = 0usize;
    // Trainees with a rejected attendance row: their hours are unknown.
    let mut unreadable = 0usize;
    let mut shorts: Vec<Short> = Vec::new();
    let mut class_counts: Vec<(u32, usize, usize)> = Vec::new();
    for &c in &ix.classes_of[inst as usize] {
        let class = &ix.classes[c as usize];
        let Some(op) = class.operation.op else { continue };
        let o = ctx.ops.get(op);
        let rows = ix.class_rows(c);
        let (mut n_class, mut n_short) = (0usize, 0usize);
        let mut i = 0;
        while i < rows.len() {
            let person = ix.a(rows[i]).person;
            let mut j = i;
            let (mut cls, mut onl, mut prac) = (0.0, 0.0, 0.0);
            while j < rows.len() && ix.a(rows[j]).person == person {
                let a = ix.a(rows[j]);
                let m = minutes(a.check_in, a.check_out);
                match a.mode {
                    Mode::Classroom => cls += m,
                    Mode::Online => onl += m,
                    Mode::Practical => prac += m,
                }
                j += 1;
            }
            if ix.attendance_unreadable(person, class.inst, op_key(&class.operation)) {
                unreadable += 1;
                i = j;
                continue;
            }
            if filter && class.course_kind == CourseKind::Initial && !ex.examined(person.0, op_key(&class.operation)) {
                not_examined += 1;
                i = j;
                continue;
            }
            let cls_h = cls / rules.offline_minutes_per_hour;
            let prac_h = prac / rules.offline_minutes_per_hour;
            let onl_h = onl / rules.online_minutes_per_hour;
            let total = cls_h + prac_h + onl_h;
            let mut reasons = 0u8;
            let mut deficit = 0.0f64;
            let required = match class.course_kind {
                CourseKind::Refresher => o.refresher_hours,
                CourseKind::Initial => o.initial_hours,
            };
            if total < required - tol {
                reasons |= R_TOTAL;
                deficit = deficit.max(required - total);
            }
            if class.course_kind == CourseKind::Initial {
                if let (Some(th), Some(ph)) = (o.theory_hours, o.practical_hours) {
                    if prac_h < ph - tol {
                        reasons |= R_PRACTICAL;
                        deficit = deficit.max(ph - prac_h);
                    }
                    if cls_h + onl_h < th - tol {
                        reasons |= R_THEORY;
                        deficit = deficit.max(th - cls_h - onl_h);
                    }
                    let need = rules.offline_theory_min_share * th;
                    if cls_h < need - tol {
                        reasons |= R_OFFLINE_THEORY;
                        deficit = deficit.max(need - cls_h);
                    }
                }
            }
            n_class += 1;
            if reasons != 0 {
                n_short += 1;
                shorts.push(Short {
                    class: c,
                    person,
                    rows: (i, j),
                    classroom: cls_h,
                    online: onl_h,
                    practical: prac_h,
                    credited: total,
                    required,
                    deficit,
                    reasons,
                });
            }
            i = j;
        }
        trainees += n_class;
        if n_class > 0 {
            class_counts.push((c, n_class, n_short));
        }
    }
    if trainees == 0 {
        return None;
    }
    let share = shorts.len() as f64 / trainees as f64;
    // A class whose typical trainee is short did not schedule the hours
    // (individual absences leave the median trainee whole).
    let structural = class_counts.iter().any(|&(_, n, k)| {
        n >= p.hours_class_min_trainees && k >= p.hours_min_trainees && k as f64 >= p.hours_class_short_share * n as f64
    });
    // Against the rate of individual shortfalls (absences, late arrivals)
    // an honest institution has: a small centre with 2 of 9 short is not
    // evidence by itself.
    let p_value = upper_tail(shorts.len() as u64, trainees as u64, p.hours_baseline_short_rate);
    if shorts.len() < p.hours_min_trainees || (share < p.hours_min_share && !structural) || p_value >= p.hours_alpha {
        return None;
    }
    // Strength from the share the count proves, not the share seen: 2 of 4
    // short is a share of 0.5 but shows only ≈ 0.10 at 95 %.
    let proven = share_lower_bound(shorts.len() as u64, trainees as u64, p.hours_share_confidence);
    let sev = share_severity(proven, p.hours_full_share);
    let n_classes_short = class_counts.iter().filter(|c| c.2 > 0).count();
    let max_deficit = shorts.iter().map(|s| s.deficit).fold(0.0, f64::max);
    let mean_credited_share =
        shorts.iter().map(|s| s.credited / s.required.max(1e-9)).sum::<f64>() / shorts.len() as f64;
    shorts.sort_by(|a, b| {
        (b.deficit / b.required.max(1e-9))
            .total_cmp(&(a.deficit / a.required.max(1e-9)))
            .then(a.class.cmp(&b.class))
            .then(ix.s(a.person).cmp(ix.s(b.person)))
    });

    let t = ix.t;
    let lim = p.evidence_rows;
    let mut table = EvidenceTable::new(
        "学时不足的学员",
        "Trainees short of the required hours",
        "derived",
        &[
            ("person_id", ColKind::PersonId),
            ("name", ColKind::Name),
            ("class_id", ColKind::Text),
            ("course_kind", ColKind::Text),
            ("operation", ColKind::Text),
            ("classroom_hours", ColKind::Number),
            ("online_hours", ColKind::Number),
            ("practical_hours", ColKind::Number),
            ("credited_hours", ColKind::Number),
            ("required_hours", ColKind::Number),
            ("shortfall", ColKind::Text),
            ("records", ColKind::Number),
        ],
    );
    let mut recs = EvidenceTable::new(
        "学时不足学员的签到记录",
        "Attendance records of the trainees short of hours",
        "attendance",
        &[
            ("record_id", ColKind::Text),
            ("person_id", ColKind::PersonId),
            ("class_id", ColKind::Text),
            ("mode", ColKind::Text),
            ("check_in", ColKind::Time),
            ("check_out", ColKind::Time),
            ("minutes", ColKind::Number),
        ],
    );
    let mut f = Finding::new(t.inst_id(inst), ids::HOURS_SHORT, sev);
    for s in &shorts {
        let class = &ix.classes[s.class as usize];
        let rows = &ix.class_rows(s.class)[s.rows.0..s.rows.1];
        let (_, reason_en) = reason_text(s.reasons);
        let (reason_zh, _) = reason_text(s.reasons);
        push_row(
            &mut table,
            || {
                vec![
                    t.s(s.person).to_string(),
                    ix.opt(ix.a(rows[0]).name),
                    t.s(class.id).to_string(),
                    kind_text(class.course_kind).to_string(),
                    t.s(class.operation.raw).to_string(),
                    format!("{:.1}", s.classroom),
                    format!("{:.1}", s.online),
                    format!("{:.1}", s.practical),
                    format!("{:.1}", s.credited),
                    format!("{:.0}", s.required),
                    format!("{reason_zh} / {reason_en} (−{:.1})", s.deficit),
                    rows.len().to_string(),
                ]
            },
            lim,
        );
        for &r in rows {
            let a = ix.a(r);
            push_row(
                &mut recs,
                || {
                    vec![
                        t.s(a.id).to_string(),
                        t.s(a.person).to_string(),
                        t.s(class.id).to_string(),
                        format!("{:?}", a.mode).to_lowercase(),
                        fmt_ts(a.check_in),
                        fmt_ts(a.check_out),
                        format!("{:.0}", minutes(a.check_in, a.check_out)),
                    ]
                },
                lim,
            );
        }
        f = f.flag(SubjectKind::Person, t.s(s.person), (s.deficit / s.required.max(1e-9)).min(1.0));
    }
    for &(c, n, k) in &class_counts {
        if k > 0 {
            f = f.flag(SubjectKind::Class, t.s(ix.classes[c as usize].id), k as f64 / n as f64);
        }
    }
    // Heat strip of the class with the most short trainees.
    if let Some(&(c, _, _)) = class_counts.iter().filter(|c| c.2 > 0).max_by_key(|c| (c.2, std::cmp::Reverse(c.0))) {
        f = f.chart(heat_strip(ctx, ix, c, &shorts));
    }
    let n = shorts.len();
    Some(f.stat(share, Some(p_value))
        .summary(
            format!(
                "{n}/{trainees} 名学员（{}）认定学时低于大纲要求，涉及 {n_classes_short} 个班级；学员平均仅达要求的 {}，最大缺口 {max_deficit:.1} 学时",
                pct(share),
                pct(mean_credited_share)
            ),
            format!(
                "{n} of {trainees} trainees ({}) were credited fewer hours than the syllabus requires, in {n_classes_short} class(es); they reached {} of the requirement on average, the largest shortfall is {max_deficit:.1} hours",
                pct(share),
                pct(mean_credited_share)
            ),
        )
        .method(
            format!(
                "按 AQ 8011-2023 折算每名学员在每个班级的学时：面授和实操每 {} 分钟计 1 学时，网络学习每 {} 分钟计 1 学时；实操学时只计线下实操记录；线下面授理论不少于大纲理论学时的 {}。与作业类别模型（operations.toml）中初训或复训要求学时比较，容差 {} 学时。{}学员比例达到 {} 且不少于 {} 人（或某班级不少于一半学员不足），且按正常个人缺课率 {} 的二项分布检验 p < {} 时报告；严重度 = 不足比例的 {} 单侧置信下限（Clopper–Pearson）÷ {}。",
                rules.offline_minutes_per_hour,
                rules.online_minutes_per_hour,
                pct(rules.offline_theory_min_share),
                p.hours_tolerance,
                if filter { format!("初训班级只计已参加该作业类别考试的学员（{not_examined} 名未参考学员未计入）。") } else { String::new() }
                    + &if unreadable > 0 { format!("有学时记录被拒读的 {unreadable} 名学员学时未知，未计入。") } else { String::new() },
                pct(p.hours_min_share),
                p.hours_min_trainees,
                pct(p.hours_baseline_short_rate),
                p.hours_alpha,
                pct(p.hours_share_confidence),
                pct(p.hours_full_share)
            ),
            format!(
                "Credited hours per trainee per class under AQ 8011-2023: classroom and practical minutes ÷ {}, online minutes ÷ {}; practical hours count only offline practical records; offline classroom theory must be at least {} of the syllabus theory hours. Compared with the initial or refresher hours the operations model (operations.toml) requires, with a tolerance of {} hours.{} Reported when at least {} of trainees and at least {} trainees are short (or at least half of one class is) and a binomial test against an honest individual shortfall rate of {} gives p < {}; severity = the {} one-sided lower confidence bound (Clopper–Pearson) of the share short ÷ {}.",
                rules.offline_minutes_per_hour,
                rules.online_minutes_per_hour,
                pct(rules.offline_theory_min_share),
                p.hours_tolerance,
                if filter { format!(" Initial classes count only trainees who sat an exam for the operation ({not_examined} not examined were left out).") } else { String::new() }
                    + &if unreadable > 0 { format!(" {unreadable} trainee(s) with a rejected attendance row have unknown hours and were left out.") } else { String::new() },
                pct(p.hours_min_share),
                p.hours_min_trainees,
                pct(p.hours_baseline_short_rate),
                p.hours_alpha,
                pct(p.hours_share_confidence),
                pct(p.hours_full_share)
            ),
        )
        .evidence(table)
        .evidence(recs))
}

/// Trainee × day credited hours of class `c` for its short trainees.
fn heat_strip(ctx: &Ctx, ix: &Index, c: u32, shorts: &[Short]) -> Chart {
    let class = &ix.classes[c as usize];
    let rows_of: Vec<&Short> =
        shorts.iter().filter(|s| s.class == c).take(ctx.params.training.heatstrip_rows).collect();
    let mut first = class.start_date;
    let mut last = class.end_date;
    for s in &rows_of {
        for &r in &ix.class_rows(c)[s.rows.0..s.rows.1] {
            first = first.min(day_of(ix.a(r).check_in));
            last = last.max(day_of(ix.a(r).check_in));
        }
    }
    // Keep the chart readable: at most 120 columns from the class start.
    let last = last.min(first + 119);
    let days = (last - first + 1).max(1) as usize;
    let mut values = Vec::with_capacity(rows_of.len());
    let mut labels = Vec::with_capacity(rows_of.len());
    for s in &rows_of {
        let mut v = vec![0.0; days];
        for &r in &ix.class_rows(c)[s.rows.0..s.rows.1] {
            let a = ix.a(r);
            let d = day_of(a.check_in) - first;
            if d >= 0 && (d as usize) < days {
                v[d as usize] += credited(ctx, a.mode, minutes(a.check_in, a.check_out));
            }
        }
        values.push(v.iter().map(|x| (x * 10.0_f64).round() / 10.0).collect());
        labels.push(person_label(ix.s(s.person)));
    }
    Chart::HeatStrip {
        title: format!("学时/天 hours per day — {}", ix.s(class.id)),
        row_labels: labels,
        col_labels: (0..days).map(|d| fmt_day(first + d as i32)).collect(),
        values,
    }
}

pub(super) fn compressed_schedule(ctx: &Ctx, ix: &Index, inst: u32) -> Option<Finding> {
    let p = &ctx.params.training;
    let t = ix.t;
    let mut considered = 0usize;
    let mut bad: Vec<(u32, f64, f64, i32)> = Vec::new();
    for &c in &ix.classes_of[inst as usize] {
        let class = &ix.classes[c as usize];
        let Some(op) = class.operation.op else { continue };
        let o = ctx.ops.get(op);
        let required = match class.course_kind {
            CourseKind::Initial => o.initial_hours,
            CourseKind::Refresher => o.refresher_hours,
        };
        // Online study may happen any day or evening, so only the hours
        // that must be offline need the class calendar: practical plus the
        // offline share of theory (initial with a known split), the offline
        // share of the total otherwise.
        let share = ctx.ops.hours.offline_theory_min_share;
        let required = match (class.course_kind, o.theory_hours, o.practical_hours) {
            (CourseKind::Initial, Some(th), Some(ph)) => ph + share * th,
            _ => share * required,
        };
        let span = class.end_date - class.start_date + 1;
        let most = span.max(0) as f64 * p.daily_max_hours;
        considered += 1;
        if required > most + p.hours_tolerance {
            bad.push((c, required, most, span));
        }
    }
    if bad.len() < p.compressed_min_classes.max(1) || considered == 0 {
        return None;
    }
    let share = bad.len() as f64 / considered as f64;
    let sev = share_severity(share, p.compressed_full_share);
    let mut table = EvidenceTable::new(
        "周期不足以完成学时的班级",
        "Classes too short to deliver the required hours",
        "classes",
        &[
            ("class_id", ColKind::Text),
            ("operation", ColKind::Text),
            ("course_kind", ColKind::Text),
            ("start_date", ColKind::Time),
            ("end_date", ColKind::Time),
            ("days", ColKind::Number),
            ("max_deliverable_hours", ColKind::Number),
            ("required_offline_hours", ColKind::Number),
            ("trainees", ColKind::Number),
        ],
    );
    let mut f = Finding::new(t.inst_id(inst), ids::COMPRESSED, sev);
    let worst = bad.iter().map(|b| b.1 / b.2.max(1e-9)).fold(0.0, f64::max);
    for &(c, req, most, span) in &bad {
        let class = &ix.classes[c as usize];
        let rows = ix.class_rows(c);
        let mut persons = 0;
        for (k, &r) in rows.iter().enumerate() {
            if k == 0 || ix.a(rows[k - 1]).person != ix.a(r).person {
                persons += 1;
            }
        }
        push_row(
            &mut table,
            || {
                vec![
                    t.s(class.id).to_string(),
                    t.s(class.operation.raw).to_string(),
                    kind_text(class.course_kind).to_string(),
                    fmt_day(class.start_date),
                    fmt_day(class.end_date),
                    span.to_string(),
                    format!("{most:.0}"),
                    format!("{req:.0}"),
                    persons.to_string(),
                ]
            },
            p.evidence_rows,
        );
        f = f.flag(SubjectKind::Class, t.s(class.id), (1.0 - most / req.max(1e-9)).clamp(0.0, 1.0));
    }
    let n = bad.len();
    let worst_pct = if worst.is_finite() { format!("{:.1}", worst) } else { "∞".into() };
    Some(
        f.stat(share, None)
            .summary(
                format!(
                    "{n}/{considered} 个班级（{}）的开班到结业天数按每日最多 {} 学时无法完成必须线下完成的学时；最严重的班级需要可排学时的 {worst_pct} 倍",
                    pct(share),
                    p.daily_max_hours
                ),
                format!(
                    "{n} of {considered} classes ({}) are too short to deliver the hours that must be offline at no more than {} hours a day; the worst needs {worst_pct}× the hours its calendar allows",
                    pct(share),
                    p.daily_max_hours
                ),
            )
            .method(
                format!(
                    "每个班级的日历天数（含首尾）× 每日学时上限 {} 学时，与必须线下完成的学时比较：初训为实操学时 + 理论学时的 {}，其他为要求学时的 {}（网络学习可在晚间或课后进行，不占班级日历）。严重度 = 受影响班级比例 ÷ {}。",
                    p.daily_max_hours,
                    pct(ctx.ops.hours.offline_theory_min_share),
                    pct(ctx.ops.hours.offline_theory_min_share),
                    pct(p.compressed_full_share)
                ),
                format!(
                    "Each class's calendar days (start and end inclusive) × the daily maximum of {} hours, compared with the hours that must be delivered offline: practical plus {} of theory for an initial course, {} of the required hours otherwise (online study can happen in evenings or after, outside the class calendar). Severity = share of classes affected ÷ {}.",
                    p.daily_max_hours,
                    pct(ctx.ops.hours.offline_theory_min_share),
                    pct(ctx.ops.hours.offline_theory_min_share),
                    pct(p.compressed_full_share)
                ),
            )
            .evidence(table),
    )
}

/// Classes whose operation the model does not know: their hours cannot be
/// checked, which the inspector must be told (informational, weight 0).
pub(super) fn not_in_model(ctx: &Ctx, ix: &Index, inst: u32) -> Option<Finding> {
    let t = ix.t;
    let unknown: Vec<u32> = ix.classes_of[inst as usize]
        .iter()
        .copied()
        .filter(|&c| ix.classes[c as usize].operation.op.is_none())
        .collect();
    if unknown.is_empty() {
        return None;
    }
    let mut table = EvidenceTable::new(
        "作业类别不在模型中的班级",
        "Classes whose operation is not in the model",
        "classes",
        &[("class_id", ColKind::Text), ("operation", ColKind::Text), ("start_date", ColKind::Time)],
    );
    let mut names: Vec<&str> = Vec::new();
    for &c in &unknown {
        let class = &ix.classes[c as usize];
        names.push(t.s(class.operation.raw));
        push_row(
            &mut table,
            || vec![t.s(class.id).to_string(), t.s(class.operation.raw).to_string(), fmt_day(class.start_date)],
            ctx.params.training.evidence_rows,
        );
    }
    names.sort_unstable();
    names.dedup();
    let n = unknown.len();
    let list = names.join("、");
    Some(
        Finding::new(t.inst_id(inst), ids::NOT_IN_MODEL, 0.0)
            .summary(
                format!("{n} 个班级的作业类别（{list}）不在作业类别模型中，未核对其学时（非问题认定）"),
                format!("{n} class(es) name operations the model does not know ({list}); their hours were not checked (not a finding of fault)"),
            )
            .method(
                "作业类别按 operations.toml 的代码、名称和别名匹配；未匹配的不推测要求学时。",
                "Operations are matched against operations.toml by code, name and alias; an unmatched one is not guessed.",
            )
            .evidence(table),
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{day, pid, ts, Fx};
    use super::super::ids;
    use crate::checks::Chart;
    use crate::dataset::rows::{CourseKind, Mode};

    /// An initial 低压电工 class (148 h = 88 theory + 60 practical) whose
    /// `n` trainees each get `days` days of 8×45 min classroom-or-practical.
    fn lv_class(fx: &mut Fx, n: usize, full: usize, days: i64) {
        let c = fx.class("C1", 0, "低压电工", CourseKind::Initial, "2024-07-01", "2024-07-31", Some("101"), Some(60));
        let d0 = day("2024-07-01") as i64 * 86_400;
        for k in 0..n {
            let days_for = if k < full { days } else { days / 4 };
            for d in 0..days_for {
                let start = d0 + d * 86_400 + 8 * 3600;
                // 8 sessions × 45 min = 8 学时 a day; theory first, then practical.
                let mode = if d < 11 { Mode::Classroom } else { Mode::Practical };
                fx.att(c, &pid(k), mode, start, start + 8 * 45 * 60);
            }
        }
    }

    #[test]
    fn full_hours_give_no_finding() {
        let mut fx = Fx::new();
        // 11 classroom days = 88 h theory, 8 practical days = 64 h ≥ 60.
        lv_class(&mut fx, 20, 20, 19);
        assert!(fx.run_check(ids::HOURS_SHORT).is_empty());
    }

    #[test]
    fn many_short_trainees_are_found_with_heat_strip() {
        let mut fx = Fx::new();
        lv_class(&mut fx, 20, 10, 19);
        let f = fx.run_check(ids::HOURS_SHORT);
        assert_eq!(f.len(), 1);
        let f = &f[0];
        assert_eq!(f.institution_id, "I1");
        assert_eq!(f.statistic, Some(0.5));
        assert!(f.severity > 0.5, "{}", f.severity);
        assert_eq!(f.evidence[0].total_rows, 10);
        assert!(f.flags.iter().any(|x| x.subject_id == pid(15)));
        assert!(matches!(&f.charts[0], Chart::HeatStrip { values, .. } if values.len() == 10));
        assert!(f.summary_en.contains("10 of 20"), "{}", f.summary_en);
    }

    #[test]
    fn trainees_with_rejected_rows_have_unknown_hours() {
        // The 10 "short" trainees each had attendance rows rejected (say a
        // typo'd date): what they attended is unknown, not missing.
        let mut fx = Fx::new();
        lv_class(&mut fx, 20, 10, 19);
        for k in 10..20 {
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
                operation: None,
                inst: Some(0),
                institution_id: None,
                training_inst: None,
            });
        }
        assert!(fx.run_check(ids::HOURS_SHORT).is_empty());
    }

    #[test]
    fn dropouts_who_never_sat_the_exam_are_not_counted() {
        let mut fx = Fx::new();
        // 10 of 20 short, but only the 10 full-hours trainees sat the exam.
        lv_class(&mut fx, 20, 10, 19);
        for k in 0..10 {
            fx.exam(1, &pid(k), "低压电工", ts("2024-08-05 09:00:00"), Some(0));
        }
        assert!(fx.run_check(ids::HOURS_SHORT).is_empty());
        // One more examined trainee short of hours does not reach the share.
        fx.exam(1, &pid(15), "低压电工", ts("2024-08-05 09:00:00"), Some(0));
        assert!(fx.run_check(ids::HOURS_SHORT).is_empty());
        // Switched off by configuration: every trainee counts.
        fx.params.training.hours_only_examined = false;
        assert_eq!(fx.run_check(ids::HOURS_SHORT).len(), 1);
    }

    #[test]
    fn online_cannot_replace_practical_or_offline_theory() {
        let mut fx = Fx::new();
        let c = fx.class("C1", 0, "低压电工", CourseKind::Initial, "2024-07-01", "2024-07-31", None, None);
        let d0 = day("2024-07-01") as i64 * 86_400;
        for k in 0..5 {
            // 148 h all online (30-min hours): total fine, practical and offline theory missing.
            for d in 0..19 {
                let s = d0 + d * 86_400 + 8 * 3600;
                fx.att(c, &pid(k), Mode::Online, s, s + 8 * 30 * 60);
            }
        }
        let f = fx.run_check(ids::HOURS_SHORT);
        assert_eq!(f.len(), 1);
        assert!(f[0].evidence[0].rows[0][10].contains("practical"));
        assert!(f[0].evidence[0].rows[0][10].contains("offline theory"));
    }

    #[test]
    fn refresher_with_eight_hours_is_enough() {
        let mut fx = Fx::new();
        let c = fx.class("R1", 0, "低压电工", CourseKind::Refresher, "2024-07-01", "2024-07-01", Some("101"), Some(60));
        for k in 0..30 {
            // 8 × 45 min in one day, online half: 4 offline + 4×30 min online.
            fx.att(c, &pid(k), Mode::Classroom, ts("2024-07-01 08:00:00"), ts("2024-07-01 11:00:00"));
            fx.att(c, &pid(k), Mode::Online, ts("2024-07-01 19:00:00"), ts("2024-07-01 21:00:00"));
        }
        assert!(fx.run_check(ids::HOURS_SHORT).is_empty());
        assert!(fx.run_check(ids::COMPRESSED).is_empty());
    }

    #[test]
    fn one_short_refresher_class_is_found_but_single_absences_are_not() {
        let mut fx = Fx::new();
        let full = fx.class("R1", 0, "低压电工", CourseKind::Refresher, "2024-07-01", "2024-07-01", None, None);
        let short = fx.class("R2", 0, "低压电工", CourseKind::Refresher, "2024-07-02", "2024-07-02", None, None);
        for k in 0..40 {
            fx.att(full, &pid(k), Mode::Classroom, ts("2024-07-01 08:30:00"), ts("2024-07-01 12:00:00"));
            // two trainees miss the afternoon: honest absences
            if k >= 2 {
                fx.att(full, &pid(k), Mode::Classroom, ts("2024-07-01 13:30:00"), ts("2024-07-01 17:30:00"));
            }
        }
        assert!(fx.run_check(ids::HOURS_SHORT).is_empty());
        // A class scheduled 2 × 2 h 40 min (7.1 学时) for everyone.
        for k in 100..105 {
            fx.att(short, &pid(k), Mode::Classroom, ts("2024-07-02 09:00:00"), ts("2024-07-02 11:40:00"));
            fx.att(short, &pid(k), Mode::Classroom, ts("2024-07-02 14:00:00"), ts("2024-07-02 16:40:00"));
        }
        let f = fx.run_check(ids::HOURS_SHORT);
        assert_eq!(f.len(), 1);
        // 7 of 45 is below the 20 % share: found through the class rule.
        assert_eq!(f[0].statistic, Some(7.0 / 45.0));
        assert!(f[0].flags.iter().any(|x| x.subject_id == "R2" && x.strength == 1.0));
    }

    #[test]
    fn compressed_class_is_found() {
        let mut fx = Fx::new();
        // 低压电工 needs 60 practical + 30 % of 88 theory = 86.4 h offline: not in 7 days at 10 h a day.
        fx.class("C1", 0, "低压电工", CourseKind::Initial, "2024-07-01", "2024-07-07", None, None);
        fx.class("C2", 0, "低压电工", CourseKind::Initial, "2024-08-01", "2024-08-31", None, None);
        // 9 days with most theory online is tight but possible.
        fx.class("C3", 1, "低压电工", CourseKind::Initial, "2024-08-01", "2024-08-09", None, None);
        let f = fx.run_check(ids::COMPRESSED);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].institution_id, "I1");
        assert_eq!(f[0].statistic, Some(0.5));
        assert_eq!(f[0].flags[0].subject_id, "C1");
    }

    #[test]
    fn unknown_operation_is_informational() {
        let mut fx = Fx::new();
        let c = fx.class("C1", 0, "起重机司机", CourseKind::Initial, "2024-07-01", "2024-07-02", None, None);
        for k in 0..5 {
            fx.att(c, &pid(k), Mode::Classroom, ts("2024-07-01 08:00:00"), ts("2024-07-01 09:00:00"));
        }
        let f = fx.run();
        assert!(f.iter().all(|f| f.check != ids::HOURS_SHORT && f.check != ids::COMPRESSED));
        let info: Vec<_> = f.iter().filter(|f| f.check == ids::NOT_IN_MODEL).collect();
        assert_eq!(info.len(), 1);
        assert_eq!(info[0].severity, 0.0);
        assert!(info[0].summary_zh.contains("起重机司机"));
    }
}
