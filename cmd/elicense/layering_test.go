package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering enforces the package rules of the house style on the non-test
// imports of every package: the domain core imports only the standard library,
// imports flow catalog ← {templates, signer, boltstore} ← verify ← api ← cmd,
// and bbolt, gmsm and gin each have exactly one home.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "elicense/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	// Project packages each layer may import (prefix match on elicense/...).
	allowed := map[string][]string{
		"elicense/catalog":   {"elicense/catalog"},
		"elicense/templates": {"elicense/catalog", "elicense/templates"},
		"elicense/signer":    {"elicense/catalog", "elicense/signer"},
		"elicense/verify":    {"elicense/catalog", "elicense/signer", "elicense/verify"},
		"elicense/api":       {"elicense/catalog", "elicense/signer", "elicense/templates", "elicense/verify", "elicense/api"},
		"elicense/cmd":       {"elicense/"},
	}
	homes := map[string]string{
		"go.etcd.io/bbolt":             "elicense/catalog/boltstore",
		"github.com/emmansun/gmsm":     "elicense/signer",
		"github.com/gin-gonic/gin":     "elicense/api",
		"github.com/tjfoc/gmsm":        "(tests only)",
		"github.com/spf13/cobra":       "elicense/cmd",
		"github.com/fxamacker/cbor/v2": "elicense/signer",
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg, imps := f[0], f[1:]
		layer := ""
		for l := range allowed {
			if (pkg == l || strings.HasPrefix(pkg, l+"/")) && len(l) > len(layer) {
				layer = l
			}
		}
		if layer == "" {
			t.Errorf("%s is outside the known layers", pkg)
			continue
		}
		checked++
		for _, imp := range imps {
			for lib, home := range homes {
				if (imp == lib || strings.HasPrefix(imp, lib+"/")) && !(pkg == home || strings.HasPrefix(pkg, home+"/")) {
					t.Errorf("%s imports %s, whose only home is %s", pkg, imp, home)
				}
			}
			if strings.HasPrefix(imp, "elicense/") {
				ok := false
				for _, a := range allowed[layer] {
					ok = ok || imp == a || strings.HasPrefix(imp, strings.TrimSuffix(a, "/")+"/") || strings.HasSuffix(a, "/") && strings.HasPrefix(imp, a)
				}
				// boltstore and filestore are adapters: they import only catalog.
				if layer == "elicense/catalog" && pkg != "elicense/catalog/catalogtest" && imp != "elicense/catalog" {
					ok = false
				}
				if !ok {
					t.Errorf("%s (layer %s) may not import %s", pkg, layer, imp)
				}
				continue
			}
			if layer == "elicense/catalog" && pkg == "elicense/catalog" && strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
				t.Errorf("the domain core imports %s: standard library only", imp)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("checked only %d packages", checked)
	}
}
