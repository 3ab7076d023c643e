package icommands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
)

type irsyncOptions struct {
	recursive, verify, sizeOnly, dryRun, verbose bool
	resource                                     string
	threads                                      int
}

// irsyncSent, when set (by tests), is called after each file sent.
var irsyncSent func()

func newIrsync(a *app) *cobra.Command {
	var o irsyncOptions
	cmd := &cobra.Command{
		Use:   "irsync [-r] [-K] [-s] [-l] [-v] [-R RESOURCE] [-N THREADS] SOURCE... TARGET",
		Short: "Synchronize local files and data objects: send only what differs",
		Long: `irsync makes TARGET hold what SOURCE holds, as iRODS's irsync: from local
files to the zone, from the zone to local files, or from data objects to
data objects. Paths that start with "i:" are logical paths in the zone
("i:" alone is the working collection); others are local. With -r,
"irsync -r DIR i:COLL" always syncs DIR's contents into COLL, whether COLL
exists or not (and so on the other ways round).

A file is sent only when the other side lacks it, or has it with another
size or, unless -s, another SHA-256 checksum; the checksum of a data object
is the catalog's (computed and recorded first if it has none, as ichksum
does). So a sync that was interrupted resumes where it stopped when run
again, sending only what is missing or differs; nothing is ever deleted. An
overwrite replaces the data object as iput -f does (or iget -f a local
file, which appears only once complete).

-l lists what would be sent without sending it; -v names each file sent.
--json prints one JSON object per file (JSON Lines): source, target, size,
action (sent, unchanged, or would_send with -l) and why it was sent (reason:
missing, size or checksum).`,
		Annotations: map[string]string{jsonLines: "file compared"},
		Example: `  irsync -r run42 i:projects/run42          # local -> zone
  irsync -r i:projects/run42 ~/restore/run42 # zone -> local
  irsync -r i:projects/run42 i:/tempZone/home/alice/run42
  irsync results.csv i:projects/
  irsync -r -l run42 i:projects/run42        # what would be sent
  irsync -r -s run42 i:projects/run42        # by size only: faster, less sure`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usagef("name a source and a target (zone paths as i:PATH)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.threads == 0 {
				o.threads = 1
			}
			if o.threads < 1 || o.threads > 256 {
				return usagef("-N must be between 0 and 256, got %d", o.threads)
			}
			return runIrsync(cmd.Context(), a, args, o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.recursive, "recursive", "r", false, "sync directories and collections")
	f.BoolVarP(&o.verify, "verify", "K", false, "verify the checksum of what is sent end to end")
	f.BoolVarP(&o.sizeOnly, "size", "s", false, "compare sizes only, not checksums")
	f.BoolVarP(&o.dryRun, "list", "l", false, "list what would be sent, send nothing")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "name each file sent")
	f.StringVarP(&o.resource, "resource", "R", "", "target resource of what goes into the zone")
	f.IntVarP(&o.threads, "threads", "N", 8, "files sent at once (0: one at a time, as 1)")
	addAdminFlag(a, cmd)
	return cmd
}

// syncEnd is one side of irsync: a local path or a logical path.
type syncEnd struct {
	zone  bool
	local string
	path  catalog.Path
}

func (e syncEnd) String() string {
	if e.zone {
		return "i:" + e.path.String()
	}
	return e.local
}

// syncItem is one file (or data object) and what is known of it.
type syncItem struct {
	size     int64
	checksum string // a data object's, from the catalog ("" if none yet)
	// incomplete: a data object without a good replica (a put that was
	// interrupted): it holds no bytes to compare.
	incomplete bool
}

// syncJob is one file to compare and, if it differs, send.
type syncJob struct {
	src, dst syncEnd
	size     int64
	srcSum   string
	dstItem  *syncItem // nil: the target lacks it
}

