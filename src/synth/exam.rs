//! Exams: an exam centre's sessions (120-minute computer theory exams,
//! practical exams), exam records with login/submit times and scores from
//! an item-response ability model, retakes, and item-level responses (70
//! true/false + 30 single-choice items with difficulties, plausible
//! distractors, seconds per item and answer changes). Planted here:
//! answer_relay, proxy_takers, score_heaping and early_submit.

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::Rng;

use super::people::{normal, unit_rng};
use super::plan::{InstPlan, Pattern, Size};
use super::training::weekday;
use super::{Cohort, Ctx, Sink, SynthError, Table};
use crate::dataset::rows::{fmt_ts, Day, Ts};

const STREAM_CENTRE: u64 = 3;
const STREAM_EXAM: u64 = 4;
const STREAM_BANK: u64 = 5;

/// True/false and single-choice items of one paper.
pub const N_TF: usize = 70;
pub const N_SC: usize = 30;

/// One item of an operation's bank.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub tf: bool,
    pub a: f64,
    pub b: f64,
    /// Index of the key: TF 0 = 对, 1 = 错; SC 0–3 = A–D.
    pub key: u8,
    /// Relative attractiveness of each option when the answer is wrong.
    pub lure: [f64; 4],
    /// Log of the typical seconds spent on it.
    pub ln_t: f64,
}

impl Item {
    fn guess(&self) -> f64 {
        if self.tf {
            0.5
        } else {
            0.25
        }
    }
    /// Probability of a correct answer at ability `theta`.
    pub fn p(&self, theta: f64) -> f64 {
        let g = self.guess();
        g + (1.0 - g) / (1.0 + (-self.a * (theta - self.b)).exp())
    }
    fn wrong(&self, rng: &mut impl Rng) -> u8 {
        if self.tf {
            return 1 - self.key;
        }
        let total: f64 = (0..4).filter(|&o| o != self.key as usize).map(|o| self.lure[o]).sum();
        let mut x = rng.gen::<f64>() * total;
        for o in 0..4u8 {
            if o == self.key {
                continue;
            }
            if x < self.lure[o as usize] {
                return o;
            }
            x -= self.lure[o as usize];
        }
        (self.key + 1) % 4
    }
    /// The most attractive wrong option (what a careless answer sheet says).
    fn best_lure(&self) -> u8 {
        if self.tf {
            return 1 - self.key;
        }
        (0..4u8).filter(|&o| o != self.key).fold((self.key + 1) % 4, |best, o| {
            if self.lure[o as usize] > self.lure[best as usize] {
                o
            } else {
                best
            }
        })
    }
    fn text(&self, o: u8) -> &'static str {
        if self.tf {
            if o == 0 {
                "对"
            } else {
                "错"
            }
        } else {
            ["A", "B", "C", "D"][o as usize % 4]
        }
    }
}

/// The item bank of one operation, the same in every centre of the province.
pub fn bank(ctx: &Ctx, op: u16) -> Vec<Item> {
    let mut rng = unit_rng(ctx.seed, 1_000_000 + op as u64, STREAM_BANK);
    let code = &ctx.ops.get(op).code;
    let abbr: String = code.split('_').filter_map(|w| w.chars().next()).collect::<String>().to_uppercase();
    // Operations differ a little in difficulty (and so in pass rates).
    let shift = 0.25 * normal(&mut rng);
    let mut items = Vec::new();
    for k in 0..500 {
        items.push(Item {
            id: format!("{abbr}-PD{:04}", k + 1),
            tf: true,
            a: rng.gen_range(0.6..1.4),
            b: -1.35 + shift + 0.7 * normal(&mut rng),
            key: rng.gen_range(0..2),
            lure: [1.0; 4],
            ln_t: (22.0f64).ln() + 0.3 * normal(&mut rng),
        });
    }
    for k in 0..200 {
        // One plausible distractor, two weaker ones.
        let mut lure = [rng.gen_range(0.05..0.3), rng.gen_range(0.05..0.3), rng.gen_range(0.05..0.3), 0.0];
        lure[3] = rng.gen_range(0.5..1.5);
        lure.shuffle(&mut rng);
        items.push(Item {
            id: format!("{abbr}-DX{:04}", k + 1),
            tf: false,
            a: rng.gen_range(0.6..1.5),
            b: -0.95 + shift + 0.7 * normal(&mut rng),
            key: rng.gen_range(0..4),
            lure,
            ln_t: (50.0f64).ln() + 0.3 * normal(&mut rng),
        });
    }
    items
}

