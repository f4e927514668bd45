"""Picking the local server's ports."""

from __future__ import annotations

from pytest_model_analyzer.infra.server import free_ports


def test_the_ports_a_server_is_given_are_always_distinct() -> None:
    """Picked one at a time, the kernel may hand out a just-released port again: a server was once given the same
    port for HTTP and metrics and refused to start. All sockets stay bound until every port is picked."""
    for _ in range(300):
        ports = free_ports(3)
        assert len(set(ports)) == 3 and all(0 < port < 65536 for port in ports)