func runIrsync(ctx context.Context, a *app, args []string, o irsyncOptions) error {
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	parse := func(arg string) (syncEnd, error) {
		rest, ok := strings.CutPrefix(arg, "i:")
		if !ok {
			return syncEnd{local: arg}, nil
		}
		if rest == "" {
			rest = "."
		}
		p, err := c.resolve(rest)
		return syncEnd{zone: true, path: p}, err
	}
	var srcs []syncEnd
	for _, arg := range args[:len(args)-1] {
		e, err := parse(arg)
		if err != nil {
			return err
		}
		if len(srcs) > 0 && e.zone != srcs[0].zone {
			return usagef("the sources must all be local or all in the zone (i:)")
		}
		srcs = append(srcs, e)
	}
	dst, err := parse(args[len(args)-1])
	if err != nil {
		return err
	}
	if !srcs[0].zone && !dst.zone {
		return usagef("source and target cannot both be local: mark zone paths with i:")
	}
	s := &syncer{a: a, c: c, o: o}
	for _, src := range srcs {
		if err := s.plan(ctx, src, dst, len(srcs) > 1); err != nil {
			return err
		}
	}
	return s.run(ctx)
}

// syncer plans and runs one irsync.
type syncer struct {
	a    *app
	c    *client
	o    irsyncOptions
	jobs []syncJob
	// made are the local directories and collections already made.
	mu   sync.Mutex
	made map[string]bool
}

// plan adds the files of src to sync into dst. With several sources, dst
// is a collection or directory that each goes into under its own name.
func (s *syncer) plan(ctx context.Context, src, dst syncEnd, into bool) error {
	if src.zone {
		if _, err := s.c.stat(ctx, src.path); err != nil {
			return err
		}
	} else if _, err := statLocal(src.local); err != nil {
		return err
	}
	srcItems, srcIsTree, err := s.list(ctx, src)
	if err != nil {
		return err
	}
	if srcIsTree && !s.o.recursive {
		return usagef("%s is a %s: use -r", src, map[bool]string{true: "collection", false: "directory"}[src.zone])
	}
	// A single file into an existing collection or directory goes into it
	// under its name, as with cp; a tree always becomes dst itself (iRODS).
	dstIsTree, err := s.isTree(ctx, dst)
	if err != nil {
		return err
	}
	if into || (!srcIsTree && dstIsTree) {
		if !dstIsTree {
			return usagef("%s is not a collection or directory: with several sources the target must be one", dst)
		}
		if dst, err = s.child(dst, s.name(src)); err != nil {
			return err
		}
	}
	dstItems, _, err := s.list(ctx, dst)
	if err != nil {
		return err
	}
	for rel, it := range srcItems {
		from, err := s.child(src, rel)
		if err != nil {
			return err
		}
		to, err := s.child(dst, rel)
		if err != nil {
			return err
		}
		j := syncJob{src: from, dst: to, size: it.size, srcSum: it.checksum}
		if d, ok := dstItems[rel]; ok && !d.incomplete {
			j.dstItem = &d
		}
		s.jobs = append(s.jobs, j)
	}
	return nil
}

// name is the last component of e.
func (s *syncer) name(e syncEnd) string {
	if e.zone {
		return e.path.Name()
	}
	abs, err := filepath.Abs(e.local)
	if err != nil {
		return filepath.Base(e.local)
	}
	return filepath.Base(abs)
}

// child is e/rel; rel "" is e itself, and uses "/" between components.
func (s *syncer) child(e syncEnd, rel string) (syncEnd, error) {
	if rel == "" {
		return e, nil
	}
	if !e.zone {
		return syncEnd{local: filepath.Join(e.local, filepath.FromSlash(rel))}, nil
	}
	p := e.path
	for _, part := range strings.Split(rel, "/") {
		var err error
		if p, err = p.Join(part); err != nil {
			return e, fmt.Errorf("%s cannot be a logical path below %s: %w", quoteArg(rel), e.path, err)
		}
	}
	return syncEnd{zone: true, path: p}, nil
}

