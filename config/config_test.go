package config_test

import (
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fwdplane/fwd/config"
	"github.com/fwdplane/fwd/evpn"
)

const examplePath = "../examples/fwd.yaml"

func mustParse(tb testing.TB, src string) *config.Config {
	tb.Helper()
	c, err := config.Parse([]byte(src))
	if err != nil {
		tb.Fatalf("Parse:\n%v", err)
	}
	return c
}

func mustLoad(tb testing.TB, path string) *config.Config {
	tb.Helper()
	c, err := config.Load(path)
	if err != nil {
		tb.Fatalf("Load:\n%v", err)
	}
	return c
}

// TestExample checks that the shipped example parses and that its values
// come out as the comments say.
func TestExample(t *testing.T) {
	c := mustLoad(t, examplePath)

	if want := netip.MustParseAddr("192.0.2.11"); c.VTEP4 != want {
		t.Errorf("VTEP4 = %v, want %v", c.VTEP4, want)
	}
	if want := netip.MustParseAddr("2001:db8:ff::11"); c.VTEP6 != want {
		t.Errorf("VTEP6 = %v, want %v", c.VTEP6, want)
	}
	if got := c.RouterMAC.String(); got != "44:38:39:ff:00:11" {
		t.Errorf("RouterMAC = %s", got)
	}
	if got := c.Uplinks(); !reflect.DeepEqual(got, []string{"eth0", "eth1"}) {
		t.Errorf("Uplinks() = %v", got)
	}
	swp1, ok := c.Interface("swp1")
	if !ok {
		t.Fatal("no swp1")
	}
	wantSwp1 := config.Interface{
		Name: "swp1", Role: config.RoleAccess, UntaggedVNI: 100, Learn: true,
		VLANs: []config.VLAN{{VLAN: 200, VNI: 200}, {VLAN: 300, InnerVLAN: 30, VNI: 300}},
	}
	if !reflect.DeepEqual(*swp1, wantSwp1) {
		t.Errorf("swp1 = %+v, want %+v", *swp1, wantSwp1)
	}
	if swp3, _ := c.Interface("swp3"); swp3 == nil || swp3.Learn {
		t.Errorf("swp3 = %+v, want learn false", swp3)
	}
	if got := c.VNIs(); !reflect.DeepEqual(got, []uint32{100, 200, 300}) {
		t.Errorf("VNIs() = %v", got)
	}
	wantMACs := []config.StaticMAC{
		{MAC: evpn.MAC{0, 0, 0x5e, 0, 0x53, 1}, Interface: "swp3"},
		{MAC: evpn.MAC{0, 0, 0x5e, 0, 0x53, 2}, VTEP: netip.MustParseAddr("192.0.2.12")},
	}
	if got := c.BridgeDomains[0].StaticMACs; !reflect.DeepEqual(got, wantMACs) {
		t.Errorf("static MACs = %+v, want %+v", got, wantMACs)
	}

	// The type-3 ESI is FRR's construction (ANCHORS.md): es-id 1, MAC
	// 44:38:39:ff:ff:01 -> 03:44:38:39:ff:ff:01:00:00:01.
	host1, ok := c.ESOn("swp1")
	if !ok {
		t.Fatal("no ES on swp1")
	}
	if got := host1.ESI.String(); got != "03:44:38:39:ff:ff:01:00:00:01" {
		t.Errorf("host1 ESI = %s", got)
	}
	if host1.ESID != 1 || host1.SysMAC.String() != "44:38:39:ff:ff:01" || host1.DFAlg != evpn.DFAlgPreference || host1.DFPref != 50000 || host1.Name != "host1" {
		t.Errorf("host1 = %+v", *host1)
	}
	host2, _ := c.ESOn("swp2")
	if host2 == nil || host2.ESI.String() != "00:11:22:33:44:55:66:77:88:99" || host2.DFAlg != evpn.DFAlgHRW || host2.DFPref != evpn.DefaultDFPref || host2.ESID != 0 {
		t.Errorf("host2 = %+v", host2)
	}
	if _, ok := c.ESOn("swp3"); ok {
		t.Error("swp3 has an ES")
	}

	if c.Multihoming != (config.Multihoming{DFDelay: 3 * time.Second}) {
		t.Errorf("Multihoming = %+v", c.Multihoming)
	}
	if c.Hooks.Dir != "/etc/fwd/hooks" || c.API != (config.API{Socket: "/run/fwd/fwd.sock", ReadGroup: "fwd"}) {
		t.Errorf("Hooks = %+v, API = %+v", c.Hooks, c.API)
	}
	if c.Log != (config.Log{Format: config.LogJSON, Level: slog.LevelInfo}) {
		t.Errorf("Log = %+v", c.Log)
	}
	if c.Dataplane != config.Default().Dataplane {
		t.Errorf("Dataplane = %+v, want the defaults %+v (the example spells them out)", c.Dataplane, config.Default().Dataplane)
	}
	var bgp struct {
		ASN uint32 `yaml:"asn"`
	}
	if err := c.DecodeBGP(&bgp); err != nil || bgp.ASN != 65011 {
		t.Errorf("DecodeBGP = %+v, %v", bgp, err)
	}
}

