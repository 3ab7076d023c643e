package icommands

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/overlap"
	"github.com/arca-data/arca/resources"
)

type iputOptions struct {
	recursive, force, verify bool
	resource                 string
	threads                  int
	metadata                 string
	avus                     []catalog.AVU // parsed from metadata
	derivedFrom              []string      // --derived-from (iput_prov.go)
}

// inlineLimit is the largest file sent in the put header itself: one
// message, one round trip.
const inlineLimit = 256 << 10

// chunkSize is the size of one data message of a transfer.
const chunkSize = 1 << 20

func newIput(a *app) *cobra.Command {
	var o iputOptions
	cmd := &cobra.Command{
		Use:   "iput [-r] [-f] [-K] [-R RESOURCE] [-N THREADS] LOCAL... [TARGET]",
		Short: "Upload files and directories",
		Long: `iput uploads local files as data objects, and with -r directories as
collections. TARGET is a new data object, or an existing collection to put
into; without TARGET files go into the working collection.
Files are uploaded concurrently (-N, default 32); "done" means the bytes are
durable on the resource and the catalog has recorded a good replica. What
is stored is what was read, even where the file's size says otherwise
(files of /proc and /sys).
-K computes the checksum while sending and the server refuses the upload if
the bytes it stored differ. -f overwrites existing data objects.
--metadata attaches AVUs to every data object put: "attr;value;unit;..."
triplets, the unit may be empty ("a;1;;b;2"), "\;" is a literal ";". They
are recorded in the same catalog transaction that makes the object good, so
no object appears without them; on an overwrite they are added to the AVUs
the object has.`,
		Annotations: map[string]string{jsonLines: "file uploaded"},
		Example: `  iput results.csv
  iput -K big.tar /tempZone/home/alice/archive/
  iput -r -N 32 run42 projects/
  iput -f -R fastResc results.csv
  iput --metadata "project;abc-123;;size;12;GB" results.csv`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("name at least one local file")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.threads == 0 {
				o.threads = 1 // iRODS's -N 0: no parallel transfers
			}
			if o.threads < 1 || o.threads > 256 {
				return usagef("-N must be between 0 and 256, got %d", o.threads)
			}
			if cmd.Flags().Changed("metadata") {
				// Checked before anything is uploaded.
				avus, err := parseMetadataTriplets(o.metadata)
				if err != nil {
					return inputError(err)
				}
				o.avus = avus
			}
			return runIput(cmd.Context(), a, args, o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.recursive, "recursive", "r", false, "upload directories")
	f.BoolVarP(&o.force, "force", "f", false, "overwrite existing data objects")
	f.BoolVarP(&o.verify, "verify", "K", false, "verify the checksum end to end")
	f.StringVarP(&o.resource, "resource", "R", "", "target resource")
	f.IntVarP(&o.threads, "threads", "N", 32, "files uploaded at once (0: one at a time, as 1)")
	f.StringVar(&o.metadata, "metadata", "", `AVUs to attach to every object: "attr;value;unit;..."`)
	f.StringArrayVar(&o.derivedFrom, "derived-from", nil, "record that every object put was derived from this data object or collection (prov:wasDerivedFrom; repeatable)")
	addTicketFlag(a, cmd)
	addAdminFlag(a, cmd)
	return cmd
}

// putJob is one file to upload.
type putJob struct {
	local string
	size  int64
	dest  catalog.Path
}

func runIput(ctx context.Context, a *app, args []string, o iputOptions) error {
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	sources, targetArg := args, ""
	if len(args) > 1 {
		sources, targetArg = args[:len(args)-1], args[len(args)-1]
	}
	target := c.env.cwd()
	targetIsColl := true
	if targetArg != "" {
		if target, err = c.resolve(targetArg); err != nil {
			return err
		}
		e, err := c.stat(ctx, target)
		switch {
		case err == nil:
			targetIsColl = e.Kind == arcapb.EntryKind_ENTRY_KIND_COLLECTION
		case status.Code(err) == codes.NotFound:
			targetIsColl = false
		default:
			return err
		}
		// A trailing slash asks for an existing collection to put files
		// into; only a directory may become it, as with cp.
		if into(targetArg) && !targetIsColl && (err == nil || !isLocalDir(sources[0])) {
			return notACollection(target, err)
		}
		if !targetIsColl && len(sources) > 1 {
			return fmt.Errorf("%s is not a collection: with several sources the target must be one", target)
		}
	}

	var plan putPlan
	for _, src := range sources {
		fi, err := statLocal(src)
		if err != nil {
			return err
		}
		dest := target
		if targetIsColl {
			// The absolute path gives ".", ".." and "dir/." the name of the
			// directory they are, as cp -r does.
			abs, err := filepath.Abs(src)
			if err != nil {
				return localError(err)
			}
			if dest, err = target.Join(filepath.Base(abs)); err != nil {
				return fmt.Errorf("local name %s cannot be a data object name: %w", quoteArg(filepath.Base(abs)), err)
			}
		}
		switch {
		case fi.IsDir():
			if !o.recursive {
				return usagef("%s is a directory: use -r", src)
			}
			if err := planDirectory(ctx, c, src, dest, &plan); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			plan.add(putJob{local: src, size: fi.Size(), dest: dest})
		default:
			plan.fail(notRegular(src, fi.Mode()))
		}
	}
	return uploadPlan(ctx, a, c, &plan, o)
}

// uploadPlan uploads the files of plan and reports each, the entries it
// could not upload among the failures.
func uploadPlan(ctx context.Context, a *app, c *client, plan *putPlan, o iputOptions) error {
	jobs := plan.jobs

	// What cannot be uploaded counts as a failed transfer; it is reported
	// before the progress display starts.
	log := &transferLog{a: a, name: "iput", total: len(jobs) + len(plan.failed)}
	for _, err := range plan.failed {
		log.fail(err)
	}
	prog := newProgress(a, plan.total, "iput")
	defer prog.finish()
	derive, err := deriver(ctx, c, o.derivedFrom)
	if err != nil {
		return err
	}
	printed := func(j putJob, e *arcapb.Entry) error {
		if err := derive(ctx, e.Path); err != nil {
			return err
		}
		if a.json {
			return a.printJSON(map[string]any{"local": j.local, "path": e.Path, "size": e.Size, "checksum": e.Checksum})
		}
		return nil
	}
	// Small files share one PutMany stream: one request each instead of a
	// stream each, which is most of what a small file costs.
	small, large := splitBySize(jobs, putManyLimit)
	if len(small) > 1 {
		var grew []putJob // longer than stat said: each over a Put stream
		rest, err := putMany(ctx, c, small, o, o.threads, prog, func(j putJob, e *arcapb.Entry, err error) {
			if errors.Is(err, errTooLargeForPutMany) {
				grew = append(grew, j) // report is called under putMany's lock
				return
			}
			if err == nil {
				err = printed(j, e)
			}
			if err != nil {
				log.fail(err)
			}
		})
		switch {
		case errors.Is(err, errPutManyUnsupported):
			large = append(rest, large...)
		case err != nil:
			return err
		}
		large = append(large, grew...)
	} else {
		large = jobs
	}
	runEach(ctx, log, large, o.threads, func(ctx context.Context, j putJob) error {
		e, err := putFile(ctx, c, j, o, prog)
		if err != nil {
			return err
		}
		return printed(j, e)
	})
	return log.result(ctx)
}

// splitBySize parts jobs into files of at most limit bytes and larger ones.
func splitBySize(jobs []putJob, limit int64) (small, large []putJob) {
	for _, j := range jobs {
		if j.size <= limit {
			small = append(small, j)
		} else {
			large = append(large, j)
		}
	}
	return small, large
}

// putPlan is what iput will upload, and the local entries it will not:
// each of those counts as a failed transfer, so that one bad entry neither
// stops the rest nor goes unnoticed.
type putPlan struct {
	jobs   []putJob
	total  int64 // bytes in jobs
	failed []error
}

func (p *putPlan) add(j putJob) {
	p.jobs = append(p.jobs, j)
	p.total += j.size
}

func (p *putPlan) fail(err error) { p.failed = append(p.failed, err) }

// planDirectory creates the collections of the local tree dir under dest
// and adds its files to plan. Symbolic links are followed, as iRODS does: a
// link to a file is uploaded under the link's name, a link to a directory
// is walked like a directory. Only the catalog's errors stop the walk; a
// local entry that cannot be uploaded is added to plan's failures.
func planDirectory(ctx context.Context, c *client, dir string, dest catalog.Path, plan *putPlan) error {
	resolved, err := realPath(dir)
	if err != nil {
		return err
	}
	w := &treeWalk{ctx: ctx, c: c, plan: plan}
	return w.dir(dir, resolved, dest, true)
}

// treeWalk is one planDirectory.
type treeWalk struct {
	ctx  context.Context
	c    *client
	plan *putPlan
	// open is the real path (symbolic links resolved) of every directory
	// being walked, the top one first. A link to one of them, or to a
	// directory holding one, leads back to it: a loop. Real paths rather
	// than device and inode numbers because they work on every system and
	// also catch a link to a directory above the top one.
	open []string
}

// dir walks the local directory local, whose real path is resolved, into
// the collection dest; top says it is the directory iput was given.
func (w *treeWalk) dir(local, resolved string, dest catalog.Path, top bool) error {
	// Read before the collection is made, so that an unreadable directory
	// leaves no empty collection behind.
	entries, err := os.ReadDir(local)
	if err != nil {
		w.plan.fail(localError(err))
		return nil
	}
	_, err = w.c.ns.MakeCollection(w.ctx, &arcapb.MakeCollectionRequest{Path: dest.String(), Parents: top})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("make collection for %s: %w", local, err)
	}
	w.open = append(w.open, resolved)
	defer func() { w.open = w.open[:len(w.open)-1] }()
	for _, e := range entries {
		path := filepath.Join(local, e.Name())
		logical, err := dest.Join(e.Name())
		if err != nil {
			w.plan.fail(fmt.Errorf("local path %s cannot be a logical path: %w", quoteArg(path), err))
			continue
		}
		isLink := e.Type()&fs.ModeSymlink != 0
		fi, err := entryInfo(path, e, isLink)
		if err != nil {
			w.plan.fail(err)
			continue
		}
		switch {
		case fi.IsDir():
			// Below a real path, an entry that is not a link is the real
			// path plus its name: only links need resolving.
			sub := filepath.Join(resolved, e.Name())
			if isLink {
				if sub, err = realPath(path); err != nil {
					w.plan.fail(err)
					continue
				}
				if err := w.loop(path, sub); err != nil {
					w.plan.fail(err)
					continue
				}
			}
			if err := w.dir(path, sub, logical, false); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			w.plan.add(putJob{local: path, size: fi.Size(), dest: logical})
		default:
			w.plan.fail(notRegular(path, fi.Mode()))
		}
	}
	return nil
}

