package signer

import (
	"crypto"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"unicode/utf16"

	"github.com/emmansun/gmsm/pkcs8"
	"github.com/emmansun/gmsm/smx509"

	"elicense/signer/internal/rc2"
)

// ParsePKCS12 imports an SM2 key and its certificates from a PKCS#12 (.p12 /
// .pfx) file, as written by BouncyCastle, OpenSSL and Windows. The file may be
// BER encoded. Supported protections: MAC with SHA-1 or SHA-256; bags
// encrypted with pbeWithSHAAnd3-KeyTripleDES-CBC, pbeWithSHAAnd40BitRC2-CBC,
// pbeWithSHAAnd128BitRC2-CBC, or (key bags only) PBES2. The first key bag
// is returned; certificates are returned in file order, the one matching the
// key first.
//
// gmsm v0.44.1 ships no PKCS#12 reader and golang.org/x/crypto/pkcs12 neither
// reads BER nor SM2 keys, hence this small implementation. It is meant for
// importing keys once, not for untrusted input at volume.
func ParsePKCS12(data, password []byte) (key crypto.Signer, certs []*Certificate, err error) {
	defer func() {
		if r := recover(); r != nil {
			key, certs, err = nil, nil, fmt.Errorf("%w: pkcs12: %v", ErrMalformed, r)
		}
	}()
	der, err := berToDER(data)
	if err != nil {
		return nil, nil, err
	}
	var pfx struct {
		Version  int
		AuthSafe contentInfo
		MacData  macData `asn1:"optional"`
	}
	if rest, err := asn1.Unmarshal(der, &pfx); err != nil || len(rest) > 0 {
		return nil, nil, fmt.Errorf("%w: pkcs12: PFX", ErrMalformed)
	}
	if pfx.Version != 3 || !pfx.AuthSafe.ContentType.Equal(oidP7Data) {
		return nil, nil, fmt.Errorf("%w: pkcs12: version or content type", ErrUnsupported)
	}
	var authSafe []byte
	if _, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &authSafe); err != nil {
		return nil, nil, fmt.Errorf("%w: pkcs12: authSafe", ErrMalformed)
	}
	bmp := bmpPassword(password)
	if len(pfx.MacData.Mac.Digest) == 0 {
		return nil, nil, fmt.Errorf("%w: pkcs12: no MAC", ErrUnsupported)
	}
	if err := pfx.MacData.verify(authSafe, bmp); err != nil {
		return nil, nil, err
	}
	var cis []contentInfo
	authSafeDER, err := berToDER(authSafe)
	if err != nil {
		return nil, nil, err
	}
	if _, err := asn1.Unmarshal(authSafeDER, &cis); err != nil {
		return nil, nil, fmt.Errorf("%w: pkcs12: contents", ErrMalformed)
	}
	var keyDER []byte
	var certDERs [][]byte
	for _, ci := range cis {
		var bagsDER []byte
		switch {
		case ci.ContentType.Equal(oidP7Data):
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &bagsDER); err != nil {
				return nil, nil, fmt.Errorf("%w: pkcs12: data", ErrMalformed)
			}
		case ci.ContentType.Equal(oidP7EncryptedData):
			var ed struct {
				Version int
				ECI     struct {
					ContentType asn1.ObjectIdentifier
					Algo        pkix.AlgorithmIdentifier
					Content     asn1.RawValue `asn1:"tag:0,optional"`
				}
			}
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil {
				return nil, nil, fmt.Errorf("%w: pkcs12: encrypted data", ErrMalformed)
			}
			ct := ed.ECI.Content.Bytes
			if ed.ECI.Content.IsCompound { // BER: constructed [0] of OCTET STRING parts
				ct = nil
				rest := ed.ECI.Content.Bytes
				for len(rest) > 0 {
					var part []byte
					if rest, err = asn1.Unmarshal(rest, &part); err != nil {
						return nil, nil, fmt.Errorf("%w: pkcs12: encrypted content", ErrMalformed)
					}
					ct = append(ct, part...)
				}
			}
			bagsDER, err = pkcs12Decrypt(ed.ECI.Algo, ct, bmp)
			if err != nil {
				return nil, nil, err
			}
		default:
			return nil, nil, fmt.Errorf("%w: pkcs12: content type %v", ErrUnsupported, ci.ContentType)
		}
		var bags []struct {
			ID    asn1.ObjectIdentifier
			Value asn1.RawValue `asn1:"tag:0,explicit"`
			Attrs asn1.RawValue `asn1:"optional"`
		}
		if bagsDER, err = berToDER(bagsDER); err != nil {
			return nil, nil, err
		}
		if _, err := asn1.Unmarshal(bagsDER, &bags); err != nil {
			return nil, nil, fmt.Errorf("%w: pkcs12: bags", ErrMalformed)
		}
		for _, b := range bags {
			switch {
			case b.ID.Equal(oidShroudedKeyBag) && keyDER == nil:
				var epki encryptedPrivateKeyInfo
				if _, err := asn1.Unmarshal(b.Value.Bytes, &epki); err != nil {
					return nil, nil, fmt.Errorf("%w: pkcs12: key bag", ErrMalformed)
				}
				if isPKCS12PBE(epki.Algo.Algorithm) {
					keyDER, err = pkcs12Decrypt(epki.Algo, epki.Data, bmp)
				} else {
					keyDER, err = decryptPBES2Key(b.Value.Bytes, password)
				}
				if err != nil {
					return nil, nil, err
				}
			case b.ID.Equal(oidKeyBag) && keyDER == nil:
				keyDER = b.Value.Bytes
			case b.ID.Equal(oidCertBag):
				var cb struct {
					ID   asn1.ObjectIdentifier
					Data []byte `asn1:"tag:0,explicit"`
				}
				if _, err := asn1.Unmarshal(b.Value.Bytes, &cb); err != nil {
					return nil, nil, fmt.Errorf("%w: pkcs12: cert bag", ErrMalformed)
				}
				certDERs = append(certDERs, cb.Data)
			}
		}
	}
	if keyDER == nil {
		return nil, nil, fmt.Errorf("%w: pkcs12: no private key", ErrMalformed)
	}
	k, err := smx509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: pkcs12: private key: %w", ErrMalformed, err)
	}
	key, err = asSM2Signer(k)
	if err != nil {
		return nil, nil, err
	}
	pubDER, _ := MarshalPublicKey(key.Public())
	for _, d := range certDERs {
		c, err := ParseCertificate(d)
		if err != nil {
			return nil, nil, err
		}
		if cd, err := MarshalPublicKey(c.PublicKey()); err == nil && string(cd) == string(pubDER) {
			certs = append([]*Certificate{c}, certs...)
		} else {
			certs = append(certs, c)
		}
	}
	return key, certs, nil
}

