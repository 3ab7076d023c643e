package httpapi

import "net/http"

// DAVPrefix is where WebDAV is served.
const DAVPrefix = "/dav/"

func (a *API) newDAV() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, reqError(http.StatusNotImplemented, "not_implemented", "WebDAV is not served yet"))
	})
}
