package lab

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// taggedHost is a host behind a tagged port: there is no 802.1Q module to
// give the kernel a VLAN device, so a small user-space stack on an
// AF_PACKET socket owns the host's address in its VLAN. It answers ICMP echo
// requests and sends its own; it knows its neighbours statically and speaks
// no ARP.
type taggedHost struct {
	name  string
	mac   net.HardwareAddr
	ip    netip.Addr
	vlan  uint16
	neigh map[netip.Addr]net.HardwareAddr

	f    *os.File
	rc   syscall.RawConn
	done chan struct{}

	mu      sync.Mutex
	waiters map[uint16]chan uint16 // echo id -> replies' sequence numbers
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func startTaggedHost(h *Host, neigh map[netip.Addr]net.HardwareAddr) (*taggedHost, error) {
	ifindex, err := h.NS.Ifindex(hostDev)
	if err != nil {
		return nil, err
	}
	th := &taggedHost{name: h.Name, mac: h.MAC, ip: h.IP, vlan: h.VLAN, neigh: neigh,
		done: make(chan struct{}), waiters: make(map[uint16]chan uint16)}
	var fd int
	err = h.NS.Do(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return fmt.Errorf("packet socket: %w", err)
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
			unix.Close(fd)
			return fmt.Errorf("bind packet socket to %s: %w", hostDev, err)
		}
		// The kernel moves a received tag out of the frame into the
		// packet's metadata; PACKET_AUXDATA hands it back.
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
			unix.Close(fd)
			return fmt.Errorf("PACKET_AUXDATA: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	th.f = os.NewFile(uintptr(fd), "packet:"+h.Name)
	if th.rc, err = th.f.SyscallConn(); err != nil {
		th.f.Close()
		return nil, err
	}
	go th.serve()
	return th, nil
}

func (th *taggedHost) close() error {
	err := th.f.Close()
	<-th.done
	return err
}

func (th *taggedHost) serve() {
	defer close(th.done)
	buf := make([]byte, 65536)
	oob := make([]byte, 256)
	for {
		var n, oobn int
		var from unix.Sockaddr
		var rerr error
		err := th.rc.Read(func(fd uintptr) bool {
			n, oobn, _, from, rerr = unix.Recvmsg(int(fd), buf, oob, 0)
			return !errors.Is(rerr, unix.EAGAIN)
		})
		if err != nil {
			return // closed
		}
		if rerr != nil {
			continue
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		th.handle(buf[:n], auxVLAN(oob[:oobn]))
	}
}

// auxVLAN returns the VLAN id the kernel took out of the frame, or -1.
func auxVLAN(oob []byte) int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return -1
	}
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_PACKET || m.Header.Type != unix.PACKET_AUXDATA ||
			len(m.Data) < int(unsafe.Sizeof(unix.TpacketAuxdata{})) {
			continue
		}
		aux := (*unix.TpacketAuxdata)(unsafe.Pointer(&m.Data[0]))
		if aux.Status&unix.TP_STATUS_VLAN_VALID != 0 {
			return int(aux.Vlan_tci & 0x0fff)
		}
	}
	return -1
}

const (
	ethIPv4  = 0x0800
	eth8021Q = 0x8100
)

// handle answers an echo request or hands an echo reply to its pinger.
func (th *taggedHost) handle(frame []byte, vlan int) {
	if len(frame) < 14 || !bytes.Equal(frame[0:6], th.mac) {
		return
	}
	src := net.HardwareAddr(append([]byte(nil), frame[6:12]...))
	typ := binary.BigEndian.Uint16(frame[12:])
	off := 14
	if typ == eth8021Q && len(frame) >= 18 {
		vlan = int(binary.BigEndian.Uint16(frame[14:]) & 0x0fff)
		typ = binary.BigEndian.Uint16(frame[16:])
		off = 18
	}
	if vlan != int(th.vlan) || typ != ethIPv4 || len(frame) < off+20 {
		return
	}
	ip := frame[off:]
	ihl := int(ip[0]&0x0f) * 4
	tot := int(binary.BigEndian.Uint16(ip[2:]))
	if ip[0]>>4 != 4 || ihl < 20 || tot < ihl+8 || tot > len(ip) || ip[9] != 1 {
		return
	}
	srcIP := netip.AddrFrom4([4]byte(ip[12:16]))
	if netip.AddrFrom4([4]byte(ip[16:20])) != th.ip {
		return
	}
	icmp := ip[ihl:tot]
	switch icmp[0] {
	case 8: // request
		reply := echo(0, binary.BigEndian.Uint16(icmp[4:]), binary.BigEndian.Uint16(icmp[6:]), icmp[8:])
		_ = th.send(src, srcIP, reply)
	case 0: // reply
		th.mu.Lock()
		ch := th.waiters[binary.BigEndian.Uint16(icmp[4:])]
		th.mu.Unlock()
		if ch != nil {
			select {
			case ch <- binary.BigEndian.Uint16(icmp[6:]):
			default:
			}
		}
	}
}

// send writes an ICMP message to dst (at dstMAC) in the host's VLAN.
func (th *taggedHost) send(dstMAC net.HardwareAddr, dst netip.Addr, icmp []byte) error {
	f := make([]byte, 18+20+len(icmp))
	copy(f[0:], dstMAC)
	copy(f[6:], th.mac)
	binary.BigEndian.PutUint16(f[12:], eth8021Q)
	binary.BigEndian.PutUint16(f[14:], th.vlan)
	binary.BigEndian.PutUint16(f[16:], ethIPv4)
	ip := f[18:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(icmp)))
	binary.BigEndian.PutUint16(ip[6:], 0x4000) // DF
	ip[8] = 64
	ip[9] = 1
	src4, dst4 := th.ip.As4(), dst.As4()
	copy(ip[12:], src4[:])
	copy(ip[16:], dst4[:])
	binary.BigEndian.PutUint16(ip[10:], checksum(ip[:20]))
	copy(ip[20:], icmp)
	var werr error
	err := th.rc.Write(func(fd uintptr) bool {
		werr = unix.Send(int(fd), f, 0)
		return !errors.Is(werr, unix.EAGAIN)
	})
	return errors.Join(err, werr)
}

func (th *taggedHost) ping(ctx context.Context, dst netip.Addr, o PingOptions) (PingResult, error) {
	o.defaults()
	mac, ok := th.neigh[dst]
	if !ok {
		return PingResult{}, fmt.Errorf("host %s: no neighbour entry for %s: %w", th.name, dst, ErrSpec)
	}
	id := nextPingID()
	replies := make(chan uint16, o.Count)
	th.mu.Lock()
	th.waiters[id] = replies
	th.mu.Unlock()
	defer func() {
		th.mu.Lock()
		delete(th.waiters, id)
		th.mu.Unlock()
	}()
	payload := pingPayload(o.Size)
	r, err := pingLoop(ctx, o, func(seq uint16) error {
		return th.send(mac, dst, echo(8, id, seq, payload))
	}, replies)
	r.From, r.Dst = th.name, dst
	return r, err
}
