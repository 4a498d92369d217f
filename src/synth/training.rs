//! Training: classes (initial and refresher), their schedules, and the
//! attendance hour log (classroom half-days, practical sessions, online
//! study), with honest variation (face terminals, night-shift classes,
//! online-heavy courses, absences, dropouts) and the planted training
//! patterns: hours_not_delivered, proxy_signin, online_farming,
//! backfilled_records and the ghost cohorts of trained_without_records.
//!
//! The honest hour-log variation of DOMAIN.md ("How honest institutions
//! look") is [`HourLog`], drawn per institution on its own random stream:
//! half-days typed in by hand while the terminal is down (identical
//! whole-minute times, no face score, the device blank or the export's
//! placeholder), computer labs and family PCs shared one person after
//! another, platform exports that cut online sessions into touching
//! segments, auto-closed check-outs at the scheduled end.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::Rng;

use super::people::{self, normal, unit_rng};
use super::plan::{InstPlan, Pattern, Scale, Size};
use super::{Cohort, Ctx, Sink, Table};
use crate::dataset::rows::{days_from_civil, fmt_day, fmt_ts, Day, Ts};

/// RNG stream ids of this module.
const STREAM_PLAN: u64 = 1;
const STREAM_WRITE: u64 = 2;
const STREAM_HOUR_LOG: u64 = 3;
const STREAM_HOUR_LOG_WRITE: u64 = 4;

/// Honest variation of one institution's hour log.
#[derive(Debug, Clone, Default)]
pub struct HourLog {
    /// Share of taught half-days typed in by hand (terminal or network down).
    pub manual_rate: f64,
    /// What the export writes in `device_id` for a typed record.
    pub placeholder: &'static str,
    /// Online study partly on the institution's computer lab, daytime, in turns.
    pub computer_lab: bool,
    /// Pairs of trainees share one home PC, one after the other.
    pub family_pc: bool,
    /// The platform exports online study in touching segments.
    pub segmented: bool,
    /// Share of check-outs the terminal closed at the scheduled end.
    pub auto_close: f64,
}

/// What honest exports write for a typed record's device.
const PLACEHOLDERS: &[&str] = &["", "手工录入", "-", "0", "MANUAL"];

impl HourLog {
    /// Drawn from its own stream so the rest of the plan is unchanged.
    pub fn draw(seed: u64, idx: usize) -> HourLog {
        let mut rng = unit_rng(seed, idx as u64, STREAM_HOUR_LOG);
        HourLog {
            manual_rate: if rng.gen_bool(0.35) { rng.gen_range(0.02..0.12) } else { 0.0 },
            placeholder: PLACEHOLDERS[rng.gen_range(0..PLACEHOLDERS.len())],
            computer_lab: rng.gen_bool(0.25),
            family_pc: rng.gen_bool(0.2),
            segmented: rng.gen_bool(0.25),
            auto_close: if rng.gen_bool(0.3) { rng.gen_range(0.03..0.15) } else { 0.0 },
        }
    }

    /// Tags for `truth.csv`.
    pub fn tags(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        for (on, tag) in [
            (self.manual_rate > 0.0, "manual_entries"),
            (self.computer_lab, "computer_lab"),
            (self.family_pc, "family_pc"),
            (self.segmented, "segmented_export"),
            (self.auto_close > 0.0, "auto_close"),
        ] {
            if on {
                v.push(tag);
            }
        }
        v
    }
}

/// One taught block of a class (a half-day, an evening or a practical session).
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    pub day: Day,
    pub start: u32,
    pub end: u32,
    pub practical: bool,
}

/// Weekday 0 = Monday.
pub fn weekday(d: Day) -> u32 {
    (d + 3).rem_euclid(7) as u32
}

fn first_day() -> Day {
    days_from_civil(2024, 3, 4)
}

fn last_start() -> Day {
    days_from_civil(2024, 10, 18)
}

