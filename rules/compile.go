package rules

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types/ref"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

// When is the phase of an operation a rule fires in.
type When string

const (
	Pre     When = "pre"     // before the operation; may deny it or change it
	Post    When = "post"    // after it succeeded
	Except  When = "except"  // after it failed (a denial included)
	Finally When = "finally" // after it, however it ended
	// Every is the phase of a periodic rule: it fires on its cron
	// schedule (every:), not on an operation.
	Every When = "every"
)

// PeriodicOp is the operation name periodic rules see in op.name.
const PeriodicOp = "every"

var phases = []When{Pre, Post, Except, Finally}

// Mode says what a deny does.
const (
	ModeEnforce = "enforce" // a deny refuses the operation
	ModeWarn    = "warn"    // a deny is logged and audited; the operation goes on
)

// Rule is a compiled rule.
type Rule struct {
	Name        string
	Description string
	File        string
	Line        int
	On          []string
	When        When
	Priority    int
	Mode        string
	FailOpen    bool
	// Schedule is the cron spec of a periodic rule (When is Every).
	Schedule string
	// Select is the CEL expression of a periodic rule that gives the
	// query (iquest syntax) of the data objects it applies to, if any.
	Select string
	// Async is false when a post, except or finally rule runs its
	// data-moving actions (Action.Async) in the operation itself, under
	// the phase deadline, instead of as a job.
	Async bool

	selectPrg cel.Program

	order     int // position in the rule set, after sorting
	condition cel.Program
	deny      cel.Program
	actions   []*compiledAction
}

// Denies reports whether the rule has a deny message.
func (r *Rule) Denies() bool { return r.deny != nil }

// Actions lists the names of the rule's actions, in order (those a rule
// runs as a job included).
func (r *Rule) Actions() []string {
	var names []string
	for _, a := range r.actions {
		if a.auto {
			for _, d := range a.do {
				names = append(names, d.name)
			}
			continue
		}
		names = append(names, a.name)
	}
	return names
}

type compiledAction struct {
	name   string
	action *Action // nil for schedule
	args   []compiledArg
	// schedule
	after   time.Duration
	every   string
	async   bool
	recheck bool
	do      []*compiledAction
	// auto marks the job a post rule makes of its data-moving actions
	// (and those after them): a schedule {async: true} the rule did not
	// write.
	auto bool
}

type compiledArg struct {
	name string
	prg  cel.Program
}

// compiler compiles the specs of one rule set.
type compiler struct {
	env       *cel.Env
	reg       *Registry
	limit     uint64
	opts      []cel.ProgramOption // with the cost limit
	untracked []cel.ProgramOption // for expressions that cannot reach it
	errs      Errors
}

// sizeBound is the size assumed for facts whose size is unknown (strings,
// metadata maps, lists of replicas or groups) when the worst-case cost of
// an expression is estimated at load. An expression whose estimate stays
// under the cost limit runs without runtime cost tracking; every other
// one is tracked and stopped at the limit. Comprehensions are also
// interrupted by the deadline, whatever their estimate.
const sizeBound = 1 << 16

// costEstimator gives the sizes of facts and the costs of our functions.
type costEstimator struct{}

func (costEstimator) EstimateSize(checker.AstNode) *checker.SizeEstimate {
	return &checker.SizeEstimate{Min: 0, Max: sizeBound}
}

func (costEstimator) EstimateCallCost(function, overloadID string, target *checker.AstNode, args []checker.AstNode) *checker.CallEstimate {
	switch function {
	case "glob":
		// The product of pattern and path lengths, patterns being short.
		return &checker.CallEstimate{CostEstimate: checker.CostEstimate{Min: 1, Max: 256 * sizeBound / 10}}
	case "under", "byteSize", "date", "days", "path.base", "path.dir", "path.components", "path.join":
		return &checker.CallEstimate{CostEstimate: checker.CostEstimate{Min: 1, Max: sizeBound / 10}}
	}
	return nil
}

