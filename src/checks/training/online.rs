//! Online study farming (代学, 挂机, 刷学时): `training.online_farming`
//! (concurrent online sessions of different persons on one device, online
//! study at night outside the classes and institutions configuration allows
//! for night shifts) and
//! `training.face_mismatch` (hours credited on records whose face score is
//! below the pass threshold).
//!
//! Persons per device alone is context, not evidence: a computer lab or a
//! family PC serves many people one after another. What one device cannot
//! do is hold two persons' sessions at once; sessions that only touch (one
//! ends when the next starts, as segmented platform exports write them) do
//! not overlap. Both rules are hard rules (no peer null): the severity is
//! the share of the institution's online records that break them.

use crate::checks::{ColKind, Ctx, EvidenceTable, Finding, SubjectKind};
use crate::dataset::rows::{day_of, fmt_ts, Mode, Ts};

use super::{ids, minutes, pct, push_row, q_effect, share_severity, Index, Params, PeerTest};
use crate::checks::severity::Evidence;
use crate::dataset::rows::InstKind;

const WHY_SHARED: u8 = 1;
const WHY_OVERLAP: u8 = 2;
const WHY_NIGHT: u8 = 4;

/// Minutes of `[a, b)` inside the nightly window `[start_h, end_h)` (which
/// may wrap past midnight).
pub(super) fn night_minutes(a: Ts, b: Ts, start_h: u32, end_h: u32) -> f64 {
    if start_h == end_h || b <= a {
        return 0.0;
    }
    let (s, e) = (start_h as i64 * 3600, end_h as i64 * 3600);
    let mut total = 0i64;
    for d in (day_of(a) as i64 - 1)..=(day_of(b) as i64) {
        let base = d * 86_400;
        let (ws, we) = if s < e { (base + s, base + e) } else { (base + s, base + 86_400 + e) };
        total += (b.min(we) - a.max(ws)).max(0);
    }
    total as f64 / 60.0
}

fn why_text(w: u8) -> String {
    let mut v = Vec::new();
    if w & WHY_SHARED != 0 {
        v.push("多人共用设备 shared device");
    }
    if w & WHY_OVERLAP != 0 {
        v.push("同设备时间重叠 overlap on device");
    }
    if w & WHY_NIGHT != 0 {
        v.push("夜间学习 night");
    }
    v.join("; ")
}

fn night_allowed(ix: &Index, p: &Params, row: u32) -> bool {
    let class = ix.class_of(row);
    let cid = ix.s(class.id);
    let iid = ix.t.inst_id(class.inst);
    p.night_shift_classes.iter().any(|c| c == cid) || p.night_shift_institutions.iter().any(|i| i == iid)
}

