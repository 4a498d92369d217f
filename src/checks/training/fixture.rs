//! Test fixture: builds [`Tables`] directly (no files) and runs the training
//! checks with the built-in models, so each check's tests state their data
//! in a few lines.

use crate::checks::{Ctx, Finding, Params};
use crate::dataset::rows::*;
use crate::model::{Operations, Scorecard, BUILTIN_OPERATIONS, BUILTIN_SCORECARD};
use crate::video::Footage;

pub struct Fx {
    pub t: Tables,
    pub ops: Operations,
    pub card: Scorecard,
    pub params: Params,
}

/// `2024-07-10 08:30:05` → [`Ts`].
pub fn ts(text: &str) -> Ts {
    let (d, t) = text.split_once(' ').expect("date and time");
    let hms: Vec<i64> = t.split(':').map(|x| x.parse().expect("number")).collect();
    day(d) as i64 * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms.get(2).copied().unwrap_or(0)
}

/// `2024-07-10` → [`Day`].
pub fn day(text: &str) -> Day {
    let v: Vec<i64> = text.split('-').map(|x| x.parse().expect("number")).collect();
    days_from_civil(v[0] as i32, v[1] as u32, v[2] as u32)
}

impl Fx {
    /// Institutions `I1` and `I2`, empty classes and attendance tables.
    pub fn new() -> Fx {
        let ops = Operations::from_toml(BUILTIN_OPERATIONS).expect("ops");
        let card = Scorecard::from_toml(BUILTIN_SCORECARD).expect("card");
        let params = Params::from_scorecard(&card).expect("params");
        let mut fx = Fx { t: Tables::default(), ops, card, params };
        fx.t.classes = Some(Vec::new());
        fx.t.attendance = Some(Vec::new());
        for id in ["I1", "I2"] {
            let id = fx.t.strings.intern(id);
            let name = fx.t.strings.intern("机构");
            let region = fx.t.strings.intern("410100");
            fx.t.institutions.push(Institution { line: 0, id, name, kind: InstKind::Both, region, seats: None });
        }
        fx
    }

    /// Adds a class; `inst` is 0 (`I1`) or 1 (`I2`); returns its row index.
    #[allow(clippy::too_many_arguments)]
    pub fn class(
        &mut self,
        id: &str,
        inst: u32,
        op: &str,
        kind: CourseKind,
        start: &str,
        end: &str,
        room: Option<&str>,
        capacity: Option<u32>,
    ) -> u32 {
        let operation = OpRef { raw: self.t.strings.intern(op), op: self.ops.resolve(op) };
        let c = Class {
            line: 0,
            id: self.t.strings.intern(id),
            inst,
            operation,
            course_kind: kind,
            start_date: day(start),
            end_date: day(end),
            room: room.map(|r| self.t.strings.intern(r)),
            capacity,
        };
        let v = self.t.classes.as_mut().expect("classes");
        v.push(c);
        v.len() as u32 - 1
    }

    /// Adds an attendance record and returns it for further settings.
    pub fn att(&mut self, class: u32, person: &str, mode: Mode, check_in: Ts, check_out: Ts) -> &mut Attendance {
        let n = self.t.attendance.as_ref().map_or(0, |v| v.len());
        let id = self.t.strings.intern(&format!("A{n:06}"));
        let person = self.t.strings.intern(person);
        let v = self.t.attendance.as_mut().expect("attendance");
        v.push(Attendance {
            line: n as u32 + 2,
            id,
            class,
            person,
            name: None,
            instructor: None,
            mode,
            check_in,
            check_out,
            device: None,
            face_score: None,
        });
        v.last_mut().expect("just pushed")
    }

    pub fn sym(&mut self, text: &str) -> crate::dataset::intern::Sym {
        self.t.strings.intern(text)
    }

    /// Adds an exam session + record for `person` at `start`, naming
    /// `training_inst` as the training institution.
    pub fn exam(&mut self, exam_inst: u32, person: &str, op: &str, start: Ts, training_inst: Option<u32>) {
        let operation = OpRef { raw: self.t.strings.intern(op), op: self.ops.resolve(op) };
        let sessions = self.t.exam_sessions.get_or_insert_with(Vec::new);
        let sid = sessions.len();
        let id = self.t.strings.intern(&format!("S{sid:04}"));
        let room = self.t.strings.intern("考场1");
        let sessions = self.t.exam_sessions.get_or_insert_with(Vec::new);
        sessions.push(ExamSession {
            line: 0,
            id,
            inst: exam_inst,
            room,
            operation,
            part: Part::Theory,
            start,
            end: start + 7200,
            seats: None,
            proctor: None,
        });
        let rid = self.t.exam_records.as_ref().map_or(0, |v| v.len());
        let rid = self.t.strings.intern(&format!("E{rid:05}"));
        let person = self.t.strings.intern(person);
        self.t.exam_records.get_or_insert_with(Vec::new).push(ExamRecord {
            line: 0,
            id: rid,
            session: sid as u32,
            person,
            name: None,
            seat: None,
            training_inst,
            login_at: None,
            submit_at: None,
            score: 90.0,
            attempt: 1,
            face_score: None,
        });
    }

    /// Runs the training checks.
    pub fn run(&self) -> Vec<Finding> {
        let footage = Footage::default();
        let ctx = Ctx { t: &self.t, ops: &self.ops, card: &self.card, params: &self.params, footage: &footage };
        let mut f = super::run(&ctx);
        f.sort_by(|a, b| (&a.institution_id, &a.check).cmp(&(&b.institution_id, &b.check)));
        f
    }

    /// The findings of one check.
    pub fn run_check(&self, check: impl AsRef<str>) -> Vec<Finding> {
        self.run().into_iter().filter(|f| f.check == check.as_ref()).collect()
    }
}

/// A plausible 18-character person id for trainee `n`.
pub fn pid(n: usize) -> String {
    format!("41010219900101{n:04}")
}