// loop is the error of the link path to the directory resolved when that
// directory is being walked or holds one being walked, else nil.
func (w *treeWalk) loop(path, resolved string) error {
	prefix := resolved
	if !strings.HasSuffix(prefix, string(filepath.Separator)) {
		prefix += string(filepath.Separator) // the root already ends in one
	}
	for _, open := range w.open {
		switch {
		case open == resolved:
			return fmt.Errorf("%s: symbolic link loop: it leads back to %s", path, resolved)
		case strings.HasPrefix(open, prefix):
			return fmt.Errorf("%s: symbolic link loop: it leads to %s, which holds %s", path, resolved, open)
		}
	}
	return nil
}

// entryInfo is what the directory entry e at path is; for a symbolic link,
// what it leads to.
func entryInfo(path string, e fs.DirEntry, isLink bool) (fs.FileInfo, error) {
	if isLink {
		return statLocal(path)
	}
	fi, err := e.Info()
	if err != nil {
		return nil, localError(err)
	}
	return fi, nil
}

// statLocal is os.Stat, which follows symbolic links, with an error that
// says so when path is a link to nothing.
func statLocal(path string) (fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err == nil {
		return fi, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		if to, lerr := os.Readlink(path); lerr == nil {
			return nil, fmt.Errorf("%s: dangling symbolic link to %s: %w", path, to, errLocalNotFound)
		}
	}
	return nil, localError(err)
}

