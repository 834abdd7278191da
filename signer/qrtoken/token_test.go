package qrtoken_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/fxamacker/cbor/v2"
	tjsm2 "github.com/tjfoc/gmsm/sm2"

	"elicense/catalog"
	"elicense/signer/qrtoken"
)

func TestRoundTrip(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		lic  *catalog.License
		dyn  bool
	}{
		{"static organisation", orgLicense(), false},
		{"static person", personLicense(), false},
		{"dynamic person", personLicense(), true},
		{"dynamic organisation", orgLicense(), true},
		{"static food business", foodLicense(), false},
		{"static special operations", specialOpsLicense(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want *qrtoken.Claims
			var err error
			if tc.dyn {
				want, err = qrtoken.NewDynamic(tc.lic, testNow.Add(-30*time.Second), 0, seeded(9))
			} else {
				want, err = qrtoken.NewStatic(tc.lic)
			}
			if err != nil {
				t.Fatal(err)
			}
			tok, err := qrtoken.Sign(want, e.key, seeded(10))
			if err != nil {
				t.Fatal(err)
			}
			for _, text := range []string{
				qrtoken.Text(tok, demoBase),
				qrtoken.Text(tok, "https://zz.wuhu.gov.cn/"),
				strings.ToLower(qrtoken.Text(tok, demoBase)) + "\r\n",
				qrtoken.Digits(tok),
			} {
				got, err := qrtoken.ParseText(text)
				if err != nil {
					t.Fatalf("ParseText(%.40q…): %v", text, err)
				}
				if !bytes.Equal(got.Bytes(), tok) {
					t.Fatal("ParseText bytes differ from the token")
				}
				// Parse alone cannot know the issuer code: only the
				// compact identifier is set.
				parsed := *want
				parsed.Identifier = ""
				if !claimsEqual(&got.Claims, &parsed) {
					t.Fatalf("claims differ:\n got %+v\nwant %+v", got.Claims, parsed)
				}
				res := qrtoken.Verify(text, e.opts())
				if !res.Valid {
					t.Fatalf("not valid: %s: %+v", res.Reason, res.Checks)
				}
				if !claimsEqual(&res.Token.Claims, want) {
					t.Fatalf("verified claims differ:\n got %+v\nwant %+v", res.Token.Claims, *want)
				}
				for _, c := range res.Checks {
					if c.Status == qrtoken.Fail || c.Status == qrtoken.Warn {
						t.Errorf("check %s: %s %s", c.ID, c.Status, c.Detail)
					}
				}
			}
			if want.Identifier != tc.lic.ID {
				t.Errorf("identifier %q, want %q", want.Identifier, tc.lic.ID)
			}
		})
	}
}

func claimsEqual(a, b *qrtoken.Claims) bool {
	x, y := *a, *b
	if !bytes.Equal(x.FileDigest, y.FileDigest) {
		return false
	}
	x.FileDigest, y.FileDigest = nil, nil
	return reflect.DeepEqual(x, y)
}

