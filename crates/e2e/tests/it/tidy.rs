//! Architecture invariants that can be checked by reading the tree (see ARCHITECTURE.md).

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

use toml::{Table, Value};

mod path_literals;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every file under `dir` whose name passes `keep`, skipping build output.
fn files(dir: &Path, keep: &dyn Fn(&str) -> bool, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("dir entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() {
            if !matches!(name, "target" | "dist" | "node_modules") && !name.starts_with('.') {
                files(&path, keep, out);
            }
        } else if keep(name) {
            out.push(path);
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    files(dir, &|name| name.ends_with(".rs"), out);
}

fn sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["shared", "proxy", "frontend", "crates"] {
        rust_files(&root().join(dir), &mut files);
    }
    assert!(files.len() > 20, "found the workspace's sources");
    files
}

/// Test code: integration tests of every crate and the browser suite's harness (but not
/// this file, which spells out what it looks for).
fn test_sources() -> Vec<PathBuf> {
    let tests: Vec<PathBuf> = sources()
        .into_iter()
        .filter(|f| {
            (f.components().any(|c| c.as_os_str() == "tests")
                || f.starts_with(root().join("crates/e2e")))
                && !f.ends_with("tidy.rs")
        })
        .collect();
    assert!(tests.len() > 10, "found the test sources");
    tests
}

fn read_toml(path: &Path) -> Table {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.parse()
        .unwrap_or_else(|e| panic!("{} is not TOML: {e}", path.display()))
}

/// Which dependency tables of a manifest to read.
#[derive(Clone, Copy, PartialEq)]
enum Tables {
    /// What the crate's users build: normal and build dependencies, for every target.
    Built,
    /// Everything, dev-dependencies included.
    All,
}

/// The package names a crate depends on, from every dependency table of its manifest
/// (`[dependencies]`, `[dependencies.x]`, `[target.'cfg(…)'.dependencies]`, …), with
/// renames (`package = "…"`, also through `workspace = true`) resolved to the real name.
fn dependencies(krate: &str, which: Tables) -> BTreeSet<String> {
    let manifest = read_toml(&root().join(krate).join("Cargo.toml"));
    let workspace = read_toml(&root().join("Cargo.toml"));
    let inherited = workspace
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(Value::as_table)
        .cloned()
        .unwrap_or_default();
    dependencies_in(&manifest, &inherited, which)
}

/// [`dependencies`] of a parsed manifest, `inherited` being `[workspace.dependencies]`.
fn dependencies_in(manifest: &Table, inherited: &Table, which: Tables) -> BTreeSet<String> {
    let mut kinds = vec!["dependencies", "build-dependencies"];
    if which == Tables::All {
        kinds.push("dev-dependencies");
    }
    let mut holders = vec![manifest];
    if let Some(targets) = manifest.get("target").and_then(Value::as_table) {
        holders.extend(targets.values().filter_map(Value::as_table));
    }
    let mut names = BTreeSet::new();
    for holder in holders {
        for kind in &kinds {
            let Some(table) = holder.get(*kind).and_then(Value::as_table) else {
                continue;
            };
            for (key, spec) in table {
                names.insert(package_name(key, spec, inherited));
            }
        }
    }
    names
}

