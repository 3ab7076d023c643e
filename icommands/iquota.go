package icommands

import (
	"fmt"
	"strconv"
	"strings"

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
			resource := q.Resource
			if resource == "" {
				resource = "total"
			}
			if err := a.printJSON(map[string]any{"kind": q.Kind, "name": quotaTarget(q), "resource": resource,
				"max_bytes": q.MaxBytes, "used_bytes": q.UsedBytes, "max_objects": q.MaxObjects, "used_objects": q.UsedObjects,
				"over": (q.MaxBytes > 0 && q.UsedBytes > q.MaxBytes) || (q.MaxObjects > 0 && q.UsedObjects > q.MaxObjects)}); err != nil {
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

func usedOf(used string, limit int64, limitText string) string {
	if limit == 0 {
		return used + "/-"
	}
	return used + "/" + limitText
}

// humanBytes writes n in powers of 1000, exactly below 10 kB.
func humanBytes(n int64) string {
	if n < 10000 {
		return strconv.FormatInt(n, 10)
	}
	f, units := float64(n), []string{"", "k", "M", "G", "T", "P", "E"}
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
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
	if q.MaxBytes, err = parseByteCount(nums[0]); err != nil {
		return nil, usagef("iadmin %s: %v", sub, err)
	}
	if len(nums) > 1 {
		if q.MaxObjects, err = strconv.ParseInt(nums[1], 10, 64); err != nil || q.MaxObjects < 0 {
			return nil, usagef("iadmin %s: objects %q: want a whole number, 0 or more", sub, nums[1])
		}
	}
	return q, nil
}

// parseByteCount reads a byte count: digits with an optional K, M, G, T
// (powers of 1000) or Ki, Mi, Gi, Ti (powers of 1024), and an optional B.
func parseByteCount(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "B")
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"K", 1e3}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}} {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || (n > 0 && n > (1<<62)/mult) {
		return 0, fmt.Errorf("bytes %q: want a whole number, 0 or more, with an optional K, M, G, T, Ki, Mi, Gi or Ti", s)
	}
	return n * mult, nil
}
