//! The data contract's tables and columns (DATA.md): English names, Chinese
//! aliases, which columns are required, and header matching.
//!
//! Column positions are constants (`schema::attendance::CHECK_IN`) so the
//! row parsers index a per-file column map instead of comparing names per
//! row.

use crate::model::operations::to_half_width;

/// One column of the contract.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
}

macro_rules! table {
    ($m:ident { $( $idx:ident = $name:literal [$($alias:literal),*] $req:literal ),* $(,)? }) => {
        pub mod $m {
            use super::Column;
            pub const COLUMNS: &[Column] =
                &[ $( Column { name: $name, aliases: &[$($alias),*], required: $req } ),* ];
            table!(@idx 0usize; $($idx),*);
        }
    };
    (@idx $n:expr; ) => {};
    (@idx $n:expr; $first:ident $(, $rest:ident)*) => {
        pub const $first: usize = $n;
        table!(@idx $n + 1usize; $($rest),*);
    };
}

table!(institutions {
    ID = "institution_id" ["机构编号", "机构代码"] true,
    NAME = "name" ["机构名称"] true,
    KIND = "kind" ["机构类型"] true,
    REGION = "region" ["行政区划代码", "所属地区代码"] true,
    SEATS = "seats" ["座位数", "容量"] false,
});

table!(classes {
    ID = "class_id" ["班级编号", "培训班编号"] true,
    INSTITUTION = "institution_id" ["机构编号"] true,
    OPERATION = "operation" ["作业类别", "操作项目"] true,
    COURSE_KIND = "course_kind" ["培训类型"] true,
    START = "start_date" ["开班日期"] true,
    END = "end_date" ["结业日期"] true,
    ROOM = "room" ["教室"] false,
    CAPACITY = "capacity" ["容量", "教室容量"] false,
});

table!(attendance {
    ID = "record_id" ["记录编号"] true,
    CLASS = "class_id" ["班级编号"] true,
    PERSON = "person_id" ["身份证号", "证件号码"] true,
    NAME = "name" ["姓名"] false,
    INSTRUCTOR = "instructor_id" ["教师编号", "授课教师"] false,
    MODE = "mode" ["培训方式"] true,
    CHECK_IN = "check_in" ["签到时间", "开始时间"] true,
    CHECK_OUT = "check_out" ["签退时间", "结束时间"] true,
    DEVICE = "device_id" ["设备编号", "终端编号"] false,
    FACE = "face_score" ["人脸比对分", "人脸相似度"] false,
});

table!(exam_sessions {
    ID = "session_id" ["场次编号"] true,
    INSTITUTION = "institution_id" ["考点编号", "机构编号"] true,
    ROOM = "room" ["考场"] true,
    OPERATION = "operation" ["作业类别"] true,
    PART = "part" ["科目"] true,
    START = "start" ["开考时间"] true,
    END = "end" ["结束时间"] true,
    SEATS = "seats" ["座位数"] false,
    PROCTOR = "proctor_id" ["监考员"] false,
});

table!(exam_records {
    ID = "record_id" ["记录编号"] true,
    SESSION = "session_id" ["场次编号"] true,
    PERSON = "person_id" ["身份证号"] true,
    NAME = "name" ["姓名"] false,
    SEAT = "seat" ["座位号"] false,
    TRAINING_INST = "training_institution_id" ["培训机构编号"] false,
    LOGIN = "login_at" ["登录时间"] false,
    SUBMIT = "submit_at" ["交卷时间"] false,
    SCORE = "score" ["成绩", "分数"] true,
    ATTEMPT = "attempt" ["考试次数"] false,
    FACE = "face_score" ["人脸比对分"] false,
});

table!(exam_responses {
    RECORD = "record_id" ["记录编号"] true,
    ITEM = "item_id" ["题目编号"] true,
    ANSWER = "answer" ["作答", "考生答案"] true,
    KEY = "key" ["标准答案", "正确答案"] true,
    SECONDS = "seconds" ["用时", "答题用时(秒)"] false,
    CHANGES = "changes" ["改答次数"] false,
});

