//! The check contract: every check has a code in its family's enum
//! ([`TrainingCheck`], [`ExamCheck`], [`ResponsesCheck`], [`CertCheck`],
//! [`CctvCheck`], [`CallbackCheck`]); [`CheckId`] is any of them. A code
//! knows its stable dotted id (`training.hours_short`, the `check` column of
//! findings.csv), a one-line description, the [`Family`] whose parameters
//! it reads, the evidence [`Source`] it audits, the input tables it needs
//! and the kind of evidence it reports. [`registry`] lists them all.
//!
//! Each id has exactly one table `[checks."ID"]` in `models/scorecard.toml`
//! (weight, title, action, severity form, the check's own parameters);
//! parameters shared by a family sit in `[family.NAME]`. A test checks that
//! the registry and the scorecard name the same ids.
//!
//! Adding a check: a variant here (id, tables, evidence kind, severity home,
//! description), its
//! `[checks."ID"]` table in scorecard.toml, the check body in its family,
//! and its unit test.

use std::fmt;
use std::str::FromStr;

use super::Source;
use crate::dataset::schema::Table;

/// The check families: one module of `checks/` each, one typed `Params`
/// each (assembled from `[family.NAME]` and its checks' tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Training,
    Exam,
    Responses,
    /// Per-examinee statistics (issue 16, `checks::examinee`).
    Examinee,
    Cert,
    Cctv,
    Callback,
}

impl Family {
    pub const ALL: [Family; 7] = [
        Family::Training,
        Family::Exam,
        Family::Responses,
        Family::Examinee,
        Family::Cert,
        Family::Cctv,
        Family::Callback,
    ];

    /// The name of its `[family.NAME]` table.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Training => "training",
            Family::Exam => "exam",
            Family::Responses => "responses",
            Family::Examinee => "examinee",
            Family::Cert => "cert",
            Family::Cctv => "cctv",
            Family::Callback => "callback",
        }
    }

    /// The ids of this family's checks, in registry order.
    pub fn checks(self) -> impl Iterator<Item = CheckId> {
        registry().filter(move |e| e.family == self).map(|e| e.id)
    }
}

/// What a finding's evidence is made of (how a report lays it out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceKind {
    /// Records that break a rule, listed one per row.
    Rows,
    /// Pairs of records or persons (overlaps, similar answer strings, re-used videos).
    Pairs,
    /// An institution's rate against its peers (funnel, binomial tail).
    Rate,
    /// The shape of a distribution (heaping of scores or timestamps).
    Distribution,
    /// A cluster in time (submissions, answer changes after a moment).
    Cluster,
    /// Sampled video frames and time ranges of a clip.
    Frames,
}

/// Where a check's severity formula lives: a form in its scorecard table
/// (`severity = { form = … }`, [`super::severity`]) or, until its rework
/// moves it there, code documented in its module. The loader refuses a
/// `Model` check without a form and a `Code` check with one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeverityHome {
    Model,
    Code,
}

macro_rules! family_enum {
    ($(#[$meta:meta])* $name:ident, $family:ident, $source:ident, $wrap:ident {
        $($(#[$vmeta:meta])* $var:ident = $id:literal, [$($table:ident),*], $evidence:ident, $sev:ident, $desc:literal;)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $var,)*
        }

        impl $name {
            /// Every code of the family, in report order.
            pub const ALL: &'static [$name] = &[$($name::$var),*];

            /// The stable dotted id (findings.csv `check`, scorecard table name).
            pub const fn id(self) -> &'static str {
                match self {
                    $($name::$var => $id,)*
                }
            }

            /// One line saying what the check finds.
            pub const fn description(self) -> &'static str {
                match self {
                    $($name::$var => $desc,)*
                }
            }

            /// Input tables the check reads (it is silent without them).
            pub const fn tables(self) -> &'static [Table] {
                match self {
                    $($name::$var => &[$(Table::$table),*],)*
                }
            }

            pub const fn evidence(self) -> EvidenceKind {
                match self {
                    $($name::$var => EvidenceKind::$evidence,)*
                }
            }

            /// Where the check's severity formula lives.
            pub const fn severity_home(self) -> SeverityHome {
                match self {
                    $($name::$var => SeverityHome::$sev,)*
                }
            }

            pub const FAMILY: Family = Family::$family;
            pub const SOURCE: Source = Source::$source;
        }

        impl From<$name> for CheckId {
            fn from(c: $name) -> CheckId {
                CheckId::$wrap(c)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.id()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.id())
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self == other.id()
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.id()
            }
        }
    };
}

