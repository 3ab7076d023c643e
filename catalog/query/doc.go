// Package query parses Arca's iquest query language: GenQuery1 as iRODS users
// write it, plus general AND/OR/NOT, IN, BETWEEN, GROUP BY, ORDER BY, LIMIT
// and OFFSET. Parse returns a type-checked AST whose column references point
// at the column registry (Columns, LookupColumn); the catalog backends
// (SQLite, Dgraph) compile that AST. Executing queries, and filtering rows by
// permission, is not this package's job.
//
// # Grammar
//
// Keywords, aggregate names and column names are case-insensitive. Blanks
// (space, tab, newline) separate tokens.
//
//	query     = "SELECT" item {"," item}
//	            ["WHERE" or]
//	            ["GROUP" "BY" column {"," column}]
//	            ["ORDER" "BY" item ["ASC" | "DESC"] {"," item ["ASC" | "DESC"]}]
//	            ["LIMIT" integer] ["OFFSET" integer] .
//	item      = column | agg "(" column ")" .
//	agg       = "COUNT" | "SUM" | "MIN" | "MAX" | "AVG" .
//	or        = and {"OR" and} .
//	and       = not {"AND" not} .
//	not       = "NOT" not | "(" or ")" | predicate .
//	predicate = (column | "UPPER" "(" column ")") body {"||" body} .
//	body      = op value
//	          | ["NOT"] "LIKE" string
//	          | ["NOT"] "IN" "(" value {"," value} ")"
//	          | ["NOT"] "BETWEEN" value ["AND"] value .
//	op        = "=" | "<>" | "!=" | "<" | "<=" | ">" | ">=" .
//	value     = string | number .
//	column    = letter {letter | digit | "_"} .   (a registered name)
//	string    = "'" {any character; '' stands for '} "'" .
//	number    = ["-"] (digits ["." {digit}] | "." digits) [("e" | "E") ["+" | "-"] digits] .
//	integer   = digits .
//
// UPPER(column), on string columns in conditions only, compares the
// column's value with its ASCII letters a to z in upper case (UpperASCII,
// as SQLite's upper()) with the value as written: "UPPER(DATA_NAME) =
// 'A.TXT'" finds a.txt and A.TXT. It is how iquest's uppercase asks for
// case-insensitive conditions; an index of the column cannot answer it.
//
// Precedence, tightest first: predicates, NOT, AND, OR. "||" is GenQuery1's
// OR of several conditions on one column ("DATA_NAME like 'a%' || = 'b'")
// and binds tighter than NOT. BETWEEN's AND is optional for GenQuery1's
// "between 'a' 'b'".
//
// # Types and literals
//
// Every column has a type: string, integer or time. A literal is converted
// to the type of the column it is compared with, at parse time:
//
//   - string columns take quoted strings only; a bare number is an error
//     (it would compare as text, so '9' > '10').
//   - integer columns take numbers, integer or float ("DATA_SIZE > 1.5e6"),
//     and, as iRODS writes every value quoted, quoted numbers ('100').
//     Anything else ('abc') is an error.
//   - time columns take unix seconds, bare or quoted (iRODS stores times as
//     epoch strings such as '01700000000'), or quoted '2024-01-31T12:00:00Z'
//     (RFC 3339, any offset, optional fraction), '2024-01-31T12:00:00',
//     '2024-01-31 12:00:00', iRODS's '2024-01-31.12:00:00' and
//     '2024-01-31'. Times without an offset are UTC. Years run 0 to 9999.
//
// Comparisons: strings compare byte-wise (binary collation); integers and
// floats numerically; times as instants. LIKE applies to string columns
// only: % is any run of characters, _ one character, \ escapes the next
// character; matching is case-sensitive (iRODS's default; a SQLite backend
// must not use SQLite's case-insensitive LIKE). MatchLike and LikePrefix
// implement it for backends. BETWEEN is inclusive. IN takes 1 to MaxInList
// values. IS NULL is not supported: a missing value (no checksum, no AVU
// unit) is stored as the empty string, so compare with it:
//
//	select DATA_NAME where DATA_CHECKSUM = ''
//
// DATA_REPL_STATUS uses iRODS's numbering (0 stale, 1 good, 2 intermediate),
// which is not catalog.ReplicaStatus's; backends translate.
//
// # Rows
//
// A query ranges over rows made of one row of each entity its columns name
// (Column.Entity), joined the way the catalog links them: a replica with its
// object's collection and its resource, an AVU with the object it is
// attached to, and so on. All columns of one entity in a query refer to the
// same row of it, so "META_DATA_ATTR_NAME = 'project' and
// META_DATA_ATTR_VALUE = 'x'" means one AVU with both; consequently
// "META_DATA_ATTR_NAME = 'a' and META_DATA_ATTR_NAME = 'b'" matches nothing,
// as in iRODS. Data objects have one row per replica, as in iRODS. A user
// (USER_ columns) beside a data object or collection is the grantee of its
// ACL row when the query names an ACL column (DATA_ACCESS_, else
// COLL_ACCESS_), as iRODS joins them, so "select DATA_NAME,
// DATA_ACCESS_NAME, USER_NAME" says who has which access; without an ACL
// column it is the owner.
// Query.Columns lists the columns a query uses. The WHERE condition filters
// rows; the select items are projected; result rows are distinct, as
// GenQuery1 makes them (iquest's no-distinct is an execution option, not
// syntax). Results are only what the caller may read; the backend enforces
// this on every entity of the row, whatever the shape of the condition.
//
// # Aggregates and grouping
//
// COUNT takes a column of any type and counts the rows where it is set; SUM
// and AVG need an integer column; MIN and MAX take any column. COUNT(*) is
// rejected (count a column such as DATA_ID, which says what is counted).
// Aggregates are computed over the joined rows of each group, before
// DISTINCT, as SQL does: SUM(DATA_SIZE) with a META_DATA condition counts an
// object once per matching AVU row.
//
// If a query has aggregates and no GROUP BY, it is grouped by its other
// select columns (GenQuery1's implicit grouping) and Parse writes those into
// Query.GroupBy. If GROUP BY is written, every non-aggregated select column
// must be in it. GROUP BY may also name columns that are not selected.
// Aggregates are not allowed in WHERE (there is no HAVING).
//
// ORDER BY items must appear in the select list (a column, or an aggregate
// written the same way), because rows are distinct: ordering by anything
// else would be ambiguous. Unordered results come in the backend's order.
// LIMIT and OFFSET are non-negative integers; Query.Limit is -1 without
// LIMIT. Results are streamed; there is no fixed page size.
//
// # Errors and limits
//
// Every error of Parse is a *SyntaxError with the line and column of the
// offending token, printed with a caret under it. Queries longer than
// MaxQueryLength bytes, nested deeper than MaxDepth parentheses and NOTs (a
// "||" group counts as one level, as it prints as a parenthesised OR), with
// more than MaxConditions conditions (each comparison, LIKE, IN or BETWEEN
// is one, whatever joins them), more than MaxItems items in SELECT or in
// ORDER BY, or more than MaxInList values in one IN are
// errors, as is invalid UTF-8. Every query within the limits is one that
// the backends can run.
// Parse does not panic on any input.
//
// # Canonical form
//
// Query.String renders lower-case keywords, upper-case columns, the fewest
// parentheses (nested ANDs and ORs are flattened), "c NOT LIKE p" rather
// than "NOT c LIKE p", integers and floats bare, times as quoted RFC 3339 in
// UTC, and the implicit GROUP BY written out. Parsing it yields an equal
// Query.
//
// # Output formats
//
// Format and CheckFormat implement iquest's printf-style format strings:
// %s per column with optional -, width and .precision, and %%.
package query