func TestClaimsFromLicense(t *testing.T) {
	s, err := qrtoken.NewStatic(personLicense())
	if err != nil {
		t.Fatal(err)
	}
	if s.HolderCode != personID[:6]+"********"+personID[14:] || s.HolderName != "张晓明" ||
		s.HolderCodeType != "111" || s.IssueDate != 20260302 || s.ValidFrom != 20260302 || s.ValidUntil != 0 ||
		s.StatusIndex != 123456 {
		t.Errorf("static person claims: %+v", s)
	}
	d, err := qrtoken.NewDynamic(personLicense(), testNow, 90*time.Second, seeded(1))
	if err != nil {
		t.Fatal(err)
	}
	if d.HolderName != "张*明" || d.HolderCode != s.HolderCode || d.Lifetime != 90 || d.IssuedAt != testNow.Unix() {
		t.Errorf("dynamic person claims: %+v", d)
	}
	o, err := qrtoken.NewStatic(orgLicense())
	if err != nil {
		t.Fatal(err)
	}
	if o.HolderCode != orgUSCC || o.HolderCodeType != "001" || o.ValidUntil != 20310301 {
		t.Errorf("static org claims: %+v", o)
	}
	lic := orgLicense()
	if want := demoTypeCode + "2026000001" + "001" + lic.ID[len(lic.ID)-1:]; o.CompactIdentifier != want || o.Identifier != lic.ID {
		t.Errorf("identifier %q compact %q, want %q", o.Identifier, o.CompactIdentifier, want)
	}
	if full, err := qrtoken.ExpandIdentifier(o.CompactIdentifier, deptUSCC); err != nil || full != lic.ID {
		t.Errorf("ExpandIdentifier = %q, %v", full, err)
	}
	if c, issuer, err := qrtoken.SplitIdentifier(lic.ID); err != nil || c != o.CompactIdentifier || issuer != deptUSCC {
		t.Errorf("SplitIdentifier = %q %q %v", c, issuer, err)
	}

	bad := []struct {
		name string
		mod  func(*catalog.License)
	}{
		{"no status index", func(l *catalog.License) { l.StatusIndex = -1 }},
		{"no issue time", func(l *catalog.License) { l.IssuedAt = time.Time{} }},
		{"bad identifier", func(l *catalog.License) { l.ID = "1.2.3" }},
		{"six-character issuer", func(l *catalog.License) { l.ID = catalog.FormatIdentifier(demoTypeCode, "340200", "1", 1) }},
		{"unknown holder type", func(l *catalog.License) { l.Holder.CodeType = "999" }},
		{"short ID number", func(l *catalog.License) { l.Holder.Code = "3402021990" }},
		{"bad date", func(l *catalog.License) { l.ValidUntil = "2031-02-30" }},
		{"until before from", func(l *catalog.License) { l.ValidUntil = "2020-01-01" }},
		{"empty number", func(l *catalog.License) { l.Number = "" }},
		{"control char in name", func(l *catalog.License) { l.Holder.Name = "张\n明" }},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			l := personLicense()
			tc.mod(l)
			if _, err := qrtoken.NewStatic(l); !errors.Is(err, qrtoken.ErrInvalidInput) {
				t.Errorf("err = %v, want ErrInvalidInput", err)
			}
		})
	}
	if _, err := qrtoken.NewDynamic(personLicense(), testNow, 121*time.Second, seeded(1)); !errors.Is(err, qrtoken.ErrInvalidInput) {
		t.Errorf("lifetime 121 s: err = %v", err)
	}
}

// TestSignIdentifierForms signs claims that carry the identifier in full,
// in compact form only, or both: the token is the same; disagreeing forms
// are rejected.
func TestSignIdentifierForms(t *testing.T) {
	key := genKey(t, 2)
	c, err := qrtoken.NewStatic(orgLicense())
	if err != nil {
		t.Fatal(err)
	}
	both, err := qrtoken.Sign(c, key, seeded(5))
	if err != nil {
		t.Fatal(err)
	}
	full, compact := *c, *c
	full.CompactIdentifier, compact.Identifier = "", ""
	for name, cl := range map[string]*qrtoken.Claims{"full only": &full, "compact only": &compact} {
		tok, err := qrtoken.Sign(cl, key, seeded(5))
		if err != nil || !bytes.Equal(tok, both) {
			t.Errorf("%s: %v, same token %v", name, err, bytes.Equal(tok, both))
		}
	}
	bad := map[string]func(*qrtoken.Claims){
		"forms disagree":    func(c *qrtoken.Claims) { c.CompactIdentifier = demoTypeCode + "2026000009001K" },
		"neither":           func(c *qrtoken.Claims) { c.Identifier, c.CompactIdentifier = "", "" },
		"compact too short": func(c *qrtoken.Claims) { c.Identifier, c.CompactIdentifier = "", demoTypeCode+"001K" },
		"compact version":   func(c *qrtoken.Claims) { c.Identifier, c.CompactIdentifier = "", demoTypeCode+"20260000010A1K" },
		"compact lower":     func(c *qrtoken.Claims) { c.Identifier, c.CompactIdentifier = "", demoTypeCode+"2026000001001k" },
	}
	for name, mod := range bad {
		cl := *c
		mod(&cl)
		if _, err := qrtoken.Sign(&cl, key, seeded(5)); !errors.Is(err, qrtoken.ErrInvalidInput) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := qrtoken.ExpandIdentifier(c.CompactIdentifier, "340200"); !errors.Is(err, qrtoken.ErrInvalidInput) {
		t.Errorf("ExpandIdentifier with a 6-character issuer: %v", err)
	}
}

// TestDayNumbers pins the date form of the token.
func TestDayNumbers(t *testing.T) {
	for _, tc := range []struct {
		d qrtoken.Date
		n uint32
	}{
		{19000101, 1}, {19000228, 59}, {19000301, 60}, {20000101, 36525}, {20260302, 46082},
		{20790605, 65535}, {20790606, 65536}, {99991231, 2958464}, {0, 0}, {20260230, 0},
	} {
		if got := tc.d.DayNumber(); got != tc.n {
			t.Errorf("%v.DayNumber() = %d, want %d", tc.d, got, tc.n)
		}
		if tc.d.Valid() || tc.d == 0 {
			if got := qrtoken.DateOfDayNumber(tc.n); got != tc.d {
				t.Errorf("DateOfDayNumber(%d) = %v, want %v", tc.n, got, tc.d)
			}
		}
	}
	if got := qrtoken.DateOfDayNumber(2958465); got != 0 {
		t.Errorf("day after 9999-12-31 = %v", got)
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, name, id string }{
		{"张晓明", "张*明", ""},
		{"张明", "张*", ""},
		{"欧阳振华", "欧**华", ""},
		{"明", "*", ""},
		{"", "", ""},
		{"340202199001011238", "", "340202********1238"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if tc.id != "" {
				if got := qrtoken.MaskIDNumber(tc.in); got != tc.id {
					t.Errorf("MaskIDNumber = %q, want %q", got, tc.id)
				}
				return
			}
			if got := qrtoken.MaskName(tc.in); got != tc.name {
				t.Errorf("MaskName = %q, want %q", got, tc.name)
			}
		})
	}
}

