// Trunk post-build hook (after csp-loader.sh, before minify.sh): gives the wasm's
// imports from its wasm-bindgen glue short names. wasm-bindgen names each import after
// the JavaScript it calls plus a 16-digit hash (`__wbg_setAttribute_0e2b…`), and both
// the wasm and the glue spell all ~200 of them; the hashes do not compress. Renaming
// them to `$0`, `$1`… in both files, and putting the new sha384 of each in index.html's
// `integrity` attributes, sends about 4.7 KB less with brotli (frontend/README.md,
// "Size"). The exports the glue calls (`__wbindgen_malloc`, the closures' `…invoke__`
// plus a hash) become `_0`, `_1`… the same way: 0.4 KB more. Only the names change: no
// code, no order. When a name cannot be found exactly where expected, the hook fails
// rather than ship a half-renamed pair.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) {
  throw new Error("short-imports: run by trunk as a post_build hook (TRUNK_STAGING_DIR)");
}

/** The unsigned LEB128 number at `at`, and where it ends. */
function readLeb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

function leb(value) {
  const out = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return Buffer.from(out);
}

function name(text) {
  const bytes = Buffer.from(text, "utf8");
  return Buffer.concat([leb(bytes.length), bytes]);
}

/** Where an import's description (after its two names) ends: the kinds of wasm 2.0. */
function skipDescription(bytes, at) {
  const kind = bytes[at++];
  const limits = (from) => {
    const flags = bytes[from];
    let [, next] = readLeb(bytes, from + 1);
    if (flags & 1) [, next] = readLeb(bytes, next);
    return next;
  };
  switch (kind) {
    case 0: return readLeb(bytes, at)[1]; // function: its type index
    case 1: return limits(at + 1); // table: element type, limits
    case 2: return limits(at); // memory: limits
    case 3: return at + 2; // global: value type, mutability
    case 4: return readLeb(bytes, at + 1)[1]; // tag: attribute, type index
    default: throw new Error(`short-imports: unknown import kind ${kind}`);
  }
}

/** The names the wasm exports: an import of the same name keeps it, since the glue
 * spells both alike. */
function exportNames(wasm) {
  const names = new Set();
  for (let at = 8; at < wasm.length; ) {
    const [size, body] = readLeb(wasm, at + 1);
    if (wasm[at] === 7) {
      let [count, cursor] = readLeb(wasm, body);
      for (let i = 0; i < count; i++) {
        const [length, nameAt] = readLeb(wasm, cursor);
        names.add(wasm.toString("utf8", nameAt, nameAt + length));
        cursor = readLeb(wasm, nameAt + length + 1)[1]; // kind, then its index
      }
    }
    at = body + size;
  }
  return names;
}

/** The wasm with its glue's imports renamed, and the renaming. */
function renameImports(wasm) {
  const exported = exportNames(wasm);
  const renamed = new Map();
  const parts = [wasm.subarray(0, 8)];
  let at = 8;
  while (at < wasm.length) {
    const start = at;
    const id = wasm[at];
    const [size, body] = readLeb(wasm, at + 1);
    at = body + size;
    if (id !== 2) {
      parts.push(wasm.subarray(start, at));
      continue;
    }
    let [count, cursor] = readLeb(wasm, body);
    const entries = [leb(count)];
    for (let i = 0; i < count; i++) {
      const [moduleLength, moduleAt] = readLeb(wasm, cursor);
      const module = wasm.subarray(cursor, moduleAt + moduleLength);
      const [fieldLength, fieldAt] = readLeb(wasm, moduleAt + moduleLength);
      let field = wasm.toString("utf8", fieldAt, fieldAt + fieldLength);
      const descriptionAt = fieldAt + fieldLength;
      cursor = skipDescription(wasm, descriptionAt);
      if (/^__wb(g|indgen)_/.test(field) && !exported.has(field)) {
        const short = `$${renamed.size.toString(36)}`;
        renamed.set(field, short);
        field = short;
      }
      entries.push(module, name(field), wasm.subarray(descriptionAt, cursor));
    }
    const section = Buffer.concat(entries);
    parts.push(Buffer.from([2]), leb(section.length), section);
  }
  return [Buffer.concat(parts), renamed];
}

