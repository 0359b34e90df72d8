package dataplane

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
)

// DefaultPinDir is where the daemon pins maps and links.
const DefaultPinDir = "/sys/fs/bpf/fwd"

var (
	// ErrInvalid reports an argument the fast path cannot hold: an id out of
	// range, a malformed group, mismatched address families.
	ErrInvalid = errors.New("invalid argument")
	// ErrNotFound reports a lookup of something that is not in the map.
	ErrNotFound = errors.New("not found")
	// ErrClosed reports use of a closed Dataplane.
	ErrClosed = errors.New("dataplane closed")
	// ErrPinIncompatible reports pinned maps another build of the fast
	// path left, whose layout this one cannot adopt.
	ErrPinIncompatible = errors.New("pinned maps have another layout")
)

// Options configure Load. A nil *Options means the defaults.
type Options struct {
	// PinDir pins every map there by name and adopts compatible maps already
	// pinned (a restart keeps forwarding state). Empty: nothing is pinned.
	PinDir string
	// FDBMax is the FDB's capacity; 0 means DefaultFDBMax.
	FDBMax uint32
	// FDBCacheSets sizes the per-CPU FDB cache in pairs of entries (32
	// bytes per CPU each): a power of two, 0 means DefaultFDBCacheSets. The
	// cache holds 2*FDBCacheSets entries in four-way sets of one cache line
	// (FDBCacheSets/2 of them); the unit is a pair, as when sets were
	// two-way, so that a configured size keeps its memory and capacity.
	FDBCacheSets uint32
	// Logger receives the dataplane's logs; nil means slog.Default().
	Logger *slog.Logger
}

func (o *Options) validate() error {
	if n := o.FDBCacheSets; n != 0 && (n&(n-1) != 0 || n > 1<<20) {
		return fmt.Errorf("fdb cache of %d sets: want a power of two up to %d: %w", n, 1<<20, ErrInvalid)
	}
	if o.FDBMax > 1<<24 {
		return fmt.Errorf("fdb size %d: more than %d entries: %w", o.FDBMax, 1<<24, ErrInvalid)
	}
	return nil
}

// Dataplane is the loaded fast path: its program and maps.
type Dataplane struct {
	objs   bpfObjects
	log    *slog.Logger
	pinDir string

	counterNames []string

	nhDown   *words // one bit per nexthop
	esDown   *words // one bit per ES
	nhActive *words // group id -> slot
	tunGen   *words // fwd_tun_gen: bumped after every write to fwd_vtep or fwd_bd

	grace  *grace
	groups *slotTable
	fdb    *fdbTable

	portMu sync.Mutex // read-modify-write of port entries
	bdMu   sync.Mutex
	bdIdx  map[uint32]uint16 // VNI -> FDB key index
	bdFree []uint16

	mu     sync.Mutex
	links  map[int]link.Link
	closed bool
}

