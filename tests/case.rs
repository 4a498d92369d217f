//! The inspector's case end to end on a synthetic dataset: score → decide
//! (confirm two findings, dismiss one) → notice (DOCX names the confirmed
//! findings and the deadline) → the dataset continued into a new period →
//! compare → 复查意见书; then the same follow-up with an earlier record
//! edited (数据被改动, the record named), and a hand-over bundle that
//! `verify --bundle` accepts intact and refuses after one file changed.

mod common;

use std::io::{Read, Write};

use common::Workdir;

fn text(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn zip_entry(path: &std::path::Path, name: &str) -> String {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut s = String::new();
    z.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

/// The institution with the most findings and its checks, from findings.csv.
fn busiest(findings: &[std::collections::HashMap<String, String>]) -> (String, Vec<String>) {
    let mut by: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for f in findings {
        by.entry(f["institution_id"].as_str()).or_default().push(f["check"].as_str());
    }
    let (id, checks) = by.into_iter().max_by_key(|(_, c)| c.len()).unwrap();
    (id.to_string(), checks.into_iter().map(str::to_string).collect())
}

fn latest_score_run(db: &std::path::Path) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("SELECT MAX(run_id) FROM runs WHERE command = 'score'", [], |r| r.get(0)).unwrap()
}

#[test]
fn the_whole_case_from_findings_to_the_review_opinion() {
    let w = Workdir::new();
    w.run_ok(&["synth", "--out", "ds", "--institutions", "6", "--seed", "3", "--no-video"], &[0]);
    w.run_ok(&["score", "ds", "--out", "out"], &[0, 1]);
    let db = "out/kaopei.db";
    let findings = common::read_csv(&w.path("out/findings.csv"));
    let (inst, checks) = busiest(&findings);
    assert!(checks.len() >= 3, "{inst}: {checks:?}");
    let (c1, c2, c3) = (&checks[0], &checks[1], &checks[2]);

    // Decide: confirm one, order rectification of another (which confirms it), dismiss a third.
    let by = "王检查（执法证 41000123）";
    w.run_ok(&["decide", "--db", db, "--institution", &inst, "--check", c1, "--action", "confirm", "--by", by], &[0]);
    w.run_ok(
        &[
            "decide",
            "--db",
            db,
            "--institution",
            &inst,
            "--check",
            c2,
            "--action",
            "rectify",
            "--deadline",
            "2025-03-31",
            "--item",
            "重新组织培训并补足学时",
            "--by",
            by,
        ],
        &[0],
    );
    // A dismissal without a reason is refused; with one it is recorded.
    let o = w.run(&["decide", "--db", db, "--institution", &inst, "--check", c3, "--action", "dismiss", "--by", by]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    w.run_ok(
        &[
            "decide",
            "--db",
            db,
            "--institution",
            &inst,
            "--check",
            c3,
            "--action",
            "dismiss",
            "--reason",
            "经现场核实系设备原因",
            "--by",
            by,
        ],
        &[0],
    );
    let summary = text(&w.run_ok(&["decide", "--db", db, "--summary"], &[0]));
    assert!(summary.contains(&format!("{c3}\t1\t1\t1.00")), "{summary}");
    assert!(summary.contains(&format!("{c1}\t1\t0\t0.00")) && summary.contains("经现场核实系设备原因"), "{summary}");
    let v = text(&w.run_ok(&["verify", "--db", db], &[0]));
    assert!(v.contains("intact"), "{v}");

    // Decisions are append-only, and a change behind the trigger's back shows in verify.
    {
        let c = rusqlite::Connection::open(w.path(db)).unwrap();
        assert!(c.execute("UPDATE decisions SET decided_by = 'x'", []).is_err());
        c.execute_batch("DROP TRIGGER decisions_no_update; UPDATE decisions SET decided_by = '李四' WHERE id = 1;")
            .unwrap();
    }
    let o = w.run(&["verify", "--db", db]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("run 2: stored findings/flags/scores rows differ"), "{}", text(&o));
    {
        let c = rusqlite::Connection::open(w.path(db)).unwrap();
        c.execute("UPDATE decisions SET decided_by = ?1 WHERE id = 1", [by]).unwrap();
    }
    w.run_ok(&["verify", "--db", db], &[0]);

    // The report shows the decisions, the dismissal with its reason, and the dismissal rates.
    w.run_ok(&["report", "--db", db, "--run", "1"], &[0]);
    let page = std::fs::read_to_string(w.path(&format!("out/reports/{inst}.html"))).unwrap();
    assert!(page.contains("检查人员决定") && page.contains("不予认定") && page.contains("经现场核实系设备原因"));
    let index = std::fs::read_to_string(w.path("out/index.html")).unwrap();
    assert!(index.contains("各检查项的不予认定比例"));

    // The notice: the confirmed findings, their deadline, not the dismissed one.
    let o = w.run_ok(&["notice", "--db", db, "--institution", &inst], &[0]);
    let docx = w.path(&format!("out/notices/{inst}_run1_notice.docx"));
    assert!(docx.is_file(), "{}", text(&o));
    let xml = zip_entry(&docx, "word/document.xml");
    for c in [c1, c2] {
        assert!(xml.contains(c.as_str()), "notice names {c}");
    }
    assert!(!xml.contains(c3.as_str()), "the dismissed finding is not in the notice");
    assert!(xml.contains("2025-03-31") && xml.contains("整改通知书") && xml.contains("重新组织培训并补足学时"));
    assert!(xml.contains("依据："), "legal basis line present");

    // The month's statistics table (附件1): the decisions counted in the right cells.
    let month: String = {
        let c = rusqlite::Connection::open(w.path(db)).unwrap();
        c.query_row("SELECT substr(decided_at, 1, 7) FROM decisions WHERE id = 1", [], |r| r.get(0)).unwrap()
    };
    w.run_ok(&["stats", "--db", db, "--month", &month, "--months", "2", "--out", "stats.xlsx"], &[0]);
    {
        use calamine::{open_workbook, Data, Reader, Xlsx};
        let mut wb: Xlsx<_> = open_workbook(w.path("stats.xlsx")).unwrap();
        let sheet = wb.worksheet_range("附件1").unwrap();
        let cell = |r: u32, c: u32| sheet.get_value((r, c)).cloned().unwrap_or(Data::Empty);
        assert!(matches!(cell(0, 0), Data::String(s) if s.ends_with("月份工作情况统计表")));
        assert_eq!(cell(2, 1), Data::String("对企业执法检查情况".into()));
        assert_eq!(cell(3, 3), Data::String("查出企业问题总数（项）".into()));
        let total = (4..40).find(|&r| cell(r, 0) == Data::String("合计".into())).expect("total row");
        let num = |c: u32| match cell(total, c) {
            Data::Float(f) => f,
            other => panic!("column {c}: {other:?}"),
        };
        assert_eq!((num(1), num(3), num(4), num(5), num(6)), (1.0, 2.0, 1.0, 0.0, 0.0), "inspected, problems, orders");
        assert_eq!(cell(total, 9), Data::Empty, "other departments' columns are left for manual entry");
    }

    // The follow-up: the dataset continued into the next months, earlier files unchanged.
    w.run_ok(
        &[
            "synth",
            "--out",
            "ds2",
            "--institutions",
            "6",
            "--seed",
            "3",
            "--no-video",
            "--continue-from",
            "ds",
            "--rectified",
            &inst,
        ],
        &[0],
    );
    for t in ["attendance", "exam_records", "exam_sessions", "certificates", "classes"] {
        let a = std::fs::read(w.path(&format!("ds/{t}.csv"))).unwrap();
        let b = std::fs::read(w.path(&format!("ds2/{t}.csv"))).unwrap();
        assert!(b.len() > a.len() && b.starts_with(&a), "{t}: earlier rows first, unchanged");
    }
    w.run_ok(&["score", "ds2", "--out", "out"], &[0, 1]);
    let run_b = latest_score_run(&w.path(db)).to_string();
    let o = w.run_ok(&["compare", "--db", db, "--institution", &inst, "1", &run_b], &[0, 1]);
    let out = text(&o);
    assert!(!out.contains("数据被改动"), "{out}");
    let review = w.path(&format!("out/followup/{inst}_run1_run{run_b}_review.docx"));
    let xml = zip_entry(&review, "word/document.xml");
    assert!(xml.contains("复查意见书") && xml.contains("2025-03-31"), "review opinion with the deadline");
    assert!(xml.contains(c1.as_str()) && xml.contains(c2.as_str()) && xml.contains("不予认定"));
    let page = std::fs::read_to_string(w.path(&format!("out/followup/{inst}_run1_run{run_b}.html"))).unwrap();
    assert!(page.contains("逐条复查结论") && page.contains("原核查期间"), "periods stated");

    // The same follow-up with one cited earlier record edited: 数据被改动, the record named.
    let cited: Vec<(String, String)> = {
        let c = rusqlite::Connection::open(w.path(db)).unwrap();
        let mut st = c.prepare("SELECT json FROM decisions ORDER BY id").unwrap();
        let js: Vec<String> = st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        js.iter()
            .map(|j| serde_json::from_str::<kaopei::case::Decision>(j).unwrap())
            .flat_map(|d| d.cited.into_iter().map(|r| (r.table, r.key)))
            .collect()
    };
    let (table, key) = cited
        .iter()
        .find(|(t, k)| (t == "attendance" || t == "exam_records") && !k.contains('#'))
        .expect("a cited attendance or exam record")
        .clone();
    copy_dir(&w.path("ds2"), &w.path("ds3"));
    let path = w.path(&format!("ds3/{table}.csv"));
    let csv = std::fs::read_to_string(&path).unwrap();
    let mut edited = 0;
    let new: Vec<String> = csv
        .lines()
        .map(|l| {
            if l.starts_with(&format!("{key},")) {
                edited += 1;
                // The last column is face_score in both tables.
                let (head, _) = l.rsplit_once(',').unwrap();
                format!("{head},0.999")
            } else {
                l.to_string()
            }
        })
        .collect();
    assert_eq!(edited, 1, "{key} in {table}.csv");
    std::fs::write(&path, new.join("\n") + "\n").unwrap();
    w.run_ok(&["score", "ds3", "--out", "out"], &[0, 1]);
    let run_c = latest_score_run(&w.path(db)).to_string();
    let o = w.run(&["compare", "--db", db, "--institution", &inst, "1", &run_c]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("数据被改动，无法认定整改") && out.contains(&key) && out.contains("face_score"), "{out}");
    let page = std::fs::read_to_string(w.path(&format!("out/followup/{inst}_run1_run{run_c}.html"))).unwrap();
    let list = page.find("被改动或删除的原核查记录").expect("changed records listed");
    assert!(list < page.find("逐项").unwrap_or(usize::MAX).min(page.find("<table><thead><tr><th>经认定").unwrap()));
    let xml = zip_entry(&w.path(&format!("out/followup/{inst}_run1_run{run_c}_review.docx")), "word/document.xml");
    assert!(xml.contains("数据被改动，无法认定整改") && xml.contains("face_score"));

    // The hand-over bundle: intact, then one file changed.
    let o = w.run_ok(&["bundle", "--db", db, "--institution", &inst, "--run", "1", "--out", "b.zip", "--no-pdf"], &[0]);
    assert!(text(&o).contains("ledger head"), "{}", text(&o));
    let manifest = zip_entry(&w.path("b.zip"), "manifest.json");
    assert!(
        manifest.contains("evidence/flags.csv")
            && manifest.contains("decisions.json")
            && manifest.contains("README.txt")
    );
    assert!(zip_entry(&w.path("b.zip"), "README.txt").contains("如何核验"));
    assert!(zip_entry(&w.path("b.zip"), "evidence/flags.csv").lines().count() > 1);
    let ok = w.run_ok(&["verify", "--bundle", "b.zip"], &[0]);
    assert!(text(&ok).contains("intact"), "{}", text(&ok));
    tamper(&w.path("b.zip"), &w.path("t.zip"), "decisions.json");
    let bad = w.run(&["verify", "--bundle", "t.zip"]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(text(&bad).contains("`decisions.json` changed"), "{}", text(&bad));
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.path().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Rewrites the ZIP with `name`'s content altered.
fn tamper(from: &std::path::Path, to: &std::path::Path, name: &str) {
    let mut z = zip::ZipArchive::new(std::fs::File::open(from).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        let n = e.name().to_string();
        let mut b = Vec::new();
        e.read_to_end(&mut b).unwrap();
        if n == name {
            b = String::from_utf8(b).unwrap().replace("王检查", "张冒名").into_bytes();
        }
        out.start_file(n, zip::write::SimpleFileOptions::default()).unwrap();
        out.write_all(&b).unwrap();
    }
    out.finish().unwrap();
}
