//! The dataset reader: finds each table's file, reads the files of one
//! dependency wave in parallel (big CSV files in parallel chunks), parses
//! every row into the typed tables of [`rows`](super::rows), and resolves
//! foreign keys against the waves before it.
//!
//! Accounting: every record after the header is counted in `rows_read` and
//! ends either in the table (`rows_loaded`) or in the rejects with its file,
//! line and reason (`rows_rejected`). Blank lines are not records.
//!
//! Refusals: a file that is not a table (empty, binary, UTF-16 without a
//! BOM, wrong delimiter, missing a required column, duplicate header, a
//! folder or device under a table's name) is refused as a whole and
//! reported in its [`FileReport::refused`]; the table then counts as not
//! given and the other tables still load. Only a refused or missing
//! `institutions` table stops the read, since every check is about an
//! institution.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use csv::ByteRecord;
use rayon::prelude::*;

use super::intern::{FxMap, Interner, Sym};
use super::parse;
use super::rows::*;
use super::schema::{self, match_header, ColMap, Column, HeaderError, Table};
use super::source::{self, Body};
use super::{DatasetError, Extras, FieldDefect, FileReport, Loaded, Reject};
use crate::model::operations::to_half_width;
use crate::model::Operations;

/// Longest raw row text kept with a reject.
const RAW_LIMIT: usize = 4096;
/// Target size of one parallel chunk of a CSV file.
const CHUNK: usize = 8 << 20;
const NONE: u32 = u32::MAX;

/// A chunk's own interner; merged into the dataset's [`Interner`] in chunk
/// order after the parallel parse. Strings of up to 7 bytes (answers, keys,
/// item and many ids) are packed into a `u64` key: no allocation, integer
/// compare.
#[derive(Default)]
struct Local {
    map: FxMap<Box<str>, u32>,
    small: FxMap<u64, u32>,
    n: u32,
}

/// Bytes in the low 7 bytes, the length in the top byte.
fn pack(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() > 7 {
        return None;
    }
    let mut w = [0u8; 8];
    w[..b.len()].copy_from_slice(b);
    w[7] = b.len() as u8;
    Some(u64::from_le_bytes(w))
}

fn unpack(k: u64) -> Box<str> {
    let w = k.to_le_bytes();
    let len = usize::from(w[7]).min(7);
    String::from_utf8_lossy(&w[..len]).into()
}

impl Local {
    fn sym(&mut self, s: &str) -> Sym {
        if let Some(k) = pack(s) {
            let n = self.n;
            let i = *self.small.entry(k).or_insert(n);
            if i == n {
                self.n += 1;
            }
            return Sym(i);
        }
        if let Some(&i) = self.map.get(s) {
            return Sym(i);
        }
        let i = self.n;
        self.n += 1;
        self.map.insert(s.into(), i);
        Sym(i)
    }

    fn into_vec(self) -> Vec<Box<str>> {
        let mut v: Vec<Box<str>> = vec![Box::default(); self.n as usize];
        for (k, i) in self.map {
            v[i as usize] = k;
        }
        for (k, i) in self.small {
            v[i as usize] = unpack(k);
        }
        v
    }
}

/// Row index by primary-key symbol, one vector per referenced table.
#[derive(Default)]
struct Keys {
    inst: Vec<u32>,
    class: Vec<u32>,
    session: Vec<u32>,
    record: Vec<u32>,
}

#[derive(Debug, Clone, Copy)]
enum Fk {
    Inst,
    Class,
    Session,
    Record,
}

impl Fk {
    fn table(self) -> Table {
        match self {
            Fk::Inst => Table::Institutions,
            Fk::Class => Table::Classes,
            Fk::Session => Table::ExamSessions,
            Fk::Record => Table::ExamRecords,
        }
    }
}

/// What the waves before this one produced, read-only while a wave parses.
struct Shared<'a> {
    ops: &'a Operations,
    strings: &'a Interner,
    keys: &'a Keys,
    /// Table → `None` loaded, `Some(why)` not available.
    missing: &'a HashMap<Table, String>,
}

/// Per-chunk parse state.
struct Cx<'a> {
    sh: &'a Shared<'a>,
    local: Local,
    ops_cache: FxMap<Sym, Option<OpIdx>>,
    /// The last key looked up per referenced table and its row: child rows
    /// usually come grouped by parent (33 answers of one exam record).
    fk_cache: [(String, Option<u32>); 4],
}

impl<'a> Cx<'a> {
    /// `bytes`: size of the text this context will parse, to size its map.
    fn new(sh: &'a Shared<'a>, bytes: usize) -> Self {
        let local = Local { map: FxMap::with_capacity_and_hasher(bytes / 256, Default::default()), ..Local::default() };
        Cx { sh, local, ops_cache: FxMap::default(), fk_cache: Default::default() }
    }

    fn sym(&mut self, s: &str) -> Sym {
        self.local.sym(s)
    }

    /// An ID number: full-width digits and letters are the same characters.
    fn id(&mut self, s: &str) -> Sym {
        if s.is_ascii() {
            self.local.sym(s)
        } else {
            let h = to_half_width(s);
            self.local.sym(h.trim())
        }
    }

    fn op(&mut self, s: &str) -> OpRef {
        let raw = self.local.sym(s);
        let ops = self.sh.ops;
        let op = *self.ops_cache.entry(raw).or_insert_with(|| ops.resolve(s));
        OpRef { raw, op }
    }

    fn fk_opt(&mut self, fk: Fk, text: &str) -> Option<u32> {
        let slot = &mut self.fk_cache[fk as usize];
        if slot.0 == text && !text.is_empty() {
            return slot.1;
        }
        let keys = match fk {
            Fk::Inst => &self.sh.keys.inst,
            Fk::Class => &self.sh.keys.class,
            Fk::Session => &self.sh.keys.session,
            Fk::Record => &self.sh.keys.record,
        };
        let found =
            self.sh.strings.lookup(text).and_then(|sym| keys.get(sym.0 as usize).copied()).filter(|&i| i != NONE);
        slot.0.clear();
        slot.0.push_str(text);
        slot.1 = found;
        found
    }

    fn fk(&mut self, fk: Fk, column: &str, text: &str) -> Result<u32, String> {
        self.fk_opt(fk, text).ok_or_else(|| {
            let t = fk.table().name();
            match self.sh.missing.get(&fk.table()) {
                Some(why) => format!("{column} `{}` cannot be resolved: {why}", clip(text)),
                None => format!("{column} `{}` is not in {t}", clip(text)),
            }
        })
    }
}

/// One record with its file's column map.
struct Row<'r> {
    rec: &'r ByteRecord,
    map: &'r ColMap,
    cols: &'static [Column],
    line: u32,
    /// Optional fields whose value broke the column's type: (column, value,
    /// what the column expects). The row loads with those fields empty.
    defects: std::cell::RefCell<Vec<(usize, String, String)>>,
}

impl<'r> Row<'r> {
    fn text(&self, c: usize) -> Option<&'r str> {
        let b = self.rec.get(self.map.fields[c]?)?;
        let t = std::str::from_utf8(b).unwrap_or("\u{FFFD}").trim();
        (!t.is_empty()).then_some(t)
    }

    fn req(&self, c: usize) -> Result<&'r str, String> {
        self.text(c).ok_or_else(|| format!("missing required value `{}`", self.cols[c].name))
    }

    fn bad(&self, c: usize, expected: &str, s: &str) -> String {
        format!("`{}` is not {expected}: `{}`", self.cols[c].name, clip(s))
    }

    /// Records that optional column `c` holds `s`, which is not `expected`.
    fn defect(&self, c: usize, expected: &str, s: &str) {
        self.defects.borrow_mut().push((c, clip(s).to_string(), self.bad(c, expected, s)));
    }

    /// An optional column: empty, or a value of its type; any other value
    /// is a field defect and loads empty (DATA.md).
    fn opt<T>(&self, c: usize, f: fn(&str) -> Result<T, &'static str>) -> Option<T> {
        let s = self.text(c)?;
        match f(s) {
            Ok(v) => Some(v),
            Err(e) => {
                self.defect(c, e, s);
                None
            }
        }
    }

    fn must<T>(&self, c: usize, f: fn(&str) -> Result<T, &'static str>) -> Result<T, String> {
        let s = self.req(c)?;
        f(s).map_err(|e| self.bad(c, e, s))
    }

    fn opt_u32(&self, c: usize) -> Option<u32> {
        let v = self.opt(c, parse::count)?;
        let out = u32::try_from(v).ok();
        if out.is_none() {
            self.defect(c, "a count below 2^32", &v.to_string());
        }
        out
    }
}

