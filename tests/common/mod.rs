//! Helpers shared by the integration tests: run the real `kaopei` binary
//! in a temporary work folder (xsv's `Workdir` habit), check the store's
//! per-file accounting, and write CSV text as an XLSX sheet.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary folder the test works in, removed when dropped.
pub struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Runs `kaopei ARGS` and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_kaopei"))
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("kaopei runs")
    }

    /// Runs `kaopei ARGS`, asserting an exit code in `ok`.
    #[track_caller]
    pub fn run_ok(&self, args: &[&str], ok: &[i32]) -> Output {
        let o = self.run(args);
        let code = o.status.code().unwrap_or(-1);
        assert!(
            ok.contains(&code),
            "kaopei {args:?} exited {code}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        o
    }

    /// Writes a file (creating folders).
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(&p, contents).expect("write");
        p
    }
}

/// The committed demo dataset.
pub fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/demo")
}

/// Reads a CSV into header-keyed rows (a leading UTF-8 BOM, which the
/// outputs begin with, is not part of the first header).
pub fn read_csv(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes).to_vec();
    let mut r = csv::Reader::from_reader(std::io::Cursor::new(body));
    let h = r.headers().expect("header").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            h.iter().zip(rec.iter()).map(|(k, v)| (k.to_string(), v.to_string())).collect()
        })
        .collect()
}

/// The store's `inputs` rows as (table, rows read, loaded, rejected,
/// refused), asserting for each the reader's invariant: read = loaded +
/// rejected, the data table holds `loaded` rows and `rejects` holds
/// `rejected` rows of that table.
#[track_caller]
pub fn accounted_inputs(c: &rusqlite::Connection) -> Vec<(String, i64, i64, i64, Option<String>)> {
    let mut st = c
        .prepare("SELECT table_name, rows_read, rows_loaded, rows_rejected, refused FROM inputs ORDER BY table_name")
        .expect("inputs table");
    let rows: Vec<(String, i64, i64, i64, Option<String>)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .expect("inputs rows")
        .map(Result::unwrap)
        .collect();
    for (t, read, loaded, rejected, _) in &rows {
        assert_eq!(*read, loaded + rejected, "accounting of {t}");
        let stored: i64 = c.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0)).unwrap();
        assert_eq!(stored, *loaded, "rows stored in {t}");
        let rej: i64 = c.query_row("SELECT COUNT(*) FROM rejects WHERE table_name = ?1", [t], |r| r.get(0)).unwrap();
        assert_eq!(rej, *rejected, "rejects stored for {t}");
    }
    rows
}

/// Writes `csv` (simple comma-separated text, no quoting) as the first
/// sheet of an XLSX workbook: numbers as numbers, `YYYY-MM-DD HH:MM:SS` and
/// `YYYY-MM-DD` as real Excel dates, the rest as strings.
pub fn write_xlsx(path: &Path, csv: &str) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    fill_sheet(wb.add_worksheet(), csv);
    wb.save(path).unwrap();
}

/// Writes `csv` into a worksheet as [`write_xlsx`] does.
pub fn fill_sheet(ws: &mut rust_xlsxwriter::Worksheet, csv: &str) {
    use rust_xlsxwriter::{ExcelDateTime, Format};
    let dt_fmt = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let d_fmt = Format::new().set_num_format("yyyy-mm-dd");
    for (r, line) in csv.lines().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            let (r, c) = (r as u32, c as u16);
            let b = cell.as_bytes();
            if r > 0 && cell.len() == 19 && b[4] == b'-' && b[10] == b' ' {
                let n = |a: usize, z: usize| cell[a..z].parse::<u16>().unwrap();
                let dt = ExcelDateTime::from_ymd(n(0, 4), n(5, 7) as u8, n(8, 10) as u8)
                    .unwrap()
                    .and_hms(n(11, 13), n(14, 16) as u8, n(17, 19))
                    .unwrap();
                ws.write_datetime_with_format(r, c, &dt, &dt_fmt).unwrap();
            } else if r > 0 && cell.len() == 10 && b[4] == b'-' && b[7] == b'-' {
                let n = |a: usize, z: usize| cell[a..z].parse::<u16>().unwrap();
                let d = ExcelDateTime::from_ymd(n(0, 4), n(5, 7) as u8, n(8, 10) as u8).unwrap();
                ws.write_datetime_with_format(r, c, &d, &d_fmt).unwrap();
            } else if r > 0 && !cell.is_empty() && cell.len() < 10 && cell.parse::<f64>().is_ok() {
                ws.write_number(r, c, cell.parse::<f64>().unwrap()).unwrap();
            } else if !cell.is_empty() {
                ws.write_string(r, c, cell).unwrap();
            }
        }
    }
}

/// Runs the `ffmpeg` command line in `dir` (test clips), failing the test
/// with ffmpeg's message.
#[track_caller]
pub fn ffmpeg(dir: &Path, args: &str) {
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!("ffmpeg -nostdin -v error -y {args}"))
        .current_dir(dir)
        .output()
        .expect("ffmpeg runs");
    assert!(o.status.success(), "ffmpeg {args}: {}", String::from_utf8_lossy(&o.stderr));
}