func (c *compiler) errorf(s *ruleSpec, n *yaml.Node, format string, args ...any) {
	e := &Error{File: s.file, Rule: s.Name, Msg: fmt.Sprintf(format, args...)}
	if n != nil && n.Line > 0 {
		e.Line, e.Column = n.Line, n.Column
	} else {
		e.Line, e.Column = s.line, s.col
	}
	c.errs = append(c.errs, e)
}

func (c *compiler) rule(s *ruleSpec) *Rule {
	r := &Rule{Name: s.Name, Description: s.Description, File: s.file, Line: s.line, On: s.On, When: When(s.When), Priority: s.Priority, Mode: s.Mode}
	before := len(c.errs)
	if s.Name == "" {
		c.errorf(s, nil, "a rule needs a name")
	}
	if s.Every != "" {
		return c.periodic(s, r, before)
	}
	if len(s.On) == 0 {
		c.errorf(s, nil, `a rule needs "on": the operations it fires on, e.g. [put] or ["metadata.*"]`)
	}
	if s.Select.Kind != 0 {
		c.errorf(s, &s.Select, "select names the objects of a periodic rule (every); a rule on operations acts on the operation's object")
	}
	ops := c.reg.Operations()
	for _, op := range s.On {
		switch {
		case op == "" || strings.ContainsAny(op, " \t") || strings.Contains(strings.TrimSuffix(op, "*"), "*"):
			c.errorf(s, nil, "on: %q is not an operation name or a pattern like \"metadata.*\" or \"*\"", op)
		case len(ops) > 0 && !slices.ContainsFunc(ops, func(known string) bool { return MatchOp(op, known) }):
			c.errorf(s, nil, "on: %q names no operation (known: %s)", op, strings.Join(ops, ", "))
		}
	}
	if r.When == "" {
		r.When = Pre
	}
	if !slices.Contains(phases, r.When) {
		c.errorf(s, nil, "when: %q is not pre, post, except or finally", s.When)
	}
	switch s.Mode {
	case "", ModeEnforce:
		r.Mode = ModeEnforce
	case ModeWarn:
	default:
		c.errorf(s, nil, "mode: %q is not enforce or warn", s.Mode)
	}
	switch s.Failure {
	case "", "closed":
	case "open":
		r.FailOpen = true
	default:
		c.errorf(s, nil, "failure: %q is not closed (deny when the rule fails, the default) or open (ignore the rule when it fails)", s.Failure)
	}
	if s.Condition.Kind != 0 {
		r.condition = c.expr(s, &s.Condition, "condition", cel.BoolType)
	}
	if s.Deny.Kind != 0 {
		if r.When != Pre {
			c.errorf(s, &s.Deny, "deny is possible only in pre rules; this one is %s", r.When)
		}
		r.deny = c.expr(s, &s.Deny, "deny", cel.StringType)
	}
	r.Async = true
	if s.Async.Kind != 0 {
		if r.When == Pre {
			c.errorf(s, &s.Async, "async says whether a post, except or finally rule runs its data-moving actions as a job; this rule is pre")
		}
		r.Async = c.boolean(s, &s.Async, "async")
	}
	if s.Then.Kind != 0 {
		r.actions = c.actionList(s, &s.Then, r.When)
		if r.When != Pre && r.Async {
			r.actions = c.asJob(s, r.actions)
		}
		c.oneJob(s, &s.Then, r.actions)
	}
	if r.deny == nil && len(r.actions) == 0 && len(c.errs) == before {
		c.errorf(s, nil, "the rule does nothing: give it deny or then")
	}
	if len(c.errs) > before {
		return nil
	}
	return r
}

// boolean reads the YAML boolean n.
func (c *compiler) boolean(s *ruleSpec, n *yaml.Node, what string) bool {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		c.errorf(s, n, "%s: %q is not true or false", what, n.Value)
	}
	return b
}

