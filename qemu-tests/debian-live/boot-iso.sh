#!/bin/bash
# The real-media proof (distro-live-spec §5.1, §7 D1): a Debian live ISO built
# by Debian's own live-build (build-iso.sh, cached) boots to systemd's
# multi-user target twice, with `boot=live components`: once with Debian's own
# initramfs (live-boot), once with liveinit packed from the ISO's own kernel
# modules. Each root reports its state (check/, added to the ISO as
# live/zz-check.squashfs) and powers off. Fails unless both reach
# multi-user.target with no failed unit and leave the same /run/live mounts.
# Prints the side by side: time from the kernel's `Run /init` to systemd's
# first line, and the two initramfs sizes.
#
# usage: boot-iso.sh <worktree> <cache dir> [<out dir>]
set -euo pipefail
W=$(realpath "$1"); C=$2; OUT=${3:-$W/target/qemu-tests/debian-iso}
here=$W/qemu-tests/debian-live
iso=$("$here/build-iso.sh" "$C")
dir=$(dirname "$iso")
mkdir -p "$OUT"
# The ISO's kernel, Debian's initramfs, and the modules of that kernel.
if [ ! -s "$dir/vmlinuz" ]; then
  xorriso -osirrox on -indev "$iso" -extract /live/vmlinuz "$dir/vmlinuz" \
    -extract /live/initrd.img "$dir/debian-initrd.img" \
    -extract /live/filesystem.squashfs "$dir/filesystem.squashfs" >/dev/null 2>&1
  rm -rf "$dir/modroot"
  unsquashfs -q -n -d "$dir/modroot" "$dir/filesystem.squashfs" usr/lib/modules >/dev/null
  rm -f "$dir/filesystem.squashfs"
fi
moddir=$(ls -d "$dir"/modroot/usr/lib/modules/* | head -1)
(cd "$W" && cargo xtask initramfs --modules-dir "$moddir" --output "$OUT/liveinit.img" >/dev/null)
# The ISO with the check added (rebuilt when check/ changes).
mksquashfs "$here/check" "$OUT/zz-check.squashfs" -all-root -noappend -quiet >/dev/null
checked=$OUT/checked.iso
rm -f "$checked"
xorriso -indev "$iso" -outdev "$checked" -map "$OUT/zz-check.squashfs" /live/zz-check.squashfs \
  -boot_image any replay >/dev/null 2>&1

boot() { # name initrd
  local log=$OUT/$1.log
  rm -f "$log" "$OUT/$1.check"
  timeout 1200 qemu-system-x86_64 -machine q35,accel=tcg -m 2048 -smp 1 -nic none \
    -display none -no-reboot -serial "file:$log" -serial "file:$OUT/$1.check" -monitor none \
    -kernel "$dir/vmlinuz" -initrd "$2" \
    -append "boot=live components console=ttyS0 panic=-1" \
    -drive "file=$checked,media=cdrom,readonly=on,if=ide" || { echo "$1: QEMU failed or timed out" >&2; return 1; }
}
section() { # check-output name
  tr -d '\r' <"$1" | awk -v s="--- $2" '$0==s{on=1;next} /^--- |^=== /{on=0} on'
}
stamp() { # log pattern -> seconds
  tr -d '\r' <"$1" | awk -v p="$2" '$0 ~ p && !done {sub(/^\[ */, ""); sub(/\].*/, ""); print; done=1}'
}
fail=0
# One after the other, so that neither slows the other's clock.
boot debian "$dir/debian-initrd.img" || fail=1
boot liveinit "$OUT/liveinit.img" || fail=1
for who in debian liveinit; do
  log=$OUT/$who.log
  check=$OUT/$who.check
  state=$(section "$check" state)
  failed=$(section "$check" failed)
  target=$(section "$check" target)
  echo "$who: system $state, multi-user.target $target, failed units: ${failed:-none}"
  [ "$target" = active ] && [ -z "$failed" ] && [ "$state" = running ] || { echo "$who: FAILED (log: $log)"; fail=1; }
  section "$check" mountinfo | awk '$5 ~ /^\/run\/live|^\/$/ {for(i=7;i<=NF;i++) if($i=="-") break; print $5, $(i+1), $(i+2)}' \
    | sed 's/\/dev\/loop[0-9]*/loop/' | sort >"$OUT/$who.mounts"
  section "$check" mountinfo | awk '$5 ~ /^\/run\/live|^\/$/' >"$OUT/$who.mountinfo"
  run=$(stamp "$log" "Run /init as init process"); sd=$(stamp "$log" "systemd\[1\]: systemd [0-9]")
  echo "$who: Run /init at ${run:-?} s, systemd at ${sd:-?} s: $(awk -v a="${run:-0}" -v b="${sd:-0}" 'BEGIN{printf "%.2f", b-a}') s"
done
if diff -u "$OUT/debian.mounts" "$OUT/liveinit.mounts"; then
  echo "same /run/live mounts and root:"; sed 's/^/  /' "$OUT/liveinit.mounts"
else
  echo "the /run/live mounts differ (above)"; fail=1
fi
echo "initramfs sizes: Debian $(stat -c %s "$dir/debian-initrd.img") bytes, liveinit $(stat -c %s "$OUT/liveinit.img") bytes"
exit $fail