/// Half-width form of an id as written; borrowed when it is ASCII already.
fn hw(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_ascii() {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(to_half_width(s).trim().to_string())
    }
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn order<T: PartialOrd + Copy>(a: T, b: T, what: &str, fmt: fn(T) -> String) -> Result<(), String> {
    if b < a {
        let (first, second) = what.split_once('<').unwrap_or((what, ""));
        return Err(format!("{second} `{}` is before {first} `{}`", fmt(b), fmt(a)));
    }
    Ok(())
}

/// A table's row type: how to parse it and where its symbols are.
trait Rec: Sized + Send {
    const TABLE: Table;
    /// Whether rows have a primary key ([`Rec::key`]); only then are the
    /// raw file bytes and row offsets kept until merge, to quote duplicates.
    const KEYED: bool = false;
    fn parse(r: &Row, cx: &mut Cx) -> Result<Self, String>;
    /// Applies `f` to every [`Sym`] field (to map chunk symbols to global ones).
    fn syms(&mut self, f: impl FnMut(&mut Sym));
    fn line(&self) -> u32;
    /// The primary key, for tables that have one.
    fn key(&self) -> Option<Sym> {
        None
    }
    fn put(t: &mut Tables, rows: Vec<Self>);
}

fn opt_sym(o: &mut Option<Sym>, f: &mut impl FnMut(&mut Sym)) {
    if let Some(s) = o {
        f(s);
    }
}

impl Rec for Institution {
    const TABLE: Table = Table::Institutions;
    const KEYED: bool = true;
    fn parse(r: &Row, cx: &mut Cx) -> Result<Self, String> {
        use schema::institutions as c;
        let region = hw(r.req(c::REGION)?);
        parse::region(&region).map_err(|e| r.bad(c::REGION, e, &region))?;
        Ok(Institution {
            line: r.line,
            id: cx.id(r.req(c::ID)?),
            name: cx.sym(r.req(c::NAME)?),
            kind: r.must(c::KIND, parse::inst_kind)?,
            region: cx.sym(&region),
            seats: r.opt_u32(c::SEATS),
        })
    }
    fn syms(&mut self, mut f: impl FnMut(&mut Sym)) {
        f(&mut self.id);
        f(&mut self.name);
        f(&mut self.region);
    }
    fn line(&self) -> u32 {
        self.line
    }
    fn key(&self) -> Option<Sym> {
        Some(self.id)
    }
    fn put(t: &mut Tables, rows: Vec<Self>) {
        t.institutions = rows;
    }
}

impl Rec for Class {
    const TABLE: Table = Table::Classes;
    const KEYED: bool = true;
    fn parse(r: &Row, cx: &mut Cx) -> Result<Self, String> {
        use schema::classes as c;
        let id = cx.id(r.req(c::ID)?);
        let inst = cx.fk(Fk::Inst, "institution_id", &hw(r.req(c::INSTITUTION)?))?;
        let start_date = r.must(c::START, parse::date)?;
        let end_date = r.must(c::END, parse::date)?;
        order(start_date, end_date, "start_date<end_date", fmt_day)?;
        Ok(Class {
            line: r.line,
            id,
            inst,
            operation: cx.op(r.req(c::OPERATION)?),
            course_kind: r.must(c::COURSE_KIND, parse::course_kind)?,
            start_date,
            end_date,
            room: r.text(c::ROOM).map(|s| cx.sym(s)),
            capacity: r.opt_u32(c::CAPACITY),
        })
    }
    fn syms(&mut self, mut f: impl FnMut(&mut Sym)) {
        f(&mut self.id);
        f(&mut self.operation.raw);
        opt_sym(&mut self.room, &mut f);
    }
    fn line(&self) -> u32 {
        self.line
    }
    fn key(&self) -> Option<Sym> {
        Some(self.id)
    }
    fn put(t: &mut Tables, rows: Vec<Self>) {
        t.classes = Some(rows);
    }
}

impl Rec for Attendance {
    const TABLE: Table = Table::Attendance;
    const KEYED: bool = true;
    fn parse(r: &Row, cx: &mut Cx) -> Result<Self, String> {
        use schema::attendance as c;
        let id = cx.id(r.req(c::ID)?);
        let class = cx.fk(Fk::Class, "class_id", &hw(r.req(c::CLASS)?))?;
        let check_in = r.must(c::CHECK_IN, parse::datetime)?;
        let check_out = r.must(c::CHECK_OUT, parse::datetime)?;
        order(check_in, check_out, "check_in<check_out", fmt_ts)?;
        Ok(Attendance {
            line: r.line,
            id,
            class,
            person: cx.id(r.req(c::PERSON)?),
            name: r.text(c::NAME).map(|s| cx.sym(s)),
            instructor: r.text(c::INSTRUCTOR).map(|s| cx.id(s)),
            mode: r.must(c::MODE, parse::mode)?,
            check_in,
            check_out,
            device: r.text(c::DEVICE).map(|s| cx.id(s)),
            face_score: r.opt(c::FACE, parse::face_score),
        })
    }
    fn syms(&mut self, mut f: impl FnMut(&mut Sym)) {
        f(&mut self.id);
        f(&mut self.person);
        opt_sym(&mut self.name, &mut f);
        opt_sym(&mut self.instructor, &mut f);
        opt_sym(&mut self.device, &mut f);
    }
    fn line(&self) -> u32 {
        self.line
    }
    fn key(&self) -> Option<Sym> {
        Some(self.id)
    }
    fn put(t: &mut Tables, rows: Vec<Self>) {
        t.attendance = Some(rows);
    }
}

impl Rec for ExamSession {
    const TABLE: Table = Table::ExamSessions;
    const KEYED: bool = true;
    fn parse(r: &Row, cx: &mut Cx) -> Result<Self, String> {
        use schema::exam_sessions as c;
        let id = cx.id(r.req(c::ID)?);
        let inst = cx.fk(Fk::Inst, "institution_id", &hw(r.req(c::INSTITUTION)?))?;
        let start = r.must(c::START, parse::datetime)?;
        let end = r.must(c::END, parse::datetime)?;
        order(start, end, "start<end", fmt_ts)?;
        Ok(ExamSession {
            line: r.line,
            id,
            inst,
            room: cx.sym(r.req(c::ROOM)?),
            operation: cx.op(r.req(c::OPERATION)?),
            part: r.must(c::PART, parse::part)?,
            start,
            end,
            seats: r.opt_u32(c::SEATS),
            proctor: r.text(c::PROCTOR).map(|s| cx.id(s)),
        })
    }
    fn syms(&mut self, mut f: impl FnMut(&mut Sym)) {
        f(&mut self.id);
        f(&mut self.room);
        f(&mut self.operation.raw);
        opt_sym(&mut self.proctor, &mut f);
    }
    fn line(&self) -> u32 {
        self.line
    }
    fn key(&self) -> Option<Sym> {
        Some(self.id)
    }
    fn put(t: &mut Tables, rows: Vec<Self>) {
        t.exam_sessions = Some(rows);
    }
}

impl Rec for ExamRecord {
    const TABLE: Table = Table::ExamRecords;
    const KEYED: bool = true;
    fn parse(r: &Row, cx: &mut Cx) -> Result<Self, String> {
        use schema::exam_records as c;
        let id = cx.id(r.req(c::ID)?);
        let session = cx.fk(Fk::Session, "session_id", &hw(r.req(c::SESSION)?))?;
        let training_inst = match r.text(c::TRAINING_INST) {
            Some(t) => Some(cx.fk(Fk::Inst, "training_institution_id", &hw(t))?),
            None => None,
        };
        let login_at = r.opt(c::LOGIN, parse::datetime);
        let submit_at = r.opt(c::SUBMIT, parse::datetime);
        if let (Some(a), Some(b)) = (login_at, submit_at) {
            order(a, b, "login_at<submit_at", fmt_ts)?;
        }
        let attempt = match r.opt(c::ATTEMPT, parse::count) {
            None => 1,
            Some(v @ 1..=255) => v as u8,
            Some(v) => {
                r.defect(c::ATTEMPT, "an attempt number from 1 (first sitting)", &v.to_string());
                1
            }
        };
        Ok(ExamRecord {
            line: r.line,
            id,
            session,
            person: cx.id(r.req(c::PERSON)?),
            name: r.text(c::NAME).map(|s| cx.sym(s)),
            seat: r.text(c::SEAT).map(|s| cx.id(s)),
            training_inst,
            login_at,
            submit_at,
            score: r.must(c::SCORE, parse::score)?,
            attempt,
            face_score: r.opt(c::FACE, parse::face_score),
        })
    }
    fn syms(&mut self, mut f: impl FnMut(&mut Sym)) {
        f(&mut self.id);
        f(&mut self.person);
        opt_sym(&mut self.name, &mut f);
        opt_sym(&mut self.seat, &mut f);
    }
    fn line(&self) -> u32 {
        self.line
    }
    fn key(&self) -> Option<Sym> {
        Some(self.id)
    }
    fn put(t: &mut Tables, rows: Vec<Self>) {
        t.exam_records = Some(rows);
    }
}

impl Rec for ExamResponse {
    const TABLE: Table = Table::ExamResponses;
    fn parse(r: &Row, cx: &mut Cx) -> Result<Self, String> {
        use schema::exam_responses as c;
        let record = cx.fk(Fk::Record, "record_id", &hw(r.req(c::RECORD)?))?;
        let changes = r.opt(c::CHANGES, parse::count).and_then(|v| {
            let out = u16::try_from(v).ok();
            if out.is_none() {
                r.defect(c::CHANGES, "a count below 65536", &v.to_string());
            }
            out
        });
        Ok(ExamResponse {
            line: r.line,
            record,
            item: cx.id(r.req(c::ITEM)?),
            // Empty = unanswered (a required column, but an empty value is data).
            answer: cx.sym(r.text(c::ANSWER).unwrap_or("")),
            key: cx.sym(r.req(c::KEY)?),
            seconds: r.opt(c::SECONDS, parse::non_negative),
            changes,
        })
    }
    fn syms(&mut self, mut f: impl FnMut(&mut Sym)) {
        f(&mut self.item);
        f(&mut self.answer);
        f(&mut self.key);
    }
    fn line(&self) -> u32 {
        self.line
    }
    fn put(t: &mut Tables, rows: Vec<Self>) {
        t.exam_responses = Some(rows);
    }
}

impl Rec for Certificate {
    const TABLE: Table = Table::Certificates;
    fn parse(r: &Row, cx: &mut Cx) -> Result<Self, String> {
        use schema::certificates as c;
        let issued_on = r.must(c::ISSUED, parse::date)?;
        let expires_on = r.must(c::EXPIRES, parse::date)?;
        order(issued_on, expires_on, "issued_on<expires_on", fmt_day)?;
        let training = r.text(c::TRAINING_INST).map(hw);
        let exam = r.text(c::EXAM_INST).map(hw);
        Ok(Certificate {
            line: r.line,
            cert_no: cx.id(r.req(c::CERT_NO)?),
            person: cx.id(r.req(c::PERSON)?),
            name: cx.sym(r.req(c::NAME)?),
            operation: cx.op(r.req(c::OPERATION)?),
            issued_on,
            expires_on,
            training_inst: training.as_deref().and_then(|t| cx.fk_opt(Fk::Inst, t)),
            training_institution: training.as_deref().map(|t| cx.sym(t)),
            exam_inst: exam.as_deref().and_then(|t| cx.fk_opt(Fk::Inst, t)),
            exam_institution: exam.as_deref().map(|t| cx.sym(t)),
        })
    }
    fn syms(&mut self, mut f: impl FnMut(&mut Sym)) {
        f(&mut self.cert_no);
        f(&mut self.person);
        f(&mut self.name);
        f(&mut self.operation.raw);
        opt_sym(&mut self.training_institution, &mut f);
        opt_sym(&mut self.exam_institution, &mut f);
    }
    fn line(&self) -> u32 {
        self.line
    }
    fn put(t: &mut Tables, rows: Vec<Self>) {
        t.certificates = Some(rows);
    }
}

impl Rec for Cctv {
    const TABLE: Table = Table::Cctv;
    const KEYED: bool = true;
    fn parse(r: &Row, cx: &mut Cx) -> Result<Self, String> {
        use schema::cctv as c;
        let id = cx.id(r.req(c::ID)?);
        let inst = cx.fk(Fk::Inst, "institution_id", &hw(r.req(c::INSTITUTION)?))?;
        let claimed_start = r.must(c::CLAIMED_START, parse::datetime)?;
        let claimed_end = r.opt(c::CLAIMED_END, parse::datetime);
        if let Some(e) = claimed_end {
            order(claimed_start, e, "claimed_start<claimed_end", fmt_ts)?;
        }
        Ok(Cctv {
            line: r.line,
            id,
            inst,
            room: cx.sym(r.req(c::ROOM)?),
            camera: r.text(c::CAMERA).map(|s| cx.sym(s)),
            // The path is kept as written; the video stage confines it to the
            // dataset folder.
            file: cx.sym(r.req(c::FILE)?),
            claimed_start,
            claimed_end,
        })
    }
    fn syms(&mut self, mut f: impl FnMut(&mut Sym)) {
        f(&mut self.id);
        f(&mut self.room);
        opt_sym(&mut self.camera, &mut f);
        f(&mut self.file);
    }
    fn line(&self) -> u32 {
        self.line
    }
    fn key(&self) -> Option<Sym> {
        Some(self.id)
    }
    fn put(t: &mut Tables, rows: Vec<Self>) {
        t.cctv = Some(rows);
    }
}

impl Rec for Callback {
    const TABLE: Table = Table::Callbacks;
    fn parse(r: &Row, cx: &mut Cx) -> Result<Self, String> {
        use schema::callbacks as c;
        let institution = hw(r.req(c::INSTITUTION)?);
        Ok(Callback {
            line: r.line,
            person: cx.id(r.req(c::PERSON)?),
            inst: cx.fk_opt(Fk::Inst, &institution),
            institution: cx.sym(&institution),
            called_at: r.must(c::CALLED_AT, parse::datetime)?,
            reached: r.must(c::REACHED, parse::boolean)?,
            attended: r.opt(c::ATTENDED, parse::attended),
            hours_reported: r.opt(c::HOURS, parse::non_negative),
            note: r.text(c::NOTE).map(|s| cx.sym(s)),
        })
    }
    fn syms(&mut self, mut f: impl FnMut(&mut Sym)) {
        f(&mut self.person);
        f(&mut self.institution);
        opt_sym(&mut self.note, &mut f);
    }
    fn line(&self) -> u32 {
        self.line
    }
    fn put(t: &mut Tables, rows: Vec<Self>) {
        t.callbacks = Some(rows);
    }
}

/// What one chunk of a file gave.
struct ChunkOut<R> {
    rows: Vec<R>,
    /// Byte offset (CSV) or sheet row index of each loaded row, to quote a
    /// duplicate key found only when chunks are merged.
    offs: Vec<u64>,
    rejects: Vec<Reject>,
    /// The readable keys of each of `rejects`.
    reject_keys: Vec<KeyTexts>,
    /// Field defects of loaded rows, with the keys of their row.
    defects: Vec<(FieldDefect, KeyTexts)>,
    /// (row index in `rows`, JSON of unknown columns).
    extras: Vec<(u32, String)>,
    strings: Vec<Box<str>>,
    /// Global symbol of each of `strings` already interned (filled at merge).
    known: Vec<Option<Sym>>,
    read: u64,
}

/// The parts of a file every row needs.
struct FileCx<'a> {
    table: Table,
    file: &'a str,
    map: &'a ColMap,
    header: &'a [String],
    check_replacement: bool,
    keys: KeyCols,
}

