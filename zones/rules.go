package zones

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	req := &rules.Request{
		Op: string(op.Name), Path: op.Path, Dest: op.Dest, Resource: op.Resource, Size: op.Size,
		AVUs: op.AVUs, Group: op.Group.Name, Account: op.Account, Recursive: op.Recursive,
		AdminMode: op.AdminMode, User: op.Caller.User, Zone: z.name,
	}
	switch op.Name {
	case OpACLSet:
		req.Grantee = op.Group
	case OpMetadataModify:
		if len(op.AVUs) == 2 {
			req.AVUs, req.NewAVUs = op.AVUs[:1], op.AVUs[1:]
		}
	}
	if slices.Contains(operations[op.Name].facts, FactLevel) {
		req.Level = op.Level.String()
	}
	return req
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
//
// Rules read what an operation acts on (metadata, sizes, whether an object
// exists) and a deny message may show it, so a dry run evaluates them only
// on what the caller may see: op keeps only the arguments its operation
// takes (a path given to query, user.info or job.list is dropped); the
// paths it keeps must be readable by the caller, or, for what the
// operation makes (the path of put and mkdir, the destination of copy and
// rename), not there in a collection it may read; then the caller must be
// allowed the operation itself. Whatever of that fails, the caller hears
// the same, whether the path is there or not. Metadata operations act on
// the data object or collection at the path (or the resource named), with
// the AVUs given. What the zone does at a login (user.provision, ...) only
// administrators may dry-run.
func (z *Zone) DryRun(ctx context.Context, caller Principal, op Op) (string, []rules.Decision, error) {
	var (
		version string
		out     []rules.Decision
	)
	err := z.do(ctx, &Op{Name: "rules.dryrun", Caller: caller}, func(ctx context.Context) error {
		if z.rules == nil {
			return errNoRules
		}
		info, ok := operations[op.Name]
		if !ok {
			return fmt.Errorf("%w: dry run of %q: no such operation", catalog.ErrInvalidArgument, op.Name)
		}
		if info.byZone && !isAdmin(caller.User, z.name) {
			return fmt.Errorf("dry run of %s: %w: the zone does it at a login; administrators only", op.Name, catalog.ErrPermission)
		}
		if op.Size < SizeUnknown {
			return fmt.Errorf("%w: dry run of %s: size %d: a size is at least 0, or %d when unknown", catalog.ErrInvalidArgument, op.Name, op.Size, SizeUnknown)
		}
		// The caller's own access, not a ticket's: authorizing by a ticket
		// would spend one of its uses.
		caller.Ticket = ""
		op = dryRunOp(op, info.facts)
		op.Caller = caller
		if err := z.visibleForDryRun(ctx, &op); err != nil {
			return err
		}
		if isMetadataOp(op.Name) {
			t := catalog.ResourceTarget(op.Resource)
			if !op.Path.IsZero() {
				t = catalog.ObjectTarget(op.Path)
				if e, err := z.cat.Stat(ctx, op.Path); err == nil && e.Collection != nil {
					t = catalog.CollectionTarget(op.Path)
				}
			}
			op = *metadataOp(op.Name, caller, t, op.AVUs...)
		}
		// Only who may attempt the operation may ask. Whether a path is
		// not there or not the caller's, it hears the same.
		if err := z.authorize(ctx, &op); err != nil {
			if (!op.Path.IsZero() || !op.Dest.IsZero()) && (errors.Is(err, catalog.ErrPermission) || errors.Is(err, catalog.ErrNotFound)) {
				return errNotForDryRun(&op)
			}
			return fmt.Errorf("dry run of %s: %w", op.Name, err)
		}
		version, out = z.rules.DryRun(ctx, z.ruleRequest(&op))
		return nil
	})
	return version, out, err
}

// dryRunOp is op with only the arguments its operation takes (facts, from
// the table), as the operation itself would give them to rules.
func dryRunOp(op Op, facts []string) Op {
	has := func(f string) bool { return slices.Contains(facts, f) }
	out := Op{Name: op.Name, AdminMode: op.AdminMode && (op.Name == OpACLSet || op.Name == OpACLInherit)}
	if has(FactPath) {
		out.Path = op.Path
	}
	if has(FactDest) {
		out.Dest = op.Dest
	}
	if has(FactResource) {
		out.Resource = op.Resource
	}
	if has(FactSize) {
		out.Size = op.Size
	}
	if has(FactAVUs) {
		out.AVUs = op.AVUs
	}
	if has(FactGroup) {
		out.Group = op.Group
	}
	if has(FactAccount) {
		out.Account = op.Account
	}
	if has(FactOwner) {
		out.Owner = op.Owner
	}
	if has(FactLevel) {
		out.Level = op.Level
	}
	if has(FactRecurse) {
		out.Recursive = op.Recursive
	}
	return out
}

func isMetadataOp(name OpName) bool {
	return name == OpMetadataAdd || name == OpMetadataSet || name == OpMetadataRemove || name == OpMetadataModify || name == OpMetadataList
}