family_enum!(
    /// `checks::training`: hour logs (attendance, classes).
    TrainingCheck, Training, Training, Training {
        HoursShort = "training.hours_short", [Classes, Attendance], Rows, Code,
            "Trainees credited fewer hours than the syllabus requires";
        NotInModel = "training.not_in_model", [Classes], Rows, Code,
            "Classes of an operation the model does not know (hours not checked)";
        CompressedSchedule = "training.compressed_schedule", [Classes, Attendance], Rows, Code,
            "Classes whose calendar cannot hold the offline hours";
        PersonOverlap = "training.person_overlap", [Attendance], Pairs, Code,
            "One trainee present in two places at once";
        InstructorOverlap = "training.instructor_overlap", [Classes, Attendance], Pairs, Code,
            "One instructor teaching two sessions at once";
        RoomOverCapacity = "training.room_over_capacity", [Classes, Attendance], Rows, Code,
            "More trainees signed in present at once than the room holds";
        RosterOverCapacity = "training.roster_over_capacity", [Classes, Attendance], Rows, Code,
            "A class roster larger than its room (a planning breach, not falsification)";
        ProxySignin = "training.proxy_signin", [Attendance], Rows, Code,
            "Check-in bursts and identical records suggesting proxy sign-in";
        TimeHeaping = "training.time_heaping", [Attendance], Distribution, Model,
            "Class-days typed in by hand far more often than peer institutions";
        OnlineFarming = "training.online_farming", [Attendance], Rows, Code,
            "Concurrent online sessions of different persons on one device, or night study";
        FaceMismatch = "training.face_mismatch", [Attendance], Rows, Model,
            "Hours credited despite failed face checks";
        Backfilled = "training.backfilled", [Classes, Attendance], Rows, Code,
            "Attendance dated after the class end or the exam";
        NoAttendanceRecord = "training.no_attendance_record", [Classes, Attendance, ExamRecords], Rows, Code,
            "Candidates presented by an institution with no training record there";
    }
);

family_enum!(
    /// `checks::exam`: pass rates, heaping, timing, seats.
    ExamCheck, Exam, Exam, Exam {
        PassRate = "exam.pass_rate", [ExamSessions, ExamRecords], Rate, Code,
            "An exam centre's first-sitting pass rate far above its peers'";
        TrainingPassRate = "exam.training_pass_rate", [ExamSessions, ExamRecords], Rate, Code,
            "A training institution's trainees pass far more often than peers'";
        ScoreHeaping = "exam.score_heaping", [ExamSessions, ExamRecords], Distribution, Code,
            "Scores heaped just above the pass mark";
        EarlySubmit = "exam.early_submit", [ExamSessions, ExamRecords], Rows, Code,
            "Submissions before the minimum sitting time";
        FastHighScore = "exam.fast_high_score", [ExamSessions, ExamRecords], Rows, Code,
            "Implausibly fast high scores";
        SubmitCluster = "exam.submit_cluster", [ExamSessions, ExamRecords], Cluster, Code,
            "Submissions clustered in time within a session";
        OutsideWindow = "exam.outside_window", [ExamSessions, ExamRecords], Rows, Code,
            "Logins or submissions outside the session window";
        SeatConflict = "exam.seat_conflict", [ExamSessions, ExamRecords], Rows, Code,
            "Seats used twice or more candidates than seats";
        PersonOverlap = "exam.person_overlap", [ExamSessions, ExamRecords], Pairs, Code,
            "One candidate in two overlapping sessions";
        FaceMismatch = "exam.face_mismatch", [ExamSessions, ExamRecords], Rows, Code,
            "Candidates admitted despite a failed face match";
    }
);

family_enum!(
    /// `checks::responses`: answer strings (ids under `exam.*`).
    ResponsesCheck, Responses, Exam, Responses {
        AnswerSimilarity = "exam.answer_similarity", [ExamSessions, ExamRecords, ExamResponses], Pairs, Code,
            "Pairs of candidates sharing more wrong answers than chance allows";
        IdenticalResponses = "exam.identical_responses", [ExamSessions, ExamRecords, ExamResponses], Pairs, Code,
            "Near-identical response strings sharing wrong answers";
        AnswerChangeBurst = "exam.answer_change_burst", [ExamSessions, ExamRecords, ExamResponses], Cluster, Code,
            "A burst of answers changed to the key after a common moment";
        ItemTimePattern = "exam.item_time_pattern", [ExamSessions, ExamRecords, ExamResponses], Cluster, Code,
            "Fast correct answers rising after a common moment";
    }
);

