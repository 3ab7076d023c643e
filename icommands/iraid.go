package icommands

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newIraid(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "iraid create|show|link|unlink ...",
		Short: "Create, show and link RAiDs (research activity identifiers)",
		Long: `iraid keeps the zone's RAiDs (ISO 23527): identifiers of research
projects, https://raid.org/PREFIX/SUFFIX under the zone's prefix, whose
records follow the RAiD v2 metadata schema (RaidDto): titles, dates,
contributors (ORCID iDs), organisations (ROR ids), related objects, access.
Linking a collection or data object adds it to the RAiD's related objects
and the RAiD to its metadata (the AVU RAiD).`,
		Example: `  iraid create --title "Coral reef survey" --start 2026-03 --contributor 0000-0002-1825-0097 --organisation 038sjwq14
  iraid show https://raid.org/10.82841/4j8x2m7q0c
  iraid link https://raid.org/10.82841/4j8x2m7q0c run42`,
		Args: func(cmd *cobra.Command, args []string) error {
			return usagef("name a subcommand: create, show, link or unlink")
		},
		RunE: func(*cobra.Command, []string) error { return nil },
	}
	subs := []*cobra.Command{newIraidCreate(a), newIraidShow(a), newIraidLink(a, false), newIraidLink(a, true)}
	setup(a, subs)
	cmd.AddCommand(subs...)
	return cmd
}

func printRAiD(a *app, r *arcapb.RAiDInfo, full bool) error {
	if a.json {
		out := map[string]any{"id": r.Id, "owner": r.Owner, "version": r.Version, "closed": r.Closed}
		if full {
			out["record"] = json.RawMessage(r.Document)
		}
		return a.printJSON(out)
	}
	if !full {
		fmt.Fprintln(a.Out, r.Id)
		return nil
	}
	var d struct {
		Title       []struct{ Text, StartDate, EndDate string }
		Date        struct{ StartDate, EndDate string }
		Description []struct{ Text string }
		Access      struct {
			Type          struct{ ID string }
			EmbargoExpiry string
		}
		Contributor []struct {
			ID      string
			Leader  bool
			Contact bool
		}
		Organisation  []struct{ ID string }
		RelatedObject []struct{ ID string }
	}
	_ = json.Unmarshal(r.Document, &d)
	fmt.Fprintf(a.Out, "RAiD:    %s (version %d, owner %s)\n", r.Id, r.Version, r.Owner)
	for _, t := range d.Title {
		fmt.Fprintf(a.Out, "title:   %s\n", t.Text)
	}
	if d.Date.StartDate != "" {
		fmt.Fprintf(a.Out, "dates:   %s to %s\n", d.Date.StartDate, orDash(d.Date.EndDate))
	}
	for _, t := range d.Description {
		fmt.Fprintf(a.Out, "about:   %s\n", t.Text)
	}
	access := "open"
	if strings.Contains(d.Access.Type.ID, "c_f1cf") {
		access = "embargoed until " + d.Access.EmbargoExpiry
	} else if d.Access.Type.ID != "" && !strings.Contains(d.Access.Type.ID, "c_abf2") {
		access = d.Access.Type.ID
	}
	fmt.Fprintf(a.Out, "access:  %s\n", access)
	if r.Closed && len(d.Title) == 0 {
		fmt.Fprintln(a.Out, "(closed: only its owner sees the record)")
	}
	for _, c := range d.Contributor {
		role := ""
		if c.Leader {
			role = " (leader, contact)"
		}
		fmt.Fprintf(a.Out, "contributor:  %s%s\n", c.ID, role)
	}
	for _, o := range d.Organisation {
		fmt.Fprintf(a.Out, "organisation: %s\n", o.ID)
	}
	for _, o := range d.RelatedObject {
		fmt.Fprintf(a.Out, "related:      %s\n", o.ID)
	}
	return nil
}