fn package_name(key: &str, spec: &Value, inherited: &Table) -> String {
    let renamed = |spec: &Value| {
        spec.get("package")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if let Some(name) = renamed(spec) {
        return name;
    }
    if spec.get("workspace").and_then(Value::as_bool) == Some(true)
        && let Some(name) = inherited.get(key).and_then(renamed)
    {
        return name;
    }
    key.to_owned()
}

#[test]
fn dependency_tables_are_all_read_and_renames_resolved() {
    let manifest: Table = r#"
        [dependencies]
        a = "1"
        x.workspace = true
        [dependencies.b]
        version = "1"
        [target.'cfg(unix)'.dependencies]
        c = "1"
        [target.'cfg(unix)'.dependencies.d]
        version = "1"
        [build-dependencies]
        e = { package = "real-e", version = "1" }
        [dev-dependencies]
        f = "1"
    "#
    .parse()
    .expect("toml");
    let inherited: Table = "x = { package = \"real-x\", version = \"1\" }"
        .parse()
        .expect("toml");
    let names = |which| {
        dependencies_in(&manifest, &inherited, which)
            .into_iter()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(names(Tables::Built), "a b c d real-e real-x");
    assert_eq!(names(Tables::All), "a b c d f real-e real-x");
}

#[test]
fn every_rust_file_says_what_it_owns() {
    for file in sources() {
        let text = fs::read_to_string(&file).expect("readable");
        assert!(
            text.starts_with("//!"),
            "{} does not start with a //! line",
            file.display()
        );
    }
}

#[test]
fn no_unfinished_code_on_user_paths() {
    // This file names the markers itself.
    for file in sources().into_iter().filter(|f| !f.ends_with("tidy.rs")) {
        let text = fs::read_to_string(&file).expect("readable");
        for marker in ["todo!(", "unimplemented!(", "dbg!("] {
            assert!(
                !text.contains(marker),
                "{} contains {marker}",
                file.display()
            );
        }
    }
}

/// ARCHITECTURE.md: "`shared` ... depends on serde, serde_json and thiserror only".
const SHARED_MAY_USE: [&str; 3] = ["serde", "serde_json", "thiserror"];

#[test]
fn shared_depends_on_serde_and_little_else() {
    let deps = dependencies("shared", Tables::Built);
    assert!(deps.contains("serde"), "read shared's manifest: {deps:?}");
    for dep in deps {
        assert!(
            SHARED_MAY_USE.contains(&dep.as_str()),
            "runboard-shared must stay I/O-free and wasm-friendly; it depends on {dep}"
        );
    }
}

#[test]
fn the_widget_and_the_server_do_not_depend_on_each_other() {
    let frontend = dependencies("frontend", Tables::All);
    assert!(frontend.contains("leptos"), "read the widget's manifest");
    for server_side in ["runboard-proxy", "runboard-sim"] {
        assert!(
            !frontend.contains(server_side),
            "the widget depends on {server_side}"
        );
    }
    let proxy = dependencies("proxy", Tables::All);
    assert!(proxy.contains("axum"), "read the proxy's manifest");
    assert!(!proxy.contains("runboard-frontend"));
}

/// The workspace's test doubles and tools: never in what a production build links.
const TEST_OR_TOOL_CRATES: [&str; 4] = [
    "runboard-sim",
    "runboard-e2e",
    "runboard-bench",
    "runboard-testdb",
];

/// Production crates never depend on a test or tool crate, except the simulator behind
/// the proxy's `demo` feature (off by default), so `cargo build -p runboard-proxy` links
/// no simulator.
#[test]
fn production_crates_never_depend_on_test_or_tool_crates() {
    for krate in ["shared", "frontend", "crates/ledger", "proxy"] {
        let deps = dependencies(krate, Tables::Built);
        assert!(deps.contains("serde"), "read {krate}'s manifest: {deps:?}");
        for dep in deps
            .iter()
            .filter(|d| TEST_OR_TOOL_CRATES.contains(&d.as_str()))
        {
            assert!(
                krate == "proxy" && dep == "runboard-sim",
                "{krate} depends on the test or tool crate {dep}"
            );
        }
    }
    let proxy = read_toml(&root().join("proxy/Cargo.toml"));
    let sim = &proxy["dependencies"]["runboard-sim"];
    assert_eq!(
        sim.get("optional").and_then(Value::as_bool),
        Some(true),
        "the simulator is an optional dependency of the proxy"
    );
    let features = proxy["features"]
        .as_table()
        .expect("the proxy has features");
    let default = features.get("default").and_then(Value::as_array);
    assert!(
        default.is_none_or(|d| !d.iter().any(|f| f.as_str() == Some("demo"))),
        "the demo feature is off by default"
    );
    assert_eq!(
        features["demo"].as_array().map(Vec::as_slice),
        Some(&[Value::from("dep:runboard-sim")][..]),
        "only the demo feature brings the simulator"
    );
}

#[test]
fn only_the_server_side_knows_the_key_header() {
    // Every file of the widget (markup, styles, scripts, build hooks, docs) and of shared.
    let mut files_found = Vec::new();
    files(&root().join("frontend"), &|_| true, &mut files_found);
    rust_files(&root().join("shared"), &mut files_found);
    files_found.push(root().join("Trunk.toml"));
    let non_rust = files_found
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e != "rs"))
        .count();
    assert!(non_rust >= 3, "found the widget's html, css and scripts");
    for file in files_found.iter().filter(|f| f.is_file()) {
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        assert!(
            !text.to_ascii_lowercase().contains("x-api-key"),
            "{} mentions x-api-key",
            file.display()
        );
    }
}

/// Statements, roughly: the text between semicolons, whitespace removed.
fn statements(text: &str) -> Vec<String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    compact.split(';').map(str::to_owned).collect()
}