// TestExampleCommented checks that every field of the example carries a
// comment, as the brief for the example promises.
func TestExampleCommented(t *testing.T) {
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	lines := strings.Split(string(b), "\n")
	for i, line := range lines {
		code, comment, _ := strings.Cut(line, "#")
		key, _, isKey := strings.Cut(strings.TrimLeft(strings.TrimSpace(code), "- "), ":")
		if !isKey || key == "" {
			continue
		}
		above := i > 0 && strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#")
		if strings.TrimSpace(comment) != "" || above {
			documented[key] = true
			continue
		}
		if !documented[key] {
			t.Errorf("%s:%d: key %q has no comment (on its line, above it, or on an earlier use of the key)", examplePath, i+1, key)
		}
	}
}

func TestMinimalDefaults(t *testing.T) {
	c := mustParse(t, `
vtep6: 2001:db8::1
interfaces:
  - {name: eth0, role: uplink}
`)
	want := config.Default()
	want.VTEP6 = netip.MustParseAddr("2001:db8::1")
	want.Interfaces = []config.Interface{{Name: "eth0", Role: config.RoleUplink}}
	if d := config.Diff(want, c); !d.Empty() || c.BGP != nil {
		t.Errorf("minimal config differs from the defaults:\n%s", d)
	}
	if c.Dataplane.KeepXDPOnStop != true || c.Dataplane.PinDir != "/sys/fs/bpf/fwd" || c.API.ReadGroup != "fwd" || c.Multihoming.DFDelay != 3*time.Second {
		t.Errorf("defaults: %+v", c)
	}
	if err := c.DecodeBGP(&struct{}{}); err != nil {
		t.Errorf("DecodeBGP without a bgp section: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := config.Load(filepath.Join(dir, "none.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want ErrNotExist", err)
	}
	path := filepath.Join(dir, "fwd.yaml")
	if err := os.WriteFile(path, []byte("vtep4: 192.0.2.1\ninterfaces:\n  - {name: eth0, role: uplink}\nlog: {level: loud}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(path)
	want := path + `:4: log.level: "loud": want debug, info, warn or error`
	if err == nil || err.Error() != want {
		t.Errorf("Load = %v\nwant %s", err, want)
	}
	var es config.Errors
	if !errors.As(err, &es) || len(es) != 1 || es[0].File != path || es[0].Line != 4 || es[0].Path != "log.level" || es[0].Value != `"loud"` {
		t.Errorf("Errors = %#v", es)
	}
	if !errors.Is(err, config.ErrInvalid) {
		t.Errorf("%v is not ErrInvalid", err)
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError, "debug-4": slog.LevelDebug - 4} {
		if got, err := config.ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "verbose", "info+x"} {
		if _, err := config.ParseLevel(in); err == nil {
			t.Errorf("ParseLevel(%q) succeeded", in)
		}
	}
}
