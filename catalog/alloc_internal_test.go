package catalog

import (
	"context"
	"math/rand/v2"
	"testing"
)

type listedIndexes []int

func (l listedIndexes) StatusIndexes(_ context.Context, fn func(int) error) error {
	for _, i := range l {
		if err := fn(i); err != nil {
			return err
		}
	}
	return nil
}

// TestIndexAllocBitmap: with the store's indexes loaded as a bitmap, draws
// never return an index claimed in the store, by a row in flight, or by a
// row this run has stored; an index given up may be drawn again.
func TestIndexAllocBitmap(t *testing.T) {
	ctx := context.Background()
	var pre listedIndexes
	for i := 0; i < 70000; i += 2 { // every even index below 70,000
		pre = append(pre, i)
	}
	s := &Service{Rand: rngReader{rand.New(rand.NewPCG(1, 2))}}
	a := &indexAlloc{s: s, count: len(pre), claimed: map[int]bool{}}
	if err := a.load(ctx, pre); err != nil {
		t.Fatal(err)
	}
	stored := map[int]bool{}
	inFlight := map[int]bool{}
	givenUp := 0
	for n := 0; n < 30000; n++ {
		idx, err := a.draw(ctx)
		if err != nil {
			t.Fatalf("draw %d: %v", n, err)
		}
		if idx < 70000 && idx%2 == 0 || stored[idx] || inFlight[idx] {
			t.Fatalf("draw %d returned %d, which is taken", n, idx)
		}
		inFlight[idx] = true
		if n%3 == 2 { // settle the rows in flight: two stored, one given up
			i := 0
			for k := range inFlight {
				if i%3 == 2 {
					a.release(k, false)
					givenUp++
				} else {
					a.release(k, true)
					stored[k] = true
				}
				delete(inFlight, k)
				i++
			}
		}
	}
	if len(a.claimed) != len(inFlight) || givenUp == 0 {
		t.Fatalf("claimed %d, in flight %d, given up %d", len(a.claimed), len(inFlight), givenUp)
	}
}

type rngReader struct{ r *rand.Rand }

func (r rngReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.r.Uint32())
	}
	return len(p), nil
}
