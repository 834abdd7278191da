package verify_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"
	"time"

	"elicense/catalog"
	"elicense/catalog/catalogtest"
	"elicense/signer"
	"elicense/signer/rawpdf"
	"elicense/verify"
)

func TestOwnFormatsPass(t *testing.T) {
	_, lic, _ := baseDocument(t)
	tests := []struct {
		name   string
		format signer.Format
		want   verify.Format
	}{
		{"ses", signer.FormatSES, verify.FormatPDFSES},
		{"pkcs7", signer.FormatPKCS7, verify.FormatPDFPKCS7GBT},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := sealed(t, tc.format)
			reg := catalogtest.NewMemStore()
			l := *lic
			l.Digest = sm3hex(file)
			l.StatusIndex = -1
			if err := reg.Create(context.Background(), &l); err != nil {
				t.Fatal(err)
			}
			res := run(t, file, options(t, reg))
			if !res.Authentic || !res.Valid || res.Reason != verify.ReasonOK {
				t.Fatalf("want authentic and valid, got %s\n%s", res.Reason, dump(t, res))
			}
			if res.Format != tc.want {
				t.Errorf("format %s, want %s", res.Format, tc.want)
			}
			for _, c := range res.Checks {
				if c.Status == verify.StatusFail {
					t.Errorf("check %s failed: %s", c.ID, c.Detail)
				}
			}
			if res.License == nil || res.License.Identifier != lic.ID || res.License.Status != catalog.StatusIssued {
				t.Errorf("license %+v", res.License)
			}
			if res.Seal == nil || res.Signer == nil || !res.SignTime.Equal(signTime) {
				t.Errorf("seal %+v signer %+v signTime %v", res.Seal, res.Signer, res.SignTime)
			}
			// Without a registry: authentic, not valid.
			res = run(t, file, options(t, nil))
			if !res.Authentic || res.Valid || res.Reason != verify.ReasonNoRegistry {
				t.Errorf("no registry: authentic %v valid %v reason %s", res.Authentic, res.Valid, res.Reason)
			}
			// Untrusted roots: not authentic.
			o := options(t, nil)
			o.TrustedRoots = signer.NewCertPool()
			res = run(t, file, o)
			if res.Authentic || res.Reason != verify.ReasonUntrusted || firstFail(res) != "C12" {
				t.Errorf("no roots: authentic %v reason %s first %s", res.Authentic, res.Reason, firstFail(res))
			}
		})
	}
}

func TestJSONShape(t *testing.T) {
	res := run(t, sealed(t, signer.FormatSES), options(t, nil))
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"authentic", "valid", "reason", "format", "checks", "seal", "signer", "signTime"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	c := m["checks"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "status", "detail"} {
		if _, ok := c[k]; !ok {
			t.Errorf("check JSON lacks %q", k)
		}
	}
	if m["reason"] != "no_registry" {
		t.Errorf("reason %v", m["reason"])
	}
	var back verify.Result
	if err := json.Unmarshal(b, &back); err != nil || back.Reason != res.Reason {
		t.Errorf("round trip: %v %v", err, back.Reason)
	}
}

func TestAttackFixtures(t *testing.T) {
	tests := []struct {
		file   string
		first  string
		reason verify.Reason
	}{
		// base.pdf's /Contents is 3000 zero bytes: an unsigned placeholder,
		// so the first failure is the empty container, not trust.
		{"base.pdf", "C5", verify.ReasonContainer},
		{"weird-byterange.pdf", "C3", verify.ReasonByteRange},
		{"one-byterange.pdf", "C3", verify.ReasonByteRange},
		{"tail-uncovered.pdf", "C8", verify.ReasonRevision},
		{"signature-gap-too-big.pdf", "C4", verify.ReasonByteRangeGap},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			res := run(t, fixture(t, "attacks/"+tc.file), options(t, nil))
			if res.Authentic || res.Valid {
				t.Fatalf("accepted\n%s", dump(t, res))
			}
			if got := firstFail(res); got != tc.first || res.Reason != tc.reason {
				t.Errorf("first failing %s (%s), want %s (%s)\n%s", got, res.Reason, tc.first, tc.reason, dump(t, res))
			}
		})
	}
	// tail-uncovered: the coverage checks fail too, and trust.
	res := run(t, fixture(t, "attacks/tail-uncovered.pdf"), options(t, nil))
	for _, id := range []string{"C7", "C12"} {
		if c, _ := signer.Find(res.Checks, id); c.Status != verify.StatusFail {
			t.Errorf("tail-uncovered: %s %s", id, c.Status)
		}
	}
}

