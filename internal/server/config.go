package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones/auth"
)

// ConfigFileName is the server's configuration file in its data directory.
// It is optional; `arca server` flags override what it says.
const ConfigFileName = "arca.yaml"

// maxConfigSize bounds what ParseConfig reads: a configuration file is
// small, and a huge one is a mistake.
const maxConfigSize = 1 << 20

// ConfigFile is the server's configuration file:
//
//	addr: 0.0.0.0:1247
//	http: 0.0.0.0:8443        # the web view, JSON API and WebDAV (HTTPS); off if unset
//	zone: tempZone            # first start only, like --zone
//	log_level: info
//	lease: 1m
//	session_ttl: 8h
//	ldap:
//	  url: ldaps://ldap.example.org        # or ldap://... (StartTLS)
//	  base: ou=people,dc=example,dc=org
//	  user_attr: uid
//	  user_filter: (objectClass=inetOrgPerson)
//	  group_base: ou=groups,dc=example,dc=org
//	  group_attr: cn
//	  group_map: {"Lab Members": lab}     # optional: only these groups, renamed
//	  bind_dn: cn=arca,ou=services,dc=example,dc=org
//	  bind_password_file: ldap-password   # mode 0600; relative to this file
//	  ca: ldap-ca.pem                     # relative to this file
//	  provision: true
//	  timeout: 10s
//	  recheck_interval: 10m               # end sessions of users gone from the directory
//	pid:                                  # persistent identifiers (ipid, the pid.mint action)
//	  prefix: 21.T12995                   # the zone's Handle prefix
//	  url: https://pid.example.org:8443   # where landing pages are (default: https:// and the http address)
//	  handle_rest:                        # keep the records with a Handle service instead of the zone's registry
//	    url: https://handle.example.org:8000
//	    user: 300:21.T12995/arca
//	    password_file: handle-password    # relative to this file
//	    ca: handle-ca.pem
//	raid:                                 # RAiDs (iraid)
//	  prefix: 10.82841
//	  owner: https://ror.org/038sjwq14    # the ROR of who owns the RAiDs
//	  agency: https://ror.org/038sjwq14   # the registration agency's (default: owner)
//	  service_point: 20000000
//	certificates:                         # preservation certificates (icert)
//	  organisation: Example Data Centre   # the issuer named in every certificate
//	  stewards: stewards                  # a group that may issue them beside rodsadmin
//	connections:                          # the defaults:
//	  max: 4096                           # open at once, TLS handshakes included
//	  per_host: 512                       # from one client IP address
//	  idle_timeout: 2m                    # a gRPC connection without a call is closed
//	  keepalive_time: 1m                  # a silent connection is pinged ...
//	  keepalive_timeout: 20s              # ... and closed if it does not answer
//	notify_url: https://hooks.example.org/arca   # the lifecycle policy's notices are POSTed here as JSON
//	jobs:
//	  max_run: 6h             # the time budget of one run of a job (a replication, a periodic rule's run)
//	  per_rule: 10000         # live jobs one rule may have; past it the rule schedules no more (-1: no limit)
//	  select_batch: 100       # objects of a periodic rule's selection claimed at a time
//
// Unknown keys are an error, so that a misspelt setting is not ignored.
type ConfigFile struct {
	Addr       string        `yaml:"addr,omitempty"`
	HTTP       string        `yaml:"http,omitempty"`
	NotifyURL  string        `yaml:"notify_url,omitempty"`
	Zone       string        `yaml:"zone,omitempty"`
	Catalog    string        `yaml:"catalog,omitempty"` // sqlite://PATH or dgraph://HOST:PORT
	LogLevel   string        `yaml:"log_level,omitempty"`
	Lease      time.Duration `yaml:"lease,omitempty"`
	SessionTTL time.Duration `yaml:"session_ttl,omitempty"`
	LDAP       *LDAPFile     `yaml:"ldap,omitempty"`
	PID        *PIDFile      `yaml:"pid,omitempty"`
	RAiD       *RAiDFile     `yaml:"raid,omitempty"`
	// Certificates: who issues preservation certificates, in whose name.
	Certificates *CertificatesFile `yaml:"certificates,omitempty"`
	// Connections bound the connections clients keep open.
	Connections ConnectionLimits `yaml:"connections,omitempty"`
	Jobs        *JobsFile        `yaml:"jobs,omitempty"`
}

// JobsFile is the jobs section of the configuration file.
type JobsFile struct {
	MaxRun      time.Duration `yaml:"max_run,omitempty"`
	PerRule     int           `yaml:"per_rule,omitempty"`
	SelectBatch int           `yaml:"select_batch,omitempty"`
}

// LDAPFile is the ldap section of the configuration file.
type LDAPFile struct {
	URL              string            `yaml:"url,omitempty"`
	Base             string            `yaml:"base,omitempty"`
	UserAttr         string            `yaml:"user_attr,omitempty"`
	UserFilter       string            `yaml:"user_filter,omitempty"`
	GroupBase        string            `yaml:"group_base,omitempty"`
	GroupAttr        string            `yaml:"group_attr,omitempty"`
	GroupMap         map[string]string `yaml:"group_map,omitempty"`
	BindDN           string            `yaml:"bind_dn,omitempty"`
	BindPasswordFile string            `yaml:"bind_password_file,omitempty"`
	CA               string            `yaml:"ca,omitempty"`
	Provision        *bool             `yaml:"provision,omitempty"`
	// InsecurePlainLoopback allows ldap:// without StartTLS to a loopback
	// address: for tests only.
	InsecurePlainLoopback bool          `yaml:"insecure_plain_loopback,omitempty"`
	Timeout               time.Duration `yaml:"timeout,omitempty"`
	// RecheckInterval is how often users with live sessions are looked up
	// in the directory; 0 means DefaultLDAPRecheck.
	RecheckInterval time.Duration `yaml:"recheck_interval,omitempty"`
}

