package evpn

import (
	"encoding/json"
	"testing"
)

func validAttrs(tb testing.TB) Attrs {
	tb.Helper()
	return Attrs{
		NextHop:      mustAddr(tb, "10.0.0.1"),
		RouteTargets: []RT{mustRT(tb, "65000:100"), mustRT(tb, "10.0.0.1:5")},
		ESImportRT:   mustMAC(tb, "44:38:39:ff:ff:01"),
		MACMobility:  MACMobility{Seq: 3, Sticky: true},
		RouterMAC:    mustMAC(tb, "00:00:5e:00:01:01"),
		ESILabel:     ESILabel{SingleActive: false, Label: 17},
		DFElection:   DFElection{Alg: DFAlgPreference, Pref: 50000},
		Proxy:        true,
		Router:       true,
	}
}

func TestAttrsValidate(t *testing.T) {
	if err := validAttrs(t).Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mod   func(*Attrs)
		err   error
		field string
	}{
		{func(a *Attrs) { a.NextHop = mustAddr(t, "0.0.0.0") }, ErrInvalid, "NextHop 0.0.0.0 is unspecified"},
		{func(a *Attrs) { a.NextHop = mustAddr(t, "fe80::1%swp1") }, ErrInvalid, "NextHop fe80::1%swp1 has a zone"},
		{func(a *Attrs) { a.RouteTargets = append(a.RouteTargets, RT{}) }, ErrInvalid, "RouteTargets[2] extcomm:0000000000000000 is not a route target"},
		{func(a *Attrs) { a.ESILabel.Label = 1 << 24 }, ErrRange, "ESILabel.Label 16777216"},
	}
	for _, tt := range tests {
		a := validAttrs(t)
		tt.mod(&a)
		checkErr(t, a.Validate(), tt.err, "attrs", tt.field)
	}
	checkErr(t, Attrs{}.Validate(), ErrInvalid, "NextHop is not set")
}

func TestAttrsEqual(t *testing.T) {
	a, b := validAttrs(t), validAttrs(t)
	if !a.Equal(b) {
		t.Fatal("equal attrs differ")
	}
	if !(Attrs{}).Equal(Attrs{RouteTargets: []RT{}}) {
		t.Error("nil and empty route targets differ")
	}
	mods := []func(*Attrs){
		func(a *Attrs) { a.NextHop = mustAddr(t, "10.0.0.2") },
		func(a *Attrs) { a.RouteTargets = a.RouteTargets[:1] },
		func(a *Attrs) { a.RouteTargets[0], a.RouteTargets[1] = a.RouteTargets[1], a.RouteTargets[0] },
		func(a *Attrs) { a.ESImportRT = MAC{} },
		func(a *Attrs) { a.MACMobility.Seq++ },
		func(a *Attrs) { a.MACMobility.Sticky = false },
		func(a *Attrs) { a.RouterMAC = MAC{} },
		func(a *Attrs) { a.ESILabel.SingleActive = true },
		func(a *Attrs) { a.ESILabel.Label++ },
		func(a *Attrs) { a.DFElection.Alg = DFAlgHRW },
		func(a *Attrs) { a.DFElection.Pref++ },
		func(a *Attrs) { a.DFElection.DontPreempt = true },
		func(a *Attrs) { a.Proxy = false },
		func(a *Attrs) { a.Router = false },
	}
	for i, mod := range mods {
		b := validAttrs(t)
		mod(&b)
		if a.Equal(b) || b.Equal(a) {
			t.Errorf("modification %d not seen by Equal", i)
		}
	}
}

func TestDFElectionCandidate(t *testing.T) {
	vtep := mustAddr(t, "10.0.0.3")
	got := DFElection{Alg: DFAlgPreference, Pref: 100, DontPreempt: true}.Candidate(vtep)
	want := Candidate{VTEP: vtep, Alg: DFAlgPreference, Pref: 100, DontPreempt: true}
	if got != want {
		t.Errorf("Candidate() = %+v, want %+v", got, want)
	}
}

func TestSource(t *testing.T) {
	for s, name := range map[Source]string{SourceBGP: "bgp", SourceAPI: "api", SourceStatic: "static", SourceLocal: "local", 0: "source 0", 9: "source 9"} {
		if got := s.String(); got != name {
			t.Errorf("Source(%d) = %q, want %q", s, got, name)
		}
		parsed, err := ParseSource(name)
		if s >= SourceBGP && s <= SourceLocal {
			if err != nil || parsed != s {
				t.Errorf("ParseSource(%q) = %v, %v", name, parsed, err)
			}
		} else {
			checkErr(t, err, ErrSyntax, "source", name, "bgp, api, static or local")
		}
	}
	if s, err := ParseSource("BGP"); err != nil || s != SourceBGP {
		t.Errorf("ParseSource(BGP) = %v, %v", s, err)
	}
	b, err := json.Marshal(map[string]Source{"s": SourceStatic})
	if err != nil || string(b) != `{"s":"static"}` {
		t.Errorf("json = %s, %v", b, err)
	}
	var back map[string]Source
	if err := json.Unmarshal(b, &back); err != nil || back["s"] != SourceStatic {
		t.Errorf("unmarshal = %v, %v", back, err)
	}
	if _, err := Source(0).MarshalText(); err == nil {
		t.Error("source 0 marshalled")
	}
	if err := json.Unmarshal([]byte(`{"s":"ospf"}`), &back); err == nil {
		t.Error("bad source unmarshalled")
	}
}

func TestPath(t *testing.T) {
	r := sampleRoutes(t)[2]
	p := Path{Route: r, Attrs: validAttrs(t), Source: SourceBGP}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := p.String(), r.String()+" via 10.0.0.1 from bgp"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	w := Path{Route: r, Source: SourceAPI, Withdraw: true}
	if err := w.Validate(); err != nil {
		t.Errorf("withdraw without attributes: %v", err)
	}
	if got, want := w.String(), r.String()+" withdraw from api"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}

	checkErr(t, Path{Route: r, Attrs: validAttrs(t)}.Validate(), ErrInvalid, "path", "Source 0 is not set")
	checkErr(t, Path{Source: SourceLocal}.Validate(), ErrInvalid, "path from local", "route: missing")
	checkErr(t, Path{Route: (*ESRoute)(nil), Source: SourceLocal}.Validate(), ErrInvalid, "route: missing")
	checkErr(t, Path{Route: MACIPRoute{RD: mustRD(t, "1:1")}, Source: SourceStatic}.Validate(), ErrInvalid, "path from static", "macip route 1:1", "MAC must not be zero")
	checkErr(t, Path{Route: r, Source: SourceBGP}.Validate(), ErrInvalid, "path 10.0.0.1:2 [2]", "from bgp", "attrs: NextHop is not set")
	if got := (Path{Route: (*ESRoute)(nil), Source: SourceBGP}).String(); got != "<nil route> via invalid IP from bgp" {
		t.Errorf("nil route String() = %q", got)
	}
}
