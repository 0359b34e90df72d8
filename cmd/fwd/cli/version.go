package cli

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

type versionOptions struct {
	*rootOptions
	json bool
}

// versionInfo is what `fwd version` reports.
type versionInfo struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

func buildVersion() versionInfo {
	v := versionInfo{Version: "(unknown)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Version = bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func newVersionCmd(root *rootOptions) *cobra.Command {
	opts := &versionOptions{rootOptions: root}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print fwd's version and the Go toolchain it was built with",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := buildVersion()
			if opts.json {
				enc := json.NewEncoder(cmd.OutOrStdout())
				return enc.Encode(v)
			}
			s := "fwd " + v.Version
			if v.Revision != "" {
				s += " " + v.Revision
				if v.Modified {
					s += "+dirty"
				}
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "%s (%s %s)\n", s, v.Go, v.Platform)
			return err
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "print JSON")
	return cmd
}
