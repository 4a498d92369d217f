//! Reports: the stable CSV outputs other tools read (`scores.csv`,
//! `findings.csv`, `flags.csv`), the HTML evidence reports (one page per
//! institution and the batch overview), the rectification follow-up
//! comparing two runs, printing to PDF with headless Chromium, and the
//! Excel workbook of the score outputs (`xlsx_out`).
//!
//! **Architecture invariant:** reports never compute statistics; they render
//! a [`RunResult`](crate::run::RunResult). Everything from input data is
//! escaped, and ID and phone numbers are masked unless `unmasked` is set.
//! Every user-visible string comes from [`i18n`].

pub mod csv_out;
pub mod followup;
pub mod html;
pub mod i18n;
pub mod mask;
pub mod pdf;
pub mod svg;
pub mod xlsx_out;

pub use html::HtmlOptions;
pub use i18n::Lang;
