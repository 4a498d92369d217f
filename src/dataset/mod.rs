//! Reading a dataset folder (DATA.md) into typed [`Tables`]: CSV in UTF-8 or
//! GB18030/GBK (detected), XLSX (first sheet), English or Chinese headers.
//! Every input row is either loaded or rejected with its file, line and
//! reason; [`FileReport`] counts add up (`rows_read = loaded + rejected`).
//!
//! Layout: [`schema`] (columns, aliases, header matching), [`parse`] (value
//! spellings), [`source`] (encodings, XLSX cells, file refusals), `read`
//! (parallel parse, foreign keys, accounting), [`rows`] and [`intern`] (the
//! in-memory tables). A file that cannot be a table is refused whole and
//! reported in [`FileReport::refused`]; its table is then "not given" and
//! the rest loads. Only a missing or refused `institutions` is an error.
//!
//! A value that breaks the type of an *optional* column does not reject its
//! row: the field loads empty and the value is kept as a [`FieldDefect`]
//! (DATA.md). A rejected row is unknown, not absent: the keys readable from
//! it are in [`Tables::rejected`](rows::Tables::rejected), one
//! [`rows::RejectedRow`] per [`Reject`], so checks can say "record
//! unreadable" instead of "record missing".

pub mod intern;
pub mod parse;
mod read;
pub mod rows;
pub mod schema;
pub mod source;

use std::path::PathBuf;

pub use read::read_dataset;
pub use rows::Tables;
pub use schema::Table;

/// A row that broke the contract.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reject {
    pub table: String,
    /// File name relative to the dataset folder.
    pub file: String,
    /// 1-based line (CSV) or row (XLSX) number in the file, header = 1.
    pub line: u64,
    pub reason: String,
    /// The raw row, fields joined by `,` (truncated to a few KB).
    pub raw: String,
}

/// A value in an optional column that is not of the column's type: the row
/// was loaded with the field empty.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FieldDefect {
    pub table: String,
    /// File name relative to the dataset folder.
    pub file: String,
    /// 1-based line (CSV) or row (XLSX) number in the file, header = 1.
    pub line: u64,
    /// The contract's column name.
    pub column: String,
    /// The value as written (clipped to 80 characters).
    pub value: String,
    /// Why, as a reject would say it (`` `seats` is not a count: `abc` ``).
    pub reason: String,
    /// The institution the row belongs to (the class's, the session's, the
    /// institution's own row), when it resolves.
    pub institution_id: Option<String>,
}

/// What reading one file gave.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FileReport {
    pub table: String,
    pub file: String,
    pub size: u64,
    pub sha256: String,
    /// `utf-8`, `utf-8-bom`, `gb18030`, `mixed` (UTF-8 and GB18030 lines),
    /// `utf-16le`/`utf-16be` or `xlsx`; empty when the file was refused.
    pub encoding: String,
    pub rows_read: u64,
    pub rows_loaded: u64,
    pub rows_rejected: u64,
    /// Loaded rows' optional fields loaded empty (a separate count: a row
    /// with a defect is loaded).
    #[serde(default)]
    pub field_defects: u64,
    /// Columns not in the contract (kept as extra fields in the store).
    pub unknown_columns: Vec<String>,
    /// Things the reader noticed about the whole file (extra sheets, mixed
    /// encodings).
    pub notes: Vec<String>,
    /// Why the whole file was refused (the table then counts as not given).
    pub refused: Option<String>,
}

/// Extra (unknown-column) values of one loaded row, for the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Extras {
    pub table: &'static str,
    pub line: u32,
    /// JSON object of column → value.
    pub json: String,
}

/// A read dataset.
#[derive(Debug)]
pub struct Loaded {
    pub root: PathBuf,
    pub tables: Tables,
    pub files: Vec<FileReport>,
    /// Sorted by file and line; `tables.rejected[i]` holds the keys of `rejects[i]`.
    pub rejects: Vec<Reject>,
    /// Sorted by file and line.
    pub defects: Vec<FieldDefect>,
    pub extras: Vec<Extras>,
    /// Things the reader noticed about the folder as a whole (a `.csv` file
    /// whose name is not a table).
    pub notes: Vec<String>,
}

impl Loaded {
    /// The rejects and field defects that touch institution row `inst`: rows
    /// it owns (directly or through their class, session or exam record) and
    /// rows naming it as training institution. For the institution's report.
    pub fn touching(&self, inst: u32) -> (Vec<&Reject>, Vec<&FieldDefect>) {
        let rejects =
            self.rejects.iter().zip(&self.tables.rejected).filter(|(_, k)| k.touches(inst)).map(|(r, _)| r).collect();
        let id = self.tables.institutions.get(inst as usize).map(|i| self.tables.s(i.id));
        let defects =
            self.defects.iter().filter(|d| d.institution_id.is_some() && d.institution_id.as_deref() == id).collect();
        (rejects, defects)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("dataset folder `{0}` does not exist or is not a folder")]
    NoFolder(PathBuf),
    #[error("dataset `{0}` has no `institutions.csv` or `institutions.xlsx` (the one required table)")]
    NoInstitutions(PathBuf),
    #[error("cannot read `{path}`: {message}")]
    Unreadable { path: PathBuf, message: String },
    #[error("`{file}` is missing required column `{column}` (expected it or one of its aliases: {aliases})")]
    MissingColumn { file: String, column: String, aliases: String },
    #[error("`{file}`: {message}")]
    Invalid { file: String, message: String },
}
