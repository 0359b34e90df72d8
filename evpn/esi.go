package evpn

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// ESI is a ten-octet Ethernet Segment Identifier (RFC 7432 section 5): a type
// octet followed by a nine-octet value. The zero ESI means "single-homed";
// all ones is the reserved MAX-ESI.
type ESI [10]byte

// ESIType is the first octet of an ESI (RFC 7432 section 5).
type ESIType uint8

// ESI types of RFC 7432 section 5.
const (
	// ESITypeArbitrary (0): a nine-octet value configured by the operator.
	ESITypeArbitrary ESIType = 0
	// ESITypeLACP (1): the CE's LACP system MAC and port key.
	ESITypeLACP ESIType = 1
	// ESITypeBridge (2): the root bridge MAC and priority of an L2 network.
	ESITypeBridge ESIType = 2
	// ESITypeMAC (3): a system MAC and a three-octet local discriminator;
	// FRR's "es-sys-mac" and "es-id".
	ESITypeMAC ESIType = 3
	// ESITypeRouterID (4): a router ID and a local discriminator.
	ESITypeRouterID ESIType = 4
	// ESITypeAS (5): an AS number and a local discriminator.
	ESITypeAS ESIType = 5
)

// MaxESID is the largest FRR "evpn mh es-id": the local discriminator of a
// type-3 ESI is three octets.
const MaxESID = 1<<24 - 1

// MaxESI is the reserved MAX-ESI, all ones (RFC 7432 section 5).
var MaxESI = ESI{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

const esiForms = "10 hex bytes separated by colons, e.g. 03:44:38:39:ff:ff:01:00:00:01 (FRR's form), or 20 hex digits"

// String returns the type's name, or "type N" for an undefined type.
func (t ESIType) String() string {
	switch t {
	case ESITypeArbitrary:
		return "arbitrary"
	case ESITypeLACP:
		return "lacp"
	case ESITypeBridge:
		return "bridge"
	case ESITypeMAC:
		return "mac"
	case ESITypeRouterID:
		return "router-id"
	case ESITypeAS:
		return "as"
	}
	return "type " + strconv.Itoa(int(t))
}

// ParseESI parses an ESI written as FRR writes and reads it: ten hex bytes
// separated by colons, each one or two digits, in either case
// ("03:44:38:39:ff:ff:01:00:00:01"), or as 20 hex digits without separators.
func ParseESI(s string) (ESI, error) {
	var e ESI
	if !strings.Contains(s, ":") {
		if len(s) != 2*len(e) {
			return ESI{}, syntaxError("esi", s, fmt.Sprintf("has %d characters and no colons", len(s)), esiForms)
		}
		if _, err := hex.Decode(e[:], []byte(s)); err != nil {
			return ESI{}, syntaxError("esi", s, "not hex", esiForms)
		}
		return e, nil
	}
	parts := strings.Split(s, ":")
	if len(parts) != len(e) {
		return ESI{}, syntaxError("esi", s, fmt.Sprintf("has %d bytes", len(parts)), esiForms)
	}
	for i, p := range parts {
		if len(p) < 1 || len(p) > 2 {
			return ESI{}, syntaxError("esi", s, fmt.Sprintf("byte %d %q is not one or two hex digits", i+1, p), esiForms)
		}
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil {
			return ESI{}, syntaxError("esi", s, fmt.Sprintf("byte %d %q is not hex", i+1, p), esiForms)
		}
		e[i] = byte(v)
	}
	return e, nil
}

// ESIArbitrary returns the type-0 ESI with the given nine-octet value.
func ESIArbitrary(value [9]byte) ESI {
	var e ESI
	e[0] = byte(ESITypeArbitrary)
	copy(e[1:], value[:])
	return e
}

// ESIFromSysMAC returns the type-3 ESI FRR builds from "evpn mh es-sys-mac"
// and "evpn mh es-id": 03, the six octets of the system MAC, then the es-id
// in three octets, big-endian. es-id 1 with system MAC 44:38:39:ff:ff:01
// gives 03:44:38:39:ff:ff:01:00:00:01. The es-id must be 1 to 16777215 and
// the MAC must not be zero.
func ESIFromSysMAC(sysMAC MAC, esID uint32) (ESI, error) {
	if esID < 1 || esID > MaxESID {
		return ESI{}, fmt.Errorf("es-id %d: must be 1-%d (it fills the 3-byte discriminator of a type-3 esi): %w", esID, MaxESID, ErrRange)
	}
	if sysMAC.IsZero() {
		return ESI{}, fmt.Errorf("es-sys-mac %s: must not be zero (set the system mac the ES is built from): %w", sysMAC, ErrInvalid)
	}
	var e ESI
	e[0] = byte(ESITypeMAC)
	copy(e[1:7], sysMAC[:])
	e[7], e[8], e[9] = byte(esID>>16), byte(esID>>8), byte(esID)
	return e, nil
}

// Type returns the ESI's type, its first octet.
func (e ESI) Type() ESIType { return ESIType(e[0]) }

// Value returns the nine octets after the type.
func (e ESI) Value() [9]byte { return [9]byte(e[1:]) }

// IsZero reports whether e is the zero ESI, which means single-homed.
func (e ESI) IsZero() bool { return e == ESI{} }

// IsMax reports whether e is the reserved MAX-ESI (all ones).
func (e ESI) IsMax() bool { return e == MaxESI }

// SysMAC returns the system MAC and es-id of a type-3 ESI; ok is false for
// other types.
func (e ESI) SysMAC() (sysMAC MAC, esID uint32, ok bool) {
	if e.Type() != ESITypeMAC {
		return MAC{}, 0, false
	}
	return MAC(e[1:7]), uint32(e[7])<<16 | uint32(e[8])<<8 | uint32(e[9]), true
}

// ImportRT returns the value of the ES-Import route target extended community
// that RFC 7432 section 7.6 derives from an ESI of type 1, 2 or 3: the six
// high-order octets of the nine-octet ESI value (octets 1 to 6 of the ESI),
// the MAC address each of those types starts with. For other types ok is
// false: their ES-Import RT must be configured.
func (e ESI) ImportRT() (mac MAC, ok bool) {
	switch e.Type() {
	case ESITypeLACP, ESITypeBridge, ESITypeMAC:
		return MAC(e[1:7]), true
	}
	return MAC{}, false
}

// String formats e as FRR's esi_to_str does: ten lowercase two-digit hex
// bytes separated by colons.
func (e ESI) String() string {
	var b [29]byte
	for i, v := range e {
		if i > 0 {
			b[3*i-1] = ':'
		}
		b[3*i], b[3*i+1] = hexDigits[v>>4], hexDigits[v&0xf]
	}
	return string(b[:])
}

// MarshalText implements encoding.TextMarshaler with [ESI.String].
func (e ESI) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with [ParseESI].
func (e *ESI) UnmarshalText(text []byte) error {
	v, err := ParseESI(string(text))
	if err != nil {
		return err
	}
	*e = v
	return nil
}
