package api

import (
	"time"

	"elicense/catalog"
	"elicense/signer/qrtoken"
)

// JSON shapes of the API. Domain types carry no JSON tags: these do.

type partyJSON struct {
	Name     string `json:"name"`
	Code     string `json:"code"`
	CodeType string `json:"codeType,omitempty"`
}

type transitionJSON struct {
	From   string    `json:"from,omitempty"`
	To     string    `json:"to"`
	Actor  string    `json:"actor,omitempty"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

type licenseJSON struct {
	Identifier   string            `json:"identifier"`
	Number       string            `json:"number"`
	Type         string            `json:"type"`
	TypeCode     string            `json:"typeCode"`
	TypeName     string            `json:"typeName"`
	Issuer       partyJSON         `json:"issuer"`
	Holder       partyJSON         `json:"holder"`
	Values       map[string]string `json:"values"`
	ValidFrom    string            `json:"validFrom"`
	ValidUntil   string            `json:"validUntil"`
	IssuedAt     time.Time         `json:"issuedAt"`
	Version      int               `json:"version"`
	Status       string            `json:"status"`
	Supersedes   string            `json:"supersedes,omitempty"`
	SupersededBy string            `json:"supersededBy,omitempty"`
	History      []transitionJSON  `json:"history"`
	PDF          string            `json:"pdf"`
}

// licenseOut renders a license for a caller entitled to see it in full;
// pdf is the download link for that caller.
func licenseOut(l *catalog.License, now time.Time, pdf string) licenseJSON {
	out := licenseJSON{
		Identifier: l.ID, Number: l.Number, Type: l.TypeKey, TypeCode: l.TypeCode, TypeName: l.TypeName,
		Issuer: partyJSON{Name: l.IssuerName, Code: l.IssuerUSCC},
		Holder: partyJSON{Name: l.Holder.Name, Code: l.Holder.Code, CodeType: l.Holder.CodeType},
		Values: l.Values, ValidFrom: l.ValidFrom, ValidUntil: l.ValidUntil, IssuedAt: l.IssuedAt.UTC(),
		Version: l.Version, Status: string(l.StatusAt(now)), Supersedes: l.Supersedes, SupersededBy: l.SupersededBy,
		History: []transitionJSON{}, PDF: pdf,
	}
	if out.Values == nil {
		out.Values = map[string]string{}
	}
	for _, t := range l.History {
		out.History = append(out.History, transitionJSON{From: string(t.From), To: string(t.To), Actor: t.Actor, Reason: t.Reason, At: t.At.UTC()})
	}
	return out
}

// maskedLicense is what an anonymous caller may learn of a license: no item
// values, and personal names and ID numbers masked.
type maskedLicense struct {
	Identifier string    `json:"identifier"`
	Number     string    `json:"number,omitempty"`
	Type       string    `json:"type,omitempty"`
	TypeName   string    `json:"typeName,omitempty"`
	Issuer     partyJSON `json:"issuer"`
	Holder     partyJSON `json:"holder"`
	ValidFrom  string    `json:"validFrom,omitempty"`
	ValidUntil string    `json:"validUntil,omitempty"`
	Status     string    `json:"status"`
}

func maskLicense(l *catalog.License, now time.Time) maskedLicense {
	return maskedLicense{
		Identifier: l.ID, Number: l.Number, Type: l.TypeKey, TypeName: l.TypeName,
		Issuer:    partyJSON{Name: l.IssuerName, Code: l.IssuerUSCC},
		Holder:    maskHolder(l.Holder.Name, l.Holder.Code, l.Holder.CodeType),
		ValidFrom: l.ValidFrom, ValidUntil: l.ValidUntil, Status: string(l.StatusAt(now)),
	}
}

// maskHolder masks a natural person (ID number holder code); organisations'
// names and USCCs are public register data and stay in full.
func maskHolder(name, code, codeType string) partyJSON {
	if codeType == catalog.HolderCodeIDNumber || looksLikeIDNumber(code) {
		return partyJSON{Name: qrtoken.MaskName(name), Code: qrtoken.MaskIDNumber(code), CodeType: codeType}
	}
	return partyJSON{Name: name, Code: code, CodeType: codeType}
}

// looksLikeIDNumber: 18 characters whose first 17 are digits (a USCC has
// letters in its first two places), or already masked.
func looksLikeIDNumber(code string) bool {
	if len(code) != 18 {
		return false
	}
	for i := 0; i < 6; i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return code[6] >= '0' && code[6] <= '9' || code[6] == '*'
}

type itemJSON struct {
	Key       string   `json:"key"`
	Label     string   `json:"label"`
	Type      string   `json:"type"`
	MaxLength int      `json:"maxLength,omitempty"`
	Required  bool     `json:"required,omitempty"`
	Sensitive bool     `json:"sensitive,omitempty"`
	Face      bool     `json:"face,omitempty"`
	Options   []string `json:"options,omitempty"`
}

type validityJSON struct {
	Years    int  `json:"years,omitempty"`
	LongTerm bool `json:"longTerm,omitempty"`
}

type typeJSON struct {
	Key               string       `json:"key"`
	Code              string       `json:"code"`
	Name              string       `json:"name"`
	Kind              string       `json:"kind,omitempty"`
	DefiningAuthority string       `json:"definingAuthority,omitempty"`
	IssuingDepts      []string     `json:"issuingDepts"`
	Holder            string       `json:"holder"`
	Validity          validityJSON `json:"validity"`
	Items             []itemJSON   `json:"items"`
	Template          string       `json:"template,omitempty"`
	NumberItem        string       `json:"numberItem,omitempty"`
	Version           int          `json:"version"`
	Status            string       `json:"status"`
}

// typeOut renders a type; with faceOnly (public callers) only the face items.
func typeOut(t *catalog.LicenseType, faceOnly bool) typeJSON {
	out := typeJSON{
		Key: t.Key, Code: t.Code, Name: t.Name, Kind: t.Kind, DefiningAuthority: t.DefiningAuthority,
		IssuingDepts: append([]string{}, t.IssuingDepts...), Holder: string(t.Holder),
		Validity: validityJSON{Years: t.Validity.Years, LongTerm: t.Validity.LongTerm},
		Items:    []itemJSON{}, Template: t.Template, NumberItem: t.NumberItem, Version: t.Version, Status: string(t.Status),
	}
	for _, it := range t.Items {
		if faceOnly && !it.Face {
			continue
		}
		out.Items = append(out.Items, itemJSON{Key: it.Key, Label: it.Label, Type: string(it.Type), MaxLength: it.MaxLength,
			Required: it.Required, Sensitive: it.Sensitive, Face: it.Face, Options: it.Options})
	}
	return out
}

// typeInput is the body of POST /types and PUT /types/{key}.
type typeInput struct {
	Key               string       `json:"key"`
	Code              string       `json:"code"`
	Name              string       `json:"name"`
	Kind              string       `json:"kind"`
	DefiningAuthority string       `json:"definingAuthority"`
	IssuingDepts      []string     `json:"issuingDepts"`
	Holder            string       `json:"holder"`
	Validity          validityJSON `json:"validity"`
	Items             []itemJSON   `json:"items"`
	Template          string       `json:"template"`
	NumberItem        string       `json:"numberItem"`
}

func (in typeInput) toType() *catalog.LicenseType {
	t := &catalog.LicenseType{
		Key: in.Key, Code: in.Code, Name: in.Name, Kind: in.Kind, DefiningAuthority: in.DefiningAuthority,
		IssuingDepts: in.IssuingDepts, Holder: catalog.HolderKind(in.Holder),
		Validity: catalog.Validity{Years: in.Validity.Years, LongTerm: in.Validity.LongTerm},
		Template: in.Template, NumberItem: in.NumberItem,
	}
	for _, it := range in.Items {
		t.Items = append(t.Items, catalog.Item{Key: it.Key, Label: it.Label, Type: catalog.DataType(it.Type), MaxLength: it.MaxLength,
			Required: it.Required, Sensitive: it.Sensitive, Face: it.Face, Options: it.Options})
	}
	return t
}

type useJSON struct {
	ID        string    `json:"id"`
	License   string    `json:"license"`
	Actor     string    `json:"actor,omitempty"`
	ActorName string    `json:"actorName"`
	Role      string    `json:"role"`
	Action    string    `json:"action"`
	Purpose   string    `json:"purpose"`
	Result    string    `json:"result"`
	At        time.Time `json:"at"`
}

func useOut(u *catalog.UseRecord, withActorID bool) useJSON {
	out := useJSON{ID: u.ID, License: u.LicenseID, ActorName: u.ActorName, Role: string(u.Role), Action: string(u.Action),
		Purpose: u.Purpose, Result: u.Result, At: u.At.UTC()}
	if withActorID {
		out.Actor = u.Actor
	}
	return out
}

type keyJSON struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	Dept      string     `json:"dept,omitempty"`
	Types     []string   `json:"types,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
	Key       string     `json:"key,omitempty"` // only in the answer to POST /keys
}

func keyOut(p *catalog.Principal) keyJSON {
	out := keyJSON{ID: p.ID, Name: p.Name, Role: string(p.Role), Dept: p.Dept, Types: p.Types, CreatedAt: p.CreatedAt.UTC()}
	if !p.RevokedAt.IsZero() {
		t := p.RevokedAt.UTC()
		out.RevokedAt = &t
	}
	return out
}
