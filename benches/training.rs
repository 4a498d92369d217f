//! Benchmark of the `training.*` checks at province scale (issue 3: ≤ 10 s
//! and ≤ 1.5 GB for 2,000,000 attendance rows on 2 cores, release build).
//!
//! `cargo bench --bench training` builds 2M attendance rows in memory (500
//! institutions × 10 classes × 40 trainees × 10 records, with devices, face
//! scores, instructors, online study and one exam record per trainee), or
//! reads the dataset folder named by `KAOPEI_BENCH_DATASET` (e.g. one made
//! by `kaopei synth`), then times `checks::training::run` and prints the
//! wall time and the process's peak resident memory (VmHWM).

use std::time::Instant;

use kaopei::checks::{training, Ctx, Params};
use kaopei::dataset::rows::*;
use kaopei::model::Models;
use kaopei::video::Footage;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn synthetic(models: &Models, rows_wanted: usize) -> Tables {
    let mut t = Tables::default();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let per_inst = 10 * 40 * 10;
    let n_inst = rows_wanted.div_ceil(per_inst);
    let ops = ["低压电工", "高压电工", "熔化焊接与热切割", "登高架设"];
    let mut classes = Vec::new();
    let mut att = Vec::with_capacity(rows_wanted);
    let mut sessions = Vec::new();
    let mut recs = Vec::new();
    let d0 = days_from_civil(2024, 3, 1);
    for i in 0..n_inst {
        let id = t.strings.intern(&format!("I{i:04}"));
        let name = t.strings.intern(&format!("机构{i}"));
        let region = t.strings.intern("410100");
        t.institutions.push(Institution { line: i as u32 + 2, id, name, kind: InstKind::Both, region, seats: None });
        for c in 0..10 {
            let op_text = ops[(i + c) % ops.len()];
            let op = OpRef { raw: t.strings.intern(op_text), op: models.operations.resolve(op_text) };
            let start = d0 + (c as i32) * 20 + (i % 30) as i32;
            let ci = classes.len() as u32;
            let room = t.strings.intern(&format!("R{}", c % 3));
            let cid = t.strings.intern(&format!("C{i:04}-{c:02}"));
            classes.push(Class {
                line: ci + 2,
                id: cid,
                inst: i as u32,
                operation: op,
                course_kind: if c % 4 == 3 { CourseKind::Refresher } else { CourseKind::Initial },
                start_date: start,
                end_date: start + 24,
                room: Some(room),
                capacity: Some(50),
            });
            let door = t.strings.intern(&format!("DOOR{i}-{c}"));
            let instr = t.strings.intern(&format!("T{i}-{}", c % 4));
            let sid = sessions.len() as u32;
            let sess_id = t.strings.intern(&format!("S{i}-{c}"));
            let exam_room = t.strings.intern("考场1");
            let exam_start = (start as i64 + 26) * 86_400 + 9 * 3600;
            sessions.push(ExamSession {
                line: sid + 2,
                id: sess_id,
                inst: i as u32,
                room: exam_room,
                operation: op,
                part: Part::Theory,
                start: exam_start,
                end: exam_start + 7200,
                seats: None,
                proctor: None,
            });
            for k in 0..40 {
                let person = t.strings.intern(&format!("4101{i:04}{c:02}{k:02}19900101"));
                let home = t.strings.intern(&format!("PC{i}-{c}-{k}"));
                for d in 0..10i64 {
                    let online = d >= 8;
                    let day = (start as i64 + d) * 86_400;
                    let t_in = day + if online { 19 * 3600 } else { 7 * 3600 + 50 * 60 } + rng.gen_range(0..900);
                    let t_out = t_in + 4 * 3600 + rng.gen_range(0..600);
                    let n = att.len();
                    att.push(Attendance {
                        line: n as u32 + 2,
                        id: t.strings.intern(&format!("A{n:08}")),
                        class: ci,
                        person,
                        name: None,
                        instructor: if online { None } else { Some(instr) },
                        mode: if online {
                            Mode::Online
                        } else if d >= 5 {
                            Mode::Practical
                        } else {
                            Mode::Classroom
                        },
                        check_in: t_in,
                        check_out: t_out,
                        device: Some(if online { home } else { door }),
                        face_score: Some(rng.gen_range(0.75..0.99)),
                    });
                }
                let rid = recs.len() as u32;
                recs.push(ExamRecord {
                    line: rid + 2,
                    id: t.strings.intern(&format!("E{rid:07}")),
                    session: sid,
                    person,
                    name: None,
                    seat: None,
                    training_inst: Some(i as u32),
                    login_at: None,
                    submit_at: None,
                    score: 85.0,
                    attempt: 1,
                    face_score: None,
                });
            }
        }
    }
    att.truncate(rows_wanted);
    t.classes = Some(classes);
    t.attendance = Some(att);
    t.exam_sessions = Some(sessions);
    t.exam_records = Some(recs);
    t
}

fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let models = Models::load(None).expect("built-in models");
    let params = Params::from_scorecard(&models.scorecard).expect("params");
    let t0 = Instant::now();
    let tables = match std::env::var_os("KAOPEI_BENCH_DATASET") {
        Some(dir) => {
            kaopei::dataset::read_dataset(std::path::Path::new(&dir), &models.operations)
                .expect("readable dataset")
                .tables
        }
        None => synthetic(&models, 2_000_000),
    };
    let n = tables.attendance.as_ref().map_or(0, |a| a.len());
    println!(
        "built {n} attendance rows in {:.2} s; peak RSS so far {:.0} MB",
        t0.elapsed().as_secs_f64(),
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    let footage = Footage::default();
    let ctx = Ctx { t: &tables, ops: &models.operations, card: &models.scorecard, params: &params, footage: &footage };
    for run in 0..3 {
        let t1 = Instant::now();
        let findings = training::run(&ctx);
        println!(
            "run {run}: training::run on {n} rows: {:.2} s, {} findings, {} threads; peak RSS {:.0} MB",
            t1.elapsed().as_secs_f64(),
            findings.len(),
            rayon::current_num_threads(),
            peak_rss_mb().unwrap_or(f64::NAN)
        );
        if run == 0 {
            let mut by: std::collections::BTreeMap<&str, usize> = Default::default();
            for f in &findings {
                *by.entry(f.check.as_str()).or_default() += 1;
            }
            println!("findings by check: {by:?}");
        }
    }
}