// TestEveryDigit changes each digit of a printed token to its successor
// (and, at every fifth position, to every other digit): none may verify.
func TestEveryDigit(t *testing.T) {
	e := newEnv(t)
	for name, lic := range map[string]*catalog.License{"organisation": orgLicense(), "food business": foodLicense()} {
		t.Run(name, func(t *testing.T) {
			text := qrtoken.Text(signStatic(t, lic, e.key), demoBase)
			if res := qrtoken.Verify(text, e.opts()); !res.Valid {
				t.Fatalf("original not valid: %s", res.Reason)
			}
			start := len(demoBase) + len(qrtoken.PathPrefix)
			tried := 0
			for i := start; i < len(text); i++ {
				for d := byte(1); d <= 9; d++ {
					if d > 1 && (i-start)%5 != 0 {
						break
					}
					b := []byte(text)
					b[i] = '0' + (b[i]-'0'+d)%10
					tried++
					if res := qrtoken.Verify(string(b), e.opts()); res.Valid {
						t.Fatalf("digit %d changed to %c still verifies", i-start, b[i])
					}
				}
			}
			t.Logf("%d digits, %d altered texts rejected", len(text)-start, tried)
		})
	}
}

func TestVerifyFailures(t *testing.T) {
	retired, revoked, narrow, expiredKey, outsider := genKey(t, 11), genKey(t, 12), genKey(t, 14), genKey(t, 15), genKey(t, 16)
	late := keyEntry(expiredKey, deptUSCC, qrtoken.KeyActive, demoTypeCode)
	late.NotBefore = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	e := newEnv(t,
		keyEntry(retired, deptUSCC, qrtoken.KeyRetired, demoTypeCode),
		keyEntry(revoked, deptUSCC, qrtoken.KeyRevoked, demoTypeCode),
		keyEntry(narrow, deptUSCC, qrtoken.KeyActive, otherType),
		late,
	)
	wrongSig := signStatic(t, orgLicense(), outsider)
	good := signStatic(t, orgLicense(), e.key)
	copy(wrongSig[3:7], good[3:7]) // the list key's kid over another key's signature

	expired := orgLicense()
	expired.ValidUntil = "2026-05-31"
	future := orgLicense()
	future.ValidFrom = "2026-06-02"

	tests := []struct {
		name  string
		token []byte
		opts  func(*qrtoken.VerifyOptions)
		want  qrtoken.CheckID
	}{
		{"wrong key", wrongSig, nil, qrtoken.CheckSignature},
		{"unknown kid", signStatic(t, orgLicense(), outsider), nil, qrtoken.CheckKID},
		{"retired key", signStatic(t, orgLicense(), retired), nil, qrtoken.CheckKeyStatus},
		{"revoked key", signStatic(t, orgLicense(), revoked), nil, qrtoken.CheckKeyStatus},
		{"type code not allowed", signStatic(t, orgLicense(), narrow), nil, qrtoken.CheckTypeCode},
		{"issued before key validity", signStatic(t, orgLicense(), expiredKey), nil, qrtoken.CheckKeyValidity},
		{"license expired", signStatic(t, expired, e.key), nil, qrtoken.CheckValidity},
		{"license not yet valid", signStatic(t, future, e.key), nil, qrtoken.CheckValidity},
		{"no key list", good, func(o *qrtoken.VerifyOptions) { o.Keys = nil }, qrtoken.CheckKeyList},
		{"no clock", good, func(o *qrtoken.VerifyOptions) { o.Now = time.Time{} }, qrtoken.CheckValidity},
		{"garbage", []byte{0x84, 0x01}, nil, qrtoken.CheckParse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := e.opts()
			if tc.opts != nil {
				tc.opts(&o)
			}
			res := qrtoken.Verify(qrtoken.Text(tc.token, demoBase), o)
			if res.Valid || res.Reason != tc.want {
				t.Fatalf("Valid %v Reason %q, want %q; checks %+v", res.Valid, res.Reason, tc.want, res.Checks)
			}
			if len(res.Checks) != 15 {
				t.Errorf("%d checks reported, want 15", len(res.Checks))
			}
		})
	}
}

