//! The scorecard model (`models/scorecard.toml`): per-check weights, titles
//! and rectification actions, tier cut-offs, the rectification verdict rule,
//! and each check family's parameters (kept as raw TOML here and typed by
//! the family that owns them, see `checks::Params`).

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tiers {
    /// Scores at or above these are red / orange / yellow; below is green.
    pub red: f64,
    pub orange: f64,
    pub yellow: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckCfg {
    /// w_c in `score = 100 · (1 − Π(1 − w_c · s_c))`.
    pub weight: f64,
    pub title_zh: String,
    pub title_en: String,
    /// Required rectification action (整改要求).
    pub action_zh: String,
    pub action_en: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rectification {
    /// A follow-up passes (整改合格) when no persisting or new finding has
    /// severity at or above this and the new tier is no worse than this.
    pub max_remaining_severity: f64,
    pub max_tier: String,
    /// Days given to rectify, printed on the checklist.
    pub deadline_days: u32,
}

/// `[scoring]`: how findings combine into a score (see `crate::score`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    /// Within one family, every finding after the strongest counts with
    /// its `w·s` multiplied by this (correlated evidence is not independent).
    pub family_damping: f64,
    /// A family corroborates when its combined value reaches this.
    pub corroborate_min: f64,
    /// Red needs two corroborating families, or one finding with `w·s` at
    /// least this; otherwise the score stays just below the red cut-off.
    pub red_single_min: f64,
    /// Checks that screen (pattern honest excellence also produces): their
    /// `w·s` is capped at `screening_cap` unless a non-screening finding
    /// reaches `corroborate_min`.
    pub screening: Vec<String>,
    pub screening_cap: f64,
    /// Family → its checks. A check listed nowhere is in the family named
    /// by its source (`exam`, `cert`, ...).
    pub families: BTreeMap<String, Vec<String>>,
}

impl Scoring {
    /// The family of a check id.
    pub fn family_of<'a>(&'a self, check: &'a str) -> &'a str {
        self.families
            .iter()
            .find(|(_, v)| v.iter().any(|c| c == check))
            .map(|(k, _)| k.as_str())
            .unwrap_or_else(|| check.split('.').next().unwrap_or(check))
    }

    pub fn is_screening(&self, check: &str) -> bool {
        self.screening.iter().any(|c| c == check)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    model: String,
    version: String,
    tiers: Tiers,
    scoring: Scoring,
    rectification: Rectification,
    checks: BTreeMap<String, CheckCfg>,
    params: BTreeMap<String, toml::Table>,
}

#[derive(Debug, Clone)]
pub struct Scorecard {
    pub name: String,
    pub version: String,
    pub tiers: Tiers,
    pub scoring: Scoring,
    pub rectification: Rectification,
    pub checks: BTreeMap<String, CheckCfg>,
    params: BTreeMap<String, toml::Table>,
}

impl Scorecard {
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        let f: File = toml::from_str(text)?;
        Ok(Scorecard {
            name: f.model,
            version: f.version,
            tiers: f.tiers,
            scoring: f.scoring,
            rectification: f.rectification,
            checks: f.checks,
            params: f.params,
        })
    }

    /// The configuration of a check; checks not listed weigh nothing.
    pub fn check(&self, id: &str) -> Option<&CheckCfg> {
        self.checks.get(id)
    }

    /// Typed parameters of a check family (`[params.FAMILY]`).
    pub fn params<T: DeserializeOwned>(&self, family: &str) -> Result<T, String> {
        let table = self.params.get(family).cloned().unwrap_or_default();
        toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| format!("[params.{family}]: {}", e.message()))
    }

    /// The tier of a score.
    pub fn tier(&self, score: f64) -> &'static str {
        if score >= self.tiers.red {
            "red"
        } else if score >= self.tiers.orange {
            "orange"
        } else if score >= self.tiers.yellow {
            "yellow"
        } else {
            "green"
        }
    }
}
