#!/usr/bin/env bash
# Makes a Polyvisor release from a clean checkout (docs/releasing.md):
#
#   scripts/release.sh VERSION [--key FILE] [--out DIR] [--skip-appliance]
#
#   VERSION           semver without a "v" (1.2.0, 1.3.0-rc.1)
#   --key FILE        Ed25519 private key (PEM) that signs SHA256SUMS (default: $POLYVISOR_RELEASE_KEY)
#   --out DIR         where the artefacts go (default: releases/VERSION in the checkout, git-ignored);
#                     it must not exist yet, or be empty
#   --skip-appliance  leave out the appliance images (quick runs and tests)
#
# Steps: refuse a bad VERSION, a bad key and a dirty tree; bump the version in package.json and
# package-lock.json (the code reads it from package.json: src/shared/version.ts); prepend the
# CHANGELOG.md section from the commits since the previous tag (scripts/release-changelog.sh);
# commit "release VERSION"; build dist/ from scratch; npm pack and git archive into OUT; build the
# appliance images (polyvisor appliance build, cached by its inputs) into OUT/appliance; write
# OUT/SHA256SUMS over every file and sign it (OUT/SHA256SUMS.sig: raw Ed25519 by
# `openssl pkeyutl -sign -rawin`); check the result with the built `polyvisor release verify`;
# then, last, tag vVERSION (annotated, its message holding SHA256SUMS).
#
# Artefacts are written into OUT.partial and renamed to OUT only once signed and verified. Safe to
# re-run: with the tag vVERSION present it says the release exists and stops, changing nothing
# (exit 4); a run that failed after its "release VERSION" commit is resumed from the build.
#
# Exit: 0 released, 1 a step failed, 2 bad arguments, VERSION or key, 4 release exists / OUT not empty.
# Progress goes to stderr; the last stdout line is OUT.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf '[release] %s\n' "$*" >&2; }
die() { local code=$1; shift; printf '[release] ERROR: %s\n' "$*" >&2; exit "$code"; }
usage() { sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

VERSION= KEY=${POLYVISOR_RELEASE_KEY:-} OUT= SKIP_APPLIANCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --key) [ $# -ge 2 ] || die 2 "--key needs a file"; KEY=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || die 2 "--out needs a directory"; OUT=$2; shift 2 ;;
    --skip-appliance) SKIP_APPLIANCE=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) die 2 "unknown option $1 (see scripts/release.sh --help)" ;;
    *) [ -z "$VERSION" ] || die 2 "one VERSION only (got $VERSION and $1)"; VERSION=$1; shift ;;
  esac
done

# ------------------------------------------------------------------ checks --
[ -n "$VERSION" ] || die 2 "give the VERSION to release, e.g. scripts/release.sh 1.2.0 --key release.key"
[[ "$VERSION" == v* ]] && die 2 "VERSION is semver without the v: ${VERSION#v} (the tag will be $VERSION)"
ID='(0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)'
SEMVER="^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-$ID(\.$ID)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$"
[[ "$VERSION" =~ $SEMVER ]] || die 2 "VERSION '$VERSION' is not semver MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] (https://semver.org), e.g. 1.2.0 or 1.3.0-rc.1"
TAG="v$VERSION"

for tool in git npm node openssl sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die 1 "$tool is missing (apt-get install git nodejs npm openssl coreutils)"
done
cd "$REPO"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || die 1 "$REPO is not a git checkout"

if git rev-parse -q --verify "refs/tags/$TAG" >/dev/null; then
  log "release $VERSION exists: tag $TAG on $(git rev-parse --short "$TAG^{commit}"); nothing changed"
  exit 4
fi

[ -n "$KEY" ] || die 2 "give the signing key: --key FILE (an Ed25519 private key in PEM; docs/releasing.md says how to make one) or POLYVISOR_RELEASE_KEY"
[ -r "$KEY" ] || die 2 "cannot read the key file $KEY"
KEY=$(cd "$(dirname "$KEY")" && pwd)/$(basename "$KEY")
openssl pkey -in "$KEY" -noout -text 2>/dev/null | head -n1 | grep -q '^ED25519 Private-Key' \
  || die 2 "$KEY is not an Ed25519 private key in PEM (make one: openssl genpkey -algorithm ed25519 -out release.key)"

