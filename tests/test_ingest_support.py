"""Shared by the ingest tests: the public provider payloads, verbatim, and small helpers.

`PUBLIC` holds the files of the shared `fixtures/public/` folder byte for byte (see its SOURCES.md
for where each was published), so the tests run on a clean clone; `PUBLIC_SHA256` are the files'
own hashes, checked by `test_ingest_fixtures.py`, so a copy can never drift from the original.
"""
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from data_access.ingest import IngestSummary, ingest_paths
from data_access.schema import mo_message, mt_event, mt_message, mt_send_log, raw_payload, rejected_record

PUBLIC: dict[str, str] = {
    'meta_button_quick_reply.json': '''{
  "object": "whatsapp_business_account",
  "entry": [
    {
      "id": "102290129340398",
      "changes": [
        {
          "value": {
            "messaging_product": "whatsapp",
            "metadata": {
              "display_phone_number": "15550783881",
              "phone_number_id": "106540352242922"
            },
            "contacts": [
              {
                "profile": {
                  "name": "Sheena Nelson"
                },
                "wa_id": "16505551234"
              }
            ],
            "messages": [
              {
                "context": {
                  "from": "15550783881",
                  "id": "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA="
                },
                "from": "16505551234",
                "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
                "timestamp": "1750091045",
                "type": "button",
                "button": {
                  "payload": "Unsubscribe",
                  "text": "Unsubscribe"
                }
              }
            ]
          },
          "field": "messages"
        }
      ]
    }
  ]
}
''',
    'meta_interactive_button_reply.VERBATIM.txt': '''{
  "object": "whatsapp_business_account",
  "entry": [
    {
      "id": "WHATSAPP_BUSINESS_ACCOUNT_ID",
      "changes": [
        {
          "value": {
              "messaging_product": "whatsapp",
              "metadata": {
                   "display_phone_number": "PHONE_NUMBER",
                   "phone_number_id": PHONE_NUMBER_ID,
              },
              "contacts": [
                {
                  "profile": {
                    "name": "NAME"
                  },
                  "wa_id": "PHONE_NUMBER_ID"
                }
              ],
              "messages": [
                {
                  "from": PHONE_NUMBER_ID,
                  "id": "wamid.ID",
                  "timestamp": TIMESTAMP,
                  "interactive": {
                    "button_reply": {
                      "id": "unique-button-identifier-here",
                      "title": "button-text",
                    },
                    "type": "button_reply"
                  },
                  "type": "interactive"
                }
              ]
          },
          "field": "messages"
        }
      ]
    }
  ]
}
''',
    'meta_status_failed_131049.json': '''{
  "object": "whatsapp_business_account",
  "entry": [
    {
      "id": "102290129340398",
      "changes": [
        {
          "value": {
            "messaging_product": "whatsapp",
            "metadata": {
              "display_phone_number": "15550783881",
              "phone_number_id": "106540352242922"
            },
            "statuses": [
              {
                "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI0QUQ2MjA4NEYyRkExNjMyREUA",
                "status": "failed",
                "timestamp": "1751142888",
                "recipient_id": "16505551234",
                "errors": [
                  {
                    "code": 131049,
                    "title": "This message was not delivered to maintain healthy ecosystem engagement.",
                    "message": "This message was not delivered to maintain healthy ecosystem engagement.",
                    "error_data": {
                      "details": "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."
                    },
                    "href": "/documentation/business-messaging/whatsapp/support/error-codes"
                  }
                ]
              }
            ]
          },
          "field": "messages"
        }
      ]
    }
  ]
}
''',
    'meta_status_sent_marketing.json': '''{
  "object": "whatsapp_business_account",
  "entry": [
    {
      "id": "102290129340398",
      "changes": [
        {
          "value": {
            "messaging_product": "whatsapp",
            "metadata": {
              "display_phone_number": "15550783881",
              "phone_number_id": "106540352242922"
            },
            "statuses": [
              {
                "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
                "status": "sent",
                "timestamp": "1750030073",
                "recipient_id": "16505551234",
                "conversation": {
                  "id": "72b14d6bd5407799e66f64d1b338e567",
                  "expiration_timestamp": "1750116480",
                  "origin": {
                    "type": "marketing"
                  }
                },
                "pricing": {
                  "billable": true,
                  "pricing_model": "PMP",
                  "type": "regular",
                  "category": "marketing"
                }
              }
            ]
          },
          "field": "messages"
        }
      ]
    }
  ]
}
''',
    'meta_template_analytics_response.VERBATIM.txt': '''{
  "data": [
    {
      "granularity": "DAILY",
      "product_type": "cloud_api", // Only available to businesses in the Marketing Messages API for WhatsApp alpha
      "data_points": [
        {
          "template_id": "1421988012088524",
          "start": 1718064000,
          "end": 1718150400,
          "sent": 1,
          "delivered": 1,
          "read": 1,
          "cost": [
            {
              "type": "amount_spent",
              "value": 0.01
            },
            {
              "type": "cost_per_delivered",
              "value": 0.01
            }
          ]
        },
        {
          "template_id": "2632273056924580",
          "start": 1718064000,
          "end": 1718150400,
          "sent": 1,
          "delivered": 1,
          "read": 1,
          "clicked": [
            {
              "type": "quick_reply_button",
              "button_content": "Contact Support",
              "count": 108
            },
            {
              "type": "unique_url_button",
              "button_content": "Tell me more",
              "count": 16
            }
          ],
          "cost": [
            {
              "type": "amount_spent",
              "value": 0.03
            },
            {
              "type": "cost_per_delivered",
              "value": 0.03
            },
            {
              "type": "cost_per_url_button_click",
              "value": 0.03
            }
          ]
        }
      ]
    }
  ],
  "paging": {
    "cursors": {
      "before": "MAZDZD",
      "after": "MjQZD"
    }
  }
}
''',
    'sinch_messaging_wa_mo_contacts.json': '''{
 "total": 1,
 "data": [
 {
 "id": "ce425ffe-bc62-421f-9261-e6819a5eab43",
 "source": "5519900000000",
 "origin": "5519900000000",
 "userProfile": {
 "name": "username"
 },
 "campaignId": 100,
 "correlationId": "...",
 "campaignAlias": "...",
 "flowId": "....",
 "extraInfo": "...",
 "message": {
 "contacts":[
 {
 "addresses":[
 {
 "city":"Menlo Park",
 "country":"United States",
 "country_code":"us",
 "state":"CA",
 "street":"1 Hacker Way",
 "type":"HOME",
 "zip":"94025"
 },
 {
 "city":"Menlo Park",
 "country":"United States",
 "country_code":"us",
 "state":"CA",
 "street":"200 Jefferson Dr",
 "type":"WORK",
 "zip":"94025"
 }
 ],
 "birthday":"2012-08-18",
 "emails":[
 {
 "email":"test@fb.com",
 "type":"WORK"
 },
 {
 "email":"test@whatsapp.com",
 "type":"WORK"
 }
 ],
 "name":{
 "first_name":"John",
 "formatted_name":"John Smith",
 "last_name":"Smith"
 },
 "org":{
 "company":"WhatsApp",
 "department":"Design",
 "title":"Manager"
 },
 "phones":[
 {
 "phone":"+1 (940) 555-1234",
 "type":"HOME"
 },
 {
 "phone":"+1 (650) 555-1234",
 "type":"WORK",
 "wa_id":"16505551234"
 }
 ],
 "urls":[
 {
 "url":"https://www.fb.com",
 "type":"WORK"
 }
 ]
 }
 ]
 },
 "receivedAt": 1513616971473,
 "receivedDate": "2017-12-18T17:09:31.473Z"
 }
 ]
}
''',
    'sinch_messaging_wa_mo_image.json': '''{
 "total": 1,
 "data": [
 {
 "id": "ce425ffe-bc62-421f-9261-e6819a5eab43",
 "source": "5519900000000",
 "origin": "5519900000000",
 "userProfile": {
 "name": "username"
 },
 "campaignId": 100,
 "correlationId": "...",
 "campaignAlias": "...",
 "flowId": "....",
 "extraInfo": "...",
 "message": {
 "type": "IMAGE",
 "mediaUrl": "https://...",
 "mimeType": "image/jpg",
 "caption": "..."
 },
 "receivedAt": 1513616971473,
 "receivedDate": "2017-12-18T17:09:31.473Z"
 }
 ]
}
''',
    'sinch_messaging_wa_mo_location.json': '''{
 "total": 1,
 "data": [
 {
 "id": "ce425ffe-bc62-421f-9261-e6819a5eab43",
 "source": "5519900000000",
 "origin": "5519900000000",
 "userProfile": {
 "name": "username"
 },
 "campaignId": 100,
 "correlationId": "...",
 "campaignAlias": "...",
 "flowId": "....",
 "extraInfo": "...",
 "message": {
 "location": {
 "geoPoint": "-22.894180,-47.047960",
 "name": "Wavy",
 "address": "Av. Cel. Silva Telles"
 }
 },
 "receivedAt": 1513616971473,
 "receivedDate": "2017-12-18T17:09:31.473Z"
 }
 ]
}
''',
    'sinch_messaging_wa_mo_text.json': '''{
  "total": 1,
  "data": [
    {
      "id": "ce425ffe-bc62-421f-9261-e6819a5eab43",
      "source": "5519900000000",
      "origin": "5519900000000",
      "userProfile": {
        "name": "nome do usuário"
      },
      "campaignId": 100,
      "correlationId": "...",
      "campaignAlias": "...",
      "flowId": "....",
      "extraInfo": "...",
      "message": {
            "type": "TEXT",
"messageText": "Olá, essa é uma mensagem do usuário."
      },
      "receivedAt": 1513616971473,
      "receivedDate": "2017-12-18T17:09:31.473Z"
    }
  ]
}
''',
    'sinch_messaging_wa_status_callback.json': '''{
  "total": 1,
  "data": [
    {
      "id": "8995c40f-1c3a-48d0-98ee-bbc603622a91",
      "correlationId": "...",
      "destination": "5411900000000",
      "origin": "5411900000000",
      "campaignId": 100,
      "campaignAlias": "...",
      "flowId": "...",
      "extraInfo": "...",
      "sent": true,
      "sentStatusCode": 1,
      "sentStatus": "sent status",
      "sentDate": "2017-12-18T17:09:31.891Z",
      "sentAt": 1513616971891,
      "delivered": true,
      "deliveredStatusCode": 1,
      "deliveredStatus": "delivered status",
      "deliveredDate": "2017-12-18T17:09:31.891Z",
      "deliveredAt": 1513616971891,
      "read": true,
      "readDate": "2017-12-18T17:09:31.891Z",
      "readAt": 1513616971891,
      "updatedDate": "2017-12-18T17:09:31.891Z",
      "updatedAt": 1513616971891,
      "type": "MESSAGE"
    }
  ],
  "clientInfo": {
      "customerId": 42,
      "subAccountId": 1291,
      "userId": 1
  }
}
''',
    'sinch_wa_api_button_reply.json': '''{
  "type":"whatsapp",
  "notifications":[
    {
      "from": "0732001122",
      "message_id": "01DPNXZ0WCF9XD19MH84XD0P62",
      "message": {
        "type": "button",
        "index": "2",
        "text": "Option 3",
        "payload": "some_payload"
      },
      "timestamp": "2020-05-07T10:02:10Z",
      "to": "sinchbot",
      "replying_to": {
        "from": "447537817391",
        "message_id": "01E7Q9AVTRB5A30JD7D9ZN0HTE"
      }
    }
  ]
}
''',
    'sinch_wa_api_dr_delivered.json': '''{
  "type": "whatsapp",
  "statuses":[
    {
      "status":"success",
      "state":"delivered",
      "message_id":"01DPNXZ0WCF9XD19MH84XD0P62",
      "recipient": "+46732001122",
      "timestamp": "2020-05-02T18:40:42Z"
    }
  ]
}
''',
    'sinch_wa_api_dr_sent_with_conversation.json': '''{
  "type": "whatsapp",
  "statuses": [
    {
      "status": "success",
      "state": "sent",
      "message_id": "01DPNXZ0WCF9XD19MH84XD0P62",
      "recipient": "+46732001122",
      "conversation": {
        "conversation_id": "06209994d9d7f3b595f05891dfd66cad",
        "expiration_timestamp": 1642858500,
        "pricing_category": "user_initiated"
      },
      "timestamp": "2022-01-02T18:40:42Z"
    }
  ]
}
''',
    'sinch_wa_api_mo_text.json': '''{
  "type":"whatsapp",
  "contacts":[
    {
      "profile":{
        "name":"John Smith"
      },
      "wa_id":"0732001122"
    }
  ],
  "notifications":[
    {
      "from":"0732001122",
      "to":"sinchbot",
      "message_id":"01DPNXZ0WCF9XD19MH84XD0P62",
      "message":{
        "type":"text",
        "body":"Hello bot I want to know something!"
      },
      "timestamp": "2020-05-02T19:48:42Z"
    }
  ]
}
''',
}

