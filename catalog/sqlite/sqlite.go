// Package sqlite is the embedded catalog backend: catalog.Catalog on SQLite
// (modernc.org/sqlite, pure Go), one database file per zone.
//
// All writes go through one connection owned by one goroutine, which commits
// them in groups: it takes every write request that is waiting (up to
// maxBatch), runs each inside its own SAVEPOINT of one BEGIN IMMEDIATE
// transaction, so that a request that fails is rolled back alone, and
// commits once. The commit writes the group's WAL frames but does not wait
// for the disk (synchronous=NORMAL); a second goroutine, the syncer, fsyncs
// the WAL file and only then answers the requests of every group the fsync
// covered. The writer thus runs the next group while the disk flushes the
// last one, and one fsync makes many small transactions durable. This is
// what synchronous=FULL guarantees, with the fsync moved off the writer.
// One write does not wait for the fsync: BeginReplica, whose intermediate
// replica a power loss may forget (catalog.Replicas says why that is safe);
// the WAL is written in order, so the commit that follows makes it durable.
// Reads use a separate pool of query-only connections and see the last
// committed state (WAL mode lets them run while the writer writes).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/arca-data/arca/catalog"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// maxBatch bounds how many write requests share one commit.
const maxBatch = 256

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("catalog is closed")

// Catalog is catalog.Catalog on one SQLite database file.
type Catalog struct {
	wdb *sql.DB // exactly one connection, used only by the writer goroutine
	rdb *sql.DB // query-only pool for reads

	mu        sync.RWMutex // guards closed against sends on reqs
	closed    bool
	reqs      chan *request
	done      chan struct{} // closed when the writer goroutine has exited
	closeOnce sync.Once
	closeErr  error

	rstmts    sync.Map       // query text -> *sql.Stmt prepared on rdb
	preparing sync.Map       // query text -> true while prepareRead runs
	prepares  sync.WaitGroup // running prepareRead goroutines

	syncs    chan syncGroup // committed groups waiting for the WAL fsync
	synced   chan struct{}  // closed when the syncer has answered every group
	syncWAL  func() error   // makes the committed WAL frames durable
	syncErr  atomic.Pointer[error]
	onCommit func(requests int) // for tests: called after each group commit

	// mayHaveQuotas is false only while the zone has no quota at all. It is
	// read at Open and set before a quota is added, never cleared while open,
	// so that QuotasFor, which every put asks, needs no read transaction in
	// the many zones without quotas. Commits check quotas in the writer
	// regardless.
	mayHaveQuotas atomic.Bool
}

// syncGroup is one committed group whose callers wait for its durability.
type syncGroup struct {
	done []chan error
}

