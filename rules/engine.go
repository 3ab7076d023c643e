package rules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"

	"github.com/arca-data/arca/catalog"
)

// Defaults of Options.
const (
	// DefaultCostLimit bounds the CEL cost of one expression evaluation
	// (cel-go's cost units: about one per operation or list element).
	DefaultCostLimit = 100_000
	// DefaultTimeout bounds all rule evaluation of one operation phase.
	DefaultTimeout = 2 * time.Second
)

// ErrDenied is what every Denial is: errors.Is(err, ErrDenied).
var ErrDenied = errors.New("denied by policy")

// Denial is the error of an operation a rule refused.
type Denial struct {
	Rule    string
	Message string
}

func (d *Denial) Error() string { return fmt.Sprintf("denied by rule %s: %s", d.Rule, d.Message) }
func (d *Denial) Unwrap() error { return ErrDenied }

// Options configures an Engine.
type Options struct {
	Registry  *Registry
	Catalog   Catalog
	Scheduler Scheduler
	Logger    *slog.Logger
	// Audit receives a record of every decision that denies or warns,
	// every action run and every rule failure; nil discards them.
	Audit     *slog.Logger
	CostLimit uint64
	Timeout   time.Duration
}

// Engine evaluates a rule set on operations. The set is replaced as a
// whole (Load), so an operation sees one version of the rules throughout.
type Engine struct {
	env     *cel.Env
	defs    map[string]*structDef
	reg     *Registry
	cat     Catalog
	sched   Scheduler
	log     *slog.Logger
	audit   *slog.Logger
	cost    uint64
	timeout time.Duration
	set     atomic.Pointer[Set]
	// cappedAt is when each rule held at the job cap was last audited.
	cappedAt sync.Map

	mu     sync.Mutex
	onLoad []func(*Set)
}

// OnLoad makes fn hear of every rule set loaded from now on.
func (e *Engine) OnLoad(fn func(*Set)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.onLoad = append(e.onLoad, fn)
}

