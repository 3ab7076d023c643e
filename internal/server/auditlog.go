package server

import (
	"fmt"
	"os"
	"sync"
)

// auditLog is the file the audit records go to, DIR/audit.log. Log rotation
// moves it away and asks for a new one (logrotate's create mode, then
// SIGHUP): Reopen starts a new file at the same path while writers go on,
// and every record lands whole in one file or the other.
type auditLog struct {
	path   string
	mu     sync.Mutex
	f      *os.File
	closed bool
}

func openAuditLog(path string) (*auditLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return &auditLog{path: path, f: f}, nil
}

// Write appends one record; slog's handlers write each record in one call.
func (l *auditLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(p)
}

// Reopen opens the file at the log's path afresh, creating it if rotation
// moved it away. If that fails, records go on to the old file.
func (l *auditLog) Reopen() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("reopen audit log: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		f.Close()
		return fmt.Errorf("reopen audit log: %w", os.ErrClosed)
	}
	old := l.f
	l.f = f
	return old.Close()
}

func (l *auditLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return l.f.Close()
}
