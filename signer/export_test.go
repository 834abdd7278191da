package signer

import (
	"sync"
	"testing"
)

// KeyDecryptions records the key files decrypted until the test ends.
type KeyDecryptions struct {
	mu    sync.Mutex
	names []string
}

// Names returns the file names decrypted so far, in order.
func (k *KeyDecryptions) Names() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.names...)
}

// RecordKeyDecryptions starts recording key decryptions for t.
func RecordKeyDecryptions(t testing.TB) *KeyDecryptions {
	k := &KeyDecryptions{}
	testHookKeyDecrypted = func(name string) {
		k.mu.Lock()
		k.names = append(k.names, name)
		k.mu.Unlock()
	}
	t.Cleanup(func() { testHookKeyDecrypted = nil })
	return k
}
