package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/arca-data/arca/api/arcapb"
	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/internal/overlap"
	"github.com/arca-data/arca/zones"
	"github.com/arca-data/arca/zones/auth"
)

// Service exposes a Zone over gRPC. Handlers only translate: parse the
// request, call the Zone, map the result and the error.
type Service struct {
	arcapb.UnimplementedAuthServer
	arcapb.UnimplementedNamespaceServer
	arcapb.UnimplementedTransferServer
	arcapb.UnimplementedAdminServer
	arcapb.UnimplementedQueryServer
	arcapb.UnimplementedMetadataServer
	arcapb.UnimplementedAccessServer
	arcapb.UnimplementedTicketsServer
	arcapb.UnimplementedQuotasServer
	arcapb.UnimplementedRegistryServer
	arcapb.UnimplementedRulesServer
	zone *zones.Zone
	auth *auth.Authenticator
	// draining is closed when the server shuts down: streams that take
	// one request after another (PutMany) take no more.
	draining  chan struct{}
	drainOnce sync.Once
}

// NewService returns the gRPC face of z, whose callers a authenticates.
func NewService(z *zones.Zone, a *auth.Authenticator) *Service {
	return &Service{zone: z, auth: a, draining: make(chan struct{})}
}

// Drain tells the streams that take one request after another to finish
// what they have started and take nothing new: a shutdown waits for them,
// and what they took after it began could only be cut off mid-way.
func (s *Service) Drain() { s.drainOnce.Do(func() { close(s.draining) }) }

// Register adds every Arca service to s.
func (s *Service) Register(g *grpc.Server) {
	arcapb.RegisterAuthServer(g, s)
	arcapb.RegisterNamespaceServer(g, s)
	arcapb.RegisterTransferServer(g, s)
	arcapb.RegisterAdminServer(g, s)
	arcapb.RegisterQueryServer(g, s)
	arcapb.RegisterMetadataServer(g, s)
	arcapb.RegisterAccessServer(g, s)
	arcapb.RegisterTicketsServer(g, s)
	arcapb.RegisterQuotasServer(g, s)
	arcapb.RegisterRegistryServer(g, s)
	arcapb.RegisterResourcesServer(g, &resourcesService{zone: s.zone})
	arcapb.RegisterReplicasServer(g, &replicasService{zone: s.zone})
	arcapb.RegisterRulesServer(g, s)
	arcapb.RegisterProvenanceServer(g, &provenanceService{zone: s.zone})
	arcapb.RegisterPIDsServer(g, &pidService{zone: s.zone})
	arcapb.RegisterRAiDsServer(g, &raidService{zone: s.zone})
	arcapb.RegisterRetentionServer(g, &retentionService{zone: s.zone})
	arcapb.RegisterCertificatesServer(g, &certificateService{zone: s.zone})
	arcapb.RegisterZonesServer(g, &zonesService{zone: s.zone})
	arcapb.RegisterQoSServer(g, &qosService{zone: s.zone})
	arcapb.RegisterDMPsServer(g, &dmpService{zone: s.zone})
}

type callerKey struct{}
type tokenKey struct{}

// unauthenticatedMethods may be called without a session.
var unauthenticatedMethods = map[string]bool{
	arcapb.Auth_Login_FullMethodName: true,
}

func tokenFrom(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if t, ok := strings.CutPrefix(v, "Bearer "); ok {
			return t
		}
	}
	return ""
}

func ticketMetadata(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(arcapb.TicketMetadata); len(v) > 0 {
		return v[0]
	}
	return ""
}

// adminModeMetadata reports whether the call asks for admin mode (-M).
func adminModeMetadata(ctx context.Context) bool {
	md, _ := metadata.FromIncomingContext(ctx)
	v := md.Get(arcapb.AdminModeMetadata)
	return len(v) > 0 && v[0] == "1"
}

// peerHost is the client's IP address, for a ticket's allowed hosts.
func peerHost(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return ""
	}
	if host, _, err := net.SplitHostPort(p.Addr.String()); err == nil {
		return host
	}
	return p.Addr.String()
}

