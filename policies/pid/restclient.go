package pid

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/resources"
)

// RESTClient keeps handle records with a Handle service through its REST
// API (Handle.Net 9 "/api/handles"; ePIC's is the same): GET to resolve,
// PUT with If-None-Match: * to create and If-Match: * to update, HTTP
// Basic authentication ("300:PREFIX/USER" and its key or password).
type RESTClient struct {
	base     *url.URL
	prefix   string
	user     string
	password string
	http     *http.Client
}

// RESTConfig configures a RESTClient.
type RESTConfig struct {
	// URL is the service's base, https://HOST[:PORT] (its API is below
	// /api/handles).
	URL      string
	Prefix   string
	User     string
	Password string
	// TLS, if set, is the client's TLS configuration (the service's CA).
	TLS     *tls.Config
	Timeout time.Duration
}

// NewRESTClient returns a client of the Handle service at cfg.URL.
func NewRESTClient(cfg RESTConfig) (*RESTClient, error) {
	if _, err := ParsePrefix(cfg.Prefix); err != nil {
		return nil, err
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%w: Handle service URL %q: want https://HOST[:PORT]", catalog.ErrInvalidArgument, cfg.URL)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg.TLS
	tr.MaxIdleConnsPerHost = 16
	return &RESTClient{base: u, prefix: cfg.Prefix, user: cfg.User, password: cfg.Password,
		http: &http.Client{Transport: tr, Timeout: cfg.Timeout}}, nil
}

// Prefix is the prefix the client mints under.
func (c *RESTClient) Prefix() string { return c.prefix }

// endpoint is the API URL of h (its parts escaped) with query.
func (c *RESTClient) endpoint(h Handle, query string) string {
	u := *c.base
	base := strings.TrimSuffix(c.base.Path, "/")
	u.Path = base + "/api/handles/" + h.Prefix + "/" + h.Suffix
	// A "/" in a suffix stays a "/", as in a Handle proxy's URLs: an
	// escaped one (%2F) is what careful servers refuse.
	segs := strings.Split(h.Suffix, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	u.RawPath = strings.TrimSuffix(c.base.EscapedPath(), "/") + "/api/handles/" + url.PathEscape(h.Prefix) + "/" + strings.Join(segs, "/")
	u.RawQuery = query
	return u.String()
}

// Response is the Handle REST API's answer.
type Response struct {
	ResponseCode int     `json:"responseCode"`
	Handle       string  `json:"handle,omitempty"`
	Message      string  `json:"message,omitempty"`
	Values       []Value `json:"values,omitempty"`
}

// Handle protocol response codes (the REST API's responseCode).
const (
	CodeSuccess        = 1
	CodeError          = 2
	CodeNotFound       = 100
	CodeExists         = 101
	CodeInvalidHandle  = 102
	CodeValuesNotFound = 200
	CodeValueExists    = 201
	CodeInvalidValue   = 202
	CodeNotResponsible = 301
	CodeAuthNeeded     = 402
	CodeForbidden      = 400
)

func (c *RESTClient) do(ctx context.Context, method string, h Handle, query string, body any, header map[string]string) (Response, int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return Response{}, 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(h, query), rd)
	if err != nil {
		return Response{}, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if c.user != "" {
		req.SetBasicAuth(url.QueryEscape(c.user), c.password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Response{}, 0, fmt.Errorf("%w: Handle service %s: %v", resources.ErrUnavailable, c.base.Host, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return Response{}, resp.StatusCode, fmt.Errorf("%w: Handle service %s: %v", resources.ErrUnavailable, c.base.Host, err)
	}
	var out Response
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			return Response{}, resp.StatusCode, fmt.Errorf("Handle service %s answered HTTP %d with no Handle API response: %.200s", c.base.Host, resp.StatusCode, data)
		}
	}
	return out, resp.StatusCode, nil
}

// failure turns a response that is not success into an error.
func (c *RESTClient) failure(h Handle, r Response, status int) error {
	what := fmt.Sprintf("Handle service %s: %s: HTTP %d, responseCode %d %s", c.base.Host, h, status, r.ResponseCode, r.Message)
	switch {
	case r.ResponseCode == CodeNotFound || status == http.StatusNotFound:
		return fmt.Errorf("%s: %w", what, catalog.ErrNotFound)
	case r.ResponseCode == CodeExists || status == http.StatusConflict:
		return fmt.Errorf("%s: %w", what, catalog.ErrExists)
	case r.ResponseCode == CodeInvalidHandle:
		return fmt.Errorf("%s: %w", what, ErrInvalidHandle)
	case r.ResponseCode == CodeNotResponsible:
		return fmt.Errorf("%s: %w", what, ErrOtherPrefix)
	case r.ResponseCode == CodeInvalidValue || status == http.StatusBadRequest:
		return fmt.Errorf("%s: %w", what, catalog.ErrInvalidArgument)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("%s: %w", what, catalog.ErrPermission)
	}
	return fmt.Errorf("%s: %w", what, resources.ErrUnavailable)
}

func (c *RESTClient) put(ctx context.Context, h Handle, values []Value, header map[string]string, query string) error {
	if err := Responsible(h, c.prefix); err != nil {
		return err
	}
	if err := CheckValues(values); err != nil {
		return err
	}
	r, status, err := c.do(ctx, http.MethodPut, h, query, map[string]any{"values": stamp(values)}, header)
	if err != nil {
		return err
	}
	if r.ResponseCode != CodeSuccess || status >= 300 {
		return c.failure(h, r, status)
	}
	return nil
}

// Create stores a new record: a PUT that must not overwrite.
func (c *RESTClient) Create(ctx context.Context, h Handle, values []Value) error {
	return c.put(ctx, h, values, map[string]string{"If-None-Match": "*"}, "overwrite=false")
}

// Update replaces the values of an existing record.
func (c *RESTClient) Update(ctx context.Context, h Handle, values []Value) error {
	return c.put(ctx, h, values, map[string]string{"If-Match": "*"}, "")
}

// Resolve reads a record.
func (c *RESTClient) Resolve(ctx context.Context, h Handle) ([]Value, error) {
	if err := Responsible(h, c.prefix); err != nil {
		return nil, err
	}
	r, status, err := c.do(ctx, http.MethodGet, h, "", nil, nil)
	if err != nil {
		return nil, err
	}
	if r.ResponseCode != CodeSuccess || status != http.StatusOK {
		return nil, c.failure(h, r, status)
	}
	sortValues(r.Values)
	return r.Values, nil
}
