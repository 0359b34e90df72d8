//go:build linux

package vxlan

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Errors returned by the underlay resolver, always wrapped with context;
// match them with errors.Is.
var (
	// ErrInvalidVTEP means an address cannot be a remote VTEP: it is not a
	// valid address, or it is zoned, IPv4-mapped IPv6, unspecified, loopback,
	// multicast, link-local or the IPv4 broadcast address.
	ErrInvalidVTEP = errors.New("invalid vtep address")
	// ErrClosed means the Resolver was closed.
	ErrClosed = errors.New("underlay resolver closed")
)

// Why an [Underlay] is not reachable. Reason holds one of these, or, when a
// netlink request fails for a reason of its own, "lookup error: " and the
// error.
const (
	// ReasonNoRoute: no route to the VTEP (the kernel answers ENETUNREACH;
	// a "throw" route ends the same way).
	ReasonNoRoute = "no route"
	// ReasonUnreachableRoute: the best route is an "unreachable" route.
	ReasonUnreachableRoute = "unreachable route"
	// ReasonBlackholeRoute: the best route is a "blackhole" route.
	ReasonBlackholeRoute = "blackhole route"
	// ReasonProhibitRoute: the best route is a "prohibit" route.
	ReasonProhibitRoute = "prohibit route"
	// ReasonLocal: the VTEP is an address of this host (or a broadcast or
	// multicast route covers it), so there is nothing to encapsulate towards.
	ReasonLocal = "local address"
	// ReasonLinkDown: the egress link is administratively down or has no
	// carrier (the kernel keeps IPv4 routes over a link without carrier,
	// marked linkdown).
	ReasonLinkDown = "link down"
	// ReasonNoMAC: the egress link has no Ethernet address (a tun or
	// wireguard device, say), so it cannot carry what the fast path sends.
	ReasonNoMAC = "link has no ethernet address"
	// ReasonNeighIncomplete: the next hop has no neighbour entry yet, or one
	// the kernel is still resolving. The resolver has asked the kernel to
	// resolve it; the answer arrives as an update.
	ReasonNeighIncomplete = "neighbour incomplete"
	// ReasonNeighFailed: the kernel gave up resolving the next hop
	// (NUD_FAILED). While the VTEP is watched the resolver asks again, at
	// most once per RetryInterval, and the reason stays this one (rather
	// than going back to ReasonNeighIncomplete with every new probe) until
	// the next hop answers.
	ReasonNeighFailed = "neighbour failed"
)

// Underlay is what the fast path needs to encapsulate towards one remote
// VTEP: the link to send on, the Ethernet addresses to put on the outer
// frame and the outer source address. It is comparable with ==.
//
// When Reachable is false, Reason says why, the fields the resolver could
// find are filled in (the route's link and gateway when only the neighbour
// is missing) and the rest are zero; the fast path must not encapsulate with
// it.
type Underlay struct {
	// VTEP is the remote VTEP address the result is for.
	VTEP netip.Addr
	// Ifindex is the egress link, in the resolver's namespace.
	Ifindex int
	// SrcMAC is the egress link's Ethernet address.
	SrcMAC [6]byte
	// DstMAC is the next hop's Ethernet address: the gateway's when the
	// route has one, else the VTEP's own.
	DstMAC [6]byte
	// Src is the source address the kernel would pick towards VTEP (the
	// route's preferred source).
	Src netip.Addr
	// Gateway is the route's gateway, zero when VTEP is on-link. It may be
	// of the other family: an IPv4 route via an IPv6 link-local next hop
	// (RFC 5549, BGP unnumbered) has an IPv6 Gateway.
	Gateway netip.Addr
	// Reachable reports whether every field above is resolved and the link
	// is up.
	Reachable bool
	// Reason says why the VTEP is not reachable; empty when it is.
	Reason string
}

// NextHop returns the address whose neighbour entry gives DstMAC: Gateway,
// or VTEP when it is on-link.
func (u Underlay) NextHop() netip.Addr {
	if u.Gateway.IsValid() {
		return u.Gateway
	}
	return u.VTEP
}

