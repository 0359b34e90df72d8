package testutil

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// recTB records Fatalf and Skip instead of stopping the test.
type recTB struct {
	testing.TB
	fatal, skip string
}

func (r *recTB) Helper()                      {}
func (r *recTB) Fatalf(f string, args ...any) { r.fatal = fmt.Sprintf(f, args...) }
func (r *recTB) Skip(args ...any)             { r.skip = fmt.Sprint(args...) }

func TestRequireKernel(t *testing.T) {
	errOld := errors.New("program type not supported")
	for _, tc := range []struct {
		name      string
		ci        string
		err       error
		wantFatal bool
		wantSkip  bool
	}{
		{name: "supported", err: nil},
		{name: "supported/ci", ci: "true", err: nil},
		{name: "unsupported", err: errOld, wantSkip: true},
		{name: "unsupported/ci", ci: "true", err: errOld, wantFatal: true},
		{name: "unsupported/ci=false", ci: "false", err: errOld, wantSkip: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(CIEnv, tc.ci)
			r := &recTB{TB: t}
			RequireKernel(r, "XDP", tc.err)
			if got := r.fatal != ""; got != tc.wantFatal {
				t.Errorf("fatal = %q, want fatal %v", r.fatal, tc.wantFatal)
			}
			if got := r.skip != ""; got != tc.wantSkip {
				t.Errorf("skip = %q, want skip %v", r.skip, tc.wantSkip)
			}
			for _, msg := range []string{r.fatal, r.skip} {
				if msg != "" && !containsAll(msg, "XDP", errOld.Error()) {
					t.Errorf("reason %q does not name the feature and the error", msg)
				}
			}
		})
	}
}

func TestRequireCommand(t *testing.T) {
	t.Setenv(CIEnv, "")
	r := &recTB{TB: t}
	RequireCommand(r, "fwd-no-such-command")
	if r.skip == "" || r.fatal != "" {
		t.Errorf("missing command: skip %q, fatal %q; want a skip", r.skip, r.fatal)
	}

	t.Setenv(CIEnv, "true")
	r = &recTB{TB: t}
	RequireCommand(r, "fwd-no-such-command")
	if r.fatal == "" || r.skip != "" {
		t.Errorf("missing command under CI: skip %q, fatal %q; want a failure", r.skip, r.fatal)
	}

	r = &recTB{TB: t}
	if path := RequireCommand(r, "go"); path == "" || r.skip != "" || r.fatal != "" {
		t.Errorf("RequireCommand(go) = %q, skip %q, fatal %q", path, r.skip, r.fatal)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