OUT=${OUT:-$REPO/releases/$VERSION}
OUT=$(realpath -m -- "$OUT")
if [ -e "$OUT" ] && { [ ! -d "$OUT" ] || [ -n "$(ls -A "$OUT")" ]; }; then
  die 4 "$OUT exists and is not an empty directory; nothing changed (give another --out, or remove it)"
fi

DIRTY=$(git status --porcelain --untracked-files=normal)
[ -z "$DIRTY" ] || die 1 "the tree has uncommitted or untracked changes; commit or remove them first:"$'\n'"$DIRTY"

# Version order: the numeric core may not go below the previous release's.
PREV=$(git describe --tags --abbrev=0 --match 'v[0-9]*' 2>/dev/null || true)
core() { local v=${1%%+*}; echo "${v%%-*}"; }
if [ -n "$PREV" ]; then
  lower=$(printf '%s\n%s\n' "$(core "${PREV#v}")" "$(core "$VERSION")" | sort -V | head -n1)
  if [ "$lower" != "$(core "${PREV#v}")" ]; then die 2 "VERSION $VERSION is below the previous release $PREV"; fi
fi

# ----------------------------------------------------- bump, changelog, commit --
if [ "$(git log -1 --format=%s)" = "release $VERSION" ]; then
  log "HEAD is already the commit \"release $VERSION\" (an earlier run stopped after it): resuming from the build"
else
  log "bumping the version to $VERSION (package.json, package-lock.json)"
  npm version "$VERSION" --no-git-tag-version --allow-same-version >/dev/null
  log "writing the CHANGELOG.md section for $VERSION (commits since ${PREV:-the first commit})"
  SECTION=$(bash "$REPO/scripts/release-changelog.sh" "$VERSION" "$PREV")
  {
    printf '# Changelog\n\nWritten by scripts/release.sh from the commit subjects (docs/releasing.md).\n\n%s\n' "$SECTION"
    if [ -f CHANGELOG.md ]; then printf '\n'; sed '1,/^## /{/^## /!d}' CHANGELOG.md; fi
  } > CHANGELOG.md.new
  mv CHANGELOG.md.new CHANGELOG.md
  git add package.json package-lock.json CHANGELOG.md
  git commit -q -m "release $VERSION"
fi
COMMIT=$(git rev-parse HEAD)

# ------------------------------------------------------------- artefacts --
PART="$OUT.partial"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
rm -rf "$PART"
mkdir -p "$PART"

log "building dist/ from scratch (npm run build)"
rm -rf dist
npm run --silent build >&2
log "npm pack"
npm pack --silent --pack-destination "$PART" >&2
log "source archive (git archive of $TAG's commit)"
git archive --format=tar.gz --prefix="polyvisor-$VERSION/" -o "$PART/polyvisor-$VERSION-src.tar.gz" "$COMMIT"

if [ "$SKIP_APPLIANCE" = 1 ]; then
  log "appliance images skipped (--skip-appliance)"
else
  log "appliance images (polyvisor appliance build; reuses its cache)"
  POLYVISOR_APPLIANCE_VERSION=$VERSION node "$REPO/bin/polyvisor.js" appliance build --out "$PART/appliance" >&2
fi

log "SHA256SUMS and its signature"
(
  cd "$PART"
  find . -type f ! -path ./SHA256SUMS ! -path ./SHA256SUMS.sig -printf '%P\0' | LC_ALL=C sort -z | xargs -0 sha256sum -- > "$TMP/SHA256SUMS"
)
mv "$TMP/SHA256SUMS" "$PART/SHA256SUMS"
openssl pkeyutl -sign -inkey "$KEY" -rawin -in "$PART/SHA256SUMS" -out "$PART/SHA256SUMS.sig"
openssl pkey -in "$KEY" -pubout -out "$TMP/release.pub.pem"
log "checking the release with the built CLI (polyvisor release verify)"
node "$REPO/bin/polyvisor.js" release verify "$PART" --key "$TMP/release.pub.pem" >&2

[ -d "$OUT" ] && rmdir "$OUT"
mv "$PART" "$OUT"

log "tagging $TAG"
git tag -a "$TAG" -m "Polyvisor $VERSION" -m "SHA256SUMS of the release artefacts:" -m "$(cat "$OUT/SHA256SUMS")" "$COMMIT"

log "released $VERSION: commit $(git rev-parse --short "$COMMIT"), tag $TAG, $(wc -l < "$OUT/SHA256SUMS") file(s) in $OUT"
log "publish: git push origin HEAD $TAG, then upload every file of $OUT"
echo "$OUT"
