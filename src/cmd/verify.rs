//! `kaopei verify --db FILE [--dataset DIR] [--run ID]`: shows whether the
//! evidence still is what the runs recorded. Checks the run ledger's hash
//! chain and every closed run's rows against its hashed record, re-hashes
//! the files each run wrote (every run, or only `--run`) and, with
//! `--dataset`, the files it read. Prints one line per problem and a
//! summary; exit code 0 when everything is intact, 1 when anything
//! changed, 2 when the check itself cannot run. The store is opened
//! read-only.
//!
//! Files are found where the ledger says: output paths relative to the
//! store's folder (or absolute), dataset inputs relative to the dataset
//! folder the run read (`--dataset` for the runs that read it, the recorded
//! folder for runs of other folders, e.g. other months),
//! other inputs (rosters, shard files) at their absolute path. When several
//! runs wrote (or read) the same file, only the latest is expected to match
//! it; the earlier ones count as superseded, not changed. Runs still marked
//! `running` (killed, or in progress) recorded no files and are listed as
//! notes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::output::{absolute as key, hash_file, resolve};
use crate::store::{LedgerEntry, ProblemKind, RunRecord, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The store whose ledger to check.
    #[arg(long, required_unless_present = "bundle")]
    pub db: Option<PathBuf>,
    /// Check a hand-over bundle (`kaopei bundle`) against its manifest
    /// instead, without the store.
    #[arg(long, conflicts_with_all = ["db", "dataset", "run"])]
    pub bundle: Option<PathBuf>,
    /// Dataset folder to re-hash the recorded input files in (default: inputs
    /// are not checked).
    #[arg(long)]
    pub dataset: Option<PathBuf>,
    /// Check only this run's files (the chain is always checked whole).
    #[arg(long)]
    pub run: Option<i64>,
}

/// What re-hashing one recorded file found.
enum FileState {
    Intact,
    Missing,
    Changed { size: u64, sha256: String },
}

fn check_file(path: &Path, size: u64, sha256: &str) -> Result<FileState> {
    match hash_file(path) {
        Ok((s, h)) if h == sha256 && s == size => Ok(FileState::Intact),
        Ok((s, h)) => Ok(FileState::Changed { size: s, sha256: h }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileState::Missing),
        Err(e) => Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    }
}

fn short(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}

#[derive(Default)]
struct Tally {
    problems: Vec<String>,
    notes: Vec<String>,
    outputs: usize,
    inputs: usize,
    superseded: usize,
}

impl Tally {
    /// Records the state of a file `what` (`output`/`input`) of `run`.
    fn file(&mut self, run: &str, what: &str, recorded: &str, size: u64, sha256: &str, state: FileState) {
        match state {
            FileState::Intact => {}
            FileState::Missing => self.problems.push(format!("{run}: {what} `{recorded}` is missing")),
            FileState::Changed { size: now_size, sha256: now } => self.problems.push(format!(
                "{run}: {what} `{recorded}` changed: recorded {size} bytes sha256 {}…, now {now_size} bytes sha256 {}…",
                short(sha256),
                short(&now)
            )),
        }
    }
}