// asJob makes the data-moving actions of a post, except or finally rule,
// and the actions after the first of them (which may depend on it), one
// job: they run with the job's time budget, not under the deadline of the
// operation's phase.
func (c *compiler) asJob(s *ruleSpec, actions []*compiledAction) []*compiledAction {
	first := slices.IndexFunc(actions, func(a *compiledAction) bool { return a.action != nil && a.action.Async })
	if first < 0 {
		return actions
	}
	job := &compiledAction{name: ScheduleAction, async: true, auto: true, do: actions[first:]}
	for _, a := range job.do {
		if a.name == ScheduleAction {
			c.errorf(s, &s.Then, "action %s runs as a job (it moves data), and a schedule after it would make a second job of this rule "+
				"for the object: put the schedule before it, give the rule async: false, or split the rule", actions[first].name)
			return actions
		}
	}
	return append(slices.Clone(actions[:first]), job)
}

// oneJob checks that a rule makes at most one job for an object each time
// it fires: the jobs of one rule and object replace each other.
func (c *compiler) oneJob(s *ruleSpec, n *yaml.Node, actions []*compiledAction) {
	jobs := 0
	for _, a := range actions {
		if a.name == ScheduleAction {
			jobs++
		}
	}
	if jobs > 1 {
		c.errorf(s, n, "the rule makes %d jobs each time it fires; a rule has at most one pending job per object "+
			"(scheduling again replaces it): make one schedule of them, or split the rule", jobs)
	}
}

// periodic compiles a rule that fires on a schedule: every, then and
// optionally select and condition; no on, when or deny.
func (c *compiler) periodic(s *ruleSpec, r *Rule, before int) *Rule {
	if _, err := cron.ParseStandard(s.Every); err != nil {
		c.errorf(s, nil, "every: %q: %v (want a cron spec like \"0 3 * * *\", \"@daily\" or \"@every 1h\")", s.Every, err)
	}
	if len(s.On) > 0 || s.When != "" || s.Deny.Kind != 0 {
		c.errorf(s, nil, "a periodic rule (every) fires on its schedule: it takes no on, when or deny")
	}
	if s.Async.Kind != 0 {
		c.errorf(s, &s.Async, "a periodic rule runs as a job already: it takes no async")
	}
	r.When, r.Schedule, r.On = Every, s.Every, []string{PeriodicOp}
	if s.Select.Kind != 0 {
		r.Select = s.Select.Value
		if r.selectPrg = c.expr(s, &s.Select, "select", cel.StringType); r.selectPrg != nil {
			if err := checkSelect(r.selectPrg); err != nil {
				c.errorf(s, &s.Select, "select: %v", err)
			}
		}
	}
	if s.Condition.Kind != 0 {
		r.condition = c.expr(s, &s.Condition, "condition", cel.BoolType)
	}
	if s.Then.Kind == 0 {
		c.errorf(s, nil, "a periodic rule needs then: the actions to run")
	} else {
		r.actions = c.actionList(s, &s.Then, Post)
		c.oneJob(s, &s.Then, r.actions)
	}
	if len(c.errs) > before {
		return nil
	}
	return r
}

