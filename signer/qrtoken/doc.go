// Package qrtoken makes and checks the SM2-signed QR tokens printed on
// licenses and shown by the holder's phone, and the two signed documents a
// verifier needs to check them offline: the key list and the status list.
//
// # Token
//
// A token is the CBOR array [profile, kid, claims, sig] in the core
// deterministic encoding (RFC 8949 §4.2.1). profile 1 (ProfileStatic) is
// printed on the license; profile 2 (ProfileDynamic) is shown on a phone for
// at most MaxLifetime and carries a single-use 96-bit ticket. kid is the
// first 4 bytes of SM3 over the signing key's 65-byte uncompressed public
// key; claims is a byte string wrapping a CBOR map with small integer keys
// (see Claims); sig is the 64-byte raw r ‖ s SM2 signature over the CBOR
// array [Context, profile, kid, claims], made with SM3 and Z_A from
// DefaultUserID. The context string keeps a token signature from being
// taken for a key-list or status-list signature (KeyListContext,
// StatusListContext) or for anything else.
//
// To keep the QR code small, the claims leave out what the verifier knows
// anyway: the identifier is carried without its root and without the
// issuer code, which is the department the key list binds the signing key
// to (Parse sets Claims.CompactIdentifier; Verify rebuilds
// Claims.Identifier once a key's signature verified); dates are day
// numbers (Date.DayNumber); the license number and holder name are UTF-16
// byte strings when that is shorter than UTF-8, as for Han text.
//
// The printed text is an upper-case URL, base + "/V/" + the token as
// decimal digits (Digits), which keeps the QR code in the alphanumeric and
// numeric modes. ParseText reads it back, or bare digits.
//
// # Issuing
//
// NewStatic and NewDynamic build claims from a catalog.License; Sign signs
// them through a crypto.Signer that receives the SM2 digest (SignerOpts), so
// the key may live in a hardware module. NewAllocator hands out random
// status-list indices; NewStatusList and NewKeyList build the documents and
// their Sign methods sign them with the city root key.
//
// # Verifying
//
// ParseKeyList and ParseStatusList check the documents' root signatures.
// Verify parses a token strictly, finds its key (trying every key that
// shares the kid), checks the signature, rebuilds the identifier with the
// key's department, then checks the key policy (license type, key state
// and validity), the identifier and holder-code check characters, the
// validity dates, the status bits and, for dynamic tokens, the time window
// and the ticket. It returns a Result listing every check; it never returns
// an error.
//
// # Non-goals
//
// The package does not fetch, cache or schedule the key list and status
// list, store tickets or allocator state durably (the caller persists them),
// render QR images (templates does), or check licenses online. Profiles 3
// (ticket only) and 4 (device bound) of the design are not implemented.
//
// # Caveats
//
//   - The package reads no clock and no randomness of its own: pass
//     VerifyOptions.Now and an io.Reader.
//   - Calendar dates (issue date, validity, key validity for static tokens)
//     are taken in China Standard Time, UTC+8.
//   - A static token is a bearer artifact: whoever holds a copy can show it.
//     The clerk still compares the holder data with the person's ID card.
//   - A dynamic token can be replayed from a screenshot within its window on
//     a verifier that does not share the ticket cache.
//   - Tokens of a retired or revoked key fail: retiring a key means
//     re-issuing the QR codes it signed.
//   - The status list is signed by the root key itself, so re-signing it
//     needs the root key (in a hardware module) on line.
//   - Claims of a Result are only trustworthy when Result.Valid is true.
//   - A key signs for its department only: the identifier a token shows
//     always has the key's department as issuer. Authority refuses a
//     license whose identifier names another issuer; code calling Sign
//     directly must keep to the same rule.
package qrtoken
