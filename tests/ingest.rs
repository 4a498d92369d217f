//! `kaopei ingest` end to end through the real binary: the three input
//! formats load to identical rows, re-ingesting is a no-op, and every kind
//! of bad input is a clear error or a rejected row with file, line and
//! reason, with rows read = loaded + rejected for every file. The hostile
//! corpus (malformed files, encodings, XLSX quirks, CCTV paths) is
//! `tests/hostile.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

use rusqlite::Connection;

mod common;
use common::write_xlsx;

/// A temporary dataset folder plus a store beside it.
struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    fn new() -> Workdir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("data")).expect("data dir");
        Workdir { dir }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("kaopei.db")
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) {
        std::fs::write(self.data().join(name), bytes).expect("write fixture");
    }

    /// Runs `kaopei ingest DATA --db DB`: (exit code, stdout, stderr).
    fn ingest(&self) -> (i32, String, String) {
        run_ingest(&self.data(), &self.db())
    }

    fn conn(&self) -> Connection {
        Connection::open(self.db()).expect("open store")
    }

    /// The data table's rows as text, in line order.
    fn rows(&self, table: &str) -> Vec<String> {
        let c = self.conn();
        let mut st = c.prepare(&format!("SELECT * FROM {table} ORDER BY line")).unwrap();
        let n = st.column_count();
        st.query_map([], |r| {
            let mut cells = Vec::new();
            for i in 0..n {
                let v: rusqlite::types::Value = r.get(i)?;
                cells.push(format!("{v:?}"));
            }
            Ok(cells.join("|"))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }

    /// (file, line, reason) of every reject.
    fn rejects(&self) -> Vec<(String, i64, String)> {
        let c = self.conn();
        let mut st = c.prepare("SELECT file, line, reason FROM rejects ORDER BY file, line").unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
    }

    /// Asserts read = loaded + rejected for every stored input, and returns
    /// (table, read, loaded, rejected, refused).
    fn inputs(&self) -> Vec<(String, i64, i64, i64, Option<String>)> {
        common::accounted_inputs(&self.conn())
    }
}

fn run_ingest(data: &Path, db: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kaopei"))
        .arg("ingest")
        .arg(data)
        .arg("--db")
        .arg(db)
        .output()
        .expect("run kaopei");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const INST_EN: &str = "institution_id,name,kind,region,seats\n\
I1,安全培训中心,training,410102,30\n\
I2,考试中心,exam,410103,\n";

const CLASSES_EN: &str = "class_id,institution_id,operation,course_kind,start_date,end_date,room,capacity\n\
C1,I1,低压电工作业,initial,2024-07-01,2024-07-20,A101,40\n\
C2,I1,焊接与热切割作业,refresher,2024-08-01,2024-08-03,,\n";

const ATT_EN: &str = "record_id,class_id,person_id,name,instructor_id,mode,check_in,check_out,device_id,face_score\n\
A1,C1,410102199001011234,张三,T1,classroom,2024-07-01 08:30:00,2024-07-01 11:30:00,D1,0.93\n\
A2,C1,41010219900101123X,李四,T1,online,2024-07-02 19:05:00,2024-07-02 21:00:00,,\n\
A3,C2,410102199001011234,张三,,practical,2024-08-01 14:00:00,2024-08-01 17:30:00,D2,0.5\n";

/// The same three tables with Chinese headers and the other spellings.
const INST_ZH: &str = "机构编号,机构名称,机构类型,行政区划代码,座位数\n\
I1,安全培训中心,培训,410102,30\n\
I2,考试中心,考试,410103,\n";

const CLASSES_ZH: &str = "班级编号,机构编号,作业类别,培训类型,开班日期,结业日期,教室,容量\n\
C1,I1,低压电工作业,初训,2024/7/1,2024年7月20日,A101,40\n\
C2,I1,焊接与热切割作业,复训,2024-08-01,2024/8/3,,\n";

const ATT_ZH: &str = "记录编号,班级编号,身份证号,姓名,授课教师,培训方式,签到时间,签退时间,终端编号,人脸比对分\n\
A1,C1,410102199001011234,张三,T1,面授,2024/7/1 8:30,2024-07-01T11:30:00,D1,93\n\
A2,C1,41010219900101123X,李四,T1,网络,2024-07-02 19:05,2024-07-02 21:00:00,,\n\
A3,C2,410102199001011234,张三,,实操,2024-08-01 14:00:00,2024/8/1 17:30,D2,50\n";

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, bad) = encoding_rs::GBK.encode(text);
    assert!(!bad);
    bytes.into_owned()
}

