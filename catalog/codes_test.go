package catalog_test

import (
	"errors"
	"testing"
	"time"

	"elicense/catalog"
)

var today = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func TestIdentifierCheckWorkedExamples(t *testing.T) {
	// GB/T 36904 identifiers found in public code and production records; the
	// last two carry a vendor variant of the check character.
	cases := []struct {
		name string
		id   string
		ok   bool
	}{
		{"MOHURDExample", "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U", true},
		{"ZhejiangOFD", "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0", true},
		{"JilinRecord", "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F", true},
		{"HefeiRegionIssuer", "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9", true},
		{"VendorVariant", "1.2.156.3005.2.11100000000013661B006.113700000045046442.209FA4EA49.001.M", false},
		{"MOHURDVendorCheck", "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.T", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, ok, err := catalog.ParseIdentifier(tc.id)
			if err != nil {
				t.Fatalf("structure rejected: %v", err)
			}
			if ok != tc.ok {
				t.Fatalf("check ok = %v, want %v", ok, tc.ok)
			}
		})
	}
	if c, _ := catalog.IdentifierCheck("11100000000013338W01111430000006122244L20230000403001"); c != 'U' {
		t.Fatalf("worked example check = %c, want U", c)
	}
}

func TestFormatIdentifierRoundTrip(t *testing.T) {
	for v := 1; v <= 3; v++ {
		id := catalog.FormatIdentifier("11100000000013338W032", "11430000006122244L", "2026000001", v)
		p, ok, err := catalog.ParseIdentifier(id)
		if err != nil || !ok {
			t.Fatalf("%s: ok=%v err=%v", id, ok, err)
		}
		if p.Version != []string{"", "001", "002", "003"}[v] || p.Serial != "2026000001" {
			t.Fatalf("parts = %+v", p)
		}
	}
}

