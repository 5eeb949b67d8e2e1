package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

const (
	logTailBytes = 4096      // FC's x-fc-log-result: the last 4 KB of an invocation's output
	maxLineBytes = 64 * 1024 // a longer line without a newline is passed on (and attributed) in pieces
)

// stdout is the container's: the agent's own lines and the function's, in whole lines. Every write to Docker's
// log pipe wakes containerd-shim and dockerd, which on a machine with few cores take the CPU in the middle of the
// next invocation (the Node.js agent measured a third of its warm latency): so it is written at most once per
// flushInterval, a write after a quiet spell at once, the writes of a burst gathered and written together, in
// order. Lifecycle hooks flush before they answer (their lines must be out before the instance is removed).
var stdout = &batchedWriter{w: os.Stdout}

const (
	flushInterval = 5 * time.Millisecond
	flushBytes    = 64 * 1024
)

type batchedWriter struct {
	mu        sync.Mutex
	w         io.Writer
	pending   []byte
	lastFlush time.Time
	timer     *time.Timer
}

func (b *batchedWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending = append(b.pending, p...)
	wait := flushInterval - time.Since(b.lastFlush)
	switch {
	case wait <= 0 || len(b.pending) >= flushBytes:
		b.flushLocked()
	case b.timer == nil:
		b.timer = time.AfterFunc(wait, b.Flush)
	}
	return len(p), nil
}

// Flush writes what is pending now.
func (b *batchedWriter) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *batchedWriter) flushLocked() {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	b.lastFlush = time.Now()
	if len(b.pending) == 0 {
		return
	}
	_, _ = b.w.Write(b.pending)
	if cap(b.pending) > flushBytes {
		b.pending = nil
	} else {
		b.pending = b.pending[:0]
	}
}

// invocationLog is what one item's output is known to be: whether the SDK's Start line for it was seen, its End
// line, and (only when the caller asked for the log's tail) its last logTailBytes bytes.
type invocationLog struct {
	id      string
	mu      sync.Mutex
	want    bool // the caller asked for the log's tail
	tail    []byte
	started bool
	ended   chan struct{}
	endOnce sync.Once
}

func newInvocationLog(id string, wantTail bool) *invocationLog {
	return &invocationLog{id: id, want: wantTail, ended: make(chan struct{})}
}

func (l *invocationLog) add(line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.want {
		return
	}
	l.tail = append(l.tail, line...)
	if over := len(l.tail) - logTailBytes; over > 0 {
		l.tail = append(l.tail[:0], l.tail[over:]...)
	}
}

func (l *invocationLog) isStarted() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.started
}

func (l *invocationLog) markStarted() {
	l.mu.Lock()
	l.started = true
	l.mu.Unlock()
}

func (l *invocationLog) markEnded() { l.endOnce.Do(func() { close(l.ended) }) }

// waitEnd waits for the item's End line when its output matters before the answer (the log's tail is wanted, or
// a hook's lines must be flushed): the SDK prints its Start and End lines before it posts the answer, but the pipe
// is read by another goroutine than the one the POST arrives on. Bounded, for a binary that speaks the runtime API
// without the SDK's framing.
func (l *invocationLog) waitEnd(always bool) {
	if !l.want && !always {
		return
	}
	select {
	case <-l.ended:
	case <-time.After(500 * time.Millisecond):
	}
}

func (l *invocationLog) tailBytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]byte(nil), l.tail...)
}

// pumpOutput copies the function's process's output (stdout and stderr share one pipe, so their order is kept)
// to the container's stdout in whole lines, and gives each line to the invocations it belongs to (attribute).
func pumpOutput(r io.Reader, attribute func(line []byte)) {
	buf := make([]byte, 64*1024)
	var pending []byte
	for {
		n, err := r.Read(buf)
		if n > 0 {
			pending = append(pending, buf[:n]...)
			cut := bytes.LastIndexByte(pending, '\n') + 1
			if cut == 0 && len(pending) >= maxLineBytes {
				cut = len(pending)
			}
			if cut > 0 {
				whole := pending[:cut]
				_, _ = stdout.Write(whole)
				for len(whole) > 0 {
					end := bytes.IndexByte(whole, '\n') + 1
					if end == 0 {
						end = len(whole)
					}
					attribute(whole[:end])
					whole = whole[end:]
				}
				pending = append(pending[:0], pending[cut:]...)
			}
		}
		if err != nil {
			if len(pending) > 0 {
				pending = append(pending, '\n')
				_, _ = stdout.Write(pending)
				attribute(pending)
			}
			return
		}
	}
}

// framingLine parses the SDK's `FC <Stage> Start|End RequestId: <id>[, Error: ...]` lines.
func framingLine(line []byte) (id string, start bool, ok bool) {
	if !bytes.HasPrefix(line, []byte("FC ")) {
		return "", false, false
	}
	text := strings.TrimRight(string(line), "\r\n")
	const marker = " RequestId: "
	at := strings.Index(text, marker)
	if at < 0 {
		return "", false, false
	}
	words := strings.Fields(text[:at])
	if len(words) != 3 || (words[2] != "Start" && words[2] != "End") {
		return "", false, false
	}
	id = text[at+len(marker):]
	if comma := strings.IndexByte(id, ','); comma >= 0 {
		id = id[:comma]
	}
	return id, words[2] == "Start", id != ""
}
