package evpn

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// cands builds candidates with algorithm alg and the default preference.
func cands(tb testing.TB, alg DFAlg, vteps ...string) []Candidate {
	tb.Helper()
	cs := make([]Candidate, len(vteps))
	for i, v := range vteps {
		cs[i] = Candidate{VTEP: mustAddr(tb, v), Alg: alg, Pref: DefaultDFPref}
	}
	return cs
}

// elect runs e and fails the test on error.
func elect(tb testing.TB, e Election, cs []Candidate, tag uint32) netip.Addr {
	tb.Helper()
	df, err := e.Elect(cs, tag)
	if err != nil {
		tb.Fatalf("%+v.Elect(%v, %d): %v", e, cs, tag, err)
	}
	return df
}

// TestElectModulo checks RFC 7432 section 8.5: candidates in ascending
// address order, the DF is ordinal (V mod N).
func TestElectModulo(t *testing.T) {
	tests := []struct {
		name  string
		vteps []string
		tag   uint32
		want  string
	}{
		{"V=0", []string{"10.0.0.3", "10.0.0.1", "10.0.0.2"}, 0, "10.0.0.1"},
		{"V=1", []string{"10.0.0.3", "10.0.0.1", "10.0.0.2"}, 1, "10.0.0.2"},
		{"V=2", []string{"10.0.0.3", "10.0.0.1", "10.0.0.2"}, 2, "10.0.0.3"},
		{"V=3 wraps", []string{"10.0.0.3", "10.0.0.1", "10.0.0.2"}, 3, "10.0.0.1"},
		{"V=100", []string{"10.0.0.3", "10.0.0.1", "10.0.0.2"}, 100, "10.0.0.2"},   // 100 mod 3 = 1
		{"V=4094", []string{"10.0.0.3", "10.0.0.1", "10.0.0.2"}, 4094, "10.0.0.3"}, // 4094 mod 3 = 2
		{"VNI 10100", []string{"192.0.2.7", "192.0.2.3"}, 10100, "192.0.2.3"},      // even
		{"VNI 10101", []string{"192.0.2.7", "192.0.2.3"}, 10101, "192.0.2.7"},
		{"MAX tag", []string{"10.0.0.3", "10.0.0.1", "10.0.0.2"}, 0xFFFFFFFF, "10.0.0.1"}, // (2^32-1) mod 3 = 0
		{"numeric not textual order", []string{"10.0.0.10", "10.0.0.9"}, 0, "10.0.0.9"},
		{"numeric not FRR's s_addr order", []string{"10.1.0.1", "10.0.0.2"}, 0, "10.0.0.2"},
		{"IPv4 before IPv6", []string{"2001:db8::1", "255.255.255.255"}, 0, "255.255.255.255"},
		{"IPv6 second", []string{"2001:db8::1", "255.255.255.255"}, 1, "2001:db8::1"},
		{"IPv6 only", []string{"2001:db8::2", "2001:db8::10", "2001:db8::1"}, 1, "2001:db8::2"},
		{"mapped counts as IPv4", []string{"2001:db8::1", "::ffff:10.0.0.5", "10.0.0.4"}, 1, "::ffff:10.0.0.5"},
		{"single", []string{"10.0.0.9"}, 12345, "10.0.0.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := elect(t, Election{Alg: DFAlgModulo}, cands(t, DFAlgModulo, tt.vteps...), tt.tag)
			if got != mustAddr(t, tt.want) {
				t.Errorf("DF = %v, want %s", got, tt.want)
			}
		})
	}
}

