package evpn

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
)

func FuzzParseESI(f *testing.F) {
	for _, s := range []string{
		"03:44:38:39:ff:ff:01:00:00:01", "3:44:38:39:FF:ff:1:0:0:1", "03443839ffff01000001",
		"00:00:00:00:00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff:ff:ff:ff:ff", "", ":", "03:44", "0x:44:38:39:ff:ff:01:00:00:01",
		"03:44:38:39:ff:ff:01:00:00:+1", "0g443839ffff01000001",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseESI(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("ParseESI(%q): %v does not wrap ErrSyntax", s, err)
			}
			return
		}
		back, err := ParseESI(e.String())
		if err != nil || back != e {
			t.Fatalf("ParseESI(%q) = %v; reparsing %q = %v, %v", s, e, e.String(), back, err)
		}
	})
}

func FuzzESIFormat(f *testing.F) {
	f.Add([]byte{3, 0x44, 0x38, 0x39, 0xff, 0xff, 1, 0, 0, 1})
	f.Add(make([]byte, 10))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 10 {
			return
		}
		e := ESI(b[:10])
		back, err := ParseESI(e.String())
		if err != nil || back != e {
			t.Fatalf("% x: String %q parses to %v, %v", b[:10], e.String(), back, err)
		}
		text, _ := e.MarshalText()
		var u ESI
		if err := u.UnmarshalText(text); err != nil || u != e {
			t.Fatalf("% x: text round trip = %v, %v", b[:10], u, err)
		}
		if mac, ok := e.ImportRT(); ok != (e[0] >= 1 && e[0] <= 3) || (ok && mac != MAC(b[1:7])) {
			t.Fatalf("% x: ImportRT = %v, %v", b[:10], mac, ok)
		}
	})
}

func FuzzESIFromSysMAC(f *testing.F) {
	f.Add([]byte{0x44, 0x38, 0x39, 0xff, 0xff, 0x01}, uint32(1))
	f.Add([]byte{0, 0, 0, 0, 0, 0}, uint32(0))
	f.Fuzz(func(t *testing.T, b []byte, id uint32) {
		if len(b) < 6 {
			return
		}
		mac := MAC(b[:6])
		e, err := ESIFromSysMAC(mac, id)
		if (err == nil) != (id >= 1 && id <= MaxESID && !mac.IsZero()) {
			t.Fatalf("ESIFromSysMAC(%v, %d) error = %v", mac, id, err)
		}
		if err != nil {
			return
		}
		m, got, ok := e.SysMAC()
		if !ok || m != mac || got != id {
			t.Fatalf("ESIFromSysMAC(%v, %d) = %v; SysMAC = %v, %d, %v", mac, id, e, m, got, ok)
		}
		if rt, ok := e.ImportRT(); !ok || rt != mac {
			t.Fatalf("ImportRT = %v, %v; want %v", rt, ok, mac)
		}
	})
}

// adminSeeds are inputs for the RD and RT parsers.
var adminSeeds = []string{
	"65000:100", "0:0", "65535:4294967295", "10.0.0.1:2", "4200000000:100", "65536:1", "1.0:1", "0.100:5",
	"65535.65535:65535", "RT:65000:1", "", ":", "65000", "65000:", ":1", "2001:db8::1:1", "10.0.0.256:1",
	"4294967296:1", "65000:4294967296", "70000:65536", "1.2.3:4", "0.0.0.0:0", "+1:1", "1:+1", "1:-1", "00:00",
}

func FuzzParseRD(f *testing.F) {
	for _, s := range adminSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rd, err := ParseRD(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrRange) {
				t.Fatalf("ParseRD(%q): %v wraps neither ErrSyntax nor ErrRange", s, err)
			}
			return
		}
		if !rd.Valid() {
			t.Fatalf("ParseRD(%q) = invalid % x", s, rd[:])
		}
		back, err := ParseRD(rd.String())
		if err != nil || back != rd {
			t.Fatalf("ParseRD(%q) = %v; reparsing = %v, %v", s, rd, back, err)
		}
	})
}

func FuzzRDFormat(f *testing.F) {
	f.Add([]byte{0, 0, 0xfd, 0xe8, 0, 0, 0, 100})
	f.Add([]byte{0, 1, 10, 0, 0, 1, 0, 2})
	f.Add([]byte{0, 2, 0, 0, 0, 100, 0, 5})
	f.Add([]byte{0, 3, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 8 {
			return
		}
		rd := RD(b[:8])
		back, err := ParseRD(rd.String())
		if rd.Valid() {
			if err != nil || back != rd {
				t.Fatalf("% x: String %q parses to %v, %v", b[:8], rd.String(), back, err)
			}
			var u RD
			text, _ := rd.MarshalText()
			if err := u.UnmarshalText(text); err != nil || u != rd {
				t.Fatalf("% x: text round trip = %v, %v", b[:8], u, err)
			}
		} else if err == nil {
			t.Fatalf("% x: invalid RD's String %q parses", b[:8], rd.String())
		}
	})
}

