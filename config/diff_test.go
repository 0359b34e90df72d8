package config_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/fwdplane/fwd/config"
	"github.com/fwdplane/fwd/evpn"
)

// edit returns the example with each old string replaced by its new one;
// every old string must be there.
func edit(tb testing.TB, src string, pairs ...string) string {
	tb.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(src, pairs[i]) {
			tb.Fatalf("edit: %q not in the source", pairs[i])
		}
		src = strings.Replace(src, pairs[i], pairs[i+1], 1)
	}
	return src
}

func TestDiffUnchanged(t *testing.T) {
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	old := mustParse(t, string(b))
	// Comments, order of keys, flow style and anchors are not changes.
	reformatted := edit(t, string(b),
		"  - name: eth0                    # kernel interface name, at most 15 bytes\n    role: uplink                  # access | uplink\n",
		"  - {role: uplink, name: eth0}\n",
		"bgp:\n  asn: 65011", "bgp: {asn: 65011}  # a flow mapping now",
	)
	d := config.Diff(old, mustParse(t, reformatted))
	if !d.Empty() || d.String() != "no changes" {
		t.Errorf("Diff of a reformatted file:\n%s", d)
	}
}

func TestDiff(t *testing.T) {
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	old := mustParse(t, src)
	new := mustParse(t, edit(t, src,
		// swp2 leaves (with its VLAN and its ES host2), swp4 arrives.
		"  - name: swp2\n    role: access\n    vlans:\n      - vlan: 200\n        vni: 200\n",
		"  - name: swp4\n    role: access\n    untagged_vni: 400\n",
		"  - name: host2\n    interface: swp2\n    esi: 00:11:22:33:44:55:66:77:88:99  # a full ESI instead (ten bytes; not zero or all ones)\n    df_algorithm: hrw             # no df_preference with hrw or modulo\n",
		"  - name: host4\n    interface: swp4\n    es_id: 4\n    es_sys_mac: 44:38:39:ff:ff:01\n",
		// swp1: one VLAN moves to another VNI, one changes tags; learning off.
		"      - vlan: 300\n        inner_vlan: 30", "      - vlan: 300\n        inner_vlan: 31",
		"        vni: 200                  # a VNI declared in bridge_domains", "        vni: 400",
		"    learn: true                   # report", "    learn: false                  # report",
		// host1's DF preference changes.
		"df_preference: 50000", "df_preference: 40000",
		// VNI 200 leaves, 400 arrives, 300 is renamed, a static MAC moves.
		"  - vni: 200\n    name: storage\n", "  - vni: 400\n",
		"name: tenant-a", "name: tenant-b",
		"        vtep: 192.0.2.12", "        vtep: 192.0.2.13",
		// Settings.
		"level: info", "level: debug",
		"fdb_size: 1048576", "fdb_size: 2097152",
		"asn: 65011", "asn: 65012",
	))
	d := config.Diff(old, new)

	swp1, _ := new.Interface("swp1")
	swp1Old, _ := old.Interface("swp1")
	swp2, _ := old.Interface("swp2")
	swp4, _ := new.Interface("swp4")
	want := config.Set[config.Interface]{
		Added:   []config.Interface{*swp4},
		Removed: []config.Interface{*swp2},
		Changed: []config.Change[config.Interface]{{Old: *swp1Old, New: *swp1}},
	}
	if !reflect.DeepEqual(d.Interfaces, want) {
		t.Errorf("Interfaces = %+v\nwant %+v", d.Interfaces, want)
	}
	wantVLANs := config.Set[config.PortVLAN]{
		Added: []config.PortVLAN{
			{Interface: "swp1", VLAN: 300, InnerVLAN: 31, VNI: 300},
			{Interface: "swp4", VNI: 400},
		},
		Removed: []config.PortVLAN{
			{Interface: "swp1", VLAN: 300, InnerVLAN: 30, VNI: 300},
			{Interface: "swp2", VLAN: 200, VNI: 200},
		},
		Changed: []config.Change[config.PortVLAN]{{
			Old: config.PortVLAN{Interface: "swp1", VLAN: 200, VNI: 200},
			New: config.PortVLAN{Interface: "swp1", VLAN: 200, VNI: 400},
		}},
	}
	if !reflect.DeepEqual(d.VLANs, wantVLANs) {
		t.Errorf("VLANs = %+v\nwant %+v", d.VLANs, wantVLANs)
	}
	wantBDs := config.Set[config.BridgeDomain]{
		Added:   []config.BridgeDomain{{VNI: 400}},
		Removed: []config.BridgeDomain{{VNI: 200, Name: "storage"}},
		Changed: []config.Change[config.BridgeDomain]{{Old: config.BridgeDomain{VNI: 300, Name: "tenant-a"}, New: config.BridgeDomain{VNI: 300, Name: "tenant-b"}}},
	}
	if !reflect.DeepEqual(d.BridgeDomains, wantBDs) {
		t.Errorf("BridgeDomains = %+v\nwant %+v", d.BridgeDomains, wantBDs)
	}
	if len(d.StaticMACs.Added)+len(d.StaticMACs.Removed) != 0 || len(d.StaticMACs.Changed) != 1 ||
		d.StaticMACs.Changed[0].Old.VTEP.String() != "192.0.2.12" || d.StaticMACs.Changed[0].New.VTEP.String() != "192.0.2.13" {
		t.Errorf("StaticMACs = %+v", d.StaticMACs)
	}
	host1Old, _ := old.ESOn("swp1")
	host1, _ := new.ESOn("swp1")
	host2, _ := old.ESOn("swp2")
	host4, _ := new.ESOn("swp4")
	wantES := config.Set[config.EthernetSegment]{
		Added:   []config.EthernetSegment{*host4},
		Removed: []config.EthernetSegment{*host2},
		Changed: []config.Change[config.EthernetSegment]{{Old: *host1Old, New: *host1}},
	}
	if !reflect.DeepEqual(d.EthernetSegments, wantES) {
		t.Errorf("EthernetSegments = %+v\nwant %+v", d.EthernetSegments, wantES)
	}
	if host4.ESI != (evpn.ESI{3, 0x44, 0x38, 0x39, 0xff, 0xff, 0x01, 0, 0, 4}) {
		t.Errorf("host4 ESI = %s", host4.ESI)
	}
	wantSettings := []config.Setting{
		{Path: "log.level", Old: "info", New: "debug", Live: true},
		{Path: "dataplane.fdb_size", Old: "1048576", New: "2097152"},
		{Path: "bgp", Old: "{asn: 65011}", New: "{asn: 65012}"},
	}
	if !reflect.DeepEqual(d.Settings, wantSettings) {
		t.Errorf("Settings = %+v\nwant %+v", d.Settings, wantSettings)
	}
	if got := d.Restart(); !reflect.DeepEqual(got, wantSettings[1:]) {
		t.Errorf("Restart() = %+v", got)
	}

	// The summary lists removals first (maps before the objects they use),
	// then additions (objects before the maps that use them).
	wantLines := []string{
		"- vlan map swp1 vlan 300.30 -> VNI 300",
		"- vlan map swp2 vlan 200 -> VNI 200",
		"- ethernet_segment 00:11:22:33:44:55:66:77:88:99 (host2) on swp2, df hrw",
		"- interface swp2 (access)",
		"- bridge_domain 200 (storage)",
		"+ bridge_domain 400",
		`~ bridge_domain 300: name "tenant-a" -> "tenant-b"`,
		"+ interface swp4 (access)",
		"~ interface swp1: learn true -> false",
		"+ ethernet_segment 03:44:38:39:ff:ff:01:00:00:04 (host4) on swp4, df preference 32767",
		"~ ethernet_segment 03:44:38:39:ff:ff:01:00:00:01: df_preference 50000 -> 40000",
		"+ vlan map swp1 vlan 300.31 -> VNI 300",
		"+ vlan map swp4 untagged -> VNI 400",
		"~ vlan map swp1 vlan 200: VNI 200 -> 400",
		"~ static_mac VNI 100 00:00:5e:00:53:02: behind VTEP 192.0.2.12 -> behind VTEP 192.0.2.13",
		`~ log.level: "info" -> "debug" (live)`,
		`~ dataplane.fdb_size: "1048576" -> "2097152" (at the next start)`,
		`~ bgp: "{asn: 65011}" -> "{asn: 65012}" (at the next start)`,
	}
	checkLines(t, d.Lines(), wantLines)
	if d.Empty() {
		t.Error("Empty() = true")
	}
}

