//! Output files: written atomically, then hashed for the run ledger.
//!
//! Every file a command writes (CSVs, HTML and PDF reports, call sheets,
//! roster results) goes through [`write_atomic`] or [`AtomicFile`]: the
//! bytes go to a hidden temporary file beside the target, which is renamed
//! over it only once complete. A killed process therefore leaves the old
//! file or the new one, never half of one. This protects against a killed
//! process, not a power cut: nothing is fsynced, as the store runs with
//! `synchronous=NORMAL`. The temporaries a killed process leaves behind
//! are swept by the next run writing there ([`remove_stale_temps`]).
//!
//! [`Outputs`] collects the files a run wrote with their size and SHA-256
//! for [`crate::store::Store::finish_run_with_outputs`]. A path is recorded
//! relative to the store's folder when the file lies under it, so an output
//! folder copied elsewhere together with its `kaopei.db` still verifies;
//! otherwise it is recorded absolute. [`resolve`] is the inverse.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::run::OutputFile;

/// The temporary name `dest` is written under: hidden, beside it (same file
/// system, so the rename is atomic), unique per process.
pub fn temp_path(dest: &Path) -> PathBuf {
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    dest.with_file_name(format!(".{name}.{}.kaopei-tmp", std::process::id()))
}

/// Removes the temporaries that killed processes left in `dir` (those of a
/// process still running are left alone; where that cannot be told, as
/// without `/proc`, nothing is removed). Returns how many were removed.
pub fn remove_stale_temps(dir: &Path) -> usize {
    let proc_fs = Path::new("/proc/self").exists();
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".kaopei-tmp")) else { continue };
        let Some(pid) = stem.rsplit('.').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        let alive = !proc_fs || pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists();
        if !alive && std::fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)?;
    f.commit()
}

/// A file being written: a buffered temporary file that [`AtomicFile::commit`]
/// renames over the target. Dropped without commit, it removes itself.
pub struct AtomicFile {
    dest: PathBuf,
    tmp: PathBuf,
    w: Option<BufWriter<File>>,
}

impl AtomicFile {
    pub fn create(dest: &Path) -> io::Result<AtomicFile> {
        let tmp = temp_path(dest);
        let f = File::create(&tmp)?;
        Ok(AtomicFile { dest: dest.to_path_buf(), tmp, w: Some(BufWriter::new(f)) })
    }

    /// Flushes and moves the file into place.
    pub fn commit(mut self) -> io::Result<()> {
        if let Some(w) = self.w.take() {
            w.into_inner().map_err(io::IntoInnerError::into_error)?;
        }
        std::fs::rename(&self.tmp, &self.dest)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.w {
            Some(w) => w.write(buf),
            None => Err(io::Error::other("write after commit")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.w {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.w.take().is_some() {
            // Not committed (an error on the way): leave no temporary behind.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// SHA-256 (lowercase hex) of bytes in memory: the one in-memory hash
/// (input files as read, models, ids); [`hash_file`] streams files.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Size and SHA-256 (lowercase hex) of a file's bytes.
pub fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((size, hex::encode(h.finalize())))
}

/// `p` made absolute (symlinks resolved where it exists), so two spellings
/// of one file agree.
pub fn absolute(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()))
}

/// How `path` is recorded for a store in folder `base`.
pub fn ledger_path(base: &Path, path: &Path) -> String {
    let (base, path) = (absolute(base), absolute(path));
    match path.strip_prefix(&base) {
        Ok(rel) => rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"),
        Err(_) => path.display().to_string(),
    }
}

/// Where a recorded path is now, for a store in folder `base`.
pub fn resolve(base: &Path, recorded: &str) -> PathBuf {
    let p = Path::new(recorded);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// The files one run wrote, hashed as they are on disk.
#[derive(Debug)]
pub struct Outputs {
    base: PathBuf,
    files: Vec<OutputFile>,
}

impl Outputs {
    /// Outputs recorded for a store in folder `base`.
    pub fn new(base: &Path) -> Outputs {
        Outputs { base: base.to_path_buf(), files: Vec::new() }
    }

    /// The ledger records of `written` (files just written), for a store in
    /// folder `base`.
    pub fn hashed(base: &Path, written: &[PathBuf]) -> anyhow::Result<Vec<OutputFile>> {
        use anyhow::Context;
        let mut outputs = Outputs::new(base);
        for p in written {
            outputs.add(p).with_context(|| format!("cannot hash output `{}`", p.display()))?;
        }
        Ok(outputs.into_files())
    }

    /// Hashes a written file and adds it.
    pub fn add(&mut self, path: &Path) -> io::Result<()> {
        let (size, sha256) = hash_file(path)?;
        self.files.push(OutputFile { path: ledger_path(&self.base, path), size, sha256 });
        Ok(())
    }

    /// The files, sorted by path (reports are written in parallel).
    pub fn into_files(mut self) -> Vec<OutputFile> {
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        self.files.dedup_by(|a, b| a.path == b.path);
        self.files
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_whole_files_and_leave_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("scores.csv");
        write_atomic(&p, b"old").unwrap();
        {
            let mut f = AtomicFile::create(&p).unwrap();
            f.write_all(b"half of the new").unwrap();
            // Dropped without commit: the old file stays, the temporary goes.
        }
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("scores.csv")]);
    }

    #[test]
    fn temporaries_of_dead_processes_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        // No process has pid 4194305 (above Linux's pid_max limit).
        let dead = dir.path().join(".scores.csv.4194305.kaopei-tmp");
        let mine = temp_path(&dir.path().join("flags.csv"));
        std::fs::write(&dead, "half").unwrap();
        std::fs::write(&mine, "busy").unwrap();
        std::fs::write(dir.path().join("scores.csv"), "whole").unwrap();
        let removed = remove_stale_temps(dir.path());
        if Path::new("/proc/self").exists() {
            assert_eq!(removed, 1);
            assert!(!dead.exists());
        }
        assert!(mine.exists() && dir.path().join("scores.csv").exists());
    }

    #[test]
    fn paths_under_the_store_folder_are_relative() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("out/reports")).unwrap();
        let f = dir.path().join("out/reports/a.html");
        std::fs::write(&f, "<html>").unwrap();
        let base = dir.path().join("out");
        assert_eq!(ledger_path(&base, &f), "reports/a.html");
        assert_eq!(resolve(&base, "reports/a.html"), base.join("reports/a.html"));
        let other = dir.path().join("elsewhere.csv");
        std::fs::write(&other, "x").unwrap();
        let rec = ledger_path(&base, &other);
        assert!(Path::new(&rec).is_absolute(), "{rec}");
        assert_eq!(resolve(&base, &rec).canonicalize().unwrap(), other.canonicalize().unwrap());

        let mut outs = Outputs::new(&base);
        outs.add(&f).unwrap();
        let files = outs.into_files();
        assert_eq!(files[0].size, 6);
        assert_eq!(files[0].sha256, sha256_hex(b"<html>"));
    }

    #[test]
    fn sha256_known_value() {
        // sha256(b"abc"), FIPS 180-2 appendix B.1
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("abc");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(
            hash_file(&p).unwrap(),
            (3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".to_string())
        );
    }
}
