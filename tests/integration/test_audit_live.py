"""`quietline audit verify` on a live instance: intact after staff work, broken by one edit."""

from __future__ import annotations

import re
import sqlite3

import httpx
import pyotp

from tests.support.live import LiveServer

DEMO_LINE = re.compile(r"staff (\S+) \((\w+), group (\w+)\): password (\S+)\s+TOTP secret (\w+)")


def test_audit_verify_passes_live_and_fails_after_one_edited_row(
    live_server: LiveServer,
) -> None:
    demo = live_server.command("demo")
    assert demo.returncode == 0, demo.stderr
    accounts = {m[0]: (m[3], m[4]) for m in DEMO_LINE.findall(demo.stdout)}
    password, totp_secret = accounts["officer@example.org"]
    live_server.start()

    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        filed = http.post(
            "/api/v1/reports", json={"category": "safety", "body": "The fire exit is chained."}
        )
        assert filed.status_code == 201
        wrong = http.post(
            "/api/v1/staff/login",
            json={"email": "officer@example.org", "password": "wrong password!", "totp": "1"},
        )
        assert wrong.status_code == 401
        signed_in = http.post(
            "/api/v1/staff/login",
            json={
                "email": "officer@example.org",
                "password": password,
                "totp": pyotp.TOTP(totp_secret).now(),
            },
        )
        assert signed_in.status_code == 200, signed_in.text
        csrf = {"X-CSRF-Token": signed_in.json()["csrf"]}
        ref = http.get("/api/v1/cases").json()["cases"][0]["ref"]
        assert http.get(f"/api/v1/cases/{ref}").status_code == 200
        assert http.post(
            f"/api/v1/cases/{ref}/stage", json={"stage": "acknowledged"}, headers=csrf
        ).is_success
        assert http.post(
            f"/api/v1/cases/{ref}/messages", json={"body": "We are on it."}, headers=csrf
        ).is_success
        assert http.post("/api/v1/staff/logout", headers=csrf).is_success

    verified = live_server.command("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    events = int(re.search(r"(\d+) events", verified.stdout).group(1))
    # the demo's ceremony and its six directory approvals (one a staff member), then failed
    # sign-in, sign-in, view, stage, message, sign-out
    assert events == 13

    with sqlite3.connect(live_server.data_dir / "quietline.db") as database:
        actions = [row[0] for row in database.execute("SELECT action FROM auditevent ORDER BY seq")]
        assert actions == [
            "directory genesis installed",
            *["directory change approved"] * 6,
            "staff.sign_in_failed",
            "staff.sign_in",
            "case.view",
            "case.stage",
            "case.message",
            "staff.sign_out",
        ]
        database.execute("UPDATE auditevent SET case_ref = 'QL-00000-00000' WHERE seq = 8")
    broken = live_server.command("audit", "verify")
    assert broken.returncode == 1
    assert "BROKEN at event 8" in broken.stderr
