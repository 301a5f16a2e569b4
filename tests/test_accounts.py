"""Accounts on both engines: sign-in safety, two-step verification, IP allow-list, sessions, API tokens,
the audit log and the business-number mapping (SPEC 9). Times are injected (`now`)."""
import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from data_access import accounts
from data_access.accounts import AccountConflict, AccountError, SignInResult
from data_access.engine import make_engine
from data_access.migrations import upgrade
from data_access.schema import account, api_token, audit_log, mo_message, saved_search, sign_in_attempt, web_session
from data_access.scope import Scope, business_number_key
from tests.factories import at

PASSWORD = "correct horse 9"
T0 = at(20, 9, month=1)  # before the real time of the changes that take no `now`


@pytest.fixture
def ana(engine):
    return accounts.add_account(engine, "Ana@Example.com ", "manager", "Ana Souza", ["Varejo", "Atacado"], PASSWORD)


def minutes(n: float):
    return T0 + timedelta(minutes=n)


def test_accounts_are_stored_lower_case_with_an_argon2id_hash(engine, ana):
    assert accounts.any_account(engine)
    assert ana == accounts.Account(
        email="ana@example.com", name="Ana Souza", role="manager", subaccounts=("Atacado", "Varejo"), active=True,
        totp_enabled=False, ip_allow=(), has_password=True,
    )
    assert ana.scope == Scope(subaccounts=("Atacado", "Varejo"))
    assert accounts.get_account(engine, "ANA@example.com") == ana
    with engine.connect() as conn:
        stored = conn.execute(sa.select(account.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_no_account_at_first(engine):
    assert accounts.any_account(engine) is False
    assert accounts.get_account(engine, "x@example.com") is None


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda e: accounts.add_account(e, "not-an-email", "admin"), "bad email 'not-an-email'"),
        (lambda e: accounts.add_account(e, "b@example.com", "owner"), "unknown role 'owner': accepted are admin, manager, analyst"),
        (lambda e: accounts.add_account(e, "b@example.com", "analyst", password="short"), "at least 8 characters"),
        (lambda e: accounts.add_account(e, "b@example.com", "analyst", subaccounts=[" "]), "cannot be empty"),
        (lambda e: accounts.allow_ip(e, "ana@example.com", ["10.0.0.0/33"]), "bad CIDR '10.0.0.0/33'"),
        (lambda e: accounts.set_role(e, "zed@example.com", "admin"), "no account 'zed@example.com'"),
        (lambda e: accounts.revoke_token(e, "nope"), "no token named 'nope'"),
    ],
)
def test_bad_values_are_refused_and_change_nothing(engine, ana, change, message):
    with pytest.raises(AccountError, match=message):
        change(engine)
    assert [a.email for a in accounts.list_accounts(engine)] == ["ana@example.com"]
    assert accounts.get_account(engine, "ana@example.com") == ana


def test_an_existing_account_is_a_conflict(engine, ana):
    with pytest.raises(AccountConflict, match="exists already"):
        accounts.add_account(engine, "ANA@example.com", "admin")


def test_changes_are_kept_and_audited(engine, ana):
    accounts.set_role(engine, "ana@example.com", "analyst", actor="admin@example.com", address="10.0.0.1")
    accounts.set_subaccounts(engine, "ana@example.com", ["Varejo"])
    accounts.allow_ip(engine, "ana@example.com", ["10.1.2.3/8", "2001:db8::1"])
    now = accounts.get_account(engine, "ana@example.com")
    assert (now.role, now.subaccounts, now.ip_allow) == ("analyst", ("Varejo",), ("10.0.0.0/8", "2001:db8::1/128"))
    entries = accounts.audit_entries(engine, limit=10)
    assert [(e.actor, e.action) for e in entries] == [
        ("cli", "account.allow_ip"), ("cli", "account.set_subaccounts"),
        ("admin@example.com", "account.set_role"), ("cli", "account.add"),
    ]
    assert entries[2].detail == {"email": "ana@example.com", "from": "manager", "to": "analyst"}
    assert entries[2].address == "10.0.0.1"
    assert entries[1].detail == {"email": "ana@example.com", "from": ["Atacado", "Varejo"], "to": ["Varejo"]}
    assert [e.action for e in accounts.audit_entries(engine, limit=2, offset=1)] == [
        "account.set_subaccounts", "account.set_role"
    ]
    assert accounts.audit_count(engine) == 4