table!(certificates {
    CERT_NO = "cert_no" ["证书编号", "证号"] true,
    PERSON = "person_id" ["身份证号"] true,
    NAME = "name" ["姓名"] true,
    OPERATION = "operation" ["作业类别"] true,
    ISSUED = "issued_on" ["发证日期", "初领日期"] true,
    EXPIRES = "expires_on" ["有效期至", "有效截止日期"] true,
    TRAINING_INST = "training_institution_id" ["培训机构编号"] false,
    EXAM_INST = "exam_institution_id" ["考点编号"] false,
});

table!(cctv {
    ID = "video_id" ["视频编号"] true,
    INSTITUTION = "institution_id" ["机构编号"] true,
    ROOM = "room" ["考场", "教室"] true,
    CAMERA = "camera" ["摄像头", "通道"] false,
    FILE = "file" ["文件", "文件路径"] true,
    CLAIMED_START = "claimed_start" ["录像开始时间"] true,
    CLAIMED_END = "claimed_end" ["录像结束时间"] false,
});

table!(callbacks {
    PERSON = "person_id" ["身份证号"] true,
    INSTITUTION = "institution_id" ["机构编号"] true,
    CALLED_AT = "called_at" ["回访时间"] true,
    REACHED = "reached" ["是否接通"] true,
    ATTENDED = "attended" ["是否参训"] false,
    HOURS = "hours_reported" ["自述学时"] false,
    NOTE = "note" ["备注"] false,
});

/// The tables of the contract, in dependency order (a table's foreign keys
/// point only at tables before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Institutions,
    Classes,
    ExamSessions,
    Certificates,
    Cctv,
    Callbacks,
    Attendance,
    ExamRecords,
    ExamResponses,
}

impl Table {
    pub const ALL: [Table; 9] = [
        Table::Institutions,
        Table::Classes,
        Table::ExamSessions,
        Table::Certificates,
        Table::Cctv,
        Table::Callbacks,
        Table::Attendance,
        Table::ExamRecords,
        Table::ExamResponses,
    ];

    /// The table name, which is also the file stem (`attendance.csv`).
    pub fn name(self) -> &'static str {
        match self {
            Table::Institutions => "institutions",
            Table::Classes => "classes",
            Table::ExamSessions => "exam_sessions",
            Table::Certificates => "certificates",
            Table::Cctv => "cctv",
            Table::Callbacks => "callbacks",
            Table::Attendance => "attendance",
            Table::ExamRecords => "exam_records",
            Table::ExamResponses => "exam_responses",
        }
    }

    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            Table::Institutions => institutions::COLUMNS,
            Table::Classes => classes::COLUMNS,
            Table::ExamSessions => exam_sessions::COLUMNS,
            Table::Certificates => certificates::COLUMNS,
            Table::Cctv => cctv::COLUMNS,
            Table::Callbacks => callbacks::COLUMNS,
            Table::Attendance => attendance::COLUMNS,
            Table::ExamRecords => exam_records::COLUMNS,
            Table::ExamResponses => exam_responses::COLUMNS,
        }
    }

    /// Tables whose keys this table's foreign keys resolve against.
    pub fn depends_on(self) -> &'static [Table] {
        match self {
            Table::Institutions => &[],
            Table::Classes | Table::ExamSessions | Table::Certificates | Table::Cctv | Table::Callbacks => {
                &[Table::Institutions]
            }
            Table::Attendance => &[Table::Classes],
            Table::ExamRecords => &[Table::ExamSessions, Table::Institutions],
            Table::ExamResponses => &[Table::ExamRecords],
        }
    }

    /// Load waves: every table in a wave depends only on earlier waves, so
    /// a wave's files are read in parallel.
    pub const WAVES: [&'static [Table]; 4] = [
        &[Table::Institutions],
        &[Table::Classes, Table::ExamSessions, Table::Certificates, Table::Cctv, Table::Callbacks],
        &[Table::Attendance, Table::ExamRecords],
        &[Table::ExamResponses],
    ];
}

