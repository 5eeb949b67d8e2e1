// The event says what to do ({"do": ...}); anything else (a timer's event, FC 3.0's HTTP event) is echoed back.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

type request struct {
	Do    string `json:"do"`
	Input string `json:"input"`
	Sink  string `json:"sink"`
}

// Where preStop reports (a test's sink); set by {"do": "remember-sink"}, so only that instance reports.
var sink string

func handle(ctx context.Context, event json.RawMessage) (interface{}, error) {
	fctx, _ := fccontext.FromContext(ctx)
	var asked request
	if json.Unmarshal(event, &asked) != nil {
		return event, nil
	}
	switch asked.Do {
	case "throw":
		return nil, fmt.Errorf("go refuses: %s", asked.Input)
	case "log":
		fmt.Println("go says " + asked.Input)
		fctx.GetLogger().Infof("go logged %s", asked.Input)
		return map[string]string{"logged": asked.Input}, nil
	case "fail-first":
		// Fails its first attempt: an async retry succeeds and says which attempt it was.
		if fctx.RetryCount == 0 {
			return nil, fmt.Errorf("first attempt fails")
		}
		return map[string]int{"retryCount": fctx.RetryCount}, nil
	case "credentials":
		credentials := fctx.Credentials
		return map[string][]string{
			"context": {credentials.AccessKeyId, credentials.AccessKeySecret, credentials.SecurityToken},
			"env": {os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
				os.Getenv("ALIBABA_CLOUD_SECURITY_TOKEN")},
		}, nil
	case "remember-sink":
		sink = asked.Sink
		hostname, _ := os.Hostname()
		return map[string]string{"instance": hostname}, nil
	}
	return event, nil
}

func preStop(ctx context.Context) {
	if sink == "" {
		return
	}
	fctx, _ := fccontext.FromContext(ctx)
	hostname, _ := os.Hostname()
	body, _ := json.Marshal(map[string]string{"what": "preStop", "instance": hostname, "requestId": fctx.RequestID,
		"function": fctx.Function.Name})
	if reply, err := http.Post(sink, "application/json", bytes.NewReader(body)); err == nil {
		reply.Body.Close()
	}
}

func main() {
	fc.RegisterPreStopFunction(preStop)
	fc.Start(handle)
}
