package signer

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"sort"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// OIDs of the GB/T 35275 container and its attributes.
var (
	// OIDSM2SignedData is GB/T 35275 signedData, 1.2.156.10197.6.1.4.2.2.
	OIDSM2SignedData = asn1.ObjectIdentifier{1, 2, 156, 10197, 6, 1, 4, 2, 2}
	// OIDSM2Data is GB/T 35275 data, 1.2.156.10197.6.1.4.2.1.
	OIDSM2Data = asn1.ObjectIdentifier{1, 2, 156, 10197, 6, 1, 4, 2, 1}
	// OIDSM3 is the SM3 digest algorithm, 1.2.156.10197.1.401.
	OIDSM3 = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 401}
	// OIDSM2Sign is SM2-1 (digestEncryptionAlgorithm), 1.2.156.10197.1.301.1.
	OIDSM2Sign           = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301, 1}
	oidAttrContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidAttrSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
)

// OIDSealAttribute identifies the signed attribute that carries the seal
// (the SESeal DER as attribute value) in a PKCS#7 signature: 2.25.<UUID as
// an integer>, an OID that needs no registration (ITU-T X.667), for UUID
// 706f5886-9630-4a00-83cd-f05d08f21af5. Its last arc exceeds 64 bits, so
// it is given only in dotted form.
const OIDSealAttribute = "2.25.149451675994307971267572327071360359157"

var oidSealAttrDER []byte // DER body of OIDSealAttribute

func init() {
	// 2.25.N with N beyond 64 bits: encode the arcs by hand.
	n := []byte{}
	v := bigFromString(OIDSealAttribute[len("2.25."):])
	// base-128 of (2*40+25 = 105 first byte) then N
	var arc []byte
	for v.Sign() > 0 {
		arc = append([]byte{byte(v.Int64() & 0x7f)}, arc...)
		v.Rsh(v, 7)
	}
	for i := 0; i < len(arc)-1; i++ {
		arc[i] |= 0x80
	}
	n = append(n, 2*40+25)
	n = append(n, arc...)
	oidSealAttrDER = n
}

// cmsInput are the variable parts of one PKCS#7 signature.
type cmsInput struct {
	certDER     []byte
	rawIssuer   []byte
	serialDER   []byte // INTEGER element
	digest      []byte
	signingTime time.Time
	seal        []byte
}

// signedAttrs returns DER SET OF Attribute (tag 0x31), sorted as DER wants.
func (in *cmsInput) signedAttrs() []byte {
	attr := func(oidDER []byte, oid asn1.ObjectIdentifier, val func(b *cryptobyte.Builder)) []byte {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			if oidDER != nil {
				b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(oidDER) })
			} else {
				b.AddASN1ObjectIdentifier(oid)
			}
			b.AddASN1(cbasn1.SET, val)
		})
		return b.BytesOrPanic()
	}
	attrs := [][]byte{
		attr(nil, oidAttrContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(OIDSM2Data) }),
		attr(nil, oidAttrSigningTime, func(b *cryptobyte.Builder) { b.AddASN1UTCTime(in.signingTime.UTC()) }),
		attr(nil, oidAttrMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(in.digest) }),
		attr(oidSealAttrDER, nil, func(b *cryptobyte.Builder) { b.AddBytes(in.seal) }),
	}
	sort.Slice(attrs, func(i, j int) bool { return bytes.Compare(attrs[i], attrs[j]) < 0 })
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddBytes(a)
		}
	})
	return b.BytesOrPanic()
}

// build assembles ContentInfo(SignedData) around attrs (tag 0x31) and sig.
func (in *cmsInput) build(attrs, sig []byte) []byte {
	algo := func(b *cryptobyte.Builder, oid asn1.ObjectIdentifier) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(OIDSM2SignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { algo(b, OIDSM3) })
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(OIDSM2Data) })
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(in.certDER) })
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1Int64(1)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddBytes(in.rawIssuer)
							b.AddBytes(in.serialDER)
						})
						algo(b, OIDSM3)
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddBytes(attrs[headerLen(attrs):])
						})
						algo(b, OIDSM2Sign)
						b.AddASN1OctetString(sig)
					})
				})
			})
		})
	})
	return b.BytesOrPanic()
}

func headerLen(der []byte) int {
	if der[1] < 0x80 {
		return 2
	}
	return 2 + int(der[1]&0x7f)
}

func mustOIDBody(o asn1.ObjectIdentifier) []byte {
	der, err := asn1.Marshal(o)
	if err != nil {
		panic(err)
	}
	return der[2:]
}

