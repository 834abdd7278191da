package qrtoken

import "errors"

// Sentinel errors. Functions wrap them with %w and context; test with
// errors.Is. Every parse failure wraps ErrMalformed, and the more specific
// sentinels below (ErrUnknownProfile, ErrTrailingData, ErrNonCanonical,
// ErrDuplicateKey, ErrUnknownKey, ErrWrongType, ErrTooLarge) are wrapped next
// to it when they apply.
var (
	// ErrMalformed reports a token, text, key list, status list or allocator
	// state that cannot be decoded under the strict rules of this package.
	ErrMalformed = errors.New("qrtoken: malformed input")
	// ErrUnknownProfile reports a token profile other than 1 (static) or 2
	// (dynamic).
	ErrUnknownProfile = errors.New("qrtoken: unknown profile")
	// ErrTrailingData reports bytes after the end of a CBOR item.
	ErrTrailingData = errors.New("qrtoken: trailing data")
	// ErrNonCanonical reports CBOR that is well formed but not in the core
	// deterministic encoding (non-shortest argument, indefinite length, map
	// keys out of order) or a text form that is not the canonical one.
	ErrNonCanonical = errors.New("qrtoken: non-canonical encoding")
	// ErrDuplicateKey reports a map key that occurs twice.
	ErrDuplicateKey = errors.New("qrtoken: duplicate map key")
	// ErrUnknownKey reports a map key that is not defined (for the profile).
	ErrUnknownKey = errors.New("qrtoken: unknown map key")
	// ErrMissingKey reports a required map key that is absent.
	ErrMissingKey = errors.New("qrtoken: missing map key")
	// ErrWrongType reports a CBOR item of the wrong major type.
	ErrWrongType = errors.New("qrtoken: wrong type")
	// ErrTooLarge reports a field, token or document above its size limit,
	// or a number out of its range.
	ErrTooLarge = errors.New("qrtoken: too large or out of range")
	// ErrBadSignature reports a key list or status list whose signature
	// does not verify against the given root key.
	ErrBadSignature = errors.New("qrtoken: bad signature")
	// ErrNotSM2 reports a public or private key that is not an SM2 key.
	ErrNotSM2 = errors.New("qrtoken: not an SM2 key")
	// ErrInvalidInput reports issuing input that breaks a rule (a claim
	// value, a license without a status index, a bad key entry).
	ErrInvalidInput = errors.New("qrtoken: invalid input")
	// ErrIndexRange reports a status-list index outside the list.
	ErrIndexRange = errors.New("qrtoken: status index out of range")
	// ErrFull reports an allocator that reached MaxStatusEntries.
	ErrFull = errors.New("qrtoken: status list full")
	// ErrSign reports a failure of the crypto.Signer.
	ErrSign = errors.New("qrtoken: signing failed")
)
