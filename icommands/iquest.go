package icommands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog/query"
)

func newIquest(a *app) *cobra.Command {
	var noPage bool
	cmd := &cobra.Command{
		Use:   `iquest [--no-page] [no-distinct] [uppercase] [FORMAT] "select COLUMNS [where CONDITION] ..."  |  iquest attrs`,
		Short: "Query the catalog",
		Long: `iquest runs a query over the catalog, with iRODS's GenQuery column names
(COLL_NAME, DATA_NAME, DATA_SIZE, META_DATA_ATTR_NAME, ...). Beyond GenQuery:
AND, OR, NOT and parentheses, IN, BETWEEN, LIKE (% and _), comparisons of
numbers and times, COUNT/SUM/MIN/MAX/AVG with GROUP BY, ORDER BY, LIMIT and
OFFSET. Rows stream as they are found; only what you may read is returned.
Without FORMAT each row prints as "COLUMN = value" lines and a separator;
FORMAT is printf-style with one %s per column, as in iRODS ("%s/%s").
A query that finds nothing prints CAT_NO_ROWS_FOUND and succeeds.
A malformed query is a usage error (exit 2) that points at its column; so
is one past a limit: ` + strconv.Itoa(query.MaxConditions) + ` conditions (an IN list of up to
` + strconv.Itoa(query.MaxInList) + ` values is one), ` + strconv.Itoa(query.MaxItems) + ` select items, ` + strconv.Itoa(query.MaxQueryLength>>10) + ` KiB of text.
USER_ columns beside an ACL column (DATA_ACCESS_NAME, COLL_ACCESS_NAME)
name the user or group the ACL entry grants to, as in iRODS; otherwise the
owner.

iquest attrs lists the columns, with their types. As in iRODS, uppercase
makes the conditions on text case-insensitive: each is sent as
UPPER(COLUMN) compared with its value in upper case (ASCII letters; the
language takes UPPER(COLUMN) in conditions too). --no-page and no-distinct
are accepted: rows are never paged (they stream), and they are always
distinct, so no-distinct only says so on standard error (COUNT counts
every row, before rows are made distinct).

--json keys each row by column: integers and floats as numbers, times as
RFC 3339 strings in UTC, an aggregate over no rows as null.`,
		Annotations: map[string]string{jsonLines: "row (iquest attrs prints one array)"},
		Example: `  iquest "select COLL_NAME, DATA_NAME where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE like 'abc%'"
  iquest "%s/%s %s" "select COLL_NAME, DATA_NAME, DATA_SIZE where DATA_SIZE > 1000000 order by DATA_SIZE desc limit 10"
  iquest "select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project' group by META_DATA_ATTR_VALUE"
  iquest "%s %s %s" "select DATA_NAME, DATA_ACCESS_NAME, USER_NAME where COLL_NAME = '/tempZone/home/alice'"
  iquest --json "select DATA_NAME, DATA_CHECKSUM where COLL_NAME = '/tempZone/home/alice'"
  iquest uppercase "%s" "select DATA_NAME where DATA_NAME like '%.tif'"   # also .TIF, .Tif
  iquest attrs`,
		Args: func(cmd *cobra.Command, args []string) error {
			_, _, err := parseIquestArgs(args)
			return err
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, rest, _ := parseIquestArgs(args)
			if opts.attrs {
				return printAttrs(a)
			}
			if opts.noDistinct {
				fmt.Fprintln(a.Err, "iquest: no-distinct: Arca's rows are always distinct; COUNT counts every row before that")
			}
			format, text := "", rest[len(rest)-1]
			if len(rest) == 2 {
				format = rest[0]
			}
			q, err := query.Parse(text)
			if err != nil {
				return usageError{err.Error()}
			}
			if opts.uppercase {
				upperConditions(q)
				text = q.String()
			}
			if format != "" {
				if err := query.CheckFormat(format, len(q.Select)); err != nil {
					return usageError{err.Error()}
				}
			}
			types := make([]query.Type, len(q.Select))
			for i, s := range q.Select {
				types[i] = s.Type()
			}
			return runIquest(cmd.Context(), a, format, text, types)
		},
	}
	cmd.Flags().BoolVar(&noPage, "no-page", false, "accepted as in iRODS: rows are never paged")
	return cmd
}