// cmsTemplate holds the constant parts of the SignedData a Sealer writes, so
// that a signature copies the 15 KB seal twice (signed attributes and
// container) instead of once per nesting level.
type cmsTemplate struct {
	attrCT   []byte // contentType attribute
	attrSeal []byte // seal attribute
	siHead   []byte // SignerInfo: version, issuerAndSerialNumber, digestAlgorithm
	siAlg    []byte // SignerInfo: digestEncryptionAlgorithm
	sdHead   []byte // SignedData: version, digestAlgorithms, encapContentInfo, certificates
	ciType   []byte // ContentInfo: contentType OID element
}

func newCMSTemplate(in *cmsInput) cmsTemplate {
	el := func(f func(b *cryptobyte.Builder)) []byte {
		var b cryptobyte.Builder
		f(&b)
		return b.BytesOrPanic()
	}
	algo := func(b *cryptobyte.Builder, oid asn1.ObjectIdentifier) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
	}
	return cmsTemplate{
		attrCT: el(func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidAttrContentType)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(OIDSM2Data) })
			})
		}),
		attrSeal: el(func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(oidSealAttrDER) })
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(in.seal) })
			})
		}),
		siHead: el(func(b *cryptobyte.Builder) {
			b.AddASN1Int64(1)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(in.rawIssuer)
				b.AddBytes(in.serialDER)
			})
			algo(b, OIDSM3)
		}),
		siAlg: el(func(b *cryptobyte.Builder) { algo(b, OIDSM2Sign) }),
		sdHead: el(func(b *cryptobyte.Builder) {
			b.AddASN1Int64(1)
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { algo(b, OIDSM3) })
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(OIDSM2Data) })
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(in.certDER) })
		}),
		ciType: el(func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(OIDSM2SignedData) }),
	}
}

// signedAttrs returns what (*cmsInput).signedAttrs returns for the
// template's seal and the given time and digest.
func (c *cmsTemplate) signedAttrs(t time.Time, digest []byte) ([]byte, error) {
	var timeBuf, mdBuf [64]byte
	tb := cryptobyte.NewFixedBuilder(timeBuf[:0])
	tb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidAttrSigningTime)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddASN1UTCTime(t.UTC()) })
	})
	mb := cryptobyte.NewFixedBuilder(mdBuf[:0])
	mb.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidAttrMessageDigest)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) })
	})
	attrTime, err := tb.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: CMS: signingTime: %w", ErrUnsupported, err)
	}
	attrMD, err := mb.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: CMS: messageDigest: %w", ErrUnsupported, err)
	}
	attrs := [4][]byte{c.attrCT, attrTime, attrMD, c.attrSeal}
	for i := 1; i < len(attrs); i++ { // DER SET OF order
		for j := i; j > 0 && bytes.Compare(attrs[j], attrs[j-1]) < 0; j-- {
			attrs[j], attrs[j-1] = attrs[j-1], attrs[j]
		}
	}
	n := len(attrTime) + len(attrMD) + len(c.attrCT) + len(c.attrSeal)
	out := make([]byte, 0, 4+n)
	out = appendDERHeader(out, 0x31, n)
	for _, a := range attrs {
		out = append(out, a...)
	}
	return out, nil
}

// build returns what (*cmsInput).build returns for the template's
// certificate and seal.
func (c *cmsTemplate) build(attrs, sig []byte) []byte {
	ab := attrs[headerLen(attrs):]
	hl := derHeaderLen
	si := len(c.siHead) + hl(len(ab)) + len(ab) + len(c.siAlg) + hl(len(sig)) + len(sig)
	sis := hl(si) + si
	sd := len(c.sdHead) + hl(sis) + sis
	exp := hl(sd) + sd
	ci := len(c.ciType) + hl(exp) + exp
	out := make([]byte, 0, hl(ci)+ci)
	out = appendDERHeader(out, 0x30, ci)
	out = append(out, c.ciType...)
	out = appendDERHeader(out, 0xa0, exp)
	out = appendDERHeader(out, 0x30, sd)
	out = append(out, c.sdHead...)
	out = appendDERHeader(out, 0x31, sis)
	out = appendDERHeader(out, 0x30, si)
	out = append(out, c.siHead...)
	out = appendDERHeader(out, 0xa0, len(ab))
	out = append(out, ab...)
	out = append(out, c.siAlg...)
	out = appendDERHeader(out, 0x04, len(sig))
	return append(out, sig...)
}
