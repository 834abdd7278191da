package api

import (
	"bytes"
	"encoding/base64"
	"image"
	"os"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// TestFindQRHardCodes: dynamic codes (version 10) that gozxing's detector
// alone misreads, drawn as the 出示 page draws them, are all read by
// findQR, as zbar reads them.
func TestFindQRHardCodes(t *testing.T) {
	raw, err := os.ReadFile("testdata/qr-hard-codes.txt")
	if err != nil {
		t.Fatal(err)
	}
	texts := strings.Fields(string(raw))
	if len(texts) < 5 {
		t.Fatalf("%d codes in the file", len(texts))
	}
	for i, text := range texts {
		u, err := qrDataURL(text)
		if err != nil {
			t.Fatal(err)
		}
		png, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(u, "data:image/png;base64,"))
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(bytes.NewReader(png))
		if err != nil {
			t.Fatal(err)
		}
		// The plain detector fails on each (what made them hard).
		bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
		if _, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true}); err == nil {
			t.Errorf("code %d: read without the fallbacks; it no longer tests them", i)
		}
		got, err := decodeQRImage(png)
		if err != nil || got != text {
			t.Errorf("code %d: %v, read %.40q", i, err, got)
		}
	}
}
