// Package icommands is Arca's command-line client: iRODS-style commands
// (ils, iput, iget, ...) over the zone's gRPC API. One file per command;
// every command has -h with examples, --json and the exit statuses of exit.go.
package icommands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Streams are a command's standard input, output and error, and its environment.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	Getenv func(string) string
}

// OSStreams are the process's own streams.
func OSStreams() *Streams {
	return &Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv}
}

// app is what every command shares: streams, output mode and the connection.
type app struct {
	*Streams
	json   bool
	client *client
	// ticket is --ticket of iget, iput and ils: sent with every call.
	ticket string
	// adminMode is -M: sent with every call (addAdminFlag).
	adminMode bool
}

// isTerminal reports whether w is a terminal, for progress bars and prompts.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// printJSON writes v as one line of JSON.
func (a *app) printJSON(v any) error {
	return writeJSONLine(a.Out, v)
}

// connect opens the connection described by the stored environment.
func (a *app) connect(ctx context.Context) (*client, error) {
	if a.client != nil {
		return a.client, nil
	}
	dir, err := configDir(a.Getenv)
	if err != nil {
		return nil, err
	}
	env, err := loadEnvironment(dir)
	if err != nil {
		return nil, err
	}
	c, err := dial(dir, env, a.ticket, a.adminMode)
	if err != nil {
		return nil, err
	}
	a.client = c
	return c, nil
}

func (a *app) close() {
	if a.client != nil {
		a.client.close()
	}
}

// Commands returns every icommand, built to share s.
func Commands(s *Streams) []*cobra.Command {
	a := &app{Streams: s}
	cmds := []*cobra.Command{
		newIinit(a), newIexit(a), newIenv(a), newIpwd(a), newIcd(a),
		newIls(a), newImkdir(a), newIput(a), newIget(a), newIrm(a),
		newIrmtrash(a), newImv(a), newIcp(a), newIchksum(a), newIadmin(a), newIquest(a),
		newImeta(a), newIchmod(a), newIuserinfo(a), newIpasswd(a), newIticket(a), newIquota(a), newIreg(a),
		newIlsresc(a), newIrepl(a), newItrim(a), newIphymv(a), newIrsync(a),
		newIprov(a), newIpid(a), newIraid(a), newIcert(a),
		newIrule(a), newIqstat(a), newIqdel(a), newIretention(a), newIqos(a), newIdmp(a),
	}
	setup(a, cmds)
	return cmds
}

// ArcaCommands returns the client commands that are subcommands of arca
// only, never icommand links (arca fsck), built to share s.
func ArcaCommands(s *Streams) []*cobra.Command {
	a := &app{Streams: s}
	cmds := []*cobra.Command{newFsck(a)}
	setup(a, cmds)
	return cmds
}

// jsonLines is the annotation of a command whose --json output is a
// stream of objects, one a line (JSON Lines): its value says what each
// object is. Every other command prints one JSON object.
const jsonLines = "json-lines"

// jsonHelp says what --json prints, for the end of a command's help.
func jsonHelp(c *cobra.Command) string {
	out := "With --json it prints one JSON object"
	if what, ok := c.Annotations[jsonLines]; ok {
		out = "With --json it prints one JSON object per " + what + ", one a line (JSON Lines; no line when there is none)"
	}
	return wrap(out+`; numbers are numbers. An error is one JSON object on standard error: {"error": MESSAGE, "exit_code": N}.`, 75)
}

// wrap breaks text into lines of at most width bytes, at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(text) {
		if i > 0 && n+1+len(w) > width {
			b.WriteByte('\n')
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

// setup gives every command --json, the JSON and exit help and the shared
// error handling.
func setup(a *app, cmds []*cobra.Command) {
	for _, c := range cmds {
		c.Flags().BoolVar(&a.json, "json", false, "print machine-readable JSON")
		c.SilenceErrors, c.SilenceUsage = true, true
		c.Long = strings.TrimSpace(c.Long) + "\n\n" + jsonHelp(c) + "\n" + exitHelp
		c.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err.Error()} })
		c.PostRun = func(*cobra.Command, []string) { a.close() }
	}
}

// addTicketFlag gives cmd --ticket (-t, as in iRODS).
func addTicketFlag(a *app, cmd *cobra.Command) {
	cmd.Flags().StringVarP(&a.ticket, "ticket", "t", "", "use this ticket where your own access does not reach (works without a session: iinit --user anonymous)")
}

// addAdminFlag gives cmd -M (admin mode), as iRODS gives it to the
// commands with which a rodsadmin acts on other users' data.
func addAdminFlag(a *app, cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&a.adminMode, "admin", "M", false, "admin mode: a rodsadmin acts on other users' data (without it, only as far as their ACLs grant)")
}

// Names lists the icommand names, for install-links and argv[0] dispatch.
func Names() []string {
	var names []string
	for _, c := range Commands(&Streams{}) {
		names = append(names, c.Name())
	}
	return names
}

// Run executes root with args, prints an error once, and returns the exit status.
func Run(ctx context.Context, root *cobra.Command, args []string, s *Streams) int {
	root.SetArgs(args)
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SilenceErrors, root.SilenceUsage = true, true
	// A command line that does not parse is a usage error for every
	// subcommand (arca server too), not only for the icommands.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err.Error()} })
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	if strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag") ||
		strings.HasPrefix(err.Error(), "required flag(s)") || strings.Contains(err.Error(), "arg(s)") {
		code = ExitUsage
	}
	name := root.Name()
	if cmd != nil {
		name = cmd.Name()
	}
	jsonOut := false
	if cmd != nil {
		if f := cmd.Flags().Lookup("json"); f != nil && f.Value.String() == "true" {
			jsonOut = true
		}
	}
	msg := message(err)
	if jsonOut {
		b, _ := json.Marshal(map[string]any{"error": msg, "exit_code": code})
		fmt.Fprintln(s.Err, string(b))
	} else {
		fmt.Fprintf(s.Err, "%s: %s\n", name, msg)
		if code == ExitUsage && cmd != nil {
			fmt.Fprintf(s.Err, "Run '%s -h' for help.\n", cmd.CommandPath())
		}
	}
	return code
}

// errLocalNotFound and errLocalPermission classify local file errors.
var (
	errLocalNotFound   = errors.New("no such local file or directory")
	errLocalPermission = errors.New("local permission denied")
)

// localError classifies an error about a local file for the exit status.
func localError(err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w: %w", errLocalNotFound, err)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("%w: %w", errLocalPermission, err)
	}
	return err
}

// exactArgs and rangeArgs are cobra argument checks that fail as usage errors.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("expects %d argument(s), got %d", n, len(args))
		}
		return nil
	}
}

func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return usagef("expects %d to %d argument(s), got %d", lo, hi, len(args))
		}
		return nil
	}
}
