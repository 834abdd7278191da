#!/usr/bin/env bash
# Installs the Debian packages elicense needs, only those missing.
#   scripts/install-deps.sh run    the font the renderer needs (make run)
#   scripts/install-deps.sh test   everything the tests use (make test, CI)
set -euo pipefail
want=(fonts-wqy-microhei)
if [ "${1:-run}" = test ]; then
  want+=(qpdf poppler-utils zbar-tools openssl curl jq chromium)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! command -v apt-get >/dev/null; then
  echo "apt-get not found: install ${missing[*]} with your package manager" >&2
  exit 1
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
