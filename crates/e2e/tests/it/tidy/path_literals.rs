//! The rule that Runboard's paths are spelled only in `shared`: everywhere else a path
//! under `/api/` or `/runboard/` is built from the route table, so a renamed route is
//! renamed everywhere by the compiler instead of missed by a search.

use std::{fs, path::PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use runboard_shared::{API_PREFIX, RUNBOARD_PREFIX};
use syn::visit::Visit;

use super::{root, rust_files};

/// The contract's prefixes. Written with the constants, so that this file holds no
/// literal the rule forbids, not even in its planted examples.
const PREFIXES: [&str; 2] = [API_PREFIX, RUNBOARD_PREFIX];

/// Literals that hold a prefix but name no Runboard path, as (file, a piece of the
/// literal without the prefix's first `/`): folders called `runboard` on disk. Each must
/// still be there: an entry that matches nothing fails the rule.
const NOT_PATHS: [(&str, &str); 2] = [
    // The tools folder in the user's cache, where `scripts/tools.sh` puts axe-core.
    ("crates/e2e/src/axe.rs", "runboard/tools"),
    // The example ledger file in an error message.
    ("proxy/src/config/ledger.rs", "runboard/ledger.db"),
];

/// One string literal that spells a contract path: where, and what it says.
#[derive(Debug, PartialEq)]
struct Spelled {
    line: usize,
    text: String,
}

/// Every string or byte-string literal in `source` that holds a [`PREFIXES`] entry, read
/// as Rust syntax: in expressions, patterns, constants, attributes other than doc
/// comments, and among any macro's tokens (`format!`, `assert_eq!`, `json!`). Comments and
/// doc comments do not count.
fn path_literals(source: &str) -> syn::Result<Vec<Spelled>> {
    let file = syn::parse_file(source)?;
    let mut finder = Literals(Vec::new());
    finder.visit_file(&file);
    Ok(finder.0)
}

/// Walks one file, collecting the literals that spell a contract path.
struct Literals(Vec<Spelled>);

impl Literals {
    fn check(&mut self, text: String, span: proc_macro2::Span) {
        if PREFIXES.iter().any(|prefix| text.contains(prefix)) {
            let line = span.start().line;
            self.0.push(Spelled { line, text });
        }
    }

    fn lit(&mut self, lit: &syn::Lit) {
        match lit {
            syn::Lit::Str(s) => self.check(s.value(), s.span()),
            syn::Lit::ByteStr(b) => {
                self.check(String::from_utf8_lossy(&b.value()).into(), b.span())
            }
            _ => {}
        }
    }

    /// A macro's or an attribute's tokens, inside groups too, skipping the
    /// `#[doc = "…"]` that a doc comment among them becomes.
    fn tokens(&mut self, tokens: &TokenStream) {
        let mut after_pound = false;
        for token in tokens.clone() {
            match &token {
                TokenTree::Literal(literal) => self.lit(&syn::Lit::new(literal.clone())),
                TokenTree::Group(group) if !(after_pound && is_doc(group)) => {
                    self.tokens(&group.stream());
                }
                _ => {}
            }
            after_pound = matches!(&token, TokenTree::Punct(p) if p.as_char() == '#');
        }
    }
}

/// Whether a group after `#` is a doc attribute: `[doc = …]`.
fn is_doc(group: &proc_macro2::Group) -> bool {
    group.delimiter() == Delimiter::Bracket
        && matches!(group.stream().into_iter().next(), Some(TokenTree::Ident(i)) if i == "doc")
}

impl<'a> Visit<'a> for Literals {
    fn visit_lit(&mut self, node: &'a syn::Lit) {
        self.lit(node);
    }

    fn visit_attribute(&mut self, node: &'a syn::Attribute) {
        if node.path().is_ident("doc") {
            return;
        }
        if let syn::Meta::List(list) = &node.meta {
            self.tokens(&list.tokens);
        }
        syn::visit::visit_attribute(self, node);
    }

    fn visit_macro(&mut self, node: &'a syn::Macro) {
        self.tokens(&node.tokens);
        syn::visit::visit_macro(self, node);
    }
}

/// Every Rust file of the workspace and of `fuzz/` outside `shared/`, where the table is.
fn checked_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["proxy", "frontend", "crates", "fuzz"] {
        rust_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 100, "found the workspace's Rust files");
    files
}