// New returns an engine with an empty rule set.
func New(opts Options) (*Engine, error) {
	env, defs, err := newEnv()
	if err != nil {
		return nil, fmt.Errorf("rules: build CEL environment: %w", err)
	}
	if opts.Registry == nil {
		opts.Registry = NewRegistry()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Audit == nil {
		opts.Audit = slog.New(slog.DiscardHandler)
	}
	if opts.CostLimit == 0 {
		opts.CostLimit = DefaultCostLimit
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	e := &Engine{env: env, defs: defs, reg: opts.Registry, cat: opts.Catalog, sched: opts.Scheduler,
		log: opts.Logger, audit: opts.Audit, cost: opts.CostLimit, timeout: opts.Timeout}
	e.set.Store(&Set{Digest: catalog.RuleSetDigest(nil)})
	return e, nil
}

// Registry is the engine's action registry.
func (e *Engine) Registry() *Registry { return e.reg }

// SetScheduler sets where schedule actions put their jobs.
func (e *Engine) SetScheduler(s Scheduler) { e.sched = s }

// Set is a compiled rule set: every rule, ordered as they fire.
type Set struct {
	// Version is the zone's version of the set in the catalog, a decimal
	// number; "" for a set compiled but not (yet) the zone's.
	Version string
	// Digest is catalog.RuleSetDigest of the files the set was compiled
	// from, test files included: the same files give the same digest.
	Digest   string
	Files    []string // the rule files, without test files
	Rules    []*Rule
	LoadedAt time.Time
	index    sync.Map // indexKey -> []*Rule
}

type indexKey struct {
	when When
	op   string
}

// matching returns the rules of the phase that fire on op, in order. The
// answer is cached per operation name, so rules that do not match an
// operation cost it nothing after the first time.
func (s *Set) matching(when When, op string) []*Rule {
	k := indexKey{when, op}
	if v, ok := s.index.Load(k); ok {
		return v.([]*Rule)
	}
	var out []*Rule
	for _, r := range s.Rules {
		if r.When != when {
			continue
		}
		for _, p := range r.On {
			if MatchOp(p, op) {
				out = append(out, r)
				break
			}
		}
	}
	s.index.Store(k, out)
	return out
}

// Current returns the loaded rule set.
func (e *Engine) Current() *Set { return e.set.Load() }

// Load makes set the rule set of every operation that starts from now on.
func (e *Engine) Load(set *Set) {
	e.set.Store(set)
	e.mu.Lock()
	fns := e.onLoad
	e.mu.Unlock()
	for _, fn := range fns {
		fn(set)
	}
}

// Periodic returns the periodic rules of the set.
func (s *Set) Periodic() []*Rule {
	var out []*Rule
	for _, r := range s.Rules {
		if r.When == Every {
			out = append(out, r)
		}
	}
	return out
}

// Compile parses and compiles rule files (name to contents) into one set;
// test files among them (IsTestFile) are left for TestSet, but count in
// the set's digest. Rules fire in this order: higher priority first; among
// equal priorities, by file name, then in the order they are written.
// Every problem of every file is reported, each with its file, line,
// column and rule; nothing is returned unless all is well.
func (e *Engine) Compile(files map[string][]byte) (*Set, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	c := &compiler{env: e.env, reg: e.reg, limit: e.cost,
		opts: []cel.ProgramOption{
			cel.CostLimit(e.cost),
			cel.InterruptCheckFrequency(100),
			cel.EvalOptions(cel.OptOptimize),
		},
		untracked: []cel.ProgramOption{
			cel.InterruptCheckFrequency(100),
			cel.EvalOptions(cel.OptOptimize),
		},
	}
	var rules []*Rule
	var ruleFiles []string
	seen := map[string]*Rule{}
	for _, name := range names {
		if IsTestFile(name) {
			continue
		}
		ruleFiles = append(ruleFiles, name)
		specs, errs := parseFile(name, files[name])
		c.errs = append(c.errs, errs...)
		for _, s := range specs {
			r := c.rule(s)
			if r == nil {
				continue
			}
			if prev, ok := seen[r.Name]; ok {
				c.errs = append(c.errs, &Error{File: s.file, Line: s.line, Column: s.col, Rule: r.Name,
					Msg: fmt.Sprintf("a rule of this name is already defined at %s:%d", prev.File, prev.Line)})
				continue
			}
			seen[r.Name] = r
			rules = append(rules, r)
		}
	}
	if len(c.errs) > 0 {
		// Wrapped, so that the error value is comparable (callers compare
		// errors with ==; a slice would make that panic); errors.As finds
		// the Errors.
		return nil, fmt.Errorf("%w", c.errs.sorted())
	}
	sort.SliceStable(rules, func(i, j int) bool {
		if rules[i].Priority != rules[j].Priority {
			return rules[i].Priority > rules[j].Priority
		}
		return rules[i].File < rules[j].File // stable: file order kept within a file
	})
	for i, r := range rules {
		r.order = i
	}
	return &Set{Digest: catalog.RuleSetDigest(files), Files: ruleFiles, Rules: rules, LoadedAt: time.Now()}, nil
}

// Before evaluates the pre rules of an operation. A rule that denies
// refuses it with a *Denial before any pre action runs, so a denied
// operation changes nothing. When no rule denies, the actions of the rules
// that matched run in rule order, and their changes to the operation come
// back as Effects (nil when no rule matched).
func (e *Engine) Before(ctx context.Context, req *Request) (*Effects, error) {
	set := e.set.Load()
	rules := set.matching(Pre, req.Op)
	if len(rules) == 0 {
		return nil, nil
	}
	if req.Now.IsZero() {
		req.Now = time.Now()
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	f := newFacts(ctx, e.cat, req)
	act := activation{f: f}
	var fired []*Rule
	for _, r := range rules {
		ok, err := e.condition(ctx, r, act)
		if err != nil {
			if r.FailOpen {
				e.record(ctx, set, r, req, "error-ignored", err.Error())
				continue
			}
			d := &Denial{Rule: r.Name, Message: fmt.Sprintf("the rule failed, and fails closed: %v", err)}
			e.record(ctx, set, r, req, "deny", d.Message)
			return nil, d
		}
		if !ok {
			continue
		}
		if r.deny != nil {
			msg := e.message(ctx, r, act)
			if r.Mode == ModeWarn {
				e.record(ctx, set, r, req, "warn", msg)
				continue
			}
			e.record(ctx, set, r, req, "deny", msg)
			return nil, &Denial{Rule: r.Name, Message: msg}
		}
		fired = append(fired, r)
	}
	if len(fired) == 0 {
		return nil, nil
	}
	eff := &Effects{}
	for _, r := range fired {
		for _, a := range r.actions {
			if err := e.run(ctx, set, r, Pre, a, act, eff); err != nil {
				if r.FailOpen {
					continue
				}
				return nil, &Denial{Rule: r.Name, Message: fmt.Sprintf("action %s failed, and the rule fails closed: %v", a.name, err)}
			}
		}
	}
	return eff, nil
}

// After evaluates the post rules (opErr nil) or the except rules (opErr
// set, a denial included), then the finally rules. Failures are logged and
// audited: the operation has happened and cannot be undone.
func (e *Engine) After(ctx context.Context, req *Request, opErr error) {
	set := e.set.Load()
	first := Post
	if opErr != nil {
		first = Except
	}
	a, b := set.matching(first, req.Op), set.matching(Finally, req.Op)
	if len(a) == 0 && len(b) == 0 {
		return
	}
	if req.Now.IsZero() {
		req.Now = time.Now()
	}
	// The client may be gone; what it started is still followed through.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.timeout)
	defer cancel()
	f := newFacts(ctx, e.cat, req)
	if opErr != nil {
		f.err = opErr.Error()
	}
	act := activation{f: f}
	for _, phase := range []struct {
		when  When
		rules []*Rule
	}{{first, a}, {Finally, b}} {
		for _, r := range phase.rules {
			ok, err := e.condition(ctx, r, act)
			if err != nil {
				e.record(ctx, set, r, req, "error", err.Error())
				continue
			}
			if !ok {
				continue
			}
			for _, ac := range r.actions {
				if err := e.run(ctx, set, r, phase.when, ac, act, nil); err != nil && !r.FailOpen {
					break // the rule's later actions may depend on this one
				}
			}
		}
	}
}

func (e *Engine) condition(ctx context.Context, r *Rule, act activation) (bool, error) {
	if r.condition == nil {
		return true, nil
	}
	v, _, err := r.condition.ContextEval(ctx, act)
	if err != nil {
		return false, fmt.Errorf("condition: %w", err)
	}
	b, ok := v.(types.Bool)
	if !ok {
		return false, fmt.Errorf("condition gave %s, not a bool", v.Type().TypeName())
	}
	return bool(b), nil
}

// maxMessage bounds a deny message: users get one bounded line.
const maxMessage = 1024

// message evaluates the deny message of r, falling back to a fixed text
// when the expression fails or gives nothing usable.
func (e *Engine) message(ctx context.Context, r *Rule, act activation) string {
	v, _, err := r.deny.ContextEval(ctx, act)
	if err == nil {
		if s, ok := v.(types.String); ok {
			msg := strings.Join(strings.Fields(string(s)), " ")
			if len(msg) > maxMessage {
				msg = msg[:maxMessage] + "..."
			}
			if msg != "" {
				return msg
			}
		}
	}
	return "denied by rule " + r.Name
}

// run runs one action of r.
func (e *Engine) run(ctx context.Context, set *Set, r *Rule, when When, a *compiledAction, act activation, eff *Effects) error {
	req := act.f.req
	if a.name == ScheduleAction {
		err := e.schedule(ctx, set, r, a, act)
		e.recordAction(ctx, set, r, req, a.name, err)
		return err
	}
	args, err := evalArgs(ctx, a, act)
	if depth := actionDepth(ctx); err == nil && depth >= MaxActionDepth {
		err = fmt.Errorf("%w: actions of rules set off rules %d deep; a rule's action sets off a rule that acts again",
			ErrActionLoop, depth)
	}
	if err == nil {
		actx := WithActing(withActionDepth(ctx), Acting{Rule: r.Name, RuleSetVersion: set.Version, User: req.User.UserID()})
		err = a.action.Run(actx, &Call{Rule: r.Name, Phase: when, Request: req, Args: args, Effects: eff})
	}
	e.recordAction(ctx, set, r, req, a.name, err)
	return err
}

// MaxActionDepth is how deep actions may set off rules whose actions set off
// rules in turn: an action that replicates fires the replicate rules, whose
// actions may act again, but a rule that undoes another (or redoes itself)
// would go on forever.
const MaxActionDepth = 8

// ErrActionLoop is the failure of an action nested past MaxActionDepth.
var ErrActionLoop = errors.New("rule actions loop")

type actionDepthKey struct{}

// actionDepth is how many actions ctx runs inside.
func actionDepth(ctx context.Context) int {
	d, _ := ctx.Value(actionDepthKey{}).(int)
	return d
}

// withActionDepth is ctx one action deeper.
func withActionDepth(ctx context.Context) context.Context {
	return context.WithValue(ctx, actionDepthKey{}, actionDepth(ctx)+1)
}

func evalArgs(ctx context.Context, a *compiledAction, act activation) (map[string]any, error) {
	args := make(map[string]any, len(a.args))
	for _, arg := range a.args {
		v, _, err := arg.prg.ContextEval(ctx, act)
		if err != nil {
			return nil, fmt.Errorf("argument %s: %w", arg.name, err)
		}
		args[arg.name] = toNative(v)
	}
	return args, nil
}

func outcome(err error) string {
	if err != nil {
		return "failed"
	}
	return "done"
}

func errAttr(err error) slog.Attr {
	if err == nil {
		return slog.Attr{}
	}
	return slog.String("error", err.Error())
}

// record writes a decision to the audit log, and warnings and errors to
// the server log too.
func (e *Engine) record(ctx context.Context, set *Set, r *Rule, req *Request, outcome, msg string) {
	e.audit.LogAttrs(ctx, slog.LevelInfo, "decision",
		slog.String("rule", r.Name), slog.String("rules_version", set.Version), slog.String("rules_digest", set.Digest), slog.String("op", req.Op),
		slog.String("user", req.User.UserID().String()), slog.String("path", pathString(req.Path)),
		slog.String("outcome", outcome), slog.String("message", msg))
	switch outcome {
	case "warn":
		e.log.Warn("rule warns (warn-only mode)", "rule", r.Name, "op", req.Op, "path", pathString(req.Path), "message", msg)
	case "error", "error-ignored":
		e.log.Error("rule failed", "rule", r.Name, "op", req.Op, "path", pathString(req.Path), "err", msg, "fail_open", r.FailOpen)
	}
}

func (e *Engine) recordAction(ctx context.Context, set *Set, r *Rule, req *Request, action string, err error) {
	e.audit.LogAttrs(ctx, slog.LevelInfo, "action",
		slog.String("rule", r.Name), slog.String("rules_version", set.Version), slog.String("rules_digest", set.Digest), slog.String("op", req.Op),
		slog.String("user", req.User.UserID().String()), slog.String("path", pathString(req.Path)),
		slog.String("action", action), slog.String("outcome", outcome(err)), errAttr(err))
	// A rule at the job cap says so once a minute (capped), not once per
	// operation.
	if err != nil && !errors.Is(err, catalog.ErrQuotaExceeded) {
		e.log.Error("rule action failed", "rule", r.Name, "action", action, "op", req.Op, "path", pathString(req.Path), "err", err)
	}
}

// toNative turns a CEL value into a plain Go value for an action.
func toNative(v ref.Val) any {
	switch t := v.(type) {
	case types.String:
		return string(t)
	case types.Int:
		return int64(t)
	case types.Uint:
		return uint64(t)
	case types.Double:
		return float64(t)
	case types.Bool:
		return bool(t)
	case types.Timestamp:
		return t.Time
	case types.Duration:
		return t.Duration
	case types.Null:
		return nil
	case traits.Lister:
		var out []any
		for it := t.Iterator(); it.HasNext() == types.True; {
			out = append(out, toNative(it.Next()))
		}
		return out
	case traits.Mapper:
		out := map[string]any{}
		for it := t.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			out[fmt.Sprint(toNative(k))] = toNative(t.Get(k))
		}
		return out
	}
	return v.Value()
}

// Decision is what one pre rule would decide on an operation.
type Decision struct {
	Rule    string
	Outcome string // deny, warn, match (its actions would run), error
	Message string
	Actions []string
}

// Watches reports whether any rule of the set in use fires on op in the
// phase when: a caller can skip the work of preparing requests that no
// rule would look at.
func (e *Engine) Watches(when When, op string) bool {
	return len(e.set.Load().matching(when, op)) > 0
}

// DryRun evaluates the pre rules on req as Before would, but runs no
// action and does not stop at the first deny: it reports every rule that
// fires, in order. Nothing is audited.
func (e *Engine) DryRun(ctx context.Context, req *Request) (version string, out []Decision) {
	return e.Explain(ctx, req, Pre, nil)
}

// Explain is DryRun for any phase; opErr is how the operation ended, for
// the except and finally phases.
func (e *Engine) Explain(ctx context.Context, req *Request, when When, opErr error) (version string, out []Decision) {
	set := e.set.Load()
	if req.Now.IsZero() {
		req.Now = time.Now()
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	f := newFacts(ctx, e.cat, req)
	if opErr != nil {
		f.err = opErr.Error()
	}
	act := activation{f: f}
	for _, r := range set.matching(when, req.Op) {
		ok, err := e.condition(ctx, r, act)
		switch {
		case err != nil:
			msg := err.Error()
			if !r.FailOpen && when == Pre {
				msg += " (fails closed: the operation would be denied)"
			}
			out = append(out, Decision{Rule: r.Name, Outcome: "error", Message: msg})
		case !ok:
		case r.deny != nil && r.Mode == ModeWarn:
			out = append(out, Decision{Rule: r.Name, Outcome: "warn", Message: e.message(ctx, r, act)})
		case r.deny != nil:
			out = append(out, Decision{Rule: r.Name, Outcome: "deny", Message: e.message(ctx, r, act)})
		default:
			out = append(out, Decision{Rule: r.Name, Outcome: "match", Actions: r.Actions()})
		}
	}
	return set.Version, out
}
