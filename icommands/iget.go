package icommands

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/nocache"
	"github.com/arca-data/arca/internal/overlap"
	"github.com/arca-data/arca/resources"
)

type igetOptions struct {
	recursive, force, verify bool
	// sum: hash what arrives, to report its checksum (--json), refusing
	// bytes that differ from the catalog's checksum as -K does.
	sum     bool
	threads int
	noWait  bool
	// replica (-n, when replicaSet) and resource (-R) choose the replica read.
	replica    int
	replicaSet bool
	resource   string
	// notify says what iget waits for (a recall from tape).
	notify func(format string, args ...any)
}

func newIget(a *app) *cobra.Command {
	var o igetOptions
	cmd := &cobra.Command{
		Use:   "iget [-r] [-f] [-K] [-N THREADS] [-n REPLICA] [-R RESOURCE] DATA_OBJECT|COLLECTION... [LOCAL|-]",
		Short: "Download data objects and collections",
		Long: `iget downloads data objects into local files, and with -r collections
into directories: "iget -r COLL DIR" creates DIR/<collection name> when DIR
is an existing directory; otherwise DIR itself becomes the copy of COLL, as
with cp -r. A file appears under its name only once it is complete. -K
verifies the SHA-256 of what arrived against the catalog. -f overwrites
existing local files. New files get mode 0666 less the umask, as with cp.
"iget DATA_OBJECT -" writes the data object to standard output, as in
iRODS (name a local file called - as ./-). With -K a checksum mismatch is
found only at the end, after the bytes were written, and iget fails.
A data object whose replicas are all on tape is recalled first: iget says so
and waits, or with --no-wait queues the recall and fails at once (try again
later). With --json the checksum printed is that of the bytes received:
iget computes it and, as with -K, keeps no file whose bytes differ from
the catalog's checksum.
By default iget reads the best good replica and falls back to another. As in
iRODS, -n REPLICA reads the replica with that number (numbers start at 0, as
ils -l shows them) and -R RESOURCE the replica on that resource (a leaf, or
the root of a tree holding one); then no other is read. A stale replica is
read only when so chosen (its older bytes are what was asked for; iget says
so); one being written (intermediate) is refused.`,
		Annotations: map[string]string{jsonLines: "file downloaded"},
		Example: `  iget results.csv
  iget -K big.tar /scratch/
  iget -r run42 ~/data       # creates ~/data/run42 if ~/data exists, else ~/data is the copy
  iget -K table.csv - | head # to standard output
  iget -n 1 results.csv      # replica 1
  iget -R archive results.csv old.csv`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("name at least one data object")
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
			o.notify = func(format string, args ...any) { fmt.Fprintf(a.Err, "iget: "+format+"\n", args...) }
			o.replicaSet = cmd.Flags().Changed("replica")
			if o.replicaSet && o.replica < 0 {
				return usagef("-n takes a replica number, 0 or more, got %d", o.replica)
			}
			o.sum = a.json
			// "-" as the target is standard output, as in iRODS.
			if len(args) > 1 && args[len(args)-1] == "-" {
				return runIgetStdout(cmd.Context(), a, args[:len(args)-1], o)
			}
			return runIget(cmd.Context(), a, args, o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.recursive, "recursive", "r", false, "download collections")
	f.BoolVarP(&o.force, "force", "f", false, "overwrite existing local files")
	f.BoolVarP(&o.verify, "verify", "K", false, "verify checksums")
	f.IntVarP(&o.threads, "threads", "N", 8, "files downloaded at once (0: one at a time, as 1)")
	addTicketFlag(a, cmd)
	f.BoolVar(&o.noWait, "no-wait", false, "do not wait for a recall from tape: queue it and fail")
	f.IntVarP(&o.replica, "replica", "n", 0, "read the replica with this number")
	f.StringVarP(&o.resource, "resource", "R", "", "read the replica on this resource")
	addAdminFlag(a, cmd)
	return cmd
}

type getJob struct {
	src   catalog.Path
	local string
	size  int64
}

func runIget(ctx context.Context, a *app, args []string, o igetOptions) error {
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	sources, target := args, "."
	targetGiven := false
	if len(args) > 1 {
		sources, target, targetGiven = args[:len(args)-1], args[len(args)-1], true
	}
	fi, statErr := os.Stat(target)
	targetIsDir := statErr == nil && fi.IsDir()
	if len(sources) > 1 && !targetIsDir {
		return localError(fmt.Errorf("%s: with several sources the target must be an existing directory: %w", target, os.ErrNotExist))
	}
	var jobs []getJob
	var total int64
	for _, arg := range sources {
		p, err := c.resolve(arg)
		if err != nil {
			return err
		}
		e, err := c.stat(ctx, p)
		if err != nil {
			return err
		}
		local := target
		if targetIsDir || !targetGiven {
			local = filepath.Join(target, p.Name())
		}
		if e.Kind == arcapb.EntryKind_ENTRY_KIND_DATA_OBJECT {
			if targetGiven && statErr != nil && endsInSeparator(target) {
				// "iget a.txt newdir/" asks for newdir/a.txt; newdir must
				// exist, as with cp. Say so before downloading anything.
				return partError(target, statErr)
			}
			jobs = append(jobs, getJob{src: p, local: local, size: e.Size})
			total += e.Size
			continue
		}
		if !o.recursive {
			return usagef("%s is a collection: use -r", p)
		}
		treeJobs, size, err := planCollection(ctx, c, p, local)
		if err != nil {
			return err
		}
		// Recalls from tape queued all at once mount each cartridge once;
		// a server without tape (or an older one) just says so.
		if resp, err := c.repls.Stage(ctx, &arcapb.StageRequest{Path: p.String(), Recursive: true}); err == nil && resp.Queued > 0 {
			o.notify("%d data object(s) below %s are being recalled from tape", resp.Queued, p)
		}
		jobs = append(jobs, treeJobs...)
		total += size
	}
	prog := newProgress(a, total, "iget")
	defer prog.finish()
	return runParallel(ctx, a, "iget", jobs, o.threads, func(ctx context.Context, j getJob) error {
		e, err := getVerified(ctx, c, j, o, prog)
		if err != nil {
			return err
		}
		if a.json {
			m := map[string]any{"path": j.src.String(), "local": j.local, "size": e.Size, "checksum": e.Checksum}
			if len(e.Replicas) == 1 { // the replica read
				m["replica"], m["resource"], m["status"] = e.Replicas[0].Number, e.Replicas[0].Resource, e.Replicas[0].Status
			}
			return a.printJSON(m)
		}
		return nil
	})
}

// planCollection makes the local directories of a collection tree and lists
// its data objects.
func planCollection(ctx context.Context, c *client, coll catalog.Path, dir string) ([]getJob, int64, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, localError(err)
	}
	stream, err := c.ns.List(ctx, &arcapb.ListRequest{Path: coll.String(), Recursive: true})
	if err != nil {
		return nil, 0, err
	}
	var jobs []getJob
	var total int64
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			return jobs, total, nil
		}
		if err != nil {
			return nil, 0, err
		}
		for _, e := range resp.Entries {
			p := catalog.MustPath(e.Path)
			rel := p.Rebase(coll, catalog.MustPath("/")).Components()
			local := filepath.Join(append([]string{dir}, rel...)...)
			if e.Kind == arcapb.EntryKind_ENTRY_KIND_COLLECTION {
				if err := os.MkdirAll(local, 0o755); err != nil {
					return nil, 0, localError(err)
				}
				continue
			}
			jobs = append(jobs, getJob{src: p, local: local, size: e.Size})
			total += e.Size
		}
	}
}

