package icommands

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
)

type ilsOptions struct {
	long, replicas, recursive, acl, self bool
}

func newIls(a *app) *cobra.Command {
	var o ilsOptions
	cmd := &cobra.Command{
		Use:   "ils [-l|-L] [-r|-d] [-A] [PATH...]",
		Short: "List collections and data objects",
		Long: `ils lists a collection (the working collection by default): its data
objects, then its sub-collections marked "C-". The listing streams: the first
lines appear before the whole collection has been read.
-l shows one line per replica, as iRODS does: owner, replica number,
resource hierarchy (root;...;leaf), size, time and status (& good, X stale,
? intermediate); -L adds the checksum and the physical path of each.
-d lists a collection itself ("C- PATH"), not its contents.`,
		Annotations: map[string]string{jsonLines: "entry listed"},
		Example: `  ils
  ils -l /tempZone/home/alice/run42
  ils -d -A /tempZone/home/alice
  ils -Lr projects
  ils --json | jq .path`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"."}
			}
			if o.self && o.recursive {
				return usagef("ils: -d lists a collection itself; -r its contents below: give one")
			}
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			w := bufio.NewWriterSize(a.Out, 64<<10)
			defer w.Flush()
			return eachPath(a, "ils", "listed", args, func(arg string) error {
				err := ils(cmd.Context(), a, c, w, arg, o)
				if err != nil {
					w.Flush() // what came before the error, before it
				}
				return err
			})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.long, "long", "l", false, "long format")
	f.BoolVarP(&o.replicas, "replicas", "L", false, "every replica with checksum and physical path")
	f.BoolVarP(&o.recursive, "recursive", "r", false, "descend into sub-collections")
	f.BoolVarP(&o.acl, "access", "A", false, "show access control lists")
	f.BoolVarP(&o.self, "directory", "d", false, "list collections themselves, not their contents")
	addTicketFlag(a, cmd)
	return cmd
}

func ils(ctx context.Context, a *app, c *client, w *bufio.Writer, arg string, o ilsOptions) error {
	p, err := c.resolve(arg)
	if err != nil {
		return err
	}
	if o.self {
		return ilsSelf(ctx, a, c, w, p, o)
	}
	// With -A the listed collection shows its own ACL and inheritance
	// under its header, as in iRODS.
	var top *arcapb.Entry
	if o.acl && !a.json {
		if top, err = c.ns.Stat(ctx, &arcapb.StatRequest{Path: p.String()}); err != nil {
			return err
		}
		if top.Kind != arcapb.EntryKind_ENTRY_KIND_COLLECTION {
			top = nil
		}
	}
	stream, err := c.ns.List(ctx, &arcapb.ListRequest{Path: p.String(), Recursive: o.recursive, Replicas: o.replicas, Acl: o.acl})
	if err != nil {
		return err
	}
	header := ""
	listed := false // something was printed, a header or a lone data object
	printHeader := func(h string) {
		header = h
		fmt.Fprintf(w, "%s:\n", h)
		if top != nil && h == p.String() {
			printACL(w, top, o)
		}
	}
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			if !listed && !a.json {
				// Nothing came: an empty collection still gets its header.
				printHeader(p.String())
			}
			return nil
		}
		if err != nil {
			return err
		}
		for _, e := range resp.Entries {
			if a.json {
				if err := writeJSONLine(w, entryJSON(e)); err != nil {
					return err
				}
				continue
			}
			ep := catalog.MustPath(e.Path)
			parent := ep.Parent().String()
			if e.Path == p.String() && e.Kind == arcapb.EntryKind_ENTRY_KIND_DATA_OBJECT {
				parent = "" // ils of one data object prints it alone
			}
			if parent != "" && parent != header {
				printHeader(parent)
			}
			printEntry(w, e, o, parent == "")
			listed = true
		}
		w.Flush()
	}
}

// ilsSelf is ils -d: the entry at p itself, a collection as "C- PATH"
// rather than its contents.
func ilsSelf(ctx context.Context, a *app, c *client, w *bufio.Writer, p catalog.Path, o ilsOptions) error {
	e, err := c.ns.Stat(ctx, &arcapb.StatRequest{Path: p.String()})
	if err != nil {
		return err
	}
	if !o.replicas { // Stat tells where the bytes are; ils shows that with -L
		for _, r := range e.Replicas {
			r.PhysicalPath = ""
		}
	}
	if a.json {
		if !o.acl {
			e.Acl = nil
		}
		return writeJSONLine(w, entryJSON(e))
	}
	printEntry(w, e, o, true)
	return nil
}

