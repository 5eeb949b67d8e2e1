"""The temporary credentials a function with a role gets: the settings' (FCEMU_FUNCTION_CREDENTIALS_*) when they
supply some, else credentials made up once per emulator, shaped like STS's (an `STS.` key id, a secret and a
security token), and kept in Redis so that every process of the emulator hands out, and accepts, the same ones."""
from __future__ import annotations

import json
import secrets

from redis.asyncio import Redis

from emulator.credentials import FunctionCredentials
from emulator.redis_io.keys import ROLE_CREDENTIALS_KEY


def _made_up() -> FunctionCredentials:
    return FunctionCredentials(
        access_key_id="STS." + secrets.token_hex(12),
        access_key_secret=secrets.token_urlsafe(30),
        security_token=secrets.token_urlsafe(48),
    )


async def role_credentials(redis: Redis, configured: FunctionCredentials | None) -> FunctionCredentials:
    """The configured credentials, or this emulator's made-up ones (made by whichever process asks first)."""
    if configured is not None:
        return configured
    fresh = _made_up()
    await redis.set(ROLE_CREDENTIALS_KEY, json.dumps({
        "AccessKeyId": fresh.access_key_id, "AccessKeySecret": fresh.access_key_secret,
        "SecurityToken": fresh.security_token,
    }), nx=True)
    kept = await redis.get(ROLE_CREDENTIALS_KEY)
    assert kept is not None  # set just above, by this process or one before it, and never removed
    stored = json.loads(kept)
    return FunctionCredentials(stored["AccessKeyId"], stored["AccessKeySecret"], stored["SecurityToken"])
