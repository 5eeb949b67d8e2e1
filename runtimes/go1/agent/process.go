package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

const (
	runtimeAPIPrefix = "/2020-11-11/runtime/invocation/"
	maxAnswerBytes   = 64 << 20 // a process's answer beyond this fails its item (the emulator's own limit is lower)
	queueLength      = 1024     // items waiting for `next`; the emulator sends at most instanceConcurrency at once
)

// process is one run of the function's binary, with the runtime API it polls (its own loopback port: a `next`
// still waiting from a process that died can never take the next process's item).
type process struct {
	cmd       *exec.Cmd
	listener  net.Listener
	queue     chan *item
	exited    chan struct{}
	ready     chan struct{} // closed when invocations may go to it (its initializer, when it needs one, ran)
	initError []byte        // the initializer's error, when it failed on a restarted process
	mu        sync.Mutex
	inflight  map[string]*item // handed over or queued, not yet answered
}

// supervisor starts the function's binary at the instance's start and again, on demand, after it died.
type supervisor struct {
	mu          sync.Mutex
	current     *process
	binary      string   // the executable to run; "" when it cannot be (binaryErr says why)
	memory      *os.File // its in-memory copy, run instead when the file is not executable
	binaryErr   error
	initHeaders http.Header // the /initialize request's, kept to initialize a restarted process the same way
	env         []string
}

// resolveBinary finds the handler's executable under the code directory (FC: the handler is the executable's
// name). One that is not executable (zipped without its execute bit, which fcemu keeps as FC does) runs from an
// in-memory copy (memfd.go).
func resolveBinary(codeDir, handler string) (string, *os.File, error) {
	if handler == "" {
		return "", nil, fmt.Errorf("the function has no handler: go1's handler is the name of the executable in the code")
	}
	path := handler
	if !filepath.IsAbs(path) {
		path = filepath.Join(codeDir, handler)
	}
	info, err := os.Stat(path)
	if err != nil {
		return "", nil, fmt.Errorf("the handler %q is not a file in the function's code (%v): go1 runs the executable "+
			"the handler names, built for linux/amd64 and zipped at the code's root", handler, err)
	}
	if info.IsDir() {
		return "", nil, fmt.Errorf("the handler %q is a folder, not the function's executable", handler)
	}
	if syscall.Access(path, 1 /* X_OK */) == nil {
		return path, nil, nil
	}
	memory, err := inMemoryCopy(path)
	if err != nil {
		return "", nil, fmt.Errorf("the handler %q is not executable and could not be copied to run: %v", handler, err)
	}
	return path, memory, nil
}

// ensure returns the running process, starting one if none runs. A process started again after the instance
// was initialized (the previous one died) runs the initializer first, as a new instance would: its ready channel
// closes once that is done.
func (s *supervisor) ensure() (*process, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != nil {
		return s.current, nil
	}
	if s.binaryErr != nil {
		return nil, s.binaryErr
	}
	p, err := s.start()
	if err != nil {
		return nil, err
	}
	s.current = p
	if s.initHeaders == nil {
		close(p.ready)
	} else {
		go s.reinitialize(p, s.initHeaders.Clone())
	}
	return p, nil
}

// reinitialize runs the initializer on a restarted process. If it fails, the process is ended: the invocations
// waiting for it fail with the initializer's error, and the next request tries a new process, as FC tries a new
// instance.
func (s *supervisor) reinitialize(p *process, headers http.Header) {
	init := newItem(newRequestID(), "Initialize", headers, nil, false)
	init.headers.Set("X-Fc-Request-Id", init.id)
	setDeadline(init.headers, "X-Fc-Initialization-Timeout")
	if refused, _ := p.enqueue(init); refused != nil {
		failByAgent(init, refused)
	}
	if answer := <-init.done; answer.failed {
		p.initError = answer.body
		_ = p.cmd.Process.Kill()
	}
	close(p.ready)
}

