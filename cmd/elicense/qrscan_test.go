package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestQRScanScript runs scripts/qr-scan.sh: the printed QR read by zbarimg
// from the page pdftoppm renders, checked offline, then failing after
// revocation.
func TestQRScanScript(t *testing.T) {
	for _, tool := range []string{"bash", "pdftoppm", "zbarimg"} {
		needTool(t, tool)
	}
	dir := demoData(t)
	bin := filepath.Join(t.TempDir(), "elicense")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command("bash", filepath.Join("..", "..", "scripts", "qr-scan.sh"), bin, dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "qr-scan: OK") {
		t.Fatalf("qr-scan.sh: %v\n%s", err, out)
	}
}