var _ catalog.Catalog = (*Catalog)(nil)

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "1")
	q.Set("_synchronous", "FULL")
	q.Set("_journal_mode", "WAL")
	// Reads through mmap skip a pread system call per page, and a larger
	// page cache keeps the hot indexes of a big catalog in memory.
	q.Add("_pragma", "mmap_size(1073741824)")
	q.Add("_pragma", "cache_size(-65536)")
	if readOnly {
		q.Set("_query_only", "1")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Open opens the catalog database at path, creating it if needed, and
// brings its schema up to date.
func Open(ctx context.Context, path string) (*Catalog, error) {
	// The catalog holds password hashes: create it readable by its owner
	// only. SQLite gives the -wal and -shm files the same mode.
	if f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	wdb, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	conn, err := wdb.Conn(ctx)
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	if err := migrate(ctx, conn); err != nil {
		conn.Close()
		wdb.Close()
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}

	// The writer commits without waiting for the disk; the syncer fsyncs the
	// WAL through its own descriptor (see the package comment). SQLite keeps
	// the -wal file while a connection is open, and the writer's stays open.
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
		conn.Close()
		wdb.Close()
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	var anyQuotas bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM quotas)`).Scan(&anyQuotas); err != nil {
		conn.Close()
		wdb.Close()
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	wal, err := os.OpenFile(path+"-wal", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		conn.Close()
		wdb.Close()
		return nil, fmt.Errorf("open catalog %s: write-ahead log: %w", path, err)
	}

	rdb, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		wal.Close()
		conn.Close()
		wdb.Close()
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	if err := rdb.PingContext(ctx); err != nil {
		rdb.Close()
		wal.Close()
		conn.Close()
		wdb.Close()
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}

	c := &Catalog{
		wdb:     wdb,
		rdb:     rdb,
		reqs:    make(chan *request, 4*maxBatch),
		done:    make(chan struct{}),
		syncs:   make(chan syncGroup, 4*maxBatch),
		synced:  make(chan struct{}),
		syncWAL: wal.Sync,
	}
	c.mayHaveQuotas.Store(anyQuotas)
	go c.syncer(wal)
	go c.writer(&wtx{conn: conn, stmts: map[string]*sql.Stmt{}})
	return c, nil
}

// Close waits for the pending writes to commit, stops the writer and closes
// the database. Calling it again does nothing.
func (c *Catalog) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		close(c.reqs)
		c.mu.Unlock()
		<-c.done
		c.prepares.Wait() // no prepareRead may outlive the pool
		c.closeErr = errors.Join(c.rdb.Close(), c.wdb.Close())
	})
	return c.closeErr
}

// Request states, so that a caller whose context ends can withdraw a request
// that the writer has not started, and must otherwise wait for its outcome.
const (
	reqPending int32 = iota
	reqStarted
	reqWithdrawn
)

type request struct {
	ctx   context.Context
	fn    func(*wtx) error
	state atomic.Int32
	done  chan error // buffered, receives exactly one value
	// volatile is answered at its commit, without waiting for the fsync.
	volatile bool
}

// write runs fn in the writer's transaction and returns after the commit of
// its group is durable (or fn's error, in which case none of fn's changes
// remain). fn runs at most once, on the writer goroutine; it must not keep
// the wtx.
func (c *Catalog) write(ctx context.Context, fn func(*wtx) error) error {
	return c.submit(ctx, fn, false)
}

// writeVolatile is write answered at the commit, before the WAL fsync: what
// fn did is visible at once and survives the process, but a power loss
// before the next fsync may undo it. The next durable write's fsync covers
// it, since the WAL is written in order.
func (c *Catalog) writeVolatile(ctx context.Context, fn func(*wtx) error) error {
	return c.submit(ctx, fn, true)
}

func (c *Catalog) submit(ctx context.Context, fn func(*wtx) error, volatile bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{ctx: ctx, fn: fn, done: make(chan error, 1), volatile: volatile}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return ErrClosed
	}
	select {
	case c.reqs <- r:
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	c.mu.RUnlock()

	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqPending, reqWithdrawn) {
			return ctx.Err()
		}
		// Already running: its outcome is decided by the commit, so wait.
		return <-r.done
	}
}

// writer is the goroutine that owns the write connection.
func (c *Catalog) writer(w *wtx) {
	defer close(c.done)
	defer w.close()
	defer func() {
		// Every committed group is answered before the connection closes.
		close(c.syncs)
		<-c.synced
	}()
	batch := make([]*request, 0, maxBatch)
	for {
		r, ok := <-c.reqs
		if !ok {
			return
		}
		batch = append(batch[:0], r)
	fill:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-c.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		if errp := c.syncErr.Load(); errp != nil {
			// The disk lost committed writes once; nothing more is accepted.
			for _, r := range batch {
				if r.state.CompareAndSwap(reqPending, reqStarted) {
					r.done <- *errp
				}
			}
		} else if g, n := w.runBatch(batch); n > 0 {
			c.syncs <- g
			if c.onCommit != nil {
				c.onCommit(n)
			}
		}
		clear(batch)
	}
}

// syncer fsyncs the WAL after each commit of the writer, covering every
// group committed since the last fsync, and then answers their requests.
// If an fsync fails, the frames it should have made durable may be lost
// while readers already saw them: the catalog stops taking writes, as a
// database must once the disk has dropped acknowledged data.
func (c *Catalog) syncer(wal *os.File) {
	defer close(c.synced)
	defer wal.Close()
	var groups []syncGroup
	for g := range c.syncs {
		groups = append(groups[:0], g)
	more:
		for {
			select {
			case g, ok := <-c.syncs:
				if !ok {
					break more
				}
				groups = append(groups, g)
			default:
				break more
			}
		}
		err := c.syncWAL()
		if err != nil {
			err = fmt.Errorf("catalog write-ahead log fsync: %w", err)
			c.syncErr.CompareAndSwap(nil, &err)
		}
		if errp := c.syncErr.Load(); errp != nil {
			err = *errp
		}
		for _, g := range groups {
			for _, done := range g.done {
				done <- err
			}
		}
		clear(groups)
	}
}

// runBatch runs the requests of one group in one transaction. The requests
// that failed, and all of them if the transaction did, are answered at
// once; the committed ones come back in a syncGroup for the syncer to
// answer once they are durable, with their count.
func (w *wtx) runBatch(batch []*request) (sg syncGroup, committed int) {
	results := make([]error, len(batch))
	live := 0
	for i, r := range batch {
		if !r.state.CompareAndSwap(reqPending, reqStarted) {
			batch[i] = nil // withdrawn; its caller has returned
			continue
		}
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		live++
	}
	answer := func() {
		for i, r := range batch {
			if r != nil {
				r.done <- results[i]
			}
		}
	}
	if live == 0 {
		answer()
		return syncGroup{}, 0
	}

	if _, err := w.exec("BEGIN IMMEDIATE"); err != nil {
		for i := range results {
			if results[i] == nil {
				results[i] = fmt.Errorf("begin transaction: %w", err)
			}
		}
		answer()
		return syncGroup{}, 0
	}
	var broken error // the transaction itself failed: nothing of it remains
	for i, r := range batch {
		if r == nil || results[i] != nil {
			continue
		}
		if broken != nil {
			results[i] = broken
			continue
		}
		if _, err := w.exec("SAVEPOINT req"); err != nil {
			broken = fmt.Errorf("savepoint: %w", err)
			results[i] = broken
			continue
		}
		err := runRequest(w, r)
		if err != nil {
			results[i] = err
			if _, rerr := w.exec("ROLLBACK TO req"); rerr != nil {
				broken = fmt.Errorf("roll back after %v: %w", err, rerr)
			}
		}
		if broken == nil {
			if _, rerr := w.exec("RELEASE req"); rerr != nil {
				broken = fmt.Errorf("release savepoint: %w", rerr)
			}
		}
	}
	if broken == nil {
		if _, err := w.exec("COMMIT"); err != nil {
			broken = fmt.Errorf("commit: %w", err)
		}
	}
	if broken != nil {
		// Some errors (SQLITE_FULL, SQLITE_IOERR, ...) end the transaction
		// by themselves; the rollback then fails harmlessly.
		_, _ = w.conn.ExecContext(context.Background(), "ROLLBACK")
		for i := range results {
			if batch[i] != nil && results[i] == nil {
				results[i] = broken
			}
		}
		answer()
		return syncGroup{}, 0
	}
	for i, r := range batch {
		switch {
		case r == nil:
		case results[i] != nil:
			r.done <- results[i] // rolled back: nothing to wait for
		case r.volatile:
			r.done <- nil
		default:
			sg.done = append(sg.done, r.done)
			committed++
		}
	}
	return sg, committed
}

// runRequest runs one request's function, turning a panic into an error so
// that one bad request cannot take the writer down with the others.
func runRequest(w *wtx, r *request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("catalog write panicked: %v", p)
		}
	}()
	return r.fn(w)
}

// querier is what the helpers shared by reads and writes need.
type querier interface {
	exec(q string, args ...any) (sql.Result, error)
	query(q string, args ...any) (*sql.Rows, error)
	queryRow(q string, args ...any) *sql.Row
}

// wtx is the writer's connection inside the transaction of a group, with a
// cache of prepared statements. Only the writer goroutine uses it.
type wtx struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
}

func (w *wtx) stmt(q string) (*sql.Stmt, error) {
	if s, ok := w.stmts[q]; ok {
		return s, nil
	}
	s, err := w.conn.PrepareContext(context.Background(), preparable(q))
	if err != nil {
		return nil, err
	}
	w.stmts[q] = s
	return s, nil
}

func (w *wtx) exec(q string, args ...any) (sql.Result, error) {
	s, err := w.stmt(q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(context.Background(), args...)
}

func (w *wtx) query(q string, args ...any) (*sql.Rows, error) {
	s, err := w.stmt(q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(context.Background(), args...)
}

func (w *wtx) queryRow(q string, args ...any) *sql.Row {
	s, err := w.stmt(q)
	if err != nil {
		// Let Scan report the error: run the query unprepared.
		return w.conn.QueryRowContext(context.Background(), q, args...)
	}
	return s.QueryRowContext(context.Background(), args...)
}

func (w *wtx) close() {
	for _, s := range w.stmts {
		s.Close()
	}
	w.conn.Close()
}

// rtx is a read transaction on a reader connection.
type rtx struct {
	ctx context.Context
	c   *Catalog
	tx  *sql.Tx
}

// stmt returns q prepared for this transaction, or nil when q is not in the
// cache yet. A miss must not prepare through the pool here: this
// transaction already holds a reader connection, and waiting for a second
// one while every reader does the same deadlocks the pool. The statement is
// prepared in the background instead, and this call runs q unprepared.
func (r *rtx) stmt(q string) *sql.Stmt {
	if s, ok := r.c.rstmts.Load(q); ok {
		return r.tx.StmtContext(r.ctx, s.(*sql.Stmt))
	}
	if _, busy := r.c.preparing.LoadOrStore(q, true); !busy {
		// Under mu, so that Close, which sets closed under mu and then
		// waits for prepares, never misses one.
		r.c.mu.RLock()
		if r.c.closed {
			r.c.preparing.Delete(q)
		} else {
			r.c.prepares.Add(1)
			go r.c.prepareRead(q)
		}
		r.c.mu.RUnlock()
	}
	return nil
}

// preparable trims what follows the statement in q. The driver keeps the
// compiled statement only when nothing follows it; a trailing newline or
// semicolon makes it a "script" that is parsed again at every execution.
func preparable(q string) string {
	return strings.TrimRight(q, " \t\r\n;")
}

// prepareRead prepares q on the reader pool and caches it.
func (c *Catalog) prepareRead(q string) {
	defer c.prepares.Done()
	defer c.preparing.Delete(q)
	s, err := c.rdb.PrepareContext(context.Background(), preparable(q))
	if err != nil {
		return // the query runs unprepared until a later attempt works
	}
	if _, loaded := c.rstmts.LoadOrStore(q, s); loaded {
		s.Close()
	}
}

func (r *rtx) exec(q string, args ...any) (sql.Result, error) {
	return nil, errors.New("write in a read transaction")
}

func (r *rtx) query(q string, args ...any) (*sql.Rows, error) {
	if s := r.stmt(q); s != nil {
		return s.QueryContext(r.ctx, args...)
	}
	return r.tx.QueryContext(r.ctx, q, args...)
}

func (r *rtx) queryRow(q string, args ...any) *sql.Row {
	if s := r.stmt(q); s != nil {
		return s.QueryRowContext(r.ctx, args...)
	}
	return r.tx.QueryRowContext(r.ctx, q, args...)
}

// read runs fn in a read transaction: every query of fn sees one snapshot.
func (c *Catalog) read(ctx context.Context, fn func(*rtx) error) error {
	c.mu.RLock()
	closed := c.closed
	c.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	tx, err := c.rdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(&rtx{ctx: ctx, c: c, tx: tx})
}
