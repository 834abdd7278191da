package qrtoken

import (
	"bytes"
	"compress/flate"
	"crypto"
	"fmt"
	"io"
	"time"
)

// Status-list sizes.
const (
	// StatusBlock is the growth step and the minimum size of a status list,
	// in entries: 131,072 entries, so a single index does not single out a
	// license among few (herd privacy).
	StatusBlock = 131072
	// MaxStatusEntries is the largest status list, in entries (128 blocks,
	// 4 MiB of bits).
	MaxStatusEntries = 128 * StatusBlock
	// StatusBits is the number of bits per entry.
	StatusBits = 2
	// MaxStatusListSize is the largest status-list document accepted.
	MaxStatusListSize = MaxStatusEntries/4 + 64<<10
)

// Flag is a set of status bits of one entry.
type Flag uint8

// Status bits. An entry with no bit set is in force.
const (
	// FlagRevoked (bit 0 of the entry): the license is revoked (注销).
	FlagRevoked Flag = 1
	// FlagSuspended (bit 1 of the entry): the license is suspended (停用).
	FlagSuspended Flag = 2
)

// StatusList is a bitstring of two bits per license, signed by the city
// root. Methods that change it are not safe for concurrent use; a parsed
// list that is only read is.
type StatusList struct {
	sequence uint64
	issued   time.Time
	bits     []byte // entry i: bits (i%4)*2 and (i%4)*2+1 of byte i/4
	root     KID
	signed   bool
}

// NewStatusList returns a list of size entries (a multiple of StatusBlock,
// at most MaxStatusEntries) with every entry in force.
func NewStatusList(size int) (*StatusList, error) {
	if err := checkStatusSize(size); err != nil {
		return nil, invalidf("%v", err)
	}
	return &StatusList{bits: make([]byte, size/4)}, nil
}

func checkStatusSize(size int) error {
	if size <= 0 || size%StatusBlock != 0 || size > MaxStatusEntries {
		return fmt.Errorf("size %d is not a positive multiple of %d up to %d", size, StatusBlock, MaxStatusEntries)
	}
	return nil
}

// Size returns the number of entries.
func (l *StatusList) Size() int { return len(l.bits) * 4 }

// Sequence returns the sequence number given to the last Sign, or read by
// ParseStatusList.
func (l *StatusList) Sequence() uint64 { return l.sequence }

// Issued returns the issue time given to the last Sign, or read by
// ParseStatusList.
func (l *StatusList) Issued() time.Time { return l.issued }

// Signed reports whether the list came from ParseStatusList, and the KID of
// the root key that signed it.
func (l *StatusList) Signed() (KID, bool) { return l.root, l.signed }

// Grow enlarges the list to size entries (a multiple of StatusBlock); new
// entries are in force. A smaller size is an error.
func (l *StatusList) Grow(size int) error {
	if err := checkStatusSize(size); err != nil {
		return invalidf("%v", err)
	}
	if size < l.Size() {
		return invalidf("cannot shrink a status list from %d to %d", l.Size(), size)
	}
	l.bits = append(l.bits, make([]byte, size/4-len(l.bits))...)
	return nil
}

func (l *StatusList) check(i int) error {
	if i < 0 || i >= l.Size() {
		return fmt.Errorf("%w: %d not in 0..%d", ErrIndexRange, i, l.Size()-1)
	}
	return nil
}

// Get returns the flags of entry i.
func (l *StatusList) Get(i int) (Flag, error) {
	if err := l.check(i); err != nil {
		return 0, err
	}
	return Flag(l.bits[i/4]>>(uint(i%4)*2)) & (FlagRevoked | FlagSuspended), nil
}

// Set sets the given flags of entry i; other flags are unchanged.
func (l *StatusList) Set(i int, f Flag) error {
	if err := l.check(i); err != nil {
		return err
	}
	l.bits[i/4] |= byte(f&(FlagRevoked|FlagSuspended)) << (uint(i%4) * 2)
	return nil
}

// Clear clears the given flags of entry i; other flags are unchanged.
func (l *StatusList) Clear(i int, f Flag) error {
	if err := l.check(i); err != nil {
		return err
	}
	l.bits[i/4] &^= byte(f&(FlagRevoked|FlagSuspended)) << (uint(i%4) * 2)
	return nil
}

// Status-list map keys.
const (
	slSequence = 1
	slIssued   = 2
	slBits     = 3
	slSize     = 4
	slData     = 5
)

