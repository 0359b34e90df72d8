package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fwdplane/fwd/internal/testutil"
)

func TestBenchXDPList(t *testing.T) {
	out, _, err := runCmd(t, "bench", "xdp", "--list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"encap4/fdb=1M/flows=1/64B", "encap6/fdb=1M/flows=64k/1518B", "es4/", "decap4/", "local/"} {
		if !strings.Contains(out, want) {
			t.Errorf("--list lacks %s:\n%s", want, out)
		}
	}
	pcap := filepath.Join(t.TempDir(), "frames.pcap")
	out, _, err = runCmd(t, "bench", "xdp", "--list", "--quick", "--scenario", "^local/", "--pcap", pcap)
	if err != nil || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "local/fdb=1k/flows=64k/64B") {
		t.Errorf("--list --quick --scenario ^local/: %q, %v", out, err)
	}
	// 24-byte file header, then 4 frames of 16-byte record header + 60 bytes.
	if st, err := os.Stat(pcap); err != nil || st.Size() != 24+4*(16+60) {
		t.Errorf("--pcap: %v, %v", st, err)
	}
}

func TestBenchXDPUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "xdp", "--scenario", "["},
		{"bench", "xdp", "--scenario", "nosuchscenario"},
		{"bench", "xdp", "extra"},
		{"bench", "xdp", "--duration", "-1s", "--list=false"},
		{"bench", "xdp", "--rounds", "-1"},
	} {
		if _, _, err := runCmd(t, args...); err == nil {
			t.Errorf("fwd %s: no error", strings.Join(args, " "))
		}
	}
	_, _, err := runCmd(t, "bench", "xdp", "--scenario", "nosuch")
	if err == nil || !strings.Contains(err.Error(), "encap4/fdb=1M/flows=1/64B") {
		t.Errorf("an unmatched --scenario should list the names: %v", err)
	}
}

// TestBenchXDPNeedsRoot: without root, a clear error before anything runs.
func TestBenchXDPNeedsRoot(t *testing.T) {
	cmd := benchXDPCmd(&benchXDPOptions{rootOptions: &rootOptions{}, euid: func() int { return 1000 }})
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"--quick"})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	if err == nil || !strings.Contains(err.Error(), "needs root") || !strings.Contains(err.Error(), "sudo") {
		t.Errorf("error %v, want one that says it needs root and how", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("printed %q", stdout.String())
	}
}

// TestBenchXDPQuickJSON runs one quick scenario for real: one JSON object
// on stdout, plain progress lines on stderr (not a terminal), an SVG.
func TestBenchXDPQuickJSON(t *testing.T) {
	testutil.RequireRoot(t)
	svg := filepath.Join(t.TempDir(), "bench.svg")
	out, errOut, err := runCmd(t, "bench", "xdp", "--quick", "--json", "--duration", "100ms", "--scenario", "^local/", "--svg", svg)
	if err != nil {
		t.Fatalf("fwd bench xdp: %v\n%s\n%s", err, out, errOut)
	}
	var rep struct {
		Results []struct {
			Scenario   string  `json:"scenario"`
			FrameBytes int     `json:"frame_bytes"`
			FDBEntries int     `json:"fdb_entries"`
			Flows      int     `json:"flows"`
			FwdMpps    float64 `json:"fwd_mpps"`
			FloorMpps  float64 `json:"floor_mpps"`
			KernelMpps float64 `json:"kernel_mpps"`
		} `json:"results"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&rep); err != nil || dec.More() {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if len(rep.Results) != 1 {
		t.Fatalf("%d results, want 1", len(rep.Results))
	}
	r := rep.Results[0]
	if r.Scenario != "local" || r.FrameBytes != 64 || r.FDBEntries != 1000 || r.Flows != 65536 ||
		r.FwdMpps <= 0 || r.FloorMpps <= 0 || r.KernelMpps <= 0 {
		t.Errorf("result: %+v", r)
	}
	if !strings.Contains(errOut, "fwd    local/fdb=1k/flows=64k/64B") || strings.Contains(errOut, "\r") {
		t.Errorf("progress on stderr:\n%s", errOut)
	}
	if b, err := os.ReadFile(svg); err != nil || !bytes.HasPrefix(b, []byte("<svg")) {
		t.Errorf("--svg: %v, %.40q", err, b)
	}
}
