//! Proxy sign-in: `training.proxy_signin` (bursts of different persons
//! checked in within seconds on one device; identical check-in and
//! check-out times to the second across trainees of a class) and
//! `training.time_heaping` (timestamps heaped on round values, as
//! hand-entered times are).
//!
//! A face terminal at the classroom door legitimately records trainees a
//! few seconds apart, each with a good face score, spread over minutes. So
//! a *burst* is a chain of check-ins each at most `burst_gap_secs` after
//! the previous one (quicker than a terminal verifies a face) holding
//! `burst_min_persons` different persons, at least one of them without a
//! verified face (or, on a device that records face scores, a shorter
//! chain none of whom was verified); several persons in the very same
//! second on one device count whatever the scores say.

use crate::checks::{Chart, ColKind, Ctx, EvidenceTable, Finding, SubjectKind};
use crate::dataset::intern::Sym;
use crate::dataset::rows::{fmt_ts, Ts};
use crate::stats::digits::{chisq_uniform, heaped_excess, ChiSquare};
use crate::stats::fdr::bh_adjust;

use super::{ids, pct, push_row, share_severity, Index, Params};

fn distinct(mut v: Vec<u32>) -> usize {
    v.sort_unstable();
    v.dedup();
    v.len()
}

struct Episode {
    key: Sym,
    from: Ts,
    to: Ts,
    rows: Vec<u32>,
    persons: usize,
}

/// Bursts on each device: chains of consecutive check-ins at most
/// `burst_gap_secs` apart holding `burst_min_persons` different persons, at
/// least one not face-verified; or, on a device that records face scores,
/// `unverified_min_persons` different persons none of them verified; or
/// `same_second_min_persons` different persons in one second whatever
/// their scores.
fn device_bursts(ix: &Index, rows: &[u32], p: &Params) -> Vec<Episode> {
    let mut r: Vec<u32> = rows.iter().copied().filter(|&r| ix.a(r).device.is_some()).collect();
    r.sort_unstable_by_key(|&i| (ix.a(i).device.map_or(0, |d| d.0), ix.a(i).check_in, i));
    let persons = |w: &[u32]| distinct(w.iter().map(|&x| ix.a(x).person.0).collect());
    // Devices that record face scores: there a missing or failed score is
    // itself evidence; on devices with no face data only the long-chain and
    // same-second rules apply.
    let mut face_devices: Vec<u32> =
        r.iter().filter(|&&x| ix.a(x).face_score.is_some()).map(|&x| ix.a(x).device.map_or(0, |d| d.0)).collect();
    face_devices.sort_unstable();
    face_devices.dedup();
    let mut eps: Vec<Episode> = Vec::new();
    let mut push = |w: &[u32]| {
        let (a, b) = (ix.a(w[0]), ix.a(w[w.len() - 1]));
        eps.push(Episode {
            key: a.device.unwrap_or_default(),
            from: a.check_in,
            to: b.check_in,
            rows: w.to_vec(),
            persons: persons(w),
        });
    };
    let mut g = 0;
    while g < r.len() {
        let a0 = ix.a(r[g]);
        let mut h = g + 1;
        while h < r.len() {
            let a = ix.a(r[h]);
            if a.device != a0.device || a.check_in - ix.a(r[h - 1]).check_in > p.burst_gap_secs {
                break;
            }
            h += 1;
        }
        let chain = &r[g..h];
        let ok = |x: &u32| ix.a(*x).face_score.is_some_and(|f| f >= p.face_verified);
        let all_ok = chain.iter().all(ok);
        let none_ok = !chain.iter().any(ok);
        let long_chain = chain.len() >= p.burst_min_persons && !all_ok && persons(chain) >= p.burst_min_persons;
        let unverified = none_ok
            && face_devices.binary_search(&a0.device.map_or(0, |d| d.0)).is_ok()
            && chain.len() >= p.unverified_min_persons
            && persons(chain) >= p.unverified_min_persons;
        if long_chain || unverified {
            push(chain);
        } else if chain.len() >= p.same_second_min_persons {
            let mut s = 0;
            while s < chain.len() {
                let t0 = ix.a(chain[s]).check_in;
                let mut e = s + 1;
                while e < chain.len() && ix.a(chain[e]).check_in == t0 {
                    e += 1;
                }
                if e - s >= p.same_second_min_persons && persons(&chain[s..e]) >= p.same_second_min_persons {
                    push(&chain[s..e]);
                }
                s = e;
            }
        }
        g = h;
    }
    // Report order must not depend on symbol numbering.
    eps.sort_by(|a, b| (a.from, ix.s(a.key)).cmp(&(b.from, ix.s(b.key))));
    eps
}