/// Rooms, exam days and staff of one exam centre.
pub struct Centre {
    pub theory_rooms: Vec<(String, usize)>,
    pub practical_room: String,
    pub weekdays: Vec<u32>,
    pub proctors: usize,
}

pub fn centre(ctx: &Ctx, c: &InstPlan) -> Centre {
    let mut rng = unit_rng(ctx.centre_seed, c.idx as u64, STREAM_CENTRE);
    let n_rooms = match c.profile.size {
        Size::Tiny | Size::Small => 1,
        Size::Medium => 2,
        Size::Large => 3,
    };
    let n_rooms = if c.has(Pattern::ProxyTakers) { n_rooms.max(2) } else { n_rooms };
    let theory_rooms = (1..=n_rooms).map(|k| (format!("理论考场{k}"), [30, 40, 50][rng.gen_range(0..3)])).collect();
    let mut weekdays: Vec<u32> = match rng.gen_range(0..3) {
        0 => vec![1, 3],
        1 => vec![0, 2, 4],
        _ => vec![1, 3, 5],
    };
    weekdays.sort_unstable();
    Centre { theory_rooms, practical_room: "实操考场1".into(), weekdays, proctors: 2 + n_rooms * 2 }
}

/// The first exam day on or after `d`.
pub fn next_exam_day(centre: &Centre, mut d: Day) -> Day {
    while !centre.weekdays.contains(&weekday(d)) {
        d += 1;
    }
    d
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Theory,
    Practical,
}

#[derive(Debug, Clone, Copy)]
struct Req {
    earliest: Day,
    cohort: usize,
    person: usize,
    part: Part,
    attempt: u8,
}

/// A candidate seated in a session.
#[derive(Debug, Clone, Copy)]
struct Cand {
    cohort: usize,
    person: usize,
    attempt: u8,
    /// A second record of someone seated in a concurrent session (proxy).
    double: bool,
}

/// A person who passed both parts at this centre.
#[derive(Debug, Clone)]
pub struct Passed {
    pub cohort: usize,
    pub person: usize,
    pub theory_day: Day,
    pub practical_day: Day,
    /// First theory sitting (for certificates dated before the exam).
    pub first_day: Day,
}

/// A theory session, for the CCTV inventory.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: String,
    pub room: String,
    pub start: Ts,
    pub end: Ts,
    pub candidates: usize,
    pub seats: usize,
}

/// What running a centre's exams produced.
pub struct Outcome {
    pub passed: Vec<Passed>,
    pub theory_sessions: Vec<SessionInfo>,
}

