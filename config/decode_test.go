package config_test

import (
	"errors"
	"testing"

	"github.com/fwdplane/fwd/config"
)

const base = `vtep4: 192.0.2.1
interfaces:
  - {name: eth0, role: uplink}
  - {name: swp1, role: access, untagged_vni: 100}
bridge_domains: [{vni: 100}]
`

// TestStrictDecoding checks that keys the schema does not have, values of
// the wrong kind and broken YAML are rejected with their line.
func TestStrictDecoding(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		sentinel error
		want     []string
	}{
		{
			name:     "unknown top-level key",
			src:      base + "vtep: 192.0.2.1\n",
			sentinel: config.ErrUnknownKey,
			want: []string{
				`line 6: vtep: unknown key; did you mean "vtep4"? (keys at the top level: vtep4, vtep6, router_mac, interfaces, bridge_domains, ethernet_segments, multihoming, hooks, api, log, dataplane, bgp)`,
			},
		},
		{
			name: "FRR's dashed spelling, nested",
			src: base + `ethernet_segments:
  - interface: swp1
    es-id: 1
    es-sys-mac: 44:38:39:ff:ff:01
`,
			sentinel: config.ErrUnknownKey,
			want: []string{
				// The misspelled fields are not reported missing as well.
				`line 8: ethernet_segments[0].es-id: unknown key; did you mean "es_id"? (keys in ethernet_segments[0]: name, interface, esi, es_id, es_sys_mac, df_algorithm, df_preference)`,
				`line 9: ethernet_segments[0].es-sys-mac: unknown key; did you mean "es_sys_mac"? (keys in ethernet_segments[0]: name, interface, esi, es_id, es_sys_mac, df_algorithm, df_preference)`,
			},
		},
		{
			name:     "unknown key without a near match",
			src:      base + "dataplane: {xdp_mode: native}\n",
			sentinel: config.ErrUnknownKey,
			want: []string{
				`line 6: dataplane.xdp_mode: unknown key (keys in dataplane: pin_dir, fdb_size, fdb_cache_sets, keep_xdp_on_stop, vxlan_port, ttl, learn_rate, learn_burst)`,
			},
		},
		{
			name: "wrong kinds",
			src: `vtep4: [192.0.2.1]
interfaces:
  - name: eth0
    role: uplink
  - name: swp1
    role: access
    untagged_vni: "100"
    learn: "yes please"
    vlans: {vlan: 10, vni: 100}
bridge_domains: 100
log: json
`,
			sentinel: config.ErrType,
			want: []string{
				`line 1: vtep4: a list: want a string`,
				`line 7: interfaces[1].untagged_vni: "100": want an integer`,
				`line 8: interfaces[1].learn: "yes please": want true or false`,
				`line 9: interfaces[1].vlans: a mapping: want a list`,
				`line 10: bridge_domains: 100: want a list`,
				`line 11: log: "json": want a mapping with keys format, level`,
			},
		},
		{
			name:     "number too large",
			src:      base + "dataplane: {fdb_size: 99999999999999999999}\n",
			sentinel: config.ErrType,
			want:     []string{`line 6: dataplane.fdb_size: 99999999999999999999: integer out of range: want -9223372036854775808 to 9223372036854775807`},
		},
		{
			name:     "syntax",
			src:      "vtep4: 192.0.2.1\ninterfaces:\n\t- {name: eth0, role: uplink}\n",
			sentinel: config.ErrSyntax,
			want:     []string{`line 3: found character that cannot start any token`},
		},
		{
			name:     "duplicate key",
			src:      base + "vtep4: 192.0.2.2\n",
			sentinel: config.ErrSyntax,
			want:     []string{`line 6: vtep4: key given twice (first at line 1): keep one`},
		},
		{
			name:     "two documents",
			src:      base + "---\nvtep4: 192.0.2.2\n",
			sentinel: config.ErrSyntax,
			want:     []string{`line 6: a second document starts here; want one document (remove the "---" and what follows, or merge them)`},
		},
		{
			name:     "not a mapping",
			src:      "- vtep4: 192.0.2.1\n",
			sentinel: config.ErrType,
			want:     []string{`line 1: a list: want a mapping with keys vtep4, vtep6, router_mac, interfaces, bridge_domains, ethernet_segments, multihoming, hooks, api, log, dataplane, bgp`},
		},
		{
			name: "unknown key inside a merged anchor",
			src: `vtep4: 192.0.2.1
x-access: &access {role: access, lern: false}
interfaces:
  - {name: eth0, role: uplink}
  - {<<: *access, name: swp1, untagged_vni: 100}
bridge_domains: [{vni: 100}]
`,
			sentinel: config.ErrUnknownKey,
			want: []string{
				`line 2: x-access: unknown key (keys at the top level: vtep4, vtep6, router_mac, interfaces, bridge_domains, ethernet_segments, multihoming, hooks, api, log, dataplane, bgp)`,
				`line 2: interfaces[1].lern: unknown key; did you mean "learn"? (keys in interfaces[1]: name, role, untagged_vni, vlans, learn)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tt.src))
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			var es config.Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T is not config.Errors: %v", err, err)
			}
			got := make([]string, len(es))
			for i, e := range es {
				got[i] = e.Error()
				if !errors.Is(e, tt.sentinel) {
					t.Errorf("%q is not %v", got[i], tt.sentinel)
				}
			}
			checkLines(t, got, tt.want)
		})
	}
}

// TestAnchors checks that YAML anchors and merge keys work as YAML says.
func TestAnchors(t *testing.T) {
	c := mustParse(t, `vtep4: 192.0.2.1
bridge_domains: [{vni: 100}, {vni: 200}]
interfaces:
  - {name: eth0, role: uplink}
  - &host {name: swp1, role: access, learn: false, vlans: &vlans [{vlan: 10, vni: 100}, {vlan: 20, vni: 200}]}
  - {<<: *host, name: swp2}
  - {name: swp3, role: access, vlans: *vlans}
`)
	for _, name := range []string{"swp1", "swp2", "swp3"} {
		it, ok := c.Interface(name)
		if !ok || len(it.VLANs) != 2 || it.VLANs[1].VNI != 200 || it.Learn != (name == "swp3") {
			t.Errorf("%s = %+v", name, it)
		}
	}
}

// TestDecodeBGP checks the reserved section: accepted as it is, decoded
// strictly by its owner with lines of the original file.
func TestDecodeBGP(t *testing.T) {
	c := mustParse(t, base+`bgp:
  asn: 65000
  neighbors:
    - {address: 192.0.2.254, remote_as: 65100}
`)
	type neighbor struct {
		Address  string `yaml:"address"`
		RemoteAS uint32 `yaml:"remote_as"`
	}
	type bgp struct {
		ASN       uint32     `yaml:"asn"`
		Neighbors []neighbor `yaml:"neighbors"`
	}
	var b bgp
	if err := c.DecodeBGP(&b); err != nil || b.ASN != 65000 || len(b.Neighbors) != 1 || b.Neighbors[0].RemoteAS != 65100 {
		t.Errorf("DecodeBGP = %+v, %v", b, err)
	}

	c = mustParse(t, base+`bgp:
  asn: -1
  neighbors:
    - {address: 192.0.2.254, remote-as: 65100}
`)
	err := c.DecodeBGP(&b)
	want := "line 7: bgp.asn: -1: want a non-negative integer\n" +
		`line 9: bgp.neighbors[0].remote-as: unknown key; did you mean "remote_as"? (keys in bgp.neighbors[0]: address, remote_as)`
	if err == nil || err.Error() != want {
		t.Errorf("DecodeBGP = %v\nwant %s", err, want)
	}
	if err := c.DecodeBGP(b); err == nil {
		t.Error("DecodeBGP into a non-pointer succeeded")
	}
}

// FuzzParse checks that no input makes Parse panic, and that whatever
// parses also passes again through Diff as unchanged.
func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("interfaces: [{<<: [{name: x}], role: uplink}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := config.Parse(b)
		if err != nil {
			var es config.Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T is not a non-empty config.Errors: %v", err, err)
			}
			return
		}
		if d := config.Diff(c, c); !d.Empty() {
			t.Fatalf("Diff(c, c) = %s", d)
		}
	})
}