func printEntry(w io.Writer, e *arcapb.Entry, o ilsOptions, fullPath bool) {
	name := catalog.MustPath(e.Path).Name()
	if fullPath {
		name = e.Path
	}
	if e.Kind == arcapb.EntryKind_ENTRY_KIND_COLLECTION {
		fmt.Fprintf(w, "  C- %s\n", e.Path)
		printACL(w, e, o)
		return
	}
	if !o.long && !o.replicas {
		fmt.Fprintf(w, "  %s\n", name)
		printACL(w, e, o)
		return
	}
	owner, _, _ := strings.Cut(e.Owner, "#")
	for _, r := range e.Replicas {
		t := time.Unix(0, r.ModifyUnixNano).Local().Format("2006-01-02.15:04")
		resc := r.Resource
		if r.Hierarchy != "" {
			resc = r.Hierarchy // root;...;leaf, as iRODS shows it
		}
		fmt.Fprintf(w, "  %-12s %4d %-16s %12d %s %s %s\n", owner, r.Number, resc, r.Size, t, statusMark(r.Status), name)
		if o.replicas {
			offline := ""
			if !r.Online {
				offline = "    offline: recalled from tape on read"
			}
			fmt.Fprintf(w, "    %s    generic    %s%s\n", orDash(r.Checksum), r.PhysicalPath, offline)
		}
	}
	printACL(w, e, o)
}

func printACL(w io.Writer, e *arcapb.Entry, o ilsOptions) {
	if !o.acl || len(e.Acl) == 0 {
		return
	}
	parts := make([]string, len(e.Acl))
	for i, a := range e.Acl {
		parts[i] = a.Principal + ":" + a.Level
	}
	fmt.Fprintf(w, "        ACL - %s\n", strings.Join(parts, "   "))
	if e.Kind == arcapb.EntryKind_ENTRY_KIND_COLLECTION {
		fmt.Fprintf(w, "        Inheritance - %s\n", map[bool]string{true: "Enabled", false: "Disabled"}[e.Inherit])
	}
}

func statusMark(s string) string {
	switch s {
	case "good":
		return "&"
	case "stale":
		return "X"
	}
	return "?"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// entryJSON is the stable JSON shape of an entry for --json.
func entryJSON(e *arcapb.Entry) map[string]any {
	kind := "data_object"
	if e.Kind == arcapb.EntryKind_ENTRY_KIND_COLLECTION {
		kind = "collection"
	}
	m := map[string]any{
		"kind": kind, "path": e.Path, "owner": e.Owner,
		"create_time": time.Unix(0, e.CreateUnixNano).UTC().Format(time.RFC3339Nano),
		"modify_time": time.Unix(0, e.ModifyUnixNano).UTC().Format(time.RFC3339Nano),
	}
	if kind == "data_object" {
		m["size"], m["checksum"] = e.Size, e.Checksum
		reps := make([]map[string]any, len(e.Replicas))
		for i, r := range e.Replicas {
			reps[i] = map[string]any{"number": r.Number, "resource": r.Resource,
				"size": r.Size, "checksum": r.Checksum, "status": r.Status,
				"modify_time": time.Unix(0, r.ModifyUnixNano).UTC().Format(time.RFC3339Nano)}
			if r.Hierarchy != "" {
				reps[i]["hierarchy"] = r.Hierarchy
			}
			if r.PhysicalPath != "" { // sent with -L, as the full physical path
				reps[i]["online"], reps[i]["physical_path"] = r.Online, r.PhysicalPath
			}
		}
		m["replicas"] = reps
	}
	if len(e.Acl) > 0 {
		acl := make([]map[string]string, len(e.Acl))
		for i, a := range e.Acl {
			acl[i] = map[string]string{"principal": a.Principal, "level": a.Level}
		}
		m["acl"] = acl
		if kind == "collection" {
			m["inherit"] = e.Inherit
		}
	}
	return m
}
