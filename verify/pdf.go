package verify

import (
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf16"

	"elicense/signer"
	"elicense/signer/rawpdf"
)

// pdfOrder is the order of the PDF policy checks in Result.Checks; the
// first failing one gives Result.Reason. Structure first (C1–C5, C8), then
// the seal's integrity (C6) and trust (C12), then what happened after
// sealing (C7, C9–C11), then the fail-closed guard (C14). The signer-level
// checks G1–G7 and S1–S4 follow as detail; REG and STATUS come last.
var pdfOrder = []string{"C1", "C2", "C3", "C4", "C5", "C8", "C6", "C12", "C7", "C9", "C11", "C10", "C14"}

// maxFields bounds the AcroForm field walk.
const maxFields = 10_000

// skipRest adds a skip for every policy check after id.
func (r *run) skipRest(after string) {
	i := slices.Index(pdfOrder, after)
	for _, id := range pdfOrder[i+1:] {
		if _, seen := signer.Find(r.checks, id); !seen {
			r.skip(id, "not run: an earlier check failed")
		}
	}
	r.skip("REG", "not run: the file is not authentic")
	r.skip("STATUS", "not run: the file is not authentic")
}

// rawErr files an error of the PDF reader met after parsing under check id.
func (r *run) rawErr(id string, err error) {
	switch {
	case errors.Is(err, rawpdf.ErrLimit):
		r.fail(id, ReasonLimit, err.Error())
	case errors.Is(err, rawpdf.ErrUnsupported):
		r.fail(id, ReasonUnsupported, err.Error())
	default:
		r.fail(id, ReasonMalformed, err.Error())
	}
}

type sigField struct {
	num   int
	name  string
	v     rawpdf.Object
	hasV  bool
	vRef  rawpdf.Ref
	isRef bool
}

func isSigDict(o rawpdf.Object) bool {
	d, ok := o.(rawpdf.Dict)
	if !ok {
		return false
	}
	t, _ := d.Name("Type")
	if t == "Sig" || t == "DocTimeStamp" {
		return true
	}
	_, br := d["ByteRange"]
	_, ct := d["Contents"]
	return br && ct
}

