// Package control is fwd's brain: one event loop that owns the EVPN state
// and drives the nexthop groups and the fast path.
//
// Routes arrive as evpn.Path values from BGP, from the API (batch injection,
// the SHARP-like test source) and from static config; local events arrive
// from netlink (port and uplink state, underlay reachability) and from the
// fast path's learn ring. Every change is applied in order, one at a time
// (GoBGP's management loop is the model): a caller takes the loop's token and
// runs its change on its own goroutine; the loop goroutine takes the same
// token for the work left after the answers (group bookkeeping, staging the
// versions of the next mass withdraw) and for timers, a step at a time.
//
// The state the fast path holds is a function of the set of routes present,
// not of the order they came in: the loop keeps every path in a RIB and,
// after each batch, recomputes what the batch touched (a MAC, an Ethernet
// Segment, a flood list) and writes only the difference.
//
// The three failover tiers:
//   - a remote VTEP whose underlay route is lost, or a local ES port that
//     goes down, flips one down bit: the fast path moves to the precomputed
//     backups with no map write;
//   - a remote ES losing a PE (EAD-per-ES withdraw) rebuilds that ES's one
//     group: one write, whatever the number of MACs behind it;
//   - convergence: per-MAC routes withdrawn or replaced.
//
// control defines the small interfaces it needs (Dataplane, Underlay,
// RouteSink) and is tested in plain Go, without root; dataplane.Dataplane,
// vxlan.Resolver and the BGP adapter implement them.
package control
