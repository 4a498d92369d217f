//! `cctv.*` checks (placeholder while params are calibrated).

use serde::Deserialize;

use super::{Ctx, Finding};
use crate::video::SampleOptions;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    pub interval_seconds: f64,
    pub keyframes_only: bool,
    pub decoder_threads: usize,
    pub min_side: u32,
    pub motion_cell_min: f32,
    pub fg_cell_min: f32,
}

impl Default for Params {
    fn default() -> Self {
        let o = SampleOptions::default();
        Params {
            interval_seconds: o.interval,
            keyframes_only: o.keyframes_only,
            decoder_threads: o.threads,
            min_side: o.min_side,
            motion_cell_min: o.motion_cell_min,
            fg_cell_min: o.fg_cell_min,
        }
    }
}

impl Params {
    pub fn sample_options(&self) -> SampleOptions {
        SampleOptions {
            interval: self.interval_seconds,
            keyframes_only: self.keyframes_only,
            threads: self.decoder_threads,
            min_side: self.min_side,
            motion_cell_min: self.motion_cell_min,
            fg_cell_min: self.fg_cell_min,
        }
    }
}

pub fn run(_ctx: &Ctx) -> Vec<Finding> {
    Vec::new()
}
