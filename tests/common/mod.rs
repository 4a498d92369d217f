//! Helpers shared by the integration tests: run the real `kaopei` binary
//! in a temporary work folder (xsv's `Workdir` habit).
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

/// Reads a CSV into header-keyed rows.
pub fn read_csv(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let h = r.headers().expect("header").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            h.iter().zip(rec.iter()).map(|(k, v)| (k.to_string(), v.to_string())).collect()
        })
        .collect()
}
