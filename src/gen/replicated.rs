//! (in progress)

use super::{Emitter, FaultRecord, GenError, GenOptions};

/// The simulation.
pub struct ReplicatedSim {
    faults: Vec<FaultRecord>,
}

impl ReplicatedSim {
    /// Sets up the simulation.
    pub fn new(_o: &GenOptions) -> Result<ReplicatedSim, GenError> {
        Err(GenError("not built yet".into()))
    }

    /// The faults injected so far.
    pub fn faults(&self) -> &[FaultRecord] {
        &self.faults
    }

    pub(crate) fn step(&mut self, _out: &mut Emitter) -> bool {
        false
    }
}
