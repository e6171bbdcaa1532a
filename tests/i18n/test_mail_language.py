"""E-mails go out in their recipient's language, whoever or whatever sends them (12.2)."""

from __future__ import annotations

from app import clock
from app.extensions import db
from app.notifications import messages
from app.notifications.models import Outbox
from tests.helpers import gen_project, gen_user


def queue(user, project, kind: str, amount: int) -> Outbox:
    row = Outbox(
        key=f"{kind}:{user.id}",
        kind=kind,
        user_id=user.id,
        to_address=user.email,
        to_name=user.display_name,
        project_id=project.id,
        amount=amount,
        currency=project.currency,
    )
    db.session.add(row)
    db.session.commit()
    return row


def written(rows) -> dict[str, tuple[str, str]]:
    out = {}
    for _id, message in messages.compose(rows, clock.now()):
        assert not isinstance(message, Exception), message
        out[message["To"].addresses[0].addr_spec] = (
            message["Subject"],
            " ".join(message.get_body(("plain",)).get_content().split()),
        )
    return out


def test_each_recipient_reads_their_own_language(app):
    creator = gen_user("cora@example.com", "Cora")
    project = gen_project(creator, "live", title="Copperleaf", currency="CNY")
    chinese = gen_user("li@example.com", "Li")
    chinese.locale = "zh_Hans_CN"
    english = gen_user("bea@example.com", "Bea")
    english.locale = "en"
    unsaid = gen_user("sam@example.com", "Sam")  # never chose: English
    rows = [
        queue(user, project, "refund_planned_backer", 123_450)
        for user in (chinese, english, unsaid)
    ]

    # Whatever the language of the request that happens to send them.
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        mail = written(rows)

    subject, body = mail["li@example.com"]
    assert subject == "您在“Copperleaf”的 ¥1,234.50 退款正在处理"
    assert body.startswith("Li，您好： ")
    assert "正在全额退回到您付款时使用的卡上" in body
    assert "Backstage 众筹：全有或全无" in body
    for address in ("bea@example.com", "sam@example.com"):
        subject, body = mail[address]
        assert subject == "Your refund of CN¥1,234.50 for Copperleaf is on its way"
        assert "is being refunded in full to the card" in body


def test_a_backers_count_in_a_mail_says_one_and_many(app):
    creator = gen_user("cora@example.com", "Cora")
    project = gen_project(creator, "live", title="Copperleaf")
    project.backer_count = 1
    db.session.commit()
    row = queue(creator, project, "project_funded_creator", 150_000)
    (subject, body) = written([row])["cora@example.com"]
    assert "1 backer pledged $1,500.00 in all." in body
    project.backer_count = 2
    db.session.commit()
    (subject, body) = written([row])["cora@example.com"]
    assert "2 backers pledged $1,500.00 in all." in body
    creator.locale = "zh_Hans_CN"
    db.session.commit()
    (subject, body) = written([row])["cora@example.com"]
    assert subject == "“Copperleaf”众筹成功：共筹得 US$1,500.00"
    assert "2 位支持者共支持了 US$1,500.00。" in body