PUBLIC_SHA256: dict[str, str] = {
    'meta_button_quick_reply.json': '682d958b4fb8a2f22c47e8e904699384193820345953e2873dc5dbb6ca87026d',
    'meta_interactive_button_reply.VERBATIM.txt': '4dc3930cc853d0b4b1f96f6c3161667804d49e56b18e66c46dd60c76350d3c77',
    'meta_status_failed_131049.json': 'e5da0005c6a52f7cb05ac5ca33991096e90ae03cb4d6cf22bb5a377683f52c83',
    'meta_status_sent_marketing.json': '4d7bdcea6d7321c8a5ad6ba55a2ea14beee27c3b21f55cabdfb23697df8c52ba',
    'meta_template_analytics_response.VERBATIM.txt': '145b403205d8d93eb1ac52e6adfa06c05ae125caac837f8f06bd69fca952692e',
    'sinch_messaging_wa_mo_contacts.json': '8a8fcb9340b32e5a254a30f8bedfe2cc706655bab7b075ebc11015e9038ffc58',
    'sinch_messaging_wa_mo_image.json': 'cfc0b013f4940a2d117d7e4a0a18ab1dfb957347f403d236e94a8350bd8b98c1',
    'sinch_messaging_wa_mo_location.json': '0f5dcbb9e2533bb58305ac1f92cc67410267f658da3058ab5cb4ddb7dffa4270',
    'sinch_messaging_wa_mo_text.json': '05f40a699595e8a8e7340b82849272377a1efb1d6b0347ea092d48a1ce419872',
    'sinch_messaging_wa_status_callback.json': '0c1665d403bb253b41502faf1288ec1fb103f09d827399e651b67d1ca1250b72',
    'sinch_wa_api_button_reply.json': '41c4c78e39d4fdb1cd29be77c27fc220eeadf09a65db68eecb4876108cb011d2',
    'sinch_wa_api_dr_delivered.json': '613748772cfd52d47fbc883a77469bd4c0846d72c4b16ca6bb6975ca1ea1393c',
    'sinch_wa_api_dr_sent_with_conversation.json': '11d7ad2afded7150ada198fce9e5073644e48bbe42c8c538d792666d83259877',
    'sinch_wa_api_mo_text.json': '5964cba86f1a935b319507611c55e65206dc280b60f736a7f369882513d9126e',
}

