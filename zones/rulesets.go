package zones

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/rules"
)

// A zone has one rule set, versioned in the catalog (catalog.RuleSets).
// LoadRules and RollbackRules are the one path by which a set becomes the
// zone's: it must compile with this server's environment and actions and
// pass its own test cases (*.test.yaml among its files), and only then is
// it appended as the next version, atomically; a load that raced another
// is refused, not merged. Every server follows the catalog (FollowRules):
// it polls the newest version's number and digest and loads a new one as
// soon as it sees it, so that all servers decide with the same rules.

// ruleSetState is the version of the catalog's rule set in use here.
type ruleSetState struct {
	mu      sync.Mutex // serializes loads into the engine
	version int64      // 0: none from the catalog
	digest  string
	// failed is a version that does not compile on this server: the rules
	// in use stay, and it is not compiled again at every poll.
	failed    int64
	failedErr error
}

// LoadedRules is the rule set that LoadRules or RollbackRules made the
// zone's.
type LoadedRules struct {
	catalog.RuleSet
	Rules int // the rules in it
	Tests int // the test cases it passed
	// Unchanged: the files were those of the version in use, so no new
	// version was made; RuleSet is that version.
	Unchanged bool
}

// DefaultRuleHistory is how many versions RuleHistory returns when not told.
const DefaultRuleHistory = 100

// LoadRules makes files (rule files and test files by base name) the
// zone's new rule set, if they compile and pass their test cases; comment
// says why, for the history. Administrators only.
func (z *Zone) LoadRules(ctx context.Context, caller Principal, files map[string][]byte, comment string) (LoadedRules, error) {
	var out LoadedRules
	err := z.do(ctx, &Op{Name: OpRulesLoad, Caller: caller}, func(ctx context.Context) error {
		var err error
		out, err = z.storeRules(ctx, caller.UserID(), files, comment)
		return err
	})
	return out, err
}

// RollbackRules makes the files of an earlier version the zone's rule set
// again, as a new version (the history is append only), through the same
// checks as LoadRules. Administrators only.
func (z *Zone) RollbackRules(ctx context.Context, caller Principal, version int64, comment string) (LoadedRules, error) {
	var out LoadedRules
	err := z.do(ctx, &Op{Name: OpRulesRollback, Caller: caller}, func(ctx context.Context) error {
		if err := catalog.CheckRuleSetVersion(version, 1); err != nil {
			return err
		}
		old, err := z.cat.RuleSetAt(ctx, version)
		if err != nil {
			return err
		}
		if comment == "" {
			comment = fmt.Sprintf("rollback to version %d", version)
		}
		out, err = z.storeRules(ctx, caller.UserID(), old.Files, comment)
		return err
	})
	return out, err
}

// RuleHistory returns up to limit versions of the zone's rule set, newest
// first, without their files (limit <= 0: DefaultRuleHistory).
func (z *Zone) RuleHistory(ctx context.Context, caller Principal, limit int) ([]catalog.RuleSet, error) {
	var out []catalog.RuleSet
	err := z.do(ctx, &Op{Name: OpRulesHistory, Caller: caller}, func(ctx context.Context) error {
		if limit <= 0 {
			limit = DefaultRuleHistory
		}
		var err error
		out, err = z.cat.RuleSetHistory(ctx, limit)
		return err
	})
	return out, err
}

// storeRules checks files and appends them as the next version.
func (z *Zone) storeRules(ctx context.Context, author catalog.UserID, files map[string][]byte, comment string) (LoadedRules, error) {
	if z.rules == nil {
		return LoadedRules{}, errNoRules
	}
	for name := range files {
		if !rules.IsRuleFile(name) && !rules.IsTestFile(name) {
			return LoadedRules{}, fmt.Errorf("%w: %q is neither a rule file (*.yaml, *.yml) nor a test file (*.test.yaml)", catalog.ErrInvalidArgument, name)
		}
	}
	rs := catalog.RuleSet{Files: files, Author: author, Comment: comment}
	if err := rs.Validate(); err != nil {
		return LoadedRules{}, err
	}
	cur, curDigest, err := z.cat.RuleSetVersion(ctx)
	if err != nil {
		return LoadedRules{}, err
	}
	set, tests, err := z.tryRules(ctx, files)
	if err != nil {
		return LoadedRules{}, err
	}
	if cur > 0 && set.Digest == curDigest {
		h, err := z.cat.RuleSetHistory(ctx, 1)
		if err != nil {
			return LoadedRules{}, err
		}
		if len(h) == 1 && h[0].Version == cur {
			h[0].Files = files
			z.installRules(cur, curDigest, set)
			return LoadedRules{RuleSet: h[0], Rules: len(set.Rules), Tests: tests, Unchanged: true}, nil
		}
	}
	stored, err := z.cat.StoreRuleSet(ctx, rs, cur)
	if errors.Is(err, catalog.ErrConflict) {
		return LoadedRules{}, fmt.Errorf("the zone's rule set changed while this one was checked (it was version %d); nothing was loaded, load again: %w", cur, err)
	}
	if err != nil {
		return LoadedRules{}, err
	}
	z.installRules(stored.Version, stored.Digest, set)
	z.log.Info("rule set loaded", "version", stored.Version, "digest", stored.Digest, "by", author.String(),
		"rules", len(set.Rules), "tests", tests, "comment", comment)
	return LoadedRules{RuleSet: stored, Rules: len(set.Rules), Tests: tests}, nil
}

