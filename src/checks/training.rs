//! `training` checks (skeleton; see the issue that owns this family).

use serde::Deserialize;

use super::{Ctx, Finding};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {}

pub fn run(_ctx: &Ctx) -> Vec<Finding> {
    Vec::new()
}