// TestModuloEvenTags is RFC 8584 section 3.1's complaint about the default
// algorithm: with two PEs and only even Ethernet tags, one PE is the DF for
// every one of them. HRW spreads them.
func TestModuloEvenTags(t *testing.T) {
	cs := cands(t, DFAlgModulo, "10.0.0.2", "10.0.0.1")
	hrw := cands(t, DFAlgHRW, "10.0.0.2", "10.0.0.1")
	esi := mustESI(t, "03:44:38:39:ff:ff:01:00:00:01")
	count := map[netip.Addr]int{}
	for tag := uint32(2); tag <= 200; tag += 2 {
		if df := elect(t, Election{Alg: DFAlgModulo}, cs, tag); df != mustAddr(t, "10.0.0.1") {
			t.Fatalf("tag %d: modulo DF %v, want 10.0.0.1", tag, df)
		}
		count[elect(t, Election{Alg: DFAlgHRW, ESI: esi}, hrw, tag)]++
	}
	if len(count) != 2 || count[mustAddr(t, "10.0.0.1")] < 25 || count[mustAddr(t, "10.0.0.2")] < 25 {
		t.Errorf("HRW over 100 even tags: %v, want both PEs well represented", count)
	}
}

// hrwReference computes RFC 8584 section 3.2 literally, in arbitrary
// precision, with Si the whole address as an integer (128 bits for IPv6).
func hrwReference(tag uint32, esi ESI, vtep netip.Addr) uint32 {
	var v [14]byte
	binary.BigEndian.PutUint32(v[:4], tag)
	copy(v[4:], esi[:])
	d := big.NewInt(int64(crc32.ChecksumIEEE(v[:]) & 0x7fffffff))
	si := new(big.Int).SetBytes(vtep.AsSlice())
	a, b := big.NewInt(1103515245), big.NewInt(12345)
	w := new(big.Int).Mul(a, si)
	w.Add(w, b)
	w.Xor(w, d)
	w.Mul(w, a)
	w.Add(w, b)
	w.Mod(w, new(big.Int).Lsh(big.NewInt(1), 31))
	return uint32(w.Uint64())
}

