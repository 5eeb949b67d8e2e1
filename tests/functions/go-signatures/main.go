// go-signatures: one binary, every handler shape fc-runtime-go-sdk accepts, picked by the HANDLER_KIND variable
// (struct, map, string, bytes, none, errorfn, ctxonly, hooked, env, fccall, event, http, httpsilent, httpstatus,
// big, bad); an initializer and a preStop hook registered (the initializer's request id is kept and shown by ctxonly).
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/aliyun/fc-runtime-go-sdk/events"
	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

type Greeting struct {
	Name string `json:"name"`
}

var initializedBy string

func main() {
	fc.RegisterInitializerFunction(func(ctx context.Context) {
		c, _ := fccontext.FromContext(ctx)
		initializedBy = c.RequestID
		fmt.Println("init ran", c.RequestID)
	})
	fc.RegisterPreStopFunction(func(ctx context.Context) {
		c, _ := fccontext.FromContext(ctx)
		fmt.Println("prestop ran", c.RequestID)
	})
	switch os.Getenv("HANDLER_KIND") {
	case "struct":
		fc.Start(func(g Greeting) (Greeting, error) { g.Name = "hello " + g.Name; return g, nil })
	case "hooked":
		// Which initializer run this process had; {"exit": true} ends the process.
		fc.Start(func(ctx context.Context, e map[string]interface{}) (string, error) {
			if e["exit"] == true {
				os.Exit(4)
			}
			return initializedBy, nil
		})
	case "env":
		// What the process sees of its environment, and the function name its context got.
		fc.Start(func(ctx context.Context) (map[string]string, error) {
			c, _ := fccontext.FromContext(ctx)
			return map[string]string{"token": os.Getenv("FCEMU_AGENT_TOKEN"), "api": os.Getenv("FC_RUNTIME_API"),
				"handler": os.Getenv("FC_FUNCTION_HANDLER"), "name": c.Function.Name}, nil
		})
	case "fccall":
		// FC's endpoint by its name, over HTTPS, unsigned: FC's answer's status and error code.
		fc.Start(func() (map[string]interface{}, error) {
			url := fmt.Sprintf("https://%s.%s-internal.fc.aliyuncs.com/2023-03-30/functions",
				os.Getenv("FC_ACCOUNT_ID"), os.Getenv("FC_REGION"))
			reply, err := http.Get(url)
			if err != nil {
				return nil, err
			}
			defer reply.Body.Close()
			var answer map[string]interface{}
			_ = json.NewDecoder(reply.Body).Decode(&answer)
			return map[string]interface{}{"status": reply.StatusCode, "code": answer["Code"]}, nil
		})
	case "errorfn":
		fc.Start(func() error { return nil })
	case "event":
		fc.Start(func(e events.HTTPTriggerEvent) (events.HTTPTriggerResponse, error) {
			body := *e.Body
			if e.IsBase64Encoded != nil && *e.IsBase64Encoded {
				raw, _ := base64.StdEncoding.DecodeString(body)
				body = string(raw)
			}
			return events.HTTPTriggerResponse{StatusCode: 202, Headers: map[string]string{"x-go": "yes"},
				Body: *e.TriggerContext.Http.Method + " " + *e.RawPath + " " + body}, nil
		})
	case "map":
		fc.Start(func(m map[string]interface{}) (map[string]interface{}, error) { m["seen"] = true; return m, nil })
	case "string":
		fc.Start(func(ctx context.Context, s string) (string, error) { return "got " + s, nil })
	case "bytes":
		fc.Start(func(b []byte) ([]byte, error) { return b, nil })
	case "none":
		fc.Start(func() {})
	case "ctxonly":
		fc.Start(func(ctx context.Context) (interface{}, error) {
			c, _ := fccontext.FromContext(ctx)
			d, _ := ctx.Deadline()
			return map[string]interface{}{"ctx": c, "deadline": d.UnixMilli(), "initializedBy": initializedBy}, nil
		})
	case "http":
		fc.StartHttp(func(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("X-Probe", r.URL.Path)
			w.WriteHeader(201)
			fmt.Fprintf(w, "%s %s q=%v", r.Method, r.URL.Path, r.URL.Query())
			return nil
		})
	case "httpstatus":
		// The status the query's `status` names, with a body whatever the status.
		fc.StartHttp(func(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
			status, _ := strconv.Atoi(r.URL.Query().Get("status"))
			w.WriteHeader(status)
			fmt.Fprint(w, "body")
			return nil
		})
	case "big":
		// A result of as many bytes as the event's number (its JSON: a string, two quotes more).
		fc.Start(func(size int) (string, error) { return strings.Repeat("x", size), nil })
	case "httpsilent":
		fc.StartHttp(func(ctx context.Context, w http.ResponseWriter, r *http.Request) error { return nil })
	case "bad":
		fc.Start(func(a, b int) {})
	}
}
