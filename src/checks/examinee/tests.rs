//! Tests on the simulated province of [`super::sim`].

use super::sim::{auc, simulate, Design, Truth};
use super::*;

fn params() -> Params {
    let card =
        crate::model::Scorecard::from_toml(include_str!("../../../models/scorecard.toml")).expect("scorecard parses");
    crate::checks::family_params(&card, crate::checks::Family::Examinee).expect("[family.examinee] parses")
}

/// Suspicion scores by record index: −log10 of the combined p and of each
/// component (NaN where absent).
fn scores(t: &Tables, ex: &Examinees) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let recs = t.exam_records.as_ref().map_or(0, |v| v.len());
    let (mut all, mut speed, mut pk) = (vec![f64::NAN; recs], vec![f64::NAN; recs], vec![f64::NAN; recs]);
    for r in &ex.rows {
        let k: usize = r.record_id[1..].parse().unwrap_or(usize::MAX);
        if k < recs {
            all[k] = -r.p_value.log10();
            speed[k] = r.speed_z.unwrap_or(f64::NAN);
            pk[k] = r.preknowledge_z.unwrap_or(f64::NAN);
        }
    }
    (all, speed, pk)
}

fn flagged_share(ex: &Examinees) -> f64 {
    ex.rows.iter().filter(|r| r.q_value < 0.05).count() as f64 / ex.rows.len().max(1) as f64
}

fn labels(truth: &Truth) -> Vec<bool> {
    truth.preknowledge.iter().zip(&truth.speeder).map(|(a, b)| *a || *b).collect()
}

#[test]
fn honest_province_flags_at_most_one_percent() {
    for seed in [1, 2] {
        let (t, _) = simulate(&Design::honest(seed));
        let ex = analyse(&t, None, &params(), &[]);
        assert_eq!(ex.rows.len(), 2000, "every record is ranked");
        assert!(ex.rows.iter().all(|r| r.speed_z.is_some()));
        // Preknowledge needs >= 3 answers in the estimated set, which honest
        // data rarely gives (few items pass item_z by chance).
        let with_pk = ex.rows.iter().filter(|r| r.preknowledge_z.is_some()).count();
        let share = flagged_share(&ex);
        eprintln!("honest seed {seed}: {:.2} % flagged at q < 0.05, {with_pk} with a preknowledge z", 100.0 * share);
        assert!(share <= 0.01, "{share}");
        // Calibration of the preknowledge z under the null: ~N(0, 1).
        let z: Vec<f64> = ex.rows.iter().filter_map(|r| r.preknowledge_z).collect();
        let mean = z.iter().sum::<f64>() / z.len() as f64;
        let sd = (z.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / z.len() as f64).sqrt();
        let tail = z.iter().filter(|&&v| v > 2.326).count() as f64 / z.len() as f64;
        let p01 = ex.rows.iter().filter(|r| r.p_value < 0.01).count() as f64 / ex.rows.len() as f64;
        eprintln!("  preknowledge z mean {mean:.3} sd {sd:.3}, share z > 2.326 {tail:.4}; combined p < 0.01: {p01:.4}");
        assert!(mean.abs() < 0.15 && (sd - 1.0).abs() < 0.15 && tail < 0.02 && p01 < 0.02);
        let inst: Vec<_> =
            ex.findings.iter().filter(|f| f.check != ExamineeCheck::ExamineeLead).map(|f| &f.institution_id).collect();
        assert!(inst.is_empty(), "{inst:?}");
        // Rows are sorted by record id and q is BH of p.
        assert!(ex.rows.windows(2).all(|w| w[0].record_id < w[1].record_id));
    }
}