/// Field indices of the key columns a rejected row is described by.
#[derive(Debug, Clone, Copy, Default)]
struct KeyCols {
    id: Option<usize>,
    person: Option<usize>,
    session: Option<usize>,
    record: Option<usize>,
    cert: Option<usize>,
    class: Option<usize>,
    operation: Option<usize>,
    institution: Option<usize>,
    training: Option<usize>,
}

impl KeyCols {
    fn new(table: Table, map: &ColMap) -> KeyCols {
        let cols = table.columns();
        let at = |name: &str| cols.iter().position(|c| c.name == name).and_then(|ci| map.fields[ci]);
        KeyCols {
            id: map.fields.first().copied().flatten(),
            person: at("person_id"),
            session: at("session_id"),
            record: at("record_id"),
            cert: at("cert_no"),
            class: at("class_id"),
            operation: at("operation"),
            institution: if table == Table::Certificates { at("exam_institution_id") } else { at("institution_id") },
            training: at("training_institution_id"),
        }
    }

    fn read(&self, rec: &ByteRecord) -> KeyTexts {
        let get = |f: Option<usize>| {
            let b = rec.get(f?)?;
            let t = String::from_utf8_lossy(b);
            let t = hw(t.trim()).into_owned();
            (!t.is_empty() && t.len() <= 200).then_some(t)
        };
        KeyTexts {
            id: get(self.id),
            person: get(self.person),
            session: get(self.session),
            record: get(self.record),
            cert: get(self.cert),
            class: get(self.class),
            operation: get(self.operation),
            institution: get(self.institution),
            training: get(self.training),
        }
    }
}

/// The key texts of one row as written (half-width), resolved at merge into
/// a [`RejectedRow`] or a defect's institution.
#[derive(Debug, Clone, Default)]
struct KeyTexts {
    id: Option<String>,
    person: Option<String>,
    session: Option<String>,
    record: Option<String>,
    cert: Option<String>,
    class: Option<String>,
    operation: Option<String>,
    institution: Option<String>,
    training: Option<String>,
}

fn raw_text(rec: &ByteRecord) -> String {
    let mut s = String::new();
    for (i, f) in rec.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&String::from_utf8_lossy(f));
        if s.len() > RAW_LIMIT {
            let mut cut = RAW_LIMIT;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
            s.push('…');
            break;
        }
    }
    s
}

