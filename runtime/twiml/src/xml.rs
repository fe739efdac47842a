//! A TwiML document as a tree of elements, for those who want to walk it (the call simulator's
//! dial plan). It is read by the TwiML check itself, so the tree and the check never disagree
//! about what a document says.

use crate::{Finding, Rules, Severity, check::Checker};

/// An element, its attributes (entities resolved, in order) and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// The element's name, as written.
    pub name: String,
    /// Its attributes, values normalized as XML says.
    pub attributes: Vec<(String, String)>,
    /// Its elements and text, in order.
    pub children: Vec<Node>,
}

/// What an element holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A child element.
    Element(Element),
    /// Text, entities resolved; text around an entity is one node.
    Text(String),
}

impl Element {
    /// The value of attribute `name`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether attribute `name` is `true` (any case, blanks around).
    pub fn flag(&self, name: &str) -> bool {
        self.attribute(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// The first child element called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|node| match node {
            Node::Element(e) if e.name == name => Some(e),
            _ => None,
        })
    }

    /// Text directly inside, trimmed.
    pub fn own_text(&self) -> String {
        let mut text = String::new();
        for node in &self.children {
            if let Node::Text(t) = node {
                text.push_str(t);
            }
        }
        text.trim().to_owned()
    }

    /// Text of this element and every descendant, each piece trimmed and joined by a space.
    pub fn all_text(&self) -> String {
        let mut pieces = Vec::new();
        let mut stack = vec![self.children.iter()];
        while let Some(nodes) = stack.last_mut() {
            match nodes.next() {
                Some(Node::Text(t)) if !t.trim().is_empty() => pieces.push(t.trim()),
                Some(Node::Text(_)) => {}
                Some(Node::Element(e)) => stack.push(e.children.iter()),
                None => {
                    stack.pop();
                }
            }
        }
        pieces.join(" ")
    }
}

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