/** The glue with each old name, as a whole word, replaced; every name must occur. */
function renameInGlue(glue, renamed) {
  const word = /[A-Za-z0-9_$]+/g;
  const seen = new Set();
  const out = glue.replace(word, (token) => {
    const short = renamed.get(token);
    if (short === undefined) return token;
    seen.add(token);
    return short;
  });
  const missing = [...renamed.keys()].filter((old) => !seen.has(old));
  if (missing.length > 0) {
    throw new Error(`short-imports: not in the glue: ${missing.join(", ")}`);
  }
  return out;
}

/** The names the wasm imports. */
function importNames(wasm) {
  const names = new Set();
  for (let at = 8; at < wasm.length; ) {
    const [size, body] = readLeb(wasm, at + 1);
    if (wasm[at] === 2) {
      let [count, cursor] = readLeb(wasm, body);
      for (let i = 0; i < count; i++) {
        const [moduleLength, moduleAt] = readLeb(wasm, cursor);
        const [fieldLength, fieldAt] = readLeb(wasm, moduleAt + moduleLength);
        names.add(wasm.toString("utf8", fieldAt, fieldAt + fieldLength));
        cursor = skipDescription(wasm, fieldAt + fieldLength);
      }
    }
    at = body + size;
  }
  return names;
}

/** The wasm with the exports its glue calls renamed `_0`, `_1`…, and the renaming:
 * wasm-bindgen's names (`__wbindgen_malloc`, `wasm_bindgen__convert__closures_____invoke__`
 * plus a hash) are long, and each is spelled in both files. Kept as they are: a name
 * without `_` (`memory`, `main`: a plain word may mean something else in the glue), a
 * name an import also has, and a name the glue never spells. */
function renameExports(wasm, glue) {
  const imported = importNames(wasm);
  const spelled = new Set(glue.match(/[A-Za-z0-9_$]+/g));
  const renamed = new Map();
  const parts = [wasm.subarray(0, 8)];
  let at = 8;
  while (at < wasm.length) {
    const start = at;
    const id = wasm[at];
    const [size, body] = readLeb(wasm, at + 1);
    at = body + size;
    if (id !== 7) {
      parts.push(wasm.subarray(start, at));
      continue;
    }
    let [count, cursor] = readLeb(wasm, body);
    const entries = [leb(count)];
    for (let i = 0; i < count; i++) {
      const [length, nameAt] = readLeb(wasm, cursor);
      let field = wasm.toString("utf8", nameAt, nameAt + length);
      const descriptionAt = nameAt + length;
      cursor = readLeb(wasm, descriptionAt + 1)[1]; // kind, then its index
      const keep = !field.includes("_") || imported.has(field);
      if (!keep && spelled.has(field)) {
        const short = `_${renamed.size.toString(36)}`;
        renamed.set(field, short);
        field = short;
      }
      entries.push(name(field), wasm.subarray(descriptionAt, cursor));
    }
    const section = Buffer.concat(entries);
    parts.push(Buffer.from([7]), leb(section.length), section);
  }
  return [Buffer.concat(parts), renamed];
}

const sri = (bytes) => `sha384-${createHash("sha384").update(bytes).digest("base64")}`;

const wasmFiles = readdirSync(dir).filter((f) => f.endsWith("_bg.wasm"));
if (wasmFiles.length !== 1) {
  throw new Error(`short-imports: expected one *_bg.wasm in ${dir}, found ${wasmFiles.length}`);
}
const wasmPath = join(dir, wasmFiles[0]);
const gluePath = wasmPath.replace(/_bg\.wasm$/, ".js");
const htmlPath = join(dir, "index.html");

const wasm = readFileSync(wasmPath);
const glue = readFileSync(gluePath);
const [importsRenamed, renamed] = renameImports(wasm);
const [newWasm, exportsRenamed] = renameExports(importsRenamed, glue.toString("utf8"));
const newGlue = Buffer.from(
  renameInGlue(glue.toString("utf8"), new Map([...renamed, ...exportsRenamed])),
  "utf8",
);

let html = readFileSync(htmlPath, "utf8");
for (const [before, after] of [[wasm, newWasm], [glue, newGlue]]) {
  const old = `integrity="${sri(before)}"`;
  if (!html.includes(old)) throw new Error(`short-imports: index.html lacks ${old}`);
  html = html.replace(old, `integrity="${sri(after)}"`);
}
writeFileSync(wasmPath, newWasm);
writeFileSync(gluePath, newGlue);
writeFileSync(htmlPath, html);
console.log(
  `short-imports: ${renamed.size} imports and ${exportsRenamed.size} exports renamed in ` +
    `${wasmFiles[0]} and its glue`,
);
