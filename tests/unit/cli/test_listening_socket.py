"""The socket ``serve`` listens on: its connections send each answer at once."""

from __future__ import annotations

import asyncio
import socket

from intake.cli.instance import listening_socket


async def test_connections_to_the_servers_socket_have_nagles_algorithm_off() -> None:
    """With it on, every answer after a connection's first waited for the client's delayed
    acknowledgement: 40 ms a request on a kept-alive connection."""
    listener = listening_socket("127.0.0.1", 0)
    accepted: asyncio.Queue[int] = asyncio.Queue()

    async def on_connection(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = writer.get_extra_info("socket")
        await accepted.put(connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(on_connection, sock=listener)
    try:
        _reader, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        assert await asyncio.wait_for(accepted.get(), 10) != 0
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
