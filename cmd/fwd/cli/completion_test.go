package cli

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, _, err := runCmd(t, "completion", shell)
		if err != nil || !strings.Contains(out, "fwd") || len(out) < 1000 {
			t.Errorf("fwd completion %s: %d bytes, %v", shell, len(out), err)
		}
	}
}

// complete runs cobra's hidden __complete command, as the shell scripts
// do, and returns the offered words (descriptions cut).
func complete(t *testing.T, socket string, args ...string) []string {
	t.Helper()
	var stdout bytes.Buffer
	root := newRootCmd(&rootOptions{now: time.Now})
	root.SetArgs(append([]string{"__complete", "--socket", socket}, args...))
	root.SetOut(&stdout)
	root.SetErr(io.Discard)
	err := root.ExecuteContext(t.Context())
	out := stdout.String()
	if err != nil {
		t.Fatalf("__complete %q: %v", args, err)
	}
	var words []string
	for _, l := range strings.Split(out, "\n") {
		if l == "" || strings.HasPrefix(l, ":") || strings.HasPrefix(l, "Completion ended") {
			continue
		}
		w, _, _ := strings.Cut(l, "\t")
		words = append(words, w)
	}
	return words
}

func TestCompletion(t *testing.T) {
	f := withFixture(newFakeDaemon(t))
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"show", ""}, "status interfaces bridge-domains counters nexthop-group evpn"},
		{[]string{"show", "evpn", ""}, "es es-evi mac l2-nh routes"},
		{[]string{"show", "evpn", "es", ""}, "detail " + esi9 + " " + esi1 + " " + esi2},
		{[]string{"show", "evpn", "es", "detail", ""}, esi9 + " " + esi1 + " " + esi2},
		{[]string{"show", "evpn", "mac", ""}, "vni mac es"},
		{[]string{"show", "evpn", "mac", "vni", "1000", ""}, "mac es"},
		{[]string{"show", "evpn", "routes", "type", ""}, "1 2 3 4 5"},
		{[]string{"es", "down", ""}, esi1 + " " + esi2},
		{[]string{"log-level", ""}, "debug info warn error"},
		{[]string{"trace", "--in", ""}, "swp1 swp2 swp3 uplink0"},
		{[]string{"route", "add", "--type", ""}, "1 2 3 4 5"},
		{[]string{"events", "--type", ""}, "route mac es port underlay config df"},
	}
	for _, tc := range cases {
		got := complete(t, f.socket, tc.args...)
		want := strings.Fields(tc.want)
		for _, w := range want {
			if !contains(got, w) {
				t.Errorf("fwd %s<TAB>: %q lacks %q", strings.Join(tc.args, " "), got, w)
			}
		}
		if len(got) > len(want)+4 { // cobra may add help/completion
			t.Errorf("fwd %s<TAB>: %q, want %q", strings.Join(tc.args, " "), got, want)
		}
	}
	// With no daemon, dynamic completion offers nothing and does not fail.
	got := complete(t, "/nonexistent.sock", "es", "down", "")
	if len(got) != 0 {
		t.Errorf("no daemon: %q", got)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
