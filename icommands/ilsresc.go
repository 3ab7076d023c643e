package icommands

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newIlsresc(a *app) *cobra.Command {
	var tree, long bool
	cmd := &cobra.Command{
		Use:   "ilsresc [--tree] [-l] [NAME]",
		Short: "List storage resources",
		Long: `ilsresc lists the zone's resources as NAME:TYPE, one a line, with [down]
after those that are down. --tree draws every resource tree from its root
(coordinating resources route, storage resources hold replicas; a compound's
children show their role). With NAME, or -l, it describes resources in full.`,
		Annotations: map[string]string{jsonLines: "resource (with NAME, one object)"},
		Example: `  ilsresc
  ilsresc --tree
  ilsresc demoResc
  ilsresc --json`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			return a.listResources(cmd.Context(), c, name, tree, long, false)
		},
	}
	cmd.Flags().BoolVar(&tree, "tree", false, "draw the resource trees")
	cmd.Flags().BoolVarP(&long, "long", "l", false, "describe every resource in full")
	return cmd
}

// listResources lists the zone's resources, or describes the one named,
// for ilsresc and iadmin lr (names: their names only, as iRODS's lr).
func (a *app) listResources(ctx context.Context, c *client, name string, tree, long, names bool) error {
	resp, err := c.rescs.ListResources(ctx, &arcapb.ListResourcesRequest{})
	if err != nil {
		return err
	}
	byName := map[string]*arcapb.Resource{}
	for _, r := range resp.Resources {
		byName[r.Name] = r
	}
	if name != "" {
		r, ok := byName[name]
		if !ok {
			return exitError{code: ExitNotFound, err: fmt.Errorf("no resource %s", quoteArg(name))}
		}
		if a.json {
			return a.printJSON(resourceJSON(r))
		}
		fmt.Fprint(a.Out, describeResource(r))
		return nil
	}
	for _, r := range resp.Resources {
		switch {
		case a.json:
			if err := a.printJSON(resourceJSON(r)); err != nil {
				return err
			}
		case long:
			fmt.Fprint(a.Out, describeResource(r)+"----\n")
		case tree:
			if r.Parent == "" {
				printTree(a.Out, byName, r, "", "")
			}
		case names:
			fmt.Fprintln(a.Out, r.Name)
		default:
			fmt.Fprintln(a.Out, rescLabel(r))
		}
	}
	return nil
}

func rescLabel(r *arcapb.Resource) string {
	s := r.Name + ":" + r.Type
	if r.Role != "" {
		s += " (" + r.Role + ")"
	}
	if r.Status == "down" {
		s += " [down]"
	}
	if r.Qos != "" {
		s += " {" + r.Qos + "}"
	}
	return s
}

// printTree draws r and its children below it.
func printTree(w io.Writer, byName map[string]*arcapb.Resource, r *arcapb.Resource, lead, childLead string) {
	fmt.Fprintln(w, lead+rescLabel(r))
	for i, name := range r.Children {
		c, ok := byName[name]
		if !ok {
			continue
		}
		if i == len(r.Children)-1 {
			printTree(w, byName, c, childLead+"└── ", childLead+"    ")
		} else {
			printTree(w, byName, c, childLead+"├── ", childLead+"│   ")
		}
	}
}
