#!/bin/sh
# Builds a real Debian live ISO with Debian's own live-build (distro-live-spec §5.1),
# once: the result is cached under $1/<key>/ where the key is a hash of this script
# (its flags are the inputs). Prints the ISO's path. Needs root, live-build, and
# deb.debian.org; takes ~6 min on 2 cores.
set -eu
cache=${1:?usage: build-iso.sh <cache dir>}
key=$(sha256sum "$0" | cut -c1-16)
out="$cache/$key"
iso="$out/live-image-amd64.hybrid.iso"
if [ -s "$iso" ]; then echo "$iso"; exit 0; fi
command -v lb >/dev/null || { echo "build-iso.sh: live-build is not installed (apt-get install live-build)" >&2; exit 1; }
work="$out.work"
rm -rf "$work"; mkdir -p "$work"; cd "$work"
export SOURCE_DATE_EPOCH=1780000000
lb config --mode debian --distribution bookworm --architectures amd64 --binary-images iso-hybrid \
  --archive-areas main --apt-recommends false --apt-indices false \
  --firmware-chroot false --firmware-binary false --debian-installer none --memtest none \
  --security false --updates false --linux-flavours amd64 --iso-volume LIVEINIT_DEB \
  --chroot-squashfs-compression-type zstd --bootappend-live "boot=live components console=ttyS0" \
  >lb-config.log 2>&1
lb build >lb-build.log 2>&1 || { tail -30 lb-build.log >&2; exit 1; }
mkdir -p "$out"
mv live-image-amd64.hybrid.iso "$iso"
cp lb-build.log "$out/"
cd /; rm -rf "$work"
echo "$iso"