def test_admins_see_every_subaccount(engine):
    admin = accounts.add_account(engine, "root@example.com", "admin", subaccounts=["Varejo"])
    assert admin.scope == Scope.ALL


# -- sign-in ------------------------------------------------------------------------------------


def attempts(engine) -> list[tuple[str, str, bool]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(sign_in_attempt).order_by(sign_in_attempt.c.attempted_at))
        return [(r.email, r.address, r.ok) for r in rows]


def test_same_answer_for_unknown_email_wrong_password_and_disabled_account(engine, ana):
    accounts.add_account(engine, "off@example.com", "analyst", password=PASSWORD)
    accounts.disable(engine, "off@example.com")
    failed = SignInResult(ok=False, reason="failed")
    assert accounts.sign_in(engine, "nobody@example.com", PASSWORD, "10.0.0.1", now=minutes(0)) == failed
    assert accounts.sign_in(engine, "ana@example.com", "wrong password", "10.0.0.2", now=minutes(1)) == failed
    assert accounts.sign_in(engine, "off@example.com", PASSWORD, "10.0.0.3", now=minutes(2)) == failed
    assert accounts.sign_in(engine, "ana@example.com", "", "10.0.0.4", now=minutes(3)) == failed
    ok = accounts.sign_in(engine, " ANA@example.com", PASSWORD, "10.0.0.5", now=minutes(4))
    assert ok == SignInResult(ok=True, account=ana)
    assert attempts(engine) == [
        ("nobody@example.com", "10.0.0.1", False), ("ana@example.com", "10.0.0.2", False),
        ("off@example.com", "10.0.0.3", False), ("ana@example.com", "10.0.0.4", False),
        ("ana@example.com", "10.0.0.5", True),
    ]
    signs = [e for e in accounts.audit_entries(engine, 20) if e.action.startswith("sign_in")]
    assert [(e.action, e.actor, e.address) for e in signs] == [
        ("sign_in", "ana@example.com", "10.0.0.5"), ("sign_in.failed", "ana@example.com", "10.0.0.4"),
        ("sign_in.failed", "off@example.com", "10.0.0.3"), ("sign_in.failed", "ana@example.com", "10.0.0.2"),
        ("sign_in.failed", "nobody@example.com", "10.0.0.1"),
    ]
    assert signs[1].detail == {"email": "ana@example.com", "method": "password", "reason": "failed"}


def test_five_failures_for_one_account_lock_it_for_15_minutes(engine, ana):
    for n in range(5):  # from five addresses: the account's count locks it
        assert accounts.sign_in(engine, "ana@example.com", "bad", f"10.0.0.{n}", now=minutes(n)).reason == "failed"
    locked = accounts.sign_in(engine, "ana@example.com", PASSWORD, "10.9.9.9", now=minutes(10))
    assert locked == SignInResult(ok=False, reason="locked", wait=timedelta(minutes=5))
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "10.9.9.9", now=minutes(14.9)).reason == "locked"
    # 15 minutes after the first failure, four remain in the window: the right password works again.
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "10.9.9.9", now=minutes(15.01)).ok
    assert ("ana@example.com", "10.9.9.9", False) not in attempts(engine)  # a locked try is not a failure


def test_five_failures_from_one_address_lock_that_address(engine, ana):
    for n in range(5):
        accounts.sign_in(engine, f"guess{n}@example.com", "bad", "203.0.113.7", now=minutes(n))
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "203.0.113.7", now=minutes(5)).reason == "locked"
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "203.0.113.8", now=minutes(6)).ok
    signs = [e.action for e in accounts.audit_entries(engine, 20) if e.action.startswith("sign_in")]
    assert signs == ["sign_in", "sign_in.locked", *["sign_in.failed"] * 5]


def test_four_failures_do_not_lock_and_a_success_starts_the_count_again(engine, ana):
    for n in range(4):
        accounts.sign_in(engine, "ana@example.com", "bad", "10.0.0.1", now=minutes(n))
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "10.0.0.1", now=minutes(4)).ok
    for n in range(4):
        accounts.sign_in(engine, "ana@example.com", "bad", "10.0.0.1", now=minutes(5 + n))
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "10.0.0.1", now=minutes(9)).ok


