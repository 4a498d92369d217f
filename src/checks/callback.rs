//! `callback.*` checks on the phone follow-ups (学员电话回访), and the
//! reproducible stratified sample of trainees to phone that
//! `kaopei sample-callbacks` draws.
//!
//! The unit is the trainee (person × institution): with several calls, the
//! latest reached call is what the trainee said; a trainee never reached is
//! unreachable.
//!
//! | id | test |
//! |---|---|
//! | `callback.denied_attendance` | reached trainees answering `attended = no`: exact binomial upper tail against `denial_base_rate`, BH across institutions |
//! | `callback.hours_understated` | reached trainees (not denying) whose reported hours are below `understated_ratio` × the hours recorded for them at the institution: binomial against `understated_base_rate`, BH |
//! | `callback.unreachable` | unreachable trainees: binomial against the pooled rate of the other institutions (leave-one-out), BH; only when the rate is `unreachable_min_ratio` × the peers' or more |
//!
//! Severity is the `effect_evidence` form of each check's scorecard table
//! (effect × evidence): the effect is the excess share over the base rate
//! (for unreachable: the rate ratio − 1) over the form's `full_effect`,
//! the evidence `−log10(q) / full_log10_q`, both clamped to 0–1; the
//! unreachable form caps it (`max`): an unreachable trainee is unverified,
//! not shown to be fake.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use serde::Deserialize;

use super::cert::{credited_hours, PersonKeys};
use super::{idno, ColKind, Ctx, EvidenceTable, Finding, SubjectKind};
use crate::checks::severity::Evidence;
use crate::checks::CallbackCheck;
use crate::dataset::intern::Sym;
use crate::dataset::rows::{fmt_ts, Attended, Tables};
use crate::model::Operations;
use crate::stats::{binom, fdr};

/// `[params.callback]` in `models/scorecard.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Share of honest trainees expected to say they did not attend
    /// (wrong person answering, confusion with another course).
    pub denial_base_rate: f64,
    /// Reported ÷ recorded hours below this counts as "far fewer".
    pub understated_ratio: f64,
    /// Share of honest trainees expected to report far fewer hours.
    pub understated_base_rate: f64,
    /// BH-adjusted p-value below which a finding is emitted.
    pub alpha: f64,
    /// Minimum reached (or called, for unreachable) trainees for a test.
    pub min_trainees: u32,
    /// Unreachable rate must be at least this multiple of the peers' rate.
    pub unreachable_min_ratio: f64,
    /// Institutions with calls needed besides this one for a peer rate.
    pub min_peers: u32,
    /// Sampling weight of a trainee without training/exam flags.
    pub base_weight: f64,
    /// Sampling weight of a trainee flagged by a `training.*` or `exam.*` check.
    pub flagged_weight: f64,
    /// Rows kept per evidence table (all are counted).
    pub evidence_rows: usize,
}

impl Default for Params {
    /// The committed `[params.callback]` (so values live only in the model file).
    fn default() -> Self {
        crate::model::Scorecard::from_toml(crate::model::BUILTIN_SCORECARD)
            .and_then(|c| super::family_params(&c, super::Family::Callback))
            .expect("built-in scorecard has a valid [family.callback] and [checks.callback.*]")
    }
}

/// What one trainee told the callers.
#[derive(Debug, Clone)]
struct Trainee {
    inst: u32,
    person: Sym,
    /// Callback rows about this trainee (indices into `callbacks`).
    rows: Vec<u32>,
    /// The latest reached call, if any.
    answer: Option<u32>,
    /// Credited hours recorded for the trainee at this institution (None without attendance).
    recorded: Option<f64>,
}

