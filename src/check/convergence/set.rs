//! Stub.
use super::session::SessionReport;
use super::{Anomaly, Ctx, KeyOps, KeyResult};
use serde::Serialize;

/// Findings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SetDetail {}

pub(crate) fn analyse(_ctx: &Ctx<'_>, _k: &KeyOps<'_>) -> (KeyResult, Vec<Anomaly>, SessionReport) {
    unimplemented!()
}
