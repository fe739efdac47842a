//! A TwiML document as a tree of elements, for those who want to walk it (the call simulator's
//! dial plan). [`crate::read`] builds it with the TwiML check itself, so the tree and the check
//! never disagree about what a document says.

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