pub fn run(ctx: &Ctx) -> Vec<Finding> {
    let t = ctx.t;
    let p = &ctx.params.callback;
    let Some(calls) = t.callbacks.as_deref() else { return Vec::new() };
    let trainees = trainees_called(t, ctx.ops);
    if trainees.is_empty() {
        return Vec::new();
    }
    // Per institution: (called, reached, denied, hours-evaluable, understated).
    let mut per: HashMap<u32, [u32; 5]> = HashMap::new();
    for tr in &trainees {
        let c = per.entry(tr.inst).or_default();
        c[0] += 1;
        let Some(a) = tr.answer.map(|a| &calls[a as usize]) else { continue };
        c[1] += 1;
        if a.attended == Some(Attended::No) {
            c[2] += 1;
        } else if let (Some(rep), Some(rec)) = (a.hours_reported, tr.recorded.filter(|&h| h > 0.0)) {
            c[3] += 1;
            if f64::from(rep) < p.understated_ratio * rec {
                c[4] += 1;
            }
        }
    }
    let mut insts: Vec<u32> = per.keys().copied().collect();
    insts.sort_unstable();
    let mut out = Vec::new();

    // Denial and understated hours: one-sample binomial vs a base rate.
    for (check, k_i, n_i, base) in [
        (CallbackCheck::DeniedAttendance, 2usize, 1usize, p.denial_base_rate),
        (CallbackCheck::HoursUnderstated, 4, 3, p.understated_base_rate),
    ] {
        let tested: Vec<(u32, u32, u32)> = insts
            .iter()
            .map(|&i| (i, per[&i][k_i], per[&i][n_i]))
            .filter(|&(_, _, n)| n >= p.min_trainees.max(1))
            .collect();
        let pv: Vec<f64> =
            tested.iter().map(|&(_, k, n)| binom::upper_tail(u64::from(k), u64::from(n), base)).collect();
        let q = fdr::bh_adjust(&pv);
        for (j, &(inst, k, n)) in tested.iter().enumerate() {
            let share = f64::from(k) / f64::from(n);
            if q[j] >= p.alpha || share <= base {
                continue;
            }
            let sev = ctx.severity(check, &Evidence::default().with_effect(share - base).with_q(q[j]));
            let mine: Vec<&Trainee> =
                trainees.iter().filter(|tr| tr.inst == inst && selected(check, tr, calls, p)).collect();
            out.push(finding(ctx, check, inst, sev, share, q[j], k, n, base, None, &mine));
        }
    }

    // Unreachable: binomial vs the pooled rate of the other institutions.
    let (all_n, all_u): (u32, u32) = insts.iter().fold((0, 0), |(n, u), i| (n + per[i][0], u + per[i][0] - per[i][1]));
    let peers_with_calls = insts.len() as u32;
    if peers_with_calls > p.min_peers {
        let mut tested = Vec::new();
        for &i in &insts {
            let (n, u) = (per[&i][0], per[&i][0] - per[&i][1]);
            let (pn, pu) = (all_n - n, all_u - u);
            if n < p.min_trainees.max(1) || pn == 0 {
                continue;
            }
            // Half a trainee keeps the rate positive when no peer call failed.
            let rate = (f64::from(pu) + 0.5) / (f64::from(pn) + 1.0);
            tested.push((i, u, n, rate, binom::upper_tail(u64::from(u), u64::from(n), rate)));
        }
        let q = fdr::bh_adjust(&tested.iter().map(|x| x.4).collect::<Vec<_>>());
        for (j, &(inst, u, n, rate, _)) in tested.iter().enumerate() {
            let share = f64::from(u) / f64::from(n);
            let ratio = share / rate;
            if q[j] >= p.alpha || ratio < p.unreachable_min_ratio {
                continue;
            }
            let check = CallbackCheck::Unreachable;
            let sev = ctx.severity(check, &Evidence::default().with_effect(ratio - 1.0).with_q(q[j]));
            let mine: Vec<&Trainee> =
                trainees.iter().filter(|tr| tr.inst == inst && selected(check, tr, calls, p)).collect();
            out.push(finding(ctx, check, inst, sev, share, q[j], u, n, rate, Some(peers_with_calls - 1), &mine));
        }
    }
    out
}

/// Whether a trainee is one of those a check counts.
fn selected(check: CallbackCheck, tr: &Trainee, calls: &[crate::dataset::rows::Callback], p: &Params) -> bool {
    let a = tr.answer.map(|a| &calls[a as usize]);
    match check {
        CallbackCheck::DeniedAttendance => a.is_some_and(|a| a.attended == Some(Attended::No)),
        CallbackCheck::HoursUnderstated => a.is_some_and(|a| {
            a.attended != Some(Attended::No)
                && matches!((a.hours_reported, tr.recorded), (Some(rep), Some(rec)) if rec > 0.0 && f64::from(rep) < p.understated_ratio * rec)
        }),
        CallbackCheck::Unreachable => a.is_none(),
    }
}