pub(super) fn online_farming(ctx: &Ctx, ix: &Index, inst: u32, rows: &[u32]) -> Option<Finding> {
    let p = &ctx.params.training;
    let t = ix.t;
    let mut on: Vec<u32> = rows.iter().copied().filter(|&r| ix.a(r).mode == Mode::Online).collect();
    if on.is_empty() {
        return None;
    }
    on.sort_unstable_by_key(|&r| (ix.a(r).device.map_or(u32::MAX, |d| d.0), ix.a(r).check_in, r));
    let mut why = vec![0u8; on.len()];
    let min_ov = ((p.device_overlap_min_minutes * 60.0) as i64).max(1);
    let mut shared_devices: Vec<(String, usize, usize)> = Vec::new();
    let mut g = 0;
    while g < on.len() {
        let dev = ix.a(on[g]).device;
        let mut h = g;
        while h < on.len() && ix.a(on[h]).device == dev {
            h += 1;
        }
        if let Some(d) = dev {
            let mut persons: Vec<u32> = on[g..h].iter().map(|&r| ix.a(r).person.0).collect();
            persons.sort_unstable();
            persons.dedup();
            if persons.len() > p.device_max_persons {
                for w in &mut why[g..h] {
                    *w |= WHY_SHARED;
                }
                shared_devices.push((t.s(d).to_string(), persons.len(), h - g));
            }
            // Overlapping sessions of different persons on the device.
            let mut active = g;
            for k in g + 1..h {
                let (a, act) = (ix.a(on[k]), ix.a(on[active]));
                if a.person != act.person && a.check_out.min(act.check_out) - a.check_in >= min_ov {
                    why[k] |= WHY_OVERLAP;
                    why[active] |= WHY_OVERLAP;
                }
                if a.check_out > act.check_out {
                    active = k;
                }
            }
        }
        g = h;
    }
    for (k, &r) in on.iter().enumerate() {
        let a = ix.a(r);
        if night_minutes(a.check_in, a.check_out, p.night_start_hour, p.night_end_hour) >= p.night_min_minutes
            && !night_allowed(ix, p, r)
        {
            why[k] |= WHY_NIGHT;
        }
    }
    // Shared devices are context: only concurrency and night study count.
    let mut hit: Vec<usize> = (0..on.len()).filter(|&k| why[k] & (WHY_OVERLAP | WHY_NIGHT) != 0).collect();
    hit.sort_unstable_by_key(|&k| on[k]);
    let share = hit.len() as f64 / on.len() as f64;
    if hit.len() < p.online_min_rows || share < p.online_min_share {
        return None;
    }
    let sev = share_severity(share, p.online_full_share);
    let count = |bit: u8| hit.iter().filter(|&&k| why[k] & bit != 0).count();
    let (ns, no, nn) = (count(WHY_SHARED), count(WHY_OVERLAP), count(WHY_NIGHT));
    let mut td = EvidenceTable::new(
        "多人共用的学习设备",
        "Devices used by many persons for online study",
        "attendance",
        &[("device_id", ColKind::Text), ("persons", ColKind::Number), ("records", ColKind::Number)],
    );
    shared_devices.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (d, np, nr) in &shared_devices {
        push_row(&mut td, || vec![d.clone(), np.to_string(), nr.to_string()], p.evidence_rows);
    }
    let mut tr = EvidenceTable::new(
        "可疑的网络学习记录",
        "Suspect online study records",
        "attendance",
        &[
            ("record_id", ColKind::Text),
            ("person_id", ColKind::PersonId),
            ("name", ColKind::Name),
            ("class_id", ColKind::Text),
            ("device_id", ColKind::Text),
            ("check_in", ColKind::Time),
            ("check_out", ColKind::Time),
            ("face_score", ColKind::Number),
            ("why", ColKind::Text),
        ],
    );
    let mut f = Finding::new(t.inst_id(inst), ids::ONLINE_FARMING, sev);
    for &k in &hit {
        let r = on[k];
        let a = ix.a(r);
        push_row(
            &mut tr,
            || {
                vec![
                    t.s(a.id).into(),
                    t.s(a.person).into(),
                    ix.opt(a.name),
                    t.s(ix.class_of(r).id).into(),
                    ix.opt(a.device),
                    fmt_ts(a.check_in),
                    fmt_ts(a.check_out),
                    a.face_score.map(|x| format!("{x:.2}")).unwrap_or_default(),
                    why_text(why[k]),
                ]
            },
            p.evidence_rows,
        );
        let strength = ((why[k] & (WHY_OVERLAP | WHY_NIGHT)).count_ones() as f64 / 2.0).min(1.0).max(sev);
        f = f.flag(SubjectKind::Attendance, t.s(a.id), strength).flag(SubjectKind::Person, t.s(a.person), strength);
    }
    let (nh, n) = (hit.len(), on.len());
    let allow = if p.night_shift_classes.is_empty() && p.night_shift_institutions.is_empty() {
        "无".to_string()
    } else {
        format!("{} 个班级、{} 个机构", p.night_shift_classes.len(), p.night_shift_institutions.len())
    };
    Some(
        f.stat(share, None)
            .summary(
                format!(
                    "{nh}/{n} 条网络学习记录（{}）可疑：{no} 条与他人在同一设备上同时学习，{nn} 条在夜间（其中 {ns} 条在多人共用设备上，共用设备 {} 台，仅作背景）",
                    pct(share),
                    shared_devices.len()
                ),
                format!(
                    "{nh} of {n} online study records ({}) are suspect: {no} concurrent with another person's session on the same device, {nn} at night ({ns} of them on devices shared by many persons; {} shared device(s), context only)",
                    pct(share),
                    shared_devices.len()
                ),
            )
            .method(
                format!(
                    "网络学习记录按设备汇总：同一设备上不同学员学习时间重叠不少于 {} 分钟为同时学习（前一人结束、后一人开始的首尾相接不算重叠）；同一设备学员超过 {} 人为共用设备，机房、家庭电脑先后使用属正常，仅作背景不计入；在 {}:00–{}:00 之间学习不少于 {} 分钟为夜间学习（配置允许的夜班班级/机构除外：{allow}）。可疑记录不少于 {} 条且占比不低于 {} 时报告；严重度 = 占比 ÷ {}。",
                    p.device_overlap_min_minutes, p.device_max_persons, p.night_start_hour, p.night_end_hour,
                    p.night_min_minutes, p.online_min_rows, pct(p.online_min_share), pct(p.online_full_share)
                ),
                format!(
                    "Online study records grouped by device: sessions of different persons on one device overlapping by at least {} minutes are concurrent (sessions that only touch, one ending as the next starts, are not); a device used by more than {} persons is shared, which a computer lab or family PC used one after another honestly is, so it is context only and not counted; at least {} minutes between {}:00 and {}:00 is night study (except night-shift classes/institutions allowed by configuration: {} classes, {} institutions). Reported from {} records and a share of {}; severity = share ÷ {}.",
                    p.device_overlap_min_minutes, p.device_max_persons, p.night_min_minutes, p.night_start_hour,
                    p.night_end_hour, p.night_shift_classes.len(), p.night_shift_institutions.len(), p.online_min_rows,
                    pct(p.online_min_share), pct(p.online_full_share)
                ),
            )
            .evidence(td)
            .evidence(tr),
    )
}

