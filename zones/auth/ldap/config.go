// Package ldapauth checks passwords against an LDAP directory the way
// directories expect to be used: search for the user's entry (as a service
// account, or anonymously), then bind as that entry with the user's
// password. Every connection is TLS verified against a configured CA, either
// from the first byte (ldaps://) or after StartTLS (ldap://), before any
// credential is sent. Names go into filters only through goldap.EscapeFilter,
// and an empty password is refused before any bind, since LDAP treats a
// simple bind with a DN and no password as an anonymous bind that succeeds.
package ldap

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// Defaults of Config.
const (
	DefaultUserAttr   = "uid"
	DefaultGroupAttr  = "cn"
	DefaultUserFilter = "(objectClass=*)"
	DefaultTimeout    = 10 * time.Second
)

// Config says where the directory is and how users and groups are found.
type Config struct {
	// URL is ldaps://host[:port] (TLS from the first byte) or
	// ldap://host[:port] (StartTLS before anything else is sent).
	URL string
	// Base is the DN under which users are searched (the whole subtree).
	Base string
	// UserAttr holds the login name: uid (default), sAMAccountName, ...
	UserAttr string
	// UserFilter narrows the user search, e.g. (objectClass=inetOrgPerson).
	UserFilter string
	// GroupBase is where groups are searched; empty reads no groups.
	GroupBase string
	// GroupAttr holds a group's name: cn (default).
	GroupAttr string
	// BindDN and BindPassword are the service account that searches; empty
	// searches anonymously. The password is never logged.
	BindDN       string
	BindPassword string
	// CAFile is the PEM file of the CA the directory's certificate must
	// chain to; empty uses the system's roots.
	CAFile string
	// InsecurePlainLoopback allows ldap:// without TLS, and only to a
	// loopback address: for tests, never for a real directory.
	InsecurePlainLoopback bool
	// Timeout bounds the dial and every request; 0 means DefaultTimeout.
	Timeout time.Duration
}

// attrPattern is an attribute description: a name or an OID (RFC 4512).
var attrPattern = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)*)$`)

// withDefaults fills the empty fields that have defaults.
func (c Config) withDefaults() Config {
	if c.UserAttr == "" {
		c.UserAttr = DefaultUserAttr
	}
	if c.GroupAttr == "" {
		c.GroupAttr = DefaultGroupAttr
	}
	if c.UserFilter == "" {
		c.UserFilter = DefaultUserFilter
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// Validate checks c without contacting the directory.
func (c Config) Validate() error {
	_, err := c.withDefaults().parse()
	return err
}

// parse validates c (with defaults filled in) and returns its URL.
func (c Config) parse() (*url.URL, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, fmt.Errorf("ldap url %q: %w", c.URL, err)
	}
	if u.Scheme != "ldap" && u.Scheme != "ldaps" {
		return nil, fmt.Errorf("ldap url %q: the scheme must be ldaps:// or ldap:// (StartTLS)", c.URL)
	}
	if u.Hostname() == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("ldap url %q: want scheme://host[:port] and nothing more", c.URL)
	}
	if c.InsecurePlainLoopback {
		if u.Scheme != "ldap" {
			return nil, fmt.Errorf("ldap url %q: plain LDAP needs ldap://", c.URL)
		}
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("ldap url %q: plain LDAP without TLS is allowed to a loopback address only", c.URL)
		}
	}
	if c.Base == "" {
		return nil, errors.New("ldap: no base DN to search users under")
	}
	for _, dn := range []struct{ what, dn string }{{"base", c.Base}, {"group base", c.GroupBase}, {"bind DN", c.BindDN}} {
		if dn.dn == "" {
			continue
		}
		if _, err := goldap.ParseDN(dn.dn); err != nil {
			return nil, fmt.Errorf("ldap %s %q: %w", dn.what, dn.dn, err)
		}
	}
	for _, a := range []struct{ what, attr string }{{"user attribute", c.UserAttr}, {"group attribute", c.GroupAttr}} {
		if !attrPattern.MatchString(a.attr) {
			return nil, fmt.Errorf("ldap %s %q: not an attribute name", a.what, a.attr)
		}
	}
	if !strings.HasPrefix(c.UserFilter, "(") {
		return nil, fmt.Errorf("ldap user filter %q: a filter is in parentheses", c.UserFilter)
	}
	if _, err := goldap.CompileFilter(c.UserFilter); err != nil {
		return nil, fmt.Errorf("ldap user filter %q: %w", c.UserFilter, err)
	}
	if (c.BindDN == "") != (c.BindPassword == "") {
		return nil, errors.New("ldap: a bind DN needs a bind password, and a bind password a bind DN")
	}
	if c.Timeout < 0 {
		return nil, fmt.Errorf("ldap timeout %v is negative", c.Timeout)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// UserFilter is the search filter for the entry of name: the configured
// filter and attr=name, with name escaped (RFC 4515), so that nothing in a
// name can change the filter's structure.
func UserFilter(filter, attr, name string) string {
	return "(&" + filter + "(" + attr + "=" + goldap.EscapeFilter(name) + "))"
}

// GroupFilter finds the groups that hold a user, by DN (groupOfNames,
// groupOfUniqueNames) or by login name (posixGroup's memberUid).
func GroupFilter(dn, name string) string {
	d, n := goldap.EscapeFilter(dn), goldap.EscapeFilter(name)
	return "(|(&(objectClass=groupOfNames)(member=" + d + "))" +
		"(&(objectClass=groupOfUniqueNames)(uniqueMember=" + d + "))" +
		"(&(objectClass=posixGroup)(memberUid=" + n + ")))"
}

// String shows c without its bind password, so that a log line or an error
// that prints a configuration shows no secret.
func (c Config) String() string {
	pw := ""
	if c.BindPassword != "" {
		pw = "(set)"
	}
	return fmt.Sprintf("{URL:%s Base:%s UserAttr:%s UserFilter:%s GroupBase:%s GroupAttr:%s BindDN:%s BindPassword:%s CAFile:%s InsecurePlainLoopback:%t Timeout:%v}",
		c.URL, c.Base, c.UserAttr, c.UserFilter, c.GroupBase, c.GroupAttr, c.BindDN, pw, c.CAFile, c.InsecurePlainLoopback, c.Timeout)
}

// GoString is String for %#v.
func (c Config) GoString() string { return "ldapauth.Config" + c.String() }
