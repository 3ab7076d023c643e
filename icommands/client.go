package icommands

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/api/datachan"
	"github.com/arca-data/arca/catalog"
)

// client is a connection to a zone with the stored session.
type client struct {
	conn     *grpc.ClientConn
	env      Environment
	dir      string
	auth     arcapb.AuthClient
	ns       arcapb.NamespaceClient
	xfer     arcapb.TransferClient
	admin    arcapb.AdminClient
	query    arcapb.QueryClient
	meta     arcapb.MetadataClient
	access   arcapb.AccessClient
	tickets  arcapb.TicketsClient
	quotas   arcapb.QuotasClient
	rescs    arcapb.ResourcesClient
	repls    arcapb.ReplicasClient
	rules    arcapb.RulesClient
	registry arcapb.RegistryClient
	retain   arcapb.RetentionClient
	zones    arcapb.ZonesClient
	qos      arcapb.QoSClient
	dmps     arcapb.DMPsClient

	// For the data channel (datachannel.go).
	data          *datachan.Pool
	chunks        sync.Pool // *[]byte of chunkSize, for uploads
	creds         tokenCreds
	noDataChannel atomic.Bool
}

// tokenCreds sends the session token, the ticket given with --ticket and
// admin mode (-M) with every call, only over TLS.
type tokenCreds struct {
	token, ticket string
	adminMode     bool
}

func (t tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	md := map[string]string{}
	if t.token != "" {
		md["authorization"] = "Bearer " + t.token
	}
	if t.ticket != "" {
		md[arcapb.TicketMetadata] = t.ticket
	}
	if t.adminMode {
		md[arcapb.AdminModeMetadata] = "1"
	}
	return md, nil
}

func (tokenCreds) RequireTransportSecurity() bool { return true }

// clientTLS trusts only the zone CA in caPath.
func clientTLS(caPath, host string) (*tls.Config, error) {
	pemBytes, err := os.ReadFile(caPath)
	if err != nil {
		return nil, fmt.Errorf("read the zone's CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caPath)
	}
	return &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}, nil
}

// dial connects to env's zone, sending the token stored in dir, if any.
// ticket, if set, and admin mode go with every call.
func dial(dir string, env Environment, ticket string, adminMode bool) (*client, error) {
	token, _ := os.ReadFile(filepath.Join(dir, sessionFile))
	return dialWith(dir, env, tokenCreds{token: strings.TrimSpace(string(token)), ticket: ticket, adminMode: adminMode})
}

func dialWith(dir string, env Environment, creds tokenCreds) (*client, error) {
	tlsConf, err := clientTLS(env.CAFile, env.Host)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(env.Host, strconv.Itoa(env.Port))
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(credentials.NewTLS(tlsConf)),
		grpc.WithPerRPCCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(arcapb.MaxMessageSize)),
		// See the server's transferWindow: defaults cap a large transfer.
		grpc.WithInitialWindowSize(16<<20),
		grpc.WithInitialConnWindowSize(32<<20),
		grpc.WithWriteBufferSize(1<<20),
		grpc.WithReadBufferSize(1<<20),
	)
	if err != nil {
		return nil, fmt.Errorf("connect to %s:%d: %w", env.Host, env.Port, err)
	}
	return &client{
		conn: conn, env: env, dir: dir,
		auth: arcapb.NewAuthClient(conn), ns: arcapb.NewNamespaceClient(conn),
		xfer: arcapb.NewTransferClient(conn), admin: arcapb.NewAdminClient(conn),
		query: arcapb.NewQueryClient(conn),
		meta:  arcapb.NewMetadataClient(conn), access: arcapb.NewAccessClient(conn),
		tickets: arcapb.NewTicketsClient(conn), quotas: arcapb.NewQuotasClient(conn),
		data: datachan.NewPool(addr, tlsConf), creds: creds,
		rescs: arcapb.NewResourcesClient(conn), repls: arcapb.NewReplicasClient(conn),
		rules: arcapb.NewRulesClient(conn), registry: arcapb.NewRegistryClient(conn),
		retain: arcapb.NewRetentionClient(conn),
		zones:  arcapb.NewZonesClient(conn),
		qos:    arcapb.NewQoSClient(conn),
		dmps:   arcapb.NewDMPsClient(conn),
	}, nil
}

// chunk returns a buffer of chunkSize bytes, one that an upload gave back if
// it can: a tree of files then reuses a few megabytes instead of touching
// fresh memory for every file.
func (c *client) chunk() []byte {
	if b, ok := c.chunks.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, chunkSize)
}

func (c *client) recycleChunk(b []byte) { c.chunks.Put(&b) }

func (c *client) close() {
	c.data.Close()
	c.conn.Close()
}

// resolve turns a command-line path into an absolute logical path, relative
// to the working collection.
func (c *client) resolve(arg string) (catalog.Path, error) {
	p, err := catalog.Resolve(c.env.cwd(), arg)
	if err != nil {
		return catalog.Path{}, fmt.Errorf("logical path %s: %w", quoteArg(arg), err)
	}
	return p, nil
}

// stat describes the entry at the logical path p.
func (c *client) stat(ctx context.Context, p catalog.Path) (*arcapb.Entry, error) {
	return c.ns.Stat(ctx, &arcapb.StatRequest{Path: p.String()})
}
