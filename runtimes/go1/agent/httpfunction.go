package main

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Headers an HTTP function's answer cannot set (the platform owns them), besides every x-fc-* one; and request
// headers the function does not see.
var (
	reservedAnswerHeaders = map[string]bool{"Connection": true, "Content-Length": true, "Date": true,
		"Keep-Alive": true, "Server": true, "Upgrade": true, "Transfer-Encoding": true}
	reservedRequestHeaders = map[string]bool{"Connection": true, "Keep-Alive": true}
)

// httpParams is the x-fc-http-params header fc-runtime-go-sdk's HTTP functions (fc.StartHttp) read: base64 of
// the request's path, method, URI, client address, host, query and headers.
func httpParams(r *http.Request) string {
	headers := map[string][]string{}
	for name, values := range r.Header {
		if strings.HasPrefix(name, "X-Fc-") || strings.HasPrefix(name, "X-Fcemu-") || reservedRequestHeaders[name] {
			continue
		}
		headers[name] = values
	}
	clientIP := strings.TrimSpace(strings.Split(r.Header.Get("X-Forwarded-For"), ",")[0])
	if clientIP == "" {
		clientIP, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	params, _ := json.Marshal(map[string]interface{}{
		"path":       r.URL.Path,
		"method":     r.Method,
		"requestURI": r.URL.RequestURI(),
		"clientIP":   clientIP,
		"host":       r.Host,
		"queriesMap": map[string][]string(r.URL.Query()),
		"headersMap": headers,
	})
	return base64.StdEncoding.EncodeToString(params)
}

// writeHTTPAnswer: an HTTP function's own status, headers and body, from the x-fc-http-params the SDK posted
// with its answer (status 0, a handler that wrote nothing, is 200 as net/http's own default).
func writeHTTPAnswer(w http.ResponseWriter, it *item, answer result) {
	var params struct {
		Status     int                 `json:"status"`
		HeadersMap map[string][]string `json:"headersMap"`
	}
	if raw, err := base64.StdEncoding.DecodeString(answer.headers.Get("X-Fc-Http-Params")); err == nil {
		_ = json.Unmarshal(raw, &params)
	}
	header := w.Header()
	for name, values := range params.HeadersMap {
		canonical := http.CanonicalHeaderKey(name)
		if strings.HasPrefix(canonical, "X-Fc-") || reservedAnswerHeaders[canonical] {
			continue
		}
		header[canonical] = values
	}
	logResult(w, it)
	status := params.Status
	if status < 100 || status > 999 {
		status = http.StatusOK
	}
	header.Set("Content-Length", strconv.Itoa(len(answer.body)))
	w.WriteHeader(status)
	_, _ = w.Write(answer.body)
}
