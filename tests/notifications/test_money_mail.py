"""Mail for every money moment, through the real pages and the fake Stripe (issue 13.8): the
receipt, change and cancel confirmations with the refund's state, a failed payment."""

from __future__ import annotations

from datetime import timedelta

from app import clock as app_clock
from app.extensions import db
from app.notifications.models import Outbox
from tests.helpers import set_shipping
from tests.helpers.notifications import assert_multipart, deliver, mail_to, words_of
from tests.helpers.pledging import latest_pledge, open_payment_of, pay_through_pages, start

BEA = "bea@example.com"


def change(browser, pledge, tier, amount):
    return browser.submit(
        f"/pledges/{pledge.id}/change", {"tier_id": str(tier.id), "amount": amount}
    )


def only(messages, subject_part: str):
    (message,) = [m for m in messages if subject_part in m["Subject"]]
    return message


def test_a_pledge_sends_a_receipt_with_reward_shipping_deadline_and_the_way_to_change_it(
    app, backer, project, stripe_fake, file_backend, mail_file
):
    set_shipping(project.tiers[0], {"world": 500})
    project.deadline = project.deadline.replace(hour=18, minute=0, second=0, microsecond=0)
    db.session.commit()
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25", country="FR")
    deliver(file_backend)

    (receipt,) = mail_to(mail_file, BEA)
    assert receipt["Subject"] == "Your pledge of $30.00 to Moon Lamp is confirmed"
    text, html = assert_multipart(receipt)
    words = words_of(receipt)
    assert "We charged $30.00 to your card and hold it in escrow until the project's deadline" in (
        words
    )
    deadline = project.deadline.strftime("%a %-d %b %Y, 18:00 UTC")
    for part in (text, html):
        assert "Tier 1" in part  # the reward
        assert "$25.00" in part and "$5.00 to France" in part and "$30.00" in part
        assert deadline in part
        assert f"http://127.0.0.1:5000/pledges/{pledge.id}" in part  # change or cancel there
    assert "Change or cancel your pledge" in html
    assert "List-Unsubscribe" not in receipt  # a receipt cannot be turned off


def test_a_chinese_backer_gets_the_receipt_in_chinese(
    app, backer, project, stripe_fake, file_backend, mail_file
):
    backer.submit("/", {"locale": "zh_Hans_CN"}, action="/language")
    pay_through_pages(backer, stripe_fake, project, amount="25")
    deliver(file_backend)
    (receipt,) = mail_to(mail_file, BEA)
    assert receipt["Subject"] == "您对“Moon Lamp”的 US$25.00 支持已确认"
    text, html = assert_multipart(receipt)
    assert text.startswith("Bea，您好：")
    assert "感谢您支持“Moon Lamp”" in text and "托管至项目截止时间" in text
    assert "修改或取消您的支持" in html and '<html lang="zh-Hans-CN">' in html
    assert "年" in text  # the deadline as Chinese writes a date


def test_raising_then_reducing_a_pledge_confirms_each_with_what_moved(
    app, backer, project, stripe_fake, file_backend, mail_file
):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    change(backer, pledge, project.tiers[1], "40")
    extra = open_payment_of(pledge.id)
    stripe_fake.pay(extra.stripe_payment_intent_id)
    backer.client.get(f"/pledges/{pledge.id}/complete")
    assert change(backer, pledge, project.tiers[1], "30").status_code == 302
    deliver(file_backend)

    mail = mail_to(mail_file, BEA)
    raised = only(mail, "now $40.00")
    assert raised["Subject"] == "Your pledge to Moon Lamp is changed: now $40.00"
    _text, html = assert_multipart(raised)
    assert 'Your pledge to "Moon Lamp" is now $40.00 (it was $25.00).' in words_of(raised)
    assert "We charged the difference, $15.00, to your card." in words_of(raised)
    assert "Tier 2" in html and "$15.00" in html

    reduced = only(mail, "now $30.00")
    _text, html = assert_multipart(reduced)
    assert "(it was $40.00)" in words_of(reduced)
    assert "We refunded the difference, $10.00, to the card you paid with." in words_of(reduced)
    assert "We refunded the difference, $10.00" in html


def test_a_reduction_whose_refund_stripe_refuses_says_our_team_is_on_it(
    app, backer, project, stripe_fake, file_backend, mail_file
):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="50")
    stripe_fake.fault("/v1/refunds", status=400)
    change(backer, pledge, project.tiers[0], "30")
    deliver(file_backend)
    reduced = only(mail_to(mail_file, BEA), "now $30.00")
    words = words_of(reduced)
    assert "refused the refund of the difference, $20.00" in words
    assert "held safely for you" in words and "Our team has been told" in words
    assert "We refunded" not in words


