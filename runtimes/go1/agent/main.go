// fcemu's go1 runtime agent. FC's go1 functions are binaries built with fc-runtime-go-sdk, which do not serve
// HTTP: the SDK polls FC's runtime API (FC_RUNTIME_API: GET .../invocation/next, POST .../{id}/response|error).
// This agent starts the function's binary once at the instance's start and serves that API to it on a loopback
// port, bridging it to fcemu's agent contract on $FC_SERVER_PORT (/invoke, /initialize, /pre-stop, an HTTP
// function's /http-invoke): each contract request becomes one `next` item and waits for the binary's answer.
//
// Only the emulator drives it: every request must carry the instance's secret (FCEMU_AGENT_TOKEN at start, the
// x-fcemu-agent-token header), or it is refused with 403 on its head (its body is never read) and nothing runs; the
// binary's environment never holds it.
// Standard library only. Every answer goes out in one write with TCP_NODELAY on (both hops would otherwise pay
// Nagle's delay against delayed ACKs, 40 ms each): httpserver.go.
package main

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

const (
	tokenHeader       = "X-Fcemu-Agent-Token"
	tokenVariable     = "FCEMU_AGENT_TOKEN"
	relayVariable     = "FCEMU_FC_RELAY"
	controlPathHeader = "X-Fc-Control-Path"
	preStopHeader     = "X-Fc-Instance-Lifecycle-Pre-Stop-Handler"
	initializerHeader = "X-Fc-Function-Initializer"
	maxEventBytes     = 64 << 20
	failedSuffix      = ", Error: Unhandled function error"
)

var codeDir = envOr("FC_FUNC_CODE_PATH", "/code")

func envOr(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

func timestamp() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

// agentLine prints one line of the agent's own to the container's log.
func agentLine(text string) { _, _ = stdout.Write([]byte("fcemu go1: " + text + "\n")) }

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type agent struct {
	token []byte
	sup   *supervisor
}

func main() {
	token := os.Getenv(tokenVariable)
	relay := os.Getenv(relayVariable)
	// Neither is the function's: out of the environment before the binary starts.
	os.Unsetenv(tokenVariable)
	os.Unsetenv(relayVariable)
	startRelay(relay)

	sup := &supervisor{env: os.Environ()}
	sup.binary, sup.memory, sup.binaryErr = resolveBinary(codeDir, os.Getenv("FC_FUNCTION_HANDLER"))
	if sup.binaryErr != nil {
		agentLine(sup.binaryErr.Error())
	} else {
		// The binary starts while the agent begins to listen; a request that comes first waits for it.
		go func() {
			if _, err := sup.ensure(); err != nil {
				agentLine(err.Error())
			}
		}()
	}
	a := &agent{token: []byte(token), sup: sup}
	port := envOr("FC_SERVER_PORT", "9000")
	listener, err := net.Listen("tcp", "0.0.0.0:"+port)
	if err != nil {
		agentLine(err.Error())
		os.Exit(1)
	}
	_, _ = stdout.Write([]byte("FunctionCompute go1 runtime inited.\n"))
	if err := serveHTTP(listener, a); err != nil {
		agentLine(err.Error())
		os.Exit(1)
	}
}

// last is a header's last value: the control plane sends its own x-fc-* headers after those it forwards.
func last(h http.Header, name string) string {
	values := h.Values(name)
	if len(values) == 0 {
		return ""
	}
	return values[len(values)-1]
}

func (a *agent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	given := []byte(last(r.Header, tokenHeader))
	if len(a.token) == 0 || subtle.ConstantTimeCompare(given, a.token) != 1 {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "this instance answers only the emulator that started it\n")
		return
	}
	r.Header.Del(tokenHeader)
	path := r.URL.Path
	switch {
	case last(r.Header, controlPathHeader) == "/http-invoke":
		a.invoke(w, r, true)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/invoke"):
		a.invoke(w, r, false)
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/initialize"):
		a.initialize(w, r)
	case strings.HasPrefix(path, "/pre-stop") && last(r.Header, preStopHeader) != "":
		a.hook(w, r, "PreStop", typePreStop, "")
	default:
		// /pre-freeze (FC 3.0 has no such hook; fcemu never calls it), a /pre-stop without a hook, liveness probes.
		w.WriteHeader(http.StatusOK)
	}
}

