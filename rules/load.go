package rules

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/arca-data/arca/catalog"
)

func pathString(p catalog.Path) string {
	if p.IsZero() {
		return ""
	}
	return p.String()
}

func parsePath(s string) (catalog.Path, error) { return catalog.ParsePath(s) }

// IsRuleFile reports whether name is read as a rule file: *.yaml or *.yml,
// not hidden (editors' swap and backup files are hidden or end otherwise),
// and not a file of test cases (*.test.yaml, see IsTestFile).
func IsRuleFile(name string) bool {
	base := filepath.Base(name)
	return !strings.HasPrefix(base, ".") && (strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml")) && !IsTestFile(name)
}

// IsTestFile reports whether name holds test cases of rules: *.test.yaml
// or *.test.yml beside the rule files.
func IsTestFile(name string) bool {
	base := filepath.Base(name)
	return !strings.HasPrefix(base, ".") && (strings.HasSuffix(base, ".test.yaml") || strings.HasSuffix(base, ".test.yml"))
}

// ReadDirs reads the rule files directly inside dirs. Files are named by
// their path, so errors point at them.
func ReadDirs(dirs ...string) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, dir := range dirs {
		ents, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("rules directory: %w", err)
		}
		for _, ent := range ents {
			if ent.IsDir() || !IsRuleFile(ent.Name()) {
				continue
			}
			path := filepath.Join(dir, ent.Name())
			info, err := os.Stat(path)
			if err != nil {
				return nil, err
			}
			if info.Size() > MaxFileSize {
				return nil, &Error{File: path, Msg: fmt.Sprintf("file of %d bytes is larger than %d", info.Size(), MaxFileSize)}
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, err
			}
			files[path] = b
		}
	}
	return files, nil
}

// LoadDirs compiles the rule files of dirs and, if all is well, makes them
// the engine's rules. On any error the rules in use stay as they were.
func (e *Engine) LoadDirs(dirs ...string) (*Set, error) {
	files, err := ReadDirs(dirs...)
	if err != nil {
		return nil, err
	}
	set, err := e.Compile(files)
	if err != nil {
		return nil, err
	}
	e.Load(set)
	return set, nil
}

// Watch reloads the rules of dirs whenever a file in them changes, until
// ctx ends. A change that does not compile is logged with every error and
// the rules in use are kept. Directories that do not exist are not watched.
func (e *Engine) Watch(ctx context.Context, dirs ...string) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch rules: %w", err)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); err != nil {
			continue
		}
		if err := w.Add(d); err != nil {
			w.Close()
			return fmt.Errorf("watch rules %s: %w", d, err)
		}
	}
	go func() {
		defer w.Close()
		// Editors write a file in several steps; wait for quiet.
		const settle = 150 * time.Millisecond
		var timer <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if IsRuleFile(ev.Name) {
					timer = time.After(settle)
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				e.log.Error("watch rules", "err", err)
			case <-timer:
				timer = nil
				if empty := e.emptied(dirs); empty != "" {
					// Rewritten in place and not yet whole (scp, rsync
					// --inplace): loading it would drop its rules, a deny
					// among them, until the rest arrives.
					e.log.Warn("a rule file whose rules are in use is empty: taken as a write in progress, the rules in use are kept "+
						"(write rule files whole, by rename; to drop a file's rules, remove it or write \"rules: []\")", "file", empty)
					continue
				}
				set, err := e.LoadDirs(dirs...)
				if err != nil {
					e.log.Error("rules changed but do not load; the rules in use are kept", "version", e.Current().Version, "err", err)
					continue
				}
				e.log.Info("rules reloaded", "version", set.Version, "rules", len(set.Rules), "files", len(set.Files))
			}
		}
	}()
	return nil
}

// emptied returns a rule file of dirs that is empty now while rules of the
// set in use came from it, or "".
func (e *Engine) emptied(dirs []string) string {
	inUse := map[string]bool{}
	for _, r := range e.Current().Rules {
		inUse[r.File] = true
	}
	files, err := ReadDirs(dirs...)
	if err != nil {
		return "" // LoadDirs reports it
	}
	for path, b := range files {
		if inUse[path] && len(bytes.TrimSpace(b)) == 0 {
			return path
		}
	}
	return ""
}
