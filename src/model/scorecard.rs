//! The scorecard model (`models/scorecard.toml`): per-check weights, titles
//! and rectification actions, tier cut-offs, the rectification verdict rule,
//! and the check parameters (kept as raw TOML here and typed by the family
//! that owns them, see `checks::Params`).
//!
//! Layout: one table `[checks."ID"]` per check holds its weight, titles,
//! rectification action, optional `severity` form and its own parameters;
//! `[family.NAME]` holds the parameters a family's checks share. A family's
//! typed `Params` is the merge of both ([`Scorecard::params`]).

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::checks::severity::SeverityForm;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tiers {
    /// Scores at or above these are red / orange / yellow; below is green.
    pub red: f64,
    pub orange: f64,
    pub yellow: f64,
}

/// The fixed keys of a `[checks."ID"]` table; every other key of the table
/// is one of the check's own parameters (see [`Scorecard::params`]).
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
    /// The check's severity form (`checks::severity`); checks that have not
    /// moved their severity into the model yet leave it out.
    #[serde(default)]
    pub severity: Option<SeverityForm>,
}

/// The fixed keys of a check table, split from its parameters.
const CHECK_KEYS: [&str; 6] = ["weight", "title_zh", "title_en", "action_zh", "action_en", "severity"];

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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    model: String,
    version: String,
    tiers: Tiers,
    rectification: Rectification,
    checks: BTreeMap<String, toml::Table>,
    /// Absent in a scorecard used only to render reports; the pipeline's
    /// `checks::Params::from_scorecard` requires every family's keys.
    #[serde(default)]
    family: BTreeMap<String, toml::Table>,
}

#[derive(Debug, Clone)]
pub struct Scorecard {
    pub name: String,
    pub version: String,
    pub tiers: Tiers,
    pub rectification: Rectification,
    pub checks: BTreeMap<String, CheckCfg>,
    /// Each check's own parameters (its table minus [`CHECK_KEYS`]).
    check_params: BTreeMap<String, toml::Table>,
    /// `[family.NAME]`: parameters shared by a family's checks.
    family: BTreeMap<String, toml::Table>,
}