def test_two_step_verification(engine, ana):
    secret = accounts.set_totp(engine, "ana@example.com", True)
    assert accounts.get_account(engine, "ana@example.com").totp_enabled
    uri = accounts.totp_uri("ana@example.com", secret)
    assert uri.startswith("otpauth://totp/WhatsApp%20Detailed%20Report:ana%40example.com?secret=" + secret)
    now = minutes(0)
    code = pyotp.TOTP(secret).at(now)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "10.0.0.1", now=now).reason == "needs_totp"
    assert accounts.sign_in(engine, "ana@example.com", "bad", "10.0.0.1", code, now=now).reason == "failed"
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "10.0.0.1", wrong, now=now).reason == "failed"
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "10.0.0.1", code, now=now).ok
    stale = pyotp.TOTP(secret).at(now - timedelta(minutes=5))
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "10.0.0.1", stale, now=now).reason == "failed"
    assert accounts.set_totp(engine, "ana@example.com", False) is None
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "10.0.0.1", now=now).ok


def test_ip_allow_list(engine, ana):
    accounts.allow_ip(engine, "ana@example.com", ["10.0.0.0/8", "2001:db8::/32"])
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "10.200.1.1", now=minutes(0)).ok
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "2001:db8::5", now=minutes(0)).ok
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "192.168.0.1", now=minutes(1)).reason == "ip_refused"
    # A wrong password from outside says only "failed": the allow-list is not disclosed.
    assert accounts.sign_in(engine, "ana@example.com", "bad", "192.168.0.1", now=minutes(2)).reason == "failed"
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "not an address", now=minutes(3)).reason == "ip_refused"
    accounts.allow_ip(engine, "ana@example.com", [])
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "192.168.0.1", now=minutes(4)).ok


def test_single_sign_on_needs_an_active_account(engine, ana):
    assert accounts.sign_in_sso(engine, "ANA@example.com", "10.0.0.1", now=minutes(0)) == SignInResult(ok=True, account=ana)
    assert accounts.sign_in_sso(engine, "stranger@example.com", "10.0.0.1", now=minutes(1)).reason == "failed"
    accounts.disable(engine, "ana@example.com")
    assert accounts.sign_in_sso(engine, "ana@example.com", "10.0.0.1", now=minutes(2)).reason == "failed"


# -- sessions -----------------------------------------------------------------------------------


def test_session_ends_after_12_hours_unused(engine, ana):
    token = accounts.create_session(engine, "ana@example.com", now=minutes(0))
    with engine.connect() as conn:
        stored = conn.execute(sa.select(web_session)).one()
    assert stored.session_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored
    hour = timedelta(hours=1)
    assert accounts.session_account(engine, token, now=minutes(0) + 11 * hour) == ana
    assert accounts.session_account(engine, token, now=minutes(0) + 22 * hour) == ana  # 11 h after its last use
    assert accounts.session_account(engine, token, now=minutes(0) + 34 * hour) is None  # 12 h unused
    assert accounts.session_account(engine, token, now=minutes(0) + 34 * hour + timedelta(seconds=1)) is None
    with engine.connect() as conn:
        assert conn.execute(sa.select(web_session.c.ended_at)).scalar_one() == minutes(0) + 34 * hour


def test_sign_out_disable_and_new_password_end_sessions(engine, ana):
    first = accounts.create_session(engine, "ana@example.com", now=minutes(0))
    second = accounts.create_session(engine, "ana@example.com", now=minutes(0))
    assert first != second
    accounts.end_session(engine, first)
    assert accounts.session_account(engine, first, now=minutes(1)) is None
    assert accounts.session_account(engine, second, now=minutes(1)) == ana
    assert accounts.audit_entries(engine, 1)[0].action == "sign_out"
    accounts.set_password(engine, "ana@example.com", "another password")
    assert accounts.session_account(engine, second, now=minutes(2)) is None
    third = accounts.create_session(engine, "ana@example.com", now=minutes(3))
    accounts.disable(engine, "ana@example.com")
    assert accounts.session_account(engine, third, now=minutes(4)) is None
    assert accounts.session_account(engine, "forged", now=minutes(4)) is None
    assert accounts.session_account(engine, None) is None


