//! Whole-generator tests on small datasets: determinism (same seed, same
//! bytes; another seed, other bytes), valid IDs, contract headers, truth
//! files that name only existing institutions and records.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::people::id_is_valid;
use super::*;
use crate::model::Models;

fn config(out: &Path, seed: u64, video: bool, mixed: bool) -> Config {
    Config {
        out: out.to_path_buf(),
        institutions: 10,
        seed,
        scale: Scale::Demo,
        video,
        mixed,
        // Few frames: the clips are still real H.264, just quick to make.
        frame_interval: 600.0,
        records_salt: 0,
        clean: Vec::new(),
        settings: Default::default(),
    }
}

fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn read(dir: &Path, t: Table) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(dir.join(format!("{}.csv", t.name()))).unwrap();
    let headers: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(headers, t.headers(), "{}", t.name());
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            assert_eq!(rec.len(), headers.len());
            headers.iter().cloned().zip(rec.iter().map(String::from)).collect()
        })
        .collect()
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let m = Models::load(None).unwrap();
    let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sa = generate(&config(a.path(), 5, true, true), &m.operations).unwrap();
    // The second run on one thread: output must not depend on the thread count.
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    one.install(|| generate(&config(b.path(), 5, true, true), &m.operations)).unwrap();
    generate(&config(c.path(), 6, true, true), &m.operations).unwrap();
    let (fa, fb, fc) = (files(a.path()), files(b.path()), files(c.path()));
    assert!(fa.len() > 12, "{:?}", fa.keys());
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (k, v) in &fa {
        assert!(fb[k] == *v, "{} differs between two runs with the same seed", k.display());
    }
    for name in ["attendance.csv", "exam_records.csv", "exam_responses.csv", "truth.csv"] {
        assert_ne!(fa[Path::new(name)], fc[Path::new(name)], "{name}");
    }
    assert!(sa.videos > 0);
    assert!(fa.contains_key(Path::new("certificates.xlsx")));
}

#[test]
fn tables_follow_the_contract_and_truth_names_real_records() {
    let m = Models::load(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s = generate(&config(d, 11, true, false), &m.operations).unwrap();
    let insts = read(d, Table::Institutions);
    let ids: BTreeSet<String> = insts.iter().map(|r| r["institution_id"].clone()).collect();
    assert_eq!(ids.len(), 10);
    for r in &insts {
        assert_eq!(r["region"].len(), 6);
        assert!(["training", "exam", "both"].contains(&r["kind"].as_str()));
    }
    let classes = read(d, Table::Classes);
    let att = read(d, Table::Attendance);
    let sessions = read(d, Table::ExamSessions);
    let records = read(d, Table::ExamRecords);
    let responses = read(d, Table::ExamResponses);
    let certs = read(d, Table::Certificates);
    let cctv = read(d, Table::Cctv);
    let calls = read(d, Table::Callbacks);
    assert!(!att.is_empty() && !records.is_empty() && !responses.is_empty() && !certs.is_empty() && !calls.is_empty());
    assert_eq!(s.rows.iter().find(|r| r.0 == "attendance").map(|r| r.1), Some(att.len() as u64));
    // Every operation resolves against the model, every foreign key resolves.
    let class_ids: BTreeSet<&str> = classes.iter().map(|r| r["class_id"].as_str()).collect();
    for r in &classes {
        assert!(m.operations.resolve(&r["operation"]).is_some());
        assert!(ids.contains(&r["institution_id"]));
        assert!(r["start_date"] <= r["end_date"]);
    }
    for r in &att {
        assert!(class_ids.contains(r["class_id"].as_str()));
        assert!(r["check_in"] < r["check_out"], "{r:?}");
    }
    let session_inst: BTreeMap<&str, &str> =
        sessions.iter().map(|r| (r["session_id"].as_str(), r["institution_id"].as_str())).collect();
    let record_ids: BTreeSet<&str> = records.iter().map(|r| r["record_id"].as_str()).collect();
    // Theory records carry 100 responses each.
    let theory: BTreeSet<&str> =
        sessions.iter().filter(|r| r["part"] == "theory").map(|r| r["session_id"].as_str()).collect();
    let n_theory = records.iter().filter(|r| theory.contains(r["session_id"].as_str())).count();
    assert_eq!(responses.len(), n_theory * 100);
    // IDs are valid except the made-up identities planted on purpose.
    let truth = read_truth(d);
    for r in records.iter() {
        let inst = session_inst[r["session_id"].as_str()];
        assert!(r["login_at"] <= r["submit_at"]);
        if !id_is_valid(&r["person_id"]) {
            assert!(truth[inst].contains("invalid_id_certs"), "{r:?}");
        }
        let score: f64 = r["score"].parse().unwrap();
        assert!((0.0..=100.0).contains(&score));
    }
    for r in &att {
        if !id_is_valid(&r["person_id"]) {
            let inst = &r["class_id"][..9];
            assert!(truth[inst].contains("invalid_id_certs"), "{r:?}");
        }
    }
    assert_eq!(truth.keys().cloned().collect::<BTreeSet<_>>(), ids);
    // Subjects exist in the tables they name.
    let persons: BTreeSet<&str> =
        att.iter().chain(&records).chain(&certs).chain(&calls).map(|r| r["person_id"].as_str()).collect();
    let cert_nos: BTreeSet<&str> = certs.iter().map(|r| r["cert_no"].as_str()).collect();
    let videos: BTreeSet<&str> = cctv.iter().map(|r| r["video_id"].as_str()).collect();
    let mut r = csv::Reader::from_path(d.join("truth_subjects.csv")).unwrap();
    assert_eq!(r.headers().unwrap(), vec!["institution_id", "pattern", "subject_kind", "subject_id"]);
    let mut n = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        n += 1;
        assert!(ids.contains(&rec[0]));
        assert!(truth[&rec[0]].split(';').any(|p| p == &rec[1]), "{rec:?}");
        let found = match &rec[2] {
            "person" => persons.contains(&rec[3]),
            "exam_record" => record_ids.contains(&rec[3]),
            "pair" => rec[3].split('|').all(|x| record_ids.contains(x)),
            "session" => session_inst.contains_key(&rec[3]),
            "class" => class_ids.contains(&rec[3]),
            "certificate" => cert_nos.contains(&rec[3]),
            "video" => videos.contains(&rec[3]),
            other => panic!("unknown subject kind {other}"),
        };
        assert!(found, "{rec:?}");
    }
    assert!(n > 0);
    // Every listed clip exists unless its footage is planted as missing.
    for v in &cctv {
        if !d.join(&v["file"]).exists() {
            assert!(truth[&v["institution_id"]].contains("footage_missing"), "{v:?}");
        }
    }
}