// isTree reports whether e is an existing collection or directory.
func (s *syncer) isTree(ctx context.Context, e syncEnd) (bool, error) {
	if !e.zone {
		fi, err := os.Stat(e.local)
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, localError(err)
		}
		return fi.IsDir(), nil
	}
	en, err := s.c.stat(ctx, e.path)
	if status.Code(err) == codes.NotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return en.Kind == arcapb.EntryKind_ENTRY_KIND_COLLECTION, nil
}

// list returns the files below e by their path relative to it ("" for e
// itself when it is a file), and whether e is a tree. What does not exist
// has nothing in it.
func (s *syncer) list(ctx context.Context, e syncEnd) (map[string]syncItem, bool, error) {
	out := map[string]syncItem{}
	if !e.zone {
		fi, err := os.Stat(e.local)
		if errors.Is(err, os.ErrNotExist) {
			return out, false, nil
		}
		if err != nil {
			return nil, false, localError(err)
		}
		if !fi.IsDir() {
			if !fi.Mode().IsRegular() {
				return nil, false, notRegular(e.local, fi.Mode())
			}
			out[""] = syncItem{size: fi.Size()}
			return out, false, nil
		}
		err = filepath.WalkDir(e.local, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return localError(err)
			}
			if d.IsDir() {
				return nil
			}
			fi, err := os.Stat(p) // a link to a file is synced as the file
			if err != nil {
				return localError(err)
			}
			if !fi.Mode().IsRegular() {
				return nil // directories behind links, devices, sockets: not synced
			}
			rel, err := filepath.Rel(e.local, p)
			if err != nil {
				return err
			}
			out[filepath.ToSlash(rel)] = syncItem{size: fi.Size()}
			return nil
		})
		return out, true, err
	}
	en, err := s.c.stat(ctx, e.path)
	if status.Code(err) == codes.NotFound {
		return out, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if en.Kind == arcapb.EntryKind_ENTRY_KIND_DATA_OBJECT {
		out[""] = zoneItem(en)
		return out, false, nil
	}
	stream, err := s.c.ns.List(ctx, &arcapb.ListRequest{Path: e.path.String(), Recursive: true})
	if err != nil {
		return nil, false, err
	}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, true, nil
		}
		if err != nil {
			return nil, false, err
		}
		for _, en := range resp.Entries {
			if en.Kind != arcapb.EntryKind_ENTRY_KIND_DATA_OBJECT {
				continue
			}
			p := catalog.MustPath(en.Path)
			rel := strings.Join(p.Rebase(e.path, catalog.MustPath("/")).Components(), "/")
			out[rel] = zoneItem(en)
		}
	}
}

// zoneItem is what a listing says of a data object.
func zoneItem(en *arcapb.Entry) syncItem {
	it := syncItem{size: en.Size, checksum: en.Checksum, incomplete: true}
	for _, r := range en.Replicas {
		if r.Status == "good" {
			it.incomplete = false
		}
	}
	return it
}

// run compares and sends every planned file.
func (s *syncer) run(ctx context.Context) error {
	var total int64
	for _, j := range s.jobs {
		total += j.size
	}
	prog := &progress{}
	if !s.o.dryRun {
		prog = newProgress(s.a, total, "irsync")
	}
	defer prog.finish()
	var out sync.Mutex
	report := func(j syncJob, action, reason string) error {
		out.Lock()
		defer out.Unlock()
		if s.a.json {
			m := map[string]any{"source": j.src.String(), "target": j.dst.String(), "size": j.size, "action": action}
			if reason != "" {
				m["reason"] = reason
			}
			return s.a.printJSON(m)
		}
		switch {
		case action == "would_send":
			fmt.Fprintf(s.a.Out, "   %s   %d   %s\n", j.src, j.size, reason)
		case action == "sent" && s.o.verbose:
			fmt.Fprintf(s.a.Out, "%s -> %s (%s)\n", j.src, j.dst, reason)
		}
		return nil
	}
	return runParallel(ctx, s.a, "irsync", s.jobs, s.o.threads, func(ctx context.Context, j syncJob) error {
		reason, err := s.differs(ctx, j)
		if err != nil {
			return err
		}
		if reason == "" {
			return report(j, "unchanged", "")
		}
		if s.o.dryRun {
			return report(j, "would_send", reason)
		}
		if err := s.send(ctx, j, prog); err != nil {
			return err
		}
		if irsyncSent != nil {
			irsyncSent()
		}
		return report(j, "sent", reason)
	})
}