// TestIssuerFromKey: the token leaves the issuer code out, so a token
// verifies as a license of the signing key's department; a token another
// department's key made for a license of ours names that department, and
// the check character (computed with our issuer code) warns.
func TestIssuerFromKey(t *testing.T) {
	foreign := genKey(t, 13)
	e := newEnv(t, keyEntry(foreign, otherDept, qrtoken.KeyActive, demoTypeCode))
	lic := orgLicense()
	tok, err := qrtoken.Parse(signStatic(t, lic, foreign))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Claims.Identifier != "" {
		t.Errorf("Parse set Identifier %q", tok.Claims.Identifier)
	}
	res := qrtoken.VerifyToken(tok.Bytes(), e.opts())
	want, _ := qrtoken.ExpandIdentifier(tok.Claims.CompactIdentifier, otherDept)
	if !res.Valid || res.Token.Claims.Identifier != want || want == lic.ID {
		t.Fatalf("Valid %v (%s), identifier %q, want %q", res.Valid, res.Reason, res.Token.Claims.Identifier, want)
	}
	if c, _ := res.Check(qrtoken.CheckIdentifier); c.Status != qrtoken.Warn {
		t.Errorf("identifier check %s %s, want warn", c.Status, c.Detail)
	}
	if c, _ := res.Check(qrtoken.CheckIssuer); c.Status != qrtoken.Pass {
		t.Errorf("issuer check %s %s", c.Status, c.Detail)
	}

	// An unverified token keeps the compact form only.
	o := e.opts()
	o.Keys, _ = qrtoken.NewKeyList(1, testNow, []qrtoken.Key{keyEntry(genKey(t, 14), deptUSCC, qrtoken.KeyActive, demoTypeCode)})
	if res := qrtoken.VerifyToken(tok.Bytes(), o); res.Valid || res.Token == nil || res.Token.Claims.Identifier != "" {
		t.Errorf("unknown key: Valid %v, identifier %q", res.Valid, res.Token.Claims.Identifier)
	}
}

