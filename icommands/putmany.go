package icommands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/resources"
)

// putManyLimit is the largest file iput sends over a PutMany stream (the
// server's arcapb.PutManyMaxFile); larger files get a Put stream of their own.
const putManyLimit = arcapb.PutManyMaxFile

// errPutManyUnsupported means the server has no PutMany: the files go one
// Put stream each, as before it existed.
var errPutManyUnsupported = errors.New("the server has no PutMany")

// putMany uploads small files over one PutMany stream, at most n at once,
// and calls report once for every job, with the entry the server committed
// or the reason it did not. When the server has no PutMany it returns
// errPutManyUnsupported and the jobs it has not reported.
func putMany(ctx context.Context, c *client, jobs []putJob, o iputOptions, n int, prog *progress,
	report func(putJob, *arcapb.Entry, error)) ([]putJob, error) {
	reported := make([]bool, len(jobs))
	done := func(i int, e *arcapb.Entry, err error) {
		reported[i] = true
		report(jobs[i], e, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.xfer.PutMany(ctx)
	if err != nil {
		return jobs, err
	}
	var (
		mu       sync.Mutex
		inFlight = map[uint64]string{} // job index -> its checksum with -K
		sendErr  error                 // why the sender stopped early
		answered bool
	)
	slots := make(chan struct{}, n)
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		defer stream.CloseSend()
		for i, j := range jobs {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			h, sum, err := wholeFile(j, o, prog)
			mu.Lock()
			if err != nil {
				done(i, nil, err)
				mu.Unlock()
				<-slots
				continue
			}
			inFlight[uint64(i)] = sum
			mu.Unlock()
			if err := stream.Send(&arcapb.PutManyRequest{Id: uint64(i), File: h}); err != nil {
				// The stream ended; Recv below says why.
				mu.Lock()
				sendErr = err
				mu.Unlock()
				return
			}
		}
	}()

	var streamErr error
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			streamErr = err
			break
		}
		mu.Lock()
		sum, ok := inFlight[resp.Id]
		delete(inFlight, resp.Id)
		answered = true
		if ok {
			i := int(resp.Id)
			switch {
			case resp.Status != nil:
				done(i, nil, explainPut(jobs[i], status.ErrorProto(resp.Status)))
			case sum != "" && resp.Entry.GetChecksum() != sum:
				done(i, nil, checksumMismatch(jobs[i], resp.Entry.GetChecksum(), sum))
			default:
				prog.fileDone()
				done(i, resp.Entry, nil)
			}
		}
		mu.Unlock()
		if !ok {
			streamErr = fmt.Errorf("the server answered for file %d, which is not being sent", resp.Id)
			break
		}
		<-slots
	}
	cancel()
	<-senderDone
	mu.Lock()
	defer mu.Unlock()
	if streamErr == nil && !slices.Contains(reported, false) {
		return nil, nil
	}
	if streamErr == nil {
		streamErr = sendErr
	}
	if streamErr == nil {
		streamErr = errors.New("the server ended the stream before answering every file")
	}
	if !answered && status.Code(streamErr) == codes.Unimplemented {
		var rest []putJob
		for i, j := range jobs {
			if !reported[i] {
				rest = append(rest, j)
			}
		}
		return rest, errPutManyUnsupported
	}
	// Files in flight when the stream broke may or may not have been
	// committed: the client was not told, so they count as failed.
	for i, j := range jobs {
		if !reported[i] {
			done(i, nil, explainPut(j, streamErr))
		}
	}
	return nil, nil
}

// errTooLargeForPutMany is the error of a file that turned out longer than
// PutMany takes, though stat said it was not (procfs says 0 bytes): it goes
// over a Put stream of its own.
var errTooLargeForPutMany = errors.New("longer than PutMany takes")

// wholeFile reads the file of j into a put header, with its checksum when
// o.verify asks for one (the server then refuses bytes that differ). The
// size sent is that of the bytes read, not stat's: procfs says 0 bytes and
// sysfs 4096 for files of other lengths.
func wholeFile(j putJob, o iputOptions, prog *progress) (*arcapb.PutHeader, string, error) {
	f, err := os.Open(j.local)
	if err != nil {
		return nil, "", localError(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, putManyLimit+1))
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", j.local, err)
	}
	if len(data) > putManyLimit {
		return nil, "", fmt.Errorf("%s: %w", j.local, errTooLargeForPutMany)
	}
	prog.add(len(data))
	h := &arcapb.PutHeader{Path: j.dest.String(), Size: int64(len(data)), Resource: o.resource, Overwrite: o.force, Data: data}
	if len(o.avus) > 0 {
		h.Metadata = avusPB(o.avus)
	}
	sum := ""
	if o.verify {
		hash := resources.NewHash()
		hash.Write(data)
		sum = resources.FormatChecksum(hash.Sum(nil))
		h.Checksum = sum
	}
	return h, sum, nil
}
