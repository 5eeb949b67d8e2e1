"""fcemu run in a project's own folder: `fcemu up`, `down`, `status` and `invoke`, with the project's state (pid,
log, Redis, unpacked code) in its `.fcemu/`, so that two projects run side by side without touching each other."""
