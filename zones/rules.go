package zones

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/rules"
)

// ruleHook makes a rule engine fire around every operation: pre rules in
// Before (after authorization, before anything is stored), post, except
// and finally rules in After.
type ruleHook struct {
	z *Zone
	e *rules.Engine
}

// UseRules makes the rules of e fire on every operation of z, and makes z
// run the jobs they schedule (see RunJobs).
func (z *Zone) UseRules(e *rules.Engine) {
	e.SetScheduler(jobScheduler{z: z})
	z.rules = e
	z.AddHook(ruleHook{z: z, e: e})
	e.OnLoad(func(set *rules.Set) {
		z.rulesLoaded(set)
		z.schedulePeriodic(set)
	})
	z.rulesLoaded(e.Current())
	z.schedulePeriodic(e.Current())
}

// schedulePeriodic makes sure every periodic rule of set has its job in
// the queue: one per rule and schedule, whichever server adds it first.
// Jobs of rules that are gone are cancelled (rulesLoaded), or remove
// themselves when they come due.
func (z *Zone) schedulePeriodic(set *rules.Set) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, r := range set.Periodic() {
		work, err := json.Marshal(rules.PeriodicWork(r, z.name, DefaultAdmin))
		if err != nil {
			continue
		}
		next, err := nextRun(catalog.Job{Every: r.Schedule}, time.Now())
		if err != nil {
			z.log.Error("periodic rule", "rule", r.Name, "err", err)
			continue
		}
		_, err = z.cat.AddJob(ctx, catalog.Job{
			Key: "every:" + r.Name + ":" + r.Schedule, Rule: r.Name, Every: r.Schedule, Due: next, Work: work,
			Owner: catalog.UserID{Name: DefaultAdmin, Zone: z.name},
		})
		if err != nil && !errors.Is(err, catalog.ErrExists) {
			z.log.Error("schedule periodic rule", "rule", r.Name, "err", err)
		}
	}
}

// Rules is the zone's rule engine, nil when it has none.
func (z *Zone) Rules() *rules.Engine { return z.rules }

func (z *Zone) ruleRequest(op *Op) *rules.Request {
	return &rules.Request{
		Op: string(op.Name), Path: op.Path, Dest: op.Dest, Resource: op.Resource, Size: op.Size,
		AVUs: op.AVUs, Group: op.Group.Name, AdminMode: op.AdminMode, User: op.Caller.User, Zone: z.name,
	}
}

func (h ruleHook) Before(ctx context.Context, op *Op) error {
	req := h.z.ruleRequest(op)
	eff, err := h.e.Before(ctx, req)
	if err != nil {
		// The operation will not run: its except and finally rules see
		// the denial now, as the dispatcher does not call After of the
		// hook that refused.
		h.e.After(ctx, req, err)
		return err
	}
	if eff != nil && eff.Resource != "" && (op.Name == "put" || op.Name == "copy") {
		op.Resource = eff.Resource
	}
	return nil
}

func (h ruleHook) After(ctx context.Context, op *Op, err error) {
	if err == nil && !op.Path.IsZero() {
		// Pending jobs of what is gone go with it; the rules of this very
		// operation, below, may schedule anew.
		switch op.Name {
		case OpRemove:
			h.z.cancelJobsOn(ctx, op.Path, "removed")
		case OpRename:
			h.z.cancelJobsOn(ctx, op.Path, "renamed to "+op.Dest.String())
		}
	}
	h.e.After(ctx, h.z.ruleRequest(op), err)
}

// errNoRules is the answer of rule operations on a zone without an engine.
var errNoRules = fmt.Errorf("%w: this zone runs no rule engine", resources.ErrUnavailable)

// ListRules returns the rule set in use.
func (z *Zone) ListRules(ctx context.Context, caller Principal) (*rules.Set, error) {
	var set *rules.Set
	err := z.do(ctx, &Op{Name: "rules.list", Caller: caller}, func(ctx context.Context) error {
		if z.rules == nil {
			return errNoRules
		}
		set = z.rules.Current()
		return nil
	})
	return set, err
}

