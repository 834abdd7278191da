// Package rawpdf is a strict, small PDF reader working directly on a []byte.
//
// It reads the header, the startxref pointer, classic cross-reference tables
// and cross-reference streams, the /Prev chain of incremental updates,
// indirect objects (also inside object streams), all direct object types and
// stream data located through /Length (direct or indirect). FlateDecode with
// PNG predictors is the only filter, bounded by Limits.
//
// Revisions are exposed (File.Revisions, oldest first) with the objects each
// one defines and the offset of its end (after "%%EOF"), so a verifier can
// check that a signature covers a whole revision and see what later
// revisions changed, and a signer can append one incremental update.
//
// Non-goals and caveats: there is no repair. A wrong offset, a wrong
// /Length, a missing "endobj" or a /Prev loop is an error, as are encrypted
// files and hybrid-reference files (/XRefStm). Objects are parsed lazily and
// cached; nothing of the input is copied, so the caller must not modify the
// slice while a File is in use. A File is not safe for concurrent use.
// Content streams are not interpreted. Panics inside Parse are recovered into
// ErrSyntax; Resolve returns errors for malformed objects.
package rawpdf
