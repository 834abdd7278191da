package signer

import "errors"

// Sentinel errors. Functions wrap them with %w and context; test with errors.Is.
var (
	// ErrMalformed reports input (seal, signature, key, certificate, PDF) that
	// cannot be decoded.
	ErrMalformed = errors.New("signer: malformed input")
	// ErrUnsupported reports a well-formed input using a feature or algorithm
	// this package does not implement (for example an RSA key, a non-SM2
	// certificate or an encrypted PDF).
	ErrUnsupported = errors.New("signer: unsupported")
	// ErrBadPassword reports a password that does not decrypt a key store.
	ErrBadPassword = errors.New("signer: wrong password or corrupt key")
	// ErrNotSM2 reports a key or certificate that is not on the SM2 curve.
	ErrNotSM2 = errors.New("signer: not an SM2 key")
	// ErrVerify reports a signature or digest that does not verify.
	ErrVerify = errors.New("signer: verification failed")
	// ErrSealInvalid reports a seal that cannot be used to stamp a document
	// (a failed S1–S4 check, or the signer certificate not in its list).
	ErrSealInvalid = errors.New("signer: seal not usable")
	// ErrPKI reports an inconsistent or incomplete PKI directory.
	ErrPKI = errors.New("signer: pki directory")
	// ErrTooLarge reports an input above a configured size limit.
	ErrTooLarge = errors.New("signer: input too large")
)
