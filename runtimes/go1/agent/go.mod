module fcemu.local/go1-agent

go 1.19
