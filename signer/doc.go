// Package signer owns the project's cryptography: SM2 keys and
// certificates, the GB/T 38540 electronic seal codec (make, parse, check),
// stamping a PDF with a seal signature, and a demo PKI. It is the only
// importer of github.com/emmansun/gmsm; its API uses crypto.Signer,
// crypto.PublicKey, DER bytes and its own wrapper types (Certificate,
// CertPool) instead of gmsm types.
//
// # Keys
//
// GenerateKey makes SM2 keys from an injected io.Reader. Keys at rest are
// encrypted PKCS#8 only (EncryptKeyPEM: PBES2, scrypt, SM4-CBC); passwords
// are []byte. ParsePrivateKeyPEM reads encrypted or plain PKCS#8 and SEC1;
// ParsePKCS12 imports .p12 files (gmsm ships no PKCS#12 reader).
//
// A key file costs about 0.3 s and 64 MiB to decrypt at the default scrypt
// cost, so LoadPKI does not decrypt: each of its keys is a crypto.Signer
// whose Public comes from the certificate and whose first Sign decrypts the
// file once, returning ErrBadPassword from Sign when the password is wrong.
// (*PKI).CheckPassword and (*PKI).Unlock decrypt ahead of use, for a
// process that should fail at start-up rather than at its first signature.
//
// # Hardware keys (GM/T 0018 SDF, KMS)
//
// Every signature this package makes goes through crypto.Signer.Sign with
// opts == SM2DigestOpts. The message passed is not the data but the 32-byte
// SM2 digest e = SM3(Z_A || M), where Z_A is computed by this package from
// the key's public key (Signer.Public) and the default user ID
// "1234567812345678". An HSM-backed Signer must therefore:
//   - return its SM2 public key (*ecdsa.PublicKey on the SM2 curve) from Public;
//   - on Sign(rand, e, SM2DigestOpts) compute the SM2 signature of e without
//     hashing again (SDF_InternalSign_ECC / SDF_ExternalSign_ECC take exactly
//     this e), and return it DER-encoded as SEQUENCE { r INTEGER, s INTEGER }.
//
// Note the difference from gmsm's own convention: gmsm's sm2.PrivateKey.Sign
// with sm2.DefaultSM2SignerOpts treats its input as the message M and hashes
// it with Z_A itself. Given any other opts (ours), it signs the input as e,
// so a software key and an HSM key behave the same here. Certificate
// issuance goes through smx509, which passes gmsm's message-mode options; an
// internal adapter turns those into the digest contract above, so an HSM
// Signer never sees gmsm types.
//
// # Seals and checks
//
// MakeSeal writes strict DER V4 seals (certListType 1). ParseSeal and
// ParseSignature read V1 and V4 leniently (raw 64-byte r||s signatures,
// non-minimal INTEGERs, explicit FALSE critical flags, "ofd" pictures,
// pixel sizes, UTCTime/GeneralizedTime, untagged or [0] optional fields)
// and keep the raw bytes of every signed element; verification is always
// over those raw bytes. (*Seal).Check runs S1–S4 and (*Signature).Check
// G1–G7 and return []Check; a failed check is a result, not an error.
//
// # PDF
//
// Sign appends exactly one incremental update with a visible certifying
// signature (DocMDP P=1) holding a SES_Signature (FormatSES) or a GB/T 35275
// SignedData (FormatPKCS7); see docs/formats.md for the layout. Build a
// Sealer once per seal and key: it caches the seal's appearance image and
// the constant parts of both containers. Sign hashes the output once (the
// SM3 state after the first /ByteRange span is forked for the whole-file
// digest) and then re-reads what it wrote: the new revision is parsed
// strictly, the spans are proven to be the hashed bytes (CRC-32C), the
// container is parsed from /Contents and its SM2 signature verified.
// VerifyPDF re-checks such a signature; the full PDF policy (C1–C14) lives
// in package verify. Package signer/rawpdf is the strict PDF reader used by
// both.
//
// # Non-goals and caveats
//
//   - No revocation checking (CRL/OCSP) and no time stamps (G6 is skipped or
//     warned); signing times are self-asserted.
//   - Seal pictures of type "ofd" or "SVG" cannot be drawn into a PDF.
//   - Only one seal per PDF: a file that is already certified is refused.
//   - The package never reads the clock or crypto/rand itself: pass Now and
//     Rand (crypto/rand.Reader in production).
//   - Panics in ASN.1, PKCS#12, font and PDF handling are recovered into
//     ErrMalformed at the package boundary.
package signer
