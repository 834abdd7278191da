package boltstore

import (
	"encoding/json"
	"fmt"
	"time"

	"elicense/catalog"
)

// licenseSchema is the schema of the license records this program writes.
// Schema 1 was {"schemaVersion":1,"license":{…}} with catalog.License under
// its Go field names; schema 2 (licenseRecord) keeps the same fields under
// short keys, leaves empty optional ones out and does not repeat in Values
// what Holder and the validity already hold: at about 1.1 KB instead of
// 1.5 KB, three records share a 4 KB page instead of two. Both are read;
// a program that knows only schema 1 refuses a schema-2 record by its
// schemaVersion instead of misreading it.
const licenseSchema = 2

// licenseRecord is a stored license, either schema.
type licenseRecord struct {
	SchemaVersion int              `json:"schemaVersion"`
	V1            *catalog.License `json:"license,omitempty"` // schema 1 only

	ID             string            `json:"id,omitempty"`
	Number         string            `json:"no,omitempty"`
	TypeKey        string            `json:"tk,omitempty"`
	TypeCode       string            `json:"tc,omitempty"`
	TypeName       string            `json:"tn,omitempty"`
	IssuerUSCC     string            `json:"iu,omitempty"`
	IssuerName     string            `json:"in,omitempty"`
	Serial         string            `json:"sn,omitempty"`
	HolderName     string            `json:"hn,omitempty"`
	HolderCode     string            `json:"hc,omitempty"`
	HolderCodeType string            `json:"ht,omitempty"`
	Values         map[string]string `json:"va"`
	Shared         int               `json:"vs,omitempty"` // sharedItems bits: Values entries equal to a field, left out
	ValidFrom      string            `json:"vf,omitempty"`
	ValidUntil     string            `json:"vu,omitempty"`
	IssuedAt       time.Time         `json:"at"`
	Version        int               `json:"ve,omitempty"`
	Supersedes     string            `json:"sp,omitempty"`
	SupersededBy   string            `json:"sb,omitempty"`
	Status         catalog.Status    `json:"st,omitempty"`
	History        []transition      `json:"hi"`
	Digest         string            `json:"dg,omitempty"`
	BatchID        string            `json:"ba,omitempty"`
	SourceKey      string            `json:"sk,omitempty"`
	StatusIndex    int               `json:"si"`
}

type transition struct {
	From   catalog.Status `json:"f,omitempty"`
	To     catalog.Status `json:"t,omitempty"`
	Actor  string         `json:"a,omitempty"`
	Reason string         `json:"r,omitempty"`
	At     time.Time      `json:"at"`
}

// sharedItems are the items whose value a license also keeps in a field;
// bit i of licenseRecord.Shared stands for sharedItems[i].
var sharedItems = [...]struct {
	key   string
	field func(*catalog.License) string
}{
	{"holder_name", func(l *catalog.License) string { return l.Holder.Name }},
	{"holder_code", func(l *catalog.License) string { return l.Holder.Code }},
	{"valid_from", func(l *catalog.License) string { return l.ValidFrom }},
	{"valid_until", func(l *catalog.License) string { return l.ValidUntil }},
}

func encodeLicense(l *catalog.License) ([]byte, error) {
	r := licenseRecord{SchemaVersion: licenseSchema,
		ID: l.ID, Number: l.Number, TypeKey: l.TypeKey, TypeCode: l.TypeCode, TypeName: l.TypeName,
		IssuerUSCC: l.IssuerUSCC, IssuerName: l.IssuerName, Serial: l.Serial,
		HolderName: l.Holder.Name, HolderCode: l.Holder.Code, HolderCodeType: l.Holder.CodeType,
		ValidFrom: l.ValidFrom, ValidUntil: l.ValidUntil, IssuedAt: l.IssuedAt, Version: l.Version,
		Supersedes: l.Supersedes, SupersededBy: l.SupersededBy, Status: l.Status,
		Digest: l.Digest, BatchID: l.BatchID, SourceKey: l.SourceKey, StatusIndex: l.StatusIndex}
	r.Values = l.Values
	for i, s := range sharedItems {
		if v, ok := l.Values[s.key]; ok && v != "" && v == s.field(l) {
			if r.Shared == 0 { // copy before leaving entries out
				r.Values = make(map[string]string, len(l.Values))
				for k, v := range l.Values {
					r.Values[k] = v
				}
			}
			delete(r.Values, s.key)
			r.Shared |= 1 << i
		}
	}
	if l.History != nil {
		r.History = make([]transition, len(l.History))
		for i, t := range l.History {
			r.History[i] = transition(t)
		}
	}
	return json.Marshal(&r)
}

func decodeLicense(data []byte) (*catalog.License, error) {
	var r licenseRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("boltstore: corrupt record: %w", err)
	}
	switch {
	case r.SchemaVersion > licenseSchema:
		return nil, fmt.Errorf("boltstore: record schema %d is newer than this program's %d", r.SchemaVersion, licenseSchema)
	case r.V1 != nil:
		return r.V1, nil
	case r.SchemaVersion < 2 || r.ID == "":
		return nil, fmt.Errorf("boltstore: corrupt record: schema %d without a license", r.SchemaVersion)
	}
	l := &catalog.License{ID: r.ID, Number: r.Number, TypeKey: r.TypeKey, TypeCode: r.TypeCode, TypeName: r.TypeName,
		IssuerUSCC: r.IssuerUSCC, IssuerName: r.IssuerName, Serial: r.Serial,
		Holder: catalog.Holder{Name: r.HolderName, Code: r.HolderCode, CodeType: r.HolderCodeType},
		Values: r.Values, ValidFrom: r.ValidFrom, ValidUntil: r.ValidUntil, IssuedAt: r.IssuedAt, Version: r.Version,
		Supersedes: r.Supersedes, SupersededBy: r.SupersededBy, Status: r.Status,
		Digest: r.Digest, BatchID: r.BatchID, SourceKey: r.SourceKey, StatusIndex: r.StatusIndex}
	for i, s := range sharedItems {
		if r.Shared&(1<<i) != 0 {
			if l.Values == nil {
				l.Values = map[string]string{}
			}
			l.Values[s.key] = s.field(l)
		}
	}
	if r.History != nil {
		l.History = make([]catalog.Transition, len(r.History))
		for i, t := range r.History {
			l.History[i] = catalog.Transition(t)
		}
	}
	return l, nil
}