/// Groups of trainees of one class with identical check-in and check-out.
fn identical_times(ix: &Index, rows: &[u32], p: &Params) -> Vec<Episode> {
    let mut r = rows.to_vec();
    r.sort_unstable_by_key(|&i| {
        let a = ix.a(i);
        (a.class, a.check_in, a.check_out, i)
    });
    let mut eps = Vec::new();
    let mut g = 0;
    while g < r.len() {
        let a0 = ix.a(r[g]);
        let mut h = g + 1;
        while h < r.len() {
            let a = ix.a(r[h]);
            if (a.class, a.check_in, a.check_out) != (a0.class, a0.check_in, a0.check_out) {
                break;
            }
            h += 1;
        }
        if h - g >= p.identical_min_persons {
            let persons = distinct(r[g..h].iter().map(|&x| ix.a(x).person.0).collect());
            if persons >= p.identical_min_persons {
                eps.push(Episode {
                    key: ix.classes[a0.class as usize].id,
                    from: a0.check_in,
                    to: a0.check_out,
                    rows: r[g..h].to_vec(),
                    persons,
                });
            }
        }
        g = h;
    }
    eps
}

pub(super) fn proxy_signin(ctx: &Ctx, ix: &Index, inst: u32, rows: &[u32]) -> Option<Finding> {
    let p = &ctx.params.training;
    let t = ix.t;
    if rows.is_empty() {
        return None;
    }
    let bursts = device_bursts(ix, rows, p);
    let same = identical_times(ix, rows, p);
    let mut flagged: Vec<u32> = bursts.iter().chain(&same).flat_map(|e| e.rows.iter().copied()).collect();
    flagged.sort_unstable();
    flagged.dedup();
    let share = flagged.len() as f64 / rows.len() as f64;
    if flagged.len() < p.proxy_min_rows || share < p.proxy_min_share {
        return None;
    }
    let sev = share_severity(share, p.proxy_full_share);
    let lim = p.evidence_rows;
    let mut tb = EvidenceTable::new(
        "同一设备数秒内多人签到",
        "Many persons checked in within seconds on one device",
        "attendance",
        &[
            ("device_id", ColKind::Text),
            ("first_check_in", ColKind::Time),
            ("last_check_in", ColKind::Time),
            ("persons", ColKind::Number),
            ("face_verified", ColKind::Number),
            ("record_ids", ColKind::Text),
        ],
    );
    let ids_of = |e: &Episode| e.rows.iter().take(20).map(|&r| t.s(ix.a(r).id)).collect::<Vec<_>>().join(" ");
    for e in &bursts {
        let ok = e.rows.iter().filter(|&&r| ix.a(r).face_score.is_some_and(|f| f >= p.face_verified)).count();
        push_row(
            &mut tb,
            || vec![t.s(e.key).into(), fmt_ts(e.from), fmt_ts(e.to), e.persons.to_string(), ok.to_string(), ids_of(e)],
            lim,
        );
    }
    let mut ti = EvidenceTable::new(
        "签到签退时间完全相同的学员组",
        "Trainees with identical check-in and check-out times",
        "attendance",
        &[
            ("class_id", ColKind::Text),
            ("check_in", ColKind::Time),
            ("check_out", ColKind::Time),
            ("persons", ColKind::Number),
            ("record_ids", ColKind::Text),
        ],
    );
    for e in &same {
        push_row(
            &mut ti,
            || vec![t.s(e.key).into(), fmt_ts(e.from), fmt_ts(e.to), e.persons.to_string(), ids_of(e)],
            lim,
        );
    }
    let mut tr = EvidenceTable::new(
        "涉及的签到记录",
        "Records involved",
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
        ],
    );
    let mut f = Finding::new(t.inst_id(inst), ids::PROXY_SIGNIN, sev);
    for &r in &flagged {
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
                ]
            },
            lim,
        );
        f = f.flag(SubjectKind::Attendance, t.s(a.id), sev).flag(SubjectKind::Person, t.s(a.person), sev);
    }
    let (nb, ni, nf, n) = (bursts.len(), same.len(), flagged.len(), rows.len());
    Some(
        f.stat(share, None)
            .summary(
                format!(
                    "{nf}/{n} 条学时记录（{}）疑似代签：{nb} 次同一设备数秒内多人签到，{ni} 组学员签到签退时间完全相同",
                    pct(share)
                ),
                format!(
                    "{nf} of {n} attendance records ({}) look proxy-signed: {nb} burst(s) of many persons on one device within seconds, {ni} group(s) of trainees with identical check-in and check-out times",
                    pct(share)
                ),
            )
            .method(
                format!(
                    "按设备排序签到时间：相邻签到间隔均不超过 {} 秒的连续签到中有不少于 {} 名不同学员且其中有人未通过人脸核验（比对分 < {}，或在记录人脸的设备上不少于 {} 人且无一人通过核验），或同一秒内不少于 {} 名不同学员，计为一次集中签到（门口人脸终端逐人核验、间隔数秒的不计）。同一班级不少于 {} 名学员签到和签退时间精确到秒完全相同计为一组。涉及记录不少于 {} 条且占比不低于 {} 时报告；严重度 = 占比 ÷ {}。",
                    p.burst_gap_secs, p.burst_min_persons, p.face_verified, p.unverified_min_persons, p.same_second_min_persons,
                    p.identical_min_persons, p.proxy_min_rows, pct(p.proxy_min_share), pct(p.proxy_full_share)
                ),
                format!(
                    "Check-ins sorted per device: a chain of check-ins each at most {} s after the previous holding at least {} different persons, at least one not face-verified (score < {}; on a device that records faces, {} with none verified), or at least {} different persons in the same second, make a burst (a door face terminal verifying each person a few seconds apart does not). At least {} trainees of one class with check-in and check-out identical to the second make a group. Reported from {} records and a share of {}; severity = share ÷ {}.",
                    p.burst_gap_secs, p.burst_min_persons, p.face_verified, p.unverified_min_persons, p.same_second_min_persons,
                    p.identical_min_persons, p.proxy_min_rows, pct(p.proxy_min_share), pct(p.proxy_full_share)
                ),
            )
            .evidence(tb)
            .evidence(ti)
            .evidence(tr),
    )
}

