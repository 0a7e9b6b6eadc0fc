#!/bin/sh
# Boots CACHE/vmlinux with an initramfs under qemu (TCG: this machine's
# KVM cannot run a stock kernel) and passes the guest's verdict on: exit 0
# only if the console shows "GUEST-EXIT rc=0".
# usage: run-guest.sh CACHE INITRAMFS LOG
# Environment: GUEST_TIMEOUT (seconds, default 600), GUEST_MEMORY (MiB,
# default 512), GUEST_APPEND (more kernel arguments), GUEST_QEMU_ARGS
# (more qemu arguments, e.g. the 9p share of hostfs mode), GUEST_CPU (the
# emulated CPU model, default max).
set -eu
cache=$1 initrd=$2 log=$3
accel=tcg,thread=multi
cpu=${GUEST_CPU:-max}
if [ -r /dev/kvm ] && grep -qE 'vmx|svm' /proc/cpuinfo; then accel=kvm; cpu=host; fi
status=0
# shellcheck disable=SC2086
timeout "${GUEST_TIMEOUT:-600}" qemu-system-x86_64 -machine pc -accel "$accel" -cpu "$cpu" \
  -smp 1 -m "${GUEST_MEMORY:-512}" \
  -nodefaults -no-user-config -nographic -no-reboot -serial stdio -monitor none \
  -kernel "$cache/vmlinux" -initrd "$initrd" ${GUEST_QEMU_ARGS:-} \
  -append "console=ttyS0 panic=-1 loglevel=3 ${GUEST_APPEND:-}" < /dev/null > "$log" 2>&1 ||
  status=$?
tr -d '\r' < "$log" | sed -n '/^ok \|^FAIL\|^     \|^  \|^measured\|passed, .* failed\|GUEST-EXIT/p'
if [ $status -ne 0 ]; then
  echo "qemu exited with status $status; console log: $log" >&2
  exit 1
fi
tr -d '\r' < "$log" | grep -q '^GUEST-EXIT rc=0$'