#[allow(clippy::too_many_arguments)]
fn finding(
    ctx: &Ctx,
    check: CallbackCheck,
    inst: u32,
    sev: f64,
    share: f64,
    q: f64,
    k: u32,
    n: u32,
    base: f64,
    peers: Option<u32>,
    mine: &[&Trainee],
) -> Finding {
    let t = ctx.t;
    let p = &ctx.params.callback;
    let Some(calls) = t.callbacks.as_deref() else { return Finding::new(t.inst_id(inst), check, 0.0) };
    let (tzh, ten) =
        ctx.card.check(check).map(|c| (c.title_zh.as_str(), c.title_en.as_str())).unwrap_or((check.id(), check.id()));
    let (what_zh, what_en) = match check {
        CallbackCheck::DeniedAttendance => ("接通学员中否认参训", "of reached trainees deny attending"),
        CallbackCheck::HoursUnderstated => {
            ("接通学员中自述学时低于记录的一定比例", "of reached trainees report far fewer hours than recorded")
        }
        CallbackCheck::Unreachable => ("回访学员无法接通", "of called trainees could not be reached"),
    };
    let (method_zh, method_en) = match peers {
        None => (
            format!(
                "以精确二项检验（单侧）比较基准比例{:.1}%，n = {n}；各机构间Benjamini–Hochberg校正（q < {}）。{}",
                base * 100.0,
                p.alpha,
                if check == CallbackCheck::HoursUnderstated {
                    format!("“远少于”指自述学时低于本机构记录学时（线下45分钟、线上30分钟计1学时）的{:.0}%。", p.understated_ratio * 100.0)
                } else {
                    String::new()
                }
            ),
            format!(
                "Exact one-sided binomial test against a base rate of {:.1}%, n = {n}; Benjamini–Hochberg across institutions (q < {}).{}",
                base * 100.0,
                p.alpha,
                if check == CallbackCheck::HoursUnderstated {
                    format!(" \"Far fewer\" = below {:.0}% of the hours credited at this institution (45 min offline, 30 min online per hour).", p.understated_ratio * 100.0)
                } else {
                    String::new()
                }
            ),
        ),
        Some(m) => (
            format!(
                "以精确二项检验（单侧）比较其他{m}家机构的合并无法接通率{:.1}%，n = {n}；BH校正（q < {}），且须达到同行的{}倍。",
                base * 100.0,
                p.alpha,
                p.unreachable_min_ratio
            ),
            format!(
                "Exact one-sided binomial test against the pooled unreachable rate of the other {m} institutions ({:.1}%), n = {n}; BH (q < {}); at least {}× the peers' rate.",
                base * 100.0,
                p.alpha,
                p.unreachable_min_ratio
            ),
        ),
    };
    let mut table = EvidenceTable::new(
        "回访记录",
        "Callback records",
        "callbacks",
        &[
            ("line", ColKind::Number),
            ("person_id", ColKind::PersonId),
            ("called_at", ColKind::Time),
            ("reached", ColKind::Text),
            ("attended", ColKind::Text),
            ("hours_reported", ColKind::Number),
            ("hours_recorded", ColKind::Number),
            ("note", ColKind::Text),
        ],
    );
    let mut f = Finding::new(t.inst_id(inst), check, sev)
        .stat(share, Some(q))
        .summary(
            format!("{tzh}：{k}/{n}（{:.1}%）{what_zh}，对照{:.1}%", share * 100.0, base * 100.0),
            format!("{ten}: {k}/{n} ({:.1}%) {what_en}, against {:.1}%", share * 100.0, base * 100.0),
        )
        .method(method_zh, method_en);
    for tr in mine {
        let rows: Vec<u32> = match (check, tr.answer) {
            (CallbackCheck::Unreachable, _) | (_, None) => tr.rows.clone(),
            (_, Some(a)) => vec![a],
        };
        for r in rows {
            let c = &calls[r as usize];
            let attended = match c.attended {
                Some(Attended::Yes) => "yes",
                Some(Attended::No) => "no",
                Some(Attended::Unsure) => "unsure",
                None => "",
            };
            table.push_limited(
                vec![
                    c.line.to_string(),
                    t.s(c.person).to_string(),
                    fmt_ts(c.called_at),
                    if c.reached { "yes" } else { "no" }.to_string(),
                    attended.to_string(),
                    c.hours_reported.map(|h| format!("{h:.1}")).unwrap_or_default(),
                    tr.recorded.map(|h| format!("{h:.1}")).unwrap_or_default(),
                    c.note.map(|s| t.s(s).to_string()).unwrap_or_default(),
                ],
                p.evidence_rows,
            );
        }
        let strength = match (check, tr.answer.map(|a| &calls[a as usize]), tr.recorded) {
            (CallbackCheck::DeniedAttendance, _, _) => 1.0,
            (CallbackCheck::HoursUnderstated, Some(a), Some(rec)) if rec > 0.0 => {
                1.0 - f64::from(a.hours_reported.unwrap_or(0.0)) / rec
            }
            (CallbackCheck::HoursUnderstated | CallbackCheck::Unreachable, _, _) => 0.3,
        };
        f = f.flag(SubjectKind::Person, idno::normalise(t.s(tr.person)), strength);
    }
    f.evidence(table)
}

