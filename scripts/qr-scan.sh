#!/usr/bin/env bash
# qr-scan.sh ELICENSE DATA_DIR — the printed QR code, scanned as a phone would:
# issue a special-operations license, render its page 1 with pdftoppm, read
# the QR with zbarimg, check it offline with `elicense qr verify` against
# exported key and status lists, check that a changed digit fails, revoke,
# export the status list again, and check that the same scan now fails.
#
#   scripts/qr-scan.sh bin/elicense data
#
# Needs pdftoppm (poppler-utils) and zbarimg (zbar-tools). Prints "qr-scan: OK".
set -euo pipefail
B=${1:?usage: qr-scan.sh ELICENSE DATA_DIR}
D=${2:?usage: qr-scan.sh ELICENSE DATA_DIR}
TOP=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "qr-scan: FAILED: $*" >&2; exit 1; }

# The sample row with a fresh license number so the script can run again.
sed "s/\"license_no\": \"[^\"]*\"/\"license_no\": \"SCAN$$$(date +%s)\"/" \
	"$TOP/testdata/samples/special-operations.json" >"$TMP/row.json"
ID=$("$B" issue --data-dir "$D" --type special-operations --input "$TMP/row.json" --out "$TMP/l.pdf")
echo "issued $ID"
pdftoppm -r 150 -f 1 -l 1 -png "$TMP/l.pdf" "$TMP/page"
TEXT=$(zbarimg -q --raw "$TMP"/page*.png | tr -d '\r\n')
[[ $TEXT == *"/V/"* ]] || fail "zbarimg read no verification URL: '$TEXT'"
echo "scanned ${#TEXT} characters: ${TEXT:0:40}…"

"$B" qr keys export --data-dir "$D" "$TMP/keys.bin" >/dev/null
"$B" qr status export --data-dir "$D" "$TMP/status.bin" >/dev/null
"$B" qr verify --data-dir "$D" --keys "$TMP/keys.bin" --status "$TMP/status.bin" "$TEXT" >/dev/null ||
	fail "the scan of a license in force does not verify"

LAST=${TEXT: -1}
BAD="${TEXT:0:${#TEXT}-1}$(( (LAST + 1) % 10 ))"
if "$B" qr verify --data-dir "$D" --keys "$TMP/keys.bin" --status "$TMP/status.bin" "$BAD" >/dev/null; then
	fail "a changed digit still verifies"
fi

"$B" license revoke --data-dir "$D" --reason "扫码测试注销" "$ID" >/dev/null
"$B" qr status export --data-dir "$D" "$TMP/status.bin" >/dev/null
set +e
"$B" qr verify --data-dir "$D" --keys "$TMP/keys.bin" --status "$TMP/status.bin" "$TEXT" >/dev/null
rc=$?
set -e
[[ $rc == 2 ]] || fail "after revocation the scan exits $rc, want 2 (authentic, not valid)"
echo "qr-scan: OK"
