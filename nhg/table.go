package nhg

import (
	"fmt"
	"slices"
)

// Op says what a Change asks of the fast path.
type Op uint8

// Ops.
const (
	OpNone    Op = iota // nothing to write (a deferred delete)
	OpReplace           // dataplane ReplaceGroup(ID, Buckets)
	OpRemove            // dataplane DeleteGroup(ID)
)

func (o Op) String() string {
	switch o {
	case OpNone:
		return "none"
	case OpReplace:
		return "replace"
	case OpRemove:
		return "remove"
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Change is the one write an operation on the Table asks of the fast path.
// After the write, the caller reports its outcome with Table.ReportInstall
// (except for OpNone, which asks for nothing).
type Change struct {
	Op    Op
	ID    uint32
	Owner Owner
	// Buckets is the group's new table (OpReplace); the caller's own copy.
	Buckets []Bucket
}

// Status is a group's install state, as zebra reports it to the owner.
type Status uint8

// Statuses.
const (
	Pending      Status = iota // a change is out; its result has not come back
	Installed                  // the fast path holds the group (zebra INSTALLED)
	Failed                     // the write failed (zebra FAIL_INSTALL)
	Removed                    // the fast path no longer holds it (zebra REMOVED)
	RemoveFailed               // the removal failed (zebra REMOVE_FAIL)
)

var statusNames = [...]string{
	Pending:      "pending",
	Installed:    "installed",
	Failed:       "failed",
	Removed:      "removed",
	RemoveFailed: "remove-failed",
}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// InstallResult is what the owner of a group hears after a write.
type InstallResult struct {
	GroupID uint32
	Owner   Owner
	Status  Status
	Err     error // the write's error (Failed, RemoveFailed)
}

// Entry is a group as the Table holds it, for show commands.
type Entry struct {
	Group Group
	// Buckets is the table the fast path holds once the writes handed out
	// land (after a failed write, the one it still holds).
	Buckets []Bucket
	Status  Status
	Err     error // the last write's error
	// Refs counts the group's users (MACs, ESes, routes).
	Refs int
	// Deleting is set when the owner deleted the group and it waits for
	// its last users to leave.
	Deleting bool
}

// Config configures a Table. A nil *Config means the defaults.
type Config struct {
	// Buckets is the size of every group's bucket table: a power of two
	// from 1 to 128; 0 means DefaultBuckets (128).
	Buckets int
}

func (c *Config) validate() error {
	if n := c.Buckets; n < 0 || n > MaxBuckets || n&(n-1) != 0 {
		return fmt.Errorf("config: %d buckets: want a power of two from 1 to %d, or 0 for %d: %w", n, MaxBuckets, DefaultBuckets, ErrInvalid)
	}
	return nil
}

// Table is the group database. Each operation that changes a group returns
// exactly one Change, one write for the fast path; the caller makes the
// write and reports its outcome with ReportInstall, which tells the owner.
//
// Adding a group whose ID exists replaces it in place (as zebra does): the
// new bucket table is built from the one the fast path holds, so only the
// flows that must move do, and every user of the group follows.
//
// Deleting a group that has users is deferred: the group stays installed,
// takes no new references (Ref fails with ErrDeleting), and is removed when
// its last user calls Unref, whose Change is then the removal. Adding the
// group again before that cancels the delete. A removed group's ID returns
// to its owner's range once the removal is reported done.
//
// A Table is not safe for concurrent use; the control loop owns it.
type Table struct {
	n      int
	ids    *IDAllocator
	groups map[uint32]*entry
	notify [ownerLen]func(InstallResult)
}

type entry struct {
	g         Group
	base      []Bucket // prev for the next build: what the fast path holds once the pending writes land
	installed []Bucket // what the fast path is known to hold
	status    Status
	err       error
	refs      int
	deleting  bool // deleted by the owner, waiting for refs to drop
	removing  bool // a removal was handed out
	pending   []pendingOp
}

type pendingOp struct {
	remove  bool
	buckets []Bucket
}

// NewTable returns an empty group database.
func NewTable(cfg *Config) (*Table, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	n := cfg.Buckets
	if n == 0 {
		n = DefaultBuckets
	}
	return &Table{n: n, ids: NewGroupIDAllocator(), groups: make(map[uint32]*entry)}, nil
}

// Notify sets the function that hears o's install results (nil: none). It
// is called from ReportInstall, on the caller's goroutine.
func (t *Table) Notify(o Owner, fn func(InstallResult)) {
	if o.Valid() {
		t.notify[o] = fn
	}
}

// Add adds g, or replaces the group with g's ID in place, and returns the
// write: the group's new bucket table. With ID 0 it picks a free ID from the
// owner's range (Change.ID says which). A group the owner had deleted is
// revived. The Table keeps its own copy of g.
func (t *Table) Add(g Group) (Change, error) {
	if err := g.Validate(); err != nil {
		return Change{}, err
	}
	e := t.groups[g.ID]
	if e == nil {
		var err error
		if g.ID == 0 {
			g.ID, err = t.ids.Alloc(g.Owner)
		} else {
			err = t.ids.Reserve(g.Owner, g.ID)
		}
		if err != nil {
			return Change{}, fmt.Errorf("add group: %w", err)
		}
		e = &entry{}
		t.groups[g.ID] = e
	}
	e.g = g.Clone()
	e.deleting, e.removing = false, false
	return t.replace(e), nil
}

// Replace is Add for a group that must exist: it fails with ErrNotFound
// rather than create one.
func (t *Table) Replace(g Group) (Change, error) {
	if e := t.groups[g.ID]; e == nil || e.removing {
		return Change{}, fmt.Errorf("replace group %d: %w", g.ID, ErrNotFound)
	}
	return t.Add(g)
}

// replace builds e's table from the one the fast path holds and hands it out.
func (t *Table) replace(e *entry) Change {
	return t.handOut(e, t.build(e))
}

func (t *Table) build(e *entry) []Bucket {
	var b builder
	b.build(&e.g, t.n, e.base)
	buckets := make([]Bucket, t.n)
	for i := range buckets {
		buckets[i] = Bucket{Primary: e.g.Members[b.prim[i]].ID, Backup: b.backup[i]}
	}
	return buckets
}

func (t *Table) handOut(e *entry, buckets []Bucket) Change {
	e.base = buckets
	e.status, e.err = Pending, nil
	e.pending = append(e.pending, pendingOp{buckets: buckets})
	return Change{Op: OpReplace, ID: e.g.ID, Owner: e.g.Owner, Buckets: slices.Clone(buckets)}
}

// Delete deletes group id. With no users the Change is the removal; with
// users it is OpNone and the removal comes from the last Unref. Deleting a
// group whose removal failed hands the removal out again.
func (t *Table) Delete(id uint32) (Change, error) {
	e := t.groups[id]
	if e == nil {
		return Change{}, fmt.Errorf("delete group %d: %w", id, ErrNotFound)
	}
	none := Change{Op: OpNone, ID: id, Owner: e.g.Owner}
	if e.removing && (len(e.pending) > 0 || e.status != RemoveFailed) {
		return none, nil // already on its way out
	}
	e.deleting = true
	if e.refs > 0 {
		return none, nil
	}
	return t.remove(e), nil
}

func (t *Table) remove(e *entry) Change {
	e.removing = true
	e.status, e.err = Pending, nil
	e.pending = append(e.pending, pendingOp{remove: true})
	return Change{Op: OpRemove, ID: e.g.ID, Owner: e.g.Owner}
}

// Ref records one more user of group id. A deleted group takes no new users
// (ErrDeleting).
func (t *Table) Ref(id uint32) error {
	e := t.groups[id]
	switch {
	case e == nil:
		return fmt.Errorf("reference group %d: %w", id, ErrNotFound)
	case e.deleting:
		return fmt.Errorf("reference group %d: deleted by %s, waiting for %d users to leave: %w", id, e.g.Owner, e.refs, ErrDeleting)
	}
	e.refs++
	return nil
}

// Unref drops one user of group id. When it was the last user of a deleted
// group, the Change is the group's removal; otherwise it is OpNone.
func (t *Table) Unref(id uint32) (Change, error) {
	e := t.groups[id]
	switch {
	case e == nil:
		return Change{}, fmt.Errorf("unreference group %d: %w", id, ErrNotFound)
	case e.refs == 0:
		return Change{}, fmt.Errorf("unreference group %d: it has no users: %w", id, ErrInvalid)
	}
	e.refs--
	if e.refs == 0 && e.deleting && !e.removing {
		return t.remove(e), nil
	}
	return Change{Op: OpNone, ID: id, Owner: e.g.Owner}, nil
}

// SetNextHopDown marks nexthop nh down (or up again) in every group that
// has it as a member or a backup, and returns one Change per group whose
// table that changes, by group ID (an installed group whose table comes out
// the same needs no write). A member going down hands its buckets to the
// members that are up (tier 2 of failover, where the fast path's
// precomputed backups were tier 1); coming back up, it takes its share back
// from the others, moving only what it must.
func (t *Table) SetNextHopDown(nh uint32, down bool) []Change {
	var ids []uint32
	for id, e := range t.groups {
		if e.removing {
			continue
		}
		hit := false
		for _, s := range [2][]NextHop{e.g.Members, e.g.Backups} {
			for i := range s {
				if s[i].ID == nh && s[i].Down != down {
					s[i].Down = down
					hit = true
				}
			}
		}
		if hit {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	changes := make([]Change, 0, len(ids))
	for _, id := range ids {
		e := t.groups[id]
		buckets := t.build(e)
		if e.status == Installed && len(e.pending) == 0 && slices.Equal(buckets, e.base) {
			continue
		}
		changes = append(changes, t.handOut(e, buckets))
	}
	return changes
}

// ReportInstall reports the outcome of the oldest write handed out for
// group id and not yet reported (err nil: done), and tells the group's
// owner. A removal reported done forgets the group and frees its ID.
func (t *Table) ReportInstall(id uint32, err error) error {
	e := t.groups[id]
	if e == nil || len(e.pending) == 0 {
		return fmt.Errorf("report install of group %d: no write awaits a result: %w", id, ErrNotFound)
	}
	op := e.pending[0]
	e.pending = slices.Delete(e.pending, 0, 1)
	res := InstallResult{GroupID: id, Owner: e.g.Owner, Err: err}
	switch {
	case op.remove && err == nil:
		res.Status = Removed
		e.installed = nil
		if len(e.pending) == 0 {
			e.base = nil
		}
		if e.removing && len(e.pending) == 0 {
			delete(t.groups, id)
			if ferr := t.ids.Free(e.g.Owner, id); ferr != nil {
				return fmt.Errorf("report install of group %d: %w", id, ferr)
			}
		}
	case op.remove:
		res.Status = RemoveFailed
	case err == nil:
		res.Status = Installed
		e.installed = op.buckets
	default:
		res.Status = Failed
		if len(e.pending) == 0 {
			e.base = e.installed // build the next table from what the fast path holds
		}
	}
	if len(e.pending) == 0 {
		e.status, e.err = res.Status, err
	}
	if fn := t.notify[e.g.Owner]; fn != nil {
		fn(res)
	}
	return nil
}

// Get returns group id as the Table holds it.
func (t *Table) Get(id uint32) (Entry, bool) {
	e := t.groups[id]
	if e == nil {
		return Entry{}, false
	}
	return e.export(), true
}

// Entries returns every group, by ID.
func (t *Table) Entries() []Entry {
	ids := make([]uint32, 0, len(t.groups))
	for id := range t.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]Entry, len(ids))
	for i, id := range ids {
		out[i] = t.groups[id].export()
	}
	return out
}

// Len returns the number of groups.
func (t *Table) Len() int { return len(t.groups) }

// Count returns how many group IDs of o's range are in use, counting groups
// whose removal has not been reported yet.
func (t *Table) Count(o Owner) int { return t.ids.Count(o) }

func (e *entry) export() Entry {
	return Entry{
		Group:    e.g.Clone(),
		Buckets:  slices.Clone(e.base),
		Status:   e.status,
		Err:      e.err,
		Refs:     e.refs,
		Deleting: e.deleting,
	}
}

// ReserveID keeps group id out of o's free IDs: for a group a previous
// instance left in the fast path, which keeps forwarding until the new
// state replaces it. ReleaseID gives it back.
func (t *Table) ReserveID(o Owner, id uint32) error { return t.ids.Reserve(o, id) }

// ReleaseID returns an ID ReserveID took; it fails for an ID a group of
// this Table uses.
func (t *Table) ReleaseID(o Owner, id uint32) error {
	if _, ok := t.groups[id]; ok {
		return fmt.Errorf("release group id %d: a group uses it: %w", id, ErrInUse)
	}
	return t.ids.Free(o, id)
}