/// One institution's face-checked records and the failed ones.
pub(super) struct FaceStat {
    inst: u32,
    kind: InstKind,
    scored: u64,
    bad: Vec<u32>,
}

/// The face-checked records of `inst` (None when it has none).
pub(super) fn face_stat(ix: &Index, inst: u32, rows: &[u32], p: &Params) -> Option<FaceStat> {
    let scored = rows.iter().filter(|&&r| ix.a(r).face_score.is_some()).count() as u64;
    let bad: Vec<u32> = rows.iter().copied().filter(|&r| ix.a(r).face_score.is_some_and(|f| f < p.face_min)).collect();
    (scored > 0).then(|| FaceStat { inst, kind: ix.t.institutions[inst as usize].kind, scored, bad })
}

/// Failed face checks are a pattern honest institutions also produce (bad
/// light, glasses, an old ID photo): each institution's share of failed
/// records is tested against its peers' ([`super::peer_tests`]: the
/// beta-binomial of institutions of the same kind, mean at least
/// `face_base_rate`), BH across institutions; a finding where q <
/// the severity form's `alpha`, the excess over the null rate reaches `face_min_excess` and at
/// least `face_min_rows` records failed.
pub(super) fn face_mismatch(ctx: &Ctx, ix: &Index, stats: Vec<FaceStat>) -> Vec<Finding> {
    let p = &ctx.params.training;
    let units: Vec<(InstKind, u64, u64)> = stats.iter().map(|s| (s.kind, s.bad.len() as u64, s.scored)).collect();
    let tests = super::peer_tests(&units, p.face_min_peers, p.face_base_rate, (p.peer_trim_p, p.face_trim_max_share));
    let m = tests.len();
    stats.iter().zip(tests).filter_map(|(s, test)| face_finding(ctx, ix, s, &test, m)).collect()
}

