#!/usr/bin/env bash
# Installs the Debian packages the build needs, once. Quiet when all are present.
set -eu
need=()
for pkg in gcc clang make libcmocka-dev libclang-rt-14-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || need+=("$pkg")
done
# Optional: iasl (acpica-tools) for the guest DMAR check; the test skips
# without it, so a failed install is reported and never fatal.
if ! command -v iasl >/dev/null 2>&1 && ! dpkg-query -W -f='${Status}' acpica-tools 2>/dev/null | grep -q 'ok installed'; then
    S=""; [ "$(id -u)" -ne 0 ] && S="sudo"
    echo "deps: installing acpica-tools (optional)" >&2
    if ! DEBIAN_FRONTEND=noninteractive $S apt-get install -y -qq --no-install-recommends acpica-tools >/dev/null 2>&1; then
        { $S apt-get update -qq && DEBIAN_FRONTEND=noninteractive $S apt-get install -y -qq --no-install-recommends acpica-tools; } >/dev/null 2>&1 ||
            echo "deps: acpica-tools could not be installed: the DMAR check will skip" >&2
    fi
fi
[ ${#need[@]} -eq 0 ] && exit 0
echo "deps: installing ${need[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
