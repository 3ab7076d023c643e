package icommands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog/query"
)

func newIquest(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   `iquest [FORMAT] "select COLUMNS [where CONDITION] ..."`,
		Short: "Query the catalog",
		Long: `iquest runs a query over the catalog, with iRODS's GenQuery column names
(COLL_NAME, DATA_NAME, DATA_SIZE, META_DATA_ATTR_NAME, ...). Beyond GenQuery:
AND, OR, NOT and parentheses, IN, BETWEEN, LIKE (% and _), comparisons of
numbers and times, COUNT/SUM/MIN/MAX/AVG with GROUP BY, ORDER BY, LIMIT and
OFFSET. Rows stream as they are found; only what you may read is returned.
Without FORMAT each row prints as "COLUMN = value" lines and a separator;
FORMAT is printf-style with one %s per column, as in iRODS ("%s/%s").
A query that finds nothing prints CAT_NO_ROWS_FOUND and succeeds.
A malformed query is a usage error (exit 2) that points at its column.`,
		Example: `  iquest "select COLL_NAME, DATA_NAME where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE like 'abc%'"
  iquest "%s/%s %s" "select COLL_NAME, DATA_NAME, DATA_SIZE where DATA_SIZE > 1000000 order by DATA_SIZE desc limit 10"
  iquest "select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project' group by META_DATA_ATTR_VALUE"
  iquest --json "select DATA_NAME, DATA_CHECKSUM where COLL_NAME = '/tempZone/home/alice'"`,
		Args: rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, text := "", args[len(args)-1]
			if len(args) == 2 {
				format = args[0]
			}
			q, err := query.Parse(text)
			if err != nil {
				return usageError{err.Error()}
			}
			if format != "" {
				if err := query.CheckFormat(format, len(q.Select)); err != nil {
					return usagef("format %q: %v", format, err)
				}
			}
			return runIquest(cmd.Context(), a, format, text)
		},
	}
}

func runIquest(ctx context.Context, a *app, format, text string) error {
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	stream, err := c.query.Run(ctx, &arcapb.QueryRequest{Query: text})
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(a.Out, 64<<10)
	defer w.Flush()
	var columns []string
	rows := 0
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if len(resp.Columns) > 0 {
			columns = resp.Columns
		}
		for _, r := range resp.Rows {
			rows++
			if err := printRow(w, a, format, columns, r.Values); err != nil {
				return err
			}
		}
		w.Flush()
	}
	if rows == 0 && !a.json {
		fmt.Fprintln(w, "CAT_NO_ROWS_FOUND: Nothing was found matching your query")
	}
	return nil
}

func printRow(w io.Writer, a *app, format string, columns, values []string) error {
	switch {
	case a.json:
		m := make(map[string]string, len(columns))
		for i, c := range columns {
			if i < len(values) {
				m[c] = values[i]
			}
		}
		return writeJSONLine(w, m)
	case format != "":
		line, err := query.Format(format, values)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, line)
		return err
	}
	var b strings.Builder
	for i, c := range columns {
		if i < len(values) {
			fmt.Fprintf(&b, "%s = %s\n", c, values[i])
		}
	}
	b.WriteString("------------------------------------------------------------\n")
	_, err := io.WriteString(w, b.String())
	return err
}