/// The seconds / minute-digit distribution of one institution's timestamps.
pub(super) struct HeapStat {
    inst: u32,
    secs: [u64; 60],
    min_digits: [u64; 10],
    sec_test: ChiSquare,
    min_test: Option<ChiSquare>,
    excess: f64,
    /// Rows with both timestamps on a whole minute.
    round_rows: Vec<u32>,
}

/// Seconds of check-in and check-out of every record of `inst`.
pub(super) fn heap_stat(ix: &Index, inst: u32, rows: &[u32], p: &Params) -> Option<HeapStat> {
    let mut secs = [0u64; 60];
    let mut min_digits = [0u64; 10];
    let mut round_rows = Vec::new();
    for &r in rows {
        let a = ix.a(r);
        for ts in [a.check_in, a.check_out] {
            secs[ts.rem_euclid(60) as usize] += 1;
            min_digits[(ts.div_euclid(60).rem_euclid(10)) as usize] += 1;
        }
        if a.check_in.rem_euclid(60) == 0 && a.check_out.rem_euclid(60) == 0 {
            round_rows.push(r);
        }
    }
    let sec_test = chisq_uniform(&secs)?;
    if sec_test.n < p.heaping_min_n {
        return None;
    }
    let excess = heaped_excess(&secs, &[0, 30]);
    Some(HeapStat { inst, secs, min_digits, sec_test, min_test: chisq_uniform(&min_digits), excess, round_rows })
}

