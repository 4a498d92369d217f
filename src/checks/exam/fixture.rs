//! Test fixture: builds small exam `Tables` directly (no files) and runs a
//! check family on them with the committed models.

use crate::checks::{Ctx, Finding, Params};
use crate::dataset::rows::{days_from_civil, ExamRecord, ExamSession, InstKind, Institution, OpRef, Part, Tables, Ts};
use crate::model::{operations::Operations, scorecard::Scorecard, BUILTIN_OPERATIONS, BUILTIN_SCORECARD};
use crate::video::Footage;

/// 2024-07-10 `h:m` local time.
pub fn ts(day: i32, h: i64, m: i64) -> Ts {
    i64::from(days_from_civil(2024, 7, 10) + day) * 86_400 + h * 3600 + m * 60
}

pub struct Fx {
    pub t: Tables,
    ops: Operations,
}

impl Fx {
    pub fn new() -> Fx {
        let t = Tables { exam_sessions: Some(Vec::new()), exam_records: Some(Vec::new()), ..Tables::default() };
        Fx { t, ops: Operations::from_toml(BUILTIN_OPERATIONS).expect("operations model") }
    }

    pub fn inst(&mut self, id: &str, seats: Option<u32>) -> u32 {
        let sym = self.t.strings.intern(id);
        let region = self.t.strings.intern("410100");
        let line = self.t.institutions.len() as u32 + 2;
        self.t.institutions.push(Institution { line, id: sym, name: sym, kind: InstKind::Both, region, seats });
        self.t.institutions.len() as u32 - 1
    }

    /// A session of `minutes` starting at `start`.
    pub fn session(&mut self, inst: u32, op: &str, part: Part, start: Ts, minutes: i64) -> u32 {
        let sessions = self.t.exam_sessions.as_mut().expect("sessions");
        let n = sessions.len();
        let id = self.t.strings.intern(&format!("S{n:04}"));
        let raw = self.t.strings.intern(op);
        let room = self.t.strings.intern("R1");
        let operation = OpRef { raw, op: self.ops.resolve(op) };
        let sessions = self.t.exam_sessions.as_mut().expect("sessions");
        sessions.push(ExamSession {
            line: n as u32 + 2,
            id,
            inst,
            room,
            operation,
            part,
            start,
            end: start + minutes * 60,
            seats: None,
            proctor: None,
        });
        n as u32
    }

    pub fn session_mut(&mut self, s: u32) -> &mut ExamSession {
        &mut self.t.exam_sessions.as_mut().expect("sessions")[s as usize]
    }

    /// A first-sitting record with login at the start and no submit time.
    pub fn record(&mut self, session: u32, person: &str, score: f32) -> &mut ExamRecord {
        let start = self.t.exam_sessions.as_ref().expect("sessions")[session as usize].start;
        let n = self.t.exam_records.as_ref().expect("records").len();
        let id = self.t.strings.intern(&format!("R{n:06}"));
        let person = self.t.strings.intern(person);
        let recs = self.t.exam_records.as_mut().expect("records");
        recs.push(ExamRecord {
            line: n as u32 + 2,
            id,
            session,
            person,
            name: None,
            seat: None,
            training_inst: None,
            login_at: Some(start),
            submit_at: None,
            score,
            attempt: 1,
            face_score: None,
        });
        recs.last_mut().expect("just pushed")
    }

    pub fn seat(&mut self, text: &str) -> crate::dataset::intern::Sym {
        self.t.strings.intern(text)
    }

    /// Runs `f` (a family's `run`) with the committed models.
    pub fn run(&self, f: fn(&Ctx) -> Vec<Finding>) -> Vec<Finding> {
        self.run_with(f, |_| {})
    }

    /// Runs `f` with the committed models, parameters edited by `edit`.
    pub fn run_with(&self, f: fn(&Ctx) -> Vec<Finding>, edit: impl Fn(&mut Params)) -> Vec<Finding> {
        let card = Scorecard::from_toml(BUILTIN_SCORECARD).expect("scorecard");
        let mut params = Params::from_scorecard(&card).expect("params");
        edit(&mut params);
        let footage = Footage::default();
        let ctx = Ctx { t: &self.t, ops: &self.ops, card: &card, params: &params, footage: &footage };
        f(&ctx)
    }
}

/// Findings of one check id.
pub fn of<'a>(f: &'a [Finding], check: &str) -> Vec<&'a Finding> {
    f.iter().filter(|x| x.check == check).collect()
}