// String formats u for logs: the VTEP, then either where it goes or why it
// is unreachable.
func (u Underlay) String() string {
	if !u.Reachable {
		return fmt.Sprintf("%s unreachable (%s)", u.VTEP, u.Reason)
	}
	via := ""
	if u.Gateway.IsValid() {
		via = " via " + u.Gateway.String()
	}
	return fmt.Sprintf("%s%s ifindex %d src %s %s -> %s", u.VTEP, via, u.Ifindex, u.Src,
		net.HardwareAddr(u.SrcMAC[:]), net.HardwareAddr(u.DstMAC[:]))
}

// ResolverOptions configures a [Resolver]. The zero value, or a nil
// pointer, means defaults.
type ResolverOptions struct {
	// Netns is the network namespace whose routes, neighbours and links the
	// resolver reads. 0 or netns.None() means the namespace of the thread
	// that calls NewResolver. The resolver works on a duplicate of the
	// handle, so the caller may close its own at once.
	Netns netns.NsHandle
	// Logger receives the resolver's logs: changes at debug level, lost
	// subscriptions at warn. Nil discards them.
	Logger *slog.Logger
	// RetryInterval is how often the resolver asks the kernel again to
	// resolve the next hop of a watched VTEP whose neighbour is missing or
	// failed, and how often it retries lost netlink subscriptions. Zero
	// means one second.
	RetryInterval time.Duration
}

const (
	defaultRetryInterval = time.Second
	// netlinkTimeout bounds every netlink request, so a wedged socket
	// cannot stall the resolver's loop for good.
	netlinkTimeout = 5 * time.Second
	// subRcvBuf is the receive buffer asked for on each subscription
	// socket (the kernel caps it at net.core.rmem_max); an overflow costs a
	// resubscription and a full resync.
	subRcvBuf = 1 << 20
	// maxBatch bounds how many pending netlink events the loop takes
	// before it resolves the VTEPs they touched.
	maxBatch = 512
)

func (o *ResolverOptions) validate() error {
	if o.RetryInterval < 0 {
		return fmt.Errorf("retry interval %v: must not be negative (0 means %v)", o.RetryInterval, defaultRetryInterval)
	}
	return nil
}

// Resolver resolves remote VTEPs to [Underlay] results from the kernel's
// routes, links and neighbours in one network namespace, and follows their
// changes for the VTEPs it watches.
//
// One goroutine owns all of its state: it runs every request (Watch,
// Unwatch, Resolve) and every netlink event in order. Its methods are safe
// for concurrent use. Close it to stop that goroutine and its netlink
// subscriptions.
type Resolver struct {
	log   *slog.Logger
	retry time.Duration

	ns    netns.NsHandle   // our duplicate, closed by Close
	nlh   *netlink.Handle  // requests in ns
	neigh *nl.SocketHandle // RTM_GETNEIGH requests in ns, which netlink.Handle lacks

	ops     chan func()
	updates chan Underlay
	quit    chan struct{} // closed by Close
	stopped chan struct{} // closed when the loop has ended

	closeOnce sync.Once
	closeErr  error

	// Owned by the loop goroutine.
	watched map[netip.Addr]*Underlay
	pending map[netip.Addr]Underlay // latest unsent result per VTEP
	queue   []netip.Addr            // VTEPs in pending, oldest first
	dirty   map[netip.Addr]struct{} // watched VTEPs to resolve again
	kicked  map[nhKey]time.Time     // when each next hop was last kicked
	sub     *subscription           // nil while lost
}

// nhKey names a next hop: its address on a link.
type nhKey struct {
	ifindex int
	addr    netip.Addr
}

