package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// A small HTTP/1.1 server for both of the agent's sides (fcemu's contract and the runtime API). Their clients are
// simple (a head, a Content-Length body, keep-alive, one request at a time per connection), and net/http's server
// costs each request a background read and its cancellation (several system calls and goroutine switches) that a
// no-op invocation, which crosses three requests, feels. Each answer goes out in one write, on a TCP_NODELAY socket.

const maxHeadBytes = 256 * 1024

// serveHTTP accepts connections until the listener closes.
func serveHTTP(listener net.Listener, handler http.Handler) error {
	for {
		conn, err := listener.Accept()
		if err != nil {
			return err
		}
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
		request, err := readRequest(reader, conn, limited)
		if err != nil {
			if err != io.EOF {
				_, _ = conn.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			}
			return
		}
		answer := &bufferedAnswer{header: http.Header{}}
		handler.ServeHTTP(answer, request)
		keepAlive := !request.Close && answer.header.Get("Connection") != "close"
		if _, err := conn.Write(answer.bytes(keepAlive)); err != nil || !keepAlive {
			return
		}
	}
}

// headLimit bounds what is read from a connection while a request's head is (a head with no end would otherwise
// grow without bound); the body's length is bounded by its Content-Length check.
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

func readRequest(reader *bufio.Reader, conn net.Conn, limited *headLimit) (*http.Request, error) {
	text := textproto.NewReader(reader)
	line, err := text.ReadLine()
	if err != nil {
		if err == io.EOF || strings.Contains(err.Error(), "closed") || strings.Contains(err.Error(), "reset") {
			return nil, io.EOF
		}
		return nil, err
	}
	parts := strings.SplitN(line, " ", 3)
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/1.") {
		return nil, fmt.Errorf("bad request line %q", line)
	}
	header, err := text.ReadMIMEHeader()
	if err != nil {
		return nil, err
	}
	limited.remaining = -1
	target, err := url.ParseRequestURI(parts[1])
	if err != nil {
		return nil, err
	}
	if header.Get("Transfer-Encoding") != "" {
		return nil, fmt.Errorf("transfer-encoding is not supported") // every client here sends a length
	}
	length := int64(0)
	if value := header.Get("Content-Length"); value != "" {
		if length, err = strconv.ParseInt(value, 10, 64); err != nil || length < 0 || length > maxEventBytes {
			return nil, fmt.Errorf("bad content-length %q", value)
		}
	}
	if strings.EqualFold(header.Get("Expect"), "100-continue") && length > 0 {
		if _, err := conn.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n")); err != nil {
			return nil, err
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(reader, body); err != nil {
		return nil, err
	}
	connection := strings.ToLower(header.Get("Connection"))
	request := &http.Request{
		Method: parts[0], URL: target, RequestURI: parts[1], Proto: parts[2], ProtoMajor: 1,
		ProtoMinor: map[bool]int{true: 0, false: 1}[parts[2] == "HTTP/1.0"],
		Header:     http.Header(header), Body: io.NopCloser(bytes.NewReader(body)), ContentLength: length,
		Host: header.Get("Host"), RemoteAddr: conn.RemoteAddr().String(),
		Close: connection == "close" || (parts[2] == "HTTP/1.0" && connection != "keep-alive"),
	}
	return request.WithContext(context.Background()), nil
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

func (a *bufferedAnswer) bytes(keepAlive bool) []byte {
	a.WriteHeader(http.StatusOK)
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
	out.WriteString("Content-Length: ")
	out.WriteString(strconv.Itoa(a.body.Len()))
	if !keepAlive {
		out.WriteString("\r\nConnection: close")
	}
	out.WriteString("\r\n\r\n")
	out.Write(a.body.Bytes())
	return out.Bytes()
}