# -- API tokens ---------------------------------------------------------------------------------


def test_tokens_are_shown_once_stored_hashed_scoped_and_revocable(engine):
    plain = accounts.create_token(engine, "crm", ["Varejo"], now=minutes(0))
    everything = accounts.create_token(engine, "etl", now=minutes(1))
    with engine.connect() as conn:
        stored = {r.name: r.token_hash for r in conn.execute(sa.select(api_token))}
    assert stored == {"crm": hashlib.sha256(plain.encode()).hexdigest(),
                      "etl": hashlib.sha256(everything.encode()).hexdigest()}
    assert accounts.token_scope(engine, plain) == Scope(subaccounts=("Varejo",))
    assert accounts.token_scope(engine, everything) == Scope.ALL
    assert accounts.token_scope(engine, plain + "x") is None
    with pytest.raises(AccountConflict, match="a token named 'crm' exists already"):
        accounts.create_token(engine, "crm")
    accounts.revoke_token(engine, "crm")
    assert accounts.token_scope(engine, plain) is None
    listed = accounts.list_tokens(engine)
    assert [(t.name, t.subaccounts, t.created_at, t.revoked_at is not None) for t in listed] == [
        ("crm", ("Varejo",), minutes(0), True), ("etl", (), minutes(1), False)
    ]
    with engine.connect() as conn:
        details = [json.loads(d) for d in conn.execute(sa.select(audit_log.c.detail).order_by(audit_log.c.logged_at)).scalars()]
    assert details == [{"name": "crm", "subaccounts": ["Varejo"]}, {"name": "etl", "subaccounts": []}, {"name": "crm"}]
    assert all(plain not in json.dumps(d) for d in details)


# -- business numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given, key",
    [("+55 (11) 4000-0000", "551140000000"), ("15550783881", "15550783881"), (" sinchbot ", "sinchbot"),
     ("", None), (None, None)],
)
def test_business_number_key(given, key):
    assert business_number_key(given) == key


def test_business_number_mapping(engine):
    accounts.set_business_number(engine, "+55 11 4000-0000", "Atacado")
    accounts.set_business_number(engine, "sinchbot", "Varejo")
    assert accounts.business_numbers(engine) == {"551140000000": "Atacado", "sinchbot": "Varejo"}
    accounts.set_business_number(engine, "551140000000", None)
    assert accounts.business_numbers(engine) == {"sinchbot": "Varejo"}
    assert [e.detail for e in accounts.audit_entries(engine, 1)] == [{"number": "551140000000", "subaccount": None}]


def test_migration_0008_keeps_saved_searches_private_and_old_mos_admin_only(db_url):
    engine = make_engine(db_url)
    try:
        upgrade(engine, "0006")
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO saved_search (search_id, owner, name, view, params, created_at, updated_at) VALUES "
                "('s-1', 'default', 'Antiga', 'mt', '{}', '2025-01-02 03:04:05+00', '2025-01-02 03:04:05+00')"
            ))
            conn.execute(sa.text(
                "INSERT INTO mo_message (message_id, received_at, content_type, source) "
                "VALUES ('old-mo', '2025-01-02 04:00:00+00', 'text', 'meta')"
            ))
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(sa.select(saved_search.c.name, saved_search.c.shared)).one() == ("Antiga", False)
            assert conn.execute(sa.select(mo_message.c.message_id, mo_message.c.business_number)).one() == (
                "old-mo", None)
        assert accounts.any_account(engine) is False
    finally:
        engine.dispose()


# -- review fixes -------------------------------------------------------------------------------


def test_a_totp_code_is_accepted_once(engine, ana):
    """A code seen over a shoulder or in a log cannot be used again in its window, nor an older one."""
    secret = accounts.set_totp(engine, "ana@example.com", True)
    totp = pyotp.TOTP(secret)
    now = minutes(0)
    code = totp.at(now)
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "10.0.0.1", code, now=now).ok
    again = accounts.sign_in(engine, "ana@example.com", PASSWORD, "10.0.0.1", code, now=now + timedelta(seconds=20))
    assert again == SignInResult(ok=False, reason="failed")
    with engine.connect() as conn:
        assert conn.execute(sa.select(account.c.totp_last_step)).scalar_one() == int(now.timestamp()) // 30
    later = now + timedelta(seconds=30)
    older = totp.at(now - timedelta(seconds=30))  # still inside the window of one step each side
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "10.0.0.1", older, now=later).reason == "failed"
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "10.0.0.1", totp.at(later), now=later).ok
    assert [a[2] for a in attempts(engine)] == [True, False, False, True]
    # A new secret starts afresh.
    fresh = accounts.set_totp(engine, "ana@example.com", True)
    with engine.connect() as conn:
        assert conn.execute(sa.select(account.c.totp_last_step)).scalar_one() is None
    assert accounts.sign_in(engine, "ana@example.com", PASSWORD, "10.0.0.1", pyotp.TOTP(fresh).at(now), now=now).ok


