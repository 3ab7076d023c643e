package rules

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

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

// ReadSetDirs reads the rule files and the test files (IsRuleFile,
// IsTestFile) directly inside dirs, named by their base names, as a rule
// set holds them: two files of one name in two directories are an error.
func ReadSetDirs(dirs ...string) (map[string][]byte, error) {
	files := map[string][]byte{}
	from := map[string]string{}
	for _, dir := range dirs {
		ents, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("rules directory: %w", err)
		}
		for _, ent := range ents {
			name := ent.Name()
			if ent.IsDir() || !IsRuleFile(name) && !IsTestFile(name) {
				continue
			}
			path := filepath.Join(dir, name)
			if prev, ok := from[name]; ok {
				return nil, &Error{File: path, Msg: fmt.Sprintf("a file of this name is in %s too; the names of a rule set's files are unique", prev)}
			}
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
			files[name], from[name] = b, dir
		}
	}
	return files, nil
}

// dirEvent is a change of a file in a watched directory. complete is
// false for a write whose writer may not be done (Linux: the file was
// modified and not yet closed); true when it is closed, moved in, moved
// away or removed, or where the system cannot tell.
type dirEvent struct {
	path     string
	complete bool
	overflow bool // events were lost: look at everything again
}

// Watch calls load with the rule and test files of dirs (ReadSetDirs)
// whenever one of them changes, until ctx ends; load makes them the zone's
// rule set through the path of irule load, or refuses them. Nothing is
// read while a file is being written: on Linux a file modified by a writer
// that has not closed it yet holds back every load until it is closed, so
// that a valid prefix of a rule file (scp, rsync --inplace, a slow editor)
// never loads; elsewhere a load waits for a quiet moment. A file whose
// rules are in use and that is empty now is taken as rewritten in place
// and not yet whole. Files whose digest is that of the set in use load
// nothing. Directories that do not exist are not watched.
func (e *Engine) Watch(ctx context.Context, load func(files map[string][]byte) error, dirs ...string) error {
	w, err := watchDirs(dirs)
	if err != nil {
		return fmt.Errorf("watch rules: %w", err)
	}
	go func() {
		defer w.close()
		// Editors write a file in several steps; wait for quiet.
		const settle = 150 * time.Millisecond
		var timer <-chan time.Time
		writing := map[string]bool{}
		warned := ""
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.events:
				if !ok {
					return
				}
				if !ev.overflow && !IsRuleFile(ev.path) && !IsTestFile(ev.path) {
					continue
				}
				if ev.complete {
					delete(writing, ev.path)
				} else if ev.path != "" {
					writing[ev.path] = true
				}
				timer = time.After(settle)
			case err, ok := <-w.errors:
				if !ok {
					return
				}
				e.log.Error("watch rules", "err", err)
			case <-timer:
				timer = nil
				if len(writing) > 0 {
					if p := slices.Min(slices.Collect(maps.Keys(writing))); warned != p {
						e.log.Warn("a rule file is being written: the rules load when its writer closes it", "file", p)
						warned = p
					}
					continue
				}
				warned = ""
				files, err := ReadSetDirs(dirs...)
				if err != nil {
					e.log.Error("rules changed but do not load; the zone's rule set stays", "version", e.Current().Version, "err", err)
					continue
				}
				if empty := e.emptied(files); empty != "" {
					// Rewritten in place and not yet whole: loading it
					// would drop its rules, a deny among them, until the
					// rest arrives.
					e.log.Warn("a rule file whose rules are in use is empty: taken as a write in progress, the rules in use are kept "+
						"(write rule files whole, by rename; to drop a file's rules, remove it or write \"rules: []\")", "file", empty)
					continue
				}
				if catalog.RuleSetDigest(files) == e.Current().Digest {
					continue
				}
				if err := load(files); err != nil {
					e.log.Error("rules changed but do not load; the zone's rule set stays", "version", e.Current().Version, "err", err)
					continue
				}
				set := e.Current()
				e.log.Info("changed rule files loaded", "version", set.Version, "digest", set.Digest, "rules", len(set.Rules), "files", len(set.Files))
			}
		}
	}()
	return nil
}

// emptied returns a rule file among files that is empty while rules of
// the set in use came from it, or "".
func (e *Engine) emptied(files map[string][]byte) string {
	inUse := map[string]bool{}
	for _, r := range e.Current().Rules {
		inUse[r.File] = true
	}
	for name, b := range files {
		if inUse[name] && len(bytes.TrimSpace(b)) == 0 {
			return name
		}
	}
	return ""
}
