package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/fwdplane/fwd/lab"
)

// KernelFDBBatch is how many RTM_NEWNEIGH messages go in one sendmsg: the
// kernel handles them one by one under RTNL, but the batch saves a
// syscall and a round trip per entry (zebra batches the same way).
const KernelFDBBatch = 512

// KernelFDBRate programs n remote MACs into a kernel VTEP's FDB the way
// FRR's zebra does (RTM_NEWNEIGH on the vxlan device: NTF_SELF |
// NTF_EXT_LEARNED, NUD_NOARP, the remote VTEP as NDA_DST), or deletes
// them (RTM_DELNEIGH), over one netlink socket, KernelFDBBatch messages
// per sendmsg, every message acknowledged; and returns the time it took.
// The MACs are first + i.
func KernelFDBRate(ctx context.Context, ns *lab.NS, vxlanDev string, first [6]byte, n int, dst netip.Addr, del bool) (time.Duration, error) {
	typ := uint16(unix.RTM_NEWNEIGH)
	if del {
		typ = unix.RTM_DELNEIGH
	}
	var took time.Duration
	err := ns.Do(func() error {
		ifindex, err := ns.Ifindex(vxlanDev)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("netlink socket: %w", err)
		}
		defer unix.Close(fd)
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 4<<20)
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20)
		if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return fmt.Errorf("netlink bind: %w", err)
		}
		base := macUint(first)
		buf := make([]byte, 0, KernelFDBBatch*fdbMsgLen)
		ack := make([]byte, 1<<16)
		seq := uint32(1)
		start := time.Now()
		for done := 0; done < n; {
			if err := ctx.Err(); err != nil {
				return err
			}
			k := min(KernelFDBBatch, n-done)
			buf = buf[:0]
			for i := range k {
				buf = appendFDBMsg(buf, typ, seq+uint32(i), int32(ifindex), uintMAC(base+uint64(done+i)), dst)
			}
			if err := unix.Sendto(fd, buf, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
				return fmt.Errorf("netlink send: %w", err)
			}
			for acked := 0; acked < k; {
				m, _, err := unix.Recvfrom(fd, ack, 0)
				if err != nil {
					return fmt.Errorf("netlink receive: %w", err)
				}
				for b := ack[:m]; len(b) >= unix.NLMSG_HDRLEN; {
					l := int(binary.NativeEndian.Uint32(b))
					if l < unix.NLMSG_HDRLEN || l > len(b) {
						return fmt.Errorf("netlink: bad message length %d", l)
					}
					if typ := binary.NativeEndian.Uint16(b[4:]); typ == unix.NLMSG_ERROR {
						if code := int32(binary.NativeEndian.Uint32(b[16:])); code != 0 {
							return fmt.Errorf("kernel FDB add: %w", unix.Errno(-code))
						}
						acked++
					}
					b = b[(l+3)&^3:]
				}
			}
			seq += uint32(k)
			done += k
		}
		took = time.Since(start)
		return nil
	})
	return took, err
}

// fdbMsgLen is one RTM_NEWNEIGH: nlmsghdr, ndmsg, NDA_LLADDR (6 bytes,
// padded to 8) and NDA_DST (IPv4 4 bytes or IPv6 16).
const fdbMsgLen = unix.NLMSG_HDRLEN + unix.SizeofNdMsg + 4 + 8 + 4 + 16

func appendFDBMsg(b []byte, typ uint16, seq uint32, ifindex int32, mac [6]byte, dst netip.Addr) []byte {
	ip := dst.AsSlice()
	l := unix.NLMSG_HDRLEN + unix.SizeofNdMsg + 4 + 8 + 4 + len(ip)
	ne := binary.NativeEndian
	b = ne.AppendUint32(b, uint32(l))
	b = ne.AppendUint16(b, typ)
	flags := uint16(unix.NLM_F_REQUEST | unix.NLM_F_ACK)
	if typ == unix.RTM_NEWNEIGH {
		flags |= unix.NLM_F_CREATE | unix.NLM_F_REPLACE
	}
	b = ne.AppendUint16(b, flags)
	b = ne.AppendUint32(b, seq)
	b = ne.AppendUint32(b, 0)
	// ndmsg: family, pad, pad, ifindex, state, flags, type.
	b = append(b, unix.AF_BRIDGE, 0, 0, 0)
	b = ne.AppendUint32(b, uint32(ifindex))
	b = ne.AppendUint16(b, unix.NUD_NOARP|unix.NUD_PERMANENT)
	b = append(b, unix.NTF_SELF|unix.NTF_EXT_LEARNED, 0)
	b = ne.AppendUint16(b, 4+6)
	b = ne.AppendUint16(b, unix.NDA_LLADDR)
	b = append(b, mac[:]...)
	b = append(b, 0, 0)
	b = ne.AppendUint16(b, uint16(4+len(ip)))
	b = ne.AppendUint16(b, unix.NDA_DST)
	return append(b, ip...)
}

func macUint(m [6]byte) uint64 {
	var v uint64
	for _, b := range m {
		v = v<<8 | uint64(b)
	}
	return v
}

func uintMAC(v uint64) [6]byte {
	var m [6]byte
	for i := 5; i >= 0; i-- {
		m[i] = byte(v)
		v >>= 8
	}
	return m
}
