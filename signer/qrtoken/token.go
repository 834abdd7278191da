package qrtoken

import (
	"crypto"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"elicense/catalog"
)

// Profile is the first element of a token: it says which claims it carries.
type Profile uint8

// Token profiles (docs/formats.md, "QR token"). Profiles 3 (ticket only) and
// 4 (device-bound) are reserved, not implemented, and are rejected like any other unknown profile.
const (
	// ProfileStatic is printed on the license; it never expires by itself
	// and is revoked through the status list.
	ProfileStatic Profile = 1
	// ProfileDynamic is shown on the holder's phone: masked data, a
	// lifetime of at most MaxLifetime and a single-use ticket.
	ProfileDynamic Profile = 2
)

// String returns "static", "dynamic" or the number.
func (p Profile) String() string {
	switch p {
	case ProfileStatic:
		return "static"
	case ProfileDynamic:
		return "dynamic"
	}
	return fmt.Sprintf("profile(%d)", uint8(p))
}

// Context is the first element of the structure a token signature covers:
// the signed bytes are the CBOR array [Context, profile, kid, claims].
const Context = "WHZZ1"

// Limits of the token format.
const (
	// MaxTokenSize is the largest token accepted, in bytes.
	MaxTokenSize = 512
	// MaxLifetime is the longest lifetime of a dynamic token.
	MaxLifetime = 120 * time.Second
	// TicketSize is the length of a dynamic token's ticket (96 bits).
	TicketSize = 12
	// FileDigestSize is the length of the optional file digest claim.
	FileDigestSize = 16
	// SignatureSize is the length of a raw r ‖ s SM2 signature.
	SignatureSize = 64

	maxNumber = 64
	maxName   = 150
	maxCode   = 32
	maxIAT    = 1 << 40
)

// Claim keys of the claims map (docs/formats.md, "QR token").
const (
	claimIdentifier = 1
	claimNumber     = 2
	claimName       = 3
	claimCodeType   = 4
	claimCode       = 5
	claimIssueDate  = 6
	claimValidFrom  = 7
	claimValidUntil = 8
	claimIAT        = 10
	claimLifetime   = 11
	claimTicket     = 12
	claimIndex      = 15
	claimFileDigest = 16
)

var (
	staticRequired  = keyBits(claimIdentifier, claimNumber, claimName, claimCodeType, claimCode, claimIssueDate, claimValidUntil, claimIndex)
	staticAllowed   = staticRequired | keyBits(claimValidFrom, claimFileDigest)
	dynamicRequired = keyBits(claimIdentifier, claimName, claimCode, claimIAT, claimLifetime, claimTicket)
)

// chinaZone is the zone of calendar dates (issue date, validity): UTC+8.
var chinaZone = time.FixedZone("CST", 8*3600)

// Date is a calendar date written as the number yyyymmdd (20260315). The
// zero Date in ValidUntil means 长期 (no end). Tokens carry dates as day
// numbers (see DayNumber), not in this form.
type Date uint32

// DateOf returns the calendar date of t in China Standard Time (UTC+8).
func DateOf(t time.Time) Date {
	y, m, d := t.In(chinaZone).Date()
	return Date(y*10000 + int(m)*100 + d)
}

// ParseDate reads YYYY-MM-DD; catalog.LongTerm ("长期") and "" give 0.
func ParseDate(s string) (Date, error) {
	if s == "" || s == catalog.LongTerm {
		return 0, nil
	}
	t, err := time.Parse(catalog.DateLayout, s)
	if err != nil {
		return 0, fmt.Errorf("%w: date %q: %w", ErrInvalidInput, s, err)
	}
	d := DateOf(time.Date(t.Year(), t.Month(), t.Day(), 12, 0, 0, 0, chinaZone))
	if !d.Valid() {
		return 0, fmt.Errorf("%w: date %q out of range", ErrInvalidInput, s)
	}
	return d, nil
}

// Valid reports whether d is a real calendar date between 1900-01-01 and
// 9999-12-31.
func (d Date) Valid() bool {
	y, m, day := int(d/10000), int(d/100%100), int(d%100)
	if y < 1900 || y > 9999 || m < 1 || m > 12 || day < 1 {
		return false
	}
	return day <= time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// dayEpoch is the Unix time of 1899-12-31 00:00 UTC, day number 0.
var dayEpoch = time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC).Unix()

