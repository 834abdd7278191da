package catalog

import (
	"context"
	"time"
)

// Role is what a principal may do.
type Role string

// Roles of API principals.
const (
	RoleIssuer   Role = "issuer"   // a department: issues and manages its own licenses
	RoleVerifier Role = "verifier" // a user unit (用证单位): verifies and fetches licenses of allowed types
	RoleClerk    Role = "clerk"    // a counter clerk: scans and verifies at a counter
	RoleAdmin    Role = "admin"    // the data authority: runs the catalog
)

// Roles lists every role in a stable order.
func Roles() []Role { return []Role{RoleIssuer, RoleVerifier, RoleClerk, RoleAdmin} }

// Principal is a caller of the API identified by an API key. The key itself
// is never stored: only its SM3 or SHA-256 digest (KeyHash), chosen by the
// caller of PutPrincipal, and a short public prefix to tell keys apart.
type Principal struct {
	ID        string // e.g. "key_3f9a…"; the key's public prefix
	Name      string // who holds it, e.g. "芜湖市人民医院"
	Role      Role
	Dept      string   // issuer: the department key; clerk: the department the counter belongs to
	Types     []string // verifier: license type keys it may query; empty = none
	KeyHash   string   // lower-case hex digest of the secret key
	CreatedAt time.Time
	RevokedAt time.Time // zero while active
}

// Active reports whether the key may be used.
func (p *Principal) Active() bool { return p.RevokedAt.IsZero() }

// MayQuery reports whether a verifier may see licenses of a type.
func (p *Principal) MayQuery(typeKey string) bool {
	if p.Role == RoleAdmin || p.Role == RoleClerk {
		return true
	}
	for _, t := range p.Types {
		if t == typeKey {
			return true
		}
	}
	return false
}

// UseAction is what a use record records.
type UseAction string

// Use actions.
const (
	UseVerify   UseAction = "verify"   // 核验 of a file, identifier, QR or claimed data
	UseGet      UseAction = "get"      // license data fetched
	UseDownload UseAction = "download" // sealed file fetched
	UseShow     UseAction = "show"     // the holder's dynamic QR scanned at a counter
)

// UseRecord is one use of a license by a user unit, clerk or the public (用证记录).
type UseRecord struct {
	ID         string // time-ordered, unique
	LicenseID  string
	HolderCode string // for the holder's own listing; never shown to others
	IssuerUSCC string // for the issuing department's listing
	Actor      string // principal ID, or "public"
	ActorName  string
	Role       Role
	Action     UseAction
	Purpose    string // 用证事由
	Result     string // e.g. "valid", "revoked", "not_authentic"
	At         time.Time
}

// AccessStore keeps API principals and use records.
type AccessStore interface {
	// PutPrincipal creates or replaces a principal by ID.
	PutPrincipal(ctx context.Context, p *Principal) error
	// GetPrincipal returns ErrNotFound for an unknown ID.
	GetPrincipal(ctx context.Context, id string) (*Principal, error)
	// PrincipalByKeyHash returns ErrNotFound for an unknown key digest.
	PrincipalByKeyHash(ctx context.Context, hash string) (*Principal, error)
	// ListPrincipals lists every principal ordered by ID.
	ListPrincipals(ctx context.Context) ([]*Principal, error)
	// AddUse appends a use record; its ID must be set and unique.
	AddUse(ctx context.Context, r *UseRecord) error
	// ListUses lists the records of a holder (holderCode) or of an issuing
	// department (issuer), newest first, up to limit, before cursor.
	ListUses(ctx context.Context, holderCode, issuer, cursor string, limit int) ([]*UseRecord, string, error)
}
