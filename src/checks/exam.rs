//! `exam` checks (skeleton; see the issue that owns this family).

use serde::Deserialize;

use super::{Chart, Ctx, Finding};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

pub fn run(_ctx: &Ctx) -> Vec<Finding> {
    Vec::new()
}

/// Pass-rate funnel charts per operation and exam part for the overview.
pub fn overview_charts(_ctx: &Ctx) -> Vec<Chart> {
    Vec::new()
}
