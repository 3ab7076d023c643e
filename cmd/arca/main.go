// Command arca is Arca's one binary: the zone server (arca server) and the
// icommands (arca ils, or ils through a link made by arca install-links).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args)
	stop()
	os.Exit(code)
}