// CheckRules compiles rule files with the zone's environment and actions,
// without loading them.
func (z *Zone) CheckRules(ctx context.Context, caller Principal, files map[string][]byte) (*rules.Set, error) {
	var set *rules.Set
	err := z.do(ctx, &Op{Name: "rules.check", Caller: caller}, func(ctx context.Context) error {
		if z.rules == nil {
			return errNoRules
		}
		var err error
		set, err = z.rules.Compile(files)
		return err
	})
	return set, err
}

// DryRun reports what the pre rules would decide on op, run by caller.
func (z *Zone) DryRun(ctx context.Context, caller Principal, op Op) (string, []rules.Decision, error) {
	var (
		version string
		out     []rules.Decision
	)
	err := z.do(ctx, &Op{Name: "rules.dryrun", Caller: caller}, func(ctx context.Context) error {
		if z.rules == nil {
			return errNoRules
		}
		op.Caller = caller
		// The caller's own access, not a ticket's: authorizing by a ticket
		// would spend one of its uses.
		op.Caller.Ticket = ""
		// What rules say of an operation shows what they read (metadata,
		// sizes, whether an object exists): only who may attempt the
		// operation may ask.
		if err := z.authorize(ctx, &op); err != nil {
			return fmt.Errorf("dry run of %s: %w", op.Name, err)
		}
		version, out = z.rules.DryRun(ctx, z.ruleRequest(&op))
		return nil
	})
	return version, out, err
}

// ListJobs returns the scheduled jobs the caller may see: its own, or
// every job for an administrator.
func (z *Zone) ListJobs(ctx context.Context, caller Principal) ([]catalog.Job, error) {
	var out []catalog.Job
	err := z.do(ctx, &Op{Name: "job.list", Caller: caller}, func(ctx context.Context) error {
		admin := isAdmin(caller.User, z.name)
		for after := catalog.ID(0); ; {
			page, err := z.cat.ListJobs(ctx, after, listPage)
			if err != nil {
				return err
			}
			for _, j := range page {
				if admin || j.Owner == caller.UserID() {
					out = append(out, j)
				}
			}
			if len(page) < listPage {
				return nil
			}
			after = page[len(page)-1].ID
		}
	})
	return out, err
}

// RemoveJob deletes a job of the caller's, or any job for an administrator.
func (z *Zone) RemoveJob(ctx context.Context, caller Principal, id catalog.ID) error {
	return z.do(ctx, &Op{Name: "job.remove", Caller: caller}, func(ctx context.Context) error {
		j, err := z.cat.Job(ctx, id)
		if err != nil {
			return err
		}
		if !isAdmin(caller.User, z.name) && j.Owner != caller.UserID() {
			// Someone else's job is not shown to the caller either.
			return fmt.Errorf("job %d: %w", id, catalog.ErrNotFound)
		}
		if err := z.cat.RemoveJob(ctx, id); err != nil {
			return err
		}
		// Policy work that will not run: the steward should be able to
		// tell who cancelled it.
		z.log.Info("job removed", "job", int64(id), "rule", j.Rule, "owner", j.Owner.String(), "by", caller.UserID().String())
		return nil
	})
}

// checkRulesInside runs the pre rules of op, a remove or rename of the
// collection coll, on every data object below it, as if each were the
// operation's target: a rule that guards objects (a retention lock) is not
// passed by removing or moving their collection, as iRODS fires its
// policy for each object too. The first refusal refuses the whole
// operation, before anything has changed.
func (z *Zone) checkRulesInside(ctx context.Context, op *Op, coll catalog.Path) error {
	if z.rules == nil || !z.rules.Watches(rules.Pre, string(op.Name)) {
		return nil
	}
	all := func(catalog.Path, []catalog.ACE) bool { return true }
	return z.listCollection(ctx, all, coll, true, func(page []catalog.Entry) error {
		for _, e := range page {
			if e.Object == nil {
				continue
			}
			sub := *op
			sub.Path = e.Object.Path
			if !op.Dest.IsZero() {
				sub.Dest = e.Object.Path.Rebase(coll, op.Dest)
			}
			if _, err := z.rules.Before(ctx, z.ruleRequest(&sub)); err != nil {
				return fmt.Errorf("%s, inside %s: %w", e.Object.Path, coll, err)
			}
		}
		return nil
	})
}