/// Schedules and writes every exam of centre `c` for `cohorts` (initial
/// cohorts trained for it, walk-ins), filling each cohort's `first_exam`.
pub fn run(ctx: &Ctx, c: &InstPlan, cohorts: &mut [Cohort], sink: &mut Sink) -> Result<Outcome, SynthError> {
    let mut rng = unit_rng(ctx.seed, c.idx as u64, STREAM_EXAM);
    let centre = centre(ctx, c);
    let mut banks: BTreeMap<u16, Vec<Item>> = BTreeMap::new();
    let mut pending: Vec<Req> = Vec::new();
    for (ci, co) in cohorts.iter_mut().enumerate() {
        co.first_exam = vec![None; co.persons.len()];
        if co.refresher {
            continue;
        }
        let planned = next_exam_day(&centre, co.end + rng.gen_range(2..6));
        for pi in 0..co.persons.len() {
            if !co.dropped[pi] {
                pending.push(Req { earliest: planned, cohort: ci, person: pi, part: Part::Theory, attempt: 1 });
            }
        }
    }
    let mut passed_theory: BTreeMap<(usize, usize), Day> = BTreeMap::new();
    let mut out = Outcome { passed: Vec::new(), theory_sessions: Vec::new() };
    let Some(mut day) = pending.iter().map(|r| r.earliest).min() else { return Ok(out) };
    let mut n_session = 0usize;
    let mut n_record = 0usize;
    while !pending.is_empty() {
        if !centre.weekdays.contains(&weekday(day)) {
            day += 1;
            continue;
        }
        for part in [Part::Theory, Part::Practical] {
            let (due, rest): (Vec<Req>, Vec<Req>) = pending.iter().partition(|r| r.part == part && r.earliest <= day);
            pending = rest;
            if due.is_empty() {
                continue;
            }
            let mut by_op: BTreeMap<u16, Vec<Req>> = BTreeMap::new();
            for r in due {
                by_op.entry(cohorts[r.cohort].op).or_default().push(r);
            }
            // Theory: every room, morning and afternoon; practical: one yard, two sittings.
            let slots: Vec<(Ts, String, usize)> = match part {
                Part::Theory => [9 * 3600, 14 * 3600]
                    .iter()
                    .flat_map(|&t| centre.theory_rooms.iter().map(move |(r, s)| (t, r.clone(), *s)))
                    .collect(),
                // Station rotation (honest, issue 15): a few stations, one
                // candidate each at a time, up to ROUNDS rounds per sitting.
                Part::Practical if c.profile.station_rotation => {
                    let st = stations_of(c);
                    vec![
                        (8 * 3600, centre.practical_room.clone(), st),
                        (13 * 3600 + 1800, centre.practical_room.clone(), st),
                    ]
                }
                Part::Practical => vec![
                    (8 * 3600 + 1800, centre.practical_room.clone(), 16),
                    (14 * 3600, centre.practical_room.clone(), 16),
                ],
            };
            let mut slot_iter = slots.into_iter();
            let mut sessions: Vec<(Ts, String, usize, u16, Vec<Cand>)> = Vec::new();
            for (op, reqs) in by_op {
                let mut rest: &[Req] = &reqs;
                while !rest.is_empty() {
                    let Some((t, room, seats)) = slot_iter.next() else {
                        // No room left today: the rest wait for the next exam day.
                        pending.extend(rest.iter().map(|r| Req { earliest: day + 1, ..*r }));
                        break;
                    };
                    let cap =
                        if part == Part::Practical && c.profile.station_rotation { seats * ROUNDS } else { seats };
                    let take = cap.min(rest.len());
                    let cands: Vec<Cand> = rest[..take]
                        .iter()
                        .map(|r| Cand { cohort: r.cohort, person: r.person, attempt: r.attempt, double: false })
                        .collect();
                    rest = &rest[take..];
                    sessions.push((day as Ts * 86_400 + t, room, seats, op, cands));
                }
            }
            // Decide each session's planted behaviour.
            let plans: Vec<SessionPlan> = sessions
                .iter()
                .map(|s| {
                    let share = |d: f64| ctx.intensity.share(d);
                    SessionPlan {
                        relay: part == Part::Theory
                            && c.has(Pattern::AnswerRelay)
                            && s.4.len() >= 5
                            && rng.gen_bool(share(0.75)),
                        proxy: part == Part::Theory && c.has(Pattern::ProxyTakers) && rng.gen_bool(share(0.55)),
                        early: part == Part::Theory && c.has(Pattern::EarlySubmit) && rng.gen_bool(share(0.6)),
                        heap: part == Part::Practical && c.has(Pattern::ScoreHeaping) && rng.gen_bool(share(0.85)),
                    }
                })
                .collect();
            // A proxy taker already seated in a concurrent session, seated again.
            for k in 0..sessions.len() {
                if !plans[k].proxy || sessions[k].4.len() >= sessions[k].2 {
                    continue;
                }
                let other = (0..sessions.len())
                    .find(|&j| j != k && sessions[j].0 == sessions[k].0 && !sessions[j].4.is_empty());
                if let Some(j) = other {
                    if rng.gen_bool(0.6) {
                        let pick = sessions[j].4[rng.gen_range(0..sessions[j].4.len())];
                        let co = &cohorts[pick.cohort];
                        sink.subject(&c.id, Pattern::ProxyTakers, "person", &co.persons[pick.person].id);
                        sessions[k].4.push(Cand { double: true, ..pick });
                    }
                }
            }
            for ((start, room, seats, op, cands), sp) in sessions.into_iter().zip(plans) {
                n_session += 1;
                let sid = format!("{}-S{:04}", c.id, n_session);
                let minutes = match part {
                    Part::Theory => ctx.ops.exam.theory_minutes as Ts,
                    Part::Practical => 210,
                };
                let end = start + minutes * 60;
                let opname = &ctx.ops.get(op).name;
                sink.row(
                    Table::ExamSessions,
                    &[
                        sid.as_str(),
                        &c.id,
                        &room,
                        opname,
                        if part == Part::Theory { "theory" } else { "practical" },
                        &fmt_ts(start),
                        &fmt_ts(end),
                        &seats.to_string(),
                        &format!("{}-JK{:02}", c.id, rng.gen_range(1..=centre.proctors)),
                    ],
                )?;
                let scores = match part {
                    Part::Theory => {
                        let bank = banks.entry(op).or_insert_with(|| bank(ctx, op));
                        theory(ctx, c, &sid, start, seats, &cands, cohorts, bank, &sp, &mut n_record, &mut rng, sink)?
                    }
                    Part::Practical => {
                        practical(ctx, c, &sid, start, seats, &cands, cohorts, &sp, &mut n_record, &mut rng, sink)?
                    }
                };
                if part == Part::Theory {
                    out.theory_sessions.push(SessionInfo {
                        id: sid.clone(),
                        room: room.clone(),
                        start,
                        end,
                        candidates: cands.len(),
                        seats,
                    });
                }
                let pass = ctx.ops.exam.pass_mark;
                for (cand, score) in cands.iter().zip(scores) {
                    if cand.double {
                        continue;
                    }
                    let first = &mut cohorts[cand.cohort].first_exam[cand.person];
                    if first.is_none() {
                        *first = Some(day);
                    }
                    let key = (cand.cohort, cand.person);
                    let next = |part, attempt, after: Day| Req {
                        earliest: after,
                        cohort: cand.cohort,
                        person: cand.person,
                        part,
                        attempt,
                    };
                    match (part, score >= pass, cand.attempt) {
                        (Part::Theory, true, _) => {
                            passed_theory.insert(key, day);
                            pending.push(next(Part::Practical, 1, day + 1));
                        }
                        (Part::Theory, false, 1) => pending.push(next(Part::Theory, 2, day + rng.gen_range(7..20))),
                        (Part::Practical, true, _) => {
                            let first_day = cohorts[cand.cohort].first_exam[cand.person].unwrap_or(day);
                            out.passed.push(Passed {
                                cohort: cand.cohort,
                                person: cand.person,
                                theory_day: passed_theory.get(&key).copied().unwrap_or(day),
                                practical_day: day,
                                first_day,
                            });
                        }
                        (Part::Practical, false, 1) => {
                            pending.push(next(Part::Practical, 2, day + rng.gen_range(7..20)))
                        }
                        _ => {}
                    }
                }
            }
        }
        day += 1;
    }
    Ok(out)
}

