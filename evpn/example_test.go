package evpn

import (
	"errors"
	"fmt"
	"net/netip"
)

// FRR's "evpn mh es-id 1" with "evpn mh es-sys-mac 44:38:39:ff:ff:01".
func ExampleESIFromSysMAC() {
	mac, _ := ParseMAC("44:38:39:ff:ff:01")
	esi, err := ESIFromSysMAC(mac, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	rt, _ := esi.ImportRT()
	fmt.Println(esi, esi.Type(), "es-import-rt", rt)

	_, err = ESIFromSysMAC(mac, 0)
	fmt.Println(err)
	// Output:
	// 03:44:38:39:ff:ff:01:00:00:01 mac es-import-rt 44:38:39:ff:ff:01
	// es-id 0: must be 1-16777215 (it fills the 3-byte discriminator of a type-3 esi): out of range
}

func ExampleParseRD() {
	for _, s := range []string{"65000:100", "10.0.0.1:2", "4200000000:7", "0.100:5", "10.0.0.1:70000"} {
		rd, err := ParseRD(s)
		if err != nil {
			fmt.Println(errors.Is(err, ErrRange), err)
			continue
		}
		fmt.Println(rd, rd.Type())
	}
	// Output:
	// 65000:100 as2
	// 10.0.0.1:2 ipv4
	// 4200000000:7 as4
	// 0.100:5 as4
	// true rd "10.0.0.1:70000": number 70000 is larger than 65535, the most an IPv4 address leaves room for; want ASN:nn, IPv4:nn or 4-byte-ASN:nn, e.g. 65000:100 (nn up to 4294967295), 10.0.0.1:100 or 4200000000:100 (nn up to 65535); a 4-byte ASN may also be written X.Y (asdot), e.g. 0.100:5: out of range
}

func ExampleAutoRT() {
	rt, _ := AutoRT(65000, 10100, false)
	fmt.Println(rt)
	// Output: 65000:10100
}

// FRR's preference election: highest preference, default 32767, ties to the
// lowest VTEP.
func ExampleElectDF() {
	local := Candidate{VTEP: netip.MustParseAddr("10.0.0.1"), Alg: DFAlgPreference, Pref: DefaultDFPref}
	peer := Candidate{VTEP: netip.MustParseAddr("10.0.0.2"), Alg: DFAlgPreference, Pref: DefaultDFPref}
	df, _ := ElectDF(DFAlgPreference, []Candidate{peer, local}, 0)
	fmt.Println("default preferences:", df)

	peer.Pref = 50000
	df, _ = ElectDF(DFAlgPreference, []Candidate{peer, local}, 0)
	fmt.Println("peer preferred:", df)

	// A peer that runs another algorithm makes the local PE non-DF (FRR).
	peer.Alg = DFAlgModulo
	_, err := ElectDF(DFAlgPreference, []Candidate{peer, local}, 0)
	fmt.Println(errors.Is(err, ErrAlgMismatch))
	// Output:
	// default preferences: 10.0.0.1
	// peer preferred: 10.0.0.2
	// true
}

// HRW hashes the ESI, so it runs through an Election that carries it.
func ExampleElection_Elect() {
	esi, _ := ParseESI("03:44:38:39:ff:ff:01:00:00:01")
	e := Election{Alg: DFAlgHRW, ESI: esi}
	var cs []Candidate
	for _, v := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		cs = append(cs, Candidate{VTEP: netip.MustParseAddr(v), Alg: DFAlgHRW})
	}
	for _, vni := range []uint32{0, 1, 100} {
		df, _ := e.Elect(cs, vni)
		fmt.Println(vni, df)
	}
	// Output:
	// 0 10.0.0.3
	// 1 10.0.0.1
	// 100 10.0.0.3
}

func ExampleRoute() {
	rd, _ := ParseRD("10.0.0.1:2")
	mac, _ := ParseMAC("00:02:00:00:00:01")
	r := MACIPRoute{RD: rd, MAC: mac, IP: netip.MustParseAddr("10.1.1.1"), Label1: 100, Label2: 4000}
	fmt.Println(r)
	fmt.Println(r.Key())
	fmt.Println(ValidateRoute(MACIPRoute{RD: rd, Label1: 1 << 24, MAC: mac}))
	// Output:
	// 10.0.0.1:2 [2]:[0]:[48]:[00:02:00:00:00:01]:[32]:[10.1.1.1] label1 100 label2 4000
	// 10.0.0.1:2 [2]:[0]:[48]:[00:02:00:00:00:01]:[32]:[10.1.1.1]
	// macip route 10.0.0.1:2 [2]:[0]:[48]:[00:02:00:00:00:01]: Label1 16777216 is wider than 24 bits (max 16777215): out of range
}
