package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

// memfd_create's number (Go's syscall package lacks it on amd64).
var memfdCreateCall = map[string]uintptr{"amd64": 319, "arm64": 279}

// inMemoryCopy copies an executable the instance cannot run in place into an anonymous memory file (memfd), which
// the child executes as /proc/self/fd/N. fcemu unpacks code with mode 0644 and an instance's /tmp is noexec, so
// this is how a go1 binary runs at all; the memory file is held open for restarts.
func inMemoryCopy(path string) (*os.File, error) {
	number, ok := memfdCreateCall[runtime.GOARCH]
	if !ok {
		return nil, fmt.Errorf("no memfd_create on %s", runtime.GOARCH)
	}
	name, err := syscall.BytePtrFromString("fc-function")
	if err != nil {
		return nil, err
	}
	const mfdCloexec = 1 // the agent's other children do not inherit it
	fd, _, errno := syscall.Syscall(number, uintptr(unsafe.Pointer(name)), mfdCloexec, 0)
	if errno != 0 {
		return nil, errno
	}
	memory := os.NewFile(fd, "memfd:fc-function")
	in, err := os.Open(path)
	if err != nil {
		memory.Close()
		return nil, err
	}
	defer in.Close()
	if _, err := io.Copy(memory, in); err != nil {
		memory.Close()
		return nil, err
	}
	return memory, nil
}
