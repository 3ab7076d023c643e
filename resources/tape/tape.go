// Package tape is a virtual tape library behind the resources.Resource
// interface: no tape drive exists on the machines Arca is tested on, so
// cartridges are append-only files, each a tar stream, served by a fixed
// number of drives that take time to mount a cartridge, seek and rewind.
//
// A write is spooled to disk while the client sends it (a tar header needs
// the size first, and a tape cannot seek back), then appended at Commit as
// one tar entry to the cartridge being filled, which is fsynced, and
// recorded in an index that is an fsynced append-only log. The spooled copy
// stays online in the stage area, as an HSM keeps a disk copy.
//
// A read of a file that is not online is a recall: it is queued, a drive
// mounts the cartridge, seeks to the file and copies it into the stage area,
// checking its SHA-256 against the index, and Open returns once it is there.
// The library orders queued recalls by cartridge and position (see
// library), so Stage of many keys at once mounts each cartridge once.
// Remove drops a file from the index and the stage area; its bytes stay on
// the cartridge, as on a real tape, until the cartridge is repacked.
//
// Layout of Dir: cartridges/NNNNNN.tar, index.log, spool/, stage/.
package tape

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/arca-data/arca/resources"
)

var (
	_ resources.Resource = (*Resource)(nil)
	_ resources.Stager   = (*Resource)(nil)
)

var errClosed = errors.New("tape library closed")

// entry is where a file is on tape.
type entry struct {
	Op       string    `json:"op"` // "put" or "del" in the log
	Key      string    `json:"key"`
	Cart     int       `json:"cart,omitempty"`
	Off      int64     `json:"off,omitempty"` // of the body in the cartridge's tar stream
	Size     int64     `json:"size,omitempty"`
	Checksum string    `json:"sum,omitempty"`
	ModTime  time.Time `json:"mod,omitzero"`
}

// recall is a recall under way; Opens of its key wait for it.
type recall struct {
	done chan struct{}
	err  error
}

// Resource is a tape library. It is safe for concurrent use.
type Resource struct {
	cfg Config
	lib *library

	mu         sync.Mutex
	index      map[string]entry
	log        *os.File
	writing    map[string]bool
	recalls    map[string]*recall
	failed     map[string]recallFailure // the last recall of a key, if it failed lately
	appendCart int
	appendUsed int64 // bytes of appendCart used or reserved
	staged     map[string]stagedFile
	stageUsed  int64
}

// recallFailure is a recall that failed, and when.
type recallFailure struct {
	err error
	at  time.Time
}

// RecallRetryAfter is how long Staged reports a failed recall before a new
// one may be tried: a client polling with --no-wait hears the failure
// instead of "being recalled" for ever.
const RecallRetryAfter = time.Minute

// stagedFile is an online copy, for the eviction of the least recently used.
type stagedFile struct {
	size int64
	used time.Time
}

// Open opens (or creates) the library in cfg.Dir and starts its drives.
// Close stops them.
func Open(cfg Config) (*Resource, error) {
	cfg.setDefaults()
	if cfg.Dir == "" {
		return nil, fmt.Errorf("tape: no directory")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("tape: %w", err)
	}
	cfg.Dir = dir
	for _, d := range []string{"cartridges", "spool", "stage"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("tape: %w", err)
		}
	}
	// Spooled files of writes that never committed are garbage.
	if spooled, err := os.ReadDir(filepath.Join(dir, "spool")); err == nil {
		for _, f := range spooled {
			os.Remove(filepath.Join(dir, "spool", f.Name()))
		}
	}
	r := &Resource{cfg: cfg, index: map[string]entry{}, writing: map[string]bool{}, recalls: map[string]*recall{}, failed: map[string]recallFailure{},
		staged: map[string]stagedFile{}}
	if err := r.replay(); err != nil {
		return nil, err
	}
	if r.log, err = os.OpenFile(filepath.Join(dir, "index.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("tape: %w", err)
	}
	if err := r.findAppendCartridge(); err != nil {
		r.log.Close()
		return nil, err
	}
	r.findStaged()
	r.lib = newLibrary(cfg, r.cartridgePath)
	return r, nil
}