/// Plans every class of a training institution, with its trainees.
pub fn plan(ctx: &Ctx, inst: &InstPlan, centre_quality: f64) -> Vec<Cohort> {
    let mut rng = unit_rng(ctx.seed, inst.idx as u64, STREAM_PLAN);
    let p = &inst.profile;
    let mut out = Vec::new();
    let (n_initial, n_refresh) = if p.refresher_only {
        (0, inst.volume.max(8))
    } else {
        (inst.volume, (inst.volume as f64 * rng.gen_range(0.1..0.35)).round() as usize)
    };
    let size_range = match (ctx.scale, p.size) {
        (_, Size::Tiny) => 5..=10,
        (Scale::Demo, _) => 8..=24,
        (Scale::Province, _) => 20..=50,
    };
    let compress_classes = inst.has(Pattern::HoursNotDelivered);
    let farm = inst.has(Pattern::OnlineFarming);
    let mut specs: Vec<(bool, usize)> = Vec::new();
    let mut left = n_initial;
    while left > 0 {
        let n = rng.gen_range(size_range.clone()).min(left);
        let n = if left - n < 4 { left } else { n };
        specs.push((false, n));
        left -= n;
    }
    let mut left = n_refresh;
    while left > 0 {
        let n = rng.gen_range(10..=40).min(left);
        let n = if left - n < 4 { left } else { n };
        specs.push((true, n));
        left -= n;
    }
    let mut starts: Vec<Day> = specs.iter().map(|_| rng.gen_range(first_day()..=last_start())).collect();
    starts.sort_unstable();
    // Interleave initial and refresher classes over the year, ids in start order.
    specs.shuffle(&mut rng);
    for (k, ((refresher, n), start)) in specs.into_iter().zip(starts).enumerate() {
        let op = inst.ops[rng.gen_range(0..inst.ops.len())];
        let mut start = start;
        while weekday(start) == 6 {
            start += 1;
        }
        let night = p.night_shift && !refresher && (k == 0 || rng.gen_bool(0.25));
        let online_share: f64 = if refresher {
            if p.online_heavy && rng.gen_bool(0.7) {
                1.0
            } else {
                0.0
            }
        } else if p.online_heavy {
            rng.gen_range(0.55..0.70)
        } else if rng.gen_bool(0.45) {
            rng.gen_range(0.2..0.5)
        } else {
            0.0
        };
        let compressed = compress_classes && rng.gen_bool(0.75);
        let farmed = farm && rng.gen_bool(0.8);
        // Farmed classes run theory online, at least partly.
        let online_share =
            if farmed && !refresher { online_share.max(rng.gen_range(0.5..0.7f64)) } else { online_share };
        let sched = schedule(ctx, op, refresher, night, start, compressed, online_share, &mut rng);
        // Classes differ a little around the institution's quality.
        let class_mean = p.quality + centre_quality + 0.25 * normal(&mut rng);
        let persons: Vec<people::Person> = (0..n).map(|_| people::person(&mut rng, class_mean)).collect();
        let dropped: Vec<bool> = (0..n).map(|_| rng.gen_bool(0.03)).collect();
        let class_id = format!("{}-C{:03}", inst.id, k + 1);
        out.push(Cohort {
            inst: inst.idx,
            class_id: Some(class_id),
            op,
            refresher,
            night,
            start: sched.start,
            end: sched.end,
            slots: sched.slots,
            online_minutes: sched.online_minutes,
            compressed,
            farmed,
            persons,
            dropped,
            train_inst: Some(inst.id.clone()),
            first_exam: Vec::new(),
            // Set below, once every class of the institution is known.
            room: String::new(),
            capacity: if n > 40 { 60 } else { 40 + 10 * rng.gen_range(0..2) },
        });
    }
    assign_rooms(&mut out);
    if inst.has(Pattern::TrainedWithoutRecords) && n_initial > 0 {
        // Candidates the institution put forward for exams without ever
        // training them ("包过" classes): no class, no attendance.
        let ghosts = ((n_initial as f64) * rng.gen_range(0.25..0.5)).ceil() as usize;
        let mut left = ghosts.max(4);
        while left > 0 {
            let n = rng.gen_range(4..=12).min(left);
            left -= n;
            let op = inst.ops[rng.gen_range(0..inst.ops.len())];
            let end = rng.gen_range(first_day() + 30..=last_start() + 20);
            let persons = (0..n).map(|_| people::person(&mut rng, p.quality + centre_quality - 0.2)).collect();
            out.push(Cohort::ghost(inst.idx, Some(inst.id.clone()), op, end, persons));
        }
    }
    out
}

