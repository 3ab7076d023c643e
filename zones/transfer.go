package zones

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/compose"
)

// ErrChecksumMismatch means bytes did not match the checksum they should have.
var ErrChecksumMismatch = errors.New("checksum mismatch")

// PutRequest describes one upload.
type PutRequest struct {
	Path      catalog.Path
	Size      int64 // -1 when unknown
	Resource  string
	Overwrite bool
	// Checksum, if set, must match the bytes, or nothing is kept.
	Checksum string
	// ExpectChecksum, if set, is called after the body ends and returns the
	// checksum the client computed while sending.
	ExpectChecksum func() (string, error)
	// Metadata is attached to the object in the catalog transaction that
	// marks the new replica good; AVUs the object already has are kept.
	Metadata []catalog.AVU
}

// SizeUnknown is the size of a put whose client does not know how many
// bytes will come (a pipe).
const SizeUnknown = -1

// Validate refuses what no transport may pass on: a negative size other
// than SizeUnknown (a rule reading op.size > N would be passed by
// announcing -7), and bad metadata.
func (r PutRequest) Validate() error {
	if r.Size < SizeUnknown {
		return fmt.Errorf("%w: put %s: size %d: a size is at least 0, or %d when unknown", catalog.ErrInvalidArgument, r.Path, r.Size, SizeUnknown)
	}
	for _, a := range r.Metadata {
		if err := a.Validate(); err != nil {
			return fmt.Errorf("metadata of %s: %w", r.Path, err)
		}
	}
	return nil
}

// Put stores body as the data object req.Path. It registers an intermediate
// replica holding a lease before writing a byte, and marks it good in one
// catalog transaction only after the bytes are durable and their checksum is
// known (and matches, when the client gave one). On any failure the partial
// file and the intermediate replica are removed.
func (z *Zone) Put(ctx context.Context, caller Principal, req PutRequest, body io.Reader) (catalog.DataObject, error) {
	if req.Resource == "" {
		req.Resource = z.overwriteTarget(ctx, req)
	}
	// A bad request is refused before any rule or byte sees it.
	if err := req.Validate(); err != nil {
		return catalog.DataObject{}, err
	}
	var obj catalog.DataObject
	op := &Op{Name: "put", Caller: caller, Path: req.Path, Resource: req.Resource, Size: req.Size, AVUs: req.Metadata}
	err := z.do(ctx, op, func(ctx context.Context) error {
		if err := z.checkReserved(caller, req.Metadata...); err != nil {
			return err
		}
		var err error
		req.Resource = op.Resource // a rule may have chosen another
		obj, err = z.put(ctx, As(z.ownerFor(ctx, op, req.Path)), req, body)
		if err == nil {
			op.Object = &obj
		}
		return err
	})
	return obj, err
}

// overwriteTarget is where a put that names no resource goes: an
// overwrite goes where the object's good replicas are (the root of the
// tree holding most of them, as iRODS overwrites an existing replica), so a
// replicated object stays replicated; a new object goes to the default
// resource.
func (z *Zone) overwriteTarget(ctx context.Context, req PutRequest) string {
	if !req.Overwrite {
		return z.defResc
	}
	obj, err := z.cat.DataObject(ctx, req.Path)
	if err != nil {
		return z.defResc
	}
	t, err := z.tree(ctx)
	if err != nil {
		return z.defResc
	}
	count := map[string]int{}
	best := ""
	for _, r := range obj.Good() {
		n, ok := t.Lookup(r.Resource)
		if !ok {
			continue
		}
		root := n.Root().Name()
		count[root]++
		if best == "" || count[root] > count[best] || count[root] == count[best] && root < best {
			best = root
		}
	}
	if best == "" {
		return z.defResc
	}
	return best
}

