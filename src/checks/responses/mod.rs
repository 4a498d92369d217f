//! Item-level answer forensics on `exam_responses` (issue 4): answer
//! similarity between candidates of one session (`exam.answer_similarity`),
//! near-identical response strings (`exam.identical_responses`), bursts of
//! answers changed to the key (`exam.answer_change_burst`) and fast-correct
//! answering after a common moment (`exam.item_time_pattern`).
//!
//! Everything is computed per session from a dense matrix of small answer
//! codes (records × the session's items), in parallel over sessions; pairs
//! are only ever formed inside one session, never across the province.

mod pairs;
mod timing;

use rayon::prelude::*;
use serde::Deserialize;

use super::{Ctx, Finding};
use crate::dataset::intern::{Interner, Sym};
use crate::dataset::rows::{group_by, Tables};
use crate::stats::similarity::ItemDist;

/// `[params.responses]` in `models/scorecard.toml` (each value is sourced there).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// A pair is tested only when both answered at least this many items.
    pub min_common_items: u32,
    /// A linked pair must share at least this many identical wrong answers.
    pub min_identical_wrong: u32,
    /// Family-wise error rate per session (Bonferroni over the session's pairs).
    pub pair_alpha: f64,
    /// Pairs within this many standard deviations of the null mean are not
    /// computed exactly (their p-value cannot pass the corrected threshold).
    pub screen_z: f64,
    /// Share of an institution's candidates linked that gives full weight.
    pub linked_share_full: f64,
    /// −log10 of the corrected p-value that gives full weight.
    pub p_strength_full: f64,
    /// Near-identical: at most this many items answered differently.
    pub identical_max_diff: u32,
    /// Near-identical: at least this many items answered by both.
    pub identical_min_items: u32,
    /// Near-identical: at least this many identical wrong answers (two
    /// perfect papers are identical and honest).
    pub identical_min_shared_wrong: u32,
    /// BH level across sessions for the burst and item-time tests.
    pub fdr_q: f64,
    /// A session's burst needs at least this many answers changed to the key.
    pub burst_min_changes: u32,
    /// ... and a rate of change-to-key this many times the reference.
    pub burst_min_ratio: f64,
    /// ... with candidates whose own change-to-key share rose by this much.
    pub burst_min_shift: f64,
    /// An answer is "fast" when its time is below this fraction of the
    /// item's geometric-mean time over the province.
    pub fast_fraction: f64,
    /// Candidate moments are tried on this grid (minutes from the start).
    pub moment_grid_minutes: f64,
    /// At least this many candidates must individually shift to fast-correct.
    pub time_min_candidates: u32,
    /// ... each by at least this much (post − pre fast-correct share).
    pub time_min_shift: f64,
    /// Evidence rows kept per table in the report (all are counted).
    pub max_evidence_rows: usize,
}

/// Answer code of an unanswered item; 1 is the key, 2.. the wrong answers.
pub(crate) const UNANSWERED: u8 = 0;
pub(crate) const KEY: u8 = 1;

/// Province-wide item bank built from the responses.
pub(crate) struct Items {
    /// Item index of each response row.
    pub item_of_resp: Vec<u32>,
    /// Answer code of each response row.
    pub code_of_resp: Vec<u8>,
    pub dist: Vec<ItemDist>,
    /// Mean of ln(seconds) per item (NaN without times).
    pub mean_log_secs: Vec<f64>,
    /// Item difficulty as logit(item wrong share) − logit(overall wrong share).
    pub wrong_logit_offset: Vec<f64>,
}

pub(crate) fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

