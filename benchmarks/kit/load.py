"""A closed-loop HTTP load on loopback: ``concurrency`` workers, one keep-alive connection each,
sending what ``next_request`` builds until ``duration`` seconds or ``requests`` have passed, as
fast as answers come or paced at ``rate`` a second. The default client is raw asyncio streams on
uvloop; httpx.AsyncClient (the ``[test]`` extra) is there to compare, not to load: at 50 in flight
its pool collapses (see benchmarks/README.md)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

import uvloop

from benchmarks.kit.servers import HOST

# kind (any tag the scenario uses to tell requests apart), path, headers, body
Request = tuple[str, str, dict, bytes]


@dataclass
class Sample:
    kind: str
    start: float  # time.monotonic() when the request was written
    latency: float  # seconds to the full response
    status: int  # HTTP status, 0 for a transport error
    answer: str = ""  # what ``classify`` made of the response body


class Load:
    def __init__(
        self,
        port: int,
        next_request: Callable[[], Request],
        *,
        concurrency: int,
        duration: float | None = None,
        requests: int | None = None,
        rate: float | None = None,
        classify: Callable[[bytes], str] = lambda body: "",
        client: str = "raw",
        timeout: float = 30.0,
    ) -> None:
        self.port, self.next_request, self.concurrency = port, next_request, concurrency
        self.duration, self.requests, self.rate = duration, requests, rate
        self.classify, self.client, self.timeout = classify, client, timeout
        self.samples: list[Sample] = []
        self.issued = 0

    def run(self) -> tuple[list[Sample], float]:
        """The samples, and the seconds from the first request to the last answer."""
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(self._main())

    async def _main(self) -> tuple[list[Sample], float]:
        self.t0 = time.monotonic()
        self.deadline = self.t0 + (self.duration or 0)
        self.tickets: asyncio.Queue | None = asyncio.Queue() if self.rate else None
        worker = self._httpx_worker if self.client == "httpx" else self._raw_worker
        tasks = [worker() for _ in range(self.concurrency)]
        tasks += [self._ticker()] if self.rate else []
        if self.client == "httpx":
            import httpx

            limits = httpx.Limits(
                max_connections=self.concurrency, max_keepalive_connections=self.concurrency
            )
            async with httpx.AsyncClient(
                base_url=f"http://{HOST}:{self.port}", limits=limits, timeout=self.timeout
            ) as self.httpx:
                await asyncio.gather(*tasks)
        else:
            await asyncio.gather(*tasks)
        end = max((s.start + s.latency for s in self.samples), default=self.t0)
        return self.samples, end - self.t0

    async def _ticker(self) -> None:
        for n in itertools.count():
            at = self.t0 + n / self.rate
            if at >= self.deadline:
                break
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            self.tickets.put_nowait(True)
        for _ in range(self.concurrency):
            self.tickets.put_nowait(False)

    async def _next(self) -> Request | None:
        if self.tickets is not None:
            if not await self.tickets.get():
                return None
        elif (self.requests is not None and self.issued >= self.requests) or (
            self.duration is not None and time.monotonic() >= self.deadline
        ):
            return None
        self.issued += 1
        return self.next_request()

    def _record(self, kind: str, start: float, status: int, answer: bytes) -> None:
        latency = time.monotonic() - start
        self.samples.append(Sample(kind, start, latency, status, self.classify(answer)))

    async def _raw_worker(self) -> None:
        reader = writer = None
        while (request := await self._next()) is not None:
            kind, path, headers, body = request
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
                + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                + f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            start = time.monotonic()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, self.port)
                writer.write(head + body)
                async with asyncio.timeout(self.timeout):
                    status, answer, close = await read_response(reader)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                status, answer, close = 0, b"", True
            self._record(kind, start, status, answer)
            if close and writer is not None:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    async def _httpx_worker(self) -> None:
        import httpx

        while (request := await self._next()) is not None:
            kind, path, headers, body = request
            start = time.monotonic()
            try:
                response = await self.httpx.post(path, content=body, headers=headers)
                status, answer = response.status_code, response.content
            except httpx.HTTPError:
                status, answer = 0, b""
            self._record(kind, start, status, answer)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """One HTTP/1.1 response: its status, its body, and whether the server closes."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length, chunked, close = 0, False, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection" and value == b"close":
            close = True
    if not chunked:
        return status, await reader.readexactly(length), close
    body = b""
    while size := int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16):
        body += (await reader.readexactly(size + 2))[:-2]
    await reader.readuntil(b"\r\n")
    return status, body, close
