#!/usr/bin/env bash
# Runs notebooks headless with the gonb Go kernel and fails if any cell failed.
#
#   scripts/notebook-test.sh [--update] [NOTEBOOK.ipynb ...]   (default: notebooks/*.ipynb)
#
# --update writes each executed notebook back in place (outputs, plots) when every cell ran:
# that is how the committed outputs are refreshed (`make notebooks`).
# NOTEBOOK_TIMEOUT (seconds, default 900) bounds each notebook's whole run.
#
# gonb marks a cell failed only when it does not compile, so the executed notebook is also
# scanned for panics and "exit status N" on stderr (see shared/docs/STACK.md). Each notebook
# runs with its own temporary folder (TMPDIR, so os.TempDir() in a cell), removed afterwards
# unless the notebook failed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/notebook-setup.sh
export PATH="/usr/local/go/bin:$(go env GOPATH)/bin:$PATH"
export GOEXPERIMENT=simd GOMLX_NO_AUTO_INSTALL=1

update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
[ $# -gt 0 ] || set -- notebooks/*.ipynb
limit=${NOTEBOOK_TIMEOUT:-900}

status=0
for nb in "$@"; do
  name=$(basename "$nb" .ipynb)
  work=$(mktemp -d -t "golem-nb-$name.XXXXXX")
  echo "running $nb (temporary files in $work)"
  start=$(date +%s)
  rc=0
  TMPDIR="$work" timeout "$limit" /usr/bin/python3 -m jupyter nbconvert --to notebook --execute --allow-errors \
    --ExecutePreprocessor.kernel_name=gonb --ExecutePreprocessor.timeout="$limit" \
    --output-dir "$work" "$nb" >"$work/nbconvert.log" 2>&1 || rc=$?
  if [ $rc -ne 0 ]; then
    if [ $rc -eq 124 ]; then echo "$nb: timed out after ${limit}s (NOTEBOOK_TIMEOUT)"; else echo "$nb: nbconvert failed (exit $rc):"; tail -20 "$work/nbconvert.log"; fi
    echo "$nb: kept $work"
    status=1
    continue
  fi
  if /usr/bin/python3 - "$work/$name.ipynb" "$nb" <<'PY'; then
import json, re, sys
nb = json.load(open(sys.argv[1]))
bad = []
for i, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
    for o in cell.get("outputs", []):
        text = o.get("text", "")
        text = "".join(text) if isinstance(text, list) else text
        if o.get("output_type") == "error":
            bad.append((i, (o.get("ename", "") + ": " + o.get("evalue", ""))[-600:]))
        elif o.get("name") == "stderr" and re.search(r"panic:|exit status \d+", text):
            bad.append((i, text[-600:]))
for i, what in bad:
    print(f"{sys.argv[2]}: code cell {i + 1} failed: {what}")
sys.exit(1 if bad else 0)
PY
    echo "$nb: every cell ran ($(( $(date +%s) - start ))s)"
    if [ $update -eq 1 ]; then cp "$work/$name.ipynb" "$nb"; echo "$nb: outputs updated"; fi
    rm -rf "$work"
  else
    echo "$nb: kept $work"
    status=1
  fi
done
exit $status