// Load loads the fast path into the kernel. Minimum kernel: 6.1.
func Load(opts *Options) (*Dataplane, error) {
	if opts == nil {
		opts = &Options{}
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	spec, err := loadBpf()
	if err != nil {
		return nil, err
	}
	fdbMax := opts.FDBMax
	if fdbMax == 0 {
		fdbMax = DefaultFDBMax
	}
	slots := fdbSlots(fdbMax)
	spec.Maps[bpfMapFwdFdb].MaxEntries = slots
	if err := spec.Variables[bpfVarFwdFdbMask].Set(slots - 1); err != nil {
		return nil, fmt.Errorf("size fdb: %w", err)
	}
	sets := opts.FDBCacheSets
	if sets == 0 {
		sets = DefaultFDBCacheSets
	}
	sets = max(sets/fdbCachePairsPerSet, 1)
	spec.Maps[bpfMapFwdFdbCache].MaxEntries = sets
	if err := spec.Variables[bpfVarFwdFdbCacheMask].Set(sets - 1); err != nil {
		return nil, fmt.Errorf("size fdb cache: %w", err)
	}

	collOpts := &ebpf.CollectionOptions{}
	if opts.PinDir != "" {
		if err := os.MkdirAll(opts.PinDir, 0o700); err != nil {
			return nil, fmt.Errorf("create pin dir: %w", err)
		}
		for name, m := range spec.Maps {
			// The caches are private to each instance (and the FDB's is
			// sized by its options): everything else is state to adopt.
			if !strings.HasPrefix(name, ".") && name != bpfMapFwdFdbCache && name != bpfMapFwdTunCache {
				m.Pinning = ebpf.PinByName
			}
		}
		collOpts.Maps.PinPath = opts.PinDir
	}

	d := &Dataplane{
		log:    opts.Logger,
		pinDir: opts.PinDir,
		links:  make(map[int]link.Link),
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	if err := spec.LoadAndAssign(&d.objs, collOpts); err != nil {
		if errors.Is(err, ebpf.ErrMapIncompatible) {
			return nil, fmt.Errorf("load fast path: the maps pinned in %s: %w (%v)", opts.PinDir, ErrPinIncompatible, err)
		}
		return nil, fmt.Errorf("load fast path: %w", err)
	}
	if d.counterNames, err = counterNames(spec); err != nil {
		d.objs.Close()
		return nil, err
	}
	if err := d.mapWords(); err != nil {
		d.Close()
		return nil, err
	}
	d.grace = newGrace(d.log)
	if d.groups, err = newSlotTable(d.objs.FwdNhgSlot, d.nhActive, d.grace); err != nil {
		d.Close()
		return nil, err
	}
	if d.fdb, err = newFDBTable(d.objs.FwdFdb, d.objs.FwdFdbGen, d.grace); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.adoptBDs(); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.initConfig(); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *Dataplane) mapWords() error {
	var err error
	if d.nhDown, err = mmapWords(d.objs.FwdNhDown); err != nil {
		return fmt.Errorf("map nexthop down bits: %w", err)
	}
	if d.esDown, err = mmapWords(d.objs.FwdEsDown); err != nil {
		return fmt.Errorf("map ES down bits: %w", err)
	}
	if d.nhActive, err = mmapWords(d.objs.FwdNhgActive); err != nil {
		return fmt.Errorf("map group slots: %w", err)
	}
	if d.tunGen, err = mmapWords(d.objs.FwdTunGen); err != nil {
		return fmt.Errorf("map tunnel generation: %w", err)
	}
	return nil
}

// initConfig writes the default knobs unless a pinned map already has some.
func (d *Dataplane) initConfig() error {
	cur, err := d.Config()
	if err != nil {
		return err
	}
	if cur != (Config{}) {
		return nil
	}
	return d.SetConfig(Config{VXLANPort: 4789, TTL: 64, LearnRate: 10000, LearnBurst: 1000})
}

// adoptBDs reads the BD indexes a pinned fwd_bd holds; the rest are free.
func (d *Dataplane) adoptBDs() error {
	d.bdIdx = make(map[uint32]uint16)
	used := make(map[uint16]bool)
	var vni uint32
	var v bpfFwdBdInfo
	it := d.objs.FwdBd.Iterate()
	for it.Next(&vni, &v) {
		d.bdIdx[vni] = v.Idx
		used[v.Idx] = true
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("read bridge domains: %w", err)
	}
	for i := uint16(MaxBDs); i >= 1; i-- {
		if !used[i] {
			d.bdFree = append(d.bdFree, i)
		}
	}
	return nil
}

// counterNames reads enum fwd_counter from the object's BTF: the C header is
// the only list of counters.
func counterNames(spec *ebpf.CollectionSpec) ([]string, error) {
	var enum *btf.Enum
	if err := spec.Types.TypeByName("fwd_counter", &enum); err != nil {
		return nil, fmt.Errorf("counter names: %w", err)
	}
	var names []string
	for _, v := range enum.Values {
		name := strings.ToLower(strings.TrimPrefix(v.Name, "FWD_CTR_"))
		if name == "_len" {
			continue
		}
		if int(v.Value) != len(names) {
			return nil, fmt.Errorf("counter %s: value %d is not dense", v.Name, v.Value)
		}
		names = append(names, name)
	}
	if len(names) > counterSlots {
		return nil, fmt.Errorf("%d counters do not fit the map's %d slots", len(names), counterSlots)
	}
	return names, nil
}

// Program returns the XDP program, for attaching elsewhere or for tests.
func (d *Dataplane) Program() *ebpf.Program { return d.objs.FwdXdp }

// Close releases the program and maps. Attached links that were pinned keep
// forwarding; unpinned links are detached.
func (d *Dataplane) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	var errs []error
	for ifindex, l := range d.links {
		if err := l.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close link on ifindex %d: %w", ifindex, err))
		}
	}
	if d.groups != nil {
		errs = append(errs, d.groups.close())
	}
	if d.grace != nil {
		d.grace.close()
	}
	if d.fdb != nil {
		errs = append(errs, d.fdb.close())
	}
	for _, w := range []*words{d.nhDown, d.esDown, d.nhActive, d.tunGen} {
		if w != nil {
			errs = append(errs, w.close())
		}
	}
	errs = append(errs, d.objs.Close())
	return errors.Join(errs...)
}

// Unpin removes the pinned maps and links from bpffs, so that the next Load
// starts fresh and closing the last holder detaches the program.
func (d *Dataplane) Unpin() error {
	if d.pinDir == "" {
		return nil
	}
	var errs []error
	d.mu.Lock()
	for ifindex, l := range d.links {
		if _, err := os.Stat(d.linkPath(ifindex)); err == nil {
			errs = append(errs, l.Unpin())
		}
	}
	d.mu.Unlock()
	for _, m := range d.maps() {
		if m.IsPinned() {
			errs = append(errs, m.Unpin())
		}
	}
	_ = os.Remove(d.pinDir + "/links")
	_ = os.Remove(d.pinDir)
	return errors.Join(errs...)
}

func (d *Dataplane) maps() []*ebpf.Map {
	m := &d.objs.bpfMaps
	return []*ebpf.Map{m.FwdBd, m.FwdConfig, m.FwdCounters, m.FwdEs, m.FwdEsDown, m.FwdEsPeers,
		m.FwdFdb, m.FwdFdbCache, m.FwdFdbGen, m.FwdLearn, m.FwdLearnRl, m.FwdNh, m.FwdNhDown, m.FwdNhgActive, m.FwdNhgSlot,
		m.FwdPort, m.FwdPortBd, m.FwdTrace, m.FwdTunCache, m.FwdTunGen, m.FwdTx, m.FwdVlanBd, m.FwdVtep}
}
