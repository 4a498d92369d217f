//! The operations model (`models/operations.toml`): syllabus hours, pass
//! marks and exam rules per operation type, and the name normalisation that
//! lets `低压电工`, `低压电工作业` and `low_voltage_electrician` name the
//! same operation.

use std::collections::HashMap;

use serde::Deserialize;

use crate::dataset::rows::OpIdx;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HourRules {
    pub offline_minutes_per_hour: f64,
    pub online_minutes_per_hour: f64,
    pub offline_theory_min_share: f64,
}

impl HourRules {
    /// Credited 学时 of `minutes` of attendance (the one rule: offline
    /// minutes ÷ `offline_minutes_per_hour`, online ÷
    /// `online_minutes_per_hour`; nothing when the model sets 0).
    pub fn credited(&self, minutes: f64, online: bool) -> f64 {
        let per_hour = if online { self.online_minutes_per_hour } else { self.offline_minutes_per_hour };
        if per_hour > 0.0 {
            minutes / per_hour
        } else {
            0.0
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExamRules {
    pub pass_mark: f64,
    pub max_score: f64,
    pub theory_minutes: u32,
    pub min_sitting_minutes: u32,
    pub late_entry_minutes: u32,
    pub retake_within_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// 特种作业 (MEM special operations): certificate `T` + ID number.
    Special,
    /// 主要负责人 / 安全生产管理人员.
    Manager,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub family: Family,
    pub initial_hours: f64,
    pub theory_hours: Option<f64>,
    pub practical_hours: Option<f64>,
    pub refresher_hours: f64,
    pub cert_valid_years: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    hours: HourRules,
    exam: ExamRules,
    operation: Vec<Operation>,
}

/// The loaded operations model with its lookup index.
#[derive(Debug, Clone)]
pub struct Operations {
    pub hours: HourRules,
    pub exam: ExamRules,
    pub ops: Vec<Operation>,
    index: HashMap<String, OpIdx>,
}

impl Operations {
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        let f: File = toml::from_str(text)?;
        let mut index = HashMap::new();
        for (i, op) in f.operation.iter().enumerate() {
            let i = i as OpIdx;
            index.insert(op.code.to_lowercase(), i);
            index.insert(normalise_name(&op.name), i);
            for a in &op.aliases {
                index.insert(normalise_name(a), i);
            }
        }
        Ok(Operations { hours: f.hours, exam: f.exam, ops: f.operation, index })
    }

    /// Resolves a code or a Chinese name as written in the data.
    pub fn resolve(&self, text: &str) -> Option<OpIdx> {
        let n = normalise_name(text);
        self.index.get(&n).or_else(|| self.index.get(&n.to_lowercase())).copied()
    }

    pub fn get(&self, op: OpIdx) -> &Operation {
        &self.ops[op as usize]
    }
}

/// Full-width ASCII to half-width, ideographic space to space; everything
/// else unchanged. Used for headers, operation names and ID numbers.
pub fn to_half_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Normalises an operation name: half-width, no spaces anywhere, no
/// trailing `作业`.
pub fn normalise_name(text: &str) -> String {
    let mut s: String = to_half_width(text).chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(stripped) = s.strip_suffix("作业") {
        s = stripped.to_string();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Operations {
        Operations::from_toml(include_str!("../../models/operations.toml")).unwrap()
    }

    #[track_caller]
    fn check(text: &str, code: Option<&str>) {
        let m = model();
        assert_eq!(m.resolve(text).map(|i| m.get(i).code.as_str()), code, "{text}");
    }

    #[test]
    fn resolves_names_codes_and_variants() {
        check("低压电工", Some("low_voltage_electrician"));
        check("低压电工作业", Some("low_voltage_electrician"));
        check(" 低压电工作业 ", Some("low_voltage_electrician"));
        check("low_voltage_electrician", Some("low_voltage_electrician"));
        check("LOW_VOLTAGE_ELECTRICIAN", Some("low_voltage_electrician"));
        check("高处安装、维护、拆除作业", Some("work_at_height_maintenance"));
        check("起重机司机", None);
    }

    #[test]
    fn model_hours_match_domain() {
        let m = model();
        let lv = m.get(m.resolve("低压电工").unwrap());
        assert_eq!((lv.initial_hours, lv.theory_hours, lv.practical_hours), (148.0, Some(88.0), Some(60.0)));
        assert_eq!(m.exam.pass_mark, 80.0);
        assert_eq!(m.hours.offline_minutes_per_hour, 45.0);
    }

    #[test]
    fn half_width() {
        assert_eq!(to_half_width("（ＡＢ１２）"), "(AB12)");
    }
}
