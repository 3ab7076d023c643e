package icommands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
)

// iretentionFlags are the flags of iretention, each for some subcommands.
type iretentionFlags struct {
	mode, until, period string
	recursive, def      bool
	bypass              bool
	// expire's
	at, after string
	clear     bool
}

func newIretention(a *app) *cobra.Command {
	var fl iretentionFlags
	cmd := &cobra.Command{
		Use:   "iretention set|rm|hold|ls|expire [flags] PATH...",
		Short: "Retain data objects: retention locks, legal holds, default retention, expiry",
		Long: `iretention keeps data objects from being removed or changed, as S3 Object
Lock does. A lock is kept by the zone, not as metadata: while a data object
is retained or on legal hold nobody can remove it (irm, irm -r of a
collection above it, irmtrash), overwrite it (iput -f, icp -f, ireg), move
or rename it or a collection above it (imv), or trim its last good replica
that has no verified copy (itrim, iphymv). Reading, listing, adding
metadata and replicating stay allowed.

  set --mode governance|compliance (--until DATE | --for PERIOD) [-r] PATH
      retains the data object PATH (with -r every data object below the
      collection PATH) until DATE (2035-01-31, or an RFC 3339 time) or for
      PERIOD from now (10y, 6m, 30d, 2w, 1y6m, or ISO 8601 P10Y, P1Y6M).
      You must own the objects. A compliance lock can never be shortened
      or removed before its date, by anyone, rodsadmin included; it can be
      extended. A governance lock can be extended by its owner, and
      shortened only by a rodsadmin with --bypass-governance (audited).
  set --default --mode M --for PERIOD [-r] COLLECTION
      sets the default retention of a collection: every data object created
      in it (iput, icp, ireg) is retained in mode M for PERIOD from its
      creation, and collections created in it copy the default, as an S3
      bucket's default retention. -r sets it on every collection below too.
      It changes no existing object.
  rm [-r] [--bypass-governance] PATH
      removes the retention of a data object whose lock has ended, or, for
      a rodsadmin with --bypass-governance, of a governance lock.
  rm --default [-r] COLLECTION
      removes a collection's default retention.
  hold on|off [-r] PATH
      places or releases a legal hold, which has no date and keeps the
      object independently of its retention. The owner places one; only a
      rodsadmin releases it.
  ls [-r] PATH
      shows the lock of a data object, or a collection's default and the
      locks of what it holds (-r: the whole tree).
  expire (--at DATE | --after PERIOD | --clear) PATH
      sets when the data object PATH, or the collection PATH and everything
      in it now, expires: the zone's lifecycle rules (irule load
      policies/lifecycle/rules) give its owner and the stewards notice
      before, and dispose of it after, unless a lock or hold stands then.
      It is kept as the AVU arca.expires. You must own all it reaches.

A refusal by a lock exits with status 5 and names the lock and its date.`,
		Annotations: map[string]string{jsonLines: "data object or collection"},
		Example: `  iretention set --mode compliance --for 10y results.csv
  iretention set --mode governance --until 2030-12-31 -r projects/run42
  iretention set --default --mode compliance --for P10Y /tempZone/home/alice/archive
  iretention hold on results.csv
  iretention ls -r projects/run42
  iretention ls --json results.csv
  iretention rm --bypass-governance results.csv      # rodsadmin, governance only
  iretention hold off results.csv                    # rodsadmin
  iretention expire --after 5y scratch/run41
  iretention expire --clear scratch/run41`,
		Args: func(cmd *cobra.Command, args []string) error {
			_, _, err := parseIretention(args, fl, time.Now())
			return err
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			sub, paths, _ := parseIretention(args, fl, time.Now())
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			done := map[string]string{"set": "locked", "rm": "released", "hold": "changed", "ls": "listed", "expire": "changed"}[sub]
			return eachPath(a, "iretention", done, paths, func(arg string) error {
				p, err := c.resolve(arg)
				if err != nil {
					return err
				}
				return runIretention(cmd.Context(), a, c, sub, args, fl, p.String())
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.mode, "mode", "", "set: governance or compliance")
	f.StringVar(&fl.until, "until", "", "set: retain until this date (2035-01-31) or time (RFC 3339)")
	f.StringVar(&fl.period, "for", "", "set: retain for this period from now: 10y, 6m, 30d, 2w, P10Y, P1Y6M")
	f.BoolVarP(&fl.recursive, "recursive", "r", false, "every data object (with --default: collection) below the collection")
	f.BoolVar(&fl.def, "default", false, "set, rm: the default retention of a collection")
	f.BoolVar(&fl.bypass, "bypass-governance", false, "set, rm: shorten or remove a governance lock (rodsadmin; audited)")
	f.StringVar(&fl.at, "at", "", "expire: when it expires, a date (2031-12-31) or time (RFC 3339)")
	f.StringVar(&fl.after, "after", "", "expire: when it expires, a period from now: 5y, 6m, 30d, P5Y")
	f.BoolVar(&fl.clear, "clear", false, "expire: remove the expiry")
	addAdminFlag(a, cmd)
	return cmd
}

// parseIretention checks an iretention command line and returns the
// subcommand and the paths.
func parseIretention(args []string, fl iretentionFlags, now time.Time) (string, []string, error) {
	if len(args) == 0 {
		return "", nil, usagef("name a subcommand: set, rm, hold, ls or expire")
	}
	sub, rest := args[0], args[1:]
	only := func(ok bool, flag string) error {
		if !ok {
			return usagef("iretention %s takes no %s", sub, flag)
		}
		return nil
	}
	var checks []error
	switch sub {
	case "set":
		if fl.mode == "" {
			return sub, nil, usagef("iretention set: --mode governance or --mode compliance")
		}
		if _, err := catalog.ParseLockMode(fl.mode); err != nil {
			return sub, nil, usagef("iretention set: --mode %s: want governance or compliance", quoteArg(fl.mode))
		}
		if fl.def {
			checks = append(checks, only(fl.until == "", "--until with --default (a default is a period: --for)"),
				only(!fl.bypass, "--bypass-governance with --default"))
			if fl.period == "" {
				return sub, nil, usagef("iretention set --default: --for PERIOD (e.g. 10y or P10Y)")
			}
		} else if (fl.until == "") == (fl.period == "") {
			return sub, nil, usagef("iretention set: give the end of retention, --until DATE or --for PERIOD (one of them)")
		}
		if fl.until != "" {
			t, err := catalog.ParseUntil(fl.until)
			if err != nil {
				return sub, nil, usagef("iretention set: --until %s: want a date (2035-01-31) or a time (2035-01-31T12:00:00Z)", quoteArg(fl.until))
			}
			if !t.After(now) {
				return sub, nil, usagef("iretention set: --until %s is in the past", fl.until)
			}
		}
		if fl.period != "" {
			if _, err := catalog.ParsePeriod(fl.period); err != nil {
				return sub, nil, usagef("iretention set: --for: %s", strings.TrimPrefix(err.Error(), catalog.ErrInvalidArgument.Error()+": "))
			}
		}
	case "rm":
		checks = append(checks, only(fl.mode == "", "--mode"), only(fl.until == "", "--until"), only(fl.period == "", "--for"),
			only(!(fl.def && fl.bypass), "--bypass-governance with --default"))
	case "hold":
		if len(rest) == 0 || (rest[0] != "on" && rest[0] != "off") {
			return sub, nil, usagef("iretention hold on|off [-r] PATH")
		}
		rest = rest[1:]
		checks = append(checks, only(fl.mode == "", "--mode"), only(fl.until == "", "--until"), only(fl.period == "", "--for"),
			only(!fl.def, "--default"), only(!fl.bypass, "--bypass-governance"))
	case "ls":
		checks = append(checks, only(fl.mode == "", "--mode"), only(fl.until == "", "--until"), only(fl.period == "", "--for"),
			only(!fl.def, "--default"), only(!fl.bypass, "--bypass-governance"))
	case "expire":
		checks = append(checks, only(fl.mode == "", "--mode"), only(fl.until == "", "--until (give --at)"), only(fl.period == "", "--for (give --after)"),
			only(!fl.def, "--default"), only(!fl.bypass, "--bypass-governance"), only(!fl.recursive, "-r (an expiry of a collection reaches all it holds)"))
		n := 0
		for _, set := range []bool{fl.at != "", fl.after != "", fl.clear} {
			if set {
				n++
			}
		}
		if n != 1 {
			return sub, nil, usagef("iretention expire: give one of --at DATE, --after PERIOD or --clear")
		}
		if fl.at != "" {
			t, err := catalog.ParseUntil(fl.at)
			if err != nil {
				return sub, nil, usagef("iretention expire: --at %s: want a date (2031-12-31) or a time (2031-12-31T12:00:00Z)", quoteArg(fl.at))
			}
			if !t.After(now) {
				return sub, nil, usagef("iretention expire: --at %s is in the past", fl.at)
			}
		}
		if fl.after != "" {
			if _, err := catalog.ParsePeriod(fl.after); err != nil {
				return sub, nil, usagef("iretention expire: --after: %s", strings.TrimPrefix(err.Error(), catalog.ErrInvalidArgument.Error()+": "))
			}
		}
	default:
		return sub, nil, usagef("unknown subcommand %s: want set, rm, hold, ls or expire", quoteArg(sub))
	}
	if sub != "expire" {
		checks = append(checks, only(fl.at == "", "--at"), only(fl.after == "", "--after"), only(!fl.clear, "--clear"))
	}
	for _, e := range checks {
		if e != nil {
			return sub, nil, e
		}
	}
	if len(rest) == 0 {
		return sub, nil, usagef("iretention %s: name a data object or collection", sub)
	}
	return sub, rest, nil
}

// retentionStream is what every iretention call answers.
type retentionStream interface {
	Recv() (*arcapb.RetentionInfo, error)
}

func runIretention(ctx context.Context, a *app, c *client, sub string, args []string, fl iretentionFlags, p string) error {
	var (
		s   retentionStream
		err error
	)
	switch {
	case sub == "set" && fl.def:
		s, err = c.retain.SetDefaultRetention(ctx, &arcapb.SetDefaultRetentionRequest{Path: p, Mode: fl.mode, Period: fl.period, Recursive: fl.recursive})
	case sub == "set":
		s, err = c.retain.SetRetention(ctx, &arcapb.SetRetentionRequest{Path: p, Mode: fl.mode, Until: fl.until, Period: fl.period,
			Recursive: fl.recursive, BypassGovernance: fl.bypass})
	case sub == "rm" && fl.def:
		s, err = c.retain.SetDefaultRetention(ctx, &arcapb.SetDefaultRetentionRequest{Path: p, Recursive: fl.recursive})
	case sub == "rm":
		s, err = c.retain.SetRetention(ctx, &arcapb.SetRetentionRequest{Path: p, Recursive: fl.recursive, BypassGovernance: fl.bypass})
	case sub == "hold":
		s, err = c.retain.SetHold(ctx, &arcapb.SetHoldRequest{Path: p, Hold: args[1] == "on", Recursive: fl.recursive})
	case sub == "expire":
		s, err = c.retain.SetExpiry(ctx, &arcapb.SetExpiryRequest{Path: p, At: fl.at, Period: fl.after, Clear: fl.clear})
	case sub == "ls":
		ls, lerr := c.retain.ListRetention(ctx, &arcapb.ListRetentionRequest{Path: p, Recursive: fl.recursive})
		if lerr != nil {
			return lerr
		}
		return printRetentionPages(a, ls)
	}
	if err != nil {
		return err
	}
	for {
		info, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		print := printRetention
		if sub == "expire" {
			print = printExpiry
		}
		if err := print(a, info); err != nil {
			return err
		}
	}
}

func printRetentionPages(a *app, s interface {
	Recv() (*arcapb.ListRetentionResponse, error)
}) error {
	for {
		page, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, info := range page.Entries {
			if err := printRetention(a, info); err != nil {
				return err
			}
		}
	}
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// printRetention prints one data object's lock or one collection's
// default: MODE UNTIL HOLD PATH, a collection's path ending in "/".
func printRetention(a *app, info *arcapb.RetentionInfo) error {
	until := fromUnixNano(info.UntilUnixNano)
	if a.json {
		m := map[string]any{"path": info.Path, "collection": info.Collection}
		if info.Collection {
			m["default_mode"], m["default_period"] = info.DefaultMode, info.DefaultPeriod
		} else {
			m["mode"], m["hold"], m["set_by"] = info.Mode, info.Hold, info.SetBy
			m["until"], m["set_at"] = nil, nil
			if !until.IsZero() {
				m["until"] = until.Format(time.RFC3339)
			}
			if t := fromUnixNano(info.SetUnixNano); !t.IsZero() {
				m["set_at"] = t.Format(time.RFC3339)
			}
			m["locked"] = info.Hold || (info.Mode != "" && time.Now().Before(until))
		}
		return a.printJSON(m)
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	if info.Collection {
		what := "-"
		if info.DefaultMode != "" {
			what = "default " + info.DefaultPeriod
		}
		_, err := fmt.Fprintf(a.Out, "%-10s %-25s %-4s %s/\n", dash(info.DefaultMode), what, "-", strings.TrimSuffix(info.Path, "/"))
		return err
	}
	u, hold := "-", "-"
	if !until.IsZero() {
		u = until.Format(time.RFC3339)
		if !time.Now().Before(until) {
			u += " (ended)"
		}
	}
	if info.Hold {
		hold = "hold"
	}
	_, err := fmt.Fprintf(a.Out, "%-10s %-25s %-4s %s\n", dash(info.Mode), u, hold, info.Path)
	return err
}

// printExpiry prints one entry whose expiry changed: EXPIRES PATH, "-"
// when cleared, a collection's path ending in "/".
func printExpiry(a *app, info *arcapb.RetentionInfo) error {
	at := fromUnixNano(info.ExpiresUnixNano)
	if a.json {
		m := map[string]any{"path": info.Path, "collection": info.Collection, "expires": nil}
		if !at.IsZero() {
			m["expires"] = at.Format(time.RFC3339)
		}
		return a.printJSON(m)
	}
	when, path := "-", info.Path
	if !at.IsZero() {
		when = at.Format(time.RFC3339)
	}
	if info.Collection {
		path = strings.TrimSuffix(path, "/") + "/"
	}
	_, err := fmt.Fprintf(a.Out, "%-25s %s\n", when, path)
	return err
}