/// A listener bound only to learn a free port and then dropped: someone else may take
/// the port before the test uses it.
fn binds_and_releases(statement: &str) -> bool {
    statement.contains("::bind(")
        && (statement.contains(".local_addr()") || statement.contains(".port()"))
}

#[test]
fn tests_bind_loopback_port_zero_and_keep_what_they_bind() {
    assert!(binds_and_releases(
        "Ok(TcpListener::bind(\"127.0.0.1:0\")?.local_addr()?.port())"
    ));
    assert!(!binds_and_releases(
        "letlistener=TcpListener::bind(\"127.0.0.1:0\").await?"
    ));
    for file in test_sources() {
        let text = fs::read_to_string(&file).expect("readable");
        for statement in statements(&text) {
            let tail = &statement[statement.len().saturating_sub(120)..];
            assert!(
                !binds_and_releases(&statement),
                "{} binds a port only to release it: …{tail}",
                file.display()
            );
        }
        for fixed in ["\"0.0.0.0", "\"[::]", "\"localhost:"] {
            assert!(
                !text.contains(fixed),
                "{} uses {fixed}: tests listen on 127.0.0.1:0",
                file.display()
            );
        }
        for (at, _) in text.match_indices("\"127.0.0.1:") {
            let port: String = text[at + 11..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            assert!(
                port == "0",
                "{} names the fixed port 127.0.0.1:{port}: tests listen on 127.0.0.1:0",
                file.display()
            );
        }
    }
}

/// The functions that pause, from any crate: `tokio::time::sleep`, `std::thread::sleep`,
/// `sleep_until`…
const PAUSES: [&str; 2] = ["sleep", "sleep_until"];

/// Pauses that are a fault a test asked for, not a wait for anything, as (file, function).
/// Each must still be there: an entry that matches nothing fails the rule.
const DELIBERATE_PAUSES: [(&str, &str); 1] = [
    // The SSO stand-in holds an answer back for as long as a scenario asked (`slow`).
    ("crates/e2e/src/front_door.rs", "relay"),
];

/// One pause that is not a wait: the function it is in and how it is spelled.
#[derive(Debug, PartialEq)]
struct Pause {
    function: String,
    call: String,
}

/// Every pause in `source` that does not sit in a wait with a deadline, read as Rust
/// syntax (so comments and strings do not count, and nothing hides behind a line break):
/// each use of a [`PAUSES`] function (called, passed as a value, as a method, under a
/// `use … as` name, or among a macro's tokens, as in `tokio::select!`) must be inside a
/// loop (`loop`, `while`, `for`) of its own function whose condition or body names
/// something called `…deadline…`, the instant the wait gives up at.
fn pauses_outside_a_deadline_wait(source: &str) -> syn::Result<Vec<Pause>> {
    let file = syn::parse_file(source)?;
    let mut renames = Renames(PAUSES.iter().map(|name| (*name).to_owned()).collect());
    syn::visit::visit_file(&mut renames, &file);
    let mut finder = Pauses {
        names: renames.0,
        functions: Vec::new(),
        loops: Vec::new(),
        found: Vec::new(),
    };
    syn::visit::visit_file(&mut finder, &file);
    Ok(finder.found)
}

/// The names the pause functions go by in one file: their own and `use … as` renames.
struct Renames(BTreeSet<String>);

impl<'a> syn::visit::Visit<'a> for Renames {
    fn visit_use_rename(&mut self, node: &'a syn::UseRename) {
        if PAUSES.contains(&node.ident.to_string().as_str()) {
            self.0.insert(node.rename.to_string());
        }
    }
}

/// Walks one file: the function it is in, whether each loop around names a deadline.
struct Pauses {
    names: BTreeSet<String>,
    functions: Vec<String>,
    loops: Vec<bool>,
    found: Vec<Pause>,
}

impl Pauses {
    fn pause(&mut self, call: String) {
        if !self.loops.contains(&true) {
            let function = self.functions.last().cloned().unwrap_or_default();
            self.found.push(Pause { function, call });
        }
    }

    /// Visits a function's body with its own (empty) stack of loops.
    fn function(&mut self, name: &syn::Ident, visit: impl FnOnce(&mut Self)) {
        self.functions.push(name.to_string());
        let outer = std::mem::take(&mut self.loops);
        visit(self);
        self.loops = outer;
        self.functions.pop();
    }

    /// Visits a loop with `visit`, noting whether it names a deadline anywhere in it.
    fn looping<'a>(&mut self, visit: impl Fn(&mut dyn syn::visit::Visit<'a>)) {
        let mut mentions = Mentions(false);
        visit(&mut mentions);
        self.loops.push(mentions.0);
        visit(self);
        self.loops.pop();
    }
}