family_enum!(
    /// `checks::examinee`: every theory examinee against the examinees of
    /// the same paper (speed, blind preknowledge), aggregated to institutions.
    ExamineeCheck, Examinee, Exam, Examinee {
        ExamineeSpeed = "exam.examinee_speed", [ExamSessions, ExamRecords], Rate, Code,
            "More aberrantly fast examinees than at peers of the same region and paper";
        ExamineePreknowledge = "exam.examinee_preknowledge", [ExamSessions, ExamRecords, ExamResponses], Rate, Code,
            "More examinees fast and right on a blindly estimated leaked item set than at peers";
        ExamineeLead = "exam.examinee_lead", [ExamSessions, ExamRecords], Rows, Code,
            "Examinees singled out by their own speed or preknowledge statistics (leads, weight 0)";
    }
);

family_enum!(
    /// `checks::cert`: certificates against ID rules and the exam archive.
    CertCheck, Cert, Cert, Cert {
        InvalidId = "cert.invalid_id", [Certificates], Rows, Code,
            "Holder ID numbers failing GB 11643";
        NumberMismatch = "cert.number_mismatch", [Certificates], Rows, Code,
            "Certificate number not `T` + the holder's ID number";
        Duplicate = "cert.duplicate", [Certificates], Rows, Code,
            "One number for two people, or two live certificates for one operation";
        NoPassingExam = "cert.no_passing_exam", [Certificates, ExamSessions, ExamRecords], Rows, Code,
            "Certificates without a passing theory and practical exam";
        IssuedBeforeExam = "cert.issued_before_exam", [Certificates, ExamSessions, ExamRecords], Rows, Code,
            "Certificates issued before the exams were passed";
        NameMismatch = "cert.name_mismatch", [Certificates, ExamSessions, ExamRecords], Rows, Code,
            "Holder name differs from the exam records";
        Validity = "cert.validity", [Certificates], Rows, Code,
            "Validity period not the operation's";
        TrainingHoursShort = "cert.training_hours_short", [Certificates, Classes, Attendance], Rows, Code,
            "Holders credited fewer training hours than the syllabus";
    }
);

family_enum!(
    /// `checks::cctv`: exam-room footage.
    CctvCheck, Cctv, Cctv, Cctv {
        Unreadable = "cctv.unreadable", [Cctv], Rows, Code,
            "Footage that cannot be read or is damaged";
        MissingCoverage = "cctv.missing_coverage", [Cctv, ExamSessions], Rows, Code,
            "Exam time not covered by footage";
        ClaimMismatch = "cctv.claim_mismatch", [Cctv], Rows, Code,
            "Footage duration or time not what the list claims";
        Frozen = "cctv.frozen", [Cctv], Frames, Model,
            "Frozen picture";
        Black = "cctv.black", [Cctv], Frames, Model,
            "Black or covered picture";
        Reused = "cctv.reused", [Cctv], Frames, Model,
            "The same footage claimed for different sessions";
        Loop = "cctv.loop", [Cctv], Frames, Model,
            "Footage repeating itself (a loop)";
    }
);

family_enum!(
    /// `checks::callback`: telephone callbacks of trainees.
    CallbackCheck, Callback, Callback, Callback {
        DeniedAttendance = "callback.denied_attendance", [Callbacks], Rate, Model,
            "Reached trainees denying they attended, beyond the honest rate";
        HoursUnderstated = "callback.hours_understated", [Callbacks, Attendance], Rate, Model,
            "Trainees reporting far fewer hours than credited";
        Unreachable = "callback.unreachable", [Callbacks], Rate, Model,
            "Far more trainees unreachable than at peers";
    }
);

/// Any check's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckId {
    Training(TrainingCheck),
    Exam(ExamCheck),
    Responses(ResponsesCheck),
    Examinee(ExamineeCheck),
    Cert(CertCheck),
    Cctv(CctvCheck),
    Callback(CallbackCheck),
}

macro_rules! dispatch {
    ($self:expr, $c:ident => $e:expr) => {
        match $self {
            CheckId::Training($c) => $e,
            CheckId::Exam($c) => $e,
            CheckId::Responses($c) => $e,
            CheckId::Examinee($c) => $e,
            CheckId::Cert($c) => $e,
            CheckId::Cctv($c) => $e,
            CheckId::Callback($c) => $e,
        }
    };
}

