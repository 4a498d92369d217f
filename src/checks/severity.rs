//! Severity as configuration: a fixed menu of named forms, each with its
//! parameters in the check's `severity = { form = "…", … }` entry of
//! `models/scorecard.toml`, evaluated on the [`Evidence`] the check
//! measured. No floor, slope or cap is a literal in code; a form's floor
//! may be 0 (and is 0 when omitted), so severity follows the evidence.
//!
//! `clamp01(x)` is `x` clamped to [0, 1]; `strength(q, L)` is
//! `clamp01(−log10 q / L)` (1 when q ≤ 0, 0 when the check measured no q).
//! Every form's result is clamped to [0, 1] once more.
//!
//! | form | formula | reads |
//! |---|---|---|
//! | `share_scaled { full, floor = 0 }` | `floor + (1 − floor) · clamp01(share / full)` (1 when full ≤ 0) | share |
//! | `count_scaled { min = 0, full, floor = 0 }` | `floor + (1 − floor) · clamp01((count − min) / (full − min))` (1 when full ≤ min) | count |
//! | `share_or_count { full_share, full_count, floor = 0 }` | `floor + (1 − floor) · min(1, max(share / full_share, count / full_count))` | share, count |
//! | `hidden_time { full, floor = 0 }` | `floor + (1 − floor) · clamp01(hidden_share / full)`: share of exam time the footage hides | hidden_share |
//! | `log_q_scaled { full_log10_q, floor = 0 }` | `floor + (1 − floor) · strength(q, full_log10_q)` | q |
//! | `q_effect { alpha, full_q, full_effect = 1, floor = 0 }` | `floor + (1 − floor) · s · clamp01(effect / full_effect)`, `s = clamp01(log10(alpha / q) / log10(alpha / full_q))` | q, effect |
//! | `effect_evidence { full_effect, full_log10_q, max = 1 }` | `min(max, clamp01(effect / full_effect) · strength(q, full_log10_q))` | effect, q |
//! | `likelihood_ratio { full_log10_lr, floor = 0 }` | `floor + (1 − floor) · clamp01(log10(lr) / full_log10_lr)` | likelihood_ratio |
//! | `share_and_strength { floor = 0, full_share, share_weight, full_log10_q, strength_weight }` | `floor + share_weight · min(1, share / full_share) + strength_weight · strength(q, full_log10_q)` | share, q |
//! | `fixed { value }` | `value` | — |
//!
//! Today's code formulas map as follows: `0.2 + 0.8·x` is a form with
//! `floor = 0.2`; `0.15 + 0.5·share + 0.35·strength` is
//! `share_and_strength { floor = 0.15, share_weight = 0.5, strength_weight = 0.35 }`;
//! `0.5 + 0.5·span` is `share_scaled { full = 1, floor = 0.5 }`.

use serde::Deserialize;

/// What a check measured, as far as a severity form reads it. Fields a
/// check does not fill stay at their defaults (0, or no q).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Evidence {
    /// Records, persons, pairs or certificates breaking the rule.
    pub count: f64,
    /// Share of the institution's units affected (0–1), or an excess share.
    pub share: f64,
    /// Multiplicity-adjusted p-value (q), if the check is statistical.
    pub q: Option<f64>,
    /// Effect size on the scale the form's `full_effect` uses.
    pub effect: f64,
    /// Likelihood ratio of the planted-pattern model against the null.
    pub likelihood_ratio: f64,
    /// Share of the exam time the footage hides (uncovered, frozen, black, re-used).
    pub hidden_share: f64,
}

impl Evidence {
    pub fn count(count: impl Into<f64>) -> Self {
        Evidence { count: count.into(), ..Evidence::default() }
    }
    pub fn share(share: f64) -> Self {
        Evidence { share, ..Evidence::default() }
    }
    pub fn with_count(mut self, count: impl Into<f64>) -> Self {
        self.count = count.into();
        self
    }
    pub fn with_share(mut self, share: f64) -> Self {
        self.share = share;
        self
    }
    pub fn with_q(mut self, q: f64) -> Self {
        self.q = Some(q);
        self
    }
    pub fn with_effect(mut self, effect: f64) -> Self {
        self.effect = effect;
        self
    }
    pub fn with_likelihood_ratio(mut self, lr: f64) -> Self {
        self.likelihood_ratio = lr;
        self
    }
    pub fn with_hidden_share(mut self, hidden: f64) -> Self {
        self.hidden_share = hidden;
        self
    }
}