// realPath is the absolute path of the local directory dir with every
// symbolic link resolved.
func realPath(dir string) (string, error) {
	resolved, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", localError(err)
	}
	abs, err := filepath.Abs(resolved)
	if err != nil {
		return "", localError(err)
	}
	return abs, nil
}

// isLocalDir reports whether path is a local directory, or a link to one.
func isLocalDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// notRegular is the error for a local file that is neither a directory nor
// a regular file. Such a file is never opened: opening a named pipe blocks
// until something writes to it, and a device may never end.
func notRegular(path string, mode fs.FileMode) error {
	kind := "special file"
	switch {
	case mode&fs.ModeNamedPipe != 0:
		kind = "named pipe"
	case mode&fs.ModeSocket != 0:
		kind = "socket"
	case mode&fs.ModeCharDevice != 0:
		kind = "character device"
	case mode&fs.ModeDevice != 0:
		kind = "block device"
	}
	return fmt.Errorf("%s: not a regular file (%s)", path, kind)
}

// putFile uploads one file; it returns after the server has committed it.
func putFile(ctx context.Context, c *client, j putJob, o iputOptions, prog *progress) (*arcapb.Entry, error) {
	f, err := os.Open(j.local)
	if err != nil {
		return nil, localError(err)
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // a failed upload ends its stream, so the server aborts it
	stream, err := c.putStream(ctx)
	if err != nil {
		return nil, err
	}
	var h hash.Hash
	var r io.Reader = countingReader{r: f, p: prog}
	if o.verify {
		h = resources.NewHash()
		r = io.TeeReader(r, h)
	}
	header := &arcapb.PutHeader{Path: j.dest.String(), Size: j.size, Resource: o.resource, Overwrite: o.force, Verify: o.verify}
	if len(o.avus) > 0 {
		header.Metadata = avusPB(o.avus)
	}
	if j.size <= inlineLimit {
		// What is sent is what is read, not what stat said: procfs says
		// 0 bytes and sysfs 4096 for files of other lengths. Up to a
		// byte more than fits inline is read, to know whether it does.
		data, err := io.ReadAll(io.LimitReader(r, inlineLimit+1))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", j.local, err)
		}
		header.Data = data
		header.Size = int64(len(data))
		if len(data) > inlineLimit {
			header.Size = -1 // longer than stat said: its length is known at the end
		}
		if err := stream.Send(&arcapb.PutRequest{Part: &arcapb.PutRequest_Header{Header: header}}); err != nil {
			return nil, putError(stream, j, err)
		}
		if header.Size < 0 {
			if err := sendBody(c, stream, j, r); err != nil {
				return nil, err
			}
		}
	} else {
		if err := stream.Send(&arcapb.PutRequest{Part: &arcapb.PutRequest_Header{Header: header}}); err != nil {
			return nil, putError(stream, j, err)
		}
		if err := sendBody(c, stream, j, r); err != nil {
			return nil, err
		}
	}
	sum := ""
	if h != nil {
		sum = resources.FormatChecksum(h.Sum(nil))
		if err := stream.Send(&arcapb.PutRequest{Part: &arcapb.PutRequest_Trailer{Trailer: &arcapb.PutTrailer{Checksum: sum}}}); err != nil {
			return nil, putError(stream, j, err)
		}
	}
	e, err := stream.CloseAndRecv()
	if err != nil {
		return nil, explainPut(j, err)
	}
	if h != nil && e.Checksum != sum {
		return nil, checksumMismatch(j, e.Checksum, sum)
	}
	prog.fileDone()
	return e, nil
}

