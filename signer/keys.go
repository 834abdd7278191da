package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/emmansun/gmsm/pkcs"
	"github.com/emmansun/gmsm/pkcs8"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// PEM block types.
const (
	pemEncryptedKey = "ENCRYPTED PRIVATE KEY"
	pemPKCS8Key     = "PRIVATE KEY"
	pemSEC1Key      = "EC PRIVATE KEY"
	pemCertificate  = "CERTIFICATE"
	pemPublicKey    = "PUBLIC KEY"
)

// KeyProtection sets the key derivation cost used by EncryptKeyPEM. Keys are
// encrypted with PBES2 (RFC 8018): scrypt as KDF and SM4-CBC as cipher, a
// combination OpenSSL 3 can also read.
type KeyProtection struct {
	// ScryptLogN is log2 of the scrypt cost N; r = 8, p = 1.
	// Zero means DefaultKeyProtection's value (16: 64 MiB, ~0.2 s).
	ScryptLogN int
}

// DefaultKeyProtection is used when EncryptKeyPEM gets a nil *KeyProtection.
var DefaultKeyProtection = KeyProtection{ScryptLogN: 16}

// GenerateKey makes a new SM2 key pair reading randomness from rnd. The
// result is a crypto.Signer following the SM2DigestOpts contract.
func GenerateKey(rnd io.Reader) (crypto.Signer, error) {
	if rnd == nil {
		return nil, errors.New("signer: generate key: nil random source")
	}
	k, err := sm2.GenerateKey(rnd)
	if err != nil {
		return nil, fmt.Errorf("signer: generate key: %w", err)
	}
	return k, nil
}

type encryptedPrivateKeyInfo struct {
	Algo pkix.AlgorithmIdentifier
	Data []byte
}

// EncryptKeyPEM encodes a software SM2 key (one made by GenerateKey or
// parsed by this package) as an "ENCRYPTED PRIVATE KEY" PEM block
// (encrypted PKCS#8). password must not be empty; salt and IV come from rnd.
// prot nil means DefaultKeyProtection.
func EncryptKeyPEM(key crypto.Signer, password []byte, rnd io.Reader, prot *KeyProtection) ([]byte, error) {
	if len(password) == 0 {
		return nil, errors.New("signer: encrypt key: empty password")
	}
	if rnd == nil {
		return nil, errors.New("signer: encrypt key: nil random source")
	}
	p := DefaultKeyProtection
	if prot != nil && prot.ScryptLogN > 0 {
		p = *prot
	}
	if p.ScryptLogN < 10 || p.ScryptLogN > 22 {
		return nil, fmt.Errorf("signer: encrypt key: scrypt log2(N) %d out of range 10..22", p.ScryptLogN)
	}
	priv, ok := key.(*sm2.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: only software SM2 keys can be exported", ErrUnsupported)
	}
	plain, err := smx509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("signer: encrypt key: %w", err)
	}
	enc := pkcs.NewPBESEncrypter(pkcs.SM4CBC, pkcs.NewScryptOpts(16, 1<<p.ScryptLogN, 8, 1))
	algo, ct, err := enc.Encrypt(rnd, password, plain)
	clear(plain)
	if err != nil {
		return nil, fmt.Errorf("signer: encrypt key: %w", err)
	}
	der, err := asn1.Marshal(encryptedPrivateKeyInfo{Algo: *algo, Data: ct})
	if err != nil {
		return nil, fmt.Errorf("signer: encrypt key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemEncryptedKey, Bytes: der}), nil
}

// ParsePrivateKeyPEM reads the first private key block of data: an
// encrypted PKCS#8 ("ENCRYPTED PRIVATE KEY", password required), a plain
// PKCS#8 ("PRIVATE KEY") or a SEC1 ("EC PRIVATE KEY") SM2 key. password is
// ignored for unencrypted blocks.
func ParsePrivateKeyPEM(data, password []byte) (crypto.Signer, error) {
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, fmt.Errorf("%w: no private key PEM block", ErrMalformed)
		}
		switch b.Type {
		case pemEncryptedKey:
			if len(password) == 0 {
				return nil, fmt.Errorf("%w: encrypted key needs a password", ErrBadPassword)
			}
			k, _, err := pkcs8.ParsePrivateKey(b.Bytes, password)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrBadPassword, err)
			}
			return asSM2Signer(k)
		case pemPKCS8Key:
			k, err := smx509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: PKCS#8: %w", ErrMalformed, err)
			}
			return asSM2Signer(k)
		case pemSEC1Key:
			k, err := smx509.ParseSM2PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: SEC1: %w", ErrMalformed, err)
			}
			return k, nil
		}
	}
}

func asSM2Signer(k any) (crypto.Signer, error) {
	switch k := k.(type) {
	case *sm2.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		if sm2.IsSM2PublicKey(&k.PublicKey) {
			return sm2.NewPrivateKeyFromInt(k.D)
		}
	}
	return nil, ErrNotSM2
}

// MarshalPublicKey returns the DER SubjectPublicKeyInfo of an SM2 public key.
func MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(ec) {
		return nil, ErrNotSM2
	}
	der, err := smx509.MarshalPKIXPublicKey(ec)
	if err != nil {
		return nil, fmt.Errorf("signer: marshal public key: %w", err)
	}
	return der, nil
}

// ParsePublicKey parses a DER SubjectPublicKeyInfo holding an SM2 key.
func ParsePublicKey(der []byte) (crypto.PublicKey, error) {
	pub, err := smx509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: public key: %w", ErrMalformed, err)
	}
	if !sm2.IsSM2PublicKey(pub) {
		return nil, ErrNotSM2
	}
	return pub, nil
}

// VerifyMessage reports whether sig (DER, or 64-byte raw r||s) is a valid
// SM2 signature by pub over msg (SM3 with Z_A from DefaultUserID).
func VerifyMessage(pub crypto.PublicKey, msg, sig []byte) bool {
	ok, _, err := verifySM2(pub, msg, sig)
	return err == nil && ok
}

// SignMessage signs msg with key (SM3withSM2, default user ID) and returns a
// DER signature. The key receives the digest as SM2DigestOpts describes.
func SignMessage(key crypto.Signer, rnd io.Reader, msg []byte) ([]byte, error) {
	return signMessage(key, rnd, msg)
}

func pemEncode(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func bigFromString(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic("signer: bad integer constant")
	}
	return v
}
