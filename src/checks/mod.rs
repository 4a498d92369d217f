//! The checks: one module per evidence source, each a pure function from the
//! loaded [`Tables`] (and, for CCTV, the sampled [`Footage`]) to
//! [`Finding`]s with evidence.
//!
//! **Architecture invariant:** checks never read files, never touch SQLite
//! and never print; their thresholds come from [`Params`] (scorecard.toml)
//! and the operations model, never from constants in code.
//!
//! Every check has a code in its family's enum ([`registry`]) whose stable
//! dotted id's first part names the data source (`training.*`, `exam.*`,
//! `cert.*`, `cctv.*`, `callback.*`); its weight, title, rectification
//! action, severity form ([`severity`]) and own parameters are its
//! `[checks."ID"]` table of `models/scorecard.toml`.

pub mod callback;
pub mod cctv;
pub mod cert;
pub mod exam;
pub mod examinee;
pub mod finding;
pub mod idno;
pub mod registry;
pub mod responses;
pub mod severity;
pub mod training;

pub use finding::{Chart, ColKind, EvidenceTable, Finding, Flag, FrameRef, SubjectKind};
pub use registry::{
    CallbackCheck, CctvCheck, CertCheck, CheckId, ExamCheck, ExamineeCheck, Family, ResponsesCheck, TrainingCheck,
};
pub use severity::SeverityForm;

use crate::dataset::rows::Tables;
use crate::model::{Operations, Scorecard};
use crate::video::Footage;

/// The evidence sources; an institution is audited for a source only when
/// the dataset has rows about it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Training,
    Exam,
    Cert,
    Cctv,
    Callback,
}

impl Source {
    pub const ALL: [Source; 5] = [Source::Training, Source::Exam, Source::Cert, Source::Cctv, Source::Callback];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Training => "training",
            Source::Exam => "exam",
            Source::Cert => "cert",
            Source::Cctv => "cctv",
            Source::Callback => "callback",
        }
    }

    /// The source a dotted check id belongs to.
    pub fn of_check(check: &str) -> Option<Source> {
        let head = check.split('.').next()?;
        Source::ALL.into_iter().find(|s| s.as_str() == head)
    }
}

/// Typed parameters of every check family, each assembled from
/// `[family.NAME]` and its checks' `[checks."ID"]` tables of the scorecard.
#[derive(Debug, Clone)]
pub struct Params {
    pub training: training::Params,
    pub exam: exam::Params,
    pub responses: responses::Params,
    pub examinee: examinee::Params,
    pub cert: cert::Params,
    pub cctv: cctv::Params,
    pub callback: callback::Params,
}

/// The typed parameters of one family from a scorecard.
pub fn family_params<T: serde::de::DeserializeOwned>(card: &Scorecard, family: Family) -> Result<T, String> {
    card.params(family.as_str(), family.checks().map(CheckId::id))
}

impl Params {
    /// Checks that the scorecard configures exactly the registered checks
    /// and families, then types every family's parameters.
    pub fn from_scorecard(card: &Scorecard) -> Result<Params, String> {
        for e in registry::registry() {
            if card.check(e.id.id()).is_none() {
                return Err(format!("no [checks.\"{}\"] table for the registered check `{}`", e.id, e.id));
            }
        }
        for e in registry::registry() {
            let configured = card.check(e.id).is_some_and(|c| c.severity.is_some());
            match (e.severity, configured) {
                (registry::SeverityHome::Model, false) => {
                    return Err(format!("[checks.\"{}\"]: missing key `severity` (a form, see checks::severity)", e.id))
                }
                (registry::SeverityHome::Code, true) => {
                    return Err(format!(
                        "[checks.\"{}\"]: unknown key `severity`: this check still computes its severity in code",
                        e.id
                    ))
                }
                _ => {}
            }
        }
        if let Some(id) = card.check_ids().find(|id| id.parse::<CheckId>().is_err()) {
            return Err(format!("[checks.\"{id}\"]: no such check is registered (checks::registry)"));
        }
        if let Some(f) = card.family_names().find(|f| !Family::ALL.iter().any(|x| x.as_str() == *f)) {
            return Err(format!("[family.{f}]: no such check family"));
        }
        Ok(Params {
            training: family_params(card, Family::Training)?,
            exam: family_params(card, Family::Exam)?,
            responses: family_params(card, Family::Responses)?,
            examinee: family_params(card, Family::Examinee)?,
            cert: family_params(card, Family::Cert)?,
            cctv: family_params(card, Family::Cctv)?,
            callback: family_params(card, Family::Callback)?,
        })
    }
}