// visibleForDryRun checks that the caller may see what rules would read
// at op's paths: an entry it may read, or, where the operation makes it,
// nothing, in a collection it may read. Every other path gets the same
// answer, there or not.
func (z *Zone) visibleForDryRun(ctx context.Context, op *Op) error {
	if isAdmin(op.Caller.User, z.name) {
		return nil
	}
	groups, err := z.groupsOf(ctx, op.Caller.User)
	if err != nil {
		return err
	}
	for _, p := range []catalog.Path{op.Path, op.Dest} {
		if p.IsZero() {
			continue
		}
		makes := p == op.Dest || op.Name == OpPut || op.Name == OpMkdir
		e, err := z.cat.Stat(ctx, p)
		switch {
		case err == nil:
			if canRead(op.Caller.User, groups, z.name, aclOf(e)) {
				continue
			}
		case errors.Is(err, catalog.ErrNotFound) && makes:
			// Not there: rules would say so only to who may read the
			// collection it would be in.
			pe, err := z.cat.Stat(ctx, p.Parent())
			if err == nil && pe.Collection != nil && canRead(op.Caller.User, groups, z.name, pe.Collection.ACL) {
				continue
			}
			if err != nil && !errors.Is(err, catalog.ErrNotFound) {
				return err
			}
		case errors.Is(err, catalog.ErrNotFound):
		default:
			return err
		}
		return errNotForDryRun(op)
	}
	return nil
}

// errNotForDryRun is the one answer to a dry run of op on what is not
// there or not the caller's to see or act on.
func errNotForDryRun(op *Op) error {
	where := op.Path
	if where.IsZero() {
		where = op.Dest
	}
	return fmt.Errorf("dry run of %s %s: %w: it is not there, or not yours to see or %s", op.Name, where, catalog.ErrPermission, op.Name)
}

// hiddenDenial is what the caller hears of err, the refusal of an
// operation on an object below coll that it may not read: the rule, not
// the object nor the rule's message.
func hiddenDenial(err error, coll catalog.Path) error {
	var d *rules.Denial
	if errors.As(err, &d) {
		return &rules.Denial{Rule: d.Rule, Message: "on an object inside " + coll.String() + " that you cannot read"}
	}
	return fmt.Errorf("an object inside %s that you cannot read: %w", coll, rules.ErrDenied)
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

// checkRulesInside runs the pre rules of op, an operation on the
// collection coll that acts on what is inside it (remove, rename, a
// recursive ichmod, irepl, itrim, iphymv, irmtrash), on every data object
// below it that the operation will touch (touches; nil: every one), as if
// each were the operation's target: a rule that guards objects (a
// retention lock) is not passed by acting on their collection, as iRODS
// fires its policy for each object too. The first refusal refuses the
// whole operation, before anything has changed.
//
// A refusal that concerns an object the caller may not read does not name
// it, nor show what the rule's message says of it: the caller hears which
// rule refused, on an object it cannot read; the audit keeps the whole
// decision.
func (z *Zone) checkRulesInside(ctx context.Context, op *Op, coll catalog.Path, touches func(catalog.Path, []catalog.ACE) bool) error {
	if z.rules == nil || !z.rules.Watches(rules.Pre, string(op.Name)) {
		return nil
	}
	if touches == nil {
		touches = func(catalog.Path, []catalog.ACE) bool { return true }
	}
	readable, err := z.readable(ctx, op)
	if err != nil {
		return err
	}
	return z.listCollection(ctx, touches, coll, true, func(page []catalog.Entry) error {
		for _, e := range page {
			if e.Object == nil {
				continue
			}
			sub := *op
			sub.Path = e.Object.Path
			if !op.Dest.IsZero() {
				sub.Dest = e.Object.Path.Rebase(coll, op.Dest)
			}
			_, err := z.rules.Before(ctx, z.ruleRequest(&sub))
			switch {
			case err == nil:
			case readable(e.Object.Path, e.Object.ACL):
				return fmt.Errorf("%s, inside %s: %w", e.Object.Path, coll, err)
			default:
				return hiddenDenial(err, coll)
			}
		}
		return nil
	})
}

// accessFilter is what caller has at least level on (everything for an
// administrator), for checkRulesInside.
func (z *Zone) accessFilter(ctx context.Context, caller Principal, level catalog.AccessLevel) (func(catalog.Path, []catalog.ACE) bool, error) {
	if isAdmin(caller.User, z.name) {
		return nil, nil
	}
	groups, err := z.groupsOf(ctx, caller.User)
	if err != nil {
		return nil, err
	}
	return func(_ catalog.Path, acl []catalog.ACE) bool { return accessOf(caller.User, groups, acl) >= level }, nil
}

// checkRulesBelow runs checkRulesInside when p is a collection and the
// operation reaches below it, for the objects caller has level on.
func (z *Zone) checkRulesBelow(ctx context.Context, op *Op, p catalog.Path, recursive bool, level catalog.AccessLevel) error {
	if !recursive || z.rules == nil || !z.rules.Watches(rules.Pre, string(op.Name)) {
		return nil
	}
	e, err := z.cat.Stat(ctx, p)
	if err != nil || e.Collection == nil {
		return nil // the operation itself says what is wrong with p
	}
	touches, err := z.accessFilter(ctx, op.Caller, level)
	if err != nil {
		return err
	}
	return z.checkRulesInside(ctx, op, p, touches)
}