// authenticate finds the caller of a call. A call that presents a ticket
// without a valid session runs as the anonymous user, which may do only
// what the ticket allows (see Zone.authorize).
func (s *Service) authenticate(ctx context.Context, method string) (context.Context, error) {
	if unauthenticatedMethods[method] {
		return ctx, nil
	}
	token := tokenFrom(ctx)
	who, err := s.auth.Principal(ctx, token, ticketMetadata(ctx), peerHost(ctx))
	if err != nil {
		return ctx, toStatus(err)
	}
	who.AdminMode = adminModeMetadata(ctx)
	ctx = context.WithValue(ctx, callerKey{}, who)
	return context.WithValue(ctx, tokenKey{}, token), nil
}

// UnaryInterceptor authenticates every unary call and maps its error.
func (s *Service) UnaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := s.authenticate(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	resp, err := handler(ctx, req)
	return resp, toStatus(err)
}

type authedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (a authedStream) Context() context.Context { return a.ctx }

// StreamInterceptor authenticates every streaming call and maps its error.
func (s *Service) StreamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := s.authenticate(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	return toStatus(handler(srv, authedStream{ServerStream: ss, ctx: ctx}))
}

// caller is the principal authenticate found for the call.
func caller(ctx context.Context) zones.Principal {
	who, _ := ctx.Value(callerKey{}).(zones.Principal)
	return who
}

func parsePath(s string) (catalog.Path, error) {
	return catalog.ParsePath(s)
}

// Auth

func (s *Service) Login(ctx context.Context, req *arcapb.LoginRequest) (*arcapb.LoginResponse, error) {
	zone := req.Zone
	if zone == "" {
		zone = s.zone.Name()
	}
	id, err := catalog.ParseUserID(req.User, zone)
	if err != nil {
		return nil, err
	}
	if id.Zone != s.zone.Name() {
		return nil, fmt.Errorf("%w: zone %q is not this zone (%q)", zones.ErrUnauthenticated, id.Zone, s.zone.Name())
	}
	token, sess, u, err := s.auth.Login(ctx, id, req.Password, peerHost(ctx))
	if err != nil {
		return nil, err
	}
	return &arcapb.LoginResponse{Token: token, ExpiresUnix: sess.Expires.Unix(), User: userPB(u)}, nil
}

func (s *Service) Logout(ctx context.Context, req *arcapb.LogoutRequest) (*arcapb.LogoutResponse, error) {
	token, _ := ctx.Value(tokenKey{}).(string)
	n, err := s.auth.Logout(ctx, caller(ctx), token, req.All)
	if err != nil {
		return nil, err
	}
	return &arcapb.LogoutResponse{SessionsEnded: int32(n)}, nil
}

func (s *Service) WhoAmI(ctx context.Context, _ *arcapb.WhoAmIRequest) (*arcapb.WhoAmIResponse, error) {
	u, err := s.zone.WhoAmI(ctx, caller(ctx))
	if err != nil {
		return nil, err
	}
	return &arcapb.WhoAmIResponse{User: userPB(u), Zone: s.zone.Name(), Home: s.zone.Home(u.Name).String(), DefaultResource: s.zone.DefaultResource()}, nil
}

// Namespace

func (s *Service) Stat(ctx context.Context, req *arcapb.StatRequest) (*arcapb.Entry, error) {
	p, err := parsePath(req.Path)
	if err != nil {
		return nil, err
	}
	e, err := s.zone.Stat(ctx, caller(ctx), p)
	if err != nil {
		return nil, err
	}
	out := entryPB(e, true, true)
	s.showPhysicalPaths(ctx, out)
	return out, nil
}

// showPhysicalPaths fills what ils -L shows of every replica: where its
// bytes are, its resource hierarchy, and whether it is online.
func (s *Service) showPhysicalPaths(ctx context.Context, e *arcapb.Entry) {
	for _, r := range e.Replicas {
		loc := s.zone.LocateReplica(ctx, r.Resource, r.PhysicalPath)
		r.Hierarchy, r.Online, r.PhysicalPath = loc.Hierarchy, loc.Online, loc.PhysicalPath
	}
}

