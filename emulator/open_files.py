"""The process's open-file limit (RLIMIT_NOFILE) and the client connection cap (FCEMU_MAX_CONNECTIONS) made to
fit together at start: every client connection is a descriptor, and so is each connection of the Redis pools, each
instance's Docker log stream and agent connection, the Docker API's, the watcher's and the log files. The usual
soft limit (1024 on Linux, 256 on macOS) is below the default cap: past it accept() fails with EMFILE first, then
the queue's pool cannot open a connection to Redis. So the soft limit is raised towards the hard one and, where
that is still too low, the cap is lowered (both logged)."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from emulator.redis_io.client import MAX_CONNECTIONS as REDIS_POOL_CONNECTIONS

log = logging.getLogger(__name__)

# Descriptors kept for what is not a client connection: the queue's and the API's Redis pools, and room for
# instances (a log stream and agent connections each), Docker, the folder watcher and files.
RESERVED = 2 * REDIS_POOL_CONNECTIONS + 512
# The hard limit's "unlimited": setrlimit refuses it as a soft limit on macOS (OPEN_MAX), so ask for what is
# needed instead.
UNLIMITED = -1
# A hard limit far above this (Docker's and systemd's 2**20 and more) is asked for only as far as needed or this:
# room to spare, without making what walks every possible descriptor walk a million.
ENOUGH = 65_536


@dataclass(frozen=True)
class FilePlan:
    soft_limit: int  # what to set the soft RLIMIT_NOFILE to (the current one if it need not change)
    max_connections: int  # the cap that fits in it


def plan(wanted: int, soft: int, hard: int) -> FilePlan:
    """The soft limit to ask for (towards the hard one: up to it, ENOUGH or what is needed, whichever is less;
    never lower than it is) and the connection cap that would fit in it."""
    needed = wanted + RESERVED
    ceiling = max(needed, ENOUGH) if hard == UNLIMITED else min(hard, max(needed, ENOUGH))
    target = max(soft, ceiling)
    return FilePlan(target, fitting_cap(wanted, target))


def fitting_cap(wanted: int, limit: int) -> int:
    """`wanted`, or less where `limit` descriptors leave no room for it beside RESERVED: never more than half
    of the limit then, so the Redis pools and instances keep their share."""
    if wanted + RESERVED <= limit:
        return wanted
    return max(1, min(wanted, max(limit - RESERVED, limit // 2)))


def fit_connection_cap(wanted: int) -> int:
    """Raises this process's soft open-file limit as far as it can and returns the connection cap that fits."""
    try:
        import resource
    except ImportError:  # not a POSIX system: nothing to fit
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    infinity = resource.RLIM_INFINITY
    chosen = plan(wanted, UNLIMITED if soft == infinity else soft, UNLIMITED if hard == infinity else hard)
    limit = soft
    if soft != infinity and chosen.soft_limit > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (chosen.soft_limit, hard))
            limit = chosen.soft_limit
            log.info("open-file limit raised from %d to %d", soft, limit)
        except (ValueError, OSError) as error:
            log.warning("could not raise the open-file limit from %d (%s)", soft, error)
    if limit == infinity or limit == UNLIMITED:
        return wanted
    cap = fitting_cap(wanted, limit)
    if cap < wanted:
        log.warning("FCEMU_MAX_CONNECTIONS=%d does not fit in the open-file limit (%d, %d kept for Redis pools, "
                    "instances and files): serving at most %d client connections; raise `ulimit -n` for more",
                    wanted, limit, RESERVED, cap)
    return cap
