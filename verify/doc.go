// Package verify holds the verification policy of elicense: it decides
// whether a sealed file is authentic (a genuine seal of a trusted seal maker,
// applied by a trusted signer listed in the seal, over a document not
// modified since) and valid (authentic, and the license is in force now).
//
// Verify takes the file bytes and Options (the current time, the pinned
// trusted roots, an optional catalog.Store and Limits) and returns a Result:
// Authentic, Valid, a Reason (the first failing check, in the style of
// x509.InvalidReason), the container Format and every check with its
// status. A failed check is an answer, not an error; Verify never panics.
//
// # Scope
//
// PDF, in any of the containers seen in practice, told apart by the structure
// of /Contents, never by /SubFilter: a GB/T 38540 SES_Signature V1 or V4
// (pdf-ses), GB/T 35275 SignedData (pdf-pkcs7-gbt) or RFC 5652 SignedData
// with SM2/SM3 (pdf-pkcs7-rfc). The policy checks C1–C14 (listed in
// docs/formats.md, "Verification result") run in this order: C1 limits, C2 exactly one
// signature (field and dictionary, all revisions scanned), C3 /ByteRange
// shape, C4 gap equals /Contents, C5 container, C8 strict revisions (no
// repair), C6 digest and signature, C12 trust, C7 the seal covers the whole
// file, C9 signature dictionary unchanged, C11 DocMDP P=1, C10 later
// revisions, C14 fail-closed guard. C13 (binding to what was issued) is
// REG: the identifier of the Info dictionary (/ELIdentifier) or the SM3 of
// the whole file is looked up, and a sealed file whose digest differs from
// the registry's record is not authentic. STATUS then says whether the
// license is in force at Options.Now.
//
// OFD (GB/T 33190 ZIP packages): every signature listed in the documents'
// Signatures.xml, SES_Signature (dataHash = SM3 of the exact Signature.xml
// bytes) or SignedData (Type="Sign"), and every Reference's CheckValue
// against the referenced file (O1 package limits and paths, O2 signature
// lists, O3 references, O5 all signatures, O4 files no signature covers).
// The result lists each signature under Signatures; the top-level verdict
// covers them all.
//
// The seal (S1–S4) and signature (G1–G7) checks are those of package
// signer; verify orders them, summarises them into the policy checks and
// chooses the reason.
//
// # Non-goals
//
// Rendering or comparing page content; post-seal incremental updates (LTV,
// DocTimeStamp, form filling) — under the strict C7 policy any byte after
// the seal makes a file not authentic, so no object-level difference
// analysis (C10) is needed; time-stamp tokens (G6 is reported, not
// verified); revocation (no CRL or OCSP is consulted: the detail of S3 and
// G4 says so); XMP metadata (the identifier is read from the Info
// dictionary only).
//
// # Caveats
//
// Certificate and seal validity are judged at the signing time the file
// claims (timeInfo or signingTime), which is self-asserted without a time
// stamp; a claimed time more than five minutes after Options.Now fails C12.
// The time budget (Limits.MaxTime) is checked between steps, so one step on
// a hostile file may overrun it by the time that step takes; the size,
// object, revision and decompression limits bound each step. In older PDF
// revisions only uncompressed objects are scanned for signature
// dictionaries (objects in object streams are scanned in the current
// revision). A package-level cache keeps parsed certificates, verified seal
// maker signatures and verified certificate chains, keyed by their exact
// bytes and the root pool; failures are never cached.
package verify
