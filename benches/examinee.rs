//! Benchmark of the per-examinee statistics (issue 16) at province scale:
//! 100,000 computer theory records × 100 items = 10,000,000 answers with
//! times, over 10 operations (10 banks of 300 items), simulated in memory
//! by `checks::examinee::sim` (10 % of items leaked, 5 % of examinees with
//! preknowledge), then `checks::examinee::analyse` timed (model fits,
//! speed, blind preknowledge, BH, institution tests).
//! Run: `cargo bench --bench examinee`.

use std::time::Instant;

use kaopei::checks::examinee::sim::{simulate, Design};
use kaopei::checks::examinee::{analyse, Params};
use kaopei::model::Scorecard;

fn main() {
    let card = Scorecard::from_toml(include_str!("../models/scorecard.toml")).expect("scorecard parses");
    let p: Params =
        kaopei::checks::family_params(&card, kaopei::checks::Family::Examinee).expect("[family.examinee] parses");
    let d = Design {
        operations: 10,
        centres: 2000,
        per_centre: 50,
        bank: 300,
        paper: 100,
        leaked_share: 0.1,
        preknowledge_share: 0.05,
        ..Design::honest(42)
    };
    let t0 = Instant::now();
    let (t, _) = simulate(&d);
    let n = t.exam_responses.as_ref().map_or(0, |v| v.len());
    eprintln!("built {n} answers in {:.2}s", t0.elapsed().as_secs_f64());
    // The scorecard's settings, then one round of item-set estimation
    // (what the second round costs).
    for (label, rounds) in [("scorecard settings", p.rounds), ("one round", 1)] {
        let q = Params { rounds, ..p.clone() };
        let t1 = Instant::now();
        let ex = analyse(&t, None, &q, &[]);
        eprintln!(
            "examinee statistics ({label}): {:.2}s on {} threads ({} rows, {} findings)",
            t1.elapsed().as_secs_f64(),
            rayon::current_num_threads(),
            ex.rows.len(),
            ex.findings.len()
        );
    }
}
