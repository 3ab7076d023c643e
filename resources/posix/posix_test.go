package posix_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/arca-data/arca/resources"
	"github.com/arca-data/arca/resources/posix"
	"github.com/arca-data/arca/resources/resourcetest"
)

// open opens a fresh vault in a temporary directory.
func open(t testing.TB) *posix.Resource {
	t.Helper()
	r, err := posix.Open(filepath.Join(t.TempDir(), "vault"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestSuite(t *testing.T) {
	resourcetest.Run(t, func(t *testing.T) resources.Resource { return open(t) })
}

func TestOpenCreatesVault(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b", "vault")
	r, err := posix.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("vault mode = %v, want a directory with mode 0700", fi.Mode())
	}
	if r.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", r.Dir(), dir)
	}

	// Reopening finds the files.
	resourcetest.Put(t, r, "x", []byte("x"))
	r2, err := posix.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if keys := resourcetest.Keys(t, r2); !slices.Equal(keys, []string{"x"}) {
		t.Errorf("reopened vault lists %q", keys)
	}

	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if r, err := posix.Open(file); err == nil {
		r.Close()
		t.Errorf("Open(%q) of a regular file succeeded", file)
	}
}

func TestLayout(t *testing.T) {
	r := open(t)
	data := []byte("a,b\n1,2\n")
	resourcetest.Put(t, r, "home/alice/x.csv", data)
	p := r.Path("home/alice/x.csv")
	if want := filepath.Join(r.Dir(), "home", "alice", "x.csv"); p != want {
		t.Errorf("Path = %q, want %q", p, want)
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != string(data) {
		t.Errorf("reading %s: %q, %v", p, got, err)
	}
	for name, want := range map[string]fs.FileMode{p: 0o600, filepath.Dir(p): 0o700, filepath.Dir(filepath.Dir(p)): 0o700} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", name, fi.Mode().Perm(), want)
		}
	}
	for _, key := range resourcetest.InvalidKeys {
		if p := r.Path(key); p != "" {
			t.Errorf("Path(%q) = %q, want \"\"", key, p)
		}
	}
}

