package rules

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/google/cel-go/cel"

	"github.com/arca-data/arca/catalog"
)

// Arg describes one argument of an action. In a rule file every argument
// is a CEL expression; Type is what it must evaluate to (cel.DynType: any).
type Arg struct {
	Name     string
	Type     *cel.Type
	Required bool
	Doc      string
}

// Action is something a rule can do, registered by name. The zone
// registers its actions when it is built (metadata.set, acl.set, audit,
// ...); policy code registers more the same way.
type Action struct {
	Name string
	Doc  string
	Args []Arg
	// Phases are the phases the action may appear in; empty means any.
	// An action that changes the operation (resource.choose) is pre only.
	Phases []When
	// Async marks an action that moves data (replicate, trim, move): in a
	// post, except or finally rule it runs as a job, with the job's time
	// budget rather than the deadline of the operation's phase, unless the
	// rule says async: false.
	Async bool
	// Run does the action. It must be safe for concurrent use.
	Run func(ctx context.Context, c *Call) error
}

// Call is one run of an action: the rule that asked, the operation it
// fired on (for a scheduled job: the operation that scheduled it, as
// recorded), and the evaluated arguments as Go values (string, int64,
// uint64, float64, bool, time.Time, time.Duration, []any, map[string]any).
type Call struct {
	Rule    string
	Phase   When
	Request *Request
	Args    map[string]any
	// Effects is set in the pre phase: what the action changes about the
	// operation about to run.
	Effects *Effects
	// JobID is set when a scheduled job runs the action.
	JobID int64
}

// TargetPath is what an action acts on: its path argument, else the
// operation's object (the destination of rename and copy, as the source
// is gone or not the new object).
func (c *Call) TargetPath() (catalog.Path, error) {
	if s := c.String("path"); s != "" {
		return catalog.ParsePath(s)
	}
	if (c.Request.Op == "rename" || c.Request.Op == "copy") && !c.Request.Dest.IsZero() {
		return c.Request.Dest, nil
	}
	if c.Request.Path.IsZero() {
		return catalog.Path{}, fmt.Errorf("%w: operation %s acts on no path; give the action a path", catalog.ErrInvalidArgument, c.Request.Op)
	}
	return c.Request.Path, nil
}

// String returns the string argument name, or "".
func (c *Call) String(name string) string {
	s, _ := c.Args[name].(string)
	return s
}

// Effects are the changes pre-phase actions make to an operation.
type Effects struct {
	// Resource replaces the target resource of a put or copy.
	Resource string
}

// Registry holds the actions rules may use. It is built explicitly, with
// the zone: there is no global registry.
type Registry struct {
	mu      sync.RWMutex
	actions map[string]*Action
	ops     []string // the operations rules may name in "on", if known
}

// RegisterOperations makes names the operations that rules may fire on:
// an "on" entry that matches none of them is a load error, so that a
// mistyped deny rule is refused rather than never firing. Without it any
// name is taken.
func (r *Registry) RegisterOperations(names ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, names...)
	slices.Sort(r.ops)
	r.ops = slices.Compact(r.ops)
}

// Operations returns the operations registered, sorted.
func (r *Registry) Operations() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.ops)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{actions: map[string]*Action{}} }

// Register adds a. A name may be registered once.
func (r *Registry) Register(a Action) error {
	if a.Name == "" || a.Run == nil {
		return fmt.Errorf("rules: an action needs a name and a Run function")
	}
	if a.Name == ScheduleAction {
		return fmt.Errorf("rules: %q is built into the engine", a.Name)
	}
	for _, arg := range a.Args {
		if arg.Type == nil {
			return fmt.Errorf("rules: action %s: argument %s has no type", a.Name, arg.Name)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.actions[a.Name]; ok {
		return fmt.Errorf("rules: action %q is registered twice", a.Name)
	}
	r.actions[a.Name] = &a
	return nil
}

// Lookup returns the action registered as name.
func (r *Registry) Lookup(name string) (*Action, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.actions[name]
	return a, ok
}

// Names lists the registered actions, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var names []string
	for n := range r.actions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ScheduleAction is the engine's own action: run other actions later.
const ScheduleAction = "schedule"

// Scheduler stores scheduled work durably; the zone provides it over the
// catalog's job queue.
type Scheduler interface {
	Schedule(ctx context.Context, j ScheduledJob) error
}

// ScheduledJob is work a rule scheduled: actions with arguments already
// evaluated, to run at Due and then, with Every, again on that schedule.
type ScheduledJob struct {
	// Key identifies a periodic job, so that a rule firing on many
	// operations keeps one schedule, not one per operation.
	Key  string
	Rule string
	// Path is the object the job acts on (for rename and copy, the
	// destination): a rule has one pending job per path, and removing the
	// object cancels it.
	Path  string
	Due   time.Time
	Every string
	Work  JobWork
}

// JobWork is what a job does, kept in the catalog as JSON.
type JobWork struct {
	// Periodic names the periodic rule the job runs: its condition and
	// actions are evaluated when the job runs, with the rules then in use.
	Periodic string `json:"periodic,omitempty"`
	// The operation that scheduled the job, as rules saw it.
	Op        string           `json:"op"`
	Path      string           `json:"path,omitempty"`
	Dest      string           `json:"dest,omitempty"`
	Resource  string           `json:"resource,omitempty"`
	Size      int64            `json:"size,omitempty"`
	Group     string           `json:"group,omitempty"`
	AdminMode bool             `json:"admin_mode,omitempty"`
	User      string           `json:"user,omitempty"`
	UserType  catalog.UserType `json:"user_type,omitempty"`
	Zone      string           `json:"zone,omitempty"`
	// Depth is how deep in rule actions the job was scheduled: its
	// actions run one deeper, so that rules whose jobs set each other off
	// stop at MaxActionDepth as actions run at once do.
	Depth int `json:"depth,omitempty"`
	// Recheck makes the job evaluate its rule's condition again when it
	// runs, on the object as it is then, and do nothing if it no longer
	// holds.
	Recheck bool `json:"recheck,omitempty"`
	// RulesVersion is the version of the rule set that scheduled the job.
	RulesVersion string       `json:"rules_version,omitempty"`
	Actions      []StoredCall `json:"actions"`
}

// StoredCall is one action of a job with its evaluated arguments.
type StoredCall struct {
	Action string         `json:"action"`
	Args   map[string]any `json:"args,omitempty"`
}
