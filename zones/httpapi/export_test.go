package httpapi

// RouteList is every route of an API as "METHOD PATTERN".
func RouteList() []string {
	a := New(Options{})
	out := make([]string, 0, len(a.routes))
	for _, rt := range a.routes {
		out = append(out, rt.method+" "+rt.path)
	}
	return out
}
