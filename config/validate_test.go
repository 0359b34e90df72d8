package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/fwdplane/fwd/config"
)

// TestValidation feeds files with mistakes and checks every message:
// each names the line, the field path, the value as written and the fix,
// and every problem of a file is reported at once.
func TestValidation(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // the Errors, one per entry, in order
	}{
		{
			name: "empty file",
			src:  "",
			want: []string{
				"no VTEP address: set vtep4 (an IPv4 address) or vtep6 (an IPv6 address) or both, the addresses this node encapsulates from",
				"interfaces: no interfaces: list the access ports and at least one uplink",
			},
		},
		{
			name: "vteps and router mac",
			src: `vtep4: 2001:db8::1
vtep6: 192.0.2.1
router_mac: 01:00:5e:00:00:01
interfaces: [{name: eth0, role: uplink}]
`,
			want: []string{
				`line 1: vtep4: "2001:db8::1": not an IPv4 address: want an IPv4 address such as 192.0.2.1 (an IPv6 VTEP goes in vtep6)`,
				`line 2: vtep6: "192.0.2.1": not an IPv6 address: want an IPv6 address such as 2001:db8::1 (an IPv4 VTEP goes in vtep4)`,
				`line 3: router_mac: "01:00:5e:00:00:01": a multicast MAC (low bit of the first byte set): want a unicast MAC such as 44:38:39:ff:ff:01`,
			},
		},
		{
			name: "unusable vtep addresses",
			src: `vtep4: 0.0.0.0
vtep6: fe80::1
interfaces: [{name: eth0, role: uplink}]
`,
			want: []string{
				`line 1: vtep4: "0.0.0.0": not a unicast address a VTEP can use: want a routable IPv4 address of this node`,
				`line 2: vtep6: "fe80::1": not a unicast address a VTEP can use: want a routable IPv6 address of this node`,
			},
		},
		{
			name: "interfaces",
			src: `vtep4: 192.0.2.1
interfaces:
  - name: this-name-is-too-long
    role: uplink
  - name: eth0
    role: trunk
  - role: access
    untagged_vni: 100
  - name: "eth 1"
    role: uplink
    untagged_vni: 100
    vlans: [{vlan: 10, vni: 100}]
    learn: true
  - name: swp1
    role: access
  - name: swp1
    role: access
    untagged_vni: 100
bridge_domains: [{vni: 100}]
`,
			want: []string{
				`line 3: interfaces[0].name: "this-name-is-too-long": 21 bytes long: Linux interface names have at most 15`,
				`line 6: interfaces[1].role: "trunk": want access (hosts and Ethernet Segments) or uplink (the underlay)`,
				`line 7: interfaces[2].name: missing: want an interface name such as eth1`,
				`line 9: interfaces[3].name: "eth 1": contains ' ': Linux interface names have no '/', ':' or white space`,
				`line 11: interfaces[3].untagged_vni: 100: an uplink bridges no frames: remove untagged_vni, or set role: access`,
				`line 12: interfaces[3].vlans: an uplink bridges no frames: remove vlans, or set role: access`,
				`line 13: interfaces[3].learn: true: an uplink learns no MACs (remote MACs come from EVPN routes): remove learn, or set role: access`,
				`line 14: interfaces[4]: access port swp1 bridges nothing: set untagged_vni or vlans (or remove the port)`,
				`line 16: interfaces[5].name: "swp1": interface swp1 is already declared at interfaces[4]; declare each interface once`,
			},
		},
		{
			name: "no uplink",
			src: `vtep4: 192.0.2.1
interfaces:
  - {name: swp1, role: access, untagged_vni: 100}
bridge_domains: [{vni: 100}]
`,
			want: []string{
				"line 2: interfaces: no uplink: give at least one interface role: uplink, the underlay port VXLAN leaves by",
			},
		},
		{
			name: "vlan maps",
			src: `vtep4: 192.0.2.1
interfaces:
  - {name: eth0, role: uplink}
  - name: swp1
    role: access
    untagged_vni: 100
    vlans:
      - {vlan: 10, vni: 200}
      - {vlan: 10, vni: 0}
      - {vlan: 4095, inner_vlan: 0, vni: 300}
      - {vlan: 20, vni: 100}
      - {vlan: 30}
      - {vlan: 40, inner_vlan: 5, vni: 999}
bridge_domains: [{vni: 100}, {vni: 200}, {vni: 300}]
`,
			want: []string{
				`line 9: interfaces[1].vlans[1].vlan: 10: VLAN 10 is already mapped at interfaces[1].vlans[0]; map each VLAN once per port`,
				`line 9: interfaces[1].vlans[1].vni: 0: want a VNI 1-16777215`,
				`line 10: interfaces[1].vlans[2].vlan: 4095: want a VLAN ID 1-4094`,
				`line 10: interfaces[1].vlans[2].inner_vlan: 0: want an inner VLAN ID 1-4094`,
				`line 11: interfaces[1].vlans[3].vni: 100: VNI 100 is already carried on this port by interfaces[1].untagged_vni; a port carries a VNI under one tag only (frames leaving in it need one tag)`,
				`line 12: interfaces[1].vlans[4].vni: missing: want a VNI 1-16777215`,
				`line 13: interfaces[1].vlans[5].vni: 999: VNI 999 is not a bridge domain: declare it under bridge_domains (have: 100, 200, 300) or fix the VNI`,
			},
		},
		{
			name: "bridge domains",
			src: `vtep4: 192.0.2.1
interfaces: [{name: eth0, role: uplink}]
bridge_domains:
  - {vni: 16777216}
  - {vni: 100, name: a}
  - {vni: 100, name: a}
  - {name: b}
`,
			want: []string{
				`line 4: bridge_domains[0].vni: 16777216: want a VNI 1-16777215`,
				`line 6: bridge_domains[2].vni: 100: VNI 100 is already declared at bridge_domains[1]; declare each VNI once`,
				`line 6: bridge_domains[2].name: "a": name "a" is already used by bridge_domains[1]; names label one bridge domain each`,
				`line 7: bridge_domains[3].vni: missing: want a VNI 1-16777215`,
			},
		},
		{
			name: "static macs",
			src: `vtep4: 192.0.2.1
interfaces:
  - {name: eth0, role: uplink}
  - {name: swp1, role: access, untagged_vni: 100}
  - {name: swp2, role: access, untagged_vni: 200}
bridge_domains:
  - vni: 100
    static_macs:
      - {mac: 00:00:5e:00:53:01, interface: swp1}
      - {mac: 00:00:5e:00:53:01, vtep: 192.0.2.2}
      - {mac: 00:00:5e:00:53:02, interface: swp2}
      - {mac: 00:00:5e:00:53:03, interface: eth0}
      - {mac: 00:00:5e:00:53:04, vtep: 192.0.2.1}
      - {mac: 00:00:5e:00:53:05, interface: swp1, vtep: 192.0.2.2}
      - {mac: ff:ff:ff:ff:ff:ff}
      - {interface: swp9}
  - {vni: 200}
`,
			want: []string{
				`line 10: bridge_domains[0].static_macs[1].mac: "00:00:5e:00:53:01": MAC 00:00:5e:00:53:01 is already pinned at static_macs[0] of this bridge domain; pin each MAC once`,
				`line 11: bridge_domains[0].static_macs[2].interface: "swp2": port swp2 does not carry VNI 100: map the VNI on it (untagged_vni or vlans) or pin the MAC elsewhere`,
				`line 12: bridge_domains[0].static_macs[3].interface: "eth0": interface eth0 is an uplink: a static MAC belongs on an access port`,
				`line 13: bridge_domains[0].static_macs[4].vtep: "192.0.2.1": is this node's own VTEP: a local MAC is pinned with interface instead`,
				`line 14: bridge_domains[0].static_macs[5]: give either interface (a local MAC) or vtep (a remote one), not both`,
				`line 15: bridge_domains[0].static_macs[6].mac: "ff:ff:ff:ff:ff:ff": a multicast MAC (low bit of the first byte set): want a unicast MAC such as 44:38:39:ff:ff:01`,
				`line 15: bridge_domains[0].static_macs[6]: no location: set interface (a local access port) or vtep (a remote VTEP's address)`,
				`line 16: bridge_domains[0].static_macs[7].mac: missing: want a unicast MAC such as 00:00:5e:00:53:01`,
				`line 16: bridge_domains[0].static_macs[7].interface: "swp9": no interface swp9 in interfaces: declare it with role: access (have: eth0, swp1, swp2)`,
			},
		},
		{
			name: "ethernet segments",
			src: `vtep4: 192.0.2.1
interfaces:
  - {name: eth0, role: uplink}
  - {name: swp1, role: access, untagged_vni: 100}
  - {name: swp2, role: access, untagged_vni: 100}
  - {name: eth3, role: access, untagged_vni: 100}
bridge_domains: [{vni: 100}]
ethernet_segments:
  - {name: a, interface: eth3, es_id: 1, es_sys_mac: 44:38:39:ff:ff:01}
  - {name: b, interface: eth3, esi: 03:44:38:39:ff:ff:01:00:00:01}
  - {interface: eth0, esi: 00:00:00:00:00:00:00:00:00:00}
  - {interface: swp9, esi: ff:ff:ff:ff:ff:ff:ff:ff:ff:ff}
  - {interface: swp1, esi: 00:11, es_id: 2}
  - {interface: swp1}
  - {interface: swp2, es_id: 16777216, es_sys_mac: 00:00:00:00:00:00}
  - {name: c, interface: swp2, esi: "00:11:22:33:44:55:66:77:88:zz", df_algorithm: fastest, df_preference: 0}
  - {name: d, interface: swp2, es_id: 7, df_algorithm: modulo, df_preference: 100}
`,
			want: []string{
				`line 10: ethernet_segments[1].interface: "eth3": port eth3 is already on ES "a" (ethernet_segments[0]); a port belongs to one ES`,
				`line 10: ethernet_segments[1]: 03:44:38:39:ff:ff:01:00:00:01: ESI 03:44:38:39:ff:ff:01:00:00:01 is already used by ES "a" (ethernet_segments[0]); every ES needs its own ESI`,
				`line 11: ethernet_segments[2].interface: "eth0": interface eth0 is an uplink: an ES belongs on an access port`,
				`line 11: ethernet_segments[2].esi: "00:00:00:00:00:00:00:00:00:00": the zero ESI is reserved (it means single-homed): want a non-zero ESI`,
				`line 12: ethernet_segments[3].interface: "swp9": no interface swp9 in interfaces: declare it with role: access (have: eth0, swp1, swp2, eth3)`,
				`line 12: ethernet_segments[3].esi: "ff:ff:ff:ff:ff:ff:ff:ff:ff:ff": the all-ones ESI is reserved (MAX-ESI, RFC 7432): want another ESI`,
				`line 13: ethernet_segments[4]: both esi and es_id/es_sys_mac: give one form only; set esi (ten bytes such as 00:11:22:33:44:55:66:77:88:99), or es_id and es_sys_mac (FRR's evpn mh es-id and es-sys-mac)`,
				`line 14: ethernet_segments[5].interface: "swp1": port swp1 is already on ES "swp1" (ethernet_segments[4]); a port belongs to one ES`,
				`line 14: ethernet_segments[5]: no ESI: set esi (ten bytes such as 00:11:22:33:44:55:66:77:88:99), or es_id and es_sys_mac (FRR's evpn mh es-id and es-sys-mac)`,
				`line 15: ethernet_segments[6].es_id: 16777216: want an es_id 1-16777215`,
				`line 15: ethernet_segments[6].es_sys_mac: "00:00:00:00:00:00": the zero MAC: want a unicast MAC such as 44:38:39:ff:ff:01`,
				`line 16: ethernet_segments[7].interface: "swp2": port swp2 is already on ES "swp2" (ethernet_segments[6]); a port belongs to one ES`,
				`line 16: ethernet_segments[7].esi: "00:11:22:33:44:55:66:77:88:zz": not an ESI: want ten hex bytes separated by colons, such as 00:11:22:33:44:55:66:77:88:99, or 20 hex digits`,
				`line 16: ethernet_segments[7].df_algorithm: "fastest": want preference (FRR's, the default), modulo or hrw`,
				`line 16: ethernet_segments[7].df_preference: 0: want a DF preference 1-65535`,
				`line 17: ethernet_segments[8].interface: "swp2": port swp2 is already on ES "swp2" (ethernet_segments[6]); a port belongs to one ES`,
				`line 17: ethernet_segments[8].es_sys_mac: missing: es_id needs es_sys_mac, a unicast MAC shared by the ES's PEs (FRR's evpn mh es-sys-mac)`,
				`line 17: ethernet_segments[8].df_preference: 100: df_preference applies to df_algorithm preference only, not modulo: remove it or set df_algorithm: preference`,
			},
		},
		{
			name: "settings",
			src: `vtep4: 192.0.2.1
interfaces: [{name: eth0, role: uplink}]
multihoming: {df_delay: "3", ead_per_es_only: true}
hooks: {dir: hooks}
api:
  socket: /run/fwd/` + strings.Repeat("x", 100) + `.sock
  read_group: "fwd users"
log: {format: xml, level: loud}
dataplane:
  pin_dir: ""
  fdb_size: 0
  fdb_cache_sets: 1000
  vxlan_port: 65536
  ttl: 0
  learn_rate: -1
  learn_burst: 0
`,
			want: []string{
				`line 3: multihoming.df_delay: "3": want a duration with a unit, such as 3s (FRR's) or 500ms`,
				`line 4: hooks.dir: "hooks": a relative path: want an absolute directory such as /etc/fwd/hooks, or "" for no hooks`,
				`line 6: api.socket: "/run/fwd/` + strings.Repeat("x", 100) + `.sock": 114 bytes long: a unix socket path has at most 107`,
				`line 7: api.read_group: "fwd users": not a group name: want a name of at most 32 letters, digits, '_', '-' or '.', or a numeric gid`,
				`line 8: log.format: "xml": want json (the default) or text`,
				`line 8: log.level: "loud": want debug, info, warn or error`,
				`line 9: dataplane.keep_xdp_on_stop: true: XDP stays attached after a stop only through links pinned in pin_dir: set a pin_dir, or keep_xdp_on_stop: false`,
				`line 11: dataplane.fdb_size: 0: want an FDB size (MACs) 1-16777216`,
				`line 12: dataplane.fdb_cache_sets: 1000: not a power of two: want a power of two 1-1048576, such as 65536`,
				`line 13: dataplane.vxlan_port: 65536: want a UDP port 1-65535`,
				`line 14: dataplane.ttl: 0: want a TTL 1-255`,
				`line 15: dataplane.learn_rate: -1: want learn events per second per CPU (0: off) 0-4294967295`,
				`line 16: dataplane.learn_burst: 0: want a learn burst 1-4294967295`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse([]byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", c)
			}
			var es config.Errors
			if !errors.As(err, &es) {
				t.Fatalf("Parse error %T is not config.Errors: %v", err, err)
			}
			got := make([]string, len(es))
			for i, e := range es {
				got[i] = e.Error()
				if !errors.Is(e, config.ErrInvalid) {
					t.Errorf("%q is not ErrInvalid", got[i])
				}
			}
			checkLines(t, got, tt.want)
			if err.Error() != strings.Join(got, "\n") {
				t.Errorf("Errors.Error() is not its entries one a line:\n%s", err)
			}
		})
	}
}

