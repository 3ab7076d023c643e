package icommands

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newIqstat(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "iqstat",
		Short: "List the scheduled rule jobs (delayed and periodic work)",
		Long: `iqstat lists the jobs rules scheduled: your own, or every job for an
administrator. A job is pending until it is due, running while a server
holds it, and failed once it gave up retrying (iqdel removes it).`,
		Annotations: map[string]string{jsonLines: "job"},
		Example: `  iqstat
  iqstat --json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			resp, err := c.rules.ListJobs(ctx, &arcapb.ListJobsRequest{})
			if err != nil {
				return err
			}
			if a.json {
				for _, j := range resp.Jobs {
					if err := a.printJSON(map[string]any{
						"id": j.Id, "rule": j.Rule, "owner": j.Owner, "every": j.Every, "due": time.Unix(j.DueUnix, 0).UTC().Format(time.RFC3339),
						"attempts": j.Attempts, "last_error": j.LastError, "state": jobState(j), "path": j.Path, "actions": nonNil(j.Actions),
					}); err != nil {
						return err
					}
				}
				return nil
			}
			if len(resp.Jobs) == 0 {
				fmt.Fprintln(a.Out, "no jobs")
				return nil
			}
			fmt.Fprintf(a.Out, "%-6s %-20s %-14s %-8s %-19s %-12s %s\n", "id", "rule", "owner", "state", "due", "every", "work")
			for _, j := range resp.Jobs {
				work := strings.Join(j.Actions, ",")
				if j.Path != "" {
					work += " on " + j.Path
				}
				fmt.Fprintf(a.Out, "%-6d %-20s %-14s %-8s %-19s %-12s %s\n", j.Id, j.Rule, j.Owner, jobState(j),
					time.Unix(j.DueUnix, 0).Format(time.DateTime), orDash(j.Every), work)
				if j.LastError != "" {
					fmt.Fprintf(a.Out, "       attempt %d failed: %s\n", j.Attempts, j.LastError)
				}
			}
			return nil
		},
	}
}

func jobState(j *arcapb.JobInfo) string {
	switch {
	case j.Failed:
		return "failed"
	case j.Running:
		return "running"
	}
	return "pending"
}
