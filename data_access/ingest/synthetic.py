"""Seeded, realistic WhatsApp traffic for tests and benchmarks: send logs plus Meta webhooks.

`generate(n_messages, seed)` makes campaigns of template sends to Brazilian numbers with the usual
status mix (sent, delivered, read, read without delivered, failures with Meta's common error codes,
an undocumented code now and then), conversation and pricing objects on some statuses, and MOs:
quick-reply clicks and interactive replies (with `context.id`), free-text replies to be attributed
by the 24 h window, captions, locations, texts with accents and emoji. The same seed always gives
the same traffic.

`webhook_lines(traffic, seed)` turns it into JSON Lines as they would arrive: shuffled, some
webhooks carrying several items, some delivered twice. `write_jsonl` writes lines to a file.
"""
import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

WABA_ID = "102290129340398"
BUSINESS_NUMBER = "5511940028922"
PHONE_NUMBER_ID = "106540352242922"
START = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)

CAMPAIGNS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    # (campaign, template, body, quick-reply buttons)
    ("Black Friday 2025", "promo_black_friday", "Olá! Ofertas de até 70% só hoje 🛍️",
     ("Quero ver", "Não tenho interesse")),
    ("Cobrança junho", "lembrete_pagamento", "Sua fatura vence amanhã. Já pagou? 💳", ("Já paguei", "Segunda via")),
    ("Pesquisa NPS", "pesquisa_satisfacao", "De 0 a 10, quanto você nos recomendaria? ⭐",
     ("Responder", "Agora não")),
    ("Confirmação de consulta", "confirmar_agendamento", "Confirma sua consulta às 14h de amanhã? 🩺",
     ("Confirmar", "Remarcar")),
)
SUBACCOUNTS = ("Varejo SP", "Financeiro", "Atendimento")
USERS = ("ana.souza", "joão.pereira", "marcia.lima", "api-integração")
FREE_TEXTS = (
    "Oi, tudo bem? Quero saber mais 😊",
    "Qual o horário de atendimento?",
    "Não reconheço essa cobrança!",
    "Obrigado 🙏",
    "Pode me ligar depois das 18h?",
    "Ação válida até quando? Ñ entendi",
)
FAILURE_CODES: tuple[tuple[int, str], ...] = (
    (131047, "Re-engagement message"),
    (131049, "This message was not delivered to maintain healthy ecosystem engagement."),
    (131026, "Message undeliverable"),
    (132012, "Parameter format does not match format in the created template"),
    (130472, "User's number is part of an experiment"),
    (131050, "User has stopped marketing messages"),
    (135000, "Generic user error"),  # not in the documented table: stays undelivered, code kept
)
ORIGINS = ("marketing", "utility", "authentication", "service", "referral_conversion")


@dataclass(frozen=True)
class Traffic:
    """One scenario: the platform's send logs and the webhook items Meta would post about them."""

    send_logs: tuple[dict[str, Any], ...]
    items: tuple[dict[str, Any], ...]  # {"statuses": [...]} or {"messages": [...], "contacts": [...]}


def _wamid(rng: random.Random) -> str:
    return "wamid.HBgM" + "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=40)) + "AA=="