/// Problems of the record as a whole, before any column is parsed.
fn record_problem(fc: &FileCx, rec: &ByteRecord, line: u64) -> Option<String> {
    let n = fc.header.len();
    let wrong = rec.len() < n || (rec.len() > n && rec.iter().skip(n).any(|f| !f.iter().all(u8::is_ascii_whitespace)));
    if wrong {
        let mut why = format!("row has {} field(s), the header has {n}", rec.len());
        // A quote that never closes makes csv read every following line into
        // one field: say which lines went into this row, so none is lost
        // without a word (the file's own last line break, swallowed with the
        // rest, ends no line of this row).
        let last = rec.iter().next_back().unwrap_or_default();
        let tail = last.len() - last.iter().rev().take_while(|b| matches!(b, b'\r' | b'\n')).count();
        let breaks =
            rec.iter().map(|f| count_lines(f, 0, f.len())).sum::<usize>() - count_lines(last, tail, last.len());
        let breaks = breaks as u64;
        if breaks > 0 {
            why.push_str(&format!(
                ": a quoted field runs from line {line} to line {} (unclosed quote?)",
                line + breaks
            ));
        } else if rec.len() < n {
            why.push_str(" (truncated row?)");
        }
        return Some(why);
    }
    let bytes = rec.as_slice();
    if memchr::memmem::find(bytes, "\u{FEFF}".as_bytes()).is_some() {
        return Some("row contains a byte-order mark (U+FEFF): two exports concatenated into one file?".into());
    }
    if memchr::memchr(0, bytes).is_some() {
        return Some("row contains a NUL byte (binary data in a text file)".into());
    }
    if fc.check_replacement && std::str::from_utf8(bytes).is_ok_and(|s| s.contains('\u{FFFD}')) {
        return Some("row has bytes that are neither UTF-8 nor GB18030 text".into());
    }
    if rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
        return Some("empty row (every field blank)".into());
    }
    None
}

fn extras_json(fc: &FileCx, rec: &ByteRecord) -> Option<String> {
    let mut m = serde_json::Map::new();
    for (fi, name) in &fc.map.unknown {
        if let Some(v) = rec.get(*fi) {
            let v = String::from_utf8_lossy(v);
            let v = v.trim();
            if !v.is_empty() {
                m.insert(name.clone(), serde_json::Value::String(v.to_string()));
            }
        }
    }
    (!m.is_empty()).then(|| serde_json::Value::Object(m).to_string())
}

fn process<R: Rec>(fc: &FileCx, rec: &ByteRecord, line: u64, off: u64, cx: &mut Cx, out: &mut ChunkOut<R>) {
    out.read += 1;
    let cols = R::TABLE.columns();
    let mut defects = Vec::new();
    let res = match record_problem(fc, rec, line) {
        Some(why) => Err(why),
        None => {
            let row = Row {
                rec,
                map: fc.map,
                cols,
                line: u32::try_from(line).unwrap_or(u32::MAX),
                defects: Default::default(),
            };
            let res = R::parse(&row, cx);
            defects = row.defects.into_inner();
            res
        }
    };
    match res {
        Ok(r) => {
            if !defects.is_empty() {
                let keys = fc.keys.read(rec);
                for (c, value, reason) in defects {
                    let d = FieldDefect {
                        table: fc.table.name().to_string(),
                        file: fc.file.to_string(),
                        line,
                        column: cols[c].name.to_string(),
                        value,
                        reason,
                        institution_id: None,
                    };
                    out.defects.push((d, keys.clone()));
                }
            }
            if !fc.map.unknown.is_empty() {
                if let Some(j) = extras_json(fc, rec) {
                    out.extras.push((out.rows.len() as u32, j));
                }
            }
            out.rows.push(r);
            if R::KEYED {
                out.offs.push(off);
            }
        }
        Err(reason) => {
            out.reject_keys.push(fc.keys.read(rec));
            out.rejects.push(Reject {
                table: fc.table.name().to_string(),
                file: fc.file.to_string(),
                line,
                reason,
                raw: raw_text(rec),
            })
        }
    }
}

impl<R> ChunkOut<R> {
    fn new() -> Self {
        ChunkOut {
            rows: Vec::new(),
            offs: Vec::new(),
            rejects: Vec::new(),
            reject_keys: Vec::new(),
            defects: Vec::new(),
            extras: Vec::new(),
            strings: Vec::new(),
            known: Vec::new(),
            read: 0,
        }
    }
}

/// Line numbers of records. csv's own `Position::line` lags by one after a
/// CRLF-terminated record (it reports the record as starting on the `\n`),
/// so lines are counted here: newlines from the chunk start to the record's
/// first byte.
struct LineTracker {
    at: usize,
    line: u64,
}

impl LineTracker {
    fn new(base_line: u64) -> Self {
        LineTracker { at: 0, line: base_line }
    }

    /// (line number, byte offset) of the record csv reports at `byte`.
    fn locate(&mut self, body: &[u8], byte: u64) -> (u64, usize) {
        let mut b = (byte as usize).min(body.len());
        while b < body.len() && matches!(body[b], b'\r' | b'\n') {
            b += 1;
        }
        if b >= self.at {
            self.line += count_lines(body, self.at, b) as u64;
            self.at = b;
        }
        (self.line, b)
    }
}

fn parse_csv_chunk<R: Rec>(fc: &FileCx, sh: &Shared, text: &[u8], range: (usize, usize, u64)) -> ChunkOut<R> {
    let (start, end, base_line) = range;
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&text[start..end]);
    let mut rec = ByteRecord::new();
    let mut cx = Cx::new(sh, end - start);
    let mut out = ChunkOut::new();
    let mut lines = LineTracker::new(base_line);
    let body = &text[start..end];
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {
                let (line, b) = lines.locate(body, rec.position().map(|p| p.byte()).unwrap_or(0));
                process(fc, &rec, line, (start + b) as u64, &mut cx, &mut out);
            }
            Ok(false) => break,
            Err(e) => {
                // Reading bytes from memory cannot fail today; if csv ever
                // reports something, the rest of the chunk is one rejected row.
                let line = lines.locate(body, e.position().map(|p| p.byte()).unwrap_or(0)).0;
                out.read += 1;
                out.reject_keys.push(KeyTexts::default());
                out.rejects.push(Reject {
                    table: fc.table.name().into(),
                    file: fc.file.into(),
                    line,
                    reason: format!("unreadable CSV from here on: {e}"),
                    raw: String::new(),
                });
                break;
            }
        }
    }
    out.strings = cx.local.into_vec();
    out
}

/// Line breaks in `text[from..to]`: every `\n`, and every `\r` not followed
/// by `\n` (old Mac exports end lines with a lone CR, and csv reads those as
/// record ends too, so line numbers must count them). The byte after `to`
/// is looked at, so a CRLF split by a range end counts once.
fn count_lines(text: &[u8], from: usize, to: usize) -> usize {
    let b = &text[from..to];
    let lf = memchr::memchr_iter(b'\n', b).count();
    let lone_cr = memchr::memchr_iter(b'\r', b).filter(|&i| text.get(from + i + 1) != Some(&b'\n')).count();
    lf + lone_cr
}

/// Quote state (inside a quoted field?) at each candidate cut, from one
/// pass over the quotes. `None` when the quoting is not RFC 4180 (a quote
/// inside an unquoted field, which csv reads as a literal): parity could
/// then mislead, so the file is not split.
fn quote_states(text: &[u8], start: usize, cands: &[usize]) -> Option<Vec<bool>> {
    let (mut inside, mut p, mut ci) = (false, start, 0);
    let mut out = Vec::with_capacity(cands.len());
    loop {
        let next = memchr::memchr(b'"', &text[p..]).map(|k| p + k);
        let q = next.unwrap_or(text.len());
        while ci < cands.len() && cands[ci] <= q {
            out.push(inside);
            ci += 1;
        }
        let Some(q) = next else { break };
        if !inside {
            let prev = if q == start { b'\n' } else { text[q - 1] };
            if !matches!(prev, b',' | b'\n' | b'\r') {
                return None;
            }
            inside = true;
            p = q + 1;
        } else {
            match text.get(q + 1) {
                Some(b'"') => {
                    // A candidate between the two quotes of `""`: the walk
                    // will toggle on the second one, so it starts toggled.
                    while ci < cands.len() && cands[ci] == q + 1 {
                        out.push(!inside);
                        ci += 1;
                    }
                    p = q + 2;
                }
                None | Some(b',' | b'\n' | b'\r') => {
                    inside = false;
                    p = q + 1;
                }
                _ => return None,
            }
        }
        if p >= text.len() {
            break;
        }
    }
    while out.len() < cands.len() {
        out.push(inside);
    }
    Some(out)
}

