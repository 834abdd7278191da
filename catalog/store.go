package catalog

import (
	"context"
	"time"
)

// Filter selects licenses in Store.List. Exactly one of the selecting fields is
// used, in this order of precedence: HolderCode, Batch, TypeKey; Status narrows
// any of them (or, alone, selects by status). An empty filter lists everything.
type Filter struct {
	HolderCode string
	Batch      string
	TypeKey    string
	IssuerUSCC string // narrows to one issuing department
	Status     Status // stored status; StatusExpired is not stored and matches nothing
}

// Page is one page of a listing.
type Page struct {
	Licenses []*License
	Next     string // cursor for the next page; empty at the end
}

// MaxPageSize bounds Store.List's limit.
const MaxPageSize = 1000

// Store keeps license types, departments and licenses. Implementations must be
// safe for concurrent use and pass catalogtest.Run.
type Store interface {
	// PutType creates or replaces a license type by its key.
	PutType(ctx context.Context, t *LicenseType) error
	// GetType returns ErrNotFound for an unknown key.
	GetType(ctx context.Context, key string) (*LicenseType, error)
	// ListTypes lists every type ordered by key.
	ListTypes(ctx context.Context) ([]*LicenseType, error)

	// PutDepartment creates or replaces a department by its key.
	PutDepartment(ctx context.Context, d *Department) error
	// GetDepartment returns ErrNotFound for an unknown key.
	GetDepartment(ctx context.Context, key string) (*Department, error)
	// ListDepartments lists every department ordered by key.
	ListDepartments(ctx context.Context) ([]*Department, error)

	// Create stores a new license with its indexes in one transaction. It
	// returns ErrExists when the identifier, the (type, license number) pair of
	// a license in force, or the digest is taken, or when the status index is
	// already claimed.
	Create(ctx context.Context, l *License) error
	// Get returns the license with that identifier, or ErrNotFound.
	Get(ctx context.Context, id string) (*License, error)
	// GetByNumber returns the newest version with that license number within a
	// type, or ErrNotFound.
	GetByNumber(ctx context.Context, typeKey, number string) (*License, error)
	// GetByDigest returns the license whose sealed file has that SM3 digest
	// (lower-case hex), or ErrNotFound.
	GetByDigest(ctx context.Context, digest string) (*License, error)
	// List returns up to limit licenses matching f, ordered by identifier,
	// starting after cursor (empty for the first page).
	List(ctx context.Context, f Filter, cursor string, limit int) (Page, error)
	// SetStatus appends t to the license's history and sets its status to t.To,
	// provided the stored status still equals t.From; otherwise ErrConflict.
	SetStatus(ctx context.Context, id string, t Transition) (*License, error)
	// Supersede stores next and moves the license oldID from t.From to
	// StatusSuperseded with next.ID as SupersededBy, in one transaction.
	// ErrConflict when the stored status is no longer t.From.
	Supersede(ctx context.Context, oldID string, t Transition, next *License) error
	// Versions returns every version sharing the license's type, issuer and
	// serial, oldest first.
	Versions(ctx context.Context, id string) ([]*License, error)
	// StatusIndexUsed reports whether a QR status-list index is claimed, and
	// how many are.
	StatusIndexUsed(ctx context.Context, idx int) (used bool, count int, err error)
	// ReserveSerial returns the next value of a named sequence, starting at 1.
	ReserveSerial(ctx context.Context, name string) (uint64, error)
	// Close releases the store.
	Close() error
}

// StatusIndexLister is implemented by stores that can list every claimed
// QR status-list index at once. A batch then loads them into a bitmap at
// its start and draws indexes without a store lookup per row; an index
// claimed by another issuer while the batch runs is still caught when the
// batch commits (the row is rejected as a conflict and issued by a rerun).
type StatusIndexLister interface {
	// StatusIndexes calls fn for every claimed index, in increasing order.
	StatusIndexes(ctx context.Context, fn func(idx int) error) error
}

// Clock returns the current time. Inject it; packages never call time.Now.
type Clock func() time.Time
