package icommands

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	)
	cmd := &cobra.Command{
		Use:   "irule [--check FILE...] [--dry-run OPERATION PATH] [--audit]",
		Short: "List the zone's rules, check rule files, or dry-run the rules on an operation",
		Long: `irule lists the rules the zone uses, in the order they fire.

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
  irule --audit --rule retention-lock -n 20`,
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
			case modes == 0 && len(args) > 0:
				return usagef("irule lists rules; to check files use --check FILE")
			}
			return nil
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
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			resp, err := c.rules.ListRules(ctx, &arcapb.ListRulesRequest{})
			if err != nil {
				return err
			}
			if a.json {
				for _, r := range resp.Rules {
					if err := a.printJSON(ruleJSON(r, resp.Version)); err != nil {
						return err
					}
				}
				return nil
			}
			loaded := ""
			if resp.LoadedUnix != 0 {
				loaded = ", loaded " + time.Unix(resp.LoadedUnix, 0).Format(time.DateTime)
			}
			fmt.Fprintf(a.Out, "rule set %s: %d rules from %d files%s\n", resp.Version, len(resp.Rules), len(resp.Files), loaded)
			for _, r := range resp.Rules {
				fmt.Fprintf(a.Out, "%s\n", describeRule(r))
			}
			return nil
		},
	}
	f := cmd.Flags()
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
	f.Int32VarP(&filter.Limit, "number", "n", 100, "with --audit: the newest N records")
	return cmd
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

func ruleJSON(r *arcapb.RuleInfo, version string) map[string]any {
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
			m := map[string]any{"time": t.UTC().Format(time.RFC3339Nano), "kind": r.Kind, "rule": r.Rule, "rules_version": r.RulesVersion,
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