// maxDayNumber is the day number of 9999-12-31.
var maxDayNumber = Date(99991231).DayNumber()

// DayNumber returns the form a token carries d in: the number of days since
// 1899-12-31 in the Gregorian calendar, so 1900-01-01 is 1, 2000-01-01 is
// 36525 and 2026-03-02 is 46082 (dates up to 2079-06-05 stay below 65536,
// three bytes in CBOR). It returns 0 for 0 (长期) and for a d that is not
// Valid.
func (d Date) DayNumber() uint32 {
	if !d.Valid() {
		return 0
	}
	t := time.Date(int(d/10000), time.Month(d/100%100), int(d%100), 0, 0, 0, 0, time.UTC)
	return uint32((t.Unix() - dayEpoch) / 86400)
}

// DateOfDayNumber reverses DayNumber: 0 gives 0 (长期), and a day number
// after 9999-12-31 gives 0 as well.
func DateOfDayNumber(n uint32) Date {
	if n == 0 || n > maxDayNumber {
		return 0
	}
	y, m, d := time.Unix(dayEpoch+int64(n)*86400, 0).UTC().Date()
	return Date(y*10000 + int(m)*100 + d)
}

// String returns YYYY-MM-DD, or 长期 for 0.
func (d Date) String() string {
	if d == 0 {
		return catalog.LongTerm
	}
	return fmt.Sprintf("%04d-%02d-%02d", d/10000, d/100%100, d%100)
}

// Ticket is the single-use identifier (jti) of a dynamic token.
type Ticket [TicketSize]byte

// String returns the ticket in lower-case hex.
func (t Ticket) String() string { return fmt.Sprintf("%x", t[:]) }

// Claims are the signed contents of a token. Which fields are encoded
// depends on Profile; the others must be zero. The token carries Number and
// HolderName in UTF-16 when that is shorter than UTF-8 and the dates as day
// numbers (Date.DayNumber); the fields hold them decoded.
type Claims struct {
	// Profile selects the claim set.
	Profile Profile
	// Identifier is the full GB/T 36904 identifier, root and issuer code
	// included. The token does not carry the issuer code: it is the signing
	// key's department. So Parse and ParseText leave Identifier empty, and
	// Verify fills it in once a key's signature verified (the Claims of
	// Result.Token). NewStatic and NewDynamic set it from the license.
	Identifier string
	// CompactIdentifier is the identifier as the token carries it: type
	// code (21) ‖ serial (1–32) ‖ version (3) ‖ check (1), without the root
	// "1.2.156.3005.2.", the issuer code and the dots. Parse sets it;
	// ExpandIdentifier restores Identifier from it and the issuer code.
	// NewStatic and NewDynamic set it too; for Sign, either field suffices
	// and, when both are set, they must agree.
	CompactIdentifier string
	// Number is the license number (static only).
	Number string
	// HolderName is the holder (持证主体): in full on static tokens, masked
	// for natural persons on dynamic tokens (see MaskName).
	HolderName string
	// HolderCodeType is the GB/T 36903 holder-code type as three digits,
	// catalog.HolderCodeIDNumber or catalog.HolderCodeUSCC (static only).
	HolderCodeType string
	// HolderCode is the holder code: a USCC in full, an ID number masked
	// (see MaskIDNumber).
	HolderCode string
	// IssueDate, ValidFrom and ValidUntil are static only; ValidUntil 0
	// means 长期.
	IssueDate, ValidFrom, ValidUntil Date
	// StatusIndex is the license's entry in the status list (static only).
	StatusIndex uint32
	// FileDigest optionally binds a static token to a sealed file: the
	// first 16 bytes of its SM3 digest. Nil when absent.
	FileDigest []byte
	// IssuedAt is the Unix time in seconds a dynamic token was made.
	IssuedAt int64
	// Lifetime is the validity of a dynamic token in seconds, 1 to 120.
	Lifetime uint32
	// Ticket is the single-use random ticket of a dynamic token.
	Ticket Ticket
}