// TestHRWWeight checks the weight against values computed independently
// (Python: zlib.crc32 and integer arithmetic, the IPv6 address as a 128-bit
// integer) and against the arbitrary-precision reference.
func TestHRWWeight(t *testing.T) {
	esi := mustESI(t, "03:44:38:39:ff:ff:01:00:00:01")
	esi2 := mustESI(t, "00:11:22:33:44:55:66:77:88:99")
	golden := []struct {
		tag  uint32
		esi  ESI
		vtep string
		want uint32
	}{
		{0, esi, "10.0.0.1", 1014395344},
		{0, esi, "10.0.0.2", 1443465831},
		{0, esi, "10.0.0.3", 1732565834},
		{0, esi, "2001:db8::1", 1450602960},
		{1, esi, "10.0.0.1", 1517721488},
		{1, esi, "10.0.0.2", 1446503207},
		{1, esi, "10.0.0.3", 1274266378},
		{1, esi, "2001:db8::1", 1953929104},
		{100, esi, "10.0.0.1", 737179566},
		{100, esi, "10.0.0.2", 195250597},
		{100, esi, "10.0.0.3", 1018462620},
		{100, esi, "2001:db8::1", 1173387182},
		{4094, esi, "10.0.0.1", 331411489},
		{4094, esi, "10.0.0.2", 1483618610},
		{4094, esi, "10.0.0.3", 1554115919},
		{4094, esi, "2001:db8::1", 767619105},
		{0xFFFFFFFF, esi, "10.0.0.3", 2043258946},
		{0, esi2, "192.0.2.1", 1313407788},
		{0, esi2, "192.0.2.2", 1072478811},
		{10, esi2, "192.0.2.1", 1606793976},
		{10, esi2, "192.0.2.2", 1019085455},
	}
	for _, g := range golden {
		vtep := mustAddr(t, g.vtep)
		if got := HRWWeight(g.tag, g.esi, vtep); got != g.want {
			t.Errorf("HRWWeight(%d, %s, %s) = %d, want %d", g.tag, g.esi, g.vtep, got, g.want)
		}
		if ref := hrwReference(g.tag, g.esi, vtep); ref != g.want {
			t.Errorf("reference(%d, %s, %s) = %d, want %d", g.tag, g.esi, g.vtep, ref, g.want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var e ESI
		for i := range e {
			e[i] = byte(r.Uint32())
		}
		var a16 [16]byte
		for i := range a16 {
			a16[i] = byte(r.Uint32())
		}
		tag := r.Uint32()
		for _, vtep := range []netip.Addr{netip.AddrFrom16(a16), netip.AddrFrom4([4]byte(a16[12:]))} {
			if got, ref := HRWWeight(tag, e, vtep), hrwReference(tag, e, vtep); got != ref {
				t.Fatalf("HRWWeight(%d, %s, %s) = %d, reference %d", tag, e, vtep, got, ref)
			}
		}
	}
}

func TestElectHRW(t *testing.T) {
	esi := mustESI(t, "03:44:38:39:ff:ff:01:00:00:01")
	e := Election{Alg: DFAlgHRW, ESI: esi}
	three := []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}
	tests := []struct {
		vteps []string
		tag   uint32
		want  string
	}{
		{three, 0, "10.0.0.3"},
		{three, 1, "10.0.0.1"},
		{three, 100, "10.0.0.3"},
		{three, 4094, "10.0.0.3"},
		{[]string{"10.0.0.1", "10.0.0.2"}, 100, "10.0.0.1"},
		{[]string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "2001:db8::1"}, 1, "2001:db8::1"},
		{[]string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "2001:db8::1"}, 0, "10.0.0.3"},
		{[]string{"10.0.0.2"}, 0, "10.0.0.2"},
		// Equal weights (same low 31 bits): the lowest address wins.
		{[]string{"138.0.0.1", "10.0.0.1"}, 0, "10.0.0.1"},
		{[]string{"138.0.0.1", "10.0.0.1"}, 4094, "10.0.0.1"},
		{[]string{"::a00:1", "10.0.0.1"}, 7, "10.0.0.1"},
		{[]string{"2001:db8::a00:1", "::a00:1"}, 7, "::a00:1"},
	}
	for _, tt := range tests {
		cs := cands(t, DFAlgHRW, tt.vteps...)
		if got := elect(t, e, cs, tt.tag); got != mustAddr(t, tt.want) {
			t.Errorf("HRW %v tag %d: DF %v, want %s", tt.vteps, tt.tag, got, tt.want)
		}
	}
	if HRWWeight(0, esi, mustAddr(t, "138.0.0.1")) != HRWWeight(0, esi, mustAddr(t, "10.0.0.1")) {
		t.Error("the tie case is not a tie")
	}
	// Another ESI moves the result: the ESI is in the hash.
	other := Election{Alg: DFAlgHRW, ESI: mustESI(t, "00:11:22:33:44:55:66:77:88:99")}
	if got := elect(t, other, cands(t, DFAlgHRW, "192.0.2.1", "192.0.2.2"), 10); got != mustAddr(t, "192.0.2.1") {
		t.Errorf("other ESI: DF %v, want 192.0.2.1", got)
	}

	_, err := ElectDF(DFAlgHRW, cands(t, DFAlgHRW, three...), 0)
	checkErr(t, err, ErrInvalid, "hrw needs the segment's ESI", "Election.ESI")
}