impl Scorecard {
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let f: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut checks = BTreeMap::new();
        let mut check_params = BTreeMap::new();
        for (id, mut table) in f.checks {
            let mut fixed = toml::Table::new();
            for key in CHECK_KEYS {
                if let Some(v) = table.remove(key) {
                    fixed.insert(key.to_string(), v);
                }
            }
            let cfg: CheckCfg = toml::Value::Table(fixed)
                .try_into()
                .map_err(|e: toml::de::Error| format!("[checks.\"{id}\"]: {}", e.message()))?;
            if let Some(form) = &cfg.severity {
                form.validate().map_err(|m| format!("[checks.\"{id}\"] severity ({}): {m}", form.name()))?;
            }
            checks.insert(id.clone(), cfg);
            check_params.insert(id, table);
        }
        Ok(Scorecard {
            name: f.model,
            version: f.version,
            tiers: f.tiers,
            rectification: f.rectification,
            checks,
            check_params,
            family: f.family,
        })
    }

    /// The configuration of a check; checks not listed weigh nothing.
    pub fn check(&self, id: impl AsRef<str>) -> Option<&CheckCfg> {
        self.checks.get(id.as_ref())
    }

    /// Typed parameters of a check family: `[family.FAMILY]` merged with the
    /// own parameters of each of `checks` (the family's check ids). A key
    /// set in two of these tables, a key the family does not know and a
    /// key it needs but no table sets are errors naming the table and key.
    pub fn params<'a, T: DeserializeOwned>(
        &self,
        family: &str,
        checks: impl IntoIterator<Item = &'a str>,
    ) -> Result<T, String> {
        let family_table = format!("[family.{family}]");
        let mut merged = self.family.get(family).cloned().unwrap_or_default();
        let mut origin: BTreeMap<String, String> = merged.keys().map(|k| (k.clone(), family_table.clone())).collect();
        for id in checks {
            let Some(own) = self.check_params.get(id) else { continue };
            for (key, value) in own {
                let here = format!("[checks.\"{id}\"]");
                if let Some(there) = origin.get(key) {
                    return Err(format!("`{key}` is set in both {there} and {here}"));
                }
                origin.insert(key.clone(), here);
                merged.insert(key.clone(), value.clone());
            }
        }
        toml::Value::Table(merged).try_into().map_err(|e: toml::de::Error| {
            let message = e.message();
            let key = message.split('`').nth(1).unwrap_or_default();
            if message.starts_with("unknown field") {
                let table = origin.get(key).cloned().unwrap_or(family_table.clone());
                format!("{table}: unknown key `{key}` (family {family}): {message}")
            } else if message.starts_with("missing field") {
                let home = builtin_home(key).unwrap_or(family_table.clone());
                format!("{home}: missing key `{key}` (family {family})")
            } else {
                let table = origin.get(key).cloned().unwrap_or(family_table.clone());
                format!("{table}: {message}")
            }
        })
    }

    /// The ids of the `[checks."ID"]` tables.
    pub fn check_ids(&self) -> impl Iterator<Item = &str> {
        self.checks.keys().map(String::as_str)
    }

    /// Family tables (`[family.NAME]`) the file has.
    pub fn family_names(&self) -> impl Iterator<Item = &str> {
        self.family.keys().map(String::as_str)
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

/// The table of the built-in scorecard that sets `key` (for error messages).
fn builtin_home(key: &str) -> Option<String> {
    let v: toml::Table = toml::from_str(crate::model::BUILTIN_SCORECARD).ok()?;
    for (section, label) in [("checks", true), ("family", false)] {
        for (name, t) in v.get(section)?.as_table()? {
            if t.as_table().is_some_and(|t| t.contains_key(key)) {
                return Some(if label { format!("[checks.\"{name}\"]") } else { format!("[family.{name}]") });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{Family, Params};
    use crate::model::BUILTIN_SCORECARD;

    fn load(text: &str) -> Result<Params, String> {
        Params::from_scorecard(&Scorecard::from_toml(text)?)
    }

    #[test]
    fn builtin_loads() {
        load(BUILTIN_SCORECARD).unwrap();
    }

    #[test]
    fn unknown_key_names_check_and_key() {
        let text = BUILTIN_SCORECARD.replace("hours_tolerance = 0.25", "hours_tolerance = 0.25\nhours_tolerence = 0.3");
        let e = load(&text).unwrap_err();
        assert!(e.contains("[checks.\"training.hours_short\"]") && e.contains("`hours_tolerence`"), "{e}");
    }

    #[test]
    fn missing_key_names_its_home() {
        let text = BUILTIN_SCORECARD.replace("live_overlap_days = 90\n", "");
        let e = load(&text).unwrap_err();
        assert!(e.contains("[checks.\"cert.duplicate\"]") && e.contains("`live_overlap_days`"), "{e}");
    }

    #[test]
    fn key_in_two_tables_is_refused() {
        let text =
            BUILTIN_SCORECARD.replace("damaged_share_min = 0.01", "damaged_share_min = 0.01\nthumbnails_max = 6");
        let e = load(&text).unwrap_err();
        assert!(e.contains("`thumbnails_max`") && e.contains("[family.cctv]"), "{e}");
    }

    #[test]
    fn unknown_fixed_key_and_bad_form_are_refused() {
        let text = BUILTIN_SCORECARD.replacen(
            "weight = 0.55\n",
            "weight = 0.55\nseverity = { form = \"share_scaled\", full = 0.5, floor = 2.0 }\n",
            1,
        );
        let e = Scorecard::from_toml(&text).unwrap_err();
        assert!(e.contains("training.hours_short") && e.contains("floor"), "{e}");
    }

    #[test]
    fn unregistered_and_missing_checks_are_refused() {
        let text = format!("{BUILTIN_SCORECARD}\n[checks.\"exam.made_up\"]\nweight = 0.1\ntitle_zh = \"x\"\ntitle_en = \"x\"\naction_zh = \"x\"\naction_en = \"x\"\n");
        assert!(load(&text).unwrap_err().contains("exam.made_up"));
        let card = Scorecard::from_toml(BUILTIN_SCORECARD).unwrap();
        let mut less = card.clone();
        less.checks.remove("cctv.loop");
        assert!(Params::from_scorecard(&less).unwrap_err().contains("cctv.loop"));
        let _: crate::checks::callback::Params = crate::checks::family_params(&card, Family::Callback).unwrap();
    }
}
