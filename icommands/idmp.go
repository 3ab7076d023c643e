package icommands

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

// maxDMPFile is the largest DMP idmp import sends (the server refuses
// larger ones too).
const maxDMPFile = 10 << 20

func newIdmp(a *app) *cobra.Command {
	var (
		datasets []string
		dryRun   bool
	)
	cmd := &cobra.Command{
		Use:   "idmp import|ls|show [flags] [FILE.json|DMP]",
		Short: "Import machine-actionable data management plans (maDMP v1.2)",
		Long: `idmp turns a data management plan into storage requirements. import
validates an maDMP v1.2 JSON file against the standard's schema, maps each
dataset to a collection (the zone's site vocabulary names it, or --dataset
ID=PATH), puts on it the QoS requirements its hosts ask for (backup_type,
storage_type, geo_location, through the site vocabulary a steward edits in
the server's DIR/dmp-vocabulary.yaml), and stores the DMP under its
dmp_id. A DMP with the dmp_id of one stored must have a newer modified;
--dry-run shows what would change. A refusal names the field.

  import FILE.json [--dataset ID=PATH ...] [--dry-run]
  ls                  the stored DMPs
  show DMP            a stored DMP as it was imported`,
		Annotations: map[string]string{jsonLines: "DMP (ls)"},
		Example: `  idmp import plan.json --dry-run
  idmp import plan.json --dataset 10.5281/zenodo.1200361=/tempZone/home/alice/cool
  idmp ls
  idmp show --json 10.0000/00.0.1234`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("idmp needs a subcommand: import, ls or show")
			}
			want := map[string]int{"import": 2, "ls": 1, "show": 2}[args[0]]
			switch {
			case want == 0:
				return usagef("unknown subcommand %s: want import, ls or show", quoteArg(args[0]))
			case len(args) != want:
				return usagef("idmp %s takes %d arguments, got %d (see idmp -h)", args[0], want-1, len(args)-1)
			case args[0] != "import" && (dryRun || len(datasets) > 0):
				return usagef("--dataset and --dry-run are for idmp import")
			}
			for _, d := range datasets {
				if id, p, ok := strings.Cut(d, "="); !ok || id == "" || p == "" {
					return usagef("--dataset %s: want ID=PATH", quoteArg(d))
				}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var doc []byte
			if args[0] == "import" {
				st, err := os.Stat(args[1])
				if err != nil {
					return exitError{code: ExitNotFound, err: fmt.Errorf("%s: %w", args[1], err)}
				}
				if st.Size() > maxDMPFile {
					return fmt.Errorf("%s: larger than %d MiB", args[1], maxDMPFile>>20)
				}
				if doc, err = os.ReadFile(args[1]); err != nil {
					return err
				}
			}
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			var out *arcapb.DMPDocument
			switch args[0] {
			case "import":
				m := map[string]string{}
				for _, d := range datasets {
					id, p, _ := strings.Cut(d, "=")
					abs, err := c.resolve(p)
					if err != nil {
						return err
					}
					m[id] = abs.String()
				}
				out, err = c.dmps.Import(ctx, &arcapb.ImportDMPRequest{Document: doc, Datasets: m, DryRun: dryRun})
			case "ls":
				out, err = c.dmps.List(ctx, &arcapb.ListDMPsRequest{})
			default:
				out, err = c.dmps.Show(ctx, &arcapb.ShowDMPRequest{Id: args[1]})
			}
			if err != nil {
				return err
			}
			return a.printDMP(args[0], out.Json)
		},
	}
	cmd.Flags().StringArrayVar(&datasets, "dataset", nil, "import: put dataset ID in collection PATH (repeatable)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "import: show what would change, change nothing")
	return cmd
}

// printDMP prints a keeper's JSON answer: as it is with --json (ls: one
// object a line), else as text.
func (a *app) printDMP(sub string, doc []byte) error {
	switch sub {
	case "ls":
		var list []map[string]any
		if err := json.Unmarshal(doc, &list); err != nil {
			return err
		}
		for _, d := range list {
			if a.json {
				if err := a.printJSON(d); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(a.Out, "%v  %v  modified %v  %v datasets  version %v\n", d["dmp"], d["title"], d["modified"], d["datasets"], d["version"])
		}
		return nil
	case "show":
		if a.json {
			var v any
			if err := json.Unmarshal(doc, &v); err != nil {
				return err
			}
			return a.printJSON(v)
		}
		_, err := a.Out.Write(append(doc, '\n'))
		return err
	}
	var res struct {
		DMP      string  `json:"dmp"`
		Title    string  `json:"title"`
		Modified string  `json:"modified"`
		Previous *string `json:"previous"`
		DryRun   bool    `json:"dry_run"`
		Datasets []struct {
			Dataset      string `json:"dataset"`
			Collection   string `json:"collection"`
			Access       string `json:"access"`
			RetainUntil  string `json:"retain_until"`
			EmbargoUntil string `json:"embargo_until"`
			Requirements []struct {
				Expression string `json:"expression"`
				Replicas   int    `json:"replicas"`
				From       string `json:"from"`
			} `json:"requirements"`
		} `json:"datasets"`
	}
	if err := json.Unmarshal(doc, &res); err != nil {
		return err
	}
	if a.json {
		var v any
		if err := json.Unmarshal(doc, &v); err != nil {
			return err
		}
		return a.printJSON(v)
	}
	verb := "imported"
	if res.DryRun {
		verb = "would import"
	}
	fmt.Fprintf(a.Out, "%s DMP %s (%s), modified %s", verb, res.DMP, res.Title, res.Modified)
	if res.Previous != nil {
		fmt.Fprintf(a.Out, ", replacing the version modified %s", *res.Previous)
	}
	fmt.Fprintln(a.Out)
	for _, d := range res.Datasets {
		fmt.Fprintf(a.Out, "  dataset %s -> %s", d.Dataset, d.Collection)
		if d.Access != "" {
			fmt.Fprintf(a.Out, " (access %s)", d.Access)
		}
		fmt.Fprintln(a.Out)
		for _, r := range d.Requirements {
			fmt.Fprintf(a.Out, "    qos %s x%d  from %s\n", r.Expression, r.Replicas, r.From)
		}
		if d.RetainUntil != "" {
			fmt.Fprintf(a.Out, "    available until %s (retention: reported, not applied)\n", d.RetainUntil)
		}
		if d.EmbargoUntil != "" {
			fmt.Fprintf(a.Out, "    embargo until %s (reported, not applied)\n", d.EmbargoUntil)
		}
	}
	return nil
}