// TestElectPreference checks RFC 9785 as FRR applies it (ANCHORS.md):
// highest preference, default 32767, ties to the lowest VTEP IP.
func TestElectPreference(t *testing.T) {
	v := func(s string) netip.Addr { return mustAddr(t, s) }
	c := func(vtep string, pref uint16, dp bool) Candidate {
		return Candidate{VTEP: v(vtep), Alg: DFAlgPreference, Pref: pref, DontPreempt: dp}
	}
	tests := []struct {
		name string
		cs   []Candidate
		want string
	}{
		{"FRR default: all 32767, lowest IP", []Candidate{c("10.0.0.2", DefaultDFPref, false), c("10.0.0.1", DefaultDFPref, false)}, "10.0.0.1"},
		{"highest wins", []Candidate{c("10.0.0.1", DefaultDFPref, false), c("10.0.0.2", 40000, false)}, "10.0.0.2"},
		{"highest wins among three", []Candidate{c("10.0.0.1", 100, false), c("10.0.0.3", 65535, false), c("10.0.0.2", 500, false)}, "10.0.0.3"},
		{"lower loses", []Candidate{c("10.0.0.1", 1, false), c("10.0.0.2", DefaultDFPref, false)}, "10.0.0.2"},
		{"zero is lowest", []Candidate{c("10.0.0.1", 0, false), c("10.0.0.2", 1, false)}, "10.0.0.2"},
		{"tie, numeric order", []Candidate{c("10.0.0.10", 500, false), c("10.0.0.9", 500, false)}, "10.0.0.9"},
		{"tie, not FRR's s_addr order", []Candidate{c("10.1.0.1", 500, false), c("10.0.0.2", 500, false)}, "10.0.0.2"},
		{"tie, IPv4 before IPv6", []Candidate{c("2001:db8::1", 500, false), c("192.0.2.200", 500, false)}, "192.0.2.200"},
		{"tie, DP wins", []Candidate{c("10.0.0.1", 500, false), c("10.0.0.2", 500, true)}, "10.0.0.2"},
		{"tie with DP on both, lowest IP", []Candidate{c("10.0.0.2", 500, true), c("10.0.0.1", 500, true)}, "10.0.0.1"},
		{"DP does not beat preference", []Candidate{c("10.0.0.1", 501, false), c("10.0.0.2", 500, true)}, "10.0.0.1"},
		{"single", []Candidate{c("10.0.0.7", 1, false)}, "10.0.0.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, tag := range []uint32{0, 1, 100, MaxET} { // preference ignores the tag
				got, err := ElectDF(DFAlgPreference, tt.cs, tag)
				if err != nil {
					t.Fatal(err)
				}
				if got != v(tt.want) {
					t.Errorf("tag %d: DF %v, want %s", tag, got, tt.want)
				}
			}
		})
	}
}

// TestElectMismatch checks RFC 8584 section 2.2's fallback and FRR's rule.
func TestElectMismatch(t *testing.T) {
	esi := mustESI(t, "03:44:38:39:ff:ff:01:00:00:01")
	pref := func(vtep string, p uint16) Candidate {
		return Candidate{VTEP: mustAddr(t, vtep), Alg: DFAlgPreference, Pref: p}
	}
	hrwPeer := Candidate{VTEP: mustAddr(t, "10.0.0.3"), Alg: DFAlgHRW}
	modPeer := Candidate{VTEP: mustAddr(t, "10.0.0.3"), Alg: DFAlgModulo}
	unknownPeer := Candidate{VTEP: mustAddr(t, "10.0.0.3"), Alg: 9}

	// Preference, default policy: FRR's rule, the local PE is non-DF.
	for _, peer := range []Candidate{hrwPeer, modPeer, unknownPeer} {
		cs := []Candidate{pref("10.0.0.1", 60000), pref("10.0.0.2", 100), peer}
		df, err := ElectDF(DFAlgPreference, cs, 0)
		checkErr(t, err, ErrAlgMismatch, "candidate 10.0.0.3 uses "+peer.Alg.String(), "we use preference", "non-DF")
		if df.IsValid() {
			t.Errorf("mismatch elected %v", df)
		}
		// RFC 8584 fallback on request: modulo over all three.
		e := Election{Alg: DFAlgPreference, Mismatch: MismatchFallback}
		for tag, want := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.1"} {
			if got := elect(t, e, cs, uint32(tag)); got != mustAddr(t, want) {
				t.Errorf("fallback tag %d: DF %v, want %s", tag, got, want)
			}
		}
	}

	// HRW, default policy: RFC fallback to modulo (which needs no ESI).
	hrw := []Candidate{{VTEP: mustAddr(t, "10.0.0.2"), Alg: DFAlgHRW}, {VTEP: mustAddr(t, "10.0.0.1"), Alg: DFAlgHRW}, pref("10.0.0.3", 1)}
	for _, e := range []Election{{Alg: DFAlgHRW}, {Alg: DFAlgHRW, ESI: esi}} {
		for tag, want := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
			if got := elect(t, e, hrw, uint32(tag)); got != mustAddr(t, want) {
				t.Errorf("hrw fallback tag %d: DF %v, want %s", tag, got, want)
			}
		}
	}
	_, err := Election{Alg: DFAlgHRW, ESI: esi, Mismatch: MismatchNonDF}.Elect(hrw, 0)
	checkErr(t, err, ErrAlgMismatch, "10.0.0.3 uses preference, we use hrw")

	// Modulo: the fallback is modulo itself; FRR's rule on request.
	mod := []Candidate{{VTEP: mustAddr(t, "10.0.0.1")}, {VTEP: mustAddr(t, "10.0.0.2")}, hrwPeer}
	if got := elect(t, Election{Alg: DFAlgModulo}, mod, 2); got != mustAddr(t, "10.0.0.3") {
		t.Errorf("modulo with an hrw peer: DF %v, want 10.0.0.3", got)
	}
	_, err = Election{Alg: DFAlgModulo, Mismatch: MismatchNonDF}.Elect(mod, 2)
	checkErr(t, err, ErrAlgMismatch, "uses hrw, we use modulo")
}

