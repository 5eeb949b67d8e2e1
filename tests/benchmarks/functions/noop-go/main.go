// The bench's no-op go1 function: the event back as it came (json.RawMessage is marshalled as it is).
package main

import (
	"encoding/json"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
)

func main() {
	fc.Start(func(event json.RawMessage) (json.RawMessage, error) { return event, nil })
}
