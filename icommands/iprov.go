package icommands

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

// provFormats are what iprov --format takes.
var provFormats = []string{"text", "prov-json", "prov-n", "dot"}

func newIprov(a *app) *cobra.Command {
	var (
		depth  int
		format string
	)
	cmd := &cobra.Command{
		Use:   "iprov [--json] [--depth N] [--format prov-json|prov-n|dot] PATH",
		Short: "Show the provenance of data objects and collections",
		Long: `iprov prints the provenance of a data object or collection: every
change recorded as a W3C PROV activity, with who made it (a user, or the
rule that acted and for whom), the object versions it used and generated
(path, replica and checksum), and when. Of a collection it prints that of
everything below it that you may read. --depth N follows derivations (a
copy's source, iput --derived-from) N steps, both ways: what PATH came from
and what came from it.
--format prov-json (or --json) prints PROV-JSON, prov-n PROV-N, dot a
Graphviz graph (iprov --format dot PATH | dot -Tsvg > prov.svg).
"iprov verify PATH" checks that no record was removed or edited: each
object's records are hash-chained. "iprov derive PATH --from SOURCE"
records that PATH was derived from SOURCE.`,
		Example: `  iprov results.csv
  iprov --depth 3 --json results.csv > results.prov.json
  iprov --format dot run42 | dot -Tsvg > run42.svg
  iprov verify run42`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("name one data object or collection")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.json {
				if cmd.Flags().Changed("format") && format != "prov-json" {
					return usagef("--json prints PROV-JSON; it does not go with --format %s", format)
				}
				format = "prov-json"
			}
			if !slices.Contains(provFormats, format) {
				return usagef("--format %q: want one of text, prov-json, prov-n, dot", format)
			}
			if depth < 0 || depth > 100 {
				return usagef("--depth must be between 0 and 100, got %d", depth)
			}
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			p, err := c.resolve(args[0])
			if err != nil {
				return err
			}
			stream, err := arcapb.NewProvenanceClient(c.conn).Export(ctx, &arcapb.ExportProvenanceRequest{Path: p.String(), Depth: int32(depth), Format: format})
			if err != nil {
				return err
			}
			var doc bytes.Buffer
			for {
				chunk, err := stream.Recv()
				if err == io.EOF {
					break
				}
				if err != nil {
					return err
				}
				doc.Write(chunk.Data)
			}
			if format == "prov-json" && a.json {
				// One JSON object on one line, as every --json output.
				var compact bytes.Buffer
				if err := json.Compact(&compact, doc.Bytes()); err == nil {
					compact.WriteByte('\n')
					doc = compact
				}
			}
			_, err = a.Out.Write(doc.Bytes())
			return err
		},
	}
	cmd.Flags().IntVar(&depth, "depth", 1, "derivation steps to follow, both ways (0: none)")
	cmd.Flags().StringVar(&format, "format", "text", "text, prov-json, prov-n or dot")
	subs := []*cobra.Command{newIprovVerify(a), newIprovDerive(a)}
	setup(a, subs)
	cmd.AddCommand(subs...)
	return cmd
}

func newIprovVerify(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify PATH",
		Short: "Check that no provenance record was removed or edited",
		Long: `iprov verify checks the provenance records of a data object, or of
everything below a collection that you may read: each record carries the
digest of the one before it, and the catalog keeps the digest of the last,
so a record removed (anywhere, the last too) or edited is found. It prints
what it checked and every problem; the exit status is 1 if there is one.`,
		Example: `  iprov verify results.csv
  iprov verify --json run42`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("name one data object or collection")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			p, err := c.resolve(args[0])
			if err != nil {
				return err
			}
			r, err := arcapb.NewProvenanceClient(c.conn).Verify(ctx, &arcapb.VerifyProvenanceRequest{Path: p.String()})
			if err != nil {
				return err
			}
			if a.json {
				problems := make([]map[string]any, 0, len(r.Problems))
				for _, pr := range r.Problems {
					problems = append(problems, map[string]any{"path": pr.Path, "subject": pr.Subject, "record": pr.Seq, "problem": pr.Problem})
				}
				if err := a.printJSON(map[string]any{"path": p.String(), "chains": r.Chains, "records": r.Records,
					"ok": len(r.Problems) == 0, "problems": problems}); err != nil {
					return err
				}
			} else {
				for _, pr := range r.Problems {
					where := pr.Path
					if pr.Seq > 0 {
						where = fmt.Sprintf("%s, record %d", pr.Path, pr.Seq)
					}
					fmt.Fprintf(a.Out, "BROKEN %s: %s\n", where, pr.Problem)
				}
				fmt.Fprintf(a.Out, "%s: %d records in %d chains checked, %d problems\n", p, r.Records, r.Chains, len(r.Problems))
			}
			if len(r.Problems) > 0 {
				return exitError{code: ExitFailure, err: fmt.Errorf("the provenance of %s was tampered with: %d problems", p, len(r.Problems))}
			}
			return nil
		},
	}
	return cmd
}

func newIprovDerive(a *app) *cobra.Command {
	var from []string
	cmd := &cobra.Command{
		Use:   "derive PATH --from SOURCE...",
		Short: "Record that a data object was derived from others",
		Long: `iprov derive records that PATH was derived from each SOURCE
(prov:wasDerivedFrom), as iput --derived-from does at upload. It needs
write access to PATH and read access to each SOURCE. A derivation that
would make something derived from itself is refused, and nothing is
recorded.`,
		Example: `  iprov derive clean.csv --from raw.csv
  iprov derive model.bin --from train.csv --from params.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || len(from) == 0 {
				return usagef("name one PATH and at least one --from SOURCE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			p, err := c.resolve(args[0])
			if err != nil {
				return err
			}
			req := &arcapb.DeriveRequest{Path: p.String()}
			for _, f := range from {
				src, err := c.resolve(f)
				if err != nil {
					return err
				}
				req.Sources = append(req.Sources, src.String())
			}
			if _, err := arcapb.NewProvenanceClient(c.conn).Derive(ctx, req); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"path": req.Path, "derived_from": req.Sources})
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&from, "from", nil, "what PATH was derived from (repeatable)")
	return cmd
}
