package main

import (
	"io"
	"net"
	"strings"
	"time"
)

// startRelay relays FC's endpoint ports inside the instance, as runtimes/python3/agent/fc_relay.py does: FC's
// endpoint names resolve to 127.0.0.1 here (the container's /etc/hosts), and 127.0.0.1:80 and :443 are relayed to
// the emulator's listeners for instances, given in FCEMU_FC_RELAY as "80=<address>:<port>,443=<address>:<port>".
// Bytes only: TLS ends in the emulator, whose authority Go's TLS trusts through the instance's CA bundle
// (SSL_CERT_FILE). A port that cannot be had (the function listens there itself) is said and skipped.
func startRelay(routes string) {
	for _, entry := range strings.Split(routes, ",") {
		port, target, found := strings.Cut(strings.TrimSpace(entry), "=")
		if !found || port == "" || target == "" {
			continue
		}
		listener, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			agentLine("FC's endpoint port " + port + " is not relayed: " + err.Error())
			continue
		}
		go acceptRelayed(listener, target)
	}
}

func acceptRelayed(listener net.Listener, target string) {
	for {
		client, err := listener.Accept()
		if err != nil {
			// Out of descriptors: a pause, not a spin, until the function's own connections close.
			time.Sleep(100 * time.Millisecond)
			continue
		}
		go relay(client, target)
	}
}

func relay(client net.Conn, target string) {
	defer client.Close()
	upstream, err := net.DialTimeout("tcp", target, 10*time.Second)
	if err != nil {
		return
	}
	defer upstream.Close()
	done := make(chan struct{})
	go func() {
		pipe(upstream, client)
		close(done)
	}()
	pipe(client, upstream)
	<-done
}

// pipe copies one direction until its end, then half-closes the other side, which may still answer.
func pipe(to, from net.Conn) {
	_, _ = io.Copy(to, from)
	if tcp, ok := to.(*net.TCPConn); ok {
		_ = tcp.CloseWrite()
	}
}
