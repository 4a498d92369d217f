//! `kaopei merge --out DIR SHARD_DIR...`: combine the CSV outputs of
//! `kaopei score --shard K/N` runs into one set identical to an unsharded
//! run. Shards partition institutions, so merging is a sorted union. Each
//! shard folder holds the `shard.json` its run wrote (K, N and a
//! fingerprint of the input files): a missing shard, a shard given twice,
//! shards of different N or of different inputs, or an institution in two
//! shards is an error, not a guess.
//! The merge is a run in the ledger of `OUT/kaopei.db` (or `--db`): the
//! shard files it read and the files it wrote, with their hashes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::model::Tier;
use crate::report::csv_out::{sort_and_write, EXAMINEES, FINDINGS, FLAGS, SCORES};
use crate::run::InputFile;
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output folder for the merged scores.csv, findings.csv and flags.csv.
    #[arg(long)]
    pub out: PathBuf,
    /// The shards' output folders (each with scores.csv, findings.csv, flags.csv).
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// The store whose run ledger records the merge (default: OUT/kaopei.db).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Exit 0 even when red-tier institutions are in the merged scores.
    #[arg(long)]
    pub exit_zero_on_red: bool,
}

pub fn run(a: Args) -> Result<i32> {
    std::fs::create_dir_all(&a.out).with_context(|| format!("cannot create `{}`", a.out.display()))?;
    let db = a.db.clone().unwrap_or_else(|| a.out.join("kaopei.db"));
    let mut store = Store::open(&db).with_context(|| format!("cannot open store `{}`", db.display()))?;
    let shards: Vec<String> = a.shards.iter().map(|s| s.display().to_string()).collect();
    let info = crate::cmd::run_info("merge", shards.join(", "), None);
    crate::cmd::recorded(&mut store, info, Vec::new(), |inputs| merge(&a, inputs))
}

/// Reads each shard's `shard.json` and refuses a set that is not exactly
/// shards 1..N of one N over one dataset (same input files).
fn check_set(a: &Args, inputs: &mut Vec<InputFile>) -> Result<()> {
    use crate::pipeline::{ShardMarker, SHARD_FILE};
    let mut seen: BTreeMap<u32, &PathBuf> = BTreeMap::new();
    let mut first: Option<(ShardMarker, &PathBuf)> = None;
    for dir in &a.shards {
        let path = dir.join(SHARD_FILE);
        let bytes = std::fs::read(&path).with_context(|| {
            format!("`{}` has no {SHARD_FILE}: it is not the output of `kaopei score --shard K/N`", dir.display())
        })?;
        let m: ShardMarker =
            serde_json::from_slice(&bytes).with_context(|| format!("`{}` is not a shard marker", path.display()))?;
        inputs.push(crate::cmd::input_file("shard marker", &path, &bytes, 1)?);
        if let Some((f, fdir)) = &first {
            if f.n != m.n {
                bail!(
                    "mixed shard sets: `{}` is shard {}/{}, `{}` is {}/{}",
                    fdir.display(),
                    f.k,
                    f.n,
                    dir.display(),
                    m.k,
                    m.n
                );
            }
            if f.inputs != m.inputs {
                bail!(
                    "mixed shard sets: `{}` and `{}` were scored on different input files (input fingerprints {} and {})",
                    fdir.display(),
                    dir.display(),
                    &f.inputs[..12.min(f.inputs.len())],
                    &m.inputs[..12.min(m.inputs.len())]
                );
            }
        }
        if let Some(prev) = seen.insert(m.k, dir) {
            bail!("shard {}/{} is given twice: `{}` and `{}`", m.k, m.n, prev.display(), dir.display());
        }
        if first.is_none() {
            first = Some((m, dir));
        }
    }
    if let Some((f, _)) = first {
        let missing: Vec<String> =
            (1..=f.n).filter(|k| !seen.contains_key(k)).map(|k| format!("{k}/{}", f.n)).collect();
        if !missing.is_empty() {
            bail!("incomplete shard set: {} of {} shards given, missing {}", seen.len(), f.n, missing.join(", "));
        }
    }
    Ok(())
}

/// Merges the shards into `a.out`; returns the exit code and the files written.
fn merge(a: &Args, inputs: &mut Vec<InputFile>) -> Result<(i32, Vec<PathBuf>)> {
    check_set(a, inputs)?;
    let mut owner: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut red = false;
    let mut written = Vec::new();
    for (name, header, key) in [(SCORES.0, &SCORES.1[..], SCORES.2), (FINDINGS.0, &FINDINGS.1[..], FINDINGS.2)] {
        let rows = read_all(&a.shards, name, header, inputs)?;
        if name == SCORES.0 {
            for (shard, r) in &rows {
                if let Some(prev) = owner.insert(r[0].clone(), shard.clone()) {
                    bail!("institution `{}` is in two shards: `{}` and `{}`", r[0], prev.display(), shard.display());
                }
                red |= r[3].parse::<Tier>() == Ok(Tier::Red);
            }
        }
        let path = a.out.join(name);
        sort_and_write(&path, header, rows.into_iter().map(|(_, r)| r).collect(), key, false)?;
        written.push(path);
    }
    let flags = read_all(&a.shards, FLAGS.0, &FLAGS.1, inputs)?;
    let path = a.out.join(FLAGS.0);
    sort_and_write(&path, &FLAGS.1, flags.into_iter().map(|(_, r)| r).collect(), FLAGS.2, true)?;
    written.push(path);
    // Shards write the examinees of their exam centres: a union (shards
    // from before examinees.csv existed have none to merge).
    if a.shards.iter().all(|d| d.join(EXAMINEES.0).exists()) {
        let rows = read_all(&a.shards, EXAMINEES.0, &EXAMINEES.1, inputs)?;
        let path = a.out.join(EXAMINEES.0);
        sort_and_write(&path, &EXAMINEES.1, rows.into_iter().map(|(_, r)| r).collect(), EXAMINEES.2, false)?;
        written.push(path);
    }
    eprintln!("kaopei: merged {} shards, {} institutions into `{}`", a.shards.len(), owner.len(), a.out.display());
    Ok((i32::from(red && !a.exit_zero_on_red), written))
}

/// Reads one output file from every shard, checking its header, and notes
/// each file read among the run's inputs.
fn read_all(
    shards: &[PathBuf],
    name: &str,
    header: &[&str],
    inputs: &mut Vec<InputFile>,
) -> Result<Vec<(PathBuf, Vec<String>)>> {
    let mut out = Vec::new();
    for dir in shards {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).with_context(|| format!("cannot read shard output `{}`", path.display()))?;
        let rows = read_csv(&path, &bytes, header)?;
        let table = format!("shard {}", name.trim_end_matches(".csv"));
        inputs.push(crate::cmd::input_file(&table, &path, &bytes, rows.len() as u64)?);
        out.extend(rows.into_iter().map(|r| (dir.clone(), r)));
    }
    Ok(out)
}

fn read_csv(path: &Path, bytes: &[u8], header: &[&str]) -> Result<Vec<Vec<String>>> {
    let mut rdr = csv::Reader::from_reader(crate::report::csv_out::strip_bom(bytes));
    let got: Vec<String> = rdr.headers()?.iter().map(str::to_string).collect();
    if got != header {
        bail!("`{}` has header `{}`, expected `{}`", path.display(), got.join(","), header.join(","));
    }
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("`{}` line {}", path.display(), i + 2))?;
        rows.push(rec.iter().map(str::to_string).collect());
    }
    Ok(rows)
}
