package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fwdplane/fwd/internal/testutil"
)

// runFailoverCmd runs `fwd bench failover args...` through its constructor.
func runFailoverCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := newBenchFailoverCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return stdout.String(), stderr.String(), err
}

func TestBenchFailoverUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--macs", "0"},
		{"--macs", "ten"},
		{"--macs", ""},
		{"--macs", "99M"},
		{"--reps", "-1"},
		{"extra"},
	} {
		if _, _, err := runFailoverCmd(t, args...); err == nil {
			t.Errorf("fwd bench failover %s: no error", strings.Join(args, " "))
		}
	}
}

// TestBenchFailoverQuick runs a short `fwd bench failover --json` and checks
// the object it prints.
func TestBenchFailoverQuick(t *testing.T) {
	testutil.RequireRoot(t)
	out, errOut, err := runFailoverCmd(t, "--quick", "--macs", "1000", "--reps", "2", "--json")
	if err != nil {
		t.Fatalf("fwd bench failover: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	var rep struct {
		Results []struct {
			Event           string   `json:"event"`
			MACs            int      `json:"macs"`
			Writes          *uint64  `json:"writes"`
			SwitchUS        float64  `json:"switch_us"`
			FramesAfter     *uint64  `json:"frames_after"`
			KernelReplaceUS *float64 `json:"kernel_replace_us"`
			NaiveUS         float64  `json:"naive_us"`
		} `json:"results"`
		Targets []struct {
			Name string `json:"name"`
			Met  bool   `json:"met"`
		} `json:"targets"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	if len(rep.Results) != 3 {
		t.Fatalf("%d results, want 3 (one per event)", len(rep.Results))
	}
	for _, r := range rep.Results {
		if r.MACs != 1000 || r.Writes == nil || r.FramesAfter == nil || r.SwitchUS <= 0 || r.NaiveUS <= 0 {
			t.Errorf("result %+v", r)
		}
		if (r.KernelReplaceUS == nil) != (r.Event == "local-port-down") {
			t.Errorf("%s: kernel replace %v", r.Event, r.KernelReplaceUS)
		}
	}
	if len(rep.Targets) == 0 {
		t.Error("no targets checked")
	}
	if !strings.Contains(errOut, "N=1k") {
		t.Errorf("no progress on stderr: %q", errOut)
	}
}
