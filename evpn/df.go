package evpn

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net/netip"
	"strconv"
	"strings"
)

// DFAlg is a DF election algorithm, as numbered in the DF Election extended
// community (RFC 8584 section 2.2, IANA "DF Alg" registry).
type DFAlg uint8

// DF election algorithms.
const (
	// DFAlgModulo (0) is the default algorithm, the "service carving" of
	// RFC 7432 section 8.5.
	DFAlgModulo DFAlg = 0
	// DFAlgHRW (1) is Highest Random Weight (RFC 8584 section 3).
	DFAlgHRW DFAlg = 1
	// DFAlgPreference (2) is preference-based election (RFC 9785), the
	// only algorithm FRR implements.
	DFAlgPreference DFAlg = 2
)

// DF preferences as FRR configures them ("evpn mh es-df-pref (1-65535)").
const (
	// DefaultDFPref is the preference of a PE with none configured.
	DefaultDFPref uint16 = 32767
	// MinDFPref is the lowest preference FRR lets an operator configure.
	MinDFPref uint16 = 1
)

const dfAlgForms = "modulo (or service-carving, 0), hrw (1) or preference (pref, 2)"

// String returns "modulo", "hrw", "preference", or "alg N".
func (a DFAlg) String() string {
	switch a {
	case DFAlgModulo:
		return "modulo"
	case DFAlgHRW:
		return "hrw"
	case DFAlgPreference:
		return "preference"
	}
	return "alg " + strconv.Itoa(int(a))
}

// ParseDFAlg parses "modulo" (FRR's "service-carving", "default"), "hrw" or
// "preference" ("pref"), in any case, or the algorithm's number.
func ParseDFAlg(s string) (DFAlg, error) {
	switch strings.ToLower(s) {
	case "modulo", "service-carving", "default", "0":
		return DFAlgModulo, nil
	case "hrw", "1":
		return DFAlgHRW, nil
	case "preference", "pref", "2":
		return DFAlgPreference, nil
	}
	return 0, syntaxError("df algorithm", s, "unknown", dfAlgForms)
}

