package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"

	goldap "github.com/go-ldap/ldap/v3"
)

var (
	// ErrInvalidCredentials means the directory did not accept the name and
	// password: no such user, several entries for the name, a wrong or empty
	// password, or a bind the directory refused.
	ErrInvalidCredentials = errors.New("invalid LDAP credentials")
	// ErrUnavailable means the directory could not be asked: unreachable,
	// a TLS failure, a refused service bind or search.
	ErrUnavailable = errors.New("LDAP directory unavailable")
)

// Identity is a user the directory authenticated.
type Identity struct {
	// DN is the user's entry.
	DN string
	// Groups are the names (GroupAttr) of the groups under GroupBase that
	// hold the user; nil without a GroupBase.
	Groups []string
}

// Client authenticates users against one directory. It holds no
// connection: every call opens its own, so a restarted directory costs
// nothing, and a call that ends leaves nothing bound.
type Client struct {
	cfg Config
	url *url.URL
	tls *tls.Config
}

// New checks cfg and reads its CA file; it does not contact the directory.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	u, err := cfg.parse()
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pemBytes, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ldap CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("ldap CA file %s holds no PEM certificate", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	return &Client{cfg: cfg, url: u, tls: tc}, nil
}

// URL is the directory's address, for messages.
func (c *Client) URL() string { return c.url.String() }

// Authenticate checks name and password: it finds the one entry whose
// UserAttr is name (exactly: a directory that matches case-insensitively
// must not turn "Alice" into a second account of alice), binds as it with
// password, and reads the user's groups.
func (c *Client) Authenticate(ctx context.Context, name, password string) (Identity, error) {
	if password == "" {
		return Identity{}, fmt.Errorf("%w: empty password", ErrInvalidCredentials)
	}
	if name == "" {
		return Identity{}, fmt.Errorf("%w: empty user name", ErrInvalidCredentials)
	}
	conn, closeConn, err := c.connect(ctx)
	if err != nil {
		return Identity{}, err
	}
	defer closeConn()

	dn, err := c.findUser(conn, name)
	if err != nil {
		return Identity{}, err
	}
	if err := conn.Bind(dn, password); err != nil {
		if serverAnswered(err) {
			return Identity{}, fmt.Errorf("%w: bind as %s: %v", ErrInvalidCredentials, dn, resultText(err))
		}
		return Identity{}, fmt.Errorf("%w: bind as %s: %v", ErrUnavailable, dn, err)
	}
	id := Identity{DN: dn}
	if c.cfg.GroupBase == "" {
		return id, nil
	}
	// Groups are read as the service account when there is one, since a
	// directory need not let users read its groups.
	if c.cfg.BindDN != "" {
		if err := conn.Bind(c.cfg.BindDN, c.cfg.BindPassword); err != nil {
			return Identity{}, fmt.Errorf("%w: service bind as %s: %v", ErrUnavailable, c.cfg.BindDN, resultText(err))
		}
	}
	res, err := conn.Search(goldap.NewSearchRequest(c.cfg.GroupBase, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		0, c.timeLimit(), false, GroupFilter(dn, name), []string{c.cfg.GroupAttr}, nil))
	if err != nil {
		return Identity{}, fmt.Errorf("%w: search the groups of %s: %v", ErrUnavailable, dn, resultText(err))
	}
	id.Groups = []string{}
	for _, e := range res.Entries {
		if g := e.GetEqualFoldAttributeValue(c.cfg.GroupAttr); g != "" {
			id.Groups = append(id.Groups, g)
		}
	}
	slices.Sort(id.Groups)
	id.Groups = slices.Compact(id.Groups)
	return id, nil
}

