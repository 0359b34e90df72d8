package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwdplane/fwd/lab"
)

// FRR's mechanism, on the kernel: an fdb nexthop per remote VTEP, one fdb
// group per ES, N FDB entries on the vxlan device that point at the group
// by id; a PE leaving the ES is one `ip nexthop replace` of the group.
// Nexthop ids are in FRR's L2 ranges (ANCHORS.md).
const (
	failoverKernelNH    = 0x10000000 // fdb nexthop of PE i: failoverKernelNH + i + 1
	failoverKernelGroup = 0x20000001
	// failoverNHAFDB is NHA_FDB of linux/nexthop.h (after NHA_MASTER),
	// which golang.org/x/sys/unix does not define.
	failoverNHAFDB = 0xb
)

// failoverKernelMethod says how the kernel's replace is timed.
const failoverKernelMethod = "one RTM_NEWNEXTHOP (NLM_F_REPLACE|NLM_F_ACK) message on a raw " +
	"netlink socket in the kernel VTEP's namespace, timed from sendto() to the ack's recvfrom(); " +
	"cold: 4->3 member replaces a window apart (each undone by a 3->4 one), median; " +
	"hot: back-to-back 4->3/3->4 pairs, median of the 4->3 ones"

// failoverKernelResult is the kernel's side of one N.
type failoverKernelResult struct {
	// replace: `ip nexthop replace id G group 1/3/4 fdb` sent as one
	// netlink message, cold (median, min, max) and hot (median).
	replace, replaceMin, replaceMax, replaceHot float64
	// load is how long N `bridge fdb add MAC dev vxlan100 nhid G self`
	// took through one `bridge -batch`.
	load time.Duration
}

func (r *FailoverResult) attachKernel(k failoverKernelResult) {
	if r.Event != FailoverLocalPortDown {
		// A PE leaving the remote ES, or unreachable (FRR: BGP's nexthop
		// tracking invalidates its routes), is FRR's group replace.
		v, lo, hi, hot := k.replace, k.replaceMin, k.replaceMax, k.replaceHot
		r.KernelReplaceUS, r.KernelReplaceUSMin, r.KernelReplaceUSMax, r.KernelReplaceUSHot = &v, &lo, &hi, &hot
		if r.SwitchUS > 0 {
			x := v / r.SwitchUS
			r.KernelOverSwitch = &x
		}
		if r.SwitchUSHot > 0 {
			x := hot / r.SwitchUSHot
			r.KernelOverSwitchHot = &x
		}
	}
	r.KernelFDBUS = float64(k.load) / float64(time.Microsecond)
}