/// Trainees called, one per (institution, person), with their answers and
/// recorded hours at that institution.
fn trainees_called(t: &Tables, ops: &Operations) -> Vec<Trainee> {
    let Some(calls) = t.callbacks.as_deref() else { return Vec::new() };
    let mut keys = PersonKeys::new(t);
    let mut by: HashMap<(u32, u64), Trainee> = HashMap::new();
    for (i, c) in calls.iter().enumerate() {
        let Some(inst) = c.inst else { continue };
        let e = by.entry((inst, keys.key(c.person))).or_insert_with(|| Trainee {
            inst,
            person: c.person,
            rows: Vec::new(),
            answer: None,
            recorded: None,
        });
        e.rows.push(i as u32);
        if c.reached && e.answer.is_none_or(|a| calls[a as usize].called_at <= c.called_at) {
            e.answer = Some(i as u32);
        }
    }
    if let (Some(classes), Some(att)) = (t.classes.as_deref(), t.attendance.as_deref()) {
        let mut audited = vec![false; t.institutions.len()];
        for c in classes {
            if let Some(x) = audited.get_mut(c.inst as usize) {
                *x = true;
            }
        }
        for tr in by.values_mut() {
            if audited.get(tr.inst as usize).copied().unwrap_or(false) {
                tr.recorded = Some(0.0);
            }
        }
        for a in att {
            let Some(class) = classes.get(a.class as usize) else { continue };
            if let Some(tr) = by.get_mut(&(class.inst, keys.key(a.person))) {
                *tr.recorded.get_or_insert(0.0) += credited_hours(ops, a);
            }
        }
    }
    let mut v: Vec<Trainee> = by.into_values().collect();
    v.sort_by_key(|tr| (tr.inst, tr.rows[0]));
    v
}

/// A trainee of an institution who may be phoned.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Person id as written.
    pub person: String,
    pub name: Option<String>,
    /// The class the trainee is counted in (the one with most hours).
    pub class_id: String,
    /// Credited hours recorded at this institution.
    pub hours: f64,
    /// Flagged by a `training.*` or `exam.*` check.
    pub flagged: bool,
    /// Input line of one of the trainee's attendance rows (to find extras such as a phone).
    pub line: u32,
}