// Close stops the drives and closes the index. Writers and readers must be
// done.
func (r *Resource) Close() error {
	r.lib.close()
	return r.log.Close()
}

// Stats returns what the drives did since Open.
func (r *Resource) Stats() Stats { return r.lib.snapshot() }

// Cartridges returns how many cartridges hold data.
func (r *Resource) Cartridges() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.appendCart
}

func (r *Resource) cartridgePath(cart int) string {
	if r.cfg.Device != "" {
		return r.cfg.Device
	}
	return filepath.Join(r.cfg.Dir, "cartridges", fmt.Sprintf("%06d.tar", cart))
}

func (r *Resource) replay() error {
	f, err := os.Open(filepath.Join(r.cfg.Dir, "index.log"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tape: index: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// A torn last record of a crash: it was never acknowledged.
			continue
		}
		switch e.Op {
		case "put":
			r.index[e.Key] = e
		case "del":
			delete(r.index, e.Key)
		}
	}
	return sc.Err()
}

// findAppendCartridge picks the last cartridge, whose free space the next
// append uses.
func (r *Resource) findAppendCartridge() error {
	r.appendCart = 1
	if r.cfg.Device != "" {
		if fi, err := os.Stat(r.cfg.Device); err == nil && fi.Mode().IsRegular() {
			r.appendUsed = fi.Size()
		}
		return nil
	}
	files, err := os.ReadDir(filepath.Join(r.cfg.Dir, "cartridges"))
	if err != nil {
		return fmt.Errorf("tape: %w", err)
	}
	for _, f := range files {
		n, err := strconv.Atoi(strings.TrimSuffix(f.Name(), ".tar"))
		if err != nil || n < r.appendCart {
			continue
		}
		info, err := f.Info()
		if err != nil {
			return fmt.Errorf("tape: %w", err)
		}
		r.appendCart, r.appendUsed = n, info.Size()
	}
	return nil
}

// record appends e to the index log and fsyncs it. Called with r.mu held.
func (r *Resource) record(e entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := r.log.Write(append(b, '\n')); err != nil {
		return err
	}
	if err := r.log.Sync(); err != nil {
		return err
	}
	delete(r.failed, e.Key) // a failed recall was of the bytes now replaced or gone
	return nil
}

func (r *Resource) errorf(op, key string, err error) error {
	return fmt.Errorf("tape: %s %q: %w", op, key, err)
}

func (r *Resource) lookup(op, key string) (entry, error) {
	if err := resources.CheckKey(key); err != nil {
		return entry{}, fmt.Errorf("tape: %s: %w", op, err)
	}
	r.mu.Lock()
	e, ok := r.index[key]
	r.mu.Unlock()
	if !ok {
		return e, r.errorf(op, key, resources.ErrNotFound)
	}
	return e, nil
}

// stagePath is the online copy of key: a flat name, so that "a" and "a/b"
// can both be staged.
func (r *Resource) stagePath(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(r.cfg.Dir, "stage", hex.EncodeToString(sum[:16]))
}

// Stat describes the file at key from the index, without a recall.
func (r *Resource) Stat(ctx context.Context, key string) (resources.Info, error) {
	e, err := r.lookup("stat", key)
	if err != nil {
		return resources.Info{}, err
	}
	return resources.Info{Key: key, Size: e.Size, ModTime: e.ModTime, Checksum: e.Checksum}, nil
}

// Walk lists the index in key order.
func (r *Resource) Walk(ctx context.Context, fn func(resources.Info) error) error {
	r.mu.Lock()
	entries := make([]entry, 0, len(r.index))
	for _, e := range r.index {
		entries = append(entries, e)
	}
	r.mu.Unlock()
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.Key, b.Key) })
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return r.errorf("walk", "", err)
		}
		if err := fn(resources.Info{Key: e.Key, Size: e.Size, ModTime: e.ModTime, Checksum: e.Checksum}); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return r.errorf("walk", "", err)
	}
	return nil
}

