package dataplane

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwdplane/fwd/internal/testutil"
)

func tempPinDir(tb testing.TB) string {
	tb.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	dir := filepath.Join("/sys/fs/bpf", "fwdt-"+hex.EncodeToString(b[:]))
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// TestPinAdopt: a second instance adopts the pinned maps with their state,
// and its first group replacement takes a slot the first one left free.
func TestPinAdopt(t *testing.T) {
	testutil.RequireRoot(t)
	dir := tempPinDir(t)
	d1, err := Load(&Options{PinDir: dir, FDBMax: 4096})
	if err != nil {
		t.Fatal(err)
	}
	k := FDBKey{BD: 100, MAC: mac(1)}
	if err := d1.SetBD(100); err != nil {
		t.Fatal(err)
	}
	if err := d1.SetFDB(k, FDBEntry{Kind: FDBVTEP, Ref: 7}); err != nil {
		t.Fatal(err)
	}
	want := []Bucket{{Primary: 1, Backup: 2}, {Primary: 2, Backup: 1}}
	if _, err := d1.ReplaceGroup(5, want); err != nil {
		t.Fatal(err)
	}
	if err := d1.SetNextHopDown(3, true); err != nil {
		t.Fatal(err)
	}
	if err := d1.SetConfig(Config{VXLANPort: 4790, TTL: 9, LearnRate: 1, LearnBurst: 1}); err != nil {
		t.Fatal(err)
	}
	if err := d1.Close(); err != nil {
		t.Fatal(err)
	}

	d2, err := Load(&Options{PinDir: dir, FDBMax: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if e, err := d2.FDB(k); err != nil || e.Kind != FDBVTEP || e.Ref != 7 {
		t.Fatalf("adopted fdb entry %+v, %v", e, err)
	}
	got, _, err := d2.Group(5)
	if err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("adopted group %v, %v", got, err)
	}
	if !d2.NextHopDown(3) {
		t.Fatal("nexthop 3's down bit was lost")
	}
	if c, _ := d2.Config(); c.VXLANPort != 4790 || c.TTL != 9 {
		t.Fatalf("config reset on adoption: %+v", c)
	}
	slot := d2.nhActive.load(5)
	if _, err := d2.ReplaceGroup(6, want); err != nil {
		t.Fatal(err)
	}
	if d2.nhActive.load(6) == slot {
		t.Fatalf("group 6 took group 5's live slot %d", slot)
	}
	if err := d2.Unpin(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("pin dir left behind: %v", err)
	}
}

// TestAttachPinned: a pinned link keeps the program attached after Close,
// and the next instance adopts the link.
func TestAttachPinned(t *testing.T) {
	testutil.RequireRoot(t)
	ns := testutil.NewNetNS(t)
	idx, _ := testutil.VethPair(t, ns, "p0", "p1", 1500)
	dir := tempPinDir(t)
	xdpAttached := func() bool {
		l, err := ns.Handle().LinkByIndex(idx)
		if err != nil {
			t.Fatal(err)
		}
		return l.Attrs().Xdp != nil && l.Attrs().Xdp.Attached
	}

	d1, err := Load(&Options{PinDir: dir, FDBMax: 1024})
	if err != nil {
		t.Fatal(err)
	}
	var mode AttachMode
	if err := ns.Do(func() (err error) { mode, err = d1.Attach(idx); return err }); err != nil {
		t.Fatal(err)
	}
	if mode != ModeNative {
		t.Fatalf("veth attach mode %s, want native", mode)
	}
	if err := ns.Do(func() error { _, err := d1.Attach(idx); return err }); !errors.Is(err, ErrInvalid) {
		t.Fatalf("second attach: %v, want ErrInvalid", err)
	}
	d1.Close()
	if !xdpAttached() {
		t.Fatal("closing the dataplane detached a pinned link")
	}

	d2, err := Load(&Options{PinDir: dir, FDBMax: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if err := ns.Do(func() (err error) { mode, err = d2.Attach(idx); return err }); err != nil {
		t.Fatal(err)
	}
	if mode != ModeAdopted {
		t.Fatalf("mode %s, want adopted", mode)
	}
	if err := d2.Detach(idx); err != nil {
		t.Fatal(err)
	}
	if xdpAttached() {
		t.Fatal("still attached after Detach")
	}
	_ = d2.Unpin()
}

// TestPinIncompatible: pinned maps of another layout (here another FDB
// size) are not adopted, and the error says why.
func TestPinIncompatible(t *testing.T) {
	testutil.RequireRoot(t)
	dir := tempPinDir(t)
	d1, err := Load(&Options{PinDir: dir, FDBMax: 4096})
	if err != nil {
		t.Fatal(err)
	}
	if err := d1.Close(); err != nil {
		t.Fatal(err)
	}
	d2, err := Load(&Options{PinDir: dir, FDBMax: 1 << 16})
	if err == nil {
		d2.Close()
		t.Fatal("maps of another size adopted")
	}
	if !errors.Is(err, ErrPinIncompatible) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("error %v: want ErrPinIncompatible naming %s", err, dir)
	}
}
