//go:build !linux

package api

import (
	"errors"
	"net"
)

// identify cannot read peer credentials outside Linux: every caller is
// refused. (The client works everywhere; the server runs on Linux.)
func identify(net.Conn) peer {
	return peer{err: errors.New("peer credentials need Linux (SO_PEERCRED)")}
}
