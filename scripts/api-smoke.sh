#!/usr/bin/env bash
# api-smoke.sh BASE_URL — a walk through the HTTP API with curl:
# create keys, issue a license, download it, verify the upload (genuine),
# revoke it, verify again (authentic, not valid: revoked), list use records.
#
# The admin key comes from ELICENSE_ADMIN_KEY (the key text) or
# ELICENSE_ADMIN_KEY_FILE (default data/secrets/demo-admin-key, which
# `elicense serve` writes on first start of the demo city).
#
#   make run &                       # or: bin/elicense serve --data-dir data
#   scripts/api-smoke.sh http://localhost:8080
#
# Needs bash, curl and jq. Prints "smoke: OK" at the end and exits 0.
set -euo pipefail

BASE=${1:?usage: api-smoke.sh BASE_URL}
BASE=${BASE%/}
ADMIN=${ELICENSE_ADMIN_KEY:-}
if [[ -z $ADMIN ]]; then
	KEYFILE=${ELICENSE_ADMIN_KEY_FILE:-data/secrets/demo-admin-key}
	ADMIN=$(tr -d '\r\n' <"$KEYFILE")
fi
command -v jq >/dev/null || { echo "smoke: jq is required" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { echo "smoke: FAILED: $*" >&2; exit 1; }

# call WANT_STATUS KEY METHOD PATH [curl args…] — prints the body, checks the status.
call() {
	local want=$1 key=$2 method=$3 path=$4
	shift 4
	local code
	code=$(curl -sS -o "$TMP/body" -w '%{http_code}' -X "$method" -H "Authorization: Bearer $key" "$@" "$BASE$path")
	if [[ $code != "$want" ]]; then
		cat "$TMP/body" >&2
		fail "$method $path: HTTP $code, want $want"
	fi
	cat "$TMP/body"
}

step "health"
curl -fsS "$BASE/readyz" | jq -c .

step "create a department key (wuhu-hurd, issuer) and a user-unit key (verifier)"
DEPT=$(call 201 "$ADMIN" POST /api/v1/keys -H 'Content-Type: application/json' \
	-d '{"name":"芜湖市住房和城乡建设局","role":"issuer","dept":"wuhu-hurd"}' | jq -r .key)
UNIT=$(call 201 "$ADMIN" POST /api/v1/keys -H 'Content-Type: application/json' \
	-d '{"name":"芜湖市某建筑公司","role":"verifier","types":["special-operations"]}' | jq -r .key)
echo "keys made (shown once, not printed here)"

step "issue a special-operations license"
NO="皖A04$(date +%Y)$(printf '%06d' $((RANDOM * 32 % 1000000)))"
BODY=$(jq -n --arg no "$NO" '{type:"special-operations", values:{
	holder_name:"李文斌", holder_code:"340202199003071238", gender:"男", birth_date:"1990-03-07",
	category:"建筑电工", license_no:$no, first_issue:"2018-06-20",
	valid_from:"2025-06-20", valid_until:"2031-06-19"}}')
ISSUED=$(call 201 "$DEPT" POST /api/v1/licenses -H 'Content-Type: application/json' -d "$BODY")
ID=$(jq -r .identifier <<<"$ISSUED")
PDF=$(jq -r .pdf <<<"$ISSUED")
echo "identifier $ID"

step "download the sealed PDF"
call 200 "$DEPT" GET "$PDF" >"$TMP/license.pdf"
head -c 5 "$TMP/license.pdf" | grep -q '%PDF-' || fail "not a PDF"
echo "$(wc -c <"$TMP/license.pdf") bytes"

step "verify the upload (user unit, purpose given): genuine and valid"
R=$(call 200 "$UNIT" POST /api/v1/verify/file -F "file=@$TMP/license.pdf;type=application/pdf" -F "purpose=入职资格核验")
jq -c '{authentic, valid, reason}' <<<"$R"
[[ $(jq -r '.authentic and .valid' <<<"$R") == true ]] || fail "fresh license not valid"

step "revoke (issuing department, reason required)"
call 200 "$DEPT" POST "/api/v1/licenses/$ID/revoke" -H 'Content-Type: application/json' -d '{"reason":"持证人申请注销"}' | jq -c '{identifier, status}'

step "verify again: authentic, not valid (revoked)"
R=$(call 200 "$UNIT" POST /api/v1/verify/file -F "file=@$TMP/license.pdf;type=application/pdf" -F "purpose=入职资格核验")
jq -c '{authentic, valid, reason}' <<<"$R"
[[ $(jq -r '.reason' <<<"$R") == revoked && $(jq -r '.valid' <<<"$R") == false ]] || fail "revoked license not reported revoked"

step "use records of the department's licenses (用证记录)"
U=$(call 200 "$DEPT" GET /api/v1/uses)
jq -c --arg id "$ID" '.uses[] | select(.license == $id) | {actorName, action, purpose, result, at}' <<<"$U"
[[ $(jq --arg id "$ID" '[.uses[] | select(.license == $id)] | length' <<<"$U") -ge 2 ]] || fail "use records missing"

echo
echo "smoke: OK"
