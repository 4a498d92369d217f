//! `kaopei synth --out DIR --institutions N --seed S`: generate a synthetic
//! dataset with planted falsification patterns and `truth.csv`.

use std::path::PathBuf;

use anyhow::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output folder (created).
    #[arg(long)]
    pub out: PathBuf,
    /// Number of institutions.
    #[arg(long, default_value_t = 24)]
    pub institutions: u32,
    /// Random seed; the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(a: Args) -> Result<i32> {
    let _ = a;
    anyhow::bail!("synth is not built yet")
}
