//! `kaopei calibrate --fit DIR... --holdout DIR... --out DIR`: fit the
//! scorecard's check weights and tier cut-offs on labelled datasets (made by
//! `kaopei synth`, each with its `truth.csv`), then report ROC AUC,
//! precision/recall of red+orange and the honest false-positive rates on
//! the *held-out* datasets, which took no part in the fit.
//!
//! Writes `OUT/scorecard.toml` (the current model with fitted weights and
//! tiers and the figures as a comment block) and `OUT/calibration.md`.
//! Copy the proposed file over `models/scorecard.toml` to adopt it.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::opts::ModelsOpt;
use crate::model::scorecard::Tiers;
use crate::model::{Models, Tier};
use crate::pipeline::{self, Options, Scope};
use crate::score::calibrate::{cutoff_for_fpr, figures, fit_weights, gated_score, Example, Figures};
use crate::score::InstScore;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Labelled datasets to fit on (each with truth.csv).
    #[arg(long, num_args = 1.., required = true)]
    pub fit: Vec<PathBuf>,
    /// Labelled datasets held out for the reported figures.
    #[arg(long, num_args = 1.., required = true)]
    pub holdout: Vec<PathBuf>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub models: ModelsOpt,
    /// Highest share of honest institutions allowed in red on the fit data.
    #[arg(long, default_value_t = 0.005)]
    pub max_honest_red: f64,
    /// Highest share of honest institutions allowed in red or orange.
    #[arg(long, default_value_t = 0.05)]
    pub max_honest_orange: f64,
    /// Lowest red cut-off the fit may choose.
    #[arg(long, default_value_t = 60.0)]
    pub min_red: f64,
    /// Lowest orange cut-off the fit may choose.
    #[arg(long, default_value_t = 35.0)]
    pub min_orange: f64,
}

/// One institution of a labelled dataset after a run.
struct Labelled {
    dataset: String,
    score: InstScore,
    example: Example,
}