/// Everything a check may read.
pub struct Ctx<'a> {
    pub t: &'a Tables,
    pub ops: &'a Operations,
    pub card: &'a Scorecard,
    pub params: &'a Params,
    /// Sampled CCTV footage, one entry per `cctv` row (empty without CCTV).
    pub footage: &'a Footage,
}

impl Ctx<'_> {
    /// The severity of `check`'s evidence under the form configured in its
    /// scorecard table (checks whose registry entry says
    /// [`registry::SeverityHome::Model`]; the loader guarantees the form is
    /// there, so the 0 of a missing form is never reached in a run).
    pub fn severity(&self, check: impl Into<CheckId>, evidence: &severity::Evidence) -> f64 {
        self.card.check(check.into()).and_then(|c| c.severity.as_ref()).map_or(0.0, |f| f.eval(evidence))
    }
}

/// Runs every check family (in parallel) and returns all findings sorted by
/// institution, check and summary, so the output does not depend on the
/// thread count.
pub fn run_all(ctx: &Ctx) -> Vec<Finding> {
    run_checks(ctx, &[]).0
}

/// [`run_all`] and the per-examinee rows of `examinees.csv` (issue 16),
/// with the inspector's outside list of suspect items, if any.
pub fn run_checks(ctx: &Ctx, suspect: &[examinee::SuspectItem]) -> (Vec<Finding>, Vec<examinee::ExamineeRow>) {
    use rayon::prelude::*;
    let families: [fn(&Ctx) -> Vec<Finding>; 6] =
        [training::run, exam::run, responses::run, cert::run, cctv::run, callback::run];
    let (mut all, ex): (Vec<Finding>, examinee::Examinees) =
        rayon::join(|| families.par_iter().flat_map(|f| f(ctx)).collect(), || examinee::run(ctx, suspect));
    all.extend(ex.findings);
    for f in &mut all {
        f.flags.sort_by(|a, b| (a.kind, &a.subject_id).cmp(&(b.kind, &b.subject_id)));
        f.flags.dedup_by(|a, b| a.kind == b.kind && a.subject_id == b.subject_id);
    }
    all.sort_by(|a, b| (&a.institution_id, &a.check, &a.summary_en).cmp(&(&b.institution_id, &b.check, &b.summary_en)));
    (all, ex.rows)
}

/// Province-level charts for the batch overview (pass-rate funnels per
/// operation and exam part).
pub fn overview_charts(ctx: &Ctx) -> Vec<Chart> {
    exam::overview_charts(ctx)
}

/// Which sources have data about each institution (index = institution row).
pub fn coverage(t: &Tables) -> Vec<[bool; 5]> {
    let mut cov = vec![[false; 5]; t.institutions.len()];
    let mut mark = |inst: Option<u32>, s: Source| {
        if let Some(i) = inst {
            cov[i as usize][s as usize] = true;
        }
    };
    for c in t.classes.iter().flatten() {
        mark(Some(c.inst), Source::Training);
    }
    for s in t.exam_sessions.iter().flatten() {
        mark(Some(s.inst), Source::Exam);
    }
    for r in t.exam_records.iter().flatten() {
        mark(r.training_inst, Source::Exam);
    }
    for c in t.certificates.iter().flatten() {
        mark(c.training_inst, Source::Cert);
        mark(c.exam_inst, Source::Cert);
    }
    for v in t.cctv.iter().flatten() {
        mark(Some(v.inst), Source::Cctv);
    }
    for c in t.callbacks.iter().flatten() {
        mark(c.inst, Source::Callback);
    }
    cov
}
