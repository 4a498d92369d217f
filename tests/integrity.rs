//! Evidence that holds up, end to end with the real binary: every command
//! that writes files records them in the hash-chained run ledger, `kaopei
//! verify` notices each kind of change (output edited or deleted, run row
//! altered, input changed), and a `score` killed at any point leaves a
//! consistent store and whole files, and re-runs to the same outputs.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use common::Workdir;

fn kaopei() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kaopei"))
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A small synthetic dataset without video (fast), in `w/NAME`.
fn synth(w: &Workdir, name: &str, institutions: &str) -> PathBuf {
    w.run_ok(&["synth", "--out", name, "--institutions", institutions, "--seed", "3", "--no-video"], &[0]);
    w.path(name)
}

/// `kaopei verify ARGS` → (exit code, output).
fn verify(w: &Workdir, args: &[&str]) -> (i32, String) {
    let o = w.run(&[&["verify"], args].concat());
    (o.status.code().unwrap_or(-1), text(&o))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn flip_byte(path: &Path, at: usize) {
    let mut b = std::fs::read(path).unwrap();
    let i = at.min(b.len() - 1);
    b[i] ^= 0x01;
    std::fs::write(path, b).unwrap();
}

#[test]
fn verify_notices_every_kind_of_change() {
    let w = Workdir::new();
    synth(&w, "ds", "6");
    w.run_ok(&["score", "ds", "--out", "out"], &[0, 1]);
    // A second run (re-rendering) so the chain has a link to break.
    w.run_ok(&["report", "--db", "out/kaopei.db", "--lang", "en", "--out", "out/en"], &[0]);

    let (code, msg) = verify(&w, &["--db", "out/kaopei.db", "--dataset", "ds"]);
    assert_eq!(code, 0, "{msg}");
    assert!(msg.contains("intact"), "{msg}");

    // One byte of scores.csv.
    copy_dir(&w.path("out"), &w.path("edited"));
    flip_byte(&w.path("edited/scores.csv"), 40);
    let (code, msg) = verify(&w, &["--db", "edited/kaopei.db"]);
    assert_eq!(code, 1, "{msg}");
    assert!(msg.contains("run 1 (score): output `scores.csv` changed"), "{msg}");
    assert_eq!(msg.lines().filter(|l| l.starts_with("run ")).count(), 1, "{msg}");

    // A deleted report page.
    copy_dir(&w.path("out"), &w.path("deleted"));
    let page = std::fs::read_dir(w.path("deleted/reports")).unwrap().next().unwrap().unwrap().file_name();
    let page = page.to_string_lossy();
    std::fs::remove_file(w.path("deleted/reports").join(&*page)).unwrap();
    let (code, msg) = verify(&w, &["--db", "deleted/kaopei.db"]);
    assert_eq!(code, 1, "{msg}");
    assert!(msg.contains(&format!("output `reports/{page}` is missing")), "{msg}");
    // Only run 1 is concerned; asking for run 2 alone finds its files intact.
    let (code, msg) = verify(&w, &["--db", "deleted/kaopei.db", "--run", "2"]);
    assert_eq!(code, 0, "{msg}");

    // A stored run row altered behind the ledger's back.
    for (name, sql, expect) in [
        (
            "args",
            "UPDATE runs SET args = '[\"score\",\"other\",\"--out\",\"out\"]' WHERE run_id = 1",
            "run 1: stored args differ from the hashed run record",
        ),
        ("hash", "UPDATE runs SET hash = substr(hash, 2) || '0' WHERE run_id = 1", "run 2: previous-hash link broken"),
        (
            "finding",
            "UPDATE findings SET severity = severity / 2 WHERE id = 1",
            "run 1: stored findings/flags/scores rows",
        ),
        ("outputs", "UPDATE runs SET outputs = '[]' WHERE run_id = 2", "run 2: stored outputs differ"),
    ] {
        let dir = format!("tampered-{name}");
        copy_dir(&w.path("out"), &w.path(&dir));
        let db = w.path(&dir).join("kaopei.db");
        let conn = rusqlite::Connection::open(&db).unwrap();
        assert_eq!(conn.execute(sql, []).unwrap(), 1, "{sql}");
        drop(conn);
        let (code, msg) = verify(&w, &["--db", db.to_str().unwrap()]);
        assert_eq!(code, 1, "{name}: {msg}");
        assert!(msg.contains(expect), "{name}: expected `{expect}` in\n{msg}");
    }

    // An input file of the dataset changed after the run.
    copy_dir(&w.path("ds"), &w.path("ds2"));
    flip_byte(&w.path("ds2/attendance.csv"), 200);
    let (code, msg) = verify(&w, &["--db", "out/kaopei.db", "--dataset", "ds2"]);
    assert_eq!(code, 1, "{msg}");
    assert!(msg.contains("run 1 (score): input `attendance.csv` changed"), "{msg}");
    std::fs::remove_file(w.path("ds2/callbacks.csv")).unwrap();
    let (_, msg) = verify(&w, &["--db", "out/kaopei.db", "--dataset", "ds2"]);
    assert!(msg.contains("input `callbacks.csv` is missing"), "{msg}");
    // Without --dataset inputs are not looked at.
    assert_eq!(verify(&w, &["--db", "out/kaopei.db"]).0, 0);

    // Usage and IO errors.
    let (code, msg) = verify(&w, &["--db", "nowhere.db"]);
    assert_eq!(code, 2, "{msg}");
    assert!(msg.contains("does not exist"), "{msg}");
    let (code, msg) = verify(&w, &["--db", "out/kaopei.db", "--run", "99"]);
    assert_eq!(code, 2, "{msg}");
    assert!(msg.contains("run 99 is not in store"), "{msg}");
    let (code, _) = verify(&w, &["--db", "out/kaopei.db", "--dataset", "nowhere"]);
    assert_eq!(code, 2);
    w.write("not_a_store.db", "hello");
    assert_eq!(verify(&w, &["--db", "not_a_store.db"]).0, 2);
}

#[test]
fn every_command_that_writes_files_records_them() {
    let w = Workdir::new();
    synth(&w, "ds", "6");
    let db = "out/kaopei.db";
    w.run_ok(&["score", "ds", "--out", "out"], &[0, 1]);
    w.run_ok(&["audit", "ds", "--out", "out", "--institution", "411000001"], &[0, 1]);
    w.run_ok(&["report", "--db", db, "--run", "1", "--institution", "411000001"], &[0]);
    w.run_ok(&["compare", "--db", db, "--institution", "411000001", "1", "2"], &[0, 1]);
    w.run_ok(&["score", "ds", "--out", "s1", "--shard", "1/2", "--no-html"], &[0, 1]);
    w.run_ok(&["score", "ds", "--out", "s2", "--shard", "2/2", "--no-html"], &[0, 1]);
    w.run_ok(&["merge", "--out", "out/merged", "--db", db, "s1", "s2"], &[0, 1]);
    let certs = common::read_csv(&w.path("ds/certificates.csv"));
    let mut roster = String::from("name,person_id,cert_no,operation\n");
    for c in certs.iter().take(5) {
        roster.push_str(&format!("{},{},{},{}\n", c["name"], c["person_id"], c["cert_no"], c["operation"]));
    }
    w.write("roster.csv", roster);
    let vc = ["verify-certs", "roster.csv", "--registry", "ds", "--out", "out/certs.csv", "--db", db];
    w.run_ok(&vc, &[0]);
    let sc = ["sample-callbacks", "ds", "--institution", "411000001", "--n", "5", "--seed", "9"];
    w.run_ok(&[&sc[..], &["--out", "out/calls.csv", "--db", db]].concat(), &[0]);

    let conn = rusqlite::Connection::open(w.path(db)).unwrap();
    let mut st = conn.prepare("SELECT command, status, outputs, inputs FROM runs ORDER BY run_id").unwrap();
    let runs: Vec<(String, String, String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let commands: Vec<&str> = runs.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(commands, ["score", "audit", "report", "compare", "merge", "verify-certs", "sample-callbacks"]);
    for (cmd, status, outputs, inputs) in &runs {
        assert_eq!(status, "ok", "{cmd}");
        let outs: Vec<serde_json::Value> = serde_json::from_str(outputs).unwrap();
        assert!(!outs.is_empty(), "{cmd} recorded no outputs");
        for o in &outs {
            assert_eq!(o["sha256"].as_str().unwrap().len(), 64, "{cmd}: {o}");
            assert!(o["size"].as_u64().unwrap() > 0, "{cmd}: {o}");
        }
        let ins: Vec<serde_json::Value> = serde_json::from_str(inputs).unwrap();
        assert!(!ins.is_empty(), "{cmd} recorded no inputs");
    }
    let out_of = |cmd: &str| runs.iter().find(|r| r.0 == cmd).map(|r| r.2.clone()).unwrap();
    assert!(out_of("score").contains("\"scores.csv\"") && out_of("score").contains("index.html"));
    assert!(out_of("merge").contains("merged/flags.csv"));
    assert!(out_of("compare").contains("followup/"));
    assert!(out_of("verify-certs").contains("certs.csv"));
    assert!(out_of("sample-callbacks").contains("calls.csv"));

    let (code, msg) = verify(&w, &["--db", db, "--dataset", "ds"]);
    assert_eq!(code, 0, "{msg}");
    // The call sheet is re-checked too.
    flip_byte(&w.path("out/calls.csv"), 10);
    let (code, msg) = verify(&w, &["--db", db]);
    assert_eq!(code, 1, "{msg}");
    assert!(msg.contains("run 7 (sample-callbacks): output `calls.csv` changed"), "{msg}");
    // So is each shard file merge read.
    flip_byte(&w.path("s1/scores.csv"), 60);
    let (_, msg) = verify(&w, &["--db", db, "--dataset", "ds"]);
    assert!(msg.contains("run 5 (merge): input `"), "{msg}");
}

/// The run-specific fields of a rendered page: the run number, its start
/// time and the rectification deadline counted from it. Everything else
/// must be byte-identical between two runs on the same data.
fn normalise_html(s: &str) -> String {
    let run = regex::Regex::new(r"(<dt>运行编号</dt><dd>)\d+(</dd>)").unwrap();
    let started = regex::Regex::new(r"(<dt>运行时间</dt><dd>)[^<]*(</dd>)").unwrap();
    let due = regex::Regex::new(r#"(<td class="mono">)\d{4}-\d{2}-\d{2}(</td><td class="status">)"#).unwrap();
    let s = run.replace_all(s, "${1}RUN${2}");
    let s = started.replace_all(&s, "${1}STARTED${2}");
    due.replace_all(&s, "${1}DEADLINE${2}").into_owned()
}

fn files_under(dir: &Path, rel: &str, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir.join(rel)).unwrap() {
        let e = e.unwrap();
        let name = format!("{rel}{}", e.file_name().to_string_lossy());
        if e.file_type().unwrap().is_dir() {
            files_under(dir, &format!("{name}/"), out);
        } else if !name.starts_with("kaopei.db") {
            out.push(name);
        }
    }
}

#[test]
fn a_killed_score_reruns_to_the_same_outputs() {
    let w = Workdir::new();
    let ds = synth(&w, "ds", "30");
    let score = |out: &str| {
        let mut c = kaopei();
        c.args(["score", ds.to_str().unwrap(), "--out", out]).current_dir(w.dir.path());
        c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        c
    };
    let t0 = Instant::now();
    let st = score("a").status().unwrap();
    let took = t0.elapsed();
    assert!(matches!(st.code(), Some(0 | 1)), "{st:?}");

    let csvs = ["scores.csv", "findings.csv", "flags.csv"];
    let mut killed = 0;
    // Each kill point in a fresh folder, so that it falls at that fraction
    // of a cold run like the one measured (read, ingest, checks, outputs).
    for (k, frac) in [0.15, 0.4, 0.65, 0.9].into_iter().enumerate() {
        let b = format!("b{k}");
        let b = b.as_str();
        let mut child = score(b).spawn().unwrap();
        std::thread::sleep(took.mul_f64(frac));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            killed += 1;
        }
        child.wait().unwrap();

        // (Killed while still reading, the run has no store yet.)
        if w.path(b).join("kaopei.db").exists() {
            // Read-only verify first: it must get past a killed writer's
            // hot journal (and see the last committed state).
            let (code, msg) = verify(&w, &["--db", &format!("{b}/kaopei.db")]);
            assert_eq!(code, 0, "verify right after a kill at {frac}: {msg}");
            let conn = rusqlite::Connection::open(w.path(b).join("kaopei.db")).unwrap();
            let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
            assert_eq!(ok, "ok", "store damaged after a kill at {frac} of the run");
        }
        // Whatever output exists is whole: an earlier complete run's, never half of one.
        for f in csvs {
            if let Ok(bytes) = std::fs::read(w.path(b).join(f)) {
                assert!(bytes == std::fs::read(w.path("a").join(f)).unwrap(), "{f} partial after a kill at {frac}");
            }
        }

        let st = score(b).status().unwrap();
        assert!(matches!(st.code(), Some(0 | 1)), "re-run after a kill at {frac}: {st:?}");
        for f in csvs {
            let (x, y) = (std::fs::read(w.path("a").join(f)).unwrap(), std::fs::read(w.path(b).join(f)).unwrap());
            assert!(x == y, "{f} differs from the uninterrupted run after a kill at {frac}");
        }
        let (mut pages_a, mut pages_b) = (Vec::new(), Vec::new());
        files_under(&w.path("a"), "", &mut pages_a);
        files_under(&w.path(b), "", &mut pages_b);
        pages_a.sort();
        pages_b.sort();
        assert_eq!(pages_a, pages_b, "output files differ (a leftover temporary?)");
        for p in pages_a.iter().filter(|p| p.ends_with(".html")) {
            let read = |d: &str| String::from_utf8(std::fs::read(w.path(d).join(p)).unwrap()).unwrap();
            assert!(normalise_html(&read("a")) == normalise_html(&read(b)), "{p} differs after a kill at {frac}");
        }
        let db = format!("{b}/kaopei.db");
        let (code, msg) = verify(&w, &["--db", &db, "--dataset", "ds"]);
        assert_eq!(code, 0, "{msg}");
    }
    // At least some of the kill points must have landed inside a run.
    assert!(killed >= 2, "only {killed} of 4 runs were still going when killed (run took {took:?})");
}

/// Issue 18: one store across months. Each run's inputs are checked in the
/// folder that run read, so `verify --dataset` on this month does not call
/// last month's files missing or changed; `kaopei runs` lists both runs.
#[test]
fn verify_dataset_on_a_store_used_across_months_checks_each_run_against_its_own_inputs() {
    let w = Workdir::new();
    let july = synth(&w, "2024-07", "6");
    let aug = w.path("2024-08");
    copy_dir(&july, &aug);
    // August has no callbacks and a different attendance file.
    std::fs::remove_file(aug.join("callbacks.csv")).ok();
    let att = std::fs::read_to_string(aug.join("attendance.csv")).unwrap();
    let keep: Vec<&str> = att.lines().take(att.lines().count() / 2).collect();
    std::fs::write(aug.join("attendance.csv"), keep.join("\n") + "\n").unwrap();
    for m in ["2024-07", "2024-08"] {
        let o = w.run_ok(&["score", m, "--out", &format!("out/{m}"), "--db", "store.db", "--no-html"], &[0, 1]);
        assert!(text(&o).contains("kaopei: run "), "score prints its run id: {}", text(&o));
    }
    let (code, msg) = verify(&w, &["--db", "store.db", "--dataset", "2024-08"]);
    assert_eq!(code, 0, "{msg}");
    assert!(msg.contains(": intact"), "{msg}");
    // A real change in July's own file is still found.
    flip_byte(&july.join("institutions.csv"), 30);
    let (code, msg) = verify(&w, &["--db", "store.db", "--dataset", "2024-08"]);
    assert_eq!(code, 1, "{msg}");
    assert!(msg.contains("run 1 (score): input `institutions.csv` changed"), "{msg}");
    let o = w.run_ok(&["runs", "--db", "store.db"], &[0]);
    let list = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(list.contains("2024-07 (") && list.contains("2024-08 ("), "{list}");
    assert_eq!(list.lines().filter(|l| l.contains(" score ")).count(), 2, "{list}");
}
