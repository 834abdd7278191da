package signer_test

import (
	"os"
	"path/filepath"
	"testing"

	"elicense/signer"
)

func sealSeeds(f *testing.F) {
	for _, n := range []string{"seals/UserV1.esl", "seals/UserV4.esl", "seals/SignedValueV4.dat"} {
		f.Add(fixture(f, n))
	}
	if b, err := os.ReadFile(filepath.Join(moduleRoot(f), "testdata", "pki", "test-only", "amr", "seal.esl")); err == nil {
		f.Add(b)
	}
}

func FuzzParseSeal(f *testing.F) {
	sealSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := signer.ParseSeal(data)
		if err != nil {
			return
		}
		s.Check(signer.CheckOptions{})
		s.Info(signer.CheckOptions{})
	})
}

func FuzzParseSignature(f *testing.F) {
	sealSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := signer.ParseSignature(data)
		if err != nil {
			return
		}
		g.Check(signer.CheckOptions{}, make([]byte, 32))
	})
}