/// Gives every class a classroom no other class uses during its dates
/// (greedy interval colouring in start order): an honest institution does
/// not seat two classes in one room at once.
fn assign_rooms(cohorts: &mut [Cohort]) {
    let mut order: Vec<usize> = (0..cohorts.len()).collect();
    order.sort_by_key(|&i| (cohorts[i].start, i));
    let mut free_from: Vec<Day> = Vec::new();
    for i in order {
        let c = &mut cohorts[i];
        let r = match free_from.iter().position(|&f| f <= c.start) {
            Some(r) => r,
            None => {
                free_from.push(Day::MIN);
                free_from.len() - 1
            }
        };
        free_from[r] = c.end + 1;
        c.room = format!("教室{}", r + 1);
    }
}

struct Schedule {
    start: Day,
    end: Day,
    slots: Vec<Slot>,
    online_minutes: u32,
}

#[allow(clippy::too_many_arguments)]
fn schedule(
    ctx: &Ctx,
    op: u16,
    refresher: bool,
    night: bool,
    start: Day,
    compressed: bool,
    online_share: f64,
    rng: &mut impl Rng,
) -> Schedule {
    let o = ctx.ops.get(op);
    let h = &ctx.ops.hours;
    let (theory, practical) = if refresher {
        (o.refresher_hours, 0.0)
    } else {
        match (o.theory_hours, o.practical_hours) {
            (Some(t), Some(p)) => (t, p),
            _ => {
                let t = (o.initial_hours * 0.6).round();
                (t, o.initial_hours - t)
            }
        }
    };
    let online_hours = theory * online_share;
    let offline_theory_min = (theory - online_hours) * h.offline_minutes_per_hour;
    let practical_min = practical * h.offline_minutes_per_hour;
    // Honest schedules carry a small surplus over the syllabus.
    let surplus = rng.gen_range(1.02..1.08);
    let cut = if compressed { rng.gen_range(0.5..0.72) } else { 1.0 };
    let mut slots = Vec::new();
    let mut day = start;
    let day_slots: Vec<(u32, u32)> = if night {
        vec![(18 * 3600 + 1800, 21 * 3600 + 1800)]
    } else if compressed {
        vec![(9 * 3600, 11 * 3600 + 40 * 60), (14 * 3600, 16 * 3600 + 40 * 60)]
    } else {
        vec![(8 * 3600 + 1800, 12 * 3600), (13 * 3600 + 1800, 17 * 3600 + 1800)]
    };
    let honest_day_slots: u32 = if night { 180 } else { 450 };
    let fill = |minutes: f64, practical: bool, slots: &mut Vec<Slot>, day: &mut Day| {
        if minutes <= 0.0 {
            return;
        }
        let days = ((minutes * surplus * cut) / honest_day_slots as f64).ceil().max(1.0) as u32;
        let mut done = 0;
        while done < days {
            if weekday(*day) != 6 {
                for &(s, e) in &day_slots {
                    slots.push(Slot { day: *day, start: s, end: e, practical });
                }
                done += 1;
            }
            *day += 1;
        }
    };
    if online_share < 1.0 {
        fill(offline_theory_min, false, &mut slots, &mut day);
    }
    fill(practical_min, true, &mut slots, &mut day);
    let online_minutes = (online_hours * h.online_minutes_per_hour * surplus).ceil() as u32;
    let end = if slots.is_empty() { start + rng.gen_range(5..12) } else { slots[slots.len() - 1].day };
    // Online study spreads over the course; an online-only course lasts a week or two.
    Schedule { start, end: end.max(start), slots, online_minutes }
}