/// Whether a tree names something called `…deadline…` (macro tokens included).
struct Mentions(bool);

impl<'a> syn::visit::Visit<'a> for Mentions {
    fn visit_ident(&mut self, ident: &'a syn::Ident) {
        self.0 |= ident.to_string().to_lowercase().contains("deadline");
    }

    fn visit_macro(&mut self, node: &'a syn::Macro) {
        syn::visit::visit_macro(self, node);
        self.0 |= idents(&node.tokens)
            .iter()
            .any(|i| i.to_lowercase().contains("deadline"));
    }
}

/// Every identifier among `tokens`, inside groups too.
fn idents(tokens: &proc_macro2::TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    for token in tokens.clone() {
        match token {
            proc_macro2::TokenTree::Ident(ident) => out.push(ident.to_string()),
            proc_macro2::TokenTree::Group(group) => out.extend(idents(&group.stream())),
            _ => {}
        }
    }
    out
}

impl<'a> syn::visit::Visit<'a> for Pauses {
    fn visit_item_fn(&mut self, node: &'a syn::ItemFn) {
        self.function(&node.sig.ident, |v| syn::visit::visit_item_fn(v, node));
    }

    fn visit_impl_item_fn(&mut self, node: &'a syn::ImplItemFn) {
        self.function(&node.sig.ident, |v| syn::visit::visit_impl_item_fn(v, node));
    }

    fn visit_trait_item_fn(&mut self, node: &'a syn::TraitItemFn) {
        self.function(&node.sig.ident, |v| {
            syn::visit::visit_trait_item_fn(v, node)
        });
    }

    fn visit_expr_loop(&mut self, node: &'a syn::ExprLoop) {
        self.looping(|v| syn::visit::visit_expr_loop(v, node));
    }

    fn visit_expr_while(&mut self, node: &'a syn::ExprWhile) {
        self.looping(|v| syn::visit::visit_expr_while(v, node));
    }

    fn visit_expr_for_loop(&mut self, node: &'a syn::ExprForLoop) {
        self.looping(|v| syn::visit::visit_expr_for_loop(v, node));
    }

    fn visit_expr_path(&mut self, node: &'a syn::ExprPath) {
        let named = node
            .path
            .segments
            .last()
            .is_some_and(|last| self.names.contains(&last.ident.to_string()));
        if named {
            let path: Vec<String> = node
                .path
                .segments
                .iter()
                .map(|segment| segment.ident.to_string())
                .collect();
            self.pause(path.join("::"));
        }
        syn::visit::visit_expr_path(self, node);
    }

    fn visit_expr_method_call(&mut self, node: &'a syn::ExprMethodCall) {
        if self.names.contains(&node.method.to_string()) {
            self.pause(format!(".{}()", node.method));
        }
        syn::visit::visit_expr_method_call(self, node);
    }

    fn visit_macro(&mut self, node: &'a syn::Macro) {
        let name = node
            .path
            .segments
            .last()
            .map(|segment| segment.ident.to_string())
            .unwrap_or_default();
        for ident in idents(&node.tokens) {
            if self.names.contains(&ident) {
                self.pause(format!("{name}!(… {ident} …)"));
            }
        }
        syn::visit::visit_macro(self, node);
    }
}

