//! The check's second job: building the document's tree as it reads, for [`read`].

use super::Checker;
use crate::{
    Finding, Rules, Severity,
    xml::{Element, Node},
};

/// Reads `doc` as the TwiML check does and returns its `<Response>` element; the first syntax
/// finding (the document cannot be read) when there is one. Schema findings are not refused:
/// the caller walks what it needs.
pub fn read(doc: &str) -> Result<Element, Finding> {
    let rules = Rules {
        enhanced_sip: true,
        max_bytes: usize::MAX,
    };
    let (findings, tree) = Checker::building_tree(doc, &rules).run_with_tree();
    if let Some(syntax) = findings
        .into_iter()
        .find(|f| f.severity == Severity::Syntax)
    {
        return Err(syntax);
    }
    tree.ok_or_else(|| Finding {
        severity: Severity::Syntax,
        rule: "root-not-response",
        line: 1,
        message: "the document has no root element; TwiML must be wrapped in a <Response> element"
            .into(),
    })
}

/// Builds the tree from what the checker reads, element by element.
#[derive(Debug, Default)]
pub(crate) struct TreeBuilder {
    open: Vec<Element>,
    root: Option<Element>,
    /// Attributes read before their element opens.
    pending: Vec<(String, String)>,
}

impl TreeBuilder {
    /// An element starts, with the attributes read for it.
    pub(crate) fn open(&mut self, name: &str) {
        self.open.push(Element {
            name: name.to_owned(),
            attributes: std::mem::take(&mut self.pending),
            children: Vec::new(),
        });
    }

    /// An attribute of the element about to open: the checker reads a tag's attributes before
    /// it opens the element.
    pub(crate) fn attribute(&mut self, key: &str, value: &str) {
        self.pending.push((key.to_owned(), value.to_owned()));
    }

    /// Text inside the open element.
    pub(crate) fn text(&mut self, text: &str) {
        let Some(parent) = self.open.last_mut() else {
            return;
        };
        match parent.children.last_mut() {
            Some(Node::Text(previous)) => previous.push_str(text),
            _ => parent.children.push(Node::Text(text.to_owned())),
        }
    }

    /// The open element ends.
    pub(crate) fn close(&mut self) {
        let Some(element) = self.open.pop() else {
            return;
        };
        match self.open.last_mut() {
            Some(parent) => parent.children.push(Node::Element(element)),
            None => self.root = Some(element),
        }
    }

    /// The root, when the document had one and closed it.
    pub(crate) fn finish(self) -> Option<Element> {
        self.root.filter(|_| self.open.is_empty())
    }
}
