"""``kkik mail classify`` as a new user runs it, on the whole fixture corpus."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MAIL = Path(__file__).resolve().parents[1] / "data" / "mail"
EXPECTED = json.loads((MAIL / "expected.json").read_text(encoding="utf-8"))
KEYS = [
    "kind",
    "reason",
    "holding",
    "probe_id",
    "confidence",
    "matched_by",
    "answered_at",
    "answered_at_source",
    "business_hours",
    "within_one_working_day",
    "counts_as_answer",
    "needs_review",
    "candidates",
]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_it_classifies_every_corpus_message_from_the_command_line(kkik, name: str):
    result = kkik(
        "mail", "classify", str(MAIL / name), "--probes", str(MAIL / "probes.json"), "--json"
    )
    assert result.code == 0, result.err
    out = json.loads(result.out)
    assert list(out) == KEYS
    want = EXPECTED[name]
    assert (out["kind"], out["reason"], out["holding"]) == (
        want["kind"],
        want["reason"],
        want["holding"],
    )
    assert (out["probe_id"], out["matched_by"]) == (want["probe_id"], want["matched_by"])
    # Only a mail that counts as the answer is timed (results.answer_rule): a person's reply,
    # not holding, linked by a reply signal and not held for review.
    counts = (
        want["kind"] == "human_reply"
        and want["probe_id"] is not None
        and not want["holding"]
        and not want.get("needs_review", False)
        and want["matched_by"] != "bounce_original"
    )
    assert out["counts_as_answer"] == counts
    assert out["needs_review"] == want.get("needs_review", out["needs_review"])
    timed = out["business_hours"] is not None
    assert timed == counts
    if timed:
        assert out["answered_at_source"] in {"received_header", "internaldate", "given"}
        assert isinstance(out["within_one_working_day"], bool)


def _probe_file(tmp_path: Path) -> Path:
    # The shape documented for outside checks: reply_to and to, not the internal names.
    path = tmp_path / "probes.json"
    path.write_text(
        json.dumps(
            [
                {
                    "id": 1,
                    "message_id": "<q1@fraga.example.se>",
                    "reply_to": "anna+tok123@fraga.example.se",
                    "to": "kommun@krokom.example.se",
                    "subject": "Plats i förskola",
                    "body": "Hej! Hur lång är kön till förskola i Föllinge?",
                    "sent_at": "2026-10-09T16:00:00+02:00",
                }
            ]
        )
    )
    return path


def _reply(tmp_path: Path, received: str) -> Path:
    path = tmp_path / "reply.eml"
    path.write_bytes(
        (
            "Received: from mx.krokom.example.se by mx.fraga.example.se with ESMTPS id 1;\r\n"
            f" {received}\r\n"
            "From: Per Olsson <per.olsson@krokom.example.se>\r\n"
            "To: anna+tok123@fraga.example.se\r\n"
            "Subject: SV: Plats i förskola\r\n"
            "In-Reply-To: <q1@fraga.example.se>\r\n"
            "Message-ID: <svar1@krokom.example.se>\r\n"
            f"Date: {received}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            "Hej Anna! Kön är just nu ungefär tre månader. Ansök via e-tjänsten så får du "
            "besked om plats inom fyra månader.\r\n\r\nMed vänlig hälsning\r\nPer Olsson\r\n"
        ).encode()
    )
    return path


@pytest.mark.parametrize(
    ("received", "hours", "within"),
    [
        # Friday 16:00 question, answer Monday 16:00: exactly one working day.
        ("Mon, 12 Oct 2026 16:00:00 +0200", 9.0, True),
        ("Mon, 12 Oct 2026 16:30:00 +0200", 9.5, False),
    ],
)
def test_it_times_a_reply_by_our_received_header(
    kkik, tmp_path: Path, received: str, hours: float, within: bool
):
    result = kkik(
        "mail", "classify", str(_reply(tmp_path, received)),
        "--probes", str(_probe_file(tmp_path)), "--json",
    )  # fmt: skip
    out = json.loads(result.out)
    assert out["kind"] == "human_reply"
    assert (out["probe_id"], out["matched_by"]) == (1, "in_reply_to")
    assert out["answered_at_source"] == "received_header"
    assert out["business_hours"] == hours
    assert out["within_one_working_day"] is within


def test_it_takes_the_arrival_from_the_command_line_when_asked(kkik, tmp_path: Path):
    result = kkik(
        "mail", "classify", str(_reply(tmp_path, "Mon, 12 Oct 2026 16:30:00 +0200")),
        "--probes", str(_probe_file(tmp_path)), "--arrival", "2026-10-12T09:00", "--json",
    )  # fmt: skip
    out = json.loads(result.out)
    assert out["answered_at"] == "2026-10-12T09:00:00+02:00"
    assert out["answered_at_source"] == "given"
    assert out["business_hours"] == 2.0


def test_it_reports_a_missing_file_and_a_broken_probe_list(kkik, tmp_path: Path):
    result = kkik("--lang", "en", "mail", "classify", str(tmp_path / "none.eml"))
    assert (result.code, result.err) == (2, f"{tmp_path / 'none.eml'}: file not found\n")
    bad = tmp_path / "probes.json"
    bad.write_text('[{"id": 1}]')
    eml = _reply(tmp_path, "Mon, 12 Oct 2026 16:00:00 +0200")
    result = kkik("--lang", "en", "mail", "classify", str(eml), "--probes", str(bad))
    assert result.code == 2
    assert result.err.startswith(f"{bad}: invalid probe list: 'sent_at'")


def test_it_refuses_to_send_a_test_outside_the_allowlist(kkik, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text(
        "[mail]\ntest_recipients = ['test@kkik.test']\n"
        "[mail.smtp]\nhost = '127.0.0.1'\nsecurity = 'none'\nauth = 'none'\n"
        "[mail.imap]\nhost = '127.0.0.1'\nsecurity = 'none'\nauth = 'none'\n"
    )
    result = kkik("--lang", "en", "--config", str(config), "mail", "send-test", "kommun@x.se")
    assert result.code == 2
    assert result.err == (
        "kommun@x.se is not in mail.test_recipients; test messages go only there\n"
    )


def test_it_says_when_mail_is_not_configured(kkik, tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text("")
    result = kkik("--lang", "en", "--config", str(config), "mail", "send-test", "a@b.se")
    assert result.code == 2
    assert result.err == (
        f"{config}: mail: the e-mail channel is not configured ([mail.smtp] and [mail.imap])\n"
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "the file is empty"),
        (b"\r\n\r\n  \r\n", "the file is empty"),
        (b"Hej! Det h\xc3\xa4r \xc3\xa4r bara text, inget huvud.\r\n", "not an e-mail message"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "not an e-mail message"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "binary data, not an e-mail message"),
        (b"From: a@b.se\r\n\x00\x00\x00\x00", "binary data, not an e-mail message"),
    ],
    ids=["empty", "blank", "text", "pdf", "zip", "nul"],
)
def test_it_refuses_what_is_not_a_mail_in_one_line(
    kkik, tmp_path: Path, content: bytes, problem: str
):
    path = tmp_path / "input.eml"
    path.write_bytes(content)
    result = kkik("--lang", "en", "mail", "classify", str(path), "--json")
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith(f"{path}: {problem}")
    assert result.err.count("\n") == 1


def test_it_says_so_in_swedish_by_default(kkik, tmp_path: Path):
    path = tmp_path / "tom.eml"
    path.write_bytes(b"")
    result = kkik("mail", "classify", str(path))
    assert (result.code, result.err) == (2, f"{path}: filen är tom\n")


def test_it_names_a_folder_and_an_unreadable_file(kkik, tmp_path: Path):
    result = kkik("--lang", "en", "mail", "classify", str(tmp_path))
    assert (result.code, result.err) == (2, f"{tmp_path}: is a folder, not a file\n")
    result = kkik(
        "--lang", "en", "mail", "classify", str(tmp_path / "a.eml"), "--probes", str(tmp_path)
    )
    assert result.code == 2


def test_it_reads_no_more_than_the_limit(kkik, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from harness.cli import mail_cmd

    monkeypatch.setattr(mail_cmd, "MAX_MESSAGE", 200_000)
    path = tmp_path / "big.eml"
    path.write_bytes(b"From: a@b.se\r\nSubject: x\r\n\r\n" + b"y" * 300_000)
    result = kkik("--lang", "en", "mail", "classify", str(path))
    assert (result.code, result.err) == (
        2,
        f"{path}: larger than 0 MB; a message is read only up to that limit\n",
    )


def test_a_stream_of_zeros_or_a_pipe_that_never_ends_does_not_hang_it(tmp_path: Path):
    # Real processes: /dev/zero, and `yes` piped into standard input, which never ends.
    kkik = Path(sys.executable).with_name("kkik")
    env = {**os.environ, "KKIK_LANG": "en"}
    env.pop("KKIK_CONFIG", None)
    zero = subprocess.run(
        [str(kkik), "mail", "classify", "/dev/zero"],
        capture_output=True, timeout=60, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert (zero.returncode, zero.stderr) == (2, b"/dev/zero: binary data, not an e-mail message\n")
    endless = subprocess.Popen(["yes", "X-Filler: y"], stdout=subprocess.PIPE)
    try:
        piped = subprocess.run(
            [str(kkik), "mail", "classify", "-"],
            stdin=endless.stdout, capture_output=True, timeout=120, env=env, cwd=tmp_path,
        )  # fmt: skip
    finally:
        endless.kill()
        endless.wait()
        assert endless.stdout is not None
        endless.stdout.close()
    assert piped.returncode == 2
    assert piped.stderr == b"-: larger than 50 MB; a message is read only up to that limit\n"


def test_it_reads_a_message_from_standard_input(tmp_path: Path):
    kkik = Path(sys.executable).with_name("kkik")
    env = {**os.environ, "KKIK_LANG": "en"}
    env.pop("KKIK_CONFIG", None)
    raw = _reply(tmp_path, "Mon, 12 Oct 2026 16:00:00 +0200").read_bytes()
    done = subprocess.run(
        [str(kkik), "mail", "classify", "-", "--json"],
        input=raw, capture_output=True, timeout=60, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kind"] == "human_reply"