// NewResolver starts a resolver in the namespace opts names and subscribes
// to its route, nexthop, neighbour and link changes. opts may be nil.
//
// It needs CAP_NET_ADMIN in that namespace (to kick neighbour resolution)
// and CAP_SYS_ADMIN to enter a namespace other than the caller's; Linux 5.3
// or later.
func NewResolver(opts *ResolverOptions) (*Resolver, error) {
	if opts == nil {
		opts = &ResolverOptions{}
	}
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("underlay resolver options: %w", err)
	}
	r := &Resolver{
		log:     opts.Logger,
		retry:   opts.RetryInterval,
		ops:     make(chan func()),
		updates: make(chan Underlay),
		quit:    make(chan struct{}),
		stopped: make(chan struct{}),
		watched: map[netip.Addr]*Underlay{},
		pending: map[netip.Addr]Underlay{},
		dirty:   map[netip.Addr]struct{}{},
		kicked:  map[nhKey]time.Time{},
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.retry == 0 {
		r.retry = defaultRetryInterval
	}

	var err error
	r.ns, err = dupNetns(opts.Netns)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Resolver, error) {
		return nil, errors.Join(err, r.closeHandles())
	}
	if r.nlh, err = netlink.NewHandleAt(r.ns, unix.NETLINK_ROUTE); err != nil {
		return fail(fmt.Errorf("netlink handle in network namespace: %w", err))
	}
	if err := r.nlh.SetSocketTimeout(netlinkTimeout); err != nil {
		return fail(fmt.Errorf("netlink handle timeout: %w", err))
	}
	s, err := nl.GetNetlinkSocketAt(r.ns, netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		return fail(fmt.Errorf("netlink socket in network namespace: %w", err))
	}
	r.neigh = &nl.SocketHandle{Socket: s}
	tv := unix.NsecToTimeval(netlinkTimeout.Nanoseconds())
	if err := errors.Join(s.SetSendTimeout(&tv), s.SetReceiveTimeout(&tv)); err != nil {
		return fail(fmt.Errorf("netlink socket timeout: %w", err))
	}
	if r.sub, err = r.subscribe(); err != nil {
		return fail(err)
	}

	go r.run()
	return r, nil
}

// dupNetns returns a handle of our own on the namespace h names, or on the
// calling thread's namespace when h is 0 or netns.None().
func dupNetns(h netns.NsHandle) (netns.NsHandle, error) {
	if h <= 0 {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cur, err := netns.Get()
		if err != nil {
			return netns.None(), fmt.Errorf("open current network namespace: %w", err)
		}
		return cur, nil
	}
	fd, err := unix.FcntlInt(uintptr(h), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return netns.None(), fmt.Errorf("network namespace handle %d: %w", int(h), err)
	}
	return netns.NsHandle(fd), nil
}

// Updates returns the channel on which the resolver delivers a watched
// VTEP's new result whenever it changes. Results a slow reader has not taken
// yet are coalesced per VTEP: it always gets the latest one, and never one
// for a VTEP after Unwatch returns. The channel is closed by Close.
//
// Watch returns a VTEP's first result; the channel carries only changes.
func (r *Resolver) Updates() <-chan Underlay { return r.updates }

// Watch adds vtep to the watched set, resolves it now and returns the
// result; from then on every change of it arrives on Updates. Watching a
// VTEP again resolves it again, and a change found so is also sent on
// Updates. The error is nil for an unreachable VTEP (see Underlay.Reason);
// it wraps ErrInvalidVTEP for a bad address and ErrClosed after Close.
func (r *Resolver) Watch(vtep netip.Addr) (Underlay, error) {
	if err := validVTEP(vtep); err != nil {
		return Underlay{}, fmt.Errorf("watch: %w", err)
	}
	u, err := r.call(func() (Underlay, error) {
		u := r.resolve(vtep)
		if old, ok := r.watched[vtep]; ok {
			if u = settle(*old, u); u != *old {
				r.enqueue(u)
			}
		}
		r.watched[vtep] = &u
		delete(r.dirty, vtep)
		r.log.Debug("underlay watch", "vtep", vtep, "underlay", u)
		return u, nil
	})
	if err != nil {
		return Underlay{}, fmt.Errorf("watch %s: %w", vtep, err)
	}
	return u, nil
}

