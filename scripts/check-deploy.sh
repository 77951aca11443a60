#!/usr/bin/env bash
# Checks deploy/ offline, without a cluster or a Prometheus: the Kubernetes manifests
# against the API schemas (kubernetes-validate --strict), the kustomization's file list,
# the runboard.toml the ConfigMap is made from, the alert rules (promtool check rules and
# their unit tests), the Grafana dashboard's JSON, and that every metric the dashboard and
# the alerts query exists in proxy/src/metrics.rs with the labels they use.
# Tools: `bash scripts/tools.sh deploy`. Part of `./x test`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PATH="$(bash scripts/tools.sh path)"
export PATH

# The oldest Kubernetes the manifests support (preStop `sleep` is on by default from
# 1.30) and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS=(1.30.0 1.37.0)

fail() { printf 'check-deploy: %s\n' "$*" >&2; exit 1; }

for tool in kubernetes-validate promtool; do
  command -v "$tool" >/dev/null ||
    fail "$tool is missing; install it with: bash scripts/tools.sh deploy"
done
# The venv's python (Debian's python3) has PyYAML, a dependency of kubernetes-validate,
# and tomllib.
PY="$(dirname "$(readlink -f "$(command -v kubernetes-validate)")")/python3"
[ -x "$PY" ] || fail "python3 of kubernetes-validate's venv is missing; reinstall with: bash scripts/tools.sh deploy"

manifests=()
for file in deploy/k8s/*.yaml; do
  # kustomization.yaml configures kustomize; it is not a Kubernetes object.
  [ "$(basename "$file")" = kustomization.yaml ] || manifests+=("$file")
done
for version in "${KUBERNETES_VERSIONS[@]}"; do
  kubernetes-validate --strict --quiet -k "$version" "${manifests[@]}" ||
    fail "kubernetes-validate: the manifests above do not match Kubernetes $version"
done
echo "check-deploy: ${#manifests[@]} manifests valid for Kubernetes ${KUBERNETES_VERSIONS[*]}"

"$PY" - <<'PY' || fail "deploy/k8s: the kustomization or runboard.toml is not consistent (above)"
import pathlib, sys, tomllib, urllib.parse, yaml

k8s = pathlib.Path("deploy/k8s")
problems = []
kustomization = yaml.safe_load((k8s / "kustomization.yaml").read_text())
listed = set(kustomization.get("resources", []))
for name in sorted(listed):
    if not (k8s / name).is_file():
        problems.append(f"kustomization.yaml lists {name}, which does not exist")
for path in sorted(k8s.glob("*.yaml")):
    if path.name != "kustomization.yaml" and not path.name.endswith(".example.yaml") \
            and path.name not in listed:
        problems.append(f"{path.name} is not listed in kustomization.yaml's resources")
for generator in kustomization.get("configMapGenerator", []):
    for name in generator.get("files", []):
        if not (k8s / name).is_file():
            problems.append(f"configMapGenerator names {name}, which does not exist")

# The configuration the pods run with: what runboard check-config would need a built
# binary for is left to it; here, what this deployment relies on.
try:
    config = tomllib.loads((k8s / "runboard.toml").read_text())
except tomllib.TOMLDecodeError as err:
    sys.exit(f"deploy/k8s/runboard.toml is not valid TOML: {err}")
docs = [d for p in sorted(k8s.glob("*.yaml")) if p.name != "kustomization.yaml"
        for d in yaml.safe_load_all(p.read_text()) if d]
deployment = next(d for d in docs if d["kind"] == "Deployment")
sidecar = next(c for c in deployment["spec"]["template"]["spec"]["containers"]
               if c["name"] == "oauth2-proxy")
flags = dict(a[2:].split("=", 1) for a in sidecar["args"])
auth = config.get("auth", {})
if auth.get("mode") != "header":
    problems.append('runboard.toml: auth.mode must be "header" behind oauth2-proxy')
if auth.get("trusted_proxies") != ["127.0.0.1/32"]:
    problems.append('runboard.toml: auth.trusted_proxies must be exactly ["127.0.0.1/32"], the sidecar')
port = config.get("listen", "").rsplit(":", 1)[-1]
if flags.get("upstream") != f"http://127.0.0.1:{port}/":
    problems.append(f"oauth2-proxy --upstream is not runboard's listen port on 127.0.0.1 ({port})")
if not (auth.get("run_users") or auth.get("run_groups") or auth.get("run_everyone")):
    problems.append("runboard.toml: name who may start runs (run_users, run_groups or run_everyone)")
if "url" in config.get("ledger", {}):
    problems.append("runboard.toml: ledger.url holds a password; it belongs in the Secret runboard-ledger")
for i, project in enumerate(config.get("projects", [])):
    if not str(project.get("api_key_file", "")).startswith("/run/secrets/runboard/"):
        problems.append(f"runboard.toml: projects[{i}] must take its key from /run/secrets/runboard/ (api_key_file)")
host = urllib.parse.urlsplit(config.get("public_url", "")).hostname
ingress_hosts = {r["host"] for d in docs if d["kind"] == "Ingress" for r in d["spec"]["rules"]}
redirect_host = urllib.parse.urlsplit(flags.get("redirect-url", "")).hostname
if not host or ingress_hosts != {host} or redirect_host != host:
    problems.append(f"public_url's host ({host}), the Ingress host(s) {sorted(ingress_hosts)} "
                    f"and oauth2-proxy's --redirect-url host ({redirect_host}) must be one")
for problem in problems:
    print(f"check-deploy: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
echo "check-deploy: kustomization and runboard.toml consistent"

promtool check rules deploy/prometheus/alerts.yml >/dev/null ||
  { promtool check rules deploy/prometheus/alerts.yml; fail "promtool check rules: deploy/prometheus/alerts.yml"; }

"$PY" -m json.tool deploy/grafana/runboard.json >/dev/null ||
  fail "deploy/grafana/runboard.json is not valid JSON (python3 -m json.tool)"

"$PY" - <<'PY' || fail "a metric or label the dashboard or the alerts use is not in proxy/src/metrics.rs (above)"
# The exported names, from proxy/src/metrics.rs: the registry's prefix, each registered
# family, its type (a counter gains _total, a histogram _bucket/_sum/_count) and the
# fields of its label struct.
import glob, json, re, sys, yaml

source = open("proxy/src/metrics.rs").read()
prefix = re.search(r'Registry::with_prefix\("(\w+)"\)', source).group(1)
structs = {name: re.findall(r"^\s*(\w+):", body, re.M)
           for name, body in re.findall(r"struct (\w+) \{(.*?)\n\}", source, re.S)}
fields = {}
for field, labels, kind in re.findall(
        r"^\s*(\w+): (?:Family<(\w+), )?(Counter|Gauge|Histogram)>?,", source, re.M):
    fields[field] = (kind, structs.get(labels, []) if labels else [])
exported = {}
for name, field in re.findall(r'registry\.register\(\s*"(\w+)",\s*"[^"]*",\s*(\w+)\.clone\(\)', source):
    if field not in fields:
        sys.exit(f"check-deploy: cannot tell the type of {name} ({field}) in proxy/src/metrics.rs")
    kind, labels = fields[field]
    base = f"{prefix}_{name}"
    suffixes = {"Counter": ["_total"], "Gauge": [""], "Histogram": ["_bucket", "_sum", "_count"]}[kind]
    for suffix in suffixes:
        exported[base + suffix] = set(labels) | ({"le"} if suffix == "_bucket" else set())
if not exported:
    sys.exit("check-deploy: found no metric registrations in proxy/src/metrics.rs")

# Every PromQL expression of the dashboard, the alerts and the alerts' unit tests.
def strings(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "query", "definition", "series") and isinstance(value, str):
                yield value
            else:
                yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)

documents = {
    "deploy/grafana/runboard.json": json.load(open("deploy/grafana/runboard.json")),
    "deploy/prometheus/alerts.yml": yaml.safe_load(open("deploy/prometheus/alerts.yml")),
    "deploy/prometheus/alerts.test.yml": yaml.safe_load(open("deploy/prometheus/alerts.test.yml")),
}
# Labels Prometheus adds to every scraped series, usable in any grouping.
target_labels = {"job", "instance", "le"}
# Labels whose values are a fixed vocabulary written as string literals in the code
# (route templates in shared/, endpoint labels, events, outcomes, reasons).
literals = set()
for rs in glob.glob("proxy/src/**/*.rs", recursive=True) + glob.glob("shared/src/**/*.rs", recursive=True):
    literals.update(re.findall(r'"([^"\\]*)"', open(rs).read()))
