//! End-to-end tests of the certificate and callback commands through the
//! real binary: `verify-certs` roster statuses (CSV, GBK and XLSX rosters),
//! `sample-callbacks` reproducibility and its record in the store, and the
//! `cert.*` / `callback.*` findings of `kaopei score` on a small dataset.

mod common;

use std::collections::HashMap;

use common::{read_csv, Workdir};

/// A valid ID number: 410102 + birth date 1990-01-01 + sequence `n`.
fn pid(n: u32) -> String {
    let first = format!("41010219900101{:03}", n % 1000);
    let w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let s: u32 = first.bytes().zip(w).map(|(d, w)| u32::from(d - b'0') * w).sum();
    format!("{first}{}", b"10X98765432"[(s % 11) as usize] as char)
}

const INSTITUTIONS: &str = "institution_id,name,kind,region\nT1,培训一,training,410102\nE1,考点一,exam,410102\n";

/// Registry: holders 1–3 低压电工 (3 expired), holder 4 焊工.
fn registry(w: &Workdir) {
    w.write("reg/institutions.csv", INSTITUTIONS);
    let mut c = String::from("证书编号,身份证号,姓名,作业类别,发证日期,有效期至,培训机构编号,考点编号\n");
    for n in 1..=3 {
        let exp = if n == 3 { "2024-01-01" } else { "2026-06-01" };
        c += &format!("T{p},{p},张三,低压电工作业,2020-06-01,{exp},T1,E1\n", p = pid(n));
    }
    c += &format!("T{p},{p},李四,熔化焊接与热切割作业,2020-06-01,2026-06-01,T1,E1\n", p = pid(4));
    w.write("reg/certificates.csv", c);
}

fn statuses(out: &std::path::Path) -> HashMap<String, (String, String)> {
    read_csv(out).into_iter().map(|r| (r["line"].clone(), (r["status"].clone(), r["mismatch"].clone()))).collect()
}

#[test]
fn verify_certs_statuses() {
    let w = Workdir::new();
    registry(&w);
    let (p1, p3, p4) = (pid(1), pid(3), pid(4));
    let roster = format!(
        "姓名,身份证号,证书编号,作业类别\n\
         张三,{p1},T{p1},低压电工\n\
         张三,{p3},T{p3},低压电工\n\
         王五,{p9},T{p9},低压电工\n\
         李四,{p1},T{p1},低压电工\n\
         李四,{p4},,低压电工\n\
         张三,340524198001010013,T340524198001010013,低压电工\n",
        p9 = pid(9)
    );
    w.write("roster.csv", roster);
    let o = w.run_ok(
        &["verify-certs", "roster.csv", "--registry", "reg", "--out", "out.csv", "--as-of", "2025-01-01"],
        &[0],
    );
    let st = statuses(&w.path("out.csv"));
    let want = [
        ("2", "valid", ""),
        ("3", "expired", ""),
        ("4", "not_found", ""),
        ("5", "mismatch", "name"),
        ("6", "mismatch", "operation"),
        ("7", "invalid_id", ""),
    ];
    for (line, status, mismatch) in want {
        assert_eq!(st[line], (status.to_string(), mismatch.to_string()), "line {line}");
    }
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("1 valid, 1 expired, 1 not_found, 2 mismatch, 1 invalid_id"), "{stderr}");
    // IDs are masked unless asked.
    let rows = read_csv(&w.path("out.csv"));
    assert_eq!(rows[0]["person_id"], format!("{}***********{}", &p1[..3], &p1[14..]));
    w.run_ok(
        &[
            "verify-certs",
            "roster.csv",
            "--registry",
            "reg",
            "--out",
            "full.csv",
            "--as-of",
            "2025-01-01",
            "--unmasked",
        ],
        &[0],
    );
    assert_eq!(read_csv(&w.path("full.csv"))[0]["person_id"], p1);
}

