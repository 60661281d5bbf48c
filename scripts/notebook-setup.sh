#!/usr/bin/env bash
# Installs what golem's notebooks need, idempotently (a second run takes about a second):
#   - Jupyter from Debian's packages (the classic notebook server; JupyterLab is not in
#     Debian 12), nbconvert and nbclient for headless runs;
#   - gonb (the Go kernel) and goimports from the Go module proxy, into $(go env GOPATH)/bin;
#   - the gonb kernel registered with Jupyter.
# No PyPI. apt-get needs root; when Jupyter is already installed nothing is asked of apt.
# Afterwards put Go's bin folders on PATH (gonb calls go and goimports):
#   export PATH=/usr/local/go/bin:$(go env GOPATH)/bin:$PATH
# `make jupyter` does that and opens the notebooks.
set -euo pipefail
export PATH="/usr/local/go/bin:$(go env GOPATH)/bin:$PATH"

GONB_VERSION=v0.11.3       # the version gomlx v0.28 requires
GOIMPORTS_VERSION=v0.44.0

if ! /usr/bin/python3 -c 'import nbclient, nbconvert, notebook' 2>/dev/null || ! command -v jupyter >/dev/null; then
  echo "installing Jupyter (Debian packages)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    jupyter-notebook python3-notebook jupyter-nbconvert python3-nbclient jupyter-core python3-ipykernel >/dev/null
fi
# gonb --version prints its own string (v0.11.1 in v0.11.3), so read the module version instead.
if ! command -v gonb >/dev/null || ! go version -m "$(command -v gonb)" 2>/dev/null | grep -q "janpfeifer/gonb[[:space:]]*$GONB_VERSION"; then
  echo "installing gonb $GONB_VERSION" >&2
  # `go install module@version` is refused by the proxy for gonb (its version list is); install
  # from a throw-away module instead.
  tmp=$(mktemp -d)
  (cd "$tmp" && go mod init x >/dev/null 2>&1 && go get "github.com/janpfeifer/gonb@$GONB_VERSION" >/dev/null 2>&1 && go install github.com/janpfeifer/gonb)
  rm -rf "$tmp"
fi
if ! command -v goimports >/dev/null; then
  echo "installing goimports $GOIMPORTS_VERSION" >&2
  go install "golang.org/x/tools/cmd/goimports@$GOIMPORTS_VERSION"
fi
if [ ! -f "$(jupyter --data-dir)/kernels/gonb/kernel.json" ]; then
  echo "registering the gonb kernel with Jupyter" >&2
  gonb --install --force_deps --raw_error >/dev/null
fi
echo "notebook tooling ready: $(command -v jupyter), $(command -v gonb), $(command -v goimports)" >&2