/// The trainees of institution `inst` from the attendance log, each counted
/// once in the class where most of their hours are (ties: the first class
/// by id), sorted by class id then person id so a draw does not depend on
/// the file's row order. `flagged` holds canonical person ids.
pub fn candidates(
    t: &Tables,
    ops: &Operations,
    inst: u32,
    flagged: &std::collections::HashSet<String>,
) -> Vec<Candidate> {
    let (Some(classes), Some(att)) = (t.classes.as_deref(), t.attendance.as_deref()) else { return Vec::new() };
    let mut keys = PersonKeys::new(t);
    #[derive(Clone, Copy)]
    struct InClass {
        class: u32,
        hours: f64,
        name: Option<Sym>,
        line: u32,
        person: Sym,
    }
    let mut per: HashMap<(u64, u32), InClass> = HashMap::new();
    for a in att {
        match classes.get(a.class as usize) {
            Some(c) if c.inst == inst => {}
            _ => continue,
        }
        let e = per.entry((keys.key(a.person), a.class)).or_insert(InClass {
            class: a.class,
            hours: 0.0,
            name: a.name,
            line: a.line,
            person: a.person,
        });
        e.hours += credited_hours(ops, a);
        e.name = e.name.or(a.name);
    }
    // Per person: the class with most hours, and the total.
    let mut best: HashMap<u64, (InClass, f64)> = HashMap::new();
    for ((k, _), x) in per {
        let e = best.entry(k).or_insert((x, 0.0));
        e.1 += x.hours;
        let (b, cid) = (&e.0, |c: u32| t.s(classes[c as usize].id));
        if x.hours > b.hours || (x.hours == b.hours && cid(x.class) < cid(b.class)) {
            let name = x.name.or(b.name);
            e.0 = InClass { name, ..x };
        }
    }
    let mut out: Vec<Candidate> = best
        .into_values()
        .map(|(x, total)| {
            let person = t.s(x.person).to_string();
            Candidate {
                flagged: flagged.contains(idno::normalise(&person).as_ref()),
                person,
                name: x.name.map(|n| t.s(n).to_string()),
                class_id: t.s(classes[x.class as usize].id).to_string(),
                hours: total,
                line: x.line,
            }
        })
        .collect();
    out.sort_by(|a, b| (&a.class_id, &a.person).cmp(&(&b.class_id, &b.person)));
    out
}

