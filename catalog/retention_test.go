package catalog

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParsePeriod(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Period
	}{
		{"10y", Period{Years: 10}},
		{"6m", Period{Months: 6}},
		{"30d", Period{Days: 30}},
		{"2w", Period{Days: 14}},
		{"1y6m", Period{Years: 1, Months: 6}},
		{"1Y2M3W4D", Period{Years: 1, Months: 2, Days: 25}},
		{"P10Y", Period{Years: 10}},
		{"P1Y6M", Period{Years: 1, Months: 6}},
		{"p30d", Period{Days: 30}},
		{"P2W", Period{Days: 14}},
		{" 7d ", Period{Days: 7}},
	} {
		got, err := ParsePeriod(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParsePeriod(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct{ in, msg string }{
		{"", "empty"},
		{"P", "no amount"},
		{"10", "no unit"},
		{"y", "a number must come before"},
		{"10x", "unknown unit"},
		{"6m1y", "in the order"},
		{"1y1y", "in the order"},
		{"0d", "zero"},
		{"P0Y", "zero"},
		{"PT5H", "hours"},
		{"P1DT2H", "hours"},
		{"5h", "hours"},
		{"-1y", "a number must come before"},
		{"1.5y", "unknown unit"},
		{"999999y", "too large"},
		{"P1Y ", ""}, // trailing space is trimmed: valid
	} {
		_, err := ParsePeriod(c.in)
		if c.msg == "" {
			if err != nil {
				t.Errorf("ParsePeriod(%q): %v", c.in, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("ParsePeriod(%q) = %v, want an invalid argument saying %q", c.in, err, c.msg)
		}
	}
}

func TestPeriodString(t *testing.T) {
	for p, want := range map[Period]string{
		{Years: 10}:                      "P10Y",
		{Years: 1, Months: 6}:            "P1Y6M",
		{Days: 30}:                       "P30D",
		{Years: 1, Months: 2, Days: 3}:   "P1Y2M3D",
		{}:                               "",
		{Years: 0, Months: 0, Days: 365}: "P365D",
	} {
		if got := p.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", p, got, want)
		}
	}
	start := time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)
	if got := (Period{Years: 10}).From(start); !got.Equal(time.Date(2034, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("10 years from %s: %s", start, got)
	}
}

func TestParseUntil(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2035-01-31":                time.Date(2035, 1, 31, 0, 0, 0, 0, time.UTC),
		"2035-01-31T12:30:00Z":      time.Date(2035, 1, 31, 12, 30, 0, 0, time.UTC),
		"2035-01-31T12:30:00+02:00": time.Date(2035, 1, 31, 10, 30, 0, 0, time.UTC),
		"2035-01-31T12:30:00":       time.Date(2035, 1, 31, 12, 30, 0, 0, time.UTC),
	} {
		got, err := ParseUntil(in)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseUntil(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "tomorrow", "2035-13-01", "31/01/2035", "2035-01-31 12:00", "3000-01-01"} {
		if _, err := ParseUntil(in); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ParseUntil(%q): %v, want an invalid argument", in, err)
		}
	}
}

func TestRetentionChangeValidate(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ok := RetentionChange{Path: objPath, Mode: LockCompliance, Until: now.Add(time.Hour), By: alice}
	with := func(f func(*RetentionChange)) RetentionChange { c := ok; f(&c); return c }
	runValidateCases(t, []validateCase{
		{"valid", ok.Validate(now), nil, ""},
		{"remove", with(func(c *RetentionChange) { c.Mode, c.Until = LockNone, time.Time{} }).Validate(now), nil, ""},
		{"past", with(func(c *RetentionChange) { c.Until = now.Add(-time.Second) }).Validate(now), ErrInvalidArgument, "in the past"},
		{"now", with(func(c *RetentionChange) { c.Until = now }).Validate(now), ErrInvalidArgument, "in the past"},
		{"no date", with(func(c *RetentionChange) { c.Until = time.Time{} }).Validate(now), ErrInvalidArgument, "needs a date"},
		{"date without mode", with(func(c *RetentionChange) { c.Mode = LockNone }).Validate(now), ErrInvalidArgument, "takes no date"},
		{"bad mode", with(func(c *RetentionChange) { c.Mode = "forever" }).Validate(now), ErrInvalidArgument, "retention mode"},
		{"too late", with(func(c *RetentionChange) { c.Until = tooLate }).Validate(now), ErrInvalidArgument, "out of range"},
		{"root", with(func(c *RetentionChange) { c.Path = rootPath }).Validate(now), ErrNotDataObject, "collection"},
		{"bad user", with(func(c *RetentionChange) { c.By = badUser }).Validate(now), ErrInvalidArgument, "user"},
	})
}

func TestCheckRetentionChange(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	until := now.Add(24 * time.Hour)
	comp := Lock{Mode: LockCompliance, Until: until, SetBy: alice}
	gov := Lock{Mode: LockGovernance, Until: until, SetBy: alice}
	ch := func(m LockMode, u time.Time, bypass bool) RetentionChange {
		return RetentionChange{Path: objPath, Mode: m, Until: u, By: alice, BypassGovernance: bypass}
	}
	for _, c := range []struct {
		name string
		old  Lock
		ch   RetentionChange
		msg  string // "" allowed
	}{
		{"new lock", Lock{}, ch(LockCompliance, until, false), ""},
		{"compliance extended", comp, ch(LockCompliance, until.Add(time.Hour), false), ""},
		{"compliance same date", comp, ch(LockCompliance, until, false), ""},
		{"compliance shortened", comp, ch(LockCompliance, until.Add(-time.Hour), false), "cannot be shortened by anyone, rodsadmin included"},
		{"compliance shortened with bypass", comp, ch(LockCompliance, until.Add(-time.Hour), true), "cannot be shortened"},
		{"compliance removed with bypass", comp, ch(LockNone, time.Time{}, true), "cannot be released"},
		{"compliance to governance", comp, ch(LockGovernance, until.Add(time.Hour), true), "weakened to governance"},
		{"compliance ended", Lock{Mode: LockCompliance, Until: now}, ch(LockNone, time.Time{}, false), ""},
		{"governance extended", gov, ch(LockGovernance, until.Add(time.Hour), false), ""},
		{"governance to compliance", gov, ch(LockCompliance, until, false), ""},
		{"governance to shorter compliance", gov, ch(LockCompliance, until.Add(-time.Hour), false), "without --bypass-governance"},
		{"governance shortened", gov, ch(LockGovernance, until.Add(-time.Hour), false), "without --bypass-governance"},
		{"governance removed", gov, ch(LockNone, time.Time{}, false), "cannot be released without --bypass-governance"},
		{"governance shortened with bypass", gov, ch(LockGovernance, until.Add(-time.Hour), true), ""},
		{"governance removed with bypass", gov, ch(LockNone, time.Time{}, true), ""},
		{"hold only", Lock{Hold: true}, ch(LockNone, time.Time{}, false), ""},
	} {
		err := CheckRetentionChange(c.old, c.ch, now)
		if c.msg == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var le *LockError
		if !errors.As(err, &le) || !errors.Is(err, ErrRetained) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got %v, want a LockError saying %q", c.name, err, c.msg)
			continue
		}
		// The message names the lock and its date.
		if !strings.Contains(err.Error(), until.Format(time.RFC3339)) || !strings.Contains(err.Error(), string(c.old.Mode)) {
			t.Errorf("%s: %q does not name the lock and its date", c.name, err)
		}
	}
}

func TestLockDescribe(t *testing.T) {
	until := time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)
	l := Lock{Mode: LockCompliance, Until: until, Hold: true, SetBy: alice}
	if got, want := l.Describe(), "a compliance lock until 2035-01-01T00:00:00Z and a legal hold (set by alice#tempZone)"; got != want {
		t.Errorf("Describe: %q, want %q", got, want)
	}
	if got := l.Name(); got != "compliance+legal-hold" {
		t.Errorf("Name: %q", got)
	}
	err := &LockError{Path: objPath, Lock: l, Within: collPath, Action: "removed"}
	if got := err.Error(); !strings.HasPrefix(got, "/tempZone/home/alice holds /tempZone/home/alice/x.dat, which is under a compliance lock") ||
		!strings.HasSuffix(got, "it cannot be removed") {
		t.Errorf("LockError: %q", got)
	}
	if (Lock{}).Locked(until) || !(Lock{Hold: true}).Locked(until) || (Lock{Mode: LockGovernance, Until: until}).Locked(until) {
		t.Error("Locked is wrong")
	}
}

