"""What the payment workflows tell a backer is in the backer's language (issue 12.1)."""

from __future__ import annotations

from flask_babel import force_locale

from app.pledges import checkout
from app.pledges.checkout import RefundOutcome, RefundResult


def test_the_refund_news_is_in_the_readers_language(app):
    results = [RefundResult(1, RefundOutcome.SUCCEEDED)]
    with app.test_request_context():
        with force_locale("zh_Hans_CN"):
            chinese, _ = checkout.refund_message(results)
            refused, category = checkout.refund_message([RefundResult(1, RefundOutcome.REFUSED)])
        english, _ = checkout.refund_message(results)
    assert chinese == "款项正在退回您的银行卡（银行处理需 5 至 10 个工作日）。"
    assert refused.startswith("支付服务商拒绝了这笔退款") and category == "warning"
    assert english.startswith("Your money is on its way back to your card")