fn build_items(t: &Tables, responses: &[crate::dataset::rows::ExamResponse]) -> Items {
    // Item ids and answers are interned, so a Vec indexed by symbol replaces hashing.
    let mut item_idx: Vec<u32> = vec![u32::MAX; t.strings.len()];
    let mut keys: Vec<Sym> = Vec::new();
    let mut wrong_opts: Vec<Vec<Sym>> = Vec::new();
    let mut item_of_resp = Vec::with_capacity(responses.len());
    let mut code_of_resp = Vec::with_capacity(responses.len());
    for r in responses {
        let slot = &mut item_idx[r.item.0 as usize];
        if *slot == u32::MAX {
            *slot = keys.len() as u32;
            keys.push(r.key);
            wrong_opts.push(Vec::new());
        }
        let i = *slot as usize;
        let code = if r.answer == Interner::EMPTY {
            UNANSWERED
        } else if r.answer == keys[i] {
            KEY
        } else {
            let opts = &mut wrong_opts[i];
            match opts.iter().position(|&o| o == r.answer) {
                Some(k) => (k + 2).min(255) as u8,
                None => {
                    opts.push(r.answer);
                    (opts.len() + 1).min(255) as u8
                }
            }
        };
        item_of_resp.push(i as u32);
        code_of_resp.push(code);
    }
    let n_items = keys.len();
    let mut counts: Vec<Vec<u32>> = wrong_opts.iter().map(|o| vec![0; (o.len() + 2).min(256)]).collect();
    let mut log_sum = vec![0.0f64; n_items];
    let mut log_n = vec![0u32; n_items];
    for (k, r) in responses.iter().enumerate() {
        let i = item_of_resp[k] as usize;
        counts[i][code_of_resp[k] as usize] += 1;
        if let Some(s) = r.seconds.filter(|s| *s > 0.0) {
            log_sum[i] += (s as f64).ln();
            log_n[i] += 1;
        }
    }
    let dist: Vec<ItemDist> = counts.into_iter().map(ItemDist::from_counts).collect();
    // Smoothed (+0.5 / +1) so all-right or all-wrong items stay finite.
    let (tw, tn) = dist.iter().fold((0u64, 0u64), |(w, n), d| (w + d.wrong as u64, n + d.n as u64));
    let overall = logit((tw as f64 + 0.5) / (tn as f64 + 1.0));
    let wrong_logit_offset =
        dist.iter().map(|d| logit((d.wrong as f64 + 0.5) / (d.n as f64 + 1.0)) - overall).collect();
    let mean_log_secs = log_sum.iter().zip(&log_n).map(|(s, &n)| if n > 0 { s / n as f64 } else { f64::NAN }).collect();
    Items { item_of_resp, code_of_resp, dist, mean_log_secs, wrong_logit_offset }
}

/// One session as a dense matrix: rows = its records with responses,
/// columns = the items any of them answered.
pub(crate) struct SessionMatrix {
    pub session: u32,
    /// Exam record row index of each matrix row.
    pub records: Vec<u32>,
    /// Province item index of each column.
    pub items: Vec<u32>,
    /// Answer codes, row-major (records × items); 0 also for "not on the paper".
    pub codes: Vec<u8>,
    /// Per row: the response rows in paper order (input order).
    pub resp_rows: Vec<Vec<u32>>,
}

impl SessionMatrix {
    pub fn row(&self, r: usize) -> &[u8] {
        let n = self.items.len();
        &self.codes[r * n..(r + 1) * n]
    }
}

fn build_matrix(
    session: u32,
    recs: &[u32],
    rec_off: &[u32],
    rec_order: &[u32],
    items: &Items,
) -> Option<SessionMatrix> {
    let mut records = Vec::new();
    let mut resp_rows = Vec::new();
    for &r in recs {
        let rows = &rec_order[rec_off[r as usize] as usize..rec_off[r as usize + 1] as usize];
        if !rows.is_empty() {
            records.push(r);
            resp_rows.push(rows.to_vec());
        }
    }
    if records.is_empty() {
        return None;
    }
    let mut cols: Vec<u32> = resp_rows.iter().flatten().map(|&k| items.item_of_resp[k as usize]).collect();
    cols.sort_unstable();
    cols.dedup();
    let n = cols.len();
    let mut codes = vec![UNANSWERED; records.len() * n];
    for (ri, rows) in resp_rows.iter().enumerate() {
        for &k in rows {
            if let Ok(c) = cols.binary_search(&items.item_of_resp[k as usize]) {
                codes[ri * n + c] = items.code_of_resp[k as usize];
            }
        }
    }
    Some(SessionMatrix { session, records, items: cols, codes, resp_rows })
}

/// Runs the four response checks.
pub fn run(ctx: &Ctx) -> Vec<Finding> {
    analyse(ctx.t, &ctx.params.responses)
}

/// The checks on plain tables (what `run` and the tests call).
pub fn analyse(t: &Tables, p: &Params) -> Vec<Finding> {
    let (Some(sessions), Some(records), Some(responses)) = (&t.exam_sessions, &t.exam_records, &t.exam_responses)
    else {
        return Vec::new();
    };
    if responses.is_empty() {
        return Vec::new();
    }
    let items = build_items(t, responses);
    let (rec_off, rec_order) = group_by(records.len(), responses.iter().map(|r| r.record));
    let (ses_off, ses_order) = group_by(sessions.len(), records.iter().map(|r| r.session));
    let matrices: Vec<SessionMatrix> = (0..sessions.len() as u32)
        .into_par_iter()
        .filter_map(|s| {
            let recs = &ses_order[ses_off[s as usize] as usize..ses_off[s as usize + 1] as usize];
            build_matrix(s, recs, &rec_off, &rec_order, &items)
        })
        .collect();
    let mut out = pairs::findings(t, &matrices, &items, p);
    out.extend(timing::findings(t, &matrices, &items, p));
    out
}