func (z *Zone) put(ctx context.Context, caller Principal, req PutRequest, body io.Reader) (catalog.DataObject, error) {
	t, err := z.tree(ctx)
	if err != nil {
		return catalog.DataObject{}, err
	}
	target, err := t.Node(req.Resource)
	if err != nil {
		return catalog.DataObject{}, err
	}
	for up := target.Parent; up != nil; up = up.Parent {
		if up.Rec.Type == "replication" {
			return catalog.DataObject{}, fmt.Errorf("%w: resource %s is below replication resource %s (DIRECT_CHILD_ACCESS): write to %s, which writes every child",
				catalog.ErrInvalidArgument, target.Name(), up.Name(), target.Root().Name())
		}
	}
	if target.Role() == "archive" {
		return catalog.DataObject{}, fmt.Errorf("%w: resource %s is the archive of compound resource %s (DIRECT_ARCHIVE_ACCESS): write to %s",
			catalog.ErrInvalidArgument, target.Name(), target.Parent.Name(), target.Root().Name())
	}
	primary, copies, err := target.WriteTargets()
	if err != nil {
		return catalog.DataObject{}, err
	}
	resc, _, err := z.resource(ctx, primary.Name())
	if err != nil {
		return catalog.DataObject{}, err
	}
	if err := z.checkQuota(ctx, caller.User, req); err != nil {
		return catalog.DataObject{}, err
	}
	holder := z.newHolder()
	obj, rep, err := z.cat.BeginReplica(ctx, catalog.NewReplica{
		Path:         req.Path,
		Owner:        caller.UserID(),
		Resource:     primary.Name(),
		PhysicalPath: physicalPath(req.Path),
		Holder:       holder,
		LeaseExpiry:  time.Now().Add(z.lease),
		Overwrite:    req.Overwrite,
	})
	if errors.Is(err, catalog.ErrExists) && !req.Overwrite {
		// The catalog's words name its steps; a user asked for a name.
		return catalog.DataObject{}, fmt.Errorf("%s: a data object of that name %w", req.Path, catalog.ErrExists)
	}
	if err != nil {
		return catalog.DataObject{}, err
	}
	committed := false
	defer func() {
		if committed {
			return
		}
		// The request's context may be what failed; clean up regardless.
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, err := z.cat.AbortReplica(cleanup, rep.ObjectID, rep.Number, holder); err != nil {
			z.log.Warn("abort intermediate replica; recovery resolves it when its lease ends",
				"path", req.Path, "replica", rep.Number, "err", err)
		}
	}()

	info, err := z.writeReplica(ctx, resc, rep, holder, req, body)
	if err != nil {
		return catalog.DataObject{}, err
	}
	superseded, err := z.cat.CommitReplica(ctx, catalog.ReplicaCommit{
		Object: rep.ObjectID, Number: rep.Number, Holder: holder, Size: info.Size, Checksum: info.Checksum,
		Metadata: req.Metadata,
	})
	if err != nil {
		// The catalog did not mark it good: the bytes must go.
		if rerr := resc.Remove(context.WithoutCancel(ctx), rep.PhysicalPath); rerr != nil {
			z.log.Warn("remove file of uncommitted replica", "physical_path", rep.PhysicalPath, "err", rerr)
		}
		return catalog.DataObject{}, fmt.Errorf("commit replica of %s: %w", req.Path, err)
	}
	committed = true
	z.removeBytes(context.WithoutCancel(ctx), superseded)
	obj = afterCommit(obj, rep, info, superseded)
	if len(copies) > 0 {
		obj = z.fanOut(ctx, target, obj, catalog.CommittedNumber(rep.Number, superseded), copies)
	}
	if !obj.Lock.IsZero() {
		// Locked at birth (a collection's default): so are its bytes, on
		// a store that locks (retention.go).
		z.retainBytes(context.WithoutCancel(ctx), obj, obj.Replicas, false)
	}
	z.noteAccess(ctx, obj)
	return obj, nil
}

// fanOut copies the replica just written to the other leaves a write to
// target reaches (the other children of a replication resource, the
// archive of a compound). The client's bytes are already safe in one good
// replica, so a failed copy does not fail the put: it is logged and left
// missing, for irepl -a or fsck --repair to fill.
func (z *Zone) fanOut(ctx context.Context, target *compose.Node, obj catalog.DataObject, number int, copies []*compose.Node) catalog.DataObject {
	var src catalog.Replica
	for _, r := range obj.Replicas {
		if r.Number == number {
			src = r
		}
	}
	for _, leaf := range copies {
		if _, err := z.copyReplica(ctx, obj, src, leaf.Name()); err != nil {
			z.log.Warn("a replica the resource tree asks for is missing; irepl -a repairs it",
				"path", obj.Path, "resource", leaf.Hierarchy(), "err", err)
		}
	}
	z.enforceWatermarks(ctx, target)
	if o, err := z.cat.DataObject(ctx, obj.Path); err == nil {
		return o
	}
	return obj
}

