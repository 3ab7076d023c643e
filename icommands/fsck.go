package icommands

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

// newFsck is "arca fsck": a command of the arca binary only, not an
// icommand link (fsck is a system command's name).
func newFsck(a *app) *cobra.Command {
	var (
		repair, verify bool
		resc           string
	)
	cmd := &cobra.Command{
		Use:   "fsck [--repair] [-K] [-R RESC]",
		Short: "Compare the catalog with storage (rodsadmin)",
		Long: `arca fsck checks every storage resource (or those below RESC) against the
catalog and reports:
  missing             a good replica's file is not in storage
  size_mismatch       its size differs from the catalog
  checksum_mismatch   its bytes differ from the catalog's checksum (with -K,
                      which reads every good replica)
  orphan              a file that no replica points to
  stuck_intermediate  a write that died and whose lease ended
  unreadable          a resource or file could not be checked
With --repair it marks bad replicas stale and refreshes them from a good
replica, removes orphan files and resolves stuck writes; every finding then
says what was done. The exit status is 0 when nothing was found (or
everything found was repaired), 1 otherwise. The summary is printed once:
on standard output after a clean run, else on standard error.`,
		Annotations: map[string]string{jsonLines: "finding (none after a clean run; the summary is the exit status)"},
		Example: `  arca fsck
  arca fsck -K --json
  arca fsck --repair -R s3Resc`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			s, err := c.repls.Fsck(cmd.Context(), &arcapb.FsckRequest{Repair: repair, VerifyChecksums: verify, Resource: resc})
			if err != nil {
				return err
			}
			found, open := 0, 0
			for {
				f, err := s.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return err
				}
				if f.Kind != "repair" {
					found++
				}
				switch {
				case f.Repaired:
				case f.Repair == "marked stale":
					// The object's repair line follows and says whether it
					// was refreshed.
				default:
					open++
				}
				if a.json {
					if err := a.printJSON(findingJSON(f)); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintln(a.Out, findingText(f))
			}
			// The summary, once: on stdout when all is well, else as the
			// error on stderr.
			if open > 0 {
				return fmt.Errorf("%d finding(s), %d left unrepaired", found, open)
			}
			if !a.json {
				fmt.Fprintf(a.Out, "fsck: %d finding(s), %d left unrepaired\n", found, open)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&repair, "repair", false, "repair what can be repaired from good replicas")
	f.BoolVarP(&verify, "verify", "K", false, "read every good replica and compare checksums")
	f.StringVarP(&resc, "resource", "R", "", "check only the resources below RESC")
	return cmd
}

func findingText(f *arcapb.FsckFinding) string {
	s := f.Kind
	if f.Resource != "" {
		s += " " + f.Resource
	}
	if f.Path != "" {
		s += fmt.Sprintf(" %s replica %d", f.Path, f.Replica)
	}
	if f.PhysicalPath != "" {
		s += " (" + f.PhysicalPath + ")"
	}
	if f.Detail != "" {
		s += ": " + f.Detail
	}
	if f.Repair != "" {
		s += " -> " + f.Repair
	}
	return s
}

func findingJSON(f *arcapb.FsckFinding) map[string]any {
	return map[string]any{"kind": f.Kind, "resource": f.Resource, "path": f.Path, "replica": f.Replica,
		"physical_path": f.PhysicalPath, "detail": f.Detail, "repaired": f.Repaired, "repair": f.Repair}
}
