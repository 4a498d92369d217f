//! The hostile input corpus (issue 9): every case of
//! `tests/data/hostile/cases.toml` is dropped into a small, otherwise valid
//! dataset folder and run through the real binary — `kaopei ingest DATASET
//! --db FILE` for table files, `kaopei score DATASET --out DIR` for CCTV
//! cases — and must end the way DATA.md says, never in a panic.
//!
//! The table (its header comment is the full reference) has one `[[case]]`
//! per hostile file: `name`; `file`, the file written into the dataset,
//! whose stem is the table it plays; the file's text in `body` (TOML escapes
//! carry NUL, BOM and CR; `encoding` / `gbk_lines` write it as GBK or
//! UTF-16) or a generator named in `make` for what text cannot hold (10 MB
//! fields, XLSX, folders, links to devices, FIFOs, clips made with the
//! `ffmpeg` CLI); the `outcome` — `rows` (loaded with exactly `read` /
//! `loaded` / `rejected` rows, first reject at `line`), `refused` (the whole
//! file), `error` (exit 2), `noted` (not a table, not read) or `finding`
//! (`check` in findings.csv, `subject` in flags.csv) — and `says`, the text
//! the message must contain: what was expected. `sql` / `equals` optionally
//! check a stored value.
//!
//! For every case: the exit code is not 101, stderr has no "panicked", the
//! message names the file (and the line when a row is at fault), and in the
//! store every file's rows read = loaded + rejected.
//!
//! [`outputs_neutralise_formulas_escape_html_and_mask_numbers`] covers the
//! other direction: hostile text in the input must not become a formula, a
//! script or a leaked ID or phone number in the outputs.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use serde::Deserialize;

mod common;
use common::{accounted_inputs, ffmpeg, fill_sheet, read_csv, write_xlsx, Workdir};

const INSTITUTIONS: &str = "institution_id,name,kind,region,seats\n\
I1,安全培训中心,training,410102,30\n\
I2,考试中心,exam,410103,40\n";

const CLASSES: &str = "class_id,institution_id,operation,course_kind,start_date,end_date,room,capacity\n\
C1,I1,低压电工作业,initial,2024-07-01,2024-07-20,A101,40\n";

const SESSIONS: &str = "session_id,institution_id,room,operation,part,start,end,seats,proctor_id\n\
S1,I2,K1,低压电工作业,theory,2024-07-25 09:00:00,2024-07-25 10:30:00,30,P1\n";

const ATT_HEADER: &str = "record_id,class_id,person_id,name,instructor_id,mode,check_in,check_out,device_id,face_score";

/// A command that runs longer than this has hung (a FIFO read, `/dev/zero`).
const TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Deserialize)]
struct Corpus {
    case: Vec<Case>,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Outcome {
    Rows,
    Refused,
    Error,
    Noted,
    Finding,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    file: String,
    body: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default)]
    gbk_lines: Vec<usize>,
    make: Option<String>,
    outcome: Outcome,
    read: Option<i64>,
    loaded: Option<i64>,
    rejected: Option<i64>,
    line: Option<i64>,
    says: String,
    check: Option<String>,
    subject: Option<String>,
    sql: Option<String>,
    equals: Option<String>,
}

impl Case {
    /// The table the file plays (its lowercased stem).
    fn table(&self) -> String {
        self.file.rsplit_once('.').map_or(self.file.as_str(), |(s, _)| s).to_lowercase()
    }
}

fn corpus() -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hostile/cases.toml");
    let text = std::fs::read_to_string(&path).expect("cases.toml");
    let c: Corpus = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    c.case
}

