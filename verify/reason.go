package verify

import "fmt"

// Reason says why a file is not authentic or not valid, in the style of
// x509.InvalidReason. It is the reason of the first failing check in
// Result.Checks; its text form (String, JSON) is a stable snake_case code.
type Reason int

// Reasons. Those up to ReasonInternal make a file not authentic; the ones
// after it leave it authentic but not valid.
const (
	// ReasonOK: authentic and valid.
	ReasonOK Reason = iota
	// ReasonLimit (C1, O1): a size, object-count, revision or
	// decompression limit was exceeded.
	ReasonLimit
	// ReasonTimeout (C1): the time budget was spent or ctx was cancelled.
	ReasonTimeout
	// ReasonUnsupported (C1, O1): not PDF or OFD, encrypted, or a feature
	// the verifier does not implement (hybrid xref, unknown check method).
	ReasonUnsupported
	// ReasonMalformed (C8, O1, O2): the file does not parse strictly (no
	// repair is attempted).
	ReasonMalformed
	// ReasonNoSignature (C2, O2): no signature found.
	ReasonNoSignature
	// ReasonSignatureCount (C2): more than one signature, an unsigned
	// signature field, or a signature dictionary not reachable from the form.
	ReasonSignatureCount
	// ReasonByteRange (C3): /ByteRange is not four integers [0 b c d] with
	// 0 < b < c, c+d within the file and the gap inside the signature.
	ReasonByteRange
	// ReasonByteRangeGap (C4): the gap is not exactly the /Contents hex
	// string (signature wrapping).
	ReasonByteRangeGap
	// ReasonContainer (C5, G1): /Contents is empty or not a SES_Signature or
	// SignedData this verifier accepts.
	ReasonContainer
	// ReasonRevision (C8): a revision is malformed, the signed range does
	// not end at its revision's end, or bytes follow the last %%EOF.
	ReasonRevision
	// ReasonDigest (C6, G7): the document digest differs from the signed
	// one: the signed bytes were modified.
	ReasonDigest
	// ReasonSignature (C6, G2): the signer's SM2 signature does not verify.
	ReasonSignature
	// ReasonSeal (C12, S1, S2): the seal is malformed or its maker
	// signature does not verify.
	ReasonSeal
	// ReasonSealBinding (C12, G3): the signer certificate is not listed in
	// the seal.
	ReasonSealBinding
	// ReasonUntrusted (C12, S3, G4): a certificate does not chain to a
	// trusted root, is not usable for signing, or the signature uses
	// algorithms other than SM2/SM3 (not a seal of ours).
	ReasonUntrusted
	// ReasonCertificateExpired (C12, S3, G4): a certificate was outside its
	// validity period at the signing time.
	ReasonCertificateExpired
	// ReasonSealExpired (C12, S4): the seal was outside its validity period
	// at the signing time.
	ReasonSealExpired
	// ReasonNotCovered (C7, C10): bytes after the seal (an incremental
	// update or appended data) or more than one seal.
	ReasonNotCovered
	// ReasonSignatureDict (C9): the signature dictionary or field was
	// redefined after signing.
	ReasonSignatureDict
	// ReasonDocMDP (C11): the certification (DocMDP) does not designate
	// this signature with P=1.
	ReasonDocMDP
	// ReasonReference (O3): an OFD Reference's CheckValue does not match
	// the referenced file, or the file is missing.
	ReasonReference
	// ReasonRegistryMismatch (REG): the registry knows the license but
	// records another digest (or identifier) for its sealed file.
	ReasonRegistryMismatch
	// ReasonInternal (C14): an internal fault; the verifier failed closed.
	ReasonInternal

	// ReasonNoRegistry (STATUS): no registry configured, so validity is
	// unknown.
	ReasonNoRegistry
	// ReasonRegistryError (STATUS): the registry could not be read.
	ReasonRegistryError
	// ReasonNotRegistered (STATUS): the registry knows neither the
	// identifier nor the file digest.
	ReasonNotRegistered
	// ReasonNoClock (STATUS): Options.Now was not set.
	ReasonNoClock
	// ReasonRevoked (STATUS): the license was revoked (注销).
	ReasonRevoked
	// ReasonSuspended (STATUS): the license is suspended (停用).
	ReasonSuspended
	// ReasonSuperseded (STATUS): a newer version replaced the license.
	ReasonSuperseded
	// ReasonExpired (STATUS): the license's validity has ended.
	ReasonExpired
)

var reasonText = [...]string{
	ReasonOK:                 "ok",
	ReasonLimit:              "limit_exceeded",
	ReasonTimeout:            "timeout",
	ReasonUnsupported:        "unsupported",
	ReasonMalformed:          "malformed",
	ReasonNoSignature:        "no_signature",
	ReasonSignatureCount:     "signature_count",
	ReasonByteRange:          "bad_byterange",
	ReasonByteRangeGap:       "byterange_gap",
	ReasonContainer:          "bad_container",
	ReasonRevision:           "bad_revision",
	ReasonDigest:             "digest_mismatch",
	ReasonSignature:          "bad_signature",
	ReasonSeal:               "bad_seal",
	ReasonSealBinding:        "seal_binding",
	ReasonUntrusted:          "untrusted_issuer",
	ReasonCertificateExpired: "certificate_expired",
	ReasonSealExpired:        "seal_expired",
	ReasonNotCovered:         "not_covered",
	ReasonSignatureDict:      "signature_dict_changed",
	ReasonDocMDP:             "bad_docmdp",
	ReasonReference:          "reference_mismatch",
	ReasonRegistryMismatch:   "registry_mismatch",
	ReasonInternal:           "internal_error",
	ReasonNoRegistry:         "no_registry",
	ReasonRegistryError:      "registry_error",
	ReasonNotRegistered:      "not_registered",
	ReasonNoClock:            "no_clock",
	ReasonRevoked:            "revoked",
	ReasonSuspended:          "suspended",
	ReasonSuperseded:         "superseded",
	ReasonExpired:            "expired",
}

// String returns the reason code, e.g. "untrusted_issuer".
func (r Reason) String() string {
	if r >= 0 && int(r) < len(reasonText) {
		return reasonText[r]
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// Authentic reports whether a file with this reason is still authentic
// (the reason concerns only the license's status).
func (r Reason) Authentic() bool { return r == ReasonOK || r > ReasonInternal }

// MarshalText returns the reason code.
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses a reason code.
func (r *Reason) UnmarshalText(b []byte) error {
	for i, s := range reasonText {
		if s == string(b) {
			*r = Reason(i)
			return nil
		}
	}
	return fmt.Errorf("verify: unknown reason %q", b)
}

// Reasons returns every reason in order (for documentation and tests).
func Reasons() []Reason {
	out := make([]Reason, len(reasonText))
	for i := range out {
		out[i] = Reason(i)
	}
	return out
}