func newIraidCreate(a *app) *cobra.Command {
	var (
		req  arcapb.CreateRAiDRequest
		file string
	)
	cmd := &cobra.Command{
		Use:   "create --title TITLE --start DATE [--end DATE] [--contributor ORCID]... [--organisation ROR]... [--embargo DATE] | --file RAID.json",
		Short: "Create a RAiD",
		Long: `iraid create mints a RAiD owned by you and prints its id. Dates are
YYYY, YYYY-MM or YYYY-MM-DD. Contributors are ORCID iDs (the first leads),
organisations ROR ids (the first leads); both are checked to their check
digits. --embargo closes the record to others until that day. --file takes
a whole RaidDto record (JSON) instead; it gets the zone's identifier. The
record is validated against the RAiD v2 metadata schema; nothing is made
if it fails.`,
		Example: `  iraid create --title "Coral reef survey" --start 2026-03 --contributor 0000-0002-1825-0097 --organisation 038sjwq14
  iraid create --file raid.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usagef("iraid create takes no arguments, only flags")
			}
			if file == "" && (req.Title == "" || req.Start == "") {
				return usagef("--title and --start are required (or --file)")
			}
			if file != "" && (req.Title != "" || req.Start != "") {
				return usagef("--file is a whole record: it does not go with --title or --start")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if file != "" {
				doc, err := os.ReadFile(file)
				if err != nil {
					return localError(err)
				}
				req.Document = doc
			}
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			r, err := arcapb.NewRAiDsClient(c.conn).Create(ctx, &req)
			if err != nil {
				return err
			}
			return printRAiD(a, r, false)
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Title, "title", "", "the project's title")
	f.StringVar(&req.Description, "description", "", "what it is about")
	f.StringVar(&req.Start, "start", "", "when it started: YYYY, YYYY-MM or YYYY-MM-DD")
	f.StringVar(&req.End, "end", "", "when it ends")
	f.StringArrayVar(&req.Contributors, "contributor", nil, "ORCID iD of a contributor (repeatable; the first leads)")
	f.StringArrayVar(&req.Organisations, "organisation", nil, "ROR id of an organisation (repeatable; the first leads)")
	f.StringVar(&req.Embargo, "embargo", "", "closed to others until this day, YYYY-MM-DD")
	f.StringVar(&file, "file", "", "a whole RaidDto record (JSON)")
	return cmd
}

func newIraidShow(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a RAiD",
		Long: `iraid show prints a RAiD's record; --json prints the whole record
(RaidDto). A closed (embargoed) RAiD shows others only its identifier and
access.`,
		Example: `  iraid show https://raid.org/10.82841/4j8x2m7q0c
  iraid show --json 10.82841/4j8x2m7q0c`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("name one RAiD")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			r, err := arcapb.NewRAiDsClient(c.conn).Show(ctx, &arcapb.ShowRAiDRequest{Id: args[0]})
			if err != nil {
				return err
			}
			return printRAiD(a, r, true)
		},
	}
}

func newIraidLink(a *app, unlink bool) *cobra.Command {
	name, short, long := "link", "Link a collection or data object to a RAiD",
		`iraid link adds the collection or data object to the RAiD's related
objects (by its PID when it has one) and the RAiD to its metadata (AVU
RAiD). You need write access to it and must own the RAiD.`
	if unlink {
		name, short, long = "unlink", "Unlink a collection or data object from a RAiD",
			`iraid unlink takes the collection or data object out of the RAiD's
related objects and the RAiD out of its metadata.`
	}
	return &cobra.Command{
		Use:     name + " ID PATH",
		Short:   short,
		Long:    long,
		Example: "  iraid " + name + " https://raid.org/10.82841/4j8x2m7q0c run42",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usagef("name a RAiD and a path")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			p, err := c.resolve(args[1])
			if err != nil {
				return err
			}
			r, err := arcapb.NewRAiDsClient(c.conn).Link(ctx, &arcapb.LinkRAiDRequest{Id: args[0], Path: p.String(), Unlink: unlink})
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"id": r.Id, "path": p.String(), "linked": !unlink, "version": r.Version})
			}
			return nil
		},
	}
}
