package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fwdplane/fwd/internal/testutil"
)

func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func TestVersion(t *testing.T) {
	out, _, err := runCmd(t, "version")
	if err != nil || !strings.HasPrefix(out, "fwd ") {
		t.Fatalf("fwd version: %q, %v", out, err)
	}
	out, _, err = runCmd(t, "version", "--json")
	var v versionInfo
	if err != nil || json.Unmarshal([]byte(out), &v) != nil || v.Go == "" {
		t.Fatalf("fwd version --json: %q, %v", out, err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"nosuch"},
		{"version", "extra"},
		{"lab", "demo", "--count", "0"},
		{"lab", "demo", "--nosuchflag"},
	} {
		if _, _, err := runCmd(t, args...); err == nil {
			t.Errorf("fwd %s: no error", strings.Join(args, " "))
		}
	}
}

// TestLabDemoJSON runs `fwd lab demo --json` in-process.
func TestLabDemoJSON(t *testing.T) {
	testutil.RequireRoot(t)
	out, _, err := runCmd(t, "lab", "demo", "--json", "--count", "2")
	if err != nil {
		t.Fatalf("fwd lab demo --json: %v\n%s", err, out)
	}
	var rep struct {
		OK       bool `json:"ok"`
		Counters []struct {
			Name  string `json:"name"`
			Value uint64 `json:"value"`
		} `json:"counters"`
		Pings []struct {
			Sent, Received int
		} `json:"pings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	if !rep.OK || len(rep.Pings) != 4 || len(rep.Counters) == 0 {
		t.Errorf("report: %+v", rep)
	}
}

func TestLabDemoText(t *testing.T) {
	testutil.RequireRoot(t)
	out, _, err := runCmd(t, "lab", "demo", "--count", "1", "--ipv6")
	if err != nil {
		t.Fatalf("fwd lab demo --ipv6: %v\n%s", err, out)
	}
	for _, want := range []string{"IPv6 underlay", "tx_encap6", "tx_decap_es", "OK: 4 of 4", "removed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
