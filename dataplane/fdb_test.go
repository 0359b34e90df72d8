package dataplane

import (
	"errors"
	"testing"
	"time"

	"github.com/fwdplane/fwd/internal/testutil"
)

func TestFDBTable(t *testing.T) {
	testutil.RequireRoot(t)
	d := mustLoad(t) // 4096 MACs: 8192 slots
	if err := d.SetFDB(FDBKey{BD: 7, MAC: mac(1)}, FDBEntry{Kind: FDBVTEP, Ref: 1}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("entry in an undeclared BD: %v", err)
	}
	for _, bd := range []uint32{7, 8} {
		if err := d.SetBD(bd); err != nil {
			t.Fatal(err)
		}
	}
	var keys []FDBKey
	var vals []FDBEntry
	for i := 0; i < 4000; i++ {
		keys = append(keys, FDBKey{BD: uint32(7 + i%2), MAC: [6]byte{2, 0, 0, 0, byte(i >> 8), byte(i)}})
		vals = append(vals, FDBEntry{Kind: FDBVTEP, Ref: uint32(1 + i%100), Flags: FDBSticky})
	}
	if n, err := d.SetFDBBatch(keys, vals); err != nil || n != len(keys) {
		t.Fatalf("batch: %d, %v", n, err)
	}
	if d.FDBCount() != len(keys) {
		t.Fatalf("count %d", d.FDBCount())
	}
	for i, k := range keys {
		if e, err := d.FDB(k); err != nil || e != vals[i] {
			t.Fatalf("entry %d: %+v, %v", i, e, err)
		}
	}
	seen := 0
	if err := d.FDBEntries(func(k FDBKey, e FDBEntry) bool { seen++; return true }); err != nil || seen != len(keys) {
		t.Fatalf("iterated %d, %v", seen, err)
	}
	// Replace in place, delete, and reinsert.
	if err := d.SetFDB(keys[0], FDBEntry{Kind: FDBLocal, Ref: 3}); err != nil {
		t.Fatal(err)
	}
	if e, _ := d.FDB(keys[0]); e.Kind != FDBLocal || e.Ref != 3 {
		t.Fatalf("replaced entry %+v", e)
	}
	if n, err := d.DeleteFDBBatch(keys[:1000]); err != nil || n != 1000 {
		t.Fatalf("deleted %d, %v", n, err)
	}
	if _, err := d.FDB(keys[0]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted entry found: %v", err)
	}
	if err := d.DeleteFDB(keys[0]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("double delete: %v", err)
	}
	// A batch with a key in an undeclared BD is refused whole.
	if n, err := d.DeleteFDBBatch([]FDBKey{keys[1000], {BD: 4242, MAC: keys[1000].MAC}}); !errors.Is(err, ErrInvalid) || n != 0 {
		t.Fatalf("batch with an undeclared BD: deleted %d, %v", n, err)
	}
	if _, err := d.FDB(keys[1000]); err != nil {
		t.Fatalf("a refused batch deleted an entry: %v", err)
	}
	// Entries behind tombstones stay reachable.
	for i := 1000; i < len(keys); i++ {
		if _, err := d.FDB(keys[i]); err != nil {
			t.Fatalf("entry %d behind a tombstone: %v", i, err)
		}
	}
	// Tombstones become reusable after a grace period.
	deadline := time.Now().Add(5 * time.Second)
	for {
		d.fdb.mu.Lock()
		n := d.fdb.reusableCount()
		d.fdb.mu.Unlock()
		if n == 1000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 1000 tombstones reusable", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n, err := d.SetFDBBatch(keys[:1000], vals[:1000]); err != nil || n != 1000 {
		t.Fatalf("reinsert: %d, %v", n, err)
	}
	// Deleting a BD purges its entries.
	if err := d.DeleteBD(8); err != nil {
		t.Fatal(err)
	}
	if d.FDBCount() != len(keys)/2 {
		t.Fatalf("after purge: %d entries, want %d", d.FDBCount(), len(keys)/2)
	}
	// A full table says so.
	var err error
	for i := 0; err == nil && i < 20000; i++ {
		err = d.SetFDB(FDBKey{BD: 7, MAC: [6]byte{2, 1, 0, 0, byte(i >> 8), byte(i)}}, FDBEntry{Kind: FDBVTEP, Ref: 1})
	}
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("overfilled table: %v", err)
	}
	t.Logf("table full at %d entries of %d slots: %v", d.FDBCount(), d.fdb.mask+1, err)
}