// failoverMeasureKernel builds the kernel VTEP with n MACs behind an fdb
// group of the four PEs in a namespace of its own, times the group replace
// and removes everything.
func failoverMeasureKernel(ctx context.Context, n int, o *FailoverOptions, step func(string)) (res failoverKernelResult, err error) {
	top := lab.New(&lab.Options{Logger: o.Logger})
	var k *lab.KernelVTEP
	defer func() {
		if k != nil {
			// Deleting the device flushes its FDB now, rather than in a
			// kernel worker during fwd's measurement.
			step("deleting the kernel vxlan device and its FDB")
			dctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			err = errors.Join(err, k.NS.IP(dctx, "link", "del", k.VXLAN))
			cancel()
		}
		err = errors.Join(err, top.Close())
	}()
	step("building the kernel VTEP (bridge + vxlan)")
	ns, err := top.AddNS(ctx, "kernel")
	if err != nil {
		return res, err
	}
	if k, err = top.AddKernelVTEP(ctx, ns, lab.KernelVTEPConfig{VNI: failoverVNI, Local: failoverLocal}); err != nil {
		return res, err
	}
	all := make([]uint32, len(failoverPEs))
	for i, pe := range failoverPEs {
		all[i] = failoverKernelNH + uint32(i) + 1
		if err := ns.IP(ctx, "nexthop", "add", "id", strconv.FormatUint(uint64(all[i]), 10), "via", pe.String(), "fdb"); err != nil {
			return res, err
		}
	}
	if err := ns.IP(ctx, "nexthop", "add", "id", strconv.Itoa(failoverKernelGroup), "group", failoverJoinIDs(all), "fdb"); err != nil {
		return res, err
	}
	start := time.Now()
	if err := failoverBridgeBatch(ctx, ns, k.VXLAN, n, func(done int) {
		step(fmt.Sprintf("kernel FDB %s/%s (bridge -batch, fdb add ... nhid)", failoverScale(done), failoverScale(n)))
	}); err != nil {
		return res, err
	}
	res.load = time.Since(start)
	// The last MAC must be there, on the group.
	last := failoverMAC(n - 1)
	out, err := ns.Exec(ctx, "bridge", "fdb", "get", last.String(), "dev", k.VXLAN, "self")
	if err != nil || !strings.Contains(out, "nhid "+strconv.Itoa(failoverKernelGroup)) {
		return res, fmt.Errorf("kernel FDB: MAC %s not on group %d after the load: %q %v", last, failoverKernelGroup, out, err)
	}

	step("timing ip nexthop replace (raw netlink)")
	nl, err := failoverOpenNetlink(ns)
	if err != nil {
		return res, err
	}
	defer nl.close()
	without := []uint32{all[0], all[2], all[3]} // PE failoverDead gone
	pair := func() (float64, error) {
		d, err := nl.replaceGroup(failoverKernelGroup, without)
		if err != nil {
			return 0, err
		}
		if _, err := nl.replaceGroup(failoverKernelGroup, all); err != nil {
			return 0, err
		}
		return failoverUS(d), nil
	}
	if _, err := nl.replaceGroup(failoverKernelGroup, without); err != nil {
		return res, err
	}
	out, err = ns.Exec(ctx, "ip", "nexthop", "show", "id", strconv.Itoa(failoverKernelGroup))
	if err != nil || !strings.Contains(out, "group "+failoverJoinIDs(without)+" ") {
		return res, fmt.Errorf("kernel group after the replace: %q %v", out, err)
	}
	if _, err := nl.replaceGroup(failoverKernelGroup, all); err != nil {
		return res, err
	}
	var cold, hot []float64
	for range o.Reps {
		time.Sleep(o.Window)
		d, err := pair()
		if err != nil {
			return res, err
		}
		cold = append(cold, d)
	}
	for range o.HotReps {
		d, err := pair()
		if err != nil {
			return res, err
		}
		hot = append(hot, d)
	}
	res.replace, res.replaceMin, res.replaceMax = failoverMedian(cold), slices.Min(cold), slices.Max(cold)
	res.replaceHot = failoverMedian(hot)
	return res, nil
}

func failoverJoinIDs(ids []uint32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatUint(uint64(id), 10)
	}
	return strings.Join(s, "/")
}

// failoverBridgeBatch feeds n "fdb add MAC dev DEV nhid G self" lines to one
// `bridge -batch -` in ns: FRR's per-MAC install of a remote-ES type-2.
func failoverBridgeBatch(ctx context.Context, ns *lab.NS, dev string, n int, progress func(int)) error {
	cmd := exec.CommandContext(ctx, "bridge", "-n", ns.Full, "-batch", "-")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("bridge -batch in %s: %w", ns.Full, err)
	}
	w := bufio.NewWriterSize(stdin, 64<<10)
	suffix := " dev " + dev + " nhid " + strconv.Itoa(failoverKernelGroup) + " self\n"
	var werr error
	for i := 0; i < n && werr == nil; i++ {
		_, werr = io.WriteString(w, "fdb add "+failoverMAC(i).String()+suffix)
		if (i+1)%(1<<16) == 0 {
			progress(i + 1)
		}
	}
	if werr == nil {
		werr = w.Flush()
	}
	cerr := stdin.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("bridge -batch in %s: %w: %s", ns.Full, err, strings.TrimSpace(stderr.String()))
	}
	progress(n)
	return errors.Join(werr, cerr)
}

// failoverNetlink is a raw rtnetlink socket in one namespace.
type failoverNetlink struct {
	fd  int
	seq uint32
	buf []byte
}

