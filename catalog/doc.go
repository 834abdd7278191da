// Package catalog is the domain core of elicense: the license catalog
// (证照目录: LicenseType, Item, Department), the registry of issued licenses
// (证照库: License and its lifecycle), the validators of the codes on them, and
// the Service that orchestrates issuing and lifecycle changes through ports
// (Store, Renderer, Sealer, QRIssuer, Files, a Clock and a source of
// randomness). It imports only the standard library.
//
// # Basics
//
// An identifier follows GB/T 36904: 1.2.156.3005.2.<type code>.<issuer
// USCC>.<serial>.<3-digit version>.<check>, the check character being ISO/IEC
// 7064 MOD 37,36 (FormatIdentifier, ParseIdentifier). Holder codes are
// checked with CheckIDNumber (GB 11643, MOD 11-2) and CheckUSCC (GB 32100,
// mod 31). ValidateRow checks a data row against its type and reports every
// problem at once as FieldError values with stable codes and Chinese messages.
//
// The lifecycle is a small state machine (Next): issued ⇄ suspended (停用);
// issued or suspended → revoked (注销, final); an update issues a new version
// and moves the old one to superseded (final). Expiry is computed from the
// clock (License.StatusAt) and never stored. Every change records actor,
// time and reason.
//
// # Errors
//
// ErrNotFound, ErrExists, ErrInvalid, ErrConflict, ErrLocked, ErrForbidden
// and ErrUnpublished are the sentinels; *ValidationError and
// *TransitionError carry details and wrap ErrInvalid.
//
// # Caveats
//
// Identifiers from other issuers may carry a check character computed with a
// vendor variant; ParseIdentifier reports that as checkOK == false, which
// callers treat as a warning. The GB 11714 check inside a USCC is reported by
// USCCInnerCheck and is a warning only: many older codes fail it.
package catalog
