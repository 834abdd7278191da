package signer

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// Department describes one issuing department of the demo PKI.
type Department struct {
	// Key is a short identifier used as directory name: [a-z0-9][a-z0-9-]*.
	Key string `json:"key"`
	// Name is the department's full name (subject O, seal ring text).
	Name string `json:"name"`
	// USCC is the unified social credit code (统一社会信用代码), optional.
	USCC string `json:"uscc"`
}

// PKIOptions configures InitPKI.
type PKIOptions struct {
	// Password protects every private key file (required).
	Password []byte
	// City names the root CA ("<City> 电子证照根CA") and the seal maker.
	City string
	// Departments get a signer certificate, a QR key and a seal each.
	Departments []Department
	// SealName is written below the star; empty means "电子证照专用章".
	SealName string
	// Font is the CJK font (TTF/TTC bytes) for seal pictures (required
	// when a seal must be made).
	Font []byte
	// Rand is the randomness source (required), Now the current time
	// (required): packages never read the clock themselves.
	Rand io.Reader
	Now  time.Time
	// ValidYears is the validity of certificates and seals; 0 means 5
	// (the root gets twice as long).
	ValidYears int
	// KeyProtection sets the key file KDF cost; nil means the default.
	KeyProtection *KeyProtection
}

// PKI is a loaded demo PKI directory: city root CA → seal maker (制章)
// → per-department signer (签章) certificates, QR keys and seals. Its keys
// are decrypted when first used (see LoadPKI, Unlock and CheckPassword).
type PKI struct {
	// Dir is the directory the PKI lives in.
	Dir string
	// Root is the city root CA certificate (trust anchor).
	Root *Certificate
	// SealMaker is the seal maker certificate.
	SealMaker    *Certificate
	rootKey      crypto.Signer
	sealMakerKey crypto.Signer
	// Departments by key.
	Departments map[string]*DepartmentPKI
}

// DepartmentPKI holds one department's keys, certificates and seal. Keys
// loaded by LoadPKI are decrypted at their first Sign (see LoadPKI).
type DepartmentPKI struct {
	Department
	// SignerCert / SignerKey make the document signatures.
	SignerCert *Certificate
	SignerKey  crypto.Signer
	// QRKey signs QR tokens; QRCert certifies it (issued by the root).
	QRKey  crypto.Signer
	QRCert *Certificate
	// Seal is the department's default seal (DER, V4).
	Seal []byte
}

// File names inside a PKI directory.
const (
	pkiRootCert      = "root.crt"
	pkiRootKey       = "root.key"
	pkiMakerCert     = "sealmaker.crt"
	pkiMakerKey      = "sealmaker.key"
	pkiManifest      = "pki.json"
	pkiSignerCert    = "signer.crt"
	pkiSignerKey     = "signer.key"
	pkiQRCert        = "qr.crt"
	pkiQRKey         = "qr.key"
	pkiQRPub         = "qr.pub"
	pkiSeal          = "seal.esl"
	pkiSealPNG       = "seal.png"
	defaultSealName  = "电子证照专用章"
	pkiManifestV     = 1
	keyFileMode      = 0o600
	publicFileMode   = 0o644
	pkiDirectoryMode = 0o700
)

var deptKeyRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

type pkiManifestFile struct {
	SchemaVersion int          `json:"schemaVersion"`
	City          string       `json:"city"`
	Created       time.Time    `json:"created"`
	Departments   []Department `json:"departments"`
}