/// Splits the body `text[start..]` into chunks of about `chunk` bytes that
/// end at a record boundary: a newline outside quotes. Returns (start, end,
/// line number of start).
fn split_ranges(text: &[u8], start: usize, chunk: usize) -> Vec<(usize, usize, u64)> {
    let len = text.len() - start;
    let mut cuts = vec![start];
    if len >= 2 * chunk {
        let n = len / chunk;
        let cands: Vec<usize> = (1..n).map(|i| start + i * (len / n)).collect();
        for (&c, inside) in cands.iter().zip(quote_states(text, start, &cands).unwrap_or_default()) {
            let (mut p, mut q, mut cut) = (c, inside, None);
            while let Some(k) = memchr::memchr2(b'\n', b'"', &text[p..]) {
                let at = p + k;
                p = at + 1;
                if text[at] == b'"' {
                    q = !q;
                } else if !q {
                    cut = Some(p);
                    break;
                }
            }
            if let Some(p) = cut.filter(|&p| p > *cuts.last().unwrap_or(&start) && p < text.len()) {
                cuts.push(p);
            }
        }
    }
    cuts.push(text.len());
    let lines: Vec<u64> = std::iter::once(count_lines(text, 0, start) as u64)
        .chain(cuts.par_windows(2).map(|w| count_lines(text, w[0], w[1]) as u64).collect::<Vec<_>>())
        .collect();
    let mut base = 1u64;
    cuts.windows(2)
        .enumerate()
        .map(|(i, w)| {
            base += lines[i];
            (w[0], w[1], base)
        })
        .collect()
}

/// A refused file: its report so far and why.
type Refused = Box<(FileReport, Refusal)>;

/// Why a file is refused.
enum Refusal {
    Missing { column: &'static str, aliases: String },
    Other(String),
}

fn header_refusal(e: HeaderError) -> Refusal {
    match e {
        HeaderError::Missing { column, aliases } => Refusal::Missing { column, aliases },
        HeaderError::Duplicate { column, first, second } => {
            Refusal::Other(format!("column `{column}` appears twice in the header (columns {first} and {second})"))
        }
    }
}

/// Matches the header, recognising a file exported with the wrong delimiter.
fn header_map(table: Table, header: &[String]) -> Result<ColMap, Refusal> {
    let fields: Vec<&str> = header.iter().map(String::as_str).collect();
    match match_header(table, &fields) {
        Ok(m) => Ok(m),
        Err(e) => {
            if header.len() == 1 {
                for (d, name) in [(';', "semicolon"), ('\t', "tab"), ('|', "pipe"), ('，', "full-width comma")] {
                    if header[0].split(d).count() > 1 {
                        return Err(Refusal::Other(format!(
                            "the header `{}` is {name}-separated; kaopei reads comma-separated CSV (RFC 4180): \
                             re-export the table with `,` as the delimiter",
                            clip(&header[0])
                        )));
                    }
                }
            }
            Err(header_refusal(e))
        }
    }
}

/// Adds to a "missing required value" reject of sheet row `i` that the
/// empty cell lies inside a merged range (its value is in the range's first
/// cell only), so the reason matches what the user sees in the spreadsheet.
fn merged_hint(r: &mut Reject, table: Table, map: &ColMap, dec: &source::Decoded, i: usize) {
    let Some(col) = r.reason.strip_prefix("missing required value `").and_then(|t| t.split('`').next()) else {
        return;
    };
    let Some(field) = table.columns().iter().position(|c| c.name == col).and_then(|ci| map.fields[ci]) else {
        return;
    };
    let (r0, c0) = dec.origin;
    if let Some(&(a, b, c, d)) = dec.merged.iter().find(|m| m.0 < i && i <= m.2 && m.1 <= field && field <= m.3) {
        r.reason.push_str(&format!(
            " (cell {} is inside the merged range {}:{}, whose value is in its first cell only)",
            source::cell_name(r0 + i, c0 + field),
            source::cell_name(r0 + a, c0 + b),
            source::cell_name(r0 + c, c0 + d)
        ));
    }
}

/// Text kept to quote rows found duplicate at merge time.
enum RawSource {
    Csv { buf: Vec<u8>, skip: usize },
    Sheet(Vec<Vec<String>>),
}

impl RawSource {
    /// The record at `off`, to read the keys of a duplicate.
    fn record_at(&self, off: u64) -> Option<ByteRecord> {
        match self {
            RawSource::Csv { buf, skip } => {
                let from = (*skip + off as usize).min(buf.len());
                let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&buf[from..]);
                let mut rec = ByteRecord::new();
                matches!(rdr.read_byte_record(&mut rec), Ok(true)).then_some(rec)
            }
            RawSource::Sheet(rows) => rows.get(off as usize).map(|r| ByteRecord::from(r.clone())),
        }
    }

    fn raw_at(&self, off: u64) -> String {
        match self {
            RawSource::Csv { buf, skip } => {
                let from = (*skip + off as usize).min(buf.len());
                let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&buf[from..]);
                let mut rec = ByteRecord::new();
                match rdr.read_byte_record(&mut rec) {
                    Ok(true) => raw_text(&rec),
                    _ => String::new(),
                }
            }
            RawSource::Sheet(rows) => {
                rows.get(off as usize).map(|r| raw_text(&ByteRecord::from(r.clone()))).unwrap_or_default()
            }
        }
    }
}

/// A file parsed, not yet merged.
struct FileParse<R> {
    report: FileReport,
    chunks: Vec<ChunkOut<R>>,
    raw: RawSource,
    keys: KeyCols,
}

fn parse_file<R: Rec>(path: &Path, file: &str, sh: &Shared) -> Result<FileParse<R>, Refused> {
    let table = R::TABLE;
    let mut report = FileReport {
        table: table.name().to_string(),
        file: file.to_string(),
        size: 0,
        sha256: String::new(),
        encoding: String::new(),
        rows_read: 0,
        rows_loaded: 0,
        rows_rejected: 0,
        field_defects: 0,
        unknown_columns: Vec::new(),
        notes: Vec::new(),
        refused: None,
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return Err(Box::new((report, Refusal::Other(format!("cannot read the file: {e}"))))),
    };
    report.size = bytes.len() as u64;
    let is_sheet = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx") || e.eq_ignore_ascii_case("xls"));

    type Parsed<R> = (Vec<ChunkOut<R>>, Option<Vec<u8>>, usize, Option<Vec<Vec<String>>>, Vec<String>, KeyCols);
    let work = || -> Result<(Parsed<R>, &'static str, Vec<String>), Refusal> {
        if is_sheet {
            let (body, dec) = source::read_sheet(&bytes).map_err(Refusal::Other)?;
            let Body::Sheet { rows, first_row } = body else {
                return Err(Refusal::Other("not a sheet".into()));
            };
            let header: Vec<String> = rows[0].iter().map(|s| s.trim().to_string()).collect();
            let map = header_map(table, &header)?;
            let keys = KeyCols::new(table, &map);
            let fc = FileCx { table, file, map: &map, header: &header, check_replacement: false, keys };
            let mut cx = Cx::new(sh, 0);
            let mut out = ChunkOut::new();
            for (i, row) in rows.iter().enumerate().skip(1) {
                let rec = ByteRecord::from(row.iter().map(String::as_str).collect::<Vec<_>>());
                if rec.iter().all(|f| f.is_empty()) {
                    // Spreadsheets keep formatted-but-empty rows: not records.
                    continue;
                }
                let before = out.rejects.len();
                process(&fc, &rec, first_row + i as u64, i as u64, &mut cx, &mut out);
                if let Some(r) = out.rejects.get_mut(before) {
                    merged_hint(r, table, &map, &dec, i);
                }
            }
            out.strings = cx.local.into_vec();
            let unknown = map.unknown.iter().map(|u| u.1.clone()).collect();
            Ok(((vec![out], None, 0, Some(rows), unknown, keys), dec.encoding, dec.notes))
        } else {
            let (text, check_replacement, dec) = source::decode_csv(&bytes).map_err(Refusal::Other)?;
            let skip = bytes.len().saturating_sub(text.len());
            let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&text[..]);
            let mut hdr = ByteRecord::new();
            if !rdr.read_byte_record(&mut hdr).unwrap_or(false) {
                return Err(Refusal::Other("the file has no header row".into()));
            }
            let body_start = rdr.position().byte() as usize;
            let header: Vec<String> = hdr.iter().map(|f| String::from_utf8_lossy(f).trim().to_string()).collect();
            if header.iter().all(String::is_empty) {
                return Err(Refusal::Other("the header row is blank".into()));
            }
            let map = header_map(table, &header)?;
            let keys = KeyCols::new(table, &map);
            let fc = FileCx { table, file, map: &map, header: &header, check_replacement, keys };
            let ranges = split_ranges(&text, body_start.min(text.len()), CHUNK);
            let chunks: Vec<ChunkOut<R>> = ranges.into_par_iter().map(|r| parse_csv_chunk(&fc, sh, &text, r)).collect();
            let unknown = map.unknown.iter().map(|u| u.1.clone()).collect();
            let owned = match text {
                std::borrow::Cow::Owned(v) => Some(v),
                std::borrow::Cow::Borrowed(_) => None,
            };
            Ok(((chunks, owned, skip, None, unknown, keys), dec.encoding, dec.notes))
        }
    };
    let (sha, res) = rayon::join(|| crate::output::sha256_hex(&bytes), work);
    report.sha256 = sha;
    match res {
        Err(r) => Err(Box::new((report, r))),
        Ok(((chunks, owned, skip, sheet, unknown, keys), encoding, notes)) => {
            report.encoding = encoding.to_string();
            report.notes = notes;
            report.unknown_columns = unknown;
            let raw = match (sheet, owned) {
                (Some(rows), _) => RawSource::Sheet(rows),
                (None, Some(buf)) => RawSource::Csv { buf, skip: 0 },
                (None, None) => RawSource::Csv { buf: bytes, skip },
            };
            Ok(FileParse { report, chunks, raw, keys })
        }
    }
}