// Unwatch removes vtep from the watched set and drops any result of it not
// yet delivered; no update for it arrives after Unwatch returns. Unwatching
// a VTEP that is not watched does nothing.
func (r *Resolver) Unwatch(vtep netip.Addr) error {
	_, err := r.call(func() (Underlay, error) {
		delete(r.watched, vtep)
		delete(r.dirty, vtep)
		if _, ok := r.pending[vtep]; ok {
			delete(r.pending, vtep)
			r.queue = slices.DeleteFunc(r.queue, func(a netip.Addr) bool { return a == vtep })
		}
		return Underlay{}, nil
	})
	if err != nil {
		return fmt.Errorf("unwatch %s: %w", vtep, err)
	}
	return nil
}

// Resolve resolves vtep once, without watching it. When the next hop has
// no neighbour entry it asks the kernel to resolve it, as Watch does, so a
// later call may find it.
func (r *Resolver) Resolve(vtep netip.Addr) (Underlay, error) {
	if err := validVTEP(vtep); err != nil {
		return Underlay{}, fmt.Errorf("resolve: %w", err)
	}
	u, err := r.call(func() (Underlay, error) { return r.resolve(vtep), nil })
	if err != nil {
		return Underlay{}, fmt.Errorf("resolve %s: %w", vtep, err)
	}
	return u, nil
}

// Close stops the resolver: it ends its subscriptions and its goroutine,
// closes Updates and releases its netlink sockets and namespace handle.
// Calls after the first return the first's result.
func (r *Resolver) Close() error {
	r.closeOnce.Do(func() {
		close(r.quit)
		<-r.stopped
		r.closeErr = r.closeHandles()
	})
	return r.closeErr
}

func (r *Resolver) closeHandles() error {
	if r.nlh != nil {
		r.nlh.Close()
	}
	if r.neigh != nil {
		r.neigh.Close()
	}
	if r.ns.IsOpen() {
		if err := r.ns.Close(); err != nil {
			return fmt.Errorf("close network namespace handle: %w", err)
		}
	}
	return nil
}

// call runs fn on the loop goroutine and returns its result.
func (r *Resolver) call(fn func() (Underlay, error)) (Underlay, error) {
	type result struct {
		u   Underlay
		err error
	}
	c := make(chan result, 1)
	op := func() {
		u, err := fn()
		c <- result{u, err}
	}
	select {
	case r.ops <- op:
	case <-r.quit:
		return Underlay{}, ErrClosed
	}
	res := <-c // the loop runs every op it takes
	return res.u, res.err
}

// validVTEP reports why a cannot be a remote VTEP, or nil.
func validVTEP(a netip.Addr) error {
	var why string
	switch {
	case !a.IsValid():
		return fmt.Errorf("%w: no address given", ErrInvalidVTEP)
	case a.Zone() != "":
		why = "zoned; give the address without %" + a.Zone()
	case a.Is4In6():
		why = "IPv4-mapped IPv6; give it as " + a.Unmap().String()
	case a.IsUnspecified():
		why = "unspecified"
	case a.IsLoopback():
		why = "loopback"
	case a.IsMulticast():
		why = "multicast"
	case a.IsLinkLocalUnicast():
		why = "link-local"
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		why = "broadcast"
	default:
		return nil
	}
	return fmt.Errorf("%w %s: %s (a VTEP is a routable unicast address)", ErrInvalidVTEP, a, why)
}

// The loop.

func (r *Resolver) run() {
	defer close(r.stopped)
	defer close(r.updates)
	defer func() {
		if r.sub != nil {
			r.sub.close()
			r.sub = nil
		}
	}()
	tick := time.NewTicker(r.retry)
	defer tick.Stop()

	for {
		var (
			out  chan<- Underlay
			next Underlay
		)
		if len(r.queue) > 0 {
			out, next = r.updates, r.pending[r.queue[0]]
		}
		s := r.sub
		if s == nil {
			s = &subscription{} // nil channels: never ready
		}
		select {
		case <-r.quit:
			return
		case op := <-r.ops:
			op()
		case out <- next:
			delete(r.pending, r.queue[0])
			r.queue = r.queue[1:]
		case <-tick.C:
			r.onTick()
		case u, ok := <-s.routes:
			r.onRoute(u, ok)
		case _, ok := <-s.nexthops:
			r.onNexthop(ok)
		case u, ok := <-s.neighs:
			r.onNeigh(u, ok)
		case u, ok := <-s.links:
			r.onLink(u, ok)
		}
		r.drain()
		r.flush()
	}
}

