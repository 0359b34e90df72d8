package bench

import (
	"fmt"
	"regexp"
	"strconv"
)

// Kind is what a scenario's frames go through.
type Kind string

// The scenario kinds.
const (
	// Encap4: L2 to a remote VTEP over an IPv4 underlay (access port in,
	// VXLAN out of the uplink).
	Encap4 Kind = "encap4"
	// Encap6: the same over an IPv6 underlay.
	Encap6 Kind = "encap6"
	// ES4: L2 to a remote Ethernet Segment through a 4-member group of
	// VTEPs, IPv4 underlay.
	ES4 Kind = "es4"
	// Decap4: VXLAN over IPv4 in on the uplink, decapsulated to a local
	// access port.
	Decap4 Kind = "decap4"
	// Local: switching from one access port to another.
	Local Kind = "local"
)

// Description says in a few words what the kind measures.
func (k Kind) Description() string {
	switch k {
	case Encap4:
		return "L2 to a remote VTEP, IPv4 underlay"
	case Encap6:
		return "L2 to a remote VTEP, IPv6 underlay"
	case ES4:
		return "L2 to a remote ES, 4-VTEP group, IPv4 underlay"
	case Decap4:
		return "VXLAN (IPv4) decapsulated to a local port"
	case Local:
		return "local switching, access to access"
	}
	return string(k)
}

// path is how a kind uses the system under test.
type path uint8

const (
	pathEncap path = iota // access g1 in, uplink u0 out
	pathDecap             // uplink g1 in, access a0 out
	pathLocal             // access g1 in, access a0 out
)

func (k Kind) path() path {
	switch k {
	case Decap4:
		return pathDecap
	case Local:
		return pathLocal
	}
	return pathEncap
}

func (k Kind) ipv6() bool { return k == Encap6 }

// members is the size of the group the kind's MACs point at (1 for a
// single remote VTEP; the kernel path still uses a group, as FRR does).
func (k Kind) members() int {
	if k == ES4 {
		return 4
	}
	return 1
}

func (k Kind) valid() bool {
	switch k {
	case Encap4, Encap6, ES4, Decap4, Local:
		return true
	}
	return false
}

// Scenario is one row of the benchmark: a kind of traffic at a scale.
type Scenario struct {
	Kind Kind
	// FDB is how many MACs the system under test holds; the frames'
	// destinations are spread over them.
	FDB int
	// Flows is how many flows the generator stamps (distinct destination
	// MACs, up to FDB, and UDP source ports); at most 65536.
	Flows int
	// FrameBytes is the size of the host's frame on the wire, FCS
	// included (the inner frame of a decapsulation scenario).
	FrameBytes int
}

// Name is the scenario's name with its scale, as the Go benchmarks name
// it: "encap4/fdb=1M/flows=64k/64B".
func (s Scenario) Name() string {
	return fmt.Sprintf("%s/fdb=%s/flows=%s/%dB", s.Kind, Scale(s.FDB), Scale(s.Flows), s.FrameBytes)
}

func (s Scenario) String() string { return s.Name() }

// Scale writes a count short: 1000000 as "1M", 65536 as "64k", 1000 as
// "1k", 7 as "7".
func Scale(n int) string {
	switch {
	case n >= 1000000 && n%1000000 == 0:
		return strconv.Itoa(n/1000000) + "M"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "Mi"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	case n >= 1024 && n%1024 == 0:
		return strconv.Itoa(n>>10) + "k"
	}
	return strconv.Itoa(n)
}

// Scales of the standard scenarios.
const (
	FDBSmall  = 1000
	FDBLarge  = 1000000
	ManyFlows = 65536
)

// Headline is the scenario the targets and the no-loss check are about:
// L2 to a remote VTEP, 1M FDB entries, one flow, 64-byte frames.
var Headline = Scenario{Kind: Encap4, FDB: FDBLarge, Flows: 1, FrameBytes: 64}