// Sign records sequence and issued on the list and returns the status-list
// document signed by root (the city root key, through SignerOpts); rnd is
// handed to the key. The bits are compressed with raw DEFLATE (RFC 1951).
func (l *StatusList) Sign(root crypto.Signer, rnd io.Reader, sequence uint64, issued time.Time) ([]byte, error) {
	if issued.Unix() < 0 {
		return nil, invalidf("issue time before 1970")
	}
	var z bytes.Buffer
	w, err := flate.NewWriter(&z, flate.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("qrtoken: status list: %w", err)
	}
	if _, err := w.Write(l.bits); err != nil {
		return nil, fmt.Errorf("qrtoken: status list: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("qrtoken: status list: %w", err)
	}
	l.sequence, l.issued = sequence, time.Unix(issued.Unix(), 0).UTC()
	b := make([]byte, 0, z.Len()+48)
	b = appendHead(b, majorMap, 5)
	b = appendUint(b, slSequence)
	b = appendUint(b, l.sequence)
	b = appendUint(b, slIssued)
	b = appendUint(b, uint64(l.issued.Unix()))
	b = appendUint(b, slBits)
	b = appendUint(b, StatusBits)
	b = appendUint(b, slSize)
	b = appendUint(b, uint64(l.Size()))
	b = appendUint(b, slData)
	b = appendBytes(b, z.Bytes())
	return signDoc(StatusListContext, b, root, rnd)
}

// ParseStatusList parses a status-list document strictly and verifies its
// signature with root. Errors wrap ErrMalformed (and the specific parse
// sentinels) or ErrBadSignature.
func ParseStatusList(doc []byte, root crypto.PublicKey) (l *StatusList, err error) {
	defer func() {
		if p := recover(); p != nil {
			l, err = nil, fmt.Errorf("%w: panic while parsing status list: %v", ErrMalformed, p)
		}
	}()
	if len(doc) > MaxStatusListSize {
		return nil, fmt.Errorf("%w: %w: status list is %d bytes", ErrMalformed, ErrTooLarge, len(doc))
	}
	content, kid, err := openDoc(StatusListContext, doc, MaxStatusListSize, root)
	if err != nil {
		return nil, fmt.Errorf("qrtoken: status list: %w", err)
	}
	l, err = parseStatusListContent(content)
	if err != nil {
		return nil, fmt.Errorf("qrtoken: status list: %w", err)
	}
	l.root, l.signed = kid, true
	return l, nil
}

func parseStatusListContent(b []byte) (*StatusList, error) {
	l := &StatusList{}
	var size uint64
	var data []byte
	r := &reader{b: b}
	n := r.mapHead("status list", 5)
	seen := r.keys("status list", n, func(k uint64) bool {
		switch k {
		case slSequence:
			l.sequence = r.uint("sequence", 1<<63-1)
		case slIssued:
			l.issued = time.Unix(int64(r.uint("issued", maxUnix)), 0).UTC()
		case slBits:
			if bits := r.uint("bits per entry", 255); r.err == nil && bits != StatusBits {
				r.failf("%w: %d bits per entry, want %d", ErrMalformed, bits, StatusBits)
			}
		case slSize:
			size = r.uint("size", MaxStatusEntries)
			if r.err == nil && checkStatusSize(int(size)) != nil {
				r.failf("%w: %v", ErrMalformed, checkStatusSize(int(size)))
			}
		case slData:
			data = r.bytes("bits", 1, MaxStatusListSize)
		default:
			return false
		}
		return true
	})
	r.requireKeys("status list", seen, keyBits(slSequence, slIssued, slBits, slSize, slData))
	r.end("status list")
	if r.err != nil {
		return nil, r.err
	}
	want := int(size / 4)
	src := bytes.NewReader(data)
	zr := flate.NewReader(src)
	defer zr.Close()
	l.bits = make([]byte, want)
	if _, err := io.ReadFull(zr, l.bits); err != nil {
		return nil, fmt.Errorf("%w: bits: %v", ErrMalformed, err)
	}
	var one [1]byte
	if n, err := zr.Read(one[:]); n != 0 || err != io.EOF {
		return nil, fmt.Errorf("%w: %w: bits inflate to more than %d bytes", ErrMalformed, ErrTrailingData, want)
	}
	if src.Len() != 0 {
		return nil, fmt.Errorf("%w: %w: %d bytes after the DEFLATE stream", ErrMalformed, ErrTrailingData, src.Len())
	}
	return l, nil
}
