package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"elicense/catalog"
	"elicense/signer"
	"elicense/signer/qrtoken"
	"elicense/templates"
)

// components are loaded on first use: a command that lists licenses does not
// parse the font or decrypt keys.
type components struct {
	engineOnce sync.Once
	engine     *templates.Engine
	engineErr  error

	pkiOnce sync.Once
	pki     *signer.PKI
	pkiErr  error

	sealMu  sync.Mutex
	sealers map[string]*signer.Sealer

	qrOnce sync.Once
	qr     *qrtoken.Authority
	qrErr  error
}

func (a *app) Engine() (*templates.Engine, error) {
	a.engineOnce.Do(func() {
		a.engine, a.engineErr = templates.Load(templates.Options{
			FontPaths:   a.cfg.FontPaths,
			OverrideDir: filepath.Join(a.cfg.DataDir, "templates"),
		})
		if errors.Is(a.engineErr, templates.ErrNoFont) {
			a.engineErr = fmt.Errorf("%w\nno CJK font found: install the Debian package fonts-wqy-microhei (make deps) or set font_paths", a.engineErr)
		}
	})
	return a.engine, a.engineErr
}

// fontData returns the bytes of the first CJK font found, for seal pictures.
func (a *app) fontData() ([]byte, error) {
	paths := a.cfg.FontPaths
	if len(paths) == 0 {
		paths = templates.DefaultFontPaths()
	}
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("no CJK font found in %s: install fonts-wqy-microhei or set font_paths", strings.Join(paths, ", "))
}

func (a *app) pkiDir() string { return filepath.Join(a.cfg.DataDir, "pki") }

// PKI loads the city PKI, or creates it when create is set and there is none.
func (a *app) PKI(ctx context.Context, create bool) (*signer.PKI, error) {
	a.pkiOnce.Do(func() { a.pki, a.pkiErr = a.loadPKI(ctx, create) })
	return a.pki, a.pkiErr
}

func (a *app) loadPKI(ctx context.Context, create bool) (*signer.PKI, error) {
	pw, err := a.keyPassword(create)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(a.pkiDir(), "pki.json")); err == nil && !create {
		return signer.LoadPKI(a.pkiDir(), pw)
	} else if !create {
		return nil, fmt.Errorf("no PKI in %s: run `elicense pki init` or `elicense serve` once", a.pkiDir())
	}
	depts, err := a.store.ListDepartments(ctx)
	if err != nil {
		return nil, err
	}
	font, err := a.fontData()
	if err != nil {
		return nil, err
	}
	var ds []signer.Department
	for _, d := range depts {
		ds = append(ds, signer.Department{Key: d.Key, Name: d.Name, USCC: d.USCC})
	}
	opts := signer.PKIOptions{Password: pw, City: "芜湖市", Departments: ds, Font: font, Rand: rand.Reader, Now: time.Now()}
	if a.cfg.KeyScryptLogN != 0 {
		opts.KeyProtection = &signer.KeyProtection{ScryptLogN: a.cfg.KeyScryptLogN}
	}
	return signer.InitPKI(a.pkiDir(), opts)
}

// keyPassword returns the password of the key files: ELICENSE_KEY_PASSWORD,
// else the file named by key_password_file, else the demo's generated file
// <data-dir>/secrets/key-password (created when create is set).
func (a *app) keyPassword(create bool) ([]byte, error) {
	if v := os.Getenv("ELICENSE_KEY_PASSWORD"); v != "" {
		return []byte(v), nil
	}
	path := a.cfg.KeyPasswordFile
	demo := path == ""
	if demo {
		path = filepath.Join(a.cfg.DataDir, "secrets", "key-password")
	}
	b, err := os.ReadFile(path)
	if err == nil {
		pw := bytes.TrimRight(b, "\r\n")
		if len(pw) == 0 {
			return nil, fmt.Errorf("key password file %s is empty", path)
		}
		return pw, nil
	}
	if !demo || !errors.Is(err, fs.ErrNotExist) || !create {
		return nil, fmt.Errorf("key password: %w (set ELICENSE_KEY_PASSWORD or key_password_file)", err)
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	pw := []byte(base64.RawURLEncoding.EncodeToString(raw[:]))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, append(pw, '\n'), 0o600); err != nil {
		return nil, err
	}
	a.log.Warn("demo city: generated a key password file; production deployments set key_password_file", "path", path)
	return pw, nil
}

// sealer returns the cached Sealer of a department's default seal.
func (a *app) sealer(ctx context.Context, deptKey string) (*signer.Sealer, error) {
	a.sealMu.Lock()
	defer a.sealMu.Unlock()
	if z, ok := a.sealers[deptKey]; ok {
		return z, nil
	}
	p, err := a.PKI(ctx, false)
	if err != nil {
		return nil, err
	}
	d, ok := p.Department(deptKey)
	if !ok {
		return nil, fmt.Errorf("department %q has no keys in %s: run `elicense pki init`", deptKey, a.pkiDir())
	}
	// Decrypt the signer key now, so that a bad key file fails here once
	// rather than at every signature.
	if err := p.Unlock(d.SignerKey); err != nil {
		return nil, err
	}
	z, err := d.NewSealer(signer.SealerOptions{})
	if err != nil {
		return nil, err
	}
	if a.sealers == nil {
		a.sealers = map[string]*signer.Sealer{}
	}
	a.sealers[deptKey] = z
	return z, nil
}

