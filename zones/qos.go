package zones

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources/compose"
	"github.com/arca-data/arca/rules"
)

// Quality of service (issue 17), after Onedata: storage resources carry
// attributes (catalog.Resource.QoS), and a requirement on a collection or
// data object (catalog.QoSRequirement) asks for a number of good replicas
// on resources whose attributes an expression matches. The requirement is
// catalog state; the zone reports its status and converges it: a job on
// the zone's durable job runner (exactly one server runs it) makes the
// missing replicas, on the next periodic scan or at once when a
// requirement is added or a resource changes. itrim refuses to break a
// requirement; removing one removes no replica.
//
// The expression language lives in policies/qos, which the zone may not
// import: the server gives the zone its parser (Options.QoS).

// QoS statuses, with Onedata's names.
const (
	QoSFulfilled  = "fulfilled"
	QoSPending    = "pending"
	QoSImpossible = "impossible"
)

// QoSJobRule is the rule name of the zone's own QoS convergence jobs in the
// job queue; the runner runs them itself, not through the rule engine.
const QoSJobRule = "arca.qos"

// DefaultQoSEvery is how often the periodic QoS scan runs, unless
// JobOptions.QoSEvery says otherwise: the bound on how long a broken
// requirement stays broken when nothing announces the change.
const DefaultQoSEvery = "@every 1m"

// ErrQoSRequired is what a refusal by a QoS requirement wraps (itrim of a
// replica a requirement needs). It is a policy's refusal, as a lock's.
var ErrQoSRequired = fmt.Errorf("%w: a qos requirement needs it", catalog.ErrRetained)

// QoSExpr is a parsed QoS expression.
type QoSExpr interface {
	// Match reports whether a resource with attrs is in the expression's set.
	Match(attrs map[string]string) bool
	// String is the canonical form, which the catalog stores.
	String() string
}

// QoSParser parses QoS expressions; a syntax error wraps
// catalog.ErrInvalidArgument and names the position.
type QoSParser func(expr string) (QoSExpr, error)

// QoSStatus is a requirement with what the zone makes of it now.
type QoSStatus struct {
	catalog.QoSRequirement
	// Status is QoSFulfilled, QoSPending or QoSImpossible; Reason says why
	// a requirement is not fulfilled.
	Status string
	Reason string
	// Matching are the storage resources, up, that the expression matches.
	Matching []string
	// Objects is how many data objects the requirement covers, Fulfilled
	// how many of them have the replicas it asks for.
	Objects, Fulfilled int
}

func (z *Zone) parseQoS(expr string) (QoSExpr, error) {
	if z.qos == nil {
		return nil, fmt.Errorf("%w: this zone has no qos expression parser", catalog.ErrInvalidArgument)
	}
	e, err := z.qos(expr)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// AddQoS is iqos add: it puts a requirement on the collection or data
// object p, reports its status as it is now, and schedules its
// convergence.
func (z *Zone) AddQoS(ctx context.Context, caller Principal, p catalog.Path, expr string, replicas int) (QoSStatus, error) {
	var out QoSStatus
	err := z.do(ctx, &Op{Name: OpQoSAdd, Caller: caller, Path: p}, func(ctx context.Context) error {
		if replicas < 1 || replicas > catalog.MaxQoSReplicas {
			return fmt.Errorf("%w: replicas %d: want 1 to %d", catalog.ErrInvalidArgument, replicas, catalog.MaxQoSReplicas)
		}
		e, err := z.parseQoS(expr)
		if err != nil {
			return err
		}
		r, err := z.cat.AddQoSRequirement(ctx, catalog.QoSRequirement{Path: p, Expr: e.String(), Replicas: replicas, Creator: caller.UserID()})
		if err != nil {
			return err
		}
		t, err := z.loadTree(ctx)
		if err != nil {
			return err
		}
		if out, err = z.qosStatus(ctx, t, r); err != nil {
			return err
		}
		z.scheduleQoS(ctx, p, caller.UserID())
		z.scheduleQoSScan(ctx)
		return nil
	})
	return out, err
}

// RemoveQoS is iqos rm: it removes the requirement on p that has the ID id
// or, with id 0, the expression expr. No replica is removed.
func (z *Zone) RemoveQoS(ctx context.Context, caller Principal, p catalog.Path, id catalog.ID, expr string) (catalog.QoSRequirement, error) {
	var out catalog.QoSRequirement
	err := z.do(ctx, &Op{Name: OpQoSRemove, Caller: caller, Path: p}, func(ctx context.Context) error {
		if id == 0 {
			if expr == "" {
				return fmt.Errorf("%w: name the requirement by its id or its expression", catalog.ErrInvalidArgument)
			}
			e, err := z.parseQoS(expr)
			if err != nil {
				return err
			}
			expr = e.String()
		}
		rs, err := z.cat.QoSRequirementsBelow(ctx, p)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Path == p && (r.ID == id || id == 0 && r.Expr == expr) {
				out, err = z.cat.RemoveQoSRequirement(ctx, r.ID)
				return err
			}
		}
		if id != 0 {
			return fmt.Errorf("%w: no qos requirement %d on %s", catalog.ErrNotFound, id, p)
		}
		return fmt.Errorf("%w: no qos requirement %q on %s", catalog.ErrNotFound, expr, p)
	})
	return out, err
}

