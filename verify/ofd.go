package verify

import (
	"archive/zip"
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"elicense/signer"
)

// ofdPackage is a checked ZIP package with bounded reads.
type ofdPackage struct {
	r       *run
	files   map[string]*zip.File
	data    map[string][]byte
	read    int64
	maxRead int64
}

var errOFDLimit = errors.New("decompressed size limit exceeded")

// get returns the bytes of the entry at p (a cleaned path without leading
// slash), read once, bounded by the limits.
func (p *ofdPackage) get(name string) ([]byte, error) {
	if b, ok := p.data[name]; ok {
		return b, nil
	}
	zf, ok := p.files[name]
	if !ok {
		return nil, fmt.Errorf("%s: no such entry", name)
	}
	p.r.tick()
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer rc.Close()
	limit := min(int64(p.r.lim.MaxDecoded), p.maxRead-p.read)
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: %w", name, errOFDLimit)
	}
	p.read += int64(len(b))
	p.data[name] = b
	return b, nil
}

// resolve turns an OFD location (absolute from the package root, or
// relative to dir) into an entry name; ok is false for a path escaping the
// package.
func resolve(dir, loc string) (string, bool) {
	loc = strings.TrimSpace(loc)
	if loc == "" || strings.ContainsAny(loc, "\\\x00") {
		return "", false
	}
	var p string
	if strings.HasPrefix(loc, "/") {
		p = path.Clean(loc[1:])
	} else {
		p = path.Clean(path.Join(dir, loc))
	}
	if p == "." || p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
		return "", false
	}
	return p, true
}

