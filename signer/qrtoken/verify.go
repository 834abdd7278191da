package qrtoken

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"elicense/catalog"
)

// CheckStatus is the outcome of one check.
type CheckStatus string

// Check outcomes. Only Fail makes a token invalid.
const (
	Pass CheckStatus = "pass"
	Fail CheckStatus = "fail"
	Warn CheckStatus = "warn"
	Skip CheckStatus = "skip"
)

// CheckID names a check; Result.Reason is the CheckID of the first failure.
type CheckID string

// Checks, in the order Verify runs and reports them.
const (
	// CheckParse: the text and token decode strictly.
	CheckParse CheckID = "parse"
	// CheckKeyList: a key list is given.
	CheckKeyList CheckID = "key_list"
	// CheckKID: the key list has a key with the token's KID.
	CheckKID CheckID = "kid"
	// CheckSignature: the signature verifies with one of those keys.
	CheckSignature CheckID = "signature"
	// CheckKeyStatus: the key is active (not retired or revoked).
	CheckKeyStatus CheckID = "key_status"
	// CheckKeyValidity: the signing time (issue date of a static token,
	// issued-at of a dynamic one) is within the key's validity.
	CheckKeyValidity CheckID = "key_validity"
	// CheckIdentifier: the identifier, rebuilt from the token's compact
	// form and the key's department USCC, has the GB/T 36904 structure
	// (fail) and its MOD 37,36 check character (warn).
	CheckIdentifier CheckID = "identifier"
	// CheckIssuer: the identifier's issuer code is the key's department
	// USCC. The token does not carry the issuer code, so this holds by
	// construction once the identifier could be rebuilt.
	CheckIssuer CheckID = "issuer"
	// CheckTypeCode: the key may sign the identifier's license type.
	CheckTypeCode CheckID = "type_code"
	// CheckHolderCode: a masked ID number has the masked structure; a
	// USCC has the GB 32100 structure (fail) and check character (warn).
	CheckHolderCode CheckID = "holder_code"
	// CheckValidity: today is within the license's validity (static).
	CheckValidity CheckID = "validity"
	// CheckStatusList: a status list covering the index is given and is
	// not older than VerifyOptions.MaxStatusAge (warn otherwise).
	CheckStatusList CheckID = "status_list"
	// CheckLicenseStatus: neither the revoked nor the suspended bit is set.
	CheckLicenseStatus CheckID = "license_status"
	// CheckWindow: now is within iat − skew … iat + lifetime + skew
	// (dynamic).
	CheckWindow CheckID = "window"
	// CheckTicket: the dynamic token's ticket was not seen before.
	CheckTicket CheckID = "ticket"
)

var checkOrder = [...]CheckID{
	CheckParse, CheckKeyList, CheckKID, CheckSignature, CheckKeyStatus, CheckKeyValidity,
	CheckIdentifier, CheckIssuer, CheckTypeCode, CheckHolderCode, CheckValidity,
	CheckStatusList, CheckLicenseStatus, CheckWindow, CheckTicket,
}

// Check is the outcome of one check with a human-readable detail.
type Check struct {
	ID     CheckID
	Status CheckStatus
	Detail string
}

// Result is the outcome of Verify. A failed verification is a result, not
// an error.
type Result struct {
	// Valid is true when no check failed (warnings allowed).
	Valid bool
	// Reason is the ID of the first failed check, "" when Valid.
	Reason CheckID
	// Checks lists every check in order, skipped ones included.
	Checks []Check
	// Token is the parsed token, nil when parsing failed. Its claims are
	// only trustworthy when Valid. Token.Claims.Identifier is the full
	// identifier once a key's signature verified (Key not nil), empty
	// otherwise.
	Token *Token
	// Key is the key whose signature verified, nil when none did.
	Key *Key
}