// checkLines compares error messages, listing every difference.
func checkLines(t *testing.T, got, want []string) {
	t.Helper()
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("error %d:\n got %s\nwant %s", i, g, w)
		}
	}
}

// TestLimits checks the table sizes of the fast path.
func TestLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("vtep4: 192.0.2.1\ninterfaces: [{name: eth0, role: uplink}]\nbridge_domains:\n")
	for vni := 1; vni <= config.MaxBridgeDomains+1; vni++ {
		b.WriteString("  - {vni: ")
		b.WriteString(itoa(vni))
		b.WriteString("}\n")
	}
	_, err := config.Parse([]byte(b.String()))
	want := "line 3: bridge_domains: 16384 bridge domains: the fast path holds at most 16383"
	if err == nil || err.Error() != want {
		t.Errorf("Parse = %v, want %s", err, want)
	}
}

func itoa(n int) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(buf[i:])
		}
	}
}

// TestValid checks corner cases that must be accepted.
func TestValid(t *testing.T) {
	c := mustParse(t, `
vtep4: 10.0.0.1
interfaces:
  - {name: eth0, role: uplink, learn: false}
  - {name: swp1, role: access, vlans: [{vlan: 10, inner_vlan: 20, vni: 100}, {vlan: 10, inner_vlan: 21, vni: 200}]}
  - {name: "bond0.100", role: access, untagged_vni: 100}
bridge_domains: [{vni: 100}, {vni: 200}]
ethernet_segments:
  - {interface: swp1, esi: "0311223344556600000a", df_algorithm: MODULO}
multihoming: {df_delay: 0s}
hooks: {dir: ""}
api: {read_group: "1234"}
log: {format: TEXT, level: DEBUG}
dataplane: {pin_dir: "", keep_xdp_on_stop: false, learn_rate: 0}
bgp: null
`)
	es := c.EthernetSegments[0]
	if es.Name != "swp1" || es.ESID != 10 || es.SysMAC.String() != "11:22:33:44:55:66" || es.DFAlg.String() != "modulo" {
		t.Errorf("ES = %+v", es)
	}
	if c.Multihoming.DFDelay != 0 || c.Hooks.Dir != "" || c.API.ReadGroup != "1234" || c.Log.Format != config.LogText ||
		c.Dataplane.PinDir != "" || c.Dataplane.LearnRate != 0 || c.BGP != nil {
		t.Errorf("config = %+v", c)
	}
	if it, _ := c.Interface("eth0"); it.Learn {
		t.Errorf("uplink learns")
	}
}