pub fn run(a: Args) -> Result<i32> {
    if let Some(b) = &a.bundle {
        return super::bundle::verify(b);
    }
    let db = a.db.clone().context("--db is required")?;
    if !db.is_file() {
        bail!("store `{}` does not exist", db.display());
    }
    if let Some(d) = &a.dataset {
        if !d.is_dir() {
            bail!("dataset folder `{}` does not exist", d.display());
        }
    }
    let store = Store::open_read_only(&db)?;
    let ledger = store.ledger()?;
    if let Some(id) = a.run {
        if !ledger.iter().any(|e| e.run_id == id) {
            bail!("run {id} is not in store `{}`", db.display());
        }
    }
    let mut t = Tally::default();
    for p in store.verify_chain()? {
        match p.kind {
            ProblemKind::Unfinished => t
                .notes
                .push(format!("note: run {}: {} (killed or still running; it recorded no files)", p.run_id, p.message)),
            _ => t.problems.push(format!("run {}: {}", p.run_id, p.message)),
        }
    }

    let base = store.dir();
    let closed: Vec<(&LedgerEntry, &RunRecord)> =
        ledger.iter().filter_map(|e| e.record.as_ref().map(|r| (e, r))).collect();
    // Each run's inputs are relative to the dataset folder *it* read (a
    // store used across months holds runs of several folders). `--dataset`
    // stands for the folder of the runs that read it by that path or, when
    // none did (a copied or moved dataset), for the latest run's folder;
    // runs of other folders are checked in their recorded folder when it
    // still exists, otherwise their inputs are not checked (a note).
    let given = a.dataset.as_ref().map(|d| (d.clone(), d.canonicalize().ok()));
    let same_as_given = |rec: &str| match &given {
        Some((d, canon)) => {
            Path::new(rec) == d.as_path() || (canon.is_some() && Path::new(rec).canonicalize().ok() == *canon)
        }
        None => false,
    };
    let relative_inputs =
        |r: &RunRecord| r.inputs.iter().any(|i| i.table != super::RUN_INPUT && !Path::new(&i.path).is_absolute());
    let target: Option<String> = closed
        .iter()
        .map(|(_, r)| r)
        .find(|r| same_as_given(&r.dataset))
        .or_else(|| closed.iter().map(|(_, r)| r).rev().find(|r| relative_inputs(r)))
        .map(|r| r.dataset.clone());
    let folder_of = |r: &RunRecord| -> Option<PathBuf> {
        let (d, _) = given.as_ref()?;
        let rec = Path::new(&r.dataset);
        if target.as_deref() == Some(r.dataset.as_str()) || same_as_given(&r.dataset) {
            Some(d.clone())
        } else if rec.is_dir() {
            Some(rec.to_path_buf())
        } else {
            None
        }
    };
    let input_path = |r: &RunRecord, p: &str| -> Option<PathBuf> {
        let path = Path::new(p);
        if path.is_absolute() {
            Some(path.to_path_buf())
        } else {
            folder_of(r).map(|d| d.join(path))
        }
    };
    // The latest run that wrote / read each file: the one it must match.
    let mut writer: HashMap<PathBuf, i64> = HashMap::new();
    let mut reader: HashMap<PathBuf, i64> = HashMap::new();
    for (e, r) in &closed {
        for o in &r.outputs {
            writer.insert(key(&resolve(&base, &o.path)), e.run_id);
        }
        for i in r.inputs.iter().filter(|i| i.table != super::RUN_INPUT) {
            if let Some(p) = input_path(r, &i.path) {
                reader.insert(key(&p), e.run_id);
            }
        }
    }

    for (e, r) in closed.iter().filter(|(e, _)| a.run.is_none_or(|id| id == e.run_id)) {
        let run = format!("run {} ({})", e.run_id, r.command);
        if a.dataset.is_some() && relative_inputs(r) && folder_of(r).is_none() {
            t.notes.push(format!(
                "note: {run} read dataset `{}`, which is neither --dataset nor a folder here: its input files were not checked",
                r.dataset
            ));
        }
        for o in &r.outputs {
            let path = resolve(&base, &o.path);
            match writer.get(&key(&path)) {
                Some(&last) if last != e.run_id => {
                    t.superseded += 1;
                    if a.run.is_some() {
                        t.notes.push(format!("note: {run}: output `{}` was rewritten by run {last} since", o.path));
                    }
                }
                _ => {
                    t.outputs += 1;
                    let state = check_file(&path, o.size, &o.sha256)?;
                    t.file(&run, "output", &o.path, o.size, &o.sha256, state);
                }
            }
        }
        for i in &r.inputs {
            if i.table == super::RUN_INPUT {
                let id: Option<i64> = i.path.strip_prefix("run ").and_then(|n| n.parse().ok());
                let now = match id {
                    Some(id) => store.run_hash(id)?,
                    None => None,
                };
                if now.as_deref() != Some(i.sha256.as_str()) {
                    t.problems.push(format!("{run}: input `{}` no longer has the hash it had when read", i.path));
                }
                continue;
            }
            let Some(path) = input_path(r, &i.path) else { continue };
            match reader.get(&key(&path)) {
                Some(&last) if last != e.run_id => t.superseded += 1,
                _ => {
                    t.inputs += 1;
                    let state = check_file(&path, i.size, &i.sha256)?;
                    t.file(&run, "input", &i.path, i.size, &i.sha256, state);
                }
            }
        }
    }

    for n in &t.notes {
        outln!("{n}");
    }
    for p in &t.problems {
        outln!("{p}");
    }
    let head = closed.last().and_then(|(e, _)| e.hash.as_deref()).unwrap_or("none");
    let inputs = if a.dataset.is_some() || t.inputs > 0 {
        format!(", {} input files", t.inputs)
    } else {
        " (input files need --dataset)".to_string()
    };
    let verdict = match t.problems.len() {
        0 => "intact".to_string(),
        1 => "1 problem".to_string(),
        n => format!("{n} problems"),
    };
    outln!(
        "kaopei verify: {} runs ({} closed); re-hashed {} output files{inputs}; {} superseded by later runs; chain head {head}: {verdict}",
        ledger.len(),
        closed.len(),
        t.outputs,
        t.superseded
    );
    Ok(if t.problems.is_empty() { 0 } else { 1 })
}