#[test]
fn blind_preknowledge_and_speed_rank_the_cheaters() {
    // Sinharay (2020)-style design: 20 % of the bank leaked, 10 % of
    // examinees with preknowledge, 3 % aberrantly fast.
    let d = Design { leaked_share: 0.2, preknowledge_share: 0.1, speeder_share: 0.03, ..Design::honest(7) };
    let (t, truth) = simulate(&d);
    let ex = analyse(&t, None, &params(), &[]);
    let (all, speed, pk) = scores(&t, &ex);
    let lab = labels(&truth);
    let a_all = auc(&all, &lab);
    let a_speed = auc(&speed, &lab);
    let a_pk = auc(&pk, &lab);
    let a_pk_on_pk = auc(&pk, &truth.preknowledge);
    let a_speed_on_speeders = auc(&speed, &truth.speeder);
    eprintln!(
        "AUC combined {a_all:.3}, speed alone {a_speed:.3}, preknowledge alone {a_pk:.3}; \
         preknowledge on its examinees {a_pk_on_pk:.3}, speed on speeders {a_speed_on_speeders:.3}"
    );
    assert!(a_all >= 0.8, "{a_all}");
    assert!(a_pk_on_pk >= 0.8, "{a_pk_on_pk}");
    assert!(a_speed_on_speeders >= 0.9, "{a_speed_on_speeders}");
    // Recall at 5 % flagged (the top 5 % by combined p).
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by(|&a, &b| all[b].total_cmp(&all[a]));
    let top = all.len() / 20;
    let hits = order[..top].iter().filter(|&&k| lab[k]).count();
    let recall = hits as f64 / lab.iter().filter(|&&l| l).count() as f64;
    eprintln!("recall at 5 % flagged: {recall:.3}");
    // Flags carry the statistics; a flagged record is in flags via the lead finding.
    let flagged = ex.rows.iter().filter(|r| r.q_value < 0.05).count();
    let lead_flags: usize =
        ex.findings.iter().filter(|f| f.check == ExamineeCheck::ExamineeLead).map(|f| f.flags.len()).sum();
    assert_eq!(flagged, lead_flags);
    assert!(flagged > 0);
}

#[test]
fn weak_preknowledge_is_still_ranked_above_chance() {
    // A harder design than Sinharay's: 10 % of items leaked, a smaller
    // gain (P(right) 0.6-0.9) and speed-up (0.2-0.6 log units).
    let d = Design {
        leaked_share: 0.1,
        preknowledge_share: 0.1,
        gain: (0.6, 0.9),
        speedup: (0.2, 0.6),
        ..Design::honest(21)
    };
    let (t, truth) = simulate(&d);
    let ex = analyse(&t, None, &params(), &[]);
    let (all, speed, pk) = scores(&t, &ex);
    let (a_all, a_speed, a_pk) =
        (auc(&all, &truth.preknowledge), auc(&speed, &truth.preknowledge), auc(&pk, &truth.preknowledge));
    eprintln!("weak design: AUC combined {a_all:.3}, speed alone {a_speed:.3}, preknowledge alone {a_pk:.3}");
    assert!(a_all >= 0.7, "{a_all}");
    assert!(flagged_share(&ex) <= 0.1 + 0.01);
}

#[test]
fn the_outside_list_replaces_the_estimated_set() {
    let d = Design { leaked_share: 0.2, preknowledge_share: 0.1, ..Design::honest(9) };
    let (t, truth) = simulate(&d);
    let list: Vec<SuspectItem> = truth
        .leaked_items
        .iter()
        .map(|i| SuspectItem { item_id: i.clone(), operation: Some("低压电工".into()) })
        .collect();
    let told = analyse(&t, None, &params(), &list);
    let blind = analyse(&t, None, &params(), &[]);
    let a_told = auc(&scores(&t, &told).2, &truth.preknowledge);
    let a_blind = auc(&scores(&t, &blind).2, &truth.preknowledge);
    eprintln!("preknowledge AUC told the leaked items {a_told:.3}, blind {a_blind:.3}");
    assert!(a_told >= a_blind - 0.02 && a_told > 0.9, "{a_told} vs {a_blind}");
    // A list for another operation does not apply.
    let other = vec![SuspectItem { item_id: "Q0000".into(), operation: Some("焊接与热切割".into()) }];
    assert_eq!(analyse(&t, None, &params(), &other).rows, blind.rows);
}

#[test]
fn sitting_times_alone_give_speed_only() {
    let d = Design { item_times: false, speeder_share: 0.05, ..Design::honest(4) };
    let (t, truth) = simulate(&d);
    let ex = analyse(&t, None, &params(), &[]);
    assert_eq!(ex.rows.len(), 2000);
    assert!(ex.rows.iter().all(|r| r.speed_z.is_some() && r.preknowledge_z.is_none()));
    let a = auc(&scores(&t, &ex).1, &truth.speeder);
    eprintln!("speed AUC from sitting times alone {a:.3}");
    assert!(a >= 0.9, "{a}");
}

