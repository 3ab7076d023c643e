package icommands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newIqos(a *app) *cobra.Command {
	var (
		replicas  int
		recursive bool
	)
	cmd := &cobra.Command{
		Use:   "iqos add|ls|rm|converge [flags] PATH [EXPRESSION|ID]",
		Short: "Quality of service: how many replicas, on which kind of storage",
		Long: `iqos keeps requirements on collections and data objects: a number of good
replicas on resources whose storage attributes an expression matches. An
administrator gives resources their attributes (iadmin modresc NAME qos
'type=tape,geo=DE,tier=cold'); ilsresc shows them. A requirement on a
collection applies to every data object below it, now and later. The zone
makes the missing replicas (a job on its queue, at once and then at every
periodic scan), repairs them when a replica goes stale, a resource goes
down or its attributes change, and itrim refuses to break a requirement.

  add PATH EXPRESSION [--replicas N]
      puts a requirement on PATH (you need write, as for irepl) and shows
      its status now.
  ls [-r] PATH
      shows the requirements that apply to PATH (on it and on the
      collections above it), judged on what lies at PATH; with -r those on
      PATH and everything below it. Each has a status: fulfilled; pending
      (replicas still to make); impossible, with why (too few resources
      match the expression).
  rm PATH EXPRESSION|ID
      removes the requirement on PATH with that expression or ID. No
      replica is removed.
  converge PATH
      makes the replicas the requirements on and below PATH lack, now.

Expressions (as Onedata's): key=value (numbers compare as numbers),
key<N, key>N, key<=N, key>=N, anyStorage; A & B (both), A | B (either),
A \ B (A but not B), evaluated left to right; parentheses group.`,
		Annotations: map[string]string{jsonLines: "requirement (add, rm: one object; converge: one per replica)"},
		Example: `  iqos add projects/run42 'geo=DE & type=disk' --replicas 2
  iqos add projects/run42 'type=tape' --replicas 1
  iqos add results.csv 'anyStorage \ tier=scratch' --replicas 2
  iqos ls projects/run42/data.csv
  iqos ls -r --json projects
  iqos rm projects/run42 'type=tape'
  iqos converge projects/run42`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("iqos needs a subcommand: add, ls, rm or converge")
			}
			want := map[string]int{"add": 3, "ls": 2, "rm": 3, "converge": 2}[args[0]]
			switch {
			case want == 0:
				return usagef("unknown subcommand %s: want add, ls, rm or converge", quoteArg(args[0]))
			case len(args) != want:
				return usagef("iqos %s takes %d arguments, got %d (see iqos -h)", args[0], want-1, len(args)-1)
			case args[0] == "add" && (replicas < 1 || replicas > 16):
				return usagef("--replicas %d: want 1 to 16", replicas)
			case args[0] != "add" && cmd.Flags().Changed("replicas"):
				return usagef("--replicas is for iqos add")
			case args[0] != "ls" && recursive:
				return usagef("-r is for iqos ls")
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
			switch args[0] {
			case "add":
				r, err := c.qos.AddRequirement(ctx, &arcapb.AddQoSRequest{Path: p.String(), Expression: args[2], Replicas: int32(replicas)})
				if err != nil {
					return err
				}
				return a.printQoS(r)
			case "rm":
				req := &arcapb.RemoveQoSRequest{Path: p.String(), Expression: args[2]}
				if id, err := strconv.ParseInt(args[2], 10, 64); err == nil {
					req = &arcapb.RemoveQoSRequest{Path: p.String(), Id: id}
				}
				r, err := c.qos.RemoveRequirement(ctx, req)
				if err != nil {
					return err
				}
				if a.json {
					return a.printJSON(map[string]any{"removed": qosJSON(r)})
				}
				fmt.Fprintf(a.Out, "removed requirement %d on %s: %s x%d (no replica removed)\n", r.Id, r.Path, r.Expression, r.Replicas)
				return nil
			case "ls":
				return a.listQoS(ctx, c, p.String(), recursive)
			default:
				return a.convergeQoS(ctx, c, p.String())
			}
		},
	}
	cmd.Flags().IntVar(&replicas, "replicas", 1, "add: how many good replicas on matching resources (1 to 16)")
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "ls: the requirements on PATH and everything below it")
	addAdminFlag(a, cmd)
	return cmd
}

func qosJSON(r *arcapb.QoSRequirement) map[string]any {
	out := map[string]any{"id": r.Id, "path": r.Path, "collection": r.Collection, "expression": r.Expression,
		"replicas": r.Replicas, "creator": r.Creator}
	if r.CreateUnixNano != 0 {
		out["create_time"] = time.Unix(0, r.CreateUnixNano).UTC().Format(time.RFC3339)
	}
	if r.Status != "" {
		out["status"], out["reason"], out["matching"] = r.Status, r.Reason, nonNil(r.Matching)
		out["objects"], out["fulfilled"] = r.Objects, r.Fulfilled
	}
	return out
}

// printQoS prints one requirement with its status.
func (a *app) printQoS(r *arcapb.QoSRequirement) error {
	if a.json {
		return a.printJSON(qosJSON(r))
	}
	kind := "data object"
	if r.Collection {
		kind = "collection"
	}
	line := fmt.Sprintf("%d  %s  %s x%d  %s", r.Id, r.Path, r.Expression, r.Replicas, r.Status)
	if r.Reason != "" {
		line += ": " + r.Reason
	}
	fmt.Fprintf(a.Out, "%s\n    on the %s; %d of %d data objects fulfilled; matching: %s\n", line, kind, r.Fulfilled, r.Objects,
		strings.Join(orNone(r.Matching), ", "))
	return nil
}

func orNone(s []string) []string {
	if len(s) == 0 {
		return []string{"none"}
	}
	return s
}

func (a *app) listQoS(ctx context.Context, c *client, p string, recursive bool) error {
	stream, err := c.qos.ListRequirements(ctx, &arcapb.ListQoSRequest{Path: p, Recursive: recursive})
	if err != nil {
		return err
	}
	n := 0
	for {
		r, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		n++
		if err := a.printQoS(r); err != nil {
			return err
		}
	}
	if n == 0 && !a.json {
		fmt.Fprintf(a.Out, "no qos requirement applies to %s\n", p)
	}
	return nil
}

func (a *app) convergeQoS(ctx context.Context, c *client, p string) error {
	stream, err := c.qos.Converge(ctx, &arcapb.ConvergeQoSRequest{Path: p})
	if err != nil {
		return err
	}
	made := 0
	for {
		ch, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if a.json {
			out := map[string]any{"path": ch.Path, "requirement": ch.Requirement, "resource": ch.Resource, "replica": ch.Replica}
			if ch.Error != "" {
				out["error"] = ch.Error
			}
			if err := a.printJSON(out); err != nil {
				return err
			}
			continue
		}
		if ch.Error != "" {
			fmt.Fprintf(a.Err, "iqos: %s\n", ch.Error)
			continue
		}
		made++
		fmt.Fprintf(a.Out, "replicated %s to %s (requirement %d)\n", ch.Path, ch.Resource, ch.Requirement)
	}
	if made == 0 && !a.json {
		fmt.Fprintf(a.Out, "nothing to do below %s\n", p)
	}
	return nil
}