// iquestOptions are iRODS's words before FORMAT.
type iquestOptions struct {
	attrs, noDistinct, uppercase bool
}

// parseIquestArgs reads "[no-distinct] [uppercase] [FORMAT] QUERY" or
// "attrs"; the words may come in either order.
func parseIquestArgs(args []string) (iquestOptions, []string, error) {
	var o iquestOptions
	if len(args) == 1 && args[0] == "attrs" {
		o.attrs = true
		return o, nil, nil
	}
	for len(args) > 1 {
		switch args[0] {
		case "no-distinct":
			o.noDistinct = true
		case "uppercase":
			o.uppercase = true
		default:
			if len(args) > 2 {
				return o, nil, usagef("expects [no-distinct] [uppercase] [FORMAT] QUERY, got %d arguments", len(args))
			}
			return o, args, nil
		}
		args = args[1:]
	}
	if len(args) == 0 {
		return o, nil, usagef("name a query: iquest \"select COLUMNS [where CONDITION]\", or iquest attrs")
	}
	return o, args, nil
}

// upperConditions makes q's conditions on text case-insensitive, as
// iquest's uppercase asks: each compares UPPER(COLUMN) with its values in
// upper case.
func upperConditions(q *query.Query) {
	query.Walk(q.Where, func(e query.Expr) {
		c := query.PredicateColumn(e)
		if c == nil || c.Type != query.TypeString {
			return
		}
		up := func(v *query.Value) { v.Str = query.UpperASCII(v.Str) }
		switch p := e.(type) {
		case *query.Compare:
			p.Upper = true
			up(&p.Value)
		case *query.Like:
			p.Upper, p.Pattern = true, query.UpperASCII(p.Pattern)
		case *query.In:
			p.Upper = true
			for i := range p.Values {
				up(&p.Values[i])
			}
		case *query.Between:
			p.Upper = true
			up(&p.Low)
			up(&p.High)
		}
	})
}

// printAttrs lists the columns a query may name, as iquest attrs does.
func printAttrs(a *app) error {
	cols := query.Columns()
	if a.json {
		out := make([]map[string]any, len(cols))
		for i, c := range cols {
			out[i] = map[string]any{"name": c.Name, "type": c.Type.String(), "entity": c.Entity.String(), "doc": c.Doc}
		}
		return a.printJSON(out)
	}
	w := bufio.NewWriter(a.Out)
	defer w.Flush()
	for _, c := range cols {
		fmt.Fprintf(w, "%-24s %-8s %s\n", c.Name, c.Type, c.Doc)
	}
	return nil
}

func runIquest(ctx context.Context, a *app, format, text string, types []query.Type) error {
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
			if err := printRow(w, a, format, columns, types, r.Values); err != nil {
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

func printRow(w io.Writer, a *app, format string, columns []string, types []query.Type, values []string) error {
	switch {
	case a.json:
		m := make(map[string]any, len(columns))
		for i, c := range columns {
			if i < len(values) {
				t := query.TypeString
				if i < len(types) {
					t = types[i]
				}
				m[c] = jsonValue(values[i], t)
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

// jsonValue is a value of a result row, rendered as text by the zone, as
// JSON: integers and floats as numbers, times (unix seconds) as RFC 3339
// in UTC, an aggregate over no rows ("") as null.
func jsonValue(v string, t query.Type) any {
	if t == query.TypeString {
		return v
	}
	if v == "" {
		return nil
	}
	switch t {
	case query.TypeInt:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	case query.TypeFloat:
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	case query.TypeTime:
		if s, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.Unix(s, 0).UTC().Format(time.RFC3339)
		}
	}
	return v // not what the type says: as the zone wrote it
}
