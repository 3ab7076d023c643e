// Package policies holds the actions that rules call, declared as data
// (name, arguments, phases) and run against a small interface that the
// zone satisfies. The policy packages below it (lifecycle, qos, dmp,
// provenance, pid, certificates) add their own actions and rule sets the
// same way.
package policies

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/cel-go/cel"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/policies/lifecycle"
	"github.com/arca-data/arca/rules"
	"github.com/arca-data/arca/zones"
)

// Zone is what the shipped actions ask of the zone. Actions act as the
// zone, not as the user: a rule is the administrators' policy, and the
// operation that fired it has passed authorization already.
type Zone interface {
	// Name is the zone's name, for user names without #zone.
	Name() string
	// RuleActor is who actions that are zone operations act as.
	RuleActor(ctx context.Context) (zones.Principal, error)
	SetMetadataByRule(ctx context.Context, p catalog.Path, avu catalog.AVU) error
	RemoveMetadataByRule(ctx context.Context, p catalog.Path, pattern catalog.AVU) error
	SetAccessByRule(ctx context.Context, p catalog.Path, who catalog.UserID, level catalog.AccessLevel) error
	ResourceExists(ctx context.Context, name string) error
	Stat(ctx context.Context, caller zones.Principal, p catalog.Path) (catalog.Entry, error)
	Replicate(ctx context.Context, caller zones.Principal, req zones.ReplicateRequest, report func(zones.ReplicaChange) error) error
	Trim(ctx context.Context, caller zones.Principal, req zones.TrimRequest, report func(zones.ReplicaChange) error) error
	PhysMove(ctx context.Context, caller zones.Principal, req zones.PhysMoveRequest, report func(zones.ReplicaChange) error) error
	SetRetention(ctx context.Context, caller zones.Principal, req zones.RetentionRequest, report func(catalog.ObjectLock) error) error
	Remove(ctx context.Context, caller zones.Principal, p catalog.Path, recursive, force bool) (zones.RemoveResult, error)
}

// Options are what the shipped actions need beside the zone.
type Options struct {
	// Audit is the audit log the audit action, notices and disposals
	// write to.
	Audit *slog.Logger
	// NotifyURL is the webhook that the lifecycle policy's notices are
	// POSTed to; "" sends none.
	NotifyURL string
}

// Register adds the shipped actions, run against z, and the names of the
// zone's operations to reg. audit is the audit log the audit action writes
// to. z may be nil where the actions are only compiled and checked, never
// run (arca rules check and test).
func Register(reg *rules.Registry, z Zone, audit *slog.Logger) error {
	return RegisterWith(reg, z, Options{Audit: audit})
}

// RegisterWith is Register with every option.
func RegisterWith(reg *rules.Registry, z Zone, o Options) error {
	for _, a := range Actions(z, o) {
		if err := reg.Register(a); err != nil {
			return err
		}
	}
	reg.RegisterOperations(zones.OperationNames()...)
	return nil
}

