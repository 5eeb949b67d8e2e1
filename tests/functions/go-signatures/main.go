// go-signatures: one binary, every handler shape fc-runtime-go-sdk accepts, picked by the HANDLER_KIND variable
// (map, string, bytes, none, ctxonly, http, httpsilent, bad); an initializer and a preStop hook registered.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

func main() {
	fc.RegisterInitializerFunction(func(ctx context.Context) { c, _ := fccontext.FromContext(ctx); fmt.Println("init ran", c.RequestID) })
	fc.RegisterPreStopFunction(func(ctx context.Context) { fmt.Println("prestop ran") })
	switch os.Getenv("HANDLER_KIND") {
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
			return map[string]interface{}{"ctx": c, "deadline": d}, nil
		})
	case "http":
		fc.StartHttp(func(ctx context.Context, w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("X-Probe", r.URL.Path)
			w.WriteHeader(201)
			fmt.Fprintf(w, "%s %s q=%v", r.Method, r.URL.Path, r.URL.Query())
			return nil
		})
	case "httpsilent":
		fc.StartHttp(func(ctx context.Context, w http.ResponseWriter, r *http.Request) error { return nil })
	case "bad":
		fc.Start(func(a, b int) {})
	}
}