/// The running read.
struct State<'o> {
    ops: &'o Operations,
    tables: Tables,
    keys: Keys,
    missing: HashMap<Table, String>,
    files: Vec<FileReport>,
    rejects: Vec<Reject>,
    /// Keys of each of `rejects`, not yet resolved.
    reject_keys: Vec<(Table, u32, KeyTexts)>,
    defects: Vec<FieldDefect>,
    extras: Vec<Extras>,
}

impl State<'_> {
    fn row_of(&self, keys: &[u32], text: Option<&str>) -> Option<u32> {
        let sym = self.tables.strings.lookup(text?)?;
        keys.get(sym.0 as usize).copied().filter(|&i| i != NONE)
    }

    /// Resolves a row's key texts against the tables loaded so far (all of
    /// them, when called after the last wave).
    fn resolve(&mut self, table: Table, line: u32, k: &KeyTexts) -> RejectedRow {
        let t = &self.tables;
        let class = self.row_of(&self.keys.class, k.class.as_deref()).and_then(|i| t.classes.as_ref()?.get(i as usize));
        let record = match table {
            Table::ExamResponses => self.row_of(&self.keys.record, k.record.as_deref()),
            _ => None,
        };
        let session = match record {
            Some(r) => t.exam_records.as_ref().and_then(|v| v.get(r as usize)).map(|r| r.session),
            None => self.row_of(&self.keys.session, k.session.as_deref()),
        };
        let sess = session.and_then(|i| t.exam_sessions.as_ref()?.get(i as usize));
        let inst = self
            .row_of(&self.keys.inst, k.institution.as_deref())
            .or(class.map(|c| c.inst))
            .or(sess.map(|s| s.inst))
            .or_else(|| {
                (table == Table::Institutions).then(|| self.row_of(&self.keys.inst, k.id.as_deref())).flatten()
            });
        let training_inst = self.row_of(&self.keys.inst, k.training.as_deref());
        let fallback_op = sess.map(|s| s.operation).or(class.map(|c| c.operation));
        let ops = self.ops;
        let strings = &mut self.tables.strings;
        let operation = match &k.operation {
            Some(o) => Some(OpRef { raw: strings.intern(o), op: ops.resolve(o) }),
            None => fallback_op,
        };
        let mut sym = |s: &Option<String>| s.as_deref().map(|s| strings.intern(s));
        RejectedRow {
            table,
            line,
            id: sym(&k.id),
            person: sym(&k.person),
            session_id: sym(&k.session),
            session,
            record_id: sym(&k.record),
            cert_no: sym(&k.cert),
            operation,
            inst,
            institution_id: sym(&k.institution),
            training_inst,
        }
    }
}

fn merge<R: Rec>(st: &mut State, p: FileParse<R>) {
    let FileParse { mut report, chunks, raw, keys: key_cols } = p;
    // Keyless tables cannot have duplicates to quote: free the file now.
    let raw = R::KEYED.then_some(raw);
    let table = R::TABLE;
    let total: usize = chunks.iter().map(|c| c.rows.len()).sum();
    let mut rows: Vec<R> = Vec::with_capacity(total);
    let mut first: FxMap<Sym, u32> = FxMap::default();
    let key_col = table.columns()[0].name;
    // Strings the dataset already knows resolve in parallel; only new ones
    // are interned, in chunk order.
    let mut chunks = chunks;
    let strings = &st.tables.strings;
    chunks.par_iter_mut().for_each(|ch| ch.known = ch.strings.iter().map(|s| strings.lookup(s)).collect());
    let new: usize = chunks.iter().map(|c| c.known.iter().filter(|k| k.is_none()).count()).sum();
    st.tables.strings.reserve(new);
    for ch in chunks {
        report.rows_read += ch.read;
        report.rows_rejected += ch.rejects.len() as u64;
        report.field_defects += ch.defects.len() as u64;
        for (r, k) in ch.rejects.iter().zip(ch.reject_keys) {
            st.reject_keys.push((table, u32::try_from(r.line).unwrap_or(u32::MAX), k));
        }
        st.rejects.extend(ch.rejects);
        for (mut d, k) in ch.defects {
            let row = st.resolve(table, u32::try_from(d.line).unwrap_or(u32::MAX), &k);
            let inst = if table == Table::Institutions { Some(k.id.clone()) } else { None };
            d.institution_id = inst.flatten().or_else(|| row.inst.map(|i| st.tables.inst_id(i).to_string()));
            st.defects.push(d);
        }
        let map: Vec<Sym> = ch
            .strings
            .into_iter()
            .zip(ch.known)
            .map(|(s, k)| k.unwrap_or_else(|| st.tables.strings.intern_owned(s)))
            .collect();
        let mut extras = ch.extras.into_iter().peekable();
        let mut offs = ch.offs.into_iter();
        for (i, mut r) in ch.rows.into_iter().enumerate() {
            let off = offs.next().unwrap_or(0);
            r.syms(|s| *s = map[s.0 as usize]);
            let extra =
                if extras.peek().is_some_and(|e| e.0 as usize == i) { extras.next().map(|e| e.1) } else { None };
            if let Some(k) = r.key() {
                match first.entry(k) {
                    Entry::Occupied(e) => {
                        report.rows_rejected += 1;
                        let keys = raw.as_ref().and_then(|raw| raw.record_at(off)).map(|rec| key_cols.read(&rec));
                        st.reject_keys.push((table, r.line(), keys.unwrap_or_default()));
                        st.rejects.push(Reject {
                            table: table.name().to_string(),
                            file: report.file.clone(),
                            line: u64::from(r.line()),
                            reason: format!(
                                "duplicate {key_col} `{}`: already on line {}",
                                clip(st.tables.strings.get(k)),
                                e.get()
                            ),
                            raw: raw.as_ref().map(|raw| raw.raw_at(off)).unwrap_or_default(),
                        });
                        continue;
                    }
                    Entry::Vacant(v) => {
                        v.insert(r.line());
                    }
                }
            }
            if let Some(json) = extra {
                st.extras.push(Extras { table: table.name(), line: r.line(), json });
            }
            rows.push(r);
        }
    }
    report.rows_loaded = rows.len() as u64;
    let n = st.tables.strings.len();
    let index = |rows: &[R]| {
        let mut v = vec![NONE; n];
        for (i, r) in rows.iter().enumerate() {
            if let Some(k) = r.key() {
                v[k.0 as usize] = i as u32;
            }
        }
        v
    };
    match table {
        Table::Institutions => st.keys.inst = index(&rows),
        Table::Classes => st.keys.class = index(&rows),
        Table::ExamSessions => st.keys.session = index(&rows),
        Table::ExamRecords => st.keys.record = index(&rows),
        _ => {}
    }
    st.files.push(report);
    R::put(&mut st.tables, rows);
}

/// A parsed file of any table.
enum AnyParse {
    Institutions(FileParse<Institution>),
    Classes(FileParse<Class>),
    ExamSessions(FileParse<ExamSession>),
    Certificates(FileParse<Certificate>),
    Cctv(FileParse<Cctv>),
    Callbacks(FileParse<Callback>),
    Attendance(FileParse<Attendance>),
    ExamRecords(FileParse<ExamRecord>),
    ExamResponses(FileParse<ExamResponse>),
}

fn parse_any(t: Table, path: &Path, file: &str, sh: &Shared) -> Result<AnyParse, Refused> {
    Ok(match t {
        Table::Institutions => AnyParse::Institutions(parse_file(path, file, sh)?),
        Table::Classes => AnyParse::Classes(parse_file(path, file, sh)?),
        Table::ExamSessions => AnyParse::ExamSessions(parse_file(path, file, sh)?),
        Table::Certificates => AnyParse::Certificates(parse_file(path, file, sh)?),
        Table::Cctv => AnyParse::Cctv(parse_file(path, file, sh)?),
        Table::Callbacks => AnyParse::Callbacks(parse_file(path, file, sh)?),
        Table::Attendance => AnyParse::Attendance(parse_file(path, file, sh)?),
        Table::ExamRecords => AnyParse::ExamRecords(parse_file(path, file, sh)?),
        Table::ExamResponses => AnyParse::ExamResponses(parse_file(path, file, sh)?),
    })
}