#[cfg(test)]
pub(crate) mod testdata;

#[cfg(test)]
mod tests {
    use super::testdata::{params, Sim, Spec};
    use super::*;

    fn checks_of(f: &[Finding], inst: &str) -> Vec<String> {
        let mut v: Vec<String> = f.iter().filter(|x| x.institution_id == inst).map(|x| x.check.clone()).collect();
        v.sort();
        v
    }

    /// A province of honest centres plus the centre under test.
    fn province(seed: u64, spec: Spec) -> Tables {
        let mut sim = Sim::new(seed);
        for k in 0..6 {
            let inst = sim.inst(&format!("H{k}"));
            for _ in 0..3 {
                sim.session(inst, Spec::honest(0.55, 0.9));
            }
        }
        let x = sim.inst("X");
        sim.session(x, spec);
        sim.session(x, Spec::honest(0.55, 0.9));
        sim.t
    }

    #[test]
    fn planted_relay_is_found_honest_centres_are_not() {
        let spec = Spec { relayed: 10, relay_from_minute: 20.0, ..Spec::honest(0.55, 0.9) };
        let f = analyse(&province(7, spec), &params());
        let x = checks_of(&f, "X");
        assert!(x.contains(&"exam.answer_similarity".to_string()), "{x:?}");
        assert!(x.contains(&"exam.item_time_pattern".to_string()), "{x:?}");
        assert!(x.contains(&"exam.answer_change_burst".to_string()), "{x:?}");
        for k in 0..6 {
            assert!(checks_of(&f, &format!("H{k}")).is_empty(), "H{k}: {:?}", checks_of(&f, &format!("H{k}")));
        }
        let sim = f.iter().find(|x| x.check == "exam.answer_similarity").cloned();
        let sim = sim.unwrap_or_else(|| Finding::new("", crate::checks::ResponsesCheck::AnswerSimilarity, 0.0));
        assert!(sim.severity > 0.5, "{}", sim.severity);
        assert!(sim.flags.iter().any(|fl| fl.kind == crate::checks::SubjectKind::Pair && fl.subject_id.contains('|')));
        // The cluster table names the seats of the linked candidates.
        assert!(sim.evidence.iter().any(|e| e.source == "derived" && e.rows.iter().any(|r| r[3].contains("(01)"))));
    }

    #[test]
    fn full_copy_from_the_start_gives_identical_strings() {
        let spec = Spec { relayed: 4, ..Spec::honest(0.55, 0.9) };
        let f = analyse(&province(11, spec), &params());
        let x = checks_of(&f, "X");
        assert!(x.contains(&"exam.identical_responses".to_string()), "{x:?}");
        assert!(x.contains(&"exam.answer_similarity".to_string()), "{x:?}");
    }

    #[test]
    fn strong_honest_session_is_not_flagged() {
        // Everyone shares the correct answers; few and scattered wrong ones.
        let f = analyse(&province(3, Spec::honest(0.95, 0.99)), &params());
        assert!(f.is_empty(), "{:?}", f.iter().map(|x| (&x.institution_id, &x.check)).collect::<Vec<_>>());
    }

    #[test]
    fn popular_distractor_is_not_flagged() {
        // Every session of the province: one distractor takes 96 % of wrong
        // answers, so weak candidates share many wrong answers by chance.
        let mut sim = Sim::new(5);
        let d = [0.96, 0.02, 0.02];
        for k in 0..6 {
            let inst = sim.inst(&format!("H{k}"));
            for _ in 0..3 {
                sim.session(inst, Spec { distractors: d, ..Spec::honest(0.3, 0.6) });
            }
        }
        let f = analyse(&sim.t, &params());
        let sim_f: Vec<_> =
            f.iter().filter(|x| x.check == "exam.answer_similarity" || x.check == "exam.identical_responses").collect();
        assert!(sim_f.is_empty(), "{:?}", sim_f.iter().map(|x| (&x.institution_id, &x.summary_en)).collect::<Vec<_>>());
    }

    #[test]
    fn no_responses_no_findings() {
        let mut t = province(1, Spec::honest(0.5, 0.9));
        t.exam_responses = None;
        assert!(analyse(&t, &params()).is_empty());
    }
}
