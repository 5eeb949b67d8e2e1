package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// A small HTTP/1.1 server for both of the agent's sides (fcemu's contract and the runtime API). Their clients are
// simple (a head, a Content-Length body, keep-alive, one request at a time per connection), and net/http's server
// costs each request a background read and its cancellation (several system calls and goroutine switches) that a
// no-op invocation, which crosses three requests, feels. Each answer goes out in one write, on a TCP_NODELAY socket.
// A request's body is read only when its handler reads it (lazyBody): one refused on its head alone (the secret, a
// length over the limit) costs no body, no 100 Continue and no allocation of the length it declares.

const (
	maxHeadBytes = 256 * 1024
	// An unread body up to this is skipped to keep the connection; a longer one closes it.
	maxSkippedBytes = 64 * 1024
)

// serveHTTP accepts connections until the listener closes. Any other Accept error (out of descriptors, a
// connection aborted before it was taken) is a pause, not the end: the agent would otherwise exit with it.
func serveHTTP(listener net.Listener, handler http.Handler) error {
	failing := false
	for {
		conn, err := listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			if !failing {
				agentLine(err.Error() + "; accepting again shortly")
			}
			failing = true
			time.Sleep(100 * time.Millisecond)
			continue
		}
		failing = false
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.SetNoDelay(true)
		}
		go serveConn(conn, handler)
	}
}

func serveConn(conn net.Conn, handler http.Handler) {
	defer conn.Close()
	limited := &headLimit{conn: conn}
	reader := bufio.NewReaderSize(limited, 16*1024)
	for {
		limited.remaining = maxHeadBytes
		request, body, err := readRequest(reader, conn, limited)
		if err != nil {
			if err != io.EOF {
				_, _ = conn.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			}
			return
		}
		answer := &bufferedAnswer{header: http.Header{}}
		handler.ServeHTTP(answer, request)
		keepAlive := !request.Close && answer.header.Get("Connection") != "close" && body.skip()
		if _, err := conn.Write(answer.bytes(keepAlive, request.Method == http.MethodHead)); err != nil {
			return
		}
		if !keepAlive {
			if body.remaining > 0 {
				lingerClose(conn)
			}
			return
		}
	}
}

// lingerClose ends a connection whose request's body was left unread: closing it with unread bytes would reset it,
// and the client could lose the answer already sent. The write side is closed first, then what the client still
// sends is discarded (into a small buffer, never kept) until it closes too, for a bounded time and size.
func lingerClose(conn net.Conn) {
	tcp, ok := conn.(*net.TCPConn)
	if !ok {
		return
	}
	_ = tcp.CloseWrite()
	_ = tcp.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, _ = io.CopyN(io.Discard, tcp, 4<<20)
}

// lazyBody is a request's body, read from the connection as its handler reads it, up to its Content-Length. A
// client that asked for 100 Continue gets it on the first read, so a request refused on its head is never sent.
type lazyBody struct {
	reader    *bufio.Reader
	conn      net.Conn
	remaining int64
	expect    bool // 100 Continue still owed
}

func (b *lazyBody) Read(p []byte) (int, error) {
	if b.remaining <= 0 {
		return 0, io.EOF
	}
	if b.expect {
		b.expect = false
		if _, err := b.conn.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n")); err != nil {
			return 0, err
		}
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.reader.Read(p)
	b.remaining -= int64(n)
	if err == io.EOF && b.remaining > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *lazyBody) Close() error { return nil }

// skip discards what the handler left of the body, when that is small and on its way; whether the connection can
// take another request.
func (b *lazyBody) skip() bool {
	if b.remaining == 0 {
		return true
	}
	if b.expect || b.remaining > maxSkippedBytes {
		return false // never sent (100 Continue was not given), or too much to wait for: the connection closes
	}
	_, err := io.Copy(io.Discard, b)
	return err == nil
}

// readBody reads a request's whole body, which its Content-Length (checked against the handler's limit before)
// bounds; the buffer grows as bytes come, not to the length a client declares.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if r.ContentLength > 0 && r.ContentLength < maxSkippedBytes {
		buf.Grow(int(r.ContentLength))
	}
	_, err := buf.ReadFrom(io.LimitReader(r.Body, limit))
	return buf.Bytes(), err
}

