"""MNS's XML as fcemu reads it: a DTD is refused by the parser itself, in any encoding."""
from __future__ import annotations

import pytest

from emulator.api.mns_protocol import MnsError, _parse

DTD = '<?xml version="1.0" encoding="{}"?><!DOCTYPE m [<!ENTITY e "hello">]><Message>&e;</Message>'


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-16", "UTF-16BE"])
def test_a_dtd_is_refused_whatever_the_encoding(encoding: str) -> None:
    with pytest.raises(MnsError) as refused:
        _parse(DTD.format(encoding).encode(encoding.lower()))
    assert refused.value.code == "MalformedXML" and "DTD" in refused.value.message


def test_a_message_parses() -> None:
    assert _parse(b"<Message><MessageBody>hi</MessageBody></Message>").tag == "Message"
