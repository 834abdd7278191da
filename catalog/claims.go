package catalog

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ClaimCode is the result code of 核验 by claimed data (证照核验), as used by
// the shared-service gateways: the caller states what a license says and the
// registry answers whether that is right and whether the license is in force.
type ClaimCode int

// 核验 result codes.
const (
	ClaimValid     ClaimCode = 0 // correct and valid (一致且有效)
	ClaimNotActive ClaimCode = 1 // correct, not yet in force (一致，未生效)
	ClaimSuspended ClaimCode = 2 // correct, temporarily invalid (一致，暂时失效/停用)
	ClaimInvalid   ClaimCode = 3 // correct, invalid: revoked, expired or replaced (一致，已失效)
	ClaimTooLittle ClaimCode = 4 // too little data to identify a license (信息不足)
	ClaimNoLicense ClaimCode = 5 // no such license (无此证照)
	ClaimNoFields  ClaimCode = 6 // no fields given (未提供核验信息)
	ClaimMismatch  ClaimCode = 7 // partly wrong or incomplete (部分信息不一致)
)

var claimNames = [...]struct{ name, meaning string }{
	{"valid", "信息一致，证照有效"},
	{"not_active", "信息一致，证照尚未生效"},
	{"suspended", "信息一致，证照已停用（暂时失效）"},
	{"invalid", "信息一致，证照已失效（注销、过期或已更新）"},
	{"too_little_data", "信息不足，无法确定证照（需证照编号和持证主体代码）"},
	{"not_found", "无此证照"},
	{"no_fields", "未提供核验信息"},
	{"mismatch", "部分信息不一致或不完整"},
}

// String returns the stable snake_case name of the code, e.g. "valid".
func (c ClaimCode) String() string {
	if c < 0 || int(c) >= len(claimNames) {
		return fmt.Sprintf("claim_%d", int(c))
	}
	return claimNames[c].name
}

// Meaning returns the Chinese meaning of the code.
func (c ClaimCode) Meaning() string {
	if c < 0 || int(c) >= len(claimNames) {
		return ""
	}
	return claimNames[c].meaning
}

// Claim is what a caller says a license states. TypeCode, Number and
// HolderCode identify the license; HolderName and Fields (item key → value)
// are compared with it.
type Claim struct {
	TypeCode   string
	HolderCode string
	HolderName string
	Number     string
	Fields     map[string]string
}

// ClaimResult is the answer to a Claim.
type ClaimResult struct {
	Code ClaimCode
	// License is the license the claim names; nil for codes 4, 5 and 6.
	License *License
	// Mismatched lists the items that differ or are unknown (code 7),
	// "holder_code" and "holder_name" included, sorted.
	Mismatched []string
}

// TypeByCode returns the license type with a GB/T 36904 type code, or
// ErrNotFound.
func (s *Service) TypeByCode(ctx context.Context, code string) (*LicenseType, error) {
	types, err := s.Store.ListTypes(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalog: type by code: %w", err)
	}
	for _, t := range types {
		if t.Code == code {
			return t, nil
		}
	}
	return nil, fmt.Errorf("catalog: type code %q: %w", code, ErrNotFound)
}

// CheckClaim answers a 核验 request: it finds the newest version of the
// license with the claimed type code and number and compares the claim with
// it (CompareClaim). Only a store failure is an error.
func (s *Service) CheckClaim(ctx context.Context, c Claim) (ClaimResult, error) {
	if empty(c) {
		return ClaimResult{Code: ClaimNoFields}, nil
	}
	if strings.TrimSpace(c.TypeCode) == "" || strings.TrimSpace(c.Number) == "" || strings.TrimSpace(c.HolderCode) == "" {
		return ClaimResult{Code: ClaimTooLittle}, nil
	}
	t, err := s.TypeByCode(ctx, strings.TrimSpace(c.TypeCode))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return ClaimResult{Code: ClaimNoLicense}, nil
		}
		return ClaimResult{}, err
	}
	l, err := s.Store.GetByNumber(ctx, t.Key, strings.TrimSpace(c.Number))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return ClaimResult{Code: ClaimNoLicense}, nil
		}
		return ClaimResult{}, fmt.Errorf("catalog: check claim: %w", err)
	}
	return CompareClaim(l, c, s.Now()), nil
}

// CompareClaim compares a claim with a license at now. Holder codes are
// compared after NormalizeIDNumber, other values after trimming spaces. A field
// the license does not have counts as a mismatch.
func CompareClaim(l *License, c Claim, now time.Time) ClaimResult {
	if empty(c) {
		return ClaimResult{Code: ClaimNoFields}
	}
	var bad []string
	if NormalizeIDNumber(c.HolderCode) != NormalizeIDNumber(l.Holder.Code) {
		bad = append(bad, "holder_code")
	}
	if n := strings.TrimSpace(c.HolderName); n != "" && n != strings.TrimSpace(l.Holder.Name) {
		bad = append(bad, "holder_name")
	}
	for k, v := range c.Fields {
		have, ok := l.Values[k]
		if !ok || strings.TrimSpace(have) != strings.TrimSpace(v) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return ClaimResult{Code: ClaimMismatch, License: l, Mismatched: bad}
	}
	res := ClaimResult{License: l}
	switch l.StatusAt(now) {
	case StatusIssued:
		res.Code = ClaimValid
		if from, err := time.ParseInLocation(DateLayout, l.ValidFrom, now.Location()); err == nil && now.Before(from) {
			res.Code = ClaimNotActive
		}
	case StatusSuspended:
		res.Code = ClaimSuspended
	default:
		res.Code = ClaimInvalid
	}
	return res
}

func empty(c Claim) bool {
	return strings.TrimSpace(c.HolderCode) == "" && strings.TrimSpace(c.HolderName) == "" &&
		strings.TrimSpace(c.Number) == "" && len(c.Fields) == 0
}