/// Runs the binary with a time limit; a hang fails the case instead of the
/// whole test run.
fn run_limited(w: &Workdir, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kaopei"))
        .args(args)
        .current_dir(w.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kaopei runs");
    let t0 = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if t0.elapsed() > TIMEOUT {
            let _ = child.kill();
            let o = child.wait_with_output().expect("output");
            panic!("kaopei {args:?} hung for {TIMEOUT:?}\nstderr:\n{}", String::from_utf8_lossy(&o.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, bad) = encoding_rs::GBK.encode(text);
    assert!(!bad, "not GBK-encodable: {text}");
    bytes.into_owned()
}

/// `body` as the bytes the case asks for.
fn encode(c: &Case, body: &str) -> Vec<u8> {
    if !c.gbk_lines.is_empty() {
        return body
            .split_inclusive('\n')
            .enumerate()
            .flat_map(|(i, l)| if c.gbk_lines.contains(&(i + 1)) { gbk(l) } else { l.as_bytes().to_vec() })
            .collect();
    }
    let utf16 = |bom: bool| {
        let mut b = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        b.extend(body.encode_utf16().flat_map(u16::to_le_bytes));
        b
    };
    match c.encoding.as_deref().unwrap_or("utf-8") {
        "utf-8" => body.as_bytes().to_vec(),
        "gbk" => gbk(body),
        "utf-16le" => utf16(true),
        "utf-16le-nobom" => utf16(false),
        e => panic!("{}: unknown encoding `{e}`", c.name),
    }
}

/// Deterministic bytes that are no text in any encoding.
fn garbage(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[cfg(unix)]
fn symlink(to: &str, at: &Path) {
    std::os::unix::fs::symlink(to, at).expect("symlink");
}

/// The generators named by `make`. They write into the dataset folder
/// `data`; `file` is the case's file path there.
fn make(c: &Case, data: &Path, file: &Path) {
    let Some(m) = c.make.as_deref() else { return };
    let clip = data.join("clip.mp4");
    let big = "x".repeat(10_000_000);
    match m {
        "blank_lines" => {
            let mut s = format!(
                "{ATT_HEADER}\nA1,C1,410102199001011234,张三,T1,classroom,2024-07-01 08:30:00,2024-07-01 11:30:00,D1,0.93\n"
            );
            s.push_str(&"\n".repeat(100_000));
            s.push_str("A2,C1,410102199001011234,张三,T1,函授,2024-07-02 08:30:00,2024-07-02 11:30:00,D1,0.93\n");
            std::fs::write(file, s).unwrap();
        }
        "big_field_loaded" | "big_field_rejected" => {
            let mode = if m == "big_field_loaded" { "classroom" } else { "函授" };
            let s = format!(
                "{ATT_HEADER}\nA1,C1,410102199001011234,{big},T1,{mode},2024-07-01 08:30:00,2024-07-01 11:30:00,D1,0.93\n"
            );
            std::fs::write(file, s).unwrap();
        }
        "invalid_bytes" => {
            let mut b = format!(
                "{ATT_HEADER}\nA1,C1,410102199001011234,张三,T1,classroom,2024-07-01 08:30:00,2024-07-01 11:30:00,D1,0.93\n"
            )
            .into_bytes();
            // 0xFF is neither a UTF-8 byte nor a GB18030 lead byte.
            b.extend_from_slice(
                b"A2,C1,410102199001011234,\xFF\xFF\xFF,T1,classroom,2024-07-02 08:30:00,2024-07-02 11:30:00,D1,0.93\n",
            );
            std::fs::write(file, b).unwrap();
        }
        "binary_garbage" => std::fs::write(file, garbage(5000)).unwrap(),
        "xlsx_named_csv" => write_xlsx(file, &format!("{ATT_HEADER}\n")),
        "directory" => std::fs::create_dir_all(file).unwrap(),
        #[cfg(unix)]
        "link_dev_zero" => symlink("/dev/zero", file),
        "also_xlsx" => write_xlsx(&data.join("attendance.xlsx"), &format!("{ATT_HEADER}\n")),
        "xlsx_sheets" => {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let first = wb.add_worksheet();
            first.set_name("学时记录").unwrap();
            fill_sheet(
                first,
                &format!(
                    "{ATT_HEADER}\n\
A1,C1,410102199001011234,张三,T1,classroom,2024-07-01 08:30:00,2024-07-01 11:30:00,D1,0.93\n\
A2,C1,41010219900101123X,李四,T1,online,2024-07-02 19:05:00,2024-07-02 21:00:00,,\n"
                ),
            );
            let notes = wb.add_worksheet();
            notes.set_name("说明").unwrap();
            notes.write_string(0, 0, "本表由系统导出").unwrap();
            // A third sheet that looks like the table but must not be read.
            fill_sheet(wb.add_worksheet(), &format!("{ATT_HEADER}\nA9,C9,1,x,,函授,n/a,n/a,,\n"));
            wb.save(file).unwrap();
        }
        "xlsx_merged" => {
            // class_id merged over the three data rows, as exports from
            // Chinese office software often do for a grouping column.
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet();
            fill_sheet(
                ws,
                &format!(
                    "{ATT_HEADER}\n\
A1,C1,410102199001011234,张三,T1,classroom,2024-07-01 08:30:00,2024-07-01 11:30:00,D1,0.93\n\
A2,,41010219900101123X,李四,T1,online,2024-07-02 19:05:00,2024-07-02 21:00:00,,\n\
A3,,410102199001011234,张三,T1,online,2024-07-03 19:05:00,2024-07-03 21:00:00,,\n"
                ),
            );
            ws.merge_range(1, 1, 3, 1, "C1", &rust_xlsxwriter::Format::new()).unwrap();
            wb.save(file).unwrap();
        }
        "clip_ok" => {
            ffmpeg(data, "-f lavfi -i testsrc2=size=160x120:rate=10 -t 2 -c:v libx264 -pix_fmt yuv420p clip.mp4")
        }
        "clip_empty" => std::fs::write(&clip, b"").unwrap(),
        "clip_garbage" => std::fs::write(&clip, garbage(64 * 1024)).unwrap(),
        "clip_truncated" | "clip_truncated_faststart" => {
            let flags = if m == "clip_truncated" { "" } else { "-movflags +faststart" };
            ffmpeg(
                data,
                &format!(
                    "-f lavfi -i testsrc2=size=160x120:rate=10 -t 3 -c:v libx264 -pix_fmt yuv420p {flags} full.mp4"
                ),
            );
            let bytes = std::fs::read(data.join("full.mp4")).unwrap();
            std::fs::write(&clip, &bytes[..bytes.len() / 2]).unwrap();
            std::fs::remove_file(data.join("full.mp4")).unwrap();
        }
        "clip_audio_only" => ffmpeg(data, "-f lavfi -i sine=d=2 -c:a aac clip.mp4"),
        "clip_1x1" => ffmpeg(data, "-f lavfi -i testsrc2=size=16x16:rate=10 -t 2 -vf scale=1:1 -c:v mpeg4 clip.mp4"),
        #[cfg(unix)]
        "clip_link_dev_urandom" => symlink("/dev/urandom", &clip),
        "clip_fifo" => {
            let ok = Command::new("mkfifo").arg(&clip).status().expect("mkfifo runs");
            assert!(ok.success());
        }
        "clip_empty_folder" => std::fs::create_dir_all(data.join("frames")).unwrap(),
        other => panic!("{}: unknown generator `{other}`", c.name),
    }
}

/// What a run left behind.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
    db: PathBuf,
    out: PathBuf,
}

/// Builds the dataset of one case and runs the command its outcome needs.
fn run_case(c: &Case) -> (Workdir, Ran) {
    let w = Workdir::new();
    for (name, text) in [("institutions.csv", INSTITUTIONS), ("classes.csv", CLASSES), ("exam_sessions.csv", SESSIONS)]
    {
        if name != c.file {
            w.write(&format!("data/{name}"), text);
        }
    }
    let file = w.path(&format!("data/{}", c.file));
    if let Some(body) = &c.body {
        w.write(&format!("data/{}", c.file), encode(c, body));
    }
    make(c, &w.path("data"), &file);
    assert!(
        std::fs::symlink_metadata(&file).is_ok(),
        "{}: the case wrote no `{}` (give `body` or `make`)",
        c.name,
        c.file
    );
    let o = if c.outcome == Outcome::Finding {
        run_limited(&w, &["score", "data", "--out", "out", "--no-html"])
    } else {
        run_limited(&w, &["ingest", "data", "--db", "kaopei.db"])
    };
    let db = if c.outcome == Outcome::Finding { w.path("out/kaopei.db") } else { w.path("kaopei.db") };
    let ran = Ran {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        db,
        out: w.path("out"),
    };
    (w, ran)
}

/// A stored value as text (`NULL`, integers and reals as SQLite prints them).
fn sql_text(conn: &Connection, sql: &str) -> String {
    conn.query_row(sql, [], |r| r.get::<_, rusqlite::types::Value>(0))
        .map(|v| match v {
            rusqlite::types::Value::Null => "NULL".into(),
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Real(f) => f.to_string(),
            rusqlite::types::Value::Text(t) => t,
            rusqlite::types::Value::Blob(b) => format!("{b:?}"),
        })
        .unwrap_or_else(|e| panic!("`{sql}`: {e}"))
}

/// Checks one case; returns why it failed.
fn check_case(c: &Case) -> Result<(), String> {
    let (_w, r) = run_case(c);
    let ctx = || format!("exit {}\nstdout:\n{}\nstderr:\n{}", r.code, clip(&r.stdout), clip(&r.stderr));
    let fail = |why: String| Err(format!("{why}\n{}", ctx()));
    if r.code == 101 || r.stderr.contains("panicked") {
        return fail("kaopei panicked".into());
    }
    let expected_codes: &[i32] = match c.outcome {
        Outcome::Error => &[2],
        Outcome::Finding => &[0, 1],
        _ => &[0],
    };
    if !expected_codes.contains(&r.code) {
        return fail(format!("exit code {} not in {expected_codes:?}", r.code));
    }
    // The accounting invariant, for every file the store took in.
    let conn = if r.db.exists() { Some(Connection::open(&r.db).expect("open store")) } else { None };
    let inputs = match &conn {
        Some(conn) => {
            let table_exists: i64 =
                conn.query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = 'inputs'", [], |x| x.get(0)).unwrap();
            if table_exists == 1 {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| accounted_inputs(conn)))
                    .map_err(|_| format!("{}: accounting broken\n{}", c.name, ctx()))?
            } else {
                Vec::new()
            }
        }
        None => Vec::new(),
    };
    let mine = inputs.iter().find(|i| i.0 == c.table());
    let counts = |i: &(String, i64, i64, i64, Option<String>)| -> Result<(), String> {
        let want = (c.read, c.loaded, c.rejected);
        let got = (Some(i.1), Some(i.2), Some(i.3));
        if want != got {
            return Err(format!("read/loaded/rejected {got:?}, expected {want:?}"));
        }
        Ok(())
    };
    match c.outcome {
        Outcome::Rows => {
            let Some(i) = mine else { return fail(format!("no `inputs` row for {}", c.table())) };
            if let Some(why) = &i.4 {
                return fail(format!("refused: {why}"));
            }
            if let Err(e) = counts(i) {
                return fail(e);
            }
            let conn = conn.as_ref().expect("store");
            let rejects: Vec<(String, i64, String, String)> = conn
                .prepare("SELECT file, line, reason, raw FROM rejects WHERE table_name = ?1 ORDER BY line")
                .unwrap()
                .query_map([c.table()], |x| Ok((x.get(0)?, x.get(1)?, x.get(2)?, x.get(3)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            for (file, line, reason, raw) in &rejects {
                if file != &c.file {
                    return fail(format!("reject names `{file}`, not `{}`", c.file));
                }
                // A reason is a sentence, a raw row a few KB, whatever the input.
                if reason.len() > 600 || raw.len() > 4200 {
                    return fail(format!("line {line}: reason of {} bytes, raw of {} bytes", reason.len(), raw.len()));
                }
            }
            match (rejects.first(), c.line) {
                (Some((file, line, reason, _)), Some(want)) => {
                    if *line != want || !reason.contains(&c.says) {
                        return fail(format!(
                            "first reject line {line}: `{reason}`; expected line {want}: `{}`",
                            c.says
                        ));
                    }
                    let printed = format!("rejected: {file} line {line}: ");
                    if !r.stdout.lines().any(|l| l.starts_with(&printed) && l.contains(&c.says)) {
                        return fail(format!("stdout does not print `{printed}{}`", c.says));
                    }
                }
                (None, None) => {
                    if !r.stdout.contains(&c.says) {
                        return fail(format!("stdout does not say `{}`", c.says));
                    }
                }
                (first, want) => return fail(format!("first reject {first:?}, expected one at line {want:?}")),
            }
        }
        Outcome::Refused => {
            let Some(i) = mine else { return fail(format!("no `inputs` row for {}", c.table())) };
            let why = i.4.clone().unwrap_or_default();
            if !why.contains(&c.says) || !why.contains(&c.file) {
                return fail(format!("refusal `{why}` should name `{}` and say `{}`", c.file, c.says));
            }
            if (i.1, i.2, i.3) != (0, 0, 0) {
                return fail(format!("a refused file counts rows: {i:?}"));
            }
            if !r.stdout.lines().any(|l| l.contains("REFUSED:") && l.contains(&c.says) && l.contains(&c.file)) {
                return fail("stdout has no REFUSED line naming the file".into());
            }
        }
        Outcome::Error => {
            if !r.stderr.contains(&c.says) || !r.stderr.contains(&c.file) {
                return fail(format!("stderr should name `{}` and say `{}`", c.file, c.says));
            }
        }
        Outcome::Noted => {
            if mine.is_some() {
                return fail(format!("`{}` was read as a table", c.file));
            }
            if !r.stdout.contains(&c.says) {
                return fail(format!("stdout does not say `{}`", c.says));
            }
        }
        Outcome::Finding => {
            let Some(i) = mine else { return fail(format!("no `inputs` row for {}", c.table())) };
            if let Err(e) = counts(i) {
                return fail(e);
            }
            let check = c.check.as_deref().expect("finding cases name their check");
            let findings = read_csv(&r.out.join("findings.csv"));
            let Some(f) = findings.iter().find(|f| f["check"] == check) else {
                let all: Vec<&str> = findings.iter().map(|f| f["check"].as_str()).collect();
                return fail(format!("no `{check}` finding in findings.csv (has {all:?})"));
            };
            if !f["summary"].contains(&c.says) {
                return fail(format!("`{check}` summary `{}` should say `{}`", f["summary"], c.says));
            }
            if let Some(subject) = &c.subject {
                let (kind, id) = subject.split_once(',').expect("subject is kind,id");
                let flags = read_csv(&r.out.join("flags.csv"));
                if !flags.iter().any(|g| g["check"] == check && g["subject_kind"] == kind && g["subject_id"] == id) {
                    return fail(format!("flags.csv does not flag {subject} for `{check}`"));
                }
            }
        }
    }
    if let Some(sql) = &c.sql {
        let got = sql_text(conn.as_ref().expect("store"), sql);
        if Some(&got) != c.equals.as_ref() {
            return fail(format!("`{sql}` gave `{}`, expected `{}`", clip(&got), c.equals.as_deref().unwrap_or("")));
        }
    }
    Ok(())
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(3000) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[test]
fn the_corpus_is_big_and_well_formed() {
    let cases = corpus();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let names: HashSet<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    for c in &cases {
        assert!(c.body.is_some() || c.make.is_some(), "{}: body or make", c.name);
        assert!(!c.says.is_empty(), "{}: says", c.name);
        match c.outcome {
            Outcome::Rows => {
                assert!(c.read.is_some() && c.loaded.is_some() && c.rejected.is_some(), "{}: counts", c.name);
                assert_eq!(c.rejected > Some(0), c.line.is_some(), "{}: `line` goes with rejects", c.name);
            }
            Outcome::Finding => assert!(c.check.is_some() && c.read.is_some(), "{}: check and counts", c.name),
            _ => assert!(c.read.is_none() && c.line.is_none(), "{}: no counts", c.name),
        }
        assert_eq!(c.sql.is_some(), c.equals.is_some(), "{}: sql with equals", c.name);
    }
}

#[test]
fn hostile_inputs_end_as_data_md_says_never_in_a_panic() {
    let cases = corpus();
    // Cases run in two threads: the machine is small, the binary itself
    // runs rayon.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(c) = cases.get(i) else { break };
                let res = std::panic::catch_unwind(|| check_case(c)).unwrap_or_else(|p| {
                    Err(p.downcast_ref::<String>().cloned().unwrap_or_else(|| "test panicked".into()))
                });
                if let Err(e) = res {
                    failures.lock().unwrap().push(format!("── {}: {e}", c.name));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

// ------------------------------------------------------------ output safety

const EVIL_HTML: &str = "<script>alert(1)</script>";
const EVIL_FORMULA: &str = "=HYPERLINK(\"http://evil.example/?q=1\",\"点击\")";
const PHONE: &str = "13812345678";

/// Every maximal run of ASCII digits (with a trailing `X` after 17 digits)
/// in `text`.
fn numbers(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i - start == 17 && i < b.len() && matches!(b[i], b'X' | b'x') {
            i += 1;
        }
        out.push(&text[start..i]);
    }
    out
}

/// Text files under `dir` with the given extension.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p, ext));
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
    out
}

#[test]
fn outputs_neutralise_formulas_escape_html_and_mask_numbers() {
    let w = Workdir::new();
    let o = w.run(&["synth", "--out", "data", "--institutions", "4", "--no-video", "--seed", "3"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Hostile names: a script, a formula and a phone number, and a phone in
    // callback notes.
    let inst = std::fs::read_to_string(w.path("data/institutions.csv")).unwrap();
    let mut lines: Vec<String> = inst.lines().map(str::to_string).collect();
    let evil = [
        EVIL_HTML.to_string(),
        format!("\"{}\"", EVIL_FORMULA.replace('"', "\"\"")),
        format!("@SUM(1)培训中心{PHONE}"),
        format!("-1+1培训{PHONE}"),
    ];
    for (line, name) in lines.iter_mut().skip(1).zip(&evil) {
        let f: Vec<&str> = line.splitn(3, ',').collect();
        *line = format!("{},{name},{}", f[0], f[2]);
    }
    w.write("data/institutions.csv", lines.join("\n") + "\n");
    let cb = std::fs::read_to_string(w.path("data/callbacks.csv")).unwrap();
    w.write("data/callbacks.csv", cb.replace("本人确认参训", &format!("本人确认参训，电话{PHONE}")));

    // Every ID number and phone of the input.
    let mut secrets: BTreeSet<String> = BTreeSet::new();
    for t in ["attendance", "exam_records", "certificates", "callbacks"] {
        for row in read_csv(&w.path(&format!("data/{t}.csv"))) {
            secrets.insert(row["person_id"].clone());
        }
    }
    secrets.insert(PHONE.into());
    assert!(secrets.iter().filter(|s| s.len() == 18).count() > 100);

    let o = w.run(&["score", "data", "--out", "out"]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&o.stderr));

    // 1. Formulas neutralised in every text field of the three CSVs.
    let text_columns = [
        ("scores.csv", &["institution_id", "name", "top_check"][..]),
        ("findings.csv", &["institution_id", "check", "summary"][..]),
        ("flags.csv", &["institution_id", "check", "subject_kind", "subject_id"][..]),
    ];
    for (file, cols) in text_columns {
        let rows = read_csv(&w.path(&format!("out/{file}")));
        assert!(!rows.is_empty(), "{file} is empty");
        for row in &rows {
            for col in cols {
                let v = &row[*col];
                assert!(!v.starts_with(['=', '+', '-', '@', '\t', '\r']), "{file} {col}: formula `{v}`");
            }
        }
    }
    let scores = read_csv(&w.path("out/scores.csv"));
    let names: Vec<&str> = scores.iter().map(|r| r["name"].as_str()).collect();
    assert!(names.contains(&format!("'{EVIL_FORMULA}").as_str()), "{names:?}");
    assert!(names.contains(&"'@SUM(1)培训中心138****5678"), "{names:?}");
    assert!(names.contains(&"'-1+1培训138****5678"), "{names:?}");

    // 2. No script from the input runs in a report.
    let html = files(&w.path("out"), "html");
    assert!(html.len() >= 5, "{html:?}");
    for p in &html {
        let page = std::fs::read_to_string(p).unwrap();
        assert!(!page.to_lowercase().contains("<script>alert"), "{}: unescaped script", p.display());
    }
    let index = std::fs::read_to_string(w.path("out/index.html")).unwrap();
    assert!(index.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the evil name is shown, escaped");

    // 3. No full ID or phone number of the input in any output.
    let leaks = |dir: &str| -> Vec<String> {
        let mut found = Vec::new();
        for ext in ["csv", "html"] {
            // flags.csv keys records by ID / certificate number (DATA.md: other
            // tools act on them), so it is the one confidential output
            for p in files(&w.path(dir), ext).into_iter().filter(|p| !p.ends_with("flags.csv")) {
                let text = std::fs::read_to_string(&p).unwrap();
                for n in numbers(&text) {
                    if secrets.contains(n) {
                        found.push(format!("{}: {n}", p.file_name().unwrap().to_string_lossy()));
                    }
                }
            }
        }
        found
    };
    let masked = leaks("out");
    assert!(masked.is_empty(), "{} full numbers in outputs, e.g. {:?}", masked.len(), &masked[..masked.len().min(5)]);

    // 4. `--unmasked` shows them, and the run ledger records that it was asked.
    let o = w.run(&["score", "data", "--out", "open", "--unmasked"]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!leaks("open").is_empty(), "--unmasked shows full numbers");
    let conn = Connection::open(w.path("open/kaopei.db")).unwrap();
    let args: String =
        conn.query_row("SELECT args FROM runs WHERE command = 'score' ORDER BY run_id DESC", [], |r| r.get(0)).unwrap();
    assert!(args.contains("--unmasked"), "runs.args = {args}");
    let masked_args: String = Connection::open(w.path("out/kaopei.db"))
        .unwrap()
        .query_row("SELECT args FROM runs WHERE command = 'score'", [], |r| r.get(0))
        .unwrap();
    assert!(!masked_args.contains("--unmasked"), "runs.args = {masked_args}");
}
