package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// CIEnv is the environment variable that marks a CI run. When it is "true",
// a gate that would skip a test fails it instead: under CI every privileged
// test must run.
const CIEnv = "CI"

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv(CIEnv) == "true" }

// SkipOrFail skips the test with the formatted reason, or, under CI, fails it
// with the same reason. It is the policy behind every gate in this package;
// use it for gates of your own.
func SkipOrFail(tb testing.TB, format string, args ...any) {
	tb.Helper()
	reason := fmt.Sprintf(format, args...)
	if InCI() {
		tb.Fatalf("%s (%s=true: privileged tests must run, not skip)", reason, CIEnv)
		return
	}
	tb.Skip(reason)
}

// RequireRoot skips the test when the process is not root, or fails it under
// CI.
func RequireRoot(tb testing.TB) {
	tb.Helper()
	if uid := os.Geteuid(); uid != 0 {
		SkipOrFail(tb, "needs root (euid is %d); run the tests as root, e.g. sudo go test", uid)
	}
}

// RequireKernel gates a test on a kernel feature. err is the result of the
// caller's probe for it (for example dataplane's feature checks, whose errors
// wrap ebpf.ErrNotSupported): nil lets the test run, anything else skips it
// with the feature and the error as the reason, or fails it under CI.
//
//	testutil.RequireKernel(t, "XDP on veth", dataplane.ProbeXDP())
func RequireKernel(tb testing.TB, feature string, err error) {
	tb.Helper()
	if err != nil {
		SkipOrFail(tb, "kernel feature %s unavailable: %v", feature, err)
	}
}

// RequireCommand skips the test when the named program is not on PATH (or
// fails it under CI), and returns its path. Use it for interop peers such as
// gobgpd, and for ip or tcpdump.
func RequireCommand(tb testing.TB, name string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		SkipOrFail(tb, "needs %s on PATH (make deps installs it): %v", name, err)
	}
	return path
}