// Token is a parsed token. Its signature has not been verified: use Verify.
type Token struct {
	// KID names the signing key.
	KID KID
	// Claims are the decoded claims; Claims.Profile is the token's profile.
	Claims Claims
	// Signature is the raw r ‖ s SM2 signature.
	Signature [SignatureSize]byte

	raw       []byte // the whole token
	rawClaims []byte // the claims byte string
}

// Bytes returns the token's encoding.
func (t *Token) Bytes() []byte { return append([]byte(nil), t.raw...) }

// SignedBytes returns the bytes the signature covers: the CBOR array
// [Context, profile, kid, claims]. SM2 hashes them with SM3 after Z_A.
func (t *Token) SignedBytes() []byte {
	return signedStructure(t.Claims.Profile, t.KID, t.rawClaims)
}

func signedStructure(p Profile, kid KID, claims []byte) []byte {
	b := make([]byte, 0, 16+len(claims))
	b = appendHead(b, majorArray, 4)
	b = appendText(b, Context)
	b = appendUint(b, uint64(p))
	b = appendBytes(b, kid[:])
	return appendBytes(b, claims)
}

// encodeClaims validates c and returns the claims map encoding.
func encodeClaims(c *Claims) ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	id, err := c.compactID()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 256)
	switch c.Profile {
	case ProfileStatic:
		n := 8
		if c.ValidFrom != c.IssueDate {
			n++
		}
		if c.FileDigest != nil {
			n++
		}
		b = appendHead(b, majorMap, uint64(n))
		b = appendUint(b, claimIdentifier)
		b = appendText(b, id)
		b = appendUint(b, claimNumber)
		b = appendCompactText(b, c.Number)
		b = appendUint(b, claimName)
		b = appendCompactText(b, c.HolderName)
		b = appendUint(b, claimCodeType)
		b = appendUint(b, uint64(codeTypeNumber(c.HolderCodeType)))
		b = appendUint(b, claimCode)
		b = appendText(b, c.HolderCode)
		b = appendUint(b, claimIssueDate)
		b = appendUint(b, uint64(c.IssueDate.DayNumber()))
		if c.ValidFrom != c.IssueDate {
			b = appendUint(b, claimValidFrom)
			b = appendUint(b, uint64(c.ValidFrom.DayNumber()))
		}
		b = appendUint(b, claimValidUntil)
		b = appendUint(b, uint64(c.ValidUntil.DayNumber()))
		b = appendUint(b, claimIndex)
		b = appendUint(b, uint64(c.StatusIndex))
		if c.FileDigest != nil {
			b = appendUint(b, claimFileDigest)
			b = appendBytes(b, c.FileDigest)
		}
	case ProfileDynamic:
		b = appendHead(b, majorMap, 6)
		b = appendUint(b, claimIdentifier)
		b = appendText(b, id)
		b = appendUint(b, claimName)
		b = appendCompactText(b, c.HolderName)
		b = appendUint(b, claimCode)
		b = appendText(b, c.HolderCode)
		b = appendUint(b, claimIAT)
		b = appendUint(b, uint64(c.IssuedAt))
		b = appendUint(b, claimLifetime)
		b = appendUint(b, uint64(c.Lifetime))
		b = appendUint(b, claimTicket)
		b = appendBytes(b, c.Ticket[:])
	}
	return b, nil
}

// codeTypeNumber turns "111" / "001" into 111 / 1; -1 when not 3 digits.
func codeTypeNumber(s string) int {
	if len(s) != 3 {
		return -1
	}
	n := 0
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '9' {
			return -1
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidInput}, args...)...)
}