/// Writes a class row and its attendance log.
pub fn write(ctx: &Ctx, inst: &InstPlan, cohorts: &[Cohort], sink: &mut Sink) -> Result<(), super::SynthError> {
    let mut rng = unit_rng(ctx.seed, inst.idx as u64, STREAM_WRITE);
    let p = &inst.profile;
    let n_instructors = match p.size {
        Size::Tiny | Size::Small => 2,
        Size::Medium => 4,
        Size::Large => 7,
    };
    let proxy = inst.has(Pattern::ProxySignin);
    let backfill = inst.has(Pattern::BackfilledRecords);
    // Honest hour-log variation draws from its own stream.
    let hl = &p.hour_log;
    let mut hrng = unit_rng(ctx.seed, inst.idx as u64, STREAM_HOUR_LOG_WRITE);
    // The computer lab's PCs, booked one sitting after another: next free
    // moment per (PC, day).
    let lab_pcs = match p.size {
        Size::Tiny | Size::Small => 4,
        Size::Medium => 8,
        Size::Large => 12,
    };
    let mut lab_next: HashMap<(usize, Day), Ts> = HashMap::new();
    // When each instructor is busy (with travel and sign-in margins): an
    // honest institution never books one instructor into two rooms at once.
    let mut busy: HashMap<String, Vec<(Ts, Ts)>> = HashMap::new();
    for c in cohorts.iter().filter(|c| c.inst == inst.idx) {
        let Some(class_id) = &c.class_id else { continue };
        let op = ctx.ops.get(c.op);
        sink.row(
            Table::Classes,
            &[
                class_id.as_str(),
                &inst.id,
                &op.name,
                if c.refresher { "refresher" } else { "initial" },
                &fmt_day(c.start),
                &fmt_day(c.end),
                &c.room,
                &c.capacity.to_string(),
            ],
        )?;
        if c.compressed {
            sink.subject(&inst.id, Pattern::HoursNotDelivered, "class", class_id);
        }
        let n = c.persons.len();
        // Who the proxy signs in, and who had rows added after the exam.
        let proxy_class = proxy && rng.gen_bool(0.7);
        let proxy_share = rng.gen_range(0.3..0.6);
        let proxied: Vec<bool> = (0..n).map(|_| proxy_class && rng.gen_bool(proxy_share)).collect();
        let backfill_class = backfill && !c.refresher && rng.gen_bool(0.55);
        let backfilled: Vec<bool> = (0..n).map(|_| backfill_class && rng.gen_bool(0.5)).collect();
        let farm_share = rng.gen_range(0.45..0.85);
        let farmed: Vec<bool> = (0..n).map(|_| c.farmed && rng.gen_bool(farm_share)).collect();
        for (i, person) in c.persons.iter().enumerate() {
            if proxied[i] {
                sink.subject(&inst.id, Pattern::ProxySignin, "person", &person.id);
            }
            if farmed[i] && c.online_minutes > 0 {
                sink.subject(&inst.id, Pattern::OnlineFarming, "person", &person.id);
            }
        }
        let drop_at: Vec<usize> = c
            .dropped
            .iter()
            .map(|&d| if d { (c.slots.len() as f64 * rng.gen_range(0.2..0.7)) as usize } else { usize::MAX })
            .collect();
        let mut rows: Vec<AttRow> = Vec::new();
        // The face terminal belongs to the classroom's door.
        let gate = format!("{}-KQ{:02}", inst.id, c.room.trim_start_matches("教室"));
        let yard = format!("{}-SX01", inst.id);
        let organiser = format!("{}-M{:02}", inst.id, rng.gen_range(10..=99));
        for (si, s) in c.slots.iter().enumerate() {
            let day0 = s.day as Ts * 86_400;
            let window = (day0 + s.start as Ts - 1800, day0 + s.end as Ts + 1800);
            let (prefix, pool) = if s.practical { ("SX", n_instructors.max(2) / 2 + 1) } else { ("JS", n_instructors) };
            // A random instructor of the pool who is free; more are hired
            // (numbered beyond the pool) when all are booked.
            let first = rng.gen_range(1..=pool);
            let instructor = (0..)
                .map(|k| if k < pool { (first - 1 + k) % pool + 1 } else { k + 1 })
                .map(|k| format!("{}-{prefix}{k}", inst.id))
                .find(|who| busy.get(who).is_none_or(|b| b.iter().all(|&(a, z)| z <= window.0 || a >= window.1)))
                .expect("an unbounded pool has a free instructor");
            busy.entry(instructor.clone()).or_default().push(window);
            let proxy_slot = proxy_class && rng.gen_bool(0.65);
            let typed_slot = hl.manual_rate > 0.0 && hrng.gen_bool(hl.manual_rate);
            let slot_first = rows.len();
            let mut arrivals: Vec<(Ts, usize)> = Vec::new();
            // Face terminals at the door: trainees arrive in a few bunches and queue.
            let bunches: Vec<f64> = (0..rng.gen_range(2..=4)).map(|_| rng.gen_range(-22.0..-3.0)).collect();
            for i in 0..n {
                if si >= drop_at[i] || rng.gen_bool(0.025) || (proxy_slot && proxied[i]) {
                    continue;
                }
                let off_min = if p.face_terminal {
                    bunches[rng.gen_range(0..bunches.len())] + 1.5 * normal(&mut rng)
                } else {
                    (-8.0 + 6.0 * normal(&mut rng)).clamp(-28.0, 25.0)
                };
                arrivals.push((day0 + s.start as Ts + (off_min * 60.0) as Ts, i));
            }
            arrivals.sort_unstable();
            if p.face_terminal {
                for k in 1..arrivals.len() {
                    let min = arrivals[k - 1].0 + rng.gen_range(3..=9);
                    if arrivals[k].0 < min {
                        arrivals[k].0 = min;
                    }
                }
            }
            for &(t_in, i) in &arrivals {
                let out_off = (4.0 + 3.0 * normal(&mut rng)).clamp(-12.0, 15.0);
                let t_out = day0 + s.end as Ts + (out_off * 60.0) as Ts + rng.gen_range(0..60);
                let face = if rng.gen_bool(0.02) { rng.gen_range(0.55..0.75) } else { rng.gen_range(0.82..0.995) };
                rows.push(AttRow {
                    person: i,
                    mode: if s.practical { "practical" } else { "classroom" },
                    t_in,
                    t_out,
                    instructor: instructor.clone(),
                    device: if s.practical { yard.clone() } else { gate.clone() },
                    face: Some(face),
                });
            }
            if proxy_slot {
                // One phone signs the absent trainees in, seconds apart.
                let mut t = day0 + s.start as Ts + rng.gen_range(-900..300);
                let mut t_out = day0 + s.end as Ts + rng.gen_range(0..600);
                for i in (0..n).filter(|&i| proxied[i] && si < drop_at[i]) {
                    let face = if rng.gen_bool(0.5) { None } else { Some(rng.gen_range(0.5..0.78)) };
                    rows.push(AttRow {
                        person: i,
                        mode: if s.practical { "practical" } else { "classroom" },
                        t_in: t,
                        t_out,
                        instructor: instructor.clone(),
                        device: organiser.clone(),
                        face,
                    });
                    t += rng.gen_range(0..=2);
                    t_out += rng.gen_range(0..=2);
                }
            }
            for r in &mut rows[slot_first..] {
                if typed_slot {
                    // Terminal down: staff type the class in by hand later.
                    r.t_in = day0 + s.start as Ts;
                    r.t_out = day0 + s.end as Ts;
                    r.device = hl.placeholder.to_string();
                    r.face = None;
                } else if hl.auto_close > 0.0 && hrng.gen_bool(hl.auto_close) {
                    // Forgot to check out: the terminal closes at the scheduled end.
                    r.t_out = day0 + s.end as Ts;
                }
            }
        }
        // Online study.
        if c.online_minutes > 0 {
            let farm_devices: Vec<String> =
                (1..=rng.gen_range(1..=3)).map(|k| format!("{}-PC{:02}", inst.id, k)).collect();
            let span = (c.end - c.start).max(5);
            // Family pairs sharing one home PC (the even member studies
            // 18:00-20:00, the odd one from 20:00), lab users.
            let family: Vec<bool> =
                (0..n).map(|i| hl.family_pc && i + 1 < n && i.is_multiple_of(2) && hrng.gen_bool(0.3)).collect();
            let family_of = |i: usize| if i.is_multiple_of(2) { family[i] } else { family[i - 1] };
            let lab_user: Vec<bool> = (0..n).map(|_| hl.computer_lab && hrng.gen_bool(0.5)).collect();
            for (i, &farmed_i) in farmed.iter().enumerate() {
                if c.dropped[i] {
                    continue;
                }
                let mut done = 0u32;
                let phone = format!("M{:08X}", rng.gen::<u32>());
                let home = format!("{class_id}-H{:03}", i / 2);
                while done < c.online_minutes {
                    let day = c.start + rng.gen_range(0..=span);
                    let (t_in, dur, device, face) = if farmed_i {
                        let start_s = if rng.gen_bool(0.6) {
                            rng.gen_range(23 * 3600..28 * 3600) // 23:00–04:00
                        } else {
                            rng.gen_range(9 * 3600..16 * 3600)
                        };
                        let face = if rng.gen_bool(0.4) { None } else { Some(rng.gen_range(0.25..0.7)) };
                        let dev = farm_devices[rng.gen_range(0..farm_devices.len())].clone();
                        (day as Ts * 86_400 + start_s, rng.gen_range(120..=240) * 60, dev, face)
                    } else {
                        let start_s = if weekday(day) >= 5 && rng.gen_bool(0.5) {
                            rng.gen_range(9 * 3600..17 * 3600)
                        } else if rng.gen_bool(0.15) {
                            rng.gen_range(12 * 3600..12 * 3600 + 1800)
                        } else {
                            rng.gen_range(19 * 3600..22 * 3600)
                        };
                        let face =
                            if rng.gen_bool(0.03) { rng.gen_range(0.5..0.75) } else { rng.gen_range(0.82..0.995) };
                        (day as Ts * 86_400 + start_s, rng.gen_range(30..=110) * 60, phone.clone(), Some(face))
                    };
                    let dur = dur.min((c.online_minutes - done + 5) as i64 * 60).max(30 * 60);
                    let (t_in, dur, device) = if farmed_i {
                        (t_in, dur, device)
                    } else if family_of(i) {
                        let d = day as Ts * 86_400;
                        let start = if i.is_multiple_of(2) {
                            18 * 3600 + hrng.gen_range(0..1800)
                        } else {
                            20 * 3600 + hrng.gen_range(0..3600)
                        };
                        (d + start, dur.min(90 * 60), home.clone())
                    } else if lab_user[i] {
                        match book_lab(&mut lab_next, lab_pcs, day, dur, &mut hrng) {
                            Some((pc, start)) => (start, dur, format!("{}-LAB{:02}", inst.id, pc + 1)),
                            None => (t_in, dur, device),
                        }
                    } else {
                        (t_in, dur, device)
                    };
                    let jitter = rng.gen_range(0..60);
                    // A lab sitting ends when the PC is handed over (the next may start then).
                    let t_out = if device.contains("-LAB") { t_in + dur } else { t_in + dur + jitter };
                    if hl.segmented {
                        // The platform cuts the sitting into touching segments.
                        let mut a = t_in;
                        while a < t_out {
                            let b = (a + hrng.gen_range(20..=40) * 60).min(t_out);
                            let b = if t_out - b < 300 { t_out } else { b };
                            rows.push(AttRow {
                                person: i,
                                mode: "online",
                                t_in: a,
                                t_out: b,
                                instructor: String::new(),
                                device: device.clone(),
                                face,
                            });
                            a = b;
                        }
                    } else {
                        rows.push(AttRow {
                            person: i,
                            mode: "online",
                            t_in,
                            t_out,
                            instructor: String::new(),
                            device,
                            face,
                        });
                    }
                    done += (dur / 60) as u32;
                }
            }
        }
        // Records written after the exam, dated after it.
        if backfill_class {
            for r in rows.iter_mut() {
                let i = r.person;
                if !backfilled[i] || r.mode == "online" {
                    continue;
                }
                let Some(Some(exam)) = c.first_exam.get(i) else { continue };
                if rng.gen_bool(0.35) {
                    let shift = (exam - crate::dataset::rows::day_of(r.t_in)) as Ts + rng.gen_range(1..=20);
                    r.t_in += shift * 86_400;
                    r.t_out += shift * 86_400;
                }
            }
            for (i, person) in c.persons.iter().enumerate() {
                if backfilled[i] && c.first_exam.get(i).copied().flatten().is_some() {
                    sink.subject(&inst.id, Pattern::BackfilledRecords, "person", &person.id);
                }
            }
        }
        rows.sort_by_key(|r| (r.t_in, r.person));
        for (k, r) in rows.iter().enumerate() {
            let person = &c.persons[r.person];
            let face = r.face.map(|f| format!("{f:.3}")).unwrap_or_default();
            sink.row(
                Table::Attendance,
                &[
                    format!("{class_id}-{:05}", k + 1).as_str(),
                    class_id,
                    &person.id,
                    &person.name,
                    &r.instructor,
                    r.mode,
                    &fmt_ts(r.t_in),
                    &fmt_ts(r.t_out),
                    &r.device,
                    &face,
                ],
            )?;
        }
    }
    Ok(())
}