// differs says why j must be sent ("missing", "size", "checksum"), or ""
// when the target already holds the same bytes.
func (s *syncer) differs(ctx context.Context, j syncJob) (string, error) {
	if j.dstItem == nil {
		return "missing", nil
	}
	if j.dstItem.size != j.size {
		return "size", nil
	}
	if s.o.sizeOnly {
		return "", nil
	}
	a, err := s.checksum(ctx, j.src, j.srcSum)
	if err != nil {
		return "", err
	}
	b, err := s.checksum(ctx, j.dst, j.dstItem.checksum)
	if err != nil {
		return "", err
	}
	if a != b {
		return "checksum", nil
	}
	return "", nil
}

// checksum is the SHA-256 of e: known is the catalog's, if it had one; a
// data object without one has the zone compute and record it (ichksum); a
// local file is read.
func (s *syncer) checksum(ctx context.Context, e syncEnd, known string) (string, error) {
	if known != "" {
		return known, nil
	}
	if e.zone {
		resp, err := s.c.ns.Checksum(ctx, &arcapb.ChecksumRequest{Path: e.path.String()})
		if err != nil {
			return "", err
		}
		return resp.Checksum, nil
	}
	f, err := os.Open(e.local)
	if err != nil {
		return "", localError(err)
	}
	defer f.Close()
	h := resources.NewHash()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", e.local, err)
	}
	return resources.FormatChecksum(h.Sum(nil)), nil
}

// lockedWait is how long send waits for a data object that another write
// holds: the write of an irsync that was interrupted a moment ago ends
// when the zone notices, and the sync that resumes it should not fail.
const lockedWait = 15 * time.Second

// send copies j's source over its target; a target that is being written
// is tried again until lockedWait has passed.
func (s *syncer) send(ctx context.Context, j syncJob, prog *progress) error {
	deadline := time.Now().Add(lockedWait)
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		err := s.sendOnce(ctx, j, prog)
		if status.Code(unwrapStatus(err)) != codes.Aborted || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
	}
}

func (s *syncer) sendOnce(ctx context.Context, j syncJob, prog *progress) error {
	switch {
	case !j.src.zone: // local -> zone
		if err := s.makeCollection(ctx, j.dst.path.Parent()); err != nil {
			return err
		}
		_, err := putFile(ctx, s.c, putJob{local: j.src.local, size: j.size, dest: j.dst.path},
			iputOptions{force: true, verify: s.o.verify, resource: s.o.resource}, prog)
		return err
	case !j.dst.zone: // zone -> local
		dir := filepath.Dir(j.dst.local)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return localError(err)
		}
		_, err := getVerified(ctx, s.c, getJob{src: j.src.path, local: j.dst.local, size: j.size},
			igetOptions{force: true, verify: s.o.verify, sum: true}, prog)
		return err
	default: // zone -> zone
		if err := s.makeCollection(ctx, j.dst.path.Parent()); err != nil {
			return err
		}
		_, err := s.c.ns.Copy(ctx, &arcapb.CopyRequest{From: j.src.path.String(), To: j.dst.path.String(), Resource: s.o.resource, Overwrite: true})
		if err == nil {
			prog.add(int(j.size))
			prog.fileDone()
		}
		return err
	}
}

// makeCollection makes p and what is missing above it, once.
func (s *syncer) makeCollection(ctx context.Context, p catalog.Path) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.made == nil {
		s.made = map[string]bool{}
	}
	if s.made[p.String()] {
		return nil
	}
	_, err := s.c.ns.MakeCollection(ctx, &arcapb.MakeCollectionRequest{Path: p.String(), Parents: true})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("make collection %s: %w", p, err)
	}
	s.made[p.String()] = true
	return nil
}
