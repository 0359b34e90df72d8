package lab

import (
	"context"
	"errors"
	"testing"
)

func TestSpecInvalid(t *testing.T) {
	two := []VTEPSpec{{Name: "v1", Kind: Fwd}, {Name: "v2", Kind: Kernel}}
	for name, s := range map[string]Spec{
		"no VTEPs":         {},
		"bad family":       {Underlay: 5, VTEPs: two},
		"bad kind":         {VTEPs: []VTEPSpec{{Name: "v1"}}},
		"duplicate VTEP":   {VTEPs: []VTEPSpec{{Name: "v1", Kind: Fwd}, {Name: "v1", Kind: Fwd}}},
		"unknown VTEP":     {VTEPs: two, Hosts: []HostSpec{{Name: "h1", VTEP: "v9"}}},
		"host = VTEP":      {VTEPs: two, Hosts: []HostSpec{{Name: "v1", VTEP: "v1"}}},
		"VLAN on kernel":   {VTEPs: two, Hosts: []HostSpec{{Name: "h1", VTEP: "v2", VLAN: 10}}},
		"ES on kernel":     {VTEPs: two, Hosts: []HostSpec{{Name: "h1", VTEP: "v2", ES: 1}}},
		"VLAN too big":     {VTEPs: two, Hosts: []HostSpec{{Name: "h1", VTEP: "v1", VLAN: 4095}}},
		"backup, no ES":    {VTEPs: two, Hosts: []HostSpec{{Name: "h1", VTEP: "v1", ESBackup: []string{"v2"}}}},
		"backup is self":   {VTEPs: two, Hosts: []HostSpec{{Name: "h1", VTEP: "v1", ES: 1, ESBackup: []string{"v1"}}}},
		"ES twice":         {VTEPs: two, Hosts: []HostSpec{{Name: "h1", VTEP: "v1", ES: 1}, {Name: "h2", VTEP: "v1", ES: 1}}},
		"long host name":   {VTEPs: two, Hosts: []HostSpec{{Name: "a-very-long-hostname", VTEP: "v1"}}},
		"host uplink":      {VTEPs: two, Hosts: []HostSpec{{Name: "uplink", VTEP: "v1"}}},
		"host br100":       {VTEPs: two, Hosts: []HostSpec{{Name: "br100", VTEP: "v2"}}},
		"VNI out of range": {VNI: 1 << 24, VTEPs: two},
	} {
		t.Run(name, func(t *testing.T) {
			// Validation comes first: no root needed, nothing created.
			_, err := Build(context.Background(), s, nil)
			if !errors.Is(err, ErrSpec) {
				t.Fatalf("Build: %v, want ErrSpec", err)
			}
			t.Log(err)
		})
	}
}

func TestChecksum(t *testing.T) {
	// An echo request whose checksum, computed over itself, folds to 0.
	b := echo(8, 0x1234, 7, pingPayload(56))
	if c := checksum(b); c != 0 {
		t.Errorf("checksum over a checksummed message: %#04x, want 0", c)
	}
	// RFC 1071's example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, so the
	// checksum is its complement.
	if c := checksum([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}); c != ^uint16(0xddf2) {
		t.Errorf("RFC 1071 example: %#04x, want %#04x", c, ^uint16(0xddf2))
	}
}

func TestSpread(t *testing.T) {
	b := spread([]uint32{3, 5, 7})
	if len(b) != 4 {
		t.Fatalf("%d buckets, want 4", len(b))
	}
	for i, bk := range b {
		if bk.Primary == 0 || bk.Backup == 0 || bk.Primary == bk.Backup {
			t.Errorf("bucket %d: %+v", i, bk)
		}
	}
	if one := spread([]uint32{9}); len(one) != 1 || one[0].Primary != 9 || one[0].Backup != 0 {
		t.Errorf("one nexthop: %+v", one)
	}
}
