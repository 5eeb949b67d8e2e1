"""FC's HTTP API: thin routes over the domain modules."""
