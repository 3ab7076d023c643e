package s3_test

import (
	"testing"

	"github.com/arca-data/arca/resources/resourcetest"
	"github.com/arca-data/arca/resources/s3/s3test"
)

// BenchmarkPut256MiB streams 256 MiB through a writer in 1 MiB writes.
func BenchmarkPut256MiB(b *testing.B) {
	r := open(b, s3test.Config(b))
	chunk := resourcetest.Data(1, 1<<20)
	b.SetBytes(256 << 20)
	for i := 0; i < b.N; i++ {
		w, err := r.Create(b.Context(), "bench/"+s3test.Unique())
		if err != nil {
			b.Fatal(err)
		}
		for range 256 {
			if _, err := w.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := w.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}
