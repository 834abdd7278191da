package catalog

import "time"

// HolderKind says who holds licenses of a type.
type HolderKind string

// Holder kinds. The holder-code type codes are those of GB/T 36903 Annex A.
const (
	// NaturalPerson holds a resident ID number (holder-code type 111).
	NaturalPerson HolderKind = "natural"
	// LegalPerson holds a unified social credit code (holder-code type 001).
	LegalPerson HolderKind = "legal"
)

// Holder-code type codes of GB/T 36903 Annex A.
const (
	HolderCodeIDNumber = "111" // 公民身份号码
	HolderCodeUSCC     = "001" // 统一社会信用代码
)

// CodeType returns the GB/T 36903 holder-code type of the kind.
func (k HolderKind) CodeType() string {
	if k == NaturalPerson {
		return HolderCodeIDNumber
	}
	return HolderCodeUSCC
}

// DataType is the type of one item value.
type DataType string

// Item data types. Every value travels as a string; the type says how it is checked.
const (
	TypeText     DataType = "text"      // free text
	TypeDate     DataType = "date"      // YYYY-MM-DD
	TypeDateLong DataType = "date-long" // YYYY-MM-DD or 长期 (long-term)
	TypeIDNumber DataType = "id-number" // GB 11643 resident ID number
	TypeUSCC     DataType = "uscc"      // GB 32100 unified social credit code
	TypeEnum     DataType = "enum"      // one of Item.Options
	TypePhone    DataType = "phone"     // digits, spaces and dashes
	TypeImage    DataType = "image"     // base64 PNG or JPEG (a photo)
)

// LongTerm is the value of a TypeDateLong item that never expires.
const LongTerm = "长期"

// Item is one field of a license type (an 照面/明细 item).
type Item struct {
	Key       string   // machine key, e.g. "holder_name"
	Label     string   // label printed on the license, e.g. "经营者名称"
	Type      DataType // how the value is checked
	MaxLength int      // in characters (runes); 0 means the default of 200
	Required  bool
	Sensitive bool     // personal data masked for public callers
	Face      bool     // on the face of the license (public 照面) rather than detail
	Options   []string // allowed values of a TypeEnum item
}

// Validity is the validity rule of a license type.
type Validity struct {
	Years    int  // licenses are valid this many years from issue; 0 with LongTerm false means the data decides
	LongTerm bool // licenses never expire
}

// TypeStatus is the publication status of a license type.
type TypeStatus string

// License type statuses.
const (
	TypeDraft     TypeStatus = "draft"
	TypePublished TypeStatus = "published"
	TypeWithdrawn TypeStatus = "withdrawn"
)

// LicenseType is one entry of the license catalog (证照目录).
type LicenseType struct {
	Key               string // slug, e.g. "food-business"
	Code              string // GB/T 36904 type code: defining authority USCC + 3 digits (21 characters)
	Name              string // e.g. "食品经营许可证"
	Kind              string // "license" (证照) or "proof" (证明)
	DefiningAuthority string // name of the 证照定义机构
	IssuingDepts      []string
	Holder            HolderKind
	Validity          Validity
	Items             []Item
	Template          string // template reference, e.g. "food-business"
	NumberItem        string // the item holding the license number, unique within the type (default "license_no")
	Version           int
	Status            TypeStatus
}

// Item returns the item with the given key.
func (t *LicenseType) Item(key string) (Item, bool) {
	for _, it := range t.Items {
		if it.Key == key {
			return it, true
		}
	}
	return Item{}, false
}

// NumberKey returns the key of the item holding the license number.
func (t *LicenseType) NumberKey() string {
	if t.NumberItem != "" {
		return t.NumberItem
	}
	return "license_no"
}

// Department is an issuing department (证照颁发机构).
type Department struct {
	Key    string // slug, e.g. "wuhu-amr"
	Name   string // e.g. "芜湖市市场监督管理局"
	USCC   string // issuing-authority code
	Region string // GB/T 2260 region code; Wuhu is 340200
}

// Status is the lifecycle status of one license version.
type Status string

// License statuses. Expiry is never stored: see License.StatusAt.
const (
	StatusIssued     Status = "issued"     // 有效
	StatusSuspended  Status = "suspended"  // 停用
	StatusRevoked    Status = "revoked"    // 注销 (final)
	StatusSuperseded Status = "superseded" // replaced by a newer version (final)
	StatusExpired    Status = "expired"    // computed from the clock, never stored
)

// Holder is the subject a license is issued to.
type Holder struct {
	Name     string
	Code     string // ID number or USCC
	CodeType string // HolderCodeIDNumber or HolderCodeUSCC
}

// Transition is one entry of a license's status history.
type Transition struct {
	From   Status
	To     Status
	Actor  string
	Reason string
	At     time.Time
}

// License is one issued license version in the registry (证照库).
type License struct {
	ID           string // GB/T 36904 identifier
	Number       string // license number printed on it
	TypeKey      string
	TypeCode     string
	TypeName     string
	IssuerUSCC   string
	IssuerName   string
	Serial       string // 流水号
	Holder       Holder
	Values       map[string]string
	ValidFrom    string // YYYY-MM-DD
	ValidUntil   string // YYYY-MM-DD, or LongTerm
	IssuedAt     time.Time
	Version      int
	Supersedes   string // identifier of the version this one replaced
	SupersededBy string // identifier of the version that replaced this one
	Status       Status
	History      []Transition
	Digest       string // lower-case hex SM3 of the sealed file
	BatchID      string
	SourceKey    string // source row key within its batch (the license number)
	StatusIndex  int    // index in the QR status list; -1 when none
}

// Expired reports whether the license has passed its validity at now. Dates are
// local calendar dates in the zone of now: a license valid until 2026-12-31 is in
// force for the whole of that day.
func (l *License) Expired(now time.Time) bool {
	if l.ValidUntil == "" || l.ValidUntil == LongTerm {
		return false
	}
	until, err := time.ParseInLocation(DateLayout, l.ValidUntil, now.Location())
	if err != nil {
		return false
	}
	return !now.Before(until.AddDate(0, 0, 1))
}

// StatusAt returns the effective status at now: the stored status, or
// StatusExpired for an issued or suspended license past its validity.
func (l *License) StatusAt(now time.Time) Status {
	if (l.Status == StatusIssued || l.Status == StatusSuspended) && l.Expired(now) {
		return StatusExpired
	}
	return l.Status
}

// DateLayout is the layout of dates in data rows.
const DateLayout = "2006-01-02"