// ListQoS is iqos ls: the requirements that apply to p (those on it and
// on the collections above it) or, recursive, those on p and below it,
// each with its status.
func (z *Zone) ListQoS(ctx context.Context, caller Principal, p catalog.Path, recursive bool) ([]QoSStatus, error) {
	var out []QoSStatus
	err := z.do(ctx, &Op{Name: OpQoSList, Caller: caller, Path: p, Recursive: recursive}, func(ctx context.Context) error {
		if _, err := z.cat.Stat(ctx, p); err != nil {
			return err
		}
		var err error
		out, err = z.qosStatuses(ctx, p, recursive)
		return err
	})
	return out, err
}

// qosStatuses are the requirements that apply to p (recursive: those on
// p and below it), each with its status, judged on what lies at p.
func (z *Zone) qosStatuses(ctx context.Context, p catalog.Path, recursive bool) ([]QoSStatus, error) {
	var (
		rs  []catalog.QoSRequirement
		err error
	)
	if recursive {
		rs, err = z.cat.QoSRequirementsBelow(ctx, p)
	} else {
		rs, err = z.cat.QoSRequirementsOn(ctx, p)
	}
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	t, err := z.loadTree(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]QoSStatus, 0, len(rs))
	for _, r := range rs {
		st, err := z.qosStatusAt(ctx, t, r, p)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// qosMatching returns the storage resources that are up and whose
// attributes e matches, in name order, and how many more match but are
// down.
func qosMatching(t *compose.Tree, e QoSExpr) (up []*compose.Node, down int) {
	for _, n := range t.Nodes() {
		if !n.Storage() {
			continue
		}
		attrs, err := catalog.ParseQoSAttributes(n.Rec.QoS)
		if err != nil || !e.Match(attrs) {
			continue
		}
		if n.Up() {
			up = append(up, n)
		} else {
			down++
		}
	}
	slices.SortFunc(up, func(a, b *compose.Node) int { return strings.Compare(a.Name(), b.Name()) })
	return up, down
}

// goodOn counts the good replicas of obj on the resources in set.
func goodOn(obj catalog.DataObject, set map[string]bool) int {
	seen := map[string]bool{}
	for _, r := range obj.Replicas {
		if r.Status == catalog.ReplicaGood && set[r.Resource] {
			seen[r.Resource] = true
		}
	}
	return len(seen)
}

func nodeSet(ns []*compose.Node) map[string]bool {
	out := make(map[string]bool, len(ns))
	for _, n := range ns {
		out[n.Name()] = true
	}
	return out
}

func nodeNames(ns []*compose.Node) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, n.Name())
	}
	return out
}

// impossible says why r cannot be fulfilled with the resources matching,
// or "" when enough match.
func impossible(r catalog.QoSRequirement, matching []*compose.Node, down int) string {
	if len(matching) >= r.Replicas {
		return ""
	}
	var why string
	switch len(matching) {
	case 0:
		why = fmt.Sprintf("no resource matches `%s`", r.Expr)
	case 1:
		why = fmt.Sprintf("only 1 resource matches `%s`", r.Expr)
	default:
		why = fmt.Sprintf("only %d resources match `%s`", len(matching), r.Expr)
	}
	why += fmt.Sprintf(", %d replicas wanted", r.Replicas)
	if down > 0 {
		why += fmt.Sprintf(" (%d more down)", down)
	}
	return why
}

