"""The container pool: which instance serves an invoke (function_pool), one instance's lifecycle (instance),
how instances are started and stopped (launcher), and the only module that speaks to Docker (engine)."""
