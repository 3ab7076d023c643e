package rules

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/google/cel-go/cel"
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
	Key   string
	Rule  string
	Due   time.Time
	Every string
	Work  JobWork
}

// JobWork is what a job does, kept in the catalog as JSON.
type JobWork struct {
	// Periodic names the periodic rule the job runs: its condition and
	// actions are evaluated when the job runs, with the rules then in use.
	Periodic string       `json:"periodic,omitempty"`
	Op       string       `json:"op"`
	Path     string       `json:"path,omitempty"`
	Dest     string       `json:"dest,omitempty"` // of the rename or copy: where the object is now
	User     string       `json:"user,omitempty"`
	Zone     string       `json:"zone,omitempty"`
	Actions  []StoredCall `json:"actions"`
}

// StoredCall is one action of a job with its evaluated arguments.
type StoredCall struct {
	Action string         `json:"action"`
	Args   map[string]any `json:"args,omitempty"`
}
