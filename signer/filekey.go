package signer

import (
	"crypto"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// fileKey is a crypto.Signer for an encrypted key file that is decrypted on
// first use. Public comes from the key's certificate, so loading a PKI costs
// no key derivation; the first Sign (or Unlock) decrypts the file once and
// checks the key against the certificate. A failure is kept and returned by
// every later Sign.
type fileKey struct {
	name     string // file name, for errors
	pem      []byte
	password []byte
	pub      crypto.PublicKey

	once sync.Once
	key  crypto.Signer
	err  error
}

// testHookKeyDecrypted, when set, is called with the file name of every key
// decryption.
var testHookKeyDecrypted func(name string)

// newFileKey reads the key file at path; cert certifies its public key.
func newFileKey(path string, password []byte, cert *Certificate) (*fileKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPKI, err)
	}
	return &fileKey{name: filepath.Base(path), pem: b, password: password, pub: cert.PublicKey()}, nil
}

func (k *fileKey) Public() crypto.PublicKey { return k.pub }

// Sign decrypts the key on the first call, then signs with it. The error
// of a failed decryption wraps ErrBadPassword or ErrPKI.
func (k *fileKey) Sign(rnd io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	key, err := k.unlock()
	if err != nil {
		return nil, err
	}
	return key.Sign(rnd, digest, opts)
}

func (k *fileKey) unlock() (crypto.Signer, error) {
	k.once.Do(func() {
		if testHookKeyDecrypted != nil {
			testHookKeyDecrypted(k.name)
		}
		key, err := ParsePrivateKeyPEM(k.pem, k.password)
		switch {
		case err != nil:
			k.err = fmt.Errorf("%s: %w", k.name, err)
		case !samePublicKey(key.Public(), k.pub):
			k.err = fmt.Errorf("%w: %s does not match its certificate", ErrPKI, k.name)
		default:
			k.key = key
		}
		k.pem, k.password = nil, nil
	})
	return k.key, k.err
}

func samePublicKey(a, b crypto.PublicKey) bool {
	da, err := MarshalPublicKey(a)
	if err != nil {
		return false
	}
	db, err := MarshalPublicKey(b)
	return err == nil && string(da) == string(db)
}

// Unlock decrypts the given keys of the PKI now instead of at their first
// Sign, so that a wrong password or a damaged key file shows at start-up;
// with no arguments it decrypts every key. Keys not loaded by LoadPKI (a
// hardware key, or a key InitPKI has just generated) are left alone. Up to
// GOMAXPROCS keys are decrypted at a time (each costs one scrypt run and
// its memory). The error, that of the first key in the list that failed,
// wraps ErrBadPassword or ErrPKI.
func (p *PKI) Unlock(keys ...crypto.Signer) error {
	if len(keys) == 0 {
		keys = append(keys, p.rootKey, p.sealMakerKey)
		for _, d := range p.Departments {
			keys = append(keys, d.SignerKey, d.QRKey)
		}
	}
	var fks []*fileKey
	for _, k := range keys {
		if fk, ok := k.(*fileKey); ok {
			fks = append(fks, fk)
		}
	}
	errs := make([]error, len(fks))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, fk := range fks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			_, errs[i] = fk.unlock()
			<-sem
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// CheckPassword decrypts one key file (the root key) and reports whether
// the PKI's password opens it: a wrong password gives an error wrapping
// ErrBadPassword. All key files of a PKI share one password.
func (p *PKI) CheckPassword() error { return p.Unlock(p.rootKey) }
