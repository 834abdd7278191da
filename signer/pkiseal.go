package signer

import (
	"crypto"
	"fmt"
	"io"
	"time"
)

// RootSigner returns the city root key. It signs the QR key list and status
// lists; keep its use to the process that publishes them.
func (p *PKI) RootSigner() crypto.Signer { return p.rootKey }

// DeptSealOptions configure PKI.MakeDepartmentSeal.
type DeptSealOptions struct {
	// Name is the seal name (SES_ESPropertyInfo.name); empty means the
	// department name followed by "电子证照专用章".
	Name string
	// Text is written below the star of a generated picture; empty means
	// "电子证照专用章".
	Text string
	// PNG, when set, is the picture instead of a generated one, shown
	// WidthMM × HeightMM (0 means 42 × 42).
	PNG               []byte
	WidthMM, HeightMM int
	// Font draws a generated picture (TTF/TTC bytes).
	Font []byte
	// ValidFrom and ValidUntil bound the seal; zero means Now and the seal
	// maker certificate's end.
	ValidFrom, ValidUntil time.Time
	// Now is the creation time and Rand the randomness (required).
	Now  time.Time
	Rand io.Reader
}

// MakeDepartmentSeal makes a new V4 seal for a department of the PKI, signed
// by the seal maker and listing the department's signer certificate. It
// returns the DER and does not store it.
func (p *PKI) MakeDepartmentSeal(deptKey string, o DeptSealOptions) ([]byte, error) {
	d, ok := p.Departments[deptKey]
	if !ok {
		return nil, fmt.Errorf("%w: no department %q", ErrPKI, deptKey)
	}
	if p.sealMakerKey == nil || o.Rand == nil || o.Now.IsZero() {
		return nil, fmt.Errorf("%w: seal maker key, Rand and Now are required", ErrPKI)
	}
	text := o.Text
	if text == "" {
		text = defaultSealName
	}
	name := o.Name
	if name == "" {
		name = d.Name + text
	}
	var pic Picture
	var err error
	if len(o.PNG) > 0 {
		w, h := o.WidthMM, o.HeightMM
		if w == 0 || h == 0 {
			w, h = 42, 42
		}
		pic, err = ImportPNG(o.PNG, w, h)
	} else {
		pic, err = RenderSealPicture(SealPictureSpec{Font: o.Font, Organization: d.Name, Name: text})
	}
	if err != nil {
		return nil, err
	}
	from, until := o.ValidFrom, o.ValidUntil
	if from.IsZero() {
		from = o.Now
	}
	if until.IsZero() || until.After(p.SealMaker.NotAfter()) {
		until = p.SealMaker.NotAfter()
	}
	if !until.After(from) {
		return nil, fmt.Errorf("%w: seal validity ends before it starts", ErrPKI)
	}
	esid := fmt.Sprintf("%X", serial(o.Rand).Bytes())
	return MakeSeal(o.Rand, SealSpec{ESID: esid, VID: "elicense", Type: 1, Name: name,
		CreateDate: o.Now, ValidStart: from, ValidEnd: until}, p.sealMakerKey, p.SealMaker, []*Certificate{d.SignerCert}, pic)
}