// QR returns the QR authority: every department's QR key, with the license
// types each may sign, under the city root.
func (a *app) QR(ctx context.Context) (*qrtoken.Authority, error) {
	a.qrOnce.Do(func() {
		p, err := a.PKI(ctx, false)
		if err != nil {
			a.qrErr = err
			return
		}
		types, err := a.store.ListTypes(ctx)
		if err != nil {
			a.qrErr = err
			return
		}
		var keys []qrtoken.DeptKey
		var issued time.Time
		codes := typeCodes(p, types)
		for _, d := range sortedDepts(p) {
			k := qrtoken.DeptKey{Signer: d.QRKey, DeptName: d.Name, DeptUSCC: d.USCC,
				NotBefore: d.QRCert.NotBefore(), NotAfter: d.QRCert.NotAfter(), TypeCodes: codes[d.USCC]}
			if d.QRCert.NotBefore().After(issued) {
				issued = d.QRCert.NotBefore()
			}
			keys = append(keys, k)
		}
		a.qr, a.qrErr = qrtoken.NewAuthority(p.RootSigner(), a.cfg.PublicBase, keys, issued, rand.Reader)
	})
	return a.qr, a.qrErr
}

// typeCodes returns, by department USCC, the codes of the license types
// each department of p issues.
func typeCodes(p *signer.PKI, types []*catalog.LicenseType) map[string][]string {
	out := map[string][]string{}
	for _, d := range sortedDepts(p) {
		out[d.USCC] = []string{}
		for _, t := range types {
			if slices.Contains(t.IssuingDepts, d.Key) {
				out[d.USCC] = append(out[d.USCC], t.Code)
			}
		}
		slices.Sort(out[d.USCC])
		out[d.USCC] = slices.Compact(out[d.USCC])
	}
	return out
}

// refreshQRTypes re-signs the QR key list with the catalog's current types
// (api.Deps.TypesChanged).
func (a *app) refreshQRTypes(ctx context.Context) error {
	qr, err := a.QR(ctx)
	if err != nil {
		return err
	}
	p, err := a.PKI(ctx, false)
	if err != nil {
		return err
	}
	types, err := a.store.ListTypes(ctx)
	if err != nil {
		return err
	}
	return qr.SetTypeCodes(typeCodes(p, types), time.Now())
}

func sortedDepts(p *signer.PKI) []*signer.DepartmentPKI {
	var out []*signer.DepartmentPKI
	for _, d := range p.Departments {
		out = append(out, d)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Key < out[j-1].Key; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// issuing wires the Service's ports: renderer, sealer, QR issuer.
func (a *app) issuing(ctx context.Context) error {
	e, err := a.Engine()
	if err != nil {
		return err
	}
	if _, err := a.PKI(ctx, false); err != nil {
		return err
	}
	qr, err := a.QR(ctx)
	if err != nil {
		return err
	}
	a.svc.Renderer = renderer{e: e, now: a.svc.Now}
	a.svc.Sealer = sealerPort{a: a}
	a.svc.QR = qr
	a.svc.Rand = rand.Reader
	return nil
}

// unlockDept decrypts the department's signer and QR keys (side by side),
// so that a batch does not pay for them one after the other inside its
// pipeline. An unknown department is left to the caller's checks.
func (a *app) unlockDept(ctx context.Context, deptKey string) error {
	p, err := a.PKI(ctx, false)
	if err != nil {
		return err
	}
	d, ok := p.Department(deptKey)
	if !ok {
		return nil
	}
	return p.Unlock(d.SignerKey, d.QRKey)
}

// renderer adapts templates.Engine to catalog.Renderer.
type renderer struct {
	e   *templates.Engine
	now catalog.Clock
}

func (r renderer) Check(t *catalog.LicenseType, row map[string]string) []catalog.FieldError {
	if ve := r.e.Check(t, row, r.now()); ve != nil {
		return ve.Problems
	}
	return nil
}

func (r renderer) Render(w io.Writer, l *catalog.License, qr string) error {
	return r.e.Render(w, l, templates.RenderOptions{QRText: qr})
}

// sealerPort adapts the department sealers to catalog.Sealer.
type sealerPort struct{ a *app }

func (s sealerPort) Seal(ctx context.Context, d *catalog.Department, pdf []byte) ([]byte, string, error) {
	z, err := s.a.sealer(ctx, d.Key)
	if err != nil {
		return nil, "", err
	}
	var buf bytes.Buffer
	buf.Grow(len(pdf) + 40<<10)
	res, err := signer.Sign(&buf, pdf, signer.SignOptions{Sealer: z, Format: signer.FormatSES, Now: s.a.svc.Now(), Rand: rand.Reader})
	if err != nil {
		return nil, "", err
	}
	return buf.Bytes(), hex.EncodeToString(res.Digest[:]), nil
}
