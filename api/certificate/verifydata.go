package certificate

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// DataReport is what VerifyData found in a local copy.
type DataReport struct {
	Checked int      // files read and compared
	Missing []string // listed, not in the copy (manifest paths)
	Extra   []string // in the copy, not listed
	Changed []Change
}

// Change is a file whose bytes differ from the certified ones.
type Change struct {
	Path string
	// Algs are the digests that differ: "sha-256", "sha-512" or both.
	Algs []string
}

// OK reports whether the copy is what was certified.
func (r DataReport) OK() bool {
	return len(r.Missing) == 0 && len(r.Extra) == 0 && len(r.Changed) == 0
}

// Err is nil for a copy that is what was certified, else an error that
// names every file that is missing, extra or changed.
func (r DataReport) Err() error {
	if r.OK() {
		return nil
	}
	var parts []string
	for _, p := range r.Missing {
		parts = append(parts, "missing "+p)
	}
	for _, p := range r.Extra {
		parts = append(parts, "extra "+p)
	}
	for _, c := range r.Changed {
		parts = append(parts, fmt.Sprintf("changed %s (%s)", c.Path, strings.Join(c.Algs, ", ")))
	}
	return &VerifyError{Part: "data", Err: errors.New(strings.Join(parts, "; "))}
}

// VerifyData recomputes the SHA-256 and SHA-512 of every file the
// manifests list, in one read pass each, under dir, which stands for the
// bag's data/ directory: for a collection, a copy of the collection (as
// `iget -r` makes); for a data object, the directory holding its copy.
// With extras it also reports files under dir that are not listed (a
// collection's copy; an object's directory may hold anything else).
func VerifyData(ctx context.Context, m Manifests, dir string, extras bool) (DataReport, error) {
	var r DataReport
	paths := make([]string, 0, len(m.SHA512))
	for p := range m.SHA512 {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	buf := make([]byte, 1<<20)
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		local := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(p, "data/")))
		s256, s512, err := hashFile(local, buf)
		if errors.Is(err, fs.ErrNotExist) {
			r.Missing = append(r.Missing, p)
			continue
		}
		if err != nil {
			return r, fmt.Errorf("verify %s: %w", p, err)
		}
		r.Checked++
		var algs []string
		if s256 != m.SHA256[p] {
			algs = append(algs, AlgSHA256)
		}
		if s512 != m.SHA512[p] {
			algs = append(algs, AlgSHA512)
		}
		if len(algs) > 0 {
			r.Changed = append(r.Changed, Change{Path: p, Algs: algs})
		}
	}
	if !extras {
		return r, nil
	}
	err := filepath.WalkDir(dir, func(local string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, local)
		if err != nil {
			return err
		}
		p := "data/" + filepath.ToSlash(rel)
		if _, ok := m.SHA512[p]; !ok {
			r.Extra = append(r.Extra, p)
		}
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("verify: walk %s: %w", dir, err)
	}
	return r, nil
}

// hashFile reads path once, feeding both digests: a small file through
// one writer, a large one to two goroutines that hash the same buffers at
// once (SHA-256 and SHA-512 on two cores), so that the pass runs at about
// the speed of the slower digest alone.
func hashFile(path string, buf []byte) (string, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	h256, h512 := sha256.New(), sha512.New()
	if st, err := f.Stat(); err == nil && st.Size() < parallelHashSize {
		if _, err := io.CopyBuffer(io.MultiWriter(h256, h512), f, buf); err != nil {
			return "", "", err
		}
		return hex.EncodeToString(h256.Sum(nil)), hex.EncodeToString(h512.Sum(nil)), nil
	}
	if err := hashBoth(f, h256, h512); err != nil {
		return "", "", err
	}
	return hex.EncodeToString(h256.Sum(nil)), hex.EncodeToString(h512.Sum(nil)), nil
}

// parallelHashSize is the size from which a file's two digests are
// computed on two goroutines.
const parallelHashSize = 4 << 20

// hashBoth reads r once into a ring of buffers that both hashes consume
// concurrently; a buffer is read into again once both are done with it.
func hashBoth(r io.Reader, a, b hash.Hash) error {
	const nbuf, size = 4, 1 << 20
	type chunk struct {
		data []byte
		done sync.WaitGroup
	}
	ring := make([]*chunk, nbuf)
	for i := range ring {
		ring[i] = &chunk{data: make([]byte, size)}
	}
	ca, cb := make(chan *chunk, nbuf), make(chan *chunk, nbuf)
	var workers sync.WaitGroup
	for _, w := range []struct {
		h  hash.Hash
		in chan *chunk
	}{{a, ca}, {b, cb}} {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for c := range w.in {
				w.h.Write(c.data)
				c.done.Done()
			}
		}()
	}
	var err error
	for i := 0; ; i++ {
		c := ring[i%nbuf]
		c.done.Wait() // both hashes are done with what it held
		c.data = c.data[:size]
		n, rerr := io.ReadFull(r, c.data)
		if n > 0 {
			c.data = c.data[:n]
			c.done.Add(2)
			ca <- c
			cb <- c
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			err = rerr
			break
		}
	}
	close(ca)
	close(cb)
	workers.Wait()
	return err
}
