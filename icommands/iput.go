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
durable on the resource and the catalog has recorded a good replica.
-K computes the checksum while sending and the server refuses the upload if
the bytes it stored differ. -f overwrites existing data objects.
--metadata attaches AVUs to every data object put: "attr;value;unit;..."
triplets, the unit may be empty ("a;1;;b;2"), "\;" is a literal ";". They
are recorded in the same catalog transaction that makes the object good, so
no object appears without them; on an overwrite they are added to the AVUs
the object has.`,
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
			if o.threads < 1 || o.threads > 256 {
				return usagef("-N must be between 1 and 256, got %d", o.threads)
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
	f.IntVarP(&o.threads, "threads", "N", 32, "files uploaded at once")
	f.StringVar(&o.metadata, "metadata", "", `AVUs to attach to every object: "attr;value;unit;..."`)
	addTicketFlag(a, cmd)
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
		if !targetIsColl && len(sources) > 1 {
			return fmt.Errorf("%s is not a collection: with several sources the target must be one", target)
		}
	}

	var jobs []putJob
	var total int64
	for _, src := range sources {
		fi, err := os.Stat(src)
		if err != nil {
			return localError(err)
		}
		dest := target
		if targetIsColl {
			if dest, err = target.Join(filepath.Base(filepath.Clean(src))); err != nil {
				return fmt.Errorf("local name %q cannot be a data object name: %w", filepath.Base(src), err)
			}
		}
		if !fi.IsDir() {
			jobs = append(jobs, putJob{local: src, size: fi.Size(), dest: dest})
			total += fi.Size()
			continue
		}
		if !o.recursive {
			return usagef("%s is a directory: use -r", src)
		}
		dirJobs, size, err := planDirectory(ctx, c, src, dest)
		if err != nil {
			return err
		}
		jobs = append(jobs, dirJobs...)
		total += size
	}

	prog := newProgress(a, total, "iput")
	defer prog.finish()
	log := &transferLog{a: a, total: len(jobs)}
	printed := func(j putJob, e *arcapb.Entry) error {
		if a.json {
			return a.printJSON(map[string]any{"local": j.local, "path": e.Path, "size": e.Size, "checksum": e.Checksum})
		}
		return nil
	}
	// Small files share one PutMany stream: one request each instead of a
	// stream each, which is most of what a small file costs.
	small, large := splitBySize(jobs, putManyLimit)
	if len(small) > 1 {
		rest, err := putMany(ctx, c, small, o, o.threads, prog, func(j putJob, e *arcapb.Entry, err error) {
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

// planDirectory creates the collections of a local tree and lists its files.
func planDirectory(ctx context.Context, c *client, dir string, dest catalog.Path) ([]putJob, int64, error) {
	var jobs []putJob
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return localError(err)
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		logical := dest
		if rel != "." {
			for _, part := range splitPath(rel) {
				if logical, err = logical.Join(part); err != nil {
					return fmt.Errorf("local path %q cannot be a logical path: %w", path, err)
				}
			}
		}
		switch {
		case d.IsDir():
			_, err := c.ns.MakeCollection(ctx, &arcapb.MakeCollectionRequest{Path: logical.String(), Parents: rel == "."})
			if err != nil && status.Code(err) != codes.AlreadyExists {
				return err
			}
		case d.Type().IsRegular():
			fi, err := d.Info()
			if err != nil {
				return localError(err)
			}
			jobs = append(jobs, putJob{local: path, size: fi.Size(), dest: logical})
			total += fi.Size()
		}
		return nil
	})
	return jobs, total, err
}

func splitPath(rel string) []string {
	var parts []string
	for rel != "" && rel != "." {
		dir, file := filepath.Split(rel)
		parts = append([]string{file}, parts...)
		rel = filepath.Clean(dir)
		if dir == "" {
			break
		}
	}
	return parts
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
		data := make([]byte, j.size)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, fmt.Errorf("read %s: %w", j.local, err)
		}
		header.Data = data
		if err := stream.Send(&arcapb.PutRequest{Part: &arcapb.PutRequest_Header{Header: header}}); err != nil {
			return nil, putError(stream, j, err)
		}
	} else {
		if err := stream.Send(&arcapb.PutRequest{Part: &arcapb.PutRequest_Header{Header: header}}); err != nil {
			return nil, putError(stream, j, err)
		}
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
			return nil, readErr
		}
		if err != nil {
			return nil, putError(stream, j, err)
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