// runIgetStdout writes one data object to standard output ("iget OBJ -").
// The bytes go out as they arrive, so with -K a mismatch can only be told
// after they were written.
func runIgetStdout(ctx context.Context, a *app, sources []string, o igetOptions) error {
	if o.recursive {
		return usagef("-r cannot write to standard output (-): name a local directory")
	}
	if len(sources) != 1 {
		return usagef("standard output (-) takes one data object, got %d", len(sources))
	}
	if a.json {
		return usagef("--json cannot be used with standard output (-): both would write there")
	}
	c, err := a.connect(ctx)
	if err != nil {
		return err
	}
	p, err := c.resolve(sources[0])
	if err != nil {
		return err
	}
	e, err := c.stat(ctx, p)
	if err != nil {
		return err
	}
	if e.Kind != arcapb.EntryKind_ENTRY_KIND_DATA_OBJECT {
		return usagef("%s is a collection: only a data object can go to standard output", p)
	}
	// The bar goes to standard error; if standard output is the same
	// terminal, it would be drawn over the data, so then only count.
	prog := &progress{}
	if !isTerminal(a.Out) {
		prog = newProgress(a, e.Size, "iget")
	}
	defer prog.finish()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, head, err := openGet(ctx, c, p, o)
	if err != nil {
		return err
	}
	var h hash.Hash
	if o.verify {
		h = resources.NewHash()
	}
	n, recvErr, writeErr := receive(a.Out, stream, h, prog)
	if recvErr != nil {
		if n > 0 {
			return fmt.Errorf("%s: %w (the first %d bytes were already written to standard output)", p, recvErr, n)
		}
		return fmt.Errorf("%s: %w", p, recvErr)
	}
	if writeErr != nil {
		return fmt.Errorf("%s: writing to standard output: %w", p, writeErr)
	}
	if n != head.Size {
		return fmt.Errorf("%s: received %d bytes, the catalog says %d; they were already written to standard output", p, n, head.Size)
	}
	if h != nil {
		if got := resources.FormatChecksum(h.Sum(nil)); got != head.Checksum {
			return fmt.Errorf("%s: checksum mismatch: received %s, the catalog says %s; the bytes were already written to standard output", p, got, head.Checksum)
		}
	}
	prog.fileDone()
	return nil
}