#[test]
fn utf8_gbk_and_xlsx_load_identically() {
    let utf8 = Workdir::new();
    utf8.write("institutions.csv", INST_EN);
    utf8.write("classes.csv", CLASSES_EN);
    utf8.write("attendance.csv", ATT_EN);

    let gb = Workdir::new();
    gb.write("institutions.csv", gbk(INST_ZH));
    gb.write("classes.csv", gbk(CLASSES_ZH));
    gb.write("attendance.csv", gbk(ATT_ZH));

    let xl = Workdir::new();
    write_xlsx(&xl.data().join("institutions.xlsx"), INST_EN);
    write_xlsx(&xl.data().join("classes.xlsx"), CLASSES_EN);
    write_xlsx(&xl.data().join("attendance.xlsx"), ATT_EN);

    for w in [&utf8, &gb, &xl] {
        let (code, out, err) = w.ingest();
        assert_eq!(code, 0, "{out}\n{err}");
        assert!(w.rejects().is_empty(), "{:?}", w.rejects());
        assert_eq!(w.inputs().len(), 3);
    }
    for table in ["institutions", "classes", "attendance"] {
        let want = utf8.rows(table);
        assert!(!want.is_empty());
        assert_eq!(gb.rows(table), want, "GBK {table}");
        assert_eq!(xl.rows(table), want, "XLSX {table}");
    }
    // The typed values are the contract's, not the spellings.
    let att = utf8.rows("attendance");
    assert!(att[0].contains("Text(\"2024-07-01 08:30:00\")") && att[0].contains("Real(0.93"), "{}", att[0]);
    assert!(att[2].contains("Text(\"practical\")") && att[2].contains("Real(0.5)"), "{}", att[2]);
    let classes = utf8.rows("classes");
    assert!(classes[0].contains("Text(\"low_voltage_electrician\")"), "{}", classes[0]);
    let gb_inputs =
        gb.conn().query_row("SELECT encoding FROM inputs WHERE table_name='attendance'", [], |r| r.get::<_, String>(0));
    assert_eq!(gb_inputs.unwrap(), "gb18030");
}

#[test]
fn ingesting_twice_changes_nothing_and_a_changed_file_replaces_its_table() {
    let w = Workdir::new();
    w.write("institutions.csv", INST_EN);
    w.write("classes.csv", CLASSES_EN);
    w.write("attendance.csv", ATT_EN);
    assert_eq!(w.ingest().0, 0);
    let first = (w.inputs(), w.rows("attendance"), w.rows("classes"));
    let ingested_at: String = w.conn().query_row("SELECT MIN(ingested_at) FROM inputs", [], |r| r.get(0)).unwrap();

    let (code, out, _) = w.ingest();
    assert_eq!(code, 0);
    assert!(out.contains("attendance unchanged"), "{out}");
    assert_eq!((w.inputs(), w.rows("attendance"), w.rows("classes")), first);
    let again: String = w.conn().query_row("SELECT MIN(ingested_at) FROM inputs", [], |r| r.get(0)).unwrap();
    assert_eq!(again, ingested_at);

    // One more attendance row: only attendance is rewritten.
    w.write(
        "attendance.csv",
        format!("{ATT_EN}A4,C2,410102199001011234,张三,,practical,2024-08-02 14:00,2024-08-02 17:00,,\n"),
    );
    let (_, out, _) = w.ingest();
    assert!(out.contains("attendance written (4 rows)") && out.contains("classes unchanged"), "{out}");
    assert_eq!(w.rows("attendance").len(), 4);

    // Every command is in the ledger, chained.
    let c = w.conn();
    let runs: Vec<(String, String, String)> = c
        .prepare("SELECT status, prev_hash, hash FROM runs ORDER BY run_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(runs.len(), 3);
    assert!(runs.iter().all(|r| r.0 == "ok"));
    assert_eq!(runs[1].1, runs[0].2);
    assert_eq!(runs[2].1, runs[1].2);
}

#[test]
fn missing_folder_and_missing_institutions_are_errors() {
    let w = Workdir::new();
    let (code, _, err) = run_ingest(&w.dir.path().join("nope"), &w.db());
    assert_eq!(code, 2);
    assert!(err.contains("does not exist"), "{err}");

    w.write("classes.csv", CLASSES_EN);
    let (code, _, err) = w.ingest();
    assert_eq!(code, 2);
    assert!(err.contains("institutions.csv"), "{err}");

    w.write("institutions.csv", "institution_id,name,kind\nI1,x,training\n");
    let (code, _, err) = w.ingest();
    assert_eq!(code, 2);
    assert!(err.contains("missing required column `region`"), "{err}");
}

#[test]
fn refused_files_are_reported_and_the_rest_loads() {
    let w = Workdir::new();
    w.write("institutions.csv", INST_EN);
    w.write("classes.csv", "");
    w.write("attendance.csv", ATT_EN.replace(',', ";"));
    let garbage: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    w.write("exam_sessions.csv", garbage);
    w.write("certificates.csv", "cert_no,person_id,name,operation,issued_on\nX1,1,张三,低压电工,2024-07-01\n");
    let (code, out, err) = w.ingest();
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("REFUSED: `classes.csv`: the file is empty"), "{out}");
    assert!(out.contains("semicolon-separated"), "{out}");
    assert!(out.contains("exam_sessions.csv`: the file is binary"), "{out}");
    assert!(out.contains("missing required column `expires_on`"), "{out}");
    let inputs = w.inputs();
    let refused: Vec<&str> = inputs.iter().filter(|i| i.4.is_some()).map(|i| i.0.as_str()).collect();
    assert_eq!(refused, ["attendance", "certificates", "classes", "exam_sessions"]);
    assert_eq!(w.rows("institutions").len(), 2);
}

