package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"elicense/catalog"
	"elicense/signer"
)

// ManifestFormat names version 1 of the batch manifest (docs/formats.md,
// "Batch manifest").
const ManifestFormat = "elicense-batch-manifest/1"

// manifestEnvelope is the file: the signed payload travels as base64 so
// that a verifier checks the signature over exactly the bytes signed.
type manifestEnvelope struct {
	Format      string `json:"format"`
	Payload     string `json:"payload"`     // base64 of the manifest JSON (UTF-8)
	Algorithm   string `json:"algorithm"`   // "SM2-SM3"
	Signature   string `json:"signature"`   // base64 of the DER SM2 signature over the payload bytes
	Certificate string `json:"certificate"` // base64 of the DER signer certificate
	// Licenses lists what the batch issued, by row. It is outside the signed
	// payload (which would otherwise grow with the batch) and bound to it
	// by merkle.root: a changed list gives another root.
	Licenses []manifestLicense `json:"licenses"`
}

type manifestLicense struct {
	Row    int    `json:"row"`
	ID     string `json:"id"`
	Digest string `json:"digest"` // lower-case hex SM3 of the sealed file
}

type batchManifest struct {
	Format  string `json:"format"`
	BatchID string `json:"batchId"`
	Type    struct {
		Key  string `json:"key"`
		Code string `json:"code"`
		Name string `json:"name"`
	} `json:"type"`
	Department struct {
		Key  string `json:"key"`
		Name string `json:"name"`
		USCC string `json:"uscc"`
	} `json:"department"`
	Source struct {
		Name string `json:"name"`
		SM3  string `json:"sm3"`
	} `json:"source"`
	Counts struct {
		Rows     int `json:"rows"`
		Issued   int `json:"issued"`
		Existing int `json:"existing"`
		Rejected int `json:"rejected"`
	} `json:"counts"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Runs     int       `json:"runs"`
	Merkle   struct {
		Hash   string `json:"hash"`
		Leaf   string `json:"leaf"`
		Node   string `json:"node"`
		Order  string `json:"order"`
		Leaves int    `json:"leaves"`
		Root   string `json:"root"`
	} `json:"merkle"`
	Licenses []manifestLicense `json:"-"` // from the envelope, filled by verifyManifest
}

// writeManifest builds the manifest of b from the journal (every license the
// batch issued, over all its runs, in row order), signs it with the
// department's signer key and writes it to path.
func (a *app) writeManifest(ctx context.Context, b *catalog.Batch, t *catalog.LicenseType, p catalog.BatchProgress, path string) (*batchManifest, error) {
	pki, err := a.PKI(ctx, false)
	if err != nil {
		return nil, err
	}
	dp, ok := pki.Department(b.DeptKey)
	if !ok {
		return nil, fmt.Errorf("department %q has no keys", b.DeptKey)
	}
	d, err := a.store.GetDepartment(ctx, b.DeptKey)
	if err != nil {
		return nil, err
	}
	m := &batchManifest{Format: ManifestFormat, BatchID: b.ID, Started: b.Started.UTC(), Finished: b.Finished.UTC(), Runs: b.Runs}
	m.Type.Key, m.Type.Code, m.Type.Name = t.Key, t.Code, t.Name
	m.Department.Key, m.Department.Name, m.Department.USCC = d.Key, d.Name, d.USCC
	m.Source.Name, m.Source.SM3 = b.SourceName, b.SourceDigest
	var leaves [][]byte // 32 bytes a license: the list itself is streamed below
	err = a.store.BatchEntries(ctx, b.ID, func(e catalog.BatchEntry) error {
		raw, err := hex.DecodeString(e.Digest)
		if err != nil || len(raw) != 32 {
			return fmt.Errorf("row %d: bad digest %q", e.Row, e.Digest)
		}
		leaves = append(leaves, raw)
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.Counts.Rows, m.Counts.Issued, m.Counts.Existing, m.Counts.Rejected = p.Done, len(leaves), p.Existing-p.Resumed, p.Rejected
	setMerkle(m, leaves)
	leaves = nil
	payload, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	sig, err := signer.SignMessage(dp.SignerKey, rand.Reader, payload)
	if err != nil {
		return nil, err
	}
	env := manifestEnvelope{Format: ManifestFormat, Payload: base64.StdEncoding.EncodeToString(payload), Algorithm: "SM2-SM3",
		Signature: base64.StdEncoding.EncodeToString(sig), Certificate: base64.StdEncoding.EncodeToString(dp.SignerCert.Raw())}
	head, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, err
	}
	// Stream the envelope: its head without the closing "licenses": null }, then the list.
	head = bytes.TrimSuffix(bytes.TrimRight(head, "\n}"), []byte("null"))
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	w := bufio.NewWriterSize(f, 256<<10)
	w.Write(head)
	w.WriteString("[")
	n := 0
	err = a.store.BatchEntries(ctx, b.ID, func(e catalog.BatchEntry) error {
		line, err := json.Marshal(manifestLicense{Row: e.Row, ID: e.ID, Digest: e.Digest})
		if n > 0 {
			w.WriteString(",")
		}
		w.WriteString("\n    ")
		n++
		_, werr := w.Write(line)
		return errors.Join(err, werr)
	})
	w.WriteString("\n  ]\n}\n")
	if err = errors.Join(err, w.Flush(), f.Sync(), f.Close()); err != nil {
		return nil, err
	}
	return m, os.Rename(tmp, path)
}

func setMerkle(m *batchManifest, leaves [][]byte) {
	m.Merkle.Hash = "SM3"
	m.Merkle.Leaf = "SM3(0x00 || digest)"
	m.Merkle.Node = "SM3(0x01 || left || right)"
	m.Merkle.Order = "row; an odd last node is promoted"
	m.Merkle.Leaves = len(leaves)
	m.Merkle.Root = hex.EncodeToString(catalog.MerkleRoot(signer.NewSM3, leaves))
}

func newBatchVerifyCommand(g *globalFlags) *cobra.Command {
	var dir, root string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify MANIFEST [--dir DIR] [--root ROOT.pem]",
		Short: "Check a batch manifest: signature, chain to the city root, Merkle root; with --dir every file's SM3",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if root == "" {
				cfg, err := loadConfig(g, cmd.Flags())
				if err != nil {
					return err
				}
				root = filepath.Join(cfg.DataDir, "pki", "root.crt")
			}
			rootPEM, err := os.ReadFile(root)
			if err != nil {
				return usageErr(fmt.Errorf("city root certificate: %w (give --root)", err))
			}
			raw, err := os.ReadFile(args[0])
			if err != nil {
				return usageErr(err)
			}
			m, problems, err := verifyManifest(raw, rootPEM, dir)
			if err != nil {
				return usageErr(err)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				writeJSON(w, map[string]any{"ok": len(problems) == 0, "problems": problems, "batchId": m.BatchID,
					"counts": m.Counts, "merkleRoot": m.Merkle.Root})
			} else {
				fmt.Fprintf(w, "batch %s: %s %s by %s (%s), source %s\n", m.BatchID, m.Type.Key, m.Type.Name, m.Department.Name, m.Department.USCC, m.Source.Name)
				fmt.Fprintf(w, "rows %d: issued %d, existing %d, rejected %d; %s → %s\n", m.Counts.Rows, m.Counts.Issued, m.Counts.Existing, m.Counts.Rejected,
					m.Started.Format(time.RFC3339), m.Finished.Format(time.RFC3339))
				for _, p := range problems {
					fmt.Fprintln(w, "FAIL", p)
				}
				if len(problems) == 0 {
					what := "signature, certificate chain and Merkle root"
					if dir != "" {
						what += fmt.Sprintf(", %d files", len(m.Licenses))
					}
					fmt.Fprintf(w, "OK: %s verified (root %s)\n", what, m.Merkle.Root)
				}
			}
			if len(problems) > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "folder of the license files (<identifier>.pdf, flat as written by --out, or the registry's files/ folder)")
	cmd.Flags().StringVar(&root, "root", "", "city root certificate, PEM (default <data-dir>/pki/root.crt)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// verifyManifest checks the envelope and returns the manifest and the
// problems found; err is for input that is not a manifest at all.
func verifyManifest(raw, rootPEM []byte, dir string) (*batchManifest, []string, error) {
	var env manifestEnvelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, nil, fmt.Errorf("not a batch manifest: %w", err)
	}
	if env.Format != ManifestFormat {
		return nil, nil, fmt.Errorf("not a batch manifest: format %q", env.Format)
	}
	payload, err1 := base64.StdEncoding.DecodeString(env.Payload)
	sig, err2 := base64.StdEncoding.DecodeString(env.Signature)
	certDER, err3 := base64.StdEncoding.DecodeString(env.Certificate)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, nil, fmt.Errorf("batch manifest: %w", err)
	}
	var m batchManifest
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, nil, fmt.Errorf("batch manifest payload: %w", err)
	}
	m.Licenses = env.Licenses
	var problems []string
	cert, err := signer.ParseCertificate(certDER)
	if err != nil {
		return &m, []string{"signer certificate: " + err.Error()}, nil
	}
	if env.Algorithm != "SM2-SM3" || !signer.VerifyMessage(cert.PublicKey(), payload, sig) {
		problems = append(problems, "signature: does not verify with the signer certificate")
	}
	roots, err := signer.ParseCertificatesPEM(rootPEM)
	if err != nil || len(roots) == 0 {
		return nil, nil, fmt.Errorf("city root certificate: %v", err)
	}
	pool := signer.NewCertPool()
	for _, r := range roots {
		pool.Add(r)
	}
	if _, err := cert.Verify(pool, nil, m.Finished); err != nil {
		problems = append(problems, "certificate: no chain to the city root at "+m.Finished.Format(time.RFC3339)+": "+err.Error())
	}
	var leaves [][]byte
	for _, l := range m.Licenses {
		d, err := hex.DecodeString(l.Digest)
		if err != nil || len(d) != 32 {
			problems = append(problems, fmt.Sprintf("row %d: bad digest %q", l.Row, l.Digest))
		}
		leaves = append(leaves, d)
	}
	if got := hex.EncodeToString(catalog.MerkleRoot(signer.NewSM3, leaves)); got != m.Merkle.Root || len(leaves) != m.Merkle.Leaves || len(leaves) != m.Counts.Issued {
		problems = append(problems, fmt.Sprintf("merkle: the licenses listed give root %s over %d leaves, the manifest says %s over %d", got, len(leaves), m.Merkle.Root, m.Merkle.Leaves))
	}
	if dir != "" {
		for _, l := range m.Licenses {
			data, err := readLicenseFile(dir, l.ID)
			if err != nil {
				problems = append(problems, fmt.Sprintf("row %d: %s: %v", l.Row, l.ID, err))
				continue
			}
			h := signer.NewSM3()
			h.Write(data)
			if got := hex.EncodeToString(h.Sum(nil)); got != l.Digest {
				problems = append(problems, fmt.Sprintf("row %d: %s: file SM3 %s, manifest %s", l.Row, l.ID, got, l.Digest))
			}
		}
	}
	return &m, problems, nil
}

// readLicenseFile finds <id>.pdf flat in dir or in the registry's sharded
// layout (<dir>/<last two serial digits>/<id>.pdf).
func readLicenseFile(dir, id string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(dir, id+".pdf"))
	if err == nil {
		return data, nil
	}
	if p, _, perr := catalog.ParseIdentifier(id); perr == nil && len(p.Serial) >= 2 {
		if d2, err2 := os.ReadFile(filepath.Join(dir, p.Serial[len(p.Serial)-2:], id+".pdf")); err2 == nil {
			return d2, nil
		}
	}
	return nil, err
}