def test_cancelling_confirms_it_with_the_refund_made(
    app, backer, project, stripe_fake, file_backend, mail_file
):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    backer.submit(f"/pledges/{pledge.id}/cancel")
    deliver(file_backend)
    cancelled = only(mail_to(mail_file, BEA), "is cancelled")
    assert cancelled["Subject"] == "Your pledge to Moon Lamp is cancelled"
    _text, html = assert_multipart(cancelled)
    words = words_of(cancelled)
    assert 'You cancelled your pledge of $25.00 to "Moon Lamp"' in words
    assert "We refunded $25.00 in full to the card you paid with." in words
    assert "We refunded $25.00 in full" in html


def test_a_cancel_whose_refund_is_refused_says_the_money_is_safe(
    app, backer, project, stripe_fake, file_backend, mail_file
):
    pledge, _ = pay_through_pages(backer, stripe_fake, project, amount="25")
    stripe_fake.fault("/v1/refunds", status=400)
    backer.submit(f"/pledges/{pledge.id}/cancel")
    deliver(file_backend)
    words = words_of(only(mail_to(mail_file, BEA), "is cancelled"))
    assert "refused the refund of $25.00, so the money is still held safely for you" in words
    assert "We refunded" not in words


def test_a_declined_card_is_mailed_once_with_a_link_to_try_again(
    app, backer, project, stripe_fake, file_backend, mail_file
):
    start(backer, project, amount="25")
    pledge = latest_pledge()
    payment = open_payment_of(pledge.id)
    for _ in range(2):  # declined twice: one mail
        stripe_fake.pay(payment.stripe_payment_intent_id, "pm_card_chargeDeclined")
        backer.client.get(f"/pledges/{pledge.id}/complete")
    deliver(file_backend)
    (declined,) = mail_to(mail_file, BEA)
    assert declined["Subject"] == "Your payment for Moon Lamp did not go through"
    text, html = assert_multipart(declined)
    assert 'Your card was declined for the payment of $25.00 to "Moon Lamp"' in words_of(declined)
    assert "you can try again with another card" in words_of(declined)
    pay_url = f"http://127.0.0.1:5000/pledges/{pledge.id}/pay"
    assert f"Try again: {pay_url}" in text and f'href="{pay_url}"' in html


def test_a_pledge_left_unpaid_is_mailed_when_it_expires(
    app, backer, project, stripe_fake, runner, file_backend, mail_file
):
    start(backer, project, amount="25")
    payment = open_payment_of(latest_pledge().id)
    payment.expires_at = app_clock.now() - timedelta(seconds=1)
    db.session.commit()
    assert "1 expired payment(s) closed" in runner.invoke(args=["pledges", "sweep"]).output
    deliver(file_backend)
    (expired,) = mail_to(mail_file, BEA)
    assert expired["Subject"] == "Your payment for Moon Lamp was not completed"
    text, _html = assert_multipart(expired)
    assert "so the pledge was not made and nothing was charged" in words_of(expired)
    assert f"http://127.0.0.1:5000/projects/{project.id}/back" in text


def test_a_chinese_project_title_never_breaks_the_subject_header(
    app, creator, backer, stripe_fake, file_backend, mail_file
):
    from tests.helpers import gen_project

    title = "月光灯：一盏会随着月相变化而改变亮度的桌面台灯，手工打造，限量发行"
    project = gen_project(creator, "live", title=title, currency="CNY")
    backer.submit("/", {"locale": "zh_Hans_CN"}, action="/language")
    pay_through_pages(backer, stripe_fake, project, amount="25")
    deliver(file_backend)
    raw = mail_file.read_bytes()
    headers = raw.split(b"\n\n", 1)[0].split(b"\n")[1:]  # after the mbox "From " line
    assert all(line.strip() for line in headers)  # no empty or blank folded line
    subject_at = next(i for i, line in enumerate(headers) if line.startswith(b"Subject:"))
    assert headers[subject_at].strip() != b"Subject:"  # the value starts on its own line
    assert all(len(line) <= 78 for line in headers)
    assert all(line.isascii() for line in headers)  # RFC 2047 encoded words
    (receipt,) = mail_to(mail_file, BEA)
    assert receipt["Subject"] == f"您对“{title}”的 ¥25.00 支持已确认"


def test_nothing_is_mailed_for_a_pledge_that_never_started(app, backer, project, stripe_fake):
    start(backer, project, amount="1")  # below the tier's minimum: refused on the form
    assert db.session.query(Outbox).count() == 0
