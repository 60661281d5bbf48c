#!/usr/bin/env bash
# Tests scripts/notebook-test.sh on the fixture notebooks in testdata/notebooks: ok.ipynb must
# pass; a compile error, a panic and a non-zero exit must each fail it, naming the cell.
set -uo pipefail
cd "$(dirname "$0")/.."
fail=0
out=$(scripts/notebook-test.sh testdata/notebooks/ok.ipynb 2>&1)
if [ $? -ne 0 ]; then echo "FAIL: ok.ipynb should pass:"; echo "$out"; fail=1; fi
for case in compile-error:undefined panic:"a cell that panics" exit-status:"exit status 3"; do
  name=${case%%:*} want=${case#*:}
  out=$(scripts/notebook-test.sh "testdata/notebooks/$name.ipynb" 2>&1)
  rc=$?
  if [ $rc -eq 0 ] || ! grep -q "code cell 1 failed" <<<"$out" || ! grep -q "$want" <<<"$out"; then
    echo "FAIL: $name.ipynb: want a failure naming code cell 1 and \"$want\", got exit $rc:"; echo "$out"; fail=1
  else
    echo "ok: $name.ipynb fails the runner"
  fi
  rm -rf $(sed -n 's/.*: kept //p' <<<"$out")
done
exit $fail
