package main

import (
	"net/http"
	"sync"
)

// FC's runtime API function types (x-fc-function-type on a `next` answer), as fc-runtime-go-sdk reads them.
const (
	typeInvoke      = "0"
	typeInitializer = "1"
	typePreStop     = "2"
)

// result is how the function's process (or the agent, for it) answered one item.
type result struct {
	failed  bool
	body    []byte
	headers http.Header // the process's POST headers (x-fc-http-params of an HTTP function's answer)
}

// item is one request handed to the function's process through `next`: an invocation or a lifecycle hook. The
// contract request that made it waits on done.
type item struct {
	id      string
	stage   string // FC's framing word: Invoke, Initialize, PreStop
	headers http.Header
	body    []byte
	done    chan result
	once    sync.Once
	log     *invocationLog
}

func newItem(id, stage string, headers http.Header, body []byte, tail bool) *item {
	it := &item{id: id, stage: stage, headers: headers, body: body, done: make(chan result, 1)}
	it.log = newInvocationLog(id, tail)
	return it
}

// finish delivers the item's result once; later calls (a late POST after a crash was reported) do nothing.
func (it *item) finish(r result) bool {
	delivered := false
	it.once.Do(func() {
		it.done <- r
		delivered = true
	})
	return delivered
}
