package signer

import (
	"crypto"
	"crypto/ecdsa"
	"fmt"
	"hash"
	"io"
	"math/big"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// DefaultUserID is the SM2 signer identity (GB/T 35276) used for every
// signature this package makes or checks: the 16 ASCII bytes
// "1234567812345678".
const DefaultUserID = "1234567812345678"

// SM2DigestOpts is the crypto.SignerOpts passed to every crypto.Signer this
// package uses. It tells the key that the message it receives is already the
// 32-byte SM2 digest e = SM3(Z_A || M) (Z_A from DefaultUserID and the key's
// public key), so the key must only compute the SM2 signature over e and
// return it DER-encoded as SEQUENCE { r INTEGER, s INTEGER }. HashFunc
// returns 0. See the package documentation.
var SM2DigestOpts crypto.SignerOpts = sm2DigestOpts{}

type sm2DigestOpts struct{}

func (sm2DigestOpts) HashFunc() crypto.Hash { return 0 }

// sm2Digester computes e = SM3(Z_A || M) for one public key, with Z_A cached.
type sm2Digester struct {
	za []byte
}

func newDigester(pub crypto.PublicKey) (*sm2Digester, error) {
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(ec) {
		return nil, ErrNotSM2
	}
	za, err := sm2.CalculateZA(ec, []byte(DefaultUserID))
	if err != nil {
		return nil, fmt.Errorf("signer: Z_A: %w", err)
	}
	return &sm2Digester{za: za}, nil
}

func (d *sm2Digester) digest(msg []byte) []byte {
	h := sm3.New()
	h.Write(d.za)
	h.Write(msg)
	return h.Sum(nil)
}

// newHash returns an SM3 hash already fed with Z_A, so a caller can stream M.
func (d *sm2Digester) newHash() hash.Hash {
	h := sm3.New()
	h.Write(d.za)
	return h
}

// signMessage signs msg with key following the SM2DigestOpts contract.
func signMessage(key crypto.Signer, rnd io.Reader, msg []byte) ([]byte, error) {
	d, err := newDigester(key.Public())
	if err != nil {
		return nil, err
	}
	return signDigest(key, rnd, d.digest(msg))
}

func signDigest(key crypto.Signer, rnd io.Reader, e []byte) ([]byte, error) {
	if rnd == nil {
		return nil, fmt.Errorf("signer: sign: nil random source")
	}
	sig, err := key.Sign(rnd, e, SM2DigestOpts)
	if err != nil {
		return nil, fmt.Errorf("signer: sign: %w", err)
	}
	return sig, nil
}

// sigQuality says how a signature value was encoded.
type sigQuality int

const (
	sigStrict  sigQuality = iota // strict DER
	sigLenient                   // DER with non-minimal or sign-wrong INTEGERs
	sigRaw                       // 64-byte r||s
)

// parseSM2Sig reads an SM2 signature leniently: strict DER, sloppy DER
// (INTEGERs read as unsigned magnitudes) or 64-byte raw r||s.
func parseSM2Sig(sig []byte) (r, s *big.Int, q sigQuality, err error) {
	in := cryptobyte.String(sig)
	var seq, ri, si cryptobyte.String
	if in.ReadASN1(&seq, cbasn1.SEQUENCE) && in.Empty() &&
		seq.ReadASN1(&ri, cbasn1.INTEGER) && seq.ReadASN1(&si, cbasn1.INTEGER) && seq.Empty() &&
		len(ri) > 0 && len(si) > 0 && len(ri) <= 33 && len(si) <= 33 {
		r = new(big.Int).SetBytes(ri)
		s = new(big.Int).SetBytes(si)
		q = sigStrict
		if !minimalUnsigned(ri) || !minimalUnsigned(si) {
			q = sigLenient
		}
		return r, s, q, nil
	}
	if len(sig) == 64 {
		return new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]), sigRaw, nil
	}
	return nil, nil, 0, fmt.Errorf("%w: SM2 signature value", ErrMalformed)
}

// minimalUnsigned reports whether b is the minimal DER encoding of a
// non-negative INTEGER.
func minimalUnsigned(b []byte) bool {
	if b[0]&0x80 != 0 {
		return false
	}
	if len(b) > 1 && b[0] == 0 && b[1]&0x80 == 0 {
		return false
	}
	return true
}

// verifySM2 verifies sig over msg (SM3 with Z_A, default user ID). It reports
// whether the signature verifies and how it was encoded.
func verifySM2(pub crypto.PublicKey, msg, sig []byte) (bool, sigQuality, error) {
	d, err := newDigester(pub)
	if err != nil {
		return false, 0, err
	}
	return verifySM2Digest(pub.(*ecdsa.PublicKey), d.digest(msg), sig)
}

func verifySM2Digest(pub *ecdsa.PublicKey, e, sig []byte) (bool, sigQuality, error) {
	r, s, q, err := parseSM2Sig(sig)
	if err != nil {
		return false, 0, err
	}
	return sm2.Verify(pub, e, r, s), q, nil
}

// hsmAdapter turns a crypto.Signer that follows the SM2DigestOpts contract
// into one that also accepts gmsm's message-mode options (used by smx509
// when it signs certificates).
type hsmAdapter struct {
	crypto.Signer
}

func (a hsmAdapter) Sign(rnd io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, ok := opts.(*sm2.SM2SignerOption); ok {
		return signMessage(a.Signer, rnd, msg)
	}
	return a.Signer.Sign(rnd, msg, opts)
}