// MarshalText implements encoding.TextMarshaler with [DFAlg.String].
func (a DFAlg) MarshalText() ([]byte, error) {
	if a > DFAlgPreference {
		return nil, fmt.Errorf("df %s: %w", a, ErrUnknownAlg)
	}
	return []byte(a.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with [ParseDFAlg].
func (a *DFAlg) UnmarshalText(text []byte) error {
	v, err := ParseDFAlg(string(text))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// ValidateDFPref checks a configured DF preference against FRR's range,
// 1-65535 (the default is [DefaultDFPref]).
func ValidateDFPref(pref int) error {
	if pref < int(MinDFPref) || pref > 0xFFFF {
		return fmt.Errorf("df preference %d: must be %d-65535 (default %d): %w", pref, MinDFPref, DefaultDFPref, ErrRange)
	}
	return nil
}

// Candidate is one PE of an Ethernet Segment in a DF election: a VTEP that
// advertised the segment's type-4 route, with the DF Election community it
// carried (see [DFElection.Candidate]). Where type-4 routes are lost (GoBGP
// drops UPDATEs with FRR's DF Election community, ANCHORS.md), a VTEP known
// from its EAD per ES route stands in as DFAlgPreference at DefaultDFPref,
// which gives FRR's result in FRR's default configuration.
type Candidate struct {
	VTEP netip.Addr
	Alg  DFAlg
	// Pref is the preference for [DFAlgPreference], compared as is: a
	// candidate without a configured preference should carry
	// [DefaultDFPref].
	Pref uint16
	// DontPreempt is RFC 9785's DP bit: among equal preferences, a
	// candidate with it set wins.
	DontPreempt bool
}

// MismatchPolicy says what an election does when a candidate advertises
// another algorithm than ours.
type MismatchPolicy uint8

// Mismatch policies.
const (
	// MismatchAuto is FRR's rule ([MismatchNonDF]) when we elect by
	// preference, and RFC 8584's ([MismatchFallback]) otherwise.
	MismatchAuto MismatchPolicy = iota
	// MismatchFallback is RFC 8584 section 2.2: every PE falls back to the
	// default algorithm, modulo, over all candidates.
	MismatchFallback
	// MismatchNonDF is FRR's rule: the local PE makes itself non-DF, so the
	// election has no DF and returns [ErrAlgMismatch].
	MismatchNonDF
)

// String returns "auto", "fallback", "non-df", or "policy N".
func (m MismatchPolicy) String() string {
	switch m {
	case MismatchAuto:
		return "auto"
	case MismatchFallback:
		return "fallback"
	case MismatchNonDF:
		return "non-df"
	}
	return "policy " + strconv.Itoa(int(m))
}

// Election is the local side of a DF election for one Ethernet Segment.
type Election struct {
	// Alg is our algorithm, the one we advertise.
	Alg DFAlg
	// ESI is the segment's identifier. HRW needs it (RFC 8584 section 3.2
	// hashes it); modulo and preference ignore it.
	ESI ESI
	// Mismatch is what a candidate with another algorithm does.
	Mismatch MismatchPolicy
}

// ElectDF elects the DF among candidates with algorithm alg for the Ethernet
// tag ethTag (the VLAN or VNI of per-EVI carving), with the default mismatch
// policy. It is Election{Alg: alg}.Elect(candidates, ethTag); HRW needs the
// segment's ESI, so for HRW use [Election.Elect] with the ESI set.
func ElectDF(alg DFAlg, candidates []Candidate, ethTag uint32) (netip.Addr, error) {
	return Election{Alg: alg}.Elect(candidates, ethTag)
}

// Elect returns the VTEP, as the candidate gave it, that is the DF for
// Ethernet tag ethTag (the VLAN or VNI of per-EVI carving; preference
// ignores it). The candidates include the local PE and must have distinct,
// set, unzoned, specified VTEP addresses; their order does not matter. IPv4
// VTEPs order before IPv6 ones, and an IPv4-mapped IPv6 address counts as
// IPv4.
//
//   - Modulo (RFC 7432 section 8.5): the candidates sorted by address in
//     ascending order, the DF is the one at index ethTag mod N.
//   - HRW (RFC 8584 section 3.2): the DF has the highest [HRWWeight]; a tie
//     goes to the lowest address.
//   - Preference (RFC 9785, FRR): the highest Pref wins; a tie goes to the
//     candidate with DontPreempt set, then to the lowest address.
//
// When a candidate's algorithm differs from e.Alg, e.Mismatch decides: fall
// back to modulo for all, or return [ErrAlgMismatch], meaning the local PE
// is non-DF. An empty candidate list is [ErrNoCandidates]; an invalid
// candidate, or HRW without an ESI, is [ErrInvalid].
func (e Election) Elect(candidates []Candidate, ethTag uint32) (netip.Addr, error) {
	if e.Alg > DFAlgPreference {
		return netip.Addr{}, fmt.Errorf("df election: our algorithm is %s; want %s: %w", e.Alg, dfAlgForms, ErrUnknownAlg)
	}
	if e.Mismatch > MismatchNonDF {
		return netip.Addr{}, fmt.Errorf("df election: mismatch %s; want auto, fallback or non-df: %w", e.Mismatch, ErrInvalid)
	}
	if len(candidates) == 0 {
		return netip.Addr{}, fmt.Errorf("df election (%s): %w", e.Alg, ErrNoCandidates)
	}
	if err := validateCandidates(candidates); err != nil {
		return netip.Addr{}, err
	}
	alg := e.Alg
	for _, c := range candidates {
		if c.Alg == e.Alg {
			continue
		}
		policy := e.Mismatch
		if policy == MismatchAuto {
			policy = MismatchFallback
			if e.Alg == DFAlgPreference {
				policy = MismatchNonDF
			}
		}
		if policy == MismatchNonDF {
			return netip.Addr{}, fmt.Errorf("df election: candidate %s uses %s, we use %s; the local PE is non-DF (FRR's rule): %w",
				c.VTEP, c.Alg, e.Alg, ErrAlgMismatch)
		}
		alg = DFAlgModulo
		break
	}
	var best int
	switch alg {
	case DFAlgModulo:
		best = electModulo(candidates, ethTag)
	case DFAlgHRW:
		if e.ESI.IsZero() {
			return netip.Addr{}, fmt.Errorf("df election: hrw needs the segment's ESI (RFC 8584 section 3.2 hashes it); set Election.ESI: %w", ErrInvalid)
		}
		best = electHRW(candidates, e.ESI, ethTag)
	case DFAlgPreference:
		best = electPreference(candidates)
	}
	return candidates[best].VTEP, nil
}

// validateCandidates checks each candidate's address and that no address
// appears twice.
func validateCandidates(cs []Candidate) error {
	for i, c := range cs {
		if !c.VTEP.IsValid() || c.VTEP.Zone() != "" || c.VTEP.IsUnspecified() {
			return validateAddr("df candidate "+strconv.Itoa(i), "VTEP", c.VTEP)
		}
		for j := range i {
			if cs[j].VTEP.Unmap() == c.VTEP.Unmap() {
				return fieldError("df candidate "+strconv.Itoa(i), "VTEP", fmt.Sprintf("%s is also candidate %d", c.VTEP, j), ErrInvalid)
			}
		}
	}
	return nil
}

// compareVTEP orders VTEP addresses numerically, IPv4 (mapped or not) before
// IPv6.
func compareVTEP(a, b netip.Addr) int { return a.Unmap().Compare(b.Unmap()) }

// electModulo returns the index of the candidate whose rank in ascending
// address order is ethTag mod N. It sorts nothing, so it does not allocate.
func electModulo(cs []Candidate, ethTag uint32) int {
	want := int(ethTag % uint32(len(cs)))
	for i, c := range cs {
		rank := 0
		for _, o := range cs {
			if compareVTEP(o.VTEP, c.VTEP) < 0 {
				rank++
			}
		}
		if rank == want {
			return i
		}
	}
	panic("evpn: modulo election found no candidate of rank " + strconv.Itoa(want)) // distinct addresses make ranks 0..N-1
}

// HRW constants of RFC 8584 section 3.2, from the HRW paper's recommended
// pseudorandom function.
const (
	hrwA    = 1103515245
	hrwB    = 12345
	hrwMask = 1<<31 - 1
)

// HRWWeight returns the weight of RFC 8584 section 3.2 for a PE with address
// vtep, in Ethernet Segment esi, for Ethernet tag ethTag:
//
//	Wrand(V, Es, Si) = (1103515245 * ((1103515245 * Si + 12345) XOR D(V, Es)) + 12345) mod 2^31
//
// where D(V, Es) is the CRC-32 (IEEE) of the 4-octet Ethernet tag in network
// order followed by the 10-octet ESI, with its most significant bit dropped,
// and Si is the address as an integer. Only the low 31 bits of Si matter
// modulo 2^31, which is how the RFC lets an address of any length in: an
// IPv6 address counts by its low 32 bits.
func HRWWeight(ethTag uint32, esi ESI, vtep netip.Addr) uint32 {
	var v [14]byte
	binary.BigEndian.PutUint32(v[:4], ethTag)
	copy(v[4:], esi[:])
	// crc32.ChecksumIEEE would make v escape (its assembly takes a slice);
	// the table loop over 14 bytes does not allocate.
	crc := ^uint32(0)
	for _, b := range v {
		crc = crc32.IEEETable[byte(crc)^b] ^ crc>>8
	}
	d := ^crc & hrwMask
	b := vtep.As16()
	si := binary.BigEndian.Uint32(b[12:])
	// Arithmetic mod 2^32 keeps the low 31 bits exact.
	return (hrwA*((hrwA*si+hrwB)^d) + hrwB) & hrwMask
}

// electHRW returns the index of the candidate with the highest weight, the
// lowest address among equal weights.
func electHRW(cs []Candidate, esi ESI, ethTag uint32) int {
	best, bestW := 0, HRWWeight(ethTag, esi, cs[0].VTEP)
	for i := 1; i < len(cs); i++ {
		w := HRWWeight(ethTag, esi, cs[i].VTEP)
		if w > bestW || (w == bestW && compareVTEP(cs[i].VTEP, cs[best].VTEP) < 0) {
			best, bestW = i, w
		}
	}
	return best
}

// electPreference returns the index of the candidate with the highest
// preference; among equals, the one with DontPreempt; then the lowest
// address.
func electPreference(cs []Candidate) int {
	best := 0
	for i := 1; i < len(cs); i++ {
		c, b := cs[i], cs[best]
		switch {
		case c.Pref != b.Pref:
			if c.Pref > b.Pref {
				best = i
			}
		case c.DontPreempt != b.DontPreempt:
			if c.DontPreempt {
				best = i
			}
		case compareVTEP(c.VTEP, b.VTEP) < 0:
			best = i
		}
	}
	return best
}