MT_NONE: dict[str, Any] = {c.name: None for c in mt_message.columns} | {"replied": False, "clicks": 0}
MO_NONE: dict[str, Any] = {c.name: None for c in mo_message.columns if c.name != "record_id"}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def write_lines(path: Path, *records: str | dict) -> Path:
    """A JSON Lines file: dicts are dumped, strings written as they are."""
    text = "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records)
    path.write_text(text, encoding="utf-8")
    return path


def load(engine: Engine, *paths: Path, **options: Any) -> IngestSummary:
    return ingest_paths(engine, list(paths), stderr=io.StringIO(), **options)


def load_records(engine: Engine, folder: Path, *records: str | dict, **options: Any) -> IngestSummary:
    """Writes the records to a new JSON Lines file in `folder` and loads it."""
    number = len(list(folder.glob("input-*.jsonl")))
    return load(engine, write_lines(folder / f"input-{number}.jsonl", *records), **options)


def table_rows(engine: Engine, table: sa.Table) -> list[dict[str, Any]]:
    key = list(table.primary_key.columns)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(sa.select(table).order_by(*key)).mappings()]


def unanswered_flags(engine: Engine) -> list[tuple[str, bool]]:
    """MTs whose `replied` flag disagrees with the MOs' in_reply_to (computed here, in Python)."""
    answered = {row["in_reply_to"] for row in table_rows(engine, mo_message)}
    return [(row["message_id"], row["replied"]) for row in table_rows(engine, mt_message)
            if row["replied"] != (row["message_id"] in answered)]


