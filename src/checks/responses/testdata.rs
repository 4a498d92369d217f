//! Test fixtures for the response checks: a small province of simulated
//! sessions built in memory (honest answering from item distractor weights,
//! plus planted relays), and the real `[params.responses]`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::Params;
use crate::dataset::intern::Sym;
use crate::dataset::rows::*;

pub(crate) fn params() -> Params {
    let card =
        crate::model::Scorecard::from_toml(include_str!("../../../models/scorecard.toml")).expect("scorecard parses");
    crate::checks::family_params(&card, crate::checks::Family::Responses).expect("responses parameters parse")
}

/// How one simulated session answers.
#[derive(Clone, Copy)]
pub(crate) struct Spec {
    /// Candidates' probabilities of answering correctly, drawn uniformly.
    pub ability: (f64, f64),
    pub candidates: usize,
    /// Candidates (the first ones) who copy a common relayed answer string
    /// from `relay_from_minute` on (0 = from the start).
    pub relayed: usize,
    pub relay_from_minute: f64,
    /// Distractor weights of every item (wrong answers B, C, D).
    pub distractors: [f64; 3],
}

impl Spec {
    pub fn honest(lo: f64, hi: f64) -> Spec {
        Spec { ability: (lo, hi), candidates: 40, relayed: 0, relay_from_minute: 0.0, distractors: [0.5, 0.3, 0.2] }
    }
}

pub(crate) struct Sim {
    pub t: Tables,
    rng: ChaCha8Rng,
    n_rec: usize,
}

pub(crate) const ITEMS: usize = 60;

impl Sim {
    pub fn new(seed: u64) -> Sim {
        let t = Tables {
            exam_sessions: Some(Vec::new()),
            exam_records: Some(Vec::new()),
            exam_responses: Some(Vec::new()),
            ..Default::default()
        };
        Sim { t, rng: ChaCha8Rng::seed_from_u64(seed), n_rec: 0 }
    }

    fn sym(&mut self, s: &str) -> Sym {
        self.t.strings.intern(s)
    }

    pub fn inst(&mut self, id: &str) -> u32 {
        let (idn, name, region) = (self.sym(id), self.sym(id), self.sym("410100"));
        self.t.institutions.push(Institution { line: 0, id: idn, name, kind: InstKind::Exam, region, seats: None });
        self.t.institutions.len() as u32 - 1
    }

    /// Adds one session with the given answering; items `I0..I59`, key `A`.
    pub fn session(&mut self, inst: u32, spec: Spec) {
        let s_no = self.t.exam_sessions.as_ref().map_or(0, |v| v.len());
        let sid = self.sym(&format!("S{s_no:04}"));
        let room = self.sym("R1");
        let op = OpRef { raw: self.sym("低压电工"), op: None };
        let start = 1_720_000_000 + s_no as i64 * 86_400;
        if let Some(v) = self.t.exam_sessions.as_mut() {
            v.push(ExamSession {
                line: 0,
                id: sid,
                inst,
                room,
                operation: op,
                part: Part::Theory,
                start,
                end: start + 7200,
                seats: None,
                proctor: None,
            });
        }
        let key = self.sym("A");
        let letters = [self.sym("B"), self.sym("C"), self.sym("D")];
        let items: Vec<Sym> = (0..ITEMS).map(|i| self.sym(&format!("I{i}"))).collect();
        // The relayed string: mostly right, some wrong answers (a staff
        // member's imperfect key or a strong candidate's paper).
        let relay: Vec<usize> =
            (0..ITEMS).map(|_| if self.rng.gen_bool(0.8) { 0 } else { self.rng.gen_range(1..4) }).collect();
        for c in 0..spec.candidates {
            let rid = self.sym(&format!("E{:06}", self.n_rec));
            let person = self.sym(&format!("41010219900101{:04}", self.n_rec % 10_000));
            let seat = self.sym(&format!("{:02}", c + 1));
            self.n_rec += 1;
            let rec_idx = self.t.exam_records.as_ref().map_or(0, |v| v.len()) as u32;
            if let Some(v) = self.t.exam_records.as_mut() {
                v.push(ExamRecord {
                    line: 0,
                    id: rid,
                    session: s_no as u32,
                    person,
                    name: None,
                    seat: Some(seat),
                    training_inst: None,
                    login_at: Some(start),
                    submit_at: Some(start + 3600),
                    score: 0.0,
                    attempt: 1,
                    face_score: None,
                });
            }
            let ability = self.rng.gen_range(spec.ability.0..=spec.ability.1);
            let mut cum = 0.0f64;
            for (i, &item) in items.iter().enumerate() {
                let relayed = c < spec.relayed && cum / 60.0 >= spec.relay_from_minute;
                let own = if self.rng.gen_bool(ability) {
                    0
                } else {
                    let u: f64 = self.rng.gen();
                    let d = spec.distractors;
                    if u < d[0] {
                        1
                    } else if u < d[0] + d[1] {
                        2
                    } else {
                        3
                    }
                };
                let honest_change = u16::from(self.rng.gen_bool(0.08));
                let (choice, secs, changes) = if relayed {
                    // Copied answer, fast; an own answer that differs gets changed.
                    (relay[i], self.rng.gen_range(3.0..8.0), if own != relay[i] { 1 } else { honest_change })
                } else {
                    (own, self.rng.gen_range(20.0..70.0), honest_change)
                };
                cum += secs;
                let answer = if choice == 0 { key } else { letters[choice - 1] };
                if let Some(v) = self.t.exam_responses.as_mut() {
                    v.push(ExamResponse {
                        line: 0,
                        record: rec_idx,
                        item,
                        answer,
                        key,
                        seconds: Some(secs as f32),
                        changes: Some(changes),
                    });
                }
            }
        }
    }
}
