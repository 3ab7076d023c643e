package icommands

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arca-data/arca/api/arcapb"
)

// errRulesInvalid is the failure of irule --check on a file with problems.
var errRulesInvalid = errors.New("the rule files do not load")

func newIrule(a *app) *cobra.Command {
	var (
		check    bool
		dryRun   bool
		audit    bool
		size     int64
		resource string
		dest     string
		metadata string
		filter   arcapb.ListAuditRequest
		since    time.Duration
		comment  string
	)
	cmd := &cobra.Command{
		Use:   "irule [ls | load FILE|DIR... | history | rollback VERSION] [--check FILE...] [--dry-run OPERATION PATH] [--audit]",
		Short: "Show and change the zone's rule set, check rule files, or dry-run the rules on an operation",
		Long: `A zone has one rule set, kept in its catalog as numbered versions: every
server of the zone uses the newest within a second or two.

irule (or irule ls) shows the version in use, its SHA-256 digest (of the
files' names and contents) and its rules, in the order they fire.

irule load FILE|DIR... (administrators) makes rule files (*.yaml, *.yml) and
the test cases beside them (*.test.yaml) the zone's next version: the zone
compiles them with its CEL environment and actions and runs every test case
first; files with a problem or a failing case are refused, each problem
printed, and the version in use stays (exit status 1). Files are known by
their base names; a directory gives the rule and test files directly in it.
Loading the files of the version in use makes no new version. --comment
says why, for the history.

irule history lists the versions, newest first: when, by whom, digest and
comment. irule rollback VERSION (administrators) makes an earlier
version's files the zone's again, as a new version: the history only grows.

With --check it sends rule files (or the rule files of a directory) to the
zone, which compiles them with its CEL environment and actions without
loading them; every problem is printed as FILE:LINE:COLUMN: rule "NAME":
MESSAGE, and the exit status is 1 when there is one.

With --dry-run it asks which pre rules would fire on an operation (put,
get, remove, ...) of PATH by you, and what they would decide; nothing runs.
Rules are evaluated only on what you may read: an object you may not read
(or that is not there, in a collection you may not read) is refused.
--metadata gives the AVUs of a metadata.* operation or a put, as iput
takes them ("attr;value;unit;..."; for metadata.modify the old AVU, then
the new).

With --audit (administrators) it shows the newest records of the zone's
audit log: every decision that denied or warned, every action a rule ran
and every job run, with the rule, the rule-set version, the operation, the
user, the path, the time and the outcome; --rule, --user, --op, --outcome,
--path (that path or below) and --since select records.`,
		Annotations: map[string]string{jsonLines: "rule listed, or audit record with --audit (--check and --dry-run print one object)"},
		Example: `  irule
  irule --check rules/no-tmp.yaml
  irule --check /etc/arca/rules
  irule --dry-run put x.tmp
  irule --dry-run put big.dat --size 20000000000
  irule --dry-run metadata.modify record.pdf --metadata 'retention_until;2030-01-01;;retention_until;2029-01-01;'
  irule --json
  irule --audit --outcome deny --since 24h
  irule --audit --rule retention-lock -n 20
  irule ls
  irule load /etc/arca/rules --comment "retention for project p1"
  irule load retention.yaml retention.test.yaml
  irule history
  irule history --json -n 5
  irule rollback 3`,
		Args: func(cmd *cobra.Command, args []string) error {
			modes := 0
			for _, m := range []bool{check, dryRun, audit} {
				if m {
					modes++
				}
			}
			switch {
			case modes > 1:
				return usagef("--check, --dry-run and --audit do not go together")
			case audit && len(args) > 0:
				return usagef("--audit takes no arguments; select with --rule, --user, --op, --outcome, --path and --since")
			case check && len(args) == 0:
				return usagef("--check needs rule files")
			case dryRun && len(args) != 2:
				return usagef("--dry-run takes an operation and a path, got %d argument(s)", len(args))
			case size < -1:
				return usagef("--size %d: a size is at least 0, or -1 when unknown", size)
			case modes > 0:
				return nil
			}
			return checkIruleSub(args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			switch {
			case audit:
				c, err := a.connect(ctx)
				if err != nil {
					return err
				}
				if filter.Path != "" {
					p, err := c.resolve(filter.Path)
					if err != nil {
						return usagef("%v", err)
					}
					filter.Path = p.String()
				}
				if since > 0 {
					filter.SinceUnix = time.Now().Add(-since).Unix()
				}
				resp, err := c.rules.ListAudit(ctx, &filter)
				if err != nil {
					return err
				}
				return a.printAudit(resp.Records)
			case check:
				files, err := readRuleFiles(args)
				if err != nil {
					return err
				}
				c, err := a.connect(ctx)
				if err != nil {
					return err
				}
				resp, err := c.rules.CheckRules(ctx, &arcapb.CheckRulesRequest{Files: files})
				if err != nil {
					return err
				}
				return a.printCheck(resp)
			case dryRun:
				c, err := a.connect(ctx)
				if err != nil {
					return err
				}
				p, err := c.resolve(args[1])
				if err != nil {
					return usagef("%v", err)
				}
				req := &arcapb.DryRunRequest{Op: args[0], Path: p.String(), Size: size, Resource: resource}
				if metadata != "" {
					avus, err := parseMetadataTriplets(metadata)
					if err != nil {
						return usagef("--metadata: %v", err)
					}
					req.Metadata = avusPB(avus)
				}
				if dest != "" {
					d, err := c.resolve(dest)
					if err != nil {
						return usagef("%v", err)
					}
					req.Dest = d.String()
				}
				resp, err := c.rules.DryRun(ctx, req)
				if err != nil {
					return err
				}
				return a.printDryRun(req, resp)
			}
			sub := ""
			if len(args) > 0 {
				sub = args[0]
			}
			switch sub {
			case "load":
				files, err := readRuleSet(args[1:])
				if err != nil {
					return err
				}
				c, err := a.connect(ctx)
				if err != nil {
					return err
				}
				resp, err := c.rules.LoadRules(ctx, &arcapb.LoadRulesRequest{Files: files, Comment: comment})
				if err != nil {
					return err
				}
				return a.printLoaded(resp)
			case "rollback":
				v, _ := strconv.ParseInt(args[1], 10, 64)
				c, err := a.connect(ctx)
				if err != nil {
					return err
				}
				resp, err := c.rules.RollbackRules(ctx, &arcapb.RollbackRulesRequest{Version: v, Comment: comment})
				if err != nil {
					return err
				}
				return a.printLoaded(resp)
			case "history":
				c, err := a.connect(ctx)
				if err != nil {
					return err
				}
				resp, err := c.rules.RuleHistory(ctx, &arcapb.RuleHistoryRequest{Limit: filter.Limit})
				if err != nil {
					return err
				}
				return a.printHistory(resp.Versions)
			}
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			resp, err := c.rules.ListRules(ctx, &arcapb.ListRulesRequest{})
			if err != nil {
				return err
			}
			return a.printRules(resp)
		},
	}
	f := cmd.Flags()
	f.StringVar(&comment, "comment", "", "with load and rollback: why, for the history")

	f.BoolVar(&check, "check", false, "check rule files (or directories of them) without loading them")
	f.BoolVar(&dryRun, "dry-run", false, "show what the pre rules would decide on OPERATION of PATH")
	f.Int64Var(&size, "size", 0, "with --dry-run: the size the operation announces")
	f.StringVarP(&resource, "resource", "R", "", "with --dry-run: the target resource")
	f.StringVar(&dest, "dest", "", "with --dry-run: the destination of rename or copy")
	f.StringVar(&metadata, "metadata", "", `with --dry-run: the AVUs the operation gives, "attr;value;unit;..."`)
	f.BoolVar(&audit, "audit", false, "show the audit log (administrators)")
	f.StringVar(&filter.Rule, "rule", "", "with --audit: records of this rule")
	f.StringVar(&filter.User, "user", "", "with --audit: records of this user (name#zone)")
	f.StringVar(&filter.Op, "op", "", "with --audit: records of this operation")
	f.StringVar(&filter.Outcome, "outcome", "", "with --audit: deny, warn, done, failed, error or audit")
	f.StringVar(&filter.Path, "path", "", "with --audit: records of this path or below")
	f.DurationVar(&since, "since", 0, "with --audit: records of the last DURATION (e.g. 24h)")
	f.Int32VarP(&filter.Limit, "number", "n", 100, "with --audit: the newest N records; with history: the newest N versions")
	return cmd
}

// checkIruleSub checks the subcommand words of irule.
func checkIruleSub(args []string) error {
	if len(args) == 0 {
		return nil
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "ls", "history":
		if len(rest) > 0 {
			return usagef("irule %s takes no arguments", sub)
		}
	case "load":
		if len(rest) == 0 {
			return usagef("irule load needs rule files or a directory of them")
		}
	case "rollback":
		if len(rest) != 1 {
			return usagef("irule rollback takes one version number")
		}
		if v, err := strconv.ParseInt(rest[0], 10, 64); err != nil || v < 1 {
			return usagef("irule rollback: %q is not a version number (see irule history)", rest[0])
		}
	default:
		return usagef("irule: unknown subcommand %q (ls, load, history, rollback); to check files use --check FILE", sub)
	}
	return nil
}

// isRuleSetFile tells the files a rule set holds: rule files and test
// files (*.yaml, *.yml, *.test.yaml), not hidden ones.
func isRuleSetFile(name string) bool {
	return !strings.HasPrefix(name, ".") && (strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml"))
}

// readRuleSet reads files, and the rule and test files directly inside
// directories, by base name, as the zone keeps them.
func readRuleSet(args []string) (map[string][]byte, error) {
	files := map[string][]byte{}
	from := map[string]string{}
	for _, arg := range args {
		st, err := os.Stat(arg)
		if err != nil {
			return nil, localError(err)
		}
		paths := []string{arg}
		if st.IsDir() {
			paths = nil
			ents, err := os.ReadDir(arg)
			if err != nil {
				return nil, localError(err)
			}
			for _, e := range ents {
				if !e.IsDir() && isRuleSetFile(e.Name()) {
					paths = append(paths, filepath.Join(arg, e.Name()))
				}
			}
			if len(paths) == 0 {
				return nil, usagef("%s holds no rule files (*.yaml, *.yml); to load a rule set without rules, load a file with \"rules: []\"", arg)
			}
		}
		for _, p := range paths {
			name := filepath.Base(p)
			if prev, ok := from[name]; ok && prev != p {
				return nil, usagef("%s and %s: a rule set's files are known by their names, which must differ", prev, p)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, localError(err)
			}
			files[name], from[name] = b, p
		}
	}
	return files, nil
}

// shortDigest is the start of a digest, for tables.
func shortDigest(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

func ruleSetJSON(rs *arcapb.RuleSetInfo) map[string]any {
	m := map[string]any{"version": rs.Version, "digest": rs.Digest, "author": rs.Author, "comment": rs.Comment}
	if rs.CreatedUnixNano != 0 {
		m["created"] = time.Unix(0, rs.CreatedUnixNano).UTC().Format(time.RFC3339Nano)
	}
	if rs.Files != nil {
		m["files"] = rs.Files
	}
	return m
}

func (a *app) printLoaded(resp *arcapb.LoadRulesResponse) error {
	rs := resp.RuleSet
	if a.json {
		m := ruleSetJSON(rs)
		m["rules"], m["tests"], m["unchanged"] = resp.Rules, resp.Tests, resp.Unchanged
		return a.printJSON(m)
	}
	if resp.Unchanged {
		fmt.Fprintf(a.Out, "unchanged: these files are rule set version %d (sha256 %s); no new version\n", rs.Version, rs.Digest)
		return nil
	}
	fmt.Fprintf(a.Out, "rule set version %d (sha256 %s) is the zone's: %d rules from %d files, %d test cases passed\n",
		rs.Version, rs.Digest, resp.Rules, len(rs.Files), resp.Tests)
	return nil
}

func (a *app) printHistory(versions []*arcapb.RuleSetInfo) error {
	if a.json {
		for _, rs := range versions {
			if err := a.printJSON(ruleSetJSON(rs)); err != nil {
				return err
			}
		}
		return nil
	}
	if len(versions) == 0 {
		fmt.Fprintln(a.Out, "the zone has no rule set yet")
		return nil
	}
	fmt.Fprintf(a.Out, "%-7s %-19s %-20s %-12s %s\n", "VERSION", "CREATED", "AUTHOR", "SHA256", "COMMENT")
	for _, rs := range versions {
		fmt.Fprintf(a.Out, "%-7d %-19s %-20s %-12s %s\n", rs.Version, time.Unix(0, rs.CreatedUnixNano).Format(time.DateTime),
			rs.Author, shortDigest(rs.Digest), rs.Comment)
	}
	return nil
}

func (a *app) printRules(resp *arcapb.ListRulesResponse) error {
	if a.json {
		rs := []map[string]any{}
		for _, r := range resp.Rules {
			rs = append(rs, ruleJSON(r, resp.VersionNumber))
		}
		return a.printJSON(map[string]any{"version": resp.VersionNumber, "digest": resp.Digest, "files": nonNil(resp.Files), "rules": rs})
	}
	if resp.VersionNumber == 0 {
		fmt.Fprintf(a.Out, "no rule set: the zone has none in its catalog yet (irule load); %d rules\n", len(resp.Rules))
	} else {
		loaded := ""
		if resp.LoadedUnix != 0 {
			loaded = ", in use here since " + time.Unix(resp.LoadedUnix, 0).Format(time.DateTime)
		}
		fmt.Fprintf(a.Out, "rule set version %d: %d rules from %d files%s\nsha256 %s\n", resp.VersionNumber, len(resp.Rules), len(resp.Files), loaded, resp.Digest)
	}
	for _, r := range resp.Rules {
		fmt.Fprintf(a.Out, "%s\n", describeRule(r))
	}
	return nil
}

// readRuleFiles reads files, and the rule files directly inside
// directories.
func readRuleFiles(args []string) ([]*arcapb.RuleFile, error) {
	var out []*arcapb.RuleFile
	for _, arg := range args {
		st, err := os.Stat(arg)
		if err != nil {
			return nil, localError(err)
		}
		names := []string{arg}
		if st.IsDir() {
			names = nil
			ents, err := os.ReadDir(arg)
			if err != nil {
				return nil, localError(err)
			}
			for _, e := range ents {
				if !e.IsDir() && (strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) && !strings.HasPrefix(e.Name(), ".") {
					names = append(names, filepath.Join(arg, e.Name()))
				}
			}
		}
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				return nil, localError(err)
			}
			out = append(out, &arcapb.RuleFile{Name: n, Content: b})
		}
	}
	return out, nil
}

func (a *app) printCheck(resp *arcapb.CheckRulesResponse) error {
	if a.json {
		errs := []map[string]any{}
		for _, e := range resp.Errors {
			errs = append(errs, map[string]any{"file": e.File, "line": e.Line, "column": e.Column, "rule": e.Rule, "message": e.Message})
		}
		var names []string
		for _, r := range resp.Rules {
			names = append(names, r.Name)
		}
		if err := a.printJSON(map[string]any{"ok": len(resp.Errors) == 0, "rules": nonNil(names), "errors": errs}); err != nil {
			return err
		}
	} else {
		for _, e := range resp.Errors {
			fmt.Fprintln(a.Out, ruleErrorString(e))
		}
		if len(resp.Errors) == 0 {
			fmt.Fprintf(a.Out, "ok: %d rules\n", len(resp.Rules))
			for _, r := range resp.Rules {
				fmt.Fprintf(a.Out, "%s\n", describeRule(r))
			}
		}
	}
	if len(resp.Errors) > 0 {
		return exitError{code: ExitFailure, err: fmt.Errorf("%w: %d problem(s)", errRulesInvalid, len(resp.Errors))}
	}
	return nil
}

func ruleErrorString(e *arcapb.RuleError) string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", e.Rule)
	}
	b.WriteString(e.Message)
	return b.String()
}

