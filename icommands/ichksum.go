package icommands

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
)

func newIchksum(a *app) *cobra.Command {
	var verify, recursive bool
	cmd := &cobra.Command{
		Use:   "ichksum [-K] [-r] DATA_OBJECT|COLLECTION...",
		Short: "Show or verify checksums",
		Long: `ichksum prints the SHA-256 checksum of data objects ("sha2:" and base64,
as iRODS writes it). With -K it reads every good replica from storage and
compares its size and checksum with the catalog; a mismatch is an error that
names the replica. With -r it does so for every data object below a
collection, under a "C- COLLECTION:" line for each collection. Every path
is tried; the exit status is the first failure's.`,
		Annotations: map[string]string{jsonLines: "data object"},
		Example: `  ichksum results.csv
  ichksum -K results.csv      # re-read the bytes and verify
  ichksum -r -K run42         # every data object of a collection tree`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("name at least one data object")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			ck := &checksummer{a: a, c: c, verify: verify, many: len(args) > 1 || recursive}
			for _, arg := range args {
				p, err := c.resolve(arg)
				if err != nil {
					ck.fail(err)
					continue
				}
				e, err := c.stat(ctx, p)
				switch {
				case err != nil:
					ck.fail(err)
				case e.Kind == arcapb.EntryKind_ENTRY_KIND_COLLECTION && !recursive:
					ck.fail(usagef("%s is a collection: use -r", p))
				case e.Kind == arcapb.EntryKind_ENTRY_KIND_COLLECTION:
					ck.tree(ctx, p)
				default:
					ck.one(ctx, p)
				}
			}
			return ck.result()
		},
	}
	cmd.Flags().BoolVarP(&verify, "verify", "K", false, "verify every good replica against the catalog")
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "every data object below a collection")
	addAdminFlag(a, cmd)
	return cmd
}

// checksummer runs the checksums of one ichksum, going on past failures.
type checksummer struct {
	a      *app
	c      *client
	verify bool
	many   bool   // several data objects: each failure is printed as it happens
	header string // the collection whose objects are being printed
	failed int
	first  error
}

// one computes or verifies the checksum of the data object p.
func (k *checksummer) one(ctx context.Context, p catalog.Path) {
	resp, err := k.c.ns.Checksum(ctx, &arcapb.ChecksumRequest{Path: p.String(), Verify: k.verify})
	if err != nil {
		k.fail(err)
		return
	}
	if k.a.json {
		if err := k.a.printJSON(map[string]any{"path": p.String(), "checksum": resp.Checksum, "verified": k.verify}); err != nil {
			k.fail(err)
		}
		return
	}
	if parent := p.Parent().String(); k.header != "" && parent != k.header {
		k.header = parent
		fmt.Fprintf(k.a.Out, "C- %s:\n", parent)
	}
	fmt.Fprintf(k.a.Out, "    %-40s %s\n", p.Name(), resp.Checksum)
}

// tree does one for every data object below the collection coll.
func (k *checksummer) tree(ctx context.Context, coll catalog.Path) {
	stream, err := k.c.ns.List(ctx, &arcapb.ListRequest{Path: coll.String(), Recursive: true})
	if err != nil {
		k.fail(err)
		return
	}
	k.header = "-" // print each collection's line, the first one too
	defer func() { k.header = "" }()
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			return
		}
		if err != nil {
			k.fail(err)
			return
		}
		for _, e := range resp.Entries {
			if e.Kind == arcapb.EntryKind_ENTRY_KIND_DATA_OBJECT {
				k.one(ctx, catalog.MustPath(e.Path))
			}
		}
	}
}

func (k *checksummer) fail(err error) {
	k.failed++
	if k.first == nil {
		k.first = err
	}
	if k.many {
		fmt.Fprintf(k.a.Err, "ichksum: %s\n", message(err))
	}
}

// result is the one failure of a single data object, or how many of
// several failed, with the first one's exit status.
func (k *checksummer) result() error {
	switch {
	case k.failed == 0:
		return nil
	case !k.many:
		return k.first
	}
	if k.failed == 1 {
		return exitError{code: exitCode(k.first), err: fmt.Errorf("a checksum failed")}
	}
	return exitError{code: exitCode(k.first), err: fmt.Errorf("%d checksums failed", k.failed)}
}
