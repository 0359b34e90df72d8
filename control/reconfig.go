package control

import (
	"context"
	"fmt"

	"github.com/fwdplane/fwd/evpn"
)

// SetBridgeDomains makes vnis the bridge domains this node serves (a
// config reload): a new one is declared to the fast path and the MACs the
// RIB already holds for it are installed; a removed one's FDB entries are
// deleted (its routes stay in the RIB, unused, as routes for any VNI this
// node does not serve). The originated IMET routes follow.
func (c *Controller) SetBridgeDomains(ctx context.Context, vnis []uint32) error {
	want := make(map[uint32]bool, len(vnis))
	for _, v := range vnis {
		if v == 0 || v > evpn.MaxLabel {
			return fmt.Errorf("bridge domain %d: want a VNI 1-%d: %w", v, evpn.MaxLabel, ErrConfig)
		}
		want[v] = true
	}
	return c.do(ctx, func(k *core) error {
		changed := map[uint32]bool{}
		for v := range want {
			if !k.bds[v] {
				if err := k.dp.SetBD(v); err != nil {
					return fmt.Errorf("bridge domain %d: %w", v, err)
				}
				k.bds[v] = true
				changed[v] = true
			}
		}
		for v := range k.bds {
			if !want[v] {
				delete(k.bds, v)
				changed[v] = true
			}
		}
		if len(changed) == 0 {
			return nil
		}
		k.eachMAC(func(m *mac) {
			if changed[m.key.vni] {
				k.markMAC(m)
			}
		})
		k.origBDs = true
		return nil
	})
}
