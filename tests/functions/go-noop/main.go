// go-noop: the fc-runtime-go-sdk README's event function (fc.Start, a struct event with context.Context), plus
// probes: {"key": "error"} returns an error, {"key": "panic"} panics, {"key": "exit"} ends the process (os.Exit),
// {"key": "meet"} waits (up to 5 s) until a second "meet" invocation runs at the same time in this process.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

type StructEvent struct {
	Key string `json:"key"`
}

// meeting: the first "meet" waits here for the second, which finds it waiting.
var meeting = make(chan string)

func HandleRequest(ctx context.Context, event StructEvent) (string, error) {
	fctx, _ := fccontext.FromContext(ctx)
	fctx.GetLogger().Infof("function %s request %s", fctx.Function.Name, fctx.RequestID)
	switch event.Key {
	case "error":
		return "", errors.New("asked to fail")
	case "panic":
		panic("asked to panic")
	case "exit":
		fmt.Println("exiting on request", fctx.RequestID)
		os.Exit(3)
	case "meet":
		select {
		case other := <-meeting:
			return "met " + other, nil
		case meeting <- fctx.RequestID:
			return "waited", nil
		case <-time.After(5 * time.Second):
			return "", errors.New("no other invocation came")
		}
	}
	return fmt.Sprintf("hello, %s!", event.Key), nil
}

func main() {
	fc.Start(HandleRequest)
}
