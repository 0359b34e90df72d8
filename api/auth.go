package api

import (
	"context"
	"fmt"
	"net/http"
	"os/user"
	"slices"
	"strconv"
)

// access is what a caller may do, or what an endpoint needs.
type access int

const (
	accessNone access = iota
	// accessRead: GET endpoints, /metrics, /v1/events and POST /v1/trace.
	accessRead
	// accessWrite: everything that changes the daemon's state.
	accessWrite
)

func (a access) String() string {
	switch a {
	case accessRead:
		return "read"
	case accessWrite:
		return "write"
	default:
		return "none"
	}
}

// peer is who is on the other end of a connection, as the kernel says
// (SO_PEERCRED and SO_PEERGROUPS at connect time).
type peer struct {
	uid, gid uint32
	pid      int32
	// groups are the peer's supplementary groups.
	groups []uint32
	// err is set when the credentials could not be read; such a peer
	// gets nothing.
	err error
}

// who names the peer for a message: "uid 1000 (alice)".
func (p peer) who() string {
	s := "uid " + strconv.FormatUint(uint64(p.uid), 10)
	if u, err := user.LookupId(strconv.FormatUint(uint64(p.uid), 10)); err == nil && u.Username != "" {
		s += " (" + u.Username + ")"
	}
	return s
}

// username is the peer's login name, or its uid when it has none.
func (p peer) username() string {
	if u, err := user.LookupId(strconv.FormatUint(uint64(p.uid), 10)); err == nil && u.Username != "" {
		return u.Username
	}
	return strconv.FormatUint(uint64(p.uid), 10)
}

func (p peer) inGroup(gid uint32) bool {
	return p.gid == gid || slices.Contains(p.groups, gid)
}

type peerKey struct{}

func withPeer(ctx context.Context, p peer) context.Context {
	return context.WithValue(ctx, peerKey{}, p)
}

func peerFrom(ctx context.Context) peer {
	p, ok := ctx.Value(peerKey{}).(peer)
	if !ok {
		return peer{err: fmt.Errorf("the connection carries no credentials (not a unix socket)")}
	}
	return p
}

// policy decides access from a peer's credentials: the admin uid (root)
// reads and writes, members of the read group read, nobody else gets
// anything.
type policy struct {
	// admin is the uid that may write: 0. Tests that run unprivileged
	// set their own uid.
	admin uint32
	// readGID is the read group's gid; hasGroup is false when the group
	// does not exist, and only the admin may use the API.
	readGID   uint32
	hasGroup  bool
	groupName string
}

// grant says what p may do; when p may do nothing, the error says why and
// what to do about it.
func (pol policy) grant(p peer) (access, *Error) {
	if p.err != nil {
		return accessNone, &Error{
			Error: "cannot tell who the caller is: " + p.err.Error(),
			Hint:  "connect to the daemon's unix socket",
		}
	}
	if p.uid == pol.admin {
		return accessWrite, nil
	}
	if pol.hasGroup && p.inGroup(pol.readGID) {
		return accessRead, nil
	}
	if !pol.hasGroup {
		return accessNone, &Error{
			Error: fmt.Sprintf("%s is not root, and the read group %s does not exist, so only root may use the API", p.who(), pol.groupName),
			Hint:  fmt.Sprintf("run as root, or create the group (groupadd %s), add the user to it and restart the daemon", pol.groupName),
		}
	}
	return accessNone, &Error{
		Error: fmt.Sprintf("%s is not root and not in group %s", p.who(), pol.groupName),
		Hint:  fmt.Sprintf("run as root or add the user to group %s (usermod -aG %s %s, then log in again)", pol.groupName, pol.groupName, p.username()),
	}
}

// refuseWrite is the 403 for a reader that asked for a write.
func (pol policy) refuseWrite(p peer, r *http.Request) *Error {
	return &Error{
		Error: fmt.Sprintf("%s %s changes the daemon's state and needs root; %s may only read (group %s)", r.Method, r.URL.Path, p.who(), pol.groupName),
		Hint:  "writes need root: run the command as root (sudo)",
	}
}
