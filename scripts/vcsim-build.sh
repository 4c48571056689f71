#!/usr/bin/env bash
# Builds vcsim (VMware's vCenter simulator, from Debian's govmomi library) for the vSphere driver's tests
# and benchmark, once: the binary is cached under ~/.cache/polyvisor/vcsim/<hash>/vcsim, where the hash
# covers tools/vcsim/main.go, `go version` and the govmomi package's version. Prints the binary's path as
# its last line. Safe to run twice (and concurrently: the build goes to a temp name, then a rename).
# Needs golang-go and golang-github-vmware-govmomi-dev (scripts/setup.sh installs them); builds offline.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[vcsim-build] %s\n' "$*" >&2; }
command -v go >/dev/null || { log "go is missing: apt-get install golang-go golang-github-vmware-govmomi-dev"; exit 1; }
GOVMOMI=/usr/share/gocode/src/github.com/vmware/govmomi
[ -d "$GOVMOMI/simulator" ] || { log "govmomi is missing: apt-get install golang-github-vmware-govmomi-dev"; exit 1; }
govmomi_version=$(dpkg-query -W -f='${Version}' golang-github-vmware-govmomi-dev 2>/dev/null || echo unknown)
hash=$({ sha256sum tools/vcsim/main.go; go version; echo "$govmomi_version"; } | sha256sum | cut -c1-16)
dir="${XDG_CACHE_HOME:-$HOME/.cache}/polyvisor/vcsim/$hash"
bin="$dir/vcsim"
if [ -x "$bin" ]; then
  log "cached: $bin"
  echo "$bin"
  exit 0
fi
mkdir -p "$dir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp tools/vcsim/main.go "$work/main.go"
log "building vcsim (govmomi $govmomi_version, $(go version | cut -d' ' -f3)); about 20 s"
(cd "$work" && GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE="${GOCACHE:-$dir/../gocache}" \
  go build -o "$work/vcsim" .)
mv -f "$work/vcsim" "$bin.tmp.$$"
mv -f "$bin.tmp.$$" "$bin"
log "built: $bin"
echo "$bin"
