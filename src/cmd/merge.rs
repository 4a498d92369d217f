//! `kaopei merge --out DIR SHARD_DIR...`: combine the CSV outputs of
//! `kaopei score --shard K/N` runs into one set identical to an unsharded
//! run. Shards partition institutions, so merging is a sorted union; a
//! missing shard or an institution in two shards is an error, not a guess.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::report::csv_out::{sort_and_write, FINDINGS, FLAGS, SCORES};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output folder for the merged scores.csv, findings.csv and flags.csv.
    #[arg(long)]
    pub out: PathBuf,
    /// The shards' output folders (each with scores.csv, findings.csv, flags.csv).
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
}

pub fn run(a: Args) -> Result<i32> {
    std::fs::create_dir_all(&a.out).with_context(|| format!("cannot create `{}`", a.out.display()))?;
    let mut owner: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut red = false;
    for (name, header, key) in [(SCORES.0, &SCORES.1[..], SCORES.2), (FINDINGS.0, &FINDINGS.1[..], FINDINGS.2)] {
        let rows = read_all(&a.shards, name, header)?;
        if name == SCORES.0 {
            for (shard, r) in &rows {
                if let Some(prev) = owner.insert(r[0].clone(), shard.clone()) {
                    bail!("institution `{}` is in two shards: `{}` and `{}`", r[0], prev.display(), shard.display());
                }
                red |= r[3] == "red";
            }
        }
        sort_and_write(&a.out.join(name), header, rows.into_iter().map(|(_, r)| r).collect(), key, false)?;
    }
    let flags = read_all(&a.shards, FLAGS.0, &FLAGS.1)?;
    sort_and_write(&a.out.join(FLAGS.0), &FLAGS.1, flags.into_iter().map(|(_, r)| r).collect(), FLAGS.2, true)?;
    eprintln!("kaopei: merged {} shards, {} institutions into `{}`", a.shards.len(), owner.len(), a.out.display());
    Ok(i32::from(red))
}

/// Reads one output file from every shard, checking its header.
fn read_all(shards: &[PathBuf], name: &str, header: &[&str]) -> Result<Vec<(PathBuf, Vec<String>)>> {
    let mut out = Vec::new();
    for dir in shards {
        let path = dir.join(name);
        for r in read_csv(&path, header)? {
            out.push((dir.clone(), r));
        }
    }
    Ok(out)
}

fn read_csv(path: &Path, header: &[&str]) -> Result<Vec<Vec<String>>> {
    let mut rdr =
        csv::Reader::from_path(path).with_context(|| format!("cannot read shard output `{}`", path.display()))?;
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