#[test]
fn verify_certs_gbk_and_xlsx_rosters() {
    let w = Workdir::new();
    registry(&w);
    let p1 = pid(1);
    let text = format!("姓名,身份证号,证书编号,作业类别\n张三,{p1},T{p1},低压电工\n");
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    w.write("roster_gbk.csv", gbk);
    w.run_ok(&["verify-certs", "roster_gbk.csv", "--registry", "reg", "--out", "a.csv", "--as-of", "2025-01-01"], &[0]);
    assert_eq!(statuses(&w.path("a.csv"))["2"].0, "valid");

    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["name", "person_id", "cert_no", "operation"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in ["张三", p1.as_str(), &format!("T{p1}"), "低压电工"].iter().enumerate() {
        ws.write_string(1, c as u16, *v).unwrap();
    }
    wb.save(w.path("roster.xlsx")).unwrap();
    w.run_ok(&["verify-certs", "roster.xlsx", "--registry", "reg", "--out", "b.csv", "--as-of", "2025-01-01"], &[0]);
    assert_eq!(statuses(&w.path("b.csv"))["2"].0, "valid");

    // Issue 18: an ID typed as a number (digits lost) is invalid_id saying
    // so, never "belongs to another ID"; `--out x.xlsx` is a real workbook
    // with the IDs as text cells.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["name", "person_id", "operation"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "张三").unwrap();
    ws.write_string(1, 1, &p1).unwrap();
    ws.write_string(1, 2, "低压电工").unwrap();
    ws.write_string(2, 0, "张三").unwrap();
    ws.write_number(2, 1, p1.parse::<f64>().unwrap_or(410102199001011234.0)).unwrap();
    ws.write_string(2, 2, "低压电工").unwrap();
    wb.save(w.path("numbers.xlsx")).unwrap();
    let args =
        ["verify-certs", "numbers.xlsx", "--registry", "reg", "--out", "c.xlsx", "--as-of", "2025-01-01", "--unmasked"];
    w.run_ok(&args, &[0]);
    use calamine::{Data, Reader};
    let mut book = calamine::open_workbook_auto(w.path("c.xlsx")).expect("a real XLSX");
    let r = book.worksheet_range_at(0).unwrap().unwrap();
    let col = |name: &str| (0..r.width()).find(|&c| r.get((0, c)) == Some(&Data::String(name.into()))).unwrap();
    assert_eq!(r.get((1, col("person_id"))), Some(&Data::String(p1.clone())), "ID as a text cell");
    assert_eq!(r.get((1, col("status"))), Some(&Data::String("valid".into())));
    assert_eq!(r.get((2, col("status"))), Some(&Data::String("invalid_id".into())));
    let detail = r.get((2, col("detail"))).map(|d| d.to_string()).unwrap_or_default();
    assert!(detail.contains("stored as a number"), "{detail}");
}

#[test]
fn verify_certs_refuses_a_roster_without_ids() {
    let w = Workdir::new();
    registry(&w);
    w.write("roster.csv", "name,dept\n张三,一车间\n");
    let o = w.run_ok(&["verify-certs", "roster.csv", "--registry", "reg"], &[2]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("person_id"));
}

/// Training institution T1 with 3 classes of 20 trainees, a phone column.
fn trainees(w: &Workdir) {
    w.write("ds/institutions.csv", INSTITUTIONS);
    let mut classes = String::from("class_id,institution_id,operation,course_kind,start_date,end_date\n");
    let mut att = String::from("record_id,class_id,person_id,name,mode,check_in,check_out,电话\n");
    for c in 0..3 {
        classes += &format!("C{c},T1,低压电工,initial,2024-03-01,2024-04-30\n");
        for j in 0..20 {
            let n = c * 20 + j;
            att += &format!("A{n},C{c},{},学员{n},classroom,2024-03-01 08:00,2024-03-01 10:15,1380000{n:04}\n", pid(n));
        }
    }
    w.write("ds/classes.csv", classes);
    w.write("ds/attendance.csv", att);
}

#[test]
fn sample_callbacks_is_reproducible_and_recorded() {
    let w = Workdir::new();
    trainees(&w);
    let args = |n: &str, seed: &str, out: &str| -> Vec<String> {
        ["sample-callbacks", "ds", "--institution", "T1", "--n", n, "--seed", seed, "--out", out]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        w.run_ok(&a, &[0])
    };
    run(args("9", "7", "a.csv"));
    run(args("9", "7", "b.csv"));
    run(args("9", "8", "c.csv"));
    let a = std::fs::read(w.path("a.csv")).unwrap();
    assert_eq!(a, std::fs::read(w.path("b.csv")).unwrap());
    assert_ne!(a, std::fs::read(w.path("c.csv")).unwrap());
    let rows = read_csv(&w.path("a.csv"));
    assert_eq!(rows.len(), 9);
    // Proportional: 3 per class; masked IDs, phone, hours (135 min / 45 = 3).
    for c in ["C0", "C1", "C2"] {
        assert_eq!(rows.iter().filter(|r| r["class_id"] == c).count(), 3);
    }
    assert!(rows[0]["person_id"].contains("***********"));
    assert!(rows[0]["phone"].starts_with("1380000"));
    assert_eq!(rows[0]["recorded_hours"], "3.0");

    // Without --seed one is generated, printed and stored.
    let o = w.run_ok(&["sample-callbacks", "ds", "--institution", "T1", "--n", "5", "--out", "d.csv"], &[0]);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    let seed: u64 = stderr
        .split("seed ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no seed printed: {stderr}"));
    let store = kaopei::store::Store::open(&w.path("kaopei.db")).unwrap();
    let samples = store.callback_samples("T1").unwrap();
    assert_eq!(samples.len(), 4);
    assert_eq!(samples[3].seed, seed);
    assert_eq!(samples[3].rows.len(), 5);
    assert_eq!(samples[0].rows, samples[1].rows);
    // Re-drawing with the printed seed gives the stored sample.
    run(args("5", &seed.to_string(), "e.csv"));
    assert_eq!(std::fs::read(w.path("e.csv")).unwrap(), std::fs::read(w.path("d.csv")).unwrap());
    assert_eq!(samples[3].rows, store.callback_samples("T1").unwrap()[4].rows);
}

