"""A tiny DNS server on 127.0.0.1 (UDP) that answers MX questions from a table.

For ``kkik doctor`` tests and the offline demo, which must never ask a real resolver. Names not
in the table get NXDOMAIN; other record types get an empty answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from harness.sandbox.ports import LOOPBACK
from harness.sandbox.service import AsyncService


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, mx: Mapping[str, list[str]]) -> None:
        self.mx = {name.lower().rstrip("."): hosts for name, hosts in mx.items()}
        self.transport: asyncio.DatagramTransport | None = None
        self.questions = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:
            return
        self.questions += 1
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text().lower().rstrip(".")
        if name not in self.mx:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype == dns.rdatatype.MX:
            records = [f"{10 * (i + 1)} {host}." for i, host in enumerate(self.mx[name])]
            response.answer.append(
                dns.rrset.from_text_list(question.name, 300, dns.rdataclass.IN, "MX", records)
            )
        assert self.transport is not None
        self.transport.sendto(response.to_wire(), addr)


class DnsSandbox(AsyncService):
    """``async with DnsSandbox({"kommun.example.se": ["mx1.kommun.example.se"]}) as dns:``"""

    def __init__(self, mx: Mapping[str, list[str]], host: str = LOOPBACK) -> None:
        self.protocol = _Protocol(mx)
        self.host = host
        self.port = 0
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: self.protocol, local_addr=(self.host, 0)
        )
        self._transport = transport
        self.port = int(transport.get_extra_info("sockname")[1])

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
