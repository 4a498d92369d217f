//! Options several subcommands share, flattened into their `Args` so each
//! flag has one spelling, one help text and one parser.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::model::Models;
use crate::report::Lang;

/// `--models DIR`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ModelsOpt {
    /// Folder with operations.toml and scorecard.toml (default: built-in models).
    #[arg(long = "models", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

impl ModelsOpt {
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The models of `--models`, or the built-in ones.
    pub fn load(&self) -> Result<Models> {
        Ok(Models::load(self.dir())?)
    }
}

/// `--lang` and `--unmasked`: how reports show what they show.
#[derive(Debug, Clone, clap::Args)]
pub struct ViewOpt {
    /// Report language: zh (default) or en (`zh-CN`, `cn`, `en-US`, … also accepted).
    #[arg(long, default_value = "zh", value_parser = Lang::parse)]
    pub lang: Lang,
    /// Show full ID and phone numbers in reports (and in the CSV outputs of
    /// `score`/`audit`); recorded in the run log.
    #[arg(long)]
    pub unmasked: bool,
}