// headLimit bounds what is read from a connection while a request's head is (a head with no end would otherwise
// grow without bound); the body is bounded by its Content-Length, which each handler checks against its limit.
type headLimit struct {
	conn      net.Conn
	remaining int64 // < 0: no limit (the body)
}

func (h *headLimit) Read(p []byte) (int, error) {
	if h.remaining == 0 {
		return 0, fmt.Errorf("request head larger than %d bytes", maxHeadBytes)
	}
	if h.remaining > 0 && int64(len(p)) > h.remaining {
		p = p[:h.remaining]
	}
	n, err := h.conn.Read(p)
	if h.remaining > 0 {
		h.remaining -= int64(n)
	}
	return n, err
}

// readRequest reads a request's head; its body is left on the connection for the handler (lazyBody).
func readRequest(reader *bufio.Reader, conn net.Conn, limited *headLimit) (*http.Request, *lazyBody, error) {
	text := textproto.NewReader(reader)
	line, err := text.ReadLine()
	if err != nil {
		if err == io.EOF || strings.Contains(err.Error(), "closed") || strings.Contains(err.Error(), "reset") {
			return nil, nil, io.EOF
		}
		return nil, nil, err
	}
	parts := strings.SplitN(line, " ", 3)
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/1.") {
		return nil, nil, fmt.Errorf("bad request line %q", line)
	}
	header, err := text.ReadMIMEHeader()
	if err != nil {
		return nil, nil, err
	}
	limited.remaining = -1
	target, err := url.ParseRequestURI(parts[1])
	if err != nil {
		return nil, nil, err
	}
	if header.Get("Transfer-Encoding") != "" {
		return nil, nil, fmt.Errorf("transfer-encoding is not supported") // every client here sends a length
	}
	length := int64(0)
	if value := header.Get("Content-Length"); value != "" {
		if length, err = strconv.ParseInt(value, 10, 64); err != nil || length < 0 {
			return nil, nil, fmt.Errorf("bad content-length %q", value)
		}
	}
	http10 := parts[2] == "HTTP/1.0"
	body := &lazyBody{reader: reader, conn: conn, remaining: length,
		expect: !http10 && length > 0 && strings.EqualFold(header.Get("Expect"), "100-continue")}
	connection := strings.ToLower(header.Get("Connection"))
	request := &http.Request{
		Method: parts[0], URL: target, RequestURI: parts[1], Proto: parts[2], ProtoMajor: 1,
		ProtoMinor: map[bool]int{true: 0, false: 1}[http10],
		Header:     http.Header(header), Body: body, ContentLength: length,
		Host: header.Get("Host"), RemoteAddr: conn.RemoteAddr().String(),
		Close: connection == "close" || (http10 && connection != "keep-alive"),
	}
	return request.WithContext(context.Background()), body, nil
}

// bufferedAnswer is an http.ResponseWriter that keeps the whole answer for one write.
type bufferedAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *bufferedAnswer) Header() http.Header { return a.header }

func (a *bufferedAnswer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}

func (a *bufferedAnswer) Write(p []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return a.body.Write(p)
}

// bytes is the answer as sent. A HEAD request's answer, and a 1xx, 204 or 304 one, has no body (HTTP/1.1: the
// client reads none, and any sent would be taken for the next answer on the connection); HEAD's Content-Length
// is the body's, as a GET's would be.
func (a *bufferedAnswer) bytes(keepAlive, head bool) []byte {
	a.WriteHeader(http.StatusOK)
	noBody := a.status < 200 || a.status == http.StatusNoContent || a.status == http.StatusNotModified
	var out bytes.Buffer
	out.Grow(256 + a.body.Len())
	reason := http.StatusText(a.status)
	if reason == "" {
		reason = "Status"
	}
	fmt.Fprintf(&out, "HTTP/1.1 %d %s\r\n", a.status, reason)
	a.header.Del("Content-Length")
	a.header.Del("Connection")
	for name, values := range a.header {
		for _, value := range values {
			out.WriteString(name)
			out.WriteString(": ")
			out.WriteString(value)
			out.WriteString("\r\n")
		}
	}
	if !noBody {
		out.WriteString("Content-Length: ")
		out.WriteString(strconv.Itoa(a.body.Len()))
		out.WriteString("\r\n")
	}
	if !keepAlive {
		out.WriteString("Connection: close\r\n")
	}
	out.WriteString("\r\n")
	if !head && !noBody {
		out.Write(a.body.Bytes())
	}
	return out.Bytes()
}
