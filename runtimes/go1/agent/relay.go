package main

// startRelay would relay FC's endpoints (FCEMU_FC_RELAY) as runtimes/python3/agent/fc_relay.py does; not yet in
// the go1 runtime.
func startRelay(routes string) {}
