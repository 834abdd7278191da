package qrtoken_test

import (
	"crypto"
	"crypto/ecdsa"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"elicense/catalog"
	"elicense/signer/qrtoken"
)

// Test-only fixtures: deterministic keys and two demo licenses.

const (
	demoBase     = "HTTPS://ZZ.WUHU.GOV.CN"
	demoTypeCode = "11100000000013338W032" // special operations (特种作业操作证)
	foodTypeCode = "11100000MB0341032Y002" // food business (食品经营许可证)
	otherType    = "11100000000013338W011"
	localBase    = "HTTP://127.0.0.1:8080"
)

func seeded(seed uint64) io.Reader {
	var s [32]byte
	for i := range s {
		s[i] = byte(seed >> (8 * (i % 8)))
	}
	s[31] ^= 0x5a
	return rand.NewChaCha8(s)
}

func mustUSCC(first17 string) string {
	c, ok := catalog.USCCCheckChar(first17)
	if !ok {
		panic("bad USCC body " + first17)
	}
	return first17 + string(c)
}

func mustID(first17 string) string {
	c, ok := catalog.IDCheckChar(first17)
	if !ok {
		panic("bad ID body " + first17)
	}
	return first17 + string(c)
}

var (
	deptUSCC   = mustUSCC("11340200MB1234567")
	otherDept  = mustUSCC("11340200MB7654321")
	orgUSCC    = mustUSCC("91340202MA2N4K7P1")
	personID   = mustID("34020219900101123")
	issuedTime = time.Date(2026, 3, 2, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))
	testNow    = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
)

type env struct {
	root      *sm2.PrivateKey
	key       *sm2.PrivateKey // active key of deptUSCC for demoTypeCode
	keys      *qrtoken.KeyList
	status    *qrtoken.StatusList
	keyDoc    []byte
	statusDoc []byte
}

func genKey(t testing.TB, seed uint64) *sm2.PrivateKey {
	t.Helper()
	k, err := sm2.GenerateKey(seeded(seed))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pub(k crypto.Signer) *ecdsa.PublicKey { return k.Public().(*ecdsa.PublicKey) }

func keyEntry(k crypto.Signer, dept string, status qrtoken.KeyStatus, types ...string) qrtoken.Key {
	return qrtoken.Key{
		Public:    pub(k),
		DeptName:  "芜湖市市场监督管理局",
		DeptUSCC:  dept,
		TypeCodes: types,
		NotBefore: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:  time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		Status:    status,
	}
}

// newEnv builds a root, one active key, a signed key list with extra keys
// and a signed status list, and parses both back.
func newEnv(t testing.TB, extra ...qrtoken.Key) *env {
	t.Helper()
	e := &env{root: genKey(t, 1), key: genKey(t, 2)}
	keys := append([]qrtoken.Key{keyEntry(e.key, deptUSCC, qrtoken.KeyActive, demoTypeCode, foodTypeCode)}, extra...)
	kl, err := qrtoken.NewKeyList(7, testNow.Add(-24*time.Hour), keys)
	if err != nil {
		t.Fatal(err)
	}
	e.keyDoc, err = kl.Sign(e.root, seeded(100))
	if err != nil {
		t.Fatal(err)
	}
	e.keys, err = qrtoken.ParseKeyList(e.keyDoc, pub(e.root))
	if err != nil {
		t.Fatal(err)
	}
	sl, err := qrtoken.NewStatusList(qrtoken.StatusBlock)
	if err != nil {
		t.Fatal(err)
	}
	e.statusDoc, err = sl.Sign(e.root, seeded(101), 1, testNow.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	e.status, err = qrtoken.ParseStatusList(e.statusDoc, pub(e.root))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) opts() qrtoken.VerifyOptions {
	return qrtoken.VerifyOptions{Keys: e.keys, Status: e.status, Now: testNow, Seen: qrtoken.NewMemoryTicketCache(0)}
}

// orgLicense is the organisation demo: a 13-character name and a USCC.
func orgLicense() *catalog.License {
	return &catalog.License{
		ID:          catalog.FormatIdentifier(demoTypeCode, deptUSCC, "2026000001", 1),
		Number:      "JY13402020000012",
		TypeCode:    demoTypeCode,
		IssuerUSCC:  deptUSCC,
		Holder:      catalog.Holder{Name: "芜湖市晨光餐饮管理有限公司", Code: orgUSCC, CodeType: catalog.HolderCodeUSCC},
		ValidFrom:   "2026-03-02",
		ValidUntil:  "2031-03-01",
		IssuedAt:    issuedTime,
		Version:     1,
		Status:      catalog.StatusIssued,
		StatusIndex: 98765,
	}
}

// personLicense is the natural-person demo: a 3-character name and an ID
// number.
func personLicense() *catalog.License {
	return &catalog.License{
		ID:          catalog.FormatIdentifier(demoTypeCode, deptUSCC, "2026000002", 1),
		Number:      "WH2026000002",
		TypeCode:    demoTypeCode,
		IssuerUSCC:  deptUSCC,
		Holder:      catalog.Holder{Name: "张晓明", Code: personID, CodeType: catalog.HolderCodeIDNumber},
		ValidFrom:   "2026-03-02",
		ValidUntil:  catalog.LongTerm,
		IssuedAt:    issuedTime,
		Version:     1,
		Status:      catalog.StatusIssued,
		StatusIndex: 123456,
	}
}

// foodLicense is the food-business demo sample (testdata/samples): a
// 17-character organisation name, a 16-character license number, a
// validity that starts before the issue date and a 6-digit status index.
func foodLicense() *catalog.License {
	return &catalog.License{
		ID:          catalog.FormatIdentifier(foodTypeCode, deptUSCC, "202600000001", 1),
		Number:      "JY13402020012345",
		TypeCode:    foodTypeCode,
		IssuerUSCC:  deptUSCC,
		Holder:      catalog.Holder{Name: "芜湖市鸠江区徽味轩餐饮管理有限公司", Code: mustUSCC("91340200MA2T8K5L3"), CodeType: catalog.HolderCodeUSCC},
		ValidFrom:   "2024-05-06",
		ValidUntil:  "2029-05-05",
		IssuedAt:    issuedTime,
		Version:     1,
		Status:      catalog.StatusIssued,
		StatusIndex: 130001,
	}
}

// specialOpsLicense is the special-operations demo sample: a natural
// person, a license number with a Han character, a validity that starts
// before the issue date.
func specialOpsLicense() *catalog.License {
	return &catalog.License{
		ID:          catalog.FormatIdentifier(demoTypeCode, deptUSCC, "202600000002", 1),
		Number:      "皖A042024000123",
		TypeCode:    demoTypeCode,
		IssuerUSCC:  deptUSCC,
		Holder:      catalog.Holder{Name: "李文斌", Code: mustID("34020219900307123"), CodeType: catalog.HolderCodeIDNumber},
		ValidFrom:   "2024-06-20",
		ValidUntil:  "2026-06-19",
		IssuedAt:    issuedTime,
		Version:     1,
		Status:      catalog.StatusIssued,
		StatusIndex: 130002,
	}
}

func signStatic(t testing.TB, lic *catalog.License, key crypto.Signer) []byte {
	t.Helper()
	c, err := qrtoken.NewStatic(lic)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := qrtoken.Sign(c, key, seeded(uint64(lic.StatusIndex)))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func signDynamic(t testing.TB, lic *catalog.License, key crypto.Signer, iat time.Time, seed uint64) []byte {
	t.Helper()
	c, err := qrtoken.NewDynamic(lic, iat, 0, seeded(seed))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := qrtoken.Sign(c, key, seeded(seed+1))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
