"""FC's own API as a function reaches it from inside its instance: FC's endpoint names, fcemu's local certificate
authority for them, the temporary credentials of a function's role, and the listeners that serve the API to the
instances (and to nobody else). MNS's endpoint names lead there too (emulator/api/mns_protocol.py serves them)."""
