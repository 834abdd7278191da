package qrtoken_test

import (
	"bytes"
	"errors"
	"math/big"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/emmansun/gmsm/sm2"
	"github.com/fxamacker/cbor/v2"

	"elicense/signer/qrtoken"
)

func coreDet(t testing.TB) cbor.EncMode {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		t.Fatal(err)
	}
	return em
}

// claimsMap decodes the claims of a token into a map for editing.
func claimsMap(t testing.TB, tok []byte) (env []any, claims map[uint64]any) {
	t.Helper()
	if err := cbor.Unmarshal(tok, &env); err != nil {
		t.Fatal(err)
	}
	if err := cbor.Unmarshal(env[2].([]byte), &claims); err != nil {
		t.Fatal(err)
	}
	return env, claims
}

func rebuild(t testing.TB, env []any, claims []byte) []byte {
	t.Helper()
	e := append([]any(nil), env...)
	e[2] = claims
	b, err := coreDet(t).Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseStrict(t *testing.T) {
	e := newEnv(t)
	static := signStatic(t, orgLicense(), e.key)
	dynamic := signDynamic(t, personLicense(), e.key, testNow, 1)
	em := coreDet(t)
	env, claims := claimsMap(t, static)
	denv, dclaims := claimsMap(t, dynamic)
	rawClaims := env[2].([]byte)

	withClaims := func(base map[uint64]any, env []any, mod func(map[uint64]any)) []byte {
		m := make(map[uint64]any, len(base))
		for k, v := range base {
			m[k] = v
		}
		mod(m)
		b, err := em.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return rebuild(t, env, b)
	}
	if !bytes.Equal(withClaims(claims, env, func(map[uint64]any) {}), static) {
		t.Fatal("re-encoding an unchanged token differs")
	}

	tests := []struct {
		name  string
		token []byte
		want  error
	}{
		{"empty", nil, qrtoken.ErrMalformed},
		{"unknown profile 3", append([]byte{0x84, 0x03}, static[2:]...), qrtoken.ErrUnknownProfile},
		{"unknown profile 0", append([]byte{0x84, 0x00}, static[2:]...), qrtoken.ErrUnknownProfile},
		{"trailing byte", append(bytes.Clone(static), 0), qrtoken.ErrTrailingData},
		{"non-shortest profile", append([]byte{0x84, 0x18, 0x01}, static[2:]...), qrtoken.ErrNonCanonical},
		{"indefinite array", append(append([]byte{0x9f}, static[1:]...), 0xff), qrtoken.ErrNonCanonical},
		{"three elements", append([]byte{0x83}, static[1:]...), qrtoken.ErrMalformed},
		{"short kid", rebuildEnv(t, env, 1, []byte{1, 2, 3}), qrtoken.ErrMalformed},
		{"short signature", rebuildEnv(t, env, 3, make([]byte, 63)), qrtoken.ErrMalformed},
		{"profile as text", rebuildEnv(t, env, 0, "1"), qrtoken.ErrWrongType},
		{"too large", append(bytes.Clone(static), make([]byte, 400)...), qrtoken.ErrTooLarge},
		{"unknown claim", withClaims(claims, env, func(m map[uint64]any) { m[9] = uint64(1) }), qrtoken.ErrUnknownKey},
		{"key 40", withClaims(claims, env, func(m map[uint64]any) { m[40] = uint64(1) }), qrtoken.ErrUnknownKey},
		{"negative key", rebuild(t, env, append([]byte{0xa9, 0x20, 0x00}, rawClaims[1:]...)), qrtoken.ErrWrongType},
		{"missing status index", withClaims(claims, env, func(m map[uint64]any) { delete(m, 15) }), qrtoken.ErrMissingKey},
		{"missing identifier", withClaims(claims, env, func(m map[uint64]any) { delete(m, 1) }), qrtoken.ErrMissingKey},
		{"number as uint", withClaims(claims, env, func(m map[uint64]any) { m[2] = uint64(5) }), qrtoken.ErrWrongType},
		{"name as uint", withClaims(claims, env, func(m map[uint64]any) { m[3] = uint64(1) }), qrtoken.ErrWrongType},
		{"name in UTF-8 where UTF-16 is shorter", withClaims(claims, env, func(m map[uint64]any) { m[3] = "芜湖市晨光餐饮管理有限公司" }), qrtoken.ErrNonCanonical},
		{"name in UTF-16 where UTF-8 is as short", withClaims(claims, env, func(m map[uint64]any) { m[3] = utf16be("AB芜") }), qrtoken.ErrNonCanonical},
		{"name in UTF-16 as long as in UTF-8", withClaims(claims, env, func(m map[uint64]any) { m[3] = utf16be("AAA芜芜芜") }), qrtoken.ErrNonCanonical},
		{"name in UTF-16 of odd length", withClaims(claims, env, func(m map[uint64]any) { m[3] = append(utf16be("芜湖市"), 0) }), qrtoken.ErrMalformed},
		{"name in UTF-16, one byte", withClaims(claims, env, func(m map[uint64]any) { m[3] = []byte{0x82} }), qrtoken.ErrMalformed},
		{"name with an unpaired high surrogate", withClaims(claims, env, func(m map[uint64]any) { m[3] = append(utf16be("芜湖"), 0xd8, 0x42, 0x82, 0x9c) }), qrtoken.ErrMalformed},
		{"name ending in a high surrogate", withClaims(claims, env, func(m map[uint64]any) { m[3] = append(utf16be("芜湖"), 0xd8, 0x42) }), qrtoken.ErrMalformed},
		{"name with a lone low surrogate", withClaims(claims, env, func(m map[uint64]any) { m[3] = append(utf16be("芜湖"), 0xdf, 0xb7) }), qrtoken.ErrMalformed},
		{"name in UTF-16 with a control character", withClaims(claims, env, func(m map[uint64]any) { m[3] = utf16be("芜湖\n市") }), qrtoken.ErrMalformed},
		{"oversize name", withClaims(claims, env, func(m map[uint64]any) { m[3] = strings.Repeat("芜", 51) }), qrtoken.ErrTooLarge},
		{"oversize name in UTF-16", withClaims(claims, env, func(m map[uint64]any) { m[3] = utf16be(strings.Repeat("芜", 51)) }), qrtoken.ErrTooLarge},
		{"invalid UTF-8 name", withClaims(claims, env, func(m map[uint64]any) { m[3] = "\xff\xfe" }), qrtoken.ErrMalformed},
		{"number in UTF-16 where UTF-8 is shorter", withClaims(claims, env, func(m map[uint64]any) { m[2] = utf16be("JY134") }), qrtoken.ErrNonCanonical},
		{"identifier with dots", withClaims(claims, env, func(m map[uint64]any) { m[1] = "11100000000013338W032.2026000001.001.K" }), qrtoken.ErrMalformed},
		{"identifier too short", withClaims(claims, env, func(m map[uint64]any) { m[1] = demoTypeCode + "001K" }), qrtoken.ErrMalformed},
		{"identifier version not digits", withClaims(claims, env, func(m map[uint64]any) { m[1] = demoTypeCode + "20260000010A1K" }), qrtoken.ErrMalformed},
		{"identifier in lower case", withClaims(claims, env, func(m map[uint64]any) { m[1] = strings.ToLower(m[1].(string)) }), qrtoken.ErrMalformed},
		{"issue date as yyyymmdd", withClaims(claims, env, func(m map[uint64]any) { m[6] = uint64(20260302) }), qrtoken.ErrTooLarge},
		{"issue date after 9999-12-31", withClaims(claims, env, func(m map[uint64]any) { m[6] = uint64(2958465) }), qrtoken.ErrTooLarge},
		{"issue date 0", withClaims(claims, env, func(m map[uint64]any) { m[6] = uint64(0) }), qrtoken.ErrMalformed},
		{"valid-until before valid-from", withClaims(claims, env, func(m map[uint64]any) { m[8] = m[6].(uint64) - 1 }), qrtoken.ErrMalformed},
		{"valid-from equal to issue date", withClaims(claims, env, func(m map[uint64]any) { m[7] = m[6] }), qrtoken.ErrNonCanonical},
		{"status index too large", withClaims(claims, env, func(m map[uint64]any) { m[15] = uint64(qrtoken.MaxStatusEntries) }), qrtoken.ErrTooLarge},
		{"file digest 15 bytes", withClaims(claims, env, func(m map[uint64]any) { m[16] = make([]byte, 15) }), qrtoken.ErrMalformed},
		{"dynamic claim in static", withClaims(claims, env, func(m map[uint64]any) { m[10] = uint64(1) }), qrtoken.ErrUnknownKey},
		{"duplicate key", rebuild(t, env, append(append([]byte{rawClaims[0] + 1}, rawClaims[1:]...), 0x0f, 0x01)), qrtoken.ErrDuplicateKey},
		{"keys out of order", rebuild(t, env, append(append([]byte{rawClaims[0] + 1}, rawClaims[1:]...), 0x09, 0x01)), qrtoken.ErrNonCanonical},
		{"claims with trailing byte", rebuild(t, env, append(bytes.Clone(rawClaims), 0)), qrtoken.ErrTrailingData},
		{"claims not a map", rebuild(t, env, []byte{0x80}), qrtoken.ErrWrongType},
		{"lifetime 121", withClaims(dclaims, denv, func(m map[uint64]any) { m[11] = uint64(121) }), qrtoken.ErrTooLarge},
		{"lifetime 0", withClaims(dclaims, denv, func(m map[uint64]any) { m[11] = uint64(0) }), qrtoken.ErrInvalidInput},
		{"ticket 11 bytes", withClaims(dclaims, denv, func(m map[uint64]any) { m[12] = make([]byte, 11) }), qrtoken.ErrMalformed},
		{"static claim in dynamic", withClaims(dclaims, denv, func(m map[uint64]any) { m[2] = "X" }), qrtoken.ErrUnknownKey},
		{"dynamic without ticket", withClaims(dclaims, denv, func(m map[uint64]any) { delete(m, 12) }), qrtoken.ErrMissingKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := qrtoken.Parse(tc.token)
			if err == nil {
				t.Fatalf("accepted: %+v", tok.Claims)
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, qrtoken.ErrMalformed) {
				t.Fatalf("err = %v, want %v and ErrMalformed", err, tc.want)
			}
			if res := qrtoken.VerifyToken(tc.token, e.opts()); res.Valid || res.Reason != qrtoken.CheckParse {
				t.Fatalf("VerifyToken: Valid %v Reason %s", res.Valid, res.Reason)
			}
		})
	}
}

