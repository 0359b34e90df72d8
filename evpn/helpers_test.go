package evpn

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// mustAddr parses an IP address or fails the test.
func mustAddr(tb testing.TB, s string) netip.Addr {
	tb.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// mustPrefix parses a prefix or fails the test.
func mustPrefix(tb testing.TB, s string) netip.Prefix {
	tb.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// mustESI parses an ESI or fails the test.
func mustESI(tb testing.TB, s string) ESI {
	tb.Helper()
	e, err := ParseESI(s)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// mustRD parses an RD or fails the test.
func mustRD(tb testing.TB, s string) RD {
	tb.Helper()
	rd, err := ParseRD(s)
	if err != nil {
		tb.Fatal(err)
	}
	return rd
}

// mustRT parses a route target or fails the test.
func mustRT(tb testing.TB, s string) RT {
	tb.Helper()
	rt, err := ParseRT(s)
	if err != nil {
		tb.Fatal(err)
	}
	return rt
}

// mustMAC parses a MAC or fails the test.
func mustMAC(tb testing.TB, s string) MAC {
	tb.Helper()
	m, err := ParseMAC(s)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// checkErr fails the test unless err wraps sentinel and its message contains
// every one of want.
func checkErr(tb testing.TB, err, sentinel error, want ...string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want %v", sentinel)
	}
	if !errors.Is(err, sentinel) {
		tb.Errorf("error %q does not wrap %q", err, sentinel)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			tb.Errorf("error %q does not mention %q", err, w)
		}
	}
}
