package signer_test

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"elicense/signer"
)

func TestParsePKCS12Fixtures(t *testing.T) {
	tests := []struct {
		name, file, password string
		wantErr              error
	}{
		{"user", "seals/USER.p12", "777777", nil},
		{"sealBuilder", "seals/SealBuilder.p12", "777777", nil},
		{"wrongPassword", "seals/USER.p12", "777778", signer.ErrBadPassword},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, certs, err := signer.ParsePKCS12(fixture(t, tc.file), []byte(tc.password))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			msg := []byte("cross-check")
			sig, err := signer.SignMessage(key, rand.NewChaCha8([32]byte{}), msg)
			if err != nil || !signer.VerifyMessage(certs[0].PublicKey(), msg, sig) {
				t.Fatalf("key does not match its certificate: %v", err)
			}
		})
	}
}

func TestEncryptedKeyRoundTrip(t *testing.T) {
	rnd := rand.NewChaCha8([32]byte{1})
	key, err := signer.GenerateKey(rnd)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := signer.EncryptKeyPEM(key, []byte("pw"), rnd, &signer.KeyProtection{ScryptLogN: 10})
	if err != nil {
		t.Fatal(err)
	}
	back, err := signer.ParsePrivateKeyPEM(pemBytes, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := signer.MarshalPublicKey(key.Public())
	b, _ := signer.MarshalPublicKey(back.Public())
	if string(a) != string(b) {
		t.Fatal("round trip changed the key")
	}
	if _, err := signer.ParsePrivateKeyPEM(pemBytes, []byte("wrong")); !errors.Is(err, signer.ErrBadPassword) {
		t.Fatalf("wrong password: %v", err)
	}
}

func TestInitPKIIdempotent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	opts := signer.PKIOptions{
		Password: []byte("pw"), City: "测试市", Font: cjkFont(t),
		Departments:   []signer.Department{{Key: "amr", Name: "测试市市场监督管理局"}},
		Rand:          rand.NewChaCha8([32]byte{2}),
		Now:           time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyProtection: &signer.KeyProtection{ScryptLogN: 10},
	}
	p1, err := signer.InitPKI(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Departments = append(opts.Departments, signer.Department{Key: "hrss", Name: "测试市人社局"})
	p2, err := signer.InitPKI(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !p1.Root.Equal(p2.Root) || len(p2.Departments) != 2 {
		t.Fatal("second InitPKI recreated the root or lost a department")
	}
	st, err := os.Stat(filepath.Join(dir, "amr", "signer.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v %v", st.Mode(), err)
	}
	d, _ := p2.Department("hrss")
	s, err := signer.ParseSeal(d.Seal)
	if err != nil {
		t.Fatal(err)
	}
	if cs := s.Check(signer.CheckOptions{Roots: p2.Roots(), At: opts.Now}); !signer.Passed(cs) {
		t.Fatalf("new seal checks: %+v", cs)
	}
}