fn merge_any(st: &mut State, p: AnyParse) {
    match p {
        AnyParse::Institutions(p) => merge(st, p),
        AnyParse::Classes(p) => merge(st, p),
        AnyParse::ExamSessions(p) => merge(st, p),
        AnyParse::Certificates(p) => merge(st, p),
        AnyParse::Cctv(p) => merge(st, p),
        AnyParse::Callbacks(p) => merge(st, p),
        AnyParse::Attendance(p) => merge(st, p),
        AnyParse::ExamRecords(p) => merge(st, p),
        AnyParse::ExamResponses(p) => merge(st, p),
    }
}

/// A table file that cannot be read as one: its name and why.
type Unusable = (String, String);

/// What the dataset folder holds.
struct Found {
    tables: HashMap<Table, Result<PathBuf, Unusable>>,
    /// Notes about files that are not tables (`attendence.csv`).
    notes: Vec<String>,
}

/// The table files in `dir`: `NAME.csv`, `NAME.xlsx` or `NAME.xls`, name and
/// extension in any case. Two files for one table refuse that table, and so
/// does a table name that is a folder, a device or a dangling link: reading
/// `/dev/zero` through a link would never end, and a folder skipped
/// silently would turn into "table not given" without saying why.
fn find_files(dir: &Path) -> Result<Found, DatasetError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| DatasetError::Unreadable { path: dir.to_path_buf(), message: e.to_string() })?;
    let mut found: HashMap<Table, Result<PathBuf, Unusable>> = HashMap::new();
    let mut notes = Vec::new();
    let mut names: Vec<(String, PathBuf)> =
        entries.filter_map(Result::ok).map(|e| (e.file_name().to_string_lossy().into_owned(), e.path())).collect();
    names.sort();
    for (name, path) in names {
        let lower = name.to_lowercase();
        let Some((stem, ext)) = lower.rsplit_once('.') else { continue };
        if !matches!(ext, "csv" | "xlsx" | "xls") {
            continue;
        }
        let Some(t) = Table::from_name(stem) else {
            notes.push(not_a_table(&name, stem));
            continue;
        };
        let this = match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => Ok(path),
            Ok(m) if m.is_dir() => Err((name.clone(), format!("`{name}` is a folder, not a table file"))),
            Ok(_) => Err((
                name.clone(),
                format!("`{name}` is not a regular file (device, FIFO or socket, or a link to one); refused"),
            )),
            Err(e) => Err((name.clone(), format!("cannot read `{name}`: {e}"))),
        };
        match found.entry(t) {
            Entry::Vacant(v) => {
                v.insert(this);
            }
            Entry::Occupied(mut o) => {
                let prev = match o.get() {
                    Ok(p) => file_name(p),
                    Err((n, _)) => n.clone(),
                };
                let why = format!("both `{prev}` and `{name}` are given for table `{}`: keep one", t.name());
                *o.get_mut() = Err((prev, why));
            }
        }
    }
    Ok(Found { tables: found, notes })
}

/// The note for a `.csv`/`.xlsx` file whose name is not a table, naming the
/// closest table when the name looks like a misspelling of one.
fn not_a_table(name: &str, stem: &str) -> String {
    let near = Table::ALL.into_iter().map(|t| (edit_distance(stem, t.name()), t.name())).min();
    match near {
        Some((d, t)) if d <= 3 => {
            format!("`{name}` is not a table of the contract and was not read (did you mean `{t}`?)")
        }
        _ => format!("`{name}` is not a table of the contract and was not read"),
    }
}

/// Levenshtein distance over chars (names are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != *cb)).min(row[j] + 1).min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Reads every table of the dataset folder `dir`.
pub fn read_dataset(dir: &Path, ops: &Operations) -> Result<Loaded, DatasetError> {
    if !dir.is_dir() {
        return Err(DatasetError::NoFolder(dir.to_path_buf()));
    }
    let Found { tables: found, notes } = find_files(dir)?;
    match found.get(&Table::Institutions) {
        None => return Err(DatasetError::NoInstitutions(dir.to_path_buf())),
        Some(Err((file, why))) => return Err(DatasetError::Invalid { file: file.clone(), message: why.clone() }),
        Some(Ok(_)) => {}
    }
    let mut st = State {
        ops,
        tables: Tables::default(),
        keys: Keys::default(),
        missing: HashMap::new(),
        files: Vec::new(),
        rejects: Vec::new(),
        reject_keys: Vec::new(),
        defects: Vec::new(),
        extras: Vec::new(),
    };
    for t in Table::ALL {
        match found.get(&t) {
            None => {
                st.missing.insert(t, format!("no {} table was given", t.name()));
            }
            Some(Err((file, why))) => {
                st.missing.insert(t, format!("{file} was refused"));
                st.files.push(refused_report(t, file, why.clone()));
            }
            Some(Ok(_)) => {}
        }
    }
    for wave in Table::WAVES {
        let todo: Vec<(Table, &PathBuf)> = wave
            .iter()
            .filter_map(|t| match found.get(t) {
                Some(Ok(p)) => Some((*t, p)),
                _ => None,
            })
            .collect();
        let results: Vec<(Table, Result<AnyParse, Refused>)> = {
            let sh = Shared { ops, strings: &st.tables.strings, keys: &st.keys, missing: &st.missing };
            todo.par_iter().map(|(t, p)| (*t, parse_any(*t, p, &file_name(p), &sh))).collect()
        };
        for (t, r) in results {
            match r {
                Ok(p) => merge_any(&mut st, p),
                Err(refused) => {
                    let (mut report, refusal) = *refused;
                    let err = match refusal {
                        Refusal::Missing { column, aliases } => {
                            DatasetError::MissingColumn { file: report.file.clone(), column: column.into(), aliases }
                        }
                        Refusal::Other(message) => DatasetError::Invalid { file: report.file.clone(), message },
                    };
                    if t == Table::Institutions {
                        return Err(err);
                    }
                    st.missing.insert(t, format!("{} was refused", report.file));
                    report.refused = Some(err.to_string());
                    st.files.push(report);
                }
            }
        }
    }
    st.files.sort_by_key(|f| Table::from_name(&f.table).map(|t| t as usize).unwrap_or(usize::MAX));
    // Every table is in: resolve the rejected rows' keys, then sort rejects
    // and their keys together.
    let keys = std::mem::take(&mut st.reject_keys);
    let rejected: Vec<RejectedRow> = keys.iter().map(|(t, line, k)| st.resolve(*t, *line, k)).collect();
    let mut both: Vec<(Reject, RejectedRow)> = std::mem::take(&mut st.rejects).into_iter().zip(rejected).collect();
    both.sort_by(|a, b| (&a.0.file, a.0.line).cmp(&(&b.0.file, b.0.line)));
    let (rejects, rejected): (Vec<Reject>, Vec<RejectedRow>) = both.into_iter().unzip();
    st.tables.rejected = rejected;
    st.defects.sort_by(|a, b| (&a.file, a.line, &a.column).cmp(&(&b.file, b.line, &b.column)));
    st.extras.sort_by_key(|e| (e.table, e.line));
    Ok(Loaded {
        root: dir.to_path_buf(),
        tables: st.tables,
        files: st.files,
        rejects,
        defects: st.defects,
        extras: st.extras,
        notes,
    })
}