fn one() -> f64 {
    1.0
}

/// The menu of severity forms (see the module docs for each formula).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "form", rename_all = "snake_case", deny_unknown_fields)]
pub enum SeverityForm {
    ShareScaled {
        full: f64,
        #[serde(default)]
        floor: f64,
    },
    CountScaled {
        #[serde(default)]
        min: f64,
        full: f64,
        #[serde(default)]
        floor: f64,
    },
    ShareOrCount {
        full_share: f64,
        full_count: f64,
        #[serde(default)]
        floor: f64,
    },
    HiddenTime {
        full: f64,
        #[serde(default)]
        floor: f64,
    },
    LogQScaled {
        full_log10_q: f64,
        #[serde(default)]
        floor: f64,
    },
    QEffect {
        alpha: f64,
        full_q: f64,
        #[serde(default = "one")]
        full_effect: f64,
        #[serde(default)]
        floor: f64,
    },
    EffectEvidence {
        full_effect: f64,
        full_log10_q: f64,
        #[serde(default = "one")]
        max: f64,
    },
    LikelihoodRatio {
        full_log10_lr: f64,
        #[serde(default)]
        floor: f64,
    },
    ShareAndStrength {
        #[serde(default)]
        floor: f64,
        full_share: f64,
        share_weight: f64,
        full_log10_q: f64,
        strength_weight: f64,
    },
    Fixed {
        value: f64,
    },
}

fn clamp01(x: f64) -> f64 {
    x.clamp(0.0, 1.0)
}

/// `clamp01(−log10 q / full)`: 1 when q ≤ 0, 0 without a q.
pub fn strength(q: Option<f64>, full_log10_q: f64) -> f64 {
    match q {
        Some(q) if q > 0.0 => clamp01(-q.log10() / full_log10_q),
        Some(_) => 1.0,
        None => 0.0,
    }
}

/// `floor + (1 − floor) · x`.
fn lift(floor: f64, x: f64) -> f64 {
    floor + (1.0 - floor) * x
}

impl SeverityForm {
    /// The severity (0–1) of the measured evidence.
    pub fn eval(&self, e: &Evidence) -> f64 {
        let s = match *self {
            SeverityForm::ShareScaled { full, floor } => {
                lift(floor, if full <= 0.0 { 1.0 } else { clamp01(e.share / full) })
            }
            SeverityForm::CountScaled { min, full, floor } => {
                lift(floor, if full <= min { 1.0 } else { clamp01((e.count - min).max(0.0) / (full - min)) })
            }
            SeverityForm::ShareOrCount { full_share, full_count, floor } => {
                lift(floor, (e.share / full_share).max(e.count / full_count.max(1.0)).min(1.0))
            }
            SeverityForm::HiddenTime { full, floor } => {
                lift(floor, if full <= 0.0 { 1.0 } else { clamp01(e.hidden_share / full) })
            }
            SeverityForm::LogQScaled { full_log10_q, floor } => lift(floor, strength(e.q, full_log10_q)),
            SeverityForm::QEffect { alpha, full_q, full_effect, floor } => {
                let span = (alpha / full_q).log10().max(1e-9);
                let q = e.q.unwrap_or(1.0);
                let sp = clamp01((alpha / q.max(1e-300)).log10() / span);
                floor + (1.0 - floor) * sp * clamp01(e.effect / full_effect)
            }
            SeverityForm::EffectEvidence { full_effect, full_log10_q, max } => {
                let evidence = match e.q {
                    Some(q) => clamp01(-q.max(1e-300).log10() / full_log10_q),
                    None => 0.0,
                };
                (clamp01(e.effect / full_effect) * evidence).min(max)
            }
            SeverityForm::LikelihoodRatio { full_log10_lr, floor } => {
                let lr = e.likelihood_ratio;
                let x = if lr <= 1.0 { 0.0 } else { clamp01(lr.log10() / full_log10_lr) };
                lift(floor, x)
            }
            SeverityForm::ShareAndStrength { floor, full_share, share_weight, full_log10_q, strength_weight } => {
                floor + share_weight * (e.share / full_share).min(1.0) + strength_weight * strength(e.q, full_log10_q)
            }
            SeverityForm::Fixed { value } => value,
        };
        clamp01(s)
    }