// eachCovered calls fn with every data object r covers.
func (z *Zone) eachCovered(ctx context.Context, r catalog.QoSRequirement, fn func(catalog.DataObject) error) error {
	if !r.Collection {
		o, err := z.cat.DataObject(ctx, r.Path)
		if errors.Is(err, catalog.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return fn(o)
	}
	return z.objectsBelow(ctx, r.Path, fn)
}

// objectsBelow calls fn with every data object below the collection p, a
// page at a time, whoever may read them (the zone's own work).
func (z *Zone) objectsBelow(ctx context.Context, p catalog.Path, fn func(catalog.DataObject) error) error {
	for after := ""; ; {
		objs, err := z.cat.ListObjects(ctx, p, after, listPage)
		if errors.Is(err, catalog.ErrNotFound) {
			return nil // removed meanwhile
		}
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := fn(o); err != nil {
				return err
			}
		}
		if len(objs) < listPage {
			break
		}
		after = objs[len(objs)-1].Path.Name()
	}
	colls, err := z.allCollections(ctx, p)
	if err != nil {
		return err
	}
	for _, c := range colls {
		if err := z.objectsBelow(ctx, c.Path, fn); err != nil {
			return err
		}
	}
	return nil
}

// qosStatus evaluates one requirement.
func (z *Zone) qosStatus(ctx context.Context, t *compose.Tree, r catalog.QoSRequirement) (QoSStatus, error) {
	return z.qosStatusAt(ctx, t, r, r.Path)
}

// scopeAt narrows r to what lies at or below p, when p is below r's
// collection.
func (z *Zone) scopeAt(ctx context.Context, r catalog.QoSRequirement, p catalog.Path) catalog.QoSRequirement {
	if !r.Collection || p == r.Path || !p.HasPrefix(r.Path) {
		return r
	}
	r.Path = p
	if _, err := z.cat.Collection(ctx, p); err != nil {
		r.Collection = false // a data object (or nothing: it covers none)
	}
	return r
}

