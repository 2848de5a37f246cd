//! Reader for the json history format (being written).

use super::error::{Error, Result};
use super::op::Op;

/// Parses a whole history.
pub(crate) fn parse(_input: &str) -> Result<Vec<Op>> {
    Err(Error::msg("the json reader is not built yet"))
}