    /// The form's name as written after `form =`.
    pub fn name(&self) -> &'static str {
        match self {
            SeverityForm::ShareScaled { .. } => "share_scaled",
            SeverityForm::CountScaled { .. } => "count_scaled",
            SeverityForm::ShareOrCount { .. } => "share_or_count",
            SeverityForm::HiddenTime { .. } => "hidden_time",
            SeverityForm::LogQScaled { .. } => "log_q_scaled",
            SeverityForm::QEffect { .. } => "q_effect",
            SeverityForm::EffectEvidence { .. } => "effect_evidence",
            SeverityForm::LikelihoodRatio { .. } => "likelihood_ratio",
            SeverityForm::ShareAndStrength { .. } => "share_and_strength",
            SeverityForm::Fixed { .. } => "fixed",
        }
    }

    /// Rejects parameters that make the formula meaningless (a scale of 0
    /// where it divides, a floor or weight outside [0, 1]).
    pub fn validate(&self) -> Result<(), String> {
        let unit = |name: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("`{name}` = {v} must be within 0–1"))
            }
        };
        let positive = |name: &str, v: f64| {
            if v > 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(format!("`{name}` = {v} must be positive"))
            }
        };
        match *self {
            SeverityForm::ShareScaled { floor, .. } | SeverityForm::HiddenTime { floor, .. } => unit("floor", floor),
            SeverityForm::CountScaled { floor, .. } => unit("floor", floor),
            SeverityForm::ShareOrCount { full_share, full_count, floor } => {
                positive("full_share", full_share)?;
                positive("full_count", full_count)?;
                unit("floor", floor)
            }
            SeverityForm::LogQScaled { full_log10_q, floor } => {
                positive("full_log10_q", full_log10_q)?;
                unit("floor", floor)
            }
            SeverityForm::QEffect { alpha, full_q, full_effect, floor } => {
                unit("alpha", alpha)?;
                positive("full_q", full_q)?;
                positive("full_effect", full_effect)?;
                unit("floor", floor)
            }
            SeverityForm::EffectEvidence { full_effect, full_log10_q, max } => {
                positive("full_effect", full_effect)?;
                positive("full_log10_q", full_log10_q)?;
                unit("max", max)
            }
            SeverityForm::LikelihoodRatio { full_log10_lr, floor } => {
                positive("full_log10_lr", full_log10_lr)?;
                unit("floor", floor)
            }
            SeverityForm::ShareAndStrength { floor, full_share, share_weight, full_log10_q, strength_weight } => {
                unit("floor", floor)?;
                positive("full_share", full_share)?;
                positive("full_log10_q", full_log10_q)?;
                unit("share_weight", share_weight)?;
                unit("strength_weight", strength_weight)?;
                unit("floor + share_weight + strength_weight", floor + share_weight + strength_weight)
            }
            SeverityForm::Fixed { value } => unit("value", value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(text: &str) -> SeverityForm {
        #[derive(Deserialize)]
        struct W {
            severity: SeverityForm,
        }
        let w: W = toml::from_str(&format!("severity = {text}")).unwrap();
        w.severity.validate().unwrap();
        w.severity
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }

    #[test]
    fn share_scaled() {
        let f = form(r#"{ form = "share_scaled", full = 0.5 }"#);
        close(f.eval(&Evidence::share(0.25)), 0.5);
        close(f.eval(&Evidence::share(0.9)), 1.0);
        close(f.eval(&Evidence::share(0.0)), 0.0);
        // today's cctv.unreadable: 0.4 + 0.6 · share, exactly.
        let f = form(r#"{ form = "share_scaled", full = 1.0, floor = 0.4 }"#);
        let share = 0.37;
        assert_eq!(f.eval(&Evidence::share(share)), 0.4 + 0.6 * share);
        // today's cctv.frozen: 0.5 + 0.5 · worst.
        let f = form(r#"{ form = "share_scaled", full = 1.0, floor = 0.5 }"#);
        assert_eq!(f.eval(&Evidence::share(0.3)), 0.5 + 0.5 * 0.3);
        let f = form(r#"{ form = "share_scaled", full = 0.0 }"#);
        close(f.eval(&Evidence::share(0.0)), 1.0);
    }

    #[test]
    fn count_scaled_matches_exam_count_severity() {
        // exam count_severity(count, 3, 20) = 0.2 + 0.8 · (count − 3)/17.
        let f = form(r#"{ form = "count_scaled", min = 3, full = 20, floor = 0.2 }"#);
        for count in [0usize, 3, 7, 20, 40] {
            let x = count.saturating_sub(3) as f64 / 17.0;
            assert_eq!(f.eval(&Evidence::count(count as f64)), 0.2 + 0.8 * x.clamp(0.0, 1.0), "{count}");
        }
        let f = form(r#"{ form = "count_scaled", min = 5, full = 5, floor = 0.2 }"#);
        close(f.eval(&Evidence::count(1)), 1.0);
        // floor 0, min 0: count / full (training.instructor_overlap today).
        let f = form(r#"{ form = "count_scaled", full = 8 }"#);
        close(f.eval(&Evidence::count(2)), 0.25);
    }

    #[test]
    fn share_or_count_matches_cert() {
        let f = form(r#"{ form = "share_or_count", full_share = 0.1, full_count = 10 }"#);
        // 1 of 400 certificates: max(0.0025/0.1, 1/10) = 0.1.
        close(f.eval(&Evidence::share(1.0 / 400.0).with_count(1)), 0.1);
        close(f.eval(&Evidence::share(0.05).with_count(3)), 0.5);
        close(f.eval(&Evidence::share(0.5).with_count(3)), 1.0);
    }

    #[test]
    fn hidden_time() {
        // today's cctv.missing_coverage: 0.3 + 0.7 · share uncovered.
        let f = form(r#"{ form = "hidden_time", full = 1.0, floor = 0.3 }"#);
        let e = Evidence::default().with_hidden_share(0.25);
        assert_eq!(f.eval(&e), 0.3 + 0.7 * 0.25);
        let f = form(r#"{ form = "hidden_time", full = 0.5 }"#);
        close(f.eval(&e), 0.5);
        close(f.eval(&Evidence::default().with_hidden_share(0.8)), 1.0);
    }

    #[test]
    fn log_q_scaled() {
        let f = form(r#"{ form = "log_q_scaled", full_log10_q = 12.0 }"#);
        close(f.eval(&Evidence::default().with_q(1e-6)), 0.5);
        close(f.eval(&Evidence::default().with_q(1e-20)), 1.0);
        close(f.eval(&Evidence::default().with_q(0.0)), 1.0);
        close(f.eval(&Evidence::default()), 0.0);
        let f = form(r#"{ form = "log_q_scaled", full_log10_q = 4.0, floor = 0.2 }"#);
        close(f.eval(&Evidence::default().with_q(0.01)), 0.2 + 0.8 * 0.5);
    }

    #[test]
    fn q_effect_matches_exam_stat_severity() {
        // exam stat_severity(q, fdr_q = 0.05, full_q = 1e-4, effect).
        let f = form(r#"{ form = "q_effect", alpha = 0.05, full_q = 1e-4, floor = 0.2 }"#);
        for (q, effect) in [(0.04, 0.5), (1e-3, 0.9), (1e-9, 2.0), (0.2, 1.0), (0.0, 0.3)] {
            let span = (0.05f64 / 1e-4).log10().max(1e-9);
            let sp = ((0.05f64 / f64::max(q, 1e-300)).log10() / span).clamp(0.0, 1.0);
            let today = 0.2 + 0.8 * sp * f64::clamp(effect, 0.0, 1.0);
            assert_eq!(f.eval(&Evidence::default().with_q(q).with_effect(effect)), today, "{q} {effect}");
        }
        // full_effect scales the effect; floor 0 lets weak evidence weigh nothing.
        let f = form(r#"{ form = "q_effect", alpha = 0.05, full_q = 5e-4, full_effect = 0.5 }"#);
        close(f.eval(&Evidence::default().with_q(5e-3).with_effect(0.25)), 0.5 * 0.5);
        close(f.eval(&Evidence::default().with_q(0.05).with_effect(1.0)), 0.0);
    }

    #[test]
    fn effect_evidence_matches_callback() {
        // callback: clamp01((share − base)/0.30) · clamp01(−log10 q / 3).
        let f = form(r#"{ form = "effect_evidence", full_effect = 0.30, full_log10_q = 3.0 }"#);
        let (share, base, q) = (0.4f64, 0.05f64, 1e-2f64);
        let today = ((share - base) / 0.30).clamp(0.0, 1.0) * (-q.max(1e-300).log10() / 3.0).clamp(0.0, 1.0);
        assert_eq!(f.eval(&Evidence::default().with_effect(share - base).with_q(q)), today);
        // callback.unreachable: capped at 0.3.
        let f = form(r#"{ form = "effect_evidence", full_effect = 3.0, full_log10_q = 3.0, max = 0.3 }"#);
        close(f.eval(&Evidence::default().with_effect(3.0).with_q(1e-5)), 0.3);
        close(f.eval(&Evidence::default().with_effect(0.75).with_q(1e-3)), 0.25);
    }

    #[test]
    fn likelihood_ratio() {
        let f = form(r#"{ form = "likelihood_ratio", full_log10_lr = 4.0 }"#);
        close(f.eval(&Evidence::default().with_likelihood_ratio(100.0)), 0.5);
        close(f.eval(&Evidence::default().with_likelihood_ratio(0.5)), 0.0);
        close(f.eval(&Evidence::default().with_likelihood_ratio(1e9)), 1.0);
        let f = form(r#"{ form = "likelihood_ratio", full_log10_lr = 2.0, floor = 0.1 }"#);
        close(f.eval(&Evidence::default().with_likelihood_ratio(10.0)), 0.1 + 0.9 * 0.5);
    }

    #[test]
    fn share_and_strength_matches_pairs() {
        // responses pairs: 0.15 + 0.5 · min(1, share/0.1) + 0.35 · strength(q, 12).
        let f = form(
            r#"{ form = "share_and_strength", floor = 0.15, full_share = 0.1, share_weight = 0.5, full_log10_q = 12.0, strength_weight = 0.35 }"#,
        );
        for (share, q) in [(0.05, Some(1e-6)), (0.3, Some(1e-15)), (0.0, None), (0.02, Some(0.0))] {
            let strength = match q {
                Some(q) if q > 0.0 => (-f64::log10(q) / 12.0).clamp(0.0, 1.0),
                Some(_) => 1.0,
                None => 0.0,
            };
            let today = 0.15 + 0.5 * f64::min(share / 0.1, 1.0) + 0.35 * strength;
            let e = Evidence { share, q, ..Evidence::default() };
            assert_eq!(f.eval(&e), today, "{share} {q:?}");
        }
    }

    #[test]
    fn fixed() {
        let f = form(r#"{ form = "fixed", value = 0.6 }"#);
        close(f.eval(&Evidence::default()), 0.6);
        assert_eq!(f.name(), "fixed");
    }

    #[test]
    fn bad_forms_are_refused() {
        #[derive(Debug, Deserialize)]
        struct W {
            #[allow(dead_code)]
            severity: SeverityForm,
        }
        let parse = |t: &str| toml::from_str::<W>(&format!("severity = {t}"));
        assert!(parse(r#"{ form = "share_scaled", full = 1, flor = 0.2 }"#).is_err(), "unknown key");
        assert!(parse(r#"{ form = "guess", full = 1 }"#).is_err(), "unknown form");
        assert!(parse(r#"{ form = "count_scaled" }"#).is_err(), "missing full");
        let w = parse(r#"{ form = "share_scaled", full = 1, floor = 1.5 }"#).unwrap();
        assert!(w.severity.validate().is_err());
        let w = parse(r#"{ form = "log_q_scaled", full_log10_q = 0 }"#).unwrap();
        assert!(w.severity.validate().is_err());
    }
}