func TestDefaultRetention(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"none", DefaultRetention{}.Validate(), nil, ""},
		{"valid", DefaultRetention{Mode: LockCompliance, Period: Period{Years: 10}}.Validate(), nil, ""},
		{"no mode", DefaultRetention{Period: Period{Years: 10}}.Validate(), ErrInvalidArgument, "needs a mode"},
		{"no period", DefaultRetention{Mode: LockGovernance}.Validate(), ErrInvalidArgument, "zero"},
		{"negative", DefaultRetention{Mode: LockGovernance, Period: Period{Days: -1}}.Validate(), ErrInvalidArgument, "negative"},
	})
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	l := DefaultRetention{Mode: LockCompliance, Period: Period{Years: 10}}.LockAt(at, alice)
	if l.Mode != LockCompliance || !l.Until.Equal(time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)) || l.SetBy != alice {
		t.Errorf("LockAt: %+v", l)
	}
	// A period past what a time can hold is cut, not wrapped around.
	far := DefaultRetention{Mode: LockCompliance, Period: Period{Years: maxPeriodField}}.LockAt(at, alice)
	if far.Until.Before(at) || CheckTime("until", far.Until) != nil {
		t.Errorf("LockAt of a long period: %v", far.Until)
	}
}

// FuzzParsePeriod: the parser never panics, and what it accepts prints
// as an ISO period that parses back to the same value and that can be
// added to a time.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"10y", "6m", "30d", "2w", "P10Y", "P1Y6M", "PT5H", "1y6m", "", "P", "99999y", "-1d", "1y1y", "P1Y2M3W4D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeriod(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("ParsePeriod(%q): %v is not an invalid argument", s, err)
			}
			return
		}
		if p.IsZero() || p.Validate() != nil {
			t.Fatalf("ParsePeriod(%q) accepted %+v", s, p)
		}
		back, err := ParsePeriod(p.String())
		if err != nil || back != p {
			t.Fatalf("ParsePeriod(%q) = %+v; its string %q parses to %+v, %v", s, p, p.String(), back, err)
		}
		start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		if end := p.From(start); !end.After(start) {
			t.Fatalf("%+v from %s ends at %s", p, start, end)
		}
		_ = DefaultRetention{Mode: LockCompliance, Period: p}.LockAt(start, alice)
	})
}
