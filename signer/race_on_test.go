//go:build race

package signer_test

// raceEnabled reports whether the race detector is on: exhaustive loops
// then sample instead (see exhaustive).
const raceEnabled = true