func TestElectErrors(t *testing.T) {
	ok := cands(t, DFAlgPreference, "10.0.0.1")
	_, err := ElectDF(DFAlgPreference, nil, 0)
	checkErr(t, err, ErrNoCandidates, "preference")
	_, err = ElectDF(DFAlgModulo, []Candidate{}, 0)
	checkErr(t, err, ErrNoCandidates, "modulo")
	_, err = ElectDF(3, ok, 0)
	checkErr(t, err, ErrUnknownAlg, "alg 3", "modulo", "hrw", "preference")
	_, err = Election{Alg: DFAlgPreference, Mismatch: 7}.Elect(ok, 0)
	checkErr(t, err, ErrInvalid, "mismatch policy 7")

	bad := []struct {
		vteps []netip.Addr
		want  string
	}{
		{[]netip.Addr{mustAddr(t, "10.0.0.1"), {}}, "df candidate 1: VTEP is not set"},
		{[]netip.Addr{mustAddr(t, "fe80::1%swp1")}, "df candidate 0: VTEP fe80::1%swp1 has a zone"},
		{[]netip.Addr{mustAddr(t, "10.0.0.1"), mustAddr(t, "0.0.0.0")}, "df candidate 1: VTEP 0.0.0.0 is unspecified"},
		{[]netip.Addr{mustAddr(t, "10.0.0.1"), mustAddr(t, "10.0.0.2"), mustAddr(t, "10.0.0.1")}, "df candidate 2: VTEP 10.0.0.1 is also candidate 0"},
		{[]netip.Addr{mustAddr(t, "10.0.0.1"), mustAddr(t, "::ffff:10.0.0.1")}, "df candidate 1: VTEP ::ffff:10.0.0.1 is also candidate 0"},
	}
	for _, tt := range bad {
		cs := make([]Candidate, len(tt.vteps))
		for i, v := range tt.vteps {
			cs[i] = Candidate{VTEP: v, Alg: DFAlgPreference, Pref: DefaultDFPref}
		}
		for _, alg := range []DFAlg{DFAlgModulo, DFAlgHRW, DFAlgPreference} {
			for i := range cs {
				cs[i].Alg = alg
			}
			_, err := Election{Alg: alg, ESI: MaxESI}.Elect(cs, 0)
			checkErr(t, err, ErrInvalid, tt.want)
		}
	}
}