vocabulary = {"route", "endpoint", "event", "outcome", "reason"}
all_labels = set().union(*exported.values()) | target_labels
inner = r'(?:[^"\\]|\\.)*'
string = f'"{inner}"'
problems, used = [], set()
for path, document in documents.items():
    for expr in strings(document):
        for metric, selector in re.findall(
                rf"\b({prefix}_\w+)(?:\{{((?:[^}}\"]|{string})*)\}})?", expr):
            used.add(metric)
            if metric not in exported:
                problems.append(f"{path}: {metric} is not exported (exported: {', '.join(sorted(exported))})")
                continue
            for label, op, value in re.findall(rf'(\w+)\s*(=~|!~|!=|=)\s*"({inner})"', selector):
                if label not in exported[metric] | target_labels:
                    problems.append(f"{path}: {metric} has no label {label!r} "
                                    f"(it has {', '.join(sorted(exported[metric]))})")
                # Exact values, and regexes that are only alternatives of plain words.
                words = value.split("|") if op in ("=~", "!~") else [value]
                if label in vocabulary and all(re.fullmatch(r"[\w/{}]+", w) for w in words):
                    for word in words:
                        if word not in literals:
                            problems.append(f"{path}: {label}={word!r} is never written by "
                                            "proxy/src or shared/src")
        for clause in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expr):
            for label in re.findall(r"\w+", clause):
                if label not in all_labels:
                    problems.append(f"{path}: no Runboard metric has the label {label!r}")
for problem in problems:
    print(f"check-deploy: {problem}", file=sys.stderr)
if problems:
    sys.exit(1)
print(f"check-deploy: {len(used)} metric names used, all in proxy/src/metrics.rs")
PY

# The unit tests compare labels only: they run on a copy of the rules without annotations.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$PY" - deploy/prometheus/alerts.yml "$tmp/alerts.yml" <<'PY'
import sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))
for group in rules["groups"]:
    for rule in group["rules"]:
        rule.pop("annotations", None)
yaml.safe_dump(rules, open(sys.argv[2], "w"), sort_keys=False)
PY
cp deploy/prometheus/alerts.test.yml "$tmp/"
promtool test rules "$tmp/alerts.test.yml" >"$tmp/test.log" 2>&1 ||
  { cat "$tmp/test.log"; fail "promtool test rules: deploy/prometheus/alerts.test.yml"; }
echo "check-deploy: alert rules valid and their unit tests pass (promtool)"
echo "check-deploy: OK"
