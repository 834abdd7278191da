package catalogtest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"elicense/catalog"
)

// RunAccess runs the conformance suite of catalog.AccessStore.
func RunAccess(t *testing.T, newStore func(t *testing.T) catalog.AccessStore) {
	ctx := context.Background()
	t.Run("Principals", func(t *testing.T) {
		s := newStore(t)
		p := &catalog.Principal{ID: "key_a", Name: "医院", Role: catalog.RoleVerifier, Types: []string{"food-business"}, KeyHash: "h1",
			CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		if err := s.PutPrincipal(ctx, p); err != nil {
			t.Fatal(err)
		}
		got, err := s.PrincipalByKeyHash(ctx, "h1")
		if err != nil || got.ID != "key_a" || !got.MayQuery("food-business") || got.MayQuery("special-operations") || !got.Active() {
			t.Fatalf("by hash: %+v %v", got, err)
		}
		if _, err := s.PrincipalByKeyHash(ctx, "h2"); !errors.Is(err, catalog.ErrNotFound) {
			t.Fatalf("unknown hash: %v", err)
		}
		if _, err := s.GetPrincipal(ctx, "nope"); !errors.Is(err, catalog.ErrNotFound) {
			t.Fatalf("unknown id: %v", err)
		}
		if err := s.PutPrincipal(ctx, &catalog.Principal{ID: "key_b", KeyHash: "h1", Role: catalog.RoleClerk}); !errors.Is(err, catalog.ErrExists) {
			t.Fatalf("shared key hash: %v", err)
		}
		// Rotating a key: the old hash stops working.
		p.KeyHash = "h3"
		p.RevokedAt = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
		if err := s.PutPrincipal(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PrincipalByKeyHash(ctx, "h1"); !errors.Is(err, catalog.ErrNotFound) {
			t.Fatalf("old hash still resolves: %v", err)
		}
		got, _ = s.GetPrincipal(ctx, "key_a")
		if got.Active() {
			t.Fatal("revoked principal active")
		}
		all, _ := s.ListPrincipals(ctx)
		if len(all) != 1 {
			t.Fatalf("list = %d", len(all))
		}
	})
	t.Run("Uses", func(t *testing.T) {
		s := newStore(t)
		for i := 0; i < 7; i++ {
			r := &catalog.UseRecord{ID: fmt.Sprintf("u%03d", i), LicenseID: "L", HolderCode: "H1", IssuerUSCC: "I1",
				Actor: "key_a", Role: catalog.RoleVerifier, Action: catalog.UseVerify, Purpose: "入职核验", Result: "valid"}
			if i >= 5 {
				r.HolderCode, r.IssuerUSCC = "H2", "I2"
			}
			if err := s.AddUse(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddUse(ctx, &catalog.UseRecord{ID: "u000"}); !errors.Is(err, catalog.ErrExists) {
			t.Fatalf("duplicate id: %v", err)
		}
		var ids []string
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			rs, next, err := s.ListUses(ctx, "H1", "", cursor, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				ids = append(ids, r.ID)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if fmt.Sprint(ids) != "[u004 u003 u002 u001 u000]" {
			t.Fatalf("holder H1 uses = %v", ids)
		}
		rs, _, _ := s.ListUses(ctx, "", "I2", "", 10)
		if len(rs) != 2 || rs[0].ID != "u006" {
			t.Fatalf("issuer I2 uses = %v", rs)
		}
		rs, _, _ = s.ListUses(ctx, "H9", "", "", 10)
		if len(rs) != 0 {
			t.Fatalf("unknown holder: %v", rs)
		}
		if _, _, err := s.ListUses(ctx, "", "", "", 10); !errors.Is(err, catalog.ErrInvalid) {
			t.Fatalf("unscoped list: %v", err)
		}
	})
}