func decryptPBES2Key(epkiDER, password []byte) ([]byte, error) {
	k, _, err := pkcs8.ParsePrivateKey(epkiDER, password)
	if err != nil {
		return nil, fmt.Errorf("%w: pkcs12 key: %w", ErrBadPassword, err)
	}
	s, err := asSM2Signer(k)
	if err != nil {
		return nil, err
	}
	return smx509.MarshalPKCS8PrivateKey(s)
}

var (
	oidP7Data          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidP7EncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidKeyBag          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedKeyBag  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidCertBag         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidPBE3DES         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBERC2128       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 5}
	oidPBERC240        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
	oidSHA1            = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
)

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type macData struct {
	Mac struct {
		Algo   pkix.AlgorithmIdentifier
		Digest []byte
	}
	Salt       []byte
	Iterations int `asn1:"optional,default:1"`
}

func (m macData) verify(msg, bmp []byte) error {
	var h func() hash.Hash
	var u int
	switch {
	case m.Mac.Algo.Algorithm.Equal(oidSHA1):
		h, u = sha1.New, 20
	case m.Mac.Algo.Algorithm.Equal(oidSHA256):
		h, u = sha256.New, 32
	default:
		return fmt.Errorf("%w: pkcs12: MAC algorithm %v", ErrUnsupported, m.Mac.Algo.Algorithm)
	}
	if m.Iterations < 1 || m.Iterations > 1<<22 {
		return fmt.Errorf("%w: pkcs12: MAC iterations", ErrMalformed)
	}
	key := pkcs12KDF(h, u, 64, m.Salt, bmp, m.Iterations, 3, u)
	mac := hmac.New(h, key)
	mac.Write(msg)
	if subtle.ConstantTimeCompare(mac.Sum(nil), m.Mac.Digest) != 1 {
		return fmt.Errorf("%w: pkcs12 MAC", ErrBadPassword)
	}
	return nil
}