/// Rounds of candidates per station in one rotated practical sitting.
const ROUNDS: usize = 6;

/// Stations of a rotating centre's practical yard (4–6).
fn stations_of(c: &InstPlan) -> usize {
    4 + c.idx % 3
}

struct SessionPlan {
    relay: bool,
    proxy: bool,
    early: bool,
    heap: bool,
}

fn seat_numbers(n: usize, seats: usize, rng: &mut impl Rng) -> Vec<usize> {
    let mut s: Vec<usize> = (1..=seats.max(n)).collect();
    s.shuffle(rng);
    s.truncate(n);
    s
}

fn face(rng: &mut impl Rng) -> f64 {
    if rng.gen_bool(0.03) {
        rng.gen_range(0.70..0.83)
    } else {
        rng.gen_range(0.83..0.995)
    }
}

#[allow(clippy::too_many_arguments)]
fn theory(
    ctx: &Ctx,
    c: &InstPlan,
    sid: &str,
    start: Ts,
    seats: usize,
    cands: &[Cand],
    cohorts: &[Cohort],
    bank: &[Item],
    sp: &SessionPlan,
    n_record: &mut usize,
    rng: &mut impl Rng,
    sink: &mut Sink,
) -> Result<Vec<f64>, SynthError> {
    let n_tf = bank.iter().filter(|i| i.tf).count();
    let mut paper: Vec<&Item> = rand::seq::index::sample(rng, n_tf, N_TF).into_iter().map(|k| &bank[k]).collect();
    let sc: Vec<&Item> =
        rand::seq::index::sample(rng, bank.len() - n_tf, N_SC).into_iter().map(|k| &bank[n_tf + k]).collect();
    paper.extend(sc);
    let exam = &ctx.ops.exam;
    let end = start + exam.theory_minutes as Ts * 60;
    let min_sit = exam.min_sitting_minutes as Ts * 60;
    let seatno = seat_numbers(cands.len(), seats, rng);

    // Answer relay: staff read an answer sheet (with a few mistakes) ~30 minutes in.
    let relay_at = start + rng.gen_range(25..40) * 60;
    let relay_len = rng.gen_range(15..25) * 60;
    let mut sheet: Vec<u8> = paper.iter().map(|i| i.key).collect();
    // Its mistakes fall on the later items, mostly single-choice ones.
    for _ in 0..rng.gen_range(3..=6) {
        let k = rng.gen_range(55.min(paper.len() - 1)..paper.len());
        sheet[k] = paper[k].best_lure();
    }
    let relay_share = rng.gen_range(0.45..0.8);
    let relayed: Vec<bool> = cands.iter().map(|_| sp.relay && rng.gen_bool(relay_share)).collect();
    let proxy_share = rng.gen_range(0.1..0.25);
    let proxied: Vec<bool> = cands.iter().map(|cd| sp.proxy && (cd.double || rng.gen_bool(proxy_share))).collect();
    let early_share = rng.gen_range(0.15..0.35);
    let early: Vec<bool> = cands.iter().map(|_| sp.early && rng.gen_bool(early_share)).collect();
    let cluster_at = relay_at + relay_len + rng.gen_range(60..180);

    let mut scores = Vec::with_capacity(cands.len());
    let mut relay_ids: Vec<String> = Vec::new();
    for (k, cd) in cands.iter().enumerate() {
        let person = &cohorts[cd.cohort].persons[cd.person];
        *n_record += 1;
        let rid = format!("{sid}-{:03}", k + 1);
        if relayed[k] {
            relay_ids.push(rid.clone());
        }
        let mut theta = person.ability + if cd.attempt > 1 { 0.35 } else { 0.0 };
        let mut speed = person.speed;
        let mut face_score = face(rng);
        if proxied[k] {
            theta = 2.3 + 0.4 * normal(rng);
            speed += 0.6;
            face_score = rng.gen_range(0.42..0.72);
        }
        if early[k] {
            theta += 1.5;
        }
        let login = start + ((3.0f64.ln() + 0.6 * normal(rng)).exp().min(28.0) * 60.0) as Ts + rng.gen_range(0..60);
        let mut answers: Vec<Option<u8>> = Vec::with_capacity(paper.len());
        let mut secs: Vec<u32> = Vec::with_capacity(paper.len());
        let mut changes: Vec<u8> = Vec::with_capacity(paper.len());
        let mut t = login;
        for (j, item) in paper.iter().enumerate() {
            let p = item.p(theta);
            let correct = rng.gen_bool(p.clamp(0.0, 1.0));
            let mut ans = if correct { item.key } else { item.wrong(rng) };
            let mut s = (item.ln_t - speed + 0.4 * normal(rng)).exp() * (1.0 + 0.4 * (1.0 - p));
            let ch = if rng.gen_bool(0.03 + 0.1 * (1.0 - p)) { 1 + u8::from(rng.gen_bool(0.1)) } else { 0 };
            if relayed[k] && t >= relay_at {
                if rng.gen_bool(0.93) {
                    ans = sheet[j];
                }
                s = rng.gen_range(4.0..12.0);
            }
            if t + s as Ts > end - 30 {
                answers.push(None);
                secs.push(0);
                changes.push(0);
                continue;
            }
            t += s.max(2.0) as Ts;
            answers.push(Some(ans));
            secs.push(s.max(2.0) as u32);
            changes.push(ch);
        }
        if relayed[k] {
            // Back to the items answered before the relay: changed to the sheet.
            let mut t2 = login;
            for j in 0..paper.len() {
                t2 += secs[j] as Ts;
                if t2 >= relay_at {
                    break;
                }
                if answers[j].is_some_and(|a| a != sheet[j]) && rng.gen_bool(0.7) {
                    answers[j] = Some(sheet[j]);
                    changes[j] += 1;
                }
            }
            sink.subject(&c.id, Pattern::AnswerRelay, "exam_record", &rid);
        }
        let work: Ts = secs.iter().map(|&s| s as Ts).sum();
        let mut submit =
            if relayed[k] { cluster_at + (40.0 * normal(rng)) as Ts } else { login + work + rng.gen_range(60..900) };
        if early[k] {
            let target = rng.gen_range(12..28) * 60;
            let f = target as f64 / work.max(1) as f64;
            for s in secs.iter_mut() {
                *s = ((*s as f64 * f).round() as u32).max(2);
            }
            submit = login + secs.iter().map(|&s| s as Ts).sum::<Ts>() + rng.gen_range(10..90);
            sink.subject(&c.id, Pattern::EarlySubmit, "exam_record", &rid);
        } else if submit < login + min_sit {
            // The system refuses submission before the minimum sitting time.
            submit = login + min_sit + rng.gen_range(5..300);
        }
        if proxied[k] {
            sink.subject(&c.id, Pattern::ProxyTakers, "exam_record", &rid);
        }
        let submit = submit.min(end);
        let score = answers.iter().zip(&paper).filter(|(a, i)| **a == Some(i.key)).count() as f64;
        scores.push(score);
        let co = &cohorts[cd.cohort];
        sink.row(
            Table::ExamRecords,
            &[
                rid.as_str(),
                sid,
                &person.id,
                &person.name,
                &format!("{:02}", seatno[k]),
                co.train_inst.as_deref().unwrap_or(""),
                &fmt_ts(login),
                &fmt_ts(submit),
                &format!("{score}"),
                &cd.attempt.to_string(),
                &format!("{face_score:.3}"),
            ],
        )?;
        for (j, item) in paper.iter().enumerate().filter(|_| c.profile.item_logs) {
            let ans = answers[j].map(|a| item.text(a)).unwrap_or("");
            sink.row(
                Table::ExamResponses,
                &[rid.as_str(), &item.id, ans, item.text(item.key), &secs[j].to_string(), &changes[j].to_string()],
            )?;
        }
    }
    if !relay_ids.is_empty() {
        sink.subject(&c.id, Pattern::AnswerRelay, "session", sid);
        // Pairs of relayed candidates (the unit answer-similarity checks flag).
        for (a, x) in relay_ids.iter().enumerate() {
            for y in &relay_ids[a + 1..] {
                sink.subject(&c.id, Pattern::AnswerRelay, "pair", &format!("{x}|{y}"));
            }
        }
    }
    Ok(scores)
}

