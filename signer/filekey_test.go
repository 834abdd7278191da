package signer_test

import (
	"errors"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"elicense/signer"
)

func testPKIDir(t testing.TB) string {
	return filepath.Join(moduleRoot(t), "testdata", "pki", "test-only")
}

func TestLoadPKIDecryptsOnFirstSign(t *testing.T) {
	rec := signer.RecordKeyDecryptions(t)
	p, err := signer.LoadPKI(testPKIDir(t), []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Names(); len(got) != 0 {
		t.Fatalf("LoadPKI decrypted %v", got)
	}
	d, _ := p.Department("amr")
	pub, _ := signer.MarshalPublicKey(d.SignerKey.Public())
	cert, _ := signer.MarshalPublicKey(d.SignerCert.PublicKey())
	if string(pub) != string(cert) {
		t.Fatal("Public differs from the certificate's key")
	}
	if len(rec.Names()) != 0 {
		t.Fatal("Public decrypted the key")
	}
	msg := []byte("first use")
	for i := range 3 {
		sig, err := signer.SignMessage(d.SignerKey, rand.NewChaCha8([32]byte{byte(i)}), msg)
		if err != nil {
			t.Fatal(err)
		}
		if !signer.VerifyMessage(d.SignerCert.PublicKey(), msg, sig) {
			t.Fatal("signature does not verify with the certificate")
		}
	}
	if got := rec.Names(); !slices.Equal(got, []string{"signer.key"}) {
		t.Fatalf("decrypted %v, want signer.key once", got)
	}
}

func TestLazyKeyConcurrentFirstSign(t *testing.T) {
	rec := signer.RecordKeyDecryptions(t)
	p, err := signer.LoadPKI(testPKIDir(t), []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := p.Department("hrss")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = signer.SignMessage(d.QRKey, rand.NewChaCha8([32]byte{byte(i)}), []byte("x"))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := rec.Names(); !slices.Equal(got, []string{"qr.key"}) {
		t.Fatalf("decrypted %v, want qr.key once", got)
	}
}

func TestUnlock(t *testing.T) {
	tests := []struct {
		name    string
		unlock  func(p *signer.PKI) error
		want    []string // sorted
		wantErr error
		pw      string
	}{
		{"CheckPassword", (*signer.PKI).CheckPassword, []string{"root.key"}, nil, testPassword},
		{"one key", func(p *signer.PKI) error { d, _ := p.Department("amr"); return p.Unlock(d.QRKey) }, []string{"qr.key"}, nil, testPassword},
		{"all", func(p *signer.PKI) error { return p.Unlock() },
			[]string{"qr.key", "qr.key", "root.key", "sealmaker.key", "signer.key", "signer.key"}, nil, testPassword},
		{"CheckPassword/wrong", (*signer.PKI).CheckPassword, []string{"root.key"}, signer.ErrBadPassword, "wrong"},
		{"one key/wrong", func(p *signer.PKI) error { d, _ := p.Department("amr"); return p.Unlock(d.SignerKey) }, []string{"signer.key"}, signer.ErrBadPassword, "wrong"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := signer.RecordKeyDecryptions(t)
			p, err := signer.LoadPKI(testPKIDir(t), []byte(tc.pw))
			if err != nil {
				t.Fatal(err) // a wrong password is not noticed before first use
			}
			if err := tc.unlock(p); !errors.Is(err, tc.wantErr) {
				t.Fatalf("err %v, want %v", err, tc.wantErr)
			}
			got := rec.Names()
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("decrypted %v, want %v", got, tc.want)
			}
			// Unlocked keys are not decrypted again; a failure is kept.
			if err := tc.unlock(p); !errors.Is(err, tc.wantErr) {
				t.Fatalf("second call: err %v, want %v", err, tc.wantErr)
			}
			if n := len(rec.Names()); n != len(tc.want) {
				t.Fatalf("second call decrypted again (%d decryptions)", n)
			}
		})
	}
}

func TestLazyKeyWrongPasswordFailsAtFirstSign(t *testing.T) {
	p, err := signer.LoadPKI(testPKIDir(t), []byte("wrong"))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := p.Department("amr")
	for range 2 {
		if _, err := signer.SignMessage(d.SignerKey, rand.NewChaCha8([32]byte{}), []byte("x")); !errors.Is(err, signer.ErrBadPassword) {
			t.Fatalf("Sign: %v, want ErrBadPassword", err)
		}
	}
	z, err := d.NewSealer(signer.SealerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signer.Sign(&discard{}, licensePDF(100, true), signer.SignOptions{Sealer: z, Now: signTime, Rand: rand.NewChaCha8([32]byte{})}); !errors.Is(err, signer.ErrBadPassword) {
		t.Fatalf("signer.Sign: %v, want ErrBadPassword", err)
	}
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// TestLazyKeyMismatch swaps two departments' signer key files: LoadPKI
// cannot see it without decrypting, the first Sign must.
func TestLazyKeyMismatch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if err := os.CopyFS(dir, os.DirFS(testPKIDir(t))); err != nil {
		t.Fatal(err)
	}
	hrss, err := os.ReadFile(filepath.Join(dir, "hrss", "signer.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "amr", "signer.key"), hrss, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := signer.LoadPKI(dir, []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := p.Department("amr")
	if _, err := signer.SignMessage(d.SignerKey, rand.NewChaCha8([32]byte{}), []byte("x")); !errors.Is(err, signer.ErrPKI) {
		t.Fatalf("Sign with a foreign key file: %v, want ErrPKI", err)
	}
	if err := p.Unlock(); !errors.Is(err, signer.ErrPKI) {
		t.Fatalf("Unlock: %v, want ErrPKI", err)
	}
}

// TestLoadPKIChecksChains replaces a certificate with one for the same
// key issued by a foreign root: LoadPKI must refuse it.
func TestLoadPKIChecksChains(t *testing.T) {
	p := testPKI(t)
	rnd := rand.NewChaCha8([32]byte{'f'})
	nb, na := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	rootKey, err := signer.GenerateKey(rnd)
	if err != nil {
		t.Fatal(err)
	}
	root, err := signer.IssueCertificate(rnd, signer.CertTemplate{Role: signer.RoleRootCA, CommonName: "foreign root",
		Serial: big.NewInt(1), NotBefore: nb, NotAfter: na}, rootKey.Public(), nil, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := p.Department("amr")
	tests := []struct {
		name, file string
		role       signer.CertificateRole
		cert       *signer.Certificate
	}{
		{"seal maker", "sealmaker.crt", signer.RoleSealMaker, p.SealMaker},
		{"signer", "amr/signer.crt", signer.RoleSigner, d.SignerCert},
		{"qr", "amr/qr.crt", signer.RoleQR, d.QRCert},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			foreign, err := signer.IssueCertificate(rnd, signer.CertTemplate{Role: tc.role, CommonName: tc.cert.CommonName(),
				Serial: big.NewInt(int64(i + 2)), NotBefore: nb, NotAfter: na}, tc.cert.PublicKey(), root, rootKey)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "pki")
			if err := os.CopyFS(dir, os.DirFS(testPKIDir(t))); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, tc.file), foreign.PEM(), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = signer.LoadPKI(dir, []byte(testPassword))
			if !errors.Is(err, signer.ErrPKI) || !strings.Contains(err.Error(), "not issued by root") {
				t.Fatalf("LoadPKI: %v, want ErrPKI: not issued by root", err)
			}
		})
	}
}