func isPKCS12PBE(o asn1.ObjectIdentifier) bool {
	return o.Equal(oidPBE3DES) || o.Equal(oidPBERC2128) || o.Equal(oidPBERC240)
}

func pkcs12Decrypt(algo pkix.AlgorithmIdentifier, ct, bmp []byte) ([]byte, error) {
	var params struct {
		Salt       []byte
		Iterations int
	}
	if _, err := asn1.Unmarshal(algo.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("%w: pkcs12: PBE parameters", ErrMalformed)
	}
	if params.Iterations < 1 || params.Iterations > 1<<22 {
		return nil, fmt.Errorf("%w: pkcs12: PBE iterations", ErrMalformed)
	}
	var block cipher.Block
	var err error
	var keyLen int
	switch {
	case algo.Algorithm.Equal(oidPBE3DES):
		keyLen = 24
	case algo.Algorithm.Equal(oidPBERC2128):
		keyLen = 16
	case algo.Algorithm.Equal(oidPBERC240):
		keyLen = 5
	default:
		return nil, fmt.Errorf("%w: pkcs12: cipher %v", ErrUnsupported, algo.Algorithm)
	}
	key := pkcs12KDF(sha1.New, 20, 64, params.Salt, bmp, params.Iterations, 1, keyLen)
	iv := pkcs12KDF(sha1.New, 20, 64, params.Salt, bmp, params.Iterations, 2, 8)
	if keyLen == 24 {
		block, err = des.NewTripleDESCipher(key)
	} else {
		block, err = rc2.New(key, keyLen*8)
	}
	if err != nil {
		return nil, fmt.Errorf("signer: pkcs12: %w", err)
	}
	if len(ct) == 0 || len(ct)%8 != 0 {
		return nil, fmt.Errorf("%w: pkcs12: ciphertext length", ErrMalformed)
	}
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, ct)
	p := int(out[len(out)-1])
	if p < 1 || p > 8 {
		return nil, ErrBadPassword
	}
	for _, b := range out[len(out)-p:] {
		if int(b) != p {
			return nil, ErrBadPassword
		}
	}
	return out[:len(out)-p], nil
}

// bmpPassword encodes a password as PKCS#12 wants: BMPString plus two zero
// bytes; an empty password stays empty.
func bmpPassword(pw []byte) []byte {
	if len(pw) == 0 {
		return nil
	}
	u := utf16.Encode([]rune(string(pw)))
	out := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		out = append(out, byte(c>>8), byte(c))
	}
	return append(out, 0, 0)
}

