package icommands

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
)

// faultyTransfer is a Transfer client whose PutMany stream answers the
// first answered requests and then ends with end: fault injection for the
// client's side of PutMany. The real server is tested in zones.
type faultyTransfer struct {
	arcapb.TransferClient
	answered int
	end      error
}

func (f *faultyTransfer) PutMany(ctx context.Context, _ ...grpc.CallOption) (grpc.BidiStreamingClient[arcapb.PutManyRequest, arcapb.PutManyResponse], error) {
	return &faultyStream{ctx: ctx, left: f.answered, end: f.end, reqs: make(chan *arcapb.PutManyRequest, 1000)}, nil
}

type faultyStream struct {
	grpc.ClientStream
	ctx  context.Context
	left int
	end  error
	reqs chan *arcapb.PutManyRequest
	once sync.Once
}

func (s *faultyStream) Send(r *arcapb.PutManyRequest) error {
	select {
	case s.reqs <- r:
		return nil
	case <-s.ctx.Done():
		return io.EOF
	}
}

func (s *faultyStream) CloseSend() error {
	s.once.Do(func() { close(s.reqs) })
	return nil
}

func (s *faultyStream) Recv() (*arcapb.PutManyResponse, error) {
	if s.left == 0 {
		return nil, s.end
	}
	select {
	case r, ok := <-s.reqs:
		if !ok {
			return nil, io.EOF
		}
		s.left--
		return &arcapb.PutManyResponse{Id: r.Id, Entry: &arcapb.Entry{Path: r.File.Path, Size: r.File.Size}}, nil
	case <-s.ctx.Done():
		return nil, s.ctx.Err()
	}
}

func TestPutManyClientFaults(t *testing.T) {
	dir := t.TempDir()
	var jobs []putJob
	for i := range 10 {
		local := filepath.Join(dir, fmt.Sprintf("f%d", i))
		if err := os.WriteFile(local, []byte("data"), 0o600); err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, putJob{local: local, size: 4, dest: catalog.MustPath(fmt.Sprintf("/tempZone/f%d", i))})
	}
	// A file that vanished after planning fails alone, locally.
	jobs = append(jobs, putJob{local: filepath.Join(dir, "gone"), size: 4, dest: catalog.MustPath("/tempZone/gone")})

	// Against an old server the jobs not yet reported (the missing file
	// may or may not have been read) are left for Put.
	cases := []struct {
		name     string
		xfer     *faultyTransfer
		ok, fail int
		fallback bool // errPutManyUnsupported
	}{
		{"all answered", &faultyTransfer{answered: 10, end: io.EOF}, 10, 1, false},
		{"broken after 4", &faultyTransfer{answered: 4, end: status.Error(codes.Unavailable, "connection reset")}, 4, 7, false},
		{"old server", &faultyTransfer{answered: 0, end: status.Error(codes.Unimplemented, "unknown method PutMany")}, 0, -1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := &client{xfer: c.xfer}
			var mu sync.Mutex
			reported := map[string]error{}
			rest, err := putMany(context.Background(), cl, jobs, iputOptions{}, 3, &progress{}, func(j putJob, e *arcapb.Entry, err error) {
				mu.Lock()
				defer mu.Unlock()
				if _, twice := reported[j.local]; twice {
					t.Errorf("%s reported twice", j.local)
				}
				reported[j.local] = err
				if err == nil && (e == nil || e.Path != j.dest.String()) {
					t.Errorf("%s: entry %v", j.local, e)
				}
			})
			if (err == errPutManyUnsupported) != c.fallback {
				t.Fatalf("err = %v, fallback %v", err, c.fallback)
			}
			ok, fail := 0, 0
			for _, err := range reported {
				if err == nil {
					ok++
				} else {
					fail++
				}
			}
			if ok != c.ok || (c.fail >= 0 && fail != c.fail) || (c.fallback != (len(rest) > 0)) {
				t.Errorf("%d stored, %d failed, %d left for Put; want %d, %d", ok, fail, len(rest), c.ok, c.fail)
			}
			if len(reported)+len(rest) != len(jobs) {
				t.Errorf("%d reported + %d left of %d jobs", len(reported), len(rest), len(jobs))
			}
		})
	}
}
