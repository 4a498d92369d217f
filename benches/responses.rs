//! Benchmark of the response checks at province scale (issue 4): 300,000
//! exam records in sessions of 45, of which the computer theory exams
//! (100,000 records × 100 items) give 10,000,000 response rows, built in
//! memory (honest answering plus a few relayed sessions), then
//! `checks::responses::analyse` timed. Run: `cargo bench --bench responses`.

use std::time::Instant;

use kaopei::checks::responses::analyse;
use kaopei::dataset::intern::Sym;
use kaopei::dataset::rows::*;
use kaopei::model::Scorecard;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const RECORDS: usize = 300_000;
const WITH_RESPONSES: usize = 100_000;
const ITEMS: usize = 100;
const PER_SESSION: usize = 45;
const OPS: usize = 10;
const BANK: usize = 300;

fn build() -> Tables {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut t = Tables::default();
    let region = t.strings.intern("410100");
    for k in 0..500 {
        let id = t.strings.intern(&format!("C{k:03}"));
        t.institutions.push(Institution { line: 0, id, name: id, kind: InstKind::Exam, region, seats: None });
    }
    let ops: Vec<Sym> = (0..OPS).map(|o| t.strings.intern(&format!("OP{o}"))).collect();
    let bank: Vec<Vec<Sym>> =
        (0..OPS).map(|o| (0..BANK).map(|i| t.strings.intern(&format!("Q{o}_{i}"))).collect()).collect();
    let letters: Vec<Sym> = ["A", "B", "C", "D"].iter().map(|s| t.strings.intern(s)).collect();
    let room = t.strings.intern("R1");
    let seats: Vec<Sym> = (0..PER_SESSION).map(|s| t.strings.intern(&format!("{:02}", s + 1))).collect();
    let (mut sessions, mut records, mut responses) =
        (Vec::new(), Vec::new(), Vec::with_capacity(WITH_RESPONSES * ITEMS));
    let n_sessions = RECORDS.div_ceil(PER_SESSION);
    let timed_sessions = WITH_RESPONSES / PER_SESSION;
    for s in 0..n_sessions {
        let op = s % OPS;
        let start = 1_720_000_000 + (s as i64) * 3600;
        let id = t.strings.intern(&format!("S{s:06}"));
        sessions.push(ExamSession {
            line: 0,
            id,
            inst: (s % 500) as u32,
            room,
            operation: OpRef { raw: ops[op], op: None },
            part: Part::Theory,
            start,
            end: start + 7200,
            seats: None,
            proctor: None,
        });
        let paper: Vec<usize> = (0..ITEMS).map(|_| rng.gen_range(0..BANK)).collect();
        let relayed = if s % 97 == 0 { 12 } else { 0 };
        let relay: Vec<usize> = (0..ITEMS).map(|_| if rng.gen_bool(0.8) { 0 } else { rng.gen_range(1..4) }).collect();
        for (c, &seat) in seats.iter().enumerate() {
            if records.len() == RECORDS {
                break;
            }
            let rid = t.strings.intern(&format!("E{:07}", records.len()));
            let person = t.strings.intern(&format!("4101021990{:08}", records.len()));
            records.push(ExamRecord {
                line: 0,
                id: rid,
                session: s as u32,
                person,
                name: None,
                seat: Some(seat),
                training_inst: None,
                login_at: Some(start),
                submit_at: Some(start + 3600),
                score: 80.0,
                attempt: 1,
                face_score: None,
            });
            if s >= timed_sessions {
                continue;
            }
            let rec = records.len() as u32 - 1;
            let ability: f64 = rng.gen_range(0.5..0.95);
            for (i, &q) in paper.iter().enumerate() {
                let own = if rng.gen_bool(ability) { 0 } else { [1, 1, 1, 2, 2, 3][rng.gen_range(0..6)] };
                let (choice, secs) =
                    if c < relayed && i >= 40 { (relay[i], 5.0) } else { (own, rng.gen_range(20.0..70.0)) };
                responses.push(ExamResponse {
                    line: 0,
                    record: rec,
                    item: bank[op][q],
                    answer: letters[choice],
                    key: letters[0],
                    seconds: Some(secs),
                    changes: Some(u16::from(own != choice)),
                });
            }
        }
    }
    t.exam_sessions = Some(sessions);
    t.exam_records = Some(records);
    t.exam_responses = Some(responses);
    t
}

fn main() {
    let card = Scorecard::from_toml(
        &std::fs::read_to_string("models/scorecard.toml").expect("models/scorecard.toml readable"),
    )
    .expect("scorecard parses");
    let params: kaopei::checks::responses::Params =
        kaopei::checks::family_params(&card, kaopei::checks::Family::Responses).expect("responses parameters parse");
    let t0 = Instant::now();
    let t = build();
    let n_resp = t.exam_responses.as_ref().map_or(0, Vec::len);
    eprintln!(
        "built {} records, {n_resp} responses in {:.1?}",
        t.exam_records.as_ref().map_or(0, Vec::len),
        t0.elapsed()
    );
    let t1 = Instant::now();
    let f = analyse(&t, &params);
    let dt = t1.elapsed();
    let mut by_check = std::collections::BTreeMap::<&str, usize>::new();
    for x in &f {
        *by_check.entry(x.check.as_str()).or_default() += 1;
    }
    println!(
        "responses: {n_resp} rows analysed in {dt:.2?} on {} threads; findings {by_check:?}",
        rayon::current_num_threads()
    );
}