// TestAuthorityIssuer: the authority signs with the key of the license's
// department and refuses a license whose identifier names another issuer.
func TestAuthorityIssuer(t *testing.T) {
	dk := qrtoken.DeptKey{Signer: genKey(t, 2), DeptName: "芜湖市市场监督管理局", DeptUSCC: deptUSCC,
		TypeCodes: []string{demoTypeCode, foodTypeCode}, NotBefore: issuedTime.AddDate(-1, 0, 0), NotAfter: issuedTime.AddDate(4, 0, 0)}
	a, err := qrtoken.NewAuthority(genKey(t, 1), localBase, []qrtoken.DeptKey{dk}, testNow.Add(-time.Hour), seeded(7))
	if err != nil {
		t.Fatal(err)
	}
	opts := qrtoken.VerifyOptions{Keys: a.KeyList(), Now: testNow}
	text, err := a.StaticText(t.Context(), nil, foodLicense())
	if err != nil {
		t.Fatal(err)
	}
	if res := qrtoken.Verify(text, opts); !res.Valid || res.Token.Claims.Identifier != foodLicense().ID {
		t.Fatalf("static: Valid %v (%s)", res.Valid, res.Reason)
	}
	text, _, err = a.DynamicText(foodLicense(), testNow, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res := qrtoken.Verify(text, opts); !res.Valid || res.Token.Claims.Identifier != foodLicense().ID {
		t.Fatalf("dynamic: Valid %v (%s)", res.Valid, res.Reason)
	}

	misfiled := foodLicense()
	misfiled.ID = catalog.FormatIdentifier(foodTypeCode, otherDept, "202600000001", 1)
	if _, err := a.StaticText(t.Context(), nil, misfiled); !errors.Is(err, qrtoken.ErrInvalidInput) {
		t.Errorf("static, identifier of another issuer: err = %v", err)
	}
	if _, _, err := a.DynamicText(misfiled, testNow, 0); !errors.Is(err, qrtoken.ErrInvalidInput) {
		t.Errorf("dynamic, identifier of another issuer: err = %v", err)
	}
	unknown := foodLicense()
	unknown.IssuerUSCC = otherDept
	if _, err := a.StaticText(t.Context(), nil, unknown); !errors.Is(err, qrtoken.ErrSign) {
		t.Errorf("department without a key: err = %v", err)
	}
}

func TestStatusRevocation(t *testing.T) {
	e := newEnv(t)
	lic := orgLicense()
	text := qrtoken.Text(signStatic(t, lic, e.key), demoBase)
	if res := qrtoken.Verify(text, e.opts()); !res.Valid {
		t.Fatalf("not valid before revocation: %s", res.Reason)
	}
	steps := []struct {
		name  string
		set   qrtoken.Flag
		clear qrtoken.Flag
		valid bool
	}{
		{"revoked", qrtoken.FlagRevoked, 0, false},
		{"revoked and suspended", qrtoken.FlagSuspended, 0, false},
		{"suspended", 0, qrtoken.FlagRevoked, false},
		{"reinstated", 0, qrtoken.FlagSuspended, true},
	}
	sl, err := qrtoken.NewStatusList(qrtoken.StatusBlock)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := sl.Set(lic.StatusIndex, st.set); err != nil {
				t.Fatal(err)
			}
			if err := sl.Clear(lic.StatusIndex, st.clear); err != nil {
				t.Fatal(err)
			}
			doc, err := sl.Sign(e.root, seeded(200), uint64(i+2), testNow.Add(-time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := qrtoken.ParseStatusList(doc, pub(e.root))
			if err != nil {
				t.Fatal(err)
			}
			o := e.opts()
			o.Status = parsed
			res := qrtoken.Verify(text, o)
			if res.Valid != st.valid {
				t.Fatalf("Valid = %v, want %v (%s)", res.Valid, st.valid, res.Reason)
			}
			if !st.valid && res.Reason != qrtoken.CheckLicenseStatus {
				t.Errorf("Reason %q", res.Reason)
			}
			if parsed.Sequence() != uint64(i+2) {
				t.Errorf("sequence %d", parsed.Sequence())
			}
		})
	}
}

func TestStatusListWarnings(t *testing.T) {
	e := newEnv(t)
	text := qrtoken.Text(signStatic(t, orgLicense(), e.key), demoBase)
	tests := []struct {
		name string
		mod  func(*qrtoken.VerifyOptions)
	}{
		{"no status list", func(o *qrtoken.VerifyOptions) { o.Status = nil }},
		{"stale status list", func(o *qrtoken.VerifyOptions) { o.Now = o.Now.Add(8 * 24 * time.Hour) }},
		{"stale under a tighter maximum", func(o *qrtoken.VerifyOptions) { o.MaxStatusAge = 30 * time.Minute }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := e.opts()
			tc.mod(&o)
			res := qrtoken.Verify(text, o)
			c, _ := res.Check(qrtoken.CheckStatusList)
			if !res.Valid || c.Status != qrtoken.Warn {
				t.Errorf("Valid %v (%s), status_list %s %s", res.Valid, res.Reason, c.Status, c.Detail)
			}
		})
	}
}

