//! Certificates: one per person who passed both exam parts (number = `T` +
//! ID number, valid for the operation's `cert_valid_years`), and the planted
//! certificate patterns: cert_without_exam, cert_number_mismatch,
//! invalid_id_certs (identities whose ID fails its check character),
//! cert_before_exam and feeder_cert_fakes (a training school's fakes routed
//! through its honest centre). Honest variation: refresher trainees of
//! schools with `old_certificates` hold certificates issued years before the
//! exam archive starts, with no exam record in the data.

use rand::Rng;

use super::exam::Passed;
use super::people::{self, id_is_valid, unit_rng};
use super::plan::{InstPlan, Pattern, Plan};
use super::{Cohort, Ctx, Sink, SynthError, Table};
use crate::dataset::rows::{civil_from_days, days_from_civil, fmt_day, Day};

const STREAM_CERT: u64 = 6;

/// The same calendar date `years` later (29 February → 28 February).
pub fn add_years(d: Day, years: u32) -> Day {
    let (y, m, dd) = civil_from_days(d);
    let y = y + years as i32;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dd = if m == 2 && dd == 29 && !leap { 28 } else { dd };
    days_from_civil(y, m, dd)
}

/// A different, valid-looking ID: one digit of the sequence changed and the
/// check character recomputed (what a typo or a swapped file produces).
fn other_id(id: &str, rng: &mut impl Rng) -> String {
    let mut b: Vec<u8> = id.as_bytes()[..17].to_vec();
    let k = rng.gen_range(14..17);
    b[k] = b'0' + ((b[k] - b'0' + rng.gen_range(1..10)) % 10);
    let first17 = String::from_utf8_lossy(&b).into_owned();
    let c = people::check_char(&first17).unwrap_or('0');
    format!("{first17}{c}")
}

/// Writes the certificates issued after exams at centre `c`.
pub fn write(
    ctx: &Ctx,
    plan: &Plan,
    c: &InstPlan,
    cohorts: &[Cohort],
    passed: &[Passed],
    sink: &mut Sink,
) -> Result<(), SynthError> {
    let mut rng = unit_rng(ctx.seed, c.idx as u64, STREAM_CERT);
    let before = c.has(Pattern::CertBeforeExam);
    let mismatch = c.has(Pattern::CertNumberMismatch);
    let mut issue_days: Vec<Day> = Vec::new();
    for p in passed {
        let co = &cohorts[p.cohort];
        let person = &co.persons[p.person];
        let op = ctx.ops.get(co.op);
        let mut issued = p.practical_day.max(p.theory_day) + rng.gen_range(7..25);
        let mut cert_no = format!("T{}", person.id);
        if mismatch && rng.gen_bool(ctx.intensity.share(0.18)) {
            cert_no = format!("T{}", other_id(&person.id, &mut rng));
            sink.subject(&c.id, Pattern::CertNumberMismatch, "certificate", &cert_no);
        }
        if before && rng.gen_bool(ctx.intensity.share(0.2)) {
            issued = p.first_day - rng.gen_range(3..40);
            sink.subject(&c.id, Pattern::CertBeforeExam, "certificate", &cert_no);
        }
        if !id_is_valid(&person.id) {
            sink.subject(&c.id, Pattern::InvalidIdCerts, "certificate", &cert_no);
        }
        issue_days.push(issued);
        row(
            sink,
            &cert_no,
            &person.id,
            &person.name,
            &op.name,
            issued,
            op.cert_valid_years,
            co.train_inst.as_deref(),
            &c.id,
        )?;
    }
    if c.has(Pattern::CertWithoutExam) && !cohorts.is_empty() {
        // Certificates sold to people who never sat an exam here.
        let share = ctx.intensity.share(rng.gen_range(0.08..0.18));
        let n = ((passed.len() as f64 * share / (1.0 - share)).round() as usize).max(2);
        for _ in 0..n {
            let co = &cohorts[rng.gen_range(0..cohorts.len())];
            let op = ctx.ops.get(co.op);
            let person = people::person(&mut rng, 0.0);
            let issued = match issue_days.is_empty() {
                true => co.end + rng.gen_range(10..40),
                false => issue_days[rng.gen_range(0..issue_days.len())] + rng.gen_range(-3..4),
            };
            let cert_no = format!("T{}", person.id);
            sink.subject(&c.id, Pattern::CertWithoutExam, "certificate", &cert_no);
            row(
                sink,
                &cert_no,
                &person.id,
                &person.name,
                &op.name,
                issued,
                op.cert_valid_years,
                co.train_inst.as_deref(),
                &c.id,
            )?;
        }
    }
    feeder_fakes(ctx, plan, c, cohorts, passed, &issue_days, &mut rng, sink)?;
    old_certificates(ctx, plan, c, cohorts, &mut rng, sink)
}

