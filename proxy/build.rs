//! Embeds the widget's built files (Trunk's `frontend/dist`) in the `runboard` binary, so a
//! deployment is one file plus its TOML.
//!
//! Writes `$OUT_DIR/widget.rs`: one `File` row per file, each naming its bytes with
//! `include_bytes!` rather than spelling them out. The generated code stays a few lines
//! per file, so the compiler neither parses nor holds megabytes of byte literals, and the
//! bytes themselves go straight into the binary's read-only data. Brotli and gzip forms are
//! the build's own copies (`frontend/precompress.sh`, highest levels) when they decode to
//! the file; otherwise this script makes them. Without the folder the table is empty and
//! the server says how to build a widget.

use std::{
    env, fs,
    io::{self, Read, Write},
    path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};

/// Where the widget is built, relative to this crate, unless `RUNBOARD_WIDGET_DIST` says.
const DEFAULT_DIST: &str = "../frontend/dist";
const DIST_ENV: &str = "RUNBOARD_WIDGET_DIST";

fn main() -> io::Result<()> {
    println!("cargo:rerun-if-env-changed={DIST_ENV}");
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let named = env::var_os(DIST_ENV);
    let dist = match &named {
        Some(dist) => PathBuf::from(dist),
        None => manifest.join(DEFAULT_DIST),
    };
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    let rows = if dist.join("index.html").is_file() {
        // A folder is watched whole: any file added, removed or rewritten in it reruns this.
        println!("cargo:rerun-if-changed={}", dist.display());
        embed(&dist, &out)?
    } else {
        watch_missing(&dist, named.is_some());
        Vec::new()
    };
    fs::write(out.join("widget.rs"), table(&rows))
}

/// Reruns this script when the folder appears. Cargo counts a missing path as changed on
/// every build (which would rebuild the proxy each time), so at the default place the
/// parent, `frontend/`, is watched instead: Trunk creating `dist` in it changes it. A
/// folder named by `RUNBOARD_WIDGET_DIST` is watched as it is: its parent could be any
/// folder, even `/`, and cargo would scan all of it.
fn watch_missing(dist: &Path, named: bool) {
    let parent = dist.parent().filter(|parent| !named && parent.is_dir());
    println!(
        "cargo:rerun-if-changed={}",
        parent.unwrap_or(dist).display()
    );
}

/// One embedded file, as written into the table.
struct Row {
    /// The URL path, `/` + the path inside `dist`.
    path: String,
    content_type: String,
    tag: String,
    identity: PathBuf,
    br: Option<PathBuf>,
    gzip: Option<PathBuf>,
}

/// Every file under `dist` but the compressed copies, in path order (a stable table).
fn embed(dist: &Path, out: &Path) -> io::Result<Vec<Row>> {
    let mut files = Vec::new();
    walk(dist, &mut files)?;
    files.retain(|file| !is_copy(file));
    files.sort();
    let forms = out.join("widget");
    fs::create_dir_all(&forms)?;
    files
        .iter()
        .enumerate()
        .map(|(index, file)| row(dist, file, &forms.join(index.to_string())))
        .collect()
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// Whether `file` is a `.br` or `.gz` copy of a file beside it.
fn is_copy(file: &Path) -> bool {
    let is_compressed = matches!(file.extension().and_then(|e| e.to_str()), Some("br" | "gz"));
    is_compressed && file.with_extension("").is_file()
}

/// The row for `file`; forms this script makes are written to `stem.br` and `stem.gz`.
fn row(dist: &Path, file: &Path, stem: &Path) -> io::Result<Row> {
    let bytes = fs::read(file)?;
    let relative = file.strip_prefix(dist).expect("walked from dist");
    let path = relative
        .components()
        .map(|part| part.as_os_str().to_string_lossy())
        .fold(String::new(), |path, part| path + "/" + &part);
    let content_type = mime_guess::from_path(file).first_or_octet_stream();
    let content_type = if content_type.type_() == mime_guess::mime::TEXT {
        format!("{content_type}; charset=utf-8")
    } else {
        content_type.to_string()
    };
    Ok(Row {
        path,
        content_type,
        tag: tag(&bytes),
        br: form(file, "br", &bytes, stem, Encoding::Brotli)?,
        gzip: form(file, "gz", &bytes, stem, Encoding::Gzip)?,
        identity: file.to_owned(),
    })
}

/// The first 128 bits of the SHA-256 of the file, in hex: a strong validator.
fn tag(bytes: &[u8]) -> String {
    Sha256::digest(bytes)[..16]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[derive(Clone, Copy)]
enum Encoding {
    Brotli,
    Gzip,
}

/// The compressed form to embed: the build's copy (`file.ext`) if it decodes to `bytes`,
/// else one made here; none when compressing saves nothing (an image already compressed).
fn form(
    file: &Path,
    ext: &str,
    bytes: &[u8],
    stem: &Path,
    encoding: Encoding,
) -> io::Result<Option<PathBuf>> {
    let copy = PathBuf::from(format!("{}.{ext}", file.display()));
    if let Ok(compressed) = fs::read(&copy)
        && decode(&compressed, encoding).is_ok_and(|decoded| decoded == bytes)
    {
        return Ok((compressed.len() < bytes.len()).then_some(copy));
    }
    let compressed = encode(bytes, encoding)?;
    if compressed.len() >= bytes.len() {
        return Ok(None);
    }
    let made = stem.with_extension(ext);
    fs::write(&made, compressed)?;
    Ok(Some(made))
}

/// Compresses at the levels `precompress.sh` uses: brotli 11, gzip 9.
fn encode(bytes: &[u8], encoding: Encoding) -> io::Result<Vec<u8>> {
    match encoding {
        Encoding::Brotli => {
            let mut out = Vec::new();
            {
                let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
                writer.write_all(bytes)?;
            }
            Ok(out)
        }
        Encoding::Gzip => {
            let mut writer = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            writer.write_all(bytes)?;
            writer.finish()
        }
    }
}

fn decode(bytes: &[u8], encoding: Encoding) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    match encoding {
        Encoding::Brotli => brotli::Decompressor::new(bytes, 64 * 1024).read_to_end(&mut out)?,
        Encoding::Gzip => flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?,
    };
    Ok(out)
}

/// The generated Rust: a slice of `File` rows (the struct is in `static_files/embedded.rs`).
fn table(rows: &[Row]) -> String {
    let bytes = |path: &Path| format!("include_bytes!({:?})", path.display().to_string());
    let optional = |path: &Option<PathBuf>| {
        path.as_deref()
            .map_or_else(|| "None".to_owned(), |p| format!("Some({})", bytes(p)))
    };
    let mut code = String::from("&[\n");
    for row in rows {
        code += &format!(
            "    File {{ path: {:?}, content_type: {:?}, tag: {:?}, identity: {}, br: {}, gzip: {} }},\n",
            row.path,
            row.content_type,
            row.tag,
            bytes(&row.identity),
            optional(&row.br),
            optional(&row.gzip),
        );
    }
    code + "]\n"
}
