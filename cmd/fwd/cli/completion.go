package cli

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Shell completion: cobra's own `fwd completion bash|zsh|fish|powershell`
// prints the scripts; these functions complete arguments and flag values.
// The dynamic ones ask the daemon (ESIs, interfaces) with a short timeout
// and offer nothing when it does not answer, so a shell never hangs.

const completionTimeout = 2 * time.Second

func completionContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithTimeout(ctx, completionTimeout)
}

// daemonESIs returns the ESIs the daemon knows (local ones only if
// localOnly), or nothing.
func daemonESIs(cmd *cobra.Command, root *rootOptions, localOnly bool) []string {
	ctx, cancel := completionContext(cmd)
	defer cancel()
	ess, err := root.client().ESes(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, es := range ess {
		if !localOnly || es.Type == "local" {
			desc := es.Type
			if es.Interface != "" {
				desc += " on " + es.Interface
			}
			out = append(out, cobra.CompletionWithDesc(es.ESI, desc))
		}
	}
	slices.Sort(out)
	return out
}

// completeESArgs completes an optional ESI argument (from the daemon) and
// the given keywords, each offered once.
func completeESArgs(root *rootOptions, localOnly bool, keywords ...string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []string
		for _, k := range keywords {
			if !slices.Contains(args, k) {
				out = append(out, k)
			}
		}
		hasESI := slices.ContainsFunc(args, func(a string) bool { return !slices.Contains(keywords, a) })
		if !hasESI {
			out = append(out, daemonESIs(cmd, root, localOnly)...)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeKeywords completes FRR-style "keyword value" pairs: at a keyword
// position it offers the keywords not given yet; values are free.
func completeKeywords(keywords ...string) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args)%2 == 1 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, k := range keywords {
			if !slices.Contains(args, k) {
				out = append(out, k)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

var routeTypeCompletions = []cobra.Completion{
	cobra.CompletionWithDesc("1", "ead: Ethernet auto-discovery"),
	cobra.CompletionWithDesc("2", "macip: MAC/IP advertisement"),
	cobra.CompletionWithDesc("3", "multicast: inclusive multicast Ethernet tag"),
	cobra.CompletionWithDesc("4", "es: Ethernet Segment"),
	cobra.CompletionWithDesc("5", "prefix: IP prefix"),
}

func completeRouteTypeArgs(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	switch len(args) {
	case 0:
		return []string{"type"}, cobra.ShellCompDirectiveNoFileComp
	case 1:
		return routeTypeCompletions, cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// completeInterfaces completes a port name from the daemon's interfaces.
func completeInterfaces(root *rootOptions) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		ctx, cancel := completionContext(cmd)
		defer cancel()
		ifs, err := root.client().Interfaces(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, i := range ifs {
			out = append(out, cobra.CompletionWithDesc(i.Name, strings.TrimSpace(i.Role+" "+i.ESI)))
		}
		slices.Sort(out)
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// noFiles is for flags whose values are not files.
func noFiles(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveNoFileComp
}
