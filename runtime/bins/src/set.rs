//! A set of compiled TwiML Bins by name: a folder's templates, or those a developer edits.

use std::{collections::BTreeMap, sync::Arc};

use twiml_edge_e164::Region;
use twiml_edge_sdk::webhook::Webhook;
use twiml_edge_twiml::DEFAULT_MAX_TWIML_BYTES;

use crate::{CompiledBin, Error, Renderer, Result};

/// A set of compiled TwiML Bins, rendered by name.
#[derive(Debug)]
pub struct Bins {
    renderer: Arc<Renderer>,
    by_name: BTreeMap<String, Arc<CompiledBin>>,
}

impl Bins {
    /// An empty set whose `e164` helper reads national numbers in `region`.
    pub fn new(region: Region) -> Self {
        Self::with_renderer(Arc::new(Renderer::new(region, DEFAULT_MAX_TWIML_BYTES)))
    }

    /// An empty set rendered by `renderer`.
    pub fn with_renderer(renderer: Arc<Renderer>) -> Self {
        Self {
            renderer,
            by_name: BTreeMap::new(),
        }
    }

    /// What compiles and renders these bins.
    pub fn renderer(&self) -> &Arc<Renderer> {
        &self.renderer
    }

    /// The region `e164` reads national numbers in.
    pub fn region(&self) -> Region {
        self.renderer.region()
    }

    /// Stops serving bin `name`.
    pub fn remove(&mut self, name: &str) {
        self.by_name.remove(name);
    }

    /// Compiles `source` as bin `name`; `origin` (a file path) names it in errors.
    pub fn add(&mut self, name: &str, source: &str, origin: &str) -> Result<()> {
        let bin = self.renderer.compile(name, source, origin)?;
        self.by_name.insert(name.to_owned(), Arc::new(bin));
        Ok(())
    }

    /// The names of the compiled bins, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// Whether a bin called `name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// The compiled bin `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<CompiledBin>> {
        self.by_name.get(name)
    }

    /// Renders bin `name` for `webhook`, returning the template's output as written.
    pub fn render(&self, name: &str, webhook: &Webhook) -> Result<String> {
        let Some(bin) = self.by_name.get(name) else {
            return Err(Error::NotFound(format!("no TwiML Bin named {name:?}")));
        };
        self.renderer.render(bin, webhook)
    }
}