func describeRule(r *arcapb.RuleInfo) string {
	var what []string
	if r.Denies {
		what = append(what, "deny")
	}
	what = append(what, r.Actions...)
	extra := ""
	if r.Mode == "warn" {
		extra += " [warn only]"
	}
	if r.Failure == "open" {
		extra += " [fails open]"
	}
	on := "on " + strings.Join(r.On, ",")
	if r.Every != "" {
		on = r.Every
	}
	return fmt.Sprintf("  %-24s %-8s %-23s priority %-3d %s  (%s:%d)%s",
		r.Name, r.When, on, r.Priority, strings.Join(what, ", "), r.File, r.Line, extra)
}

func ruleJSON(r *arcapb.RuleInfo, version int64) map[string]any {
	return map[string]any{
		"name": r.Name, "description": r.Description, "file": r.File, "line": r.Line, "on": nonNil(r.On),
		"when": r.When, "priority": r.Priority, "mode": r.Mode, "failure": r.Failure, "denies": r.Denies,
		"actions": nonNil(r.Actions), "version": version, "every": r.Every,
	}
}

func (a *app) printDryRun(req *arcapb.DryRunRequest, resp *arcapb.DryRunResponse) error {
	if a.json {
		ds := []map[string]any{}
		for _, d := range resp.Decisions {
			ds = append(ds, map[string]any{"rule": d.Rule, "outcome": d.Outcome, "message": d.Message, "actions": nonNil(d.Actions)})
		}
		return a.printJSON(map[string]any{"op": req.Op, "path": req.Path, "version": resp.Version, "denied": resp.Denied, "decisions": ds})
	}
	if len(resp.Decisions) == 0 {
		fmt.Fprintf(a.Out, "no pre rule fires on %s %s: allowed\n", req.Op, req.Path)
		return nil
	}
	for _, d := range resp.Decisions {
		switch d.Outcome {
		case "match":
			fmt.Fprintf(a.Out, "%s: would run %s\n", d.Rule, strings.Join(d.Actions, ", "))
		default:
			fmt.Fprintf(a.Out, "%s: %s: %s\n", d.Rule, d.Outcome, d.Message)
		}
	}
	if resp.Denied {
		fmt.Fprintf(a.Out, "%s %s would be denied\n", req.Op, req.Path)
	} else {
		fmt.Fprintf(a.Out, "%s %s would be allowed\n", req.Op, req.Path)
	}
	return nil
}

