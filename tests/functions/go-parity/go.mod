module fcemu.test/go-parity

go 1.18

require github.com/aliyun/fc-runtime-go-sdk v0.3.1