#[test]
fn score_finds_certificates_without_exams() {
    let w = Workdir::new();
    w.write("ds/institutions.csv", INSTITUTIONS);
    w.write(
        "ds/exam_sessions.csv",
        // The archive runs from March (certificates issued within 60 days
        // of its first session may rest on exams before it: not judged).
        "session_id,institution_id,room,operation,part,start,end\n\
         S0,E1,R1,低压电工,theory,2024-03-01 09:00,2024-03-01 11:00\n\
         S1,E1,R1,低压电工,theory,2024-05-01 09:00,2024-05-01 11:00\n\
         S2,E1,R1,低压电工,practical,2024-05-02 09:00,2024-05-02 11:00\n",
    );
    let mut recs = String::from("record_id,session_id,person_id,name,training_institution_id,score\n");
    let mut certs = String::from(
        "cert_no,person_id,name,operation,issued_on,expires_on,training_institution_id,exam_institution_id\n",
    );
    for n in 0..10 {
        let p = pid(n);
        if n < 6 {
            recs += &format!("X{n}a,S1,{p},学员{n},T1,88\nX{n}b,S2,{p},学员{n},T1,90\n");
        }
        certs += &format!("T{p},{p},学员{n},低压电工,2024-06-01,2030-06-01,T1,E1\n");
    }
    w.write("ds/exam_records.csv", recs);
    w.write("ds/certificates.csv", certs);
    w.run_ok(&["score", "ds", "--out", "out", "--no-html"], &[0, 1]);
    let f = read_csv(&w.path("out/findings.csv"));
    let at = |inst: &str, check: &str| f.iter().any(|r| r["institution_id"] == inst && r["check"] == check);
    assert!(at("E1", "cert.no_passing_exam"), "{f:?}");
    // The four strangers are not T1's trainees in T1's own records.
    assert!(!at("T1", "cert.no_passing_exam"), "{f:?}");
    let flags = read_csv(&w.path("out/flags.csv"));
    let flagged: Vec<&str> = flags
        .iter()
        .filter(|r| r["check"] == "cert.no_passing_exam" && r["subject_kind"] == "certificate")
        .map(|r| r["subject_id"].as_str())
        .collect();
    assert_eq!(flagged.len(), 4, "{flagged:?}");
}

/// Issue 18: the call sheet has the columns of `callbacks`; filled in, it
/// loads back as `callbacks.csv` (every call a loaded row, the sheet's own
/// columns kept as extra fields).
#[test]
fn the_filled_in_call_sheet_loads_back_as_callbacks() {
    let w = Workdir::new();
    trainees(&w);
    let sheet = ["sample-callbacks", "ds", "--institution", "T1", "--n", "6", "--seed", "3", "--out", "calls.csv"];
    let mut args = sheet.to_vec();
    args.push("--unmasked");
    w.run_ok(&args, &[0]);
    let bytes = std::fs::read(w.path("calls.csv")).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM for Excel");
    let text = String::from_utf8(bytes).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().trim_start_matches('\u{FEFF}');
    assert!(header.starts_with("person_id,institution_id,called_at,reached,attended,hours_reported,note,"));
    // The caller fills in called_at, reached, attended, hours_reported.
    let mut filled = format!("{header}\n");
    for (i, l) in lines.enumerate() {
        let f: Vec<&str> = l.split(',').collect();
        let answer = if i % 2 == 0 { "是,是,3,," } else { "否,,,," };
        filled += &format!("{},{},2024-05-0{} 10:00,{answer}{}\n", f[0], f[1], i + 1, f[7..].join(","));
    }
    w.write("ds/callbacks.csv", filled);
    let o = w.run_ok(&["ingest", "ds", "--db", "cb.db"], &[0]);
    let out = String::from_utf8_lossy(&o.stdout);
    let c = rusqlite::Connection::open(w.path("cb.db")).unwrap();
    let (read, loaded, rejected): (i64, i64, i64) = c
        .query_row("SELECT rows_read, rows_loaded, rows_rejected FROM inputs WHERE table_name='callbacks'", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!((read, loaded, rejected), (6, 6, 0), "{out}");
    let joined: i64 = c
        .query_row("SELECT COUNT(*) FROM callbacks WHERE person_id IN (SELECT person_id FROM attendance)", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(joined, 6, "the calls join back to the trainees");
}
