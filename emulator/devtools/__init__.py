"""Local stand-ins for the services example functions talk to."""
