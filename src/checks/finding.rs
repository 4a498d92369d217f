//! What a check produces: a [`Finding`] (one check's verdict on one
//! institution) carrying its evidence, the [`Flag`]s on individual records,
//! and the chart data a report draws. Findings are plain data: the store
//! persists them, the scorecard weighs them, the report renders them.

use serde::{Deserialize, Serialize};

/// One check's verdict on one institution.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    /// `institution_id` text (not a row index: findings outlive the run).
    pub institution_id: String,
    /// Stable dotted id, e.g. `training.hours_short`; first part names the source.
    pub check: String,
    /// Strength of the evidence, 0–1 (see each check for how it is derived).
    pub severity: f64,
    /// The test statistic or effect size the severity rests on.
    pub statistic: Option<f64>,
    /// p-value after the multiplicity control the check states, if statistical.
    pub p_value: Option<f64>,
    /// One-line summary in Chinese and English, with the numbers.
    pub summary_zh: String,
    pub summary_en: String,
    /// What the statistic was compared against, in plain words (baseline, n, test).
    pub method_zh: String,
    pub method_en: String,
    /// Tables of the exact rows behind the finding.
    pub evidence: Vec<EvidenceTable>,
    /// Frames behind a CCTV finding.
    pub frames: Vec<FrameRef>,
    /// Charts the report should draw for this finding (data only).
    pub charts: Vec<Chart>,
    /// Individual records singled out (written to `flags.csv`).
    pub flags: Vec<Flag>,
}

impl Finding {
    /// A finding with the required fields; evidence and flags are added by
    /// the check with the builder methods below.
    pub fn new(institution_id: impl Into<String>, check: impl Into<super::CheckId>, severity: f64) -> Self {
        Finding {
            institution_id: institution_id.into(),
            check: check.into().id().to_string(),
            severity: severity.clamp(0.0, 1.0),
            statistic: None,
            p_value: None,
            summary_zh: String::new(),
            summary_en: String::new(),
            method_zh: String::new(),
            method_en: String::new(),
            evidence: Vec::new(),
            frames: Vec::new(),
            charts: Vec::new(),
            flags: Vec::new(),
        }
    }

    pub fn stat(mut self, statistic: f64, p_value: Option<f64>) -> Self {
        self.statistic = Some(statistic);
        self.p_value = p_value;
        self
    }

    pub fn summary(mut self, zh: impl Into<String>, en: impl Into<String>) -> Self {
        self.summary_zh = zh.into();
        self.summary_en = en.into();
        self
    }

    pub fn method(mut self, zh: impl Into<String>, en: impl Into<String>) -> Self {
        self.method_zh = zh.into();
        self.method_en = en.into();
        self
    }

    pub fn evidence(mut self, table: EvidenceTable) -> Self {
        self.evidence.push(table);
        self
    }

    pub fn chart(mut self, chart: Chart) -> Self {
        self.charts.push(chart);
        self
    }

    pub fn flag(mut self, kind: SubjectKind, subject_id: impl Into<String>, strength: f64) -> Self {
        self.flags.push(Flag { kind, subject_id: subject_id.into(), strength: strength.clamp(0.0, 1.0) });
        self
    }
}

/// The kinds of subject `flags.csv` names (DATA.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Person,
    ExamRecord,
    Attendance,
    Class,
    Session,
    /// subject id `A|B` of two exam record ids, A < B.
    Pair,
    Certificate,
    Video,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Person => "person",
            SubjectKind::ExamRecord => "exam_record",
            SubjectKind::Attendance => "attendance",
            SubjectKind::Class => "class",
            SubjectKind::Session => "session",
            SubjectKind::Pair => "pair",
            SubjectKind::Certificate => "certificate",
            SubjectKind::Video => "video",
        }
    }
}

/// One record a check singles out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Flag {
    pub kind: SubjectKind,
    pub subject_id: String,
    /// 0–1, 1 = strongest evidence against this record.
    pub strength: f64,
}

/// Which column of an evidence table holds what, so the report can mask it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColKind {
    Text,
    /// A resident ID number: masked in reports unless `--unmasked`.
    PersonId,
    /// A phone number: masked in reports unless `--unmasked`.
    Phone,
    /// A person's name: masked only with `--mask-names`.
    Name,
    Number,
    Time,
}

/// A table of the rows behind a finding, e.g. the attendance records of the
/// trainees short of hours. Cells are display text; `source` says where the
/// rows came from (`attendance.csv`), and `lines` their input line numbers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EvidenceTable {
    pub title_zh: String,
    pub title_en: String,
    /// Input table the rows come from (e.g. `attendance`), or `derived`.
    pub source: String,
    pub columns: Vec<(String, ColKind)>,
    pub rows: Vec<Vec<String>>,
    /// How many rows qualified in total (rows may be truncated for the report).
    pub total_rows: usize,
}

impl EvidenceTable {
    pub fn new(title_zh: &str, title_en: &str, source: &str, columns: &[(&str, ColKind)]) -> Self {
        EvidenceTable {
            title_zh: title_zh.into(),
            title_en: title_en.into(),
            source: source.into(),
            columns: columns.iter().map(|(n, k)| (n.to_string(), *k)).collect(),
            rows: Vec::new(),
            total_rows: 0,
        }
    }

    /// Adds a row, keeping at most `limit` rows but counting all of them.
    pub fn push_limited(&mut self, row: Vec<String>, limit: usize) {
        self.total_rows += 1;
        if self.rows.len() < limit {
            self.rows.push(row);
        }
    }
}

/// A sampled frame behind a CCTV finding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FrameRef {
    pub video_id: String,
    /// Seconds from the start of the file.
    pub video_time: f64,
    /// Wall-clock time (`claimed_start + video_time`) as text.
    pub wall_time: String,
    /// Small PNG thumbnail, if the sampler kept one.
    #[serde(with = "b64_opt", default)]
    pub thumbnail_png: Option<Vec<u8>>,
    pub caption: String,
}

/// Chart data computed by a check; the report only draws it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Chart {
    /// Pass-rate funnel: peers as points, this institution highlighted,
    /// control limits as curves over n.
    Funnel {
        title: String,
        /// (institution id, n, rate) for each peer.
        points: Vec<(String, f64, f64)>,
        highlight: String,
        target: f64,
        /// (n, lower95, upper95, lower998, upper998)
        limits: Vec<(f64, f64, f64, f64, f64)>,
    },
    /// Histogram of this institution's values against peers' (both as shares).
    Histogram {
        title: String,
        bin_edges: Vec<f64>,
        this: Vec<f64>,
        peers: Vec<f64>,
        /// A vertical marker such as the pass mark.
        marker: Option<f64>,
    },
    /// Events on a time axis (e.g. submissions within a session), minutes
    /// from a start; `highlight` marks the flagged ones.
    Timeline { title: String, start_label: String, minutes: Vec<f64>, highlight: Vec<bool>, window_end: f64 },
    /// Rows × days grid of values (e.g. hours per trainee per day).
    HeatStrip { title: String, row_labels: Vec<String>, col_labels: Vec<String>, values: Vec<Vec<f64>> },
    /// Simple bars (label, value).
    Bars { title: String, bars: Vec<(String, f64)> },
}

mod b64_opt {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_some(&base64::engine::general_purpose::STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let o: Option<String> = Option::deserialize(d)?;
        o.map(|t| base64::engine::general_purpose::STANDARD.decode(t).map_err(serde::de::Error::custom)).transpose()
    }
}
