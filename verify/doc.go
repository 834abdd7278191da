// Package verify holds the verification policy of elicense: PDF structure
// checks, seal and signature checks, QR tokens and registry status. It returns
// results, not errors: a failed check is an answer, not a fault.
package verify