func (s *supervisor) start() (*process, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("the runtime API could not listen: %v", err)
	}
	p := &process{queue: make(chan *item, queueLength), exited: make(chan struct{}), ready: make(chan struct{}),
		inflight: map[string]*item{}}
	p.listener = listener
	go func() { _ = serveHTTP(listener, http.HandlerFunc(p.serveRuntimeAPI)) }()

	reader, writer, err := os.Pipe()
	if err != nil {
		listener.Close()
		return nil, err
	}
	cmd := exec.Command(s.binary)
	if s.memory != nil {
		// The child's fd 3 (its first ExtraFiles); exec resolves the path in the child.
		cmd.Path = "/proc/self/fd/3"
		cmd.ExtraFiles = []*os.File{s.memory}
	}
	cmd.Args = []string{filepath.Base(s.binary)}
	cmd.Dir = codeDir
	cmd.Env = append(append([]string(nil), s.env...), "FC_RUNTIME_API="+listener.Addr().String())
	cmd.Stdout = writer
	cmd.Stderr = writer
	if err := cmd.Start(); err != nil {
		writer.Close()
		reader.Close()
		listener.Close()
		return nil, fmt.Errorf("the function's executable %s could not start: %v", s.binary, err)
	}
	writer.Close()
	p.cmd = cmd
	pumped := make(chan struct{})
	go func() {
		pumpOutput(reader, p.attribute)
		close(pumped)
	}()
	go func() {
		waitErr := cmd.Wait()
		<-pumped // the process's last lines are out before its items fail
		reader.Close()
		s.exited(p, waitErr)
	}()
	return p, nil
}

// exited: the process died. Its runtime API closes and every item it had is answered with FC's error for a
// process that exited mid-request; the next request starts another process.
func (s *supervisor) exited(p *process, waitErr error) {
	s.mu.Lock()
	if s.current == p {
		s.current = nil
	}
	s.mu.Unlock()
	status := "exit status 0"
	if waitErr != nil {
		status = waitErr.Error()
	}
	agentLine(fmt.Sprintf("the function's process exited (%s); the next request starts it again", status))
	p.listener.Close()
	close(p.exited)
	p.mu.Lock()
	items := p.inflight
	p.inflight = map[string]*item{}
	p.mu.Unlock()
	message := fmt.Sprintf("Process exited unexpectedly before completing request (%s)", status)
	for _, it := range items {
		failByAgent(it, platformError(message))
	}
}

// submit hands an item to the process and waits for its answer. A process that exits between ensure and the
// hand-over (it died of another request) never saw this one: the next process gets it, once.
func (s *supervisor) submit(it *item) result {
	for attempt := 0; ; attempt++ {
		p, err := s.ensure()
		if err != nil {
			failByAgent(it, functionError(err.Error(), "HandlerNotFound"))
			return <-it.done
		}
		<-p.ready
		if p.initError != nil {
			failByAgent(it, p.initError)
			return <-it.done
		}
		refused, gone := p.enqueue(it)
		if gone && attempt == 0 {
			continue
		}
		if refused != nil {
			failByAgent(it, refused)
		}
		return <-it.done
	}
}

// enqueue hands an item to the process's runtime API; it fails with FC's error body when the process has exited
// (gone), its request id is already running, or too many wait.
func (p *process) enqueue(it *item) (refused []byte, gone bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.exited:
		return platformError("the function's process exited before it took the request"), true
	default:
	}
	if _, taken := p.inflight[it.id]; taken {
		return platformError("request " + it.id + " is already running in this instance"), false
	}
	select {
	case p.queue <- it:
		p.inflight[it.id] = it
		return nil, false
	default:
		return platformError("too many requests are waiting for the function's process"), false
	}
}

func (p *process) take(id string) *item {
	p.mu.Lock()
	defer p.mu.Unlock()
	it := p.inflight[id]
	delete(p.inflight, id)
	return it
}

func (p *process) items() []*item {
	p.mu.Lock()
	defer p.mu.Unlock()
	all := make([]*item, 0, len(p.inflight))
	for _, it := range p.inflight {
		all = append(all, it)
	}
	return all
}

