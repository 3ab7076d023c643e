package tape

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Stats counts what the library's drives did.
type Stats struct {
	Mounts    int64 // cartridges loaded into a drive
	Unmounts  int64
	Seeks     int64 // head moves to a new position
	SeekBytes int64 // bytes the head passed while seeking
	Recalls   int64 // files read back from a cartridge
	Appends   int64 // files written to a cartridge
}

// job is one piece of work on a cartridge: a recall or an append. run gets
// the cartridge's path and returns where the head is after it.
type job struct {
	ctx  context.Context
	cart int
	pos  int64 // where the head must go first
	seq  uint64
	run  func(path string) (end int64, err error)
	done chan error
}

type drive struct {
	id   int
	cart int // mounted cartridge, 0 when empty
	pos  int64
}

// library runs a fixed set of drives over a queue of jobs. A free drive
// takes the cartridge it holds if work waits for it; otherwise the cartridge
// whose oldest job waits longest, among those no other drive holds. It then
// serves every job of that cartridge, including those that arrive
// meanwhile, in head-position order (an elevator), before it looks
// elsewhere: a recall queue ordered by cartridge and position, so that a
// batch of recalls mounts each cartridge once.
type library struct {
	cfg  Config
	path func(cart int) string

	mu      sync.Mutex
	cond    *sync.Cond
	pending map[int][]*job
	held    map[int]int // cartridge -> drive id serving it
	drives  []*drive
	seq     uint64
	closed  bool
	stats   Stats
	wg      sync.WaitGroup
}

func newLibrary(cfg Config, path func(int) string) *library {
	l := &library{cfg: cfg, path: path, pending: map[int][]*job{}, held: map[int]int{}}
	l.cond = sync.NewCond(&l.mu)
	for i := range cfg.Drives {
		d := &drive{id: i + 1}
		l.drives = append(l.drives, d)
		l.wg.Go(func() { l.work(d) })
	}
	return l
}

// submit queues jobs atomically, so that a drive sees the whole batch when
// it chooses a cartridge.
func (l *library) submit(jobs ...*job) {
	l.mu.Lock()
	for _, j := range jobs {
		l.seq++
		j.seq = l.seq
		l.pending[j.cart] = append(l.pending[j.cart], j)
	}
	l.mu.Unlock()
	l.cond.Broadcast()
}

func (l *library) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.cond.Broadcast()
	l.wg.Wait()
}

func (l *library) snapshot() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// pick returns the cartridge d should serve next, or 0. Called with l.mu held.
func (l *library) pick(d *drive) int {
	if len(l.pending[d.cart]) > 0 {
		return d.cart
	}
	best, bestSeq := 0, uint64(0)
	for cart, jobs := range l.pending {
		if len(jobs) == 0 {
			continue
		}
		if _, ok := l.held[cart]; ok {
			continue
		}
		// An idle drive that holds it mounted will take it.
		mountedElsewhere := false
		for _, o := range l.drives {
			if o != d && o.cart == cart {
				mountedElsewhere = true
			}
		}
		if mountedElsewhere {
			continue
		}
		oldest := jobs[0].seq
		for _, j := range jobs {
			oldest = min(oldest, j.seq)
		}
		if best == 0 || oldest < bestSeq {
			best, bestSeq = cart, oldest
		}
	}
	return best
}

// next removes and returns the job of cart nearest ahead of pos, or the
// lowest behind it once none is ahead. Called with l.mu held.
func (l *library) next(cart int, pos int64) *job {
	jobs := l.pending[cart]
	if len(jobs) == 0 {
		return nil
	}
	i := -1
	for k, j := range jobs {
		if j.pos >= pos && (i < 0 || j.pos < jobs[i].pos || jobs[i].pos < pos) {
			i = k
		}
	}
	if i < 0 {
		for k, j := range jobs {
			if i < 0 || j.pos < jobs[i].pos || j.pos == jobs[i].pos && j.seq < jobs[i].seq {
				i = k
			}
		}
	}
	j := jobs[i]
	l.pending[cart] = slices.Delete(jobs, i, i+1)
	if len(l.pending[cart]) == 0 {
		delete(l.pending, cart)
	}
	return j
}

func (l *library) work(d *drive) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		cart := 0
		for !l.closed {
			if cart = l.pick(d); cart != 0 {
				break
			}
			l.cond.Wait()
		}
		if l.closed {
			for _, jobs := range l.pending {
				for _, j := range jobs {
					j.done <- errClosed
				}
			}
			clear(l.pending)
			return
		}
		l.held[cart] = d.id
		if d.cart != cart {
			l.mu.Unlock()
			l.swap(d, cart)
			l.mu.Lock()
		}
		for j := l.next(cart, d.pos); j != nil; j = l.next(cart, d.pos) {
			l.mu.Unlock()
			l.serve(d, j)
			l.mu.Lock()
		}
		delete(l.held, cart)
		l.cond.Broadcast()
	}
}

// swap unloads d's cartridge (seeking back to the start, then rewinding)
// and loads cart.
func (l *library) swap(d *drive, cart int) {
	if d.cart != 0 {
		sleep(l.seekTime(d.pos) + l.cfg.RewindLatency)
		l.count(func(s *Stats) { s.Unmounts++ })
	}
	sleep(l.cfg.MountLatency)
	// Other drives read d.cart when they choose (pick), under l.mu.
	l.mu.Lock()
	d.cart, d.pos = cart, 0
	l.stats.Mounts++
	l.mu.Unlock()
}

func (l *library) serve(d *drive, j *job) {
	if err := j.ctx.Err(); err != nil {
		j.done <- err // nobody waits for it any more
		return
	}
	if dist := abs(j.pos - d.pos); dist > 0 {
		sleep(l.seekTime(dist))
		l.count(func(s *Stats) { s.Seeks++; s.SeekBytes += dist })
	}
	d.pos = j.pos
	end, err := j.run(l.path(d.cart))
	if err == nil {
		d.pos = end
	}
	j.done <- err
}

func (l *library) count(f func(*Stats)) {
	l.mu.Lock()
	f(&l.stats)
	l.mu.Unlock()
}

func (l *library) seekTime(bytes int64) time.Duration {
	if l.cfg.SeekRate <= 0 {
		return 0
	}
	return time.Duration(float64(bytes) / float64(l.cfg.SeekRate) * float64(time.Second))
}

func sleep(d time.Duration) {
	if d > 0 {
		time.Sleep(d)
	}
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