// TestSymlinkEscape plants symbolic links in the vault that point outside it
// and checks that no operation reads, writes or removes anything out there.
func TestSymlinkEscape(t *testing.T) {
	ctx := t.Context()
	r := open(t)
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(r.Dir(), outside)
	if err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{
		"evil":       "/etc",  // ln -s /etc vault/evil
		"out":        outside, // absolute, to a directory
		"secretlink": secret,  // absolute, to a file
		"up":         "..",    // relative, climbing out
		"rel":        rel,     // relative, to a directory
		"dangling":   "/nonexistent-arca-test",
	} {
		if err := os.Symlink(target, filepath.Join(r.Dir(), name)); err != nil {
			t.Fatal(err)
		}
	}

	for _, key := range []string{
		"evil/passwd", "out/secret", "secretlink", "up/x", "rel/secret", "evil", "out", "dangling",
	} {
		if rc, err := r.Open(ctx, key, 0); err == nil {
			rc.Close()
			t.Errorf("Open(%q) succeeded", key)
		}
		if _, err := r.Stat(ctx, key); err == nil {
			t.Errorf("Stat(%q) succeeded", key)
		}
		if _, err := r.Checksum(ctx, key); err == nil {
			t.Errorf("Checksum(%q) succeeded", key)
		}
		if err := r.Remove(ctx, key); err == nil {
			t.Errorf("Remove(%q) succeeded", key)
		}
	}
	for _, key := range []string{
		"evil/passwd", "evil/arca-test-must-not-exist", "evil/arca-test-dir/f",
		"out/new", "out/sub/new", "secretlink", "rel/new", "dangling", "up/new",
	} {
		w, err := r.Create(ctx, key)
		if err == nil {
			w.Write([]byte("escaped"))
			w.Commit()
			t.Errorf("Create(%q) succeeded", key)
		}
	}

	// Outside is as it was, and the links are still there.
	if got, err := os.ReadFile(secret); err != nil || string(got) != "secret" {
		t.Errorf("outside file: %q, %v", got, err)
	}
	entries, err := os.ReadDir(outside)
	if err != nil || len(entries) != 1 {
		t.Errorf("outside directory holds %v, %v; want only the secret", entries, err)
	}
	for _, name := range []string{"/etc/arca-test-must-not-exist", "/etc/arca-test-dir"} {
		if _, err := os.Lstat(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %v, want it missing", name, err)
		}
	}
	if _, err := os.Stat("/etc/passwd"); err != nil {
		t.Errorf("/etc/passwd: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(r.Dir(), "evil")); err != nil {
		t.Errorf("the planted link is gone: %v", err)
	}

	// Walk passes over the links.
	resourcetest.Put(t, r, "ok", []byte("ok"))
	if keys := resourcetest.Keys(t, r); !slices.Equal(keys, []string{"ok"}) {
		t.Errorf("Walk = %q, want only ok", keys)
	}
}

// TestSymlinkInside checks that a link within the vault is not a file.
func TestSymlinkInside(t *testing.T) {
	ctx := t.Context()
	r := open(t)
	resourcetest.Put(t, r, "real/f", []byte("f"))
	if err := os.Symlink("real", filepath.Join(r.Dir(), "alias")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real/f", filepath.Join(r.Dir(), "flink")); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"alias", "flink"} {
		if _, err := r.Stat(ctx, key); !errors.Is(err, resources.ErrNotFound) {
			t.Errorf("Stat(%q) = %v, want ErrNotFound", key, err)
		}
		if err := r.Remove(ctx, key); !errors.Is(err, resources.ErrNotFound) {
			t.Errorf("Remove(%q) = %v, want ErrNotFound", key, err)
		}
		if _, err := r.Create(ctx, key); !errors.Is(err, resources.ErrExists) {
			t.Errorf("Create(%q) = %v, want ErrExists", key, err)
		}
	}
	if keys := resourcetest.Keys(t, r); !slices.Equal(keys, []string{"real/f"}) {
		t.Errorf("Walk = %q, want only real/f", keys)
	}
}

func TestKeyThroughFile(t *testing.T) {
	ctx := t.Context()
	r := open(t)
	resourcetest.Put(t, r, "f", []byte("file"))
	for _, key := range []string{"f/x", "f/x/y"} {
		w, err := r.Create(ctx, key)
		if err == nil {
			w.Abort()
			t.Errorf("Create(%q) through a file succeeded", key)
		} else if !errors.Is(err, syscall.ENOTDIR) {
			t.Errorf("Create(%q) through a file: %v, want ENOTDIR", key, err)
		}
		if _, err := r.Stat(ctx, key); !errors.Is(err, resources.ErrNotFound) {
			t.Errorf("Stat(%q) = %v, want ErrNotFound", key, err)
		}
		if err := r.Remove(ctx, key); !errors.Is(err, resources.ErrNotFound) {
			t.Errorf("Remove(%q) = %v, want ErrNotFound", key, err)
		}
	}
	// A directory is in the way of a file.
	resourcetest.Put(t, r, "d/f", []byte("d/f"))
	if _, err := r.Create(ctx, "d"); !errors.Is(err, resources.ErrExists) {
		t.Errorf("Create(%q) over a directory: %v, want ErrExists", "d", err)
	}
	if keys := resourcetest.Keys(t, r); !slices.Equal(keys, []string{"d/f", "f"}) {
		t.Errorf("Walk = %q", keys)
	}
	if got := resourcetest.Get(t, r, "f"); string(got) != "file" {
		t.Errorf("f holds %q", got)
	}
}

func TestCreateWhileWriting(t *testing.T) {
	ctx := t.Context()
	r := open(t)
	w, err := r.Create(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create(ctx, "k"); !errors.Is(err, resources.ErrExists) {
		t.Errorf("Create of a key being written: %v, want ErrExists", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	resourcetest.Put(t, r, "k", []byte("k"))
}

func TestRemovePrunesDirectories(t *testing.T) {
	ctx := t.Context()
	r := open(t)
	exists := func(rel string) bool {
		_, err := os.Lstat(filepath.Join(r.Dir(), rel))
		return err == nil
	}
	resourcetest.Put(t, r, "x/y/z/f", []byte("f"))
	resourcetest.Put(t, r, "x/keep", []byte("keep"))
	if err := r.Remove(ctx, "x/y/z/f"); err != nil {
		t.Fatal(err)
	}
	if exists("x/y") || !exists("x/keep") {
		t.Errorf("after Remove(x/y/z/f): x/y exists %v, x/keep exists %v", exists("x/y"), exists("x/keep"))
	}
	if err := r.Remove(ctx, "x/keep"); err != nil {
		t.Fatal(err)
	}
	if exists("x") || !exists(".") {
		t.Errorf("after Remove(x/keep): x exists %v, vault exists %v", exists("x"), exists("."))
	}

	w, err := r.Create(ctx, "n/m/f")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("partial"))
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if exists("n") {
		t.Errorf("Abort left directory n")
	}
}

func TestCancelledWrite(t *testing.T) {
	r := open(t)
	for _, key := range []string{"c", "dir/c"} {
		ctx, cancel := context.WithCancel(t.Context())
		w, err := r.Create(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("before")); err != nil {
			t.Fatal(err)
		}
		cancel()
		if _, err := w.Write([]byte("after")); !errors.Is(err, context.Canceled) {
			t.Errorf("Write after cancel: %v, want context.Canceled", err)
		}
		if _, err := w.Commit(); !errors.Is(err, context.Canceled) {
			t.Errorf("Commit after cancel: %v, want context.Canceled", err)
		}
		if err := w.Abort(); err != nil {
			t.Errorf("Abort after failed Commit: %v", err)
		}
		if _, err := os.Lstat(r.Path(key)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s after a failed Commit: %v, want it removed", key, err)
		}
	}
	if entries, _ := os.ReadDir(r.Dir()); len(entries) != 0 {
		t.Errorf("vault holds %v", entries)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := r.Create(ctx, "late"); !errors.Is(err, context.Canceled) {
		t.Errorf("Create with a cancelled context: %v", err)
	}
}