// qosStatusAt evaluates one requirement on what lies at or below p.
func (z *Zone) qosStatusAt(ctx context.Context, t *compose.Tree, r catalog.QoSRequirement, p catalog.Path) (QoSStatus, error) {
	st := QoSStatus{QoSRequirement: r}
	scope := z.scopeAt(ctx, r, p)
	e, err := z.parseQoS(r.Expr)
	if err != nil {
		st.Status, st.Reason = QoSImpossible, err.Error()
		return st, nil
	}
	matching, down := qosMatching(t, e)
	st.Matching = nodeNames(matching)
	set := nodeSet(matching)
	err = z.eachCovered(ctx, scope, func(o catalog.DataObject) error {
		st.Objects++
		if goodOn(o, set) >= r.Replicas {
			st.Fulfilled++
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	switch why := impossible(r, matching, down); {
	case why != "":
		st.Status, st.Reason = QoSImpossible, why
	case st.Fulfilled < st.Objects:
		st.Status = QoSPending
		st.Reason = fmt.Sprintf("%d of %d data objects have fewer than %d good replicas on %s", st.Objects-st.Fulfilled, st.Objects, r.Replicas,
			strings.Join(st.Matching, ", "))
	default:
		st.Status = QoSFulfilled
	}
	return st, nil
}

// qosJobWork is the work of a QoS job: the path whose requirements (on it
// and below it) it converges; "/" is every requirement of the zone.
type qosJobWork struct {
	Path string `json:"path"`
}

// scheduleQoS queues the convergence of the requirements on and below p,
// due now; a pending one for the same path is replaced. A failure is
// logged: the periodic scan converges it later.
func (z *Zone) scheduleQoS(ctx context.Context, p catalog.Path, owner catalog.UserID) {
	work, _ := json.Marshal(qosJobWork{Path: p.String()})
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if p.IsRoot() {
		// A resource changed: only worth a job when requirements exist.
		if rs, err := z.cat.QoSRequirementsBelow(ctx, p); err == nil && len(rs) == 0 {
			return
		}
	}
	if _, err := z.cat.AddJob(ctx, catalog.Job{Rule: QoSJobRule, Path: p.String(), Owner: owner, Due: time.Now(), Work: work}); err != nil {
		z.log.Warn("schedule qos convergence; the periodic scan does it", "path", p.String(), "err", err)
	}
}

// scheduleQoSScan keeps the periodic scan of every requirement in the job
// queue, once per zone (its key makes a second one ErrExists). A zone
// without requirements has none; the first requirement adds it, and it
// stays (a periodic job in the catalog) across restarts.
func (z *Zone) scheduleQoSScan(ctx context.Context) {
	every := z.qosEvery
	if every == "" {
		every = DefaultQoSEvery
	}
	work, _ := json.Marshal(qosJobWork{Path: "/"})
	_, err := z.cat.AddJob(ctx, catalog.Job{Key: QoSJobRule + ".scan", Rule: QoSJobRule, Every: every,
		Owner: catalog.UserID{Name: DefaultAdmin, Zone: z.name}, Due: time.Now(), Work: work})
	if err != nil && !errors.Is(err, catalog.ErrExists) && ctx.Err() == nil {
		z.log.Warn("schedule the periodic qos scan", "err", err)
	}
}

// runQoSJob runs one QoS job.
func (z *Zone) runQoSJob(ctx context.Context, j catalog.Job) error {
	var w qosJobWork
	if err := json.Unmarshal(j.Work, &w); err != nil {
		return fmt.Errorf("qos job %d: %w", j.ID, err)
	}
	p, err := catalog.ParsePath(w.Path)
	if err != nil {
		return fmt.Errorf("qos job %d: %w", j.ID, err)
	}
	_, err = z.ConvergeQoS(ctx, p)
	return err
}

// QoSChange is one replica a convergence made, or failed to make.
type QoSChange struct {
	Path        catalog.Path
	Requirement catalog.ID
	Resource    string
	Replica     int
	Err         error
}

// ConvergeQoS makes the replicas that the requirements on and below p (and
// those above p, for what lies below p) ask for and lack: for each data
// object they cover, copies from a good replica to matching resources
// that are up and hold no good replica of it, until each requirement has
// its count. It returns what it did; an error of one object does not stop
// the others (the first is returned at the end, so that a job is retried).
func (z *Zone) ConvergeQoS(ctx context.Context, p catalog.Path) ([]QoSChange, error) {
	above, err := z.cat.QoSRequirementsOn(ctx, p)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return nil, err
	}
	below, err := z.cat.QoSRequirementsBelow(ctx, p)
	if err != nil {
		return nil, err
	}
	rs := above
	for _, r := range below {
		if !slices.ContainsFunc(rs, func(x catalog.QoSRequirement) bool { return x.ID == r.ID }) {
			rs = append(rs, r)
		}
	}
	t, err := z.loadTree(ctx)
	if err != nil {
		return nil, err
	}
	var (
		changes  []QoSChange
		firstErr error
	)
	for _, r := range rs {
		e, err := z.parseQoS(r.Expr)
		if err != nil {
			z.log.Warn("qos requirement does not parse", "id", r.ID, "path", r.Path.String(), "expr", r.Expr, "err", err)
			continue
		}
		matching, _ := qosMatching(t, e)
		// The copies of many small objects wait on storage and on the
		// catalog's commits, not on CPU: several objects at a time.
		var (
			mu   sync.Mutex
			wg   sync.WaitGroup
			work = make(chan catalog.DataObject)
		)
		for range qosWorkers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for o := range work {
					chs := z.convergeObject(ctx, t, r, o, matching)
					mu.Lock()
					for _, ch := range chs {
						changes = append(changes, ch)
						if ch.Err != nil && firstErr == nil {
							firstErr = ch.Err
						}
					}
					mu.Unlock()
				}
			}()
		}
		err = z.eachCovered(ctx, z.scopeAt(ctx, r, p), func(o catalog.DataObject) error {
			select {
			case work <- o:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		close(work)
		wg.Wait()
		if err != nil {
			return changes, err
		}
	}
	// In path order, whatever order the workers finished in.
	slices.SortStableFunc(changes, func(a, b QoSChange) int {
		return cmp.Or(strings.Compare(a.Path.String(), b.Path.String()), strings.Compare(a.Resource, b.Resource))
	})
	return changes, firstErr
}

// qosWorkers is how many objects a convergence copies at a time.
const qosWorkers = 16

// convergeObject makes the replicas of o that r lacks on matching. While
// another writer holds o (a put, another server's job) it waits a little
// and looks again; after that the next scan does it.
func (z *Zone) convergeObject(ctx context.Context, t *compose.Tree, r catalog.QoSRequirement, o catalog.DataObject, matching []*compose.Node) []QoSChange {
	var out []QoSChange
	for try := 0; ; try++ {
		chs, locked := z.convergeObjectOnce(ctx, t, r, o, matching)
		out = append(out, chs...)
		if !locked || try == 20 || ctx.Err() != nil {
			if locked {
				z.log.Info("qos replica deferred: the object is being written", "path", o.Path.String())
			}
			return out
		}
		select {
		case <-ctx.Done():
			return out
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (z *Zone) convergeObjectOnce(ctx context.Context, t *compose.Tree, r catalog.QoSRequirement, o catalog.DataObject, matching []*compose.Node) (out []QoSChange, locked bool) {
	set := nodeSet(matching)
	have := goodOn(o, set)
	for _, leaf := range matching {
		if have >= r.Replicas {
			break
		}
		if slices.ContainsFunc(o.Replicas, func(x catalog.Replica) bool {
			return x.Resource == leaf.Name() && x.Status == catalog.ReplicaGood
		}) {
			continue
		}
		// Another server's job may have made it meanwhile: look again.
		if fresh, err := z.cat.DataObject(ctx, o.Path); err == nil {
			o = fresh
			if have = goodOn(o, set); have >= r.Replicas {
				break
			}
			if slices.ContainsFunc(o.Replicas, func(x catalog.Replica) bool {
				return x.Resource == leaf.Name() && x.Status == catalog.ReplicaGood
			}) {
				continue
			}
		}
		ch := QoSChange{Path: o.Path, Requirement: r.ID, Resource: leaf.Name()}
		src, err := z.pickSource(ctx, t, o, "")
		if err == nil {
			var rep catalog.Replica
			if rep, err = z.copyReplica(ctx, o, src, leaf.Name()); err == nil {
				ch.Replica = rep.Number
				have++
				if fresh, err := z.cat.DataObject(ctx, o.Path); err == nil {
					o = fresh
				}
			}
		}
		if errors.Is(err, catalog.ErrLocked) {
			// A writer (a put, or another server converging) holds the
			// object.
			return out, true
		}
		if err != nil {
			ch.Err = fmt.Errorf("qos requirement %d (%s x%d) on %s: %w", r.ID, r.Expr, r.Replicas, o.Path, err)
			z.log.Warn("qos replica not made", "path", o.Path.String(), "resource", leaf.Name(), "err", err)
		} else {
			z.log.Info("qos replica made", "path", o.Path.String(), "resource", leaf.Name(), "requirement", r.ID)
		}
		out = append(out, ch)
	}
	return out, false
}

// ConvergeQoSNow is iqos converge: it converges the requirements on and
// below p at once, for a caller who may write there, and reports each
// replica made.
func (z *Zone) ConvergeQoSNow(ctx context.Context, caller Principal, p catalog.Path) ([]QoSChange, error) {
	var out []QoSChange
	err := z.do(ctx, &Op{Name: OpQoSConverge, Caller: caller, Path: p}, func(ctx context.Context) error {
		var err error
		out, err = z.ConvergeQoS(ctx, p)
		return err
	})
	return out, err
}

// qosKeeps reports, with ErrQoSRequired, that removing the replica rep of
// obj would break a requirement that applies to obj: it is good, on a
// resource the requirement matches, and without it fewer good replicas
// than asked for would remain there.
func (z *Zone) qosKeeps(ctx context.Context, t *compose.Tree, obj catalog.DataObject, rep catalog.Replica) error {
	if rep.Status != catalog.ReplicaGood {
		return nil
	}
	rs, err := z.cat.QoSRequirementsOn(ctx, obj.Path)
	if err != nil || len(rs) == 0 {
		return err
	}
	for _, r := range rs {
		e, err := z.parseQoS(r.Expr)
		if err != nil {
			continue
		}
		n, ok := t.Lookup(rep.Resource)
		if !ok {
			continue
		}
		attrs, _ := catalog.ParseQoSAttributes(n.Rec.QoS)
		if !e.Match(attrs) {
			continue
		}
		matching, _ := qosMatching(t, e)
		set := nodeSet(matching)
		set[rep.Resource] = true // a down resource's replica still counts while it is kept
		if goodOn(obj, set)-1 < r.Replicas {
			return fmt.Errorf("replica %d of %s on %s: %w: requirement %d on %s asks for %d good replicas on `%s`",
				rep.Number, obj.Path, rep.Resource, ErrQoSRequired, r.ID, r.Path, r.Replicas, r.Expr)
		}
	}
	return nil
}

// QoSFacts gives rules object.qos: the requirements that apply to p, each
// judged on what lies at p (rules.QoSReporter; the server hands it to the
// rule engine with the catalog).
func (z *Zone) QoSFacts(ctx context.Context, p catalog.Path) ([]rules.QoSFact, error) {
	rs, err := z.cat.QoSRequirementsOn(ctx, p)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	t, err := z.loadTree(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]rules.QoSFact, 0, len(rs))
	for _, r := range rs {
		st, err := z.qosStatusAt(ctx, t, r, p)
		if err != nil {
			return nil, err
		}
		out = append(out, rules.QoSFact{ID: int64(r.ID), Path: r.Path.String(), Expression: r.Expr, Replicas: r.Replicas,
			Status: st.Status, Reason: st.Reason})
	}
	return out, nil
}