def mt_row(engine: Engine, message_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(mt_message).where(mt_message.c.message_id == message_id)).mappings().first()
    return None if row is None else dict(row)


def mo_row(engine: Engine, message_id: str) -> dict[str, Any] | None:
    """The MO row; its record_id (a hash of the record) is checked for shape and left out."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(mo_message).where(mo_message.c.message_id == message_id)).mappings().first()
    if row is None:
        return None
    row = dict(row)
    record_id = row.pop("record_id")
    assert len(record_id) == 64 and int(record_id, 16) >= 0
    return row


def rejects(engine: Engine) -> list[tuple[str, int | None, str]]:
    """(file name, line, reason) of every rejected record."""
    with engine.connect() as conn:
        result = conn.execute(
            sa.select(rejected_record.c.file, rejected_record.c.line, rejected_record.c.reason).order_by(
                rejected_record.c.file, rejected_record.c.line, rejected_record.c.reason
            )
        )
        return [(Path(file).name, line, reason) for file, line, reason in result]


def payload_bodies(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(raw_payload.c.payload_id, raw_payload.c.body))]


def clear(engine: Engine) -> None:
    """Empties what ingest writes, so one test can compare several loading orders."""
    with engine.begin() as conn:
        for table in (mt_message, mo_message, mt_event, mt_send_log, raw_payload, rejected_record):
            conn.execute(sa.delete(table))


def rows_by_order(engine: Engine, folder: Path, orders: list[list[dict]], read) -> list[Any]:
    """For each order of payloads: load them one file at a time into emptied tables, then `read`."""
    outcomes = []
    for order in orders:
        clear(engine)
        for payload in order:
            load_records(engine, folder, payload)
        outcomes.append(read())
    return outcomes


# -- payload builders ---------------------------------------------------------------------------

PHONE, WA_ID = "+5511987654321", "5511987654321"
T0 = 1_750_000_000  # 2025-06-15 15:06:40 UTC


def at(seconds: int = 0) -> datetime:
    """T0 plus some seconds, as the database gives it back."""
    return utc(2025, 6, 15, 15, 6, 40) + timedelta(seconds=seconds)


def meta_webhook(**value: Any) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp", **value}}],
            }
        ],
    }


def meta_status(message_id: str, status: str, seconds: int, recipient: str = WA_ID, **extra: Any) -> dict:
    item = {"id": message_id, "status": status, "timestamp": str(T0 + seconds), "recipient_id": recipient, **extra}
    return meta_webhook(statuses=[item])


def meta_failed(message_id: str, seconds: int, code: int, title: str = "Failure", details: str = "Details") -> dict:
    error = {"code": code, "title": title, "message": title, "error_data": {"details": details}}
    return meta_status(message_id, "failed", seconds, errors=[error])


def meta_text(message_id: str, seconds: int, body: str, sender: str = WA_ID, context_id: str | None = None) -> dict:
    item = {"from": sender, "id": message_id, "timestamp": str(T0 + seconds), "type": "text", "text": {"body": body}}
    if context_id:
        item["context"] = {"from": "15550783881", "id": context_id}
    return meta_webhook(contacts=[{"profile": {"name": "Cliente"}, "wa_id": sender}], messages=[item])


def send_log(message_id: str, seconds: int, phone: str = PHONE, **extra: Any) -> dict:
    sent_at = datetime.fromtimestamp(T0 + seconds, timezone.utc).isoformat()
    return {"message_id": message_id, "sent_at": sent_at, "phone": phone, **extra}