// ParseConfig reads a configuration file's text and checks every value.
func ParseConfig(data []byte) (ConfigFile, error) {
	var c ConfigFile
	if len(data) > maxConfigSize {
		return c, fmt.Errorf("configuration: %d bytes is more than the %d a configuration may have", len(data), maxConfigSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return ConfigFile{}, fmt.Errorf("configuration: %w", err)
	}
	var more any
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return ConfigFile{}, errors.New("configuration: one YAML document only")
	}
	if err := c.validate(); err != nil {
		return ConfigFile{}, fmt.Errorf("configuration: %w", err)
	}
	if c.LDAP != nil && len(c.LDAP.GroupMap) == 0 {
		c.LDAP.GroupMap = nil // "group_map: {}" says what no group_map says
	}
	return c, nil
}

// LoadConfig reads and checks the configuration file at path. Relative
// file names in it are taken relative to the file's directory.
func LoadConfig(path string) (ConfigFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ConfigFile{}, err
	}
	c, err := ParseConfig(data)
	if err != nil {
		return ConfigFile{}, fmt.Errorf("%s: %w", path, err)
	}
	if p := c.PID; p != nil && p.HandleREST != nil {
		dir := filepath.Dir(path)
		for _, f := range []*string{&p.HandleREST.PasswordFile, &p.HandleREST.CA} {
			if *f != "" && !filepath.IsAbs(*f) {
				*f = filepath.Join(dir, *f)
			}
		}
	}
	if l := c.LDAP; l != nil {
		dir := filepath.Dir(path)
		for _, p := range []*string{&l.CA, &l.BindPasswordFile} {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(dir, *p)
			}
		}
	}
	return c, nil
}

func (c ConfigFile) validate() error {
	if c.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			return fmt.Errorf("addr %q: %w", c.Addr, err)
		}
	}
	if c.HTTP != "" {
		if _, _, err := net.SplitHostPort(c.HTTP); err != nil {
			return fmt.Errorf("http %q: %w", c.HTTP, err)
		}
	}
	if c.NotifyURL != "" {
		if err := validateNotifyURL(c.NotifyURL); err != nil {
			return fmt.Errorf("notify_url: %w", err)
		}
	}
	if c.Zone != "" {
		if err := catalog.ValidateUserName(c.Zone); err != nil {
			return fmt.Errorf("zone: %w", err)
		}
	}
	if c.LogLevel != "" {
		var l slog.Level
		if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
			return fmt.Errorf("log_level: %w", err)
		}
	}
	if c.Lease < 0 || c.SessionTTL < 0 {
		return errors.New("lease and session_ttl cannot be negative")
	}
	if err := c.checkCertificates(); err != nil {
		return err
	}
	if err := c.checkPolicies(); err != nil {
		return err
	}
	if err := c.Connections.check(); err != nil {
		return fmt.Errorf("connections: %w", err)
	}
	if j := c.Jobs; j != nil && (j.MaxRun < 0 || j.MaxRun > 0 && j.MaxRun < time.Second || j.PerRule < -1 || j.SelectBatch < 0 || j.SelectBatch > 10_000) {
		return errors.New("jobs: max_run is a duration of 1s or more, per_rule a number (-1: no limit), select_batch 1 to 10000")
	}
	if c.LDAP != nil {
		if c.LDAP.URL == "" {
			return errors.New("ldap: url is missing")
		}
		if err := c.LDAP.config().Check(); err != nil {
			return err
		}
	}
	return nil
}

// config is the file's ldap section as an auth.LDAPConfig, with its defaults.
func (l *LDAPFile) config() auth.LDAPConfig {
	provision := true
	if l.Provision != nil {
		provision = *l.Provision
	}
	return auth.LDAPConfig{URL: l.URL, Base: l.Base, UserAttr: l.UserAttr, UserFilter: l.UserFilter, GroupBase: l.GroupBase,
		GroupAttr: l.GroupAttr, GroupMap: l.GroupMap, BindDN: l.BindDN, BindPasswordFile: l.BindPasswordFile,
		CAFile: l.CA, Provision: provision, InsecurePlainLoopback: l.InsecurePlainLoopback, Timeout: l.Timeout,
		RecheckInterval: l.RecheckInterval}
}

// ServerConfig is what the file says, as a ServerConfig; a caller sets its
// flags over it.
func (c ConfigFile) ServerConfig() (ServerConfig, slog.Level) {
	var level slog.Level
	level.UnmarshalText([]byte(c.LogLevel)) // checked by ParseConfig; "" is info
	sc := ServerConfig{Addr: c.Addr, HTTPAddr: c.HTTP, NotifyURL: c.NotifyURL, Zone: c.Zone, Catalog: c.Catalog, Lease: c.Lease, SessionTTL: c.SessionTTL,
		Connections: c.Connections}
	if c.LDAP != nil {
		sc.LDAP = c.LDAP.config()
	}
	c.policies(&sc)
	c.certificates(&sc)
	if c.Jobs != nil {
		sc.Jobs.MaxRun, sc.Jobs.SelectBatch, sc.JobsPerRule = c.Jobs.MaxRun, c.Jobs.SelectBatch, c.Jobs.PerRule
	}
	return sc, level
}

// validateNotifyURL checks the lifecycle webhook: an absolute http or https
// URL with a host.
func validateNotifyURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q: want an http:// or https:// URL with a host", s)
	}
	return nil
}