// TestDiffRoleAndESI checks that an interface changing role is one
// change (its VLAN maps going with it), and that an ES whose ESI changes
// is a removal and an addition.
func TestDiffRoleAndESI(t *testing.T) {
	const a = `vtep4: 192.0.2.1
interfaces:
  - {name: eth0, role: uplink}
  - {name: swp1, role: access, vlans: [{vlan: 10, vni: 100}]}
  - {name: swp2, role: access, untagged_vni: 100}
bridge_domains: [{vni: 100}]
ethernet_segments: [{interface: swp2, es_id: 1, es_sys_mac: 44:38:39:ff:ff:01}]
`
	old := mustParse(t, a)
	new := mustParse(t, edit(t, a,
		"{name: swp1, role: access, vlans: [{vlan: 10, vni: 100}]}", "{name: swp1, role: uplink}",
		"es_id: 1", "es_id: 2",
		"vtep4: 192.0.2.1", "vtep4: 192.0.2.2\nvtep6: 2001:db8::2",
	))
	d := config.Diff(old, new)
	wantLines := []string{
		"- vlan map swp1 vlan 10 -> VNI 100",
		"- ethernet_segment 03:44:38:39:ff:ff:01:00:00:01 on swp2, df preference 32767",
		"~ interface swp1: role access -> uplink, learn true -> false",
		"+ ethernet_segment 03:44:38:39:ff:ff:01:00:00:02 on swp2, df preference 32767",
		`~ vtep4: "192.0.2.1" -> "192.0.2.2" (at the next start)`,
		`~ vtep6: "" -> "2001:db8::2" (at the next start)`,
	}
	checkLines(t, d.Lines(), wantLines)
	if got := d.Interfaces.Len() + d.VLANs.Len() + d.EthernetSegments.Len(); got != 4 {
		t.Errorf("%d object changes, want 4", got)
	}
}