func (s *Service) List(req *arcapb.ListRequest, stream grpc.ServerStreamingServer[arcapb.ListResponse]) error {
	p, err := parsePath(req.Path)
	if err != nil {
		return err
	}
	ctx := stream.Context()
	return s.zone.List(ctx, caller(ctx), p, req.Recursive, func(page []catalog.Entry) error {
		resp := &arcapb.ListResponse{Entries: make([]*arcapb.Entry, len(page))}
		for i, e := range page {
			resp.Entries[i] = entryPB(e, req.Replicas, req.Acl)
			if req.Replicas {
				s.showPhysicalPaths(ctx, resp.Entries[i])
				continue
			}
			for _, r := range resp.Entries[i].Replicas { // ils -l shows it, as iRODS does
				r.Hierarchy = s.zone.ReplicaHierarchy(ctx, r.Resource)
			}
		}
		return stream.Send(resp)
	})
}

func (s *Service) MakeCollection(ctx context.Context, req *arcapb.MakeCollectionRequest) (*arcapb.Entry, error) {
	p, err := parsePath(req.Path)
	if err != nil {
		return nil, err
	}
	c, err := s.zone.MakeCollection(ctx, caller(ctx), p, req.Parents)
	if err != nil {
		return nil, err
	}
	return entryPB(catalog.Entry{Collection: &c}, false, false), nil
}

func (s *Service) Rename(ctx context.Context, req *arcapb.RenameRequest) (*arcapb.Entry, error) {
	from, err := parsePath(req.From)
	if err != nil {
		return nil, err
	}
	to, err := parsePath(req.To)
	if err != nil {
		return nil, err
	}
	if err := s.zone.Rename(ctx, caller(ctx), from, to); err != nil {
		return nil, err
	}
	e, err := s.zone.Stat(ctx, caller(ctx), to)
	if err != nil {
		return nil, err
	}
	return entryPB(e, false, false), nil
}

func (s *Service) Remove(ctx context.Context, req *arcapb.RemoveRequest) (*arcapb.RemoveResponse, error) {
	p, err := parsePath(req.Path)
	if err != nil {
		return nil, err
	}
	res, err := s.zone.Remove(ctx, caller(ctx), p, req.Recursive, req.Force)
	if err != nil {
		return nil, err
	}
	return removePB(res), nil
}

func (s *Service) RemoveTrash(ctx context.Context, req *arcapb.RemoveTrashRequest) (*arcapb.RemoveResponse, error) {
	t := zones.TrashRemoval{User: req.User, All: req.All, Recursive: req.Recursive, MinAge: time.Duration(req.MinAgeSeconds) * time.Second}
	for _, raw := range req.Paths {
		p, err := parsePath(raw)
		if err != nil {
			return nil, err
		}
		t.Paths = append(t.Paths, p)
	}
	res, err := s.zone.RemoveTrashWith(ctx, caller(ctx), t)
	if err != nil {
		return nil, err
	}
	return removePB(res), nil
}

func (s *Service) Copy(ctx context.Context, req *arcapb.CopyRequest) (*arcapb.Entry, error) {
	from, err := parsePath(req.From)
	if err != nil {
		return nil, err
	}
	to, err := parsePath(req.To)
	if err != nil {
		return nil, err
	}
	obj, err := s.zone.Copy(ctx, caller(ctx), from, to, req.Resource, req.Overwrite)
	if err != nil {
		return nil, err
	}
	return entryPB(catalog.Entry{Object: &obj}, true, false), nil
}

func (s *Service) Checksum(ctx context.Context, req *arcapb.ChecksumRequest) (*arcapb.ChecksumResponse, error) {
	p, err := parsePath(req.Path)
	if err != nil {
		return nil, err
	}
	res, err := s.zone.Checksum(ctx, caller(ctx), p, req.Verify)
	if err != nil {
		return nil, err
	}
	out := &arcapb.ChecksumResponse{Checksum: res.Checksum}
	for _, r := range res.Replicas {
		out.Replicas = append(out.Replicas, replicaPB(r))
	}
	return out, nil
}