func TestParseIdentifierInvalid(t *testing.T) {
	good := "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"
	cases := map[string]string{
		"Empty":            "",
		"WrongRoot":        "1.2.156.3005.3.11100000000013338W011.11430000006122244L.20230000403.001.U",
		"NoRoot":           "11100000000013338W011.11430000006122244L.20230000403.001.U",
		"TooFewParts":      "1.2.156.3005.2.11100000000013338W011.11430000006122244L.001.U",
		"TooManyParts":     good + ".X",
		"ShortTypeCode":    "1.2.156.3005.2.11100000000013338W01.11430000006122244L.20230000403.001.U",
		"LongTypeCode":     "1.2.156.3005.2.11100000000013338W0111.11430000006122244L.20230000403.001.U",
		"LowerTypeCode":    "1.2.156.3005.2.11100000000013338w011.11430000006122244L.20230000403.001.U",
		"ShortIssuer":      "1.2.156.3005.2.11100000000013338W011.1143000000612224.20230000403.001.U",
		"IssuerSymbol":     "1.2.156.3005.2.11100000000013338W011.11430000006122244-.20230000403.001.U",
		"EmptySerial":      "1.2.156.3005.2.11100000000013338W011.11430000006122244L..001.U",
		"LongSerial":       "1.2.156.3005.2.11100000000013338W011.11430000006122244L.123456789012345678901234567890123.001.U",
		"SerialLower":      "1.2.156.3005.2.11100000000013338W011.11430000006122244L.2023abc.001.U",
		"VersionTwoDigits": "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.01.U",
		"VersionLetters":   "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.0A1.U",
		"CheckTwoChars":    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.UU",
		"CheckEmpty":       "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.",
		"CheckLower":       "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.u",
		"Spaces":           " " + good,
		"Unicode":          "1.2.156.3005.2.11100000000013338W011.11430000006122244L.２０２３.001.U",
		"DoubleDot":        "1.2.156.3005.2.11100000000013338W011..11430000006122244L.20230000403.001.U",
	}
	for name, id := range cases {
		t.Run(name, func(t *testing.T) {
			if _, _, err := catalog.ParseIdentifier(id); !errors.Is(err, catalog.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
	if _, ok := catalog.IdentifierCheck("abc"); ok {
		t.Fatal("IdentifierCheck accepted lower case")
	}
}

func TestCheckIDNumber(t *testing.T) {
	valid := []string{"11010519491231002X", "110101199003070134", "340202199001011231"}
	for _, v := range valid {
		if c, _ := catalog.IDCheckChar(v[:17]); c != v[17] {
			t.Fatalf("fixture %s has check %c", v, c)
		}
	}
	for _, v := range valid {
		if code, msg := catalog.CheckIDNumber(v, today); code != "" {
			t.Errorf("%s rejected: %s %s", v, code, msg)
		}
	}
	// Lower-case x only after normalising.
	if code, _ := catalog.CheckIDNumber("11010519491231002x", today); code == "" {
		t.Error("lower-case x accepted without normalising")
	}
	if code, _ := catalog.CheckIDNumber(catalog.NormalizeIDNumber(" 11010519491231002x "), today); code != "" {
		t.Error("normalised lower-case x rejected")
	}
	cases := []struct{ name, in, code string }{
		{"Empty", "", catalog.CodeBadLength},
		{"Short", "11010519491231002", catalog.CodeBadLength},
		{"Long", "11010519491231002X1", catalog.CodeBadLength},
		{"FifteenDigit", "110105491231002", catalog.CodeBadLength},
		{"WrongCheck", "110105194912310021", catalog.CodeBadCheck},
		{"WrongCheckDigit", "110101199003070135", catalog.CodeBadCheck},
		{"SwappedDigits", "110101199003071034", catalog.CodeBadCheck},
		{"LetterInside", "11010519491231A02X", catalog.CodeBadChar},
		{"CheckY", "11010519491231002Y", catalog.CodeBadChar},
		{"LowerX", "11010519491231002x", catalog.CodeBadChar},
		{"Month13", "110105194913310025", catalog.CodeBadDate},
		{"Month00", "110105194900310025", catalog.CodeBadDate},
		{"Day32", "110105194912320025", catalog.CodeBadDate},
		{"Feb30", "110105199002300025", catalog.CodeBadDate},
		{"Feb29NonLeap", "110105190002290025", catalog.CodeBadDate},
		{"Year1800", "110105180001010025", catalog.CodeBadDate},
		{"FutureBirth", "110105209901010025", catalog.CodeBadDate},
		{"Tomorrow", "110105202611280025", catalog.CodeBadDate},
		{"FullWidth", "１10105194912310020", catalog.CodeBadLength},
		{"Space", "1101051949 231002X", catalog.CodeBadChar},
		{"Dash", "110105-19491231002", catalog.CodeBadChar},
		{"AllZero", "000000000000000000", catalog.CodeBadDate},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := catalog.CheckIDNumber(tc.in, today)
			if code != tc.code {
				t.Fatalf("code = %q (%s), want %q", code, msg, tc.code)
			}
			if msg == "" {
				t.Fatal("no message")
			}
		})
	}
	if g := catalog.IDGender("11010519491231002X"); g != "女" {
		t.Errorf("gender = %s", g)
	}
	if b := catalog.IDBirthDate("11010519491231002X"); b != "1949-12-31" {
		t.Errorf("birth = %s", b)
	}
}

func TestCheckUSCC(t *testing.T) {
	valid := []string{"11100000000013338W", "11100000000013661B", "11220000013544541J", "11430000006122244L", "11330105002500287C", "91350100M000100Y43"}
	for _, v := range valid {
		if code, msg := catalog.CheckUSCC(v); code != "" {
			t.Errorf("%s rejected: %s", v, msg)
		}
	}
	if !catalog.USCCInnerCheck("11100000000013338W") {
		t.Error("inner GB 11714 check of the worked example failed")
	}
	cases := []struct{ name, in, code string }{
		{"Empty", "", catalog.CodeBadLength},
		{"Short", "11100000000013338", catalog.CodeBadLength},
		{"Long", "11100000000013338WW", catalog.CodeBadLength},
		{"WrongCheck", "11100000000013338X", catalog.CodeBadCheck},
		{"WrongCheckDigit", "111000000000133380", catalog.CodeBadCheck},
		{"Transposed", "11100000000031338W", catalog.CodeBadCheck},
		{"LetterI", "1110000000001333IW", catalog.CodeBadChar},
		{"LetterO", "111000000000133O8W", catalog.CodeBadChar},
		{"LetterS", "S1100000000013338W", catalog.CodeBadChar},
		{"LetterV", "11100000000013338V", catalog.CodeBadChar},
		{"LetterZ", "Z1100000000013338W", catalog.CodeBadChar},
		{"Lower", "91350100m000100y43", catalog.CodeBadChar},
		{"Space", "1110000000001333 W", catalog.CodeBadChar},
		{"Dash", "11100000-000133380", catalog.CodeBadChar},
		{"FullWidth", "１1100000000013338", catalog.CodeBadLength},
		{"IDNumber", "11010519491231002X", catalog.CodeBadCheck},
		{"AllZero", "000000000000000001", catalog.CodeBadCheck},
		{"Tab", "11100000000013338\t", catalog.CodeBadChar},
		{"Unicode", "1110000000001333é", catalog.CodeBadChar},
		{"ChangedRegion", "11100001000013338W", catalog.CodeBadCheck},
		{"OtherWrong", "91350100M000100Y44", catalog.CodeBadCheck},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := catalog.CheckUSCC(tc.in)
			if code != tc.code || msg == "" {
				t.Fatalf("code = %q (%s), want %q", code, msg, tc.code)
			}
		})
	}
	if c, ok := catalog.USCCCheckChar("11100000000013338"); !ok || c != 'W' {
		t.Fatalf("USCCCheckChar = %c %v", c, ok)
	}
}
