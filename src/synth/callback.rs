//! Phone callbacks to a sample of each training institution's trainees:
//! honest ones (most reached, most confirm, recalled hours roughly right,
//! some legitimately unreachable) and the planted callback_denials
//! (trainees who say they never attended or attended far fewer hours).

use rand::Rng;

use super::people::unit_rng;
use super::plan::{InstPlan, Pattern};
use super::{Cohort, Ctx, Sink, SynthError, Table};
use crate::dataset::rows::{fmt_ts, Ts};

const STREAM_CALLBACK: u64 = 7;

/// Writes the callbacks made to trainees of `inst`.
pub fn write(ctx: &Ctx, inst: &InstPlan, cohorts: &[Cohort], sink: &mut Sink) -> Result<(), SynthError> {
    let mut rng = unit_rng(ctx.seed, inst.idx as u64, STREAM_CALLBACK);
    let p_reach = if inst.profile.unreachable { rng.gen_range(0.35..0.55) } else { rng.gen_range(0.72..0.9) };
    let denials = inst.has(Pattern::CallbackDenials);
    let deny_share = rng.gen_range(0.35..0.6);
    let mine: Vec<&Cohort> = cohorts.iter().filter(|c| c.inst == inst.idx && c.train_inst.is_some()).collect();
    let total: usize = mine.iter().map(|c| c.persons.len()).sum();
    // About 10 % of trainees, and at least a dozen calls where there are that many.
    let rate = (12.0 / total.max(1) as f64).clamp(0.1, 1.0);
    for co in mine {
        let op = ctx.ops.get(co.op);
        let hours = if co.refresher { op.refresher_hours } else { op.initial_hours };
        let ghost = co.class_id.is_none();
        for person in &co.persons {
            if !rng.gen_bool(rate) {
                continue;
            }
            let day = co.end + rng.gen_range(15..90);
            let at: Ts = day as Ts * 86_400 + rng.gen_range(9 * 3600..17 * 3600 + 1800);
            let reached = rng.gen_bool(p_reach);
            let (attended, reported, note) = if !reached {
                ("", String::new(), ["无人接听", "空号", "关机", "停机", "拒接"][rng.gen_range(0..5)].to_string())
            } else if ghost {
                ("no", String::new(), "本人称只参加了考试，未参加培训".to_string())
            } else if denials && rng.gen_bool(deny_share) {
                sink.subject(&inst.id, Pattern::CallbackDenials, "person", &person.id);
                if rng.gen_bool(0.5) {
                    ("no", String::new(), "本人称未参加培训".to_string())
                } else {
                    let h = (hours * rng.gen_range(0.08..0.35)).round();
                    ("yes", format!("{h}"), "本人称只去过几天".to_string())
                }
            } else {
                let u: f64 = rng.gen();
                if u < 0.03 {
                    ("no", String::new(), "家属接听，称不清楚".to_string())
                } else if u < 0.08 {
                    ("unsure", String::new(), "本人记不清".to_string())
                } else if rng.gen_bool(0.35) {
                    ("yes", String::new(), "本人确认参训，学时记不清".to_string())
                } else {
                    // People remember hours roughly, rounded to days.
                    let h = (hours * rng.gen_range(0.7..1.08) / 8.0).round() * 8.0;
                    ("yes", format!("{}", h.max(8.0)), "本人确认参训".to_string())
                }
            };
            sink.row(
                Table::Callbacks,
                &[
                    person.id.as_str(),
                    &inst.id,
                    &fmt_ts(at),
                    if reached { "yes" } else { "no" },
                    attended,
                    &reported,
                    &note,
                ],
            )?;
        }
    }
    Ok(())
}
