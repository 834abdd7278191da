package boltstore

import (
	"bytes"
	"fmt"
	"os"
	"strconv"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// ReleaseMapped tells the kernel that the pages of the store's memory map
// are not needed for now: they leave the process's resident set and stay
// in the page cache, from which the next read maps them again with a minor
// fault. The map is shared and read-only and bbolt writes with pwrite, so
// this changes no byte any reader sees.
//
// Without it every page a lookup or an insert ever touched, and the
// neighbours the kernel maps around it on each fault, stays resident, so a
// long batch's RSS grows with the registry file. Batch commits and long
// journal walks therefore release the map whenever the process's resident
// file-backed memory passes Options.MappedBudget (trimMapped); releasing
// after every commit would keep it lower but re-fault the same pages over
// and over.
func (s *Store) ReleaseMapped() error {
	return s.db.View(func(tx *bolt.Tx) error { return s.releaseMapped(tx) })
}

// releaseMapped is ReleaseMapped inside the transaction tx, which keeps the
// map from being replaced and sees no more than the map holds.
func (s *Store) releaseMapped(tx *bolt.Tx) error {
	size := uintptr(tx.Size())
	if size == 0 {
		return nil
	}
	if _, _, errno := unix.Syscall(unix.SYS_MADVISE, s.db.Info().Data, size, unix.MADV_DONTNEED); errno != 0 {
		return fmt.Errorf("boltstore: release mapped pages: %w", errno)
	}
	return nil
}

// trimMapped releases the map inside tx when the process's resident
// file-backed memory exceeds the store's budget.
func (s *Store) trimMapped(tx *bolt.Tx) error {
	if s.mappedBudget <= 0 {
		return nil
	}
	if n, ok := residentShared(); ok && n <= s.mappedBudget {
		return nil
	}
	return s.releaseMapped(tx)
}

// residentShared returns the process's resident file-backed and shared
// memory in bytes (the third field of /proc/self/statm, in pages).
func residentShared() (int64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return 0, false
	}
	pages, err := strconv.ParseInt(string(f[2]), 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}