// validate applies the same rules the parser applies to decoded claims.
func (c *Claims) validate() error {
	if c == nil {
		return invalidf("nil claims")
	}
	if _, err := c.compactID(); err != nil {
		return err
	}
	if err := checkText(c.HolderName, maxName); err != nil {
		return invalidf("holder name: %v", err)
	}
	if err := checkASCII(c.HolderCode, maxCode); err != nil {
		return invalidf("holder code: %v", err)
	}
	zeroDynamic := c.IssuedAt == 0 && c.Lifetime == 0 && c.Ticket == Ticket{}
	zeroStatic := c.Number == "" && c.HolderCodeType == "" && c.IssueDate == 0 && c.ValidFrom == 0 &&
		c.ValidUntil == 0 && c.StatusIndex == 0 && c.FileDigest == nil
	switch c.Profile {
	case ProfileStatic:
		if !zeroDynamic {
			return invalidf("static claims carry dynamic fields")
		}
		if err := checkText(c.Number, maxNumber); err != nil {
			return invalidf("license number: %v", err)
		}
		if n := codeTypeNumber(c.HolderCodeType); n < 0 {
			return invalidf("holder code type %q must be three digits", c.HolderCodeType)
		}
		if err := checkDates(c.IssueDate, c.ValidFrom, c.ValidUntil); err != nil {
			return invalidf("%v", err)
		}
		if c.StatusIndex >= MaxStatusEntries {
			return invalidf("status index %d >= %d", c.StatusIndex, MaxStatusEntries)
		}
		if c.FileDigest != nil && len(c.FileDigest) != FileDigestSize {
			return invalidf("file digest must be %d bytes", FileDigestSize)
		}
	case ProfileDynamic:
		if !zeroStatic {
			return invalidf("dynamic claims carry static fields")
		}
		if c.IssuedAt <= 0 || c.IssuedAt > maxIAT {
			return invalidf("issued-at %d out of range", c.IssuedAt)
		}
		if c.Lifetime < 1 || c.Lifetime > uint32(MaxLifetime/time.Second) {
			return invalidf("lifetime %d s must be 1..%d", c.Lifetime, int(MaxLifetime/time.Second))
		}
	default:
		return invalidf("%v", c.Profile)
	}
	return nil
}

// Lengths of the compact identifier (type code 21 + serial 1..32 + version
// 3 + check 1) and of the issuer code it leaves out.
const (
	minCompactID = 21 + 1 + 3 + 1
	maxCompactID = 21 + 32 + 3 + 1
	issuerLen    = 18
)

// SplitIdentifier splits a full GB/T 36904 identifier into the compact form
// a token carries (see Claims.CompactIdentifier) and the issuer code, which
// must be 18 characters (a USCC). Errors wrap ErrInvalidInput.
func SplitIdentifier(id string) (compact, issuer string, err error) {
	parts, _, err := catalog.ParseIdentifier(id)
	if err != nil {
		return "", "", invalidf("identifier %q: %w", id, err)
	}
	if len(parts.IssuerCode) != issuerLen {
		return "", "", invalidf("identifier %q: the issuer code must be an 18-character USCC", id)
	}
	return parts.TypeCode + parts.Serial + parts.Version + string(parts.Check), parts.IssuerCode, nil
}

// ExpandIdentifier restores the full identifier from the compact form and
// the issuer code (18 characters 0-9 A-Z): the root "1.2.156.3005.2.", then
// compact[0:21], issuer, compact[21:n−4], compact[n−4:n−1] and
// compact[n−1], joined with dots. It does not check the check character.
// Errors wrap ErrInvalidInput.
func ExpandIdentifier(compact, issuer string) (string, error) {
	if err := checkCompactIdentifier(compact); err != nil {
		return "", invalidf("compact identifier %q: %v", compact, err)
	}
	if len(issuer) != issuerLen || checkUpperAlnum(issuer) != nil {
		return "", invalidf("issuer code %q must be 18 characters 0-9 A-Z", issuer)
	}
	n := len(compact)
	return catalog.IdentifierRoot + "." + compact[:21] + "." + issuer + "." + compact[21:n-4] + "." +
		compact[n-4:n-1] + "." + compact[n-1:], nil
}

// compactID returns the identifier the token carries: from Identifier when
// it is set (CompactIdentifier must then be empty or equal), else
// CompactIdentifier.
func (c *Claims) compactID() (string, error) {
	if c.Identifier == "" {
		if err := checkCompactIdentifier(c.CompactIdentifier); err != nil {
			return "", invalidf("compact identifier %q: %v", c.CompactIdentifier, err)
		}
		return c.CompactIdentifier, nil
	}
	id, _, err := SplitIdentifier(c.Identifier)
	if err != nil {
		return "", err
	}
	if c.CompactIdentifier != "" && c.CompactIdentifier != id {
		return "", invalidf("compact identifier %q does not match identifier %q", c.CompactIdentifier, c.Identifier)
	}
	return id, nil
}