#[test]
fn bad_rows_are_rejected_with_file_line_and_reason() {
    let w = Workdir::new();
    w.write("institutions.csv", format!("{INST_EN}I1,重复机构,training,410102,\nI3,坏地区,both,4101,\n"));
    w.write(
        "classes.csv",
        // Windows line ends: line numbers must not drift.
        format!("{CLASSES_EN}C3,I9,低压电工,initial,2024-07-01,2024-07-02,,\nC4,I1,低压电工,initial,2024-07-05,2024-07-01,,\n")
            .replace('\n', "\r\n"),
    );
    let att = format!(
        "{ATT_EN}\
A4,C1,410102199001011234,张三,,classroom,2024-02-30 08:00,2024-02-30 09:00,,\n\
A5,C1,410102199001011234,张三,,classroom,2024-07-03 25:00,2024-07-03 26:00,,\n\
A6,C1,410102199001011234,张三,,classroom,2024-07-03 11:00,2024-07-03 08:00,,\n\
A7,C3,410102199001011234,张三,,classroom,2024-07-03 08:00,2024-07-03 09:00,,\n\
A1,C1,410102199001011234,张三,,classroom,2024-07-03 08:00,2024-07-03 09:00,,\n\
A8,C1,,张三,,classroom,2024-07-03 08:00,2024-07-03 09:00,,\n\
A9,C1,410102199001011234,张三,,函授,2024-07-03 08:00,2024-07-03 09:00,,\n\
A10,C1,410102199001011234\n\
A11,C1,41010219900101\0X,张三,,classroom,2024-07-03 08:00,2024-07-03 09:00,,\n\
A12,C1,410102199001011234,张三,,classroom,2024-07-03 08:00,2024-07-03 09:00,,1.3e9\n"
    );
    w.write("attendance.csv", att);
    w.write(
        "exam_sessions.csv",
        "session_id,institution_id,room,operation,part,start,end\nS1,I2,K1,低压电工,theory,2024-07-25 09:00,2024-07-25 10:30\n",
    );
    w.write(
        "exam_records.csv",
        "record_id,session_id,person_id,score,备注\nR1,S1,410102199001011234,85,ok\nR2,S1,1,101,\nR3,S1,2,NaN,\nR4,S1,3,88,\n",
    );
    let (code, out, err) = w.ingest();
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("unknown columns kept as extra fields: 备注"), "{out}");
    let got = w.rejects();
    let expect: &[(&str, i64, &str)] = &[
        ("attendance.csv", 5, "`check_in` is not a datetime like `2024-07-10 08:30:00`: `2024-02-30 08:00`"),
        ("attendance.csv", 6, "`check_in` is not a datetime"),
        ("attendance.csv", 7, "check_out `2024-07-03 08:00:00` is before check_in `2024-07-03 11:00:00`"),
        ("attendance.csv", 8, "class_id `C3` is not in classes"),
        ("attendance.csv", 9, "duplicate record_id `A1`: already on line 2"),
        ("attendance.csv", 10, "missing required value `person_id`"),
        ("attendance.csv", 11, "`mode` is not `classroom`, `online` or `practical`"),
        ("attendance.csv", 12, "row has 3 field(s), the header has 10"),
        ("attendance.csv", 13, "NUL byte"),
        ("classes.csv", 4, "institution_id `I9` is not in institutions"),
        ("classes.csv", 5, "end_date `2024-07-01` is before start_date `2024-07-05`"),
        ("exam_records.csv", 3, "`score` is not a score from 0 to 100: `101`"),
        ("exam_records.csv", 4, "`score` is not a score from 0 to 100: `NaN`"),
        ("institutions.csv", 4, "duplicate institution_id `I1`: already on line 2"),
        ("institutions.csv", 5, "`region` is not a 6-digit region code: `4101`"),
    ];
    assert_eq!(got.len(), expect.len(), "{got:#?}");
    for ((f, l, r), (ef, el, er)) in got.iter().zip(expect) {
        assert_eq!((f.as_str(), *l), (*ef, *el), "{r}");
        assert!(r.contains(er), "line {l}: `{r}` should contain `{er}`");
    }
    let inputs = w.inputs();
    let att = inputs.iter().find(|i| i.0 == "attendance").unwrap();
    assert_eq!((att.1, att.2, att.3), (13, 4, 9));
    // A bad value in an optional column is a field defect: the row loads
    // with the field empty (DATA.md).
    let defect: (String, i64, String, String, Option<String>) = w
        .conn()
        .query_row("SELECT file, line, column_name, value, institution_id FROM field_defects", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap();
    assert_eq!(defect, ("attendance.csv".into(), 14, "face_score".into(), "1.3e9".into(), Some("I1".into())), "{out}");
    assert!(out.contains("field defect: attendance.csv line 14: `face_score` is not a face score"), "{out}");
    let face: Option<f64> =
        w.conn().query_row("SELECT face_score FROM attendance WHERE record_id='A12'", [], |r| r.get(0)).unwrap();
    assert_eq!(face, None);
    // Rejects know the institution they belong to (through the class).
    let owner: Option<String> = w
        .conn()
        .query_row("SELECT institution_id FROM rejects WHERE line = 9 AND file = 'attendance.csv'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(owner.as_deref(), Some("I1"));
    let extra: String =
        w.conn().query_row("SELECT extra FROM exam_records WHERE record_id='R1'", [], |r| r.get(0)).unwrap();
    assert_eq!(extra, r#"{"备注":"ok"}"#);
    let raw: String = w.conn().query_row("SELECT raw FROM rejects WHERE line = 9", [], |r| r.get(0)).unwrap();
    assert!(raw.starts_with("A1,C1,410102199001011234"), "{raw}");
}

/// Responses are kept as one sheet per exam record; the `exam_responses`
/// view must give back every row as written, in any file order, with
/// unknown columns kept.
#[test]
fn exam_responses_round_trip_through_their_sheets() {
    let w = Workdir::new();
    w.write("institutions.csv", INST_EN);
    w.write(
        "exam_sessions.csv",
        "session_id,institution_id,room,operation,part,start,end,seats,proctor_id\n\
         S1,I2,R1,低压电工作业,theory,2024-09-02 09:00:00,2024-09-02 10:30:00,30,P1\n",
    );
    w.write(
        "exam_records.csv",
        "record_id,session_id,person_id,name,seat,training_institution_id,login_at,submit_at,score,attempt,face_score\n\
         E1,S1,410102199001011234,张三,01,I1,2024-09-02 09:01:00,2024-09-02 10:00:00,88,1,0.9\n\
         E2,S1,41010219900101123X,李四,02,,2024-09-02 09:02:00,2024-09-02 10:10:00,76,1,\n",
    );
    w.write(
        "exam_responses.csv",
        "record_id,item_id,answer,key,seconds,changes,备注\n\
         E2,Q1,A,B,12.5,1,\n\
         E1,Q1,B,B,3,0,补考\n\
         E2,Q2,\"A,\"\"C\"\"\",C,,,\n\
         E1,Q2,C,C,7.25,2,\n",
    );
    let (code, out, err) = w.ingest();
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("exam_responses written (4 rows)"), "{out}");
    let rows = w.rows("exam_responses");
    assert_eq!(
        rows,
        [
            "Integer(2)|Text(\"E2\")|Text(\"Q1\")|Text(\"A\")|Text(\"B\")|Real(12.5)|Integer(1)|Null",
            "Integer(3)|Text(\"E1\")|Text(\"Q1\")|Text(\"B\")|Text(\"B\")|Real(3.0)|Integer(0)|Text(\"{\\\"备注\\\":\\\"补考\\\"}\")",
            "Integer(4)|Text(\"E2\")|Text(\"Q2\")|Text(\"A,\\\"C\\\"\")|Text(\"C\")|Null|Null|Null",
            "Integer(5)|Text(\"E1\")|Text(\"Q2\")|Text(\"C\")|Text(\"C\")|Real(7.25)|Integer(2)|Null",
        ]
    );
    let sheets: i64 = w.conn().query_row("SELECT COUNT(*) FROM exam_response_sheets", [], |r| r.get(0)).unwrap();
    assert_eq!(sheets, 2, "one sheet per exam record");
    let loaded: i64 = w
        .conn()
        .query_row("SELECT rows_loaded FROM inputs WHERE table_name='exam_responses'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(loaded, 4);
}

/// `score` says what the reader refused, as `ingest` does (on stderr: its
/// stdout is the path of scores.csv).
#[test]
fn score_names_refused_files() {
    let w = Workdir::new();
    w.write("institutions.csv", INST_EN);
    w.write("classes.csv", "class_id,institution_id\nC1,I1\n");
    w.write("attendance.csv", ATT_EN);
    let out = Command::new(env!("CARGO_BIN_EXE_kaopei"))
        .arg("score")
        .arg(w.data())
        .arg("--out")
        .arg(w.data().join("out"))
        .arg("--no-html")
        .output()
        .expect("run kaopei");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
    assert!(err.contains("classes.csv REFUSED") && err.contains("operation"), "{err}");
}

/// Issue 15: a bad optional value keeps its institution (no cascade of
/// foreign-key rejects), and the institution's report lists the rows that
/// touch it, rejected or with a field defect.
#[test]
fn field_defects_keep_the_institution_and_its_report_lists_what_was_unreadable() {
    let w = Workdir::new();
    w.write(
        "institutions.csv",
        INST_EN.replace("I1,安全培训中心,training,410102,30", "I1,安全培训中心,training,410102,三十"),
    );
    w.write("classes.csv", CLASSES_EN);
    w.write(
        "attendance.csv",
        format!("{ATT_EN}A4,C1,410102199001011234,张三,,classroom,2024-07-03 25:00,2024-07-03 26:00,,\n"),
    );
    let out_dir = w.data().join("out");
    let out = Command::new(env!("CARGO_BIN_EXE_kaopei"))
        .arg("score")
        .arg(w.data())
        .arg("--out")
        .arg(&out_dir)
        .output()
        .expect("run kaopei");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
    assert!(err.contains("institutions.csv: 1 field defect(s)") && err.contains("`seats`"), "{err}");
    let scores = common::read_csv(&out_dir.join("scores.csv"));
    assert!(scores.iter().any(|r| r["institution_id"] == "I1"), "I1 must not vanish");
    let c = Connection::open(out_dir.join("kaopei.db")).unwrap();
    let loaded: i64 =
        c.query_row("SELECT rows_loaded FROM inputs WHERE table_name='classes'", [], |r| r.get(0)).unwrap();
    assert_eq!(loaded, 2, "no cascade of foreign-key rejects");
    let page =
        std::fs::read_to_string(out_dir.join("reports").join(kaopei::report::html::report_file_name("I1"))).unwrap();
    assert!(page.contains(r#"id="unreadable""#), "the report lists the unreadable rows");
    assert!(page.contains("attendance.csv:5") && page.contains("institutions.csv:2"), "{page}");
    // Re-rendered from the store, the list is the same.
    let again = Command::new(env!("CARGO_BIN_EXE_kaopei"))
        .args(["report", "--db"])
        .arg(out_dir.join("kaopei.db"))
        .arg("--out")
        .arg(w.data().join("again"))
        .output()
        .expect("run kaopei report");
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let page2 =
        std::fs::read_to_string(w.data().join("again/reports").join(kaopei::report::html::report_file_name("I1")))
            .unwrap();
    assert!(page2.contains("attendance.csv:5") && page2.contains("institutions.csv:2"));
}