pub fn run(a: Args) -> Result<i32> {
    std::fs::create_dir_all(&a.out).with_context(|| format!("cannot create `{}`", a.out.display()))?;
    let models = Models::load(a.models.dir())?;
    let fit = label_all(&a, &a.fit)?;
    let hold = label_all(&a, &a.holdout)?;

    let prior: BTreeMap<String, f64> = models.scorecard.checks.iter().map(|(k, c)| (k.clone(), c.weight)).collect();
    let examples: Vec<Example> = fit.iter().map(|l| l.example.clone()).collect();
    let sc = &models.scorecard.scoring;
    let weights = fit_weights(sc, &examples, &prior, 0.02, 0.05, 0.95);

    // Red is chosen on the gated scores with the gate at 100 (an institution
    // the gate holds back cannot be red at any cut-off), orange below it.
    let fit_scores: Vec<(f64, bool)> =
        fit.iter().map(|l| (gated_score(sc, &l.example.findings, &weights, 0.0), l.example.planted)).collect();
    let red = cutoff_for_fpr(&fit_scores, a.max_honest_red, a.min_red);
    let fit_scores: Vec<(f64, bool)> =
        fit.iter().map(|l| (gated_score(sc, &l.example.findings, &weights, red), l.example.planted)).collect();
    let orange = cutoff_for_fpr(&fit_scores, a.max_honest_orange, a.min_orange).min(red - 5.0);
    let yellow = models.scorecard.tiers.yellow.min(orange - 5.0);

    let fitted_tiers = Tiers { red, orange, yellow };
    let tier = |s: f64| fitted_tiers.of(s);
    let eval = |set: &[&Labelled], w: &BTreeMap<String, f64>, r: f64, cut: &dyn Fn(f64) -> Tier| -> Figures {
        let rows: Vec<(f64, Tier, bool)> = set
            .iter()
            .map(|l| {
                let s = gated_score(sc, &l.example.findings, w, r);
                (s, cut(s), l.example.planted)
            })
            .collect();
        figures(&rows)
    };
    let card = &models.scorecard;
    let all_hold: Vec<&Labelled> = hold.iter().collect();
    let all_fit: Vec<&Labelled> = fit.iter().collect();
    let before = eval(&all_hold, &prior, card.tiers.red, &|s| card.tier(s));
    let after_fit = eval(&all_fit, &weights, red, &tier);
    let after = eval(&all_hold, &weights, red, &tier);
    // Held-out figures per generator setting (the dataset folder name up
    // to its last `-`: e.g. `high-s31` → `high`).
    let mut settings: BTreeMap<String, Vec<&Labelled>> = BTreeMap::new();
    for l in &hold {
        let key = l.dataset.rsplit_once('-').map_or(l.dataset.as_str(), |x| x.0).to_string();
        settings.entry(key).or_default().push(l);
    }
    let per_setting: Vec<(String, Figures)> =
        settings.iter().map(|(k, v)| (k.clone(), eval(v, &weights, red, &tier))).collect();

    let mut md = String::new();
    writeln!(md, "# kaopei calibration\n")?;
    writeln!(
        md,
        "Fit on {} datasets ({} institutions), held out {} datasets ({} institutions).\n",
        a.fit.len(),
        fit.len(),
        a.holdout.len(),
        hold.len()
    )?;
    writeln!(md, "Tiers: red >= {red:.0}, orange >= {orange:.0}, yellow >= {yellow:.0}\n")?;
    writeln!(md, "| set | planted | honest | AUC | precision R+O | recall R+O | honest in red | honest in R+O |")?;
    writeln!(md, "|---|---|---|---|---|---|---|---|")?;
    let mut rows: Vec<(String, &Figures)> = vec![
        ("held-out, current model".into(), &before),
        ("fit, calibrated".into(), &after_fit),
        ("held-out, calibrated".into(), &after),
    ];
    rows.extend(per_setting.iter().map(|(k, f)| (format!("held-out `{k}`, calibrated"), f)));
    for (name, f) in rows {
        writeln!(
            md,
            "| {name} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
            f.n_planted,
            f.n_honest,
            f.auc.map_or("n/a".into(), |x| format!("{x:.3}")),
            f.precision_red_orange,
            f.recall_red_orange,
            f.honest_red_rate,
            f.honest_red_orange_rate
        )?;
    }
    writeln!(md, "\n| check | prior weight | fitted weight |\n|---|---|---|")?;
    for (c, w) in &weights {
        writeln!(md, "| {c} | {:.2} | {w:.2} |", prior[c])?;
    }
    writeln!(md, "\nHeld-out institutions in red or orange, and planted ones missed:\n")?;
    for l in &hold {
        let s = gated_score(sc, &l.example.findings, &weights, red);
        let t = tier(s);
        let hot = t.is_hot();
        if hot != l.example.planted {
            writeln!(
                md,
                "- {} {} score {s:.1} ({t}), planted={}",
                l.dataset, l.score.institution_id, l.example.planted
            )?;
        }
    }
    std::fs::write(a.out.join("calibration.md"), &md)?;

    let src = match &a.models.dir {
        Some(d) => std::fs::read_to_string(d.join("scorecard.toml"))?,
        None => crate::model::BUILTIN_SCORECARD.to_string(),
    };
    let toml_out = rewrite_scorecard(&src, &weights, (red, orange, yellow), &md);
    std::fs::write(a.out.join("scorecard.toml"), toml_out)?;
    print!("{md}");
    eprintln!("kaopei: proposed model `{}`", a.out.join("scorecard.toml").display());
    Ok(0)
}