// afterCommit is what CommitReplica made of obj, derived here rather than
// read back, to spare every put a catalog query: the new replica is good
// (under the number of a replica it superseded, if that is lower),
// superseded replicas are gone, and other good replicas are stale.
func afterCommit(obj catalog.DataObject, rep catalog.Replica, info resources.Info, superseded []catalog.Replica) catalog.DataObject {
	gone := map[int]bool{}
	for _, s := range superseded {
		gone[s.Number] = true
	}
	now := time.Now().UTC()
	var reps []catalog.Replica
	for _, r := range obj.Replicas {
		switch {
		case gone[r.Number]:
			continue
		case r.Number == rep.Number:
			r.Status, r.Size, r.Checksum, r.ModifyTime = catalog.ReplicaGood, info.Size, info.Checksum, now
			r.LockHolder, r.LeaseExpiry = "", time.Time{}
			r.Number = catalog.CommittedNumber(r.Number, superseded)
		case r.Status == catalog.ReplicaGood:
			r.Status = catalog.ReplicaStale
		}
		reps = append(reps, r)
	}
	slices.SortFunc(reps, func(a, b catalog.Replica) int { return cmp.Compare(a.Number, b.Number) })
	obj.Replicas = reps
	obj.ModifyTime = now
	return obj
}

// writeReplica streams body into a new file and returns what Commit made
// durable. The lease is renewed while the bytes flow.
func (z *Zone) writeReplica(ctx context.Context, resc resources.Resource, rep catalog.Replica, holder string, req PutRequest, body io.Reader) (resources.Info, error) {
	w, err := resc.Create(ctx, rep.PhysicalPath)
	if err != nil {
		return resources.Info{}, fmt.Errorf("create replica of %s: %w", req.Path, err)
	}
	stopRenew := z.renewLease(ctx, rep, holder)
	defer stopRenew()
	n, err := io.Copy(w, body)
	if err == nil && req.Size >= 0 && n != req.Size {
		err = fmt.Errorf("%w: received %d bytes of %s, expected %d", catalog.ErrInvalidArgument, n, req.Path, req.Size)
	}
	if err != nil {
		if aerr := w.Abort(); aerr != nil {
			z.log.Warn("partial file of a failed write not removed; it is deleted again later", "physical_path", rep.PhysicalPath, "err", aerr)
		}
		return resources.Info{}, fmt.Errorf("write %s: %w", req.Path, err)
	}
	info, err := w.Commit()
	if err != nil {
		return resources.Info{}, fmt.Errorf("write %s: %w", req.Path, err)
	}
	want := req.Checksum
	if req.ExpectChecksum != nil {
		if want, err = req.ExpectChecksum(); err != nil {
			z.logRemove(resc.Remove(context.WithoutCancel(ctx), rep.PhysicalPath), rep.PhysicalPath)
			return resources.Info{}, fmt.Errorf("receive checksum of %s: %w", req.Path, err)
		}
	}
	if want != "" && want != info.Checksum {
		z.logRemove(resc.Remove(context.WithoutCancel(ctx), rep.PhysicalPath), rep.PhysicalPath)
		return resources.Info{}, fmt.Errorf("%w: %s: client sent %s, server computed %s; nothing was kept", ErrChecksumMismatch, req.Path, want, info.Checksum)
	}
	return info, nil
}

