//! Reports: the stable CSV outputs other tools read (`scores.csv`,
//! `findings.csv`, `flags.csv`), and the HTML evidence reports.
//!
//! **Architecture invariant:** reports never compute statistics; they render
//! a [`RunResult`](crate::run::RunResult). Everything from input data is
//! escaped, and ID and phone numbers are masked unless `unmasked` is set.

pub mod csv_out;
pub mod mask;