/// BH across institutions over the seconds test; a finding where q is
/// below `heaping_q` and the excess share on :00/:30 reaches
/// `heaping_min_excess`.
pub(super) fn time_heaping(ctx: &Ctx, ix: &Index, stats: Vec<HeapStat>) -> Vec<Finding> {
    let p = &ctx.params.training;
    let t = ix.t;
    let q = bh_adjust(&stats.iter().map(|s| s.sec_test.p_value).collect::<Vec<_>>());
    let mut pool = [0u64; 60];
    for s in &stats {
        for (k, c) in s.secs.iter().enumerate() {
            pool[k] += c;
        }
    }
    let pool_n: u64 = pool.iter().sum::<u64>().max(1);
    let m = stats.len();
    let mut out = Vec::new();
    for (s, q) in stats.iter().zip(q) {
        if q >= p.heaping_q || s.excess < p.heaping_min_excess {
            continue;
        }
        let sev = share_severity(s.excess, p.heaping_full_excess);
        let n = s.sec_test.n;
        let on = s.secs[0] + s.secs[30];
        let mut td = EvidenceTable::new(
            "时间戳秒数分布",
            "Seconds of the timestamps",
            "derived",
            &[("second", ColKind::Number), ("count", ColKind::Number), ("expected_uniform", ColKind::Number)],
        );
        for (k, &c) in s.secs.iter().enumerate() {
            push_row(&mut td, || vec![k.to_string(), c.to_string(), format!("{:.1}", n as f64 / 60.0)], 60);
        }
        let mut tr = EvidenceTable::new(
            "签到签退均为整分的记录",
            "Records with both times on a whole minute",
            "attendance",
            &[
                ("record_id", ColKind::Text),
                ("person_id", ColKind::PersonId),
                ("class_id", ColKind::Text),
                ("check_in", ColKind::Time),
                ("check_out", ColKind::Time),
            ],
        );
        let mut f = Finding::new(t.inst_id(s.inst), ids::TIME_HEAPING, sev);
        for &r in &s.round_rows {
            let a = ix.a(r);
            push_row(
                &mut tr,
                || {
                    vec![
                        t.s(a.id).into(),
                        t.s(a.person).into(),
                        t.s(ix.class_of(r).id).into(),
                        fmt_ts(a.check_in),
                        fmt_ts(a.check_out),
                    ]
                },
                p.evidence_rows,
            );
            f = f.flag(SubjectKind::Attendance, t.s(a.id), sev * 0.5);
        }
        let (min_x2, min_p) = s.min_test.map_or((f64::NAN, f64::NAN), |m| (m.statistic, m.p_value));
        let chart = Chart::Histogram {
            title: "时间戳秒数 seconds of timestamps".into(),
            bin_edges: (0..=60).map(f64::from).collect(),
            this: s.secs.iter().map(|&c| c as f64 / n.max(1) as f64).collect(),
            peers: pool.iter().map(|&c| c as f64 / pool_n as f64).collect(),
            marker: None,
        };
        let _ = s.min_digits;
        out.push(
            f.stat(s.sec_test.statistic, Some(q))
                .summary(
                    format!(
                        "{n} 个签到/签退时间中 {on} 个（{}）秒数为 00 或 30（均匀分布应为 3.3%），超额比例 {}；χ²={:.1}（59 自由度），BH 校正 q={q:.2e}；{} 条记录签到签退均为整分",
                        pct(on as f64 / n as f64), pct(s.excess), s.sec_test.statistic, s.round_rows.len()
                    ),
                    format!(
                        "{on} of {n} check-in/out times ({}) fall on second :00 or :30 (3.3% expected if uniform), an excess share of {}; χ²={:.1} on 59 df, BH q={q:.2e}; {} records have both times on a whole minute",
                        pct(on as f64 / n as f64), pct(s.excess), s.sec_test.statistic, s.round_rows.len()
                    ),
                )
                .method(
                    format!(
                        "设备自动记录的时间秒数应近似均匀分布，手工补录的时间多为整分。对本机构全部签到、签退时间的秒数（60 格）做 Pearson 卡方拟合优度检验（原假设：均匀分布），p 值在 {m} 个机构间做 Benjamini–Hochberg 校正，q < {} 且 :00/:30 超额比例 ≥ {} 时报告；分钟个位数（10 格）检验作为佐证：χ²={min_x2:.1}，p={min_p:.2e}。严重度 = 超额比例 ÷ {}。图中对照为全省汇总分布。",
                        p.heaping_q, pct(p.heaping_min_excess), pct(p.heaping_full_excess)
                    ),
                    format!(
                        "Machine-recorded times have seconds spread roughly uniformly; hand-entered ones sit on whole minutes. Pearson's chi-square goodness-of-fit test of the seconds (60 cells) of all this institution's check-in and check-out times against uniform; p-values Benjamini–Hochberg adjusted across {m} institutions; reported when q < {} and the excess share on :00/:30 is at least {}. The minute last digit (10 cells) is supporting: χ²={min_x2:.1}, p={min_p:.2e}. Severity = excess share ÷ {}. The chart's comparison is the province's pooled distribution.",
                        p.heaping_q, pct(p.heaping_min_excess), pct(p.heaping_full_excess)
                    ),
                )
                .evidence(td)
                .evidence(tr)
                .chart(chart),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{pid, ts, Fx};
    use super::super::ids;
    use crate::dataset::rows::{CourseKind, Mode};

    fn class(fx: &mut Fx, inst: u32, id: &str) -> u32 {
        fx.class(id, inst, "低压电工", CourseKind::Refresher, "2024-07-01", "2024-07-03", Some("101"), Some(100))
    }

    #[test]
    fn burst_on_one_device_is_found() {
        let mut fx = Fx::new();
        let c = class(&mut fx, 0, "C1");
        let dev = fx.sym("D1");
        // 40 trainees, 20 of them signed in within 2 seconds with no face check.
        for k in 0..40 {
            let t_in = if k < 20 {
                ts("2024-07-01 07:58:10") + (k % 3) as i64
            } else {
                ts("2024-07-01 07:40:00") + 37 * k as i64
            };
            let a = fx.att(c, &pid(k), Mode::Classroom, t_in, t_in + 4 * 3600 + 13 * k as i64);
            a.device = Some(dev);
        }
        let f = fx.run_check(ids::PROXY_SIGNIN);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].evidence[0].total_rows, 1);
        assert_eq!(f[0].evidence[0].rows[0][3], "20");
        assert_eq!(f[0].statistic, Some(0.5));
    }

    #[test]
    fn face_terminal_at_the_door_is_fine() {
        let mut fx = Fx::new();
        let c = class(&mut fx, 0, "C1");
        let dev = fx.sym("DOOR");
        // 60 trainees through a door terminal 2–6 s apart over ~4 minutes, each verified.
        let mut t_in = ts("2024-07-01 07:55:00");
        for k in 0..60 {
            t_in += 2 + (k % 5) as i64;
            let a = fx.att(c, &pid(k), Mode::Classroom, t_in, t_in + 4 * 3600 + 7 * k as i64);
            a.device = Some(dev);
            a.face_score = Some(0.9 + (k % 9) as f32 / 100.0);
        }
        assert!(fx.run_check(ids::PROXY_SIGNIN).is_empty());
    }

    #[test]
    fn fast_door_terminal_with_verified_faces_is_fine() {
        let mut fx = Fx::new();
        let c = class(&mut fx, 0, "C1");
        let dev = fx.sym("DOOR");
        // A quick terminal: 1–2 s apart, every face verified, no two in one second.
        let mut t_in = ts("2024-07-01 07:55:00");
        for k in 0..40 {
            t_in += 1 + (k % 2) as i64;
            let a = fx.att(c, &pid(k), Mode::Classroom, t_in, t_in + 4 * 3600 + 11 * k as i64);
            a.device = Some(dev);
            a.face_score = Some(0.91);
        }
        assert!(fx.run_check(ids::PROXY_SIGNIN).is_empty());
    }

    #[test]
    fn unverified_pairs_on_an_organiser_phone_are_found() {
        let mut fx = Fx::new();
        let c = class(&mut fx, 0, "C1");
        let (gate, phone) = (fx.sym("GATE"), fx.sym("PHONE"));
        for d in 0..10i64 {
            let t0 = ts("2024-07-01 07:50:00") + d * 86_400;
            // 16 trainees through a gate, verified; 2 signed in by one phone 1 s apart, unverified.
            for k in 0..16 {
                let t_in = t0 + 45 * k as i64;
                let a = fx.att(c, &pid(k), Mode::Classroom, t_in, t_in + 4 * 3600 + 7 * k as i64);
                a.device = Some(gate);
                a.face_score = Some(0.93);
            }
            for k in 16..18 {
                let t_in = t0 + 600 + k as i64 - 16;
                let a = fx.att(c, &pid(k), Mode::Classroom, t_in, t_in + 4 * 3600);
                a.device = Some(phone);
                a.face_score = if k == 16 { None } else { Some(0.52) };
            }
        }
        let f = fx.run_check(ids::PROXY_SIGNIN);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].evidence[0].total_rows, 10);
        assert!((f[0].statistic.unwrap() - 20.0 / 180.0).abs() < 1e-12);
    }

    #[test]
    fn identical_in_and_out_times_are_found() {
        let mut fx = Fx::new();
        let c = class(&mut fx, 0, "C1");
        for k in 0..30 {
            let (i, o) = if k < 12 {
                (ts("2024-07-01 08:00:00"), ts("2024-07-01 12:00:00"))
            } else {
                (ts("2024-07-01 07:50:00") + 29 * k as i64, ts("2024-07-01 12:00:00") + 17 * k as i64)
            };
            fx.att(c, &pid(k), Mode::Classroom, i, o);
        }
        let f = fx.run_check(ids::PROXY_SIGNIN);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence[1].rows[0][3], "12");
    }

    /// Pseudo-random but deterministic seconds (a linear congruential walk).
    fn jitter(k: usize) -> i64 {
        ((k as u64).wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407) >> 33) as i64 % 900
    }

    #[test]
    fn heaped_seconds_are_found_and_machine_times_are_not() {
        let mut fx = Fx::new();
        let a = class(&mut fx, 0, "C1");
        let b = class(&mut fx, 1, "C2");
        for k in 0..400 {
            let day = ts("2024-07-01 07:45:00") + (k / 100) as i64 * 86_400;
            // I1: hand-entered whole minutes; I2: device times.
            let i1 = day + jitter(k) / 60 * 60;
            fx.att(a, &pid(k), Mode::Classroom, i1, i1 + 4 * 3600);
            let i2 = day + jitter(k + 7);
            fx.att(b, &pid(k + 1000), Mode::Classroom, i2, i2 + 4 * 3600 + jitter(k + 3));
        }
        let f = fx.run_check(ids::TIME_HEAPING);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].institution_id, "I1");
        assert!(f[0].p_value.unwrap() < 1e-10);
        assert!(f[0].severity > 0.9);
    }
}