func TestDynamicWindowAndReplay(t *testing.T) {
	e := newEnv(t)
	iat := testNow
	tok := signDynamic(t, personLicense(), e.key, iat, 77)
	text := qrtoken.Text(tok, demoBase)
	tests := []struct {
		name  string
		now   time.Time
		skew  time.Duration
		valid bool
		want  qrtoken.CheckID
	}{
		{"just issued", iat, 0, true, ""},
		{"at the end of lifetime plus skew", iat.Add(180 * time.Second), 0, true, ""},
		{"after the window", iat.Add(181 * time.Second), 0, false, qrtoken.CheckWindow},
		{"after the window, no skew", iat.Add(121 * time.Second), -1, false, qrtoken.CheckWindow},
		{"before issue beyond skew", iat.Add(-61 * time.Second), 0, false, qrtoken.CheckWindow},
		{"before issue within skew", iat.Add(-60 * time.Second), 0, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := e.opts() // a fresh ticket cache each time
			o.Now, o.Skew = tc.now, tc.skew
			res := qrtoken.Verify(text, o)
			if res.Valid != tc.valid || res.Reason != tc.want {
				t.Fatalf("Valid %v Reason %q, want %v %q: %+v", res.Valid, res.Reason, tc.valid, tc.want, res.Checks)
			}
		})
	}
	t.Run("second use", func(t *testing.T) {
		o := e.opts()
		if res := qrtoken.Verify(text, o); !res.Valid {
			t.Fatalf("first use: %s", res.Reason)
		}
		res := qrtoken.Verify(text, o)
		if res.Valid || res.Reason != qrtoken.CheckTicket {
			t.Fatalf("second use: Valid %v Reason %q", res.Valid, res.Reason)
		}
		other := qrtoken.Text(signDynamic(t, personLicense(), e.key, iat, 79), demoBase)
		if res := qrtoken.Verify(other, o); !res.Valid {
			t.Fatalf("another ticket: %s", res.Reason)
		}
	})
	// A cache that began recording after the token was issued (a
	// restarted server's memory) cannot know an earlier use: refused.
	// Compared in whole seconds: a code issued in the second the cache
	// began passes.
	for _, tc := range []struct {
		since time.Time
		valid bool
	}{
		{iat.Add(-time.Second), true},
		{iat, true},
		{iat.Add(999 * time.Millisecond), true},
		{iat.Add(time.Second), false},
		{iat.Add(100 * time.Second), false},
	} {
		t.Run(fmt.Sprintf("cache since %v", tc.since.Sub(iat)), func(t *testing.T) {
			o := e.opts()
			o.Now, o.SeenSince = iat.Add(110*time.Second), tc.since
			res := qrtoken.Verify(text, o)
			if res.Valid != tc.valid || !tc.valid && res.Reason != qrtoken.CheckTicket {
				t.Fatalf("Valid %v Reason %q, want %v: %+v", res.Valid, res.Reason, tc.valid, res.Checks)
			}
		})
	}
	t.Run("no ticket cache", func(t *testing.T) {
		o := e.opts()
		o.Seen = nil
		res := qrtoken.Verify(text, o)
		c, _ := res.Check(qrtoken.CheckTicket)
		if !res.Valid || c.Status != qrtoken.Warn {
			t.Fatalf("Valid %v ticket %s", res.Valid, c.Status)
		}
	})
}

func TestTicketCacheConcurrent(t *testing.T) {
	c := qrtoken.NewMemoryTicketCache(0)
	var tk qrtoken.Ticket
	tk[0] = 1
	results := make(chan bool, 32)
	for i := 0; i < 32; i++ {
		go func() {
			ok, err := c.Use(tk, testNow.Add(time.Minute), testNow)
			results <- ok && err == nil
		}()
	}
	fresh := 0
	for i := 0; i < 32; i++ {
		if <-results {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d first uses, want 1", fresh)
	}
	if ok, _ := c.Use(tk, testNow.Add(3*time.Minute), testNow.Add(2*time.Minute)); !ok {
		t.Error("expired ticket not accepted again")
	}
	small := qrtoken.NewMemoryTicketCache(2)
	for i := 0; i < 3; i++ {
		tk[1] = byte(i)
		_, err := small.Use(tk, testNow.Add(time.Minute), testNow)
		if i < 2 && err != nil || i == 2 && !errors.Is(err, qrtoken.ErrCacheFull) {
			t.Errorf("ticket %d: err %v", i, err)
		}
	}
}

// TestIndependentImplementations checks the token with code that shares
// nothing with this package: fxamacker/cbor decodes the envelope in its
// strictest mode and re-encodes it identically (core deterministic), and
// tjfoc/gmsm verifies the SM2 signature.
func TestIndependentImplementations(t *testing.T) {
	e := newEnv(t)
	dm, err := cbor.DecOptions{DupMapKey: cbor.DupMapKeyEnforcedAPF, IndefLength: cbor.IndefLengthForbidden}.DecMode()
	if err != nil {
		t.Fatal(err)
	}
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		t.Fatal(err)
	}
	tpub := &tjsm2.PublicKey{Curve: tjsm2.P256Sm2(), X: pub(e.key).X, Y: pub(e.key).Y}
	for name, tc := range map[string]struct {
		lic *catalog.License
		tok []byte
	}{
		"static":  {foodLicense(), signStatic(t, foodLicense(), e.key)},
		"dynamic": {personLicense(), signDynamic(t, personLicense(), e.key, testNow, 3)},
	} {
		t.Run(name, func(t *testing.T) {
			tok := tc.tok
			var env struct {
				_       struct{} `cbor:",toarray"`
				Profile uint64
				KID     []byte
				Claims  []byte
				Sig     []byte
			}
			if err := dm.Unmarshal(tok, &env); err != nil {
				t.Fatal(err)
			}
			var claims map[uint64]any
			if err := dm.Unmarshal(env.Claims, &claims); err != nil {
				t.Fatal(err)
			}
			re, err := em.Marshal(claims)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(re, env.Claims) {
				t.Error("claims are not in core deterministic encoding")
			}
			checkClaimsIndependently(t, tc.lic, env.Profile, claims)
			signed, err := em.Marshal([]any{qrtoken.Context, env.Profile, env.KID, env.Claims})
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := qrtoken.Parse(tok)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(signed, parsed.SignedBytes()) {
				t.Fatal("signed structure differs")
			}
			r, s := new(big.Int).SetBytes(env.Sig[:32]), new(big.Int).SetBytes(env.Sig[32:])
			if !tjsm2.Sm2Verify(tpub, signed, []byte(qrtoken.DefaultUserID), r, s) {
				t.Error("tjfoc/gmsm rejects the signature")
			}
			signed[len(signed)-1] ^= 1
			if tjsm2.Sm2Verify(tpub, signed, []byte(qrtoken.DefaultUserID), r, s) {
				t.Error("tjfoc/gmsm accepts a changed message")
			}
		})
	}
	// A third party verifying the key list from the documented format.
	t.Run("key list", func(t *testing.T) {
		var doc struct {
			_       struct{} `cbor:",toarray"`
			KID     []byte
			Content []byte
			Sig     []byte
		}
		if err := dm.Unmarshal(e.keyDoc, &doc); err != nil {
			t.Fatal(err)
		}
		signed, _ := em.Marshal([]any{qrtoken.KeyListContext, doc.KID, doc.Content})
		root := &tjsm2.PublicKey{Curve: tjsm2.P256Sm2(), X: pub(e.root).X, Y: pub(e.root).Y}
		r, s := new(big.Int).SetBytes(doc.Sig[:32]), new(big.Int).SetBytes(doc.Sig[32:])
		if !tjsm2.Sm2Verify(root, signed, []byte(qrtoken.DefaultUserID), r, s) {
			t.Error("tjfoc/gmsm rejects the key list signature")
		}
		var content map[uint64]any
		if err := dm.Unmarshal(doc.Content, &content); err != nil {
			t.Fatal(err)
		}
		if content[1] != uint64(7) {
			t.Errorf("version %v", content[1])
		}
	})
}

