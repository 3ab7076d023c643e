package icommands

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newIpid(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ipid mint|show ...",
		Short: "Mint and show persistent identifiers (Handle PIDs)",
		Long: `ipid gives data objects and collections persistent identifiers:
Handle-style PREFIX/SUFFIX names under the zone's prefix, whose records hold
the EUDAT PID profile (URL, EUDAT/CHECKSUM, EUDAT/CHECKSUM_TIMESTAMP,
EUDAT/ROR, EUDAT/FIO, EUDAT/PARENT, EUDAT/REPLICA, EUDAT/FIXED_CONTENT,
EUDAT/PROFILE_VERSION), mirrored as AVUs (PID, EUDAT/ROR, ...). A record
follows its data: a new checksum or replica updates it, a move updates its
URL, a removal marks it removed; a PID is never given out again.`,
		Example: `  ipid mint results.csv
  ipid mint -r run42
  ipid show results.csv
  ipid show --json 21.T12995/8f4c7a52-0d4e-4e4f-a1a9-0d8f7c9b2e11`,
		Args: func(cmd *cobra.Command, args []string) error {
			return usagef("name a subcommand: mint or show")
		},
		RunE: func(*cobra.Command, []string) error { return nil },
	}
	subs := []*cobra.Command{newIpidMint(a), newIpidShow(a)}
	setup(a, subs)
	cmd.AddCommand(subs...)
	return cmd
}

func newIpidMint(a *app) *cobra.Command {
	var recursive bool
	cmd := &cobra.Command{
		Use:   "mint [-r] PATH...",
		Short: "Give data objects and collections a PID",
		Long: `ipid mint gives each PATH a PID, or prints the one it has; with -r also
every data object below a collection that you may write. It needs write
access. It prints each path and its PID.`,
		Annotations: map[string]string{jsonLines: "PID"},
		Example: `  ipid mint results.csv
  ipid mint -r run42`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("name at least one data object or collection")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			pids := arcapb.NewPIDsClient(c.conn)
			return eachPath(a, "ipid mint", "given a PID", args, func(arg string) error {
				p, err := c.resolve(arg)
				if err != nil {
					return err
				}
				stream, err := pids.Mint(ctx, &arcapb.MintPIDRequest{Path: p.String(), Recursive: recursive})
				if err != nil {
					return err
				}
				for {
					info, err := stream.Recv()
					if err == io.EOF {
						return nil
					}
					if err != nil {
						return err
					}
					if a.json {
						if err := a.printJSON(map[string]any{"path": info.Path, "pid": info.Handle}); err != nil {
							return err
						}
						continue
					}
					fmt.Fprintf(a.Out, "%s  %s\n", info.Handle, info.Path)
				}
			})
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "every data object below a collection too")
	return cmd
}

func newIpidShow(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "show PATH|PID",
		Short: "Show a PID record",
		Long: `ipid show prints the PID of a data object or collection (PATH), or the
record of a PID (PREFIX/SUFFIX, hdl:PREFIX/SUFFIX or
https://hdl.handle.net/PREFIX/SUFFIX): its values by index. A PID record is
public; asking by path needs read access. A PID of another prefix than the
zone's is refused.`,
		Example: `  ipid show results.csv
  ipid show 21.T12995/8f4c7a52-0d4e-4e4f-a1a9-0d8f7c9b2e11`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("name one path or PID")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			ref := args[0]
			if looksLikePath(ref) {
				p, err := c.resolve(ref)
				if err != nil {
					return err
				}
				ref = p.String()
			}
			info, err := arcapb.NewPIDsClient(c.conn).Show(ctx, &arcapb.ShowPIDRequest{Ref: ref})
			if err != nil {
				return err
			}
			if a.json {
				values := make([]map[string]any, 0, len(info.Values))
				for _, v := range info.Values {
					values = append(values, map[string]any{"index": v.Index, "type": v.Type, "data": v.Data, "ttl": v.Ttl,
						"timestamp": time.Unix(v.TimestampUnix, 0).UTC().Format(time.RFC3339)})
				}
				return a.printJSON(map[string]any{"pid": info.Handle, "path": info.Path, "values": values})
			}
			fmt.Fprintf(a.Out, "PID:  %s\n", info.Handle)
			if info.Path != "" {
				fmt.Fprintf(a.Out, "path: %s\n", info.Path)
			}
			for _, v := range info.Values {
				fmt.Fprintf(a.Out, "%5d  %-26s %s\n", v.Index, v.Type, v.Data)
			}
			return nil
		},
	}
}

// looksLikePath tells a path (absolute, or relative to the working
// collection) from a PID: a PID is PREFIX/SUFFIX with a prefix of digits,
// letters and dots that has a dot or starts with a digit, or has a
// resolver's scheme.
func looksLikePath(s string) bool {
	if strings.HasPrefix(s, "/") || s == "." || s == ".." || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") {
		return true
	}
	for _, p := range []string{"hdl:", "info:hdl/", "http://", "https://"} {
		if strings.HasPrefix(strings.ToLower(s), p) {
			return false
		}
	}
	prefix, _, ok := strings.Cut(s, "/")
	if !ok || prefix == "" {
		return true
	}
	for _, r := range prefix {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.') {
			return true
		}
	}
	return !(strings.Contains(prefix, ".") || prefix[0] >= '0' && prefix[0] <= '9')
}