// Check returns the check with the given ID.
func (r *Result) Check(id CheckID) (Check, bool) {
	for _, c := range r.Checks {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// Defaults of VerifyOptions.
const (
	// DefaultSkew is the clock tolerance for dynamic tokens.
	DefaultSkew = 60 * time.Second
	// DefaultMaxStatusAge is the age beyond which a status list draws a
	// warning.
	DefaultMaxStatusAge = 7 * 24 * time.Hour
)

// VerifyOptions are the inputs of Verify besides the text.
type VerifyOptions struct {
	// Keys is the key list, normally from ParseKeyList (its root
	// signature already verified). Required.
	Keys *KeyList
	// Status is the status list, normally from ParseStatusList (its root
	// signature already verified). Nil means revocation is not checked (a
	// warning).
	Status *StatusList
	// Now is the verification time. Required: time-dependent checks fail
	// when it is zero.
	Now time.Time
	// Seen records the tickets of dynamic tokens. Nil means replay is not
	// checked (a warning).
	Seen TicketCache
	// SeenSince is when Seen began to record. A dynamic token issued
	// before it may have been used while Seen was not recording (say,
	// before a restart of a process whose Seen lives in memory), so its
	// ticket check fails and the holder shows a fresh code (compared in
	// whole seconds, as tokens carry their issue time). Zero: Seen covers
	// every use (a persisted cache).
	SeenSince time.Time
	// Skew is the clock tolerance for dynamic tokens; 0 means DefaultSkew,
	// a negative value means none.
	Skew time.Duration
	// MaxStatusAge is the age of the status list beyond which a warning is
	// given; 0 means DefaultMaxStatusAge, a negative value means no limit.
	MaxStatusAge time.Duration
}

// TicketCache remembers the tickets of dynamic tokens already accepted.
// Implementations must be safe for concurrent use; the caller may persist
// them.
type TicketCache interface {
	// Use records t as used until expires and reports whether it was
	// unused (true) or already recorded and not yet expired (false) at
	// now. An error (for example ErrCacheFull) makes the ticket check fail.
	Use(t Ticket, expires, now time.Time) (bool, error)
}

// ErrCacheFull reports a MemoryTicketCache holding its maximum number of
// unexpired tickets.
var ErrCacheFull = errors.New("qrtoken: ticket cache full")

// MemoryTicketCache is an in-memory TicketCache. Expired tickets are
// dropped as new ones arrive. The zero value is not usable: use
// NewMemoryTicketCache.
type MemoryTicketCache struct {
	mu        sync.Mutex
	max       int
	nextSweep int
	m         map[Ticket]time.Time
}

// NewMemoryTicketCache returns a cache holding at most max unexpired
// tickets (0 means 1,000,000).
func NewMemoryTicketCache(max int) *MemoryTicketCache {
	if max <= 0 {
		max = 1_000_000
	}
	return &MemoryTicketCache{max: max, nextSweep: 1024, m: make(map[Ticket]time.Time)}
}

// Use implements TicketCache.
func (c *MemoryTicketCache) Use(t Ticket, expires, now time.Time) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.m[t]; ok && now.Before(exp) {
		return false, nil
	}
	if len(c.m) >= c.nextSweep || len(c.m) >= c.max {
		for k, exp := range c.m {
			if !now.Before(exp) {
				delete(c.m, k)
			}
		}
		c.nextSweep = max(1024, 2*len(c.m))
		if len(c.m) >= c.max {
			return false, ErrCacheFull
		}
	}
	c.m[t] = expires
	return true, nil
}

// Len returns the number of tickets held, expired ones not yet dropped
// included.
func (c *MemoryTicketCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

type checker struct {
	res  Result
	done [len(checkOrder)]Check
}

func (c *checker) set(id CheckID, st CheckStatus, format string, args ...any) {
	for i, o := range checkOrder {
		if o == id {
			c.done[i] = Check{ID: id, Status: st, Detail: fmt.Sprintf(format, args...)}
			return
		}
	}
}

func (c *checker) failed() bool {
	for _, ch := range c.done {
		if ch.Status == Fail {
			return true
		}
	}
	return false
}

func (c *checker) finish() Result {
	c.res.Valid = true
	c.res.Checks = make([]Check, 0, len(checkOrder))
	for i, id := range checkOrder {
		ch := c.done[i]
		if ch.ID == "" {
			ch = Check{ID: id, Status: Skip, Detail: "not reached"}
		}
		if ch.Status == Fail && c.res.Valid {
			c.res.Valid, c.res.Reason = false, id
		}
		c.res.Checks = append(c.res.Checks, ch)
	}
	return c.res
}

// Verify checks the printed or displayed text of a token offline (see
// ParseText for the accepted forms) and reports every check. It never
// returns an error: a token that fails is a Result with Valid false.
func Verify(text string, opts VerifyOptions) Result {
	tok, err := ParseText(text)
	return verifyParsed(tok, err, opts)
}

// VerifyToken is Verify for token bytes.
func VerifyToken(token []byte, opts VerifyOptions) Result {
	tok, err := Parse(token)
	return verifyParsed(tok, err, opts)
}

func verifyParsed(tok *Token, perr error, opts VerifyOptions) Result {
	c := &checker{}
	if perr != nil {
		c.set(CheckParse, Fail, "%v", perr)
		return c.finish()
	}
	cl := &tok.Claims
	c.res.Token = tok
	c.set(CheckParse, Pass, "%v token, %d bytes", cl.Profile, len(tok.raw))

	kl := opts.Keys
	if kl == nil {
		c.set(CheckKeyList, Fail, "no key list")
		return c.finish()
	}
	if root, ok := kl.Signed(); ok {
		c.set(CheckKeyList, Pass, "version %d issued %s, signed by root %v", kl.version, kl.issued.Format(time.RFC3339), root)
	} else {
		c.set(CheckKeyList, Pass, "version %d issued %s, local list", kl.version, kl.issued.Format(time.RFC3339))
	}
	cands := kl.byKID[tok.KID]
	if len(cands) == 0 {
		c.set(CheckKID, Fail, "no key with kid %v", tok.KID)
		return c.finish()
	}
	c.set(CheckKID, Pass, "%d key(s) with kid %v", len(cands), tok.KID)
	signed := tok.SignedBytes()
	var e *keyEntry
	for _, cand := range cands {
		if cand.v.verify(signed, tok.Signature[:]) {
			e = cand
			break
		}
	}
	if e == nil {
		c.set(CheckSignature, Fail, "SM2 signature does not verify with the %d key(s) of kid %v", len(cands), tok.KID)
		return c.finish()
	}
	key := e.key
	c.res.Key = &key
	c.set(CheckSignature, Pass, "SM2 signature by %s (%s)", key.DeptName, key.DeptUSCC)
	// The issuer code is the key's department: rebuild the identifier.
	cl.Identifier, _ = ExpandIdentifier(cl.CompactIdentifier, key.DeptUSCC)

	if key.Status == KeyActive {
		c.set(CheckKeyStatus, Pass, "key active")
	} else {
		c.set(CheckKeyStatus, Fail, "key %v", key.Status)
	}

	now := opts.Now
	checkKeyValidity(c, &key, cl)
	checkIdentifierAndPolicy(c, &key, cl)
	checkHolderCode(c, cl)

	switch cl.Profile {
	case ProfileStatic:
		checkValidity(c, cl, now)
		checkStatus(c, cl, opts)
		c.set(CheckWindow, Skip, "static token")
		c.set(CheckTicket, Skip, "static token")
	case ProfileDynamic:
		c.set(CheckValidity, Skip, "dynamic tokens carry no validity dates")
		c.set(CheckStatusList, Skip, "dynamic tokens carry no status index")
		c.set(CheckLicenseStatus, Skip, "dynamic tokens carry no status index")
		checkWindow(c, cl, opts)
	}
	return c.finish()
}

func checkKeyValidity(c *checker, key *Key, cl *Claims) {
	switch cl.Profile {
	case ProfileStatic:
		nb, na := DateOf(key.NotBefore), DateOf(key.NotAfter)
		if cl.IssueDate < nb || cl.IssueDate > na {
			c.set(CheckKeyValidity, Fail, "issue date %v outside key validity %v..%v", cl.IssueDate, nb, na)
			return
		}
		c.set(CheckKeyValidity, Pass, "issue date %v within key validity %v..%v", cl.IssueDate, nb, na)
	case ProfileDynamic:
		iat := time.Unix(cl.IssuedAt, 0)
		if iat.Before(key.NotBefore) || iat.After(key.NotAfter) {
			c.set(CheckKeyValidity, Fail, "issued at %s outside key validity %s..%s", iat.UTC().Format(time.RFC3339),
				key.NotBefore.Format(time.RFC3339), key.NotAfter.Format(time.RFC3339))
			return
		}
		c.set(CheckKeyValidity, Pass, "issued at %s within key validity", iat.UTC().Format(time.RFC3339))
	}
}

func checkIdentifierAndPolicy(c *checker, key *Key, cl *Claims) {
	parts, checkOK, err := catalog.ParseIdentifier(cl.Identifier)
	if err != nil {
		c.set(CheckIdentifier, Fail, "identifier %s with issuer %s: %v", cl.CompactIdentifier, key.DeptUSCC, err)
		c.set(CheckIssuer, Fail, "identifier cannot be rebuilt with the key's department %s", key.DeptUSCC)
		c.set(CheckTypeCode, Skip, "identifier malformed")
		return
	}
	if checkOK {
		c.set(CheckIdentifier, Pass, "%s, MOD 37,36 check character %c", cl.Identifier, parts.Check)
	} else {
		want, _ := catalog.IdentifierCheck(parts.TypeCode + parts.IssuerCode + parts.Serial + parts.Version)
		c.set(CheckIdentifier, Warn, "%s: check character %c, MOD 37,36 with issuer %s gives %c", cl.Identifier, parts.Check, parts.IssuerCode, want)
	}
	c.set(CheckIssuer, Pass, "issuer %s is the key's department (implied by the key)", parts.IssuerCode)
	if key.Allows(parts.TypeCode) {
		c.set(CheckTypeCode, Pass, "type %s allowed for the key", parts.TypeCode)
	} else {
		c.set(CheckTypeCode, Fail, "type %s not allowed for the key", parts.TypeCode)
	}
}

// isMaskedID reports whether s has the structure 6 digits, 8 asterisks, 3
// digits and a digit or X.
func isMaskedID(s string) bool {
	if len(s) != 18 {
		return false
	}
	for i := 0; i < 18; i++ {
		ch := s[i]
		switch {
		case i >= 6 && i < 14:
			if ch != '*' {
				return false
			}
		case i == 17:
			if !(ch >= '0' && ch <= '9' || ch == 'X') {
				return false
			}
		default:
			if ch < '0' || ch > '9' {
				return false
			}
		}
	}
	return true
}

func checkHolderCode(c *checker, cl *Claims) {
	typ := cl.HolderCodeType
	if cl.Profile == ProfileDynamic {
		// Dynamic tokens carry no type: infer it from the form.
		typ = catalog.HolderCodeUSCC
		if isMaskedID(cl.HolderCode) || len(cl.HolderCode) == 18 && cl.HolderCode[6] == '*' {
			typ = catalog.HolderCodeIDNumber
		}
	}
	switch typ {
	case catalog.HolderCodeIDNumber:
		if isMaskedID(cl.HolderCode) {
			c.set(CheckHolderCode, Pass, "masked ID number structure")
		} else {
			c.set(CheckHolderCode, Fail, "ID number %q is not in the masked form 6 digits, 8 *, 4 characters", cl.HolderCode)
		}
	case catalog.HolderCodeUSCC:
		switch code, msg := catalog.CheckUSCC(cl.HolderCode); code {
		case "":
			c.set(CheckHolderCode, Pass, "USCC check character")
		case catalog.CodeBadCheck:
			c.set(CheckHolderCode, Warn, "USCC %s: %s", cl.HolderCode, msg)
		default:
			c.set(CheckHolderCode, Fail, "USCC %q: %s", cl.HolderCode, msg)
		}
	default:
		c.set(CheckHolderCode, Warn, "holder code type %s not checked", typ)
	}
}

func checkValidity(c *checker, cl *Claims, now time.Time) {
	if now.IsZero() {
		c.set(CheckValidity, Fail, "VerifyOptions.Now not set")
		return
	}
	today := DateOf(now)
	switch {
	case today < cl.ValidFrom:
		c.set(CheckValidity, Fail, "not valid before %v", cl.ValidFrom)
	case cl.ValidUntil != 0 && today > cl.ValidUntil:
		c.set(CheckValidity, Fail, "expired after %v", cl.ValidUntil)
	default:
		c.set(CheckValidity, Pass, "valid %v to %v", cl.ValidFrom, cl.ValidUntil)
	}
}

func checkStatus(c *checker, cl *Claims, opts VerifyOptions) {
	l := opts.Status
	if l == nil {
		c.set(CheckStatusList, Warn, "no status list: revocation not checked offline")
		c.set(CheckLicenseStatus, Skip, "no status list")
		return
	}
	flags, err := l.Get(int(cl.StatusIndex))
	if err != nil {
		c.set(CheckStatusList, Warn, "index %d not covered by the list of %d entries (list older than the token?)", cl.StatusIndex, l.Size())
		c.set(CheckLicenseStatus, Skip, "index not covered")
		return
	}
	maxAge := opts.MaxStatusAge
	if maxAge == 0 {
		maxAge = DefaultMaxStatusAge
	}
	age := opts.Now.Sub(l.issued)
	switch {
	case opts.Now.IsZero():
		c.set(CheckStatusList, Warn, "VerifyOptions.Now not set: list age unknown")
	case maxAge > 0 && age > maxAge:
		c.set(CheckStatusList, Warn, "status list #%d is %v old (maximum %v)", l.sequence, age.Round(time.Minute), maxAge)
	default:
		c.set(CheckStatusList, Pass, "status list #%d issued %s", l.sequence, l.issued.Format(time.RFC3339))
	}
	switch {
	case flags&FlagRevoked != 0:
		c.set(CheckLicenseStatus, Fail, "revoked")
	case flags&FlagSuspended != 0:
		c.set(CheckLicenseStatus, Fail, "suspended")
	default:
		c.set(CheckLicenseStatus, Pass, "in force")
	}
}

func checkWindow(c *checker, cl *Claims, opts VerifyOptions) {
	skew := opts.Skew
	if skew == 0 {
		skew = DefaultSkew
	} else if skew < 0 {
		skew = 0
	}
	iat := time.Unix(cl.IssuedAt, 0)
	life := time.Duration(cl.Lifetime) * time.Second
	start, end := iat.Add(-skew), iat.Add(life+skew)
	now := opts.Now
	switch {
	case now.IsZero():
		c.set(CheckWindow, Fail, "VerifyOptions.Now not set")
	case life > MaxLifetime:
		c.set(CheckWindow, Fail, "lifetime %v above %v", life, MaxLifetime)
	case now.Before(start):
		c.set(CheckWindow, Fail, "issued %v in the future", iat.Sub(now).Round(time.Second))
	case now.After(end):
		c.set(CheckWindow, Fail, "expired %v ago", now.Sub(iat.Add(life)).Round(time.Second))
	default:
		c.set(CheckWindow, Pass, "shown %v after issue, lifetime %v", now.Sub(iat).Round(time.Second), life)
	}
	switch {
	case c.failed():
		c.set(CheckTicket, Skip, "not recorded: the token already failed")
	case opts.Seen == nil:
		c.set(CheckTicket, Warn, "no ticket cache: replay not checked")
	case iat.Before(opts.SeenSince.Truncate(time.Second)): // iat has whole seconds
		c.set(CheckTicket, Fail, "issued %v before the ticket record began: an earlier use is unknown; show a fresh code",
			opts.SeenSince.Sub(iat).Round(time.Second))
	default:
		fresh, err := opts.Seen.Use(cl.Ticket, end, now)
		switch {
		case err != nil:
			c.set(CheckTicket, Fail, "ticket cache: %v", err)
		case !fresh:
			c.set(CheckTicket, Fail, "ticket %v already used", cl.Ticket)
		default:
			c.set(CheckTicket, Pass, "ticket %v first use", cl.Ticket)
		}
	}
}