// Scenarios returns the standard scenarios: every kind, FDBs of 1k and 1M
// entries, 1 flow and 64k flows, 64- and 1518-byte frames (not every
// combination: encapsulation gets the large FDB, decapsulation and local
// switching the small one). quick returns a short subset with the small
// FDB only.
func Scenarios(quick bool) []Scenario {
	var out []Scenario
	add := func(k Kind, fdbs, flows, sizes []int) {
		for _, f := range fdbs {
			for _, size := range sizes {
				for _, n := range flows {
					out = append(out, Scenario{Kind: k, FDB: f, Flows: n, FrameBytes: size})
				}
			}
		}
	}
	if quick {
		add(Encap4, []int{FDBSmall}, []int{1, ManyFlows}, []int{64})
		add(Encap6, []int{FDBSmall}, []int{ManyFlows}, []int{64})
		add(ES4, []int{FDBSmall}, []int{ManyFlows}, []int{64})
		add(Decap4, []int{FDBSmall}, []int{ManyFlows}, []int{64})
		add(Local, []int{FDBSmall}, []int{ManyFlows}, []int{64})
		return out
	}
	both, sizes := []int{1, ManyFlows}, []int{64, 1518}
	add(Encap4, []int{FDBLarge, FDBSmall}, both, sizes)
	add(Encap6, []int{FDBLarge}, both, sizes)
	add(ES4, []int{FDBLarge}, both, sizes)
	add(Decap4, []int{FDBSmall}, both, sizes)
	add(Local, []int{FDBSmall}, both, sizes)
	return out
}

// Filter returns the scenarios whose name re matches; a nil re keeps all.
func Filter(ss []Scenario, re *regexp.Regexp) []Scenario {
	if re == nil {
		return ss
	}
	var out []Scenario
	for _, s := range ss {
		if re.MatchString(s.Name()) {
			out = append(out, s)
		}
	}
	return out
}

func (s Scenario) validate() error {
	switch {
	case !s.Kind.valid():
		return fmt.Errorf("scenario %s: unknown kind %q (have %s, %s, %s, %s, %s)", s.Name(), s.Kind, Encap4, Encap6, ES4, Decap4, Local)
	case s.FDB < 1 || s.FDB > 1<<24-2:
		return fmt.Errorf("scenario %s: FDB of %d entries: want 1 to %d", s.Name(), s.FDB, 1<<24-2)
	case s.Flows < 1 || s.Flows > maxFlows:
		return fmt.Errorf("scenario %s: %d flows: want 1 to %d", s.Name(), s.Flows, maxFlows)
	case s.FrameBytes < 64 || s.FrameBytes > 1518:
		return fmt.Errorf("scenario %s: %d-byte frames: want 64 to 1518", s.Name(), s.FrameBytes)
	}
	return nil
}

// rigKey is what a topology is built for: scenarios with the same key share
// one topology per system (ES4 and Encap4 differ only in the group the MACs
// point at, which a rig switches in place).
type rigKey struct {
	path path
	ipv6 bool
	fdb  int
}

func (s Scenario) rigKey() rigKey {
	return rigKey{path: s.Kind.path(), ipv6: s.Kind.ipv6(), fdb: s.FDB}
}

// group is the scenarios of one rig, in run order.
type group struct {
	key       rigKey
	scenarios []Scenario
}

// groupScenarios groups scenarios by rig in order of first appearance;
// within a group, single-VTEP scenarios come before group ones, so a rig
// switches its group at most once.
func groupScenarios(ss []Scenario) []group {
	var out []group
	idx := map[rigKey]int{}
	for _, s := range ss {
		i, ok := idx[s.rigKey()]
		if !ok {
			i = len(out)
			idx[s.rigKey()] = i
			out = append(out, group{key: s.rigKey()})
		}
		out[i].scenarios = append(out[i].scenarios, s)
	}
	for i := range out {
		g := out[i].scenarios
		var one, many []Scenario
		for _, s := range g {
			if s.Kind.members() == 1 {
				one = append(one, s)
			} else {
				many = append(many, s)
			}
		}
		out[i].scenarios = append(one, many...)
	}
	return out
}
