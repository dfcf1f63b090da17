//! A small element tree for the XML documents both stores answer with, and escaping for the
//! ones we send. Element names are matched without namespace prefixes. Input is untrusted:
//! nesting depth and node count are capped, and every failure is an [`XmlError`], never a
//! panic (see `fuzz/`).

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::Event;

const MAX_DEPTH: usize = 32;
const MAX_NODES: usize = 1 << 20;

/// A response body that is not the XML we expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError(pub String);

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed XML response: {}", self.0)
    }
}

impl std::error::Error for XmlError {}

/// One element: its local name, its text (concatenated) and its child elements.
#[derive(Debug, Default, Clone)]
pub struct Node {
    pub name: String,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    /// First child called `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children called `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Text of the first child called `name`.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

pub fn local_name(raw: &[u8]) -> String {
    let local = match raw.iter().rposition(|&b| b == b':') {
        Some(i) => &raw[i + 1..],
        None => raw,
    };
    String::from_utf8_lossy(local).into_owned()
}

/// The character an XML entity (`amp`, `#x41`) stands for.
pub(crate) fn resolve_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix('x').or_else(|| num.strip_prefix('X')) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// Parses a document into its root element.
pub fn parse_tree(body: &str) -> Result<Node, XmlError> {
    read_document(body, &mut |child| Ok(Some(child)))
}

/// What a visitor of [`read_document`] does with a complete child of the root: keep it in
/// the root (`Some`) or drop it, having taken what it needs (`None`).
type Visit<'a> = &'a mut dyn FnMut(Node) -> Result<Option<Node>, XmlError>;

/// Parses a document, handing each child of the root element to `visit` once it is
/// complete; returns the root with the children `visit` kept.
pub fn read_document(body: &str, visit: Visit<'_>) -> Result<Node, XmlError> {
    read_document_from(body.as_bytes(), visit)
}

/// [`read_document`] from a stream, read as it is parsed.
pub fn read_document_from(input: impl BufRead, visit: Visit<'_>) -> Result<Node, XmlError> {
    let mut reader = Reader::from_reader(input);
    let mut buf = Vec::new();
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut nodes = 0usize;
    loop {
        buf.clear();
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| XmlError(e.to_string()))?;
        match event {
            Event::Start(e) | Event::Empty(e) if root.is_some() => {
                let _ = e;
                return Err(XmlError("content after the root element".into()));
            }
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError("elements nested too deeply".into()));
                }
                nodes += 1;
                if nodes > MAX_NODES {
                    return Err(XmlError("too many elements".into()));
                }
                stack.push(Node {
                    name: local_name(e.name().as_ref()),
                    ..Node::default()
                });
            }
            Event::Empty(e) => {
                nodes += 1;
                if nodes > MAX_NODES {
                    return Err(XmlError("too many elements".into()));
                }
                let node = Node {
                    name: local_name(e.name().as_ref()),
                    ..Node::default()
                };
                let depth = stack.len();
                match stack.last_mut() {
                    Some(parent) if depth == 1 => parent.children.extend(visit(node)?),
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::End(_) => {
                let node = stack
                    .pop()
                    .ok_or_else(|| XmlError("unbalanced end tag".into()))?;
                let depth = stack.len();
                match stack.last_mut() {
                    Some(parent) if depth == 1 => parent.children.extend(visit(node)?),
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let text = t.decode().map_err(|e| XmlError(e.to_string()))?;
                    top.text.push_str(&text);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    let name = r.decode().map_err(|e| XmlError(e.to_string()))?;
                    let c = resolve_entity(&name)
                        .ok_or_else(|| XmlError(format!("unknown entity &{name};")))?;
                    top.text.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError("document ends inside an element".into()));
    }
    root.ok_or_else(|| XmlError("empty document".into()))
}

/// Escapes text for an XML element body.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab/newline cannot appear literally in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                out.push_str(&format!("&#x{:X};", c as u32))
            }
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}
