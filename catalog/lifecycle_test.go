package catalog_test

import (
	"errors"
	"testing"

	"elicense/catalog"
)

// TestTransitions covers every (stored status, action) pair: the allowed ones
// lead where the state machine says, every other one is a *TransitionError.
func TestTransitions(t *testing.T) {
	allowed := map[catalog.Status]map[catalog.Action]catalog.Status{
		catalog.StatusIssued: {
			catalog.ActionSuspend:   catalog.StatusSuspended,
			catalog.ActionRevoke:    catalog.StatusRevoked,
			catalog.ActionSupersede: catalog.StatusSuperseded,
		},
		catalog.StatusSuspended: {
			catalog.ActionResume:    catalog.StatusIssued,
			catalog.ActionRevoke:    catalog.StatusRevoked,
			catalog.ActionSupersede: catalog.StatusSuperseded,
		},
		catalog.StatusRevoked:    {},
		catalog.StatusSuperseded: {},
		catalog.StatusExpired:    {}, // never stored; nothing starts from it
	}
	n := 0
	for from, acts := range allowed {
		for _, a := range catalog.Actions() {
			n++
			t.Run(string(from)+"/"+string(a), func(t *testing.T) {
				to, err := catalog.Next("id", from, a)
				want, ok := acts[a]
				if ok {
					if err != nil || to != want {
						t.Fatalf("Next = %s, %v; want %s", to, err, want)
					}
					return
				}
				var te *catalog.TransitionError
				if !errors.As(err, &te) || !errors.Is(err, catalog.ErrInvalid) {
					t.Fatalf("Next = %s, %v; want a TransitionError", to, err)
				}
				if te.From != from {
					t.Fatalf("error names from=%s", te.From)
				}
			})
		}
	}
	if n != 20 {
		t.Fatalf("covered %d pairs", n)
	}
	if _, err := catalog.Next("id", catalog.StatusIssued, "explode"); err == nil {
		t.Fatal("unknown action accepted")
	}
}