func verifyPDF(r *run, data []byte, res *Result) {
	lim := r.lim
	maxDec := lim.MaxDecoded
	if v := lim.MaxRatio * max(len(data), 4096); v < maxDec {
		maxDec = v
	}
	f, err := rawpdf.Parse(data, &rawpdf.Limits{MaxFileSize: lim.MaxFileSize, MaxObjects: lim.MaxObjects, MaxRevisions: lim.MaxRevisions, MaxDecoded: maxDec})
	if err != nil {
		switch {
		case errors.Is(err, rawpdf.ErrLimit):
			r.fail("C1", ReasonLimit, err.Error())
			r.skipRest("C1")
		case errors.Is(err, rawpdf.ErrUnsupported):
			r.fail("C1", ReasonUnsupported, err.Error())
			r.skipRest("C1")
		default:
			r.pass("C1", fmt.Sprintf("%d bytes within limits", len(data)))
			r.fail("C8", ReasonMalformed, "strict parse without repair failed: "+err.Error())
			r.skipRest("C1")
		}
		return
	}
	size, _ := f.Trailer.Int("Size")
	r.pass("C1", fmt.Sprintf("%d bytes, /Size %d, %d revision(s); limits %d bytes, %d objects, %d revisions, %d bytes per decoded stream, %s", len(data), size, len(f.Revisions), lim.MaxFileSize, lim.MaxObjects, lim.MaxRevisions, maxDec, lim.MaxTime))
	r.tick()

	// C2: one signature field with /V, one signature dictionary in all
	// revisions, and they agree.
	_, cat, err := f.Catalog()
	if err != nil {
		r.rawErr("C2", err)
		r.skipRest("C2")
		return
	}
	var fields []sigField
	var unsigned []string
	acroObj, err := f.Resolve(cat["AcroForm"])
	if err != nil {
		r.rawErr("C2", err)
		r.skipRest("C2")
		return
	}
	if acro, ok := acroObj.(rawpdf.Dict); ok {
		seen := map[int]bool{}
		var walk func(arr rawpdf.Object, ft rawpdf.Name, depth int) error
		walk = func(arr rawpdf.Object, ft rawpdf.Name, depth int) error {
			if depth > 32 {
				return errors.New("field tree deeper than 32")
			}
			a, err := f.Resolve(arr)
			if err != nil {
				return err
			}
			list, _ := a.(rawpdf.Array)
			for _, k := range list {
				ref, ok := k.(rawpdf.Ref)
				if !ok {
					return errors.New("field entry is not a reference")
				}
				if seen[ref.Num] {
					return fmt.Errorf("field %d listed twice", ref.Num)
				}
				seen[ref.Num] = true
				if len(seen) > maxFields {
					return errors.New("too many fields")
				}
				o, err := f.Resolve(ref)
				if err != nil {
					return err
				}
				d, ok := o.(rawpdf.Dict)
				if !ok {
					return fmt.Errorf("field %d is not a dictionary", ref.Num)
				}
				myFT := ft
				if n, ok := d.Name("FT"); ok {
					myFT = n
				}
				if kids, ok := d["Kids"]; ok {
					if err := walk(kids, myFT, depth+1); err != nil {
						return err
					}
					continue
				}
				if myFT != "Sig" {
					continue
				}
				sf := sigField{num: ref.Num}
				if s, ok := d["T"].(rawpdf.String); ok {
					sf.name = string(s.Value)
				}
				if v, ok := d["V"]; ok {
					if _, null := v.(rawpdf.Null); !null {
						sf.v, sf.hasV = v, true
						sf.vRef, sf.isRef = v.(rawpdf.Ref)
					}
				}
				if sf.hasV {
					fields = append(fields, sf)
				} else {
					unsigned = append(unsigned, fmt.Sprintf("%d", ref.Num))
				}
			}
			return nil
		}
		if err := walk(acro["Fields"], "", 0); err != nil {
			r.fail("C2", ReasonMalformed, "AcroForm: "+err.Error())
			r.skipRest("C2")
			return
		}
	}
	// Scan every revision's objects for signature dictionaries.
	type def struct{ rev, off int }
	parsed := map[int]rawpdf.Object{} // offset → signature dictionary parsed by the scan
	sigDefs := map[int][]def{}        // signature dictionary object → where defined
	var structErrs []string
	var hidden []int
	n := 0
	for ri, rev := range f.Revisions {
		for _, num := range sortedKeys(rev.Entries) {
			e := rev.Entries[num]
			if n++; n%64 == 0 {
				r.tick()
			}
			switch e.Type {
			case rawpdf.EntryInUse:
				if rev.IsStream && e.Offset == rev.XrefOffset {
					continue
				}
				ref, o, err := f.ObjectAt(e.Offset)
				if err != nil {
					structErrs = append(structErrs, fmt.Sprintf("revision %d object %d: %v", ri+1, num, err))
					continue
				}
				if ref.Num != num {
					structErrs = append(structErrs, fmt.Sprintf("revision %d: offset %d holds object %d, xref says %d", ri+1, e.Offset, ref.Num, num))
					continue
				}
				if isSigDict(o) {
					sigDefs[num] = append(sigDefs[num], def{ri, e.Offset})
					parsed[e.Offset] = o
				}
			case rawpdf.EntryCompressed:
				if ri != len(f.Revisions)-1 {
					continue
				}
				o, err := f.Object(num)
				if err != nil {
					structErrs = append(structErrs, fmt.Sprintf("compressed object %d: %v", num, err))
					continue
				}
				if isSigDict(o) {
					hidden = append(hidden, num)
				}
			}
		}
	}
	sigNums := sortedKeys(sigDefs)
	switch {
	case len(hidden) > 0:
		r.fail("C2", ReasonSignatureCount, fmt.Sprintf("signature dictionary inside an object stream (objects %v): its signed range cannot be located", hidden))
	case len(unsigned) > 0:
		r.fail("C2", ReasonSignatureCount, "unsigned signature field(s) "+strings.Join(unsigned, ", ")+": only one, signed, seal field is allowed")
	case len(fields) == 0 && len(sigNums) == 0:
		r.fail("C2", ReasonNoSignature, "no signature field and no signature dictionary")
	case len(fields) > 1 || len(sigNums) > 1:
		r.fail("C2", ReasonSignatureCount, fmt.Sprintf("%d signature field(s) and %d signature dictionary object(s); exactly one seal is allowed", len(fields), len(sigNums)))
	case len(fields) == 0:
		r.fail("C2", ReasonSignatureCount, fmt.Sprintf("signature dictionary %d is not the value of any signature field", sigNums[0]))
	case len(sigNums) == 0 || !fields[0].isRef || fields[0].vRef.Num != sigNums[0]:
		r.fail("C2", ReasonSignatureCount, fmt.Sprintf("signature field %d does not refer to the signature dictionary found in the revisions", fields[0].num))
	default:
		r.pass("C2", fmt.Sprintf("one signature field %q (object %d) → signature dictionary %d; no other in %d revision(s)", fields[0].name, fields[0].num, sigNums[0], len(f.Revisions)))
	}
	if r.lastFailed() {
		r.skipRest("C2")
		return
	}
	sigNum, field := sigNums[0], fields[0]
	entry, _ := f.Lookup(sigNum)
	sigObj, ok := parsed[entry.Offset]
	if !ok || entry.Type != rawpdf.EntryInUse {
		if sigObj, err = f.Object(sigNum); err != nil {
			r.rawErr("C3", err)
			r.skipRest("C3")
			return
		}
	}
	sd, _ := sigObj.(rawpdf.Dict)

	// C3: /ByteRange shape.
	var br [4]int
	c3 := func() string {
		arr, ok := sd["ByteRange"].(rawpdf.Array)
		if !ok {
			return "/ByteRange missing or not a direct array"
		}
		if len(arr) != 4 {
			return fmt.Sprintf("/ByteRange has %d elements, want 4", len(arr))
		}
		for i := range br {
			v, ok := arr[i].(rawpdf.Int)
			if !ok || v < 0 || int64(v) > int64(len(data)) {
				return fmt.Sprintf("/ByteRange element %d is not an integer in [0, %d]", i, len(data))
			}
			br[i] = int(v)
		}
		switch {
		case br[0] != 0:
			return "/ByteRange does not start at 0"
		case br[1] <= 0 || br[1] >= br[2]:
			return "/ByteRange spans are empty, overlap or are out of order"
		case br[2]+br[3] > len(data):
			return "/ByteRange reaches beyond the end of the file"
		case entry.Type != rawpdf.EntryInUse || br[1] <= entry.Offset:
			return fmt.Sprintf("/ByteRange gap at %d does not lie inside signature object %d", br[1], sigNum)
		}
		return ""
	}()
	if c3 != "" {
		r.fail("C3", ReasonByteRange, c3)
		r.skipRest("C3")
		return
	}
	r.pass("C3", fmt.Sprintf("/ByteRange [0 %d %d %d]", br[1], br[2], br[3]))
	a, b, end := br[1], br[2], br[2]+br[3]

	// C4: the gap is exactly the /Contents hex string.
	cs, ok := sd["Contents"].(rawpdf.String)
	c4 := ""
	switch {
	case !ok:
		c4 = "/Contents is missing or not a direct string"
	case !cs.Hex || cs.Start != a || cs.End != b:
		c4 = fmt.Sprintf("gap [%d, %d) is not the /Contents string at [%d, %d)", a, b, cs.Start, cs.End)
	case 2*len(cs.Value) != b-a-2: // the reader decodes only hex digits and white space

		c4 = "/Contents hex string holds whitespace or other non-hex bytes"
	}
	if c4 != "" {
		r.fail("C4", ReasonByteRangeGap, c4)
		r.skipRest("C4")
		return
	}
	r.pass("C4", fmt.Sprintf("gap [%d, %d) is exactly the /Contents hex string (%d bytes)", a, b, len(cs.Value)))
	r.tick()

	// C5: the container.
	sub, _ := sd.Name("SubFilter")
	value := cs.Value
	var ses *signer.Signature
	var cms *signer.CMSSignature
	var seal *signer.Seal
	var c5err string
	switch {
	case len(trimZeros(value)) == 0:
		c5err = "/Contents is empty (all zeros): no signature value"
	case looksSES(value):
		ses, err = signer.ParseSignature(value)
		if err != nil {
			c5err = "SES_Signature: " + err.Error()
		} else {
			seal = ses.Seal
			res.Format = FormatPDFSES
		}
	default:
		cms, err = signer.ParseCMS(value)
		if err != nil {
			c5err = err.Error()
			break
		}
		res.Format = FormatPDFPKCS7RFC
		if cms.ContentType.Equal(signer.OIDSM2SignedData) {
			res.Format = FormatPDFPKCS7GBT
		}
		if cms.Content != nil {
			c5err = "SignedData is not detached"
		} else if cms.SealDER != nil {
			if seal, err = signer.ParseSeal(cms.SealDER); err != nil {
				c5err = "seal attribute: " + err.Error()
			}
		}
	}
	if c5err != "" {
		r.fail("C5", ReasonContainer, c5err)
		r.skipRest("C5")
		return
	}

	// C8: revisions.
	revs := f.Revisions
	signedRev := sigDefs[sigNum][0].rev
	c8 := structErrs
	prevEnd, prevSize := 0, 0
	for i, rv := range revs {
		sz, _ := rv.Trailer.Int("Size")
		switch {
		case rv.End < 0:
			c8 = append(c8, fmt.Sprintf("revision %d has no startxref/%%%%EOF of its own", i+1))
		case rv.XrefOffset < prevEnd || rv.End <= rv.XrefOffset:
			c8 = append(c8, fmt.Sprintf("revision %d is out of order", i+1))
		case sz < prevSize:
			c8 = append(c8, fmt.Sprintf("revision %d: /Size decreases from %d to %d", i+1, prevSize, sz))
		}
		for _, num := range sortedKeys(rv.Entries) {
			e := rv.Entries[num]
			if e.Type == rawpdf.EntryInUse && (e.Offset < prevEnd || e.Offset > rv.XrefOffset || (e.Offset == rv.XrefOffset && !rv.IsStream)) {
				c8 = append(c8, fmt.Sprintf("revision %d: object %d at %d lies outside the revision", i+1, num, e.Offset))
			}
		}
		prevEnd, prevSize = max(rv.End, prevEnd), max(sz, prevSize)
	}
	if last := revs[len(revs)-1].End; last >= 0 && last != len(data) {
		c8 = append(c8, fmt.Sprintf("%d byte(s) after the last %%%%EOF", len(data)-last))
	}
	if re := revs[signedRev].End; end != re {
		c8 = append(c8, fmt.Sprintf("signed range ends at %d but its revision (%d) ends at %d", end, signedRev+1, re))
	}
	if len(c8) > 0 {
		if len(c8) > 5 {
			c8 = append(c8[:5], fmt.Sprintf("and %d more", len(c8)-5))
		}
		r.fail("C8", ReasonRevision, strings.Join(c8, "; "))
	} else {
		r.pass("C8", fmt.Sprintf("%d revision(s) parse strictly; each ends in %%%%EOF; the seal covers revision %d to its end", len(revs), signedRev+1))
	}
	r.tick()

	// C6: digest and signature, via the signer-level checks.
	h := signer.NewSM3()
	h.Write(data[:a])
	var state []byte
	if r.opts.Registry != nil {
		if m, ok := h.(encoding.BinaryMarshaler); ok {
			state, _ = m.MarshalBinary()
		}
	}
	h.Write(data[b:end])
	spanDigest := h.Sum(nil)
	fileDigest := func() string {
		h := signer.NewSM3()
		if u, ok := h.(encoding.BinaryUnmarshaler); ok && state != nil && u.UnmarshalBinary(state) == nil {
			h.Write(data[a:])
		} else {
			h.Write(data)
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	copts := signer.CheckOptions{Roots: r.opts.TrustedRoots, Cache: verifyCache}
	var sc sigChecks
	var signTime time.Time
	var signerDER []byte
	foreign := ""
	switch {
	case ses != nil:
		sc.checks = ses.Check(copts, spanDigest)
		sc.checks = append(sc.checks, seal.Check(signer.CheckOptions{Roots: r.opts.TrustedRoots, At: ses.TimeInfo, Cache: verifyCache})...)
		signTime, signerDER = ses.TimeInfo, ses.SignerCert
	case !cms.IsSM():
		foreign = fmt.Sprintf("algorithms %s / %s are not SM3 / SM2", cms.DigestAlgorithm, cms.SignatureAlgorithm)
		signTime, signerDER = cms.SigningTime, cms.SignerCert
	default:
		sc.checks = cms.Check(copts, spanDigest, nil, seal)
		if seal != nil {
			sc.checks = append(sc.checks, seal.Check(signer.CheckOptions{Roots: r.opts.TrustedRoots, At: cms.SigningTime, Cache: verifyCache})...)
		}
		signTime, signerDER = cms.SigningTime, cms.SignerCert
	}
	// C5 result (needs G1), inserted before C8 in order.
	c5 := func() {
		what := map[Format]string{FormatPDFSES: "SES_Signature V%d (B)", FormatPDFPKCS7GBT: "GB/T 35275 SignedData (A1)", FormatPDFPKCS7RFC: "RFC 5652 SignedData (A2)"}[res.Format]
		if ses != nil {
			what = fmt.Sprintf(what, ses.Version)
		}
		if g1, ok := sc.get("G1"); ok && g1.Status == StatusFail {
			r.insertBefore("C8", Check{ID: "C5", Status: StatusFail, Detail: what + ": " + g1.Detail}, ReasonContainer)
			return
		}
		st, note := StatusPass, ""
		want := signer.SubFilterPKCS7
		if ses != nil {
			want = signer.SubFilterSES
		}
		if string(sub) != want && !(cms != nil && sub == "ETSI.CAdES.detached") {
			st, note = StatusWarn, fmt.Sprintf("; /SubFilter %q does not name this container (dispatch is by structure)", sub)
		}
		r.insertBefore("C8", Check{ID: "C5", Status: st, Detail: what + " in /Contents" + note}, ReasonOK)
	}
	c5()
	switch {
	case foreign != "":
		r.skip("C6", "not checked: "+foreign)
	default:
		g7, _ := sc.get("G7")
		g2, _ := sc.get("G2")
		switch {
		case g7.Status == StatusFail:
			r.fail("C6", ReasonDigest, "SM3 of the /ByteRange spans differs from the signed digest: the signed bytes were modified")
		case g2.Status == StatusFail:
			r.fail("C6", ReasonSignature, g2.Detail)
		case g2.Status == StatusWarn || g7.Status == StatusWarn:
			r.add("C6", StatusWarn, ReasonOK, "digest matches; "+g2.Detail)
		default:
			r.pass("C6", "SM3 of the /ByteRange spans matches the signed digest; "+g2.Detail)
		}
	}

	// C12: trust.
	switch {
	case foreign != "":
		r.fail("C12", ReasonUntrusted, foreign+": not a seal of a trusted SM2 seal maker")
	case seal == nil:
		r.fail("C12", ReasonUntrusted, "a plain signature without a seal (no seal attribute "+signer.OIDSealAttribute+")")
	case !r.opts.Now.IsZero() && signTime.After(r.opts.Now.Add(5*time.Minute)):
		r.fail("C12", ReasonUntrusted, "signing time "+signTime.UTC().Format(time.RFC3339)+" lies in the future")
	default:
		st, why, d := sc.trust()
		r.add("C12", st, why, d)
	}

	// C7: exactly one seal, covering the whole file.
	if end == len(data) {
		r.pass("C7", fmt.Sprintf("the only seal covers the whole file (%d bytes)", len(data)))
	} else {
		r.fail("C7", ReasonNotCovered, fmt.Sprintf("%d byte(s) after the seal's signed range (%d later revision(s))", len(data)-end, len(revs)-1-signedRev))
	}
	// C9: the signature dictionary and field were not redefined.
	var c9 []string
	if len(sigDefs[sigNum]) > 1 {
		c9 = append(c9, fmt.Sprintf("signature dictionary %d defined in %d revisions", sigNum, len(sigDefs[sigNum])))
	}
	for i := signedRev + 1; i < len(revs); i++ {
		if _, ok := revs[i].Entries[field.num]; ok {
			c9 = append(c9, fmt.Sprintf("signature field %d redefined in revision %d", field.num, i+1))
		}
		if _, ok := revs[i].Entries[sigNum]; ok && len(sigDefs[sigNum]) == 1 {
			c9 = append(c9, fmt.Sprintf("signature dictionary %d freed or redefined in revision %d", sigNum, i+1))
		}
	}
	if len(c9) > 0 {
		r.fail("C9", ReasonSignatureDict, strings.Join(c9, "; "))
	} else {
		r.pass("C9", "signature dictionary and field unchanged since the signed revision")
	}
	// C11: certification with DocMDP P=1.
	r.docMDP(f, cat, sd, sigNum)
	// C10: later revisions (not allowed under C7's strict policy).
	if signedRev == len(revs)-1 {
		r.skip("C10", "no revision after the seal")
	} else {
		var parts []string
		for i := signedRev + 1; i < len(revs); i++ {
			nums := sortedKeys(revs[i].Entries)
			if len(nums) > 20 {
				nums = nums[:20]
			}
			parts = append(parts, fmt.Sprintf("revision %d changes objects %v", i+1, nums))
		}
		r.fail("C10", ReasonNotCovered, "post-seal updates are not allowed: "+strings.Join(parts, "; "))
	}
	r.pass("C14", "no parser fault; every unsupported feature fails closed")
	r.checks = append(r.checks, sc.checks...)
	for range sc.checks {
		r.reasons = append(r.reasons, ReasonOK)
	}
	res.Seal = sealInfo(seal)
	res.Signer = signerInfo(signerDER)
	res.SignTime = signTime
	r.tick()
	r.finish(res, pdfIdentifier(f), fileDigest)
}

func (r *run) lastFailed() bool {
	return len(r.checks) > 0 && r.checks[len(r.checks)-1].Status == StatusFail
}

// insertBefore inserts c before the check with id before.
func (r *run) insertBefore(before string, c Check, why Reason) {
	i := slices.IndexFunc(r.checks, func(x Check) bool { return x.ID == before })
	if i < 0 {
		r.add(c.ID, c.Status, why, c.Detail)
		return
	}
	r.checks = slices.Insert(r.checks, i, c)
	r.reasons = slices.Insert(r.reasons, i, why)
}

// docMDP runs C11.
func (r *run) docMDP(f *rawpdf.File, cat, sd rawpdf.Dict, sigNum int) {
	permsObj, err := f.Resolve(cat["Perms"])
	if err != nil {
		r.fail("C11", ReasonDocMDP, "/Perms: "+err.Error())
		return
	}
	perms, _ := permsObj.(rawpdf.Dict)
	mdp, has := perms["DocMDP"]
	if !has {
		r.add("C11", StatusWarn, ReasonOK, "approval signature: no /Perms /DocMDP certification (harmless under the strict C7 policy)")
		return
	}
	if ref, ok := mdp.(rawpdf.Ref); !ok || ref.Num != sigNum {
		r.fail("C11", ReasonDocMDP, "/Perms /DocMDP does not designate the seal's signature dictionary")
		return
	}
	refsObj, err := f.Resolve(sd["Reference"])
	if err != nil {
		r.fail("C11", ReasonDocMDP, "/Reference: "+err.Error())
		return
	}
	refs, _ := refsObj.(rawpdf.Array)
	for _, x := range refs {
		xo, err := f.Resolve(x)
		if err != nil {
			continue
		}
		d, _ := xo.(rawpdf.Dict)
		if tm, _ := d.Name("TransformMethod"); tm != "DocMDP" {
			continue
		}
		po, _ := f.Resolve(d["TransformParams"])
		pd, _ := po.(rawpdf.Dict)
		p, ok := pd.Int("P")
		if !ok {
			p = 2
		}
		if p != 1 {
			r.fail("C11", ReasonDocMDP, fmt.Sprintf("DocMDP P=%d allows changes after sealing; only P=1 is accepted", p))
			return
		}
		r.pass("C11", "certification signature, DocMDP P=1 (no changes allowed)")
		return
	}
	r.fail("C11", ReasonDocMDP, "/Perms /DocMDP set but the signature has no DocMDP /Reference")
}

// pdfIdentifier reads the license identifier from the Info dictionary
// (/ELIdentifier, written by package templates); "" when absent.
func pdfIdentifier(f *rawpdf.File) string {
	o, err := f.Resolve(f.Trailer["Info"])
	if err != nil {
		return ""
	}
	d, _ := o.(rawpdf.Dict)
	s, ok := d["ELIdentifier"].(rawpdf.String)
	if !ok {
		return ""
	}
	return textString(s.Value)
}

// textString decodes a PDF text string (UTF-16BE with BOM, else bytes).
func textString(b []byte) string {
	if len(b) >= 2 && b[0] == 0xfe && b[1] == 0xff {
		u := make([]uint16, 0, (len(b)-2)/2)
		for i := 2; i+1 < len(b); i += 2 {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		}
		return string(utf16.Decode(u))
	}
	return string(b)
}

func trimZeros(b []byte) []byte {
	i := len(b)
	for i > 0 && b[i-1] == 0 {
		i--
	}
	return b[:i]
}

// looksSES tells a SES_Signature (SEQUENCE { SEQUENCE toSign …) from a
// ContentInfo (SEQUENCE { OID …) by the first inner tag.
func looksSES(b []byte) bool {
	if len(b) < 4 || b[0] != 0x30 {
		return false
	}
	i := 2
	if b[1] >= 0x80 {
		i = 2 + int(b[1]&0x7f)
	}
	return i < len(b) && b[i] == 0x30
}

func sortedKeys[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
