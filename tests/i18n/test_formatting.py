"""Money, numbers, moments and counts as the reader's locale writes them (issue 12.1, 12.3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale

from app import clock
from app.extensions import db
from app.money import MoneyError, format_money, parse_amount
from app.templating import duration_text, in_zone, month, number, time_left
from tests.helpers import gen_project, gen_user, project_path

EN, ZH = "en", "zh_Hans_CN"


@pytest.mark.parametrize(
    ("minor", "code", "locale", "written"),
    [
        (123_400, "CNY", ZH, "¥1,234.00"),
        (123_400, "CNY", EN, "CN¥1,234.00"),
        (125_050, "EUR", EN, "€1,250.50"),
        (125_050, "EUR", ZH, "€1,250.50"),
        (3000, "JPY", EN, "¥3,000"),  # yen have no decimals
        (3000, "JPY", ZH, "JP¥3,000"),  # in Chinese, ¥ alone is the yuan
        (125_050, "USD", EN, "$1,250.50"),
        (125_050, "USD", ZH, "US$1,250.50"),
        (-250, "GBP", EN, "-£2.50"),
        (0, "CNY", ZH, "¥0.00"),
    ],
)
def test_money_is_written_as_the_locale_writes_it(minor, code, locale, written):
    assert format_money(minor, code, locale=locale) == written


@pytest.mark.parametrize(
    ("typed", "code", "minor"),
    [("¥1,234.50", "CNY", 123_450), ("CN¥88.88", "CNY", 8888), ("1,500", "JPY", 1500)],
)
def test_a_chinese_reader_types_amounts_with_their_own_symbol(typed, code, minor):
    assert parse_amount(typed, code, locale=ZH) == minor


def test_ambiguous_amounts_are_refused_in_the_readers_language(app):
    with force_locale(ZH), pytest.raises(MoneyError) as refused:
        parse_amount("45,50", "CNY", locale=ZH)
    assert str(refused.value) == "小数请用小数点（45.50）；逗号只能用作千位分隔符，例如 1,250.50。"
    with force_locale(ZH), pytest.raises(MoneyError) as refused:
        parse_amount("1.500", "JPY", locale=ZH)
    assert str(refused.value) == "JPY 金额不带小数：请写成 1500 或 1,500。"
    with pytest.raises(MoneyError) as refused:
        parse_amount("1.500", "JPY", locale=ZH)  # no request: the English source text
    assert str(refused.value) == "JPY amounts have no decimals: write 1500 or 1,500."


MOMENT = datetime(2026, 12, 12, 17, 0, tzinfo=UTC)


def test_moments_in_a_zone_as_the_locale_writes_days(app):
    with force_locale(EN):
        assert in_zone(MOMENT, "Europe/Paris") == "Sat 12 Dec 2026, 18:00 CET"
        assert in_zone(MOMENT) == "Sat 12 Dec 2026, 17:00 UTC"  # SITE_TIMEZONE
        assert month(MOMENT.date()) == "December 2026"
        assert number(1234567) == "1,234,567"
    with force_locale(ZH):
        assert in_zone(MOMENT, "Asia/Shanghai") == "2026年12月13日周日 01:00 CST"
        assert in_zone(MOMENT, "Europe/Paris") == "2026年12月12日周六 18:00 CET"
        assert month(MOMENT.date()) == "2026年12月"


def test_the_site_time_zone_is_a_setting(app):
    app.config["SITE_TIMEZONE"] = "Asia/Shanghai"
    with force_locale(EN):
        assert in_zone(MOMENT) == "Sun 13 Dec 2026, 01:00 CST"


# ---- counts: plurals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "english", "chinese"),
    [
        (60, "1 minute", "1 分钟"),
        (120, "2 minutes", "2 分钟"),
        (3600, "1 hour", "1 小时"),
        (7200, "2 hours", "2 小时"),
        (86400, "1 day", "1 天"),
        (86400 + 3600, "1 day 1 hour", "1 天 1 小时"),
        (86400 + 5 * 3600, "1 day 5 hours", "1 天 5 小时"),
        (3 * 86400, "3 days", "3 天"),
    ],
)
def test_durations_say_one_and_many_properly(app, seconds, english, chinese):
    with force_locale(EN):
        assert duration_text(seconds) == english
    with force_locale(ZH):
        assert duration_text(seconds) == chinese


@pytest.mark.parametrize(
    ("left", "english", "chinese"),
    [
        (timedelta(days=3), "3 days to go", "还剩 3 天"),
        (timedelta(days=1, hours=1, minutes=30), "1 day 2 hours to go", "还剩 1 天 2 小时"),
        (timedelta(hours=1), "1 hour to go", "还剩 1 小时"),
        (timedelta(seconds=20), "1 minute to go", "还剩 1 分钟"),
        (timedelta(minutes=2), "2 minutes to go", "还剩 2 分钟"),
        (timedelta(0), "ended", "已结束"),
    ],
)
def test_time_left(app, left, english, chinese):
    deadline = clock.now() + left
    with force_locale(EN):
        assert time_left(deadline) == english
    with force_locale(ZH):
        assert time_left(deadline) == chinese


@pytest.mark.parametrize(
    ("count", "english"), [(1, "1 backer"), (2, "2 backers"), (0, "0 backers")]
)
def test_a_tier_counts_its_backers_in_the_singular_and_plural(client, count, english):

    project = gen_project(gen_user(), "live")
    project.tiers[0].claimed = count

    db.session.commit()
    page = client.get(project_path(project)).get_data(as_text=True)
    assert f">{english}<" in page
    chinese = client.get(project_path(project), headers={"Accept-Language": "zh"})
    assert f">{count} 位支持者<" in chinese.get_data(as_text=True)