// Exists reports whether the directory still holds the one entry for name
// that a login would find. It asks as the service account (or anonymously)
// and binds as no user. (false, nil) means a login of name would fail for
// want of an entry; an error means the directory could not be asked.
func (c *Client) Exists(ctx context.Context, name string) (bool, error) {
	if name == "" {
		return false, nil
	}
	conn, closeConn, err := c.connect(ctx)
	if err != nil {
		return false, err
	}
	defer closeConn()
	if _, err := c.findUser(conn, name); err != nil {
		if errors.Is(err, ErrInvalidCredentials) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// findUser returns the DN of the one entry for name.
func (c *Client) findUser(conn *goldap.Conn, name string) (string, error) {
	// A size limit of 2 is enough to tell one entry from several.
	res, err := conn.Search(goldap.NewSearchRequest(c.cfg.Base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		2, c.timeLimit(), false, UserFilter(c.cfg.UserFilter, c.cfg.UserAttr, name), []string{c.cfg.UserAttr}, nil))
	switch {
	case goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded):
		return "", fmt.Errorf("%w: several entries have %s=%s", ErrInvalidCredentials, c.cfg.UserAttr, name)
	case err != nil:
		return "", fmt.Errorf("%w: search for %s=%s: %v", ErrUnavailable, c.cfg.UserAttr, name, resultText(err))
	case len(res.Entries) == 0:
		return "", fmt.Errorf("%w: no entry has %s=%s", ErrInvalidCredentials, c.cfg.UserAttr, name)
	case len(res.Entries) > 1:
		return "", fmt.Errorf("%w: several entries have %s=%s", ErrInvalidCredentials, c.cfg.UserAttr, name)
	}
	e := res.Entries[0]
	if !slices.Contains(e.GetEqualFoldAttributeValues(c.cfg.UserAttr), name) {
		return "", fmt.Errorf("%w: %s has %s %q, not exactly %q", ErrInvalidCredentials, e.DN, c.cfg.UserAttr,
			e.GetEqualFoldAttributeValues(c.cfg.UserAttr), name)
	}
	return e.DN, nil
}

// connect dials the directory, makes the connection TLS (unless plain
// loopback LDAP is allowed) and binds as the service account, if any. The
// caller calls the returned func when done with the connection.
func (c *Client) connect(ctx context.Context) (*goldap.Conn, func(), error) {
	host := c.url.Host
	if c.url.Port() == "" {
		port := "389"
		if c.url.Scheme == "ldaps" {
			port = "636"
		}
		host = net.JoinHostPort(c.url.Hostname(), port)
	}
	dctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var raw net.Conn
	var err error
	if c.url.Scheme == "ldaps" {
		d := &tls.Dialer{Config: c.tls}
		raw, err = d.DialContext(dctx, "tcp", host)
	} else {
		var d net.Dialer
		raw, err = d.DialContext(dctx, "tcp", host)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrUnavailable, c.url, err)
	}
	conn := goldap.NewConn(raw, c.url.Scheme == "ldaps")
	conn.Start()
	conn.SetTimeout(c.cfg.Timeout)
	// The caller's cancellation ends the connection and with it any request
	// waiting on it.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	done := func() {
		stop()
		conn.Close()
	}
	if c.url.Scheme == "ldap" && !c.cfg.InsecurePlainLoopback {
		if err := conn.StartTLS(c.tls); err != nil {
			done()
			return nil, nil, fmt.Errorf("%w: StartTLS with %s: %v", ErrUnavailable, c.url, err)
		}
	}
	if c.cfg.BindDN != "" {
		if err := conn.Bind(c.cfg.BindDN, c.cfg.BindPassword); err != nil {
			done()
			return nil, nil, fmt.Errorf("%w: service bind as %s: %v", ErrUnavailable, c.cfg.BindDN, resultText(err))
		}
	}
	return conn, done, nil
}

// timeLimit is the server-side time limit of a search, in whole seconds.
func (c *Client) timeLimit() int {
	return max(1, int(c.cfg.Timeout.Seconds()))
}

// serverAnswered tells an LDAP result from the directory (a refusal) from a
// failure to talk to it.
func serverAnswered(err error) bool {
	var le *goldap.Error
	return errors.As(err, &le) && le.ResultCode < goldap.ErrorNetwork
}

// resultText is err as the directory's result, without go-ldap's packet
// dump, which a log has no use for.
func resultText(err error) string {
	var le *goldap.Error
	if errors.As(err, &le) && le.ResultCode < goldap.ErrorNetwork {
		msg := goldap.LDAPResultCodeMap[le.ResultCode]
		if le.Err != nil && le.Err.Error() != "" {
			msg += ": " + le.Err.Error()
		}
		return fmt.Sprintf("LDAP result %d (%s)", le.ResultCode, msg)
	}
	return err.Error()
}
