package qrtoken_test

import (
	"bytes"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

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
				if !claimsEqual(&got.Claims, want) {
					t.Fatalf("claims differ:\n got %+v\nwant %+v", got.Claims, *want)
				}
				res := qrtoken.Verify(text, e.opts())
				if !res.Valid {
					t.Fatalf("not valid: %s: %+v", res.Reason, res.Checks)
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
	text := qrtoken.Text(signStatic(t, orgLicense(), e.key), demoBase)
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
}

func TestVerifyFailures(t *testing.T) {
	retired, revoked, foreign, narrow, expiredKey, outsider := genKey(t, 11), genKey(t, 12), genKey(t, 13), genKey(t, 14), genKey(t, 15), genKey(t, 16)
	late := keyEntry(expiredKey, deptUSCC, qrtoken.KeyActive, demoTypeCode)
	late.NotBefore = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	e := newEnv(t,
		keyEntry(retired, deptUSCC, qrtoken.KeyRetired, demoTypeCode),
		keyEntry(revoked, deptUSCC, qrtoken.KeyRevoked, demoTypeCode),
		keyEntry(foreign, otherDept, qrtoken.KeyActive, demoTypeCode),
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
		{"key of another department", signStatic(t, orgLicense(), foreign), nil, qrtoken.CheckIssuer},
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
	for name, tok := range map[string][]byte{
		"static":  signStatic(t, orgLicense(), e.key),
		"dynamic": signDynamic(t, personLicense(), e.key, testNow, 3),
	} {
		t.Run(name, func(t *testing.T) {
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

func TestSizesAndQRVersions(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name     string
		token    []byte
		maxBytes int
	}{
		{"static organisation (13-character name, USCC)", signStatic(t, orgLicense(), e.key), 236},
		{"static natural person (3-character name, masked ID)", signStatic(t, personLicense(), e.key), 236},
		{"dynamic natural person", signDynamic(t, personLicense(), e.key, testNow, 4), 236},
		{"dynamic organisation", signDynamic(t, orgLicense(), e.key, testNow, 4), 236},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := qrtoken.Text(tc.token, demoBase)
			v := [4]int{}
			for l := qrtoken.LevelL; l <= qrtoken.LevelH; l++ {
				v[l] = qrtoken.QRVersion(text, l)
			}
			t.Logf("%d bytes, %d digits, URL text %d chars: QR version L %d, M %d, Q %d, H %d; bare digits Q %d",
				len(tc.token), len(qrtoken.Digits(tc.token)), len(text), v[0], v[1], v[2], v[3],
				qrtoken.QRVersion(qrtoken.Digits(tc.token), qrtoken.LevelQ))
			if len(tc.token) > tc.maxBytes {
				t.Errorf("%d bytes, want at most %d", len(tc.token), tc.maxBytes)
			}
			if v[qrtoken.LevelQ] == 0 || v[qrtoken.LevelQ] > 14 {
				t.Errorf("QR version %d at level Q, want at most 14", v[qrtoken.LevelQ])
			}
		})
	}
}