/// Normalises a header cell: half-width, no whitespace, no brackets of
/// either width, no leading `*` (a "required" marker some templates use),
/// ASCII lowercase.
pub fn normalise_header(text: &str) -> String {
    to_half_width(text)
        .trim_start_matches('\u{FEFF}')
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '[' | ']' | '【' | '】' | '〔' | '〕' | '*'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// How one file's header maps onto its table's columns.
#[derive(Debug, Clone)]
pub struct ColMap {
    /// For each contract column (by its position), the field index in the file.
    pub fields: Vec<Option<usize>>,
    /// Fields that are not in the contract: (field index, header as written).
    pub unknown: Vec<(usize, String)>,
}

/// Why a header cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub enum HeaderError {
    Missing { column: &'static str, aliases: String },
    Duplicate { column: &'static str, first: usize, second: usize },
}

/// Matches a header row against `table`'s columns.
pub fn match_header(table: Table, header: &[&str]) -> Result<ColMap, HeaderError> {
    let cols = table.columns();
    let mut fields = vec![None; cols.len()];
    let mut unknown = Vec::new();
    for (fi, h) in header.iter().enumerate() {
        let n = normalise_header(h);
        let hit = cols
            .iter()
            .position(|c| normalise_header(c.name) == n || c.aliases.iter().any(|a| normalise_header(a) == n));
        match hit {
            Some(ci) => {
                if let Some(first) = fields[ci] {
                    return Err(HeaderError::Duplicate { column: cols[ci].name, first: first + 1, second: fi + 1 });
                }
                fields[ci] = Some(fi);
            }
            None if n.is_empty() => unknown.push((fi, format!("(unnamed column {})", fi + 1))),
            None => unknown.push((fi, h.trim().to_string())),
        }
    }
    for (ci, c) in cols.iter().enumerate() {
        if c.required && fields[ci].is_none() {
            return Err(HeaderError::Missing { column: c.name, aliases: c.aliases.join(", ") });
        }
    }
    Ok(ColMap { fields, unknown })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_constants_follow_the_lists() {
        assert_eq!(attendance::COLUMNS[attendance::CHECK_IN].name, "check_in");
        assert_eq!(exam_records::COLUMNS[exam_records::FACE].name, "face_score");
        assert_eq!(callbacks::COLUMNS[callbacks::NOTE].name, "note");
        for t in Table::ALL {
            assert_eq!(Table::from_name(t.name()), Some(t));
            let waves: Vec<Table> = Table::WAVES.iter().flat_map(|w| w.iter().copied()).collect();
            let at = waves.iter().position(|w| *w == t).unwrap();
            for d in t.depends_on() {
                assert!(waves.iter().position(|w| w == d).unwrap() < at, "{t:?} before {d:?}");
            }
        }
    }

    #[test]
    fn headers_match_names_and_aliases() {
        let m = match_header(
            Table::ExamResponses,
            &[" 记录编号 ", "题目编号", "考生答案", "Key", "答题用时（秒）", "备注"],
        )
        .unwrap();
        assert_eq!(m.fields, vec![Some(0), Some(1), Some(2), Some(3), Some(4), None]);
        assert_eq!(m.unknown, vec![(5, "备注".to_string())]);
    }

    #[test]
    fn headers_missing_or_twice() {
        let e = match_header(Table::Institutions, &["institution_id", "name", "kind"]).unwrap_err();
        assert!(matches!(e, HeaderError::Missing { column: "region", .. }));
        let e = match_header(Table::Institutions, &["机构编号", "机构代码", "name", "kind", "region"]).unwrap_err();
        assert_eq!(e, HeaderError::Duplicate { column: "institution_id", first: 1, second: 2 });
    }
}
