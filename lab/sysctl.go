package lab

import "context"

// Sysctl sets a sysctl inside the namespace (`sysctl -e -q -w KEY=VALUE`).
// A key the kernel does not have (its module not loaded) is skipped
// silently.
func (n *NS) Sysctl(ctx context.Context, key, value string) error {
	_, err := n.Exec(ctx, "sysctl", "-e", "-q", "-w", key+"="+value)
	return err
}