#[allow(clippy::too_many_arguments)]
fn practical(
    _ctx: &Ctx,
    c: &InstPlan,
    sid: &str,
    start: Ts,
    seats: usize,
    cands: &[Cand],
    cohorts: &[Cohort],
    sp: &SessionPlan,
    n_record: &mut usize,
    rng: &mut impl Rng,
    sink: &mut Sink,
) -> Result<Vec<f64>, SynthError> {
    // Rotating centres: seats are the stations, and each station takes
    // one candidate after another (seat = station number); others run two
    // stations with a numbered place per candidate.
    let rotating = c.profile.station_rotation;
    let stations = if rotating { seats.max(1) } else { 2usize };
    let rounds = cands.len().div_ceil(stations).max(1) as Ts;
    let slot = (210 * 60 / rounds).min(if rotating { 35 * 60 } else { 25 * 60 });
    let seatno: Vec<usize> = if rotating {
        (0..cands.len()).map(|k| k % stations + 1).collect()
    } else {
        seat_numbers(cands.len(), seats, rng)
    };
    let mut scores = Vec::with_capacity(cands.len());
    for (k, cd) in cands.iter().enumerate() {
        let person = &cohorts[cd.cohort].persons[cd.person];
        *n_record += 1;
        let rid = format!("{sid}-{:03}", k + 1);
        let login = start + (k / stations) as Ts * slot + rng.gen_range(0..90);
        let submit = login + rng.gen_range(10 * 60..(slot - 120).max(11 * 60));
        let skill = 0.6 * person.ability + 0.8 * normal(rng) + if cd.attempt > 1 { 0.4 } else { 0.0 };
        let mut score = (86.0 + 6.0 * skill + 4.0 * normal(rng)).round().clamp(30.0, 100.0);
        if sp.heap && (55.0..80.0).contains(&score) && rng.gen_bool(0.8) {
            // The examiner talks the candidate through: just enough to pass.
            score = 80.0 + [0.0, 0.0, 0.0, 1.0, 1.0, 2.0][rng.gen_range(0..6)];
            sink.subject(&c.id, Pattern::ScoreHeaping, "exam_record", &rid);
        }
        scores.push(score);
        let co = &cohorts[cd.cohort];
        sink.row(
            Table::ExamRecords,
            &[
                rid.as_str(),
                sid,
                &person.id,
                &person.name,
                &format!("{:02}", seatno[k]),
                co.train_inst.as_deref().unwrap_or(""),
                &if c.profile.untimed_practical { String::new() } else { fmt_ts(login) },
                &if c.profile.untimed_practical { String::new() } else { fmt_ts(submit) },
                &format!("{score}"),
                &cd.attempt.to_string(),
                &format!("{:.3}", face(rng)),
            ],
        )?;
    }
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Models;

    #[test]
    fn honest_first_sitting_pass_rates_are_realistic() {
        let m = Models::load(None).unwrap();
        let ctx = Ctx::for_tests(&m.operations);
        let mut rng = unit_rng(3, 3, 3);
        for op in ["低压电工", "焊工", "高压电工"] {
            let bank = bank(&ctx, m.operations.resolve(op).unwrap());
            let (mut pass, n) = (0, 2000);
            let mut total = 0.0;
            for _ in 0..n {
                let theta = normal(&mut rng);
                let paper: Vec<&Item> = rand::seq::index::sample(&mut rng, 500, N_TF)
                    .into_iter()
                    .map(|k| &bank[k])
                    .chain(rand::seq::index::sample(&mut rng, 200, N_SC).into_iter().map(|k| &bank[500 + k]))
                    .collect();
                let score = paper.iter().filter(|i| rng.gen_bool(i.p(theta))).count();
                total += score as f64;
                if score >= 80 {
                    pass += 1;
                }
            }
            let rate = pass as f64 / n as f64;
            assert!((0.5..0.88).contains(&rate), "{op}: {rate}, mean {}", total / n as f64);
        }
    }

    #[test]
    fn wrong_answers_are_never_the_key() {
        let m = Models::load(None).unwrap();
        let ctx = Ctx::for_tests(&m.operations);
        let bank = bank(&ctx, 0);
        let mut rng = unit_rng(1, 1, 1);
        for item in &bank {
            assert_ne!(item.wrong(&mut rng), item.key);
            assert_ne!(item.best_lure(), item.key);
        }
    }
}