/// Fake certificates listed by feeder schools with `feeder_cert_fakes`:
/// holders who never sat, naming the school and its (honest) centre.
#[allow(clippy::too_many_arguments)]
fn feeder_fakes(
    ctx: &Ctx,
    plan: &Plan,
    c: &InstPlan,
    cohorts: &[Cohort],
    passed: &[Passed],
    issue_days: &[Day],
    rng: &mut impl Rng,
    sink: &mut Sink,
) -> Result<(), SynthError> {
    let schools: Vec<usize> = {
        let mut v: Vec<usize> =
            cohorts.iter().map(|co| co.inst).filter(|&i| plan.insts[i].has(Pattern::FeederCertFakes)).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    for si in schools {
        let school = &plan.insts[si];
        let mine: Vec<&Cohort> = cohorts.iter().filter(|co| co.inst == si && !co.refresher).collect();
        if mine.is_empty() {
            continue;
        }
        let real = passed.iter().filter(|p| cohorts[p.cohort].inst == si).count();
        let share = ctx.intensity.share(0.3);
        let n = ((real as f64 * share / (1.0 - share)).round() as usize).max(2);
        for _ in 0..n {
            let co = mine[rng.gen_range(0..mine.len())];
            let op = ctx.ops.get(co.op);
            let person = people::person(rng, 0.0);
            let issued = match issue_days.is_empty() {
                true => co.end + rng.gen_range(10..40),
                false => issue_days[rng.gen_range(0..issue_days.len())] + rng.gen_range(-3..4),
            };
            let cert_no = format!("T{}", person.id);
            sink.subject(&school.id, Pattern::FeederCertFakes, "certificate", &cert_no);
            row(
                sink,
                &cert_no,
                &person.id,
                &person.name,
                &op.name,
                issued,
                op.cert_valid_years,
                Some(&school.id),
                &c.id,
            )?;
        }
    }
    Ok(())
}

/// Refresher trainees' own certificates, issued one to five years before
/// the exam archive starts (honest: their exams are not in the archive).
fn old_certificates(
    ctx: &Ctx,
    plan: &Plan,
    c: &InstPlan,
    cohorts: &[Cohort],
    rng: &mut impl Rng,
    sink: &mut Sink,
) -> Result<(), SynthError> {
    let archive_start = days_from_civil(2024, 1, 1);
    for co in cohorts.iter().filter(|co| co.refresher && plan.insts[co.inst].profile.old_certificates) {
        let op = ctx.ops.get(co.op);
        for p in &co.persons {
            let issued = archive_start - rng.gen_range(200..1800);
            let cert_no = format!("T{}", p.id);
            row(
                sink,
                &cert_no,
                &p.id,
                &p.name,
                &op.name,
                issued,
                op.cert_valid_years,
                co.train_inst.as_deref(),
                &c.id,
            )?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn row(
    sink: &mut Sink,
    cert_no: &str,
    person_id: &str,
    name: &str,
    op: &str,
    issued: Day,
    years: u32,
    train: Option<&str>,
    exam: &str,
) -> Result<(), SynthError> {
    sink.row(
        Table::Certificates,
        &[
            cert_no,
            person_id,
            name,
            op,
            &fmt_day(issued),
            &fmt_day(add_years(issued, years)),
            train.unwrap_or(""),
            exam,
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_years_later() {
        assert_eq!(add_years(days_from_civil(2024, 7, 10), 6), days_from_civil(2030, 7, 10));
        assert_eq!(add_years(days_from_civil(2024, 2, 29), 6), days_from_civil(2030, 2, 28));
    }

    #[test]
    fn other_ids_differ_and_stay_valid() {
        let mut rng = unit_rng(1, 1, 1);
        for _ in 0..200 {
            let id = people::resident_id(&mut rng);
            let o = other_id(&id, &mut rng);
            assert_ne!(o, id);
            assert!(id_is_valid(&o));
            assert_eq!(&o[..14], &id[..14]);
        }
    }
}