fn refused_report(t: Table, file: &str, why: String) -> FileReport {
    FileReport {
        table: t.name().to_string(),
        file: file.to_string(),
        size: 0,
        sha256: String::new(),
        encoding: String::new(),
        rows_read: 0,
        rows_loaded: 0,
        rows_rejected: 0,
        field_defects: 0,
        unknown_columns: Vec::new(),
        notes: Vec::new(),
        refused: Some(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_folder(files: &[(&str, &str)]) -> Loaded {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let ops = crate::model::Models::load(None).unwrap().operations;
        read_dataset(dir.path(), &ops).unwrap()
    }

    #[test]
    fn bad_optional_values_are_field_defects_and_rejected_rows_keep_their_keys() {
        let l = read_folder(&[
            (
                "institutions.csv",
                "institution_id,name,kind,region,seats\nI1,甲,training,410102,abc\nI2,乙,exam,410103,30\n",
            ),
            (
                "exam_sessions.csv",
                "session_id,institution_id,room,operation,part,start,end,seats\n\
                 S1,I2,K1,低压电工,theory,2024-07-25 09:00,2024-07-25 10:30,-4\n",
            ),
            (
                "exam_records.csv",
                "record_id,session_id,person_id,score,face_score,attempt,training_institution_id\n\
                 R1,S1,410102199001011234,85,n/a,0,I1\n\
                 R2,S1,41010219900101123X,8O,0.9,1,I1\n\
                 R3,S9,410102199001011250,90,,,\n",
            ),
            ("exam_responses.csv", "record_id,item_id,answer,key,seconds,changes\nR1,Q1,A,A,-1,70000\nR2,Q1,A,A,3,0\n"),
        ]);
        // Optional values that break their type load empty, the rows stay.
        let t = &l.tables;
        assert_eq!(t.institutions.len(), 2);
        assert_eq!(t.institutions[0].seats, None);
        assert_eq!(t.exam_sessions.as_ref().unwrap()[0].seats, None);
        let r1 = &t.exam_records.as_ref().unwrap()[0];
        assert_eq!((r1.face_score, r1.attempt), (None, 1));
        let resp = &t.exam_responses.as_ref().unwrap()[0];
        assert_eq!((resp.seconds, resp.changes), (None, None));
        let d: Vec<(&str, u64, &str, &str, Option<&str>)> = l
            .defects
            .iter()
            .map(|d| (d.file.as_str(), d.line, d.column.as_str(), d.value.as_str(), d.institution_id.as_deref()))
            .collect();
        assert_eq!(
            d,
            [
                ("exam_records.csv", 2, "attempt", "0", Some("I2")),
                ("exam_records.csv", 2, "face_score", "n/a", Some("I2")),
                ("exam_responses.csv", 2, "changes", "70000", Some("I2")),
                ("exam_responses.csv", 2, "seconds", "-1", Some("I2")),
                ("exam_sessions.csv", 2, "seats", "-4", Some("I2")),
                ("institutions.csv", 2, "seats", "abc", Some("I1")),
            ]
        );
        let f = |name: &str| l.files.iter().find(|f| f.table == name).unwrap();
        assert_eq!((f("institutions").rows_loaded, f("institutions").field_defects), (2, 1));
        assert_eq!(
            (f("exam_records").rows_read, f("exam_records").rows_loaded, f("exam_records").rows_rejected),
            (3, 1, 2)
        );
        // A rejected row is unknown, not absent: its keys are readable.
        assert_eq!(t.rejected.len(), l.rejects.len());
        let person = t.strings.lookup("41010219900101123X").unwrap();
        let low_voltage = t.exam_sessions.as_ref().unwrap()[0].operation.op;
        let hits: Vec<&RejectedRow> = t.rejected_exam_records_of(person, low_voltage).collect();
        assert_eq!(hits.len(), 1);
        let h = hits[0];
        assert_eq!(
            (h.line, t.s(h.id.unwrap()), h.session, h.inst, h.training_inst),
            (3, "R2", Some(0), Some(1), Some(0))
        );
        assert_eq!(h.operation.map(|o| o.op), Some(low_voltage));
        // The record of an unknown session: person readable, no institution.
        let p3 = t.strings.lookup("410102199001011250").unwrap();
        let r3: Vec<&RejectedRow> = t.rejected_exam_records_of(p3, None).collect();
        assert_eq!((r3.len(), r3[0].inst, r3[0].session), (1, None, None));
        // The response of a rejected record is rejected too (its record is
        // unknown, so is its institution).
        let resp: Vec<&RejectedRow> = t.rejected_in(Table::ExamResponses).collect();
        assert_eq!((resp.len(), resp[0].record_id.map(|s| t.s(s)), resp[0].inst), (1, Some("R2"), None));
        // Per institution, for the report.
        let (rej, def) = l.touching(1);
        assert_eq!((rej.len(), def.len()), (1, 5));
        let (rej, def) = l.touching(0);
        assert_eq!((rej.len(), def.len()), (1, 1), "R2 names I1 as its training institution");
    }

    /// Records (fields joined by `|`) with their line numbers.
    fn records(text: &[u8], start: usize, end: usize, base: u64) -> Vec<(u64, String)> {
        let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&text[start..end]);
        let mut out = Vec::new();
        let mut rec = ByteRecord::new();
        let mut lines = LineTracker::new(base);
        while rdr.read_byte_record(&mut rec).unwrap() {
            let line = lines.locate(&text[start..end], rec.position().unwrap().byte()).0;
            out.push((line, rec.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect::<Vec<_>>().join("|")));
        }
        out
    }

    #[test]
    fn chunks_cut_only_between_records() {
        let mut text = String::from("a,b,c\n");
        for i in 0..400 {
            match i % 7 {
                0 => text.push_str(&format!("{i},\"multi\nline \"\"quoted\"\"\nfield\",x\n")),
                3 => text.push_str(&format!("{i},\"comma, inside\",\"\"\r\n")),
                _ => text.push_str(&format!("{i},plain,{}\n", i * 3)),
            }
        }
        let bytes = text.as_bytes();
        let whole = records(bytes, 6, bytes.len(), 2);
        for chunk in [16, 64, 100, 1000] {
            let ranges = split_ranges(bytes, 6, chunk);
            assert!(ranges.len() > 1 || chunk == 1000, "{chunk}");
            let joined: Vec<(u64, String)> = ranges.iter().flat_map(|&(s, e, l)| records(bytes, s, e, l)).collect();
            assert_eq!(joined, whole, "chunk {chunk}");
        }
        assert_eq!(whole.len(), 400);
        // A literal quote inside an unquoted field: no split, still right.
        let odd = text.replace("1,plain,3", "1,pl\"ain,3");
        assert_eq!(split_ranges(odd.as_bytes(), 6, 16).len(), 1);
        assert!(quote_states(bytes, 6, &[10, 200]).is_some());
        assert_eq!(whole[1].0, 5, "a record after a 3-line field starts on line 5");
        assert_eq!(whole[4], (8, "4|plain|12".to_string()), "a record after a CRLF record");
        assert_eq!(whole.iter().map(|r| r.0).collect::<Vec<_>>().windows(2).filter(|w| w[1] <= w[0]).count(), 0);
    }

    #[test]
    fn chunks_of_random_quoted_csv_match_the_whole_parse() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rnd = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut splits = 0;
        for _ in 0..30 {
            let mut text = String::from("h1,h2,h3\n");
            for i in 0..rnd(300) + 50 {
                for f in 0..3 {
                    if f > 0 {
                        text.push(',');
                    }
                    match rnd(6) {
                        0 => text.push_str(&format!("\"q{i},\n\"\"x\"\"\"")),
                        1 => text.push_str("\"\""),
                        2 => text.push_str("\"\"\"x\"\"\""),
                        3 => {}
                        _ => text.push_str(&format!("p{i}")),
                    }
                }
                text.push_str(if rnd(3) == 0 { "\r\n" } else { "\n" });
            }
            let bytes = text.as_bytes();
            let whole = records(bytes, 9, bytes.len(), 2);
            for chunk in [7, 13, 31, 64] {
                let ranges = split_ranges(bytes, 9, chunk);
                splits += ranges.len() - 1;
                let joined: Vec<(u64, String)> = ranges.iter().flat_map(|&(s, e, l)| records(bytes, s, e, l)).collect();
                assert_eq!(joined, whole, "chunk {chunk}");
            }
        }
        assert!(splits > 1000, "{splits}");
    }

    #[test]
    fn lone_cr_and_crlf_line_ends_count_once_each() {
        let text = b"h1,h2\ra,1\rb,2\r\nc,3\n\nd,4";
        let lines: Vec<u64> = records(text, 6, text.len(), 2).into_iter().map(|r| r.0).collect();
        assert_eq!(lines, [2, 3, 4, 6]);
        assert_eq!(count_lines(b"a\r\nb\rc\n", 0, 7), 3);
        // A range ending between CR and LF counts the break once, with the LF.
        assert_eq!(count_lines(b"a\r\nb", 0, 2) + count_lines(b"a\r\nb", 2, 4), 1);
    }

    #[test]
    fn misspelt_table_names_get_a_suggestion() {
        assert_eq!(edit_distance("attendence", "attendance"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert!(not_a_table("Attendence.CSV", "attendence").contains("did you mean `attendance`?"));
        assert!(!not_a_table("truth.csv", "truth").contains("did you mean"));
    }

    #[test]
    fn local_interner_round_trips_short_and_long_strings() {
        let mut l = Local::default();
        let words = ["", "A", "对", "AC", "1234567", "12345678", "410102199001011234", "A", "12345678", ""];
        let syms: Vec<Sym> = words.iter().map(|w| l.sym(w)).collect();
        assert_eq!(syms[1], syms[7]);
        assert_eq!(syms[5], syms[8]);
        assert_eq!(syms[0], syms[9]);
        let texts = l.into_vec();
        assert_eq!(texts.len(), 7);
        for (w, s) in words.iter().zip(&syms) {
            assert_eq!(&*texts[s.0 as usize], *w);
        }
    }

    #[test]
    fn fx_hasher_spreads_short_ids() {
        use std::hash::{BuildHasher, BuildHasherDefault};
        let b = BuildHasherDefault::<crate::dataset::intern::FxHasher>::default();
        let hs: std::collections::HashSet<u64> = (0..10_000).map(|i| b.hash_one(format!("A{i}"))).collect();
        assert_eq!(hs.len(), 10_000);
        // The low bits index the table: sequential ids must spread there too.
        let low: std::collections::HashSet<u64> =
            (0..10_000).map(|i| b.hash_one(format!("A{i:08}")) & 0xFFFF).collect();
        assert!(low.len() > 9_000, "{}", low.len());
    }
}
