package icommands

import (
	"fmt"
	"strconv"

	"github.com/arca-data/arca/internal/bytesize"
	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

func newIquota(a *app) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "iquota [-a]",
		Short: "Show quotas and their usage",
		Long: `iquota shows the quotas that concern you: your own, your groups' (their
members together) and those of collections you may read, each with the
bytes and data objects used against its limits. -a shows every quota of
the zone (rodsadmin). A rodsadmin sets quotas with iadmin suq, sgq and scq.`,
		Annotations: map[string]string{jsonLines: "quota"},
		Example: `  iquota
  iquota -a
  iquota --json | jq 'select(.kind == "collection")'`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			resp, err := c.quotas.ListQuotas(ctx, &arcapb.ListQuotasRequest{All: all})
			if err != nil {
				return err
			}
			return printQuotas(a, resp.Quotas)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "every quota of the zone (rodsadmin)")
	return cmd
}

// quotaTarget names what a quota limits.
func quotaTarget(q *arcapb.QuotaInfo) string {
	if q.Kind == "collection" {
		return q.Path
	}
	return q.Principal
}

func printQuotas(a *app, qs []*arcapb.QuotaInfo) error {
	if a.json {
		for _, q := range qs {
			if err := a.printJSON(quotaJSON(q)); err != nil {
				return err
			}
		}
		return nil
	}
	if len(qs) == 0 {
		fmt.Fprintln(a.Out, "no quotas")
		return nil
	}
	fmt.Fprintf(a.Out, "%-10s %-32s %-10s %21s %21s\n", "KIND", "NAME", "RESOURCE", "BYTES USED/LIMIT", "OBJECTS USED/LIMIT")
	for _, q := range qs {
		resource := q.Resource
		if resource == "" {
			resource = "total"
		}
		fmt.Fprintf(a.Out, "%-10s %-32s %-10s %21s %21s\n", q.Kind, quotaTarget(q), resource,
			usedOf(humanBytes(q.UsedBytes), q.MaxBytes, humanBytes(q.MaxBytes)),
			usedOf(strconv.FormatInt(q.UsedObjects, 10), q.MaxObjects, strconv.FormatInt(q.MaxObjects, 10)))
	}
	return nil
}

// quotaJSON is the JSON shape of a quota, in iquota, iadmin lq and the
// answer of iadmin suq, sgq and scq.
func quotaJSON(q *arcapb.QuotaInfo) map[string]any {
	resource := q.Resource
	if resource == "" {
		resource = "total"
	}
	return map[string]any{"kind": q.Kind, "name": quotaTarget(q), "resource": resource,
		"max_bytes": q.MaxBytes, "used_bytes": q.UsedBytes, "max_objects": q.MaxObjects, "used_objects": q.UsedObjects,
		"over": (q.MaxBytes > 0 && q.UsedBytes > q.MaxBytes) || (q.MaxObjects > 0 && q.UsedObjects > q.MaxObjects)}
}

func usedOf(used string, limit int64, limitText string) string {
	if limit == 0 {
		return used + "/-"
	}
	return used + "/" + limitText
}

// humanBytes writes n in powers of 1024, as a bare G means on input, and
// exactly below 10 KiB.
func humanBytes(n int64) string {
	if n < 10<<10 {
		return strconv.FormatInt(n, 10)
	}
	f, units := float64(n), []string{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + units[i] + "B"
}

// parseQuotaArgs reads the arguments of iadmin suq, sgq and scq.
func parseQuotaArgs(sub string, args []string) (*arcapb.QuotaInfo, error) {
	q := &arcapb.QuotaInfo{}
	var nums []string
	switch sub {
	case "suq", "sgq":
		q.Kind, q.Principal = "user", args[0]
		if sub == "sgq" {
			q.Kind = "group"
		}
		if args[1] != "total" {
			q.Resource = args[1]
		}
		nums = args[2:]
	case "scq":
		q.Kind, q.Path = "collection", args[0]
		nums = args[1:]
	}
	var err error
	if q.MaxBytes, err = bytesize.Parse(nums[0]); err != nil {
		return nil, usagef("iadmin %s: %v", sub, err)
	}
	if len(nums) > 1 {
		if q.MaxObjects, err = strconv.ParseInt(nums[1], 10, 64); err != nil || q.MaxObjects < 0 {
			return nil, usagef("iadmin %s: objects %s: want a whole number, 0 or more", sub, quoteArg(nums[1]))
		}
	}
	return q, nil
}
