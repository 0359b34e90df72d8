package evpn

import (
	"errors"
	"fmt"
)

// Errors returned by the package, always wrapped with context that names the
// input or the field; match them with errors.Is.
var (
	// ErrSyntax means a string is not in any of the accepted forms of an
	// ESI, MAC, RD, RT or name.
	ErrSyntax = errors.New("invalid syntax")
	// ErrRange means a number is outside the range its field allows: an
	// es-id, an RD or RT number, a label or VNI wider than 24 bits.
	ErrRange = errors.New("out of range")
	// ErrInvalid means a route, attribute set, path or DF candidate breaks a
	// rule of the RFCs or of fwd (a field missing, reserved or inconsistent).
	ErrInvalid = errors.New("invalid")
	// ErrNoCandidates means a DF election was asked to choose among no
	// candidates.
	ErrNoCandidates = errors.New("no df candidates")
	// ErrAlgMismatch means a DF candidate advertises another algorithm than
	// ours and the mismatch policy (FRR's, the default for preference) makes
	// the local PE non-DF: no candidate is the DF.
	ErrAlgMismatch = errors.New("df algorithm mismatch")
	// ErrUnknownAlg means the local DF algorithm is not one this package
	// implements.
	ErrUnknownAlg = errors.New("unknown df algorithm")
)

// MaxLabel is the largest value of a 24-bit label field: a VXLAN VNI carried
// as an EVPN label (RFC 8365 section 5.1.3) or an MPLS label.
const MaxLabel = 1<<24 - 1

// syntaxError returns the error for input in that is not a valid what: it
// names the input, says why, and lists the accepted forms.
func syntaxError(what, in, why, forms string) error {
	return fmt.Errorf("%s %q: %s; want %s: %w", what, in, why, forms, ErrSyntax)
}

// rangeError returns the error for input in whose number does not fit.
func rangeError(what, in, why, forms string) error {
	return fmt.Errorf("%s %q: %s; want %s: %w", what, in, why, forms, ErrRange)
}

// fieldError returns the error for an invalid field of a value described by
// what (a route, a path).
func fieldError(what, field, why string, sentinel error) error {
	return fmt.Errorf("%s: %s %s: %w", what, field, why, sentinel)
}
