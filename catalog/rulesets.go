package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// RuleSet is one version of a zone's rules: the rule files and the files of
// their test cases, by name. A zone has one rule set, kept in the catalog
// as an append-only history of versions 1, 2, 3, ...; every server of the
// zone uses the newest. A rollback is a new version with an old one's
// files.
type RuleSet struct {
	// Version is the number the catalog gave it: one more than the version
	// before it.
	Version int64
	// Digest is RuleSetDigest(Files), filled in by the catalog.
	Digest string
	// Files are the files by name (a base name, "retention.yaml"); nil in
	// RuleSetHistory.
	Files   map[string][]byte
	Author  UserID
	Created time.Time // set by the catalog
	Comment string
}

// Limits of a rule set.
const (
	MaxRuleSetFiles      = 1000
	MaxRuleSetBytes      = 32 << 20 // the files together
	MaxRuleFileNameLen   = 255
	MaxRuleSetCommentLen = 1024
)

// RuleSetDigest is the hex SHA-256 of the canonical form of a set of
// files: for each file in the byte order of names, its name, a NUL, its
// length in decimal, a NUL, and its contents. The same files give the same
// digest wherever they were loaded from.
func RuleSetDigest(files map[string][]byte) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(files[n]))
		h.Write(files[n])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Validate checks rs for StoreRuleSet without a catalog: file names that
// are plain base names, the limits, an author, a digest that matches the
// files when one is given.
func (rs RuleSet) Validate() error {
	if len(rs.Files) > MaxRuleSetFiles {
		return invalid("a rule set of %d files; at most %d", len(rs.Files), MaxRuleSetFiles)
	}
	total := 0
	for name, b := range rs.Files {
		if err := checkRuleFileName(name); err != nil {
			return err
		}
		total += len(b)
	}
	if total > MaxRuleSetBytes {
		return invalid("a rule set of %d bytes; at most %d", total, MaxRuleSetBytes)
	}
	if err := CheckUserID("author", rs.Author); err != nil {
		return err
	}
	if len(rs.Comment) > MaxRuleSetCommentLen || !utf8.ValidString(rs.Comment) {
		return invalid("a rule set's comment is UTF-8 text of at most %d bytes", MaxRuleSetCommentLen)
	}
	if rs.Digest != "" && rs.Digest != RuleSetDigest(rs.Files) {
		return invalid("rule set digest %s does not match its files", rs.Digest)
	}
	return nil
}

// checkRuleFileName accepts a base name: no directory, not hidden, text.
func checkRuleFileName(name string) error {
	switch {
	case name == "" || len(name) > MaxRuleFileNameLen:
		return invalid("a rule file name of 1 to %d bytes", MaxRuleFileNameLen)
	case strings.ContainsAny(name, "/\\\x00") || strings.HasPrefix(name, "."):
		return invalid("rule file name %q: a plain file name, not a path nor hidden", name)
	case !utf8.ValidString(name):
		return invalid("rule file name %q is not UTF-8", name)
	}
	return nil
}

// CheckRuleSetVersion refuses a version below zero for StoreRuleSet's
// expectVersion (0: no rule set yet) and below one for RuleSetAt.
func CheckRuleSetVersion(v int64, min int64) error {
	if v < min {
		return invalid("rule set version %d", v)
	}
	return nil
}

// RuleSets keeps the versions of a zone's rule set.
type RuleSets interface {
	// StoreRuleSet appends rs as version expectVersion+1, with the digest
	// of its files and the time now, if the newest version is
	// expectVersion (0: there is none yet); otherwise it stores nothing and
	// fails with ErrConflict. Of two calls with the same expectVersion at
	// most one succeeds. rs.Version, rs.Digest and rs.Created are the
	// catalog's to set; it returns what it stored.
	StoreRuleSet(ctx context.Context, rs RuleSet, expectVersion int64) (RuleSet, error)
	// CurrentRuleSet returns the newest version with its files;
	// ErrNotFound when there is none.
	CurrentRuleSet(ctx context.Context) (RuleSet, error)
	// RuleSetVersion returns the number and digest of the newest version,
	// or 0 and "" when there is none. It is cheap: servers poll it.
	RuleSetVersion(ctx context.Context) (int64, string, error)
	// RuleSetAt returns the version with its files; ErrNotFound when there
	// is no such version.
	RuleSetAt(ctx context.Context, version int64) (RuleSet, error)
	// RuleSetHistory returns up to limit versions, newest first, without
	// their files.
	RuleSetHistory(ctx context.Context, limit int) ([]RuleSet, error)
}