// InitPKI creates the demo PKI under dir, or loads it when dir already holds
// one (then departments of opts missing from it are added; existing files
// are never overwritten). Keys are written as encrypted PKCS#8 (mode 0600).
func InitPKI(dir string, opts PKIOptions) (*PKI, error) {
	if len(opts.Password) == 0 || opts.Rand == nil || opts.Now.IsZero() {
		return nil, fmt.Errorf("%w: password, Rand and Now are required", ErrPKI)
	}
	for _, d := range opts.Departments {
		if !deptKeyRE.MatchString(d.Key) || d.Name == "" {
			return nil, fmt.Errorf("%w: department key %q must match %s and have a name", ErrPKI, d.Key, deptKeyRE)
		}
	}
	if opts.ValidYears == 0 {
		opts.ValidYears = 5
	}
	if opts.SealName == "" {
		opts.SealName = defaultSealName
	}
	if opts.City == "" {
		opts.City = "市"
	}
	if _, err := os.Stat(filepath.Join(dir, pkiManifest)); err == nil {
		p, err := LoadPKI(dir, opts.Password)
		if err != nil {
			return nil, err
		}
		return p, p.addDepartments(opts)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", ErrPKI, err)
	}
	if err := os.MkdirAll(dir, pkiDirectoryMode); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPKI, err)
	}
	p := &PKI{Dir: dir, Departments: map[string]*DepartmentPKI{}}
	var err error
	nb := opts.Now.Add(-time.Hour)
	if p.rootKey, err = GenerateKey(opts.Rand); err != nil {
		return nil, err
	}
	if p.Root, err = IssueCertificate(opts.Rand, CertTemplate{
		Role: RoleRootCA, CommonName: opts.City + "电子证照根CA", Organization: opts.City + "人民政府",
		Serial: serial(opts.Rand), NotBefore: nb, NotAfter: opts.Now.AddDate(2*opts.ValidYears, 0, 0),
	}, p.rootKey.Public(), nil, p.rootKey); err != nil {
		return nil, err
	}
	if p.sealMakerKey, err = GenerateKey(opts.Rand); err != nil {
		return nil, err
	}
	if p.SealMaker, err = IssueCertificate(opts.Rand, CertTemplate{
		Role: RoleSealMaker, CommonName: opts.City + "电子印章制章系统", Organization: opts.City + "人民政府",
		Serial: serial(opts.Rand), NotBefore: nb, NotAfter: opts.Now.AddDate(opts.ValidYears, 0, 0),
	}, p.sealMakerKey.Public(), p.Root, p.rootKey); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		c    *Certificate
		k    crypto.Signer
		kf   string
	}{{pkiRootCert, p.Root, p.rootKey, pkiRootKey}, {pkiMakerCert, p.SealMaker, p.sealMakerKey, pkiMakerKey}} {
		if err := writeFile(filepath.Join(dir, f.name), f.c.PEM(), publicFileMode); err != nil {
			return nil, err
		}
		if err := writeKey(filepath.Join(dir, f.kf), f.k, opts); err != nil {
			return nil, err
		}
	}
	m := pkiManifestFile{SchemaVersion: pkiManifestV, City: opts.City, Created: opts.Now.UTC()}
	if err := p.writeManifest(m); err != nil {
		return nil, err
	}
	return p, p.addDepartments(opts)
}

func serial(r io.Reader) *big.Int {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return big.NewInt(1)
	}
	b[0] &= 0x7f
	b[0] |= 0x01
	return new(big.Int).SetBytes(b)
}

func (p *PKI) writeManifest(m pkiManifestFile) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPKI, err)
	}
	path := filepath.Join(p.Dir, pkiManifest)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), publicFileMode); err != nil {
		return fmt.Errorf("%w: %w", ErrPKI, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("%w: %w", ErrPKI, err)
	}
	return nil
}

func (p *PKI) readManifest() (pkiManifestFile, error) {
	var m pkiManifestFile
	b, err := os.ReadFile(filepath.Join(p.Dir, pkiManifest))
	if err != nil {
		return m, fmt.Errorf("%w: %w", ErrPKI, err)
	}
	if err := json.Unmarshal(b, &m); err != nil || m.SchemaVersion != pkiManifestV {
		return m, fmt.Errorf("%w: manifest unreadable or of another schema version", ErrPKI)
	}
	return m, nil
}

func (p *PKI) addDepartments(opts PKIOptions) error {
	m, err := p.readManifest()
	if err != nil {
		return err
	}
	changed := false
	for _, d := range opts.Departments {
		if _, ok := p.Departments[d.Key]; ok {
			continue
		}
		dp, err := p.newDepartment(d, opts)
		if err != nil {
			return err
		}
		p.Departments[d.Key] = dp
		m.Departments = append(m.Departments, d)
		changed = true
	}
	if changed {
		return p.writeManifest(m)
	}
	return nil
}