// drain takes the netlink events already waiting, up to maxBatch, so that
// a burst of them costs one resolution per VTEP.
func (r *Resolver) drain() {
	for range maxBatch {
		s := r.sub
		if s == nil {
			return
		}
		select {
		case u, ok := <-s.routes:
			r.onRoute(u, ok)
		case _, ok := <-s.nexthops:
			r.onNexthop(ok)
		case u, ok := <-s.neighs:
			r.onNeigh(u, ok)
		case u, ok := <-s.links:
			r.onLink(u, ok)
		default:
			return
		}
	}
}

// flush resolves the dirty VTEPs again and queues those whose result
// changed.
func (r *Resolver) flush() {
	for vtep := range r.dirty {
		delete(r.dirty, vtep)
		cur, ok := r.watched[vtep]
		if !ok {
			continue
		}
		u := settle(*cur, r.resolve(vtep))
		if u == *cur {
			continue
		}
		*cur = u
		r.enqueue(u)
		r.log.Debug("underlay change", "vtep", vtep, "underlay", u)
	}
}

// settle returns the new result u of a watched VTEP given its previous one:
// u itself, except that a next hop that failed and is being probed again
// stays failed, so that a dead next hop does not send an update with every
// probe.
func settle(prev, u Underlay) Underlay {
	if prev.Reason != ReasonNeighFailed || u.Reason != ReasonNeighIncomplete {
		return u
	}
	probing := u
	probing.Reason = ReasonNeighFailed
	if probing == prev { // same link, same next hop
		return prev
	}
	return u
}

func (r *Resolver) enqueue(u Underlay) {
	if _, ok := r.pending[u.VTEP]; !ok {
		r.queue = append(r.queue, u.VTEP)
	}
	r.pending[u.VTEP] = u
}

func (r *Resolver) markAll() {
	for vtep := range r.watched {
		r.dirty[vtep] = struct{}{}
	}
}

// onRoute marks the VTEPs a route change can affect: those its prefix
// covers, in any table (a change of a prefix that does not cover a VTEP
// cannot change the kernel's answer for it).
func (r *Resolver) onRoute(u netlink.RouteUpdate, ok bool) {
	if !ok {
		r.lost("route")
		return
	}
	dst, is4 := u.Dst, u.Family == unix.AF_INET
	for vtep := range r.watched {
		// Dst is nil for a default route.
		if vtep.Is4() == is4 && (dst == nil || dst.Contains(vtep.AsSlice())) {
			r.dirty[vtep] = struct{}{}
		}
	}
}

// onNexthop marks every VTEP: routes that use nexthop objects change with
// them, and the kernel need not say so with a route notification
// (net.ipv4.nexthop_compat_mode=0).
func (r *Resolver) onNexthop(ok bool) {
	if !ok {
		r.lost("nexthop")
		return
	}
	r.markAll()
}

// onNeigh marks the VTEPs whose next hop the entry is.
func (r *Resolver) onNeigh(u netlink.NeighUpdate, ok bool) {
	if !ok {
		r.lost("neighbour")
		return
	}
	if u.Family != unix.AF_INET && u.Family != unix.AF_INET6 {
		return // bridge FDB entries share the group
	}
	ip, ok := addrFromIP(u.IP)
	if !ok {
		return
	}
	for vtep, cur := range r.watched {
		if cur.Ifindex == u.LinkIndex && cur.Ifindex != 0 && cur.NextHop() == ip {
			r.dirty[vtep] = struct{}{}
		}
	}
}

// onLink marks the VTEPs that leave by the link. IPv4 routes that go with a
// link going down are removed without a route notification, so this is
// also how their loss is seen.
func (r *Resolver) onLink(u netlink.LinkUpdate, ok bool) {
	if !ok {
		r.lost("link")
		return
	}
	index := int(u.Index)
	for vtep, cur := range r.watched {
		if cur.Ifindex == index {
			r.dirty[vtep] = struct{}{}
		}
	}
}

