package auth

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	ldapauth "github.com/arca-data/arca/zones/auth/ldap"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/zones"
)

// LDAPConfig is how a server reaches a directory, from its flags and
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

// Check validates what can be validated without reading files.
func (l LDAPConfig) Check() error {
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
		if err := catalog.ValidateUserName(to); err != nil || to == zones.PublicGroup {
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

// Login reads the bind password and makes the zone's LDAPLogin; nil when
// no directory is configured.
func (l LDAPConfig) Login() (*LDAPLogin, error) {
	if l.URL == "" {
		return nil, nil
	}
	if err := l.Check(); err != nil {
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
