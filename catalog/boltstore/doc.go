// Package boltstore implements catalog.Store in one bbolt file; it is the only
// importer of go.etcd.io/bbolt.
//
// Each record is a private JSON struct carrying a schemaVersion; the indexes
// (digest, holder code, license number, batch, type, status, status-list
// index) are written in the same transaction as the record, so a crash never
// leaves an index without its record or the reverse.
//
// # Caveats
//
// bbolt lets one process hold the file. Open waits Options.Timeout for the
// lock and then fails with an error wrapping catalog.ErrLocked ("locked by
// another elicense process"), so a second command fails fast rather than
// hanging. Values read inside a transaction are copied out before it ends.
package boltstore
