#!/usr/bin/env bash
# Installs what fwd needs on a fresh Debian 12 machine and mounts bpffs.
# Idempotent and quiet when everything is already there. Run as root.
set -euo pipefail

pkgs=(clang-19 llvm-19 libbpf-dev linux-libc-dev iproute2 ethtool bpftool gobgpd tcpdump)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if ((${#missing[@]})); then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing packages: ${missing[*]}; run 'sudo make deps'" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# apt-get update once per machine; a stale list can't find clang-19.
	if [ ! -e /var/lib/apt/lists/fwd-updated ] || ! apt-cache show clang-19 >/dev/null 2>&1; then
		apt-get update -qq
		touch /var/lib/apt/lists/fwd-updated
	fi
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# bpffs for pinning, and the directory fwd pins into.
if [ "$(id -u)" -eq 0 ]; then
	if ! mountpoint -q /sys/fs/bpf; then
		mount -t bpf bpf /sys/fs/bpf
	fi
fi