#[test]
fn a_school_selling_the_bank_is_found_against_its_peers() {
    let d = Design { leaked_share: 0.2, preknowledge_share: 0.02, hot_school_share: 0.4, ..Design::honest(11) };
    let (t, _) = simulate(&d);
    let ex = analyse(&t, None, &params(), &[]);
    let school = t.inst_id(40).to_string();
    let pk: Vec<&Finding> = ex.findings.iter().filter(|f| f.check == ExamineeCheck::ExamineePreknowledge).collect();
    assert!(
        pk.iter().any(|f| f.institution_id == school),
        "{:?}",
        pk.iter().map(|f| &f.institution_id).collect::<Vec<_>>()
    );
    let Some(f) = pk.iter().find(|f| f.institution_id == school) else {
        panic!("no preknowledge finding on {school}");
    };
    assert!(f.severity > 0.3 && f.method_zh.contains("不是作弊认定"), "{}", f.severity);
    assert!(f.flags.iter().all(|g| g.kind == SubjectKind::ExamRecord));
    // No other school is singled out for preknowledge.
    assert!(pk.iter().filter(|f| f.institution_id.starts_with('C') && f.institution_id != school).count() <= 1);
}

#[test]
fn no_exam_tables_no_rows() {
    let t = Tables::default();
    let ex = analyse(&t, None, &params(), &[]);
    assert!(ex.rows.is_empty() && ex.findings.is_empty());
}

/// A small world of sessions for the attribution tests: six centres
/// (insts 0-5) with five sessions each of 30 examinees, ten from each of
/// three schools (insts 10-19, rotating), all in one region and on one
/// paper. `fast(centre, school, i)` says whether examinee i is a lead.
fn world(fast: impl Fn(u32, u32, usize) -> bool) -> (Vec<Unit>, Vec<String>) {
    let region = vec!["4110".to_string(); 20];
    let mut units = Vec::new();
    for c in 0..6u32 {
        for s in 0..5u32 {
            let session = c * 5 + s;
            for j in 0..3u32 {
                let school = 10 + (c + s + 3 * j) % 10;
                for _ in 0..10 {
                    let i = units.len();
                    units.push(Unit {
                        k: i,
                        centre: c,
                        school: Some(school),
                        session,
                        bank: 0,
                        lead: fast(c, school, i),
                    });
                }
            }
        }
    }
    (units, region)
}

#[test]
fn a_school_is_not_charged_for_a_relayed_session_the_centre_is() {
    // Centre 0 relays answers: everyone in its sessions is fast, whatever
    // the school; elsewhere 1 in 100 examinees is a lead by chance.
    let (units, region) = world(|c, _, i| c == 0 || i % 100 == 7);
    let found = select(&units, &region, &params());
    let ids: Vec<(u32, bool)> = found.iter().map(|(x, _)| (x.inst, x.training_role)).collect();
    assert_eq!(ids, vec![(0, false)], "only the relaying centre is found");
    let (x, q) = &found[0];
    assert_eq!((x.leads, x.n), (150, 150));
    assert!(*q < 1e-10, "{q}");
}

#[test]
fn a_school_fast_within_mixed_sessions_is_found_and_its_centres_are_not() {
    // School 13's trainees are fast in every (otherwise normal) session
    // they sit; the centres only host them.
    let (units, region) = world(|_, s, i| (s == 13 && i % 2 == 0) || i % 100 == 7);
    let found = select(&units, &region, &params());
    let ids: Vec<(u32, bool)> = found.iter().map(|(x, _)| (x.inst, x.training_role)).collect();
    assert_eq!(ids, vec![(13, true)], "the school, and no centre charged for it");
    let (x, q) = &found[0];
    assert!(x.leads >= 40 && x.expected < 2.0 && *q < 1e-10, "{} {} {q}", x.leads, x.expected);
    // Every trainee was compared with the others in the same session.
    assert_eq!(x.levels[0] as usize, x.n);
}