// onTick asks again for next hops that are missing or failed, and retries a
// lost subscription.
func (r *Resolver) onTick() {
	now := time.Now()
	for k, t := range r.kicked {
		if now.Sub(t) > 2*r.retry {
			delete(r.kicked, k)
		}
	}
	if r.sub == nil {
		r.resubscribe()
	}
	for vtep, cur := range r.watched {
		if cur.Reason == ReasonNeighIncomplete || cur.Reason == ReasonNeighFailed {
			r.dirty[vtep] = struct{}{}
		}
	}
}

// lost handles a subscription whose channel closed: the socket failed (an
// overflow, ENOBUFS, is the usual cause) and events may be lost. It drops
// all subscriptions, subscribes again and resolves every VTEP.
func (r *Resolver) lost(what string) {
	r.log.Warn("underlay netlink subscription lost; resubscribing", "subscription", what)
	r.sub.close()
	r.sub = nil
	r.resubscribe()
}

func (r *Resolver) resubscribe() {
	s, err := r.subscribe()
	if err != nil {
		r.log.Warn("underlay netlink subscription; retrying", "err", err, "retry", r.retry)
		return
	}
	r.sub = s
	r.markAll() // what changed while we were not listening
}

// Subscriptions.

// subscription holds the resolver's netlink subscriptions. Closing done
// closes their sockets; each channel is then closed by its reader goroutine,
// which close waits for.
type subscription struct {
	done     chan struct{}
	routes   chan netlink.RouteUpdate
	nexthops chan struct{}
	neighs   chan netlink.NeighUpdate
	links    chan netlink.LinkUpdate
}

func (r *Resolver) subscribe() (*subscription, error) {
	s := &subscription{
		done:   make(chan struct{}),
		routes: make(chan netlink.RouteUpdate, 64),
		neighs: make(chan netlink.NeighUpdate, 64),
		links:  make(chan netlink.LinkUpdate, 16),
	}
	ns := r.ns
	cberr := func(what string) func(error) {
		return func(err error) {
			select {
			case <-s.done: // closing: the socket's error is ours
			default:
				r.log.Debug("underlay netlink subscription error", "subscription", what, "err", err)
			}
		}
	}
	// Channels of subscriptions that never started are closed here, so that
	// close can drain all four.
	err := netlink.RouteSubscribeWithOptions(s.routes, s.done, netlink.RouteSubscribeOptions{
		Namespace: &ns, ErrorCallback: cberr("route"), ReceiveBufferSize: subRcvBuf,
	})
	if err != nil {
		close(s.routes)
		close(s.neighs)
		close(s.links)
		s.close()
		return nil, fmt.Errorf("subscribe to routes: %w", err)
	}
	if s.nexthops, err = subscribeNexthops(ns, s.done); err != nil {
		close(s.neighs)
		close(s.links)
		s.close()
		return nil, fmt.Errorf("subscribe to nexthops: %w", err)
	}
	err = netlink.NeighSubscribeWithOptions(s.neighs, s.done, netlink.NeighSubscribeOptions{
		Namespace: &ns, ErrorCallback: cberr("neighbour"), ReceiveBufferSize: subRcvBuf,
	})
	if err != nil {
		close(s.neighs)
		close(s.links)
		s.close()
		return nil, fmt.Errorf("subscribe to neighbours: %w", err)
	}
	err = netlink.LinkSubscribeWithOptions(s.links, s.done, netlink.LinkSubscribeOptions{
		Namespace: &ns, ErrorCallback: cberr("link"), ReceiveBufferSize: subRcvBuf,
	})
	if err != nil {
		close(s.links)
		s.close()
		return nil, fmt.Errorf("subscribe to links: %w", err)
	}
	return s, nil
}

// close ends the subscriptions and waits until their reader goroutines have
// closed their channels, taking what they still send so none blocks.
func (s *subscription) close() {
	if s == nil {
		return
	}
	close(s.done)
	for range s.routes {
	}
	if s.nexthops != nil {
		for range s.nexthops {
		}
	}
	for range s.neighs {
	}
	for range s.links {
	}
}