func failoverOpenNetlink(ns *lab.NS) (*failoverNetlink, error) {
	nl := &failoverNetlink{fd: -1, buf: make([]byte, 1<<16)}
	err := ns.Do(func() error {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("netlink socket: %w", err)
		}
		if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			unix.Close(fd)
			return fmt.Errorf("bind netlink socket: %w", err)
		}
		nl.fd = fd
		return nil
	})
	return nl, err
}

func (nl *failoverNetlink) close() {
	if nl.fd >= 0 {
		unix.Close(nl.fd)
		nl.fd = -1
	}
}

// failoverNexthopMsg builds RTM_NEWNEXTHOP for fdb group id with members,
// flags NLM_F_REQUEST|NLM_F_ACK|NLM_F_CREATE|NLM_F_REPLACE: what `ip nexthop
// replace id ID group A/B/C fdb` sends.
func failoverNexthopMsg(seq, id uint32, members []uint32) []byte {
	ne := binary.NativeEndian
	attr := func(b []byte, typ uint16, payload []byte) []byte {
		l := 4 + len(payload)
		b = ne.AppendUint16(b, uint16(l))
		b = ne.AppendUint16(b, typ)
		b = append(b, payload...)
		for l%4 != 0 {
			b = append(b, 0)
			l++
		}
		return b
	}
	b := make([]byte, unix.NLMSG_HDRLEN, 64)
	// struct nhmsg: family (AF_UNSPEC for a group), scope, protocol,
	// resvd, flags.
	b = append(b, unix.AF_UNSPEC, 0, 0, 0, 0, 0, 0, 0)
	b = attr(b, unix.NHA_ID, ne.AppendUint32(nil, id))
	var grp []byte
	for _, m := range members {
		// struct nexthop_grp: id, weight-1, weight_high, resvd.
		grp = ne.AppendUint32(grp, m)
		grp = append(grp, 0, 0, 0, 0)
	}
	b = attr(b, unix.NHA_GROUP, grp)
	b = attr(b, failoverNHAFDB, nil)
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], unix.RTM_NEWNEXTHOP)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK|unix.NLM_F_CREATE|unix.NLM_F_REPLACE)
	ne.PutUint32(b[8:], seq)
	return b
}

// replaceGroup sends the replace and waits for its ack, returning the time
// between the two.
func (nl *failoverNetlink) replaceGroup(id uint32, members []uint32) (time.Duration, error) {
	nl.seq++
	msg := failoverNexthopMsg(nl.seq, id, members)
	t0 := time.Now()
	if err := unix.Sendto(nl.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, fmt.Errorf("send RTM_NEWNEXTHOP: %w", err)
	}
	for {
		n, _, err := unix.Recvfrom(nl.fd, nl.buf, 0)
		if err != nil {
			return 0, fmt.Errorf("receive the nexthop ack: %w", err)
		}
		d := time.Since(t0)
		errno, ok, perr := failoverAck(nl.buf[:n], nl.seq)
		if perr != nil {
			return 0, perr
		}
		if !ok {
			continue
		}
		if errno != 0 {
			return 0, fmt.Errorf("replace nexthop group %d: %w", id, errno)
		}
		return d, nil
	}
}

// failoverAck finds the NLMSG_ERROR for seq in b: ok says whether it was
// there, errno is its error (0: an ack).
func failoverAck(b []byte, seq uint32) (errno unix.Errno, ok bool, err error) {
	ne := binary.NativeEndian
	for len(b) >= unix.NLMSG_HDRLEN {
		l := int(ne.Uint32(b[0:]))
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			return 0, false, fmt.Errorf("netlink: malformed message of %d bytes", l)
		}
		typ, s := ne.Uint16(b[4:]), ne.Uint32(b[8:])
		if typ == unix.NLMSG_ERROR && s == seq {
			if l < unix.NLMSG_HDRLEN+4 {
				return 0, false, errors.New("netlink: short error message")
			}
			code := int32(ne.Uint32(b[unix.NLMSG_HDRLEN:]))
			return unix.Errno(-code), true, nil
		}
		b = b[min((l+3)&^3, len(b)):]
	}
	return 0, false, nil
}
