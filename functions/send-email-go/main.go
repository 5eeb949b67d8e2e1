// send-email in Go: FC's example of work a sign-up endpoint hands off asynchronously. Built with
// fc-runtime-go-sdk (fc.Start), as for FC's go1 runtime; the standard library's net/smtp sends the mail.
package main

import (
	"context"
	"fmt"
	"net/smtp"
	"os"
	"strings"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

// Registration is the event: who signed up.
type Registration struct {
	To   string `json:"to"`
	Name string `json:"name"`
}

// Sent is the result, JSON as FC's go1 runtime returns it.
type Sent struct {
	Sent bool   `json:"sent"`
	To   string `json:"to"`
}

func setting(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

func handleRequest(ctx context.Context, event Registration) (Sent, error) {
	if event.To == "" {
		return Sent{}, fmt.Errorf("the event names no recipient (\"to\")")
	}
	name := event.Name
	if name == "" {
		name = "there"
	}
	requestID := ""
	if fctx, ok := fccontext.FromContext(ctx); ok {
		requestID = fctx.RequestID
	}
	from := setting("MAIL_FROM", "noreply@example.com")
	address := setting("SMTP_HOST", "host.docker.internal") + ":" + setting("SMTP_PORT", "1025")
	message := strings.Join([]string{
		"From: " + from, "To: " + event.To, "Subject: Welcome aboard", "X-Request-Id: " + requestID,
		"Content-Type: text/plain; charset=utf-8", "", "Hello " + name + ",", "", "your registration is complete.", "",
	}, "\r\n")
	if err := smtp.SendMail(address, nil, from, []string{event.To}, []byte(message)); err != nil {
		return Sent{}, err
	}
	fmt.Printf("registration mail sent to %s through %s\n", event.To, address)
	return Sent{Sent: true, To: event.To}, nil
}

func main() {
	fc.Start(handleRequest)
}
