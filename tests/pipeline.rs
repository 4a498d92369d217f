//! End-to-end: `kaopei score` on the committed demo dataset — the stable
//! outputs, determinism across thread counts, sharding + merge, and that the
//! planted institutions of `truth.csv` score above the honest ones.

mod common;

use common::{demo, read_csv, Workdir};

fn bytes(p: std::path::PathBuf) -> Vec<u8> {
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn score_writes_the_stable_outputs_with_their_headers() {
    let w = Workdir::new();
    let out = w.path("out");
    w.run_ok(&["score", demo().to_str().unwrap(), "--out", out.to_str().unwrap(), "--no-html"], &[0, 1]);
    // DATA.md: the CSVs begin with a UTF-8 BOM (Excel/WPS read Chinese then).
    for name in ["scores.csv", "findings.csv", "flags.csv"] {
        assert!(bytes(out.join(name)).starts_with(b"\xEF\xBB\xBF"), "{name} has no BOM");
    }
    let first = |name: &str| {
        let text = String::from_utf8(bytes(out.join(name))).unwrap();
        text.trim_start_matches('\u{FEFF}').lines().next().unwrap_or("").to_string()
    };
    assert_eq!(first("scores.csv"), "institution_id,name,score,tier,findings,top_check");
    assert_eq!(first("findings.csv"), "institution_id,check,severity,statistic,p_value,summary");
    assert_eq!(first("flags.csv"), "institution_id,check,subject_kind,subject_id,strength");
    assert_eq!(
        first("examinees.csv"),
        "record_id,person_id,exam_institution_id,training_institution_id,speed_z,preknowledge_z,p_value,q_value"
    );
    assert!(out.join("kaopei.db").exists());

    // examinees.csv: one row per theory record it could score, sorted by
    // record id; q is BH of p (q >= p); every row at q < 0.05 is flagged.
    let ex = read_csv(&out.join("examinees.csv"));
    assert!(!ex.is_empty());
    assert!(ex.windows(2).all(|w| w[0]["record_id"] < w[1]["record_id"]));
    let flags = read_csv(&out.join("flags.csv"));
    for r in &ex {
        let (p, q): (f64, f64) = (r["p_value"].parse().unwrap(), r["q_value"].parse().unwrap());
        assert!(q >= p - 1e-12 && (0.0..=1.0).contains(&q), "{r:?}");
        if q < 0.05 {
            assert!(
                flags.iter().any(|g| g["subject_kind"] == "exam_record"
                    && g["subject_id"] == r["record_id"]
                    && g["check"] == "exam.examinee_lead"),
                "{} not flagged",
                r["record_id"]
            );
        }
    }

    let scores = read_csv(&out.join("scores.csv"));
    let institutions = read_csv(&demo().join("institutions.csv"));
    assert_eq!(scores.len(), institutions.len(), "one score row per institution");
    for s in &scores {
        let v: f64 = s["score"].parse().unwrap();
        assert!((0.0..=100.0).contains(&v));
        assert!(["red", "orange", "yellow", "green", "not_audited"].contains(&s["tier"].as_str()));
    }
    let sources = ["training.", "exam.", "cert.", "cctv.", "callback."];
    for f in read_csv(&out.join("findings.csv")) {
        assert!(sources.iter().any(|p| f["check"].starts_with(p)), "{}", f["check"]);
        let sev: f64 = f["severity"].parse().unwrap();
        assert!((0.0..=1.0).contains(&sev));
    }
    let kinds = ["person", "exam_record", "attendance", "class", "session", "pair", "certificate", "video"];
    for g in read_csv(&out.join("flags.csv")) {
        assert!(kinds.contains(&g["subject_kind"].as_str()), "{}", g["subject_kind"]);
        if g["subject_kind"] == "pair" {
            let (a, b) = g["subject_id"].split_once('|').expect("pair id A|B");
            assert!(a < b);
        }
    }
}

#[test]
fn planted_institutions_score_above_honest_ones() {
    let w = Workdir::new();
    let out = w.path("out");
    w.run_ok(&["score", demo().to_str().unwrap(), "--out", out.to_str().unwrap(), "--no-html"], &[0, 1]);
    let truth = read_csv(&demo().join("truth.csv"));
    let scores = read_csv(&out.join("scores.csv"));
    let score_of = |id: &str| -> f64 {
        scores.iter().find(|s| s["institution_id"] == id).map(|s| s["score"].parse().unwrap()).unwrap()
    };
    let (mut planted, mut honest) = (Vec::new(), Vec::new());
    for t in &truth {
        let s = score_of(&t["institution_id"]);
        if t["patterns"].trim().is_empty() {
            honest.push(s)
        } else {
            planted.push(s)
        }
    }
    assert!(!planted.is_empty() && !honest.is_empty());
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(mean(&planted) > mean(&honest) + 20.0, "planted {planted:?} honest {honest:?}");
    // No honest institution of the demo is red.
    for t in truth.iter().filter(|t| t["patterns"].trim().is_empty()) {
        let tier = &scores.iter().find(|s| s["institution_id"] == t["institution_id"]).unwrap()["tier"];
        assert_ne!(tier, "red", "honest {} is red", t["institution_id"]);
    }
}

#[test]
fn outputs_do_not_depend_on_thread_count_or_sharding() {
    let w = Workdir::new();
    let d = demo();
    let ds = d.to_str().unwrap();
    let run = |out: &str, extra: &[&str]| {
        let mut args = vec!["score", ds, "--out", out, "--no-html"];
        args.extend_from_slice(extra);
        w.run_ok(&args, &[0, 1]);
    };
    run("j1", &["--jobs", "1"]);
    run("j4", &["--jobs", "4"]);
    run("s1", &["--shard", "1/3"]);
    run("s2", &["--shard", "2/3"]);
    run("s3", &["--shard", "3/3"]);
    w.run_ok(&["merge", "--out", "merged", "s1", "s2", "s3"], &[0, 1]);
    for f in ["scores.csv", "findings.csv", "flags.csv", "examinees.csv"] {
        let j1 = bytes(w.path("j1").join(f));
        assert_eq!(j1, bytes(w.path("j4").join(f)), "{f} differs between --jobs 1 and 4");
        assert_eq!(j1, bytes(w.path("merged").join(f)), "{f} differs between sharded+merged and one run");
    }
    // Each shard records its K/N: merge refuses an incomplete, doubled or
    // mixed set, and folders that are not shard outputs.
    for (set, says) in [
        (&["s1", "s2"][..], "incomplete shard set: 2 of 3 shards given, missing 3/3"),
        (&["s1", "s2", "s2"][..], "shard 2/3 is given twice"),
        (&["s1", "s2", "j1"][..], "it is not the output of `kaopei score --shard K/N`"),
    ] {
        let mut args = vec!["merge", "--out", "bad"];
        args.extend_from_slice(set);
        let o = w.run(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{set:?}: {err}");
        assert!(err.contains(says), "{set:?}: {err}");
    }
    // A second identical run gives byte-identical files; a batch job can
    // ask for exit 0 although red institutions were found.
    w.run_ok(&["score", ds, "--out", "again", "--no-html", "--jobs", "2", "--exit-zero-on-red"], &[0]);
    for f in ["scores.csv", "findings.csv", "flags.csv", "kaopei.xlsx"] {
        assert_eq!(bytes(w.path("j1").join(f)), bytes(w.path("again").join(f)), "{f}");
    }
}

/// Issue 18: `kaopei.xlsx` beside the CSVs, read back with calamine:
/// Chinese headers, ID numbers as 18-character text cells, the Chinese
/// summaries.
#[test]
fn score_writes_an_excel_workbook_with_ids_as_text() {
    use calamine::{Data, DataType, Reader};
    let w = Workdir::new();
    let out = w.path("out");
    w.run_ok(&["score", demo().to_str().unwrap(), "--out", out.to_str().unwrap(), "--no-html", "--unmasked"], &[0, 1]);
    let mut wb = calamine::open_workbook_auto(out.join("kaopei.xlsx")).unwrap();
    let names = wb.sheet_names();
    for want in ["评分", "发现", "标记", "未审计", "拒收行", "字段缺陷"] {
        assert!(names.iter().any(|n| n == want), "no sheet {want}: {names:?}");
    }
    let scores = wb.worksheet_range("评分").unwrap();
    assert_eq!(scores.get((0, 0)), Some(&Data::String("机构编号".into())));
    assert_eq!(scores.height() - 1, read_csv(&out.join("scores.csv")).len());
    let findings = wb.worksheet_range("发现").unwrap();
    assert_eq!(findings.get((0, 5)), Some(&Data::String("摘要".into())));
    let zh = findings.rows().skip(1).filter_map(|r| r[5].as_string()).filter(|s| s.chars().any(|c| c > '\u{4e00}'));
    assert!(zh.count() > 0, "Chinese summaries");
    let flags = wb.worksheet_range("标记").unwrap();
    let ids: Vec<String> = flags
        .rows()
        .skip(1)
        .filter(|r| r[2] == Data::String("person".into()))
        .map(|r| match &r[3] {
            Data::String(s) => s.clone(),
            other => panic!("an ID as a non-text cell: {other:?}"),
        })
        .collect();
    assert!(!ids.is_empty() && ids.iter().all(|s| s.len() == 18), "{ids:?}");
}

#[test]
fn suspect_items_from_the_inspector_are_used() {
    let w = Workdir::new();
    // The first 15 item ids of the demo's answers, for every operation.
    let items: Vec<String> = {
        let mut v: Vec<String> =
            read_csv(&demo().join("exam_responses.csv")).into_iter().map(|r| r["item_id"].clone()).collect();
        v.sort();
        v.dedup();
        v.truncate(15);
        v
    };
    let list = format!("\u{feff}item_id,operation\n{}\n", items.join(",\n"));
    w.write("suspect.csv", list);
    let ds = demo();
    w.run_ok(&["score", ds.to_str().unwrap(), "--out", "out", "--no-html", "--suspect-items", "suspect.csv"], &[0, 1]);
    let ex = read_csv(&w.path("out").join("examinees.csv"));
    assert!(ex.iter().any(|r| !r["preknowledge_z"].is_empty()), "the outside set gives preknowledge statistics");
    // A file without an item_id column is an error naming it.
    w.write("bad.csv", "item,operation\nQ1,\n");
    let o = w.run(&["score", ds.to_str().unwrap(), "--out", "out2", "--no-html", "--suspect-items", "bad.csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("item_id"));
}

#[test]
fn a_dataset_with_only_institutions_is_not_audited() {
    let w = Workdir::new();
    w.write("ds/institutions.csv", "institution_id,name,kind,region\nA1,甲培训中心,training,410100\n");
    let o = w.run_ok(&["score", "ds", "--out", "out", "--no-html"], &[0]);
    assert!(o.status.success());
    let scores = read_csv(&w.path("out/scores.csv"));
    assert_eq!(scores.len(), 1);
    assert_eq!(scores[0]["tier"], "not_audited");
}

#[test]
fn errors_name_the_problem_and_exit_2() {
    let w = Workdir::new();
    let o = w.run(&["score", "no-such-folder", "--out", "out"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no-such-folder"), "{err}");
    let o = w.run(&["score", "ds", "--out", "out", "--shard", "5/3"]);
    assert_eq!(o.status.code(), Some(2));
}