// Actions are the shipped actions as data.
func Actions(z Zone, o Options) []rules.Action {
	audit := o.Audit
	if audit == nil {
		audit = slog.New(slog.DiscardHandler)
	}
	pathArg := rules.Arg{Name: "path", Type: cel.StringType, Doc: "what to act on; default: the operation's object (for rename and copy: the destination)"}
	actions := []rules.Action{
		{
			Name: "metadata.set",
			Doc:  "set an AVU on the object or collection, replacing the attribute's values (imeta set)",
			Args: []rules.Arg{
				{Name: "attribute", Type: cel.StringType, Required: true},
				{Name: "value", Type: cel.StringType, Required: true},
				{Name: "unit", Type: cel.StringType},
				pathArg,
			},
			Run: func(ctx context.Context, c *rules.Call) error { return metadataSet(ctx, z, c) },
		},
		{
			Name: "metadata.remove",
			Doc:  "remove the AVUs of an attribute, or only the one with value",
			Args: []rules.Arg{
				{Name: "attribute", Type: cel.StringType, Required: true},
				{Name: "value", Type: cel.StringType},
				pathArg,
			},
			Run: func(ctx context.Context, c *rules.Call) error { return metadataRemove(ctx, z, c) },
		},
		{
			Name: "acl.set",
			Doc:  "grant a user or group an access level (null, read, write, own) on the object or collection",
			Args: []rules.Arg{
				{Name: "user", Type: cel.StringType, Required: true, Doc: "name, or name#zone"},
				{Name: "level", Type: cel.StringType, Required: true},
				pathArg,
			},
			Run: func(ctx context.Context, c *rules.Call) error { return aclSet(ctx, z, c) },
		},
		{
			Name:   "resource.choose",
			Doc:    "store a put or copy on this resource instead of the one asked for",
			Args:   []rules.Arg{{Name: "name", Type: cel.StringType, Required: true}},
			Phases: []rules.When{rules.Pre},
			Run:    func(ctx context.Context, c *rules.Call) error { return resourceChoose(ctx, z, c) },
		},
		{
			Name: "audit",
			Doc:  "write a record to the audit log",
			Args: []rules.Arg{{Name: "message", Type: cel.StringType, Required: true}},
			Run: func(ctx context.Context, c *rules.Call) error {
				audit.LogAttrs(ctx, slog.LevelInfo, "rule audit", slog.String("rule", c.Rule), slog.String("op", c.Request.Op),
					slog.String("user", c.Request.User.UserID().String()), slog.String("path", actionPathString(c)),
					slog.String("message", c.String("message")))
				return nil
			},
		},
		{
			Name:  "replicate",
			Async: true,
			Doc:   "copy the object (or every object below a collection) to a resource (irepl); in a post rule it runs as a job unless the rule says async: false",
			Args:  []rules.Arg{{Name: "resource", Type: cel.StringType, Required: true}, pathArg},
			Run: func(ctx context.Context, c *rules.Call) error {
				p, err := actionPath(c)
				if err != nil {
					return err
				}
				actor, err := z.RuleActor(ctx)
				if err != nil {
					return err
				}
				return z.Replicate(ctx, actor, zones.ReplicateRequest{Path: p, Dest: c.String("resource"), Recursive: true}, failedChange)
			},
		},
		{
			Name:  "trim",
			Async: true,
			Doc:   "remove replicas down to keep (default 2), only below resource if given (itrim); the last good replica always stays",
			Args:  []rules.Arg{{Name: "keep", Type: cel.IntType}, {Name: "resource", Type: cel.StringType}, pathArg},
			Run: func(ctx context.Context, c *rules.Call) error {
				p, err := actionPath(c)
				if err != nil {
					return err
				}
				keep, _ := c.Args["keep"].(int64)
				if f, ok := c.Args["keep"].(float64); ok { // from a job's JSON
					keep = int64(f)
				}
				actor, err := z.RuleActor(ctx)
				if err != nil {
					return err
				}
				return z.Trim(ctx, actor, zones.TrimRequest{Path: p, Keep: int(keep), Resource: c.String("resource"), Recursive: true}, failedChange)
			},
		},
		{
			Name:  "move",
			Async: true,
			Doc:   "move a replica to another resource (iphymv): from (default: the best good replica) to resource",
			Args:  []rules.Arg{{Name: "resource", Type: cel.StringType, Required: true}, {Name: "from", Type: cel.StringType}, pathArg},
			Run: func(ctx context.Context, c *rules.Call) error {
				p, err := actionPath(c)
				if err != nil {
					return err
				}
				actor, err := z.RuleActor(ctx)
				if err != nil {
					return err
				}
				return z.PhysMove(ctx, actor, zones.PhysMoveRequest{Path: p, Source: c.String("from"), Dest: c.String("resource"), Recursive: true}, failedChange)
			},
		},
	}
	var lz lifecycle.Zone
	zone := ""
	if z != nil {
		lz, zone = z, z.Name()
	}
	actions = append(actions, lifecycle.Actions(lz, lifecycle.Options{Audit: audit, Webhook: o.NotifyURL, Zone: zone})...)
	actions = append(actions, provenanceActions(z)...)
	actions = append(actions, qosActions(z)...)
	actions = append(actions, certificateActions(z)...)
	return actions
}

// actionPath is what an action acts on (rules.Call.TargetPath).
func actionPath(c *rules.Call) (catalog.Path, error) { return c.TargetPath() }

func actionPathString(c *rules.Call) string {
	p, err := actionPath(c)
	if err != nil {
		return ""
	}
	return p.String()
}

func metadataSet(ctx context.Context, z Zone, c *rules.Call) error {
	p, err := actionPath(c)
	if err != nil {
		return err
	}
	avu := catalog.AVU{Attribute: c.String("attribute"), Value: c.String("value"), Unit: c.String("unit")}
	if err := avu.Validate(); err != nil {
		return err
	}
	return z.SetMetadataByRule(ctx, p, avu)
}

func metadataRemove(ctx context.Context, z Zone, c *rules.Call) error {
	p, err := actionPath(c)
	if err != nil {
		return err
	}
	attr := c.String("attribute")
	pattern := catalog.AVU{Attribute: escapeLike(attr), Value: "%", Unit: "%"}
	if v := c.String("value"); v != "" {
		pattern.Value = escapeLike(v)
	}
	err = z.RemoveMetadataByRule(ctx, p, pattern)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil // nothing to remove is what the rule wants
	}
	return err
}

// escapeLike makes s match itself as a LIKE pattern.
func escapeLike(s string) string {
	var out []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '%', '_', '\\':
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func aclSet(ctx context.Context, z Zone, c *rules.Call) error {
	p, err := actionPath(c)
	if err != nil {
		return err
	}
	who, err := catalog.ParseUserID(c.String("user"), z.Name())
	if err != nil {
		return err
	}
	level, err := catalog.ParseAccessLevel(c.String("level"))
	if err != nil {
		return err
	}
	return z.SetAccessByRule(ctx, p, who, level)
}

func resourceChoose(ctx context.Context, z Zone, c *rules.Call) error {
	name := c.String("name")
	if err := z.ResourceExists(ctx, name); err != nil {
		return fmt.Errorf("resource.choose %q: %w", name, err)
	}
	c.Effects.Resource = name
	return nil
}

// failedChange turns the first failed change of a replica operation into
// the action's error, so that a job retries it.
func failedChange(ch zones.ReplicaChange) error {
	if ch.Action == "failed" && ch.Err != nil {
		return fmt.Errorf("%s: %w", ch.Path, ch.Err)
	}
	return nil
}