def test_an_overlong_email_is_one_generic_failure_audited_truncated(engine, ana):
    """A megabyte typed in the email field, even while locked, stores no more than an email's length."""
    huge = "=HYPERLINK(" + "x" * 1_000_000 + "@example.com"
    for n in range(7):  # five failures, then locked
        result = accounts.sign_in(engine, huge, PASSWORD, "10.0.0.1", now=minutes(n))
        assert result.reason == ("failed" if n < 5 else "locked")
    stored = huge.lower()[:254]
    assert len(stored) == accounts.MAX_EMAIL_LENGTH == 254
    assert attempts(engine) == [(stored, "10.0.0.1", False)] * 5
    with engine.connect() as conn:
        rows = conn.execute(sa.select(audit_log.c.actor, audit_log.c.action, audit_log.c.detail)
                            .where(audit_log.c.action.like("sign_in%")).order_by(audit_log.c.logged_at)).all()
    assert [(r.actor, r.action, json.loads(r.detail)) for r in rows] == (
        [(stored, "sign_in.failed", {"email": stored, "method": "password", "reason": "failed"})] * 5
        + [(stored, "sign_in.locked", {"email": stored})] * 2)
    # An account whose email is the first 254 characters is not reached by the longer text.
    long_ok = "a" * 240 + "@example.com"
    accounts.add_account(engine, long_ok, "analyst", password=PASSWORD)
    assert accounts.sign_in(engine, long_ok, PASSWORD, "10.0.0.2", now=minutes(30)).ok
    assert accounts.sign_in(engine, long_ok + "x" * 10, PASSWORD, "10.0.0.3", now=minutes(31)).reason == "failed"


def test_parallel_requests_after_a_minute_idle_all_get_the_account(engine, ana):
    """Several requests with one cookie touch the session at once: DuckDB lets one write win and
    refuses the others; the refusal must not fail those requests."""
    token = accounts.create_session(engine, "ana@example.com", now=minutes(0))
    threads, rounds = 4, 12
    for n in range(1, rounds + 1):
        now = minutes(0) + timedelta(minutes=2 * n)
        barrier = threading.Barrier(threads)

        def request(now=now, barrier=barrier):
            barrier.wait()
            return accounts.session_account(engine, token, now=now)

        with ThreadPoolExecutor(threads) as pool:
            answers = [f.result() for f in [pool.submit(request) for _ in range(threads)]]
        assert answers == [ana] * threads, n
        with engine.connect() as conn:
            assert conn.execute(sa.select(web_session.c.last_seen_at)).scalar_one() == now


@pytest.mark.parametrize("claims, email", [
    ({"email": "Ana@Example.com"}, "ana@example.com"),  # a provider that does not send the claim
    ({"email": "ana@example.com", "email_verified": True}, "ana@example.com"),
    ({"email": "ana@example.com", "email_verified": "true"}, "ana@example.com"),
    ({"email": "ana@example.com", "email_verified": False}, ""),
    ({"email": "ana@example.com", "email_verified": "false"}, ""),
    ({"email": "ana@example.com", "email_verified": None}, ""),
    ({}, ""),
])
def test_single_sign_on_needs_a_verified_email(claims, email):
    assert accounts.verified_sso_email(claims) == email


def test_an_unverified_identity_is_refused_like_an_unknown_one(engine, ana):
    result = accounts.sign_in_sso(engine, "ana@example.com", "10.0.0.1", now=minutes(0), verified=False)
    assert result == SignInResult(ok=False, reason="failed")
    assert attempts(engine) == [("ana@example.com", "10.0.0.1", False)]
