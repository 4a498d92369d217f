//! kaopei (考培): audits safety-production training institutions and exam
//! centres for falsification. See `ARCHITECTURE.md` for the map.
//!
//! Data flows one way: [`dataset`] reads a folder into typed tables →
//! [`store`] records them → [`video`] samples CCTV → [`checks`] produce
//! findings → [`score`] weighs them → [`report`] renders them.
//! [`pipeline`] wires the stages for the commands in [`cmd`].

pub mod case;
pub mod checks;
pub mod cmd;
pub mod dataset;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod run;
pub mod score;
pub mod stats;
pub mod store;
pub mod synth;
pub mod video;

/// The version recorded in every run and report.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