/// The line of a literal that holds the prefix, cut to a readable length around it.
fn excerpt(text: &str) -> String {
    const AROUND: usize = 50;
    let line = text
        .lines()
        .find(|line| PREFIXES.iter().any(|p| line.contains(p)))
        .unwrap_or(text)
        .trim();
    let at = PREFIXES
        .iter()
        .filter_map(|p| line.find(p))
        .min()
        .unwrap_or(0);
    let start = line.floor_char_boundary(at.saturating_sub(AROUND));
    let end = line.ceil_char_boundary(at + AROUND);
    let before = if start > 0 { "…" } else { "" };
    let after = if end < line.len() { "…" } else { "" };
    format!("{before}{}{after}", &line[start..end])
}

#[test]
fn the_path_rule_reads_syntax_and_catches_planted_literals() {
    let found = |source: &str| {
        path_literals(source)
            .expect("planted code parses")
            .into_iter()
            .map(|s| format!("{}: {}", s.line, s.text))
            .collect::<Vec<_>>()
    };
    let (api, ours) = (API_PREFIX, RUNBOARD_PREFIX);
    // Planted path literals, each on the line the rule must name.
    let planted = [
        (
            format!("fn a() {{ get(\"{api}jobs/p\") }}"),
            format!("1: {api}jobs/p"),
        ),
        (
            format!("fn b() {{\n let u = format!(\"{{base}}{ours}bootstrap\"); }}"),
            format!("2: {{base}}{ours}bootstrap"),
        ),
        (
            format!("fn c() {{ assert_eq!(x, \"{ours}live/p/r\", \"m\"); }}"),
            format!("1: {ours}live/p/r"),
        ),
        (
            format!("const D: &str = \"http://h{api}testRun\";"),
            format!("1: http://h{api}testRun"),
        ),
        (
            format!("fn e() {{ send(b\"GET {api}x HTTP/1.1\") }}"),
            format!("1: GET {api}x HTTP/1.1"),
        ),
        (
            format!("fn f(p: &str) {{ match p {{ \"{ours}x\" => {{}} _ => {{}} }} }}"),
            format!("1: {ours}x"),
        ),
        (
            format!("fn g() {{ tokio::select! {{ _ = get(vec![\"{api}a\"]) => {{}} }} }}"),
            format!("1: {api}a"),
        ),
        (
            format!("#[error(\"no {ours}x\")]\nstruct H;"),
            format!("1: no {ours}x"),
        ),
        (
            format!("m! {{\n /// {api}doc\n fn i() {{ \"{api}i\" }} }}"),
            format!("3: {api}i"),
        ),
    ];
    for (source, expected) in planted {
        assert_eq!(found(&source), [expected], "{source}");
    }
    // Comments, doc comments, paths built from the table and near misses.
    let fine = [
        format!("//! {api}x\n/// {ours}y\nfn a() {{ /* {api}z */ }} // {ours}w"),
        format!("#[doc = \"{api}x\"]\nfn b() {{}}"),
        "fn c(p: &ProjectId) { Target::Jobs(p.clone()).path() }".to_owned(),
        "fn d() { let s = \"/apix/runboard\"; let t = 'r'; }".to_owned(),
    ];
    for source in fine {
        assert_eq!(found(&source), Vec::<String>::new(), "{source}");
    }
}

#[test]
fn runboard_paths_are_spelled_only_in_shared() {
    let mut wrong = Vec::new();
    let mut exempt = Vec::new();
    for file in checked_files() {
        let text = fs::read_to_string(&file).expect("readable");
        let relative = file.strip_prefix(root()).unwrap_or(&file).to_owned();
        let relative = relative.to_string_lossy().replace('\\', "/");
        let spelled =
            path_literals(&text).unwrap_or_else(|e| panic!("{relative} does not parse: {e}"));
        for Spelled { line, text } in spelled {
            let not_path = NOT_PATHS
                .iter()
                .find(|(f, piece)| *f == relative && text.contains(piece));
            match not_path {
                Some(entry) => exempt.push(*entry),
                None => wrong.push(format!(
                    "{relative}:{line}: {:?} spells a Runboard path: build it with \
                     runboard_shared::Target or Route",
                    excerpt(&text)
                )),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    for (file, piece) in NOT_PATHS {
        assert!(
            exempt.contains(&(file, piece)),
            "{file} no longer holds {piece:?}: drop it from NOT_PATHS"
        );
    }
}