// attribute gives one line of the process's output to the items it belongs to: the SDK's framing lines to their
// request; a line naming an item's request id (the SDK's and fccontext's logger lines) to it; any other line to
// every item whose Start line was seen and End not (with overlapping invocations a plain print cannot be told
// apart, as in FC's own log, cut between the framing lines).
func (p *process) attribute(line []byte) {
	if id, start, ok := framingLine(line); ok {
		p.mu.Lock()
		it := p.inflight[id]
		p.mu.Unlock()
		if it == nil {
			return
		}
		if start {
			it.log.markStarted()
		}
		it.log.add(line)
		if !start {
			it.log.markEnded()
		}
		return
	}
	text := string(line)
	named := false
	all := p.items()
	for _, it := range all {
		if strings.Contains(text, it.id) {
			it.log.add(line)
			named = true
		}
	}
	if named {
		return
	}
	for _, it := range all {
		if it.log.isStarted() && !isClosed(it.log.ended) {
			it.log.add(line)
		}
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// serveRuntimeAPI is FC's runtime API as fc-runtime-go-sdk polls it: GET next, POST {id}/response|error.
func (p *process) serveRuntimeAPI(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, runtimeAPIPrefix)
	if rest == r.URL.Path {
		http.NotFound(w, r)
		return
	}
	if rest == "next" && r.Method == http.MethodGet {
		select {
		case it := <-p.queue:
			header := w.Header()
			for name, values := range it.headers {
				header[name] = values
			}
			header.Set("Content-Length", fmt.Sprint(len(it.body)))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(it.body)
		case <-p.exited:
			http.Error(w, "the process is gone", http.StatusServiceUnavailable)
		}
		return
	}
	slash := strings.LastIndexByte(rest, '/')
	if r.Method != http.MethodPost || slash <= 0 {
		http.NotFound(w, r)
		return
	}
	id, verb := rest[:slash], rest[slash+1:]
	if verb != "response" && verb != "error" {
		http.NotFound(w, r)
		return
	}
	p.mu.Lock()
	it := p.inflight[id]
	p.mu.Unlock()
	if it == nil {
		http.Error(w, "no such request "+id, http.StatusNotFound) // its body skipped, or the connection closed
		return
	}
	var answer result
	tooLarge := r.ContentLength > maxAnswerBytes
	if tooLarge {
		// Refused on its length, its body never read: the invocation fails now, with the emulator's words for an
		// answer over its limit, rather than waiting for a POST the SDK does not retry.
		answer = result{failed: true, body: platformError(fmt.Sprintf("Function response size exceeds the limit of %d bytes", maxAnswerBytes))}
	} else {
		body, err := readBody(r, maxAnswerBytes)
		if err != nil {
			w.Header().Set("Connection", "close")
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		answer = result{failed: verb == "error", body: body, headers: r.Header}
	}
	// Still in flight while its last lines are read, so that they are attributed to it.
	it.log.waitEnd(it.stage != "Invoke")
	if p.take(id) == it {
		it.finish(answer)
	}
	if tooLarge {
		w.Header().Set("Connection", "close")
		http.Error(w, string(answer.body), http.StatusRequestEntityTooLarge)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// failByAgent answers an item the function's process did not (missing binary, crash): its log gets FC's framing
// lines and the error, as the SDK would have printed them, in one write.
func failByAgent(it *item, body []byte) {
	if !it.finish(result{failed: true, body: body}) {
		return
	}
	var text strings.Builder
	if !it.log.isStarted() {
		fmt.Fprintf(&text, "FC %s Start RequestId: %s\n", it.stage, it.id)
	}
	fmt.Fprintf(&text, "%s %s [ERROR] %s\n", timestamp(), it.id, body)
	if !isClosed(it.log.ended) {
		fmt.Fprintf(&text, "FC %s End RequestId: %s, Error: Unhandled function error\n", it.stage, it.id)
	}
	it.log.add([]byte(text.String()))
	it.log.markEnded()
	_, _ = stdout.Write([]byte(text.String()))
}

// functionError is FC's error body for a function error: errorMessage and errorType.
func functionError(message, errorType string) []byte {
	body, _ := json.Marshal(map[string]string{"errorMessage": message, "errorType": errorType})
	return body
}

// platformError is FC's body for an error the platform reported rather than the handler: errorMessage only
// (FC's go1 page: an os.Exit or log.Fatal answers a generic message, no errorType, no stack).
func platformError(message string) []byte {
	body, _ := json.Marshal(map[string]string{"errorMessage": message})
	return body
}
