// Package templates turns a license's department data into a standard-layout
// PDF: the template format, the embedded demo license types, pre-render
// checks, the CJK font subsetter, the QR code and the PDF writer.
//
// # Basics
//
// Load parses the embedded templates (defaults/*.json), any override files
// (<OverrideDir>/<key>.json) and one TrueType font found on Options.FontPaths
// (DefaultFontPaths when empty). The font file is read and parsed once per
// process. Engine.Check validates a data row before issue: the catalog rules
// (catalog.ValidateRow), font coverage of every character (CodeUncoveredChar)
// and the fit of every value in its field box (CodeOverflow), all problems at
// once. Engine.Render writes one license as a PDF 1.7 file: one page, classic
// xref table, no object streams, the font embedded as a Type0/CIDFontType2
// subset (Identity-H) holding only the glyphs drawn, a ToUnicode CMap for every
// glyph so text extracts exactly, GB/T 36903 metadata in the Info dictionary
// and in an XMP packet (namespace XMPNamespace), and the page entries
// /ELSealSlot and /ELQRSlot ([llx lly urx ury] in points) for the sealer.
//
// Output is deterministic: the same license and options give the same bytes;
// the document ID and the subset tag derive from the content, and dates come
// from the license (IssuedAt), never from the clock.
//
// # QR code
//
// RenderOptions.QRText is encoded by the package's own QR encoder (ISO/IEC
// 18004 model 2) at error correction level Q: the text is split into the
// numeric, alphanumeric and byte segments with the fewest bits (a printed
// token "HTTPS://HOST/V/<digits>" is one alphanumeric and one numeric
// segment), the smallest version that holds them is used (QRVersion reports
// it) and the mask with the lowest penalty score is applied. The symbol is
// drawn as vector rectangles with a 4-module quiet zone inside the QR slot.
// A text that no version holds makes Render fail with ErrRender.
//
// # Template files
//
// A template file is {"format":1,"type":{…},"layout":{…}}: the catalog entry
// of the license type (items with their data types) and the layout in
// millimetres from the top-left corner (page size, an optional background,
// static elements, field boxes bound to item keys or to $id, $issuer,
// $issued, and the seal, QR and photo slots). ParseTemplate rejects unknown
// JSON fields, elements outside the page, references to unknown items and
// items left without a field; it reads no files.
//
// # Background
//
// layout.background draws a PNG or JPEG image, or one page of a PDF (a
// designer's security-paper pattern), under everything else, scaled to the
// page or to a rect of the same shape, optionally with an opacity. The file
// lies next to the template file: under defaults/ for an embedded template,
// in Options.OverrideDir (read through an os.Root) for an override. Load
// reads it once and serialises it as PDF objects: an image XObject (a JPEG
// passed through as DCTDecode; a PNG deflated, its alpha as a soft mask), or
// a Form XObject holding the page's content with every object its resources
// reach (fonts as embedded, images, forms, graphics states, colour spaces)
// copied through pdfcpu's reader and renumbered. Render splices those bytes
// into every license unchanged, so a background costs a copy, not a
// rebuild; the file grows by the background's size. Encrypted PDFs, pages
// with annotations or form fields, optional content, external streams and a
// file whose shape differs from the rect are refused at Load.
//
// # Non-goals
//
// The package does not seal or sign (package signer stamps the seal into
// /ELSealSlot), does not store licenses and does not build QR tokens (the
// caller passes the QR text). It draws one page per template. A background
// is artwork: its text need not extract, and it cannot carry interactive
// features. Text is laid out left to right only, without kerning or
// shaping, which suits CJK and Latin license data.
//
// # Caveats
//
// Only TrueType outlines (glyf) are supported; CFF-flavoured OpenType fonts
// and characters missing from the font (e.g. many CJK Extension B characters
// with WenQuanYi Micro Hei) are reported by Check and refused by Render, never
// dropped. Render re-checks coverage and fit, so calling Render without Check
// cannot produce a clipped license. Panics (a malformed font) are recovered
// and returned as errors.
package templates