// Remove drops key from the index and the stage area.
func (r *Resource) Remove(ctx context.Context, key string) error {
	if err := resources.CheckKey(key); err != nil {
		return fmt.Errorf("tape: remove: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.index[key]; !ok {
		return r.errorf("remove", key, resources.ErrNotFound)
	}
	if err := r.record(entry{Op: "del", Key: key}); err != nil {
		return r.errorf("remove", key, err)
	}
	delete(r.index, key)
	r.unstage(key)
	return nil
}

// Staged reports whether key is online.
func (r *Resource) Staged(ctx context.Context, key string) (bool, error) {
	e, err := r.lookup("staged", key)
	if err != nil {
		return false, err
	}
	fi, err := os.Stat(r.stagePath(key))
	if err == nil && fi.Size() == e.Size {
		return true, nil
	}
	r.mu.Lock()
	f, failed := r.failed[key]
	r.mu.Unlock()
	if failed && time.Since(f.at) < RecallRetryAfter {
		return false, fmt.Errorf("the last recall failed %s ago, tried again after %s: %w",
			time.Since(f.at).Round(time.Second), RecallRetryAfter, f.err)
	}
	return false, nil
}

// Evict drops the online copy of key; the next read recalls it from tape.
func (r *Resource) Evict(key string) error {
	if _, err := r.lookup("evict", key); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.unstage(key); err != nil {
		return r.errorf("evict", key, err)
	}
	return nil
}

// findStaged notes the online copies left by an earlier run.
func (r *Resource) findStaged() {
	for key, e := range r.index {
		if fi, err := os.Stat(r.stagePath(key)); err == nil && fi.Size() == e.Size {
			r.staged[key] = stagedFile{size: e.Size, used: fi.ModTime()}
			r.stageUsed += e.Size
		}
	}
}

// noteStaged records the new online copy of key and evicts the least
// recently used others while the stage area is over its size. Called with
// r.mu held.
func (r *Resource) noteStaged(key string, size int64) {
	if old, ok := r.staged[key]; ok {
		r.stageUsed -= old.size
	}
	r.staged[key] = stagedFile{size: size, used: time.Now()}
	r.stageUsed += size
	for r.stageUsed > r.cfg.StageSize {
		victim, oldest := "", time.Time{}
		for k, f := range r.staged {
			if k != key && (victim == "" || f.used.Before(oldest)) {
				victim, oldest = k, f.used
			}
		}
		if victim == "" {
			return
		}
		r.unstage(victim)
	}
}

// unstage removes the online copy of key. Called with r.mu held.
func (r *Resource) unstage(key string) error {
	if f, ok := r.staged[key]; ok {
		r.stageUsed -= f.size
		delete(r.staged, key)
	}
	if err := os.Remove(r.stagePath(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// touchStaged marks the online copy of key as used now.
func (r *Resource) touchStaged(key string) {
	r.mu.Lock()
	if f, ok := r.staged[key]; ok {
		f.used = time.Now()
		r.staged[key] = f
	}
	r.mu.Unlock()
}

// Stage queues recalls of the keys that are not online, all at once.
func (r *Resource) Stage(ctx context.Context, keys ...string) error {
	_, err := r.stage(ctx, keys)
	return err
}

// stage queues the recalls and returns what to wait for, by key.
func (r *Resource) stage(ctx context.Context, keys []string) (map[string]*recall, error) {
	waits := map[string]*recall{}
	var jobs []*job
	r.mu.Lock()
	for _, key := range keys {
		if err := resources.CheckKey(key); err != nil {
			r.mu.Unlock()
			return nil, fmt.Errorf("tape: stage: %w", err)
		}
		e, ok := r.index[key]
		if !ok {
			r.mu.Unlock()
			return nil, r.errorf("stage", key, resources.ErrNotFound)
		}
		if rc, ok := r.recalls[key]; ok {
			waits[key] = rc
			continue
		}
		if fi, err := os.Stat(r.stagePath(key)); err == nil && fi.Size() == e.Size {
			continue
		}
		rc := &recall{done: make(chan struct{})}
		r.recalls[key] = rc
		waits[key] = rc
		// The recall runs for the library, not for this caller: a caller
		// that stops waiting leaves it to finish for the next reader.
		j := &job{ctx: context.WithoutCancel(ctx), cart: e.Cart, pos: e.Off, done: make(chan error, 1)}
		j.run = func(path string) (int64, error) { return r.recallRun(path, e) }
		jobs = append(jobs, j)
		go func() {
			err := <-j.done
			r.mu.Lock()
			rc.err = err
			delete(r.recalls, key)
			if err != nil {
				r.failed[key] = recallFailure{err: err, at: time.Now()}
			} else {
				delete(r.failed, key)
			}
			r.mu.Unlock()
			close(rc.done)
		}()
	}
	r.mu.Unlock()
	r.lib.submit(jobs...)
	return waits, nil
}

// recallRun copies e from the cartridge at path into the stage area,
// checking its checksum.
func (r *Resource) recallRun(path string, e entry) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("recall %q from cartridge %d: %w", e.Key, e.Cart, err)
	}
	defer f.Close()
	tmp := r.stagePath(e.Key) + ".part"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	h := resources.NewHash()
	n, err := io.Copy(io.MultiWriter(out, h), io.NewSectionReader(f, e.Off, e.Size))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != e.Size {
		err = fmt.Errorf("%w: cartridge %d ends %d bytes into %q of %d bytes", resources.ErrCorrupt, e.Cart, n, e.Key, e.Size)
	}
	if err == nil && e.Checksum != "" && resources.FormatChecksum(h.Sum(nil)) != e.Checksum {
		err = fmt.Errorf("%w: %q on cartridge %d at %d: checksum %s, the index says %s",
			resources.ErrCorrupt, e.Key, e.Cart, e.Off, resources.FormatChecksum(h.Sum(nil)), e.Checksum)
	}
	if err != nil {
		os.Remove(tmp)
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur, ok := r.index[e.Key]; !ok || cur.Cart != e.Cart || cur.Off != e.Off {
		os.Remove(tmp) // removed or rewritten meanwhile
	} else if err := os.Rename(tmp, r.stagePath(e.Key)); err != nil {
		return 0, err
	} else {
		r.noteStaged(e.Key, e.Size)
	}
	r.lib.count(func(s *Stats) { s.Recalls++ })
	return e.Off + e.Size, nil
}

// Open reads key from offset, recalling it first if it is not online.
func (r *Resource) Open(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	e, err := r.lookup("open", key)
	if err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, r.errorf("open", key, fmt.Errorf("negative offset %d", offset))
	}
	for attempt := 0; ; attempt++ {
		f, err := os.Open(r.stagePath(key))
		if err == nil {
			fi, serr := f.Stat()
			if serr == nil && fi.Size() == e.Size {
				r.touchStaged(key)
				if _, err := f.Seek(offset, io.SeekStart); err != nil {
					f.Close()
					return nil, r.errorf("open", key, err)
				}
				return f, nil
			}
			f.Close()
		}
		if attempt > 0 {
			return nil, r.errorf("open", key, fmt.Errorf("%w: recalled, but evicted again before it was read", resources.ErrUnavailable))
		}
		if err := r.wait(ctx, key); err != nil {
			return nil, err
		}
		if e, err = r.lookup("open", key); err != nil {
			return nil, err
		}
	}
}

// wait recalls key and waits until it is online.
func (r *Resource) wait(ctx context.Context, key string) error {
	waits, err := r.stage(ctx, []string{key})
	if err != nil {
		return err
	}
	rc, ok := waits[key]
	if !ok {
		return nil
	}
	select {
	case <-rc.done:
		if rc.err != nil {
			return r.errorf("recall", key, rc.err)
		}
		return nil
	case <-ctx.Done():
		return r.errorf("recall", key, ctx.Err())
	}
}

// Checksum reads key back from its cartridge and hashes it.
func (r *Resource) Checksum(ctx context.Context, key string) (string, error) {
	e, err := r.lookup("checksum", key)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", r.errorf("checksum", key, err)
	}
	// The medium is what is checked, not a copy online: the bytes are
	// read back from the cartridge through a drive, as a recall reads
	// them, and staged nowhere.
	var sum string
	j := &job{ctx: ctx, cart: e.Cart, pos: e.Off, done: make(chan error, 1)}
	j.run = func(path string) (int64, error) {
		f, err := os.Open(path)
		if err != nil {
			return 0, fmt.Errorf("read %q back from cartridge %d: %w", e.Key, e.Cart, err)
		}
		defer f.Close()
		h := resources.NewHash()
		n, err := io.Copy(h, io.NewSectionReader(f, e.Off, e.Size))
		if err != nil {
			return e.Off + n, err
		}
		if n != e.Size {
			return e.Off + n, fmt.Errorf("%w: cartridge %d ends %d bytes into %q of %d bytes", resources.ErrCorrupt, e.Cart, n, e.Key, e.Size)
		}
		sum = resources.FormatChecksum(h.Sum(nil))
		r.lib.count(func(s *Stats) { s.Recalls++ })
		if e.Checksum != "" && sum != e.Checksum {
			return e.Off + n, fmt.Errorf("%w: %q on cartridge %d at %d: checksum %s, the index says %s",
				resources.ErrCorrupt, e.Key, e.Cart, e.Off, sum, e.Checksum)
		}
		return e.Off + n, nil
	}
	r.lib.submit(j)
	select {
	case err := <-j.done:
		if err != nil {
			return "", r.errorf("checksum", key, err)
		}
	case <-ctx.Done():
		return "", r.errorf("checksum", key, ctx.Err())
	}
	return sum, nil
}

// Create starts a write of key, spooled until Commit.
func (r *Resource) Create(ctx context.Context, key string) (resources.Writer, error) {
	if err := resources.CheckKey(key); err != nil {
		return nil, fmt.Errorf("tape: create: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, r.errorf("create", key, err)
	}
	r.mu.Lock()
	_, exists := r.index[key]
	busy := r.writing[key]
	if !exists && !busy {
		r.writing[key] = true
	}
	r.mu.Unlock()
	if exists || busy {
		return nil, r.errorf("create", key, resources.ErrExists)
	}
	name := make([]byte, 8)
	rand.Read(name)
	spool := filepath.Join(r.cfg.Dir, "spool", hex.EncodeToString(name))
	f, err := os.OpenFile(spool, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		r.release(key)
		return nil, r.errorf("create", key, err)
	}
	return &writer{r: r, ctx: ctx, key: key, f: f, spool: spool, hash: resources.NewHash()}, nil
}

func (r *Resource) release(key string) {
	r.mu.Lock()
	delete(r.writing, key)
	r.mu.Unlock()
}

// reserve picks the cartridge for an entry of need bytes and reserves the
// space. Called with r.mu held.
func (r *Resource) reserve(need int64) (cart int, pos int64, err error) {
	if need > r.cfg.CartridgeSize {
		return 0, 0, fmt.Errorf("%d bytes do not fit on a cartridge of %d", need, r.cfg.CartridgeSize)
	}
	if r.appendUsed+need > r.cfg.CartridgeSize {
		if r.cfg.Device != "" {
			return 0, 0, fmt.Errorf("the cartridge in %s is full: %w", r.cfg.Device, resources.ErrUnavailable)
		}
		r.appendCart++
		r.appendUsed = 0
	}
	pos = r.appendUsed
	r.appendUsed += need
	return r.appendCart, pos, nil
}