// expr compiles the CEL expression in n and checks its result type.
func (c *compiler) expr(s *ruleSpec, n *yaml.Node, what string, want *cel.Type) cel.Program {
	if n.Kind != yaml.ScalarNode {
		c.errorf(s, n, "%s must be a CEL expression (a string)", what)
		return nil
	}
	src := n.Value
	if n.Tag != "!!str" && n.Tag != "" {
		// Unquoted true, 3 or 1.5 are YAML scalars of other types; as CEL
		// they mean the same.
		src = n.Value
	}
	ast, iss := c.env.Compile(src)
	if iss != nil && iss.Err() != nil {
		for _, e := range iss.Errors() {
			line, col := exprPos(n, e.Location.Line(), e.Location.Column())
			c.errs = append(c.errs, &Error{File: s.file, Line: line, Column: col, Rule: s.Name, Msg: fmt.Sprintf("%s: %s", what, e.Message)})
		}
		return nil
	}
	got := ast.OutputType()
	if !want.IsExactType(cel.DynType) && !got.IsExactType(cel.DynType) && !want.IsAssignableType(got) {
		c.errorf(s, n, "%s must evaluate to %s, but %q is %s", what, want, src, got)
		return nil
	}
	opts := c.opts
	if est, err := c.env.EstimateCost(ast, costEstimator{}); err == nil && est.Max <= c.limit {
		// Its worst case is within the limit: tracking the cost of every
		// step (a third of the evaluation time) would buy nothing.
		opts = c.untracked
	}
	prg, err := c.env.Program(ast, opts...)
	if err != nil {
		c.errorf(s, n, "%s: %v", what, err)
		return nil
	}
	if !hasComprehension(ast) {
		return loopFree{prg}
	}
	return prg
}

// hasComprehension reports whether the expression has a loop (exists,
// all, map, filter, ...): the only place where cel-go checks for an
// interrupt.
func hasComprehension(a *cel.Ast) bool {
	found := false
	celast.PostOrderVisit(a.NativeRep().Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		if e.Kind() == celast.ComprehensionKind {
			found = true
		}
	}))
	return found
}

// loopFree is a program without loops. cel-go checks a context only
// between the steps of a loop, and its ContextEval sets up a cancellable
// context for every evaluation (a third of the time of a simple
// condition); without loops there is nothing to interrupt, so it is
// evaluated directly, as ContextEval would have: to the end. Its catalog
// reads (metadata, ancestors) use the facts' context either way.
type loopFree struct{ cel.Program }

func (p loopFree) ContextEval(_ context.Context, input any) (ref.Val, *cel.EvalDetails, error) {
	return p.Program.Eval(input)
}

// exprPos maps a position inside an expression to the file.
func exprPos(n *yaml.Node, line, col int) (int, int) {
	if line < 1 {
		return n.Line, n.Column
	}
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		// The text starts on the line after the | or >.
		return n.Line + line, n.Column + 2 + col
	case line == 1:
		quote := 0
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			quote = 1
		}
		return n.Line, n.Column + quote + col
	}
	return n.Line + line - 1, col + 1
}

// actionList compiles "then" (or a schedule's "do"): a list of one-key
// mappings, action name to arguments.
func (c *compiler) actionList(s *ruleSpec, n *yaml.Node, when When) []*compiledAction {
	if n.Kind != yaml.SequenceNode {
		c.errorf(s, n, "then must be a list of actions, e.g. - metadata.set: {attribute: \"'a'\", value: \"'v'\"}")
		return nil
	}
	var out []*compiledAction
	for _, item := range n.Content {
		if item.Kind != yaml.MappingNode || len(item.Content) != 2 {
			c.errorf(s, item, "an action is a mapping with one key, the action's name")
			continue
		}
		if a := c.action(s, item.Content[0], item.Content[1], when); a != nil {
			out = append(out, a)
		}
	}
	return out
}