func (p *PKI) newDepartment(d Department, opts PKIOptions) (*DepartmentPKI, error) {
	if p.sealMakerKey == nil || p.rootKey == nil {
		return nil, fmt.Errorf("%w: keys not loaded", ErrPKI)
	}
	if err := p.Unlock(p.rootKey, p.sealMakerKey); err != nil {
		return nil, err
	}
	dir := filepath.Join(p.Dir, d.Key)
	if err := os.MkdirAll(dir, pkiDirectoryMode); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPKI, err)
	}
	dp := &DepartmentPKI{Department: d}
	nb := opts.Now.Add(-time.Hour)
	na := opts.Now.AddDate(opts.ValidYears, 0, 0)
	if na.After(p.SealMaker.NotAfter()) {
		na = p.SealMaker.NotAfter()
	}
	var err error
	if dp.SignerKey, err = GenerateKey(opts.Rand); err != nil {
		return nil, err
	}
	if dp.SignerCert, err = IssueCertificate(opts.Rand, CertTemplate{
		Role: RoleSigner, CommonName: d.Name + "电子签章", Organization: d.Name, USCC: d.USCC,
		Serial: serial(opts.Rand), NotBefore: nb, NotAfter: na,
	}, dp.SignerKey.Public(), p.Root, p.rootKey); err != nil {
		return nil, err
	}
	if dp.QRKey, err = GenerateKey(opts.Rand); err != nil {
		return nil, err
	}
	if dp.QRCert, err = IssueCertificate(opts.Rand, CertTemplate{
		Role: RoleQR, CommonName: d.Name + "二维码签名", Organization: d.Name, USCC: d.USCC,
		Serial: serial(opts.Rand), NotBefore: nb, NotAfter: na,
	}, dp.QRKey.Public(), p.Root, p.rootKey); err != nil {
		return nil, err
	}
	pic, err := RenderSealPicture(SealPictureSpec{Font: opts.Font, Organization: d.Name, Name: opts.SealName})
	if err != nil {
		return nil, err
	}
	esid := fmt.Sprintf("%X", serial(opts.Rand).Bytes())
	if dp.Seal, err = MakeSeal(opts.Rand, SealSpec{
		ESID: esid, VID: "elicense", Type: 1, Name: d.Name + opts.SealName,
		CreateDate: opts.Now, ValidStart: nb, ValidEnd: na,
	}, p.sealMakerKey, p.SealMaker, []*Certificate{dp.SignerCert}, pic); err != nil {
		return nil, err
	}
	pubDER, err := MarshalPublicKey(dp.QRKey.Public())
	if err != nil {
		return nil, err
	}
	for _, w := range []struct {
		name string
		data []byte
	}{
		{pkiSignerCert, dp.SignerCert.PEM()}, {pkiQRCert, dp.QRCert.PEM()},
		{pkiQRPub, pemEncode(pemPublicKey, pubDER)}, {pkiSeal, dp.Seal}, {pkiSealPNG, pic.Data},
	} {
		if err := writeFile(filepath.Join(dir, w.name), w.data, publicFileMode); err != nil {
			return nil, err
		}
	}
	if err := writeKey(filepath.Join(dir, pkiSignerKey), dp.SignerKey, opts); err != nil {
		return nil, err
	}
	if err := writeKey(filepath.Join(dir, pkiQRKey), dp.QRKey, opts); err != nil {
		return nil, err
	}
	return dp, nil
}

func writeKey(path string, k crypto.Signer, opts PKIOptions) error {
	b, err := EncryptKeyPEM(k, opts.Password, opts.Rand, opts.KeyProtection)
	if err != nil {
		return err
	}
	return writeFile(path, b, keyFileMode)
}

// writeFile creates path exclusively (never overwrites) with the given mode.
func writeFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPKI, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("%w: %w", ErrPKI, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%w: %w", ErrPKI, err)
	}
	return nil
}

