//! Test hooks on what the integrity API (`GET /integrity/{project}/{version}/{filename}/
//! provenance`, served by [`super::attestations::provenance`]) serves: read a file's
//! provenance object, or serve another one (tampered, another file's, none) in its place, as
//! a compromised or broken index would.
use serde_json::Value;

use super::Warehouse;

impl Warehouse {
    /// The provenance object served for `filename`, if any.
    pub fn provenance(&self, filename: &str) -> Option<Value> {
        self.shared.provenance.lock().get(filename).cloned()
    }

    /// Serve `provenance` for `filename` from now on; `None` serves none (404).
    pub fn serve_provenance(&self, filename: &str, provenance: Option<Value>) {
        let mut served = self.shared.provenance.lock();
        match provenance {
            Some(p) => served.insert(filename.to_owned(), p),
            None => served.remove(filename),
        };
    }
}