// checkCompactIdentifier checks the compact form: its length, characters
// 0-9 A-Z and a version of three digits.
func checkCompactIdentifier(s string) error {
	if len(s) < minCompactID || len(s) > maxCompactID {
		return fmt.Errorf("length %d not %d..%d", len(s), minCompactID, maxCompactID)
	}
	if err := checkUpperAlnum(s); err != nil {
		return err
	}
	for _, ch := range s[len(s)-4 : len(s)-1] {
		if ch < '0' || ch > '9' {
			return fmt.Errorf("version %q is not three digits", s[len(s)-4:len(s)-1])
		}
	}
	return nil
}

func checkUpperAlnum(s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return fmt.Errorf("character %q outside 0-9 A-Z", c)
		}
	}
	return nil
}

func checkText(s string, max int) error {
	if s == "" || len(s) > max {
		return fmt.Errorf("length %d bytes not 1..%d", len(s), max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("invalid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return fmt.Errorf("control character")
		}
	}
	return nil
}

func checkASCII(s string, max int) error {
	if s == "" || len(s) > max {
		return fmt.Errorf("length %d not 1..%d", len(s), max)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return fmt.Errorf("character %q not printable ASCII", s[i])
		}
	}
	return nil
}

func checkDates(issue, from, until Date) error {
	if !issue.Valid() {
		return fmt.Errorf("issue date %d is not a date", issue)
	}
	if !from.Valid() {
		return fmt.Errorf("valid-from %d is not a date", from)
	}
	if until != 0 && !until.Valid() {
		return fmt.Errorf("valid-until %d is not a date", until)
	}
	if until != 0 && until < from {
		return fmt.Errorf("valid-until %v before valid-from %v", until, from)
	}
	return nil
}

// Sign encodes claims, signs them with key (SM2 with SM3 and Z_A from
// DefaultUserID, through SignerOpts) and returns the token bytes. rnd is the
// randomness handed to the key. The token does not carry the identifier's
// issuer code: verifiers take the department of key from the key list, so
// key must belong to the identifier's issuer. Sign cannot check that (it
// does not know the key's department); Authority does.
func Sign(claims *Claims, key crypto.Signer, rnd io.Reader) ([]byte, error) {
	cb, err := encodeClaims(claims)
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, fmt.Errorf("%w: nil key", ErrSign)
	}
	kid, err := KeyID(key.Public())
	if err != nil {
		return nil, err
	}
	sig, _, err := signRaw(key, rnd, signedStructure(claims.Profile, kid, cb))
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, 80+len(cb))
	b = appendHead(b, majorArray, 4)
	b = appendUint(b, uint64(claims.Profile))
	b = appendBytes(b, kid[:])
	b = appendBytes(b, cb)
	b = appendBytes(b, sig)
	if len(b) > MaxTokenSize {
		return nil, invalidf("token is %d bytes, maximum %d", len(b), MaxTokenSize)
	}
	return b, nil
}

// Parse decodes a token strictly: a 4-element array [profile, kid, claims,
// sig] in the core deterministic encoding, a known profile, exactly the
// claim keys of the profile with the right types and sizes, and nothing
// after the array. Errors wrap ErrMalformed. It does not verify the
// signature.
func Parse(b []byte) (tok *Token, err error) {
	defer func() {
		if p := recover(); p != nil {
			tok, err = nil, fmt.Errorf("%w: panic while parsing: %v", ErrMalformed, p)
		}
	}()
	if len(b) > MaxTokenSize {
		return nil, fmt.Errorf("%w: %w: token is %d bytes, maximum %d", ErrMalformed, ErrTooLarge, len(b), MaxTokenSize)
	}
	r := &reader{b: b}
	r.array("token", 4, 4)
	p := Profile(r.uint("profile", 255))
	if r.err == nil && p != ProfileStatic && p != ProfileDynamic {
		return nil, fmt.Errorf("%w: %w: %d", ErrMalformed, ErrUnknownProfile, p)
	}
	kid := r.bytes("kid", KIDSize, KIDSize)
	cb := r.bytes("claims", 1, MaxTokenSize)
	sig := r.bytes("signature", SignatureSize, SignatureSize)
	r.end("token")
	if r.err != nil {
		return nil, r.err
	}
	t := &Token{raw: b[:len(b):len(b)], rawClaims: cb}
	copy(t.KID[:], kid)
	copy(t.Signature[:], sig)
	c, err := parseClaims(p, cb)
	if err != nil {
		return nil, err
	}
	t.Claims = *c
	return t, nil
}