func FuzzParseRT(f *testing.F) {
	for _, s := range adminSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rt, err := ParseRT(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrRange) {
				t.Fatalf("ParseRT(%q): %v wraps neither ErrSyntax nor ErrRange", s, err)
			}
			return
		}
		if !rt.Valid() {
			t.Fatalf("ParseRT(%q) = invalid % x", s, rt[:])
		}
		back, err := ParseRT(rt.String())
		if err != nil || back != rt {
			t.Fatalf("ParseRT(%q) = %v; reparsing = %v, %v", s, rt, back, err)
		}
		// An RD and an RT written alike carry the same administrator.
		if rd, err := ParseRD(rt.String()); err != nil || [6]byte(rd[2:]) != [6]byte(rt[2:]) || rd.Type() != rt.Type() {
			t.Fatalf("ParseRD(%q) = %v, %v; RT % x", rt.String(), rd, err, rt[:])
		}
	})
}

func FuzzRTFormat(f *testing.F) {
	f.Add([]byte{0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100})
	f.Add([]byte{0x01, 0x02, 10, 0, 0, 1, 0, 5})
	f.Add([]byte{0x02, 0x02, 0, 0, 0xfd, 0xe8, 0, 5})
	f.Add([]byte{0x06, 0x02, 0x44, 0x38, 0x39, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 8 {
			return
		}
		rt := RT(b[:8])
		back, err := ParseRT(rt.String())
		if rt.Valid() {
			if err != nil || back != rt {
				t.Fatalf("% x: String %q parses to %v, %v", b[:8], rt.String(), back, err)
			}
		} else if err == nil {
			t.Fatalf("% x: invalid RT's String %q parses", b[:8], rt.String())
		}
	})
}

func FuzzParseMAC(f *testing.F) {
	for _, s := range []string{"44:38:39:ff:ff:01", "44-38-39-ff-ff-01", "4438.39ff.ff01", "", "x", "00:00:5e:00:53:01:02:03"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMAC(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("ParseMAC(%q): %v does not wrap ErrSyntax", s, err)
			}
			return
		}
		if back, err := ParseMAC(m.String()); err != nil || back != m {
			t.Fatalf("ParseMAC(%q) = %v; reparsing = %v, %v", s, m, back, err)
		}
	})
}

// FuzzElect builds up to eight candidates from the input and checks that an
// election never panics, elects one of the candidates, and does not depend on
// their order.
func FuzzElect(f *testing.F) {
	f.Add([]byte{2, 0, 0, 0, 100, 0, 10, 0, 0, 1, 2, 0x7f, 0xff, 0, 10, 0, 0, 2, 2, 0x7f, 0xff, 0}, uint32(0))
	f.Add([]byte{1, 0, 10, 0, 0, 1, 1, 0, 0, 0, 138, 0, 0, 1, 1, 0, 0, 0}, uint32(7))
	f.Add([]byte{0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 10, 0, 0, 1, 0, 0, 0, 0}, uint32(3))
	f.Fuzz(func(t *testing.T, data []byte, tag uint32) {
		if len(data) < 2 {
			return
		}
		e := Election{Alg: DFAlg(data[0] % 4), Mismatch: MismatchPolicy(data[1] % 4), ESI: mustESI(t, "03:44:38:39:ff:ff:01:00:00:01")}
		data = data[2:]
		var cs []Candidate
		for len(data) >= 8 && len(cs) < 8 {
			c := Candidate{Alg: DFAlg(data[0] % 4), Pref: uint16(data[5])<<8 | uint16(data[6]), DontPreempt: data[7]&1 != 0}
			ip := [4]byte(data[1:5])
			c.VTEP = netip.AddrFrom4(ip)
			if data[7]&2 != 0 {
				c.VTEP = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 12: ip[0], 13: ip[1], 14: ip[2], 15: ip[3]})
			}
			cs = append(cs, c)
			data = data[8:]
		}
		df, err := e.Elect(cs, tag)
		rev := slices.Clone(cs)
		slices.Reverse(rev)
		df2, err2 := e.Elect(rev, tag)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("order changes the outcome: %v, %v", err, err2)
		}
		if err != nil {
			return
		}
		if df != df2 {
			t.Fatalf("order changes the DF: %v vs %v for %+v", df, df2, cs)
		}
		if !slices.ContainsFunc(cs, func(c Candidate) bool { return c.VTEP == df }) {
			t.Fatalf("DF %v is not a candidate of %+v", df, cs)
		}
	})
}
