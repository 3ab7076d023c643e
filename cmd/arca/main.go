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
	// The first signal asks for a clean stop (a server drains its requests,
	// an icommand removes what it left half-done); a second one is not
	// caught and ends the process at once, for whoever will not wait.
	// Nothing is lost by that: every write survives a crash.
	go func() { <-ctx.Done(); stop() }()
	code := run(ctx, os.Args)
	stop()
	os.Exit(code)
}