// pkcs12KDF is the key derivation of RFC 7292 appendix B.2.
func pkcs12KDF(h func() hash.Hash, u, v int, salt, pw []byte, iter int, id byte, size int) []byte {
	fill := func(p []byte) []byte {
		if len(p) == 0 {
			return nil
		}
		n := v * ((len(p) + v - 1) / v)
		out := make([]byte, n)
		for i := range out {
			out[i] = p[i%len(p)]
		}
		return out
	}
	D := make([]byte, v)
	for i := range D {
		D[i] = id
	}
	I := append(fill(salt), fill(pw)...)
	var out []byte
	one := big.NewInt(1)
	for len(out) < size {
		hh := h()
		hh.Write(D)
		hh.Write(I)
		A := hh.Sum(nil)
		for j := 1; j < iter; j++ {
			hh.Reset()
			hh.Write(A)
			A = hh.Sum(A[:0])
		}
		out = append(out, A...)
		if len(out) >= size {
			break
		}
		B := make([]byte, v)
		for i := range B {
			B[i] = A[i%u]
		}
		Bn := new(big.Int).Add(new(big.Int).SetBytes(B), one)
		for j := 0; j < len(I)/v; j++ {
			Ij := new(big.Int).SetBytes(I[j*v : (j+1)*v])
			Ij.Add(Ij, Bn)
			b := Ij.Bytes()
			if len(b) > v {
				b = b[len(b)-v:]
			}
			chunk := I[j*v : (j+1)*v]
			clear(chunk)
			copy(chunk[v-len(b):], b)
		}
	}
	return out[:size]
}

// berToDER converts BER (indefinite lengths, constructed strings) into DER
// enough for encoding/asn1: indefinite lengths become definite and
// constructed OCTET STRINGs are flattened. Depth and size are bounded.
func berToDER(in []byte) ([]byte, error) {
	out, rest, err := berElem(in, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 && !allZero(rest) {
		return nil, fmt.Errorf("%w: pkcs12: trailing data", ErrMalformed)
	}
	return out, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

var errBER = fmt.Errorf("%w: BER", ErrMalformed)

// berElem reads one element of in and returns its DER form and the rest.
func berElem(in []byte, depth int) ([]byte, []byte, error) {
	if depth > 32 || len(in) < 2 {
		return nil, nil, errBER
	}
	tag := in[0]
	if tag&0x1f == 0x1f {
		return nil, nil, errors.Join(errBER, errors.New("high tag number"))
	}
	constructed := tag&0x20 != 0
	p := 1
	l := int(in[p])
	p++
	indefinite := false
	if l == 0x80 {
		indefinite = true
	} else if l > 0x80 {
		n := l & 0x7f
		if n > 4 || p+n > len(in) {
			return nil, nil, errBER
		}
		l = 0
		for i := 0; i < n; i++ {
			l = l<<8 | int(in[p+i])
		}
		p += n
	}
	if !constructed {
		if indefinite || l > len(in)-p {
			return nil, nil, errBER
		}
		return derHeader(tag, in[p:p+l]), in[p+l:], nil
	}
	var body []byte
	var content []byte
	var rest []byte
	if indefinite {
		content = in[p:]
	} else {
		if l > len(in)-p {
			return nil, nil, errBER
		}
		content = in[p : p+l]
		rest = in[p+l:]
	}
	var children [][]byte
	for {
		if indefinite {
			if len(content) >= 2 && content[0] == 0 && content[1] == 0 {
				rest = content[2:]
				break
			}
			if len(content) == 0 {
				return nil, nil, errBER
			}
		} else if len(content) == 0 {
			break
		}
		var c []byte
		var err error
		c, content, err = berElem(content, depth+1)
		if err != nil {
			return nil, nil, err
		}
		children = append(children, c)
	}
	if tag == 0x24 { // constructed OCTET STRING: concatenate primitive parts
		for _, c := range children {
			_, v, err := splitDER(c)
			if err != nil {
				return nil, nil, err
			}
			body = append(body, v...)
		}
		return derHeader(0x04, body), rest, nil
	}
	for _, c := range children {
		body = append(body, c...)
	}
	return derHeader(tag, body), rest, nil
}

func derHeader(tag byte, body []byte) []byte {
	out := []byte{tag}
	n := len(body)
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		out = append(out, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, body...)
}

func splitDER(b []byte) (byte, []byte, error) {
	var rv asn1.RawValue
	if _, err := asn1.Unmarshal(b, &rv); err != nil {
		return 0, nil, errBER
	}
	return b[0], rv.Bytes, nil
}