// LoadPKI reads a PKI directory made by InitPKI and checks that every
// certificate is issued by the root and every seal parses, is signed by the
// seal maker and lists its department's signer certificate. It reads the
// key files but does not decrypt them: each key's Public comes from its
// certificate, and its first Sign decrypts the file with password (the PKI
// keeps a copy of it), so a wrong password (ErrBadPassword) or a key that
// does not match its certificate (ErrPKI) surfaces from Sign, or earlier
// from CheckPassword or Unlock.
func LoadPKI(dir string, password []byte) (*PKI, error) {
	p := &PKI{Dir: dir, Departments: map[string]*DepartmentPKI{}}
	password = append([]byte(nil), password...)
	m, err := p.readManifest()
	if err != nil {
		return nil, err
	}
	if p.Root, err = loadCert(filepath.Join(dir, pkiRootCert)); err != nil {
		return nil, err
	}
	if p.SealMaker, err = loadCert(filepath.Join(dir, pkiMakerCert)); err != nil {
		return nil, err
	}
	if p.rootKey, err = newFileKey(filepath.Join(dir, pkiRootKey), password, p.Root); err != nil {
		return nil, err
	}
	if p.sealMakerKey, err = newFileKey(filepath.Join(dir, pkiMakerKey), password, p.SealMaker); err != nil {
		return nil, err
	}
	if err := p.Root.CheckSignatureFrom(p.Root); err != nil {
		return nil, fmt.Errorf("%w: root certificate not self-signed: %w", ErrPKI, err)
	}
	if err := p.SealMaker.CheckSignatureFrom(p.Root); err != nil {
		return nil, fmt.Errorf("%w: seal maker not issued by root: %w", ErrPKI, err)
	}
	for _, d := range m.Departments {
		dd := filepath.Join(dir, d.Key)
		dp := &DepartmentPKI{Department: d}
		if dp.SignerCert, err = loadCert(filepath.Join(dd, pkiSignerCert)); err != nil {
			return nil, err
		}
		if dp.QRCert, err = loadCert(filepath.Join(dd, pkiQRCert)); err != nil {
			return nil, err
		}
		for _, c := range []struct {
			name string
			cert *Certificate
		}{{pkiSignerCert, dp.SignerCert}, {pkiQRCert, dp.QRCert}} {
			if err := c.cert.CheckSignatureFrom(p.Root); err != nil {
				return nil, fmt.Errorf("%w: %s %s not issued by root: %w", ErrPKI, d.Key, c.name, err)
			}
		}
		if dp.SignerKey, err = newFileKey(filepath.Join(dd, pkiSignerKey), password, dp.SignerCert); err != nil {
			return nil, err
		}
		if dp.QRKey, err = newFileKey(filepath.Join(dd, pkiQRKey), password, dp.QRCert); err != nil {
			return nil, err
		}
		if dp.Seal, err = os.ReadFile(filepath.Join(dd, pkiSeal)); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrPKI, err)
		}
		s, err := ParseSeal(dp.Seal)
		if err != nil {
			return nil, fmt.Errorf("%w: %s seal: %w", ErrPKI, d.Key, err)
		}
		if bindingCheck(s, dp.SignerCert.Raw()).Status != StatusPass {
			return nil, fmt.Errorf("%w: %s seal does not list the signer certificate", ErrPKI, d.Key)
		}
		if !bytes.Equal(s.MakerCert, p.SealMaker.Raw()) || !VerifyMessage(p.SealMaker.PublicKey(), s.SignedMessage, s.SignedValue) {
			return nil, fmt.Errorf("%w: %s seal is not signed by the seal maker", ErrPKI, d.Key)
		}
		p.Departments[d.Key] = dp
	}
	return p, nil
}

func loadCert(path string) (*Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPKI, err)
	}
	cs, err := ParseCertificatesPEM(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrPKI, filepath.Base(path), err)
	}
	return cs[0], nil
}

// RootPEM returns the root CA certificate as PEM (what `pki root` prints).
func (p *PKI) RootPEM() []byte { return p.Root.PEM() }

// Roots returns a pool holding only the PKI's root certificate.
func (p *PKI) Roots() *CertPool {
	pool := NewCertPool()
	pool.Add(p.Root)
	return pool
}

// Department returns the department with the given key.
func (p *PKI) Department(key string) (*DepartmentPKI, bool) {
	d, ok := p.Departments[key]
	return d, ok
}

// QRPublicKeyDER returns the DER SubjectPublicKeyInfo of the QR key.
func (d *DepartmentPKI) QRPublicKeyDER() ([]byte, error) {
	return MarshalPublicKey(d.QRKey.Public())
}

// NewSealer returns a Sealer for the department's default seal and signer
// key.
func (d *DepartmentPKI) NewSealer(opts SealerOptions) (*Sealer, error) {
	return NewSealer(d.Seal, d.SignerKey, d.SignerCert, opts)
}
