package signer_test

import (
	"testing"
	"time"

	"elicense/signer"
)

func statuses(cs []signer.Check) map[string]signer.CheckStatus {
	m := map[string]signer.CheckStatus{}
	for _, c := range cs {
		m[c.ID] = c.Status
	}
	return m
}

func TestParseSealFixtures(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		version int
		at      time.Time
	}{
		{"V1", "seals/UserV1.esl", 1, time.Time{}},
		{"V4", "seals/UserV4.esl", 4, time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := signer.ParseSeal(fixture(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if s.Version != tc.version {
				t.Fatalf("version %d, want %d", s.Version, tc.version)
			}
			cs := s.Check(signer.CheckOptions{At: tc.at})
			st := statuses(cs)
			if st["S1"] == signer.StatusFail || st["S2"] != signer.StatusPass || st["S3"] != signer.StatusFail {
				t.Fatalf("checks %+v", cs)
			}
			t.Logf("%s %q %q %+v", s.VID, s.ESID, s.Name, cs)
		})
	}
}

func TestParseSignatureFixture(t *testing.T) {
	g, err := signer.ParseSignature(fixture(t, "seals/SignedValueV4.dat"))
	if err != nil {
		t.Fatal(err)
	}
	cs := g.Check(signer.CheckOptions{}, nil)
	st := statuses(cs)
	if g.Version != 4 || st["G2"] != signer.StatusPass || st["G3"] != signer.StatusPass || st["G7"] != signer.StatusSkip {
		t.Fatalf("checks %+v", cs)
	}
	if st["G4"] != signer.StatusFail { // no trusted roots
		t.Fatalf("G4 %v", st["G4"])
	}
	t.Logf("%+v", cs)
}
