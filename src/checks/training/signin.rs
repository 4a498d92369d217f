//! Proxy sign-in: `training.proxy_signin` (bursts of different persons
//! checked in within seconds on one device; identical check-in and
//! check-out times to the second across trainees of a class) and
//! `training.time_heaping` (class-days typed in by hand, far more often
//! than peer institutions type theirs).
//!
//! Manual entries are honest: when a terminal is down, staff type a whole
//! class in (identical whole-minute times, no face score, a blank or
//! placeholder device; [`super::manual_entries`] tells them from the data).
//! So `proxy_signin` counts only what a manual entry cannot be — bursts on a
//! capture device, identical times captured to the second or with failed
//! faces — and the manual-entry rate itself is tested against a
//! beta-binomial fitted to peer institutions (`time_heaping`).
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
use crate::dataset::rows::{day_of, fmt_day, fmt_ts, Day, InstKind, Ts};

use super::{ids, pct, push_row, q_effect, share_severity, Index, Params};
use crate::checks::severity::Evidence;

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
    // Typed records are not captured by a device, whatever its column says.
    let mut r: Vec<u32> = rows.iter().copied().filter(|&r| ix.a(r).device.is_some() && !ix.is_manual(r)).collect();
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

/// Groups of trainees of one class with identical check-in and check-out
/// that cannot be a manual entry: captured to the second (a typed time is a
/// whole minute), or with a face check that failed. A whole class typed in
/// by hand when the terminal was down has identical whole-minute times and
/// no face scores; it is compared with peers' manual-entry rates by
/// `training.time_heaping`, not counted here.
fn identical_times(ix: &Index, rows: &[u32], p: &Params) -> Vec<Episode> {
    let mut r: Vec<u32> = rows.iter().copied().filter(|&r| !ix.is_manual(r)).collect();
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
        let captured = !super::whole_minutes(a0)
            || r[g..h].iter().any(|&x| ix.a(x).face_score.is_some_and(|f| f < p.face_verified));
        if captured && h - g >= p.identical_min_persons {
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

/// One institution's class-days (a class's records whose check-in falls on
/// one day) and which of them were typed in by hand.
pub(super) struct HeapStat {
    inst: u32,
    kind: InstKind,
    days: u64,
    /// (class, day, records, typed records) of each typed class-day.
    typed: Vec<(u32, Day, u32, u32)>,
    secs: [u64; 60],
}

/// Class-days of `inst`; a class-day is typed when at least
/// `heaping_day_share` of its records have both times on a whole minute.
pub(super) fn heap_stat(ix: &Index, inst: u32, rows: &[u32], p: &Params) -> Option<HeapStat> {
    let mut secs = [0u64; 60];
    let mut cd: Vec<(u32, Day, bool)> = Vec::with_capacity(rows.len());
    for &r in rows {
        let a = ix.a(r);
        for ts in [a.check_in, a.check_out] {
            secs[ts.rem_euclid(60) as usize] += 1;
        }
        cd.push((a.class, day_of(a.check_in), super::whole_minutes(a)));
    }
    cd.sort_unstable();
    let (mut days, mut typed) = (0u64, Vec::new());
    let mut g = 0;
    while g < cd.len() {
        let mut h = g;
        while h < cd.len() && (cd[h].0, cd[h].1) == (cd[g].0, cd[g].1) {
            h += 1;
        }
        days += 1;
        let k = cd[g..h].iter().filter(|x| x.2).count();
        if k as f64 >= p.heaping_day_share * (h - g) as f64 && k > 0 {
            typed.push((cd[g].0, cd[g].1, (h - g) as u32, k as u32));
        }
        g = h;
    }
    if days < p.heaping_min_days {
        return None;
    }
    Some(HeapStat { inst, kind: ix.t.institutions[inst as usize].kind, days, typed, secs })
}

/// The share of an institution's class-days typed in by hand against the
/// rate of its peers (institutions of the same kind; all institutions when
/// fewer than `heaping_min_peers` of that kind were tested): a
/// beta-binomial fitted to the peers without the institution, its exact
/// upper tail, BH across institutions; a finding where q < the severity
/// form's `alpha` and
/// the excess over the peer rate reaches `heaping_min_excess`.
pub(super) fn time_heaping(ctx: &Ctx, ix: &Index, stats: Vec<HeapStat>) -> Vec<Finding> {
    let p = &ctx.params.training;
    let t = ix.t;
    let units: Vec<(u64, u64)> = stats.iter().map(|s| (s.typed.len() as u64, s.days)).collect();
    let mut pool = [0u64; 60];
    for s in &stats {
        for (k, c) in s.secs.iter().enumerate() {
            pool[k] += c;
        }
    }
    let pool_n: u64 = pool.iter().sum::<u64>().max(1);
    let kinds: Vec<(InstKind, u64, u64)> = stats.iter().zip(&units).map(|(s, u)| (s.kind, u.0, u.1)).collect();
    let tests = super::peer_tests(&kinds, p.heaping_min_peers, 0.0, (p.peer_trim_p, p.heaping_trim_max_share));
    let m = tests.len();
    let (alpha, full_q, full_effect) = q_effect(ctx, ids::TIME_HEAPING);
    let mut out = Vec::new();
    for (i, test) in tests.into_iter().enumerate() {
        let (bb, pv, q, by_kind) = (test.null, test.p_value, test.q, test.by_kind);
        let s = &stats[i];
        let (k, n) = units[i];
        let share = k as f64 / n as f64;
        let excess = share - bb.p;
        if bb.units == 0 || q >= alpha || excess < p.heaping_min_excess {
            continue;
        }
        let sev = ctx.severity(ids::TIME_HEAPING, &Evidence::default().with_q(q).with_effect(excess));
        if sev <= 0.0 {
            continue;
        }
        let mut td = EvidenceTable::new(
            "手工录入的班级·日",
            "Class-days typed in by hand",
            "attendance",
            &[
                ("class_id", ColKind::Text),
                ("day", ColKind::Time),
                ("records", ColKind::Number),
                ("whole_minute_records", ColKind::Number),
            ],
        );
        let mut f = Finding::new(t.inst_id(s.inst), ids::TIME_HEAPING, sev);
        let mut flagged: Vec<u32> = Vec::new();
        for &(c, d, nr, nt) in &s.typed {
            let cid = t.s(ix.classes[c as usize].id);
            push_row(&mut td, || vec![cid.into(), fmt_day(d), nr.to_string(), nt.to_string()], p.evidence_rows);
            flagged.push(c);
        }
        flagged.dedup();
        for c in flagged {
            f = f.flag(SubjectKind::Class, t.s(ix.classes[c as usize].id), sev);
        }
        let sn: u64 = s.secs.iter().sum::<u64>().max(1);
        let chart = Chart::Histogram {
            title: "时间戳秒数 seconds of timestamps".into(),
            bin_edges: (0..=60).map(f64::from).collect(),
            this: s.secs.iter().map(|&c| c as f64 / sn as f64).collect(),
            peers: pool.iter().map(|&c| c as f64 / pool_n as f64).collect(),
            marker: None,
        };
        let peers =
            if by_kind { "同类型机构 institutions of the same kind" } else { "全部机构 all institutions" };
        out.push(
            f.stat(share, Some(q))
                .summary(
                    format!(
                        "{n} 个班级·日中 {k} 个（{}）为手工录入（签到签退均为整分），同类机构为 {}，超出 {}；β-二项检验 p={pv:.2e}，BH 校正 q={q:.2e}",
                        pct(share), pct(bb.p), pct(excess)
                    ),
                    format!(
                        "{k} of {n} class-days ({}) were typed in by hand (check-in and check-out on whole minutes) where peers type {}, an excess of {}; beta-binomial p={pv:.2e}, BH q={q:.2e}",
                        pct(share), pct(bb.p), pct(excess)
                    ),
                )
                .method(
                    format!(
                        "终端故障或断网时工作人员会整班手工补录签到（整分时间、无人脸分、无设备），这本身不是造假；证据是补录比例远高于同类机构。班级·日中不少于 {} 的记录签到签退均为整分即计为手工录入。对照组：{peers}（{} 个，不含本机构），以矩估计拟合 β-二项分布（均值 {}，组内相关 ρ={:.3}），计算本机构补录班级·日数的精确上尾概率，在 {m} 个机构间做 Benjamini–Hochberg 校正；q < {} 且超出比例 ≥ {} 时报告。严重度 = min(1, 超出比例 ÷ {}) × min(1, log10({}/q) ÷ log10({}/{}))。",
                        pct(p.heaping_day_share), bb.units, pct(bb.p), bb.rho, alpha, pct(p.heaping_min_excess),
                        pct(full_effect), alpha, alpha, full_q
                    ),
                    format!(
                        "When a terminal or the network is down, staff type a whole class in by hand (whole-minute times, no face score, no device); that alone is honest. The evidence is typing far more often than peers do. A class-day counts as typed when at least {} of its records have both times on a whole minute. Peers: {peers} ({} units, this one left out), fitted by a beta-binomial (method of moments: mean {}, intra-class correlation ρ={:.3}); the exact upper tail of this institution's typed class-days, Benjamini–Hochberg adjusted across {m} institutions; reported when q < {} and the excess is at least {}. Severity = min(1, excess ÷ {}) × min(1, log10({}/q) ÷ log10({}/{})).",
                        pct(p.heaping_day_share), bb.units, pct(bb.p), bb.rho, alpha, pct(p.heaping_min_excess),
                        pct(full_effect), alpha, alpha, full_q
                    ),
                )
                .evidence(td)
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
        // Captured to the second: a terminal cannot give 12 trainees the
        // same 08:00:17 check-in and 12:00:43 check-out.
        let mut fx = Fx::new();
        let c = class(&mut fx, 0, "C1");
        for k in 0..30 {
            let (i, o) = if k < 12 {
                (ts("2024-07-01 08:00:17"), ts("2024-07-01 12:00:43"))
            } else {
                (ts("2024-07-01 07:50:00") + 29 * k as i64, ts("2024-07-01 12:00:00") + 17 * k as i64)
            };
            fx.att(c, &pid(k), Mode::Classroom, i, o);
        }
        let f = fx.run_check(ids::PROXY_SIGNIN);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence[1].rows[0][3], "12");
    }

    /// A day when the terminal was down: the whole class typed in by hand,
    /// identical whole-minute times, no face score, the device column blank
    /// or holding the export's placeholder.
    fn typed_day(fx: &mut Fx, c: u32, day: &str, n: usize, device: Option<&str>) {
        let dev = device.map(|d| fx.sym(d));
        for k in 0..n {
            let a = fx.att(c, &pid(k), Mode::Classroom, ts(&format!("{day} 08:00:00")), ts(&format!("{day} 12:00:00")));
            a.device = dev;
        }
    }

    /// Captured days: a door terminal, seconds, verified faces.
    fn captured_day(fx: &mut Fx, c: u32, day: &str, n: usize, salt: usize) {
        let dev = fx.sym("DOOR");
        for k in 0..n {
            let t_in = ts(&format!("{day} 07:50:00")) + 5 * k as i64 + jitter(k + salt) % 3;
            let a = fx.att(c, &pid(k), Mode::Classroom, t_in, t_in + 4 * 3600 + jitter(k + salt + 1) % 600);
            a.device = Some(dev);
            a.face_score = Some(0.92);
        }
    }

    #[test]
    fn a_class_typed_in_by_hand_is_no_proxy_signin() {
        for device in [None, Some("手工录入"), Some("-")] {
            let mut fx = Fx::new();
            let c = class(&mut fx, 0, "C1");
            for d in 1..=3 {
                captured_day(&mut fx, c, &format!("2024-07-0{d}"), 30, d);
            }
            // Two typed days, 30 trainees each (the placeholder holds 60 typed records).
            typed_day(&mut fx, c, "2024-07-04", 30, device);
            typed_day(&mut fx, c, "2024-07-05", 30, device);
            let f = fx.run_check(ids::PROXY_SIGNIN);
            assert!(f.is_empty(), "{device:?}: {f:?}");
        }
    }

    #[test]
    fn auto_closed_check_outs_are_no_proxy_signin() {
        // 25 trainees forgot to check out: the terminal closed them all at
        // the scheduled 12:00:00; their check-ins were captured one by one.
        let mut fx = Fx::new();
        let c = class(&mut fx, 0, "C1");
        let dev = fx.sym("DOOR");
        for k in 0..40 {
            let t_in = ts("2024-07-01 07:50:00") + 4 * k as i64 + jitter(k) % 3;
            let t_out = if k < 25 { ts("2024-07-01 12:00:00") } else { t_in + 4 * 3600 + jitter(k + 5) % 300 };
            let a = fx.att(c, &pid(k), Mode::Classroom, t_in, t_out);
            a.device = Some(dev);
            a.face_score = Some(0.9);
        }
        assert!(fx.run_check(ids::PROXY_SIGNIN).is_empty());
        assert!(fx.run_check(ids::TIME_HEAPING).is_empty());
    }

    #[test]
    fn typed_times_on_a_capture_device_that_records_seconds_still_count() {
        // The same identical whole-minute times, but with failed face
        // scores: a face terminal saw them, so they are not a manual entry.
        let mut fx = Fx::new();
        let c = class(&mut fx, 0, "C1");
        captured_day(&mut fx, c, "2024-07-01", 30, 0);
        let dev = fx.sym("DOOR");
        for k in 0..12 {
            let a = fx.att(c, &pid(100 + k), Mode::Classroom, ts("2024-07-02 08:00:00"), ts("2024-07-02 12:00:00"));
            a.device = Some(dev);
            a.face_score = Some(0.41);
        }
        let f = fx.run_check(ids::PROXY_SIGNIN);
        assert_eq!(f.len(), 1, "{f:?}");
    }

    /// Pseudo-random but deterministic seconds (a linear congruential walk).
    fn jitter(k: usize) -> i64 {
        ((k as u64).wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407) >> 33) as i64 % 900
    }

    /// `n` institutions, each with 20 class-days of which `typed(i)` were
    /// typed in by hand.
    fn province(typed: impl Fn(usize) -> usize, n: usize) -> Fx {
        let mut fx = Fx::new();
        for i in 2..n {
            fx.inst(&format!("I{}", i + 1));
        }
        for i in 0..n {
            let c = class(&mut fx, i as u32, &format!("C{i}"));
            let k = typed(i);
            for d in 0..20 {
                let day = format!("2024-{:02}-{:02}", 7 + d / 28, 1 + d % 28);
                if d < k {
                    typed_day(&mut fx, c, &day, 8, None);
                } else {
                    captured_day(&mut fx, c, &day, 8, 31 * i + d);
                }
            }
        }
        fx
    }

    #[test]
    fn peer_manual_entry_rates_are_no_finding() {
        // 30 institutions typing 0-4 of 20 class-days: the honest spread.
        let fx = province(|i| i % 5, 30);
        assert!(fx.run_check(ids::TIME_HEAPING).is_empty());
        let f = fx.run_check(ids::PROXY_SIGNIN);
        assert!(
            f.is_empty(),
            "{:?}",
            f.iter().map(|f| (&f.institution_id, &f.summary_en, &f.evidence[0].rows)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn typing_far_more_than_peers_is_found() {
        // I1 types 16 of 20 class-days where peers type 0-4.
        let fx = province(|i| if i == 0 { 16 } else { i % 5 }, 30);
        let f = fx.run_check(ids::TIME_HEAPING);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].institution_id, "I1");
        assert!(f[0].p_value.unwrap() < 1e-4, "{:?}", f[0].p_value);
        assert!(f[0].severity > 0.9, "{}", f[0].severity);
        assert_eq!(f[0].evidence[0].total_rows, 16);
    }
}
