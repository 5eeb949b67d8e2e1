module fcemu.test/go-signatures

go 1.18

require github.com/aliyun/fc-runtime-go-sdk v0.0.0
