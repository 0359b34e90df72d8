package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fwdplane/fwd/api"
)

func newShowNexthopGroupCmd(root *rootOptions) *cobra.Command {
	return showCmd(root, &cobra.Command{
		Use:     "nexthop-group [ID]",
		Aliases: []string{"nexthop-groups", "nhg"},
		Short:   "Show nexthop groups and their members, with backups (FRR: show nexthop-group rib [ID])",
		Long: `nexthop-group prints each nexthop group the fast path holds, in the layout of
FRR's show nexthop-group rib: the ID and its owner, how many routes use it
(RefCnt), whether it is installed, its resilient buckets, and one via line
per member with its nexthop ID, weight, buckets held, state and the backup
nexthops that take its buckets while it is down (FRR computes backups but
never installs them on Linux; fwd does). IDs are decimal or 0x hex.`,
		Example: `  fwd show nexthop-group
  fwd show nexthop-group 536870913
  fwd show nexthop-group 0x20000001 --json`,
		Args: cobra.MaximumNArgs(1),
	}, func(ctx context.Context, cmd *cobra.Command, opts *showOptions, args []string) error {
		c := opts.client()
		out := cmd.OutOrStdout()
		var groups []api.NexthopGroup
		if len(args) == 1 {
			id, err := strconv.ParseUint(args[0], 0, 32)
			if err != nil || id == 0 {
				return fmt.Errorf("nexthop group %q: want an ID, 1 to %d, in decimal or 0x hex", args[0], uint32(1<<32-1))
			}
			g, err := c.NexthopGroup(ctx, uint32(id))
			if err != nil {
				return err
			}
			sortMembers(&g)
			if opts.json {
				return writeJSON(out, g)
			}
			groups = []api.NexthopGroup{g}
		} else {
			var err error
			if groups, err = c.NexthopGroups(ctx); err != nil {
				return err
			}
			slices.SortFunc(groups, func(a, b api.NexthopGroup) int { return cmp.Compare(a.ID, b.ID) })
			for i := range groups {
				sortMembers(&groups[i])
			}
			if opts.json {
				return writeJSON(out, nonNil(groups))
			}
		}
		for i, g := range groups {
			if i > 0 {
				fmt.Fprintln(out)
			}
			printGroup(out, g)
		}
		return nil
	})
}

func sortMembers(g *api.NexthopGroup) {
	g.Members = slices.Clone(g.Members)
	slices.SortFunc(g.Members, func(a, b api.GroupMember) int {
		return cmp.Or(compareAddr(a.VTEP, b.VTEP), cmp.Compare(a.ID, b.ID))
	})
}

// printGroup prints a group as FRR's show nexthop-group rib does.
func printGroup(w io.Writer, g api.NexthopGroup) {
	fmt.Fprintf(w, "ID: %d (%s)\n", g.ID, dash(g.Owner))
	fmt.Fprintf(w, "     RefCnt: %d\n", g.Refs)
	switch g.State {
	case "installed":
		fmt.Fprintln(w, "     Valid, Installed")
	case "":
		fmt.Fprintln(w, "     State: unknown")
	default:
		fmt.Fprintf(w, "     State: %s\n", g.State)
	}
	if g.Buckets > 0 {
		fmt.Fprintf(w, "     Buckets: %d\n", g.Buckets)
	}
	if len(g.Members) == 0 {
		fmt.Fprintln(w, "     No members")
		return
	}
	deps := make([]string, len(g.Members))
	for i, m := range g.Members {
		deps[i] = fmt.Sprintf("(%d)", m.ID)
	}
	fmt.Fprintf(w, "     Depends: %s\n", strings.Join(deps, " "))
	for _, m := range g.Members {
		s := fmt.Sprintf("           via %s, id %d, weight %d", m.VTEP, m.ID, m.Weight)
		if g.Buckets > 0 {
			s += fmt.Sprintf(", buckets %d", m.Buckets)
		}
		if m.Down {
			s += ", inactive"
		}
		if len(m.Backups) > 0 {
			b := make([]string, len(m.Backups))
			for i, id := range m.Backups {
				b[i] = strconv.FormatUint(uint64(id), 10)
			}
			s += ", backup " + strings.Join(b, ",")
		}
		fmt.Fprintln(w, s)
	}
}