// Transfer

// putBody turns the data messages of a Put stream into a reader; it ends at
// the client's half-close or at the trailer.
type putBody struct {
	stream  grpc.ClientStreamingServer[arcapb.PutRequest, arcapb.Entry]
	buf     []byte
	trailer *arcapb.PutTrailer
	done    bool
}

func (b *putBody) Read(p []byte) (int, error) {
	for len(b.buf) == 0 {
		if b.done {
			return 0, io.EOF
		}
		if err := b.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

// next receives the following message into buf; io.EOF ends the body.
func (b *putBody) next() error {
	msg, err := b.stream.Recv()
	if err == io.EOF {
		b.done = true
		return io.EOF
	}
	if err != nil {
		return fmt.Errorf("receive: %w", err)
	}
	switch part := msg.Part.(type) {
	case *arcapb.PutRequest_Data:
		b.buf = part.Data
	case *arcapb.PutRequest_Trailer:
		b.trailer, b.done = part.Trailer, true
	default:
		return fmt.Errorf("%w: a put stream carries one header, then data, then a trailer", catalog.ErrInvalidArgument)
	}
	return nil
}

// WriteTo hands each received chunk straight to w, so io.Copy needs no
// buffer of its own. While w writes one chunk (to disk, and into its
// checksum) the next one is received and decrypted: the network and the
// disk work at the same time instead of taking turns.
func (b *putBody) WriteTo(w io.Writer) (int64, error) {
	if b.done { // everything came with the header
		n, err := w.Write(b.buf)
		b.buf = nil
		return int64(n), err
	}
	// One message per chunk: on the data channel, a chunk's bytes are the
	// frame reader's buffer, valid until the second message after it
	// (datachan.Reader.Next), just as long as overlap.Copy needs them.
	return overlap.Copy(w, func() ([]byte, error) {
		if len(b.buf) == 0 {
			if b.done {
				return nil, io.EOF
			}
			if err := b.next(); err != nil {
				return nil, err
			}
		}
		p := b.buf
		b.buf = nil
		return p, nil
	})
}

func (b *putBody) checksum() (string, error) {
	if b.trailer == nil {
		return "", fmt.Errorf("%w: the client asked to verify but sent no checksum", catalog.ErrInvalidArgument)
	}
	return b.trailer.Checksum, nil
}

func (s *Service) Put(stream grpc.ClientStreamingServer[arcapb.PutRequest, arcapb.Entry]) error {
	ctx := stream.Context()
	first, err := stream.Recv()
	if err != nil {
		return fmt.Errorf("receive put header: %w", err)
	}
	h := first.GetHeader()
	if h == nil {
		return fmt.Errorf("%w: a put stream starts with a header", catalog.ErrInvalidArgument)
	}
	p, err := parsePath(h.Path)
	if err != nil {
		return err
	}
	body := &putBody{stream: stream, buf: h.Data}
	req := zones.PutRequest{Path: p, Size: h.Size, Resource: h.Resource, Overwrite: h.Overwrite, Checksum: h.Checksum,
		Metadata: avusFromPB(h.Metadata)}
	if h.Verify {
		req.ExpectChecksum = body.checksum
	}
	obj, err := s.zone.Put(ctx, caller(ctx), req, body)
	if err != nil {
		return err
	}
	return stream.SendAndClose(entryPB(catalog.Entry{Object: &obj}, true, false))
}

// getChunk is the size of one data message of Get.
const getChunk = 1 << 20

func (s *Service) Get(req *arcapb.GetRequest, stream grpc.ServerStreamingServer[arcapb.GetResponse]) error {
	ctx := stream.Context()
	p, err := parsePath(req.Path)
	if err != nil {
		return err
	}
	o := zones.OpenOptions{Resource: req.Resource, Offset: req.Offset, NoWait: req.NoWait}
	if req.Replica != nil {
		o.ByNumber, o.Number = true, int(req.GetReplica())
	}
	obj, rep, rc, err := s.zone.OpenWith(ctx, caller(ctx), p, o)
	if err != nil {
		return err
	}
	defer rc.Close()
	head := entryPB(catalog.Entry{Object: &obj}, false, false)
	head.Size, head.Checksum = rep.Size, rep.Checksum
	head.Replicas = []*arcapb.Replica{replicaPB(rep)}
	head.Replicas[0].PhysicalPath = ""
	if err := stream.Send(&arcapb.GetResponse{Part: &arcapb.GetResponse_Header{Header: head}}); err != nil {
		return err
	}
	// A chunk, or less for a smaller replica: a tree of small files should
	// not cost a fresh megabyte each. At least a byte, to see the end.
	buf := make([]byte, min(getChunk, max(rep.Size, 1)))
	for {
		n, err := io.ReadFull(rc, buf)
		if n > 0 {
			if serr := stream.Send(&arcapb.GetResponse{Part: &arcapb.GetResponse_Data{Data: buf[:n]}}); serr != nil {
				return serr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
	}
}

// Admin

func (s *Service) MakeUser(ctx context.Context, req *arcapb.MakeUserRequest) (*arcapb.User, error) {
	typ, err := catalog.ParseUserType(req.Type)
	if err != nil {
		return nil, err
	}
	u, err := s.zone.MakeUser(ctx, caller(ctx), req.Name, typ, req.Password)
	if err != nil {
		return nil, err
	}
	return userPB(u), nil
}

func (s *Service) ModifyUser(ctx context.Context, req *arcapb.ModifyUserRequest) (*arcapb.User, error) {
	u, err := s.zone.ModifyUser(ctx, caller(ctx), req.Name, req.Field, req.Value)
	if err != nil {
		return nil, err
	}
	return userPB(u), nil
}

func (s *Service) ChangePassword(ctx context.Context, req *arcapb.ChangePasswordRequest) (*arcapb.ChangePasswordResponse, error) {
	if err := s.auth.ChangePassword(ctx, caller(ctx), req.CurrentPassword, req.NewPassword); err != nil {
		return nil, err
	}
	return &arcapb.ChangePasswordResponse{}, nil
}

func (s *Service) RemoveUser(ctx context.Context, req *arcapb.RemoveUserRequest) (*arcapb.RemoveUserResponse, error) {
	if err := s.zone.RemoveUser(ctx, caller(ctx), req.Name); err != nil {
		return nil, err
	}
	return &arcapb.RemoveUserResponse{}, nil
}

func (s *Service) ListUsers(ctx context.Context, _ *arcapb.ListUsersRequest) (*arcapb.ListUsersResponse, error) {
	users, err := s.zone.ListUsers(ctx, caller(ctx))
	if err != nil {
		return nil, err
	}
	out := &arcapb.ListUsersResponse{}
	for _, u := range users {
		out.Users = append(out.Users, userPB(u))
	}
	return out, nil
}

// Metadata

// metadataTarget reads a target: a path, a resource name, or a user as
// "name" or "name#zone" (this zone by default).
func (s *Service) metadataTarget(t *arcapb.MetadataTarget) (catalog.AVUTarget, error) {
	if t == nil {
		return catalog.AVUTarget{}, fmt.Errorf("%w: no metadata target", catalog.ErrInvalidArgument)
	}
	switch t.Kind {
	case arcapb.MetadataTargetKind_METADATA_TARGET_KIND_DATA_OBJECT, arcapb.MetadataTargetKind_METADATA_TARGET_KIND_COLLECTION:
		p, err := parsePath(t.Name)
		if err != nil {
			return catalog.AVUTarget{}, err
		}
		if t.Kind == arcapb.MetadataTargetKind_METADATA_TARGET_KIND_COLLECTION {
			return catalog.CollectionTarget(p), nil
		}
		return catalog.ObjectTarget(p), nil
	case arcapb.MetadataTargetKind_METADATA_TARGET_KIND_RESOURCE:
		return catalog.ResourceTarget(t.Name), nil
	case arcapb.MetadataTargetKind_METADATA_TARGET_KIND_USER:
		id, err := catalog.ParseUserID(t.Name, s.zone.Name())
		if err != nil {
			return catalog.AVUTarget{}, err
		}
		return catalog.UserTarget(id), nil
	}
	return catalog.AVUTarget{}, fmt.Errorf("%w: unknown metadata target kind %v", catalog.ErrInvalidArgument, t.Kind)
}

func (s *Service) AddMetadata(ctx context.Context, req *arcapb.AddMetadataRequest) (*arcapb.AddMetadataResponse, error) {
	t, err := s.metadataTarget(req.Target)
	if err != nil {
		return nil, err
	}
	avus := avusFromPB(req.Avus)
	if err := s.zone.AddMetadata(ctx, caller(ctx), t, avus); err != nil {
		return nil, err
	}
	return &arcapb.AddMetadataResponse{Added: int64(len(avus))}, nil
}

func (s *Service) SetMetadata(ctx context.Context, req *arcapb.SetMetadataRequest) (*arcapb.SetMetadataResponse, error) {
	t, err := s.metadataTarget(req.Target)
	if err != nil {
		return nil, err
	}
	if err := s.zone.SetMetadata(ctx, caller(ctx), t, avuFromPB(req.Avu)); err != nil {
		return nil, err
	}
	return &arcapb.SetMetadataResponse{}, nil
}

func (s *Service) RemoveMetadata(ctx context.Context, req *arcapb.RemoveMetadataRequest) (*arcapb.RemoveMetadataResponse, error) {
	t, err := s.metadataTarget(req.Target)
	if err != nil {
		return nil, err
	}
	removed, err := s.zone.RemoveMetadata(ctx, caller(ctx), t, avuFromPB(req.Avu), req.Wildcard)
	if err != nil {
		return nil, err
	}
	return &arcapb.RemoveMetadataResponse{Removed: avusPB(removed)}, nil
}

func (s *Service) ModifyMetadata(ctx context.Context, req *arcapb.ModifyMetadataRequest) (*arcapb.ModifyMetadataResponse, error) {
	t, err := s.metadataTarget(req.Target)
	if err != nil {
		return nil, err
	}
	if err := s.zone.ModifyMetadata(ctx, caller(ctx), t, avuFromPB(req.Old), avuFromPB(req.New)); err != nil {
		return nil, err
	}
	return &arcapb.ModifyMetadataResponse{}, nil
}

// metadataPage bounds one streamed message of ListMetadata, well below the
// client's 8 MiB receive limit even for AVUs of the largest size.
const metadataPage = 1 << 20

func (s *Service) ListMetadata(req *arcapb.ListMetadataRequest, stream grpc.ServerStreamingServer[arcapb.ListMetadataResponse]) error {
	ctx := stream.Context()
	t, err := s.metadataTarget(req.Target)
	if err != nil {
		return err
	}
	avus, err := s.zone.ListMetadata(ctx, caller(ctx), t, req.Attribute)
	if err != nil {
		return err
	}
	resp, size := &arcapb.ListMetadataResponse{}, 0
	for _, a := range avus {
		resp.Avus = append(resp.Avus, avuPB(a))
		size += len(a.Attribute) + len(a.Value) + len(a.Unit) + 16
		if size >= metadataPage {
			if err := stream.Send(resp); err != nil {
				return err
			}
			resp, size = &arcapb.ListMetadataResponse{}, 0
		}
	}
	if len(resp.Avus) > 0 {
		return stream.Send(resp)
	}
	return nil
}

// Query

func (s *Service) Run(req *arcapb.QueryRequest, stream grpc.ServerStreamingServer[arcapb.QueryResponse]) error {
	ctx := stream.Context()
	first := true
	return s.zone.Query(ctx, caller(ctx), req.Query, func(columns []string, rows [][]string) error {
		resp := &arcapb.QueryResponse{Rows: make([]*arcapb.QueryRow, len(rows))}
		if first {
			resp.Columns, first = columns, false
		}
		for i, r := range rows {
			resp.Rows[i] = &arcapb.QueryRow{Values: r}
		}
		return stream.Send(resp)
	})
}