// subscribeNexthops subscribes to nexthop object changes (RTNLGRP_NEXTHOP,
// Linux 5.3), which netlink has no subscription for. The channel carries a
// token per batch of changes, coalesced; closing done ends it.
func subscribeNexthops(ns netns.NsHandle, done <-chan struct{}) (chan struct{}, error) {
	s, err := nl.SubscribeAt(ns, netns.None(), unix.NETLINK_ROUTE, unix.RTNLGRP_NEXTHOP)
	if err != nil {
		return nil, err
	}
	if err := s.SetReceiveBufferSize(subRcvBuf, false); err != nil {
		s.Close()
		return nil, err
	}
	ch := make(chan struct{}, 1)
	go func() {
		<-done
		s.Close()
	}()
	go func() {
		defer close(ch)
		for {
			if _, _, err := s.Receive(); err != nil {
				return
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return ch, nil
}

// Resolution.

// resolve asks the kernel where vtep goes, the way the kernel itself would
// send to it: route, egress link, neighbour entry of the next hop. When the
// next hop has no entry, or a failed one, it kicks resolution (see kick).
func (r *Resolver) resolve(vtep netip.Addr) Underlay {
	u := Underlay{VTEP: vtep}
	routes, err := r.nlh.RouteGet(vtep.AsSlice())
	if err != nil {
		u.Reason = routeReason(err)
		if u.Reason == "" {
			u.Reason = "lookup error: route: " + err.Error()
			r.log.Warn("underlay route lookup", "vtep", vtep, "err", err)
		}
		return u
	}
	if len(routes) == 0 || routes[0].LinkIndex == 0 {
		u.Reason = ReasonNoRoute
		return u
	}
	rt := routes[0]
	switch rt.Type {
	case unix.RTN_UNICAST:
	case unix.RTN_LOCAL, unix.RTN_BROADCAST, unix.RTN_MULTICAST, unix.RTN_ANYCAST:
		u.Reason = ReasonLocal
		return u
	case unix.RTN_UNREACHABLE:
		u.Reason = ReasonUnreachableRoute
		return u
	case unix.RTN_BLACKHOLE:
		u.Reason = ReasonBlackholeRoute
		return u
	case unix.RTN_PROHIBIT:
		u.Reason = ReasonProhibitRoute
		return u
	default:
		u.Reason = ReasonNoRoute
		return u
	}
	u.Ifindex = rt.LinkIndex
	u.Src, _ = addrFromIP(rt.Src)
	if gw, ok := addrFromIP(rt.Gw); ok {
		u.Gateway = gw
	} else if via, ok := rt.Via.(*netlink.Via); ok {
		u.Gateway, _ = addrFromIP(via.Addr)
	}

	link, err := r.nlh.LinkByIndex(u.Ifindex)
	if err != nil {
		// Gone since the route lookup: its removal is on its way.
		u.Reason = ReasonLinkDown
		return u
	}
	attrs := link.Attrs()
	if len(attrs.HardwareAddr) != 6 {
		u.Reason = ReasonNoMAC
		return u
	}
	copy(u.SrcMAC[:], attrs.HardwareAddr)
	if attrs.Flags&net.FlagUp == 0 || !operUp(attrs.OperState) || rt.Flags&unix.RTNH_F_LINKDOWN != 0 {
		u.Reason = ReasonLinkDown
		return u
	}

	nh := u.NextHop()
	n, err := r.neighGet(u.Ifindex, nh)
	switch {
	case errors.Is(err, unix.ENOENT):
		r.kick(u.Ifindex, nh)
		u.Reason = ReasonNeighIncomplete
		return u
	case err != nil:
		u.Reason = "lookup error: neighbour: " + err.Error()
		r.log.Warn("underlay neighbour lookup", "vtep", vtep, "next_hop", nh, "ifindex", u.Ifindex, "err", err)
		return u
	}
	const resolved = netlink.NUD_REACHABLE | netlink.NUD_STALE | netlink.NUD_DELAY |
		netlink.NUD_PROBE | netlink.NUD_PERMANENT | netlink.NUD_NOARP
	switch {
	case n.State&resolved != 0 && len(n.HardwareAddr) == 6:
		copy(u.DstMAC[:], n.HardwareAddr)
		u.Reachable = true
	case n.State&netlink.NUD_FAILED != 0:
		r.kick(u.Ifindex, nh)
		u.Reason = ReasonNeighFailed
	case n.State == netlink.NUD_NONE:
		r.kick(u.Ifindex, nh)
		u.Reason = ReasonNeighIncomplete
	default: // INCOMPLETE: the kernel is probing
		u.Reason = ReasonNeighIncomplete
	}
	return u
}

// routeReason maps the kernel's answer to a route lookup that found no
// usable route to a Reason, or "" for an error of another kind.
func routeReason(err error) string {
	switch {
	case errors.Is(err, unix.ENETUNREACH):
		return ReasonNoRoute
	case errors.Is(err, unix.EHOSTUNREACH):
		return ReasonUnreachableRoute
	case errors.Is(err, unix.EINVAL):
		return ReasonBlackholeRoute
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return ReasonProhibitRoute
	}
	return ""
}

// operUp reports whether an operational state lets the link send: up, or
// unknown for drivers that do not report one.
func operUp(s netlink.LinkOperState) bool {
	return s == netlink.OperUp || s == netlink.OperUnknown
}

// neighGet returns the neighbour entry of addr on the link, or an error
// wrapping ENOENT when there is none. It asks for that entry alone
// (RTM_GETNEIGH without NLM_F_DUMP, Linux 5.0) rather than dumping the
// table.
func (r *Resolver) neighGet(ifindex int, addr netip.Addr) (*netlink.Neigh, error) {
	family := unix.AF_INET6
	if addr.Is4() {
		family = unix.AF_INET
	}
	req := nl.NewNetlinkRequest(unix.RTM_GETNEIGH, 0)
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: r.neigh}
	req.AddData(&netlink.Ndmsg{Family: uint8(family), Index: uint32(ifindex)})
	req.AddData(nl.NewRtAttr(unix.NDA_DST, addr.AsSlice()))
	msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWNEIGH)
	if err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return nil, unix.ENOENT
	}
	return netlink.NeighDeserialize(msgs[0])
}

