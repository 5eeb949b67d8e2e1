// go-noop: the fc-runtime-go-sdk README's event function (fc.Start, a struct event with context.Context),
// plus two probes for the runtime notes: {"key": "error"} returns an error, {"key": "panic"} panics.
package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

type StructEvent struct {
	Key string `json:"key"`
}

func HandleRequest(ctx context.Context, event StructEvent) (string, error) {
	if fctx, ok := fccontext.FromContext(ctx); ok {
		fctx.GetLogger().Infof("function %s request %s", fctx.Function.Name, fctx.RequestID)
	}
	switch event.Key {
	case "error":
		return "", errors.New("asked to fail")
	case "panic":
		panic("asked to panic")
	}
	return fmt.Sprintf("hello, %s!", event.Key), nil
}

func main() {
	fc.Start(HandleRequest)
}