func TestOFDFixtures(t *testing.T) {
	for _, name := range []string{"SESV4SignDoc.ofd", "signedFile.ofd"} {
		t.Run(name, func(t *testing.T) {
			res := run(t, fixture(t, "seals/"+name), options(t, nil))
			if res.Format != verify.FormatOFD || res.Authentic || res.Reason != verify.ReasonUntrusted {
				t.Fatalf("format %s authentic %v reason %s\n%s", res.Format, res.Authentic, res.Reason, dump(t, res))
			}
			if firstFail(res) != "O5" {
				t.Errorf("first failing %s, want O5", firstFail(res))
			}
			for _, id := range []string{"O1", "O2", "O3"} {
				if c, _ := signer.Find(res.Checks, id); c.Status != verify.StatusPass {
					t.Errorf("%s: %s %s", id, c.Status, c.Detail)
				}
			}
			if len(res.Signatures) != 1 {
				t.Fatalf("%d signatures", len(res.Signatures))
			}
			s := res.Signatures[0]
			if s.Reason != verify.ReasonUntrusted || s.Seal == nil || s.Signer == nil {
				t.Errorf("signature: reason %s seal %v signer %v", s.Reason, s.Seal, s.Signer)
			}
			// Document intact, seal and signature verify; trust fails.
			for id, want := range map[string]verify.Status{"O3": verify.StatusPass, "G2": verify.StatusPass, "G7": verify.StatusPass, "S2": verify.StatusPass, "G3": verify.StatusPass, "G4": verify.StatusFail, "S3": verify.StatusFail} {
				if c, ok := signer.Find(s.Checks, id); !ok || c.Status != want {
					t.Errorf("%s: %s (%s), want %s", id, c.Status, c.Detail, want)
				}
			}
		})
	}
}

// spans locates /ByteRange and /Contents of our sealed output.
type spans struct {
	brStart, brEnd int // the "[0 a b c   ]" array
	a, b, c        int
}

var brRE = regexp.MustCompile(`/ByteRange\[0 (\d+) (\d+) (\d+) *\]`)