// utf16be returns s in UTF-16BE, the byte-string form of a text claim.
func utf16be(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

func rebuildEnv(t testing.TB, env []any, i int, v any) []byte {
	t.Helper()
	e := append([]any(nil), env...)
	e[i] = v
	b, err := coreDet(t).Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDigits(t *testing.T) {
	for n := 0; n <= 30; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(255 - i*37)
		}
		d := qrtoken.Digits(b)
		if want := n/7*17 + []int{0, 3, 5, 8, 10, 13, 15}[n%7]; len(d) != want {
			t.Errorf("%d bytes → %d digits, want %d", n, len(d), want)
		}
		if n == 0 {
			continue
		}
		got, err := qrtoken.DecodeDigits(d)
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%d bytes: round trip %x, %v", n, got, err)
		}
	}
	if got := qrtoken.Digits([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}); got != "72057594037927935" {
		t.Errorf("max group %s", got)
	}
	if got := qrtoken.Digits([]byte{1, 0, 1}); got != "00065537" {
		t.Errorf("3-byte group %s", got)
	}
	bad := []struct{ name, in string }{
		{"empty", ""},
		{"one digit", "1"},
		{"four digits", "1234"},
		{"sixteen digits", strings.Repeat("1", 16)},
		{"byte overflow", "256"},
		{"group overflow", "72057594037927936"},
		{"group all nines", strings.Repeat("9", 17)},
		{"letter", "12a"},
		{"space inside", "1 2"},
		{"too long", strings.Repeat("0", qrtoken.MaxTextSize+17)},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := qrtoken.DecodeDigits(tc.in); !errors.Is(err, qrtoken.ErrMalformed) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestParseTextForms(t *testing.T) {
	e := newEnv(t)
	tok := signStatic(t, personLicense(), e.key)
	d := qrtoken.Digits(tok)
	good := []string{
		"HTTPS://ZZ.WUHU.GOV.CN/V/" + d,
		"https://example.org/a/b/v/" + d,
		"HTTPS://ZZ.WUHU.GOV.CN/V/V/" + d,
		" " + d + "\n",
	}
	for _, s := range good {
		if _, err := qrtoken.ParseText(s); err != nil {
			t.Errorf("%.30q…: %v", s, err)
		}
	}
	bad := []string{
		"HTTPS://ZZ.WUHU.GOV.CN/X/" + d,
		"HTTPS://ZZ.WUHU.GOV.CN/V/" + d + "/",
		"HTTPS://ZZ.WUHU.GOV.CN/V/" + d + "0",
		"HTTPS://ZZ.WUHU.GOV.CN/V/",
		d[:len(d)-1],
	}
	for _, s := range bad {
		if _, err := qrtoken.ParseText(s); !errors.Is(err, qrtoken.ErrMalformed) {
			t.Errorf("%.30q…: err = %v", s, err)
		}
	}
}

// TestSharedKID uses two keys whose KIDs collide (found by search): the
// verifier must try both.
func TestSharedKID(t *testing.T) {
	k1, err := sm2.NewPrivateKeyFromInt(big.NewInt(78835854))
	if err != nil {
		t.Fatal(err)
	}
	k2, err := sm2.NewPrivateKeyFromInt(big.NewInt(1146831789))
	if err != nil {
		t.Fatal(err)
	}
	id1, _ := qrtoken.KeyID(pub(k1))
	id2, _ := qrtoken.KeyID(pub(k2))
	if id1 != id2 {
		t.Fatalf("kids %v and %v differ", id1, id2)
	}
	e := newEnv(t, keyEntry(k1, deptUSCC, qrtoken.KeyActive, demoTypeCode), keyEntry(k2, deptUSCC, qrtoken.KeyActive, demoTypeCode))
	if got := len(e.keys.Lookup(id1)); got != 2 {
		t.Fatalf("Lookup: %d keys", got)
	}
	for i, k := range []*sm2.PrivateKey{k1, k2} {
		res := qrtoken.Verify(qrtoken.Text(signStatic(t, orgLicense(), k), demoBase), e.opts())
		if !res.Valid || !res.Key.Public.Equal(pub(k)) {
			t.Errorf("key %d: Valid %v Reason %s", i+1, res.Valid, res.Reason)
		}
	}
}