/// Draws a stratified sample of `n` candidates (strata = classes,
/// proportional allocation by largest remainder; within a stratum weighted
/// sampling without replacement, Efraimidis–Spirakis keys `u^(1/w)` with
/// `w = flagged_weight` or `base_weight`). ChaCha8 seeded with `seed`: the
/// same candidates and seed give the same sample on every platform.
/// Returns indices into `cands` in call-sheet order (class, then draw order).
pub fn draw_sample(cands: &[Candidate], n: usize, seed: u64, p: &Params) -> Vec<usize> {
    let total = cands.len();
    if n >= total {
        return (0..total).collect();
    }
    // Strata are runs of equal class_id (cands is sorted by class).
    let mut strata: Vec<std::ops::Range<usize>> = Vec::new();
    let mut start = 0;
    for i in 1..=total {
        if i == total || cands[i].class_id != cands[start].class_id {
            strata.push(start..i);
            start = i;
        }
    }
    let exact: Vec<f64> = strata.iter().map(|s| n as f64 * s.len() as f64 / total as f64).collect();
    let mut quota: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut left = n - quota.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..strata.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    for &s in order.iter().cycle().take(strata.len() * 2) {
        if left == 0 {
            break;
        }
        if quota[s] < strata[s].len() {
            quota[s] += 1;
            left -= 1;
        }
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n);
    for (s, range) in strata.iter().enumerate() {
        let mut keyed: Vec<(f64, usize)> = range
            .clone()
            .map(|i| {
                let w = if cands[i].flagged { p.flagged_weight } else { p.base_weight }.max(1e-9);
                let u: f64 = 1.0 - rng.gen::<f64>(); // (0, 1]
                (u.ln() / w, i)
            })
            .collect();
        // Largest u^(1/w) = largest ln(u)/w.
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        out.extend(keyed.iter().take(quota[s]).map(|k| k.1));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::super::cert::fixture::{day, pid, Fx};
    use super::*;
    use crate::dataset::rows::{Callback, CourseKind, Mode};

    fn call(fx: &mut Fx, inst: &str, person: &str, reached: bool, attended: Option<Attended>, hours: Option<f32>) {
        let line = fx.t.callbacks.as_ref().unwrap().len() as u32 + 2;
        let (person, institution) = (fx.sym(person), fx.sym(inst));
        let i = fx.t.inst_index(inst);
        fx.t.callbacks.as_mut().unwrap().push(Callback {
            line,
            person,
            institution,
            inst: i,
            called_at: i64::from(day(2024, 8, 1)) * 86_400 + 10 * 3600 + i64::from(line),
            reached,
            attended,
            hours_reported: hours,
            note: None,
        });
    }

    /// `n` trainees of `inst` with 148 recorded hours each, called; the first
    /// `deny` deny attending, the next `low` report 20 hours, the next
    /// `unreach` are unreachable, the rest confirm.
    fn institution(fx: &mut Fx, inst: &str, n: u32, deny: u32, low: u32, unreach: u32) {
        if fx.t.inst_index(inst).is_none() {
            fx.inst(inst, crate::dataset::rows::InstKind::Training);
        }
        let c = fx.class(inst, "低压电工", CourseKind::Initial, day(2024, 3, 1));
        let base = fx.t.institutions.len() as u32 * 1000;
        for j in 0..n {
            let p = format!("{}{}", &pid(j)[..14], base + j);
            fx.att(c, &p, Mode::Classroom, day(2024, 3, 1), 148 * 45);
            let (reached, att, h) = if j < deny {
                (true, Some(Attended::No), None)
            } else if j < deny + low {
                (true, Some(Attended::Yes), Some(20.0))
            } else if j < deny + low + unreach {
                (false, None, None)
            } else {
                (true, Some(Attended::Yes), Some(140.0))
            };
            call(fx, inst, &p, reached, att, h);
        }
    }

    fn found(fx: &Fx) -> Vec<(String, String)> {
        fx.run(run).into_iter().map(|f| (f.institution_id, f.check)).collect()
    }

    #[test]
    fn binomial_reference_values() {
        // The tests below, with the committed base rates:
        // scipy.stats.binom.sf(5, 30, 0.05) = 0.0032824855950018134 (6 of 30 deny)
        close(binom::upper_tail(6, 30, 0.05), 0.003_282_485_595_001_813_4);
        // scipy.stats.binom.sf(1, 30, 0.05) = 0.44645792456821287 (2 of 30: not evidence)
        close(binom::upper_tail(2, 30, 0.05), 0.446_457_924_568_212_87);
        // scipy.stats.binom.sf(7, 30, 0.08) = 0.0019736415940069846 (8 of 30 understate)
        close(binom::upper_tail(8, 30, 0.08), 0.001_973_641_594_006_984_6);
        // scipy.stats.binom.sf(19, 40, (12 + .5) / (160 + 1)) = 1.884000286969126e-12
        // (20 of 40 unreachable against 12 of 160 at the peers)
        close(binom::upper_tail(20, 40, 12.5 / 161.0), 1.884_000_286_969_126e-12);
    }

    #[track_caller]
    fn close(a: f64, b: f64) {
        assert!((a - b).abs() <= 1e-9 * b, "{a} vs {b}");
    }

    #[test]
    fn denial_found_and_honest_noise_ignored() {
        let mut fx = Fx::new();
        institution(&mut fx, "T2", 30, 6, 0, 0);
        institution(&mut fx, "T3", 30, 1, 0, 0);
        let f = found(&fx);
        assert_eq!(f, vec![("T2".to_string(), "callback.denied_attendance".to_string())]);
        let fd = &fx.run(run)[0];
        assert_eq!(fd.evidence[0].total_rows, 6);
        assert_eq!(fd.flags.len(), 6);
        // 6/30 = 20 % against 5 %: effect 0.15 / 0.30 = 0.5; q = BH of
        // (0.00328, 0.785) = 0.00657 -> evidence 2.18 / 3 = 0.73.
        assert!((fd.severity - 0.5 * (-0.006_565_f64.log10() / 3.0)).abs() < 1e-3, "{}", fd.severity);
    }

    #[test]
    fn understated_hours() {
        let mut fx = Fx::new();
        institution(&mut fx, "T2", 30, 0, 8, 0);
        institution(&mut fx, "T3", 30, 0, 1, 0);
        assert_eq!(found(&fx), vec![("T2".to_string(), "callback.hours_understated".to_string())]);
        let f = &fx.run(run)[0];
        let row = &f.evidence[0].rows[0];
        assert_eq!((row[5].as_str(), row[6].as_str()), ("20.0", "148.0"));
    }

    #[test]
    fn unreachable_against_peers() {
        let mut fx = Fx::new();
        institution(&mut fx, "T2", 40, 0, 0, 20);
        for i in 3..7 {
            institution(&mut fx, &format!("T{i}"), 40, 0, 0, 3);
        }
        assert_eq!(found(&fx), vec![("T2".to_string(), "callback.unreachable".to_string())]);
        assert!(fx.run(run)[0].severity <= 0.3);
        // Everyone equally hard to reach: nothing.
        let mut fx = Fx::new();
        for i in 2..7 {
            institution(&mut fx, &format!("T{i}"), 40, 0, 0, 12);
        }
        assert!(found(&fx).is_empty());
    }

    #[test]
    fn small_institution_is_not_tested() {
        let mut fx = Fx::new();
        institution(&mut fx, "T2", 3, 1, 0, 0);
        assert!(found(&fx).is_empty());
    }

    fn cands(n: usize, classes: usize, flagged_every: usize) -> Vec<Candidate> {
        let mut v: Vec<Candidate> = (0..n)
            .map(|i| Candidate {
                person: pid(i as u32),
                name: None,
                class_id: format!("C{}", i % classes),
                hours: 100.0,
                flagged: flagged_every > 0 && i % flagged_every == 0,
                line: i as u32 + 2,
            })
            .collect();
        v.sort_by(|a, b| (&a.class_id, &a.person).cmp(&(&b.class_id, &b.person)));
        v
    }

    #[test]
    fn sample_is_reproducible_and_proportional() {
        let p = Params::default();
        let c = cands(300, 3, 0);
        let a = draw_sample(&c, 30, 42, &p);
        assert_eq!(a, draw_sample(&c, 30, 42, &p));
        assert_ne!(a, draw_sample(&c, 30, 43, &p));
        assert_eq!(a.len(), 30);
        for class in ["C0", "C1", "C2"] {
            assert_eq!(a.iter().filter(|&&i| c[i].class_id == class).count(), 10);
        }
        let mut d = a.clone();
        d.sort_unstable();
        d.dedup();
        assert_eq!(d.len(), 30);
        // Asking for more than there are gives everyone.
        assert_eq!(draw_sample(&c, 500, 1, &p).len(), 300);
    }

    #[test]
    fn largest_remainder_allocation() {
        let p = Params::default();
        // Strata of 5, 3, 2: 5 draws -> 2.5, 1.5, 1.0 -> 3, 1, 1 or 2, 2, 1 (ties go to the first).
        let mut c = cands(10, 1, 0);
        for (i, x) in c.iter_mut().enumerate() {
            x.class_id = if i < 5 {
                "A"
            } else if i < 8 {
                "B"
            } else {
                "C"
            }
            .into();
        }
        let s = draw_sample(&c, 5, 7, &p);
        let count = |k: &str| s.iter().filter(|&&i| c[i].class_id == k).count();
        assert_eq!((count("A"), count("B"), count("C")), (3, 1, 1));
    }

    #[test]
    fn flagged_trainees_are_drawn_more_often() {
        let p = Params::default();
        let c = cands(200, 2, 10); // 20 flagged of 200
        let mut hits = 0;
        for seed in 0..50 {
            hits += draw_sample(&c, 20, seed, &p).iter().filter(|&&i| c[i].flagged).count();
        }
        // Unweighted we would expect 50 * 2 = 100 flagged draws.
        assert!(hits > 150, "{hits}");
    }

    #[test]
    fn candidates_one_per_person_in_their_main_class() {
        let mut fx = Fx::new();
        let a = fx.class("T1", "低压电工", CourseKind::Initial, day(2024, 3, 1));
        let b = fx.class("T1", "低压电工", CourseKind::Initial, day(2024, 4, 1));
        let p = pid(1);
        fx.att(a, &p, Mode::Classroom, day(2024, 3, 1), 45);
        fx.att(b, &p, Mode::Online, day(2024, 4, 1), 300);
        fx.att(b, &pid(2), Mode::Classroom, day(2024, 4, 1), 90);
        let flagged: HashSet<String> = [pid(2)].into_iter().collect();
        let c = candidates(&fx.t, &fx.ops, 0, &flagged);
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].class_id.as_str(), c[0].hours, c[0].flagged), ("C1", 11.0, false));
        assert_eq!((c[1].hours, c[1].flagged), (2.0, true));
    }
}