// TestElectOrderIndependent shuffles candidates: every PE must reach the same
// result whatever order it learned its peers in.
func TestElectOrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	esi := mustESI(t, "03:44:38:39:ff:ff:01:00:00:01")
	for round := range 300 {
		n := 1 + r.IntN(6)
		seen := map[netip.Addr]bool{}
		var cs []Candidate
		for len(cs) < n {
			var a netip.Addr
			switch r.IntN(3) {
			case 0:
				a = netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(2)), byte(1 + r.IntN(4))})
			case 1:
				a = netip.AddrFrom4([4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), 1})
			default:
				a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(1 + r.IntN(4))})
			}
			if seen[a] {
				continue
			}
			seen[a] = true
			cs = append(cs, Candidate{VTEP: a, Pref: uint16(r.IntN(3)) * 100, DontPreempt: r.IntN(2) == 0})
		}
		tag := r.Uint32N(5000)
		for _, alg := range []DFAlg{DFAlgModulo, DFAlgHRW, DFAlgPreference} {
			for i := range cs {
				cs[i].Alg = alg
			}
			e := Election{Alg: alg, ESI: esi}
			want := elect(t, e, cs, tag)
			if !seen[want] {
				t.Fatalf("round %d: DF %v is not a candidate", round, want)
			}
			for range 5 {
				shuffled := slices.Clone(cs)
				r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
				if got := elect(t, e, shuffled, tag); got != want {
					t.Fatalf("round %d %s: DF %v for %v, %v for %v", round, alg, want, cs, got, shuffled)
				}
			}
		}
	}
}

// TestElectAllocs: an election runs for every ES and VNI on every change; it
// must not allocate.
func TestElectAllocs(t *testing.T) {
	esi := mustESI(t, "03:44:38:39:ff:ff:01:00:00:01")
	for _, alg := range []DFAlg{DFAlgModulo, DFAlgHRW, DFAlgPreference} {
		cs := cands(t, alg, "10.0.0.4", "10.0.0.1", "2001:db8::1", "10.0.0.3")
		e := Election{Alg: alg, ESI: esi}
		tag := uint32(0)
		allocs := testing.AllocsPerRun(200, func() {
			tag++
			if _, err := e.Elect(cs, tag); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per election, want 0", alg, allocs)
		}
	}
}

func TestDFAlgNames(t *testing.T) {
	for a, want := range map[DFAlg]string{DFAlgModulo: "modulo", DFAlgHRW: "hrw", DFAlgPreference: "preference", 5: "alg 5"} {
		if got := a.String(); got != want {
			t.Errorf("DFAlg(%d) = %q, want %q", a, got, want)
		}
	}
	for in, want := range map[string]DFAlg{
		"modulo": DFAlgModulo, "service-carving": DFAlgModulo, "Default": DFAlgModulo, "0": DFAlgModulo,
		"hrw": DFAlgHRW, "HRW": DFAlgHRW, "1": DFAlgHRW, "preference": DFAlgPreference, "pref": DFAlgPreference, "2": DFAlgPreference,
	} {
		got, err := ParseDFAlg(in)
		if err != nil || got != want {
			t.Errorf("ParseDFAlg(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "3", "random"} {
		_, err := ParseDFAlg(in)
		checkErr(t, err, ErrSyntax, "df algorithm", in, "modulo", "hrw", "preference")
	}
	b, err := json.Marshal([]DFAlg{DFAlgModulo, DFAlgHRW, DFAlgPreference})
	if err != nil || string(b) != `["modulo","hrw","preference"]` {
		t.Errorf("json = %s, %v", b, err)
	}
	var back []DFAlg
	if err := json.Unmarshal(b, &back); err != nil || !slices.Equal(back, []DFAlg{0, 1, 2}) {
		t.Errorf("unmarshal = %v, %v", back, err)
	}
	if _, err := DFAlg(3).MarshalText(); err == nil {
		t.Error("alg 3 marshalled")
	}
	if err := json.Unmarshal([]byte(`["x"]`), &back); err == nil {
		t.Error("bad alg unmarshalled")
	}
	for m, want := range map[MismatchPolicy]string{MismatchAuto: "auto", MismatchFallback: "fallback", MismatchNonDF: "non-df", 4: "policy 4"} {
		if got := m.String(); got != want {
			t.Errorf("MismatchPolicy(%d) = %q, want %q", m, got, want)
		}
	}
}

func TestValidateDFPref(t *testing.T) {
	for _, p := range []int{1, int(DefaultDFPref), 65535} {
		if err := ValidateDFPref(p); err != nil {
			t.Errorf("ValidateDFPref(%d): %v", p, err)
		}
	}
	for _, p := range []int{0, -1, 65536} {
		checkErr(t, ValidateDFPref(p), ErrRange, "df preference", "1-65535", "default 32767")
	}
}