// safeName checks a ZIP entry name.
func safeName(n string) bool {
	if n == "" || !utf8.ValidString(n) || strings.ContainsAny(n, "\\\x00:") || strings.HasPrefix(n, "/") {
		return false
	}
	for _, seg := range strings.Split(strings.TrimSuffix(n, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

type ofdXML struct {
	Bodies []struct {
		DocRoot    string `xml:"DocRoot"`
		Signatures string `xml:"Signatures"`
	} `xml:"DocBody"`
}

type signaturesXML struct {
	Sigs []struct {
		ID      string `xml:"ID,attr"`
		Type    string `xml:"Type,attr"`
		BaseLoc string `xml:"BaseLoc,attr"`
	} `xml:"Signature"`
}

type signatureXML struct {
	SignedInfo struct {
		SignatureMethod   string `xml:"SignatureMethod"`
		SignatureDateTime string `xml:"SignatureDateTime"`
		Seal              struct {
			BaseLoc string `xml:"BaseLoc"`
		} `xml:"Seal"`
		References struct {
			CheckMethod string `xml:"CheckMethod,attr"`
			Refs        []struct {
				FileRef    string `xml:"FileRef,attr"`
				CheckValue string `xml:"CheckValue"`
			} `xml:"Reference"`
		} `xml:"References"`
	} `xml:"SignedInfo"`
	SignedValue string `xml:"SignedValue"`
}

func parseXML(b []byte, v any) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	d.CharsetReader = nil
	return d.Decode(v)
}

// ofdOrder is the order of the OFD package checks.
var ofdOrder = []string{"O1", "O2", "O3", "O5", "O4", "C14"}

func (r *run) skipOFDRest(after string) {
	i := slices.Index(ofdOrder, after)
	for _, id := range ofdOrder[i+1:] {
		r.skip(id, "not run: an earlier check failed")
	}
	r.skip("REG", "not run: the file is not authentic")
	r.skip("STATUS", "not run: the file is not authentic")
}

func verifyOFD(r *run, data []byte, res *Result) {
	lim := r.lim
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		r.fail("O1", ReasonMalformed, "not a readable ZIP package: "+err.Error())
		r.skipOFDRest("O1")
		return
	}
	pkg := &ofdPackage{r: r, files: map[string]*zip.File{}, data: map[string][]byte{}, maxRead: min(int64(lim.MaxRatio)*int64(max(len(data), 4096)), int64(lim.MaxFileSize)*int64(lim.MaxRatio))}
	o1 := ""
	folded := map[string]bool{}
	var declared uint64
	switch {
	case len(zr.File) > lim.MaxEntries:
		o1 = fmt.Sprintf("%d entries exceed the limit of %d", len(zr.File), lim.MaxEntries)
	default:
		for _, zf := range zr.File {
			n := zf.Name
			switch {
			case !safeName(n):
				o1 = fmt.Sprintf("unsafe entry name %q", n)
			case folded[strings.ToLower(n)]:
				o1 = fmt.Sprintf("duplicate entry %q", n)
			case zf.Flags&1 != 0:
				o1 = fmt.Sprintf("encrypted entry %q", n)
			case zf.Method != zip.Store && zf.Method != zip.Deflate:
				o1 = fmt.Sprintf("entry %q uses compression method %d", n, zf.Method)
			case zf.UncompressedSize64 > uint64(lim.MaxDecoded):
				o1 = fmt.Sprintf("entry %q declares %d bytes, above the limit of %d", n, zf.UncompressedSize64, lim.MaxDecoded)
			}
			if o1 != "" {
				break
			}
			folded[strings.ToLower(n)] = true
			declared += zf.UncompressedSize64
			if !strings.HasSuffix(n, "/") {
				pkg.files[n] = zf
			}
		}
		if o1 == "" && declared > uint64(pkg.maxRead) {
			o1 = fmt.Sprintf("declared uncompressed size %d exceeds %d× the file size", declared, lim.MaxRatio)
		}
	}
	if o1 != "" {
		why := ReasonMalformed
		if strings.Contains(o1, "limit") || strings.Contains(o1, "exceed") {
			why = ReasonLimit
		} else if strings.Contains(o1, "encrypted") || strings.Contains(o1, "method") {
			why = ReasonUnsupported
		}
		r.fail("O1", why, o1)
		r.skipOFDRest("O1")
		return
	}
	r.pass("O1", fmt.Sprintf("%d entries, %d bytes declared uncompressed; names safe and unique; limits %d entries, %d bytes per entry, %d× ratio", len(zr.File), declared, lim.MaxEntries, lim.MaxDecoded, lim.MaxRatio))

	// O2: the signature lists.
	type sigRef struct {
		id, typ, path, docRoot string
	}
	var sigs []sigRef
	o2 := func() (Reason, string) {
		root, err := pkg.get("OFD.xml")
		if err != nil {
			return ofdReadReason(err), "OFD.xml: " + err.Error()
		}
		var ox ofdXML
		if err := parseXML(root, &ox); err != nil {
			return ReasonMalformed, "OFD.xml: " + err.Error()
		}
		if len(ox.Bodies) == 0 {
			return ReasonMalformed, "OFD.xml has no DocBody"
		}
		for _, body := range ox.Bodies {
			docRoot, ok := resolve("", body.DocRoot)
			if !ok {
				return ReasonMalformed, fmt.Sprintf("DocRoot %q", body.DocRoot)
			}
			if body.Signatures == "" {
				continue
			}
			sp, ok := resolve("", body.Signatures)
			if !ok {
				return ReasonMalformed, fmt.Sprintf("Signatures location %q escapes the package", body.Signatures)
			}
			sb, err := pkg.get(sp)
			if err != nil {
				return ofdReadReason(err), err.Error()
			}
			var sx signaturesXML
			if err := parseXML(sb, &sx); err != nil {
				return ReasonMalformed, sp + ": " + err.Error()
			}
			for _, s := range sx.Sigs {
				p, ok := resolve(path.Dir(sp), s.BaseLoc)
				if !ok {
					return ReasonMalformed, fmt.Sprintf("signature %s: BaseLoc %q escapes the package", s.ID, s.BaseLoc)
				}
				typ := s.Type
				if typ == "" {
					typ = "Seal"
				}
				sigs = append(sigs, sigRef{id: s.ID, typ: typ, path: p, docRoot: docRoot})
			}
		}
		if len(sigs) == 0 {
			return ReasonNoSignature, "no signature listed in any Signatures.xml"
		}
		return ReasonOK, ""
	}
	if why, d := o2(); why != ReasonOK {
		r.fail("O2", why, d)
		r.skipOFDRest("O2")
		return
	}
	r.pass("O2", fmt.Sprintf("%d signature(s) listed", len(sigs)))

	covered := map[string]bool{}
	refFail := ""
	var firstBad *SignatureResult
	for _, s := range sigs {
		sr := verifyOFDSignature(r, pkg, s.id, s.typ, s.path, s.docRoot, covered)
		res.Signatures = append(res.Signatures, sr)
		if c, ok := signer.Find(sr.Checks, "O3"); ok && c.Status == StatusFail && refFail == "" {
			refFail = "signature " + s.id + ": " + c.Detail
		}
	}
	for i := range res.Signatures {
		if !res.Signatures[i].Authentic {
			firstBad = &res.Signatures[i]
			break
		}
	}
	if refFail != "" {
		r.fail("O3", ReasonReference, refFail)
	} else {
		r.pass("O3", "every Reference's CheckValue equals SM3 of the referenced file")
	}
	if firstBad != nil {
		d := fmt.Sprintf("signature %s is not authentic: %s", firstBad.ID, firstBad.Reason)
		for _, c := range firstBad.Checks {
			if c.Status == StatusFail {
				d += " (" + c.ID + ": " + c.Detail + ")"
				break
			}
		}
		r.fail("O5", firstBad.Reason, d)
	} else {
		r.pass("O5", fmt.Sprintf("all %d signature(s) authentic", len(res.Signatures)))
	}
	// O4: files no signature covers (outside the signature folders).
	var loose []string
	for n := range pkg.files {
		if covered[n] || isSignsPath(n) {
			continue
		}
		loose = append(loose, n)
	}
	slices.Sort(loose)
	if len(loose) > 0 {
		if len(loose) > 10 {
			loose = append(loose[:10], "…")
		}
		r.add("O4", StatusWarn, ReasonOK, "files no signature covers: "+strings.Join(loose, ", "))
	} else {
		r.pass("O4", "every file outside the signature folders is covered by a signature")
	}
	r.pass("C14", "no parser fault; every unsupported feature fails closed")
	if len(res.Signatures) > 0 {
		s := res.Signatures[0]
		res.Seal, res.Signer, res.SignTime = s.Seal, s.Signer, s.SignTime
	}
	r.finish(res, "", func() string { return hex.EncodeToString(signer.DocumentDigest(data)) })
}

func isSignsPath(n string) bool {
	for _, seg := range strings.Split(n, "/") {
		if seg == "Signs" {
			return true
		}
	}
	return false
}

func ofdReadReason(err error) Reason {
	if errors.Is(err, errOFDLimit) {
		return ReasonLimit
	}
	return ReasonMalformed
}

// verifyOFDSignature checks one signature: its references (O3), its
// SignedValue (SES_Signature: G1–G7 with dataHash over Signature.xml;
// SignedData: G1–G7 with messageDigest over Signature.xml) and seal (S1–S4).
func verifyOFDSignature(r *run, pkg *ofdPackage, id, typ, sigPath, docRoot string, covered map[string]bool) SignatureResult {
	sr := SignatureResult{ID: id, Path: sigPath, Type: typ}
	sub := &run{ctx: r.ctx, opts: r.opts, lim: r.lim}
	done := func() SignatureResult {
		sr.Checks = sub.checks
		sr.Reason, _ = sub.failed()
		sr.Authentic = sr.Reason == ReasonOK
		return sr
	}
	sigXMLBytes, err := pkg.get(sigPath)
	if err != nil {
		sub.fail("G1", ofdReadReason(err), "Signature.xml: "+err.Error())
		return done()
	}
	var sx signatureXML
	if err := parseXML(sigXMLBytes, &sx); err != nil {
		sub.fail("G1", ReasonMalformed, sigPath+": "+err.Error())
		return done()
	}
	dir := path.Dir(sigPath)
	// O3: references.
	o3 := func() string {
		cm := strings.TrimSpace(sx.SignedInfo.References.CheckMethod)
		if !strings.EqualFold(cm, "SM3") && cm != signer.OIDSM3.String() {
			return fmt.Sprintf("CheckMethod %q is not SM3", cm)
		}
		refs := sx.SignedInfo.References.Refs
		if len(refs) == 0 {
			return "no Reference"
		}
		hasRoot := false
		for _, ref := range refs {
			p, ok := resolve("", ref.FileRef)
			if !ok {
				return fmt.Sprintf("FileRef %q escapes the package", ref.FileRef)
			}
			want, err := base64.StdEncoding.DecodeString(strings.TrimSpace(ref.CheckValue))
			if err != nil || len(want) != 32 {
				return fmt.Sprintf("%s: CheckValue is not a base64 SM3 digest", p)
			}
			b, err := pkg.get(p)
			if err != nil {
				return "referenced file " + err.Error()
			}
			if subtle.ConstantTimeCompare(signer.DocumentDigest(b), want) != 1 {
				return fmt.Sprintf("%s: SM3 differs from its CheckValue (file modified)", p)
			}
			covered[p] = true
			hasRoot = hasRoot || p == docRoot
		}
		if !hasRoot {
			return "the document root " + docRoot + " is not among the references"
		}
		return ""
	}()
	if o3 != "" {
		sub.fail("O3", ReasonReference, o3)
	} else {
		sub.pass("O3", fmt.Sprintf("%d reference(s) match their SM3 CheckValue", len(sx.SignedInfo.References.Refs)))
	}
	covered[sigPath] = true
	svPath, ok := resolve(dir, sx.SignedValue)
	if !ok {
		sub.fail("G1", ReasonMalformed, fmt.Sprintf("SignedValue %q escapes the package", sx.SignedValue))
		return done()
	}
	sv, err := pkg.get(svPath)
	if err != nil {
		sub.fail("G1", ofdReadReason(err), "SignedValue: "+err.Error())
		return done()
	}
	docDigest := signer.DocumentDigest(sigXMLBytes)
	copts := signer.CheckOptions{Roots: r.opts.TrustedRoots, Cache: verifyCache}
	var sc sigChecks
	var seal *signer.Seal
	if looksSES(sv) {
		g, err := signer.ParseSignature(sv)
		if err != nil {
			sub.fail("G1", ReasonContainer, "SES_Signature: "+err.Error())
			return done()
		}
		seal = g.Seal
		sc.checks = g.Check(copts, docDigest)
		sc.checks = append(sc.checks, seal.Check(signer.CheckOptions{Roots: r.opts.TrustedRoots, At: g.TimeInfo, Cache: verifyCache})...)
		sr.SignTime = g.TimeInfo
		sr.Signer = signerInfo(g.SignerCert)
	} else {
		c, err := signer.ParseCMS(sv)
		if err != nil {
			sub.fail("G1", ReasonContainer, "SignedValue is neither SES_Signature nor SignedData: "+err.Error())
			return done()
		}
		if c.SealDER != nil {
			if seal, err = signer.ParseSeal(c.SealDER); err != nil {
				sub.fail("G1", ReasonContainer, "seal attribute: "+err.Error())
				return done()
			}
		}
		sc.checks = c.Check(copts, docDigest, sigXMLBytes, seal)
		if seal != nil {
			sc.checks = append(sc.checks, seal.Check(signer.CheckOptions{Roots: r.opts.TrustedRoots, At: c.SigningTime, Cache: verifyCache})...)
		}
		sr.SignTime = c.SigningTime
		sr.Signer = signerInfo(c.SignerCert)
	}
	if seal != nil && sx.SignedInfo.Seal.BaseLoc != "" {
		if p, ok := resolve(dir, sx.SignedInfo.Seal.BaseLoc); ok {
			if b, err := pkg.get(p); err == nil && !bytes.Equal(trimZeros(b), seal.Raw) {
				sub.fail("O3", ReasonReference, "Seal.esl "+p+" differs from the seal inside the signature")
			}
		}
	}
	sr.Seal = sealInfo(seal)
	// Order the signer-level checks by policy: format, digest, signature,
	// then trust.
	reasonOf := map[string]Reason{"G1": ReasonContainer, "G7": ReasonDigest, "G2": ReasonSignature}
	for _, id := range []string{"G1", "G7", "G2"} {
		if c, ok := sc.get(id); ok && c.Status == StatusFail {
			sub.fail("SIG", reasonOf[id], id+": "+c.Detail)
			break
		}
	}
	if _, bad := sub.failed(); !bad {
		if st, why, d := sc.trust(); st == StatusFail {
			sub.fail("SIG", why, d)
		} else if typ == "Seal" && seal == nil {
			sub.fail("SIG", ReasonSeal, "Type Seal but no seal in the SignedValue")
		}
	}
	// Keep only the detail checks (SIG is a summary used for the reason).
	why, _ := sub.failed()
	var kept []Check
	var reasons []Reason
	for i, c := range sub.checks {
		if c.ID != "SIG" {
			kept = append(kept, c)
			reasons = append(reasons, sub.reasons[i])
		}
	}
	sub.checks, sub.reasons = append(kept, sc.checks...), reasons
	for range sc.checks {
		sub.reasons = append(sub.reasons, ReasonOK)
	}
	sr.Checks = sub.checks
	sr.Reason = why
	sr.Authentic = why == ReasonOK
	return sr
}
