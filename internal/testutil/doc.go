// Package testutil holds the helpers fwd's tests share: gates that skip a
// privileged or kernel-dependent test with a reason (and fail it instead when
// CI=true), throwaway network namespaces, and veth pairs inside them.
//
// Every helper takes a testing.TB, calls tb.Helper and registers tb.Cleanup
// for what it creates, so a test deletes whatever it made: a namespace from
// NewNetNS is removed, with every link inside it, when the test ends.
//
// testutil imports nothing of fwd's and not github.com/cilium/ebpf (only
// dataplane may); kernel gates take the error of a probe the caller ran.
// Namespaces need root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and Linux; the
// `ip` command from iproute2 is needed only by NetNS.Exec and NetNS.Command.
package testutil