// fcHeaders are the x-fc-* headers of a contract request (last value of each), as the `next` answer carries them
// to the SDK, with the deadline the SDK requires (it drops an invocation without one, silently).
func fcHeaders(r *http.Request, timeoutHeader string) http.Header {
	h := http.Header{}
	for name, values := range r.Header {
		if strings.HasPrefix(name, "X-Fc-") && len(values) > 0 {
			h[name] = []string{values[len(values)-1]}
		}
	}
	h.Del(controlPathHeader)
	h.Del("X-Fc-Log-Type")
	h.Del("X-Fc-Function-Type")
	if h.Get("X-Fc-Retry-Count") != "" {
		if _, err := strconv.Atoi(h.Get("X-Fc-Retry-Count")); err != nil {
			h.Del("X-Fc-Retry-Count")
		}
	}
	h.Set("Content-Type", "application/octet-stream")
	setDeadline(h, timeoutHeader)
	return h
}

// setDeadline sets x-fc-function-deadline (epoch milliseconds) to now plus the timeout the named header gives (60 s
// without one), and x-fc-function-timeout when the request had none: the SDK needs both.
func setDeadline(h http.Header, timeoutHeader string) {
	timeout, err := strconv.Atoi(h.Get(timeoutHeader))
	if err != nil || timeout <= 0 {
		timeout = 60
	}
	if _, err := strconv.Atoi(h.Get("X-Fc-Function-Timeout")); err != nil {
		h.Set("X-Fc-Function-Timeout", strconv.Itoa(timeout))
	}
	deadline := time.Now().Add(time.Duration(timeout) * time.Second).UnixMilli()
	h.Set("X-Fc-Function-Deadline", strconv.FormatInt(deadline, 10))
}

func requestID(r *http.Request) string {
	if id := last(r.Header, "X-Fc-Request-Id"); id != "" {
		return id
	}
	return newRequestID()
}

func wantsTail(r *http.Request) bool {
	return strings.EqualFold(last(r.Header, "X-Fc-Log-Type"), "tail")
}

func (a *agent) invoke(w http.ResponseWriter, r *http.Request, httpFunction bool) {
	if r.ContentLength > maxEventBytes {
		// Above any sync payload limit the emulator lets through: refused on its head, the body never read.
		w.Header().Set("Connection", "close")
		http.Error(w, fmt.Sprintf("the event is larger than %d bytes", maxEventBytes), http.StatusRequestEntityTooLarge)
		return
	}
	body, err := readBody(r, maxEventBytes)
	if err != nil {
		w.Header().Set("Connection", "close")
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	headers := fcHeaders(r, "X-Fc-Function-Timeout")
	id := requestID(r)
	headers.Set("X-Fc-Request-Id", id)
	if httpFunction {
		headers.Set("X-Fc-Http-Params", httpParams(r))
	}
	it := newItem(id, "Invoke", headers, body, wantsTail(r))
	answer := a.sup.submit(it)
	if httpFunction && !answer.failed {
		writeHTTPAnswer(w, it, answer)
		return
	}
	writeEventAnswer(w, it, answer)
}

func (a *agent) initialize(w http.ResponseWriter, r *http.Request) {
	if last(r.Header, initializerHeader) == "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	a.hook(w, r, "Initialize", typeInitializer, "X-Fc-Initialization-Timeout")
}

// hook runs a lifecycle hook through `next`; the SDK calls the function registered for its type.
func (a *agent) hook(w http.ResponseWriter, r *http.Request, stage, functionType, timeoutHeader string) {
	if timeoutHeader == "" {
		timeoutHeader = "X-Fc-Function-Timeout"
	}
	headers := fcHeaders(r, timeoutHeader)
	id := requestID(r)
	headers.Set("X-Fc-Request-Id", id)
	headers.Set("X-Fc-Function-Type", functionType)
	it := newItem(id, stage, headers, nil, wantsTail(r))
	answer := a.sup.submit(it)
	stdout.Flush() // the hook's lines are out before the instance may be removed
	if stage == "Initialize" {
		// A process started again later (this one died) is initialized the same way first.
		a.sup.mu.Lock()
		a.sup.initHeaders = headers
		a.sup.mu.Unlock()
	}
	writeEventAnswer(w, it, answer)
}

func logResult(w http.ResponseWriter, it *item) {
	if it.log.want {
		w.Header().Set("X-Fc-Log-Result", base64.StdEncoding.EncodeToString(it.log.tailBytes()))
	}
}

// writeEventAnswer: the result as the body; a failure is FC's error JSON as the SDK (or the agent) made it, with
// x-fc-status 404, which the emulator reports as UnhandledInvocationError.
func writeEventAnswer(w http.ResponseWriter, it *item, answer result) {
	logResult(w, it)
	header := w.Header()
	if answer.failed {
		header.Set("Content-Type", "application/json")
		header.Set("X-Fc-Status", "404")
	} else {
		header.Set("Content-Type", "application/octet-stream")
	}
	header.Set("Content-Length", strconv.Itoa(len(answer.body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(answer.body)
}
