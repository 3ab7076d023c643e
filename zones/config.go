package zones

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones/ldapauth"
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
//
// Unknown keys are an error, so that a misspelt setting is not ignored.
type ConfigFile struct {
	Addr       string        `yaml:"addr,omitempty"`
	Zone       string        `yaml:"zone,omitempty"`
	Catalog    string        `yaml:"catalog,omitempty"` // sqlite://PATH or dgraph://HOST:PORT
	LogLevel   string        `yaml:"log_level,omitempty"`
	Lease      time.Duration `yaml:"lease,omitempty"`
	SessionTTL time.Duration `yaml:"session_ttl,omitempty"`
	LDAP       *LDAPFile     `yaml:"ldap,omitempty"`
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

// LDAPConfig is how `arca server` reaches a directory, from flags and the
// configuration file. An empty URL means no LDAP.
type LDAPConfig struct {
	URL, Base, UserAttr, UserFilter string
	GroupBase, GroupAttr            string
	GroupMap                        map[string]string
	BindDN                          string
	// BindPasswordFile holds the service account's password; it must not be
	// readable by group or others.
	BindPasswordFile      string
	CAFile                string
	Provision             bool
	InsecurePlainLoopback bool
	Timeout               time.Duration
	// RecheckInterval: see LDAPLogin.RecheckInterval.
	RecheckInterval time.Duration
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
	if c.LDAP != nil {
		if c.LDAP.URL == "" {
			return errors.New("ldap: url is missing")
		}
		if err := c.LDAP.config().check(); err != nil {
			return err
		}
	}
	return nil
}

// config is the file's ldap section as an LDAPConfig, with its defaults.
func (l *LDAPFile) config() LDAPConfig {
	provision := true
	if l.Provision != nil {
		provision = *l.Provision
	}
	return LDAPConfig{URL: l.URL, Base: l.Base, UserAttr: l.UserAttr, UserFilter: l.UserFilter, GroupBase: l.GroupBase,
		GroupAttr: l.GroupAttr, GroupMap: l.GroupMap, BindDN: l.BindDN, BindPasswordFile: l.BindPasswordFile,
		CAFile: l.CA, Provision: provision, InsecurePlainLoopback: l.InsecurePlainLoopback, Timeout: l.Timeout,
		RecheckInterval: l.RecheckInterval}
}

// ServerConfig is what the file says, as a ServerConfig; a caller sets its
// flags over it.
func (c ConfigFile) ServerConfig() (ServerConfig, slog.Level) {
	var level slog.Level
	level.UnmarshalText([]byte(c.LogLevel)) // checked by ParseConfig; "" is info
	sc := ServerConfig{Addr: c.Addr, Zone: c.Zone, Catalog: c.Catalog, Lease: c.Lease, SessionTTL: c.SessionTTL}
	if c.LDAP != nil {
		sc.LDAP = c.LDAP.config()
	}
	return sc, level
}

// check validates what can be validated without reading files.
func (l LDAPConfig) check() error {
	cfg := l.clientConfig()
	if l.BindDN != "" {
		if l.BindPasswordFile == "" {
			return errors.New("ldap: a bind DN needs a bind password file")
		}
		cfg.BindPassword = "checked when read"
	} else if l.BindPasswordFile != "" {
		return errors.New("ldap: a bind password file needs a bind DN")
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if l.RecheckInterval < 0 || (l.RecheckInterval > 0 && l.RecheckInterval < time.Second) {
		return fmt.Errorf("ldap recheck_interval %v: want at least 1s (0: the default, %v)", l.RecheckInterval, DefaultLDAPRecheck)
	}
	for from, to := range l.GroupMap {
		if strings.TrimSpace(from) == "" {
			return errors.New("ldap group_map: an empty LDAP group name")
		}
		if err := catalog.ValidateUserName(to); err != nil || to == PublicGroup {
			return fmt.Errorf("ldap group_map: %q -> %q: not a name an Arca group can have", from, to)
		}
	}
	return nil
}

func (l LDAPConfig) clientConfig() ldapauth.Config {
	return ldapauth.Config{URL: l.URL, Base: l.Base, UserAttr: l.UserAttr, UserFilter: l.UserFilter,
		GroupBase: l.GroupBase, GroupAttr: l.GroupAttr, BindDN: l.BindDN, CAFile: l.CAFile,
		InsecurePlainLoopback: l.InsecurePlainLoopback, Timeout: l.Timeout}
}

// login reads the bind password and makes the zone's LDAPLogin; nil when
// no directory is configured.
func (l LDAPConfig) login() (*LDAPLogin, error) {
	if l.URL == "" {
		return nil, nil
	}
	if err := l.check(); err != nil {
		return nil, err
	}
	cfg := l.clientConfig()
	if l.BindPasswordFile != "" {
		fi, err := os.Stat(l.BindPasswordFile)
		if err != nil {
			return nil, fmt.Errorf("ldap bind password: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("ldap bind password file %s has mode %v: it must not be readable by group or others (chmod 600)",
				l.BindPasswordFile, fi.Mode().Perm())
		}
		b, err := os.ReadFile(l.BindPasswordFile)
		if err != nil {
			return nil, fmt.Errorf("ldap bind password: %w", err)
		}
		cfg.BindPassword = strings.TrimRight(string(b), "\r\n")
		if cfg.BindPassword == "" {
			return nil, fmt.Errorf("ldap bind password file %s is empty", l.BindPasswordFile)
		}
	}
	client, err := ldapauth.New(cfg)
	if err != nil {
		return nil, err
	}
	return &LDAPLogin{Directory: client, Provision: l.Provision, GroupMap: l.GroupMap, RecheckInterval: l.RecheckInterval}, nil
}
