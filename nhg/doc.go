// Package nhg owns fwd's nexthop groups: their IDs, per owner; their members
// and FRR-style backup nexthops, and the rules those must follow; the
// resilient bucket tables with precomputed backups that the fast path holds;
// and the group database ([Table]) that turns every change into exactly one
// write for the dataplane and reports its outcome back to the group's owner.
//
// The package is pure Go and imports nothing of fwd's: its [Bucket] has the
// fields of dataplane.Bucket and the control plane converts. It holds no
// kernel objects, so there is nothing to close, and it needs no particular
// kernel or privileges. Nothing in it is safe for concurrent use: the control
// loop owns the [Table] and the allocators, as it owns all state.
//
// # IDs
//
// As zebra gives each protocol its own slice of the nexthop-group ID space,
// each [Owner] has its own slice of both of the fast path's ID spaces, so
// owners never collide and an ID says who owns it ([GroupOwner],
// [NextHopOwner]). ID 0 means "none" everywhere.
//
//	owner     group IDs (1-8191)   nexthop IDs (1-65535)
//	evpn-l2   1-4095     (4095)    1-16383      (16383)
//	evpn-l3   4096-6143  (2048)    16384-32767  (16384)
//	api       6144-7167  (1024)    32768-49151  (16384)
//	static    7168-8191  (1024)    49152-65535  (16384)
//
// EVPN L2 has half the groups: it needs one per remote Ethernet Segment and
// one backup group per local ES, and ES IDs are below 4096. Nexthop IDs are
// split evenly. A group's members may use nexthop IDs of any owner (an API
// group may point at a VTEP that BGP taught); only the group's own ID must be
// in its owner's range. [IDAllocator] hands IDs out next-fit per owner and
// reports an exhausted range with [ErrExhausted].
//
// # Groups, members and backups
//
// A [Group] has 1 to 128 members, which share its flows by weight (1-255, 0
// meaning 1), and, as in FRR, a list of up to 16 backup nexthops. Each member
// may list 1 to 8 of them, by ID, in order of preference. [Group.Validate]
// enforces, naming the group, the member and the reason:
//
//   - nexthop IDs 1-65535, unique within the members and within the backups;
//     a valid unicast VTEP address; VNI 0-16777215; member weights 1-255;
//   - no two members with the same VTEP and VNI (use one, with a weight);
//   - a member that is also a backup is the same nexthop in both lists;
//   - at most 8 backups per member, none listed twice, each in the group's
//     backup list, none the member itself;
//   - no backup chains: a backup nexthop lists no backups of its own.
//
// The loop rule is this: a backup chain must never come back to its primary.
// Because backups carry no backups of their own (FRR's model) and the fast
// path takes at most one step from a bucket's primary to its backup, every
// chain has length one and the only loop left is a member backing itself up,
// which is refused. Members backing each other up (A backs up B and B backs
// up A, as the two PEs of an ES would) is allowed: it is not a loop, since a
// frame whose primary and backup are both down is dropped, never sent on.
//
// # Bucket tables
//
// [Group.Buckets] builds the table the fast path holds: a power of two of
// buckets (128 by default, the fast path's maximum), shared by the members in
// proportion to their weights, within one bucket each. Given the table the
// fast path holds now, it is resilient: a change moves only the flows of the
// members that left, went down or whose share shrank. Each bucket carries a
// precomputed backup: the member's first configured backup that is not down,
// or else the member a rebuild without the primary would give the bucket, so
// a dead member's flows spread over the survivors by weight, and the rebuild
// that follows (tier 2 of failover) moves none of them again.
//
// # The group database
//
// [Table.Add] adds a group or replaces one in place (zebra's semantics);
// [Table.Delete] removes one, deferred while users hold references
// ([Table.Ref], [Table.Unref]); [Table.SetNextHopDown] rebuilds the groups a
// nexthop's state touches. Each returns a [Change]: one ReplaceGroup or one
// DeleteGroup for the dataplane, or nothing. The caller makes the write and
// calls [Table.ReportInstall], and the owner hears an [InstallResult]
// (installed, failed, removed, remove-failed) through the function it gave
// [Table.Notify].
package nhg