// kick asks the kernel to resolve a next hop that has no neighbour entry,
// or a failed one, at most once per retry interval each: it sends
// RTM_NEWNEIGH with NTF_USE, which `ip neigh replace ADDR dev DEV use` also
// sends. For NTF_USE the kernel ignores the state and address in the
// request, creates the entry if it is missing and calls neigh_event_send on
// it, exactly as if a packet were waiting for it: the entry goes INCOMPLETE
// and the first ARP request or neighbour solicitation leaves at once. No
// packet is sent to the next hop, no socket is needed in the namespace, and
// the outcome (REACHABLE or FAILED) arrives as a neighbour notification.
func (r *Resolver) kick(ifindex int, addr netip.Addr) {
	k := nhKey{ifindex, addr}
	if t, ok := r.kicked[k]; ok && time.Since(t) < r.retry {
		return
	}
	r.kicked[k] = time.Now()
	family := unix.AF_INET6
	if addr.Is4() {
		family = unix.AF_INET
	}
	err := r.nlh.NeighSet(&netlink.Neigh{
		LinkIndex: ifindex,
		Family:    family,
		Flags:     netlink.NTF_USE,
		IP:        addr.AsSlice(),
	})
	if err != nil {
		r.log.Warn("underlay neighbour kick", "next_hop", addr, "ifindex", ifindex, "err", err)
		return
	}
	r.log.Debug("underlay neighbour kick", "next_hop", addr, "ifindex", ifindex)
}

// addrFromIP converts a netlink address; IPv4 comes out unmapped.
func addrFromIP(ip net.IP) (netip.Addr, bool) {
	if len(ip) == 0 {
		return netip.Addr{}, false
	}
	a, ok := netip.AddrFromSlice(ip)
	return a.Unmap(), ok
}