func locate(tb testing.TB, file []byte) spans {
	tb.Helper()
	m := brRE.FindSubmatchIndex(file)
	if m == nil {
		tb.Fatal("no /ByteRange")
	}
	n := func(i int) int { v, _ := strconv.Atoi(string(file[m[2*i]:m[2*i+1]])); return v }
	return spans{brStart: m[0] + len("/ByteRange"), brEnd: m[1], a: n(1), b: n(2), c: n(3)}
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// appendRevision appends an incremental update defining objs (number →
// body) with a classic xref table and trailer; eof false leaves out %%EOF.
func appendRevision(tb testing.TB, file []byte, objs map[int]string, emptyXref, eof bool) []byte {
	tb.Helper()
	f, err := rawpdf.Parse(file, nil)
	if err != nil {
		tb.Fatal(err)
	}
	last := f.Revisions[len(f.Revisions)-1]
	size, _ := f.Trailer.Int("Size")
	root := f.Trailer["Root"].(rawpdf.Ref)
	out := clone(file)
	offs := map[int]int{}
	nums := []int{}
	for n := range objs {
		nums = append(nums, n)
	}
	for i := 1; i < len(nums); i++ {
		for j := i; j > 0 && nums[j] < nums[j-1]; j-- {
			nums[j], nums[j-1] = nums[j-1], nums[j]
		}
	}
	for _, n := range nums {
		offs[n] = len(out)
		out = fmt.Appendf(out, "%d 0 obj\n%s\nendobj\n", n, objs[n])
		size = max(size, n+1)
	}
	x := len(out)
	out = append(out, "xref\n"...)
	if !emptyXref {
		for _, n := range nums {
			out = fmt.Appendf(out, "%d 1\n%010d 00000 n\r\n", n, offs[n])
		}
	} else {
		out = append(out, "0 0\n"...)
	}
	info := ""
	if r, ok := f.Trailer["Info"].(rawpdf.Ref); ok {
		info = fmt.Sprintf("/Info %d 0 R", r.Num)
	}
	out = fmt.Appendf(out, "trailer\n<</Size %d/Root %d 0 R%s/Prev %d>>\nstartxref\n%d\n", size, root.Num, info, last.XrefOffset, x)
	if eof {
		out = append(out, "%%EOF\n"...)
	}
	return out
}

// pageInfo returns page 1's object number and dictionary text.
func pageInfo(tb testing.TB, file []byte) (int, rawpdf.Dict, int) {
	tb.Helper()
	f, err := rawpdf.Parse(file, nil)
	if err != nil {
		tb.Fatal(err)
	}
	ref, page, _, err := f.FirstPage()
	if err != nil {
		tb.Fatal(err)
	}
	size, _ := f.Trailer.Int("Size")
	return ref.Num, page, size
}

func dictWith(d rawpdf.Dict, k rawpdf.Name, v rawpdf.Object) string {
	c := rawpdf.Dict{}
	for kk, vv := range d {
		c[kk] = vv
	}
	c[k] = v
	return string(rawpdf.AppendObject(nil, c))
}

// sigObject returns the number and text of the signature dictionary.
func sigObject(tb testing.TB, file []byte, s spans) (int, []byte) {
	tb.Helper()
	head := bytes.LastIndex(file[:s.a], []byte(" 0 obj\n"))
	start := bytes.LastIndexByte(file[:head], '\n') + 1
	n, err := strconv.Atoi(string(file[start:head]))
	if err != nil {
		tb.Fatal(err)
	}
	end := bytes.Index(file[s.b:], []byte("\nendobj")) + s.b
	return n, file[head+len(" 0 obj\n") : end]
}

func TestSiblingCorpus(t *testing.T) {
	orig := sealed(t, signer.FormatSES)
	unsealed, _, _ := baseDocument(t)
	s := locate(t, orig)
	pageNum, page, size := pageInfo(t, orig)
	sigNum, sigText := sigObject(t, orig, s)

	flip := func(b []byte, i int) []byte { b = clone(b); b[i] ^= 0x01; return b }
	tests := []struct {
		name   string
		file   func() []byte
		first  string
		reason verify.Reason
	}{
		{"untouched", func() []byte { return orig }, "", verify.ReasonNoRegistry},
		{"incremental update replacing page content", func() []byte {
			content := "BT /F1 24 Tf 72 720 Td (HOLDER: MALLORY) Tj ET"
			return appendRevision(t, orig, map[int]string{
				size:    fmt.Sprintf("<</Length %d>>\nstream\n%s\nendstream", len(content), content),
				pageNum: dictWith(page, "Contents", rawpdf.Ref{Num: size}),
			}, false, true)
		}, "C7", verify.ReasonNotCovered},
		{"update with empty xref and no %%EOF", func() []byte {
			return appendRevision(t, orig, map[int]string{pageNum: dictWith(page, "Rotate", rawpdf.Int(90))}, true, false)
		}, "C8", verify.ReasonMalformed},
		{"byte flipped in the first span", func() []byte {
			return flip(orig, bytes.IndexByte(orig, '\n')+2) // inside the binary comment line
		}, "C6", verify.ReasonDigest},
		{"byte flipped in the second span", func() []byte {
			i := bytes.Index(orig[s.b:], []byte(" n\r\n")) + s.b + 2 // xref EOL: CR becomes another whitespace byte
			b := clone(orig)
			b[i] = ' '
			return b
		}, "C6", verify.ReasonDigest},
		{"byte flipped in the hole", func() []byte {
			return flip(orig, s.a+1) // first hex digit of the container
		}, "C5", verify.ReasonContainer},
		{"signature wrapping: second span moved", func() []byte {
			mal := []byte("/Wrapped(objects an attacker placed in a widened gap)")
			b := append(append(clone(orig[:s.b]), mal...), orig[s.b:]...)
			// new /ByteRange pointing at the moved span, padded to width
			br := fmt.Sprintf("[0 %d %d %d", s.a, s.b+len(mal), s.c)
			copy(b[s.brStart:], br+string(bytes.Repeat([]byte(" "), s.brEnd-s.brStart-len(br)-1))+"]")
			// keep startxref valid so the file parses
			i := bytes.LastIndex(b, []byte("startxref\n")) + len("startxref\n")
			j := bytes.IndexByte(b[i:], '\n') + i
			old, _ := strconv.Atoi(string(b[i:j]))
			return append(append(clone(b[:i]), strconv.Itoa(old+len(mal))...), b[j:]...)
		}, "C4", verify.ReasonByteRangeGap},
		{"truncated by 10 bytes", func() []byte { return orig[:len(orig)-10] }, "C8", verify.ReasonMalformed},
		{"truncated to the unsealed revision", func() []byte { return orig[:len(unsealed)] }, "C2", verify.ReasonNoSignature},
		{"bytes appended after %%EOF", func() []byte { return append(clone(orig), "% trailing junk\n"...) }, "C8", verify.ReasonRevision},
		{"appended annotation", func() []byte {
			annots, _ := page["Annots"].(rawpdf.Array)
			annots = append(append(rawpdf.Array{}, annots...), rawpdf.Ref{Num: size})
			return appendRevision(t, orig, map[int]string{
				size:    "<</Type/Annot/Subtype/FreeText/Rect[72 700 400 740]/Contents(VOID)/DA(/Helv 24 Tf 1 0 0 rg)>>",
				pageNum: dictWith(page, "Annots", annots),
			}, false, true)
		}, "C7", verify.ReasonNotCovered},
		{"appended revision rewriting the signature dictionary", func() []byte {
			txt := bytes.Replace(sigText, []byte("/Name"), []byte("/Reason(forged)/Name"), 1)
			return appendRevision(t, orig, map[int]string{sigNum: string(txt)}, false, true)
		}, "C3", verify.ReasonByteRange}, // the redefined dictionary no longer holds the gap
		{"emptied /Contents", func() []byte {
			b := clone(orig)
			for i := s.a + 1; i < s.b-1; i++ {
				b[i] = '0'
			}
			return b
		}, "C5", verify.ReasonContainer},
		{"missing /Contents", func() []byte {
			return bytes.Replace(orig, []byte("/Contents<"), []byte("/Contentz<"), 1)
		}, "C4", verify.ReasonByteRangeGap},
		{"missing /ByteRange", func() []byte {
			return bytes.Replace(orig, []byte("/ByteRange["), []byte("/ByteRangX["), 1)
		}, "C3", verify.ReasonByteRange},
		{"short /ByteRange", func() []byte {
			b := clone(orig)
			br := fmt.Sprintf("[0 %d", s.a)
			copy(b[s.brStart:], br+string(bytes.Repeat([]byte(" "), s.brEnd-s.brStart-len(br)-1))+"]")
			return b
		}, "C3", verify.ReasonByteRange},
		{"/ByteRange not starting at 0", func() []byte {
			b := clone(orig)
			b[s.brStart+1] = '1'
			return b
		}, "C3", verify.ReasonByteRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file()
			res := run(t, file, options(t, nil))
			if tc.first == "" {
				if !res.Authentic {
					t.Fatalf("untouched file rejected: %s\n%s", res.Reason, dump(t, res))
				}
				return
			}
			if res.Authentic || res.Valid {
				t.Fatalf("accepted\n%s", dump(t, res))
			}
			if got := firstFail(res); got != tc.first || res.Reason != tc.reason {
				t.Errorf("first failing %s (%s), want %s (%s)\n%s", got, res.Reason, tc.first, tc.reason, dump(t, res))
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	file := sealed(t, signer.FormatSES)
	other := sealed(t, signer.FormatPKCS7)
	_, lic, _ := baseDocument(t)
	tests := []struct {
		name      string
		edit      func(l *catalog.License)
		authentic bool
		reason    verify.Reason
	}{
		{"issued", func(l *catalog.License) {}, true, verify.ReasonOK},
		{"revoked", func(l *catalog.License) { l.Status = catalog.StatusRevoked }, true, verify.ReasonRevoked},
		{"suspended", func(l *catalog.License) { l.Status = catalog.StatusSuspended }, true, verify.ReasonSuspended},
		{"superseded", func(l *catalog.License) { l.Status = catalog.StatusSuperseded; l.SupersededBy = "NEXT" }, true, verify.ReasonSuperseded},
		{"expired", func(l *catalog.License) { l.ValidUntil = "2026-05-31" }, true, verify.ReasonExpired},
		{"digest mismatch", func(l *catalog.License) { l.Digest = sm3hex(other) }, false, verify.ReasonRegistryMismatch},
		{"found by digest only", func(l *catalog.License) { l.ID = "OTHER-ID" }, false, verify.ReasonRegistryMismatch},
		{"no digest on record", func(l *catalog.License) { l.Digest = "" }, true, verify.ReasonOK},
		{"not registered", nil, true, verify.ReasonNotRegistered},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := catalogtest.NewMemStore()
			if tc.edit != nil {
				l := *lic
				l.Digest = sm3hex(file)
				l.StatusIndex = -1
				tc.edit(&l)
				if err := reg.Create(context.Background(), &l); err != nil {
					t.Fatal(err)
				}
			}
			res := run(t, file, options(t, reg))
			if res.Authentic != tc.authentic || res.Reason != tc.reason || res.Valid != (tc.reason == verify.ReasonOK) {
				t.Errorf("authentic %v valid %v reason %s; want %v, %s\n%s", res.Authentic, res.Valid, res.Reason, tc.authentic, tc.reason, dump(t, res))
			}
		})
	}
	t.Run("no clock", func(t *testing.T) {
		reg := catalogtest.NewMemStore()
		l := *lic
		l.Digest, l.StatusIndex = sm3hex(file), -1
		if err := reg.Create(context.Background(), &l); err != nil {
			t.Fatal(err)
		}
		o := options(t, reg)
		o.Now = time.Time{}
		if res := run(t, file, o); !res.Authentic || res.Valid || res.Reason != verify.ReasonNoClock {
			t.Errorf("reason %s", res.Reason)
		}
	})
}

func TestLimits(t *testing.T) {
	file := sealed(t, signer.FormatSES)
	tests := []struct {
		name   string
		lim    verify.Limits
		file   []byte
		reason verify.Reason
	}{
		{"file size", verify.Limits{MaxFileSize: 1000}, file, verify.ReasonLimit},
		{"objects", verify.Limits{MaxObjects: 3}, file, verify.ReasonLimit},
		{"revisions", verify.Limits{MaxRevisions: 1}, file, verify.ReasonLimit},
		{"time", verify.Limits{MaxTime: time.Nanosecond}, file, verify.ReasonTimeout},
		{"not a PDF or OFD", verify.Limits{}, []byte("hello"), verify.ReasonUnsupported},
		{"OFD entries", verify.Limits{MaxEntries: 2}, fixtureOK(t, "seals/signedFile.ofd"), verify.ReasonLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.file == nil {
				t.Skip("fixture absent")
			}
			o := options(t, nil)
			o.Limits = tc.lim
			res := run(t, tc.file, o)
			if res.Authentic || res.Reason != tc.reason {
				t.Errorf("authentic %v reason %s, want %s\n%s", res.Authentic, res.Reason, tc.reason, dump(t, res))
			}
		})
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := verify.Verify(ctx, sealed(t, signer.FormatSES), options(t, nil))
	if res.Authentic || res.Reason != verify.ReasonTimeout {
		t.Errorf("reason %s", res.Reason)
	}
}

// TestNoCrash mutates our sealed files and the fixtures at random; every
// result must be well-formed and nothing mutated may pass.
func TestNoCrash(t *testing.T) {
	seeds := [][]byte{sealed(t, signer.FormatSES), sealed(t, signer.FormatPKCS7)}
	for _, n := range []string{"attacks/base.pdf", "seals/SESV4SignDoc.ofd", "seals/signedFile.ofd"} {
		if b := fixtureOK(t, n); b != nil {
			seeds = append(seeds, b)
		}
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	iters := 300
	if testing.Short() {
		iters = 50
	}
	for i := 0; i < iters; i++ {
		src := seeds[rnd.IntN(len(seeds))]
		b := clone(src)
		switch rnd.IntN(4) {
		case 0:
			b[rnd.IntN(len(b))] = byte(rnd.Uint32())
		case 1:
			b = b[:rnd.IntN(len(b))]
		case 2:
			i := rnd.IntN(len(b))
			b = append(b[:i:i], append([]byte("0 obj<</Type/Sig>>endobj"), b[i:]...)...)
		case 3:
			j := rnd.IntN(len(b))
			k := rnd.IntN(len(b))
			lo, hi := min(j, k), max(j, k)
			b = append(b[:lo:lo], b[hi:]...)
		}
		res := run(t, b, options(t, nil))
		if len(res.Checks) == 0 || res.Format == "" {
			t.Fatalf("empty result for mutation %d", i)
		}
		if res.Authentic && !bytes.Equal(b, src) && bytes.HasPrefix(src, []byte("%PDF")) {
			t.Fatalf("mutation %d accepted: %s", i, dump(t, res))
		}
	}
}

func sm3hex(b []byte) string { return hex.EncodeToString(signer.DocumentDigest(b)) }
