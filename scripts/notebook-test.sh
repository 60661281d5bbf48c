#!/usr/bin/env bash
# Runs notebooks/*.ipynb headless with the gonb Go kernel and fails if any cell failed.
# Installs what it needs: Jupyter from Debian's packages, gonb and goimports from the Go proxy.
# gonb marks a cell failed only when it does not compile, so the executed notebook is also
# scanned for panics and "exit status N" on stderr (see shared/docs/STACK.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$(go env GOPATH)/bin:$PATH"
export GOEXPERIMENT=simd GOMLX_NO_AUTO_INSTALL=1

if ! /usr/bin/python3 -c 'import nbclient, nbconvert' 2>/dev/null || ! command -v jupyter >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    jupyter-nbconvert python3-nbclient jupyter-core python3-ipykernel >/dev/null
fi
if ! command -v gonb >/dev/null; then
  tmp=$(mktemp -d)
  (cd "$tmp" && go mod init x >/dev/null 2>&1 && go get github.com/janpfeifer/gonb@v0.11.3 >/dev/null 2>&1 && go install github.com/janpfeifer/gonb)
  rm -rf "$tmp"
fi
command -v goimports >/dev/null || go install golang.org/x/tools/cmd/goimports@v0.44.0
[ -d "$(jupyter --data-dir)/kernels/gonb" ] || gonb --install --force_deps --raw_error >/dev/null

out=$(mktemp -d)   # this run's executed notebooks; nothing is shared between runs or users
trap 'rm -rf "$out"' EXIT
status=0
for nb in notebooks/*.ipynb; do
  name=$(basename "$nb" .ipynb)
  echo "running $nb"
  /usr/bin/python3 -m jupyter nbconvert --to notebook --execute --allow-errors \
    --ExecutePreprocessor.kernel_name=gonb --ExecutePreprocessor.timeout=900 \
    --output-dir "$out" "$nb" >/dev/null 2>&1
  /usr/bin/python3 - "$out/$name.ipynb" <<'PY' || status=1
import json, re, sys
nb = json.load(open(sys.argv[1]))
bad = []
for i, cell in enumerate(nb["cells"]):
    for o in cell.get("outputs", []):
        text = "".join(o.get("text", "")) if isinstance(o.get("text"), list) else o.get("text", "")
        if o.get("output_type") == "error" or (o.get("name") == "stderr" and re.search(r"panic:|exit status \d+", text)):
            bad.append((i, o.get("ename") or text[-400:]))
for i, what in bad:
    print(f"{sys.argv[1]}: cell {i} failed: {what}")
if bad:
    sys.exit(1)
print(f"{sys.argv[1]}: every cell ran")
PY
done
exit $status
