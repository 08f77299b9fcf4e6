import socket

from bot import ports


def test_ports_are_chosen_below_the_ephemeral_range_when_there_is_room():
    assert ports.candidate_range((32768, 60999)) == (20000, 32767)


def test_ports_are_chosen_above_the_ephemeral_range_when_it_starts_low():
    assert ports.candidate_range((1024, 60999)) == (61000, 65535)


def test_the_ephemeral_range_is_read_from_the_kernel_file(tmp_path):
    f = tmp_path / "range"
    f.write_text("40000\t50000\n")
    assert ports.ephemeral_range(f) == (40000, 50000)
    assert ports.ephemeral_range(tmp_path / "missing") == (32768, 60999)


def test_free_ports_are_distinct_bindable_and_outside_the_ephemeral_range():
    low, high = ports.ephemeral_range()
    chosen = [ports.free_port() for _ in range(50)]
    assert len(set(chosen)) == 50
    assert not any(low <= port <= high for port in chosen)
    for port in chosen[:5]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_a_port_someone_listens_on_is_never_given(monkeypatch):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        taken = held.getsockname()[1]
        held.listen()
        picks = iter([taken, taken, *range(20000, 65536)])
        monkeypatch.setattr(ports, "candidate_range", lambda _r: (taken, taken))
        monkeypatch.setattr(ports._rng, "randint", lambda _a, _b: next(picks))
        assert ports.free_port() != taken
