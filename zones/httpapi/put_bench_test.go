package httpapi_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkAPIPutSmall puts 1,000 files of 1 KiB through the JSON API, 8 at
// a time: what the HTTP layer costs on top of zone.Put, beside
// BenchmarkRcloneUpload1000 (the same files through WebDAV with rclone,
// which sends a MKCOL and a PROPFIND with every PUT).
func BenchmarkAPIPutSmall(b *testing.B) {
	e := startEnv(b)
	data := make([]byte, 1024)
	rand.Read(data)
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		e.json("POST", fmt.Sprintf("/api/v1/collections/tempZone/home/rods/small%d", i), e.token, nil, 201, nil)
		start := time.Now()
		var wg sync.WaitGroup
		next := make(chan int)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range next {
					resp, body := e.do("PUT", fmt.Sprintf("/api/v1/objects/tempZone/home/rods/small%d/f%04d", i, j), e.token, bytes.NewReader(data), nil)
					if resp.StatusCode != 201 {
						b.Errorf("PUT: %d %s", resp.StatusCode, body)
					}
				}
			}()
		}
		for j := range 1000 {
			next <- j
		}
		close(next)
		wg.Wait()
		total += time.Since(start)
	}
	b.ReportMetric(float64(1000*b.N)/total.Seconds(), "files/s")
}
