//! What the sandbox gets from the server: the world a call may ask of, and where compiled code
//! is kept.

use twiml_edge_e164::Region;
use twiml_edge_sandbox::{CodeCache, Services};
use twiml_edge_store::FileCache;

/// The sandbox's compiled-code cache, kept in the store's data folder.
#[derive(Debug)]
pub(crate) struct CompiledCode(pub(crate) FileCache);

impl CodeCache for CompiledCode {
    fn load(&self, key: &str) -> Option<Vec<u8>> {
        self.0.load(key)
    }

    fn save(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.0.save(key, bytes)
    }

    fn retain(&self, keep: &dyn Fn(&str) -> bool) -> usize {
        self.0.retain(keep)
    }
}

/// What calls may ask of the world: E.164 numbers, national ones read in the given region.
#[derive(Debug)]
pub struct PhoneNumbers(pub Region);

impl Services for PhoneNumbers {
    fn e164(&self, input: &str, region: Option<&str>) -> Option<String> {
        let region = match region {
            Some(code) => code.parse().ok()?,
            None => self.0,
        };
        twiml_edge_e164::normalize(input, region)
    }
}