def _epoch(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def generate(n_messages: int, seed: int = 0, start: datetime = START) -> Traffic:
    """`n_messages` MTs, one every few seconds, their statuses, and the MOs that answer some of them."""
    rng = random.Random(seed)
    # Fewer customers than messages, so some get several MTs and the window has to choose.
    customers = [
        f"55{rng.choice((11, 21, 31, 41, 51, 61, 71, 81))}9{rng.randrange(10**7, 10**8)}"
        for _ in range(max(1, n_messages * 2 // 3))
    ]
    send_logs: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for n in range(n_messages):
        campaign, template, body, buttons = rng.choice(CAMPAIGNS)
        message_id = _wamid(rng)
        wa_id = rng.choice(customers)
        sent_at = start + timedelta(seconds=n * 7 + rng.randrange(7))
        send_logs.append(
            {
                "message_id": message_id,
                "sent_at": sent_at.isoformat(),
                "phone": "+" + wa_id,
                "wa_user_id": wa_id,
                "subaccount": rng.choice(SUBACCOUNTS),
                "user": rng.choice(USERS),
                "campaign": campaign,
                "content_type": "template",
                "template_name": template,
                "message": body,
                "sent_with_session": rng.random() < 0.1,
                "correlation_id": f"pedido-{seed}-{n}",
            }
        )
        items.extend(_statuses(rng, message_id, wa_id, sent_at))
        if rng.random() < 0.2:
            items.append(_reply(rng, message_id, wa_id, sent_at, buttons))
    return Traffic(tuple(send_logs), tuple(items))


def _status(message_id: str, wa_id: str, status: str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {"statuses": [{"id": message_id, "status": status, "timestamp": _epoch(at), "recipient_id": wa_id, **extra}]}


def _statuses(rng: random.Random, message_id: str, wa_id: str, sent_at: datetime) -> list[dict[str, Any]]:
    at = sent_at + timedelta(seconds=rng.randrange(1, 5))
    billing: dict[str, Any] = {}
    if rng.random() < 0.3:
        origin = rng.choice(ORIGINS)
        billing = {
            "conversation": {
                "id": f"{rng.getrandbits(128):032x}",
                "expiration_timestamp": _epoch(at + timedelta(hours=24)),
                "origin": {"type": origin},
            },
            "pricing": {"billable": True, "pricing_model": "PMP", "type": "regular", "category": origin},
        }
    events = [_status(message_id, wa_id, "sent", at, **billing)]
    if rng.random() < 0.08:
        code, title = rng.choice(FAILURE_CODES)
        error = {"code": code, "title": title, "message": title, "error_data": {"details": f"{title} ({code})"}}
        events.append(_status(message_id, wa_id, "failed", at + timedelta(seconds=2), errors=[error]))
        return events
    if rng.random() < 0.9:
        delivered_at = at + timedelta(seconds=rng.randrange(1, 600))
        if rng.random() > 0.05:  # a read while the chat is open comes without a delivered
            events.append(_status(message_id, wa_id, "delivered", delivered_at, **billing))
        if rng.random() < 0.55:
            events.append(_status(message_id, wa_id, "read", delivered_at + timedelta(minutes=rng.randrange(1, 600))))
    return events


def _reply(rng: random.Random, mt_id: str, wa_id: str, sent_at: datetime, buttons: Sequence[str]) -> dict[str, Any]:
    at = sent_at + timedelta(minutes=rng.randrange(1, 23 * 60))
    message: dict[str, Any] = {"from": wa_id, "id": _wamid(rng), "timestamp": _epoch(at)}
    kind = rng.random()
    if kind < 0.45:
        button = rng.choice(buttons)
        message.update(
            type="button",
            context={"from": BUSINESS_NUMBER, "id": mt_id},
            button={"payload": button.upper().replace(" ", "_"), "text": button},
        )
    elif kind < 0.55:
        button = rng.choice(buttons)
        message.update(
            type="interactive",
            context={"from": BUSINESS_NUMBER, "id": mt_id},
            interactive={
                "type": "button_reply",
                "button_reply": {"id": f"btn-{buttons.index(button)}", "title": button},
            },
        )
    elif kind < 0.9:
        message.update(type="text", text={"body": rng.choice(FREE_TEXTS)})
    elif kind < 0.95:
        message.update(
            type="image", image={"caption": "Segue o comprovante 📎", "mime_type": "image/jpeg", "id": "1"}
        )
    else:
        message.update(
            type="location",
            location={
                "latitude": -23.5613, "longitude": -46.6565, "name": "Loja Paulista", "address": "Av. Paulista, 1000"
            },
        )
    return {"messages": [message], "contacts": [{"profile": {"name": "Cliente Ñandú 😀"}, "wa_id": wa_id}]}


def meta_webhook(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One Meta webhook body carrying the given status / message items (one change per item)."""
    changes = [
        {
            "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": BUSINESS_NUMBER, "phone_number_id": PHONE_NUMBER_ID},
                **item,
            },
            "field": "messages",
        }
        for item in items
    ]
    return {"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": changes}]}


def webhook_lines(
    traffic: Traffic,
    seed: int = 0,
    *,
    with_send_logs: bool = True,
    duplicate_share: float = 0.05,
    grouped_share: float = 0.1,
) -> list[str]:
    """JSON Lines in arrival order: shuffled, `grouped_share` of webhooks carrying two items,
    `duplicate_share` of lines delivered a second time, send logs mixed in when asked."""
    rng = random.Random(seed)
    items = list(traffic.items)
    rng.shuffle(items)
    lines: list[str] = []
    i = 0
    while i < len(items):
        size = 2 if rng.random() < grouped_share else 1
        lines.append(json.dumps(meta_webhook(items[i : i + size]), ensure_ascii=False))
        i += size
    if with_send_logs:
        lines.extend(json.dumps(log, ensure_ascii=False) for log in traffic.send_logs)
        rng.shuffle(lines)
    for line in rng.sample(lines, int(len(lines) * duplicate_share)):
        lines.insert(rng.randrange(len(lines) + 1), line)
    return lines


def write_jsonl(path: str | Path, lines: Iterable[str]) -> int:
    """Writes lines to a UTF-8 file; returns how many."""
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for line in lines:
            out.write(line + "\n")
            count += 1
    return count
