#!/usr/bin/env bash
# Runs every fuzz target of the module for a short time each (default 5s).
#
# Go 1.26's fuzz coordinator can end a run that found nothing with a bare
# "context deadline exceeded" when a starved worker misses the -fuzztime
# deadline (go.dev/issue/75804, fixed in Go 1.27). A real finding always
# writes its input under testdata/fuzz/<target>/ and says so; only a run
# that failed with that bare message and wrote no input is run again (up to
# three times). Anything else fails at once.
set -euo pipefail
t=${1:-5s}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for name in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    for try in 1 2 3; do
      echo "fuzz $pkg $name ($t)"
      if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" "$pkg" >"$log" 2>&1; then
        break
      fi
      if [ "$try" -lt 3 ] && grep -q '^    context deadline exceeded$' "$log" &&
        ! grep -q 'Failing input written to' "$log" &&
        [ "$(grep -c -- '--- FAIL' "$log")" -eq 1 ]; then
        echo "fuzz: $name stopped at the deadline without a finding (go.dev/issue/75804); again"
        continue
      fi
      cat "$log"
      exit 1
    done
  done
done
echo "fuzz: all targets passed"
