package control

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/fwdplane/fwd/dataplane"
	"github.com/fwdplane/fwd/evpn"
)

var (
	// ErrConfig reports a configuration the control plane cannot run.
	ErrConfig = errors.New("invalid control config")
	// ErrClosed reports use of a stopped controller.
	ErrClosed = errors.New("controller stopped")
)

// Config is the node's own part of the EVPN state.
type Config struct {
	// VTEP4 and VTEP6 are this node's VTEP addresses; at least one.
	VTEP4, VTEP6 netip.Addr
	// BDs are the VNIs this node serves; routes for others are ignored.
	BDs []uint32
	// ESes are the local Ethernet Segments.
	ESes []LocalES
	// Uplinks are the underlay ports; when all are down, every local ES is
	// held down (FRR's `evpn mh uplink`).
	Uplinks []uint32
	// DFDelay is how long a local ES waits after coming up before it may
	// become the DF (FRR: 3 s). 0 means no delay.
	DFDelay time.Duration
	// EADPerESOnly makes a remote PE active for an ES on its EAD-per-ES
	// route alone; by default it also needs an EAD-per-EVI route (FRR).
	EADPerESOnly bool
	// Logger receives the loop's logs; nil means slog.Default().
	Logger *slog.Logger
	// Pinned is the state a previous instance left in the fast path (a
	// restart): its IDs are kept out of use until ReleasePinned.
	Pinned *Pinned
}

// LocalES is an Ethernet Segment attached to this node.
type LocalES struct {
	ESI evpn.ESI
	// Ifindex is the access port on the ES.
	Ifindex uint32
	// DFAlg and DFPref are this node's DF election candidacy (FRR default:
	// preference, 32767).
	DFAlg  evpn.DFAlg
	DFPref uint16
}

func (c *Config) validate() error {
	var errs []error
	if !c.VTEP4.IsValid() && !c.VTEP6.IsValid() {
		errs = append(errs, errors.New("no local VTEP address: set VTEP4 or VTEP6"))
	}
	if c.VTEP4.IsValid() && !c.VTEP4.Is4() {
		errs = append(errs, fmt.Errorf("VTEP4 %s is not an IPv4 address", c.VTEP4))
	}
	if c.VTEP6.IsValid() && (!c.VTEP6.Is6() || c.VTEP6.Is4In6()) {
		errs = append(errs, fmt.Errorf("VTEP6 %s is not an IPv6 address", c.VTEP6))
	}
	seenBD := map[uint32]bool{}
	for _, bd := range c.BDs {
		if bd == 0 || bd > evpn.MaxLabel {
			errs = append(errs, fmt.Errorf("bridge domain %d: want a VNI 1-%d", bd, evpn.MaxLabel))
		}
		if seenBD[bd] {
			errs = append(errs, fmt.Errorf("bridge domain %d listed twice", bd))
		}
		seenBD[bd] = true
	}
	seenES := map[evpn.ESI]bool{}
	seenPort := map[uint32]bool{}
	for i, es := range c.ESes {
		switch {
		case es.ESI.IsZero() || es.ESI.IsMax():
			errs = append(errs, fmt.Errorf("es %d: ESI %s is reserved", i, es.ESI))
		case seenES[es.ESI]:
			errs = append(errs, fmt.Errorf("es %d: ESI %s listed twice", i, es.ESI))
		case es.Ifindex == 0:
			errs = append(errs, fmt.Errorf("es %s: no access port", es.ESI))
		case seenPort[es.Ifindex]:
			errs = append(errs, fmt.Errorf("es %s: port %d is already on another ES", es.ESI, es.Ifindex))
		}
		if es.DFAlg == evpn.DFAlgPreference && es.DFPref != 0 {
			if err := evpn.ValidateDFPref(int(es.DFPref)); err != nil {
				errs = append(errs, fmt.Errorf("es %s: %w", es.ESI, err))
			}
		}
		seenES[es.ESI] = true
		seenPort[es.Ifindex] = true
	}
	if len(c.ESes) >= dataplane.MaxES {
		errs = append(errs, fmt.Errorf("%d ESes: at most %d", len(c.ESes), dataplane.MaxES-1))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}

// localVTEP returns our VTEP address of remote's family.
func (c *Config) localVTEP(remote netip.Addr) netip.Addr {
	if remote.Unmap().Is4() {
		return c.VTEP4
	}
	return c.VTEP6
}