#[test]
fn mixed_formats_use_gbk_chinese_headers_and_xlsx() {
    use calamine::Reader;
    let m = Models::load(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    generate(&config(dir.path(), 2, false, true), &m.operations).unwrap();
    let bytes = std::fs::read(dir.path().join("callbacks.csv")).unwrap();
    assert!(std::str::from_utf8(&bytes).is_err(), "GBK, not UTF-8");
    let (text, _, bad) = encoding_rs::GBK.decode(&bytes);
    assert!(!bad);
    assert!(text.starts_with(&Table::Callbacks.headers_zh().join(",")));
    assert!(!dir.path().join("certificates.csv").exists());
    assert!(!dir.path().join("cctv.csv").exists());
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(dir.path().join("certificates.xlsx")).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let header: Vec<String> = range.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert_eq!(header, Table::Certificates.headers());
    assert!(range.height() > 1);
}

fn read_truth(d: &Path) -> BTreeMap<String, String> {
    let mut r = csv::Reader::from_path(d.join("truth.csv")).unwrap();
    assert_eq!(r.headers().unwrap(), vec!["institution_id", "honest_profile", "patterns"]);
    r.records()
        .map(|x| {
            let x = x.unwrap();
            (x[0].to_string(), x[2].to_string())
        })
        .collect()
}

/// Issue 15: an all-honest world with every honest profile on (station-
/// rotated and untimed practical exams, strong institutions, refresher
/// holders' old certificates) gives none of the findings those behaviours
/// used to cause.
#[test]
fn honest_profiles_alone_give_no_findings() {
    let m = Models::load(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), 5, false, false);
    cfg.institutions = 16;
    cfg.settings = Settings { honest: true, honest_profiles: true, intensity: Intensity::Mixed };
    generate(&cfg, &m.operations).unwrap();
    let mut r = csv::Reader::from_path(dir.path().join("truth.csv")).unwrap();
    let truth: Vec<(String, String)> =
        r.records().map(|x| x.unwrap()).map(|x| (x[1].to_string(), x[2].to_string())).collect();
    assert!(truth.iter().all(|(_, pats)| pats.is_empty()), "{truth:?}");
    assert!(truth.iter().any(|(p, _)| p.contains("station_rotation")), "{truth:?}");
    assert!(truth.iter().any(|(p, _)| p.contains("old_certificates")), "{truth:?}");
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
    let found = crate::checks::run_all(&ctx);
    for id in ["exam.seat_conflict", "cert.no_passing_exam", "cert.issued_before_exam", "exam.identical_responses"] {
        let hits: Vec<_> = found.iter().filter(|f| f.check == id).map(|f| (&f.institution_id, &f.summary_en)).collect();
        assert!(hits.is_empty(), "{id}: {hits:?}");
    }
}