// checkClaimsIndependently reads the identifier, the name and the dates
// from a decoded claims map the way the format description says, without
// this package: the identifier is rebuilt with the issuer code, a byte
// string name is UTF-16BE, dates count days from 1899-12-31.
func checkClaimsIndependently(t *testing.T, lic *catalog.License, profile uint64, claims map[uint64]any) {
	t.Helper()
	c := claims[1].(string)
	n := len(c)
	id := catalog.IdentifierRoot + "." + c[:21] + "." + lic.IssuerUSCC + "." + c[21:n-4] + "." + c[n-4:n-1] + "." + c[n-1:]
	if id != lic.ID {
		t.Errorf("identifier %s rebuilt as %s, want %s", c, id, lic.ID)
	}
	name, ok := claims[3].([]byte)
	if !ok || len(name)%2 != 0 {
		t.Fatalf("name %T, want an even-length byte string", claims[3])
	}
	u := make([]uint16, len(name)/2)
	for i := range u {
		u[i] = uint16(name[2*i])<<8 | uint16(name[2*i+1])
	}
	wantName := lic.Holder.Name
	if profile == uint64(qrtoken.ProfileDynamic) && lic.Holder.CodeType == catalog.HolderCodeIDNumber {
		wantName = qrtoken.MaskName(wantName)
	}
	if got := string(utf16.Decode(u)); got != wantName {
		t.Errorf("name %q, want %q", got, wantName)
	}
	if profile != uint64(qrtoken.ProfileStatic) {
		return
	}
	day := func(k uint64) string {
		return time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(claims[k].(uint64))).Format(catalog.DateLayout)
	}
	if got := day(6); got != lic.IssuedAt.In(time.FixedZone("CST", 8*3600)).Format(catalog.DateLayout) {
		t.Errorf("issue date %s", got)
	}
	if got := day(7); got != lic.ValidFrom {
		t.Errorf("valid from %s, want %s", got, lic.ValidFrom)
	}
	if got := day(8); got != lic.ValidUntil {
		t.Errorf("valid until %s, want %s", got, lic.ValidUntil)
	}
}

