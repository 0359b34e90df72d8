package api

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// identify reads the credentials of the process at the other end of c: its
// uid, gid and pid (SO_PEERCRED) and its supplementary groups
// (SO_PEERGROUPS, Linux 4.13). Both are what the peer had when it
// connected, so a process that changes its credentials or exits afterwards
// cannot confuse the check. When SO_PEERGROUPS is unavailable the groups
// are read from /proc/<pid>/status instead, and only if that process still
// has the uid the socket reported (the pid may be gone or reused).
func identify(c net.Conn) peer {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return peer{err: fmt.Errorf("a %T carries no peer credentials", c)}
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return peer{err: fmt.Errorf("peer credentials: %w", err)}
	}
	var (
		cred      *unix.Ucred
		credErr   error
		groups    []uint32
		groupsErr error
	)
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if credErr == nil {
			groups, groupsErr = peerGroups(int(fd))
		}
	}); err != nil {
		return peer{err: fmt.Errorf("peer credentials: %w", err)}
	}
	if credErr != nil {
		return peer{err: fmt.Errorf("peer credentials (SO_PEERCRED): %w", credErr)}
	}
	p := peer{uid: cred.Uid, gid: cred.Gid, pid: cred.Pid, groups: groups}
	if groupsErr != nil {
		// Without its supplementary groups the peer is judged by its
		// primary group alone: it may get less than it should, never
		// more.
		p.groups, _ = procGroups("/proc", cred.Pid, cred.Uid)
	}
	return p
}

// peerGroups reads SO_PEERGROUPS: the peer's supplementary groups at
// connect time.
func peerGroups(fd int) ([]uint32, error) {
	buf := make([]uint32, 32)
	for range 4 {
		n := uint32(len(buf) * 4)
		_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_PEERGROUPS,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&n)), 0)
		switch errno {
		case 0:
			return buf[:n/4], nil
		case unix.ERANGE:
			// The kernel wrote the size it needs into n.
			buf = make([]uint32, n/4+1)
		default:
			return nil, fmt.Errorf("getsockopt SO_PEERGROUPS: %w", errno)
		}
	}
	return nil, fmt.Errorf("getsockopt SO_PEERGROUPS: %w", unix.ERANGE)
}

// procGroups reads the supplementary groups of process pid from
// <proc>/<pid>/status, provided its real uid is still uid: a pid that has
// exited, or been reused by another user's process, gives an error rather
// than somebody else's groups.
func procGroups(proc string, pid int32, uid uint32) ([]uint32, error) {
	if pid <= 0 {
		return nil, fmt.Errorf("peer pid %d is not visible here (another pid namespace)", pid)
	}
	f, err := os.Open(fmt.Sprintf("%s/%d/status", proc, pid))
	if err != nil {
		return nil, fmt.Errorf("peer pid %d: %w", pid, err)
	}
	defer f.Close()
	return parseProcStatus(f, pid, uid)
}

// parseProcStatus picks the Uid: and Groups: lines of a /proc/<pid>/status.
func parseProcStatus(r io.Reader, pid int32, uid uint32) ([]uint32, error) {
	var (
		groups           []uint32
		sawUID, sawGroup bool
	)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		fields := strings.Fields(string(val))
		switch string(key) {
		case "Uid":
			// Real, effective, saved, filesystem.
			if len(fields) < 1 {
				return nil, fmt.Errorf("peer pid %d: malformed Uid line %q", pid, sc.Text())
			}
			real, err := strconv.ParseUint(fields[0], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("peer pid %d: malformed Uid line %q", pid, sc.Text())
			}
			if uint32(real) != uid {
				return nil, fmt.Errorf("peer pid %d now belongs to uid %d, not %d: the caller has gone", pid, real, uid)
			}
			sawUID = true
		case "Groups":
			sawGroup = true
			for _, f := range fields {
				g, err := strconv.ParseUint(f, 10, 32)
				if err != nil {
					return nil, fmt.Errorf("peer pid %d: malformed Groups line %q", pid, sc.Text())
				}
				groups = append(groups, uint32(g))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("peer pid %d: %w", pid, err)
	}
	if !sawUID || !sawGroup {
		return nil, errors.New("peer pid " + strconv.Itoa(int(pid)) + ": status has no Uid or Groups line")
	}
	return groups, nil
}