fn face_finding(ctx: &Ctx, ix: &Index, st: &FaceStat, test: &PeerTest, m: usize) -> Option<Finding> {
    let p = &ctx.params.training;
    let t = ix.t;
    let (inst, bad) = (st.inst, &st.bad);
    let share = bad.len() as f64 / st.scored as f64;
    let excess = share - test.null.p;
    if bad.len() < p.face_min_rows || excess < p.face_min_excess {
        return None;
    }
    let (alpha, full_q, full_effect) = q_effect(ctx, ids::FACE_MISMATCH);
    let sev = ctx.severity(ids::FACE_MISMATCH, &Evidence::default().with_q(test.q).with_effect(excess));
    if test.q >= alpha || sev <= 0.0 {
        return None;
    }
    let mut tr = EvidenceTable::new(
        "人脸比对未通过仍计学时的记录",
        "Records credited despite a failed face check",
        "attendance",
        &[
            ("record_id", ColKind::Text),
            ("person_id", ColKind::PersonId),
            ("name", ColKind::Name),
            ("class_id", ColKind::Text),
            ("mode", ColKind::Text),
            ("check_in", ColKind::Time),
            ("check_out", ColKind::Time),
            ("minutes", ColKind::Number),
            ("face_score", ColKind::Number),
        ],
    );
    let mut f = Finding::new(t.inst_id(inst), ids::FACE_MISMATCH, sev);
    let mut mins = 0.0;
    for &r in bad {
        let a = ix.a(r);
        let m = minutes(a.check_in, a.check_out);
        mins += m;
        let score = a.face_score.unwrap_or(0.0);
        push_row(
            &mut tr,
            || {
                vec![
                    t.s(a.id).into(),
                    t.s(a.person).into(),
                    ix.opt(a.name),
                    t.s(ix.class_of(r).id).into(),
                    format!("{:?}", a.mode).to_lowercase(),
                    fmt_ts(a.check_in),
                    fmt_ts(a.check_out),
                    format!("{m:.0}"),
                    format!("{score:.2}"),
                ]
            },
            p.evidence_rows,
        );
        let strength = (1.0 - score as f64 / p.face_min.max(1e-6) as f64).clamp(0.0, 1.0).max(0.3);
        f = f.flag(SubjectKind::Attendance, t.s(a.id), strength).flag(SubjectKind::Person, t.s(a.person), strength);
    }
    let (nb, n) = (bad.len(), st.scored);
    let (q, null) = (test.q, test.null);
    let peers =
        if test.by_kind { "同类型机构 institutions of the same kind" } else { "全部机构 all institutions" };
    let hours = mins / 60.0;
    Some(
        f.stat(share, Some(q))
            .summary(
                format!(
                    "{nb}/{n} 条有人脸比对分的学时记录（{}）比对分低于 {}，仍计入约 {hours:.0} 小时学时；对照比例 {}，BH 校正 q={q:.2e}",
                    pct(share),
                    p.face_min,
                    pct(null.p)
                ),
                format!(
                    "{nb} of {n} face-checked records ({}) scored below {} yet were credited, about {hours:.0} clock hours; the null rate is {}, BH q={q:.2e}",
                    pct(share),
                    p.face_min,
                    pct(null.p)
                ),
            )
            .method(
                format!(
                    "光线、眼镜、旧证件照会使诚信机构也有少量比对失败，因此以同行为对照：有人脸比对分的学时记录中比对分低于 {} 的比例，与{peers}（不含本机构，{} 个）拟合的 β-二项分布比较（均值 {}，不低于基准 {}；ρ={:.3}），精确上尾概率在 {m} 个机构间做 BH 校正；q < {}、超出 ≥ {} 且不少于 {} 条时报告。严重度 = min(1, 超出 ÷ {}) × min(1, log10({}/q) ÷ log10({}/{}))。",
                    p.face_min, null.units, pct(null.p), pct(p.face_base_rate), null.rho, alpha,
                    pct(p.face_min_excess), p.face_min_rows, pct(full_effect), alpha, alpha, full_q
                ),
                format!(
                    "Bad light, glasses or an old ID photo fail some honest face checks, so peers are the reference: the share of face-checked records scoring below {} against a beta-binomial fitted to {peers} ({} units, this one left out; mean {}, at least the base rate {}; ρ={:.3}); exact upper tail, BH across {m} institutions; reported when q < {}, the excess is at least {} and at least {} records failed. Severity = min(1, excess ÷ {}) × min(1, log10({}/q) ÷ log10({}/{})).",
                    p.face_min, null.units, pct(null.p), pct(p.face_base_rate), null.rho, alpha,
                    pct(p.face_min_excess), p.face_min_rows, pct(full_effect), alpha, alpha, full_q
                ),
            )
            .evidence(tr),
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{pid, ts, Fx};
    use super::super::ids;
    use super::night_minutes;
    use crate::dataset::rows::{CourseKind, Mode};

    #[test]
    fn night_window_wraps_midnight() {
        let a = ts("2024-07-01 22:00:00");
        assert_eq!(night_minutes(a, a + 4 * 3600, 23, 5), 180.0);
        assert_eq!(night_minutes(a, a + 4 * 3600, 0, 5), 120.0);
        assert_eq!(night_minutes(ts("2024-07-01 08:00:00"), ts("2024-07-01 12:00:00"), 0, 5), 0.0);
    }

    fn night_class(fx: &mut Fx, id: &str) {
        let c = fx.class(id, 0, "低压电工", CourseKind::Refresher, "2024-07-01", "2024-07-03", None, None);
        for k in 0..20 {
            let s = ts("2024-07-02 01:00:00") + 60 * k as i64;
            let dev = fx.sym(&format!("PC{k}"));
            fx.att(c, &pid(k), Mode::Online, s, s + 3 * 3600).device = Some(dev);
        }
    }

    #[test]
    fn night_study_found_unless_configured_night_shift() {
        let mut fx = Fx::new();
        night_class(&mut fx, "N1");
        let f = fx.run_check(ids::ONLINE_FARMING);
        assert_eq!(f.len(), 1);
        assert!(f[0].summary_en.contains("20 at night"), "{}", f[0].summary_en);

        let mut fx = Fx::new();
        night_class(&mut fx, "N1");
        fx.params.training.night_shift_classes = vec!["N1".into()];
        assert!(fx.run_check(ids::ONLINE_FARMING).is_empty());
    }

    #[test]
    fn one_device_many_persons_overlapping() {
        let mut fx = Fx::new();
        let c = fx.class("C1", 0, "低压电工", CourseKind::Refresher, "2024-07-01", "2024-07-03", None, None);
        let farm = fx.sym("FARM");
        for k in 0..30 {
            let own = fx.sym(&format!("PC{k}"));
            let s = ts("2024-07-01 09:00:00") + 600 * k as i64;
            fx.att(c, &pid(k), Mode::Online, s, s + 3600).device = Some(if k < 12 { farm } else { own });
        }
        let f = fx.run_check(ids::ONLINE_FARMING);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].statistic, Some(12.0 / 30.0));
        assert_eq!(f[0].evidence[0].rows[0], vec!["FARM".to_string(), "12".into(), "12".into()]);
    }

    #[test]
    fn family_sharing_one_device_in_turn_is_fine() {
        let mut fx = Fx::new();
        let c = fx.class("C1", 0, "低压电工", CourseKind::Refresher, "2024-07-01", "2024-07-03", None, None);
        let home = fx.sym("HOME");
        for k in 0..2 {
            let s = ts("2024-07-01 19:00:00") + 7200 * k as i64;
            fx.att(c, &pid(k), Mode::Online, s, s + 7200).device = Some(home);
        }
        for k in 2..30 {
            let dev = fx.sym(&format!("PC{k}"));
            let s = ts("2024-07-01 09:00:00");
            fx.att(c, &pid(k), Mode::Online, s, s + 3600 * 4).device = Some(dev);
        }
        assert!(fx.run_check(ids::ONLINE_FARMING).is_empty());
    }

    #[test]
    fn computer_lab_used_one_after_another_is_fine() {
        // 40 trainees on 4 lab PCs in daytime, one after another; the
        // export cuts each sitting into 30-minute segments that touch.
        let mut fx = Fx::new();
        let c = fx.class("C1", 0, "低压电工", CourseKind::Refresher, "2024-07-01", "2024-07-10", None, None);
        for k in 0..40 {
            let dev = fx.sym(&format!("LAB-PC{}", k % 4));
            let s = ts("2024-07-01 08:30:00") + (k / 4) as i64 * 86_400 + (k % 2) as i64 * 3 * 3600;
            for seg in 0..4 {
                let a = fx.att(c, &pid(k), Mode::Online, s + seg * 1800, s + (seg + 1) * 1800);
                a.device = Some(dev);
                a.face_score = Some(0.9);
            }
        }
        let f = fx.run_check(ids::ONLINE_FARMING);
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn failed_face_checks() {
        let mut fx = Fx::new();
        let c = fx.class("C1", 0, "低压电工", CourseKind::Refresher, "2024-07-01", "2024-07-03", None, None);
        for k in 0..40 {
            let s = ts("2024-07-01 09:00:00");
            fx.att(c, &pid(k), Mode::Online, s, s + 3600).face_score = Some(if k < 10 { 0.31 } else { 0.93 });
        }
        let f = fx.run_check(ids::FACE_MISMATCH);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].statistic, Some(0.25));

        // An occasional bad capture (1 in 40) is not reported.
        let mut fx = Fx::new();
        let c = fx.class("C1", 0, "低压电工", CourseKind::Refresher, "2024-07-01", "2024-07-03", None, None);
        for k in 0..40 {
            let s = ts("2024-07-01 09:00:00");
            fx.att(c, &pid(k), Mode::Online, s, s + 3600).face_score = Some(if k < 1 { 0.31 } else { 0.93 });
        }
        assert!(fx.run_check(ids::FACE_MISMATCH).is_empty());
    }

    /// `n` institutions with 100 face-checked online records each, of which
    /// `bad(i)` failed.
    fn face_province(bad: impl Fn(usize) -> usize, n: usize) -> Fx {
        let mut fx = Fx::new();
        for i in 2..n {
            fx.inst(&format!("I{}", i + 1));
        }
        for i in 0..n {
            let c = fx.class(
                &format!("C{i}"),
                i as u32,
                "低压电工",
                CourseKind::Refresher,
                "2024-07-01",
                "2024-07-30",
                None,
                None,
            );
            for k in 0..100 {
                let s = ts("2024-07-01 19:00:00") + (k % 25) as i64 * 86_400;
                let a = fx.att(c, &pid(1000 * i + k), Mode::Online, s, s + 3600);
                a.face_score = Some(if k < bad(i) { 0.4 } else { 0.9 });
            }
        }
        fx
    }

    #[test]
    fn honest_spread_of_failed_faces_is_no_finding() {
        // Honest platforms fail 0-7 % of checks (light, glasses, old photos).
        let fx = face_province(|i| [0, 2, 5, 1, 7, 3, 0, 4, 6, 2][i % 10], 30);
        assert!(fx.run_check(ids::FACE_MISMATCH).is_empty());
        // One institution failing 30 % is found against the same peers.
        let fx = face_province(|i| if i == 0 { 30 } else { [0, 2, 5, 1, 7, 3, 0, 4, 6, 2][i % 10] }, 30);
        let f = fx.run_check(ids::FACE_MISMATCH);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].institution_id, "I1");
        assert!(f[0].severity > 0.5, "{}", f[0].severity);
    }
}
