package signer_test

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"elicense/signer"
)

// cjkFont returns the installed WenQuanYi Micro Hei collection, skipping
// when it is absent (fonts-wqy-microhei).
func cjkFont(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CJK font missing: %v", err)
		}
		t.Skipf("CJK font absent: %v", err)
	}
	return b
}

func TestRenderSealPicture(t *testing.T) {
	font := cjkFont(t)
	tests := []struct {
		name, org, seal string
	}{
		{"short", "市市场监督管理局", "电子证照专用章"},
		{"long", "某某市人力资源和社会保障局行政审批科", "电子证照专用章"},
		{"noName", "市民政局", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pic, err := signer.RenderSealPicture(signer.SealPictureSpec{Font: font, Organization: tc.org, Name: tc.seal})
			if err != nil {
				t.Fatal(err)
			}
			if dir := os.Getenv("SEAL_PNG_DIR"); dir != "" {
				os.WriteFile(filepath.Join(dir, tc.name+".png"), pic.Data, 0o644)
			}
			img, err := png.Decode(bytes.NewReader(pic.Data))
			if err != nil {
				t.Fatal(err)
			}
			b := img.Bounds()
			if b.Dx() != 497 || pic.Width != 42 {
				t.Fatalf("size %v / %d mm", b, pic.Width)
			}
			if _, _, _, a := img.At(2, 2).RGBA(); a != 0 {
				t.Fatal("corner not transparent")
			}
			if r, g, _, a := img.At(b.Dx()/2, b.Dy()/2).RGBA(); a == 0 || r < g {
				t.Fatal("centre (star) not red")
			}
			t.Logf("%d bytes", len(pic.Data))
		})
	}
}