impl CheckId {
    pub fn id(self) -> &'static str {
        dispatch!(self, c => c.id())
    }
    pub fn description(self) -> &'static str {
        dispatch!(self, c => c.description())
    }
    pub fn tables(self) -> &'static [Table] {
        dispatch!(self, c => c.tables())
    }
    pub fn evidence(self) -> EvidenceKind {
        dispatch!(self, c => c.evidence())
    }
    pub fn severity_home(self) -> SeverityHome {
        dispatch!(self, c => c.severity_home())
    }
    pub fn family(self) -> Family {
        match self {
            CheckId::Training(_) => Family::Training,
            CheckId::Exam(_) => Family::Exam,
            CheckId::Responses(_) => Family::Responses,
            CheckId::Examinee(_) => Family::Examinee,
            CheckId::Cert(_) => Family::Cert,
            CheckId::Cctv(_) => Family::Cctv,
            CheckId::Callback(_) => Family::Callback,
        }
    }
    pub fn source(self) -> Source {
        match self {
            CheckId::Training(_) => TrainingCheck::SOURCE,
            CheckId::Exam(_) => ExamCheck::SOURCE,
            CheckId::Responses(_) => ResponsesCheck::SOURCE,
            CheckId::Examinee(_) => ExamineeCheck::SOURCE,
            CheckId::Cert(_) => CertCheck::SOURCE,
            CheckId::Cctv(_) => CctvCheck::SOURCE,
            CheckId::Callback(_) => CallbackCheck::SOURCE,
        }
    }
}

impl AsRef<str> for CheckId {
    fn as_ref(&self) -> &str {
        self.id()
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for CheckId {
    type Err = String;
    fn from_str(s: &str) -> Result<CheckId, String> {
        registry().map(|e| e.id).find(|c| c.id() == s).ok_or_else(|| format!("unknown check id `{s}`"))
    }
}

impl PartialEq<CheckId> for String {
    fn eq(&self, other: &CheckId) -> bool {
        self == other.id()
    }
}

/// One registered check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub id: CheckId,
    pub family: Family,
    pub source: Source,
    pub tables: &'static [Table],
    pub evidence: EvidenceKind,
    pub severity: SeverityHome,
    pub description: &'static str,
}

/// Every check, family by family in [`Family::ALL`] order, each family in
/// its enum's order.
pub fn registry() -> impl Iterator<Item = Entry> {
    let ids = (TrainingCheck::ALL.iter().map(|&c| CheckId::from(c)))
        .chain(ExamCheck::ALL.iter().map(|&c| CheckId::from(c)))
        .chain(ResponsesCheck::ALL.iter().map(|&c| CheckId::from(c)))
        .chain(ExamineeCheck::ALL.iter().map(|&c| CheckId::from(c)))
        .chain(CertCheck::ALL.iter().map(|&c| CheckId::from(c)))
        .chain(CctvCheck::ALL.iter().map(|&c| CheckId::from(c)))
        .chain(CallbackCheck::ALL.iter().map(|&c| CheckId::from(c)));
    ids.map(|id| Entry {
        id,
        family: id.family(),
        source: id.source(),
        tables: id.tables(),
        evidence: id.evidence(),
        severity: id.severity_home(),
        description: id.description(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ids_are_unique_and_name_their_source() {
        let ids: Vec<&str> = registry().map(|e| e.id.id()).collect();
        let set: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(set.len(), ids.len(), "duplicate id in {ids:?}");
        for e in registry() {
            assert_eq!(Source::of_check(e.id.id()), Some(e.source), "{}", e.id);
            assert_eq!(e.id.id().parse::<CheckId>(), Ok(e.id));
            assert!(!e.tables.is_empty() && !e.description.is_empty(), "{}", e.id);
        }
        assert!("exam.nonsense".parse::<CheckId>().is_err());
    }

    #[test]
    fn registry_and_scorecard_name_the_same_ids() {
        let card = crate::model::Scorecard::from_toml(crate::model::BUILTIN_SCORECARD).unwrap();
        let registered: BTreeSet<&str> = registry().map(|e| e.id.id()).collect();
        let configured: BTreeSet<&str> = card.checks.keys().map(String::as_str).collect();
        assert_eq!(registered, configured, "registry vs [checks.*] of models/scorecard.toml");
    }
}