// tryRules compiles files and runs their test cases.
func (z *Zone) tryRules(ctx context.Context, files map[string][]byte) (*rules.Set, int, error) {
	set, err := z.rules.Compile(files)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: the rule files do not compile; nothing was loaded:\n%w", catalog.ErrInvalidArgument, err)
	}
	results, err := z.rules.TestSet(ctx, set, files, z.name)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: a test file does not read; nothing was loaded: %w", catalog.ErrInvalidArgument, err)
	}
	var failed []string
	for _, r := range results {
		if r.Err != nil {
			failed = append(failed, r.String())
		}
	}
	if len(failed) > 0 {
		return nil, 0, fmt.Errorf("%w: %d of %d test cases of the rule set fail; nothing was loaded:\n%s",
			catalog.ErrInvalidArgument, len(failed), len(results), strings.Join(failed, "\n"))
	}
	return set, len(results), nil
}

// installRules makes set, the catalog's version, the engine's, unless a
// later version is in use already.
func (z *Zone) installRules(version int64, digest string, set *rules.Set) {
	s := &z.ruleSet
	s.mu.Lock()
	defer s.mu.Unlock()
	if version < s.version || version == s.version && digest == s.digest {
		return
	}
	set.Version, set.Digest = strconv.FormatInt(version, 10), digest
	z.rules.Load(set)
	s.version, s.digest = version, digest
}

// RuleSetInUse is the catalog version of the rule set in use and its
// digest; 0 and "" when the zone has none in its catalog yet.
func (z *Zone) RuleSetInUse() (int64, string) {
	z.ruleSet.mu.Lock()
	defer z.ruleSet.mu.Unlock()
	return z.ruleSet.version, z.ruleSet.digest
}

// SyncRules loads the newest version of the catalog's rule set into the
// engine if it is not the one in use. A version that does not compile on
// this server (one of another server's actions is missing here) is an
// error, and the rules in use stay.
func (z *Zone) SyncRules(ctx context.Context) error {
	if z.rules == nil {
		return nil
	}
	v, digest, err := z.cat.RuleSetVersion(ctx)
	if err != nil {
		return err
	}
	s := &z.ruleSet
	s.mu.Lock()
	same, failed, failedErr := v == s.version && digest == s.digest, s.failed == v, s.failedErr
	s.mu.Unlock()
	switch {
	case v == 0 || same:
		return nil
	case failed:
		return failedErr
	}
	rs, err := z.cat.CurrentRuleSet(ctx)
	if err != nil {
		return err
	}
	// Its test cases ran where it was loaded; compiling is what tells
	// whether this server can run it.
	set, err := z.rules.Compile(rs.Files)
	if err != nil {
		err = fmt.Errorf("the zone's rule set version %d does not compile on this server; the rules in use (version %q) stay: %w",
			rs.Version, z.rules.Current().Version, err)
		s.mu.Lock()
		s.failed, s.failedErr = rs.Version, err
		s.mu.Unlock()
		return err
	}
	z.installRules(rs.Version, rs.Digest, set)
	return nil
}

// FollowRules keeps the engine on the catalog's newest rule set, checking
// every interval, until ctx ends.
func (z *Zone) FollowRules(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var last string
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		before, _ := z.RuleSetInUse()
		err := z.SyncRules(ctx)
		switch {
		case err != nil && ctx.Err() == nil && err.Error() != last:
			z.log.Error("rule set not followed", "err", err)
			last = err.Error()
		case err == nil:
			last = ""
			if now, digest := z.RuleSetInUse(); now != before {
				set := z.rules.Current()
				z.log.Info("rule set changed", "version", now, "digest", digest, "rules", len(set.Rules))
			}
		}
	}
}