func TestSizesAndQRVersions(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name  string
		token []byte
		bytes int
	}{
		{"static organisation (13-character name, USCC)", signStatic(t, orgLicense(), e.key), 197},
		{"static natural person (3-character name, masked ID)", signStatic(t, personLicense(), e.key), 171},
		{"dynamic natural person", signDynamic(t, personLicense(), e.key, testNow, 4), 165},
		{"dynamic organisation", signDynamic(t, orgLicense(), e.key, testNow, 4), 186},
		{"static food business (17-character name, valid from before issue)", signStatic(t, foodLicense(), e.key), 211},
		{"static special operations (natural person, valid from before issue)", signStatic(t, specialOpsLicense(), e.key), 183},
		{"dynamic special operations", signDynamic(t, specialOpsLicense(), e.key, testNow, 4), 167},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := qrtoken.Text(tc.token, demoBase)
			v := [4]int{}
			for l := qrtoken.LevelL; l <= qrtoken.LevelH; l++ {
				v[l] = qrtoken.QRVersion(text, l)
			}
			local := qrtoken.QRVersion(qrtoken.Text(tc.token, localBase), qrtoken.LevelQ)
			t.Logf("%d bytes, %d digits, URL text %d chars: QR version L %d, M %d, Q %d, H %d; %s Q %d; bare digits Q %d",
				len(tc.token), len(qrtoken.Digits(tc.token)), len(text), v[0], v[1], v[2], v[3], localBase, local,
				qrtoken.QRVersion(qrtoken.Digits(tc.token), qrtoken.LevelQ))
			if len(tc.token) != tc.bytes {
				t.Errorf("%d bytes, want %d", len(tc.token), tc.bytes)
			}
			for base, q := range map[string]int{demoBase: v[qrtoken.LevelQ], localBase: local} {
				if q == 0 || q > 14 {
					t.Errorf("QR version %d at level Q with %s, want at most 14", q, base)
				}
			}
		})
	}
}

// TestHolderNameHeadroom lengthens the holder name of the food-business
// sample (16-character license number, USCC, validity starting before the
// issue date) one Han character at a time: names of up to 25 characters
// must stay within QR version 14 at level Q.
func TestHolderNameHeadroom(t *testing.T) {
	e := newEnv(t)
	base := []rune(foodLicense().Holder.Name)
	for _, url := range []string{demoBase, localBase} {
		largest := 0
		for n := len(base); n <= 60; n++ {
			lic := foodLicense()
			lic.Holder.Name = strings.Repeat("芜", n-len(base)) + string(base)
			if qrtoken.QRVersion(qrtoken.Text(signStatic(t, lic, e.key), url), qrtoken.LevelQ) > 14 {
				break
			}
			largest = n
		}
		t.Logf("%s: holder names of up to %d Han characters fit version 14 at level Q", url, largest)
		if largest < 25 {
			t.Errorf("%s: only %d characters fit version 14 at level Q, want at least 25", url, largest)
		}
	}
}

// TestAuthoritySetTypeCodes: a type allowed after the authority was built
// fails with the old key list and passes with the re-signed one, whose
// version is higher and which the city root still verifies.
func TestAuthoritySetTypeCodes(t *testing.T) {
	dk := qrtoken.DeptKey{Signer: genKey(t, 2), DeptName: "芜湖市市场监督管理局", DeptUSCC: deptUSCC,
		TypeCodes: []string{demoTypeCode}, NotBefore: issuedTime.AddDate(-1, 0, 0), NotAfter: issuedTime.AddDate(4, 0, 0)}
	root := genKey(t, 1)
	a, err := qrtoken.NewAuthority(root, localBase, []qrtoken.DeptKey{dk}, testNow.Add(-time.Hour), seeded(7))
	if err != nil {
		t.Fatal(err)
	}
	old := a.KeyList()
	text, err := a.StaticText(t.Context(), nil, foodLicense())
	if err != nil {
		t.Fatal(err)
	}
	if res := qrtoken.Verify(text, qrtoken.VerifyOptions{Keys: old, Now: testNow}); res.Valid {
		t.Fatal("a type the key list does not allow verified")
	}
	if err := a.SetTypeCodes(map[string][]string{deptUSCC: {demoTypeCode, foodTypeCode}, otherDept: {foodTypeCode}}, testNow); err != nil {
		t.Fatal(err)
	}
	kl, err := qrtoken.ParseKeyList(a.KeyListDocument(), root.Public())
	if err != nil {
		t.Fatal(err)
	}
	if kl.Version() != old.Version()+1 || a.KeyList().Version() != kl.Version() {
		t.Fatalf("versions %d → %d", old.Version(), kl.Version())
	}
	if res := qrtoken.Verify(text, qrtoken.VerifyOptions{Keys: kl, Now: testNow}); !res.Valid {
		t.Fatalf("with the new list: %s", res.Reason)
	}
}
