// Package s3test gives tests the MinIO server that .ci/services/30-minio.sh
// starts. A test without it skips, naming the script; with CI=true it fails.
package s3test

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/arca-data/arca/resources/s3"
)

// Config returns a configuration for a bucket on the test server with a
// prefix no other test uses.
func Config(t testing.TB) s3.Config {
	t.Helper()
	endpoint := os.Getenv("ARCA_TEST_S3")
	if endpoint == "" {
		msg := "ARCA_TEST_S3 is not set: start MinIO with `source .ci/services/30-minio.sh`"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return s3.Config{
		Endpoint:  endpoint,
		AccessKey: os.Getenv("ARCA_TEST_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("ARCA_TEST_S3_SECRET_KEY"),
		Bucket:    "arca-test",
		Prefix:    "t-" + Unique(),
	}
}

// Unique returns a short random name.
func Unique() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Server is a MinIO server of a test's own, which the test may stop.
type Server struct {
	Config s3.Config
	cmd    *exec.Cmd
	done   chan struct{}
}

// StartServer starts a MinIO server of the test's own on a free loopback
// port, from the binary .ci/services/30-minio.sh built
// (ARCA_TEST_MINIO_BIN), and stops it when the test ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin := os.Getenv("ARCA_TEST_MINIO_BIN")
	if bin == "" {
		msg := "ARCA_TEST_MINIO_BIN is not set: build MinIO with `source .ci/services/30-minio.sh`"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	s := &Server{Config: s3.Config{Endpoint: "http://" + addr, AccessKey: "outage-test", SecretKey: "outage-secret-" + Unique(),
		Bucket: "outage", Attempts: 2}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "server", "--quiet", "--address", addr, "--console-address", "127.0.0.1:0", t.TempDir())
	s.cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+s.Config.AccessKey, "MINIO_ROOT_PASSWORD="+s.Config.SecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.Config.Endpoint + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("MinIO on %s did not start: %v", addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Stop kills the server at once, as a crash or a pulled cable would.
func (s *Server) Stop() {
	s.cmd.Process.Kill()
	<-s.done
}