// renewLease keeps the lease of an intermediate replica alive during a long
// write; the returned func stops it.
func (z *Zone) renewLease(ctx context.Context, rep catalog.Replica, holder string) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(z.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := z.cat.RenewLease(ctx, rep.ObjectID, rep.Number, holder, time.Now().Add(z.lease)); err != nil && ctx.Err() == nil {
					z.log.Warn("renew lease", "object", rep.ObjectID, "replica", rep.Number, "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// physicalPath is where a new replica of p goes in a vault: the logical path
// below the zone, so an operator recognises it, with a random suffix, so an
// overwrite never touches the good replica it replaces. Names may be up to
// catalog.MaxNameLen bytes, file systems take 255: long names are shortened
// (the random suffix keeps the file name unique).
func physicalPath(p catalog.Path) string {
	suffix := make([]byte, 6)
	rand.Read(suffix)
	parts := p.Components()
	if len(parts) > 1 {
		parts = parts[1:]
	}
	last := len(parts) - 1
	for i := range parts {
		limit := maxPhysicalName
		if i == last {
			limit -= 1 + 2*len(suffix)
		}
		parts[i] = truncateName(parts[i], limit)
	}
	return strings.Join(parts, "/") + "." + hex.EncodeToString(suffix)
}

// maxPhysicalName bounds one component of a physical path, below the 255
// bytes of common file systems.
const maxPhysicalName = 240

// truncateName shortens name to at most n bytes, at a character boundary.
func truncateName(name string, n int) string {
	if len(name) <= n {
		return name
	}
	for n > 0 && !utf8.RuneStart(name[n]) {
		n--
	}
	return name[:n]
}

// Open returns a reader of the data object at p from offset, with the object
// and the replica it reads: the best good replica (OpenWith chooses one).
func (z *Zone) Open(ctx context.Context, caller Principal, p catalog.Path, offset int64) (catalog.DataObject, catalog.Replica, io.ReadCloser, error) {
	return z.OpenWith(ctx, caller, p, OpenOptions{Offset: offset})
}

func (z *Zone) open(ctx context.Context, p catalog.Path, offset int64) (catalog.DataObject, catalog.Replica, io.ReadCloser, error) {
	return z.openWith(ctx, p, OpenOptions{Offset: offset})
}

// OpenOptions pick what Open reads. Without ByNumber or Resource the zone
// reads the best good replica, falling back to the next; with them, the
// replica asked for and no other (iget -n, iget -R, as in iRODS).
type OpenOptions struct {
	// ByNumber reads the replica numbered Number; numbers start at 0.
	ByNumber bool
	Number   int
	// Resource reads the replica on this resource: a leaf, or the root of a
	// tree whose leaves hold one (the good one first).
	Resource string
	Offset   int64
	// NoWait fails with resources.ErrStaging, after queueing the recall,
	// when the replica to read must first be recalled from tape.
	NoWait bool
}

// chosen reports whether o names a replica.
func (o OpenOptions) chosen() bool { return o.ByNumber || o.Resource != "" }

// OpenWith is Open with options.
func (z *Zone) OpenWith(ctx context.Context, caller Principal, p catalog.Path, o OpenOptions) (catalog.DataObject, catalog.Replica, io.ReadCloser, error) {
	var (
		obj catalog.DataObject
		rep catalog.Replica
		rc  io.ReadCloser
	)
	err := z.do(ctx, &Op{Name: "get", Caller: caller, Path: p}, func(ctx context.Context) error {
		var err error
		obj, rep, rc, err = z.openWith(ctx, p, o)
		return err
	})
	return obj, rep, rc, err
}

func (z *Zone) openWith(ctx context.Context, p catalog.Path, o OpenOptions) (catalog.DataObject, catalog.Replica, io.ReadCloser, error) {
	offset := o.Offset
	obj, err := z.cat.DataObject(ctx, p)
	if err != nil {
		return obj, catalog.Replica{}, nil, err
	}
	t, err := z.tree(ctx)
	if err != nil {
		return obj, catalog.Replica{}, nil, err
	}
	var tried []string
	var candidates []catalog.Replica
	if o.chosen() {
		if candidates, err = chosenReplicas(t, obj, o); err != nil {
			return obj, catalog.Replica{}, nil, err
		}
	} else {
		candidates, tried = z.readableReplicas(ctx, t, obj)
	}
	for _, rep := range candidates {
		if !o.chosen() {
			rep = z.stageToCache(ctx, t, obj, rep, o.NoWait)
		}
		resc, _, err := z.resource(ctx, rep.Resource)
		if err == nil && o.NoWait {
			err = queueRecall(ctx, resc, rep)
		}
		if errors.Is(err, resources.ErrStaging) {
			return obj, rep, nil, err
		}
		if err != nil {
			tried = append(tried, fmt.Sprintf("replica %d on %s: %v", rep.Number, rep.Resource, err))
			continue
		}
		// With another replica to fall back on, one whose file has not the
		// size the catalog says is passed over rather than sent: the client
		// would find out only at the end, and fail.
		if len(candidates) > 1 {
			if info, err := resc.Stat(ctx, rep.PhysicalPath); err == nil && info.Size != rep.Size {
				z.log.Warn("a replica's file has the wrong size; reading another", "path", p, "replica", rep.Number,
					"resource", rep.Resource, "size", info.Size, "catalog_size", rep.Size)
				tried = append(tried, fmt.Sprintf("replica %d on %s: %d bytes in storage, %d in the catalog", rep.Number, rep.Resource, info.Size, rep.Size))
				continue
			}
		}
		rc, err := resc.Open(ctx, rep.PhysicalPath, offset)
		if err != nil {
			tried = append(tried, fmt.Sprintf("replica %d on %s: %v", rep.Number, rep.Resource, err))
			continue
		}
		z.noteAccess(ctx, obj)
		if !o.chosen() {
			z.restageAfterRead(ctx, obj, rep)
		}
		return obj, rep, rc, nil
	}
	return obj, catalog.Replica{}, nil, fmt.Errorf("%w: no readable replica of %s (%s)", resources.ErrUnavailable, p, strings.Join(tried, "; "))
}

// chosenReplicas are the replicas of obj that o names, good ones first: by
// number, on a resource (a leaf, or a leaf below the root named), or both.
// A stale replica is read only when it is named, as in iRODS (its older
// bytes are what is asked for); one being written (intermediate) is
// refused: its bytes are not complete.
func chosenReplicas(t *compose.Tree, obj catalog.DataObject, o OpenOptions) ([]catalog.Replica, error) {
	var root *compose.Node
	if o.Resource != "" {
		n, ok := t.Lookup(o.Resource)
		if !ok {
			return nil, fmt.Errorf("resource %s: %w", o.Resource, catalog.ErrNotFound)
		}
		root = n
	}
	var out []catalog.Replica
	for _, r := range obj.Replicas {
		if o.ByNumber && r.Number != o.Number {
			continue
		}
		if root != nil && root.Find(r.Resource) == nil {
			continue
		}
		out = append(out, r)
	}
	where := ""
	switch {
	case o.ByNumber && root != nil:
		where = fmt.Sprintf("replica %d on %s", o.Number, o.Resource)
	case o.ByNumber:
		where = fmt.Sprintf("replica %d", o.Number)
	default:
		where = "a replica on " + o.Resource
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: the data object has no %s", catalog.ErrNotFound, where)
	}
	// Good first, then stale; intermediate replicas are left out.
	slices.SortStableFunc(out, func(a, b catalog.Replica) int { return cmp.Compare(readRank(a.Status), readRank(b.Status)) })
	var readable []catalog.Replica
	for _, r := range out {
		if r.Status != catalog.ReplicaIntermediate {
			readable = append(readable, r)
		}
	}
	if len(readable) == 0 {
		r := out[0]
		return nil, fmt.Errorf("%w: replica %d on %s is intermediate (being written): it cannot be read until the write ends",
			catalog.ErrLocked, r.Number, r.Resource)
	}
	return readable, nil
}

func readRank(s catalog.ReplicaStatus) int {
	switch s {
	case catalog.ReplicaGood:
		return 0
	case catalog.ReplicaStale:
		return 1
	}
	return 2
}

// markBad marks a good replica whose bytes were found to differ from the
// catalog stale at once, so that it is never served again (fsck --repair
// and irepl -a refresh it from a good one). It says what it did, for the
// caller's message. A replica that changed since it was read (an
// overwrite) is left alone: its new bytes were not the ones checked.
func (z *Zone) markBad(ctx context.Context, rep catalog.Replica) string {
	ctx = context.WithoutCancel(ctx)
	_, current, err := z.fsckReread(ctx, rep)
	switch {
	case err != nil:
		return fmt.Sprintf(" (not marked stale: %v)", err)
	case !current:
		return " (replaced meanwhile)"
	}
	if err := z.cat.MarkStale(ctx, rep.ObjectID, rep.Number); err != nil {
		z.log.Warn("mark a corrupt replica stale", "object", int64(rep.ObjectID), "replica", rep.Number, "err", err)
		return fmt.Sprintf(" (not marked stale: %v)", err)
	}
	z.log.Warn("replica marked stale: its bytes differ from the catalog", "object", int64(rep.ObjectID), "replica", rep.Number, "resource", rep.Resource)
	return " (marked stale: it is no longer served)"
}

// Copy copies the data object from to the new data object to.
func (z *Zone) Copy(ctx context.Context, caller Principal, from, to catalog.Path, resource string, overwrite bool) (catalog.DataObject, error) {
	if resource == "" {
		resource = z.overwriteTarget(ctx, PutRequest{Path: to, Overwrite: overwrite})
	}
	var obj catalog.DataObject
	op := &Op{Name: "copy", Caller: caller, Path: from, Dest: to, Resource: resource}
	err := z.do(ctx, op, func(ctx context.Context) error {
		if from == to {
			// An overwrite would read the replica that it replaces.
			return fmt.Errorf("%w: cannot copy %s onto itself", catalog.ErrInvalidArgument, from)
		}
		_, rep, rc, err := z.open(ctx, from, 0)
		if err != nil {
			return err
		}
		defer rc.Close()
		obj, err = z.put(ctx, As(z.ownerFor(ctx, op, to)), PutRequest{Path: to, Size: rep.Size, Resource: op.Resource, Overwrite: overwrite, Checksum: rep.Checksum}, rc)
		if err == nil {
			op.Object = &obj
		}
		return err
	})
	return obj, err
}

// ChecksumResult is what Checksum found.
type ChecksumResult struct {
	Checksum string
	Replicas []catalog.Replica
}

// Checksum returns the checksum of the data object at p. With verify it
// reads every good replica and compares its bytes with the catalog: size and
// checksum; a difference is an ErrChecksumMismatch naming the replica.
func (z *Zone) Checksum(ctx context.Context, caller Principal, p catalog.Path, verify bool) (ChecksumResult, error) {
	var res ChecksumResult
	err := z.do(ctx, &Op{Name: "checksum", Caller: caller, Path: p}, func(ctx context.Context) error {
		obj, err := z.cat.DataObject(ctx, p)
		if err != nil {
			return err
		}
		newest, ok := obj.Newest()
		if !ok || newest.Status != catalog.ReplicaGood {
			return fmt.Errorf("%w: %s has no good replica", resources.ErrUnavailable, p)
		}
		res.Checksum = newest.Checksum
		res.Replicas = obj.Replicas
		if !verify {
			return nil
		}
		// Bytes that differ are told apart from bytes that could not be
		// read: corruption is not an outage.
		var bad, unread []string
		// Each replica's check is a fixity check (zones/fixity.go), kept
		// and recorded as a PREMIS event as the periodic ones are.
		var checks []FixityCheck
		defer func() { z.recordChecksums(ctx, caller, obj, checks) }()
		for _, rep := range obj.Good() {
			where := fmt.Sprintf("replica %d on %s", rep.Number, rep.Resource)
			nb, nu := len(bad), len(unread)
			check := func() {
				c := FixityCheck{Replica: rep.Number, Resource: rep.Resource, Outcome: FixityPass}
				switch {
				case len(bad) > nb:
					c.Outcome, c.Detail = FixityFail, bad[len(bad)-1]
				case len(unread) > nu:
					c.Outcome, c.Detail = FixityUnreadable, unread[len(unread)-1]
				}
				checks = append(checks, c)
			}
			resc, _, err := z.resource(ctx, rep.Resource)
			if err != nil {
				unread = append(unread, fmt.Sprintf("%s: %v", where, err))
				check()
				continue
			}
			st, err := resc.Stat(ctx, rep.PhysicalPath)
			if err != nil {
				unread = append(unread, fmt.Sprintf("%s: %v", where, err))
				check()
				continue
			}
			if st.Size != rep.Size {
				bad = append(bad, fmt.Sprintf("%s: size %d in storage, %d in the catalog", where, st.Size, rep.Size)+z.markBad(ctx, rep))
				check()
				continue
			}
			sum, err := resc.Checksum(ctx, rep.PhysicalPath)
			switch {
			case errors.Is(err, resources.ErrCorrupt):
				bad = append(bad, fmt.Sprintf("%s: %v", where, err)+z.markBad(ctx, rep))
			case err != nil:
				unread = append(unread, fmt.Sprintf("%s: %v", where, err))
			case sum != rep.Checksum:
				bad = append(bad, fmt.Sprintf("%s: checksum %s in storage, %s in the catalog", where, sum, rep.Checksum)+z.markBad(ctx, rep))
			}
			check()
		}
		if len(bad) > 0 {
			if len(unread) > 0 {
				bad = append(bad, "not read: "+strings.Join(unread, "; "))
			}
			return fmt.Errorf("%w: %s: %s", ErrChecksumMismatch, p, strings.Join(bad, "; "))
		}
		if len(unread) > 0 {
			return fmt.Errorf("%w: %s could not be verified: %s", resources.ErrUnavailable, p, strings.Join(unread, "; "))
		}
		return nil
	})
	return res, err
}