func (a *app) printAudit(recs []*arcapb.AuditRecord) error {
	for _, r := range recs {
		t := time.Unix(0, r.TimeUnixNano)
		if a.json {
			m := map[string]any{"time": t.UTC().Format(time.RFC3339Nano), "kind": r.Kind, "rule": r.Rule, "rules_version": r.RulesVersion, "rules_digest": r.RulesDigest,
				"op": r.Op, "user": r.User, "path": r.Path, "outcome": r.Outcome, "message": r.Message, "action": r.Action, "error": r.Error}
			if r.Job != 0 {
				m["job"] = r.Job
			}
			if err := a.printJSON(m); err != nil {
				return err
			}
			continue
		}
		what := r.Message
		if r.Action != "" {
			what = r.Action
			if r.Error != "" {
				what += ": " + r.Error
			}
		}
		job := ""
		if r.Job != 0 {
			job = fmt.Sprintf(" job %d", r.Job)
		}
		fmt.Fprintf(a.Out, "%s %-7s %-20s %-10s %-16s %s%s: %s\n", t.Format(time.DateTime), r.Outcome, r.Rule, r.Op, r.User, r.Path, job, what)
	}
	if len(recs) == 0 && !a.json {
		fmt.Fprintln(a.Out, "no audit records")
	}
	return nil
}
