#!/usr/bin/env bash
# Builds CRIU (checkpoint/restore in userspace) into .tools/criu/criu, for `make bench`'s SnapStart
# restore timing: bench/restore.py checkpoints a primed function and times restoring it, the local
# stand-in for Lambda's restore of a snapshot. Optional: without it that column says "not measured".
#
# Debian 12's criu (3.17) cannot read the vDSO of recent kernels; 4.1.1 (Debian 13's source) can.
# Needs root (apt-get here, and CRIU itself to dump and restore). About 30 s after the packages.
set -euo pipefail

VERSION=4.1.1
SHA256=f80a66cb3726bb2116266d4759ce3bcbfab7abdb6b6d430bf20dd41911717afe
SOURCE="http://deb.debian.org/debian/pool/main/c/criu/criu_${VERSION}.orig.tar.xz"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="$ROOT/.tools/criu"

if [ -x "$TARGET/criu" ] && "$TARGET/criu" --version | grep -q "$VERSION"; then
  echo "criu $VERSION is in $TARGET"; exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "building and running CRIU needs root" >&2; exit 1; }

PACKAGES=(build-essential pkg-config libprotobuf-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
  python3-protobuf libnl-3-dev libnet1-dev libcap-dev libbsd-dev libaio-dev libgnutls28-dev
  libnftables-dev uuid-dev curl xz-utils)
install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null; }
install || { apt-get update -qq && install; }  # a fresh machine may have no package lists yet

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
curl -fsSL "$SOURCE" -o "$WORK/criu.tar.xz"
echo "$SHA256  $WORK/criu.tar.xz" | sha256sum -c --quiet
tar -xJf "$WORK/criu.tar.xz" -C "$WORK"
make -C "$WORK/criu-$VERSION" -j"$(nproc)" criu >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; exit 1; }
mkdir -p "$TARGET"
cp "$WORK/criu-$VERSION/criu/criu" "$TARGET/criu"
"$TARGET/criu" check >/dev/null 2>&1 || echo "warning: 'criu check' fails on this kernel: restores may not work" >&2
echo "criu $VERSION built into $TARGET"
