// Command fwd is fwd's one binary: today its version and the lab demo; the
// daemon, the CLI client and the benchmarks join it as they land. The
// commands live in package [github.com/fwdplane/fwd/cmd/fwd/cli].
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/fwdplane/fwd/cmd/fwd/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fwd:", err)
		os.Exit(1)
	}
}
