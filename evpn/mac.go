package evpn

import "net"

// MAC is an IEEE 802 MAC-48 address. Unlike net.HardwareAddr it is
// comparable, so it can sit in a [RouteKey]; convert with MAC(hw) (which
// panics when hw is shorter than six bytes) or net.HardwareAddr(m[:]).
type MAC [6]byte

const hexDigits = "0123456789abcdef"

const macForms = "six hex bytes, e.g. 44:38:39:ff:ff:01, 44-38-39-ff-ff-01 or 4438.39ff.ff01"

// ParseMAC parses a MAC-48 address in any form net.ParseMAC accepts for six
// bytes: colon or dash separated bytes, or Cisco's dotted groups.
func ParseMAC(s string) (MAC, error) {
	hw, err := net.ParseMAC(s)
	if err != nil {
		return MAC{}, syntaxError("mac", s, "not a mac address", macForms)
	}
	if len(hw) != 6 {
		return MAC{}, syntaxError("mac", s, "not 6 bytes long", macForms)
	}
	return MAC(hw), nil
}

// String formats m as six lowercase colon-separated hex bytes, as FRR and
// iproute2 print it: "44:38:39:ff:ff:01".
func (m MAC) String() string {
	var b [17]byte
	for i, v := range m {
		if i > 0 {
			b[3*i-1] = ':'
		}
		b[3*i], b[3*i+1] = hexDigits[v>>4], hexDigits[v&0xf]
	}
	return string(b[:])
}

// IsZero reports whether m is 00:00:00:00:00:00.
func (m MAC) IsZero() bool { return m == MAC{} }

// IsMulticast reports whether m has the group bit set (broadcast included).
func (m MAC) IsMulticast() bool { return m[0]&1 != 0 }

// MarshalText implements encoding.TextMarshaler with [MAC.String].
func (m MAC) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with [ParseMAC].
func (m *MAC) UnmarshalText(text []byte) error {
	v, err := ParseMAC(string(text))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