func (c *compiler) action(s *ruleSpec, key, val *yaml.Node, when When) *compiledAction {
	name := key.Value
	if name == ScheduleAction {
		return c.schedule(s, key, val)
	}
	a, ok := c.reg.Lookup(name)
	if !ok {
		c.errorf(s, key, "unknown action %q (known: %s, %s)", name, strings.Join(c.reg.Names(), ", "), ScheduleAction)
		return nil
	}
	if len(a.Phases) > 0 && when != "" && !slices.Contains(a.Phases, when) {
		c.errorf(s, key, "action %s runs only in %v rules, this one is %s", name, a.Phases, when)
		return nil
	}
	ca := &compiledAction{name: name, action: a}
	given := map[string]*yaml.Node{}
	switch val.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(val.Content); i += 2 {
			given[val.Content[i].Value] = val.Content[i+1]
			if !slices.ContainsFunc(a.Args, func(arg Arg) bool { return arg.Name == val.Content[i].Value }) {
				c.errorf(s, val.Content[i], "action %s has no argument %q (it takes %s)", name, val.Content[i].Value, argNames(a))
			}
		}
	case yaml.ScalarNode:
		if val.Tag != "!!null" {
			c.errorf(s, val, "the arguments of %s are a mapping: {%s}", name, argNames(a))
			return nil
		}
	default:
		c.errorf(s, val, "the arguments of %s are a mapping: {%s}", name, argNames(a))
		return nil
	}
	for _, arg := range a.Args {
		n, ok := given[arg.Name]
		if !ok {
			if arg.Required {
				c.errorf(s, key, "action %s needs argument %s", name, arg.Name)
			}
			continue
		}
		if prg := c.expr(s, n, name+"."+arg.Name, arg.Type); prg != nil {
			ca.args = append(ca.args, compiledArg{name: arg.Name, prg: prg})
		}
	}
	return ca
}

func argNames(a *Action) string {
	var names []string
	for _, arg := range a.Args {
		names = append(names, arg.Name)
	}
	return strings.Join(names, ", ")
}

// schedule compiles: schedule: {after: 2s | every: "@daily" | async: true,
// recheck: true, do: [...]}.
func (c *compiler) schedule(s *ruleSpec, key, val *yaml.Node) *compiledAction {
	if val.Kind != yaml.MappingNode {
		c.errorf(s, val, "schedule takes {after: DURATION | every: CRON | async: true, recheck: BOOL, do: [actions]}")
		return nil
	}
	ca := &compiledAction{name: ScheduleAction}
	var doNode *yaml.Node
	when := 0
	for i := 0; i+1 < len(val.Content); i += 2 {
		k, v := val.Content[i], val.Content[i+1]
		switch k.Value {
		case "after":
			d, err := ParseDuration(v.Value)
			if err != nil || d < 0 {
				c.errorf(s, v, "schedule.after: %q is not a duration like 30s, 10m, 2h or 7d", v.Value)
			}
			ca.after = d
			when++
		case "every":
			if _, err := cron.ParseStandard(v.Value); err != nil {
				c.errorf(s, v, "schedule.every: %q: %v (want a cron spec like \"0 3 * * *\", \"@daily\" or \"@every 1h\")", v.Value, err)
			}
			ca.every = v.Value
			when++
		case "async":
			if v.Value != "true" {
				c.errorf(s, v, "schedule.async: only true makes sense (a rule runs its data-moving actions in the operation with async: false)")
			}
			ca.async = true
			when++
		case "recheck":
			ca.recheck = c.boolean(s, v, "schedule.recheck")
		case "do":
			doNode = v
		default:
			c.errorf(s, k, "schedule has no key %q (it takes after, every, async, recheck and do)", k.Value)
		}
	}
	if when != 1 {
		c.errorf(s, key, "schedule needs exactly one of after, every and async")
	}
	if doNode == nil {
		c.errorf(s, key, "schedule needs do: the actions to run")
		return nil
	}
	// Scheduled actions run outside any operation: no phase restriction
	// but pre-only actions make no sense there.
	ca.do = c.actionList(s, doNode, "")
	for _, a := range ca.do {
		if a.name == ScheduleAction {
			c.errorf(s, doNode, "schedule inside schedule is not supported")
		}
		if a.action != nil && len(a.action.Phases) > 0 && !slices.Contains(a.action.Phases, Post) {
			c.errorf(s, doNode, "action %s cannot run in a scheduled job", a.name)
		}
	}
	return ca
}

// ParseDuration reads a Go duration ("90s", "1h30m") or a number of days
// ("7d").
func ParseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		var n int64
		if _, err := fmt.Sscanf(d, "%d", &n); err == nil && fmt.Sprint(n) == d && n >= 0 && n < 100000 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	return time.ParseDuration(s)
}