func parseClaims(p Profile, b []byte) (*Claims, error) {
	c := &Claims{Profile: p}
	r := &reader{b: b}
	allowed, required := staticAllowed, staticRequired
	if p == ProfileDynamic {
		allowed, required = dynamicRequired, dynamicRequired
	}
	n := r.mapHead("claims", 16)
	seen := r.keys("claims", n, func(k uint64) bool {
		if allowed&(1<<k) == 0 {
			return false
		}
		switch k {
		case claimIdentifier:
			id := r.text("identifier", minCompactID, maxCompactID)
			if r.err == nil {
				if err := checkCompactIdentifier(id); err != nil {
					r.failf("%w: identifier: %v", ErrMalformed, err)
				}
			}
			c.CompactIdentifier = id
		case claimNumber:
			c.Number = r.compactText("license number", maxNumber)
		case claimName:
			c.HolderName = r.compactText("holder name", maxName)
		case claimCodeType:
			c.HolderCodeType = fmt.Sprintf("%03d", r.uint("holder code type", 999))
		case claimCode:
			c.HolderCode = r.text("holder code", 1, maxCode)
		case claimIssueDate:
			c.IssueDate = DateOfDayNumber(uint32(r.uint("issue date", uint64(maxDayNumber))))
		case claimValidFrom:
			c.ValidFrom = DateOfDayNumber(uint32(r.uint("valid-from", uint64(maxDayNumber))))
		case claimValidUntil:
			c.ValidUntil = DateOfDayNumber(uint32(r.uint("valid-until", uint64(maxDayNumber))))
		case claimIAT:
			c.IssuedAt = int64(r.uint("issued-at", maxIAT))
		case claimLifetime:
			c.Lifetime = uint32(r.uint("lifetime", uint64(MaxLifetime/time.Second)))
		case claimTicket:
			copy(c.Ticket[:], r.bytes("ticket", TicketSize, TicketSize))
		case claimIndex:
			c.StatusIndex = uint32(r.uint("status index", MaxStatusEntries-1))
		case claimFileDigest:
			c.FileDigest = append([]byte(nil), r.bytes("file digest", FileDigestSize, FileDigestSize)...)
		}
		return true
	})
	r.requireKeys("claims", seen, required)
	r.end("claims")
	if r.err != nil {
		return nil, r.err
	}
	if p == ProfileStatic {
		if seen&keyBits(claimValidFrom) == 0 {
			c.ValidFrom = c.IssueDate
		} else if c.ValidFrom == c.IssueDate {
			return nil, fmt.Errorf("%w: %w: valid-from equal to the issue date must be omitted", ErrMalformed, ErrNonCanonical)
		}
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return c, nil
}

// MaskIDNumber masks an 18-character resident ID number as its first 6
// characters, 8 asterisks and its last 4: 340202********1238. Other lengths
// are returned as asterisks of the same length.
func MaskIDNumber(id string) string {
	if len(id) != 18 {
		return strings.Repeat("*", len(id))
	}
	return id[:6] + "********" + id[14:]
}

// MaskName masks a personal name as its first character, one asterisk per
// hidden character and its last character: 张*明, 欧**华; a two-character
// name keeps its first character (张*), a one-character name becomes *.
func MaskName(name string) string {
	rs := []rune(name)
	switch len(rs) {
	case 0:
		return ""
	case 1:
		return "*"
	case 2:
		return string(rs[0]) + "*"
	}
	return string(rs[0]) + strings.Repeat("*", len(rs)-2) + string(rs[len(rs)-1])
}

// NewStatic builds the claims of a static token for lic: the identifier
// (Identifier and CompactIdentifier; its issuer code must be 18 characters),
// license number, holder name in full, holder-code type, holder code (an ID
// number masked with MaskIDNumber, a USCC in full), the issue date (the date
// of lic.IssuedAt in UTC+8), the validity (ValidFrom empty means the issue
// date; ValidUntil 长期 or empty means 0) and lic.StatusIndex, which must
// have been allocated (not negative).
func NewStatic(lic *catalog.License) (*Claims, error) {
	if lic == nil {
		return nil, invalidf("nil license")
	}
	compact, _, err := SplitIdentifier(lic.ID)
	if err != nil {
		return nil, err
	}
	if lic.IssuedAt.IsZero() {
		return nil, invalidf("license %s has no issue time", lic.ID)
	}
	if lic.StatusIndex < 0 || lic.StatusIndex >= MaxStatusEntries {
		return nil, invalidf("license %s has no status index", lic.ID)
	}
	code, err := holderCode(lic)
	if err != nil {
		return nil, err
	}
	c := &Claims{
		Profile:           ProfileStatic,
		Identifier:        lic.ID,
		CompactIdentifier: compact,
		Number:            lic.Number,
		HolderName:        lic.Holder.Name,
		HolderCodeType:    lic.Holder.CodeType,
		HolderCode:        code,
		IssueDate:         DateOf(lic.IssuedAt),
		StatusIndex:       uint32(lic.StatusIndex),
	}
	if c.ValidFrom, err = ParseDate(lic.ValidFrom); err != nil {
		return nil, err
	}
	if c.ValidFrom == 0 {
		c.ValidFrom = c.IssueDate
	}
	if c.ValidUntil, err = ParseDate(lic.ValidUntil); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func holderCode(lic *catalog.License) (string, error) {
	switch lic.Holder.CodeType {
	case catalog.HolderCodeIDNumber:
		id := catalog.NormalizeIDNumber(lic.Holder.Code)
		if len(id) != 18 {
			return "", invalidf("holder ID number must be 18 characters")
		}
		return MaskIDNumber(id), nil
	case catalog.HolderCodeUSCC:
		return lic.Holder.Code, nil
	}
	return "", invalidf("holder code type %q is not %s or %s", lic.Holder.CodeType, catalog.HolderCodeIDNumber, catalog.HolderCodeUSCC)
}

// NewDynamic builds the claims of a dynamic token for lic, made at iat and
// valid for lifetime (whole seconds, 1 s to MaxLifetime; 0 means
// MaxLifetime). The holder of a natural person is masked (MaskName,
// MaskIDNumber); an organisation's name and USCC are public register data and
// stay in full. The 96-bit ticket is read from rnd.
func NewDynamic(lic *catalog.License, iat time.Time, lifetime time.Duration, rnd io.Reader) (*Claims, error) {
	if lic == nil {
		return nil, invalidf("nil license")
	}
	if rnd == nil {
		return nil, invalidf("nil random source")
	}
	if lifetime == 0 {
		lifetime = MaxLifetime
	}
	if lifetime < time.Second || lifetime > MaxLifetime || lifetime%time.Second != 0 {
		return nil, invalidf("lifetime %v must be whole seconds in 1s..%v", lifetime, MaxLifetime)
	}
	compact, _, err := SplitIdentifier(lic.ID)
	if err != nil {
		return nil, err
	}
	code, err := holderCode(lic)
	if err != nil {
		return nil, err
	}
	name := lic.Holder.Name
	if lic.Holder.CodeType == catalog.HolderCodeIDNumber {
		name = MaskName(name)
	}
	c := &Claims{
		Profile:           ProfileDynamic,
		Identifier:        lic.ID,
		CompactIdentifier: compact,
		HolderName:        name,
		HolderCode:        code,
		IssuedAt:          iat.Unix(),
		Lifetime:          uint32(lifetime / time.Second),
	}
	if _, err := io.ReadFull(rnd, c.Ticket[:]); err != nil {
		return nil, invalidf("ticket: %w", err)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}
