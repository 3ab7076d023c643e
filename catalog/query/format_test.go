package query

import (
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		format string
		row    []string
		want   string
	}{
		{"%s/%s", []string{"/tempZone/home/rods", "a.txt"}, "/tempZone/home/rods/a.txt"},
		{"%s", []string{"x"}, "x"},
		{"", nil, ""},
		{"no verbs", nil, "no verbs"},
		{"100%% of %s", []string{"x"}, "100% of x"},
		{"%%s%s", []string{"x"}, "%sx"},
		{"For %-12.12s size is %s", []string{"a.txt", "42"}, "For a.txt        size is 42"},
		{"For %-12.12s size is %s", []string{"a-very-long-name.txt", "42"}, "For a-very-long- size is 42"},
		{"[%5s]", []string{"ab"}, "[   ab]"},
		{"[%-5s]", []string{"ab"}, "[ab   ]"},
		{"[%.1s]", []string{"ab"}, "[a]"},
		{"[%.0s]", []string{"ab"}, "[]"},
		{"[%3s]", []string{"☃☃"}, "[ ☃☃]"}, // widths count characters
		{"[%.1s]", []string{"☃☃"}, "[☃]"},
		{`%s\n%s`, []string{"a", "b"}, `a\nb`}, // no backslash escapes, as in iquest
		{"%s %s %s", []string{"a%s", "%%", ""}, "a%s %% "},
	}
	for _, tt := range tests {
		got, err := Format(tt.format, tt.row)
		if err != nil || got != tt.want {
			t.Errorf("Format(%q, %q) = %q, %v; want %q", tt.format, tt.row, got, err, tt.want)
		}
		if err := CheckFormat(tt.format, len(tt.row)); err != nil {
			t.Errorf("CheckFormat(%q, %d): %v", tt.format, len(tt.row), err)
		}
	}
}

func TestFormatErrors(t *testing.T) {
	tests := []struct {
		format string
		n      int
		msg    string
	}{
		{"%s/%s", 3, "has 2 %s but the query selects 3 columns"},
		{"%s/%s", 1, "has 2 %s but the query selects 1 columns"},
		{"plain", 1, "has 0 %s"},
		{"%d", 1, "unsupported verb %d"},
		{"%5d", 1, "unsupported verb %d"},
		{"%", 0, "ends inside a verb"},
		{"abc %-5", 0, "ends inside a verb"},
		{"%99999s", 1, "width at offset 0 is larger than 4096"},
		{"%.99999s", 1, "precision at offset 0 is larger than 4096"},
		{"%☃", 1, "unsupported verb %☃"},
	}
	for _, tt := range tests {
		err := CheckFormat(tt.format, tt.n)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("CheckFormat(%q, %d) = %v, want %q", tt.format, tt.n, err, tt.msg)
		}
		if _, err := Format(tt.format, make([]string, tt.n)); err == nil {
			t.Errorf("Format(%q) with %d columns: no error", tt.format, tt.n)
		}
	}
}
