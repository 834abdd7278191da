package qrtoken

import (
	"crypto"
	"fmt"
	"io"
)

// Signed documents (key list, status list) share one envelope: the CBOR
// array [kid, content, sig] where kid names the root key, content is a byte
// string wrapping the document's CBOR map and sig is the 64-byte raw SM2
// signature over the CBOR array [context, kid, content].

// Contexts of the signed documents.
const (
	// KeyListContext is the first element of the structure a key-list
	// signature covers.
	KeyListContext = "WHZZ1K"
	// StatusListContext is the first element of the structure a
	// status-list signature covers.
	StatusListContext = "WHZZ1S"
)

func docSigned(context string, kid KID, content []byte) []byte {
	b := make([]byte, 0, len(content)+32)
	b = appendHead(b, majorArray, 3)
	b = appendText(b, context)
	b = appendBytes(b, kid[:])
	return appendBytes(b, content)
}

func signDoc(context string, content []byte, root crypto.Signer, rnd io.Reader) ([]byte, error) {
	if root == nil {
		return nil, fmt.Errorf("%w: nil root key", ErrSign)
	}
	kid, err := KeyID(root.Public())
	if err != nil {
		return nil, err
	}
	sig, _, err := signRaw(root, rnd, docSigned(context, kid, content))
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(content)+80)
	b = appendHead(b, majorArray, 3)
	b = appendBytes(b, kid[:])
	b = appendBytes(b, content)
	return appendBytes(b, sig), nil
}

// openDoc parses the envelope strictly and verifies the signature with
// root. It returns the content bytes.
func openDoc(context string, doc []byte, maxContent int, root crypto.PublicKey) ([]byte, KID, error) {
	var kid KID
	if root == nil {
		return nil, kid, fmt.Errorf("%w: nil root key", ErrNotSM2)
	}
	v, err := newVerifier(root)
	if err != nil {
		return nil, kid, err
	}
	r := &reader{b: doc}
	r.array("document", 3, 3)
	k := r.bytes("kid", KIDSize, KIDSize)
	content := r.bytes("content", 1, maxContent)
	sig := r.bytes("signature", SignatureSize, SignatureSize)
	r.end("document")
	if r.err != nil {
		return nil, kid, r.err
	}
	copy(kid[:], k)
	if kid != v.kid {
		return nil, kid, fmt.Errorf("%w: document names root key %v, the given root is %v", ErrBadSignature, kid, v.kid)
	}
	if !v.verify(docSigned(context, kid, content), sig) {
		return nil, kid, fmt.Errorf("%w: document signature does not verify", ErrBadSignature)
	}
	return content, kid, nil
}