// errBytesDiffer is a download whose bytes differ from the catalog's
// checksum.
var errBytesDiffer = errors.New("checksum mismatch")

// getVerified is getFile, and with -K, when the bytes received differ from
// the catalog, it has the zone verify every good replica of the object
// (ichksum -K: a replica found bad is marked stale and no longer served)
// and tries once more, so that another good replica is read before iget
// gives up.
func getVerified(ctx context.Context, c *client, j getJob, o igetOptions, prog *progress) (*arcapb.Entry, error) {
	e, err := getFile(ctx, c, j, o, prog)
	if !o.verify || !errors.Is(err, errBytesDiffer) {
		return e, err
	}
	if _, verr := c.ns.Checksum(ctx, &arcapb.ChecksumRequest{Path: j.src.String(), Verify: true}); verr == nil {
		return e, err // every good replica checks out: the bytes went wrong on the way; nothing to fall back to
	}
	if again, aerr := getFile(ctx, c, j, o, prog); aerr == nil {
		return again, nil
	}
	return e, err
}

// getFile downloads one data object into a hidden part file beside its
// destination and renames it into place when it is complete and verified.
func getFile(ctx context.Context, c *client, j getJob, o igetOptions, prog *progress) (*arcapb.Entry, error) {
	if _, err := os.Lstat(j.local); err == nil && !o.force {
		return nil, fmt.Errorf("local file %s exists (use -f to overwrite)", j.local)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, head, err := openGet(ctx, c, j.src, o)
	if err != nil {
		return nil, err
	}
	// Errors about the part file name j.local: the part file's own name
	// means nothing to the user, and it is removed on failure.
	tmp, err := createPart(j.local)
	if err != nil {
		return nil, partError(j.local, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	var h hash.Hash
	if o.verify || o.sum {
		h = resources.NewHash()
	}
	// A large download goes to disk while it streams and leaves the page
	// cache behind it, instead of filling memory with dirty pages.
	n, recvErr, writeErr := receive(nocache.NewWriter(tmp), stream, h, prog)
	if recvErr != nil {
		return nil, fmt.Errorf("%s: %w", j.src, recvErr)
	}
	if writeErr != nil {
		return nil, partError(j.local, writeErr)
	}
	if n != head.Size {
		return nil, fmt.Errorf("%s: received %d bytes, the catalog says %d", j.src, n, head.Size)
	}
	if h != nil {
		// Without -K, an object with no checksum recorded has nothing to
		// differ from.
		got := resources.FormatChecksum(h.Sum(nil))
		if got != head.Checksum && (o.verify || head.Checksum != "") {
			return nil, fmt.Errorf("%s: %w: received %s, the catalog says %s; the file was not kept", j.src, errBytesDiffer, got, head.Checksum)
		}
		head.Checksum = got // what was received
	}
	if err := tmp.Close(); err != nil {
		return nil, partError(j.local, err)
	}
	if err := os.Rename(tmp.Name(), j.local); err != nil {
		return nil, partError(j.local, err)
	}
	done = true
	prog.fileDone()
	return head, nil
}

// openGet starts the download of src and returns the stream positioned
// after its header, and the header.
func openGet(ctx context.Context, c *client, src catalog.Path, o igetOptions) (arcapb.Transfer_GetClient, *arcapb.Entry, error) {
	req := &arcapb.GetRequest{Path: src.String(), Resource: o.resource, NoWait: true}
	if o.replicaSet {
		req.Replica = proto.Int32(int32(o.replica))
	}
	// Ask without waiting first, so that a recall from tape can be told.
	stream, err := c.getStream(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	first, err := stream.Recv()
	if isStaging(err) && !o.noWait {
		if o.notify != nil {
			o.notify("%s is being recalled from tape; waiting for it", src)
		}
		req.NoWait = false
		if stream, err = c.getStream(ctx, req); err != nil {
			return nil, nil, err
		}
		first, err = stream.Recv()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", src, err)
	}
	head := first.GetHeader()
	if head == nil {
		return nil, nil, fmt.Errorf("%s: the server sent data before the header", src)
	}
	if len(head.Replicas) == 1 && head.Replicas[0].Status != "good" && o.notify != nil {
		r := head.Replicas[0]
		o.notify("%s: replica %d on %s is %s: its bytes are older than the good replica's", src, r.Number, r.Resource, r.Status)
	}
	return stream, head, nil
}

// receive writes the data that follows the header on stream to w, hashing
// it into h if h is set, and returns how many bytes w took. recvErr is a
// failure of the stream, writeErr one of w; they are told apart because
// they are reported about different things.
func receive(w io.Writer, stream arcapb.Transfer_GetClient, h hash.Hash, prog *progress) (n int64, recvErr, writeErr error) {
	// The next chunk is received (and hashed) while the one before is
	// written.
	n, err := overlap.Copy(w, func() ([]byte, error) {
		msg, err := stream.Recv()
		if err != nil {
			if err != io.EOF {
				recvErr = err
			}
			return nil, err
		}
		// Valid until the second Recv after this one (datachan.Stream.RecvMsg),
		// as long as overlap.Copy needs it.
		data := msg.GetData()
		if h != nil {
			h.Write(data)
		}
		prog.add(len(data))
		return data, nil
	})
	if recvErr != nil {
		return n, recvErr, nil
	}
	return n, nil, err
}

// isStaging reports whether err says a replica is being recalled.
func isStaging(err error) bool {
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.Unavailable && strings.Contains(st.Message(), "REPLICA_IS_BEING_STAGED")
}
