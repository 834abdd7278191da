package qrtoken

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
)

// Allocator hands out random unused status-list indices. It tracks which
// indices are used and grows its range by StatusBlock whenever more than
// half of it would be used, so a random draw succeeds in two tries on
// average and a license's index says little about when it was issued. It
// is not safe for concurrent use; the caller persists it with MarshalBinary
// (for example in the same registry transaction that stores the license).
type Allocator struct {
	size  int
	count int
	used  []uint64
}

// NewAllocator returns an empty allocator over StatusBlock entries.
func NewAllocator() *Allocator {
	return &Allocator{size: StatusBlock, used: make([]uint64, StatusBlock/64)}
}

// Size returns the current range: indices are in 0..Size()-1. Status lists
// must have at least this many entries.
func (a *Allocator) Size() int { return a.size }

// Used returns the number of used indices.
func (a *Allocator) Used() int { return a.count }

// IsUsed reports whether index i is used.
func (a *Allocator) IsUsed(i int) bool {
	return i >= 0 && i < a.size && a.used[i/64]&(1<<(uint(i)%64)) != 0
}

func (a *Allocator) grow() error {
	if a.size+StatusBlock > MaxStatusEntries {
		return ErrFull
	}
	a.size += StatusBlock
	a.used = append(a.used, make([]uint64, StatusBlock/64)...)
	return nil
}

func (a *Allocator) mark(i int) {
	a.used[i/64] |= 1 << (uint(i) % 64)
	a.count++
}

// MarkUsed records index i as used (to rebuild an allocator from the
// registry), growing the range when i is beyond it. Marking a used index
// again is an error.
func (a *Allocator) MarkUsed(i int) error {
	if i < 0 || i >= MaxStatusEntries {
		return fmt.Errorf("%w: %d", ErrIndexRange, i)
	}
	for i >= a.size {
		if err := a.grow(); err != nil {
			return err
		}
	}
	if a.IsUsed(i) {
		return invalidf("index %d already used", i)
	}
	a.mark(i)
	return nil
}

// Allocate marks and returns a random unused index, drawn uniformly from
// the unused indices of the range with randomness from rnd. Before the draw
// the range grows by StatusBlock if the allocation would make it more than
// half full.
func (a *Allocator) Allocate(rnd io.Reader) (int, error) {
	if rnd == nil {
		return 0, invalidf("nil random source")
	}
	for (a.count+1)*2 > a.size {
		if err := a.grow(); err != nil {
			return 0, err
		}
	}
	// size is a multiple of 2^17, so 2^32 mod size is cheap to reject.
	limit := uint64(1<<32) - uint64(1<<32)%uint64(a.size)
	var buf [4]byte
	for tries := 0; tries < 1000; tries++ {
		if _, err := io.ReadFull(rnd, buf[:]); err != nil {
			return 0, fmt.Errorf("qrtoken: allocate: %w", err)
		}
		v := uint64(binary.BigEndian.Uint32(buf[:]))
		if v >= limit {
			continue
		}
		i := int(v % uint64(a.size))
		if !a.IsUsed(i) {
			a.mark(i)
			return i, nil
		}
	}
	return 0, fmt.Errorf("qrtoken: allocate: random source keeps returning used indices")
}

const allocatorMagic = "WQA1"

// MarshalBinary encodes the allocator: the 4 bytes "WQA1", the range size
// as a 4-byte big-endian number, then Size()/8 bytes of bitmap where index
// i is bit i%8 (least significant first) of byte i/8.
func (a *Allocator) MarshalBinary() ([]byte, error) {
	b := make([]byte, 8, 8+a.size/8)
	copy(b, allocatorMagic)
	binary.BigEndian.PutUint32(b[4:], uint32(a.size))
	for _, w := range a.used {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b, nil
}

// UnmarshalBinary replaces a with the state MarshalBinary encoded. Errors
// wrap ErrMalformed.
func (a *Allocator) UnmarshalBinary(b []byte) error {
	if len(b) < 8 || string(b[:4]) != allocatorMagic {
		return fmt.Errorf("%w: allocator state: bad header", ErrMalformed)
	}
	size := int(binary.BigEndian.Uint32(b[4:8]))
	if err := checkStatusSize(size); err != nil {
		return fmt.Errorf("%w: allocator state: %v", ErrMalformed, err)
	}
	if len(b) != 8+size/8 {
		return fmt.Errorf("%w: allocator state: %d bytes, want %d", ErrMalformed, len(b), 8+size/8)
	}
	used := make([]uint64, size/64)
	count := 0
	for i := range used {
		used[i] = binary.LittleEndian.Uint64(b[8+8*i:])
		count += bits.OnesCount64(used[i])
	}
	a.size, a.count, a.used = size, count, used
	return nil
}
