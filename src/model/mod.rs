//! Loading the model files in `models/`: the operations model (rules) and
//! the scorecard (weights, tiers, check parameters). Both are read once per
//! run; their SHA-256 is recorded in the run ledger and every report.

pub mod operations;
pub mod scorecard;

use std::path::{Path, PathBuf};

pub use operations::Operations;
pub use scorecard::{Scorecard, Tier};

/// Both model files, loaded and hashed.
#[derive(Debug, Clone)]
pub struct Models {
    pub operations: Operations,
    pub scorecard: Scorecard,
    pub operations_sha256: String,
    pub scorecard_sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read model file `{path}`: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("model file `{path}` is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The models compiled into the binary, used when no `--models DIR` is given
/// and no `models/` folder is beside the working directory.
pub const BUILTIN_OPERATIONS: &str = include_str!("../../models/operations.toml");
pub const BUILTIN_SCORECARD: &str = include_str!("../../models/scorecard.toml");

impl Models {
    /// Loads `operations.toml` and `scorecard.toml` from `dir`, or the
    /// built-in copies when `dir` is `None`.
    pub fn load(dir: Option<&Path>) -> Result<Models, ModelError> {
        let read = |name: &str, builtin: &str| -> Result<(String, PathBuf), ModelError> {
            match dir {
                Some(d) => {
                    let p = d.join(name);
                    std::fs::read_to_string(&p)
                        .map(|t| (t, p.clone()))
                        .map_err(|source| ModelError::Io { path: p, source })
                }
                None => Ok((builtin.to_string(), PathBuf::from(format!("(built-in) models/{name}")))),
            }
        };
        let (ops_text, ops_path) = read("operations.toml", BUILTIN_OPERATIONS)?;
        let (card_text, card_path) = read("scorecard.toml", BUILTIN_SCORECARD)?;
        let operations = Operations::from_toml(&ops_text)
            .map_err(|e| ModelError::Invalid { path: ops_path, message: e.to_string() })?;
        let scorecard = Scorecard::from_toml(&card_text)
            .map_err(|e| ModelError::Invalid { path: card_path.clone(), message: e.to_string() })?;
        // Typed check parameters are validated up front so a typo fails the
        // run before any work, naming the section.
        crate::checks::Params::from_scorecard(&scorecard)
            .map_err(|message| ModelError::Invalid { path: card_path, message })?;
        Ok(Models {
            operations,
            scorecard,
            operations_sha256: crate::output::sha256_hex(ops_text.as_bytes()),
            scorecard_sha256: crate::output::sha256_hex(card_text.as_bytes()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_models_load() {
        let m = Models::load(None).unwrap();
        assert!(!m.operations.ops.is_empty());
        assert_eq!(m.scorecard_sha256.len(), 64);
    }

    #[test]
    fn committed_models_match_builtin() {
        let m = Models::load(Some(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/models")))).unwrap();
        assert_eq!(m.scorecard_sha256, crate::output::sha256_hex(BUILTIN_SCORECARD.as_bytes()));
    }
}
