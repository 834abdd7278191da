package qrtoken

import (
	"crypto"
	"crypto/ecdsa"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// DefaultUserID is the SM2 distinguishing identifier (GB/T 35276-2017) used
// in Z_A for every signature this package makes or checks.
const DefaultUserID = "1234567812345678"

// KIDSize is the length of a key identifier in bytes.
const KIDSize = 4

// KID is a key identifier: the first 4 bytes of SM3 over the 65-byte
// uncompressed SM2 public key (0x04 ‖ X ‖ Y). Several keys may share a KID.
type KID [KIDSize]byte

// String returns the KID in lower-case hex.
func (k KID) String() string { return fmt.Sprintf("%x", k[:]) }

// digestOpts is passed to every crypto.Signer: the message is already the
// 32-byte SM2 digest e = SM3(Z_A ‖ M); HashFunc is 0.
type digestOpts struct{}

func (digestOpts) HashFunc() crypto.Hash { return 0 }

// SignerOpts is the crypto.SignerOpts passed to every crypto.Signer. It
// tells the key that the bytes it receives are the 32-byte SM2 digest
// e = SM3(Z_A ‖ M), with Z_A from DefaultUserID and the key's own public key,
// so the key computes the SM2 signature over e and returns it DER-encoded
// (SEQUENCE { r INTEGER, s INTEGER }) or as 64-byte raw r ‖ s. HashFunc
// returns 0. This is the contract of signer.SM2DigestOpts; a gmsm
// *sm2.PrivateKey satisfies it.
var SignerOpts crypto.SignerOpts = digestOpts{}

// PublicKeyBytes returns the 65-byte uncompressed encoding 0x04 ‖ X ‖ Y of an
// SM2 public key.
func PublicKeyBytes(pub crypto.PublicKey) ([]byte, error) {
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(ec) || ec.X == nil || ec.Y == nil ||
		ec.X.Sign() < 0 || ec.Y.Sign() < 0 || ec.X.BitLen() > 256 || ec.Y.BitLen() > 256 {
		return nil, ErrNotSM2
	}
	b := make([]byte, 65)
	b[0] = 4
	ec.X.FillBytes(b[1:33])
	ec.Y.FillBytes(b[33:])
	return b, nil
}

// ParsePublicKeyBytes parses a 65-byte uncompressed SM2 public key and
// checks that the point is on the curve.
func ParsePublicKeyBytes(b []byte) (*ecdsa.PublicKey, error) {
	if len(b) != 65 || b[0] != 4 {
		return nil, fmt.Errorf("%w: SM2 public key must be 65 bytes starting 0x04", ErrNotSM2)
	}
	pub, err := sm2.NewPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotSM2, err)
	}
	return pub, nil
}

// KeyID computes the KID of an SM2 public key.
func KeyID(pub crypto.PublicKey) (KID, error) {
	b, err := PublicKeyBytes(pub)
	if err != nil {
		return KID{}, err
	}
	return kidOf(b), nil
}

func kidOf(pubBytes []byte) KID {
	h := sm3.Sum(pubBytes)
	var k KID
	copy(k[:], h[:KIDSize])
	return k
}

// verifier holds the per-key state precomputed once: the key, its Z_A and
// its KID.
type verifier struct {
	pub *ecdsa.PublicKey
	za  []byte
	kid KID
}

func newVerifier(pub crypto.PublicKey) (*verifier, error) {
	b, err := PublicKeyBytes(pub)
	if err != nil {
		return nil, err
	}
	ec := pub.(*ecdsa.PublicKey)
	za, err := sm2.CalculateZA(ec, []byte(DefaultUserID))
	if err != nil {
		return nil, fmt.Errorf("%w: Z_A: %w", ErrNotSM2, err)
	}
	return &verifier{pub: ec, za: za, kid: kidOf(b)}, nil
}

// digest returns e = SM3(Z_A ‖ msg).
func (v *verifier) digest(msg []byte) []byte {
	h := sm3.New()
	h.Write(v.za)
	h.Write(msg)
	return h.Sum(make([]byte, 0, sm3.Size))
}

// verify checks a 64-byte raw r ‖ s signature over msg.
func (v *verifier) verify(msg, sig []byte) bool {
	if len(sig) != 64 {
		return false
	}
	return sm2.VerifyASN1(v.pub, v.digest(msg), derSignature(sig))
}

// derSignature encodes a 64-byte raw r ‖ s as DER SEQUENCE { r, s }.
func derSignature(raw []byte) []byte {
	b := make([]byte, 2, 72)
	b[0] = 0x30
	for _, x := range [][]byte{raw[:32], raw[32:]} {
		for len(x) > 1 && x[0] == 0 {
			x = x[1:]
		}
		pad := x[0]&0x80 != 0
		n := len(x)
		if pad {
			n++
		}
		b = append(b, 0x02, byte(n))
		if pad {
			b = append(b, 0)
		}
		b = append(b, x...)
	}
	b[1] = byte(len(b) - 2)
	return b
}

var curveN = sm2.P256().Params().N

// signRaw signs msg with key (SM2 with SM3 and Z_A) and returns the 64-byte
// raw r ‖ s signature.
func signRaw(key crypto.Signer, rnd io.Reader, msg []byte) ([]byte, *verifier, error) {
	if key == nil {
		return nil, nil, fmt.Errorf("%w: nil key", ErrSign)
	}
	if rnd == nil {
		return nil, nil, fmt.Errorf("%w: nil random source", ErrSign)
	}
	v, err := newVerifier(key.Public())
	if err != nil {
		return nil, nil, err
	}
	sig, err := key.Sign(rnd, v.digest(msg), SignerOpts)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSign, err)
	}
	raw, err := rawSignature(sig)
	if err != nil {
		return nil, nil, err
	}
	if !v.verify(msg, raw) {
		return nil, nil, fmt.Errorf("%w: the key returned a signature that does not verify", ErrSign)
	}
	return raw, v, nil
}

// rawSignature converts a DER SM2 signature (or an already raw 64-byte one)
// to 64-byte raw r ‖ s, each value big-endian and left-padded to 32 bytes.
func rawSignature(sig []byte) ([]byte, error) {
	var r, s *big.Int
	var der struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &der); err == nil && len(rest) == 0 {
		r, s = der.R, der.S
	} else if len(sig) == 64 {
		r, s = new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	} else {
		return nil, fmt.Errorf("%w: cannot decode the signature the key returned", ErrSign)
	}
	if r.Sign() <= 0 || s.Sign() <= 0 || r.Cmp(curveN) >= 0 || s.Cmp(curveN) >= 0 {
		return nil, fmt.Errorf("%w: signature value out of range", ErrSign)
	}
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out, nil
}