// sendBody sends what is left of r as the data messages of the put stream.
func sendBody(c *client, stream arcapb.Transfer_PutClient, j putJob, r io.Reader) error {
	// The next chunk is read (and hashed) while the one before is sent.
	bufs := [2][]byte{c.chunk(), c.chunk()}
	defer c.recycleChunk(bufs[0])
	defer c.recycleChunk(bufs[1])
	k := 0
	var readErr error
	_, err := overlap.Copy(sender{stream}, func() ([]byte, error) {
		buf := bufs[k%2] // overlap.Copy is done with the chunk before last
		k++
		n, err := io.ReadFull(r, buf)
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		if err != nil && err != io.EOF {
			readErr = fmt.Errorf("read %s: %w", j.local, err)
		}
		return buf[:n], err
	})
	if readErr != nil {
		return readErr
	}
	if err != nil {
		return putError(stream, j, err)
	}
	return nil
}

// sender sends what is written to it as the data messages of a put.
type sender struct{ stream arcapb.Transfer_PutClient }

func (s sender) Write(p []byte) (int, error) {
	if err := s.stream.Send(&arcapb.PutRequest{Part: &arcapb.PutRequest_Data{Data: p}}); err != nil {
		return 0, err
	}
	return len(p), nil
}

// putError fetches the server's reason when a Send fails: Send only says
// the stream ended.
func putError(stream arcapb.Transfer_PutClient, j putJob, err error) error {
	if errors.Is(err, io.EOF) {
		_, err = stream.CloseAndRecv()
	}
	return explainPut(j, err)
}

// checksumMismatch is the error of a put whose stored bytes are not the
// local file's.
func checksumMismatch(j putJob, server, local string) error {
	return fmt.Errorf("%s: the server recorded checksum %s, the local file has %s", j.dest, server, local)
}

func explainPut(j putJob, err error) error {
	if status.Code(err) == codes.AlreadyExists {
		return fmt.Errorf("%s: %w (use -f to overwrite)", j.local, err)
	}
	return fmt.Errorf("%s: %w", j.local, err)
}
