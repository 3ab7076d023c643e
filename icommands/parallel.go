package icommands

import (
	"context"
	"fmt"
	"sync"
)

// runParallel runs do for every job with n workers, for the command name. Every job is tried; the
// errors are printed as they happen and summarised at the end.
func runParallel[J any](ctx context.Context, a *app, name string, jobs []J, n int, do func(context.Context, J) error) error {
	log := &transferLog{a: a, name: name, total: len(jobs)}
	runEach(ctx, log, jobs, n, do)
	return log.result(ctx)
}

// runEach runs do for every job with n workers and logs what fails.
func runEach[J any](ctx context.Context, log *transferLog, jobs []J, n int, do func(context.Context, J) error) {
	ch := make(chan J)
	var wg sync.WaitGroup
	for range min(n, max(1, len(jobs))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				if err := do(ctx, j); err != nil {
					log.fail(err)
				}
			}
		}()
	}
	for _, j := range jobs {
		select {
		case ch <- j:
		case <-ctx.Done():
		}
	}
	close(ch)
	wg.Wait()
}

// transferLog prints the failures of a transfer of total files as they
// happen, and sums them up at the end.
type transferLog struct {
	a      *app
	name   string // the command's, which prefixes each failure as its other errors
	total  int
	mu     sync.Mutex
	failed int
	first  error
}

func (l *transferLog) fail(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed++
	if l.first == nil {
		l.first = err
	}
	if l.total > 1 {
		if l.a.json {
			writeJSONLine(l.a.Err, map[string]any{"error": message(err), "exit_code": exitCode(err)})
		} else {
			fmt.Fprintf(l.a.Err, "%s: %s\n", l.name, message(err))
		}
	}
}

// result is the error of the whole transfer: the one failure of a single
// file, or how many of several failed, with the exit code of the first.
func (l *transferLog) result(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.first == nil {
		return ctx.Err()
	}
	if l.total == 1 {
		return l.first
	}
	return exitError{code: exitCode(l.first), err: fmt.Errorf("%d of %d transfers failed", l.failed, l.total)}
}