#[test]
fn the_pause_rule_reads_syntax_and_catches_planted_sleeps() {
    let found = |source: &str| {
        pauses_outside_a_deadline_wait(source)
            .expect("planted code parses")
            .into_iter()
            .map(|p| format!("{}: {}", p.function, p.call))
            .collect::<Vec<_>>()
    };
    // Planted pauses, each outside a wait with a deadline.
    let planted = [
        (
            "async fn a() { tokio::time::sleep(D).await; }",
            "a: tokio::time::sleep",
        ),
        ("fn b() { std::thread::sleep(D) }", "b: std::thread::sleep"),
        (
            "async fn c() { tokio::time::sleep_until(t).await }",
            "c: tokio::time::sleep_until",
        ),
        // A line break, a comment or a deadline elsewhere in the function fooled the
        // text search this rule used to be.
        (
            "async fn d(deadline: Instant) { tokio::time::sleep\n(D).await; }",
            "d: tokio::time::sleep",
        ),
        (
            "async fn e() { /* deadline */ loop { sleep(D).await; } }",
            "e: sleep",
        ),
        (
            "use tokio::time::sleep as pause; async fn f() { pause(D).await }",
            "f: pause",
        ),
        (
            "async fn g() { tokio::select! { _ = tokio::time::sleep(D) => {} } }",
            "g: select!(… sleep …)",
        ),
        (
            "fn h() { xs.iter().for_each(|_| nap.sleep()) }",
            "h: .sleep()",
        ),
        (
            "impl S { async fn i(&self) { retry(sleep).await } }",
            "i: sleep",
        ),
        (
            "async fn j() { let deadline = now(); loop { break; } sleep(D).await }",
            "j: sleep",
        ),
    ];
    for (source, expected) in planted {
        assert_eq!(found(source), [expected], "{source}");
    }
    // Waits for a condition with a deadline, and words that only look like pauses.
    let fine = [
        "async fn w(within: Duration) { let deadline = Instant::now() + within;          loop { if ready() { return; } assert!(Instant::now() < deadline, \"late\");          tokio::time::sleep(POLL).await; } }",
        "async fn x(deadline: Instant) { while !done() && Instant::now() < deadline          { sleep(POLL).await } }",
        "fn y() { let text = \"sleep(1)\"; // sleep(2)\n }",
        "use tokio::time::{sleep, Instant};",
    ];
    for source in fine {
        assert_eq!(found(source), Vec::<String>::new(), "{source}");
    }
}

#[test]
fn tests_sleep_only_while_waiting_for_a_condition_with_a_deadline() {
    let mut wrong = Vec::new();
    let mut deliberate = BTreeSet::new();
    for file in test_sources() {
        let text = fs::read_to_string(&file).expect("readable");
        let relative = file.strip_prefix(root()).unwrap_or(&file).to_owned();
        let relative = relative.to_string_lossy().replace('\\', "/");
        let pauses = pauses_outside_a_deadline_wait(&text)
            .unwrap_or_else(|e| panic!("{relative} does not parse: {e}"));
        for pause in pauses {
            let entry = (relative.as_str(), pause.function.as_str());
            if DELIBERATE_PAUSES.contains(&entry) {
                deliberate.insert(entry.0.to_owned() + " " + entry.1);
            } else {
                wrong.push(format!(
                    "{relative}, fn {}: {} outside a loop that checks a deadline",
                    pause.function, pause.call
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    for (file, function) in DELIBERATE_PAUSES {
        assert!(
            deliberate.contains(&format!("{file} {function}")),
            "{file} fn {function} no longer pauses: drop it from DELIBERATE_PAUSES"
        );
    }
}

/// The integration-test binaries Cargo finds in `tests/` of the crate at `dir`: each file
/// directly in it and each folder holding a `main.rs`.
fn test_binaries(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir.join("tests")) else {
        return Vec::new();
    };
    let mut binaries: Vec<String> = entries
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| {
            path.extension().is_some_and(|e| e == "rs") || path.join("main.rs").is_file()
        })
        .map(|path| {
            path.strip_prefix(root())
                .unwrap_or(&path)
                .display()
                .to_string()
        })
        .collect();
    binaries.sort();
    binaries
}

/// Each crate links one integration-test binary (`tests/it/main.rs` and a module per
/// subject, as ripgrep does): every binary links the whole dependency graph again (the
/// proxy's nineteen took 3.4 GiB; README, "Test binaries").
#[test]
fn each_crate_has_at_most_one_integration_test_binary() {
    let mut crates: Vec<PathBuf> = ["shared", "proxy", "frontend"]
        .iter()
        .map(|dir| root().join(dir))
        .collect();
    for entry in fs::read_dir(root().join("crates")).expect("crates/") {
        crates.push(entry.expect("dir entry").path());
    }
    let mut binaries = 0;
    for dir in crates.iter().filter(|dir| dir.join("Cargo.toml").is_file()) {
        let found = test_binaries(dir);
        assert!(
            found.len() <= 1,
            "one test binary per crate (tests/it/): {found:?}"
        );
        let manifest = read_toml(&dir.join("Cargo.toml"));
        assert!(
            !manifest.contains_key("test"),
            "{} declares [[test]] targets: put them under tests/it/ instead",
            dir.display()
        );
        binaries += found.len();
    }
    assert!(binaries >= 4, "found the test binaries: {binaries}");
}