/// Runs the pipeline on each dataset and pairs institutions with truth.csv.
fn label_all(a: &Args, dirs: &[PathBuf]) -> Result<Vec<Labelled>> {
    let mut out = Vec::new();
    for dir in dirs {
        let truth = read_truth(&dir.join("truth.csv"))?;
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let run_out = a.out.join("runs").join(&name);
        let o = pipeline::run(&Options {
            dataset: dir.clone(),
            out: run_out,
            db: None,
            models: a.models.dir.clone(),
            scope: Scope::All,
            html: false,
            lang: crate::report::Lang::En,
            unmasked: false,
            suspect_items: None,
            command: "calibrate".into(),
            args: vec![],
        })?;
        let mut by_inst: HashMap<&str, Vec<(String, f64)>> = HashMap::new();
        for f in &o.result.findings {
            by_inst.entry(&f.institution_id).or_default().push((f.check.clone(), f.severity));
        }
        for s in &o.result.scores {
            let Some(&planted) = truth.get(&s.institution_id) else {
                bail!("`{}` has no truth row for institution `{}`", dir.join("truth.csv").display(), s.institution_id);
            };
            let findings = by_inst.get(s.institution_id.as_str()).cloned().unwrap_or_default();
            out.push(Labelled { dataset: name.clone(), score: s.clone(), example: Example { findings, planted } });
        }
    }
    Ok(out)
}

/// institution_id → planted (a non-empty `patterns` column).
fn read_truth(path: &Path) -> Result<HashMap<String, bool>> {
    let mut rdr = csv::Reader::from_path(path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let h = rdr.headers()?.clone();
    let col = |n: &str| h.iter().position(|x| x == n);
    let (Some(id), Some(pat)) = (col("institution_id"), col("patterns")) else {
        bail!("`{}` must have columns institution_id and patterns", path.display());
    };
    let mut m = HashMap::new();
    for r in rdr.records() {
        let r = r?;
        m.insert(r.get(id).unwrap_or("").to_string(), !r.get(pat).unwrap_or("").trim().is_empty());
    }
    Ok(m)
}

/// The scorecard text with fitted weights and tiers, comments kept, and
/// the calibration figures appended as a comment block.
fn rewrite_scorecard(src: &str, w: &BTreeMap<String, f64>, tiers: (f64, f64, f64), md: &str) -> String {
    let mut out = String::new();
    let mut section = String::new();
    for line in src.lines() {
        if line.starts_with("# ---- last calibration") {
            break;
        }
        let t = line.trim();
        if t.starts_with('[') {
            section = t.trim_matches(|c| c == '[' || c == ']').to_string();
        }
        let key = t.split('=').next().unwrap_or("").trim();
        let replaced = if let Some(id) = section.strip_prefix("checks.\"").and_then(|s| s.strip_suffix('"')) {
            (key == "weight").then(|| w.get(id).map(|v| format!("weight = {v:.2}"))).flatten()
        } else if section == "tiers" {
            match key {
                "red" => Some(format!("red = {:.1}", tiers.0)),
                "orange" => Some(format!("orange = {:.1}", tiers.1)),
                "yellow" => Some(format!("yellow = {:.1}", tiers.2)),
                _ => None,
            }
        } else {
            None
        };
        out.push_str(replaced.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out.push_str("# ---- last calibration (kaopei calibrate) ----\n");
    for l in md.lines() {
        out.push_str("# ");
        out.push_str(l);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrite_keeps_comments_and_replaces_values() {
        let src = "# top\n[tiers]\nred = 70.0\norange = 45.0\nyellow = 20.0\n\n[checks.\"a.b\"]\nweight = 0.5\ntitle_zh = \"x\"\n";
        let w: BTreeMap<String, f64> = [("a.b".to_string(), 0.73)].into();
        let out = rewrite_scorecard(src, &w, (66.0, 41.0, 18.0), "figs");
        assert!(out.contains("# top\n[tiers]\nred = 66.0\norange = 41.0\nyellow = 18.0\n"));
        assert!(out.contains("weight = 0.73\ntitle_zh = \"x\"\n"));
        assert!(out.ends_with("# figs\n"));
        // Rewriting twice replaces the old calibration block.
        let again = rewrite_scorecard(&out, &w, (66.0, 41.0, 18.0), "figs");
        assert_eq!(again.matches("last calibration").count(), 1);
        assert!(toml::from_str::<toml::Table>(&again).is_ok());
    }
}