/// Books a daytime lab sitting of `dur` seconds on `day`: the first PC
/// free long enough between 08:30 and 17:30, starting when the previous
/// sitting ends (touching) or a few minutes later.
fn book_lab(
    next: &mut HashMap<(usize, Day), Ts>,
    pcs: usize,
    day: Day,
    dur: Ts,
    rng: &mut impl Rng,
) -> Option<(usize, Ts)> {
    let (open, close) =
        (day as Ts * 86_400 + 8 * 3600 + 1800 + rng.gen_range(0..60), day as Ts * 86_400 + 17 * 3600 + 1800);
    for pc in 0..pcs {
        let free = next.get(&(pc, day)).copied().unwrap_or(open);
        // The lab PC logs seconds like any terminal.
        let start = free + if rng.gen_bool(0.5) { 0 } else { rng.gen_range(1..=300) };
        if start + dur <= close {
            next.insert((pc, day), start + dur);
            return Some((pc, start));
        }
    }
    None
}

struct AttRow {
    person: usize,
    mode: &'static str,
    t_in: Ts,
    t_out: Ts,
    instructor: String,
    device: String,
    face: Option<f64>,
}

/// Credited hours of a schedule for someone who attended every slot, for tests.
#[cfg(test)]
fn credited(ctx: &Ctx, slots: &[Slot]) -> f64 {
    slots.iter().map(|s| (s.end - s.start) as f64 / 60.0 / ctx.ops.hours.offline_minutes_per_hour).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Models;

    #[test]
    fn honest_schedules_cover_the_syllabus_and_compressed_ones_do_not() {
        let m = Models::load(None).unwrap();
        let ctx = Ctx::for_tests(&m.operations);
        let lv = m.operations.resolve("低压电工").unwrap();
        let mut rng = unit_rng(1, 1, 1);
        let start = days_from_civil(2024, 5, 6);
        let s = schedule(&ctx, lv, false, false, start, false, 0.0, &mut rng);
        let h = credited(&ctx, &s.slots);
        // Whole days, so up to two part-days of surplus.
        assert!((148.0..178.0).contains(&h), "{h}");
        assert!(s.slots.iter().all(|x| weekday(x.day) != 6));
        let night = schedule(&ctx, lv, false, true, start, false, 0.0, &mut rng);
        assert!(credited(&ctx, &night.slots) >= 148.0);
        assert!(night.end > s.end);
        let short = schedule(&ctx, lv, false, false, start, true, 0.0, &mut rng);
        assert!(credited(&ctx, &short.slots) < 0.75 * 148.0);
        let refresher = schedule(&ctx, lv, true, false, start, false, 0.0, &mut rng);
        assert_eq!(refresher.slots.len(), 2);
        assert!(credited(&ctx, &refresher.slots) >= 8.0);
        let online = schedule(&ctx, lv, false, false, start, false, 0.6, &mut rng);
        // 60 % of 88 theory hours online at 30 minutes each.
        assert!(online.online_minutes as f64 >= 88.0 * 0.6 * 30.0);
    }

    /// A demo world with the honest hour-log profiles on: the hour-log
    /// checks they could trip stay quiet on honest institutions, and the
    /// planted proxy sign-ins and farms are still found.
    #[test]
    fn honest_hour_logs_are_quiet_and_planted_ones_found() {
        use std::collections::BTreeMap;
        let m = Models::load(None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cfg = super::super::Config {
            out: dir.path().to_path_buf(),
            institutions: 30,
            seed: 17,
            scale: Scale::Demo,
            video: false,
            mixed: false,
            frame_interval: 600.0,
            records_salt: 0,
            clean: Vec::new(),
            settings: Default::default(),
        };
        super::super::generate(&cfg, &m.operations).unwrap();
        let mut truth: BTreeMap<String, (String, String)> = BTreeMap::new();
        let mut r = csv::Reader::from_path(dir.path().join("truth.csv")).unwrap();
        for rec in r.records() {
            let rec = rec.unwrap();
            truth.insert(rec[0].to_string(), (rec[1].to_string(), rec[2].to_string()));
        }
        for tag in ["manual_entries", "computer_lab", "family_pc", "segmented_export", "auto_close"] {
            assert!(truth.values().any(|(prof, _)| prof.contains(tag)), "no institution has {tag}");
        }
        let loaded = crate::dataset::read_dataset(dir.path(), &m.operations).unwrap();
        let params = crate::checks::Params::from_scorecard(&m.scorecard).unwrap();
        let footage = crate::video::Footage::default();
        let ctx = crate::checks::Ctx {
            t: &loaded.tables,
            ops: &m.operations,
            card: &m.scorecard,
            params: &params,
            footage: &footage,
        };
        let found = crate::checks::training::run(&ctx);
        let quiet = [
            "training.proxy_signin",
            "training.time_heaping",
            "training.online_farming",
            "training.room_over_capacity",
            "training.face_mismatch",
        ];
        for f in &found {
            let (_, pats) = &truth[&f.institution_id];
            if pats.trim().is_empty() && quiet.contains(&f.check.as_str()) {
                assert!(
                    f.severity <= 0.3,
                    "honest {} {} {:.2}: {}",
                    f.institution_id,
                    f.check,
                    f.severity,
                    f.summary_en
                );
            }
        }
        // Planted where the generator wrote planted records (a planted
        // institution whose classes all escaped the draw has none).
        let mut planted: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut r = csv::Reader::from_path(dir.path().join("truth_subjects.csv")).unwrap();
        for rec in r.records() {
            let rec = rec.unwrap();
            *planted.entry((rec[0].to_string(), rec[1].to_string())).or_default() += 1;
        }
        let mut checked = 0;
        for (pattern, check) in
            [("proxy_signin", "training.proxy_signin"), ("online_farming", "training.online_farming")]
        {
            for ((id, pat), &n) in &planted {
                if pat == pattern && n >= 5 {
                    checked += 1;
                    assert!(
                        found.iter().any(|f| &f.institution_id == id && f.check == check),
                        "{id} planted {pattern} ({n}): no {check}"
                    );
                }
            }
        }
        assert!(checked >= 2, "{checked}");
    }
}
