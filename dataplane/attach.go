package dataplane

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/cilium/ebpf/link"
)

// AttachMode is how the program was attached to a port.
type AttachMode string

// Attach modes.
const (
	ModeNative  AttachMode = "native"
	ModeGeneric AttachMode = "generic"
	// ModeAdopted: a link pinned by an earlier instance now runs this program.
	ModeAdopted AttachMode = "adopted"
)

func (d *Dataplane) linkPath(ifindex int) string {
	return filepath.Join(d.pinDir, "links", strconv.Itoa(ifindex))
}

// Attach attaches the program to ifindex through a BPF link, in native mode,
// or in generic mode when the driver refuses native XDP. With a pin
// directory the link is pinned, and a link left pinned by an earlier instance
// is adopted and switched to this program without a gap. Minimum kernel: 5.9.
func (d *Dataplane) Attach(ifindex int) (AttachMode, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return "", ErrClosed
	}
	if _, ok := d.links[ifindex]; ok {
		return "", fmt.Errorf("attach to ifindex %d: already attached: %w", ifindex, ErrInvalid)
	}
	if d.pinDir != "" {
		if l, err := link.LoadPinnedLink(d.linkPath(ifindex), nil); err == nil {
			if err := l.Update(d.objs.FwdXdp); err != nil {
				l.Close()
				return "", fmt.Errorf("adopt pinned link on ifindex %d: %w", ifindex, err)
			}
			d.links[ifindex] = l
			return ModeAdopted, nil
		}
	}
	mode := ModeNative
	l, err := link.AttachXDP(link.XDPOptions{Program: d.objs.FwdXdp, Interface: ifindex, Flags: link.XDPDriverMode})
	if err != nil {
		var gerr error
		mode = ModeGeneric
		l, gerr = link.AttachXDP(link.XDPOptions{Program: d.objs.FwdXdp, Interface: ifindex, Flags: link.XDPGenericMode})
		if gerr != nil {
			return "", fmt.Errorf("attach to ifindex %d: native: %w; generic: %w", ifindex, err, gerr)
		}
		d.log.Warn("native XDP refused, attached in generic mode", "ifindex", ifindex, "err", err)
	}
	if d.pinDir != "" {
		if err := os.MkdirAll(filepath.Dir(d.linkPath(ifindex)), 0o700); err != nil {
			l.Close()
			return "", fmt.Errorf("pin link: %w", err)
		}
		if err := l.Pin(d.linkPath(ifindex)); err != nil {
			l.Close()
			return "", fmt.Errorf("pin link on ifindex %d: %w", ifindex, err)
		}
	}
	d.links[ifindex] = l
	return mode, nil
}

// Detach removes the program from ifindex and unpins its link.
func (d *Dataplane) Detach(ifindex int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.links[ifindex]
	if !ok {
		return fmt.Errorf("detach ifindex %d: %w", ifindex, ErrNotFound)
	}
	delete(d.links, ifindex)
	var errs []error
	if d.pinDir != "" {
		if err := l.Unpin(); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, l.Close())
	return errors.Join(errs...)
}
